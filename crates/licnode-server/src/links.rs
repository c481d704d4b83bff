//! The state of the network's links (issue 12 item 7).
//!
//! - `POST /sync/v1/links/relay` (node-to-node, mutual TLS only): a child hands up the state of
//!   its own links and the reports of its subtree, every session. Accepted only from a direct
//!   child (403 `not_a_child`), only about links inside that child's subtree (403
//!   `link_report_outside_subtree`, nothing kept), at most
//!   [`MAX_LINK_REPORT_BATCH`](licnode_app::network::MAX_LINK_REPORT_BATCH) a request
//!   (400 `bad_batch`); the newest report of each link is kept.
//! - `GET /api/v1/sync/network` (staff): this node's own links and a page of those reported
//!   from below, the stale and failing first — what the national view shows.

use crate::error::ErrorCode;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Query, State};
use axum::routing::post;
use axum::{Extension, Json, Router};
use licnode_pki::PeerIdentity;
use licnode_store::link_reports::LinkReport;
use licnode_sync::NodeRef;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::routes::{Operation, Routes};
use crate::{ApiError, AppState};

/// Where a child hands up its links' state.
pub const LINKS_RELAY_PATH: &str = "/sync/v1/links/relay";

/// A relay of link reports.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct LinkRelayRequest {
    pub reports: Vec<LinkReport>,
}

/// What a relay kept.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct LinkRelayResponse {
    /// Reports kept; the others were older than the report held of their link.
    pub stored: usize,
}

/// The node-to-node route (merged into the peer router, behind its direct-child check).
pub fn peer_router() -> Router<AppState> {
    Router::new().route(LINKS_RELAY_PATH, post(relay))
}

async fn relay(
    State(state): State<AppState>,
    Extension(peer): Extension<PeerIdentity>,
    body: Result<Json<LinkRelayRequest>, JsonRejection>,
) -> Result<Json<LinkRelayResponse>, ApiError> {
    let Json(request) = body?;
    let child = NodeRef::new(peer.code.clone(), peer.level);
    if let Some(problem) = state.archive.scope.not_a_child(&child) {
        return Err(ApiError::NotAChild {
            reason: format!("{child} is not a direct child of this node: {problem}"),
            peer: None,
        });
    }
    let stored = state
        .archive
        .receive_link_reports(&child, &request.reports, state.clock.now_ms())
        .await?;
    Ok(Json(LinkRelayResponse { stored }))
}

/// The staff route (under `/api/v1`, behind the login).
pub(crate) fn staff_routes() -> Routes<AppState> {
    Routes::new().get(
        "/sync/network",
        network,
        Operation::new("The network's links: this node's own (to its parent and each child) and every link its subtree reported up with replication, stale and failing first")
            .parameters(json!([{ "name": "page", "in": "query", "schema": { "type": "integer", "minimum": 1 } }]))
            .answers(200, "`own`, `reported` (a page), `reported_total`, `stale_before_ms`, `page`, `per_page`")
            .refuses(400, &[ErrorCode::BadQuery], "a malformed page number"),
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NetworkQuery {
    page: Option<i64>,
}

async fn network(
    State(state): State<AppState>,
    query: Result<Query<NetworkQuery>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(query) = query?;
    let links = state
        .archive
        .network_links(state.clock.now_ms(), query.page.unwrap_or(1))
        .await?;
    Ok(Json(json!(links)))
}
