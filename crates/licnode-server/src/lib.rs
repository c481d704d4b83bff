//! The only crate that knows HTTP: the staff API (records, search, history, conflicts, the
//! change log), the staff web application at `/`, the OpenAPI document, `/healthz` and
//! `/metrics`, with JSON errors carrying a stable code and a request id on every request.

#![forbid(unsafe_code)]

pub mod anchors;
mod audit;
pub mod auth;
pub mod client_address;
pub mod deadlines;
pub mod error;
mod export;
mod flows;
pub mod json_body;
mod licence_actions;
pub mod links;
pub mod metrics;
mod openapi;
pub mod peer;
pub mod public;
mod records;
mod reports;
pub mod retention;
mod routes;
pub mod sync;
pub mod web;

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use licnode_app::Archive;
use routes::{Operation, Routes};
use serde::Serialize;
use serde_json::json;
use tracing::Instrument;

pub use error::{ApiError, ErrorCode};
pub use metrics::Metrics;

/// Largest request body accepted, in bytes.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// What the node says about itself.
#[derive(Clone, Debug, Serialize)]
pub struct NodeInfo {
    pub code: String,
    pub level: String,
    pub name: String,
    pub parent_url: Option<String>,
}

/// The state every handler shares.
#[derive(Clone)]
pub struct AppState {
    pub archive: Archive,
    pub node: Arc<NodeInfo>,
    pub metrics: Arc<Metrics>,
    pub login_limiter: Arc<auth::LoginLimiter>,
    /// The reverse proxies whose `X-Forwarded-For` is believed (`[http] trusted_proxies`).
    pub trusted_proxies: Arc<client_address::TrustedProxies>,
    /// The link to the parent, when this node has one.
    pub link: Option<Arc<sync::LinkHandle>>,
    /// The node's clock (injected in tests).
    pub clock: licnode_app::SharedClock,
    /// Retention length, approval validity and the node key (Art. 37, 38).
    pub retention: Arc<retention::RetentionSettings>,
    /// The last late-deadline gauge rendered for `/metrics`, with the day and audit-log
    /// position it was computed at (see `deadlines::metrics_text`).
    pub(crate) deadline_gauge: Arc<deadlines::GaugeCache>,
    /// The deadline board's last evaluation (see `deadlines::board_items`).
    pub(crate) deadline_board: Arc<deadlines::BoardCache>,
    /// The last whole verification of the audit log run from the web application (see
    /// `web::audit`): the page shows it; running it again is an explicit action.
    pub(crate) audit_verification: Arc<web::LastAuditVerification>,
    /// The home page's records per collection, with the audit-log position they were read at.
    pub(crate) home_counts: Arc<web::CountsCache>,
    /// The node's certificate and CRLs, when it has them (shown on the health page).
    pub node_tls: Option<licnode_pki::NodeTls>,
    /// The name this process holds the node's once-only lock under, when it serves beside
    /// others over one database (`/api/v1/sync/status` says whether it is the holder).
    pub process_name: Option<Arc<str>>,
}

impl AppState {
    /// The state of a node serving `archive`.
    pub fn new(archive: Archive, node: NodeInfo) -> AppState {
        AppState {
            archive,
            node: Arc::new(node),
            metrics: Arc::new(Metrics::default()),
            login_limiter: Arc::new(auth::LoginLimiter::default()),
            trusted_proxies: Arc::default(),
            link: None,
            clock: Arc::new(licnode_app::SystemClock),
            retention: Arc::default(),
            deadline_gauge: Arc::default(),
            deadline_board: Arc::default(),
            audit_verification: Arc::default(),
            home_counts: Arc::default(),
            node_tls: None,
            process_name: None,
        }
    }

    /// The same state, knowing the node's certificate and CRLs.
    pub fn with_node_tls(mut self, node_tls: Option<licnode_pki::NodeTls>) -> AppState {
        self.node_tls = node_tls;
        self
    }

    /// The same state, with these retention settings.
    pub fn with_retention(mut self, settings: retention::RetentionSettings) -> AppState {
        self.retention = Arc::new(settings);
        self
    }

    /// The same state, believing `X-Forwarded-For` from these reverse proxies only.
    pub fn with_trusted_proxies(
        mut self,
        trusted_proxies: client_address::TrustedProxies,
    ) -> AppState {
        self.trusted_proxies = Arc::new(trusted_proxies);
        self
    }

    /// The same state, with another clock.
    pub fn with_clock(mut self, clock: licnode_app::SharedClock) -> AppState {
        self.clock = clock;
        self
    }

    /// The same state, naming the process that serves it.
    pub fn with_process_name(mut self, name: &str) -> AppState {
        self.process_name = Some(Arc::from(name));
        self
    }

    /// The same state, with the link to the parent.
    pub fn with_link(mut self, link: Arc<sync::LinkHandle>) -> AppState {
        self.link = Some(link);
        self
    }
}

/// The whole HTTP application of a node.
pub fn app(state: AppState) -> Router {
    let document: Arc<OnceLock<Bytes>> = Arc::default();
    let (router, operations) = described_app(&state, document.clone()).into_parts();
    // Rendered once, from the operations of every route just declared.
    let _ = document.set(Bytes::from(openapi::document(&operations).to_string()));
    router
        .fallback(unknown_route)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            request_context,
        ))
        .layer(middleware::from_fn_with_state(
            state.trusted_proxies.clone(),
            client_address::remember_client_address,
        ))
        .with_state(state)
}

