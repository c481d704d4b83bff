//! Replication state: per-peer cursors and the quarantine of refused changes. A received batch
//! is stored through a [`crate::ReplicationTx`] (apply, quarantine, advance the cursor, commit —
//! one transaction); the replication engine (`licnode_app::replication`) decides what goes in.

use serde::Serialize;
use sqlx::Row;

use crate::LoggedChange;
use crate::dialect::{with_reader, with_writer};
pub use crate::sync_stream::{SyncStream, UnknownSyncStream};
use crate::{Db, Store, StoreError};

/// Why the store itself quarantines a received change. Refusals by the link's authority rules
/// carry the rules' own codes (`outside_jurisdiction`, …) and are decided above the store. The
/// spelling of each reason is stored in `quarantine.reason` and sent on the wire: `as_str` is
/// the only place it is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum QuarantineReason {
    /// The change's bytes are not an automerge change.
    MalformedChange,
    /// The record's document refused the change (metadata that contradicts it).
    RefusedByDocument,
    /// The change depends on changes this node does not have (yet: such changes are applied
    /// again after every batch that brought something, see [`Store::retry_waiting`]).
    MissingDependency,
    /// The change would give a record a second id, collection or jurisdiction, even as a losing
    /// concurrent value (issue 11 item 6).
    IdentityConflict,
    /// After the change the record fails the validation a local write of the same fields must
    /// pass (issue 11 item 6).
    InvalidRecord,
}

impl QuarantineReason {
    /// Every reason, for whoever lists them.
    pub const ALL: [QuarantineReason; 5] = [
        QuarantineReason::MalformedChange,
        QuarantineReason::RefusedByDocument,
        QuarantineReason::MissingDependency,
        QuarantineReason::IdentityConflict,
        QuarantineReason::InvalidRecord,
    ];

    /// The reason's code, as stored and sent.
    pub const fn as_str(self) -> &'static str {
        match self {
            QuarantineReason::MalformedChange => "malformed_change",
            QuarantineReason::RefusedByDocument => "refused_by_document",
            QuarantineReason::MissingDependency => "missing_dependency",
            QuarantineReason::IdentityConflict => "identity_conflict",
            QuarantineReason::InvalidRecord => "invalid_record",
        }
    }
}

impl std::fmt::Display for QuarantineReason {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// A code that is not one of the store's own reasons (an authority rule's, or unknown).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a reason the store quarantines for")]
pub struct NotAStoreReason(pub String);

impl std::str::FromStr for QuarantineReason {
    type Err = NotAStoreReason;

    fn from_str(code: &str) -> Result<Self, Self::Err> {
        QuarantineReason::ALL
            .into_iter()
            .find(|reason| reason.as_str() == code)
            .ok_or_else(|| NotAStoreReason(code.to_owned()))
    }
}

/// Reason code of a change whose bytes are not an automerge change.
pub const REASON_MALFORMED: &str = QuarantineReason::MalformedChange.as_str();
/// Reason code of a change the record's document refused (metadata that contradicts it).
pub const REASON_REFUSED_BY_DOCUMENT: &str = QuarantineReason::RefusedByDocument.as_str();
/// Reason code of a change whose dependencies this node does not have.
pub const REASON_MISSING_DEPENDENCY: &str = QuarantineReason::MissingDependency.as_str();

/// Most waiting changes applied again at once.
const RETRY_BATCH: i64 = 500;

/// Why a received change is not applied: a reason code and a message for people.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    pub code: String,
    pub message: String,
}

/// One quarantined change.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct QuarantineEntry {
    pub peer: String,
    pub hash: String,
    pub record_id: String,
    pub collection: String,
    pub jurisdiction: String,
    pub author_node: String,
    pub reason: String,
    pub message: String,
    #[serde(skip)]
    pub bytes: Vec<u8>,
    pub received_at_ms: i64,
}

impl QuarantineEntry {
    /// The entry with every NUL in its text replaced by U+FFFD.
    pub fn storable(&self) -> QuarantineEntry {
        let clean = |text: &String| text.replace('\0', "\u{fffd}");
        QuarantineEntry {
            peer: clean(&self.peer),
            hash: clean(&self.hash),
            record_id: clean(&self.record_id),
            collection: clean(&self.collection),
            jurisdiction: clean(&self.jurisdiction),
            author_node: clean(&self.author_node),
            reason: clean(&self.reason),
            message: clean(&self.message),
            bytes: self.bytes.clone(),
            received_at_ms: self.received_at_ms,
        }
    }
}

