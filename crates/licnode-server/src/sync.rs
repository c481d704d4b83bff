//! Node-to-node endpoints, served only over mutual TLS: the verified peer reaches every handler
//! as a typed [`PeerIdentity`] (from its certificate), never as a string to re-parse.
//!
//! The HTTP transport of the replication engine, the parent's end: each endpoint carries one
//! message of `licnode_sync::protocol` to [`licnode_app::replication::parent`] and its answer
//! back; no protocol logic lives here.

use axum::extract::rejection::JsonRejection;
use axum::extract::{DefaultBodyLimit, Query, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use licnode_app::replication;
use licnode_pki::PeerIdentity;
use licnode_sync::NodeRef;
use licnode_sync::protocol::{
    CURSOR_PATH, CarriesChanges, CursorResponse, FRAMED_CONTENT_TYPE, HELLO_PATH,
    MAX_BATCH_BODY_BYTES, PULL_PATH, PUSH_PATH, PullRequest, PullResponse, PushRequest,
    PushResponse, RECOVER_PATH, decode_framed, encode_framed,
};
use serde_json::{Value, json};

use crate::AppState;
use crate::error::ApiError;
use crate::routes::{Operation, Routes};

/// The node-to-node router (mount it on the mutual-TLS listener only). Every route answers
/// only a direct child of this node (issue 11 item 3), and every error — axum's own rejections
/// and unknown routes included — is JSON with a stable code, like the staff API's.
pub fn peer_router(state: AppState) -> Router {
    Router::new()
        .route(HELLO_PATH, get(hello))
        .route(CURSOR_PATH, get(cursor))
        .route(PUSH_PATH, post(push))
        .route(PULL_PATH, post(pull))
        .route(RECOVER_PATH, post(recover))
        .merge(crate::anchors::router())
        .merge(crate::links::peer_router())
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            require_direct_child,
        ))
        .fallback(unknown_peer_route)
        .method_not_allowed_fallback(peer_method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BATCH_BODY_BYTES))
        .with_state(state)
}

async fn unknown_peer_route() -> ApiError {
    ApiError::not_found("no such node-to-node endpoint")
}

async fn peer_method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}

/// Refuses, at its first request, any peer that is not a direct child of this node in the tree
/// (`not_a_child`, 403), and records the refusal in the audit log.
async fn require_direct_child(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let Some(peer) = request.extensions().get::<PeerIdentity>().cloned() else {
        return ApiError::NoPeerIdentity.into_response();
    };
    let child = NodeRef::new(peer.code.clone(), peer.level);
    match replication::parent::admit_child(&state.archive, &child, request.uri().path()).await {
        Ok(()) => next.run(request).await,
        Err(error) => ApiError::from(error).into_response(),
    }
}

/// Who the peer is, as its certificate proves, and who this node is.
async fn hello(
    State(state): State<AppState>,
    Extension(peer): Extension<PeerIdentity>,
) -> Json<Value> {
    tracing::info!(peer = %peer.code, level = peer.level.as_str(), "peer hello");
    Json(json!({
        "you": { "code": peer.code, "level": peer.level.as_str(), "serial": peer.serial },
        "me": { "code": state.node.code, "level": state.node.level, "name": state.node.name },
    }))
}

/// The child as its certificate names it.
fn child_of(peer: &PeerIdentity) -> NodeRef {
    NodeRef::new(peer.code.clone(), peer.level)
}

/// What this node has stored of the child's log ([`replication::parent::cursor`]).
async fn cursor(
    State(state): State<AppState>,
    Extension(peer): Extension<PeerIdentity>,
) -> Result<Json<CursorResponse>, ApiError> {
    Ok(Json(
        replication::parent::cursor(&state.archive, &child_of(&peer)).await?,
    ))
}

/// Stores a batch of the child's changes ([`replication::parent::push`]).
async fn push(
    State(state): State<AppState>,
    Extension(peer): Extension<PeerIdentity>,
    PeerBody(request): PeerBody<PushRequest>,
) -> Result<Json<PushResponse>, ApiError> {
    Ok(Json(
        replication::parent::push(&state.archive, &child_of(&peer), request).await?,
    ))
}

/// This node's changes for the child, perhaps after waiting for some
/// ([`replication::parent::pull`]); framed when the child asks for it.
async fn pull(
    State(state): State<AppState>,
    Extension(peer): Extension<PeerIdentity>,
    headers: HeaderMap,
    body: Result<Json<PullRequest>, JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(request) = body?;
    let answer = replication::parent::pull(&state.archive, &child_of(&peer), request).await?;
    answer_batch(&headers, answer)
}

/// The changes this node received from the child ([`replication::parent::recover`]).
async fn recover(
    State(state): State<AppState>,
    Extension(peer): Extension<PeerIdentity>,
    headers: HeaderMap,
    body: Result<Json<PullRequest>, JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(request) = body?;
    let answer = replication::parent::recover(&state.archive, &child_of(&peer), request).await?;
    answer_batch(&headers, answer)
}

