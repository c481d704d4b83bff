//! The public query service (Art. 27, 28, 30, 31, 33–35): licensed enterprises, the
//! cancellation list, registered reviewers and technical experts, the contacts of review
//! departments and inspection bodies, and the publications, as HTML pages under `/public` and
//! the same data as JSON under `/public/api`. No login; pages are cached by ETag, clients are
//! rate-limited by address.
//!
//! Only classified-public fields of public collections leave here (Art. 36): every response is
//! rendered from [`view::public_view`], which reads the model's classification. The service is
//! mounted on the staff listener ([`router`]) and can run alone on a listener of its own
//! ([`public_app`], [`serve`]) that an operator exposes to the internet while the staff API and
//! node-to-node endpoints stay private.

mod html;
mod limit;
mod listing;
mod view;

use crate::error::ErrorCode;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::rejection::QueryRejection;
use axum::extract::{MatchedPath, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::serve::ListenerExt;
use licnode_app::Archive;
use licnode_store::StoreError;
use serde_json::{Value, json};
use tracing::Instrument;

use crate::client_address::{ClientAddress, remember_client_address};
use crate::routes::{Operation, Routes};
use crate::{AppState, Metrics, NodeInfo};
use limit::RateLimiter;
use listing::{LISTINGS, Listing, Params};

pub use view::{PublicRecord, public_view};

/// Where the service is mounted, on the staff listener and on its own.
pub const PREFIX: &str = "/public";

/// How long clients and proxies may reuse a page before asking again (with its ETag).
const CACHE_CONTROL: &str = "public, max-age=60";

const HTML: &str = "text/html; charset=utf-8";
const JSON: &str = "application/json";

/// Settings of the public service.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PublicOptions {
    /// Requests a client (an IPv4 address or an IPv6 /64) may make per second, sustained;
    /// 0 turns rate limiting off.
    pub requests_per_second: f64,
    /// Requests a client may make at once before the rate applies.
    pub burst: u32,
}

impl Default for PublicOptions {
    fn default() -> Self {
        PublicOptions {
            requests_per_second: 10.0,
            burst: 60,
        }
    }
}

/// What the public handlers share.
#[derive(Clone)]
struct PublicState {
    archive: Archive,
    node: Arc<NodeInfo>,
    limiter: Arc<RateLimiter>,
    /// The provinces a visitor may filter by: the node's own, or all at the national node.
    provinces: Arc<Vec<(String, String)>>,
    /// The node's clock: "in force" is judged on its China date (Art. 27).
    clock: licnode_app::SharedClock,
}

/// Every page and JSON endpoint of the service (paths, without query strings).
pub fn endpoints() -> Vec<String> {
    let mut paths = vec![PREFIX.to_string(), format!("{PREFIX}/api")];
    for listing in LISTINGS {
        paths.push(format!("{PREFIX}/{}", listing.slug));
        paths.push(format!("{PREFIX}/api/{}", listing.slug));
    }
    paths
}

/// The public service with default options, for mounting on the staff application.
pub fn router(state: &AppState) -> Router<AppState> {
    router_with(state, PublicOptions::default())
}

/// The public service's routes (all under [`PREFIX`]), with its own rate limiter.
pub fn router_with<S>(state: &AppState, options: PublicOptions) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    routes_with(state, options).into_parts().0
}

/// The public service with default options and the description of each page and JSON
/// endpoint, for mounting on the staff application.
pub(crate) fn routes(state: &AppState) -> Routes<AppState> {
    routes_with(state, PublicOptions::default())
}

