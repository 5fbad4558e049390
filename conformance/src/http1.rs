//! Just enough blocking HTTP/1.1 for the replay server and the recorder: requests and responses
//! with `Content-Length` or chunked bodies, on `std::net`.
//!
//! It keeps chunk boundaries visible on purpose: the server writes each recorded chunk as its own
//! HTTP chunk and flushes it, and the recorder notes the size of each chunk it receives.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::TcpStream;

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Method};

/// The largest head or body this module reads; the cases are small.
const MAX_BODY: usize = 64 * 1024 * 1024;
const MAX_HEAD_LINE: usize = 64 * 1024;

/// A request as read off the socket.
#[derive(Debug)]
pub(crate) struct RawRequest {
    pub(crate) method: Method,
    pub(crate) target: String,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
}

/// A response as read off the socket, with the body split as it arrived.
#[derive(Debug)]
pub(crate) struct RawResponse {
    pub(crate) status: u16,
    pub(crate) reason: String,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) chunks: Vec<Bytes>,
}

fn invalid(message: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message.into())
}

fn read_line(reader: &mut impl BufRead) -> io::Result<Option<String>> {
    let mut line = Vec::new();
    let read = reader
        .by_ref()
        .take(MAX_HEAD_LINE as u64)
        .read_until(b'\n', &mut line)?;
    if read == 0 {
        return Ok(None);
    }
    if line.last() != Some(&b'\n') {
        return Err(invalid("a header line is too long or cut off"));
    }
    while matches!(line.last(), Some(b'\n' | b'\r')) {
        line.pop();
    }
    String::from_utf8(line)
        .map(Some)
        .map_err(|_| invalid("a header line is not UTF-8"))
}

fn read_headers(reader: &mut impl BufRead) -> io::Result<Vec<(String, String)>> {
    let mut headers = Vec::new();
    loop {
        let line = read_line(reader)?.ok_or_else(|| invalid("the head ended early"))?;
        if line.is_empty() {
            return Ok(headers);
        }
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| invalid(format!("not a header line: {line:?}")))?;
        headers.push((name.trim().to_owned(), value.trim().to_owned()));
    }
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

fn is_chunked(headers: &[(String, String)]) -> bool {
    header(headers, "transfer-encoding")
        .is_some_and(|te| te.to_ascii_lowercase().contains("chunked"))
}

/// Reads a chunked body, returning each chunk as it was framed.
fn read_chunked(reader: &mut impl BufRead) -> io::Result<Vec<Bytes>> {
    let mut chunks = Vec::new();
    let mut total = 0usize;
    loop {
        let line = read_line(reader)?.ok_or_else(|| invalid("the chunked body ended early"))?;
        let size = line.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size, 16)
            .map_err(|_| invalid(format!("bad chunk size {line:?}")))?;
        if size == 0 {
            // Trailers, then the empty line.
            while !read_line(reader)?.unwrap_or_default().is_empty() {}
            return Ok(chunks);
        }
        total += size;
        if total > MAX_BODY {
            return Err(invalid("the body is too large"));
        }
        let mut chunk = vec![0; size];
        reader.read_exact(&mut chunk)?;
        let mut crlf = [0; 2];
        reader.read_exact(&mut crlf)?;
        if crlf != *b"\r\n" {
            return Err(invalid("a chunk does not end with CRLF"));
        }
        chunks.push(chunk.into());
    }
}

