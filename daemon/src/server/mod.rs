//! Serving a router over HTTP/1.1: connections are accepted under a cap
//! ([`limits`]) on the caller's runtime and each is then served, from its first
//! request to its close, by one of the [`HttpThreads`] (thread per core).
//!
//! Hand-written in place of `axum::serve`, which spawns every connection on
//! the runtime that accepted it: here the accepting runtime only accepts, and a
//! connection lives on the thread with the fewest connections. Shutdown works
//! as in `axum::serve`: once `stop` completes the listener closes, every
//! connection finishes the request it is on and closes, and [`serve_router`]
//! returns when the last one has.

mod connection;
mod limits;
mod threads;

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::watch;

pub(crate) use limits::track_requests;
pub use threads::HttpThreads;

use limits::LimitedListener;

/// What one client may hold: open connections, and how long a connection
/// may keep the node waiting for a request's head or for taking an answer.
#[derive(Clone, Copy, Debug)]
pub struct ConnectionLimits {
    /// Connections open at once (at least 1); more are answered `429` and
    /// closed.
    pub max_connections: usize,
    /// How long a connection may wait between answers or stall a transfer.
    pub client_timeout: Duration,
}

impl Default for ConnectionLimits {
    /// The daemon's defaults (`max_connections`, `client_timeout_ms`).
    fn default() -> ConnectionLimits {
        ConnectionLimits {
            max_connections: crate::config::DEFAULT_MAX_CONNECTIONS,
            client_timeout: Duration::from_millis(crate::config::DEFAULT_CLIENT_TIMEOUT_MS),
        }
    }
}

/// Serves `router` on `listener`'s connections, each on one of `threads`,
/// until `stop` completes; then stops accepting, lets every connection finish
/// its current request, and returns once all have closed. Accept errors are
/// logged and waited out, so nothing ends it but `stop`.
pub async fn serve_router(
    listener: TcpListener,
    router: Router,
    threads: Arc<HttpThreads>,
    limits: ConnectionLimits,
    stop: impl Future<Output = ()>,
) {
    let mut listener =
        LimitedListener::new(listener, limits.max_connections, limits.client_timeout);
    // Connections hold `closing` and watch for its receiver to go; the server
    // holds `closed`'s only sender and waits for the connections' receivers.
    let (closing, closing_rx) = watch::channel(());
    let (closed, closed_rx) = watch::channel(());
    let mut stop = pin!(stop);
    loop {
        let admitted = tokio::select! {
            admitted = listener.accept() => admitted,
            () = &mut stop => break,
        };
        let router = router.clone();
        let closing = closing.clone();
        let closed_rx = closed_rx.clone();
        let placed = threads.place(move |placed| {
            connection::serve(admitted, router, closing, closed_rx, placed);
        });
        if !placed {
            tracing::error!("an HTTP thread has stopped; connection dropped");
        }
    }
    drop(listener);
    drop(closing_rx);
    drop(closed_rx);
    closed.closed().await;
}
