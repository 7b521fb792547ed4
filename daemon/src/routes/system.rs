//! `/healthz` and `/metrics`: unauthenticated, for probes and scrapers.
//!
//! `/metrics` names tenants and compositions in its labels: expose it only to the
//! operator's scraper (for example by listening on loopback behind a proxy).

use std::sync::Arc;

use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::json;
use crate::metrics::EngineFigures;
use crate::AppState;

/// `200 {"status":"ok"}`; `503 {"status":"draining"}` once draining, so that a
/// load balancer stops sending work here; `503 {"status":"degraded", "reason"}`
/// while an I/O thread is not serving (being restarted after a panic) or the
/// sandboxes refuse every call (swap turned on while the node runs).
pub(super) async fn healthz(State(state): State<Arc<AppState>>) -> Response {
    if state.drain.is_draining() {
        return json(
            StatusCode::SERVICE_UNAVAILABLE,
            &json!({ "status": "draining" }),
        );
    }
    if let Some(reason) = state.engine.sandboxes_refusing() {
        return json(
            StatusCode::SERVICE_UNAVAILABLE,
            &json!({ "status": "degraded", "reason": reason }),
        );
    }
    match state.engine.io_health() {
        Some(io) if !io.is_healthy() => json(
            StatusCode::SERVICE_UNAVAILABLE,
            &json!({
                "status": "degraded",
                "reason": format!(
                    "{} of {} I/O threads serving ({} restarts so far)",
                    io.serving_threads, io.io_threads, io.restarts
                ),
            }),
        ),
        _ => json(StatusCode::OK, &json!({ "status": "ok" })),
    }
}

/// Prometheus text format, version 0.0.4.
pub(super) async fn metrics(State(state): State<Arc<AppState>>) -> Response {
    let snapshot = state.engine.metrics();
    let figures = EngineFigures {
        sandboxes_created: snapshot.sandboxes_created,
        queue_depth: snapshot.queue_depth,
        in_flight: snapshot.in_flight,
        compute_queue_depth: snapshot.compute_queue_depth,
        shards: snapshot.shards,
        bytes_fetched: snapshot.bytes_fetched,
        bytes_stored: snapshot.bytes_stored,
        registry_records_skipped: snapshot.registry_records_skipped,
        code_cache_rejected: snapshot.code_cache_rejected,
        invocations_cancelled: snapshot.invocations_cancelled,
        io_forbidden_calls: snapshot.io_forbidden,
        io_task_panics: snapshot.io_task_panics,
        io_restarts: snapshot.io_restarts,
        io_unhealthy: state.engine.io_health().is_some_and(|h| !h.is_healthy()),
        body_bytes_in_flight: state.bodies.bytes_in_flight(),
        io: snapshot.io,
    };
    let refused: Vec<(&str, u64)> = state
        .authorities
        .iter()
        .map(|(tenant, authority)| (tenant.as_str(), authority.refused_calls()))
        .collect();
    let text = state
        .metrics
        .render(figures, &refused, state.drain.is_draining());
    (
        StatusCode::OK,
        [(
            CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        )],
        text,
    )
        .into_response()
}
