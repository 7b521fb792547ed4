//! `POST /v1/compositions/{name}/invoke`: run a composition.
//!
//! Two body forms: JSON in the engine's set schema (the default; the answer is the
//! outputs in the same schema, exactly what `pappus run` prints), or a raw body
//! with `?set=NAME` (optionally `&name=ITEM&key=N`), which becomes that set's only
//! item; a raw call whose outputs hold exactly one item gets that item's bytes back
//! as `application/octet-stream` (unless it asked for `Accept: application/json`).
//!
//! `?seed=N&time=SECONDS` fix the seed and time WASI functions see (replay);
//! every answer that ran the composition, failed or not, reports them in the
//! `Pappus-Seed` and `Pappus-Time` headers and in the invocation's log line.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use axum::body::{Body, Bytes};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::header::{ACCEPT, CONTENT_TYPE};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::{query, read_body, BodyKind, Name};
use crate::auth::TenantName;
use crate::errors::ApiError;
use crate::AppState;
use pappus_engine::{Invocation, Item, Sets, WasiContext};

/// Header naming the output set of a raw answer's item.
const SET_HEADER: HeaderName = HeaderName::from_static("x-pappus-set");
/// Header carrying a raw answer's item name (when it is a valid header value).
const ITEM_NAME_HEADER: HeaderName = HeaderName::from_static("x-pappus-item-name");
/// Header carrying a raw answer's item key.
const ITEM_KEY_HEADER: HeaderName = HeaderName::from_static("x-pappus-item-key");
/// Header carrying the seed of the invocation's WASI random streams.
const SEED_HEADER: HeaderName = HeaderName::from_static("pappus-seed");
/// Header carrying the time WASI functions saw, whole seconds since the epoch.
const TIME_HEADER: HeaderName = HeaderName::from_static("pappus-time");

/// Query parameters of an invocation; `set`, `name` and `key` only with a raw
/// body.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct InvokeParams {
    /// The input set the raw body becomes an item of.
    set: Option<String>,
    /// The raw item's name [default: ""].
    name: Option<String>,
    /// The raw item's key [default: 0].
    key: Option<u64>,
    /// The seed WASI functions see [default: fresh].
    seed: Option<u64>,
    /// The time WASI functions see, whole seconds since the epoch [default: now].
    time: Option<u64>,
}

impl InvokeParams {
    /// The seed and time of this invocation: those asked for, else fresh ones.
    fn wasi(&self) -> WasiContext {
        let fresh = WasiContext::fresh();
        WasiContext::new(
            self.seed.unwrap_or(fresh.seed),
            self.time.unwrap_or(fresh.time_secs),
        )
    }
}

/// Adds the `Pappus-Seed` and `Pappus-Time` headers to an answer.
fn report(mut response: Response, wasi: WasiContext) -> Response {
    let headers = response.headers_mut();
    headers.insert(SEED_HEADER, HeaderValue::from(wasi.seed));
    headers.insert(TIME_HEADER, HeaderValue::from(wasi.time_secs));
    response
}

fn media_type(headers: &HeaderMap, name: HeaderName) -> String {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase()
}

/// Turns the body into the composition's input sets.
fn inputs(params: &InvokeParams, headers: &HeaderMap, body: Bytes) -> Result<Sets, ApiError> {
    let content_type = media_type(headers, CONTENT_TYPE);
    match params.set.clone() {
        Some(set) => {
            if content_type.starts_with("application/json") {
                return Err(ApiError::bad_request(
                    "invalid_input",
                    "?set= takes a raw body; send JSON inputs without ?set=",
                ));
            }
            let item = Item::new(
                params.name.clone().unwrap_or_default(),
                params.key.unwrap_or(0),
                body,
            );
            Ok(Sets::from([(set, vec![item])]))
        }
        None => {
            if content_type.starts_with("application/octet-stream") {
                return Err(ApiError::bad_request(
                    "invalid_input",
                    "a raw body needs ?set=NAME naming the input set it belongs to",
                ));
            }
            if params.name.is_some() || params.key.is_some() {
                return Err(ApiError::bad_request(
                    "invalid_input",
                    "?name= and ?key= describe a raw item and need ?set=NAME",
                ));
            }
            pappus_engine::json::parse_sets(&body).map_err(ApiError::from)
        }
    }
}

