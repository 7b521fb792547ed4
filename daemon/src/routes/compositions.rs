//! `/v1/compositions`: register (PUT, a composition-language file), list and
//! inspect (GET), delete (DELETE).

use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{json, Value};

use super::{admit_registration, blocking, json, read_body, BodyKind, Name};
use crate::auth::TenantName;
use crate::errors::ApiError;
use crate::AppState;

/// `PUT /v1/compositions`: checks the file against the tenant's functions and
/// compositions and registers every composition in it; `201` with their names and
/// `warnings` (declarations that could not be checked against their module), or
/// `400` with every diagnostic (line, column, message) or the declaration whose
/// set names differ from its module's (`signature_mismatch`).
pub(super) async fn put(
    State(state): State<Arc<AppState>>,
    tenant: TenantName,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let _admitted = admit_registration(&state, &headers, BodyKind::Request).await?;
    let bytes = read_body(&headers, body, &state.bodies, BodyKind::Request).await?;
    let source = String::from_utf8(bytes.to_vec()).map_err(|e| {
        ApiError::bad_request(
            "invalid_input",
            format!(
                "composition text is not UTF-8 (byte {})",
                e.utf8_error().valid_up_to()
            ),
        )
    })?;
    let engine = state.engine.clone();
    let t = tenant.0.clone();
    let registration = blocking(move || {
        engine
            .tenant(&t)
            .register_compositions_with_warnings(&source)
    })
    .await?;
    tracing::info!(tenant = %tenant.0, compositions = ?registration.compositions, warnings = ?registration.warnings, "compositions registered");
    Ok(json(
        StatusCode::CREATED,
        &json!({ "compositions": registration.compositions, "warnings": registration.warnings }),
    ))
}

/// `GET /v1/compositions`: the tenant's compositions with their signatures.
pub(super) async fn list(State(state): State<Arc<AppState>>, tenant: TenantName) -> Response {
    let mut compositions = state.engine.tenant(&tenant.0).list_compositions();
    compositions.sort_by(|a, b| a.name.cmp(&b.name));
    let list: Vec<Value> = compositions
        .iter()
        .map(|c| json!({ "name": c.name, "inputs": c.inputs, "outputs": c.outputs }))
        .collect();
    json(StatusCode::OK, &json!({ "compositions": list }))
}

/// `GET /v1/compositions/{name}`: signature and source text.
pub(super) async fn get(
    State(state): State<Arc<AppState>>,
    tenant: TenantName,
    Name(name): Name,
) -> Result<Response, ApiError> {
    match state.engine.tenant(&tenant.0).get_composition(&name) {
        Some(c) => Ok(json(
            StatusCode::OK,
            &json!({
                "name": c.name,
                "inputs": c.inputs,
                "outputs": c.outputs,
                "source": c.source,
            }),
        )),
        None => Err(pappus_engine::Error::UnknownComposition { name }.into()),
    }
}

/// `DELETE /v1/compositions/{name}`: `204`; `409` while another composition uses it.
pub(super) async fn delete(
    State(state): State<Arc<AppState>>,
    tenant: TenantName,
    Name(name): Name,
) -> Result<StatusCode, ApiError> {
    let engine = state.engine.clone();
    let (t, n) = (tenant.0.clone(), name.clone());
    blocking(move || engine.tenant(&t).delete_composition(&n)).await?;
    tracing::info!(tenant = %tenant.0, composition = %name, "composition deleted");
    Ok(StatusCode::NO_CONTENT)
}

/// `DELETE /v1/compositions`: deletes all of the tenant's compositions, users
/// before the compositions they call; `200` listing them (`409` if any remain).
pub(super) async fn delete_all(
    State(state): State<Arc<AppState>>,
    tenant: TenantName,
) -> Result<Response, ApiError> {
    let engine = state.engine.clone();
    let t = tenant.0.clone();
    let (deleted, kept) = blocking(move || {
        let tenant = engine.tenant(&t);
        let mut deleted = Vec::new();
        let mut pending: Vec<String> = tenant
            .list_compositions()
            .into_iter()
            .map(|c| c.name)
            .collect();
        // A composition used by another one can only go after its user; repeat
        // until a round deletes nothing (any remaining conflict is a real one).
        loop {
            let mut kept = Vec::new();
            let before = pending.len();
            for name in pending {
                match tenant.delete_composition(&name) {
                    Ok(()) => deleted.push(name),
                    Err(pappus_engine::Error::Conflict { reason }) => kept.push((name, reason)),
                    Err(pappus_engine::Error::UnknownComposition { .. }) => {}
                    Err(other) => return Err(other),
                }
            }
            if kept.is_empty() || kept.len() == before {
                return Ok((deleted, kept));
            }
            pending = kept.into_iter().map(|(name, _)| name).collect();
        }
    })
    .await?;
    tracing::info!(tenant = %tenant.0, deleted = deleted.len(), kept = kept.len(), "compositions deleted");
    bulk_delete_answer(deleted, kept, "compositions")
}

/// `200 {"deleted": [...]}`, or `409` naming what could not be deleted and why.
pub(super) fn bulk_delete_answer(
    deleted: Vec<String>,
    kept: Vec<(String, String)>,
    what: &str,
) -> Result<Response, ApiError> {
    if kept.is_empty() {
        return Ok(json(StatusCode::OK, &json!({ "deleted": deleted })));
    }
    let kept: Vec<Value> = kept
        .into_iter()
        .map(|(name, reason)| json!({ "name": name, "reason": reason }))
        .collect();
    Err(ApiError::new(
        StatusCode::CONFLICT,
        "conflict",
        format!(
            "{} {what} are still in use and were not deleted",
            kept.len()
        ),
    )
    .with_detail(json!({ "deleted": deleted, "kept": kept })))
}