/// The public service's routes, each with its description, and its own rate limiter.
fn routes_with<S>(state: &AppState, options: PublicOptions) -> Routes<S>
where
    S: Clone + Send + Sync + 'static,
{
    let public_state = PublicState {
        archive: state.archive.clone(),
        node: state.node.clone(),
        limiter: Arc::new(RateLimiter::new(options.requests_per_second, options.burst)),
        provinces: Arc::new(provinces_in_scope(&state.node.code)),
        clock: state.clock.clone(),
    };
    let home_page =
        || page_operation("The home page of the public query service (Art. 27, 28, 30, 31, 33-35)");
    let index = || {
        Operation::new("The public listings: title, legal basis, HTML and JSON paths and parameters of each, and the provinces a visitor may filter by")
            .tag("public")
            .answers_json(200, "the listings (cached by ETag)", json!({ "type": "object" }))
            .answers(304, "not modified (If-None-Match)")
            .refuses(429, &[ErrorCode::RateLimited], RATE_LIMITED)
    };
    let mut routes = Routes::new()
        .get(PREFIX, home, home_page())
        .get(&format!("{PREFIX}/"), home, home_page())
        .get(&format!("{PREFIX}/api"), api_index, index())
        .get(&format!("{PREFIX}/api/"), api_index, index())
        .not_found_below(&format!("{PREFIX}/api/{{*rest}}"), not_found_json)
        .not_found_below(&format!("{PREFIX}/{{*rest}}"), not_found_html);
    for listing in LISTINGS {
        routes = routes
            .get(
                &format!("{PREFIX}/{}", listing.slug),
                move |state: State<PublicState>, headers: HeaderMap, query: RawQuery| {
                    listing_html(state, listing, headers, query)
                },
                listing_operation(listing, Format::Html),
            )
            .get(
                &format!("{PREFIX}/api/{}", listing.slug),
                move |state: State<PublicState>, headers: HeaderMap, query: RawQuery| {
                    listing_json(state, listing, headers, query)
                },
                listing_operation(listing, Format::Json),
            );
    }
    routes
        .map_router(|router| {
            router.layer(middleware::from_fn_with_state(
                public_state.clone(),
                rate_limit,
            ))
        })
        .with_state(public_state)
}

/// What a refused over-eager client is told.
const RATE_LIMITED: &str = "too many requests from this client address (an IPv6 /64 counts as one); `Retry-After` says when to come back";

/// An HTML page of the public service: its refusals are pages too.
fn page_operation(summary: &str) -> Operation {
    Operation::new(summary)
        .tag("public")
        .answers_content(
            200,
            "the page (cached by ETag)",
            HTML,
            json!({ "type": "string" }),
        )
        .answers(304, "not modified (If-None-Match)")
        .refuses_with_page(429, RATE_LIMITED)
}

/// A listing, as an HTML page or as JSON: the public fields of the public records (Art. 36).
fn listing_operation(listing: &Listing, format: Format) -> Operation {
    let mut parameters = vec![
        json!({ "name": "q", "in": "query", "schema": { "type": "string" }, "description": listing.query_hint_zh }),
    ];
    if listing.by_category {
        parameters.push(json!({ "name": "category", "in": "query", "schema": { "type": "string" }, "description": "product category" }));
    }
    if listing.by_province {
        parameters.push(json!({ "name": "province", "in": "query", "schema": { "type": "string" }, "description": "two-digit province prefix" }));
    }
    if let Some(field) = listing.kind_field {
        let kinds: Vec<&str> = listing
            .kind_choices()
            .into_iter()
            .map(|(value, _)| value)
            .collect();
        parameters.push(json!({ "name": "kind", "in": "query", "schema": { "type": "string", "enum": kinds }, "description": field }));
    }
    if listing.by_validity {
        let mut classes: Vec<&str> = licnode_model::validity::LicenceValidity::ALL
            .iter()
            .map(|class| class.as_str())
            .collect();
        classes.push(listing::ALL_VALIDITIES);
        parameters.push(json!({ "name": "validity", "in": "query", "schema": { "type": "string", "enum": classes }, "description": "Art. 27: in_force (the default), expired, ended (撤回/撤销/吊销/注销) or all; the answer labels each item in `item_validity`" }));
    }
    parameters.push(json!({ "name": "after", "in": "query", "schema": { "type": "string" }, "description": "the `next` of the previous page" }));
    parameters.push(json!({ "name": "limit", "in": "query", "schema": { "type": "integer", "minimum": 1, "maximum": listing::MAX_LIMIT } }));
    let summary = format!("{} ({})", listing.title_zh, listing.basis_zh);
    let operation = match format {
        Format::Html => page_operation(&summary),
        Format::Json => Operation::new(summary)
            .tag("public")
            .answers_json(200, "`listing`, `title`, `basis`, `collection`, `fields` (the public ones), `items`, `next` (cached by ETag)", json!({ "type": "object" }))
            .answers(304, "not modified (If-None-Match)")
            .refuses(429, &[ErrorCode::RateLimited], RATE_LIMITED),
    };
    let operation = operation.parameters(serde_json::Value::Array(parameters));
    let refused = "a malformed or unknown parameter";
    match format {
        Format::Html => operation.refuses_with_page(400, refused),
        Format::Json => operation.refuses(
            400,
            &[
                ErrorCode::BadQuery,
                ErrorCode::UnknownParameter,
                ErrorCode::QueryTooShort,
                ErrorCode::QueryTooLong,
                ErrorCode::BadProvince,
                ErrorCode::BadKind,
                ErrorCode::BadValidity,
                ErrorCode::BadCursor,
                ErrorCode::BadLimit,
            ],
            refused,
        ),
    }
}

