//! The OpenAPI 3.1 document of what the staff listener serves, rendered from the operations
//! each route was declared with (`routes.rs`) and from the regulation's model, so that it names
//! every route and every collection and field the node really accepts.

use licnode_app::records::secrecy::{may_read_secrets, secret_field_paths};
use licnode_model::{Classification, Collection, Field, FieldType};
use licnode_store::Role;
use serde_json::{Map, Value, json};

use crate::routes::DescribedOperation;

/// A collection in brief, for `/api/v1/collections`.
pub(crate) fn collection_summary(collection: &'static Collection) -> Value {
    json!({
        "name": collection.name,
        "label_zh": collection.label_zh,
        "articles": collection.articles,
        "direction": collection.direction,
        "public": collection.public,
        "fields": collection.fields.len(),
        "secret_fields": secret_field_paths(collection),
    })
}

/// The roles that may ask for secret fields unmasked (Art. 36).
fn secret_readers() -> Vec<&'static str> {
    Role::ALL
        .into_iter()
        .filter(|role| may_read_secrets(*role))
        .map(Role::as_str)
        .collect()
}

/// A collection with every field: name, Chinese label, type, required, classification; and
/// which fields are secret (Art. 36: masked as `******` unless `secret_readers` ask, audited).
pub(crate) fn collection_detail(collection: &'static Collection) -> Value {
    let mut detail = serde_json::to_value(collection).unwrap_or(Value::Null);
    if let Value::Object(detail) = &mut detail {
        detail.insert(
            "secret_fields".into(),
            json!(secret_field_paths(collection)),
        );
        detail.insert("secret_readers".into(), json!(secret_readers()));
        detail.insert("masked_as".into(), json!(licnode_model::MASKED_SECRET));
    }
    detail
}

fn field_schema(field: &Field) -> Value {
    let mut schema = match field.field_type {
        FieldType::Integer => json!({ "type": "integer" }),
        FieldType::Boolean => json!({ "type": "boolean" }),
        FieldType::Date => json!({ "type": "string", "format": "date" }),
        FieldType::YearMonth => json!({ "type": "string", "x-licnode-type": "year_month",
                                        "description": "a year and month, stored as YYYY-MM" }),
        FieldType::DateTime => json!({ "type": "string", "format": "date-time" }),
        FieldType::Email => json!({ "type": "string", "format": "email" }),
        FieldType::Enum(values) => json!({
            "type": "string",
            "enum": values.iter().map(|v| v.value).collect::<Vec<_>>(),
            "x-labels-zh": values.iter().map(|v| v.label_zh).collect::<Vec<_>>(),
        }),
        FieldType::Table(columns) => {
            let (properties, required) = properties(columns);
            json!({
                "type": "array",
                "items": { "type": "object", "properties": properties, "required": required,
                           "additionalProperties": false },
            })
        }
        other => json!({ "type": "string", "x-licnode-type": other.name() }),
    };
    schema["title"] = Value::String(field.label_zh.to_string());
    schema["x-classification"] = Value::String(field.classification.as_str().to_string());
    if field.classification == Classification::Secret {
        schema["description"] = Value::String(format!(
            "secret (Art. 36): reads and exports show `{}` unless an {} asks with `unmasked=true`, which is audited",
            licnode_model::MASKED_SECRET,
            secret_readers().join(" or ")
        ));
    }
    schema
}

fn properties(fields: &[Field]) -> (Map<String, Value>, Vec<&'static str>) {
    let mut properties = Map::new();
    let mut required = Vec::new();
    for field in fields {
        properties.insert(field.name.to_string(), field_schema(field));
        if field.required {
            required.push(field.name);
        }
    }
    (properties, required)
}

/// The `$ref` of a collection's field schema (`licencesFields`), for request bodies.
pub(crate) fn fields_schema(collection: &'static Collection) -> Value {
    json!({ "$ref": format!("#/components/schemas/{}Fields", collection.name) })
}

