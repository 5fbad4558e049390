//! [`Transport`]: the one thing an HTTP stack must do for the SDK.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response};

use crate::Error;

/// Sends a request and returns the response with a body that streams.
///
/// A transport owns everything that needs IO or a clock: connections, pooling, TLS, timeouts,
/// and the timer ([`sleep`](Transport::sleep)) with which the client retries idempotent calls
/// ([`RetryPolicy`](crate::RetryPolicy)) and follows operations. It sends each request once; a
/// retry comes as a new request with an [`Attempt`](crate::Attempt) in its extensions. Each request carries its [`Operation`](crate::Operation) in its
/// extensions. A transport should report its failures as [`Error::Transport`] and
/// [`Error::Timeout`]; the body's errors convert into [`Error`] (an infallible body, such as
/// `http_body_util::Full`, works as it is).
///
/// `backups-hyper` has the default one. For tests, [`transport_fn`] makes one from a closure.
pub trait Transport: Send + Sync {
    /// The response body.
    type Body: http_body::Body<Data = Bytes, Error: Into<Error>> + Send + Unpin + 'static;

    /// Sends `request`; resolves once the response head has arrived.
    fn send(
        &self,
        request: Request<Bytes>,
    ) -> impl Future<Output = Result<Response<Self::Body>, Error>> + Send;

    /// A timer: resolves after `duration`. The client waits on it between two polls of a status
    /// ([`Client::follow`](crate::Client::follow)). The default has no timer and answers `None`,
    /// and a stream that ends early is then an error, as without following.
    fn sleep(&self, duration: Duration) -> Option<impl Future<Output = ()> + Send> {
        let _ = duration;
        None::<core::future::Ready<()>>
    }
}

impl<T: Transport + ?Sized> Transport for Arc<T> {
    type Body = T::Body;

    fn send(
        &self,
        request: Request<Bytes>,
    ) -> impl Future<Output = Result<Response<Self::Body>, Error>> + Send {
        (**self).send(request)
    }

    fn sleep(&self, duration: Duration) -> Option<impl Future<Output = ()> + Send> {
        (**self).sleep(duration)
    }
}

impl<T: Transport + ?Sized> Transport for &T {
    type Body = T::Body;

    fn send(
        &self,
        request: Request<Bytes>,
    ) -> impl Future<Output = Result<Response<Self::Body>, Error>> + Send {
        (**self).send(request)
    }

    fn sleep(&self, duration: Duration) -> Option<impl Future<Output = ()> + Send> {
        (**self).sleep(duration)
    }
}

/// A transport made from a closure; see [`transport_fn`].
#[derive(Debug, Clone)]
pub struct TransportFn<F>(F);

/// Makes a [`Transport`] from a closure, so that a test transport is one line.
///
/// ```
/// use backups_proto::{Client, Endpoint, transport_fn};
/// use bytes::Bytes;
/// use http_body_util::Full;
///
/// let transport = transport_fn(|_request| async {
///     let body = Full::new(Bytes::from_static(br#"{"iterable":[]}"#));
///     Ok(http::Response::new(body))
/// });
/// let client = Client::new(transport, Endpoint::default());
/// # let _ = client;
/// ```
pub fn transport_fn<F, Fut, B>(f: F) -> TransportFn<F>
where
    F: Fn(Request<Bytes>) -> Fut + Send + Sync,
    Fut: Future<Output = Result<Response<B>, Error>> + Send,
    B: http_body::Body<Data = Bytes, Error: Into<Error>> + Send + Unpin + 'static,
{
    TransportFn(f)
}

impl<F, Fut, B> Transport for TransportFn<F>
where
    F: Fn(Request<Bytes>) -> Fut + Send + Sync,
    Fut: Future<Output = Result<Response<B>, Error>> + Send,
    B: http_body::Body<Data = Bytes, Error: Into<Error>> + Send + Unpin + 'static,
{
    type Body = B;

    fn send(
        &self,
        request: Request<Bytes>,
    ) -> impl Future<Output = Result<Response<B>, Error>> + Send {
        (self.0)(request)
    }
}