/// How a stored batch moves its stream's cursor.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CursorMove {
    /// The hash of the sender's change at the new cursor, kept with it (a parent keeps the hash
    /// of the child's change at the child's push cursor, issue 11 item 4).
    pub hash: Option<String>,
    /// Move the cursor to the batch's even when that is behind it: a child that found its log
    /// and the parent's cursor diverged pushes its log again from the start. Otherwise a cursor
    /// never moves backwards.
    pub reset: bool,
}

impl Store {
    /// The cursor of `stream` with `peer`: 0 when nothing was stored yet.
    pub async fn sync_cursor(&self, peer: &str, stream: SyncStream) -> Result<i64, StoreError> {
        Ok(self.stored_sync_cursor(peer, stream).await?.unwrap_or(0))
    }

    /// The cursor of `stream` with `peer`, `None` when none was ever stored (a link whose first
    /// session has not ended).
    pub async fn stored_sync_cursor(
        &self,
        peer: &str,
        stream: SyncStream,
    ) -> Result<Option<i64>, StoreError> {
        let seq: Option<i64> = with_reader!(&self.db, |pool| {
            sqlx::query_scalar("SELECT seq FROM sync_cursors WHERE peer = $1 AND stream = $2")
                .bind(peer)
                .bind(stream.as_str())
                .fetch_optional(pool)
                .await?
        });
        Ok(seq)
    }

    /// The cursor of `stream` with `peer` and the hash stored with it: (0, `None`) when nothing
    /// was stored yet; no hash for a cursor stored without one.
    pub async fn sync_cursor_with_hash(
        &self,
        peer: &str,
        stream: SyncStream,
    ) -> Result<(i64, Option<String>), StoreError> {
        let sql = match &self.db {
            Db::Sqlite { .. } => "SELECT seq, hash FROM sync_cursors WHERE peer = ? AND stream = ?",
            Db::Postgres { .. } => {
                "SELECT seq, hash FROM sync_cursors WHERE peer = $1 AND stream = $2"
            }
        };
        let row: Option<(i64, Option<String>)> = with_reader!(&self.db, |pool| {
            sqlx::query_as(sql)
                .bind(peer)
                .bind(stream.as_str())
                .fetch_optional(pool)
                .await?
        });
        Ok(row.unwrap_or((0, None)))
    }

    /// Sets the cursor of `stream` with `peer` to `seq`, even backwards, without a hash: for a
    /// child whose log diverged from what its parent acknowledged.
    pub async fn reset_sync_cursor(
        &self,
        peer: &str,
        stream: SyncStream,
        seq: i64,
    ) -> Result<(), StoreError> {
        let now = crate::now_ms();
        with_writer!(&self.db, |pool| {
            sqlx::query(
                "INSERT INTO sync_cursors (peer, stream, seq, updated_at_ms, hash) \
                     VALUES ($1, $2, $3, $4, NULL) ON CONFLICT (peer, stream) DO UPDATE SET \
                     seq = excluded.seq, hash = NULL, updated_at_ms = excluded.updated_at_ms",
            )
            .bind(peer)
            .bind(stream.as_str())
            .bind(seq)
            .bind(now)
            .execute(pool)
            .await?;
        });
        // A moved cursor, like one moved in a replication transaction: its watchers look again.
        self.cursor_moved.send_modify(|generation| *generation += 1);
        Ok(())
    }

    /// The hash of this node's change numbered `seq`, if its log holds one there.
    pub async fn change_hash_at(&self, seq: i64) -> Result<Option<String>, StoreError> {
        Ok(with_reader!(&self.db, |pool| {
            sqlx::query_scalar("SELECT hash FROM changes WHERE seq = $1")
                .bind(seq)
                .fetch_optional(pool)
                .await?
        }))
    }

    /// The end of the change log ([`Store::last_seq`]) and the hash of the change numbered `seq`
    /// ([`Store::change_hash_at`]), in one statement: what a pull checks before it reads, and a
    /// child before it pushes (an empty session's reads are most of its time).
    pub async fn log_end_with_hash_at(
        &self,
        seq: i64,
    ) -> Result<(i64, Option<String>), StoreError> {
        Ok(with_reader!(&self.db, |pool| {
            sqlx::query_as(
                "SELECT (SELECT value FROM node_counters WHERE name = 'change_seq'), \
                 (SELECT hash FROM changes WHERE seq = $1)",
            )
            .bind(seq)
            .fetch_one(pool)
            .await?
        }))
    }