/// Runs the composition for the caller's tenant and answers with its outputs.
pub(super) async fn invoke(
    State(state): State<Arc<AppState>>,
    tenant: TenantName,
    Name(composition): Name,
    params: Result<Query<InvokeParams>, QueryRejection>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let params = query(params)?;
    let raw = params.set.is_some();
    let started_at = SystemTime::now();
    let started = Instant::now();
    // Admission before the body: an unknown composition, or a full engine, is
    // refused without reading (or buffering) what the client sends. The
    // admitted invocation holds its execution slot (or queue place) while the
    // body is read (a declared length over the maximum is refused first, on
    // its header), and gives it back if reading fails.
    let result = match state.engine.tenant(&tenant.0).admit(&composition) {
        Err(error @ pappus_engine::Error::UnknownComposition { .. }) => {
            // Still one entry of the tenant's log, as every refused invocation
            // is; no metrics series for a name the client chose.
            state.invocation_log.record_error(
                &tenant.0,
                &composition,
                started_at,
                started.elapsed(),
                &error,
            );
            return Err(error.into());
        }
        Err(error) => Err(error),
        Ok(admitted) => {
            let body = read_body(&headers, body, &state.bodies, BodyKind::Request).await?;
            let inputs = inputs(&params, &headers, body)?;
            admitted.invoke_async_with(inputs, params.wasi()).await
        }
    };
    let elapsed = started.elapsed();

    match result {
        Ok(invocation) => {
            let t = &invocation.timings;
            tracing::info!(
                tenant = %tenant.0,
                composition = %composition,
                outcome = "ok",
                queued_us = micros(t.queued),
                fetching_us = micros(t.fetching),
                sandbox_us = micros(t.sandbox),
                compute_us = micros(t.compute),
                storing_us = micros(t.storing),
                total_us = micros(t.total),
                seed = invocation.wasi.seed,
                time = invocation.wasi.time_secs,
                "invocation"
            );
            state
                .metrics
                .record(&tenant.0, &composition, "ok", elapsed, Some(t));
            state
                .invocation_log
                .record_ok(&tenant.0, &composition, started_at, t);
            let wants_json = media_type(&headers, ACCEPT).contains("application/json");
            let reported = invocation.wasi;
            Ok(report(answer(invocation, raw && !wants_json), reported))
        }
        Err(error) => {
            // A shard's own kind for refused, overloaded or broken I/O calls
            // (`forbidden` is counted per tenant).
            let kind = match &error {
                pappus_engine::Error::Failure { kind, .. }
                    if matches!(*kind, "forbidden" | "overloaded" | "internal") =>
                {
                    kind
                }
                _ => error.kind(),
            };
            // Unknown names are not recorded under their own label: a client could
            // otherwise grow the metrics without bound by inventing names.
            let label = match error {
                pappus_engine::Error::UnknownComposition { .. } => "",
                _ => composition.as_str(),
            };
            // Only an invocation that ran has a seed and time to report.
            let ran = error.wasi();
            tracing::info!(
                tenant = %tenant.0,
                composition = %composition,
                outcome = kind,
                total_us = micros(elapsed),
                seed = ran.map(|w| w.seed),
                time = ran.map(|w| w.time_secs),
                error = %error,
                "invocation"
            );
            state.metrics.record(&tenant.0, label, kind, elapsed, None);
            state
                .invocation_log
                .record_error(&tenant.0, &composition, started_at, elapsed, &error);
            let response = ApiError::from(error).into_response();
            Ok(match ran {
                Some(wasi) => report(response, wasi),
                None => response,
            })
        }
    }
}

/// Whole microseconds, as an integer log field (u128 would be logged as text).
fn micros(duration: Duration) -> u64 {
    u64::try_from(duration.as_micros()).unwrap_or(u64::MAX)
}

/// The outputs as JSON, or, for a raw call with exactly one output item, its bytes.
fn answer(invocation: Invocation, raw: bool) -> Response {
    if raw {
        let mut items = invocation
            .outputs
            .iter()
            .flat_map(|(set, items)| items.iter().map(move |item| (set, item)));
        if let (Some((set, item)), None) = (items.next(), items.next()) {
            let mut response = (
                StatusCode::OK,
                [(
                    CONTENT_TYPE,
                    HeaderValue::from_static("application/octet-stream"),
                )],
                item.data.clone(),
            )
                .into_response();
            let headers = response.headers_mut();
            if let Ok(value) = HeaderValue::from_str(set) {
                headers.insert(SET_HEADER, value);
            }
            if let Ok(value) = HeaderValue::from_str(&item.name) {
                headers.insert(ITEM_NAME_HEADER, value);
            }
            headers.insert(ITEM_KEY_HEADER, HeaderValue::from(item.key));
            return response;
        }
    }
    // Byte for byte what `pappus run` prints.
    let text = pappus_engine::json::render_sets(&invocation.outputs);
    (
        StatusCode::OK,
        [(CONTENT_TYPE, HeaderValue::from_static("application/json"))],
        text,
    )
        .into_response()
}
