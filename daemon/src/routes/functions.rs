//! `/v1/functions`: register (PUT), list and inspect (GET), delete (DELETE).

use std::time::Duration;

use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::header::LOCATION;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use serde::Deserialize;
use serde_json::{json, Value};

use super::{blocking, json, query, read_body, Name};
use crate::auth::TenantName;
use crate::errors::ApiError;
use crate::AppState;
use pappus_engine::Limits;

const MIB: u64 = 1024 * 1024;

/// Limits given as query parameters of `PUT /v1/functions/{name}`; each missing
/// one takes the daemon's default (`--function-memory-mib` and friends).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct LimitParams {
    memory_mib: Option<u64>,
    timeout_ms: Option<u64>,
    max_output_mib: Option<u64>,
}

impl LimitParams {
    fn resolve(&self, state: &AppState) -> Result<Limits, ApiError> {
        let defaults = state.default_limits;
        let mib = |value: Option<u64>, what: &str, default: u64| match value {
            None => Ok(default),
            Some(0) => Err(invalid_limit(format!("{what} must be at least 1"))),
            Some(v) => v
                .checked_mul(MIB)
                .ok_or_else(|| invalid_limit(format!("{what} = {v} is too large"))),
        };
        let memory_bytes = mib(self.memory_mib, "memory_mib", defaults.memory_bytes)?;
        if let Some(max) = state.max_memory_bytes {
            if memory_bytes > max {
                return Err(over_limit(
                    format!(
                        "memory_mib asks for {memory_bytes} bytes; this server allows at most {max} (max_memory_mib)"
                    ),
                    "max_memory_mib",
                    max / MIB,
                ));
            }
        }
        let timeout = match self.timeout_ms {
            None => defaults.timeout,
            Some(0) => return Err(invalid_limit("timeout_ms must be at least 1".into())),
            Some(ms) => Duration::from_millis(ms),
        };
        if timeout > state.max_timeout {
            let max = u64::try_from(state.max_timeout.as_millis()).unwrap_or(u64::MAX);
            return Err(over_limit(
                format!(
                    "timeout_ms asks for {} ms; this server allows at most {max} ms (max_timeout_ms)",
                    timeout.as_millis()
                ),
                "max_timeout_ms",
                max,
            ));
        }
        Ok(Limits {
            memory_bytes,
            timeout,
            max_output_bytes: mib(
                self.max_output_mib,
                "max_output_mib",
                defaults.max_output_bytes,
            )?,
        })
    }
}

fn invalid_limit(message: String) -> ApiError {
    ApiError::bad_request("invalid_limits", message)
}

/// A limit above the operator's cap: names the cap and its value.
fn over_limit(message: String, limit: &str, max: u64) -> ApiError {
    invalid_limit(message).with_detail(json!({ "limit": limit, "max": max }))
}

fn limits_json(limits: &Limits) -> Value {
    json!({
        "memory_bytes": limits.memory_bytes,
        "timeout_ms": u64::try_from(limits.timeout.as_millis()).unwrap_or(u64::MAX),
        "max_output_bytes": limits.max_output_bytes,
    })
}

fn info_json(info: &pappus_engine::FunctionInfo) -> Value {
    json!({
        "name": info.name,
        "limits": limits_json(&info.limits),
        "module_bytes": info.module_bytes,
    })
}

/// `PUT /v1/functions/{name}`: validates and compiles the module (wasm or wat),
/// persists it, and answers `201` once it is durable. Registering an existing name
/// replaces it.
pub(super) async fn put(
    State(state): State<AppState>,
    tenant: TenantName,
    Name(name): Name,
    params: Result<Query<LimitParams>, QueryRejection>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let limits = query(params)?.resolve(&state)?;
    let module = read_body(&headers, body, &state.bodies).await?;
    let module_bytes = module.len();
    let engine = state.engine.clone();
    let (t, n) = (tenant.0.clone(), name.clone());
    blocking(move || engine.tenant(&t).register_function(&n, &module, limits)).await?;
    tracing::info!(tenant = %tenant.0, function = %name, module_bytes, "function registered");
    let mut response = json(
        StatusCode::CREATED,
        &json!({
            "name": name,
            "limits": limits_json(&limits),
            "module_bytes": module_bytes,
        }),
    );
    if let Ok(location) = HeaderValue::from_str(&format!("/v1/functions/{name}")) {
        response.headers_mut().insert(LOCATION, location);
    }
    Ok(response)
}

/// `GET /v1/functions`: the tenant's functions, sorted by name.
pub(super) async fn list(State(state): State<AppState>, tenant: TenantName) -> Response {
    let mut functions = state.engine.tenant(&tenant.0).list_functions();
    functions.sort_by(|a, b| a.name.cmp(&b.name));
    let list: Vec<Value> = functions.iter().map(info_json).collect();
    json(StatusCode::OK, &json!({ "functions": list }))
}

/// `GET /v1/functions/{name}`: one function's limits and module size.
pub(super) async fn get(
    State(state): State<AppState>,
    tenant: TenantName,
    Name(name): Name,
) -> Result<Response, ApiError> {
    match state.engine.tenant(&tenant.0).get_function(&name) {
        Some(info) => Ok(json(StatusCode::OK, &info_json(&info))),
        None => Err(pappus_engine::Error::UnknownFunction { name }.into()),
    }
}

/// `DELETE /v1/functions/{name}`: `204`; `409` while a composition uses it.
pub(super) async fn delete(
    State(state): State<AppState>,
    tenant: TenantName,
    Name(name): Name,
) -> Result<StatusCode, ApiError> {
    let engine = state.engine.clone();
    let (t, n) = (tenant.0.clone(), name.clone());
    blocking(move || engine.tenant(&t).delete_function(&n)).await?;
    tracing::info!(tenant = %tenant.0, function = %name, "function deleted");
    Ok(StatusCode::NO_CONTENT)
}

/// `DELETE /v1/functions`: deletes every function no composition uses; `200`
/// listing them, or `409` (with what was and was not deleted) if some are in use.
pub(super) async fn delete_all(
    State(state): State<AppState>,
    tenant: TenantName,
) -> Result<Response, ApiError> {
    let engine = state.engine.clone();
    let t = tenant.0.clone();
    let (deleted, kept) = blocking(move || {
        let tenant = engine.tenant(&t);
        let mut deleted = Vec::new();
        let mut kept = Vec::new();
        for info in tenant.list_functions() {
            match tenant.delete_function(&info.name) {
                Ok(()) => deleted.push(info.name),
                Err(pappus_engine::Error::Conflict { reason }) => kept.push((info.name, reason)),
                // Deleted concurrently by another request: nothing left to do.
                Err(pappus_engine::Error::UnknownFunction { .. }) => {}
                Err(other) => return Err(other),
            }
        }
        Ok((deleted, kept))
    })
    .await?;
    tracing::info!(tenant = %tenant.0, deleted = deleted.len(), kept = kept.len(), "functions deleted");
    super::compositions::bulk_delete_answer(deleted, kept, "functions")
}
