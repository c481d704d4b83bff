//! Persistence of a node's archives: record documents, their queryable projections, the name
//! index and the local change log, on SQLite (the default) or PostgreSQL. This is the only
//! crate that speaks SQL. It is a repository: reads, and writes at the level of a transaction;
//! the rules that decide what may be written (validation, authority, approval, frozen reports,
//! due-ness, signatures) are the application services' (`licnode-app`), which pass a rule in
//! where it must run inside a write transaction (`Store::modify`, `Store::destroy_records`).

#![forbid(unsafe_code)]

mod accounts;
pub mod administration;
pub mod anchors;
pub mod audit;
mod audit_kind;
mod backup;
mod date_sort;
pub mod deadlines;
mod dialect;
#[cfg(feature = "fault-injection")]
pub mod fault_injection;
pub mod licence_actions;
pub mod link_reports;
mod migrate;
pub mod once_only;
mod projection;
pub mod public;
mod read;
pub mod replication_tx;
pub mod reports;
pub mod retention;
pub mod sync_state;
mod sync_stream;
mod write;

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

pub use accounts::{AccountError, IssuedToken, MIN_PASSWORD_CHARS, Role, TokenKind, User};
pub use audit::{AuditEntry, AuditFinding, AuditKind, AuditRecord, AuditReport};
pub use backup::{DatabaseSummary, PgSnapshot};
pub use date_sort::{DateCursor, sortable_date_fields};
pub use deadlines::DeadlineQuery;
pub use licnode_sync::protocol::LoggedChange;
pub use once_only::{OnceOnlyClaim, OnceOnlyHolder, OnceOnlyRun};
pub use projection::{Projection, name_grams};
pub use read::subtree_prefix;
pub use read::{ListQuery, Page, SearchQuery, StoredRecord};
pub use replication_tx::ReplicationTx;
pub use reports::ReportRun;
pub use sync_state::{CursorMove, QuarantineEntry, QuarantineReason, Refusal};
pub use sync_stream::{SyncStream, UnknownSyncStream};
pub use write::{
    ApplyOutcome, ApprovedAction, Attribution, ModifyError, PreparedChange, PreparedRecord,
    REASON_IDENTITY_CONFLICT, REASON_INVALID_RECORD, unstorable_claims,
};

/// Errors of the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open database {url}: {source}")]
    Open {
        url: String,
        #[source]
        source: sqlx::Error,
    },
    #[error("unsupported database URL {0} (expected sqlite:// or postgres://)")]
    UnsupportedUrl(String),
    #[error("migration {version} failed: {source}")]
    Migration {
        version: i64,
        #[source]
        source: sqlx::Error,
    },
    #[error("group commit failed: {0}")]
    GroupCommit(String),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("stored document of record {id} is unreadable: {source}")]
    CorruptDocument {
        id: String,
        #[source]
        source: Box<licnode_doc::DocError>,
    },
    #[error("{collection} has no date field {field} to sort by")]
    UnsortableField { collection: String, field: String },
    #[error("stored projection of record {id} is unreadable: {source}")]
    CorruptProjection {
        id: String,
        #[source]
        source: serde_json::Error,
    },
}

impl StoreError {
    /// Whether the database refused the write because its storage is full: SQLite's
    /// `SQLITE_FULL` (a full disk, or `max_page_count` reached) or PostgreSQL's `disk_full`
    /// (53100). The transaction was rolled back: nothing was stored, and the same write succeeds
    /// once space returns. A group commit reports its failure as text, so that is read too.
    pub fn is_storage_full(&self) -> bool {
        const SQLITE_FULL: &str = "13";
        const POSTGRES_DISK_FULL: &str = "53100";
        match self {
            StoreError::Database(sqlx::Error::Database(database)) => matches!(
                database.code().as_deref(),
                Some(SQLITE_FULL | POSTGRES_DISK_FULL)
            ),
            StoreError::GroupCommit(text) => {
                text.contains("(code: 13)")
                    || text.contains("database or disk is full")
                    || text.contains("No space left on device")
            }
            _ => false,
        }
    }
}

/// Which database a store runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

