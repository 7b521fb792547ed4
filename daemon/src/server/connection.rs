//! One client connection, served by hyper's HTTP/1.1 connection on the thread
//! it was placed on.

use std::pin::pin;

use axum::Router;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use tokio::sync::watch;
use tower_service::Service as _;

use super::limits::Admitted;
use super::threads::Placed;

/// Serves `admitted` with `router` on a task of the current thread's runtime
/// until the client closes, the connection fails, or shutdown is announced
/// (`closing`'s receiver is dropped) and its current request has answered.
/// `closed` is held until then, so that the server can wait for every
/// connection.
pub(super) fn serve(
    admitted: Admitted,
    router: Router,
    closing: watch::Sender<()>,
    closed: watch::Receiver<()>,
    placed: Placed,
) {
    let (stream, connection) = match admitted.settle(placed) {
        Ok(settled) => settled,
        Err(error) => {
            tracing::debug!(%error, "accepted connection could not be registered");
            return;
        }
    };
    tokio::spawn(async move {
        let _closed = closed;
        let service = hyper::service::service_fn(move |request: axum::http::Request<Incoming>| {
            let mut request = request.map(axum::body::Body::new);
            request.extensions_mut().insert(connection.clone());
            router.clone().call(request)
        });
        let mut served =
            pin!(http1::Builder::new().serve_connection(TokioIo::new(stream), service));
        let result = tokio::select! {
            result = served.as_mut() => result,
            () = closing.closed() => {
                served.as_mut().graceful_shutdown();
                served.await
            }
        };
        if let Err(error) = result {
            tracing::trace!(%error, "connection ended with an error");
        }
    });
}
