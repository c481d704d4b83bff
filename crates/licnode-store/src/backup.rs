//! Backups: a consistent copy of a SQLite database taken while the node serves (`VACUUM INTO`
//! reads one snapshot), and what a copy must hold to be restored: an intact file, an intact
//! audit chain, and the counts its manifest recorded (Art. 37: the archives are kept five
//! years, so they must survive the loss of a disk).

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::dialect::with_reader;
use crate::{Db, Store, StoreError};

/// What a database holds, read in one snapshot: the part of a backup manifest that a restored
/// copy must match.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DatabaseSummary {
    /// Records per collection.
    pub collections: BTreeMap<String, i64>,
    /// Records in all.
    pub records: i64,
    /// The change log's last sequence number.
    pub last_change_seq: i64,
    /// The audit log's head: its last entry's number and hash.
    pub audit_seq: i64,
    pub audit_hash: String,
}

impl Store {
    /// Copies the database into a new file at `path`, consistent as of one moment, while
    /// writers go on (SQLite's `VACUUM INTO` reads one snapshot). `path` must not exist. On
    /// PostgreSQL use `pg_dump`.
    pub async fn backup_into(&self, path: &Path) -> Result<(), StoreError> {
        match &self.db {
            Db::Sqlite { reader, .. } => {
                sqlx::query("VACUUM INTO ?")
                    .bind(path.display().to_string())
                    .execute(reader)
                    .await?;
                Ok(())
            }
            Db::Postgres { .. } => Err(StoreError::Database(sqlx::Error::Protocol(
                "a PostgreSQL database is backed up with pg_dump, not by licnode".into(),
            ))),
        }
    }

    /// The problems SQLite's `PRAGMA integrity_check` finds (none when the file is sound).
    /// PostgreSQL checks its pages itself (and with `amcheck` where installed): nothing here.
    pub async fn integrity_problems(&self) -> Result<Vec<String>, StoreError> {
        match &self.db {
            Db::Sqlite { reader, .. } => {
                let rows: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check")
                    .fetch_all(reader)
                    .await?;
                Ok(rows.into_iter().filter(|row| row != "ok").collect())
            }
            Db::Postgres { .. } => Ok(Vec::new()),
        }
    }

    /// Counts, the change log's end and the audit head, read in one snapshot.
    pub async fn summary(&self) -> Result<DatabaseSummary, StoreError> {
        with_reader!(&self.db, |pool| {
            let mut tx = pool.begin().await?;
            if let Some(statement) = self.db.dialect().one_snapshot_statement() {
                sqlx::query(statement).execute(&mut *tx).await?;
            }
            let summary = tx.read_summary().await?;
            tx.rollback().await?;
            Ok(summary)
        })
    }
}

/// Reads a [`DatabaseSummary`] inside a transaction that sees one snapshot.
trait SummaryTx {
    async fn read_summary(&mut self) -> Result<DatabaseSummary, StoreError>;
}

crate::dialect::impl_for_each_transaction!(SummaryTx {
    async fn read_summary(&mut self) -> Result<DatabaseSummary, StoreError> {
        let counts: Vec<(String, i64)> = sqlx::query_as(
            "SELECT collection, COUNT(*) FROM records GROUP BY collection ORDER BY collection",
        )
        .fetch_all(&mut **self)
        .await?;
        let last_change_seq: i64 =
            sqlx::query_scalar("SELECT value FROM node_counters WHERE name = 'change_seq'")
                .fetch_one(&mut **self)
                .await?;
        let (audit_seq, audit_hash): (i64, String) =
            sqlx::query_as("SELECT seq, hash FROM audit_head WHERE id = 1")
                .fetch_one(&mut **self)
                .await?;
        Ok(DatabaseSummary {
            records: counts.iter().map(|(_, count)| count).sum(),
            collections: counts.into_iter().collect(),
            last_change_seq,
            audit_seq,
            audit_hash,
        })
    }
});

/// A PostgreSQL snapshot held open and exported, so that `pg_dump --snapshot` copies exactly
/// what [`PgSnapshot::summary`] counted, while writers go on.
pub struct PgSnapshot {
    tx: sqlx::Transaction<'static, sqlx::Postgres>,
    id: String,
}

impl PgSnapshot {
    /// The exported snapshot's name, for `pg_dump --snapshot`.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Counts, the change log's end and the audit head, as of the snapshot.
    pub async fn summary(&mut self) -> Result<DatabaseSummary, StoreError> {
        self.tx.read_summary().await
    }

    /// Ends the snapshot (once `pg_dump` has started from it, or finished).
    pub async fn release(self) -> Result<(), StoreError> {
        self.tx.rollback().await?;
        Ok(())
    }
}

impl Store {
    /// Opens a repeatable-read transaction and exports its snapshot (PostgreSQL only; `None`
    /// on SQLite, which is copied with [`Store::backup_into`]).
    pub async fn pg_export_snapshot(&self) -> Result<Option<PgSnapshot>, StoreError> {
        let Db::Postgres { pool } = &self.db else {
            return Ok(None);
        };
        let mut tx = pool
            .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            .await?;
        let id: String = sqlx::query_scalar("SELECT pg_export_snapshot()")
            .fetch_one(&mut *tx)
            .await?;
        Ok(Some(PgSnapshot { tx, id }))
    }
}
