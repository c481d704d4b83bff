//! The staff API over records: collections' schemas, create, read, partial update, list with
//! filters and pagination, search, history, conflicts, and the change log.

use crate::error::ErrorCode;
use axum::Extension;
use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use licnode_app::records::secrecy;
use licnode_app::{Reader, SecretFields};
use licnode_model::Collection;
use licnode_store::{DateCursor, ListQuery, SearchQuery, StoredRecord};
use serde_json::{Map, Value, json};

use crate::auth::Staff;
use crate::routes::{Operation, Routes};
use crate::{ApiError, AppState};

/// Default and largest page sizes.
const DEFAULT_LIMIT: i64 = 50;
const MAX_LIMIT: i64 = 500;

/// The records routes, each with its description: the schemas, the records of each
/// collection, one record, search and the change log, then the replication and export routes.
pub(crate) fn routes() -> Routes<AppState> {
    schema_routes()
        .merge(collection_records_routes())
        .merge(record_routes())
        .merge(search_and_change_routes())
        .merge(crate::sync::staff_routes())
        .merge(crate::export::routes())
}

/// A page of records in the API description.
fn page_schema() -> Value {
    json!({ "$ref": "#/components/schemas/Page" })
}

/// A record in the API description.
fn record_schema() -> Value {
    json!({ "$ref": "#/components/schemas/Record" })
}

/// The cursor and size parameters of a paged list.
fn paging_parameters() -> Value {
    json!([
        { "name": "after", "in": "query", "schema": { "type": "string" }, "description": "the `next` of the previous page" },
        { "name": "limit", "in": "query", "schema": { "type": "integer", "minimum": 1, "maximum": MAX_LIMIT } }
    ])
}

/// The refusals of a malformed cursor or page size.
const BAD_PAGING: [ErrorCode; 3] = [
    ErrorCode::BadQuery,
    ErrorCode::BadCursor,
    ErrorCode::BadLimit,
];

/// The node and the collections' schemas.
fn schema_routes() -> Routes<AppState> {
    Routes::new()
        .get(
            "/node",
            node,
            Operation::new("This node: code, level, name, parent, database backend, actor id")
                .answers(200, "the node"),
        )
        .get(
            "/collections",
            collections,
            Operation::new("The regulation's collections").answers(200, "collections"),
        )
        .get(
            "/collections/{collection}",
            collection_schema,
            Operation::new(
                "A collection's fields: name, Chinese label, type, required, classification",
            )
            .answers(200, "the collection")
            .refuses(404, &[ErrorCode::UnknownCollection], "no such collection"),
        )
}

