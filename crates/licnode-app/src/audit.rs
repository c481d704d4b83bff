//! The audit service: appending to the node's hash-chained audit log what the doors record
//! (logins, exports, refusals), and reading and checking it. Every stored change is audited by
//! the store in the transaction that stores it; this is the door for everything else.

use licnode_store::anchors::{AuditCheck, HeldAnchor, PointCheck};
use licnode_store::{AuditEntry, AuditRecord, StoreError};

use crate::records::Archive;

impl Archive {
    /// The newest anchor held of each node below (and of this node's own), with how many of
    /// that node's anchors did not extend the one before (issue 11 item 5).
    pub async fn anchors_by_node(&self) -> Result<Vec<(HeldAnchor, i64)>, StoreError> {
        self.store.anchors_by_node().await
    }

    /// The newest anchor held of `node`, if any.
    pub async fn newest_anchor(&self, node: &str) -> Result<Option<HeldAnchor>, StoreError> {
        self.store.newest_anchor(node).await
    }

    /// Whether the parent took the anchor of this node's audit head as it stands (the newest
    /// own anchor was accepted and nothing was audited since): then a session has nothing to
    /// anchor.
    pub async fn own_head_anchored(&self) -> Result<bool, StoreError> {
        self.store
            .newest_anchor_is_head(&self.scope.node_code)
            .await
    }

    /// Appends one entry to the audit log; returns its number.
    pub async fn audit(&self, entry: AuditEntry) -> Result<i64, StoreError> {
        self.store.audit(entry).await
    }

    /// Appends entries to the audit log in one transaction; returns the last number.
    pub async fn audit_all(&self, entries: &[AuditEntry]) -> Result<i64, StoreError> {
        self.store.audit_all(entries).await
    }

    /// Up to `limit` audit entries after number `after_seq`, oldest first.
    pub async fn audit_entries(
        &self,
        after_seq: i64,
        limit: i64,
    ) -> Result<Vec<AuditRecord>, StoreError> {
        self.store.audit_entries(after_seq, limit).await
    }

    /// The audit log's last number and hash.
    pub async fn audit_head(&self) -> Result<(i64, String), StoreError> {
        self.store.audit_head().await
    }

    /// Whether the chain holds `hash` at entry `seq`, as `source` (a backup manifest, the
    /// parent's anchor) recorded it; `problem` names the finding when it does not.
    pub async fn audit_check_point(
        &self,
        source: &str,
        seq: i64,
        hash: &str,
        problem: &'static str,
    ) -> Result<PointCheck, StoreError> {
        self.store
            .audit_check_point(source, seq, hash, problem)
            .await
    }

    /// Verifies the audit chain of this node (`node`) end to end, and against the anchors its
    /// parent holds.
    pub async fn audit_check(&self, node: &str) -> Result<AuditCheck, StoreError> {
        self.store.audit_check(node).await
    }
}
