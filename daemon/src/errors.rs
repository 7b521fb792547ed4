//! The daemon's error answers: `{"error": {"kind", "message", "detail"}}` with the
//! status that tells a client what to do next, and the mapping from engine errors.
//!
//! Statuses: 400 bad input, 401 missing credentials, 403 bad credentials or a
//! tenant quota reached, 404
//! unknown name, 405 wrong method, 409 conflict, 413 body too large, 422 function
//! failure, 429 overloaded (with `Retry-After`), 503 draining. A 500 only comes from
//! a storage failure or an engine error this daemon does not know yet.

use axum::http::header::{RETRY_AFTER, WWW_AUTHENTICATE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use pappus_engine::Error as EngineError;

/// Seconds a client told `429` or `503` should wait before retrying. Invocations
/// are short (deadlines are seconds at most), so a second is a sensible pause.
const RETRY_AFTER_SECS: u64 = 1;

/// An error answer.
#[derive(Debug)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Machine-readable kind, e.g. `invalid_module` (the engine's kind when it has one).
    pub kind: String,
    /// Human-readable message.
    pub message: String,
    /// Structured detail (diagnostics, failing application and shard, ...) or null.
    pub detail: Value,
}

impl ApiError {
    /// An error with no detail.
    pub fn new(status: StatusCode, kind: &str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            kind: kind.to_owned(),
            message: message.into(),
            detail: Value::Null,
        }
    }

    /// Attaches structured detail.
    pub fn with_detail(mut self, detail: Value) -> ApiError {
        self.detail = detail;
        self
    }

    /// 400: the request itself is wrong.
    pub fn bad_request(kind: &str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, kind, message)
    }

    /// 401: no usable credentials.
    pub fn unauthorized(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    /// 403: credentials given but not valid.
    pub fn forbidden(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    /// 404: nothing by that name (or no such route).
    pub fn not_found(kind: &str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, kind, message)
    }

    /// 413: the body (of `declared` bytes, when its length was declared)
    /// exceeds `max` bytes, the value of the setting `setting`. The detail
    /// names the setting and its value, as other limits' answers do.
    pub fn payload_too_large(declared: Option<u64>, max: usize, setting: &str) -> ApiError {
        let size = declared.map_or_else(String::new, |n| format!(" of {n} bytes"));
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("request body{size} exceeds the limit of {max} bytes ({setting})"),
        )
        .with_detail(json!({ "limit": setting, "max": max }))
    }

    /// 503: the daemon is draining and takes no new work.
    pub fn draining() -> ApiError {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "draining",
            "the server is shutting down and accepts no new work",
        )
    }
}

/// The status of an invocation whose shard failed with `kind`: the tenant's
/// authority refused an I/O call (`403`), the I/O runtime is at a bound
/// (`429`), a bug on the node (`500`), or the composition failed (`422`).
fn failure_status(kind: &str) -> StatusCode {
    match kind {
        "forbidden" => StatusCode::FORBIDDEN,
        "overloaded" => StatusCode::TOO_MANY_REQUESTS,
        "internal" => StatusCode::INTERNAL_SERVER_ERROR,
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    }
}

impl From<EngineError> for ApiError {
    fn from(error: EngineError) -> ApiError {
        let kind = error.kind();
        let message = error.to_string();
        let (status, detail) = match &error {
            EngineError::Overloaded { queue_bound } => (
                StatusCode::TOO_MANY_REQUESTS,
                json!({ "queue_bound": queue_bound }),
            ),
            EngineError::Draining => (StatusCode::SERVICE_UNAVAILABLE, Value::Null),
            EngineError::UnknownComposition { name } => {
                (StatusCode::NOT_FOUND, json!({ "composition": name }))
            }
            EngineError::UnknownFunction { name } => {
                (StatusCode::NOT_FOUND, json!({ "function": name }))
            }
            EngineError::InvalidModule { function, reason } => (
                StatusCode::BAD_REQUEST,
                json!({ "function": function, "reason": reason }),
            ),
            EngineError::SignatureMismatch {
                function,
                declared,
                module,
            } => (
                StatusCode::BAD_REQUEST,
                json!({ "function": function, "declared": declared, "module": module }),
            ),
            EngineError::InvalidLimits { function, reason } => (
                StatusCode::BAD_REQUEST,
                json!({ "function": function, "reason": reason }),
            ),
            EngineError::Diagnostics {
                rendered,
                diagnostics,
            } => {
                let list: Vec<Value> = diagnostics
                    .iter()
                    .map(|d| {
                        json!({
                            "severity": d.severity,
                            "line": d.line,
                            "column": d.column,
                            "message": d.message,
                        })
                    })
                    .collect();
                (
                    StatusCode::BAD_REQUEST,
                    json!({ "diagnostics": list, "rendered": rendered }),
                )
            }
            EngineError::InvalidInput { reason } => {
                (StatusCode::BAD_REQUEST, json!({ "reason": reason }))
            }
            EngineError::Conflict { reason } => (StatusCode::CONFLICT, json!({ "reason": reason })),
            EngineError::NestingTooDeep { chain, limit } => (
                StatusCode::BAD_REQUEST,
                json!({ "chain": chain, "limit": limit }),
            ),
            EngineError::QuotaExceeded {
                tenant,
                what,
                limit,
            } => (
                StatusCode::FORBIDDEN,
                json!({ "tenant": tenant, "what": what, "limit": limit }),
            ),
            EngineError::TooManyShards {
                composition,
                application,
                reason,
                limit,
            } => (
                StatusCode::UNPROCESSABLE_ENTITY,
                json!({
                    "composition": composition,
                    "application": application,
                    "reason": reason,
                    "limit": limit,
                }),
            ),
            EngineError::Failure {
                composition,
                application,
                shard,
                cause,
                kind,
                refused,
                wasi,
            } => {
                let mut detail = json!({
                    "composition": composition,
                    "application": application,
                    "shard": shard,
                    "cause": cause,
                    "failure": kind,
                    "seed": wasi.seed,
                    "time": wasi.time_secs,
                });
                if let (Some(refused), Some(fields)) = (refused, detail.as_object_mut()) {
                    fields.insert("uri".into(), refused.uri.as_str().into());
                    fields.insert("rule".into(), refused.rule.as_str().into());
                }
                (failure_status(kind), detail)
            }
            // Storage failures and anything newer than this mapping: the client did
            // nothing wrong, so say so, and log it for the operator.
            _ => {
                tracing::error!(error = %message, kind, "engine error answered with 500");
                (StatusCode::INTERNAL_SERVER_ERROR, Value::Null)
            }
        };
        // A refused, overloaded or broken I/O call is not the composition's
        // failure: name its own kind, as the status does.
        let kind = match &error {
            EngineError::Failure {
                kind: shard_kind, ..
            } if status != StatusCode::UNPROCESSABLE_ENTITY => shard_kind,
            _ => kind,
        };
        ApiError {
            status,
            kind: kind.to_owned(),
            message,
            detail,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({
            "error": { "kind": self.kind, "message": self.message, "detail": self.detail }
        });
        let mut response = (
            self.status,
            [(
                axum::http::header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            format!("{body}\n"),
        )
            .into_response();
        let headers = response.headers_mut();
        match self.status {
            StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE => {
                headers.insert(RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECS));
            }
            StatusCode::UNAUTHORIZED => {
                headers.insert(WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            _ => {}
        }
        response
    }
}
