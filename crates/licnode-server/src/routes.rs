//! Routes declared together with their description: a router module adds a route only through
//! [`Routes::get`], [`Routes::post`] or [`Routes::patch`] (and their `_each` forms), which route
//! the handler and record the operation — summary, parameters, request body, answers and error
//! codes — that `/openapi.json` renders, so no route is served undescribed (issue 17, item 7).

use crate::error::ErrorCode;
use axum::Router;
use axum::handler::Handler;
use axum::routing::{MethodRouter, get, patch, post};
use serde_json::{Map, Value, json};

/// A method the node's HTTP application answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum HttpMethod {
    Get,
    Post,
    Patch,
}

impl HttpMethod {
    /// The method's key in an OpenAPI path item: `get`, `post`, `patch`.
    pub(crate) fn openapi_key(self) -> &'static str {
        match self {
            HttpMethod::Get => "get",
            HttpMethod::Post => "post",
            HttpMethod::Patch => "patch",
        }
    }
}

/// One operation as the OpenAPI document shows it: built next to the route it describes.
#[derive(Clone, Debug)]
pub(crate) struct Operation {
    summary: String,
    fields: Map<String, Value>,
    responses: Map<String, Value>,
}

impl Operation {
    /// An operation with its one-line summary.
    pub(crate) fn new(summary: impl Into<String>) -> Operation {
        Operation {
            summary: summary.into(),
            fields: Map::new(),
            responses: Map::new(),
        }
    }

    /// A longer description, under the summary.
    pub(crate) fn description(mut self, text: impl Into<String>) -> Operation {
        self.fields
            .insert("description".into(), Value::String(text.into()));
        self
    }

    /// Groups the operation under `tag` (`staff`, `public`, `node`).
    pub(crate) fn tag(mut self, tag: &str) -> Operation {
        self.fields.insert("tags".into(), json!([tag]));
        self
    }

    /// Adds parameters, given as OpenAPI parameter objects (a JSON array). Path parameters
    /// not declared here are added as strings when the document is rendered.
    pub(crate) fn parameters(mut self, parameters: Value) -> Operation {
        let list = self
            .fields
            .entry("parameters")
            .or_insert_with(|| Value::Array(Vec::new()));
        if let (Value::Array(list), Value::Array(added)) = (list, parameters) {
            list.extend(added);
        }
        self
    }

    /// A JSON request body of this schema, required.
    pub(crate) fn json_body(mut self, schema: Value) -> Operation {
        self.fields.insert(
            "requestBody".into(),
            json!({ "required": true, "content": { "application/json": { "schema": schema } } }),
        );
        self
    }

    /// A JSON request body of this schema that may be left out.
    pub(crate) fn optional_json_body(mut self, schema: Value) -> Operation {
        self.fields.insert(
            "requestBody".into(),
            json!({ "required": false, "content": { "application/json": { "schema": schema } } }),
        );
        self
    }

    /// Whether the operation takes a request body.
    pub(crate) fn has_body(&self) -> bool {
        self.fields.contains_key("requestBody")
    }

    /// A successful answer with no described body.
    pub(crate) fn answers(mut self, status: u16, description: impl Into<String>) -> Operation {
        self.responses.insert(
            status.to_string(),
            json!({ "description": description.into() }),
        );
        self
    }

    /// A successful JSON answer of this schema.
    pub(crate) fn answers_json(
        self,
        status: u16,
        description: impl Into<String>,
        schema: Value,
    ) -> Operation {
        self.answers_content(status, description, "application/json", schema)
    }

    /// A successful answer of another media type (text, HTML, a spreadsheet).
    pub(crate) fn answers_content(
        mut self,
        status: u16,
        description: impl Into<String>,
        media_type: &str,
        schema: Value,
    ) -> Operation {
        let mut content = Map::new();
        content.insert(media_type.to_string(), json!({ "schema": schema }));
        self.responses.insert(
            status.to_string(),
            json!({ "description": description.into(), "content": content }),
        );
        self
    }

    /// A refusal: `status` with the JSON error body (`{"error":{"code","message","details"}}`)
    /// and the stable codes it may carry. Refusals with one status are listed together.
    pub(crate) fn refuses(
        mut self,
        status: u16,
        codes: &[ErrorCode],
        description: &str,
    ) -> Operation {
        let entry = self
            .responses
            .entry(status.to_string())
            .or_insert_with(|| {
                json!({
                    "description": "",
                    "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } },
                    "x-error-codes": [],
                })
            });
        let joined = match entry.get("description").and_then(Value::as_str) {
            Some("") | None => description.to_string(),
            Some(existing) => format!("{existing}; {description}"),
        };
        entry["description"] = Value::String(joined);
        if let Some(Value::Array(listed)) = entry.get_mut("x-error-codes") {
            for code in codes {
                if !listed.iter().any(|known| known == code.as_str()) {
                    listed.push(Value::String(code.as_str().to_string()));
                }
            }
        }
        self
    }