/// The records of each collection: listed and created.
fn collection_records_routes() -> Routes<AppState> {
    let paging = paging_parameters();
    Routes::new()
        .get_each(
            "/{collection}/records",
            list,
            licnode_model::collections().iter().map(|collection| {
                let operation = Operation::new(format!("List records of {}", collection.name))
                    .description("Any other parameter `<field>=<value>` (or `field.<field>=<value>`) filters on a field of the collection.")
                    .parameters(json!([
                        { "name": "jurisdiction", "in": "query", "schema": { "type": "string" } },
                        { "name": "within", "in": "query", "schema": { "type": "string" }, "description": "division code; its whole subtree" },
                        { "name": "status", "in": "query", "schema": { "type": "string" } },
                        { "name": "conflicted", "in": "query", "schema": { "type": "boolean" } },
                        { "name": "order", "in": "query", "schema": { "type": "string", "enum": ["asc", "desc"] }, "description": "`asc` (default): the order this node stored the records in (with `sort`: earliest date first); `desc`: newest first (with `sort`: latest date first). `after` is the `next` of the previous page in the same order" },
                        { "name": "sort", "in": "query", "schema": { "type": "string", "enum": licnode_store::sortable_date_fields(collection.name) }, "description": "sort by this date field of the collection instead of storage order; records without the date come last in either order" }
                    ]))
                    .parameters(paging.clone())
                    .parameters(unmasked_parameter())
                    .answers_json(200, "a page", page_schema())
                    .refuses(400, &[ErrorCode::UnknownFilter, ErrorCode::BadQuery], "a parameter that is no field of the collection, an unknown `order`, or a `sort` that is no date field of the collection")
                    .refuses(403, &[ErrorCode::SecretNotForRole], "`unmasked=true`, or a filter on a secret field, from a clerk or an auditor (Art. 36)")
                    .refuses(400, &BAD_PAGING, "a malformed cursor or limit");
                (format!("/{}/records", collection.name), operation)
            }),
        )
        .post_each(
            "/{collection}/records",
            create,
            licnode_model::collections().iter().map(|collection| {
                let operation = Operation::new(format!(
                    "Create a record of {} ({})",
                    collection.name, collection.label_zh
                ))
                .parameters(json!([{ "name": "jurisdiction", "in": "query", "schema": { "type": "string" },
                                     "description": "division code at or below this node (default: the node's own)" }]))
                .json_body(crate::openapi::fields_schema(collection))
                .answers_json(201, "created", record_schema())
                .refuses(400, &[ErrorCode::MalformedJson, ErrorCode::ExpectedObject, ErrorCode::BadBody, ErrorCode::BadQuery], "malformed body or query")
                .refuses(403, &[ErrorCode::ForbiddenRole, ErrorCode::OutsideJurisdiction, ErrorCode::ApprovalRequired], "a role that may not write, a territory outside this node's, or approval_required (a terminal licence status, a licence event other than a change, a submitted report)")
                .refuses(409, &[ErrorCode::UseRetentionApi, ErrorCode::ReportSubmitted], "destruction requests are made through /api/v1/retention/requests")
                .refuses(413, &[ErrorCode::PayloadTooLarge], "body over 1 MiB")
                .refuses(415, &[ErrorCode::UnsupportedMediaType], "no JSON content type")
                .refuses(422, &[ErrorCode::ValidationFailed, ErrorCode::WrongType, ErrorCode::InvalidJurisdiction, ErrorCode::OutsideRegulation, ErrorCode::UnknownReference, ErrorCode::ReferenceMismatch], "a field failed validation (details per field), the product is a food, food-related product or cosmetic (Art. 3), a reference names no record this node holds, or a particular differs from the picked licence");
                (format!("/{}/records", collection.name), operation)
            }),
        )
}