#[derive(Clone)]
pub(crate) enum Db {
    /// One writer connection (SQLite has one writer at a time; a single connection serialises
    /// our transactions instead of failing them with SQLITE_BUSY) and a pool of readers.
    Sqlite {
        writer: SqlitePool,
        reader: SqlitePool,
    },
    Postgres {
        pool: PgPool,
    },
}

/// How a SQLite store's connections are sized (PostgreSQL ignores it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StoreSettings {
    /// The writer connection's page cache, in KiB.
    pub writer_cache_kib: u32,
    /// Each reader connection's page cache, in KiB.
    pub reader_cache_kib: u32,
    /// Reader connections at most (at least one).
    pub readers: u32,
    /// Pages the write-ahead log grows to before it is checkpointed (`wal_autocheckpoint`),
    /// the log file then cut back to that size (`journal_size_limit`); `None`: SQLite's
    /// defaults (1,000 pages, the file never cut back).
    pub wal_pages: Option<u32>,
}

impl StoreSettings {
    /// A node's store: a 16 MB writer cache and eight readers of 4 MB; a write-ahead log
    /// checkpointed at 10,000 pages (40 MB) instead of SQLite's 1,000. The operating system's
    /// file cache holds the rest of a hot database for every connection at once; larger
    /// private caches (64 MB and 16 MB before issue 14) bought no throughput in `licnode bench
    /// sync` and most of its peak memory (BENCHMARKS.md, "Memory"). A received batch of 500
    /// changes dirties more than 1,000 pages, so at SQLite's default nearly every batch's
    /// commit also checkpointed, on the writer, before the batch was answered; the pages a
    /// batch rewrites again (the log's tail, the indexes' upper pages, cursors, counters) are
    /// now copied into the database once every few batches (BENCHMARKS.md, "The waiting
    /// check and the checkpoint").
    pub const NODE: StoreSettings = StoreSettings {
        writer_cache_kib: 16_384,
        reader_cache_kib: 4_096,
        readers: 8,
        wal_pages: Some(10_000),
    };
    /// Thousands of stores in one process (`licnode sim`): 1 MB of cache for the writer and
    /// for its one reader, and a write-ahead log checkpointed at 100 pages instead of 1,000
    /// (thousands of 4 MB logs fill a disk). Durability is a node's (WAL, `synchronous=FULL`).
    pub const LIGHT: StoreSettings = StoreSettings {
        writer_cache_kib: 1_024,
        reader_cache_kib: 1_024,
        readers: 1,
        wal_pages: Some(100),
    };
}

/// A node's database.
#[derive(Clone)]
pub struct Store {
    pub(crate) db: Db,
    /// Single-record inserts queued for group commit (started on first use).
    pub(crate) group: std::sync::Arc<std::sync::OnceLock<write::GroupSender>>,
    /// Signalled after every commit that added to the change log.
    pub(crate) changed: std::sync::Arc<tokio::sync::Notify>,
    /// Signalled when changes a child pushed were stored: see [`Store::received_from_child`].
    pub(crate) from_children: std::sync::Arc<tokio::sync::Notify>,
    /// Moves (a generation count) after every commit that added to the change log: what
    /// long-polls of this node's children wait on.
    pub(crate) log_moved: std::sync::Arc<tokio::sync::watch::Sender<u64>>,
    /// Moves after every commit that moved a replication cursor: what a pushed batch that
    /// follows one still being stored waits on.
    pub(crate) cursor_moved: std::sync::Arc<tokio::sync::watch::Sender<u64>>,
}

/// Whether the writer connection may be used again after a write: not while it is still inside a
/// transaction. A failed write's transaction is rolled back when it is dropped, but on a full
/// disk SQLite may refuse that ROLLBACK (the failed statement still counts as a pending write)
/// and leave the transaction open; every later write would then run as a savepoint inside it,
/// be answered as committed and never reach the disk (issue 16: found by the full-disk test).
/// Such a connection is closed, which rolls the transaction back, and the pool opens a new one.
async fn writer_left_clean(connection: &mut sqlx::SqliteConnection) -> Result<bool, sqlx::Error> {
    use sqlx::Connection;
    if !connection.is_in_transaction() {
        return Ok(true);
    }
    // The dropped transaction's ROLLBACK was queued before this statement: once this has run,
    // the connection's depth says whether the ROLLBACK worked.
    sqlx::query("SELECT 1").execute(&mut *connection).await?;
    let clean = !connection.is_in_transaction();
    if !clean {
        tracing::warn!("a failed write left its transaction open: reopening the connection");
    }
    Ok(clean)
}

