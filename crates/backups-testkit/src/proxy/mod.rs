//! A TCP proxy on 127.0.0.1 that breaks chosen connections on purpose, so that integration
//! tests can check that the SDK follows a backup or restore through to its end when the network
//! fails mid-way (a reset, an early EOF, a silent peer) instead of only when everything works.
//!
//! Every connection is proxied byte for byte. The proxy reads the client's request heads (HTTP/1.1,
//! including the `GET` that upgrades to a WebSocket) only to see their targets: a [`Rule`] armed
//! with [`FaultProxy::arm`] applies once, to the first request that matches it, and then its
//! [`Fault`] cuts, closes or stalls that request's response. Requests that match no armed rule
//! pass untouched, so the status polls a client makes after a cut get through.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> std::io::Result<()> {
//! use std::time::Duration;
//!
//! use backups_testkit::{Fault, FaultProxy, Rule};
//! use tokio::io::{AsyncReadExt, AsyncWriteExt};
//!
//! // An upstream that answers one request with a body the proxy cuts after 20 bytes.
//! let upstream = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! let proxy = FaultProxy::start(upstream.local_addr()?).await?;
//! proxy.arm(Rule::on_path("/backups/create/streamed", Fault::CloseAfter(20)));
//! tokio::spawn(async move {
//!     let (mut socket, _) = upstream.accept().await?;
//!     backups_testkit::read_request(&mut socket).await?;
//!     socket.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n").await?;
//!     socket.write_all(&[b'x'; 100]).await?;
//!     Ok::<(), std::io::Error>(())
//! });
//!
//! let mut client = tokio::net::TcpStream::connect(proxy.addr()).await?;
//! client.write_all(b"POST /backups/create/streamed HTTP/1.1\r\nHost: x\r\n\r\n").await?;
//! let mut seen = Vec::new();
//! client.read_to_end(&mut seen).await?; // an EOF before the declared length
//! assert_eq!(seen, b"HTTP/1.1 200 OK\r\nCon");
//! assert!(proxy.wait_fired(1, Duration::from_secs(1)).await);
//! # Ok(())
//! # }
//! ```

mod blocking;
mod handle;
mod pump;
mod request_heads;
mod rules;

pub use blocking::BlockingProxy;
pub use handle::FaultProxy;
pub use rules::{Fault, Match, Rule};
