//! What the node keeps of its links for the loops, the offline bundle and the staff who watch
//! them: the sync loop's state of the link to the parent, the cursors the bundle and the relays
//! start from, the quarantine, and the wake-up on a local write. Everything outside the
//! application layer reads and writes this through the functions here.

use licnode_store::{QuarantineEntry, StoreError, SyncStream};

use crate::records::Archive;

impl Archive {
    /// Waits until this node's change log moves (a local write, an applied batch): what makes
    /// the sync loop start a session shortly after a write.
    pub async fn changed(&self) {
        self.store.changed().await
    }

    /// Waits until changes a child pushed were stored (since the last call): what makes the
    /// sync loop forward them to the parent without its debounce.
    pub async fn received_from_child(&self) {
        self.store.received_from_child().await
    }

    /// A receiver that sees every move of this node's change log (a generation count).
    pub fn watch_log(&self) -> tokio::sync::watch::Receiver<u64> {
        self.store.watch_log()
    }

    /// The state of each link as its loop last saved it, by name (`parent`).
    pub async fn link_states(&self) -> Result<Vec<(String, serde_json::Value)>, StoreError> {
        self.store.link_states().await
    }

    /// Saves the state of the link `name` (its loop's totals and last outcome), so that it
    /// survives a restart and `licnode status` shows it.
    pub async fn save_link_state(
        &self,
        name: &str,
        value: &serde_json::Value,
    ) -> Result<(), StoreError> {
        self.store.save_link_state(name, value).await
    }

    /// The changes this node received and refused, oldest first, with their reasons.
    pub async fn quarantined(&self, limit: i64) -> Result<Vec<QuarantineEntry>, StoreError> {
        self.store.quarantined(limit).await
    }

    /// How far `parent` acknowledged this node's change log at the last session (where an
    /// offline bundle starts).
    pub async fn acknowledged_by(&self, parent: &str) -> Result<i64, StoreError> {
        self.store.sync_cursor(parent, SyncStream::Acked).await
    }

    /// How far this node stored the change log of its child `child`.
    pub async fn stored_of_child(&self, child: &str) -> Result<i64, StoreError> {
        self.store.sync_cursor(child, SyncStream::Push).await
    }

    /// Notes that `parent` answered the relay of every link report up to `up_to`.
    pub async fn link_reports_relayed(&self, parent: &str, up_to: i64) -> Result<(), StoreError> {
        self.store
            .reset_sync_cursor(parent, SyncStream::LinksRelayed, up_to)
            .await
    }
}
