//! `GET /api/v1/deadlines`: the statutory limits this node is keeping or missing today (Art.
//! 18–20, 23, 27, 28, 30, 31), item by item and rolled up per province; and the late counts per
//! rule for `/metrics`.

use crate::error::ErrorCode;
use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use licnode_model::Level;
use licnode_model::deadlines::{DeadlineItem, DeadlineState, RULES, roll_up};
use licnode_store::DeadlineQuery;
use serde_json::{Value, json};

use crate::routes::{Operation, Routes};
use crate::{ApiError, AppState};

/// Default and largest number of items in an answer (the counts and the roll-up cover all).
const DEFAULT_LIMIT: usize = 500;
const MAX_LIMIT: usize = 5_000;

/// The deadlines route, with its description.
pub(crate) fn routes() -> Routes<AppState> {
    let rules: Vec<&str> = RULES.iter().map(|rule| rule.code).collect();
    Routes::new().get(
        "/deadlines",
        list,
        Operation::new("Statutory limits due and late today (Art. 18-20, 23, 27, 28, 30, 31), per item and rolled up per province")
            .parameters(json!([
                { "name": "state", "in": "query", "schema": { "type": "string", "enum": ["due", "late"] } },
                { "name": "rule", "in": "query", "schema": { "type": "string", "enum": rules } },
                { "name": "province", "in": "query", "schema": { "type": "string" }, "description": "a division code; its province's items" },
                { "name": "limit", "in": "query", "schema": { "type": "integer", "minimum": 1, "maximum": MAX_LIMIT } }
            ]))
            .answers(200, "today, due and late counts, the items (late first) and the per-province roll-up")
            .refuses(400, &[ErrorCode::BadQuery, ErrorCode::BadState, ErrorCode::UnknownRule, ErrorCode::BadProvince, ErrorCode::BadLimit, ErrorCode::UnknownFilter], "a malformed or unknown parameter"),
    )
}

fn node_level(state: &AppState) -> Result<Level, ApiError> {
    state.node.level.parse().map_err(|_| {
        tracing::error!(level = %state.node.level, "the node's level is not a level");
        ApiError::Internal
    })
}

/// The query of the node's duties as of its clock's today.
fn base_query(state: &AppState) -> Result<DeadlineQuery, ApiError> {
    Ok(DeadlineQuery::new(
        state.clock.today(),
        &state.node.code,
        node_level(state)?,
    ))
}

/// `GET /api/v1/deadlines?state=due|late&rule=<code>&province=<division code>&limit=<n>`.
async fn list(
    State(state): State<AppState>,
    params: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(params) = params?;
    let mut query = base_query(&state)?;
    let mut limit = DEFAULT_LIMIT;
    for (name, value) in &params {
        match name.as_str() {
            "state" => {
                query.state = Some(DeadlineState::parse(value).ok_or_else(|| ApiError::BadState)?);
            }
            "rule" => {
                query.rule = Some(licnode_model::deadlines::rule(value).ok_or_else(|| {
                    ApiError::UnknownRule {
                        rule: value.to_string(),
                        known: RULES
                            .iter()
                            .map(|rule| rule.code)
                            .collect::<Vec<_>>()
                            .join(", "),
                    }
                })?);
            }
            "province" => {
                let division = licnode_model::divisions::lookup(value).ok_or_else(|| {
                    ApiError::BadProvince {
                        value: value.to_string(),
                    }
                })?;
                // Any code narrows to its province (100000: the national centre's own duties).
                query.province = Some(licnode_model::deadlines::province_code(&division.code));
            }
            "limit" => {
                limit = value
                    .parse::<usize>()
                    .ok()
                    .filter(|limit| (1..=MAX_LIMIT).contains(limit))
                    .ok_or_else(|| ApiError::BadLimit {
                        reason: format!("limit must be a whole number from 1 to {MAX_LIMIT}"),
                    })?;
            }
            other => {
                return Err(ApiError::UnknownFilter {
                    reason: format!(
                        "unknown parameter {other:?}; use state, rule, province or limit"
                    ),
                });
            }
        }
    }
    let items = state.archive.deadlines(&query).await?;
    Ok(Json(answer(&query, items, limit)))
}

