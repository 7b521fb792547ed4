//! The HTTP floor: a responder answering every invocation request with a fixed
//! body, on the daemon's own stack: axum on hyper, served by
//! [`pappus_daemon::serve_router`] on [`pappus_daemon::HttpThreads`] with the
//! daemon's default thread count and connection limits. The daemon can be no
//! faster than this on the same machine; the suite measures both in one run
//! and reports their ratio.
//!
//! It reads each request's body, as the daemon does, and answers
//! [`FIXED_BODY`] (the size of a 3x3 `matmul` answer) as
//! `application/octet-stream`. `pappus-bench floor` runs it.

use std::io::Write as _;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::{Context, Result};
use axum::body::Bytes;
use axum::http::header::CONTENT_TYPE;
use axum::http::HeaderValue;
use axum::routing::post;
use axum::Router;
use pappus_daemon::{ConnectionLimits, HttpThreads};

pub use pappus_testkit::nginx::FIXED_BODY;

/// Serves the floor on `listen` with `threads` workers (the daemon's default:
/// [`pappus_daemon::DEFAULT_HTTP_THREADS`]) until the process is killed, after
/// printing `listening on ADDR` on stdout.
///
/// # Errors
/// The runtime cannot start, the address cannot be bound, or the server fails.
pub fn serve(listen: SocketAddr, threads: usize) -> Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the accepting runtime")?;
    let threads = Arc::new(HttpThreads::start(threads).context("starting the HTTP threads")?);
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .with_context(|| format!("binding {listen}"))?;
        let addr = listener.local_addr().context("reading the bound address")?;
        let mut stdout = std::io::stdout();
        writeln!(stdout, "listening on {addr}").context("writing the address")?;
        stdout.flush().context("writing the address")?;
        serve_on(listener, threads, std::future::pending()).await;
        Ok(())
    })
}

/// Serves the floor on `listener` until `stop` completes and its connections
/// have closed.
async fn serve_on(
    listener: tokio::net::TcpListener,
    threads: Arc<HttpThreads>,
    stop: impl std::future::Future<Output = ()>,
) {
    let limits = ConnectionLimits::default();
    pappus_daemon::serve_router(listener, router(), threads, limits, stop).await;
}

/// One route, the daemon's invoke path, answering [`FIXED_BODY`].
fn router() -> Router {
    Router::new().route("/v1/compositions/{name}/invoke", post(fixed))
}

/// Takes the whole body (as the daemon reads it), answers the fixed one.
async fn fixed(body: Bytes) -> ([(axum::http::HeaderName, HeaderValue); 1], &'static str) {
    drop(body);
    (
        [(
            CONTENT_TYPE,
            HeaderValue::from_static("application/octet-stream"),
        )],
        FIXED_BODY,
    )
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::daemon::invoke_path;
    use crate::http::Connection;

    #[test]
    fn the_floor_reads_each_body_and_answers_the_fixed_one() -> Result<()> {
        // The accepting runtime needs a thread of its own while this one
        // blocks on the client.
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()?;
        let threads = Arc::new(HttpThreads::start(2)?);
        let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))?;
        let addr = listener.local_addr()?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let served = runtime.spawn(serve_on(listener, threads, async {
            let _ = stopped.await;
        }));
        let mut conn = Connection::new(addr, Duration::from_secs(10));
        let path = invoke_path("MatMul", "In");
        for body in [&b""[..], &[7u8; 100_000][..]] {
            let r = conn.request("POST", &path, Some("application/octet-stream"), body)?;
            assert_eq!(r.status, 200);
            assert_eq!(r.body, FIXED_BODY.as_bytes());
        }
        assert_eq!(FIXED_BODY.len(), 80);
        let other = conn.request("POST", "/v1/other", None, b"")?;
        assert_eq!(other.status, 404);
        // Stopping closes the idle keep-alive connection, and the server
        // returns once it has.
        let _ = stop.send(());
        runtime.block_on(served)?;
        Ok(())
    }

    #[test]
    fn nginx_answers_the_same_fixed_body() -> Result<()> {
        let nginx = pappus_testkit::nginx();
        let addr = ([127, 0, 0, 1], nginx.port).into();
        let mut conn = Connection::new(addr, Duration::from_secs(10));
        for _ in 0..2 {
            let r = conn.request("POST", "/fixed", Some("application/octet-stream"), &[7; 80])?;
            assert_eq!(r.status, 200);
            assert_eq!(r.body, FIXED_BODY.as_bytes());
        }
        Ok(())
    }
}
