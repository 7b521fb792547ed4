//! The HTTP routes and the request plumbing they share: name and query
//! extraction, bounded body reading, running blocking engine calls off the
//! reactor, and JSON answers.

mod compositions;
mod functions;
mod invoke;
mod logs;
mod system;

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::rejection::QueryRejection;
use axum::extract::{FromRequestParts, Path, Query, Request, State};
use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{from_fn_with_state, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::Router;
use http_body_util::{BodyExt, LengthLimitError, Limited};

use super::auth::{self, TenantName};
use super::errors::ApiError;
use super::AppState;
use pappus_engine::Error as EngineError;

/// Longest function or composition name accepted.
const MAX_NAME_LEN: usize = 128;

/// Builds the router: `/v1` (authenticated, refused while draining), `/healthz`
/// and `/metrics` (open, so probes and scrapers need no token), and JSON answers
/// for unknown routes and methods.
pub(super) fn router(state: Arc<AppState>) -> Router {
    let v1 = Router::new()
        .route(
            "/v1/functions",
            get(functions::list).delete(functions::delete_all),
        )
        .route(
            "/v1/functions/{name}",
            put(functions::put)
                .get(functions::get)
                .delete(functions::delete),
        )
        .route(
            "/v1/compositions",
            put(compositions::put)
                .get(compositions::list)
                .delete(compositions::delete_all),
        )
        .route(
            "/v1/compositions/{name}",
            get(compositions::get).delete(compositions::delete),
        )
        .route("/v1/compositions/{name}/invoke", post(invoke::invoke))
        .route("/v1/logs", get(logs::list))
        .route_layer(from_fn_with_state(state.clone(), admit_v1));
    Router::new()
        .merge(v1)
        .route("/healthz", get(system::healthz))
        .route("/metrics", get(system::metrics))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state)
}

/// The one middleware on the `/v1` routes: answers `503` once the daemon is
/// draining, then resolves the caller's tenant ([`auth::tenant`]: `401`/`403`
/// for bad credentials) and stores it as a [`TenantName`] extension for the
/// handlers. One layer rather than one per check, because axum clones a
/// route's whole layer stack (and boxes a `Next` per layer) on every request.
async fn admit_v1(
    State(state): State<Arc<AppState>>,
    mut request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    if state.drain.is_draining() {
        return Err(ApiError::draining());
    }
    let tenant = auth::tenant(state.tokens.as_deref(), &request)?;
    request.extensions_mut().insert(tenant);
    Ok(next.run(request).await)
}

async fn not_found() -> ApiError {
    ApiError::not_found("no_route", "no such route; see docs/daemon.md for the API")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this route does not support the method",
    )
}

/// A function or composition name from the path, shaped like a composition-language
/// identifier (`[A-Za-z_][A-Za-z0-9_]*`, at most 128 bytes) because that is the
/// only way compositions can refer to it; this also keeps names safe as file names.
pub(super) struct Name(pub String);

impl<S: Send + Sync> FromRequestParts<S> for Name {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Name, ApiError> {
        let Path(name) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|e| ApiError::bad_request("invalid_name", e.body_text()))?;
        let mut bytes = name.bytes();
        let first_ok = bytes
            .next()
            .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_');
        let rest_ok = bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if !first_ok || !rest_ok || name.len() > MAX_NAME_LEN {
            return Err(ApiError::bad_request(
                "invalid_name",
                format!(
                    "name {name:?} must be an identifier: a letter or '_', then letters, \
                     digits or '_', at most {MAX_NAME_LEN} bytes"
                ),
            ));
        }
        Ok(Name(name))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for TenantName {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<TenantName, ApiError> {
        // Always present on `/v1` routes: `admit_v1` inserts it.
        parts
            .extensions
            .get::<TenantName>()
            .cloned()
            .ok_or_else(|| {
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "request reached a handler without a tenant",
                )
            })
    }
}

/// Unwraps query parameters, answering `400` for malformed or unknown ones.
fn query<T>(params: Result<Query<T>, QueryRejection>) -> Result<T, ApiError> {
    params
        .map(|Query(p)| p)
        .map_err(|e| ApiError::bad_request("invalid_query", e.body_text()))
}

/// The bounds on request bodies: the largest one of each kind, and the bytes
/// all requests may be reading at once (in KiB permits, so that any budget
/// fits a semaphore).
pub(super) struct BodyLimits {
    /// Largest body accepted by every route but module uploads.
    pub(super) max: usize,
    /// Largest module accepted by `PUT /v1/functions/{name}`: modules (a
    /// language runtime compiled to wasm is tens of MiB) outgrow invocation
    /// bodies, which are held per invocation and so kept smaller.
    pub(super) max_module: usize,
    /// Permits of 1 KiB for bodies being read, over all requests.
    pub(super) in_flight: tokio::sync::Semaphore,
    /// The permits `in_flight` started with.
    permits: usize,
    /// How long an admitted request's body may take to arrive.
    timeout: std::time::Duration,
}

/// Which bound of [`BodyLimits`] a route's body is held to.
#[derive(Clone, Copy, Debug)]
pub(super) enum BodyKind {
    /// A module upload: `max_module_bytes`.
    Module,
    /// Anything else (composition text, invocation inputs): `max_body_bytes`.
    Request,
}

