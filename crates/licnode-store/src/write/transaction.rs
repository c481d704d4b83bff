//! The write transaction's interface: what each database implements once (`WriteTx`), what is
//! written once for both (`CounterTx`), and the rows that pass through it.

use std::collections::{HashMap, HashSet};

use super::{PreparedChange, PreparedRecord};
use crate::StoreError;
use crate::projection::Projection;

/// A stored document as loaded with its record: id, key, saved bytes, the change-log number
/// they hold the record's changes up to, chunk count (the integer type its database gives),
/// enterprise name, the projection's fields as JSON text and the stored edit state.
pub(super) type DocumentRow<Count> = (
    String,
    i64,
    Vec<u8>,
    i64,
    Count,
    Option<String>,
    String,
    Option<Vec<u8>>,
);

/// One record's document row as loaded to write over it: key, saved bytes, the change-log
/// number they hold its changes up to, chunk count (its database's integer type) and
/// enterprise name.
pub(super) type DocumentHead<Count> = (i64, Vec<u8>, i64, Count, Option<String>);

/// A new record's row to insert: key, last sequence number, the record (with its edit state)
/// and its document's chunk count.
pub(super) type NewRecordRow<'a> = (i64, i64, &'a PreparedRecord, i64);

/// What a new record needs only its key for: its document row, and its name in the name index.
/// A new record's document row holds no bytes: its document is its changes in the change log
/// (migration 0024), written there once.
pub(crate) struct NewDocument<'a> {
    pub(crate) key: i64,
    pub(crate) projection: &'a Projection,
    /// The record's changes in the log, all of them its document's chunks.
    pub(crate) chunk_count: i64,
    pub(crate) edit_state: Option<&'a [u8]>,
}

/// A new record's projection row: key, last sequence number (its place in the change log, or
/// [`crate::read::LAST_SEQ_IN_THE_LOG`]) and projection.
pub(super) type NewProjection<'a> = (i64, i64, &'a Projection);

/// A stored record and what to store over it.
pub(crate) type ExistingRow<'a> = (&'a LoadedDocument, NextDocument<'a>);