    /// [`Store::log_end_with_hash_at`] and the cursor of `stream` with `peer` with its hash,
    /// `None` when none was stored ([`Store::stored_sync_cursor`]), in one statement: what a
    /// parent's pull reads (where it stands on the child's log) and what a child reads before
    /// it pushes (whether its log diverged from what the parent acknowledged, and what it last
    /// stored of that acknowledgement).
    pub async fn log_end_with_hash_at_and_cursor(
        &self,
        seq: i64,
        peer: &str,
        stream: SyncStream,
    ) -> Result<((i64, Option<String>), Option<(i64, Option<String>)>), StoreError> {
        let (end, hash, cursor, cursor_hash): (i64, Option<String>, Option<i64>, Option<String>) =
            with_reader!(&self.db, |pool| {
                sqlx::query_as(
                    "SELECT (SELECT value FROM node_counters WHERE name = 'change_seq'), \
                     (SELECT hash FROM changes WHERE seq = $1), \
                     (SELECT seq FROM sync_cursors WHERE peer = $2 AND stream = $3), \
                     (SELECT hash FROM sync_cursors WHERE peer = $2 AND stream = $3)",
                )
                .bind(seq)
                .bind(peer)
                .bind(stream.as_str())
                .fetch_one(pool)
                .await?
            });
        Ok(((end, hash), cursor.map(|cursor| (cursor, cursor_hash))))
    }

    /// Change-log rows received from `origin` after `after`, in sequence order, at most
    /// `limit`: what a child sent, given back to it after it lost its copy.
    pub async fn changes_from_origin(
        &self,
        origin: &str,
        after: i64,
        limit: i64,
    ) -> Result<Vec<crate::LoggedChange>, StoreError> {
        let columns = "seq, hash, record_id, collection, jurisdiction, author_node, author_user, \
                       origin, at_ms, bytes";
        with_reader!(&self.db, |pool| {
            let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT {columns} FROM changes WHERE origin = $1 AND seq > $2 \
                     ORDER BY seq{}",
                crate::dialect::limit(limit)
            )))
            .bind(origin)
            .bind(after)
            .fetch_all(pool)
            .await?;
            rows.iter().map(crate::read::change_row).collect()
        })
    }

    /// Applies again the changes quarantined for want of a dependency (a batch delivered out of
    /// order, a link that carried the dependency later): those that apply now, or that this
    /// node holds by now, leave the quarantine. They passed the authority check when they
    /// arrived. Returns the hashes applied. Runs after every batch that applied something; an
    /// interruption between applying and clearing is harmless (the next run finds them held).
    pub async fn retry_waiting(&self) -> Result<Vec<String>, StoreError> {
        let mut applied = Vec::new();
        // Asked of a reader first: almost always nothing waits, and the writer is then busy
        // storing the next batch, which the answer to this one would otherwise wait for. The
        // reader sees every commit made before this call, this batch's quarantine included; a
        // batch committed later runs its own retry.
        if !self.anything_waiting().await? {
            return Ok(applied);
        }
        loop {
            let waiting = self.waiting(RETRY_BATCH).await?;
            if waiting.is_empty() {
                break;
            }
            let changes: Vec<LoggedChange> = waiting
                .iter()
                .map(|entry| LoggedChange {
                    record_id: entry.record_id.clone(),
                    collection: entry.collection.clone(),
                    jurisdiction: entry.jurisdiction.clone(),
                    author_user: String::new(),
                    at_ms: entry.received_at_ms,
                    origin: entry.peer.clone(),
                    bytes: entry.bytes.clone(),
                    ..LoggedChange::default()
                })
                .collect();
            let outcome = self.apply_remote(&changes).await?;
            self.clear_resolved_waiting().await?;
            if outcome.applied.is_empty() {
                break;
            }
            applied.extend(outcome.applied);
        }
        Ok(applied)
    }

    /// Whether any quarantined change waits for a dependency (read on a reader connection).
    async fn anything_waiting(&self) -> Result<bool, StoreError> {
        let row: Option<i64> = with_reader!(&self.db, |pool| {
            sqlx::query_scalar("SELECT id FROM quarantine WHERE reason = $1 ORDER BY id LIMIT 1")
                .bind(REASON_MISSING_DEPENDENCY)
                .fetch_optional(pool)
                .await?
        });
        Ok(row.is_some())
    }

    /// Quarantined changes waiting for a dependency, oldest first.
    async fn waiting(&self, limit: i64) -> Result<Vec<QuarantineEntry>, StoreError> {
        let select = "SELECT peer, hash, record_id, collection, jurisdiction, author_node, \
                      reason, message, bytes, received_at_ms FROM quarantine WHERE reason = ";
        with_writer!(&self.db, |pool| {
            let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                "{select} $1 ORDER BY id{}",
                crate::dialect::limit(limit)
            )))
            .bind(REASON_MISSING_DEPENDENCY)
            .fetch_all(pool)
            .await?;
            rows.iter().map(quarantine_row).collect()
        })
    }

    /// Removes from the quarantine the waiting changes this node now holds.
    async fn clear_resolved_waiting(&self) -> Result<(), StoreError> {
        with_writer!(&self.db, |pool| {
            sqlx::query(
                "DELETE FROM quarantine WHERE reason = $1 \
                     AND hash IN (SELECT hash FROM changes)",
            )
            .bind(REASON_MISSING_DEPENDENCY)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// The quarantined changes, oldest first, at most `limit`.
    pub async fn quarantined(&self, limit: i64) -> Result<Vec<QuarantineEntry>, StoreError> {
        with_reader!(&self.db, |pool| {
            let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT peer, hash, record_id, collection, jurisdiction, author_node, reason, \
                     message, bytes, received_at_ms FROM quarantine ORDER BY id{}",
                crate::dialect::limit(limit)
            )))
            .fetch_all(pool)
            .await?;
            rows.iter().map(quarantine_row).collect()
        })
    }
}