/// The public service alone, for its own listener: `/` leads to [`PREFIX`]; nothing of the
/// staff API or the node-to-node endpoints is reachable.
pub fn public_app(state: AppState, options: PublicOptions) -> Router {
    Router::new()
        .route("/", get(|| async { Redirect::to(PREFIX) }))
        .merge(router_with(&state, options))
        .fallback(not_found_html_outside)
        .layer(middleware::from_fn_with_state(
            state.metrics.clone(),
            request_context,
        ))
        .layer(middleware::from_fn_with_state(
            state.trusted_proxies.clone(),
            remember_client_address,
        ))
}

/// Serves [`public_app`] on `listener` until `shutdown` resolves.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    options: PublicOptions,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    // Small answers go out at once instead of waiting for the previous segment's ACK (Nagle).
    let listener = listener.tap_io(|stream| {
        if let Err(error) = stream.set_nodelay(true) {
            tracing::debug!(%error, "public service: cannot set TCP_NODELAY");
        }
    });
    axum::serve(
        listener,
        public_app(state, options).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}

/// The provinces a visitor may filter by, as (two-digit prefix, name): a territorial node
/// below the national one publishes its own province only.
fn provinces_in_scope(node_code: &str) -> Vec<(String, String)> {
    use licnode_model::divisions;
    let province_of_node = divisions::province_of(node_code);
    divisions::provinces()
        .into_iter()
        .filter(|province| province_of_node.is_none_or(|own| own.code == province.code))
        .filter_map(|province| {
            Some((
                province.province_prefix()?.to_string(),
                province.name.clone(),
            ))
        })
        .collect()
}

type RawQuery = Result<Query<Vec<(String, String)>>, QueryRejection>;

/// Whether a path is answered in JSON or HTML.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    Html,
    Json,
}

impl Format {
    fn of(path: &str) -> Format {
        let api = format!("{PREFIX}/api");
        if path == api || path.starts_with(&format!("{api}/")) {
            Format::Json
        } else {
            Format::Html
        }
    }
}

/// A refusal of the public service: a stable code, a message for people (in Chinese), the
/// status; internal errors are logged and never described.
#[derive(Debug)]
pub(crate) struct PublicError {
    status: StatusCode,
    code: ErrorCode,
    message: String,
    retry_after: Option<Duration>,
}

impl PublicError {
    pub(crate) fn bad_request(code: ErrorCode, message: impl Into<String>) -> Self {
        PublicError {
            status: StatusCode::BAD_REQUEST,
            code,
            message: message.into(),
            retry_after: None,
        }
    }