/// The schemas every document carries: the error body, a record, a page of records, and one
/// object schema per collection with every field the node accepts.
fn component_schemas() -> Map<String, Value> {
    let mut schemas = Map::new();
    schemas.insert(
        "Error".into(),
        json!({
            "type": "object",
            "properties": { "error": { "type": "object", "required": ["code", "message"], "properties": {
                "code": { "type": "string", "description": "stable machine code; each answer lists the codes it may carry in `x-error-codes`" },
                "message": { "type": "string" },
                "details": { "description": "per-field issues for validation_failed" } } } },
        }),
    );
    schemas.insert(
        "Record".into(),
        json!({
            "type": "object",
            "properties": {
                "id": { "type": "string" }, "collection": { "type": "string" },
                "jurisdiction": { "type": "string", "description": "GB/T 2260 division code" },
                "fields": { "type": "object" },
                "masked_fields": { "type": "array", "items": { "type": "string" },
                                   "description": "secret fields (Art. 36) shown as `******` in `fields`; a table's column as `table[row].column`" },
                "conflict_count": { "type": "integer" },
                "created_at": { "type": "string", "format": "date-time" },
                "updated_at": { "type": "string", "format": "date-time" },
                "last_seq": { "type": "integer" } } }),
    );
    schemas.insert(
        "Page".into(),
        json!({ "type": "object", "properties": {
            "items": { "type": "array", "items": { "$ref": "#/components/schemas/Record" } },
            "next": { "type": ["string", "null"], "description": "pass as `after` for the next page" } } }),
    );
    for collection in licnode_model::collections() {
        let (properties, required) = properties(collection.fields);
        schemas.insert(
            format!("{}Fields", collection.name),
            json!({
                "type": "object", "title": collection.label_zh,
                "description": format!("Art. {}", collection.articles.iter().map(u16::to_string).collect::<Vec<_>>().join(", ")),
                "properties": properties, "required": required, "additionalProperties": false,
            }),
        );
    }
    schemas
}

/// The OpenAPI 3.1 document of everything the staff listener serves, rendered from the
/// operations its routes were declared with (`routes.rs`) and the model's collections.
pub(crate) fn document(operations: &[DescribedOperation]) -> Value {
    let mut paths = Map::new();
    for described in operations {
        let item = paths
            .entry(described.path.clone())
            .or_insert_with(|| Value::Object(Map::new()));
        item[described.method.openapi_key()] = described.operation.to_openapi(&described.path);
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "licnode node API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "One node of the production-licence information network (工业产品生产许可证信息管理规定): everything its staff listener serves. \
                The staff API under /api/v1 needs a bearer token (POST /api/v1/auth/login, or an API token from `licnode user token`); every write is recorded with the user and this node. \
                The public query service under /public (Art. 27, 28, 30, 31, 33-35) needs no login and is rate-limited per client address; it is also served alone on `[public] listen`, where `/` leads to /public and nothing else of this document is reachable. \
                Outside the paths below, /public answers 404 `not_found` (HTML, or JSON under /public/api) and the rest 404 `not_found` or 405 `method_not_allowed`. \
                The node-to-node endpoints (replication, audit anchors, certificate renewal and CRLs, enrollment) are not part of this document: they are served on the mutual-TLS and enrollment listeners to nodes of the tree only, with the wire types of `licnode_sync::protocol`."
        },
        "tags": [
            { "name": "staff", "description": "The staff API (bearer token)" },
            { "name": "public", "description": "The public query service (no login)" },
            { "name": "node", "description": "Health, metrics and this document" }
        ],
        "paths": paths,
        "components": {
            "schemas": component_schemas(),
            "securitySchemes": { "bearer": { "type": "http", "scheme": "bearer",
                "description": "a session token from POST /api/v1/auth/login (8 hours) or an API token" } }
        },
    })
}
