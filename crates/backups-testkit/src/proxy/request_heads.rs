//! The request-head reader: [`RequestTracker`] follows the client's side of an HTTP/1.1
//! connection far enough to see the target of each request head, so that a rule can match it,
//! even on a kept-alive connection.

/// A request head longer than this is not HTTP the SDK sends: the connection is then proxied
/// without looking for more requests, rather than buffered without end.
const MAX_HEAD: usize = 64 * 1024;

/// Follows the client's side of an HTTP/1.1 connection far enough to see where each request
/// head starts, so that a rule can match a request on a kept-alive connection too.
#[derive(Debug, Default)]
pub(crate) struct RequestTracker {
    state: RequestState,
    heads: usize,
}

#[derive(Debug)]
enum RequestState {
    /// Reading a head; the bytes so far.
    Head(Vec<u8>),
    /// Skipping this many bytes of a `Content-Length` body.
    Body(u64),
    /// Past the point where requests can be told apart (an upgrade to a WebSocket, a chunked
    /// body, or bytes that are not HTTP): the rest is proxied without looking.
    Opaque,
}

impl Default for RequestState {
    fn default() -> Self {
        Self::Head(Vec::new())
    }
}

impl RequestTracker {
    /// Whether the first request's head has been read (or never will be).
    pub(crate) fn past_first_head(&self) -> bool {
        self.heads > 0 || matches!(self.state, RequestState::Opaque)
    }

    /// Follows `data`, calling `on_head` with the target of every head it completes.
    pub(crate) fn feed(&mut self, data: &[u8], on_head: &mut dyn FnMut(&str)) {
        let mut rest = data.to_vec();
        while !rest.is_empty() {
            match std::mem::replace(&mut self.state, RequestState::Opaque) {
                RequestState::Opaque => return,
                RequestState::Body(left) => {
                    let skip =
                        usize::try_from(left).map_or(rest.len(), |left| left.min(rest.len()));
                    rest.drain(..skip);
                    let left = left - skip as u64;
                    self.state = if left == 0 {
                        RequestState::Head(Vec::new())
                    } else {
                        RequestState::Body(left)
                    };
                }
                RequestState::Head(mut head) => {
                    head.append(&mut rest);
                    match parse_head(&head) {
                        Ok(None) if head.len() <= MAX_HEAD => self.state = RequestState::Head(head),
                        Ok(None) | Err(()) => {}
                        Ok(Some((len, target, next))) => {
                            on_head(&target);
                            self.heads += 1;
                            rest = head.split_off(len);
                            self.state = next;
                        }
                    }
                }
            }
        }
    }
}

/// The length and target of a complete head, and what follows it.
fn parse_head(buf: &[u8]) -> Result<Option<(usize, String, RequestState)>, ()> {
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut request = httparse::Request::new(&mut headers);
    let len = match request.parse(buf) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(_) => return Err(()),
    };
    let header = |name: &str| {
        request
            .headers
            .iter()
            .find(|header| header.name.eq_ignore_ascii_case(name))
            .map(|header| {
                String::from_utf8_lossy(header.value)
                    .trim()
                    .to_ascii_lowercase()
            })
    };
    let next = if request.method == Some("CONNECT")
        || header("upgrade").is_some()
        || header("transfer-encoding").is_some_and(|value| value.contains("chunked"))
    {
        RequestState::Opaque
    } else {
        match header("content-length").map(|value| value.parse::<u64>()) {
            None | Some(Ok(0)) => RequestState::Head(Vec::new()),
            Some(Ok(n)) => RequestState::Body(n),
            Some(Err(_)) => RequestState::Opaque,
        }
    };
    Ok(Some((
        len,
        request.path.unwrap_or_default().to_owned(),
        next,
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn targets(tracker: &mut RequestTracker, pieces: &[&[u8]]) -> Vec<String> {
        let mut seen = Vec::new();
        for piece in pieces {
            tracker.feed(piece, &mut |target| seen.push(target.to_owned()));
        }
        seen
    }

    #[test]
    fn the_tracker_sees_every_head_of_a_kept_alive_connection_across_reads() {
        let mut tracker = RequestTracker::default();
        let seen = targets(
            &mut tracker,
            &[
                b"POST /a HTTP/1.1\r\nContent-Length: 5\r\n\r\nab",
                b"cGET /b HTTP/1.1\r",
                b"\n\r\nGET /c HTTP/1.1\r\n\r\n",
            ],
        );
        assert_eq!(seen, ["/a", "/b", "/c"]);
    }

    #[test]
    fn the_tracker_stops_looking_after_an_upgrade() {
        let mut tracker = RequestTracker::default();
        let seen = targets(
            &mut tracker,
            &[b"GET /ws HTTP/1.1\r\nUpgrade: websocket\r\n\r\nGET /x HTTP/1.1\r\n\r\n"],
        );
        assert_eq!(seen, ["/ws"]);
        assert!(tracker.past_first_head());
    }
}
