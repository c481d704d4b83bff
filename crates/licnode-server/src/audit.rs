//! The audit log over HTTP, for auditors and administrators: the entries after a cursor
//! (`GET /api/v1/audit`), a verification of the whole chain, of the change log against it and of
//! the chain at the last anchor this node signed (`GET /api/v1/audit/verify`), the entries
//! newest first with filters (`GET /api/v1/audit/search`, also the web application's audit
//! page), and the audit
//! anchors this node holds of itself and of the nodes below it (`GET /api/v1/audit/anchors`)
//! (Art. 37, 38; ARCHITECTURE.md, principles 9 and 10).

use crate::error::ErrorCode;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::{Extension, Json};
use licnode_store::administration::AuditSearch;
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
                .refuses(400, &[ErrorCode::BadQuery], "a malformed cursor or limit")
                .refuses(403, &[ErrorCode::ForbiddenRole], readers_only),
        )
        .get(
            "/audit/search",
            search,
            Operation::new("The audit log newest first, filtered by kind, user, record and China dates; each answer looks at a bounded window of entry numbers below `before`, and `next_before` continues further back")
                .parameters(json!([
                    { "name": "kind", "in": "query", "schema": { "type": "string" } },
                    { "name": "user", "in": "query", "schema": { "type": "string" } },
                    { "name": "record", "in": "query", "schema": { "type": "string" } },
                    { "name": "from", "in": "query", "schema": { "type": "string", "format": "date" }, "description": "a China date, included" },
                    { "name": "until", "in": "query", "schema": { "type": "string", "format": "date" }, "description": "a China date, included" },
                    { "name": "before", "in": "query", "schema": { "type": "integer", "minimum": 1 } },
                    { "name": "limit", "in": "query", "schema": { "type": "integer", "minimum": 1, "maximum": MAX_LIMIT } }
                ]))
                .answers(200, "`entries` newest first, `looked_from` and `looked_below` (the numbers looked at), `next_before` (null at the start of the log)")
                .refuses(400, &[ErrorCode::BadQuery], "a malformed date, cursor or limit, or an unknown parameter")
                .refuses(403, &[ErrorCode::ForbiddenRole], readers_only),
        )
        .get(
            "/audit/verify",
            verify,
            Operation::new("Verify the whole audit chain: every altered, deleted or re-ordered entry, with its number; every change of the change log without its audit entry; the chain at the last anchor this node signed")
                .answers(200, "`intact`, the chain's report (entries, head, findings), `change_log`, `anchors` (points checked), `findings` (all of them), `not_checked`")
                .refuses(403, &[ErrorCode::ForbiddenRole], readers_only),
        )
        .get(
            "/audit/anchors",
            anchors,
            Operation::new("The newest signed audit anchor held of this node and of every node below it, and how many of each node's anchors did not extend the one before (its chain was rewritten)")
                .answers(200, "`nodes`: node, audit_seq, audit_hash, signed_at_ms, received_from, received_at_ms, extends, broken")
                .refuses(403, &[ErrorCode::ForbiddenRole], readers_only),
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

/// The China date `text` (`2026-12-05`) as the millisecond its day starts.
fn china_day_start_ms(text: &str) -> Option<i64> {
    let date = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()?;
    Some(date.and_hms_opt(0, 0, 0)?.and_utc().timestamp_millis() - 8 * 3_600_000)
}

/// The audit search a query asks for (`kind`, `user`, `record`, `from`, `until`, `before`,
/// `limit`; empty values mean "any"), for every door that searches the log.
pub(crate) fn audit_search_of(
    params: &[(String, String)],
    default_limit: i64,
) -> Result<AuditSearch, ApiError> {
    let bad = |what: &str| ApiError::BadQuery {
        reason: format!("{what} is not valid"),
    };
    let mut search = AuditSearch {
        limit: default_limit,
        ..AuditSearch::default()
    };
    for (name, value) in params {
        let value = value.trim();
        if value.is_empty() {
            continue;
        }
        let day = || china_day_start_ms(value).ok_or_else(|| bad(name));
        let number = || value.parse::<i64>().ok().filter(|number| *number > 0);
        match name.as_str() {
            "kind" => search.kind = Some(licnode_store::AuditKind::from_stored(value)),
            "user" => search.user = Some(value.to_string()),
            "record" => search.record_id = Some(value.to_string()),
            "from" => search.from_ms = Some(day()?),
            // The last day named is included: entries before the next day's start.
            "until" => search.until_ms = Some(day()? + 86_400_000),
            "before" => search.before_seq = Some(number().ok_or_else(|| bad("before"))?),
            "limit" => {
                search.limit = number()
                    .filter(|limit| *limit <= MAX_LIMIT)
                    .ok_or_else(|| bad("limit"))?;
            }
            other => return Err(bad(other)),
        }
    }
    Ok(search)
}

async fn search(
    State(state): State<AppState>,
    Extension(staff): Extension<Staff>,
    params: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    require_audit_reader(&staff)?;
    let Query(params) = params?;
    let search = audit_search_of(&params, DEFAULT_LIMIT)?;
    let found = state.archive.audit_search(&search).await?;
    Ok(Json(json!({
        "entries": found.entries,
        "looked_from": found.looked_from,
        "looked_below": found.looked_below,
        "next_before": found.next_before_seq,
    })))
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
    let held = state.archive.anchors_by_node().await?;
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
