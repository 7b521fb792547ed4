//! `POST /v1/compositions/{name}/invoke`: run a composition.
//!
//! Two body forms: JSON in the engine's set schema (the default; the answer is the
//! outputs in the same schema, exactly what `pappus run` prints), or a raw body
//! with `?set=NAME` (optionally `&name=ITEM&key=N`), which becomes that set's only
//! item; a raw call whose outputs hold exactly one item gets that item's bytes back
//! as `application/octet-stream` (unless it asked for `Accept: application/json`).

use std::time::{Duration, Instant, SystemTime};

use axum::body::{Body, Bytes};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::header::{ACCEPT, CONTENT_TYPE};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::{query, read_body, Name};
use crate::auth::TenantName;
use crate::errors::ApiError;
use crate::AppState;
use pappus_engine::{Invocation, Item, Sets};

/// Header naming the output set of a raw answer's item.
const SET_HEADER: HeaderName = HeaderName::from_static("x-pappus-set");
/// Header carrying a raw answer's item name (when it is a valid header value).
const ITEM_NAME_HEADER: HeaderName = HeaderName::from_static("x-pappus-item-name");
/// Header carrying a raw answer's item key.
const ITEM_KEY_HEADER: HeaderName = HeaderName::from_static("x-pappus-item-key");

/// Query parameters of an invocation; all three only with a raw body.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct InvokeParams {
    /// The input set the raw body becomes an item of.
    set: Option<String>,
    /// The raw item's name [default: ""].
    name: Option<String>,
    /// The raw item's key [default: 0].
    key: Option<u64>,
}

fn media_type(headers: &HeaderMap, name: HeaderName) -> String {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase()
}

/// Turns the body into the composition's input sets.
fn inputs(params: InvokeParams, headers: &HeaderMap, body: Bytes) -> Result<Sets, ApiError> {
    let content_type = media_type(headers, CONTENT_TYPE);
    match params.set {
        Some(set) => {
            if content_type.starts_with("application/json") {
                return Err(ApiError::bad_request(
                    "invalid_input",
                    "?set= takes a raw body; send JSON inputs without ?set=",
                ));
            }
            let item = Item::new(
                params.name.unwrap_or_default(),
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
    State(state): State<AppState>,
    tenant: TenantName,
    Name(composition): Name,
    params: Result<Query<InvokeParams>, QueryRejection>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let params = query(params)?;
    let raw = params.set.is_some();
    // Admission before the body: an unknown composition is refused without
    // reading (or buffering) what the client sends.
    if state
        .engine
        .tenant(&tenant.0)
        .get_composition(&composition)
        .is_none()
    {
        return Err(pappus_engine::Error::UnknownComposition { name: composition }.into());
    }
    let body = read_body(&headers, body, &state.bodies).await?;
    let inputs = inputs(params, &headers, body)?;

    let started_at = SystemTime::now();
    let started = Instant::now();
    let result = state
        .engine
        .tenant(&tenant.0)
        .invoke_async(&composition, inputs)
        .await;
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
                "invocation"
            );
            state
                .metrics
                .record(&tenant.0, &composition, "ok", elapsed, Some(t));
            state
                .invocation_log
                .record_ok(&tenant.0, &composition, started_at, t);
            let wants_json = media_type(&headers, ACCEPT).contains("application/json");
            Ok(answer(invocation, raw && !wants_json))
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
            tracing::info!(
                tenant = %tenant.0,
                composition = %composition,
                outcome = kind,
                total_us = micros(elapsed),
                error = %error,
                "invocation"
            );
            state.metrics.record(&tenant.0, label, kind, elapsed, None);
            state
                .invocation_log
                .record_error(&tenant.0, &composition, started_at, elapsed, &error);
            Err(error.into())
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