/// Whether a header names the framed batch type (`Content-Type`, or among `Accept`'s).
fn names_framed(headers: &HeaderMap, name: header::HeaderName) -> bool {
    headers
        .get(name)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| {
            value.split(',').any(|item| {
                item.split(';').next().unwrap_or_default().trim() == FRAMED_CONTENT_TYPE
            })
        })
}

/// A pull answer, framed when the child accepts it (issue 14 item 2), JSON otherwise.
fn answer_batch(headers: &HeaderMap, answer: PullResponse) -> Result<Response, ApiError> {
    if !names_framed(headers, header::ACCEPT) {
        return Ok(Json(answer).into_response());
    }
    let bytes = encode_framed(answer).map_err(|error| ApiError::internal(&error))?;
    Ok(([(header::CONTENT_TYPE, FRAMED_CONTENT_TYPE)], bytes).into_response())
}

/// A body carrying changes: framed when its content type says so, JSON otherwise (with the
/// JSON extractor's own refusals: 415 for any other type, 400 for malformed JSON).
struct PeerBody<T>(T);

impl<S, T> axum::extract::FromRequest<S> for PeerBody<T>
where
    S: Send + Sync,
    T: serde::de::DeserializeOwned + CarriesChanges,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        if !names_framed(request.headers(), header::CONTENT_TYPE) {
            let Json(value) = Json::<T>::from_request(request, state).await?;
            return Ok(PeerBody(value));
        }
        let bytes = axum::body::Bytes::from_request(request, state)
            .await
            .map_err(|rejection| {
                let reason = rejection.body_text();
                if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::PayloadTooLarge { reason }
                } else {
                    ApiError::BadBatch { reason }
                }
            })?;
        decode_framed(&bytes)
            .map(PeerBody)
            .map_err(|error| ApiError::BadBatch {
                reason: error.to_string(),
            })
    }
}

/// The staff routes about the link to the parent (under `/api/v1`, behind the login), each with
/// its description.
pub(crate) fn staff_routes() -> Routes<AppState> {
    use crate::error::ErrorCode;
    Routes::new()
        .get(
            "/sync/quarantine",
            quarantine,
            Operation::new("Changes received from a neighbour and refused, with their reason codes (kept, never applied)")
                .parameters(json!([{ "name": "limit", "in": "query", "schema": { "type": "integer", "minimum": 1, "maximum": 1000 } }]))
                .answers(200, "`quarantined`: the refused changes, oldest first")
                .refuses(400, &[ErrorCode::BadQuery], "a malformed limit"),
        )
        .get(
            "/sync/status",
            status,
            Operation::new("The link to the parent: last attempt and success, failures, changes pushed and pulled, lag each way, quarantine")
                .answers(200, "`node`, `last_seq`, `quarantined`, and `parent` (null without a link): the sync loop's status, `lag_up` (changes that go up not yet acknowledged by the parent, counted when asked, at most 10,000; null before the first session with the parent ended), `lag_down_ms` (how long since this node last knew it held everything the parent had for it); `children`: each child's link as this end knows it (last session, lag, quarantine); `once_only`: `holder` (the process running the node's once-only work: report scheduler, retention sweep, certificate upkeep), `process` (this one), `this_process`"),
        )
        .post(
            "/sync/now",
            now,
            Operation::new("Wake the sync loop: a session with the parent starts at once (clerks and up)")
                .answers(202, "`triggered` and the link's status")
                .refuses(403, &[ErrorCode::ForbiddenRole], "auditors only read")
                .refuses(409, &[ErrorCode::NoParentLink], "this node has no parent link (no parent_url, or no certificate yet)"),
        )
}

/// `?limit=` of the quarantine listing.
#[derive(serde::Deserialize)]
struct QuarantineQuery {
    limit: Option<i64>,
}

/// The changes this node received and refused, oldest first, with their reasons (staff API:
/// `GET /api/v1/sync/quarantine?limit=`).
async fn quarantine(
    State(state): State<AppState>,
    Query(query): Query<QuarantineQuery>,
) -> Result<Json<Value>, ApiError> {
    let limit = query.limit.unwrap_or(100).clamp(1, 1_000);
    let entries = state.archive.quarantined(limit).await?;
    Ok(Json(json!({ "quarantined": entries })))
}