    pub(crate) fn internal(what: &str) -> Self {
        tracing::error!(error = %what, "public service: internal error");
        PublicError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            code: ErrorCode::Internal,
            message: "查询暂时无法完成，请稍后再试".into(),
            retry_after: None,
        }
    }

    fn store(error: StoreError) -> Self {
        Self::internal(&error.to_string())
    }

    fn not_found() -> Self {
        PublicError {
            status: StatusCode::NOT_FOUND,
            code: ErrorCode::NotFound,
            message: "没有这个页面".into(),
            retry_after: None,
        }
    }

    fn too_many_requests(wait: Duration) -> Self {
        PublicError {
            status: StatusCode::TOO_MANY_REQUESTS,
            code: ErrorCode::RateLimited,
            message: "查询过于频繁，请稍后再试".into(),
            retry_after: Some(wait),
        }
    }

    fn response(self, format: Format, agency: &str) -> Response {
        let (content_type, body) = match format {
            Format::Json => (
                JSON,
                json!({ "error": { "code": self.code.as_str(), "message": self.message } })
                    .to_string(),
            ),
            Format::Html => (
                HTML,
                html::error(agency, self.status.as_u16(), &self.message),
            ),
        };
        let mut response = (self.status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if let Some(wait) = self.retry_after {
            // Whole seconds, rounded up (RFC 9110 delay-seconds).
            let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds.max(1)));
        }
        protect(headers);
        response
    }
}

/// Headers every public response carries: no sniffing, no framing, no scripts, no referrer.
fn protect(headers: &mut HeaderMap) {
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; \
             base-uri 'none'; frame-ancestors 'none'",
        ),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
}

/// A cacheable answer: `200` with an ETag of the body, or `304` when the client already holds
/// that body (`If-None-Match`).
fn cached(request_headers: &HeaderMap, content_type: &'static str, body: String) -> Response {
    let etag = entity_tag(body.as_bytes());
    let unchanged = request_headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(|tag| tag.trim().trim_start_matches("W/"))
        .any(|tag| tag == etag || tag == "*");
    let mut response = if unchanged {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let mut response = body.into_response();
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
        response
    };
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&etag) {
        headers.insert(header::ETAG, value);
    }
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(CACHE_CONTROL),
    );
    protect(headers);
    response
}

/// A strong entity tag of a body: its 64-bit FNV-1a hash and length. Stable across processes,
/// so several processes over one database answer the same tag for the same page.
fn entity_tag(body: &[u8]) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in body {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("\"{hash:016x}-{:x}\"", body.len())
}

/// Per-client rate limiting, by client address: the peer, or the client a trusted proxy
/// forwarded for (429 with `Retry-After`).
async fn rate_limit(State(state): State<PublicState>, request: Request, next: Next) -> Response {
    let client = ClientAddress::of(request.extensions());
    match state.limiter.check(client.0) {
        Ok(()) => next.run(request).await,
        Err(wait) => {
            tracing::debug!(%client, "public service: rate limited");
            PublicError::too_many_requests(wait)
                .response(Format::of(request.uri().path()), &state.node.name)
        }
    }
}

/// Request ids, a tracing span and metrics for the public service on its own listener (on
/// the staff listener the staff application's middleware does this).
async fn request_context(
    State(metrics): State<Arc<Metrics>>,
    request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let request_id = request
        .headers()
        .get("x-request-id")
        .and_then(|value| value.to_str().ok())
        .filter(|value| !value.is_empty() && value.len() <= 64)
        .map(str::to_string)
        .unwrap_or_else(|| uuid::Uuid::now_v7().simple().to_string());
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|path| path.as_str().to_string())
        .unwrap_or_else(|| "unmatched".to_string());
    let method = request.method().to_string();
    let client = ClientAddress::of(request.extensions());
    let span = tracing::info_span!(
        "public_request",
        %request_id,
        %method,
        path = %request.uri().path(),
        %client
    );
    let mut response = next.run(request).instrument(span.clone()).await;
    let status = response.status().as_u16();
    let elapsed = started.elapsed();
    span.in_scope(|| {
        tracing::info!(
            status,
            elapsed_ms = elapsed.as_secs_f64() * 1000.0,
            "answered"
        )
    });
    metrics.observe_request(&method, &route, status, elapsed);
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert("x-request-id", value);
    }
    response
}

