//! Shutdown: waiting for SIGTERM/SIGINT and draining.
//!
//! Draining happens in two steps so that clients get an answer rather than a
//! refused connection while work finishes: first every new request is answered
//! `503` (with `Retry-After`, so a load balancer moves on) while the engine
//! finishes the invocations it admitted; then the listener closes and the answers
//! still being written are flushed. Both steps together are bounded by the drain
//! timeout (plus a short grace period to write the last answers).

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use pappus_engine::Engine;

/// Extra time, past the drain timeout, for answers of finished work to be written.
const WRITE_GRACE: Duration = Duration::from_secs(1);

/// The draining state shared by the request handlers and the shutdown sequence.
#[derive(Debug)]
pub struct Drain {
    draining: AtomicBool,
    /// Set to `true` when the server should stop accepting connections.
    finished: watch::Sender<bool>,
}

impl Default for Drain {
    fn default() -> Drain {
        Drain {
            draining: AtomicBool::new(false),
            finished: watch::Sender::new(false),
        }
    }
}

impl Drain {
    /// Whether new requests should be refused with `503`.
    pub fn is_draining(&self) -> bool {
        self.draining.load(Ordering::Acquire)
    }

    /// Completes once the server should close its listener.
    pub async fn finished(&self) {
        let mut rx = self.finished.subscribe();
        // An error means the sender is gone, i.e. the daemon is being torn down.
        let _ = rx.wait_for(|done| *done).await;
    }
}

/// Completes on the first SIGTERM or SIGINT.
pub async fn signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => tracing::info!("SIGTERM received"),
                    _ = tokio::signal::ctrl_c() => tracing::info!("SIGINT received"),
                }
                return;
            }
            Err(error) => {
                tracing::warn!(%error, "cannot listen for SIGTERM; only SIGINT will drain");
            }
        }
    }
    if let Err(error) = tokio::signal::ctrl_c().await {
        tracing::warn!(%error, "cannot listen for SIGINT either; draining now");
    }
}

/// Drains the daemon (see the module docs) and waits for the server task.
///
/// # Errors
/// The server task failed.
pub async fn drain(
    engine: Engine,
    drain: &Drain,
    server: JoinHandle<()>,
    timeout: Duration,
) -> anyhow::Result<()> {
    let deadline = Instant::now() + timeout;
    drain.draining.store(true, Ordering::Release);
    tracing::info!(
        timeout_ms = timeout.as_millis(),
        "draining: new requests get 503"
    );
    // `Engine::drain` blocks until the admitted invocations finish (or time out),
    // so it must not run on an HTTP thread.
    match tokio::task::spawn_blocking(move || engine.drain(timeout)).await {
        Ok(true) => tracing::info!("in-flight invocations finished"),
        Ok(false) => tracing::warn!("drain timeout passed with invocations still running"),
        Err(error) => tracing::warn!(%error, "engine drain did not complete"),
    }
    drain.finished.send_replace(true);
    let remaining = deadline.saturating_duration_since(Instant::now()) + WRITE_GRACE;
    match tokio::time::timeout(remaining, server).await {
        Ok(result) => {
            server_result(result)?;
            tracing::info!("drained; exiting");
            Ok(())
        }
        Err(_) => {
            tracing::warn!("drain timed out with requests still open; exiting anyway");
            Ok(())
        }
    }
}

/// Flattens the server task's result.
///
/// # Errors
/// The server task panicked.
pub fn server_result(result: Result<(), tokio::task::JoinError>) -> anyhow::Result<()> {
    result.context("the HTTP server task failed")
}