/// Every route of the application, each declared with its description: the staff API, the
/// public service, health, metrics and `/openapi.json`, which serves `document` once `app` has
/// rendered it from these operations.
fn described_app(state: &AppState, document: Arc<OnceLock<Bytes>>) -> Routes<AppState> {
    let staff = records::routes()
        .merge(auth::staff_routes())
        .merge(audit::routes())
        .merge(deadlines::routes())
        .merge(reports::routes())
        .merge(retention::routes())
        .merge(links::staff_routes())
        .merge(licence_actions::routes())
        .merge(flows::routes())
        .map_operations(Operation::requiring_login)
        .map_router(|router| {
            router
                // Inside authentication: a request without a token is refused first.
                .route_layer(middleware::from_fn(json_body::refuse_duplicate_keys))
                .route_layer(middleware::from_fn_with_state(
                    state.clone(),
                    auth::authenticate,
                ))
        });
    let api = auth::open_routes()
        .map_router(|router| {
            router.route_layer(middleware::from_fn(json_body::refuse_duplicate_keys))
        })
        .merge(staff)
        .map_operations(|operation| {
            if operation.has_body() {
                operation.refuses(
                    400,
                    &[ErrorCode::DuplicateKey],
                    "a key repeated in one JSON object",
                )
            } else {
                operation
            }
        })
        .map_operations(|operation| operation.tag("staff"));
    Routes::new()
        .get(
            "/healthz",
            healthz,
            Operation::new("Liveness and database reachability")
                .tag("node")
                .answers_json(200, "ok", health_schema())
                .answers_json(
                    503,
                    "degraded: the database is unreachable",
                    health_schema(),
                ),
        )
        .get(
            "/metrics",
            metrics_text,
            Operation::new(
                "Prometheus metrics: requests, latency, change log, sync link, late deadlines",
            )
            .tag("node")
            .answers_content(
                200,
                "OpenMetrics text",
                "application/openmetrics-text",
                json!({ "type": "string" }),
            ),
        )
        .get(
            "/openapi.json",
            move || {
                let document = document.clone();
                async move {
                    (
                        [(header::CONTENT_TYPE, "application/json")],
                        document.get().cloned().unwrap_or_default(),
                    )
                }
            },
            Operation::new("This document: every route the staff listener serves")
                .tag("node")
                .answers_json(200, "OpenAPI 3.1", json!({ "type": "object" })),
        )
        .nest("/api/v1", api)
        .merge(public::routes(state))
        .merge(web::routes(state))
}

/// Serves `app` on `listener` until `shutdown` resolves.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        app(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}

/// Gives every request an id (the client's `x-request-id`, or a new one), a tracing span that
/// carries it, an `x-request-id` response header, and a place in the metrics.
async fn request_context(State(state): State<AppState>, request: Request, next: Next) -> Response {
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
    let client = client_address::ClientAddress::of(request.extensions());
    let span = tracing::info_span!(
        "request",
        %request_id,
        %method,
        path = %request.uri().path(),
        %client,
        user = tracing::field::Empty
    );
    let mut response = next.run(request).instrument(span.clone()).await;
    let status = response.status().as_u16();
    let elapsed = started.elapsed();
    span.in_scope(|| {
        tracing::info!(
            status,
            elapsed_ms = elapsed.as_secs_f64() * 1000.0,
            "answered"
        );
    });
    state
        .metrics
        .observe_request(&method, &route, status, elapsed);
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert("x-request-id", value);
    }
    response
}

/// The body of `/healthz`, whatever its status.
fn health_schema() -> serde_json::Value {
    json!({ "type": "object", "properties": {
        "status": { "type": "string", "enum": ["ok", "degraded"] },
        "node": { "type": "string" },
        "database": { "type": "string", "enum": ["ok", "unreachable"] },
        "backend": { "type": "string", "enum": ["sqlite", "postgres"] } } })
}

async fn healthz(State(state): State<AppState>) -> Response {
    let database = state.archive.ping().await;
    let status = if database {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = json!({
        "status": if database { "ok" } else { "degraded" },
        "node": state.node.code,
        "database": if database { "ok" } else { "unreachable" },
        "backend": state.archive.backend().name(),
    });
    (status, Json(body)).into_response()
}

async fn metrics_text(State(state): State<AppState>) -> Response {
    let last_seq = state.archive.last_seq().await.unwrap_or(-1);
    let quarantined = state.archive.quarantine_count().await.unwrap_or(-1);
    let mut gauges = vec![
        ("licnode_up", "1 while the node serves.", 1.0),
        (
            "licnode_change_log_last_seq",
            "Highest sequence number in this node's change log.",
            last_seq as f64,
        ),
        (
            "licnode_sync_quarantined_changes",
            "Received changes refused and kept in quarantine.",
            quarantined as f64,
        ),
    ];
    if let Some(link) = &state.link {
        let status = link.snapshot();
        // Counted now (-1 when it cannot be: no session with the parent ended yet, or the
        // store failed), like the other gauges of the store.
        let lag_up = state.archive.lag_up().await.ok().flatten().unwrap_or(-1);
        gauges.extend([
            (
                "licnode_sync_lag_up_changes",
                "Changes of this node's log that go up and the parent has not acknowledged (counted at most 10,000; -1 before the first session with the parent ended).",
                lag_up as f64,
            ),
            (
                "licnode_sync_last_success_timestamp_seconds",
                "When the last session with the parent succeeded.",
                status.last_success_ms.unwrap_or(0) as f64 / 1000.0,
            ),
            (
                "licnode_sync_consecutive_failures",
                "Failed sessions with the parent since the last success.",
                f64::from(status.consecutive_failures),
            ),
        ]);
    }
    let body = state
        .metrics
        .render(&gauges, &deadlines::metrics_text(&state).await);
    ([(header::CONTENT_TYPE, metrics::CONTENT_TYPE)], body).into_response()
}

async fn unknown_route() -> ApiError {
    ApiError::not_found("no such endpoint; the API is described at /openapi.json")
}

async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}
