//! [`ProgressDecoder`]: a sans-IO reader of progress streams.

use std::collections::VecDeque;
use std::ops::Range;

use backups_models::BackupStreamedProgress;

use crate::error::excerpt;
use crate::response::deserialize_value;
use crate::{Error, Operation};

/// The default limit on one progress event, in bytes.
pub const DEFAULT_MAX_FRAME: usize = 1024 * 1024;

/// ASCII record separator, which opens each value of an RFC 7464 JSON text sequence.
const RECORD_SEPARATOR: u8 = 0x1E;

/// Reads `BackupStreamedProgress` events from a byte stream: push chunks in, take events out.
///
/// It reads a single JSON object, NDJSON, whitespace-separated JSON values and RFC 7464 JSON text
/// sequences alike, and yields the same events however the input is split into chunks. Each byte
/// is scanned once to find where an object ends (tracking strings, escapes and nesting), and each
/// object is parsed once, so total work is linear in the input. Memory holds the raw bytes of the
/// events pushed and not yet taken plus at most one unfinished event, which the frame limit
/// bounds; events are parsed as they are taken, straight into the value returned.
///
/// After the last chunk, [`finish`](Self::finish) reports a stream cut inside an event: truncation
/// is never silent. The first error ends decoding; events before it are still delivered.
///
/// ```
/// use backups_proto::ProgressDecoder;
///
/// let mut decoder = ProgressDecoder::new();
/// decoder.push(b"{\"status\":\"INITIALIZED\",\"percentage\":0}\n{\"status\":\"IN-PR");
/// decoder.push(b"OGRESS\",\"percentage\":50}\n");
/// decoder.finish();
/// let events = decoder.collect()?;
/// assert_eq!(events.len(), 2);
/// assert_eq!(events[1].percentage.unwrap().as_u64(), Some(50));
/// # Ok::<(), backups_proto::Error>(())
/// ```
#[derive(Debug)]
pub struct ProgressDecoder {
    max_frame: usize,
    operation: Operation,
    /// Complete events not yet taken, then the bytes of an unfinished one.
    buf: Vec<u8>,
    /// Where each complete event not yet taken lies in `buf`.
    frames: VecDeque<Range<usize>>,
    /// How far `buf` has been scanned.
    pos: usize,
    /// Where the unfinished event starts in `buf` (meaningful inside an object).
    frame_start: usize,
    /// The stream offset of `buf[0]`, for error messages.
    offset: u64,
    scan: Scan,
    /// An error found while scanning, delivered after the events before it.
    error: Option<Error>,
    /// Decoding has ended on an error.
    failed: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scan {
    /// Between values: whitespace and record separators are skipped.
    Between,
    /// Inside an object, `depth` braces deep.
    Object {
        depth: u32,
        in_string: bool,
        escaped: bool,
    },
}

impl Default for ProgressDecoder {
    fn default() -> Self {
        Self::new()
    }
}

impl ProgressDecoder {
    /// A decoder with the default frame limit ([`DEFAULT_MAX_FRAME`]).
    pub fn new() -> Self {
        Self::with_max_frame(DEFAULT_MAX_FRAME)
    }

    /// A decoder that refuses any event larger than `max_frame` bytes.
    pub fn with_max_frame(max_frame: usize) -> Self {
        Self {
            max_frame,
            operation: Operation::CreateStreamed,
            buf: Vec::new(),
            frames: VecDeque::new(),
            pos: 0,
            frame_start: 0,
            offset: 0,
            scan: Scan::Between,
            error: None,
            failed: false,
        }
    }

    /// Feeds the next chunk of the stream.
    pub fn push(&mut self, chunk: &[u8]) {
        if self.has_failed() {
            return;
        }
        if self.frames.is_empty() {
            // Every complete event has been taken: keep only the unfinished one.
            let keep = match self.scan {
                Scan::Between => self.pos,
                Scan::Object { .. } => self.frame_start,
            };
            self.buf.drain(..keep);
            self.offset += keep as u64;
            self.pos -= keep;
            self.frame_start = self.frame_start.saturating_sub(keep);
        }
        self.buf.extend_from_slice(chunk);
        while self.pos < self.buf.len() {
            match self.scan {
                Scan::Between => {
                    let rest = &self.buf[self.pos..];
                    let Some(skip) = rest
                        .iter()
                        .position(|&b| !(b.is_ascii_whitespace() || b == RECORD_SEPARATOR))
                    else {
                        self.pos = self.buf.len();
                        break;
                    };
                    self.pos += skip;
                    let found = self.buf[self.pos];
                    if found != b'{' {
                        let at = self.offset + self.pos as u64;
                        let excerpt = excerpt(&self.buf[self.pos..]);
                        self.stop(Error::Decode {
                            operation: self.operation,
                            path: "(root)".into(),
                            message: format!(
                                "expected a JSON object at byte {at}, found {:?}",
                                char::from(found)
                            ),
                            excerpt,
                        });
                        return;
                    }
                    self.frame_start = self.pos;
                    self.scan = Scan::Object {
                        depth: 0,
                        in_string: false,
                        escaped: false,
                    };
                }
                Scan::Object { .. } => match scan_object(&mut self.scan, &self.buf[self.pos..]) {
                    Some(end) => {
                        self.pos += end;
                        if self.pos - self.frame_start > self.max_frame {
                            self.stop_too_large();
                            return;
                        }
                        self.frames.push_back(self.frame_start..self.pos);
                    }
                    None => {
                        self.pos = self.buf.len();
                        if self.pos - self.frame_start > self.max_frame {
                            self.stop_too_large();
                            return;
                        }
                    }
                },
            }
        }
    }

