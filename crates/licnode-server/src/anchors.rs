//! Audit anchors between nodes, served only over mutual TLS (issue 11 item 5; ARCHITECTURE.md, principle
//! 10: a parent is the node's witness):
//!
//! - `GET  /sync/v1/anchor` — the newest anchor this node holds of the calling child, and every
//!   anchor of it that did not extend the one before (what `licnode audit verify` checks the
//!   child's chain against);
//! - `POST /sync/v1/anchor` — the child hands up the signed head of its own audit chain. The
//!   signature is verified against the node PKI and must be the calling child's; the anchor is
//!   kept even when it does not extend the last one held, as evidence, with an
//!   `audit_chain_broken` entry in this node's audit log, and the child is answered
//!   `409 audit_chain_not_extended`;
//! - `POST /sync/v1/anchors/relay` — the child relays the anchors of its own subtree, so that
//!   every ancestor (national at the top) holds the newest anchor of every node below it. Each
//!   is verified the same way and must be signed by a node strictly within the child's
//!   division; it is judged against the last anchor held of its node. Idempotent: an anchor
//!   already held (same signature) is skipped.

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use licnode_pki::PeerIdentity;
use licnode_store::anchors::{HeldAnchor, SignedAnchor, verify_anchor};
use licnode_sync::{Flow, Link, NodeRef, collections_for};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::AppState;
use crate::error::ApiError;

/// The child's own anchor: `GET` the newest held, `POST` a new one.
pub const ANCHOR_PATH: &str = "/sync/v1/anchor";
/// The anchors of the child's subtree, relayed up.
pub const RELAY_PATH: &str = "/sync/v1/anchors/relay";
/// Most anchors one relay request carries.
pub const MAX_RELAY_BATCH: usize = 500;

/// What this node holds of the calling child's chain.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct AnchorStanding {
    /// The newest anchor held of the child (the last to arrive).
    pub newest: Option<HeldAnchor>,
    /// Every anchor of the child that did not extend the one held before it.
    pub broken: Vec<HeldAnchor>,
}

/// The answer to a handed-up anchor that extends the last one held.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct HandUpResponse {
    /// False when the same anchor was already held.
    pub stored: bool,
}

/// A relay of the child's subtree's anchors.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RelayRequest {
    pub anchors: Vec<SignedAnchor>,
}

/// One relayed anchor this node refused (not stored).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RelayRefusal {
    /// Its place in the request.
    pub index: usize,
    pub code: String,
    pub message: String,
}

/// What a relay stored.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct RelayResponse {
    pub stored: usize,
    pub duplicates: usize,
    /// Stored, but not extending the last anchor held of their node (flagged).
    pub not_extending: usize,
    pub refused: Vec<RelayRefusal>,
}

/// The anchor routes (merged into the node-to-node router).
pub fn router() -> Router<AppState> {
    Router::new()
        .route(ANCHOR_PATH, get(standing).post(hand_up))
        .route(RELAY_PATH, post(relay))
}

/// The calling peer as a child of this node; `403 not_a_child` otherwise.
fn child_of(state: &AppState, peer: &PeerIdentity) -> Result<NodeRef, ApiError> {
    let local = state.archive.scope.node_ref();
    let child = NodeRef::new(peer.code.clone(), peer.level);
    if collections_for(&local, &child, Link::Child, Flow::Receive).is_empty() {
        return Err(ApiError::NotAChild {
            reason: format!("{child} is not a child of {local}"),
            peer: None,
        });
    }
    Ok(child)
}

fn node_key(
    state: &AppState,
) -> Result<std::sync::Arc<dyn licnode_store::retention::NodeKey>, ApiError> {
    state
        .retention
        .key
        .clone()
        .ok_or_else(|| ApiError::NoNodeKey {
            cannot: "it cannot verify anchors",
        })
}

fn refused(error: licnode_store::anchors::AnchorError) -> ApiError {
    ApiError::from(error)
}