async fn home(State(state): State<PublicState>, headers: HeaderMap) -> Response {
    match national_centre_contacts(&state).await {
        Ok(contacts) => cached(
            &headers,
            HTML,
            html::home(&state.node.name, contacts.as_ref()),
        ),
        Err(error) => error.response(Format::Html, &state.node.name),
    }
}

/// Art. 35: the national review centre's contacts and consultation telephone — the newest
/// publication in force of kind `centre_contacts` that the national node made (jurisdiction
/// 100000; it flows down to every node, Art. 32).
async fn national_centre_contacts(
    state: &PublicState,
) -> Result<Option<PublicRecord>, PublicError> {
    let collection = licnode_model::collection("publications")
        .ok_or_else(|| PublicError::internal("no publications collection"))?;
    let mut query = licnode_store::public::PublicQuery::new(collection, 1);
    query
        .equals
        .push(("publication_kind", "centre_contacts".into()));
    query.equals.push(("status", "in_force".into()));
    query.jurisdiction = Some(licnode_model::divisions::NATIONAL_CODE.into());
    let page = state
        .archive
        .public_records(&query)
        .await
        .map_err(PublicError::store)?;
    Ok(page
        .rows
        .first()
        .map(|row| public_view(collection, &row.data)))
}

async fn api_index(State(state): State<PublicState>, headers: HeaderMap) -> Response {
    let listings: Vec<Value> = LISTINGS
        .iter()
        .map(|listing| {
            let mut parameters = vec!["q"];
            if listing.by_category {
                parameters.push("category");
            }
            if listing.by_province {
                parameters.push("province");
            }
            if listing.kind_field.is_some() {
                parameters.push("kind");
            }
            if listing.by_validity {
                parameters.push("validity");
            }
            parameters.extend(["after", "limit"]);
            json!({
                "listing": listing.slug,
                "title": listing.title_zh,
                "basis": listing.basis_zh,
                "html": format!("{PREFIX}/{}", listing.slug),
                "json": format!("{PREFIX}/api/{}", listing.slug),
                "parameters": parameters,
            })
        })
        .collect();
    let contacts = match national_centre_contacts(&state).await {
        Ok(contacts) => contacts,
        Err(error) => return error.response(Format::Json, &state.node.name),
    };
    let body = json!({
        "agency": state.node.name,
        "national_centre_contacts": contacts.as_ref().map(PublicRecord::fields),
        "listings": listings,
        "provinces": state.provinces.iter().map(|(code, name)| json!({"code": code, "name": name})).collect::<Vec<_>>(),
    });
    cached(&headers, JSON, body.to_string())
}

/// Reads one page of a listing: the records' public views and the next cursor.
async fn load(
    state: &PublicState,
    listing: &Listing,
    query: RawQuery,
) -> Result<(Params, Vec<PublicRecord>, Option<i64>), PublicError> {
    let today = state.clock.today().format("%Y-%m-%d").to_string();
    let Query(raw) = query.map_err(|rejection| {
        PublicError::bad_request(
            ErrorCode::BadQuery,
            format!("查询参数有误：{}", rejection.body_text()),
        )
    })?;
    let params = listing::parse(listing, &raw)?;
    let store_query = listing::query(listing, &params, &today)?;
    let page = state
        .archive
        .public_records(&store_query)
        .await
        .map_err(PublicError::store)?;
    let collection = store_query.collection();
    let records = page
        .rows
        .iter()
        .map(|row| public_view(collection, &row.data))
        .collect();
    Ok((params, records, page.next))
}

