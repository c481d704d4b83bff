//! The staff API over records: collections' schemas, create, read, partial update, list with
//! filters and pagination, search, history, conflicts, and the change log.

use axum::Extension;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use licnode_model::Collection;
use licnode_store::{ListQuery, SearchQuery, StoredRecord};
use serde_json::{Map, Value, json};

use crate::auth::Staff;
use crate::{ApiError, AppState};

/// Default and largest page sizes.
const DEFAULT_LIMIT: i64 = 50;
const MAX_LIMIT: i64 = 500;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/node", get(node))
        .route("/collections", get(collections))
        .route("/collections/{collection}", get(collection_schema))
        .route("/{collection}/records", get(list).post(create))
        .route("/records/{id}", get(read).patch(update))
        .route("/records/{id}/history", get(history))
        .route("/records/{id}/conflicts", get(conflicts))
        .route("/search", get(search))
        .route("/changes", get(changes))
        .route("/sync/quarantine", get(crate::sync::quarantine))
        .route("/sync/status", get(crate::sync::status))
        .route("/sync/now", axum::routing::post(crate::sync::now))
}

type Params = Result<Query<Vec<(String, String)>>, QueryRejection>;

/// The checks that do not depend on what is written. Which values need an approver is decided
/// by the write path (`Archive`) after validation, on the typed values it stores.
fn authorise_write(staff: &Staff, collection: &Collection) -> Result<(), ApiError> {
    staff.require_write()?;
    // A destruction request is written only by the retention routes, which check what may be
    // destroyed and sign decisions (Art. 38); a generic write could spoil a pending request.
    if collection.name == "destructions" {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "use_retention_api",
            "destruction requests and decisions are made through /api/v1/retention/requests",
        ));
    }
    Ok(())
}

fn collection_of(name: &str) -> Result<&'static Collection, ApiError> {
    licnode_model::collection(name).ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown_collection",
            format!("unknown collection {name:?}; see /api/v1/collections"),
        )
    })
}

fn record_json(record: &StoredRecord) -> Value {
    json!({
        "id": record.id,
        "collection": record.collection,
        "jurisdiction": record.jurisdiction,
        "fields": record.data,
        "conflict_count": record.conflict_count,
        "created_at": millis_text(record.created_at_ms),
        "updated_at": millis_text(record.updated_at_ms),
        "last_seq": record.last_seq,
    })
}

