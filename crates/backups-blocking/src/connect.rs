//! [`connect_within`]: a TCP connection to the first address that accepts, within one timeout
//! for them all (the sockets' and discovery's probes').

use std::io;
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// Connects to the first of `addresses` that accepts, trying them in order within `timeout` in
/// all; the stream and the address it reached. The error is the last address's (`TimedOut` once the time is spent), or
/// `AddrNotAvailable` when there is no address.
pub(crate) fn connect_within(
    addresses: &[SocketAddr],
    timeout: Duration,
) -> io::Result<(TcpStream, SocketAddr)> {
    // A timeout too large to add to now (Duration::MAX) bounds each try instead.
    let deadline = Instant::now().checked_add(timeout);
    let mut last = io::Error::new(io::ErrorKind::AddrNotAvailable, "no address to connect to");
    for address in addresses {
        let left = match deadline {
            Some(deadline) => deadline.saturating_duration_since(Instant::now()),
            None => timeout,
        };
        if left.is_zero() {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "connection timed out",
            ));
        }
        match TcpStream::connect_timeout(address, left) {
            Ok(stream) => return Ok((stream, *address)),
            Err(err) => last = err,
        }
    }
    Err(last)
}
