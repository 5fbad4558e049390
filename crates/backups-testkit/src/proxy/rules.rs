//! What a test arms the proxy with: a [`Rule`] (which request, by [`Match`]) and its [`Fault`]
//! (what happens to that request's response), and [`Active`], a fault once it matched on a
//! connection, which watches the response's bytes for its count or pattern and says where to cut.

/// What a [`Rule`] recognizes a request by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Match {
    /// Any request.
    Any,
    /// A request whose target (path and query, exactly as sent) starts with this.
    PathPrefix(String),
}

impl Match {
    pub(crate) fn matches(&self, target: &str) -> bool {
        match self {
            Match::Any => true,
            Match::PathPrefix(prefix) => target.starts_with(prefix.as_str()),
        }
    }
}

/// What happens to the response of a matching request. Every count and pattern applies to the
/// bytes going from the upstream to the client, counted from the start of that response.
///
/// A WebSocket is dropped without a close frame by [`Fault::CloseAfter`] or
/// [`Fault::CloseWhen`]: the TCP connection just ends, which is what a peer that vanishes
/// looks like; [`Fault::ResetAfter`] is the same drop seen as `ECONNRESET`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Forward this many bytes, then reset both sides (`SO_LINGER` 0): the client reads those
    /// bytes, then `ECONNRESET`. Bytes still in the proxy's send buffer when it resets are lost,
    /// so a client that lets its receive window fill up sees fewer.
    ResetAfter(usize),
    /// Forward this many bytes, then close both sides cleanly (FIN): the client sees an EOF,
    /// inside a chunked body or before the declared length.
    CloseAfter(usize),
    /// Forward this many bytes, then nothing more, keeping both connections open: a silent
    /// peer, until [`FaultProxy::release_stalls`](crate::FaultProxy::release_stalls) closes them, the client closes its side, or
    /// the proxy is dropped. The proxy stops reading the upstream too, so the server feels the
    /// backpressure of a stalled network.
    StallAfter(usize),
    /// Forward up to and including the first occurrence of this pattern (such as
    /// `b"\"percentage\":46"`, or the text of a WebSocket frame), then reset as
    /// [`Fault::ResetAfter`]. The pattern is found even when it spans two reads.
    ResetWhen(Vec<u8>),
    /// Forward up to and including the first occurrence of this pattern, then close as
    /// [`Fault::CloseAfter`].
    CloseWhen(Vec<u8>),
    /// Forward up to and including the first occurrence of this pattern, then stall as
    /// [`Fault::StallAfter`].
    StallWhen(Vec<u8>),
}

/// A one-shot fault: the first request that `matches` gets `fault`, then the rule is spent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// Which request the fault is for.
    pub matches: Match,
    /// What happens to that request's response.
    pub fault: Fault,
}

impl Rule {
    /// A rule for the next request of any target.
    pub fn any(fault: Fault) -> Self {
        Self {
            matches: Match::Any,
            fault,
        }
    }

    /// A rule for the next request whose target starts with `prefix`.
    pub fn on_path(prefix: impl Into<String>, fault: Fault) -> Self {
        Self {
            matches: Match::PathPrefix(prefix.into()),
            fault,
        }
    }
}

/// What a fault does once its trigger is reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Action {
    Reset,
    Close,
    Stall,
}

/// Where in the response a fault fires.
#[derive(Debug)]
enum Trigger {
    After(usize),
    When(Vec<u8>),
}

/// A fault matched on a connection, watching its response.
#[derive(Debug)]
pub(crate) struct Active {
    trigger: Trigger,
    action: Action,
    /// Response bytes forwarded since the match, for [`Trigger::After`].
    seen: usize,
    /// The end of the previous read, for a pattern that spans two reads.
    tail: Vec<u8>,
}

impl Active {
    pub(crate) fn new(fault: Fault) -> Self {
        let (trigger, action) = match fault {
            Fault::ResetAfter(n) => (Trigger::After(n), Action::Reset),
            Fault::CloseAfter(n) => (Trigger::After(n), Action::Close),
            Fault::StallAfter(n) => (Trigger::After(n), Action::Stall),
            Fault::ResetWhen(pattern) => (Trigger::When(pattern), Action::Reset),
            Fault::CloseWhen(pattern) => (Trigger::When(pattern), Action::Close),
            Fault::StallWhen(pattern) => (Trigger::When(pattern), Action::Stall),
        };
        Self {
            trigger,
            action,
            seen: 0,
            tail: Vec::new(),
        }
    }

    /// How much of `chunk` to forward, and the action once it is forwarded if the trigger is
    /// reached inside it.
    pub(crate) fn on_response(&mut self, chunk: &[u8]) -> (usize, Option<Action>) {
        match &self.trigger {
            Trigger::After(limit) => {
                let left = limit.saturating_sub(self.seen);
                if chunk.len() >= left {
                    (left, Some(self.action))
                } else {
                    self.seen += chunk.len();
                    (chunk.len(), None)
                }
            }
            Trigger::When(pattern) => {
                let mut window = std::mem::take(&mut self.tail);
                let carried = window.len();
                window.extend_from_slice(chunk);
                if let Some(at) = find(&window, pattern) {
                    // The tail is shorter than the pattern, so a match ends inside `chunk`.
                    (at + pattern.len() - carried, Some(self.action))
                } else {
                    let keep = pattern.len().saturating_sub(1);
                    self.tail = window.split_off(window.len().saturating_sub(keep));
                    (chunk.len(), None)
                }
            }
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() {
        return Some(0);
    }
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pattern_is_found_across_reads_and_cut_after_its_end() {
        let mut active = Active::new(Fault::CloseWhen(b"\"percentage\":46".to_vec()));
        assert_eq!(active.on_response(b"{\"percent"), (9, None));
        assert_eq!(active.on_response(b"age\":46}\n"), (7, Some(Action::Close)));
    }

    #[test]
    fn a_count_is_cut_inside_the_read_that_reaches_it() {
        let mut active = Active::new(Fault::ResetAfter(5));
        assert_eq!(active.on_response(b"abc"), (3, None));
        assert_eq!(active.on_response(b"defg"), (2, Some(Action::Reset)));
    }
}
