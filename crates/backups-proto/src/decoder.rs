//! [`ProgressDecoder`]: a sans-IO reader of progress streams.

use std::collections::VecDeque;

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
/// object is parsed once, so total work is linear in the input. Memory holds at most one
/// unfinished event, bounded by the frame limit.
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
    /// The bytes of an event that started in an earlier chunk.
    partial: Vec<u8>,
    scan: Scan,
    ready: VecDeque<Result<BackupStreamedProgress, Error>>,
    failed: bool,
    consumed: u64,
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
            partial: Vec::new(),
            scan: Scan::Between,
            ready: VecDeque::new(),
            failed: false,
            consumed: 0,
        }
    }

    /// Feeds the next chunk of the stream.
    pub fn push(&mut self, chunk: &[u8]) {
        if self.failed {
            return;
        }
        let mut pos = 0;
        while pos < chunk.len() {
            match self.scan {
                Scan::Between => match chunk[pos..]
                    .iter()
                    .position(|&b| !(b.is_ascii_whitespace() || b == RECORD_SEPARATOR))
                {
                    None => pos = chunk.len(),
                    Some(skip) => {
                        pos += skip;
                        if chunk[pos] != b'{' {
                            let at = self.consumed + pos as u64;
                            self.fail(Error::Decode {
                                operation: self.operation,
                                path: "(root)".into(),
                                message: format!(
                                    "expected a JSON object at byte {at}, found {:?}",
                                    char::from(chunk[pos])
                                ),
                                excerpt: excerpt(&chunk[pos..]),
                            });
                            return;
                        }
                        self.scan = Scan::Object {
                            depth: 0,
                            in_string: false,
                            escaped: false,
                        };
                        let start = pos;
                        match self.scan_object(&chunk[pos..]) {
                            Some(end) => {
                                pos += end;
                                self.emit_frame(&chunk[start..pos]);
                            }
                            None => {
                                self.keep_partial(&chunk[start..]);
                                pos = chunk.len();
                            }
                        }
                    }
                },
                Scan::Object { .. } => match self.scan_object(&chunk[pos..]) {
                    Some(end) => {
                        let mut frame = std::mem::take(&mut self.partial);
                        frame.extend_from_slice(&chunk[pos..pos + end]);
                        pos += end;
                        self.emit_frame(&frame);
                        frame.clear();
                        self.partial = frame;
                    }
                    None => {
                        self.keep_partial(&chunk[pos..]);
                        pos = chunk.len();
                    }
                },
            }
            if self.failed {
                return;
            }
        }
        self.consumed += chunk.len() as u64;
    }

    /// Says the stream has ended; an unfinished event becomes a [`Error::Truncated`].
    pub fn finish(&mut self) {
        if self.failed {
            return;
        }
        if let Scan::Object { .. } = self.scan {
            let held = self.partial.len();
            self.fail(Error::Truncated {
                operation: self.operation,
                detail: format!(
                    "the stream ended inside a progress event after {held} bytes of it ({})",
                    excerpt(&self.partial)
                ),
            });
        }
    }

    /// The next decoded event, or the error that ended decoding.
    pub fn next_event(&mut self) -> Option<Result<BackupStreamedProgress, Error>> {
        self.ready.pop_front()
    }

    /// Whether decoding has stopped on an error (which [`next_event`](Self::next_event) yields
    /// after the events before it).
    pub fn has_failed(&self) -> bool {
        self.failed
    }

    /// Whether an event has started and not yet ended.
    pub fn is_inside_event(&self) -> bool {
        matches!(self.scan, Scan::Object { .. })
    }

    /// Takes every decoded event, or the first error.
    pub fn collect(&mut self) -> Result<Vec<BackupStreamedProgress>, Error> {
        self.ready.drain(..).collect()
    }

    /// Scans `bytes` from inside (or at the start of) an object; returns the length up to and
    /// including the brace that closes it, or `None` if it does not close in `bytes`.
    fn scan_object(&mut self, bytes: &[u8]) -> Option<usize> {
        let Scan::Object {
            mut depth,
            mut in_string,
            mut escaped,
        } = self.scan
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
        self.scan = match found {
            Some(_) => Scan::Between,
            None => Scan::Object {
                depth,
                in_string,
                escaped,
            },
        };
        found
    }

    fn keep_partial(&mut self, bytes: &[u8]) {
        if self.partial.len() + bytes.len() > self.max_frame {
            self.fail(Error::FrameTooLarge {
                operation: self.operation,
                limit: self.max_frame,
            });
            return;
        }
        self.partial.extend_from_slice(bytes);
    }

    fn emit_frame(&mut self, frame: &[u8]) {
        if frame.len() > self.max_frame {
            self.fail(Error::FrameTooLarge {
                operation: self.operation,
                limit: self.max_frame,
            });
            return;
        }
        let mut deserializer = serde_json::Deserializer::from_slice(frame);
        match deserialize_value(self.operation, &mut deserializer, frame) {
            Ok(event) => self.ready.push_back(Ok(event)),
            Err(err) => self.fail(err),
        }
    }

    fn fail(&mut self, err: Error) {
        self.failed = true;
        self.partial = Vec::new();
        self.ready.push_back(Err(err));
    }
}