/// A stable name for bytes that are not a change (they have no change hash): `malformed-`, their
/// length and their 64-bit FNV-1a digest, so that different garbage is kept apart and the same
/// garbage delivered twice is kept once.
pub fn malformed_id(bytes: &[u8]) -> String {
    let digest = bytes.iter().fold(0xcbf2_9ce4_8422_2325_u64, |hash, &byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
    });
    format!("malformed-{}-{digest:016x}", bytes.len())
}

/// The leaf statements of a received batch, inside its write transaction.
pub(crate) trait QuarantineTx {
    /// Inserts quarantine rows (a change already quarantined from the same peer is kept once).
    async fn insert_quarantine(&mut self, rows: &[QuarantineEntry]) -> Result<(), StoreError>;
    /// Moves a peer's cursor as `cursor_move` says.
    async fn move_cursor(
        &mut self,
        peer: &str,
        stream: SyncStream,
        seq: i64,
        cursor_move: &CursorMove,
    ) -> Result<(), StoreError>;
}

crate::dialect::impl_for_each_transaction!(QuarantineTx {
    async fn insert_quarantine(&mut self, rows: &[QuarantineEntry]) -> Result<(), StoreError> {
        for row in rows {
            sqlx::query(
                "INSERT INTO quarantine (peer, hash, record_id, collection, jurisdiction, \
                 author_node, reason, message, bytes, received_at_ms) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
                 ON CONFLICT (peer, hash) DO NOTHING",
            )
            .bind(&row.peer)
            .bind(&row.hash)
            .bind(&row.record_id)
            .bind(&row.collection)
            .bind(&row.jurisdiction)
            .bind(&row.author_node)
            .bind(&row.reason)
            .bind(&row.message)
            .bind(&row.bytes)
            .bind(row.received_at_ms)
            .execute(&mut **self)
            .await?;
        }
        Ok(())
    }

    async fn move_cursor(
        &mut self,
        peer: &str,
        stream: SyncStream,
        seq: i64,
        cursor_move: &CursorMove,
    ) -> Result<(), StoreError> {
        use crate::dialect::BackendTx as _;
        let update = if cursor_move.reset {
            "seq = excluded.seq, hash = excluded.hash".to_string()
        } else {
            // The hash follows the sequence number it names.
            format!(
                "seq = {greatest}(sync_cursors.seq, excluded.seq), hash = CASE \
                 WHEN excluded.seq > sync_cursors.seq THEN excluded.hash \
                 WHEN excluded.seq = sync_cursors.seq \
                 THEN COALESCE(excluded.hash, sync_cursors.hash) \
                 ELSE sync_cursors.hash END",
                greatest = Self::DIALECT.greatest()
            )
        };
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO sync_cursors (peer, stream, seq, updated_at_ms, hash) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (peer, stream) DO UPDATE SET {update}, \
             updated_at_ms = excluded.updated_at_ms"
        )))
        .bind(peer)
        .bind(stream.as_str())
        .bind(seq)
        .bind(crate::now_ms())
        .bind(&cursor_move.hash)
        .execute(&mut **self)
        .await?;
        Ok(())
    }
});