/// What a write transaction does, on either database. Each backend implements it once
/// (`write/sqlite.rs`, `write/postgres.rs`); the write paths above are written once against it.
pub(crate) trait WriteTx {
    /// Rows per multi-row statement.
    const ROWS_PER_BATCH: usize;
    /// Takes the change log's lock (PostgreSQL), before any record's, so that writers of several
    /// records take their locks in one order and cannot deadlock.
    async fn lock_log(&mut self) -> Result<(), StoreError>;
    /// Keys for `count` new records. PostgreSQL takes them from a sequence, which holds no lock
    /// until commit (a key a rolled-back transaction took is a gap nothing reads), so that a
    /// received batch can take its keys before the change log's lock; SQLite from its counter.
    async fn new_keys(&mut self, count: usize) -> Result<Vec<i64>, StoreError>;
    /// Inserts what new records need only their key for: their documents and the name index
    /// (on PostgreSQL the public collections' grams, `public_name_grams`). A received batch
    /// writes them before it takes the change log's lock, while other batches write theirs.
    async fn insert_documents(&mut self, rows: &[NewDocument<'_>]) -> Result<(), StoreError>;
    /// Inserts new records' projection rows, which carry their place in the change log (or
    /// [`crate::read::LAST_SEQ_IN_THE_LOG`]: a received batch writes them before it takes the
    /// change log's lock, as their documents).
    async fn insert_projections(&mut self, rows: &[NewProjection<'_>]) -> Result<(), StoreError>;
    /// Removes what [`WriteTx::insert_documents`] and [`WriteTx::insert_projections`] wrote for
    /// `keys`: records destroyed while their batch was merged, found once the change log's lock
    /// is held.
    async fn remove_documents(&mut self, keys: &[i64]) -> Result<(), StoreError>;
    /// Inserts new records whole: documents, name index and projection rows (not the change
    /// rows).
    async fn insert_record_rows(&mut self, rows: &[NewRecordRow<'_>]) -> Result<(), StoreError> {
        let documents: Vec<NewDocument<'_>> = rows
            .iter()
            .map(|(key, _, record, chunk_count)| NewDocument {
                key: *key,
                projection: &record.projection,
                chunk_count: *chunk_count,
                edit_state: record.edit_state.as_deref(),
            })
            .collect();
        self.insert_documents(&documents).await?;
        let projections: Vec<NewProjection<'_>> = rows
            .iter()
            .map(|(key, seq, record, _)| (*key, *seq, &record.projection))
            .collect();
        self.insert_projections(&projections).await
    }
    /// Inserts change-log rows and their audit entries (Art. 37).
    async fn insert_changes(&mut self, rows: &[(i64, &PreparedChange)]) -> Result<(), StoreError>;
    /// The stored document row of record `id`, locked for this transaction: its saved bytes
    /// only ([`LoadedDocument::complete`] false; see [`super::load_whole_document`]).
    async fn load_document(&mut self, id: &str) -> Result<Option<LoadedDocument>, StoreError>;
    /// The changes in the log of each record `(id, after)` numbered after `after`, in log
    /// order, by record id: what completes a document whose saved bytes hold its changes up
    /// to `after` (migration 0024).
    async fn log_tails(
        &mut self,
        wanted: &[(&str, i64)],
    ) -> Result<HashMap<String, Vec<Vec<u8>>>, StoreError>;
    /// The stored document rows of the records `ids` that exist, by id, locked for this
    /// transaction: saved bytes only, as [`WriteTx::load_document`].
    async fn load_documents(
        &mut self,
        ids: &[&str],
    ) -> Result<HashMap<String, LoadedDocument>, StoreError>;
    /// Stores records' new documents and projections over their old ones, set-wise: a
    /// statement a table for many records (a received batch of edits), not one a record.
    async fn store_existing(&mut self, rows: &[ExistingRow<'_>]) -> Result<(), StoreError>;
    /// The hashes among `hashes` already in the change log.
    async fn known_hashes(&mut self, hashes: &[String]) -> Result<HashSet<String>, StoreError>;
    /// The ids among `ids` this node destroyed: received changes to them are dropped (no
    /// resurrection, Art. 38).
    async fn tombstoned(&mut self, ids: &[&str]) -> Result<HashSet<String>, StoreError>;
}

/// The node's gap-free counters (`change_seq`; on SQLite `record_key` too), inside a write
/// transaction.
pub(crate) trait CounterTx {
    /// Takes `count` numbers from the counter; returns the first. On PostgreSQL the row lock
    /// is held until commit, so numbers become visible in order; SQLite has one writer.
    async fn take(&mut self, counter: &str, count: i64) -> Result<i64, StoreError>;
}

crate::dialect::impl_for_each_transaction!(CounterTx {
    async fn take(&mut self, counter: &str, count: i64) -> Result<i64, StoreError> {
        let last: i64 = sqlx::query_scalar(
            "UPDATE node_counters SET value = value + $1 WHERE name = $2 RETURNING value",
        )
        .bind(count)
        .bind(counter)
        .fetch_one(&mut **self)
        .await?;
        Ok(last - count + 1)
    }
});

/// The stored state of one record's document inside a write transaction.
pub(crate) struct LoadedDocument {
    pub(super) key: i64,
    /// The document's saved bytes; once [`LoadedDocument::complete`], followed by its changes
    /// in the log after `log_after`: the whole document.
    pub(super) bytes: Vec<u8>,
    /// The change-log number up to which the saved bytes hold the record's changes (migration
    /// 0024).
    pub(super) log_after: i64,
    /// True once the record's changes in the log after `log_after` are appended to `bytes`.
    pub(super) complete: bool,
    /// Chunks of the whole document: the saved bytes' and the changes after them.
    pub(super) chunk_count: i64,
    pub(super) old_name: Option<String>,
    /// The projection's fields as stored (JSON text), when loaded for applying received
    /// changes: what they changed is validated.
    pub(super) old_data: Option<String>,
    /// The stored `licnode_doc::EditState`, when loaded for applying received changes and
    /// known.
    pub(super) edit_state: Option<Vec<u8>>,
    /// The projection's other named columns as stored, when loaded (SQLite, for received
    /// changes): an update that leaves them as they are does not rewrite them, so SQLite does
    /// not rewrite their index entries either.
    pub(super) old_named: Option<NamedColumns>,
}

/// The projection's columns read from its fields besides the enterprise name: licence number,
/// its bare form, credit code and status.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct NamedColumns {
    pub(super) licence_number: Option<String>,
    pub(super) licence_number_bare: Option<String>,
    pub(super) credit_code: Option<String>,
    pub(super) status: Option<String>,
}

impl NamedColumns {
    /// True when `projection` holds exactly these columns.
    pub(super) fn same_as(&self, projection: &Projection) -> bool {
        self.licence_number == projection.licence_number
            && self.licence_number_bare == projection.licence_number_bare
            && self.credit_code == projection.credit_code
            && self.status == projection.status
    }
}

impl LoadedDocument {
    pub(super) fn new(
        key: i64,
        (bytes, log_after): (Vec<u8>, i64),
        chunk_count: i64,
        old_name: Option<String>,
        old_data: Option<String>,
    ) -> LoadedDocument {
        LoadedDocument {
            key,
            bytes,
            log_after,
            complete: false,
            chunk_count,
            old_name,
            old_data,
            edit_state: None,
            old_named: None,
        }
    }

    /// The same, with the stored named columns.
    pub(super) fn with_named(mut self, named: NamedColumns) -> LoadedDocument {
        self.old_named = Some(named);
        self
    }

    /// True when storing `projection` over this record changes none of its name, licence
    /// number, credit code and status columns, as far as was loaded.
    pub(super) fn same_named_columns(&self, projection: &Projection) -> bool {
        self.old_name == projection.enterprise_name
            && self
                .old_named
                .as_ref()
                .is_some_and(|named| named.same_as(projection))
    }

    /// Appends the record's changes in the log after the saved bytes (from
    /// [`WriteTx::log_tails`]): the bytes are then the whole document.
    pub(super) fn complete_with(&mut self, tail: Vec<Vec<u8>>) {
        for change in tail {
            self.bytes.extend_from_slice(&change);
        }
        self.complete = true;
    }

    /// The same, with the stored edit state.
    pub(super) fn with_edit_state(mut self, edit_state: Option<Vec<u8>>) -> LoadedDocument {
        self.edit_state = edit_state;
        self
    }
}

/// A record's new document and projection, to store over its old one.
pub(crate) struct NextDocument<'a> {
    pub(super) projection: &'a Projection,
    /// The whole document saved, when it is compacted: stored as the saved bytes, which then
    /// hold the record's changes up to `last_seq`. `None`: the saved bytes stay as they are and
    /// the new changes are read from the log after them.
    pub(super) saved: Option<&'a [u8]>,
    pub(super) chunk_count: i64,
    pub(super) last_seq: i64,
    /// The edit state of the new document (`None`: unknown, stored as NULL).
    pub(super) edit_state: Option<&'a [u8]>,
}