/// The state of this node's link to its parent, as the sync loop keeps it.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize, PartialEq)]
pub struct LinkStatus {
    pub parent_url: String,
    /// The parent, as its certificate named it at the last session.
    pub parent: Option<String>,
    pub last_attempt_ms: Option<i64>,
    pub last_success_ms: Option<i64>,
    pub last_error: Option<String>,
    pub consecutive_failures: u32,
    pub sessions: u64,
    pub pushed_total: u64,
    pub pulled_total: u64,
    pub quarantined_by_parent_total: u64,
    /// The last sequence number of this node's log the parent acknowledged.
    pub acknowledged: i64,
    /// Changes pulled in the last session (0 once caught up).
    pub pulled_last_session: u64,
    /// When the loop will next try, if no write or request wakes it sooner.
    pub next_attempt_ms: Option<i64>,
    /// Sessions that found this node's log and the parent's cursor for it diverged (a restore,
    /// a reinstall, a forged push) and recovered: pushed the log again, took back its own
    /// changes.
    #[serde(default)]
    pub divergences_total: u64,
    /// What the last divergence was.
    #[serde(default)]
    pub last_divergence: Option<String>,
    /// Own changes taken back from the parent after divergences.
    #[serde(default)]
    pub recovered_total: u64,
    /// The parent's last finding that this node's audit chain no longer extended the anchor it
    /// held (`audit_chain_not_extended`): the chain was rewritten after it was anchored.
    #[serde(default)]
    pub audit_chain_broken: Option<String>,
    /// How long the last session took, in milliseconds.
    #[serde(default)]
    pub last_session_ms: Option<u64>,
    /// Change bytes pushed and pulled since the node was first linked.
    #[serde(default)]
    pub pushed_bytes_total: u64,
    #[serde(default)]
    pub pulled_bytes_total: u64,
    /// When this node last knew it held everything the parent had for it (a session or a
    /// long-poll caught up).
    #[serde(default)]
    pub in_step_at_ms: Option<i64>,
}

/// The running sync loop's status and wake-up bell, shared with the API.
#[derive(Default)]
pub struct LinkHandle {
    pub status: std::sync::Mutex<LinkStatus>,
    pub wake: tokio::sync::Notify,
}

impl LinkHandle {
    /// A copy of the current status.
    pub fn snapshot(&self) -> LinkStatus {
        self.status
            .lock()
            .map(|status| status.clone())
            .unwrap_or_default()
    }
}

/// `GET /api/v1/sync/status`: the link to the parent, lag in changes each way, quarantine,
/// and which process runs the once-only work.
async fn status(State(state): State<AppState>) -> Result<Json<Value>, crate::ApiError> {
    let last_seq = state.archive.last_seq().await?;
    let quarantined = state.archive.quarantine_count().await?;
    let link = match state.link.as_ref() {
        Some(link) => {
            let status = link.snapshot();
            // Counted now, so a link that has been failing shows what accumulated since.
            let lag_up = state.archive.lag_up().await?;
            Some(json!({
                "status": status,
                "lag_up": lag_up,
                "lag_down_ms": status.in_step_at_ms.map(|at| (licnode_store::now_ms() - at).max(0)),
            }))
        }
        None => None,
    };
    let children = state
        .archive
        .child_link_reports(licnode_store::now_ms())
        .await?;
    Ok(Json(json!({
        "node": state.node.code,
        "last_seq": last_seq,
        "quarantined": quarantined,
        "parent": link,
        "children": children,
        "once_only": once_only_status(&state).await?,
    })))
}

/// Who runs the node's once-only work (issue 15 item 2): the process holding the lock, this
/// process's name, and whether it is the holder. A SQLite node's one process always is.
async fn once_only_status(state: &AppState) -> Result<Value, crate::ApiError> {
    let holder = state.archive.once_only_holder().await?;
    let process = state.process_name.as_deref();
    let (holder_name, this_process) = match &holder {
        licnode_store::OnceOnlyHolder::OnlyProcess => (process, true),
        licnode_store::OnceOnlyHolder::Process(name) => {
            (Some(name.as_str()), process == Some(name.as_str()))
        }
        licnode_store::OnceOnlyHolder::Nobody => (None, false),
    };
    Ok(json!({
        "holder": holder_name,
        "process": process,
        "this_process": this_process,
    }))
}

/// `POST /api/v1/sync/now`: wake the sync loop at once.
async fn now(
    State(state): State<AppState>,
    Extension(staff): Extension<crate::auth::Staff>,
) -> Result<(axum::http::StatusCode, Json<Value>), crate::ApiError> {
    let status = wake_sync_loop(&state, &staff)?;
    Ok((
        axum::http::StatusCode::ACCEPTED,
        Json(json!({ "triggered": true, "status": status })),
    ))
}

/// Wakes the sync loop so that a session with the parent starts at once, for every door (the
/// JSON API's `POST /sync/now`, the health page's button): clerks and up, only with a parent
/// link. Answers the link's status as it was when woken.
pub(crate) fn wake_sync_loop(
    state: &AppState,
    staff: &crate::auth::Staff,
) -> Result<LinkStatus, crate::ApiError> {
    staff.require_write()?;
    match &state.link {
        Some(link) => {
            link.wake.notify_one();
            Ok(link.snapshot())
        }
        None => Err(crate::ApiError::NoParentLink),
    }
}