    /// A refusal answered as an HTML page for people (the public service's pages): the
    /// status and what it means, no machine code.
    pub(crate) fn refuses_with_page(self, status: u16, description: &str) -> Operation {
        self.answers_content(
            status,
            description,
            "text/html",
            json!({ "type": "string" }),
        )
    }

    /// Marks the operation as needing a staff bearer token, refused without one.
    pub(crate) fn requiring_login(mut self) -> Operation {
        self.fields
            .insert("security".into(), json!([{ "bearer": [] }]));
        self.refuses(
            401,
            &[ErrorCode::Unauthenticated],
            "no token, or an unknown, expired or revoked one",
        )
    }

    /// The OpenAPI operation object, with a string parameter for every `{name}` of `path` that
    /// is not declared.
    pub(crate) fn to_openapi(&self, path: &str) -> Value {
        let mut object = self.fields.clone();
        object.insert("summary".into(), Value::String(self.summary.clone()));
        object.insert("responses".into(), Value::Object(self.responses.clone()));
        let declared: Vec<String> = object
            .get("parameters")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter(|parameter| parameter["in"] == "path")
            .filter_map(|parameter| parameter["name"].as_str().map(str::to_string))
            .collect();
        let mut parameters: Vec<Value> = path_parameters(path)
            .into_iter()
            .filter(|name| !declared.iter().any(|known| known == name))
            .map(|name| {
                json!({ "name": name, "in": "path", "required": true, "schema": { "type": "string" } })
            })
            .collect();
        if let Some(Value::Array(listed)) = object.remove("parameters") {
            parameters.extend(listed);
        }
        if !parameters.is_empty() {
            object.insert("parameters".into(), Value::Array(parameters));
        }
        Value::Object(object)
    }
}

/// The `{name}` segments of a path template.
fn path_parameters(path: &str) -> Vec<String> {
    path.split('/')
        .filter_map(|segment| segment.strip_prefix('{')?.strip_suffix('}'))
        .filter(|name| !name.starts_with('*'))
        .map(str::to_string)
        .collect()
}

/// One described operation: the method, the path as the document names it, what it does.
#[derive(Clone, Debug)]
pub(crate) struct DescribedOperation {
    pub method: HttpMethod,
    /// The path in the document: the route's own path, or one of the concrete paths a route
    /// with a parameter serves (`/api/v1/licences/records` for `/api/v1/{collection}/records`).
    pub path: String,
    pub operation: Operation,
}

/// A router and the description of every route in it.
pub(crate) struct Routes<S = ()> {
    router: Router<S>,
    operations: Vec<DescribedOperation>,
}