    /// Says the stream has ended; an unfinished event becomes a [`Error::Truncated`].
    pub fn finish(&mut self) {
        if self.has_failed() {
            return;
        }
        if let Scan::Object { .. } = self.scan {
            let partial = &self.buf[self.frame_start..];
            let held = partial.len();
            let detail = format!(
                "the stream ended inside a progress event after {held} bytes of it ({})",
                excerpt(partial)
            );
            self.stop(Error::Truncated {
                operation: self.operation,
                detail,
            });
        }
    }

    /// The next decoded event, or the error that ended decoding.
    pub fn next_event(&mut self) -> Option<Result<BackupStreamedProgress, Error>> {
        if self.failed {
            return None;
        }
        if let Some(frame) = self.frames.pop_front() {
            let bytes = &self.buf[frame];
            let mut deserializer = serde_json::Deserializer::from_slice(bytes);
            let result = deserialize_value(self.operation, &mut deserializer, bytes);
            if result.is_err() {
                // The first error ends decoding; a later one found by the scan is dropped.
                self.end();
            }
            return Some(result);
        }
        let error = self.error.take()?;
        self.end();
        Some(Err(error))
    }

    /// Whether decoding has stopped on an error, which [`next_event`](Self::next_event) yields
    /// after the events before it. An event that is not valid JSON is found when it is taken;
    /// a stream that holds something other than objects, an event over the limit and a cut
    /// inside an event are found by [`push`](Self::push) and [`finish`](Self::finish).
    pub fn has_failed(&self) -> bool {
        self.failed || self.error.is_some()
    }

    /// Whether an event has started and not yet ended.
    pub fn is_inside_event(&self) -> bool {
        matches!(self.scan, Scan::Object { .. })
    }

    /// Takes every decoded event, or the first error.
    pub fn collect(&mut self) -> Result<Vec<BackupStreamedProgress>, Error> {
        let mut events = Vec::with_capacity(self.frames.len());
        while let Some(event) = self.next_event() {
            events.push(event?);
        }
        Ok(events)
    }

    fn stop_too_large(&mut self) {
        self.stop(Error::FrameTooLarge {
            operation: self.operation,
            limit: self.max_frame,
        });
    }

    /// Records the error that ends scanning; the events before it stay deliverable.
    fn stop(&mut self, err: Error) {
        let delivered_end = self.frames.back().map_or(0, |frame| frame.end);
        self.buf.truncate(delivered_end);
        self.buf.shrink_to_fit();
        self.error = Some(err);
    }

    /// Ends decoding and frees the buffer.
    fn end(&mut self) {
        self.failed = true;
        self.frames.clear();
        self.buf = Vec::new();
    }
}

/// Scans `bytes` from inside (or at the start of) an object; returns the length up to and
/// including the brace that closes it, or `None` if it does not close in `bytes`.
fn scan_object(scan: &mut Scan, bytes: &[u8]) -> Option<usize> {
    let Scan::Object {
        mut depth,
        mut in_string,
        mut escaped,
    } = *scan
    else {
        return None;
    };
    let mut i = 0;
    let found = loop {
        if escaped {
            if i >= bytes.len() {
                break None;
            }
            escaped = false;
            i += 1;
            continue;
        }
        if in_string {
            match memchr::memchr2(b'"', b'\\', &bytes[i..]) {
                None => break None,
                Some(at) => {
                    i += at;
                    if bytes[i] == b'"' {
                        in_string = false;
                    } else {
                        escaped = true;
                    }
                    i += 1;
                }
            }
        } else {
            match memchr::memchr3(b'"', b'{', b'}', &bytes[i..]) {
                None => break None,
                Some(at) => {
                    i += at;
                    match bytes[i] {
                        b'"' => in_string = true,
                        b'{' => depth += 1,
                        _ => {
                            depth -= 1;
                            if depth == 0 {
                                break Some(i + 1);
                            }
                        }
                    }
                    i += 1;
                }
            }
        }
    };
    *scan = match found {
        Some(_) => Scan::Between,
        None => Scan::Object {
            depth,
            in_string,
            escaped,
        },
    };
    found
}
