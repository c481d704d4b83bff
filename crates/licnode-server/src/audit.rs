//! The audit log over HTTP, for auditors and administrators: the entries after a cursor
//! (`GET /api/v1/audit`), a verification of the whole chain, of the change log against it and of
//! the chain at the last anchor this node signed (`GET /api/v1/audit/verify`), and the audit
//! anchors this node holds of itself and of the nodes below it (`GET /api/v1/audit/anchors`)
//! (Art. 37, 38; ARCHITECTURE.md, principles 9 and 10).

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::{Extension, Json};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::Staff;
use crate::routes::{Operation, Routes};
use crate::{ApiError, AppState};

/// Default and largest page sizes.
const DEFAULT_LIMIT: i64 = 100;
const MAX_LIMIT: i64 = 1_000;

/// The audit routes, each with its description (auditors and administrators only).
pub(crate) fn routes() -> Routes<AppState> {
    let readers_only = "only auditors and administrators read the audit log";
    Routes::new()
        .get(
            "/audit",
            entries,
            Operation::new("The audit log after an entry number: every write, login, export, refused sync change or certificate, destruction, backup and restore, hash-chained (Art. 37, 38)")
                .parameters(json!([
                    { "name": "after", "in": "query", "schema": { "type": "integer", "minimum": 0 } },
                    { "name": "limit", "in": "query", "schema": { "type": "integer", "minimum": 1, "maximum": MAX_LIMIT } }
                ]))
                .answers(200, "entries in order, and `next` (the cursor of the next page, null at the end)")
                .refuses(400, &["bad_query"], "a malformed cursor or limit")
                .refuses(403, &["forbidden_role"], readers_only),
        )
        .get(
            "/audit/verify",
            verify,
            Operation::new("Verify the whole audit chain: every altered, deleted or re-ordered entry, with its number; every change of the change log without its audit entry; the chain at the last anchor this node signed")
                .answers(200, "`intact`, the chain's report (entries, head, findings), `change_log`, `anchors` (points checked), `findings` (all of them), `not_checked`")
                .refuses(403, &["forbidden_role"], readers_only),
        )
        .get(
            "/audit/anchors",
            anchors,
            Operation::new("The newest signed audit anchor held of this node and of every node below it, and how many of each node's anchors did not extend the one before (its chain was rewritten)")
                .answers(200, "`nodes`: node, audit_seq, audit_hash, signed_at_ms, received_from, received_at_ms, extends, broken")
                .refuses(403, &["forbidden_role"], readers_only),
        )
}

/// The log is read by those who check the others: auditors and administrators.
pub(crate) fn require_audit_reader(staff: &Staff) -> Result<(), ApiError> {
    staff.require_oversight()
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
        return Err(ApiError::BadQuery {
            reason: "after must be an entry number, 0 or more".to_string(),
        });
    }
    let limit = paging.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::BadQuery {
            reason: format!("limit must be between 1 and {MAX_LIMIT}"),
        });
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
