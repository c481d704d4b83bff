//! The replication engine's transaction handle: one write transaction of either database, with
//! the leaf operations a received batch is stored with — apply changes, quarantine refused ones,
//! advance a peer's cursor, audit, commit. The engine (`licnode_app::replication`) decides what
//! each operation is given; nothing here knows the protocol or its rules.

use std::sync::Arc;

use sqlx::{Postgres, Sqlite};

use crate::LoggedChange;
use crate::audit::AuditTx as _;
use crate::sync_state::{CursorMove, QuarantineEntry, SyncStream};
use crate::write::{ApplyOutcome, Parsed};
use crate::{AuditEntry, Db, Store, StoreError};

/// An open write transaction for a received batch. Dropped without [`ReplicationTx::commit`],
/// it rolls back and leaves nothing behind.
pub struct ReplicationTx {
    inner: Inner,
    changed: Arc<tokio::sync::Notify>,
    log_moved: Arc<tokio::sync::watch::Sender<u64>>,
    cursor_moved: Arc<tokio::sync::watch::Sender<u64>>,
    applied: bool,
    moved_cursor: bool,
}

enum Inner {
    Sqlite(sqlx::Transaction<'static, Sqlite>),
    Postgres(sqlx::Transaction<'static, Postgres>),
}

/// Runs `$body` with `$tx` bound to the open transaction of whichever database it is.
macro_rules! on_tx {
    ($inner:expr, |$tx:ident| $body:expr) => {
        match $inner {
            Inner::Sqlite($tx) => $body,
            Inner::Postgres($tx) => $body,
        }
    };
}

impl Store {
    /// Opens a write transaction for a received batch. The change log's lock (PostgreSQL) is
    /// taken inside [`ReplicationTx::apply`] once the batch is merged, so that batches from
    /// several children merge at once and wait for each other only to number and insert; its
    /// numbers still become visible in order.
    pub async fn begin_replication(&self) -> Result<ReplicationTx, StoreError> {
        let inner = match &self.db {
            Db::Sqlite { writer, .. } => Inner::Sqlite(writer.begin().await?),
            Db::Postgres { pool } => Inner::Postgres(pool.begin().await?),
        };
        Ok(ReplicationTx {
            inner,
            changed: self.changed.clone(),
            log_moved: self.log_moved.clone(),
            cursor_moved: self.cursor_moved.clone(),
            applied: false,
            moved_cursor: false,
        })
    }

    /// A receiver that sees every commit that moved a replication cursor.
    pub fn watch_cursors(&self) -> tokio::sync::watch::Receiver<u64> {
        self.cursor_moved.subscribe()
    }

    /// Moves the cursor of `stream` with `peer` forward to `seq` (never backwards), in a
    /// transaction of its own: for streams that carry no changes (what a parent acknowledged,
    /// anchors relayed).
    pub async fn advance_sync_cursor(
        &self,
        peer: &str,
        stream: SyncStream,
        seq: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_replication().await?;
        tx.advance_cursor(peer, stream, seq, &CursorMove::default())
            .await?;
        tx.commit().await
    }
}

impl ReplicationTx {
    /// The cursor of `stream` with `peer` and the hash stored with it, as this transaction
    /// sees it: (0, `None`) when nothing was stored yet.
    pub async fn cursor(
        &mut self,
        peer: &str,
        stream: SyncStream,
    ) -> Result<(i64, Option<String>), StoreError> {
        let sql = "SELECT seq, hash FROM sync_cursors WHERE peer = $1 AND stream = $2";
        let row: Option<(i64, Option<String>)> = on_tx!(&mut self.inner, |tx| {
            sqlx::query_as(sql)
                .bind(peer)
                .bind(stream.as_str())
                .fetch_optional(&mut **tx)
                .await?
        });
        Ok(row.unwrap_or((0, None)))
    }

    /// Applies received changes, each already parsed once: changes held already are skipped,
    /// changes to records destroyed here are dropped (Art. 38), the rest merged into their
    /// records and logged with new sequence numbers. See [`Store::apply_remote`].
    pub async fn apply(
        &mut self,
        changes: Vec<(&LoggedChange, licnode_doc::IncomingChange)>,
    ) -> Result<ApplyOutcome, StoreError> {
        let parsed = changes
            .into_iter()
            .map(|(change, incoming)| (change, Ok(incoming)))
            .collect();
        self.apply_parsed(parsed).await
    }

    pub(crate) async fn apply_parsed(
        &mut self,
        changes: Vec<Parsed<'_>>,
    ) -> Result<ApplyOutcome, StoreError> {
        let outcome = on_tx!(&mut self.inner, |tx| crate::write::apply_in(tx, changes)
            .await?);
        self.applied |= !outcome.applied.is_empty();
        Ok(outcome)
    }

    /// Quarantines refused changes (kept with their reason, never applied), each with an audit
    /// entry (Art. 37). A change already quarantined from the same peer is kept once.
    pub async fn quarantine(&mut self, rows: &[QuarantineEntry]) -> Result<(), StoreError> {
        if rows.is_empty() {
            return Ok(());
        }
        // What a refused change claimed is kept as text every backend stores: a NUL (which
        // PostgreSQL refuses) is shown as U+FFFD.
        let rows: Vec<QuarantineEntry> = rows.iter().map(QuarantineEntry::storable).collect();
        let rows = rows.as_slice();
        on_tx!(&mut self.inner, |tx| {
            crate::sync_state::QuarantineTx::insert_quarantine(tx, rows).await?;
            tx.append_audit(&crate::audit::refusal_entries(rows))
                .await?;
        });
        Ok(())
    }

    /// Moves the cursor of `stream` with `peer` to `seq`, as `cursor_move` says: never
    /// backwards unless it is a reset, with the hash of the sender's change there.
    pub async fn advance_cursor(
        &mut self,
        peer: &str,
        stream: SyncStream,
        seq: i64,
        cursor_move: &CursorMove,
    ) -> Result<(), StoreError> {
        on_tx!(&mut self.inner, |tx| {
            crate::sync_state::QuarantineTx::move_cursor(tx, peer, stream, seq, cursor_move).await?
        });
        // Whoever waits for this cursor (a child's next pushed batch, `watch_cursors`) is woken
        // at the commit.
        self.moved_cursor = true;
        Ok(())
    }

    /// Appends audit entries in this transaction.
    pub async fn audit(&mut self, entries: &[AuditEntry]) -> Result<(), StoreError> {
        on_tx!(&mut self.inner, |tx| tx.append_audit(entries).await?);
        Ok(())
    }

    /// Commits; wakes whoever waits for the change log to move when something was applied.
    pub async fn commit(self) -> Result<(), StoreError> {
        on_tx!(self.inner, |tx| tx.commit().await?);
        if self.applied {
            self.changed.notify_one();
            self.log_moved.send_modify(|generation| *generation += 1);
        }
        if self.moved_cursor {
            self.cursor_moved.send_modify(|generation| *generation += 1);
        }
        Ok(())
    }
}