/// One record: read, changed, its history and its conflicts.
fn record_routes() -> Routes<AppState> {
    let record = record_schema();
    Routes::new()
        .get(
            "/records/{id}",
            read,
            Operation::new("Read a record (secret fields masked unless `unmasked=true`, Art. 36)")
                .parameters(unmasked_parameter())
                .answers_json(200, "the record", record.clone())
                .refuses(400, &[ErrorCode::BadQuery], "`unmasked` is neither true nor false")
                .refuses(403, &[ErrorCode::SecretNotForRole], "`unmasked=true` from a clerk or an auditor")
                .refuses(404, &[ErrorCode::NotFound], "no such record"),
        )
        .patch(
            "/records/{id}",
            update,
            Operation::new("Change some fields (null clears a field)")
                .json_body(json!({ "type": "object" }))
                .answers_json(200, "the record after the change", record)
                .refuses(400, &[ErrorCode::MalformedJson, ErrorCode::ExpectedObject, ErrorCode::BadBody], "malformed body")
                .refuses(403, &[ErrorCode::ForbiddenRole, ErrorCode::OutsideJurisdiction, ErrorCode::ApprovalRequired], "approval_required: a terminal licence status, a licence event other than a change or an edit of one, a submitted report")
                .refuses(404, &[ErrorCode::NotFound], "no such record")
                .refuses(409, &[ErrorCode::LicenceTerminal, ErrorCode::ReadOnlyCopy, ErrorCode::ReportSubmitted, ErrorCode::UseRetentionApi], "a licence in a terminal state (Art. 28), a copy of a record another node authors (Art. 32), a submitted report (the correction is the next revision)")
                .refuses(413, &[ErrorCode::PayloadTooLarge], "body over 1 MiB")
                .refuses(415, &[ErrorCode::UnsupportedMediaType], "no JSON content type")
                .refuses(422, &[ErrorCode::ValidationFailed, ErrorCode::WrongType, ErrorCode::OutsideRegulation, ErrorCode::UnknownReference], "a field failed validation, the product is one Art. 3 leaves out, or a reference names no record this node holds"),
        )
        .get(
            "/records/{id}/history",
            history,
            Operation::new("Every change of a record with its author node, user and time")
                .answers(200, "history")
                .refuses(404, &[ErrorCode::NotFound], "no such record"),
        )
        .get(
            "/records/{id}/conflicts",
            conflicts,
            Operation::new("Fields holding concurrent values (secret values masked unless `unmasked=true`)")
                .parameters(unmasked_parameter())
                .answers(200, "conflicts")
                .refuses(400, &[ErrorCode::BadQuery], "`unmasked` is neither true nor false")
                .refuses(403, &[ErrorCode::SecretNotForRole], "`unmasked=true` from a clerk or an auditor")
                .refuses(404, &[ErrorCode::NotFound], "no such record"),
        )
}

/// Search by name, licence number or credit code, and the node's change log.
fn search_and_change_routes() -> Routes<AppState> {
    Routes::new()
        .get(
            "/search",
            search,
            Operation::new(
                "Search by enterprise name fragment (2+ characters), licence number or credit code",
            )
            .parameters(json!([
                { "name": "q", "in": "query", "schema": { "type": "string" }, "description": "licence number, credit code, or name fragment" },
                { "name": "name", "in": "query", "schema": { "type": "string" } },
                { "name": "licence_number", "in": "query", "schema": { "type": "string" } },
                { "name": "credit_code", "in": "query", "schema": { "type": "string" } },
                { "name": "collection", "in": "query", "schema": { "type": "string" } }
            ]))
            .parameters(paging_parameters())
            .parameters(unmasked_parameter())
            .answers_json(200, "a page", page_schema())
            .refuses(400, &[ErrorCode::QueryTooShort, ErrorCode::MissingQuery, ErrorCode::UnknownFilter, ErrorCode::BadQuery], "query too short, missing, an unknown parameter, or `unmasked` neither true nor false")
            .refuses(403, &[ErrorCode::SecretNotForRole], "`unmasked=true` from a clerk or an auditor")
            .refuses(400, &BAD_PAGING, "a malformed cursor or limit")
            .refuses(404, &[ErrorCode::UnknownCollection], "no such collection"),
        )
        .get(
            "/changes",
            changes,
            Operation::new("The node's change log after a sequence number")
                .parameters(json!([
                    { "name": "after", "in": "query", "schema": { "type": "integer" } },
                    { "name": "collections", "in": "query", "schema": { "type": "string" }, "description": "comma-separated" },
                    { "name": "limit", "in": "query", "schema": { "type": "integer", "minimum": 1, "maximum": MAX_LIMIT } }
                ]))
                .answers(200, "change-log rows and `next`")
                .refuses(400, &BAD_PAGING, "a malformed cursor or limit")
                .refuses(404, &[ErrorCode::UnknownCollection], "no such collection"),
        )
}

type Params = Result<Query<Vec<(String, String)>>, QueryRejection>;

/// The checks that do not depend on what is written. Which values need an approver is decided
/// by the write path (`Archive`) after validation, on the typed values it stores.
pub(crate) fn authorise_write(staff: &Staff, collection: &Collection) -> Result<(), ApiError> {
    staff.require_write()?;
    // A destruction request is written only by the retention routes, which check what may be
    // destroyed and sign decisions (Art. 38); a generic write could spoil a pending request.
    if collection.name == "destructions" {
        return Err(ApiError::UseRetentionApi);
    }
    Ok(())
}