impl<S> Routes<S>
where
    S: Clone + Send + Sync + 'static,
{
    /// No routes yet.
    pub(crate) fn new() -> Routes<S> {
        Routes {
            router: Router::new(),
            operations: Vec::new(),
        }
    }

    /// `GET path`, described by `operation`.
    pub(crate) fn get<H, T>(self, path: &str, handler: H, operation: Operation) -> Routes<S>
    where
        H: Handler<T, S>,
        T: 'static,
    {
        self.add(
            path,
            HttpMethod::Get,
            get(handler),
            [(path.to_string(), operation)],
        )
    }

    /// `POST path`, described by `operation`.
    pub(crate) fn post<H, T>(self, path: &str, handler: H, operation: Operation) -> Routes<S>
    where
        H: Handler<T, S>,
        T: 'static,
    {
        self.add(
            path,
            HttpMethod::Post,
            post(handler),
            [(path.to_string(), operation)],
        )
    }

    /// `PATCH path`, described by `operation`.
    pub(crate) fn patch<H, T>(self, path: &str, handler: H, operation: Operation) -> Routes<S>
    where
        H: Handler<T, S>,
        T: 'static,
    {
        self.add(
            path,
            HttpMethod::Patch,
            patch(handler),
            [(path.to_string(), operation)],
        )
    }

    /// `GET path` for a route whose parameter takes a known set of values, each described on
    /// its own (a collection's records, with that collection's fields).
    pub(crate) fn get_each<H, T>(
        self,
        path: &str,
        handler: H,
        described: impl IntoIterator<Item = (String, Operation)>,
    ) -> Routes<S>
    where
        H: Handler<T, S>,
        T: 'static,
    {
        self.add(path, HttpMethod::Get, get(handler), described)
    }

    /// `POST path` for a route whose parameter takes a known set of values, each described on
    /// its own.
    pub(crate) fn post_each<H, T>(
        self,
        path: &str,
        handler: H,
        described: impl IntoIterator<Item = (String, Operation)>,
    ) -> Routes<S>
    where
        H: Handler<T, S>,
        T: 'static,
    {
        self.add(path, HttpMethod::Post, post(handler), described)
    }

    /// A catch-all below a prefix (`/public/{*rest}`) that answers `not_found` in the format of
    /// its part of the site. Served, and not an operation of the document: OpenAPI has no
    /// wildcard paths. The test that walks the router checks that each answers 404.
    pub(crate) fn not_found_below<H, T>(mut self, path: &str, handler: H) -> Routes<S>
    where
        H: Handler<T, S>,
        T: 'static,
    {
        debug_assert!(
            path.rsplit('/')
                .next()
                .is_some_and(|last| last.starts_with("{*")),
            "not_found_below takes a wildcard path"
        );
        self.router = self.router.route(path, get(handler));
        self
    }

    fn add(
        mut self,
        path: &str,
        method: HttpMethod,
        method_router: MethodRouter<S>,
        described: impl IntoIterator<Item = (String, Operation)>,
    ) -> Routes<S> {
        self.router = self.router.route(path, method_router);
        self.operations.extend(
            described
                .into_iter()
                .map(|(path, operation)| DescribedOperation {
                    method,
                    path,
                    operation,
                }),
        );
        self
    }

    /// These routes and `other`'s.
    pub(crate) fn merge(mut self, other: Routes<S>) -> Routes<S> {
        self.router = self.router.merge(other.router);
        self.operations.extend(other.operations);
        self
    }

    /// These routes and `inner`'s under `prefix`.
    pub(crate) fn nest(mut self, prefix: &str, inner: Routes<S>) -> Routes<S> {
        self.router = self.router.nest(prefix, inner.router);
        self.operations
            .extend(inner.operations.into_iter().map(|mut described| {
                described.path = format!("{prefix}{}", described.path);
                described
            }));
        self
    }

    /// Applies layers (middleware) to the router. A route added here instead of through
    /// [`Routes::get`] and the others would be undescribed: the test that walks the router
    /// finds it.
    pub(crate) fn map_router(mut self, layering: impl FnOnce(Router<S>) -> Router<S>) -> Routes<S> {
        self.router = layering(self.router);
        self
    }

    /// Changes every operation, e.g. marks them as needing a login where the authentication
    /// layer is applied.
    pub(crate) fn map_operations(
        mut self,
        mut change: impl FnMut(Operation) -> Operation,
    ) -> Routes<S> {
        self.operations = self
            .operations
            .into_iter()
            .map(|described| DescribedOperation {
                operation: change(described.operation),
                ..described
            })
            .collect();
        self
    }

    /// The routes with their state provided.
    pub(crate) fn with_state<S2>(self, state: S) -> Routes<S2>
    where
        S2: Clone + Send + Sync + 'static,
    {
        Routes {
            router: self.router.with_state(state),
            operations: self.operations,
        }
    }

    /// The router to serve, and the description of each of its routes.
    pub(crate) fn into_parts(self) -> (Router<S>, Vec<DescribedOperation>) {
        (self.router, self.operations)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_with_one_status_are_listed_together() {
        let operation = Operation::new("something")
            .refuses(403, &[ErrorCode::ForbiddenRole], "only administrators")
            .refuses(403, &[ErrorCode::OutsideJurisdiction], "another territory");
        let value = operation.to_openapi("/x");
        assert_eq!(
            value["responses"]["403"]["x-error-codes"],
            json!(["forbidden_role", "outside_jurisdiction"])
        );
        assert_eq!(
            value["responses"]["403"]["description"],
            json!("only administrators; another territory")
        );
    }

    #[test]
    fn undeclared_path_parameters_are_added_as_strings() {
        let value = Operation::new("a report")
            .parameters(json!([{ "name": "kind", "in": "path", "required": true,
                                 "schema": { "type": "string", "enum": ["monthly"] } }]))
            .to_openapi("/reports/{kind}/{period}");
        let names: Vec<&str> = value["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|parameter| parameter["name"].as_str())
            .collect();
        assert_eq!(names, vec!["period", "kind"]);
        assert_eq!(value["parameters"][1]["schema"]["enum"], json!(["monthly"]));
    }
}
