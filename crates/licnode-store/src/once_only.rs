//! The once-only lock of a node served by several processes over one PostgreSQL database
//! (issue 15 item 2): a session-level advisory lock held on a connection of its own, so that
//! work that must happen once (the report scheduler, the retention sweep, the certificate
//! upkeep) runs on one process at a time. PostgreSQL releases the lock the moment the holder's
//! session ends — a process killed with -9 closes its socket, and a holder that stops answering
//! (a host gone, a cut network) is ended by `idle_session_timeout` — so another process takes it
//! over without any clock. A SQLite node is one process: its claim always succeeds. Every run of
//! once-only work is recorded in `once_only_runs` (migration 0018) with the holder that ran it.

use std::time::Duration;

use sqlx::{Connection, PgConnection};

use crate::dialect::{with_reader, with_writer};
use crate::{Db, Store, StoreError};

/// The advisory lock's key: one per database, and one database per node (the migrations'
/// transaction-level lock uses 7418829). `pg_locks` shows a bigint key split in two: its high
/// 32 bits in `classid`, its low 32 bits in `objid`, with `objsubid` 1.
const ONCE_ONLY_LOCK_KEY: i64 = 7_418_830;

/// The prefix of the `application_name` of the connection that holds the lock, so that any
/// process can tell who holds it from `pg_stat_activity`.
const HOLDER_APPLICATION_PREFIX: &str = "licnode once-only: ";

/// The server ends the holding session when it has been idle this long (the holder checks it
/// far more often), so that a holder that vanished without closing its socket lets go.
const HOLDER_IDLE_LIMIT: Duration = Duration::from_secs(10);

/// The once-only lock, held while this value lives (PostgreSQL), or the claim of the one
/// process of a SQLite node.
pub struct OnceOnlyClaim {
    holder: String,
    /// The connection the lock is held on; `None` on SQLite.
    connection: Option<PgConnection>,
}

impl std::fmt::Debug for OnceOnlyClaim {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("OnceOnlyClaim")
            .field("holder", &self.holder)
            .field("postgres", &self.connection.is_some())
            .finish()
    }
}

/// Who holds the once-only lock, as the database says.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub enum OnceOnlyHolder {
    /// A SQLite node: its one process always holds it.
    OnlyProcess,
    /// The name the holding process gave (see [`Store::claim_once_only`]).
    Process(String),
    /// Nobody holds it now (between a holder's death and the next claim).
    Nobody,
}

/// One run of once-only work.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct OnceOnlyRun {
    pub id: i64,
    pub task: String,
    pub holder: String,
    pub started_at_ms: i64,
    /// `None` while it runs, or when its process died during it.
    pub finished_at_ms: Option<i64>,
}

impl OnceOnlyClaim {
    /// The name this claim was made under.
    pub fn holder(&self) -> &str {
        &self.holder
    }

    /// True while the lock is still held: the holding connection answers within `within`. A
    /// claim that answers false is lost for good (its connection is closed): claim again.
    pub async fn still_held(&mut self, within: Duration) -> bool {
        let Some(connection) = self.connection.as_mut() else {
            return true;
        };
        let answered = tokio::time::timeout(
            within,
            sqlx::query_scalar::<_, i64>(
                "SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory' \
                 AND pid = pg_backend_pid() AND granted \
                 AND classid::bigint * 4294967296 + objid::bigint = $1 AND objsubid = 1",
            )
            .bind(ONCE_ONLY_LOCK_KEY)
            .fetch_one(connection),
        )
        .await;
        match answered {
            Ok(Ok(held)) if held > 0 => true,
            _ => {
                self.connection = None;
                false
            }
        }
    }

    /// Lets the lock go, then closes its connection; another process may take it at once.
    /// The unlock is a statement answered once the lock is free: closing alone ends the
    /// server's session, and frees the lock, only a moment later (a loaded machine's next
    /// claim could still find it held).
    pub async fn release(mut self) {
        let Some(mut connection) = self.connection.take() else {
            return;
        };
        if let Err(error) = sqlx::query("SELECT pg_advisory_unlock($1)")
            .bind(ONCE_ONLY_LOCK_KEY)
            .execute(&mut connection)
            .await
        {
            tracing::debug!(%error, "unlocking the once-only lock");
        }
        if let Err(error) = connection.close().await {
            tracing::debug!(%error, "closing the once-only lock's connection");
        }
    }
}

