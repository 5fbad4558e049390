//! The judgements that need no IO: what a port file's bytes, a failed connect and a health
//! answer say, as [`Verdict`]s; and how a host is written in an authority.

use core::fmt;
use std::io;
use std::time::Duration;

use http::StatusCode;

use super::{HEALTH_PATH, Verdict};
use crate::excerpt;

impl Verdict {
    /// What reading a port file gave: its port, or why it holds none. The port is trimmed of
    /// white space and must be a number from 1 to 65535.
    pub fn of_port_file(read: io::Result<Vec<u8>>) -> Self {
        let bytes = match read {
            Ok(bytes) => bytes,
            Err(err) if err.kind() == io::ErrorKind::NotFound => return Self::Missing,
            Err(err) => return Self::Unreadable(err.to_string()),
        };
        let text = String::from_utf8_lossy(&bytes);
        let trimmed = text.trim();
        match trimmed.parse::<u16>() {
            Ok(port) if port != 0 => Self::HoldsPort(port),
            _ => Self::NotAPort(excerpt(trimmed.as_bytes())),
        }
    }

    /// A TCP connect that failed: refused is [`NotListening`](Self::NotListening), timed out
    /// is [`ConnectTimeout`](Self::ConnectTimeout), anything else
    /// [`ConnectFailed`](Self::ConnectFailed) with the reason.
    pub fn of_connect_error(err: &io::Error) -> Self {
        match err.kind() {
            io::ErrorKind::ConnectionRefused => Self::NotListening,
            io::ErrorKind::TimedOut => Self::ConnectTimeout,
            _ => Self::ConnectFailed(err.to_string()),
        }
    }

    /// A health answer: its status and the first bytes of its body (up to
    /// [`HEALTH_READ_LIMIT`](super::HEALTH_READ_LIMIT)). Healthy is 200 with a body starting
    /// with `ok`.
    pub fn of_health(status: StatusCode, start: &[u8]) -> Self {
        if status != StatusCode::OK {
            return Self::Unhealthy(format!(
                "GET {HEALTH_PATH} answered {status}: {:?}",
                excerpt(start)
            ));
        }
        if !start.starts_with(b"ok") {
            return Self::Unhealthy(format!(
                "GET {HEALTH_PATH} answered {:?}, not \"ok\"",
                excerpt(start)
            ));
        }
        Self::Healthy
    }

    /// A health check that failed once connected, before an answer could be judged: the
    /// handshake, the request or the body failed with `err`.
    pub fn of_health_error(err: impl fmt::Display) -> Self {
        Self::Unhealthy(format!("GET {HEALTH_PATH}: {err}"))
    }

    /// A health check with no answer within `timeout`.
    pub fn of_health_timeout(timeout: Duration) -> Self {
        Self::Unhealthy(format!(
            "no answer to GET {HEALTH_PATH} within {} ms",
            timeout.as_millis()
        ))
    }
}

/// `host:port` as a URL's authority and a `Host` header write it: an IPv6 address in brackets
/// (whether or not `host` has them).
pub fn authority(host: &str, port: u16) -> String {
    if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// `host` as a socket address takes it: without the brackets of an IPv6 address.
pub fn connect_host(host: &str) -> &str {
    host.trim_start_matches('[').trim_end_matches(']')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn port_files_are_read_strictly() {
        let cases: [(&[u8], Verdict); 5] = [
            (b" 39301\r\n", Verdict::HoldsPort(39301)),
            (b"0", Verdict::NotAPort("0".into())),
            (b"70000", Verdict::NotAPort("70000".into())),
            (b"", Verdict::NotAPort(String::new())),
            (b"-1", Verdict::NotAPort("-1".into())),
        ];
        for (content, expected) in cases {
            assert_eq!(
                Verdict::of_port_file(Ok(content.to_vec())),
                expected,
                "{content:?}"
            );
        }
        let missing = io::Error::from(io::ErrorKind::NotFound);
        assert_eq!(Verdict::of_port_file(Err(missing)), Verdict::Missing);
        let denied = io::Error::new(io::ErrorKind::PermissionDenied, "denied");
        assert_eq!(
            Verdict::of_port_file(Err(denied)),
            Verdict::Unreadable("denied".into())
        );
    }

    #[test]
    fn connect_errors_and_health_answers_are_judged_alike_by_every_probe() {
        let refused = io::Error::from(io::ErrorKind::ConnectionRefused);
        assert_eq!(Verdict::of_connect_error(&refused), Verdict::NotListening);
        let timed_out = io::Error::from(io::ErrorKind::TimedOut);
        assert_eq!(
            Verdict::of_connect_error(&timed_out),
            Verdict::ConnectTimeout
        );
        let other = io::Error::other("no route");
        assert_eq!(
            Verdict::of_connect_error(&other),
            Verdict::ConnectFailed("no route".into())
        );

        assert_eq!(
            Verdict::of_health(StatusCode::OK, b"ok:11.0.0"),
            Verdict::Healthy
        );
        let Verdict::Unhealthy(why) = Verdict::of_health(StatusCode::NOT_FOUND, b"no route") else {
            panic!("a 404 is not healthy");
        };
        assert!(why.contains("404") && why.contains("no route"), "{why}");
        assert!(matches!(
            Verdict::of_health(StatusCode::OK, b"nope"),
            Verdict::Unhealthy(why) if why.contains("\"nope\", not \"ok\"")
        ));
        assert_eq!(
            Verdict::of_health_timeout(Duration::from_millis(100)),
            Verdict::Unhealthy("no answer to GET /.well-known/health within 100 ms".into())
        );
    }

    #[test]
    fn ipv6_hosts_get_their_brackets_in_an_authority_only() {
        assert_eq!(authority("127.0.0.1", 39300), "127.0.0.1:39300");
        assert_eq!(authority("::1", 39300), "[::1]:39300");
        assert_eq!(authority("[::1]", 39300), "[::1]:39300");
        assert_eq!(connect_host("[::1]"), "::1");
        assert_eq!(connect_host("localhost"), "localhost");
    }
}
