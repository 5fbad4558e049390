//! [`ProgressDecoder`]: a sans-IO reader of progress streams.

use std::collections::VecDeque;

use backups_models::BackupStreamedProgress;
use bytes::Bytes;

use crate::error::excerpt;
use crate::response::{deserialize_value, path_error};
use crate::{Error, Operation};

/// The default limit on one progress event, in bytes.
pub const DEFAULT_MAX_FRAME: usize = 1024 * 1024;

/// The bytes being read: the caller's chunk while whole events are parsed from it without a copy,
/// else the decoder's own buffer. Borrows only those two fields.
macro_rules! data {
    ($self:ident) => {
        match &$self.chunk {
            Some(chunk) => &chunk[..],
            None => &$self.buf[..],
        }
    };
}

/// How many events one pass of the parser reads ahead at most.
const READ_AHEAD: usize = 32;

/// ASCII record separator, which opens each value of an RFC 7464 JSON text sequence.
const RECORD_SEPARATOR: u8 = 0x1E;

/// Reads `BackupStreamedProgress` events from a byte stream: push chunks in, take events out.
///
/// It reads a single JSON object, NDJSON, whitespace-separated JSON values and RFC 7464 JSON text
/// sequences alike, and yields the same events however the input is split into chunks. Events
/// that lie whole in the buffer are parsed in place, where the parser itself finds their ends,
/// up to 32 in a row by one parser; only an event cut by a chunk boundary is scanned for its end
/// (tracking strings, escapes and nesting) as its bytes come, then parsed once. Total work is
/// linear in the input. Memory holds the bytes pushed and not yet taken and at most 32 events
/// parsed ahead; an unfinished event is bounded by the frame limit.
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
    /// Bytes pushed and not yet taken, when they are not in `chunk`.
    buf: Vec<u8>,
    /// A chunk handed over by [`ProgressDecoder::push_bytes`] when nothing else was pending: its
    /// events are parsed from it in place, and only an unfinished tail is copied into `buf`.
    /// When it is `Some`, it holds all the pending bytes and `buf` is empty.
    chunk: Option<Bytes>,
    /// The rest of a pushed chunk whose start completed the event in `buf`: it becomes `chunk`
    /// once that event is taken. When it is `Some`, `buf` ends where that event does.
    queued: Option<Bytes>,
    /// Where the next event (or the whitespace before it) starts in the data (`chunk` or `buf`);
    /// the data before it is consumed.
    pos: usize,
    /// The stream offset of the data's first byte, for error messages.
    offset: u64,
    /// What is known of the event at `pos`.
    next: Next,
    /// No more bytes will come.
    finished: bool,
    /// An error found while pushing or finishing, delivered after the events before it.
    error: Option<Error>,
    /// Decoding has ended on an error.
    failed: bool,
    /// Events parsed ahead of `pos` by the pass that parsed the last one taken: the events of a
    /// chunk are read by one parser in a row, as a stream deserializer would, instead of a
    /// fresh parser each. Taken before anything else.
    ready: VecDeque<BackupStreamedProgress>,
}

/// What is known of the event at `pos`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Next {
    /// Nothing yet: the parser will find out, which costs no scan in the common case of whole
    /// events inside one chunk.
    Unknown,
    /// The parser ran out of bytes inside it, so it is being scanned for its end as bytes come,
    /// `scanned` bytes from `pos` so far; it is parsed once, when whole.
    Partial { scan: Scan, scanned: usize },
    /// It is whole and ends at `end`.
    Complete { end: usize },
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

const OBJECT_START: Scan = Scan::Object {
    depth: 0,
    in_string: false,
    escaped: false,
};