fn answer(query: &DeadlineQuery, items: Vec<DeadlineItem>, limit: usize) -> Value {
    let late = items
        .iter()
        .filter(|item| item.state == DeadlineState::Late)
        .count();
    let provinces = roll_up(&items);
    let total = items.len();
    let shown: Vec<DeadlineItem> = items.into_iter().take(limit).collect();
    json!({
        "today": query.today.to_string(),
        "node": query.node_code,
        "due": total - late,
        "late": late,
        "items": shown,
        "truncated": total > limit,
        "provinces": provinces,
    })
}

/// What a deadline evaluation depends on: the day, the audit log's position (every write and
/// destruction appends to it, so it moves whenever the records do) and the province asked for.
type BoardKey = (chrono::NaiveDate, i64, Option<String>);

/// The deadline board's last evaluation and what it was computed for.
pub(crate) type BoardCache =
    tokio::sync::Mutex<Option<(BoardKey, std::sync::Arc<Vec<DeadlineItem>>)>>;

/// The items `query` selects (its rule and state unset: the board narrows them itself), from
/// the last evaluation when neither the day, nor the records, nor the province changed since:
/// evaluating every rule reads the open items of several collections, and people look at the
/// board again and again between writes.
pub(crate) async fn board_items(
    state: &AppState,
    query: &DeadlineQuery,
) -> Result<std::sync::Arc<Vec<DeadlineItem>>, ApiError> {
    let (audit_seq, _) = state.archive.audit_head().await?;
    let key = (query.today, audit_seq, query.province.clone());
    let mut cache = state.deadline_board.lock().await;
    if let Some((cached_key, items)) = cache.as_ref()
        && *cached_key == key
        && query.rule.is_none()
        && query.state.is_none()
    {
        return Ok(items.clone());
    }
    let items = std::sync::Arc::new(state.archive.deadlines(query).await?);
    if query.rule.is_none() && query.state.is_none() {
        *cache = Some((key, items.clone()));
    }
    Ok(items)
}

/// The gauge as last rendered, and the (day, audit-log position) it holds for.
pub(crate) type GaugeCache = tokio::sync::Mutex<Option<((chrono::NaiveDate, i64), String)>>;

/// Late items per rule, in Prometheus text format (`licnode_deadlines_late{rule="…"}`), for
/// `/metrics`; empty when the store cannot answer (the scrape still succeeds).
///
/// Evaluating every rule reads whole collections (about a second at a few hundred thousand
/// records), while the answer depends only on the day and the records: it is computed again
/// only when the date or the audit log (every write and destruction) moved since the last scrape.
pub async fn metrics_text(state: &AppState) -> String {
    let Ok(mut query) = base_query(state) else {
        return String::new();
    };
    // Every write and every destruction appends to the audit log: its head moves whenever the
    // records do.
    let Ok((audit_seq, _)) = state.archive.audit_head().await else {
        return String::new();
    };
    let key = (state.clock.today(), audit_seq);
    let mut cache = state.deadline_gauge.lock().await;
    if let Some((cached_key, text)) = cache.as_ref()
        && *cached_key == key
    {
        return text.clone();
    }
    query.state = Some(DeadlineState::Late);
    let Ok(items) = state.archive.deadlines(&query).await else {
        return String::new();
    };
    let mut text = String::from(
        "# HELP licnode_deadlines_late Statutory duties past their limit, per rule.\n\
         # TYPE licnode_deadlines_late gauge\n",
    );
    for rule in RULES {
        let late = items.iter().filter(|item| item.rule == rule.code).count();
        text.push_str(&format!(
            "licnode_deadlines_late{{rule=\"{}\"}} {late}\n",
            rule.code
        ));
    }
    *cache = Some((key, text.clone()));
    text
}
