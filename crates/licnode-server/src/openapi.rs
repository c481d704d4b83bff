//! The OpenAPI 3.1 document of the staff API, generated from the regulation's model so that it
//! always names every collection and field the node really accepts.

use axum::Json;
use licnode_model::{Collection, Field, FieldType};
use serde_json::{Map, Value, json};

/// A collection in brief, for `/api/v1/collections`.
pub(crate) fn collection_summary(collection: &'static Collection) -> Value {
    json!({
        "name": collection.name,
        "label_zh": collection.label_zh,
        "articles": collection.articles,
        "direction": collection.direction,
        "public": collection.public,
        "fields": collection.fields.len(),
    })
}

/// A collection with every field: name, Chinese label, type, required, classification.
pub(crate) fn collection_detail(collection: &'static Collection) -> Value {
    serde_json::to_value(collection).unwrap_or(Value::Null)
}

fn field_schema(field: &Field) -> Value {
    let mut schema = match field.field_type {
        FieldType::Integer => json!({ "type": "integer" }),
        FieldType::Boolean => json!({ "type": "boolean" }),
        FieldType::Date => json!({ "type": "string", "format": "date" }),
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

fn error_response(description: &str) -> Value {
    json!({ "description": description, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } })
}

/// `GET /openapi.json`.
pub(crate) async fn document() -> Json<Value> {
    let mut schemas = Map::new();
    schemas.insert(
        "Error".into(),
        json!({
            "type": "object",
            "properties": { "error": { "type": "object", "required": ["code", "message"], "properties": {
                "code": { "type": "string", "description": "stable machine code, e.g. malformed_json, duplicate_key, unknown_field, validation_failed, unknown_collection, not_found, payload_too_large, outside_jurisdiction, approval_required, licence_terminal, report_submitted" },
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
                "fields": { "type": "object" }, "conflict_count": { "type": "integer" },
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
    let mut paths = Map::new();
    for collection in licnode_model::collections() {
        let (properties, required) = properties(collection.fields);
        let name = format!("{}Fields", collection.name);
        schemas.insert(
            name.clone(),
            json!({
                "type": "object", "title": collection.label_zh,
                "description": format!("Art. {}", collection.articles.iter().map(u16::to_string).collect::<Vec<_>>().join(", ")),
                "properties": properties, "required": required, "additionalProperties": false,
            }),
        );
        paths.insert(
            format!("/api/v1/{}/records", collection.name),
            json!({
                "post": {
                    "summary": format!("Create a record of {} ({})", collection.name, collection.label_zh),
                    "parameters": [{ "name": "jurisdiction", "in": "query", "schema": { "type": "string" },
                                     "description": "division code at or below this node (default: the node's own)" }],
                    "requestBody": { "required": true, "content": { "application/json": { "schema": { "$ref": format!("#/components/schemas/{name}") } } } },
                    "responses": { "201": { "description": "created", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Record" } } } },
                                   "400": error_response("malformed body, or a key repeated in an object (duplicate_key)"), "403": error_response("outside jurisdiction, or approval_required (a terminal licence status, a licence event other than a change, a submitted report)"),
                                   "413": error_response("body too large"), "422": error_response("validation failed") }
                },
                "get": {
                    "summary": format!("List records of {}", collection.name),
                    "parameters": [
                        { "name": "jurisdiction", "in": "query", "schema": { "type": "string" } },
                        { "name": "within", "in": "query", "schema": { "type": "string" }, "description": "division code; its whole subtree" },
                        { "name": "status", "in": "query", "schema": { "type": "string" } },
                        { "name": "conflicted", "in": "query", "schema": { "type": "boolean" } },
                        { "name": "after", "in": "query", "schema": { "type": "string" } },
                        { "name": "limit", "in": "query", "schema": { "type": "integer", "minimum": 1, "maximum": 500 } }
                    ],
                    "description": "Any other parameter `<field>=<value>` (or `field.<field>=<value>`) filters on a field of the collection.",
                    "responses": { "200": { "description": "a page", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Page" } } } },
                                   "400": error_response("unknown filter") }
                }
            }),
        );
    }
    let id_parameter =
        json!([{ "name": "id", "in": "path", "required": true, "schema": { "type": "string" } }]);
    paths.insert("/api/v1/records/{id}".into(), json!({
        "parameters": id_parameter,
        "get": { "summary": "Read a record", "responses": { "200": { "description": "the record" }, "404": error_response("no such record") } },
        "patch": { "summary": "Change some fields (null clears a field)",
                   "requestBody": { "required": true, "content": { "application/json": { "schema": { "type": "object" } } } },
                   "responses": { "200": { "description": "the record after the change" }, "404": error_response("no such record"),
                                  "400": error_response("malformed body, or a key repeated in an object (duplicate_key)"),
                                  "403": error_response("approval_required (a terminal licence status, a licence event other than a change or an edit of one, a submitted report)"),
                                  "409": error_response("licence in a terminal state, or report_submitted (a submitted report is not edited; the correction is the next revision)"), "422": error_response("validation failed") } }
    }));
    paths.insert("/api/v1/records/{id}/history".into(), json!({ "parameters": id_parameter,
        "get": { "summary": "Every change of a record with its author node, user and time", "responses": { "200": { "description": "history" } } } }));
    paths.insert("/api/v1/records/{id}/conflicts".into(), json!({ "parameters": id_parameter,
        "get": { "summary": "Fields holding concurrent values", "responses": { "200": { "description": "conflicts" } } } }));
    paths.insert("/api/v1/search".into(), json!({ "get": {
        "summary": "Search by enterprise name fragment (2+ characters), licence number or credit code",
        "parameters": [
            { "name": "q", "in": "query", "schema": { "type": "string" }, "description": "licence number, credit code, or name fragment" },
            { "name": "name", "in": "query", "schema": { "type": "string" } },
            { "name": "licence_number", "in": "query", "schema": { "type": "string" } },
            { "name": "credit_code", "in": "query", "schema": { "type": "string" } },
            { "name": "collection", "in": "query", "schema": { "type": "string" } },
            { "name": "after", "in": "query", "schema": { "type": "string" } },
            { "name": "limit", "in": "query", "schema": { "type": "integer" } }
        ],
        "responses": { "200": { "description": "a page", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Page" } } } },
                       "400": error_response("query too short or missing") } } }));
    paths.insert("/api/v1/changes".into(), json!({ "get": {
        "summary": "The node's change log after a sequence number",
        "parameters": [ { "name": "after", "in": "query", "schema": { "type": "integer" } },
                        { "name": "collections", "in": "query", "schema": { "type": "string" }, "description": "comma-separated" },
                        { "name": "limit", "in": "query", "schema": { "type": "integer" } } ],
        "responses": { "200": { "description": "change-log rows" } } } }));
    paths.insert("/api/v1/sync/quarantine".into(), json!({ "get": {
        "summary": "Changes received from a neighbour and refused, with their reason codes (kept, never applied)",
        "parameters": [ { "name": "limit", "in": "query", "schema": { "type": "integer" } } ],
        "responses": { "200": { "description": "quarantined changes, oldest first" } } } }));
    paths.insert("/api/v1/collections".into(), json!({ "get": { "summary": "The regulation's collections", "responses": { "200": { "description": "collections" } } } }));
    paths.insert("/api/v1/collections/{collection}".into(), json!({ "get": { "summary": "A collection's fields: name, Chinese label, type, required, classification",
        "parameters": [{ "name": "collection", "in": "path", "required": true, "schema": { "type": "string" } }],
        "responses": { "200": { "description": "the collection" }, "404": error_response("unknown collection") } } }));
    paths.insert("/api/v1/deadlines".into(), crate::deadlines::openapi_path());
    paths.extend(crate::audit::openapi_paths());
    paths.extend(crate::reports::openapi_paths());
    paths.extend(crate::retention::openapi_paths());
    paths.insert("/api/v1/node".into(), json!({ "get": { "summary": "This node", "responses": { "200": { "description": "node" } } } }));
    paths.insert("/healthz".into(), json!({ "get": { "summary": "Liveness and database reachability", "responses": { "200": { "description": "ok" }, "503": { "description": "database unreachable" } } } }));
    paths.insert("/metrics".into(), json!({ "get": { "summary": "Prometheus metrics", "responses": { "200": { "description": "text format" } } } }));
    Json(json!({
        "openapi": "3.1.0",
        "info": {
            "title": "licnode staff API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "One node of the production-licence information network (工业产品生产许可证信息管理规定). Writes are recorded with the user named in the x-licnode-user header and this node."
        },
        "paths": paths,
        "components": { "schemas": schemas },
    }))
}