async fn listing_html(
    State(state): State<PublicState>,
    listing: &'static Listing,
    headers: HeaderMap,
    query: RawQuery,
) -> Response {
    match load(&state, listing, query).await {
        Ok((params, records, next)) => cached(
            &headers,
            HTML,
            html::listing(
                &state.node.name,
                listing,
                &params,
                &state.provinces,
                &html::Page {
                    records: &records,
                    next,
                    today: &state.clock.today().format("%Y-%m-%d").to_string(),
                },
            ),
        ),
        Err(error) => error.response(Format::Html, &state.node.name),
    }
}

async fn listing_json(
    State(state): State<PublicState>,
    listing: &'static Listing,
    headers: HeaderMap,
    query: RawQuery,
) -> Response {
    let (params, records, next) = match load(&state, listing, query).await {
        Ok(loaded) => loaded,
        Err(error) => return error.response(Format::Json, &state.node.name),
    };
    let Ok(collection) = listing.model() else {
        return PublicError::internal("listing without collection")
            .response(Format::Json, &state.node.name);
    };
    let fields: Vec<Value> = collection
        .public_fields()
        .map(|field| json!({ "name": field.name, "label_zh": field.label_zh, "type": field.field_type.name() }))
        .collect();
    let items: Vec<&serde_json::Map<String, Value>> =
        records.iter().map(PublicRecord::fields).collect();
    // Art. 27: which licences the page holds, and whether each is in force, expired or ended
    // (beside the items, which hold public fields only).
    let today = state.clock.today().format("%Y-%m-%d").to_string();
    let validity = match listing::validity(listing, &params) {
        Ok(class) => class.map_or(listing::ALL_VALIDITIES, |class| class.as_str()),
        Err(error) => return error.response(Format::Json, &state.node.name),
    };
    let item_validity: Option<Vec<Value>> = listing.by_validity.then(|| {
        records
            .iter()
            .map(|record| {
                let (class, label) = view::validity_of(record, &today);
                json!({ "validity": class.as_str(), "label": label })
            })
            .collect()
    });
    let mut body = json!({
        "listing": listing.slug,
        "title": listing.title_zh,
        "basis": listing.basis_zh,
        "collection": collection.name,
        "fields": fields,
        "items": items,
        "next": next.map(|key| key.to_string()),
    });
    if let Some(item_validity) = item_validity {
        body["validity"] = json!(validity);
        body["item_validity"] = json!(item_validity);
    }
    cached(&headers, JSON, body.to_string())
}

async fn not_found_html(State(state): State<PublicState>) -> Response {
    PublicError::not_found().response(Format::Html, &state.node.name)
}

async fn not_found_json(State(state): State<PublicState>) -> Response {
    PublicError::not_found().response(Format::Json, &state.node.name)
}

/// Anything outside [`PREFIX`] on the public listener.
async fn not_found_html_outside() -> Response {
    PublicError::not_found().response(Format::Html, "")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entity_tags_differ_with_the_body_and_are_stable() {
        assert_eq!(entity_tag(b"abc"), entity_tag(b"abc"));
        assert_ne!(entity_tag(b"abc"), entity_tag(b"abd"));
        assert!(entity_tag(b"").starts_with('"'));
    }

    #[test]
    fn api_paths_answer_json_and_the_rest_html() {
        assert_eq!(Format::of("/public/api"), Format::Json);
        assert_eq!(Format::of("/public/api/licences"), Format::Json);
        assert_eq!(Format::of("/public/apis"), Format::Html);
        assert_eq!(Format::of("/public/licences"), Format::Html);
    }

    #[test]
    fn a_provincial_node_offers_its_own_province_and_the_national_node_all() {
        assert_eq!(
            provinces_in_scope("330106"),
            vec![("33".to_string(), "浙江省".to_string())]
        );
        assert_eq!(provinces_in_scope("100000").len(), 31);
    }
}
