//! The audit log over HTTP, for auditors and administrators: the entries after a cursor
//! (`GET /api/v1/audit`), a verification of the whole chain, of the change log against it and of
//! the chain at the last anchor this node signed (`GET /api/v1/audit/verify`), and the audit
//! anchors this node holds of itself and of the nodes below it (`GET /api/v1/audit/anchors`)
//! (Art. 37, 38; DESIGN principles 9 and 10).

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Extension, Json, Router};
use licnode_store::Role;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::Staff;
use crate::{ApiError, AppState};

/// Default and largest page sizes.
const DEFAULT_LIMIT: i64 = 100;
const MAX_LIMIT: i64 = 1_000;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/audit", get(entries))
        .route("/audit/verify", get(verify))
        .route("/audit/anchors", get(anchors))
}

/// The log is read by those who check the others: auditors and administrators.
fn require_audit_reader(staff: &Staff) -> Result<(), ApiError> {
    if matches!(staff.user.role, Role::Auditor | Role::Administrator) {
        return Ok(());
    }
    Err(ApiError::new(
        StatusCode::FORBIDDEN,
        "forbidden_role",
        format!(
            "only an auditor or an administrator reads the audit log, not a {}",
            staff.user.role.as_str()
        ),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Paging {
    /// Entries after this number (0: from the start).
    #[serde(default)]
    after: i64,
    #[serde(default)]
    limit: Option<i64>,
}

async fn entries(
    State(state): State<AppState>,
    Extension(staff): Extension<Staff>,
    paging: Result<Query<Paging>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    require_audit_reader(&staff)?;
    let Query(paging) = paging?;
    if paging.after < 0 {
        return Err(ApiError::bad_request(
            "bad_query",
            "after must be an entry number, 0 or more",
        ));
    }
    let limit = paging.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::bad_request(
            "bad_query",
            format!("limit must be between 1 and {MAX_LIMIT}"),
        ));
    }
    let rows = state.archive.audit_entries(paging.after, limit).await?;
    // A full page may have more behind it; a short one is the end of the log for now.
    let next = (rows.len() as i64 == limit)
        .then(|| rows.last().map(|row| row.seq))
        .flatten();
    Ok(Json(json!({ "entries": rows, "next": next })))
}

async fn verify(
    State(state): State<AppState>,
    Extension(staff): Extension<Staff>,
) -> Result<Json<Value>, ApiError> {
    require_audit_reader(&staff)?;
    let check = state.archive.audit_check(&state.node.code).await?;
    Ok(Json(json!({
        "intact": check.is_clean(),
        "report": check.chain,
        "change_log": check.change_log,
        "findings": check.findings(),
        "anchors": check.points,
        "not_checked": check.not_checked,
    })))
}

/// The newest anchor held of every node (this one and those below it), with how many of each
/// node's anchors did not extend the one before: a node listed with `broken` above 0 had its
/// audit chain rewritten after it was anchored (issue 11 item 5).
async fn anchors(
    State(state): State<AppState>,
    Extension(staff): Extension<Staff>,
) -> Result<Json<Value>, ApiError> {
    require_audit_reader(&staff)?;
    let held = state.archive.replication_store().anchors_by_node().await?;
    let nodes: Vec<Value> = held
        .into_iter()
        .map(|(anchor, broken)| {
            json!({
                "node": anchor.node,
                "audit_seq": anchor.audit_seq,
                "audit_hash": anchor.audit_hash,
                "signed_at_ms": anchor.signed_at_ms,
                "received_from": anchor.received_from,
                "received_at_ms": anchor.received_at_ms,
                "extends": anchor.extends,
                "broken": broken,
            })
        })
        .collect();
    Ok(Json(json!({ "nodes": nodes })))
}

/// The audit routes in the OpenAPI document.
pub(crate) fn openapi_paths() -> Vec<(String, Value)> {
    let forbidden = json!({ "description": "forbidden_role: only auditors and administrators" });
    vec![
        (
            "/api/v1/audit".into(),
            json!({ "get": {
                "summary": "The audit log after an entry number: every write, login, export, refused sync change or certificate, destruction, backup and restore, hash-chained (Art. 37, 38)",
                "parameters": [
                    { "name": "after", "in": "query", "schema": { "type": "integer", "minimum": 0 } },
                    { "name": "limit", "in": "query", "schema": { "type": "integer", "minimum": 1, "maximum": MAX_LIMIT } }
                ],
                "responses": {
                    "200": { "description": "entries in order, and `next` (the cursor of the next page, null at the end)" },
                    "400": { "description": "bad_query" },
                    "403": forbidden
                } } }),
        ),
        (
            "/api/v1/audit/verify".into(),
            json!({ "get": {
                "summary": "Verify the whole audit chain: every altered, deleted or re-ordered entry, with its number; every change of the change log without its audit entry; the chain at the last anchor this node signed",
                "responses": {
                    "200": { "description": "`intact`, the chain's report (entries, head, findings), `change_log`, `anchors` (points checked), `findings` (all of them), `not_checked`" },
                    "403": forbidden
                } } }),
        ),
        (
            "/api/v1/audit/anchors".into(),
            json!({ "get": {
                "summary": "The newest signed audit anchor held of this node and of every node below it, and how many of each node's anchors did not extend the one before (its chain was rewritten)",
                "responses": {
                    "200": { "description": "`nodes`: node, audit_seq, audit_hash, signed_at_ms, received_from, received_at_ms, extends, broken" },
                    "403": forbidden
                } } }),
        ),
    ]
}
