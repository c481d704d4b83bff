//! Node-to-node endpoints, served only over mutual TLS: the verified peer reaches every handler
//! as a typed [`PeerIdentity`] (from its certificate), never as a string to re-parse.
//!
//! Replication (`licnode_sync::protocol`): a child asks what this node acknowledged of its log
//! (`GET /sync/v1/cursor`), pushes its changes (`POST /sync/v1/push`) and pulls this node's
//! (`POST /sync/v1/pull`). Every pushed change is checked with the one authority function on
//! arrival; a refused change is quarantined with its reason, never applied.

use axum::extract::rejection::JsonRejection;
use axum::extract::{DefaultBodyLimit, Query, Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use licnode_app::Archive;
use licnode_pki::PeerIdentity;
use licnode_store::AuditKind;
use licnode_store::sync_state::{SyncBatch, SyncStream};
use licnode_store::{AuditEntry, CursorMove, Refusal, RemoteChange};
use licnode_sync::protocol::{
    CURSOR_PATH, CursorResponse, HELLO_PATH, MAX_BATCH, MAX_BATCH_BODY_BYTES, PULL_PATH, PUSH_PATH,
    PullRequest, PullResponse, PushRequest, PushResponse, RECOVER_PATH, WireChange, author_ref,
    batch_len,
};
use licnode_sync::{Flow, Link, NodeRef, collections_for, decide};
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
    match refuse_unless_direct_child(&state.archive, &child, request.uri().path()).await {
        Ok(()) => next.run(request).await,
        Err(error) => error.into_response(),
    }
}