fn quarantine_row<R: Row>(row: &R) -> Result<QuarantineEntry, StoreError>
where
    usize: sqlx::ColumnIndex<R>,
    i64: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    String: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    Vec<u8>: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    Ok(QuarantineEntry {
        peer: row.try_get(0)?,
        hash: row.try_get(1)?,
        record_id: row.try_get(2)?,
        collection: row.try_get(3)?,
        jurisdiction: row.try_get(4)?,
        author_node: row.try_get(5)?,
        reason: row.try_get(6)?,
        message: row.try_get(7)?,
        bytes: row.try_get(8)?,
        received_at_ms: row.try_get(9)?,
    })
}

impl Store {
    /// Saves the link state to `peer` (a JSON document of the sync loop's).
    pub async fn save_link_state(
        &self,
        peer: &str,
        state: &serde_json::Value,
    ) -> Result<(), StoreError> {
        let now = crate::now_ms();
        let text = state.to_string();
        with_writer!(&self.db, |pool| {
            sqlx::query(
                    "INSERT INTO link_state (peer, state, updated_at_ms) VALUES ($1, $2, $3) \
                     ON CONFLICT (peer) DO UPDATE SET state = excluded.state, updated_at_ms = excluded.updated_at_ms",
                )
                .bind(peer)
                .bind(text)
                .bind(now)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// Every saved link state, by peer.
    pub async fn link_states(&self) -> Result<Vec<(String, serde_json::Value)>, StoreError> {
        let sql = "SELECT peer, state FROM link_state ORDER BY peer";
        let rows: Vec<(String, String)> =
            with_reader!(&self.db, |pool| sqlx::query_as(sql).fetch_all(pool).await?);
        Ok(rows
            .into_iter()
            .map(|(peer, state)| {
                (
                    peer,
                    serde_json::from_str(&state).unwrap_or(serde_json::Value::Null),
                )
            })
            .collect())
    }

    /// How many received changes sit in quarantine.
    pub async fn quarantine_count(&self) -> Result<i64, StoreError> {
        let sql = "SELECT COUNT(*) FROM quarantine";
        Ok(with_reader!(&self.db, |pool| sqlx::query_scalar(sql)
            .fetch_one(pool)
            .await?))
    }

    /// Resolves when something was written to this node's change log since the last call
    /// (local writes and received changes alike): the sync loop's "shortly after a write".
    pub async fn changed(&self) {
        self.changed.notified().await;
    }

    /// Tells the sync loop that changes a child pushed were stored, so that it forwards them
    /// to this node's parent at once: they came as a batch already, and the debounce that
    /// gathers a clerk's writes (`[sync] debounce`) would hold them at every level.
    pub fn signal_received_from_child(&self) {
        self.from_children.notify_one();
    }

    /// Resolves when changes a child pushed were stored since the last call.
    pub async fn received_from_child(&self) {
        self.from_children.notified().await;
    }

    /// A receiver that sees every move of this node's change log (a generation count): what a
    /// child's long-poll waits on. Writes by another process on the same database are seen
    /// once [`Store::notice_external_writes`] runs.
    pub fn watch_log(&self) -> tokio::sync::watch::Receiver<u64> {
        self.log_moved.subscribe()
    }

    /// Signals a change if the log's last sequence number moved past `seen` without this
    /// process writing it (an import run by another process, another process of a node on the
    /// same PostgreSQL database); returns the last sequence number. A node calls it every
    /// second or so.
    pub async fn notice_external_writes(&self, seen: i64) -> Result<i64, StoreError> {
        let last = self.last_seq().await?;
        if last > seen {
            self.signal_change();
        }
        Ok(last)
    }
}

#[cfg(test)]
mod quarantine_reason_tests {
    use super::QuarantineReason;

    /// The codes are stored in `quarantine.reason` and sent to peers and staff: their spelling
    /// is fixed (issue 17 item 3 keeps the strings byte for byte).
    #[test]
    fn each_quarantine_reason_keeps_its_stored_spelling_and_reads_back_from_it() {
        let spelled = [
            (QuarantineReason::MalformedChange, "malformed_change"),
            (QuarantineReason::RefusedByDocument, "refused_by_document"),
            (QuarantineReason::MissingDependency, "missing_dependency"),
            (QuarantineReason::IdentityConflict, "identity_conflict"),
            (QuarantineReason::InvalidRecord, "invalid_record"),
        ];
        assert_eq!(spelled.len(), QuarantineReason::ALL.len());
        for (reason, code) in spelled {
            assert_eq!(reason.as_str(), code);
            assert_eq!(code.parse::<QuarantineReason>(), Ok(reason));
        }
    }

    #[test]
    fn an_authority_rules_code_is_not_read_as_a_store_reason() {
        assert!("outside_jurisdiction".parse::<QuarantineReason>().is_err());
        assert!("Invalid_Record".parse::<QuarantineReason>().is_err());
    }
}
