//! `/v1/functions`: register (PUT), list and inspect (GET), delete (DELETE).

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{RawQuery, State};
use axum::http::header::LOCATION;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use serde_json::{json, Value};

use super::{admit_registration, blocking, json, read_body, BodyKind, Name};
use crate::auth::TenantName;
use crate::errors::ApiError;
use crate::AppState;
use pappus_engine::{Limits, WasiSettings};

const MIB: u64 = 1024 * 1024;

/// Limits given as query parameters of `PUT /v1/functions/{name}`; each missing
/// one takes the daemon's default (`--function-memory-mib` and friends).
#[derive(Debug, Default)]
pub(super) struct LimitParams {
    memory_mib: Option<u64>,
    timeout_ms: Option<u64>,
    max_output_mib: Option<u64>,
}

/// The query parameters of `PUT /v1/functions/{name}`: limits, and a WASI
/// function's arguments (`arg`, repeatable, after `argv[0]`) and environment
/// (`env=NAME=VALUE`, repeatable). Parsed by hand over `form_urlencoded` pairs
/// because the limits' deserializer cannot take repeated keys.
#[derive(Debug, Default)]
pub(super) struct RegisterParams {
    limits: LimitParams,
    args: Vec<String>,
    env: Vec<(String, String)>,
}

impl RegisterParams {
    fn parse(query: Option<&str>) -> Result<RegisterParams, ApiError> {
        let mut params = RegisterParams::default();
        let bad = |message: String| ApiError::bad_request("invalid_query", message);
        for (key, value) in form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
            let number = || {
                value
                    .parse::<u64>()
                    .map_err(|_| bad(format!("{key} = {value:?} is not a whole number")))
            };
            let slot = match &*key {
                "memory_mib" => &mut params.limits.memory_mib,
                "timeout_ms" => &mut params.limits.timeout_ms,
                "max_output_mib" => &mut params.limits.max_output_mib,
                "arg" => {
                    params.args.push(value.into_owned());
                    continue;
                }
                "env" => {
                    let Some((name, value)) = value.split_once('=') else {
                        return Err(bad(format!("env = {value:?} is not NAME=VALUE")));
                    };
                    params.env.push((name.to_owned(), value.to_owned()));
                    continue;
                }
                other => {
                    return Err(bad(format!(
                        "unknown parameter `{other}` (expected memory_mib, timeout_ms, max_output_mib, arg, env)"
                    )))
                }
            };
            if slot.replace(number()?).is_some() {
                return Err(bad(format!("{key} is given twice")));
            }
        }
        Ok(params)
    }

    /// The WASI settings: `argv[0]` is the function's name.
    fn settings(&self, name: &str) -> WasiSettings {
        let args = if self.args.is_empty() {
            Vec::new()
        } else {
            std::iter::once(name.to_owned())
                .chain(self.args.iter().cloned())
                .collect()
        };
        WasiSettings {
            args,
            env: self.env.clone(),
            ..WasiSettings::default()
        }
    }
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

/// A function's WASI settings as registered: `args` after `argv[0]`, `env` as
/// an object (registration order is kept by the engine, not by this view).
fn settings_json(settings: &WasiSettings) -> (Value, Value) {
    let args: Vec<&str> = settings.args.iter().skip(1).map(String::as_str).collect();
    let env: serde_json::Map<String, Value> = settings
        .env
        .iter()
        .map(|(name, value)| (name.clone(), Value::from(value.as_str())))
        .collect();
    (json!(args), Value::Object(env))
}

fn static_json(sets: &[pappus_engine::StaticSetInfo]) -> Value {
    sets.iter()
        .map(|s| json!({ "name": s.name, "items": s.items, "bytes": s.bytes }))
        .collect()
}

fn info_json(info: &pappus_engine::FunctionInfo) -> Value {
    let (args, env) = settings_json(&info.settings);
    json!({
        "name": info.name,
        "limits": limits_json(&info.limits),
        "module_bytes": info.module_bytes,
        "args": args,
        "env": env,
        "static": static_json(&info.static_sets),
    })
}

/// `PUT /v1/functions/{name}`: validates and compiles the module (wasm or wat),
/// persists it, and answers `201` once it is durable. Registering an existing name
/// replaces it.
pub(super) async fn put(
    State(state): State<Arc<AppState>>,
    tenant: TenantName,
    Name(name): Name,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let params = RegisterParams::parse(raw.as_deref())?;
    let limits = params.limits.resolve(&state)?;
    let settings = params.settings(&name);
    let _admitted = admit_registration(&state, &headers, BodyKind::Module).await?;
    let body = read_body(&headers, body, &state.bodies, BodyKind::Module).await?;
    // A bundle carries the module and its static sets; any other body is the
    // module alone.
    let is_bundle = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case(crate::bundle::CONTENT_TYPE));
    let (module, statics) = if is_bundle {
        crate::bundle::decode(body).map_err(|e| ApiError::bad_request("bad_body", e))?
    } else {
        (body, Vec::new())
    };
    let module_bytes = module.len();
    let engine = state.engine.clone();
    let (t, n, s) = (tenant.0.clone(), name.clone(), settings.clone());
    let info = blocking(move || {
        let tenant = engine.tenant(&t);
        tenant.register_function_static(&n, &module, limits, s, statics)?;
        Ok(tenant.get_function(&n))
    })
    .await?;
    let static_sets = info.map(|i| i.static_sets).unwrap_or_default();
    tracing::info!(tenant = %tenant.0, function = %name, module_bytes, static_sets = static_sets.len(), "function registered");
    let (args, env) = settings_json(&settings);
    let mut response = json(
        StatusCode::CREATED,
        &json!({
            "name": name,
            "limits": limits_json(&limits),
            "module_bytes": module_bytes,
            "args": args,
            "env": env,
            "static": static_json(&static_sets),
        }),
    );
    if let Ok(location) = HeaderValue::from_str(&format!("/v1/functions/{name}")) {
        response.headers_mut().insert(LOCATION, location);
    }
    Ok(response)
}

/// `GET /v1/functions`: the tenant's functions, sorted by name.
pub(super) async fn list(State(state): State<Arc<AppState>>, tenant: TenantName) -> Response {
    let mut functions = state.engine.tenant(&tenant.0).list_functions();
    functions.sort_by(|a, b| a.name.cmp(&b.name));
    let list: Vec<Value> = functions.iter().map(info_json).collect();
    json(StatusCode::OK, &json!({ "functions": list }))
}

/// `GET /v1/functions/{name}`: one function's limits and module size.
pub(super) async fn get(
    State(state): State<Arc<AppState>>,
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
    State(state): State<Arc<AppState>>,
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
    State(state): State<Arc<AppState>>,
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