/// `Ok` when `peer` is a direct child of this node; otherwise the refusal (`not_a_child`),
/// audited and logged. `doing` says what the peer tried (a route, a bundle import).
pub async fn refuse_unless_direct_child(
    archive: &Archive,
    peer: &NodeRef,
    doing: &str,
) -> Result<(), ApiError> {
    let Some(problem) = archive.scope.not_a_child(peer) else {
        return Ok(());
    };
    tracing::warn!(peer = %peer, %problem, doing, "a peer that is not a direct child refused");
    let entry = AuditEntry::new(
        AuditKind::PeerRefused,
        &peer.code,
        "",
        licnode_store::now_ms(),
    )
    .detail(json!({
        "level": peer.level.as_str(),
        "doing": doing,
        "reason": problem,
    }));
    archive.audit(entry).await?;
    Err(ApiError::NotAChild {
        reason: format!("{peer} is not a direct child of this node: {problem}"),
        peer: Some((peer.code.clone(), peer.level.as_str().to_string())),
    })
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

/// This node and the peer, when the peer is a child of this node that may exchange anything in
/// `flow`; otherwise 403.
fn child_link(
    state: &AppState,
    peer: &PeerIdentity,
    flow: Flow,
) -> Result<(NodeRef, NodeRef), ApiError> {
    let local = state.archive.scope.node_ref();
    let child = NodeRef::new(peer.code.clone(), peer.level);
    if collections_for(&local, &child, Link::Child, flow).is_empty() {
        return Err(ApiError::NotAChild {
            reason: format!("{child} is not a child of {local}"),
            peer: None,
        });
    }
    Ok((local, child))
}

/// What this node has stored of the child's log, and the hash of the child's change there.
async fn cursor(
    State(state): State<AppState>,
    Extension(peer): Extension<PeerIdentity>,
) -> Result<Json<CursorResponse>, ApiError> {
    child_link(&state, &peer, Flow::Receive)?;
    let (acknowledged, acknowledged_hash) = state
        .archive
        .replication_store()
        .sync_cursor_with_hash(&peer.code, SyncStream::Push)
        .await?;
    Ok(Json(CursorResponse {
        acknowledged,
        acknowledged_hash,
    }))
}

/// Stores a batch of the child's changes: each checked on arrival, the allowed ones applied,
/// the others quarantined, the child's cursor advanced — in one transaction.
async fn push(
    State(state): State<AppState>,
    Extension(peer): Extension<PeerIdentity>,
    body: Result<Json<PushRequest>, JsonRejection>,
) -> Result<Json<PushResponse>, ApiError> {
    let Json(request) = body?;
    let child = NodeRef::new(peer.code.clone(), peer.level);
    Ok(Json(apply_push(&state.archive, &child, request).await?))
}

/// Applies a push batch from `child` exactly as `POST /sync/v1/push` does (the HTTP handler
/// and `licnode bundle import` both call this): the child must be a direct child of this node
/// that may send anything; the batch must follow what this node stored of the child's log and
/// name the hash of the child's change at its end; every change is checked on arrival, the
/// allowed ones applied, the others quarantined and the child's push cursor moved, with that
/// hash — in one transaction. A batch already stored is harmless. A batch marked `restart`
/// (the child found its log and this cursor diverged) starts at 0 and moves the cursor to its
/// end even backwards; nothing else moves it back.
pub async fn apply_push(
    archive: &Archive,
    child: &NodeRef,
    request: PushRequest,
) -> Result<PushResponse, ApiError> {
    refuse_unless_direct_child(archive, child, PUSH_PATH).await?;
    let local = archive.scope.node_ref();
    if collections_for(&local, child, Link::Child, Flow::Receive).is_empty() {
        return Err(ApiError::NotAChild {
            reason: format!("{child} is not a child of {local}"),
            peer: None,
        });
    }
    let child = child.clone();
    let store = archive.replication_store();
    let acknowledged = store.sync_cursor(&child.code, SyncStream::Push).await?;
    if request.up_to < request.after
        || request
            .changes
            .iter()
            .any(|change| change.seq <= request.after || change.seq > request.up_to)
    {
        return Err(ApiError::BadBatch {
            reason: "every change of a batch lies in (after, up_to]".to_string(),
        });
    }
    // Issue 11 item 4: the cursor is stored with the hash of the child's change at it, so the
    // child can tell whether its log still holds what this node acknowledged.
    if request.up_to > 0 && request.up_to_hash.is_none() {
        return Err(ApiError::BadBatch {
            reason: "a batch names the hash of the child's change at up_to (up_to_hash)"
                .to_string(),
        });
    }
    if let Some(last) = request.changes.last()
        && last.seq == request.up_to
        && request.up_to_hash.as_deref() != Some(last.hash.as_str())
    {
        return Err(ApiError::BadBatch {
            reason: "up_to_hash is not the hash of the batch's change at up_to".to_string(),
        });
    }
    if request.restart && request.after != 0 {
        return Err(ApiError::BadBatch {
            reason: "a restarted push starts at the beginning of the child's log (after = 0)"
                .to_string(),
        });
    }
    if !request.restart && request.after > acknowledged {
        return Err(ApiError::CursorGap {
            after: request.after,
            acknowledged,
        });
    }
    // A batch this cursor already covers (a repeated or late batch, an offline bundle from a
    // child restored from a backup) is still applied — held changes are skipped by hash, so
    // nothing it carries is dropped — but it does not move the cursor or its hash.
    let covered = !request.restart && request.up_to <= acknowledged;
    if request.restart {
        tracing::warn!(
            peer = %child.code,
            was = acknowledged,
            "a child pushes its log again from the start (its log and this cursor diverged)"
        );
    }
    let cursor_move = CursorMove {
        hash: if covered {
            None
        } else {
            request.up_to_hash.clone()
        },
        reset: request.restart,
    };
    let changes = request
        .changes
        .into_iter()
        .map(|change| remote(change, &child.code))
        .collect();
    let batch = SyncBatch {
        peer: child.code.clone(),
        stream: SyncStream::Push,
        cursor: if covered { acknowledged } else { request.up_to },
        changes,
    };
    let outcome = store
        .apply_sync_batch_moving(batch, cursor_move, |change, author| {
            check_arrival(&local, &child, Link::Child, change, author)
        })
        .await?;
    let acknowledged = store.sync_cursor(&child.code, SyncStream::Push).await?;
    if !outcome.refused.is_empty() || !outcome.pending.is_empty() {
        tracing::warn!(
            peer = %child.code,
            quarantined = outcome.refused.len() + outcome.pending.len(),
            "changes from a child quarantined"
        );
    }
    Ok(PushResponse {
        acknowledged,
        applied: outcome.applied.len(),
        duplicates: outcome.duplicates,
        quarantined: outcome.refused.len() + outcome.pending.len(),
    })
}

/// This node's changes after `after` that go down to the child, never one it received from the
/// child.
async fn pull(
    State(state): State<AppState>,
    Extension(peer): Extension<PeerIdentity>,
    body: Result<Json<PullRequest>, JsonRejection>,
) -> Result<Json<PullResponse>, ApiError> {
    let Json(request) = body?;
    let (local, child) = child_link(&state, &peer, Flow::Send)?;
    Ok(Json(
        serve_pull(&state.archive, &local, &child, request).await?,
    ))
}

/// The changes this node received from the child, after `after`: what a child whose log
/// diverged from this node's cursor (restored from a backup, reinstalled) takes back.
async fn recover(
    State(state): State<AppState>,
    Extension(peer): Extension<PeerIdentity>,
    body: Result<Json<PullRequest>, JsonRejection>,
) -> Result<Json<PullResponse>, ApiError> {
    let Json(request) = body?;
    let (_, child) = child_link(&state, &peer, Flow::Receive)?;
    Ok(Json(serve_recover(&state.archive, &child, request).await?))
}

/// Answers `POST /sync/v1/recover` of `child`: the next batch of the changes this node stored
/// from the child (by origin: the child's own and those it relayed from below), after
/// `request.after` in this node's log, and the cursor to ask after next (ARCHITECTURE.md, principle 10:
/// a parent is its children's memory). A normal pull never sends a child what came from it.
pub async fn serve_recover(
    archive: &Archive,
    child: &NodeRef,
    request: PullRequest,
) -> Result<PullResponse, ApiError> {
    let limit = request.limit.unwrap_or(MAX_BATCH).clamp(1, MAX_BATCH);
    let high = archive.last_seq().await?;
    let mut rows = archive
        .replication_store()
        .changes_from_origin(&child.code, request.after, limit)
        .await?;
    let mut caught_up = (rows.len() as i64) < limit;
    let fits = batch_len(rows.iter().map(|row| row.bytes.len()));
    if fits < rows.len() {
        rows.truncate(fits);
        caught_up = false;
    }
    let next = match rows.last() {
        Some(row) if !caught_up => row.seq,
        Some(row) => row.seq.max(high),
        None => request.after.max(high),
    };
    Ok(PullResponse {
        changes: rows.into_iter().map(wire).collect(),
        next,
        next_hash: None,
        caught_up,
    })
}

/// A change-log row on the wire.
pub fn wire(row: licnode_store::ChangeRow) -> WireChange {
    WireChange {
        seq: row.seq,
        hash: row.hash,
        record_id: row.record_id,
        collection: row.collection,
        jurisdiction: row.jurisdiction,
        author_node: row.author_node,
        author_user: row.author_user,
        at_ms: row.at_ms,
        bytes: row.bytes,
    }
}

/// Answers a pull of `child` exactly as `POST /sync/v1/pull` does (the HTTP handler calls
/// this; simulations drive it directly): the next batch of this node's log after
/// `request.after` that goes down to the child, and the cursor the child moves to.
pub async fn serve_pull(
    archive: &Archive,
    local: &NodeRef,
    child: &NodeRef,
    request: PullRequest,
) -> Result<PullResponse, ApiError> {
    let (local, child) = (local.clone(), child.clone());
    let collections = collections_for(&local, &child, Link::Child, Flow::Send);
    let limit = request.limit.unwrap_or(MAX_BATCH).clamp(1, MAX_BATCH);
    // Every change numbered up to `high` is committed (numbers become visible in order), so
    // when the query finds fewer than `limit`, the child has considered everything up to
    // `high`: its cursor moves there even if nothing was for it, and the next round starts at
    // the end of the log instead of scanning it again.
    let high = archive.last_seq().await?;
    // The child's cursor names a change of this log: if this log no longer holds it there
    // (this node was restored from a backup), the child's cursor would skip what this node
    // writes next. It is told so, and pulls again from the start (held changes are skipped).
    if request.after > 0
        && let Some(expected) = &request.after_hash
    {
        let held = match archive
            .replication_store()
            .change_hash_at(request.after)
            .await?
        {
            Some(own) => own == *expected,
            None => request.after <= high,
        };
        if !held || request.after > high {
            tracing::warn!(
                peer = %child.code,
                after = request.after,
                high,
                "a child's pull cursor names a change this log does not hold there"
            );
            return Err(ApiError::PullCursorDiverged {
                after: request.after,
                last_seq: high,
            });
        }
    }
    let mut rows = archive
        .changes_after(request.after, Some(&collections), limit)
        .await?;
    let mut caught_up = (rows.len() as i64) < limit;
    let fits = batch_len(rows.iter().map(|row| row.bytes.len()));
    if fits < rows.len() {
        rows.truncate(fits);
        caught_up = false;
    }
    let next = match rows.last() {
        Some(row) if !caught_up => row.seq,
        Some(row) => row.seq.max(high),
        None => request.after.max(high),
    };
    let changes = rows
        .into_iter()
        .filter(|row| row.origin != child.code)
        .filter(|row| {
            author_ref(&row.author_node, &local, &child).is_some_and(|author| {
                decide(
                    &local,
                    &child,
                    Link::Child,
                    Flow::Send,
                    &row.collection,
                    &row.jurisdiction,
                    &author,
                )
                .is_allowed()
            })
        })
        .map(wire)
        .collect();
    let next_hash = match next {
        0 => None,
        next => archive.replication_store().change_hash_at(next).await?,
    };
    Ok(PullResponse {
        changes,
        next,
        next_hash,
        caught_up,
    })
}

/// A change on the wire as the store receives it from `origin`.
pub fn remote(change: WireChange, origin: &str) -> RemoteChange {
    RemoteChange {
        record_id: change.record_id,
        collection: change.collection,
        jurisdiction: change.jurisdiction,
        author_user: change.author_user,
        at_ms: change.at_ms,
        origin: origin.to_owned(),
        bytes: change.bytes,
    }
}

/// The check on arrival of one change from `peer`, authored (by its actor id) by `author`.
pub fn check_arrival(
    local: &NodeRef,
    peer: &NodeRef,
    link: Link,
    change: &RemoteChange,
    author: Option<&str>,
) -> Result<(), Refusal> {
    let Some(code) = author else {
        return Err(Refusal {
            code: "unbound_author".into(),
            message: "the change's actor id is not bound to a node".into(),
        });
    };
    let Some(author) = author_ref(code, local, peer) else {
        return Err(Refusal {
            code: "unknown_author".into(),
            message: format!("the change's author {code:?} is not a node this link knows"),
        });
    };
    let decision = decide(
        local,
        peer,
        link,
        Flow::Receive,
        &change.collection,
        &change.jurisdiction,
        &author,
    );
    match decision.reason() {
        None => Ok(()),
        Some(reason) => Err(Refusal {
            code: decision.code().unwrap_or("denied").to_owned(),
            message: reason.to_string(),
        }),
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
                .answers(200, "`node`, `last_seq`, `quarantined`, and `parent` (null without a link): the sync loop's status, `lag_up`, `lag_down`"),
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
    let entries = state.archive.replication_store().quarantined(limit).await?;
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

/// `GET /api/v1/sync/status`: the link to the parent, lag in changes each way, quarantine.
async fn status(State(state): State<AppState>) -> Result<Json<Value>, crate::ApiError> {
    let last_seq = state.archive.last_seq().await?;
    let quarantined = state.archive.quarantine_count().await?;
    let link = state.link.as_ref().map(|link| {
        let status = link.snapshot();
        json!({
            "status": status,
            "lag_up": (last_seq - status.acknowledged).max(0),
            "lag_down": status.pulled_last_session,
        })
    });
    Ok(Json(json!({
        "node": state.node.code,
        "last_seq": last_seq,
        "quarantined": quarantined,
        "parent": link,
    })))
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