impl BodyLimits {
    /// `max` bytes per body (`max_module` per module), `in_flight` bytes over
    /// all bodies being read. `timeout` for reading one body.
    pub(super) fn new(
        max: usize,
        max_module: usize,
        in_flight: u64,
        timeout: std::time::Duration,
    ) -> BodyLimits {
        let permits = usize::try_from(in_flight.div_ceil(1024))
            .unwrap_or(usize::MAX)
            .clamp(1, tokio::sync::Semaphore::MAX_PERMITS);
        BodyLimits {
            max,
            max_module,
            in_flight: tokio::sync::Semaphore::new(permits),
            permits,
            timeout,
        }
    }

    /// The largest body of `kind`, and the setting that sets it.
    fn bound(&self, kind: BodyKind) -> (usize, &'static str) {
        match kind {
            BodyKind::Module => (self.max_module, "max_module_bytes"),
            BodyKind::Request => (self.max, "max_body_bytes"),
        }
    }

    /// Body bytes reserved by requests being read now.
    pub(super) fn bytes_in_flight(&self) -> u64 {
        let reserved = self
            .permits
            .saturating_sub(self.in_flight.available_permits());
        (reserved as u64).saturating_mul(1024)
    }
}

/// The declared `Content-Length`, or `413` when it is over the bound of
/// `kind`: a check on the header alone, so that an oversized request is
/// refused without reading any of it (a client that sent `Expect:
/// 100-continue` gets the answer before it sends the body).
fn refuse_oversized(
    headers: &HeaderMap,
    limits: &BodyLimits,
    kind: BodyKind,
) -> Result<Option<u64>, ApiError> {
    let (max, setting) = limits.bound(kind);
    let declared = headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if let Some(n) = declared.filter(|&n| n > max as u64) {
        return Err(ApiError::payload_too_large(Some(n), max, setting));
    }
    Ok(declared)
}

/// Reads the whole body, answering `413` past the bound of `kind`: at once when
/// the declared `Content-Length` is too large, otherwise as soon as the bytes
/// read exceed it (chunked bodies), so an oversized body is never buffered.
/// Reading first reserves the declared length (or, without one, the maximum)
/// from the in-flight budget; when the budget is spent the request gets `429`
/// at once instead of one more buffer.
async fn read_body(
    headers: &HeaderMap,
    body: Body,
    limits: &BodyLimits,
    kind: BodyKind,
) -> Result<Bytes, ApiError> {
    let (limit, setting) = limits.bound(kind);
    let declared = refuse_oversized(headers, limits, kind)?;
    let reserve = declared.unwrap_or(limit as u64).div_ceil(1024);
    let _reserved = match u32::try_from(reserve)
        .ok()
        .and_then(|n| limits.in_flight.try_acquire_many(n).ok())
    {
        Some(permit) => permit,
        None => {
            return Err(ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "overloaded",
                "too many request body bytes are being read at once (max_body_bytes_in_flight); retry later",
            )
            .with_detail(serde_json::json!({ "limit": "max_body_bytes_in_flight" })))
        }
    };
    // A body trickled in (holding an execution slot) is cut off.
    let Ok(collected) =
        tokio::time::timeout(limits.timeout, Limited::new(body, limit).collect()).await
    else {
        return Err(ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            "request_timeout",
            "the request body did not arrive within client_timeout_ms",
        )
        .with_detail(serde_json::json!({ "limit": "client_timeout_ms" })));
    };
    match collected {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(error) if error.downcast_ref::<LengthLimitError>().is_some() => {
            Err(ApiError::payload_too_large(None, limit, setting))
        }
        Err(error) => Err(ApiError::bad_request(
            "bad_body",
            format!("reading the request body: {error}"),
        )),
    }
}

/// Admits a registration: checks the declared length, then waits for one of
/// the registration permits, so that the body is read only once there is a
/// thread to compile it; the permit is held until the registration answers.
async fn admit_registration(
    state: &AppState,
    headers: &HeaderMap,
    kind: BodyKind,
) -> Result<tokio::sync::OwnedSemaphorePermit, ApiError> {
    refuse_oversized(headers, &state.bodies, kind)?;
    state
        .registrations
        .clone()
        .acquire_owned()
        .await
        .map_err(|_| ApiError::draining())
}

/// Runs a blocking engine call (compiling, fsync) on tokio's blocking pool so the
/// HTTP threads keep serving.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, EngineError> + Send + 'static,
) -> Result<T, ApiError> {
    match tokio::task::spawn_blocking(work).await {
        Ok(result) => result.map_err(ApiError::from),
        Err(error) => {
            tracing::error!(%error, "blocking engine call panicked");
            Err(ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "the operation failed unexpectedly",
            ))
        }
    }
}

/// A JSON answer (with a trailing newline, for terminals).
fn json(status: StatusCode, value: &serde_json::Value) -> Response {
    (
        status,
        [(CONTENT_TYPE, HeaderValue::from_static("application/json"))],
        format!("{value}\n"),
    )
        .into_response()
}