fn millis_text(millis: i64) -> String {
    chrono::DateTime::from_timestamp_millis(millis)
        .map(|time| time.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_default()
}

fn body_object(body: Result<Json<Value>, JsonRejection>) -> Result<Map<String, Value>, ApiError> {
    match body? {
        Json(Value::Object(map)) => Ok(map),
        Json(_) => Err(ApiError::bad_request(
            "expected_object",
            "the body must be a JSON object of field names to values",
        )),
    }
}

struct Paging {
    after: Option<i64>,
    limit: i64,
}

fn paging(params: &[(String, String)]) -> Result<Paging, ApiError> {
    let mut paging = Paging {
        after: None,
        limit: DEFAULT_LIMIT,
    };
    for (name, value) in params {
        match name.as_str() {
            "after" => {
                paging.after = Some(value.parse().map_err(|_| {
                    ApiError::bad_request("bad_cursor", "`after` must be a cursor from `next`")
                })?)
            }
            "limit" => {
                paging.limit = value
                    .parse::<i64>()
                    .ok()
                    .filter(|limit| (1..=MAX_LIMIT).contains(limit))
                    .ok_or_else(|| {
                        ApiError::bad_request(
                            "bad_limit",
                            format!("`limit` must be between 1 and {MAX_LIMIT}"),
                        )
                    })?
            }
            _ => {}
        }
    }
    Ok(paging)
}

fn page_json(page: licnode_store::Page) -> Value {
    json!({
        "items": page.items.iter().map(record_json).collect::<Vec<_>>(),
        "next": page.next,
    })
}

async fn node(State(state): State<AppState>) -> Json<Value> {
    Json(json!({
        "node": *state.node,
        "backend": state.archive.backend().name(),
        "actor": state.archive.actor().to_string(),
    }))
}

async fn collections() -> Json<Value> {
    Json(Value::Array(
        licnode_model::collections()
            .iter()
            .map(crate::openapi::collection_summary)
            .collect(),
    ))
}

async fn collection_schema(Path(name): Path<String>) -> Result<Json<Value>, ApiError> {
    Ok(Json(crate::openapi::collection_detail(collection_of(
        &name,
    )?)))
}

async fn create(
    State(state): State<AppState>,
    Extension(staff): Extension<Staff>,
    Path(collection): Path<String>,
    params: Params,
    body: Result<Json<Value>, JsonRejection>,
) -> Result<Response, ApiError> {
    let model = collection_of(&collection)?;
    let Query(params) = params?;
    let fields = body_object(body)?;
    authorise_write(&staff, model)?;
    let jurisdiction = params
        .iter()
        .find(|(name, _)| name == "jurisdiction")
        .map(|(_, value)| value.as_str());
    let created = state
        .archive
        .create(&collection, jurisdiction, &fields, &staff.author())
        .await?;
    state.metrics.increment("licnode_records_created_total", 1);
    let mut body = record_json(&created.record);
    body["warnings"] = serde_json::to_value(&created.warnings).unwrap_or(Value::Null);
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

async fn read(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(record_json(&state.archive.get(&id).await?)))
}

async fn update(
    State(state): State<AppState>,
    Extension(staff): Extension<Staff>,
    Path(id): Path<String>,
    body: Result<Json<Value>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let patch = body_object(body)?;
    let current = state.archive.get(&id).await?;
    authorise_write(&staff, collection_of(&current.collection)?)?;
    let updated = state.archive.update(&id, &patch, &staff.author()).await?;
    if updated.changed {
        state.metrics.increment("licnode_records_updated_total", 1);
    }
    let mut body = record_json(&updated.record);
    body["warnings"] = serde_json::to_value(&updated.warnings).unwrap_or(Value::Null);
    body["changed"] = Value::Bool(updated.changed);
    Ok(Json(body))
}

async fn list(
    State(state): State<AppState>,
    Path(collection): Path<String>,
    params: Params,
) -> Result<Json<Value>, ApiError> {
    let model = collection_of(&collection)?;
    let Query(params) = params?;
    let paging = paging(&params)?;
    let mut query = ListQuery {
        collection: model.name.to_string(),
        after: paging.after,
        limit: paging.limit,
        ..ListQuery::default()
    };
    for (name, value) in &params {
        match name.as_str() {
            "after" | "limit" => {}
            "jurisdiction" => query.jurisdiction = Some(value.clone()),
            "within" => query.within = Some(value.clone()),
            "status" => query.status = Some(value.clone()),
            "conflicted" => query.conflicted = value == "true" || value == "1",
            other => {
                let field = other.strip_prefix("field.").unwrap_or(other);
                if model.field(field).is_none() {
                    return Err(ApiError::bad_request(
                        "unknown_filter",
                        format!(
                            "{other:?} is neither a filter (jurisdiction, within, status, \
                             conflicted, after, limit) nor a field of {collection}"
                        ),
                    ));
                }
                query.fields.push((field.to_string(), value.clone()));
            }
        }
    }
    Ok(Json(page_json(state.archive.list(&query).await?)))
}

/// `q` is read as a licence number when it parses as one, as a credit code when it is 18
/// characters of the code's alphabet, and as a name fragment otherwise.
async fn search(State(state): State<AppState>, params: Params) -> Result<Json<Value>, ApiError> {
    let Query(params) = params?;
    let paging = paging(&params)?;
    let mut query = SearchQuery {
        after: paging.after,
        limit: paging.limit,
        ..SearchQuery::default()
    };
    for (name, value) in &params {
        let value = value.trim().to_string();
        match name.as_str() {
            "after" | "limit" => {}
            "collection" => query.collection = Some(collection_of(&value)?.name.to_string()),
            "name" => query.name = Some(value),
            "licence_number" => query.licence_number = Some(value),
            "credit_code" => query.credit_code = Some(value),
            "q" => {
                if licnode_model::licence_number::normalise(&value).is_ok() {
                    query.licence_number = Some(value);
                } else if licnode_model::credit_code::parse(&value).is_ok() {
                    query.credit_code = Some(value);
                } else {
                    query.name = Some(value);
                }
            }
            other => {
                return Err(ApiError::bad_request(
                    "unknown_filter",
                    format!(
                        "{other:?} is not a search parameter (q, name, licence_number, credit_code, collection, after, limit)"
                    ),
                ));
            }
        }
    }
    if let Some(name) = &query.name
        && name.chars().filter(|c| c.is_alphanumeric()).count() < 2
    {
        return Err(ApiError::bad_request(
            "query_too_short",
            "a name fragment needs at least two characters",
        ));
    }
    if query.name.is_none() && query.licence_number.is_none() && query.credit_code.is_none() {
        return Err(ApiError::bad_request(
            "missing_query",
            "give q, name, licence_number or credit_code",
        ));
    }
    Ok(Json(page_json(state.archive.search(&query).await?)))
}

async fn history(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let entries = state.archive.history(&id).await?;
    let entries: Vec<Value> = entries
        .into_iter()
        .map(|entry| {
            let mut value = serde_json::to_value(&entry).unwrap_or(Value::Null);
            value["time"] = Value::String(millis_text(entry.time_ms));
            value
        })
        .collect();
    Ok(Json(json!({ "id": id, "changes": entries })))
}

async fn conflicts(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let conflicts = state.archive.conflicts(&id).await?;
    Ok(Json(json!({ "id": id, "conflicts": conflicts })))
}

async fn changes(State(state): State<AppState>, params: Params) -> Result<Json<Value>, ApiError> {
    let Query(params) = params?;
    let paging = paging(&params)?;
    let collections: Option<Vec<String>> = params
        .iter()
        .find(|(name, _)| name == "collections")
        .map(|(_, value)| value.split(',').map(|c| c.trim().to_string()).collect());
    if let Some(collections) = &collections {
        for collection in collections {
            collection_of(collection)?;
        }
    }
    let names: Option<Vec<&str>> = collections
        .as_ref()
        .map(|list| list.iter().map(String::as_str).collect());
    let rows = state
        .archive
        .changes_after(paging.after.unwrap_or(0), names.as_deref(), paging.limit)
        .await?;
    let next = rows.last().map(|row| row.seq);
    Ok(Json(json!({ "changes": rows, "next": next })))
}