impl Store {
    /// Opens (creating if needed) the database at `url` and brings its schema up to date.
    ///
    /// SQLite runs in WAL mode with `synchronous=FULL`: a write is acknowledged only once its
    /// transaction is committed and synced.
    pub async fn open(url: &str) -> Result<Store, StoreError> {
        Store::open_with(url, StoreSettings::NODE).await
    }

    /// [`Store::open`] with the SQLite pools sized by `settings` (PostgreSQL ignores them).
    pub async fn open_with(url: &str, settings: StoreSettings) -> Result<Store, StoreError> {
        let open_error = |source| StoreError::Open {
            url: url.to_string(),
            source,
        };
        let db = if url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(url)
                .map_err(open_error)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Full)
                .busy_timeout(Duration::from_secs(30))
                .foreign_keys(true)
                .pragma("cache_size", format!("-{}", settings.writer_cache_kib));
            let options = match settings.wal_pages {
                Some(pages) => options
                    .pragma("wal_autocheckpoint", pages.to_string())
                    .pragma("journal_size_limit", (u64::from(pages) * 4096).to_string()),
                None => options,
            };
            // No ping before each acquire (sqlx's default): a connection to a local file does
            // not go stale, and the ping was a round trip to the connection's thread on every
            // statement.
            let writer = SqlitePoolOptions::new()
                .max_connections(1)
                .min_connections(1)
                .test_before_acquire(false)
                .acquire_timeout(Duration::from_secs(120))
                .after_release(|connection, _| Box::pin(writer_left_clean(connection)))
                .connect_with(options.clone())
                .await
                .map_err(open_error)?;
            // Each reader keeps a smaller page cache than the writer (4 MB instead of 16): a
            // node has eight of them, and the operating system's cache serves what they share.
            let reader = SqlitePoolOptions::new()
                .max_connections(settings.readers.max(1))
                .test_before_acquire(false)
                .acquire_timeout(Duration::from_secs(60))
                .connect_with(
                    options.pragma("cache_size", format!("-{}", settings.reader_cache_kib)),
                )
                .await
                .map_err(open_error)?;
            Db::Sqlite { writer, reader }
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let options = PgConnectOptions::from_str(url).map_err(open_error)?;
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(60))
                .connect_with(options)
                .await
                .map_err(open_error)?;
            Db::Postgres { pool }
        } else {
            return Err(StoreError::UnsupportedUrl(url.to_string()));
        };
        let store = Store {
            db,
            group: Default::default(),
            changed: Default::default(),
            from_children: Default::default(),
            log_moved: std::sync::Arc::new(tokio::sync::watch::Sender::new(0)),
            cursor_moved: std::sync::Arc::new(tokio::sync::watch::Sender::new(0)),
        };
        migrate::run(&store).await?;
        Ok(store)
    }

    /// Which database this store runs on.
    pub fn backend(&self) -> Backend {
        match self.db {
            Db::Sqlite { .. } => Backend::Sqlite,
            Db::Postgres { .. } => Backend::Postgres,
        }
    }

    /// Closes every connection, waiting for running statements.
    pub async fn close(&self) {
        match &self.db {
            Db::Sqlite { writer, reader } => {
                reader.close().await;
                writer.close().await;
            }
            Db::Postgres { pool } => pool.close().await,
        }
    }

    /// True when the database answers a trivial query.
    pub async fn ping(&self) -> bool {
        match &self.db {
            Db::Sqlite { reader, .. } => sqlx::query("SELECT 1").execute(reader).await.is_ok(),
            Db::Postgres { pool } => sqlx::query("SELECT 1").execute(pool).await.is_ok(),
        }
    }
}

/// Milliseconds since the Unix epoch, now.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}