fn read_exact_body(reader: &mut impl Read, length: &str) -> io::Result<Bytes> {
    let length: usize = length
        .parse()
        .map_err(|_| invalid(format!("bad Content-Length {length:?}")))?;
    if length > MAX_BODY {
        return Err(invalid("the body is too large"));
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    Ok(body.into())
}

/// Reads the next request of a connection; `None` when the client closed it.
pub(crate) fn read_request(reader: &mut BufReader<TcpStream>) -> io::Result<Option<RawRequest>> {
    let line = loop {
        match read_line(reader)? {
            None => return Ok(None),
            // RFC 9112 lets a server skip empty lines before a request line.
            Some(line) if line.is_empty() => continue,
            Some(line) => break line,
        }
    };
    let mut parts = line.split(' ');
    let (Some(method), Some(target), Some(_version)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(invalid(format!("not a request line: {line:?}")));
    };
    let method = Method::from_bytes(method.as_bytes()).map_err(|_| invalid("bad method"))?;
    // An absolute-form target (as a proxy client sends) is reduced to its path and query.
    let target = match target.parse::<http::Uri>() {
        Ok(uri) if uri.scheme().is_some() => uri
            .path_and_query()
            .map_or_else(|| "/".to_owned(), |pq| pq.as_str().to_owned()),
        _ => target.to_owned(),
    };
    let raw_headers = read_headers(reader)?;
    if header(&raw_headers, "expect").is_some_and(|e| e.eq_ignore_ascii_case("100-continue")) {
        let stream = reader.get_mut();
        stream.write_all(b"HTTP/1.1 100 Continue\r\n\r\n")?;
        stream.flush()?;
    }
    let body = if is_chunked(&raw_headers) {
        let chunks = read_chunked(reader)?;
        chunks.concat().into()
    } else if let Some(length) = header(&raw_headers, "content-length") {
        read_exact_body(reader, length)?
    } else {
        Bytes::new()
    };
    let mut headers = HeaderMap::new();
    for (name, value) in raw_headers {
        let name =
            HeaderName::from_bytes(name.as_bytes()).map_err(|_| invalid("bad header name"))?;
        let value = HeaderValue::from_str(&value).map_err(|_| invalid("bad header value"))?;
        headers.append(name, value);
    }
    Ok(Some(RawRequest {
        method,
        target,
        headers,
        body,
    }))
}

/// Writes a response: one chunk (or none) with `Content-Length`, several as separate flushed
/// HTTP chunks; with `abort`, the chunked body is left unterminated.
pub(crate) fn write_response(
    stream: &mut TcpStream,
    status: http::StatusCode,
    headers: &[(String, String)],
    chunks: &[Bytes],
    abort: bool,
) -> io::Result<()> {
    let mut head = format!(
        "HTTP/1.1 {} {}\r\n",
        status.as_u16(),
        status.canonical_reason().unwrap_or("Unknown")
    );
    for (name, value) in headers {
        // Framing is this server's to decide: the recorded chunks may differ from the recording's
        // framing headers.
        if ["content-length", "transfer-encoding", "connection"]
            .iter()
            .any(|framing| name.eq_ignore_ascii_case(framing))
        {
            continue;
        }
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    let no_body =
        status == http::StatusCode::NO_CONTENT || status == http::StatusCode::NOT_MODIFIED;
    let chunked = !no_body && (chunks.len() > 1 || abort);
    if chunked {
        head.push_str("transfer-encoding: chunked\r\n");
    } else if !no_body {
        let length: usize = chunks.iter().map(Bytes::len).sum();
        head.push_str(&format!("content-length: {length}\r\n"));
    }
    if abort {
        head.push_str("connection: close\r\n");
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;
    if no_body {
        return stream.flush();
    }
    if !chunked {
        for chunk in chunks {
            stream.write_all(chunk)?;
        }
        return stream.flush();
    }
    stream.flush()?;
    for chunk in chunks.iter().filter(|chunk| !chunk.is_empty()) {
        stream.write_all(format!("{:x}\r\n", chunk.len()).as_bytes())?;
        stream.write_all(chunk)?;
        stream.write_all(b"\r\n")?;
        stream.flush()?;
    }
    if !abort {
        stream.write_all(b"0\r\n\r\n")?;
    }
    stream.flush()
}

/// Sends a request on a new connection and reads the whole response, noting each chunk.
pub(crate) fn round_trip(
    authority: &str,
    request: &http::Request<Bytes>,
) -> io::Result<RawResponse> {
    let mut stream = TcpStream::connect(authority)?;
    stream.set_nodelay(true)?;
    let target = request.uri().path_and_query().map_or("/", |pq| pq.as_str());
    let mut head = format!("{} {target} HTTP/1.1\r\n", request.method());
    // The SDK's requests carry `Host`; any other request gets one here.
    if !request.headers().contains_key(http::header::HOST) {
        head.push_str(&format!("host: {authority}\r\n"));
    }
    for (name, value) in request.headers() {
        let value = value
            .to_str()
            .map_err(|_| invalid("a header is not text"))?;
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("connection: close\r\n\r\n");
    stream.write_all(head.as_bytes())?;
    stream.write_all(request.body())?;
    stream.flush()?;

    let mut reader = BufReader::new(stream);
    let (status, reason, headers) = loop {
        let line = read_line(&mut reader)?.ok_or_else(|| invalid("no response"))?;
        let mut parts = line.splitn(3, ' ');
        let _version = parts.next();
        let status: u16 = parts
            .next()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| invalid(format!("not a status line: {line:?}")))?;
        let reason = parts.next().unwrap_or_default().to_owned();
        let headers = read_headers(&mut reader)?;
        // 1xx answers come before the real one.
        if !(100..200).contains(&status) {
            break (status, reason, headers);
        }
    };
    let chunks = if status == 204 || status == 304 || request.method() == Method::HEAD {
        Vec::new()
    } else if is_chunked(&headers) {
        read_chunked(&mut reader)?
    } else if let Some(length) = header(&headers, "content-length") {
        let body = read_exact_body(&mut reader, length)?;
        if body.is_empty() { vec![] } else { vec![body] }
    } else {
        let mut body = Vec::new();
        reader.read_to_end(&mut body)?;
        if body.is_empty() {
            vec![]
        } else {
            vec![body.into()]
        }
    };
    Ok(RawResponse {
        status,
        reason,
        headers,
        chunks,
    })
}
