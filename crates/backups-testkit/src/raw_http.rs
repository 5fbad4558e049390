//! The server side of test peers that answer over raw TCP (deliberately not through hyper):
//! reading one request whole before deciding what bytes to send back.

use std::io;

use tokio::io::{AsyncRead, AsyncReadExt};

/// One request as a raw peer read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawRequest {
    /// The method, such as `POST`.
    pub method: String,
    /// The request target exactly as sent (still percent-encoded).
    pub path: String,
    /// The `Content-Length` bytes that followed the head.
    pub body: Vec<u8>,
}

/// The parts of a head that reading the rest of the request needs.
struct Head {
    len: usize,
    method: String,
    path: String,
    content_length: usize,
}

/// Reads one HTTP/1.1 request: the head, then `Content-Length` bytes of body. Bytes the client
/// sent after those (a pipelined request) are read and dropped.
///
/// # Errors
///
/// `UnexpectedEof` when the client closes first, `InvalidData` for a malformed head, and any
/// error of the stream.
pub async fn read_request<S: AsyncRead + Unpin>(stream: &mut S) -> io::Result<RawRequest> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 1024];
    let head = loop {
        read_more(stream, &mut chunk, &mut buf).await?;
        if let Some(head) = parse_head(&buf)? {
            break head;
        }
    };
    let end = head.len + head.content_length;
    while buf.len() < end {
        read_more(stream, &mut chunk, &mut buf).await?;
    }
    Ok(RawRequest {
        method: head.method,
        path: head.path,
        body: buf[head.len..end].to_vec(),
    })
}

async fn read_more<S: AsyncRead + Unpin>(
    stream: &mut S,
    chunk: &mut [u8],
    buf: &mut Vec<u8>,
) -> io::Result<()> {
    let n = stream.read(chunk).await?;
    if n == 0 {
        return Err(io::ErrorKind::UnexpectedEof.into());
    }
    buf.extend_from_slice(&chunk[..n]);
    Ok(())
}

/// The head, once `buf` holds all of it.
fn parse_head(buf: &[u8]) -> io::Result<Option<Head>> {
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut request = httparse::Request::new(&mut headers);
    let len = match request.parse(buf) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(err) => return Err(io::Error::new(io::ErrorKind::InvalidData, err)),
    };
    let content_length = request
        .headers
        .iter()
        .find(|header| header.name.eq_ignore_ascii_case("content-length"))
        .and_then(|header| std::str::from_utf8(header.value).ok())
        .and_then(|value| value.trim().parse().ok())
        .unwrap_or(0);
    Ok(Some(Head {
        len,
        method: request.method.unwrap_or_default().to_owned(),
        path: request.path.unwrap_or_default().to_owned(),
        content_length,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn reads_the_head_and_the_declared_body_across_reads() {
        let (mut client, mut peer) = tokio::io::duplex(8);
        let sending = tokio::spawn(async move {
            use tokio::io::AsyncWriteExt;
            client
                .write_all(b"POST /backups/a%2Fb/delete HTTP/1.1\r\nHost: x\r\ncontent-length: 2\r\n\r\n{}")
                .await
                .expect("write");
        });
        let request = read_request(&mut peer).await.expect("a request");
        assert_eq!(request.method, "POST");
        assert_eq!(request.path, "/backups/a%2Fb/delete");
        assert_eq!(request.body, b"{}");
        sending.await.expect("sent");
    }

    #[tokio::test]
    async fn a_close_before_the_body_is_unexpected_eof() {
        let mut input: &[u8] = b"POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nab";
        let err = read_request(&mut input).await.expect_err("cut short");
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
    }
}
