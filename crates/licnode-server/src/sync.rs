//! Node-to-node endpoints, served only over mutual TLS: the verified peer reaches every handler
//! as a typed [`PeerIdentity`] (from its certificate), never as a string to re-parse.

use axum::extract::State;
use axum::routing::get;
use axum::{Extension, Json, Router};
use licnode_pki::PeerIdentity;
use serde_json::{Value, json};

use crate::AppState;

/// The node-to-node router (mount it on the mutual-TLS listener only).
pub fn peer_router(state: AppState) -> Router {
    Router::new()
        .route("/sync/v1/hello", get(hello))
        .with_state(state)
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