pub(crate) fn collection_of(name: &str) -> Result<&'static Collection, ApiError> {
    licnode_model::collection(name).ok_or_else(|| ApiError::UnknownCollection {
        name: name.to_string(),
    })
}

/// A record as the API answers it; `masked_fields` names the secret fields (Art. 36) that show
/// the mask instead of their value.
pub(crate) fn record_json(record: &StoredRecord) -> Value {
    let masked_fields = licnode_model::collection(&record.collection)
        .map(|model| secrecy::masked_paths(model, &record.data))
        .unwrap_or_default();
    json!({
        "id": record.id,
        "collection": record.collection,
        "jurisdiction": record.jurisdiction,
        "fields": record.data,
        "masked_fields": masked_fields,
        "conflict_count": record.conflict_count,
        "created_at": millis_text(record.created_at_ms),
        "updated_at": millis_text(record.updated_at_ms),
        "last_seq": record.last_seq,
    })
}

pub(crate) fn millis_text(millis: i64) -> String {
    chrono::DateTime::from_timestamp_millis(millis)
        .map(|time| time.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_default()
}

fn body_object(body: Result<Json<Value>, JsonRejection>) -> Result<Map<String, Value>, ApiError> {
    match body? {
        Json(Value::Object(map)) => Ok(map),
        Json(_) => Err(ApiError::ExpectedObject),
    }
}

/// The `unmasked` parameter (Art. 36), taken out of `params`: secret fields as stored when it
/// is `true` or `1` (approvers and administrators only; audited), masked otherwise.
pub(crate) fn take_secret_fields(
    params: &mut Vec<(String, String)>,
) -> Result<SecretFields, ApiError> {
    let mut asked = SecretFields::Masked;
    let mut refusal = None;
    params.retain(|(name, value)| {
        if name != UNMASKED_PARAMETER {
            return true;
        }
        match SecretFields::from_parameter(value) {
            Some(secrets) => asked = secrets,
            None => {
                refusal = Some(ApiError::BadQuery {
                    reason: format!("`{UNMASKED_PARAMETER}` is `true` or `false`"),
                })
            }
        }
        false
    });
    match refusal {
        Some(refusal) => Err(refusal),
        None => Ok(asked),
    }
}

/// The query parameter that asks for secret fields unmasked.
pub(crate) const UNMASKED_PARAMETER: &str = "unmasked";

/// The reader of a staff request: masked, or unmasked when asked for and the role allows it
/// (`secret_not_for_role` otherwise; decided by the records service).
pub(crate) fn staff_reader(
    staff: &Staff,
    params: &mut Vec<(String, String)>,
    via: &'static str,
) -> Result<Reader, ApiError> {
    let asked = take_secret_fields(params)?;
    Ok(Reader::new(&staff.author(), asked, via)?)
}

/// The `unmasked` parameter in the API description.
pub(crate) fn unmasked_parameter() -> Value {
    json!([{ "name": UNMASKED_PARAMETER, "in": "query", "schema": { "type": "boolean" },
             "description": "secret fields (Art. 36, `x-classification: secret`) with their values instead of the mask `******`: approvers and administrators only, and each such read is audited (`secret_disclosed`)" }])
}

struct Paging {
    /// The `after` parameter as given: a key for storage order and the change log, a
    /// `DateCursor` for a list sorted by a date.
    after: Option<String>,
    limit: i64,
}

impl Paging {
    /// `after` read as a storage key or change sequence number.
    fn after_key(&self) -> Result<Option<i64>, ApiError> {
        self.after
            .as_deref()
            .map(|after| after.parse().map_err(|_| ApiError::BadCursor))
            .transpose()
    }

    /// `after` read as the cursor of a list sorted by a date.
    fn after_date(&self) -> Result<Option<DateCursor>, ApiError> {
        self.after
            .as_deref()
            .map(|after| DateCursor::parse(after).ok_or(ApiError::BadCursor))
            .transpose()
    }
}

fn paging(params: &[(String, String)]) -> Result<Paging, ApiError> {
    let mut paging = Paging {
        after: None,
        limit: DEFAULT_LIMIT,
    };
    for (name, value) in params {
        match name.as_str() {
            "after" => paging.after = Some(value.clone()),
            "limit" => {
                paging.limit = value
                    .parse::<i64>()
                    .ok()
                    .filter(|limit| (1..=MAX_LIMIT).contains(limit))
                    .ok_or_else(|| ApiError::BadLimit {
                        reason: format!("`limit` must be between 1 and {MAX_LIMIT}"),
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
    let mut record = created.record;
    let reader = Reader::masked(&staff.author(), "api");
    state
        .archive
        .release(&reader, std::slice::from_mut(&mut record), &[])
        .await?;
    let mut body = record_json(&record);
    body["warnings"] = serde_json::to_value(&created.warnings).unwrap_or(Value::Null);
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

async fn read(
    State(state): State<AppState>,
    Extension(staff): Extension<Staff>,
    Path(id): Path<String>,
    params: Params,
) -> Result<Json<Value>, ApiError> {
    let Query(mut params) = params?;
    let reader = staff_reader(&staff, &mut params, "api")?;
    Ok(Json(record_json(
        &state.archive.read_as(&id, &reader).await?,
    )))
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
    let mut record = updated.record;
    let reader = Reader::masked(&staff.author(), "api");
    state
        .archive
        .release(&reader, std::slice::from_mut(&mut record), &[])
        .await?;
    let mut body = record_json(&record);
    body["warnings"] = serde_json::to_value(&updated.warnings).unwrap_or(Value::Null);
    body["changed"] = Value::Bool(updated.changed);
    Ok(Json(body))
}

async fn list(
    State(state): State<AppState>,
    Extension(staff): Extension<Staff>,
    Path(collection): Path<String>,
    params: Params,
) -> Result<Json<Value>, ApiError> {
    let model = collection_of(&collection)?;
    let Query(mut params) = params?;
    let reader = staff_reader(&staff, &mut params, "api")?;
    let query = list_query(model, &params)?;
    Ok(Json(page_json(
        state.archive.list_as(&query, &reader).await?,
    )))
}

/// A list of `model`'s records as the query parameters ask for it: `jurisdiction`, `within`,
/// `status`, `conflicted`, `order` (`asc`, the default, or `desc`: newest first), `sort` (a date
/// field to sort by instead of storage order), paging, and `<field>=<value>` (or `field.<field>=<value>`) on any
/// field of the collection. The JSON API and the web application's lists read filters here.
pub(crate) fn list_query(
    model: &Collection,
    params: &[(String, String)],
) -> Result<ListQuery, ApiError> {
    let paging = paging(params)?;
    let mut query = ListQuery {
        collection: model.name.to_string(),
        limit: paging.limit,
        ..ListQuery::default()
    };
    for (name, value) in params {
        match name.as_str() {
            "after" | "limit" => {}
            "sort" => query.sort_by = Some(sortable_date_field(model, value)?.to_string()),
            "order" => {
                query.descending = match value.as_str() {
                    "asc" => false,
                    "desc" => true,
                    _ => return Err(ApiError::BadQuery {
                        reason: "`order` is `asc` (the order this node stored the records in) or `desc` (newest first)".to_string(),
                    }),
                }
            }
            "jurisdiction" => query.jurisdiction = Some(value.clone()),
            "within" => query.within = Some(value.clone()),
            "status" => query.status = Some(value.clone()),
            "conflicted" => query.conflicted = value == "true" || value == "1",
            other => {
                let field = other.strip_prefix("field.").unwrap_or(other);
                if model.field(field).is_none() {
                    return Err(ApiError::UnknownFilter {
                        reason: format!(
                            "{other:?} is neither a filter (jurisdiction, within, status, \
                             conflicted, order, sort, after, limit) nor a field of {}",
                            model.name
                        ),
                    });
                }
                query.fields.push((field.to_string(), value.clone()));
            }
        }
    }
    if query.sort_by.is_some() {
        query.after_date = paging.after_date()?;
    } else {
        query.after = paging.after_key()?;
    }
    Ok(query)
}

/// The date field of `model` named `name`, which a list may be sorted by.
pub(crate) fn sortable_date_field(
    model: &Collection,
    name: &str,
) -> Result<&'static str, ApiError> {
    licnode_store::sortable_date_fields(model.name)
        .into_iter()
        .find(|field| *field == name)
        .ok_or_else(|| ApiError::BadQuery {
            reason: format!(
                "`sort` is a date field of {} ({})",
                model.name,
                licnode_store::sortable_date_fields(model.name).join(", ")
            ),
        })
}

/// `q` is read as a licence number when it parses as one, as a credit code when it is 18
/// characters of the code's alphabet, and as a name fragment otherwise.
async fn search(
    State(state): State<AppState>,
    Extension(staff): Extension<Staff>,
    params: Params,
) -> Result<Json<Value>, ApiError> {
    let Query(mut params) = params?;
    let reader = staff_reader(&staff, &mut params, "api")?;
    let query = search_query(&params)?;
    Ok(Json(page_json(
        state.archive.search_as(&query, &reader).await?,
    )))
}

/// A search as the query parameters ask for it (`q`, `name`, `licence_number`, `credit_code`,
/// `collection`, paging); a name fragment needs two characters. The JSON API and the web
/// application's lists read searches here.
pub(crate) fn search_query(params: &[(String, String)]) -> Result<SearchQuery, ApiError> {
    let paging = paging(params)?;
    let mut query = SearchQuery {
        after: paging.after_key()?,
        limit: paging.limit,
        ..SearchQuery::default()
    };
    for (name, value) in params {
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
                return Err(ApiError::UnknownFilter {
                    reason: format!(
                        "{other:?} is not a search parameter (q, name, licence_number, credit_code, collection, after, limit)"
                    ),
                });
            }
        }
    }
    if let Some(name) = &query.name
        && name.chars().filter(|c| c.is_alphanumeric()).count() < 2
    {
        return Err(ApiError::QueryTooShort);
    }
    if query.name.is_none() && query.licence_number.is_none() && query.credit_code.is_none() {
        return Err(ApiError::MissingQuery);
    }
    Ok(query)
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
    Extension(staff): Extension<Staff>,
    Path(id): Path<String>,
    params: Params,
) -> Result<Json<Value>, ApiError> {
    let Query(mut params) = params?;
    let reader = staff_reader(&staff, &mut params, "api")?;
    let conflicts = state.archive.conflicts_as(&id, &reader).await?;
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
        .change_metadata_after(
            paging.after_key()?.unwrap_or(0),
            names.as_deref(),
            paging.limit,
        )
        .await?;
    let next = rows.last().map(|row| row.seq);
    // The log as staff read it: who handed each change over, not its bytes.
    let changes: Vec<Value> = rows
        .iter()
        .map(|row| {
            json!({
                "seq": row.seq,
                "hash": row.hash,
                "record_id": row.record_id,
                "collection": row.collection,
                "jurisdiction": row.jurisdiction,
                "author_node": row.author_node,
                "author_user": row.author_user,
                "origin": row.origin,
                "at_ms": row.at_ms,
            })
        })
        .collect();
    Ok(Json(json!({ "changes": changes, "next": next })))
}