impl Store {
    /// Tries to take the node's once-only lock under the name `holder` (a process's name, e.g.
    /// its host, process id and staff address). On PostgreSQL this opens a connection of its
    /// own that holds a session-level advisory lock; `Ok(None)` when another process holds it.
    /// On SQLite the one process always gets it.
    pub async fn claim_once_only(&self, holder: &str) -> Result<Option<OnceOnlyClaim>, StoreError> {
        let pool = match &self.db {
            Db::Sqlite { .. } => {
                return Ok(Some(OnceOnlyClaim {
                    holder: holder.to_string(),
                    connection: None,
                }));
            }
            Db::Postgres { pool } => pool,
        };
        let name: String = format!("{HOLDER_APPLICATION_PREFIX}{holder}")
            .chars()
            .take(63)
            .collect();
        let options = pool
            .connect_options()
            .as_ref()
            .clone()
            .application_name(&name);
        let mut connection = PgConnection::connect_with(&options).await?;
        let taken: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
            .bind(ONCE_ONLY_LOCK_KEY)
            .fetch_one(&mut connection)
            .await?;
        if !taken {
            connection.close().await?;
            return Ok(None);
        }
        let idle_limit = format!(
            "SET idle_session_timeout = '{}ms'",
            HOLDER_IDLE_LIMIT.as_millis()
        );
        sqlx::query(sqlx::AssertSqlSafe(idle_limit))
            .execute(&mut connection)
            .await?;
        Ok(Some(OnceOnlyClaim {
            holder: holder.to_string(),
            connection: Some(connection),
        }))
    }

    /// Who holds the once-only lock now: the holding session's name, read from PostgreSQL's
    /// lock table (never from a row a dead holder could have left behind).
    pub async fn once_only_holder(&self) -> Result<OnceOnlyHolder, StoreError> {
        let pool = match &self.db {
            Db::Sqlite { .. } => return Ok(OnceOnlyHolder::OnlyProcess),
            Db::Postgres { pool } => pool,
        };
        let name: Option<String> = sqlx::query_scalar(
            "SELECT a.application_name FROM pg_locks l \
             JOIN pg_stat_activity a ON a.pid = l.pid \
             WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 \
               AND l.classid::bigint * 4294967296 + l.objid::bigint = $1 \
               AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) \
             LIMIT 1",
        )
        .bind(ONCE_ONLY_LOCK_KEY)
        .fetch_optional(pool)
        .await?;
        Ok(match name {
            Some(name) => OnceOnlyHolder::Process(
                name.strip_prefix(HOLDER_APPLICATION_PREFIX)
                    .unwrap_or(&name)
                    .to_string(),
            ),
            None => OnceOnlyHolder::Nobody,
        })
    }

    /// Records that `holder` starts a run of `task`; returns the run's id.
    pub async fn start_once_only_run(
        &self,
        task: &str,
        holder: &str,
        at_ms: i64,
    ) -> Result<i64, StoreError> {
        Ok(with_writer!(&self.db, |pool| {
            sqlx::query_scalar(
                "INSERT INTO once_only_runs (task, holder, started_at_ms) \
                 VALUES ($1, $2, $3) RETURNING id",
            )
            .bind(task)
            .bind(holder)
            .bind(at_ms)
            .fetch_one(pool)
            .await?
        }))
    }

    /// Records that the run `run` finished.
    pub async fn finish_once_only_run(&self, run: i64, at_ms: i64) -> Result<(), StoreError> {
        with_writer!(&self.db, |pool| {
            sqlx::query("UPDATE once_only_runs SET finished_at_ms = $1 WHERE id = $2")
                .bind(at_ms)
                .bind(run)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// The latest runs of `task`, newest first.
    pub async fn once_only_runs(
        &self,
        task: &str,
        limit: i64,
    ) -> Result<Vec<OnceOnlyRun>, StoreError> {
        let rows: Vec<(i64, String, String, i64, Option<i64>)> = with_reader!(&self.db, |pool| {
            sqlx::query_as(
                "SELECT id, task, holder, started_at_ms, finished_at_ms FROM once_only_runs \
                     WHERE task = $1 ORDER BY id DESC LIMIT $2",
            )
            .bind(task)
            .bind(limit)
            .fetch_all(pool)
            .await?
        });
        Ok(rows
            .into_iter()
            .map(
                |(id, task, holder, started_at_ms, finished_at_ms)| OnceOnlyRun {
                    id,
                    task,
                    holder,
                    started_at_ms,
                    finished_at_ms,
                },
            )
            .collect())
    }
}