async fn standing(
    State(state): State<AppState>,
    Extension(peer): Extension<PeerIdentity>,
) -> Result<Json<AnchorStanding>, ApiError> {
    let child = child_of(&state, &peer)?;
    Ok(Json(AnchorStanding {
        newest: state.archive.newest_anchor(&child.code).await?,
        broken: state.archive.broken_anchors(&child.code).await?,
    }))
}

async fn hand_up(
    State(state): State<AppState>,
    Extension(peer): Extension<PeerIdentity>,
    Json(signed): Json<SignedAnchor>,
) -> Result<Json<HandUpResponse>, ApiError> {
    let child = child_of(&state, &peer)?;
    let key = node_key(&state)?;
    let payload = verify_anchor(key.as_ref(), &signed).map_err(refused)?;
    if payload.node != child.code {
        return Err(ApiError::AnchorSignerMismatch {
            child: child.code.clone(),
            named: payload.node.clone(),
        });
    }
    let now = state.clock.now_ms();
    // A node with a parent prunes what it relayed, after each relay; one without keeps of
    // each node the newest anchor and those that did not extend.
    let relays = state.node.parent_url.is_some();
    let arrival = state
        .archive
        .record_received_anchor(&payload, &signed, &child.code, relays, now)
        .await?;
    if !arrival.extends {
        let (held_seq, held_hash) = arrival.previous_held.unwrap_or_default();
        tracing::error!(
            child = %child.code,
            held_seq,
            anchored_seq = payload.audit_seq,
            "a child's audit chain no longer extends the last anchor held of it"
        );
        return Err(ApiError::AuditChainNotExtended {
            message: format!(
                "{} holds entry {held_seq} of {}'s audit chain with hash {held_hash}, but the \
                 chain now has {:?} there: it was rewritten after it was anchored; the anchor is \
                 kept as evidence",
                state.node.code, child.code, payload.previous_hash
            ),
            details: json!({
                "held_seq": held_seq,
                "held_hash": held_hash,
                "previous_seq": payload.previous_seq,
                "previous_hash": payload.previous_hash,
                "audit_seq": payload.audit_seq,
            }),
        });
    }
    Ok(Json(HandUpResponse {
        stored: !arrival.duplicate,
    }))
}

async fn relay(
    State(state): State<AppState>,
    Extension(peer): Extension<PeerIdentity>,
    Json(request): Json<RelayRequest>,
) -> Result<Json<RelayResponse>, ApiError> {
    let child = child_of(&state, &peer)?;
    if request.anchors.len() > MAX_RELAY_BATCH {
        return Err(ApiError::BadBatch {
            reason: format!("a relay carries at most {MAX_RELAY_BATCH} anchors"),
        });
    }
    let key = node_key(&state)?;
    let now = state.clock.now_ms();
    let mut response = RelayResponse::default();
    for (index, signed) in request.anchors.iter().enumerate() {
        let payload = match verify_anchor(key.as_ref(), signed) {
            Ok(payload) => payload,
            Err(licnode_store::anchors::AnchorError::Store(error)) => {
                return Err(ApiError::from(error));
            }
            Err(error) => {
                response.refused.push(RelayRefusal {
                    index,
                    code: error.code().to_owned(),
                    message: error.to_string(),
                });
                continue;
            }
        };
        // A child relays only what lies below it: a node strictly within its division.
        let below = payload.node != child.code
            && child.level.is_territorial()
            && licnode_model::divisions::is_within(&payload.node, &child.code);
        if !below {
            response.refused.push(RelayRefusal {
                index,
                code: "anchor_not_below_sender".to_owned(),
                message: format!("{} does not lie below {}", payload.node, child.code),
            });
            continue;
        }
        let relays = state.node.parent_url.is_some();
        let arrival = state
            .archive
            .record_received_anchor(&payload, signed, &child.code, relays, now)
            .await?;
        if arrival.duplicate {
            response.duplicates += 1;
            continue;
        }
        response.stored += 1;
        if !arrival.extends {
            response.not_extending += 1;
            tracing::error!(
                node = %payload.node,
                relayed_by = %child.code,
                "a relayed anchor does not extend the last one held of its node"
            );
        }
    }
    Ok(Json(response))
}
