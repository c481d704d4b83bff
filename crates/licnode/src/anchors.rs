//! Audit anchors, the child's side (issue 11 item 5; ARCHITECTURE.md, principle 10): at the end of every
//! successful session the node signs the head of its audit chain with its node key and hands it
//! to its parent, then relays the anchors its own children handed up, so every ancestor holds
//! the newest anchor of every node below it. `licnode audit verify` asks the parent for the
//! newest anchor it holds of this node ([`parent_standing`]).

use anyhow::Context;
use licnode_app::Archive;
use licnode_pki::{ClientError, ExpectedPeer, NodeTls, PeerClient};
use licnode_server::anchors::{
    ANCHOR_PATH, AnchorStanding, HandUpResponse, MAX_RELAY_BATCH, RELAY_PATH, RelayRequest,
    RelayResponse,
};
use licnode_server::retention::PkiNodeKey;

/// What one hand-up did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HandUpReport {
    /// The entry number anchored, when a new anchor was signed (none when the parent already
    /// held the current head).
    pub anchored_seq: Option<i64>,
    /// Anchors of the subtree relayed and stored by the parent.
    pub relayed: usize,
    /// The parent's finding (`audit_chain_not_extended`) when this node's chain no longer
    /// extends the last anchor it held: the chain was rewritten since (a restore from a backup,
    /// or tampering). The anchor is kept on both sides as evidence, with an audit entry.
    pub chain_broken: Option<String>,
}

/// Hands the signed head of this node's audit chain to the parent at `base` (through `client`,
/// which holds the parent's certificate to `parent_code`), then relays the subtree's anchors
/// the parent has not had yet. When the parent finds that this node's chain no longer extends
/// the last anchor it holds (`audit_chain_not_extended`), the anchor is kept there and here as
/// evidence, with an audit entry on both sides, and the finding is in the report: the session's
/// changes have moved, and the next anchor extends the flagged one, so replication goes on while
/// the break stays on record (a restore from a backup is such a break, and the restored node
/// must still recover its changes through the session).
pub async fn hand_up(
    archive: &Archive,
    tls: &NodeTls,
    client: &PeerClient,
    base: &str,
    parent_code: &str,
) -> anyhow::Result<HandUpReport> {
    let mut report = HandUpReport::default();
    // The parent took the anchor of this very head at an earlier session and nothing has been
    // audited here since: no round trip to ask it again (a quiet session costs one read).
    if archive.own_head_anchored().await? {
        report.relayed = relay(archive, client, base, parent_code).await?;
        return Ok(report);
    }
    let (head_seq, head_hash) = archive.audit_head().await?;
    let standing: AnchorStanding = match client.get_json(&format!("{base}{ANCHOR_PATH}")).await {
        Ok(standing) => standing,
        // A parent that does not keep anchors yet (an older release during an upgrade): the
        // session's data has moved; say so rather than fail every session.
        Err(ClientError::Refused { status: 404, .. }) => {
            tracing::warn!(
                parent = parent_code,
                "the parent keeps no audit anchors (older release): this node's audit head is \
                 not anchored"
            );
            return Ok(HandUpReport::default());
        }
        Err(error) => return Err(error.into()),
    };
    let already_anchored = standing
        .newest
        .as_ref()
        .is_some_and(|newest| newest.audit_seq == head_seq && newest.audit_hash == head_hash);
    let mut broken = None;
    if !already_anchored {
        let previous_seq = standing
            .newest
            .as_ref()
            .map_or(0, |newest| newest.audit_seq);
        let key = PkiNodeKey(tls.clone());
        let now = licnode_store::now_ms();
        let (payload, signed) = archive.sign_own_anchor(&key, previous_seq, now).await?;
        let answer: Result<HandUpResponse, ClientError> = client
            .post_json(&format!("{base}{ANCHOR_PATH}"), &signed)
            .await;
        let verdict = match answer {
            Ok(_) => true,
            Err(ClientError::Refused { code, message, .. })
                if code == "audit_chain_not_extended" =>
            {
                tracing::error!(parent = parent_code, %message, "the parent finds this node's audit chain rewritten");
                broken = Some(message);
                false
            }
            Err(error) => return Err(error.into()),
        };
        // The newest own anchor (and every one the parent refused) is all this node keeps.
        archive
            .record_own_anchor(&payload, &signed, verdict, now)
            .await?;
        report.anchored_seq = Some(payload.audit_seq);
    }
    report.relayed = relay(archive, client, base, parent_code).await?;
    report.chain_broken = broken;
    Ok(report)
}

/// Relays to the parent the anchors of other nodes that arrived here after the relay cursor,
/// in order, advancing the cursor after each answered batch. Returns how many the parent
/// stored.
async fn relay(
    archive: &Archive,
    client: &PeerClient,
    base: &str,
    parent_code: &str,
) -> anyhow::Result<usize> {
    let mut stored = 0;
    loop {
        let held = archive
            .anchors_to_relay(parent_code, MAX_RELAY_BATCH as i64)
            .await?;
        let Some(last_key) = held.last().map(|anchor| anchor.anchor_key) else {
            break;
        };
        let request = RelayRequest {
            anchors: held.into_iter().map(|anchor| anchor.signed).collect(),
        };
        let answer: RelayResponse = client
            .post_json(&format!("{base}{RELAY_PATH}"), &request)
            .await?;
        for refusal in &answer.refused {
            tracing::warn!(parent = parent_code, code = %refusal.code, message = %refusal.message, "the parent refused a relayed anchor");
        }
        stored += answer.stored;
        // What the parent now holds need not be kept here, but the newest of each node.
        archive.anchors_relayed(parent_code, last_key).await?;
    }
    Ok(stored)
}

/// Dials the parent at `parent_url` over mutual TLS, as a session does, and returns its code
/// and what it holds of this node's chain.
pub async fn parent_standing(
    tls: &NodeTls,
    parent_url: &str,
) -> anyhow::Result<(String, AnchorStanding)> {
    let base = parent_url.trim_end_matches('/');
    let hello: serde_json::Value = PeerClient::for_node(tls, ExpectedPeer::AnyNode)?
        .get_json(&format!("{base}/sync/v1/hello"))
        .await
        .with_context(|| format!("cannot reach the parent at {base}"))?;
    let parent_code = hello
        .pointer("/me/code")
        .and_then(|code| code.as_str())
        .context("the parent's hello names no node")?
        .to_owned();
    let client = PeerClient::for_node(tls, ExpectedPeer::Code(parent_code.clone()))?;
    let standing: AnchorStanding = client.get_json(&format!("{base}{ANCHOR_PATH}")).await?;
    Ok((parent_code, standing))
}
