//! Audit anchors (Art. 37; issue 11): the service through which a node keeps its own audit
//! chain anchored at its parent and keeps what its children hand up and relay. The exchange
//! itself (signing, verification of a child's signature, the HTTP round trips) is the door's;
//! what is stored and pruned, and under which node's name, is decided here.

use licnode_store::StoreError;
use licnode_store::SyncStream;
use licnode_store::anchors::{AnchorArrival, AnchorError, AnchorPayload, HeldAnchor, SignedAnchor};
use licnode_store::retention::NodeKey;

use crate::records::Archive;

impl Archive {
    /// The anchors held of `node` that did not extend the one before (kept as evidence).
    pub async fn broken_anchors(&self, node: &str) -> Result<Vec<HeldAnchor>, StoreError> {
        self.store.broken_anchors(node).await
    }

    /// Signs an anchor of this node's audit head with `key`, chained from `previous_seq` (the
    /// entry the parent holds as this node's newest anchor).
    pub async fn sign_own_anchor(
        &self,
        key: &dyn NodeKey,
        previous_seq: i64,
        now_ms: i64,
    ) -> Result<(AnchorPayload, SignedAnchor), AnchorError> {
        self.store
            .sign_anchor(&self.scope.node_code, key, previous_seq, now_ms)
            .await
    }

    /// Keeps this node's own anchor with the parent's verdict (`true`: it extended the chain
    /// the parent holds), and prunes the older own anchors that did extend.
    pub async fn record_own_anchor(
        &self,
        payload: &AnchorPayload,
        signed: &SignedAnchor,
        verdict: bool,
        now_ms: i64,
    ) -> Result<AnchorArrival, StoreError> {
        let own = &self.scope.node_code;
        let arrival = self
            .store
            .record_anchor(payload, signed, own, own, Some(verdict), now_ms)
            .await?;
        self.store.prune_anchors(Some(own), None).await?;
        Ok(arrival)
    }

    /// Keeps an anchor received from the child `from` (its own, or one it relayed), whose
    /// signature the door verified. A node with no parent (`relays == false`) relays nothing,
    /// so of each node it keeps the newest anchor and those that did not extend.
    pub async fn record_received_anchor(
        &self,
        payload: &AnchorPayload,
        signed: &SignedAnchor,
        from: &str,
        relays: bool,
        now_ms: i64,
    ) -> Result<AnchorArrival, StoreError> {
        let arrival = self
            .store
            .record_anchor(payload, signed, from, &self.scope.node_code, None, now_ms)
            .await?;
        if !relays && !arrival.duplicate {
            self.store.prune_anchors(Some(&payload.node), None).await?;
        }
        Ok(arrival)
    }

    /// Up to `limit` anchors of other nodes that arrived after what was last relayed to
    /// `parent`, in arrival order.
    pub async fn anchors_to_relay(
        &self,
        parent: &str,
        limit: i64,
    ) -> Result<Vec<HeldAnchor>, StoreError> {
        if !licnode_sync::may_have_children(self.scope.level) {
            // A leaf holds no other node's anchor (they come only from children): nothing to
            // read at the end of every session.
            return Ok(Vec::new());
        }
        let cursor = self
            .store
            .sync_cursor(parent, SyncStream::AnchorsRelayed)
            .await?;
        self.store
            .anchors_after(cursor, &self.scope.node_code, limit)
            .await
    }

    /// Notes that `parent` answered the relay of every anchor up to `up_to`, and forgets what
    /// the parent now holds (but the newest of each node).
    pub async fn anchors_relayed(&self, parent: &str, up_to: i64) -> Result<(), StoreError> {
        self.store
            .advance_sync_cursor(parent, SyncStream::AnchorsRelayed, up_to)
            .await?;
        self.store.prune_anchors(None, Some(up_to)).await?;
        Ok(())
    }
}