fn is_separator(byte: u8) -> bool {
    byte.is_ascii_whitespace() || byte == RECORD_SEPARATOR
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
            chunk: None,
            queued: None,
            pos: 0,
            offset: 0,
            next: Next::Unknown,
            finished: false,
            error: None,
            failed: false,
            ready: VecDeque::new(),
        }
    }

    /// The same decoder naming `operation` in its errors (a streamed create, by default).
    pub fn for_operation(mut self, operation: Operation) -> Self {
        self.operation = operation;
        self
    }

    /// Feeds the next chunk of the stream (copied into the decoder's buffer).
    ///
    /// [`push_bytes`](Self::push_bytes) takes a [`Bytes`] chunk without copying it.
    pub fn push(&mut self, chunk: &[u8]) {
        if self.has_failed() || self.finished {
            return;
        }
        self.own_chunk();
        self.unqueue();
        // Drop what was taken once it is at least half the buffer: amortized linear.
        if self.pos > 0 && self.pos * 2 >= self.buf.len() {
            self.buf.drain(..self.pos);
            self.offset += self.pos as u64;
            if let Next::Complete { end } = &mut self.next {
                *end -= self.pos;
            }
            self.pos = 0;
        }
        self.buf.extend_from_slice(chunk);
        if let Next::Partial { mut scan, scanned } = self.next {
            let from = self.pos + scanned;
            self.next = match scan_object(&mut scan, &self.buf[from..]) {
                Some(len) => Next::Complete { end: from + len },
                None => Next::Partial {
                    scan,
                    scanned: self.buf.len() - self.pos,
                },
            };
            self.check_partial_size();
        }
    }

    /// Feeds the next chunk of the stream, as a [`Bytes`] (what HTTP bodies yield).
    ///
    /// The same as [`push`](Self::push), events and errors alike, but cheaper: when no earlier
    /// bytes are pending (the usual case once the events before were taken), the decoder keeps
    /// the chunk itself and parses its whole events from it in place; only an event cut by the
    /// chunk's end is copied, when the next chunk comes. The chunk is held until its events are
    /// taken. [`ProgressStream`](crate::ProgressStream) feeds its body this way.
    ///
    /// ```
    /// use backups_proto::ProgressDecoder;
    /// use bytes::Bytes;
    ///
    /// let mut decoder = ProgressDecoder::new();
    /// decoder.push_bytes(Bytes::from_static(b"{\"status\":\"INITIALIZED\"}\n{\"status\":"));
    /// decoder.push_bytes(Bytes::from_static(b"\"COMPLETED\"}\n"));
    /// decoder.finish();
    /// assert_eq!(decoder.collect()?.len(), 2);
    /// # Ok::<(), backups_proto::Error>(())
    /// ```
    pub fn push_bytes(&mut self, chunk: Bytes) {
        if self.has_failed() || self.finished {
            return;
        }
        if self.queued.is_none() && self.next == Next::Unknown {
            // Only separators left (the newline after the last event taken) count as nothing.
            let data = data!(self);
            if data[self.pos..].iter().all(|&b| is_separator(b)) {
                self.offset += data.len() as u64;
                self.buf.clear();
                self.pos = 0;
                self.chunk = Some(chunk);
                return;
            }
        }
        self.own_chunk();
        if let (None, Next::Partial { mut scan, scanned }) = (&self.queued, self.next) {
            // An event cut by the previous chunk's end: copy only the rest of it, and keep the
            // remainder of this chunk to parse in place once that event is taken.
            match scan_object(&mut scan, &chunk) {
                Some(len) => {
                    self.buf.extend_from_slice(&chunk[..len]);
                    self.next = Next::Complete {
                        end: self.buf.len(),
                    };
                    if len < chunk.len() {
                        self.queued = Some(chunk.slice(len..));
                    }
                }
                None => {
                    self.buf.extend_from_slice(&chunk);
                    self.next = Next::Partial {
                        scan,
                        scanned: scanned + chunk.len(),
                    };
                }
            }
            self.check_partial_size();
            return;
        }
        // Events not taken yet: append behind them.
        self.push(&chunk);
    }

    /// Appends a queued remainder to `buf`, so that `buf` holds every pending byte.
    fn unqueue(&mut self) {
        if let Some(queued) = self.queued.take() {
            self.buf.extend_from_slice(&queued);
        }
    }

    /// Moves the pending bytes of a held chunk into `buf`, which then holds them alone.
    fn own_chunk(&mut self) {
        let Some(chunk) = self.chunk.take() else {
            return;
        };
        self.buf.clear();
        self.buf.extend_from_slice(&chunk[self.pos..]);
        self.offset += self.pos as u64;
        if let Next::Complete { end } = &mut self.next {
            *end -= self.pos;
        }
        self.pos = 0;
    }

    /// Says the stream has ended; an unfinished event becomes a [`Error::Truncated`].
    pub fn finish(&mut self) {
        if self.has_failed() || self.finished {
            return;
        }
        self.finished = true;
        self.own_chunk();
        self.unqueue();
        let tail_start = match self.next {
            Next::Partial { .. } => Some(self.pos),
            Next::Complete { end } => last_unfinished(&data!(self)[end..]).map(|at| end + at),
            Next::Unknown => last_unfinished(&data!(self)[self.pos..]).map(|at| self.pos + at),
        };
        if let Some(start) = tail_start {
            let partial = &data!(self)[start..];
            let detail = format!(
                "the stream ended inside a progress event after {} bytes of it ({})",
                partial.len(),
                excerpt(partial)
            );
            self.error = Some(Error::Truncated {
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
        if let Some(event) = self.ready.pop_front() {
            return Some(Ok(event));
        }
        let result = match self.next {
            Next::Complete { end } => {
                let bytes = &data!(self)[self.pos..end];
                let mut deserializer = serde_json::Deserializer::from_slice(bytes);
                let result = deserialize_value(self.operation, &mut deserializer, bytes);
                self.pos = end;
                self.next = Next::Unknown;
                if let Some(queued) = self.queued.take() {
                    // `buf` ended with that event: go on in the chunk that followed it.
                    self.offset += self.buf.len() as u64;
                    self.buf.clear();
                    self.pos = 0;
                    self.chunk = Some(queued);
                }
                Some(result)
            }
            Next::Partial { .. } => None,
            Next::Unknown => self.parse_next(),
        };
        // An event is returned as it came, not taken apart and rebuilt: it is a few hundred
        // bytes, and moving it again is a measurable share of decoding a small event.
        match &result {
            Some(Ok(_)) => result,
            Some(Err(_)) => {
                // The first error ends decoding; a later one found by a scan is dropped.
                self.end();
                result
            }
            None => {
                let error = self.error.take()?;
                self.end();
                Some(Err(error))
            }
        }
    }

    /// Parses the event at `pos` straight from the buffer; `None` when it is not whole yet.
    #[inline]
    fn parse_next(&mut self) -> Option<Result<BackupStreamedProgress, Error>> {
        let skip = data!(self)[self.pos..]
            .iter()
            .position(|&b| !is_separator(b))?;
        self.pos += skip;
        let rest = &data!(self)[self.pos..];
        if rest[0] != b'{' {
            let at = self.offset + self.pos as u64;
            return Some(Err(Error::Decode {
                operation: self.operation,
                path: "(root)".into(),
                message: format!(
                    "expected a JSON object at byte {at}, found {:?}",
                    char::from(rest[0])
                ),
                excerpt: excerpt(rest),
            }));
        }
        let mut values = serde_json::Deserializer::from_slice(rest).into_iter();
        match values.next()? {
            Ok(event) => {
                let len = values.byte_offset();
                if len > self.max_frame {
                    return Some(Err(self.too_large()));
                }
                // Read ahead with the same parser while whole objects follow, separated by
                // whitespace only. Anything else (a record separator, a value that is not an
                // object, an event too large, broken or cut by the chunk's end) stops the pass
                // before it, and the next call meets it as the first of its own pass.
                let mut end = len;
                while self.ready.len() < READ_AHEAD {
                    let Some(gap) = rest[end..].iter().position(|b| !b.is_ascii_whitespace())
                    else {
                        break;
                    };
                    if rest[end + gap] != b'{' {
                        break;
                    }
                    match values.next() {
                        Some(Ok(next)) if values.byte_offset() - end - gap <= self.max_frame => {
                            self.ready.push_back(next);
                            end = values.byte_offset();
                        }
                        _ => break,
                    }
                }
                self.pos += end;
                Some(Ok(event))
            }
            Err(err) if err.is_eof() => {
                // Not whole yet: scan it from its start, then only the bytes that come.
                let mut scan = OBJECT_START;
                match scan_object(&mut scan, rest) {
                    // Balanced braces and still cut short: the JSON inside is broken.
                    Some(_) => Some(Err(path_error::<BackupStreamedProgress>(
                        self.operation,
                        err,
                        rest,
                    ))),
                    None => {
                        self.next = Next::Partial {
                            scan,
                            scanned: rest.len(),
                        };
                        self.check_partial_size();
                        None
                    }
                }
            }
            Err(err) => {
                // Quote the broken event alone, as when it came in pieces and was scanned whole.
                let mut scan = OBJECT_START;
                let frame = scan_object(&mut scan, rest).unwrap_or(rest.len());
                Some(Err(path_error::<BackupStreamedProgress>(
                    self.operation,
                    err,
                    &rest[..frame],
                )))
            }
        }
    }

    /// Whether decoding has stopped on an error, which [`next_event`](Self::next_event) yields
    /// after the events before it. Events are parsed as they are taken, so an event that is not
    /// valid JSON is found then; an unfinished event too large for the limit is found by
    /// [`push`](Self::push), and a cut inside an event by [`finish`](Self::finish).
    pub fn has_failed(&self) -> bool {
        self.failed || self.error.is_some()
    }

    /// Whether an event has started and not yet ended, as far as the events taken show.
    pub fn is_inside_event(&self) -> bool {
        matches!(self.next, Next::Partial { .. })
    }

    /// Takes every decoded event, or the first error.
    pub fn collect(&mut self) -> Result<Vec<BackupStreamedProgress>, Error> {
        let mut events = Vec::new();
        while let Some(event) = self.next_event() {
            events.push(event?);
        }
        Ok(events)
    }

    fn check_partial_size(&mut self) {
        self.own_chunk();
        if let Next::Partial { scanned, .. } = self.next {
            if scanned > self.max_frame {
                self.error = Some(self.too_large());
                self.buf.truncate(self.pos);
            }
        } else if let Next::Complete { end } = self.next {
            if end - self.pos > self.max_frame {
                self.next = Next::Partial {
                    scan: OBJECT_START,
                    scanned: 0,
                };
                self.error = Some(self.too_large());
                self.buf.truncate(self.pos);
                self.queued = None;
            }
        }
    }

    fn too_large(&self) -> Error {
        Error::FrameTooLarge {
            operation: self.operation,
            limit: self.max_frame,
        }
    }

    /// Ends decoding and frees the buffer.
    fn end(&mut self) {
        self.failed = true;
        self.ready = VecDeque::new();
        self.buf = Vec::new();
        self.chunk = None;
        self.queued = None;
        self.pos = 0;
    }
}

/// Where the last value of `bytes` starts if it is an object that does not end in `bytes`.
///
/// Scanning stops at anything that is not an object, which the parser reports in order.
fn last_unfinished(bytes: &[u8]) -> Option<usize> {
    let mut at = 0;
    loop {
        at += bytes[at..].iter().position(|&b| !is_separator(b))?;
        if bytes[at] != b'{' {
            return None;
        }
        let mut scan = OBJECT_START;
        match scan_object(&mut scan, &bytes[at..]) {
            Some(len) => at += len,
            None => return Some(at),
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Every event and the final error, as text, decoding `chunks` with `push`, or with
    /// `push_bytes` (alternating with `push` when `mixed`); events are taken after each chunk
    /// (after two of every three when `mixed`).
    fn run(chunks: &[&[u8]], max_frame: usize, bytes: bool, mixed: bool) -> Vec<String> {
        let mut decoder = ProgressDecoder::with_max_frame(max_frame);
        let mut out = Vec::new();
        let mut take = |decoder: &mut ProgressDecoder| {
            while let Some(item) = decoder.next_event() {
                out.push(match item {
                    Ok(event) => format!("{event:?}"),
                    Err(err) => format!("error: {err}"),
                });
            }
        };
        for (i, chunk) in chunks.iter().enumerate() {
            if bytes && !(mixed && i % 2 == 1) {
                decoder.push_bytes(Bytes::copy_from_slice(chunk));
            } else {
                decoder.push(chunk);
            }
            if !(mixed && i % 3 == 2) {
                take(&mut decoder);
            }
        }
        decoder.finish();
        take(&mut decoder);
        out
    }

    #[test]
    fn push_bytes_matches_push_for_every_split() {
        let streams: [&[u8]; 6] = [
            b"{\"status\":\"INITIALIZED\",\"percentage\":0}\n{\"status\":\"IN-PROGRESS\",\"percentage\":12.5}\n \x1e{\"status\":\"x\\\"}{\",\"a\":{\"b\":{}}}\n{\"status\":\"COMPLETED\"}\n",
            b"{\"status\":\"IN-PROGRESS\"}{\"percentage\":1}  {\"status\":\"COMPLETED\",\"percentage\":100}",
            b"{\"status\":\"IN-PROGRESS\"}\n{\"status\":\"COMPL",
            b"{\"status\":\"IN-PROGRESS\"}\n{\"status\":tru}\n{\"status\":\"COMPLETED\"}\n",
            b"{\"status\":\"IN-PROGRESS\"}\n[1]\n",
            b"{\"status\":\"IN-PROGRESS\",\"pad\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}\n{}\n",
        ];
        for stream in streams {
            for max_frame in [DEFAULT_MAX_FRAME, 40] {
                for i in 0..=stream.len() {
                    for j in i..=stream.len() {
                        let chunks = [&stream[..i], &stream[i..j], &stream[j..]];
                        for mixed in [false, true] {
                            let copied = run(&chunks, max_frame, false, mixed);
                            let held = run(&chunks, max_frame, true, mixed);
                            assert_eq!(held, copied, "splits {i} {j}, mixed {mixed}");
                        }
                    }
                }
            }
        }
    }
}
