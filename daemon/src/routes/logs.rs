//! `GET /v1/logs`: the calling tenant's last invocations, oldest first (see
//! [`crate::invocation_log`]); `?composition=NAME` keeps one composition's,
//! `?limit=N` the last N.

use std::sync::Arc;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use serde_json::json;

use super::{json, query};
use crate::auth::TenantName;
use crate::errors::ApiError;
use crate::AppState;

/// Query parameters of `GET /v1/logs`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct LogParams {
    composition: Option<String>,
    limit: Option<usize>,
}

/// `GET /v1/logs`: `{"invocations": [...]}`.
pub(super) async fn list(
    State(state): State<Arc<AppState>>,
    tenant: TenantName,
    params: Result<Query<LogParams>, QueryRejection>,
) -> Result<Response, ApiError> {
    let params = query(params)?;
    let entries = state
        .invocation_log
        .list(&tenant.0, params.composition.as_deref(), params.limit);
    Ok(json(StatusCode::OK, &json!({ "invocations": entries })))
}
