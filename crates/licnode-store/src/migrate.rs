//! Schema migrations: the SQL files under `migrations/<backend>/`, embedded in the binary and
//! applied in order, each in its own transaction, recorded in `schema_migrations`.

use sqlx::{AssertSqlSafe, Executor};

use crate::{Db, Store, StoreError};

struct Migration {
    version: i64,
    name: &'static str,
    sqlite: &'static str,
    postgres: &'static str,
}

const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "records",
        sqlite: include_str!("../../../migrations/sqlite/0001_records.sql"),
        postgres: include_str!("../../../migrations/postgres/0001_records.sql"),
    },
    Migration {
        version: 2,
        name: "accounts",
        sqlite: include_str!("../../../migrations/sqlite/0002_accounts.sql"),
        postgres: include_str!("../../../migrations/postgres/0002_accounts.sql"),
    },
    Migration {
        version: 3,
        name: "public",
        sqlite: include_str!("../../../migrations/sqlite/0003_public.sql"),
        postgres: include_str!("../../../migrations/postgres/0003_public.sql"),
    },
    Migration {
        version: 4,
        name: "sync",
        sqlite: include_str!("../../../migrations/sqlite/0004_sync.sql"),
        postgres: include_str!("../../../migrations/postgres/0004_sync.sql"),
    },
    Migration {
        version: 5,
        name: "links",
        sqlite: include_str!("../../../migrations/sqlite/0005_links.sql"),
        postgres: include_str!("../../../migrations/postgres/0005_links.sql"),
    },
    Migration {
        version: 6,
        name: "reports",
        sqlite: include_str!("../../../migrations/sqlite/0006_reports.sql"),
        postgres: include_str!("../../../migrations/postgres/0006_reports.sql"),
    },
    Migration {
        version: 7,
        name: "audit",
        sqlite: include_str!("../../../migrations/sqlite/0007_audit.sql"),
        postgres: include_str!("../../../migrations/postgres/0007_audit.sql"),
    },
    Migration {
        version: 8,
        name: "retention",
        sqlite: include_str!("../../../migrations/sqlite/0008_retention.sql"),
        postgres: include_str!("../../../migrations/postgres/0008_retention.sql"),
    },
    Migration {
        version: 9,
        name: "sync_trust",
        sqlite: include_str!("../../../migrations/sqlite/0009_sync_trust.sql"),
        postgres: include_str!("../../../migrations/postgres/0009_sync_trust.sql"),
    },
    Migration {
        version: 10,
        name: "audit_anchors",
        sqlite: include_str!("../../../migrations/sqlite/0010_audit_anchors.sql"),
        postgres: include_str!("../../../migrations/postgres/0010_audit_anchors.sql"),
    },
    Migration {
        version: 11,
        name: "licence_actions",
        sqlite: include_str!("../../../migrations/sqlite/0011_licence_actions.sql"),
        postgres: include_str!("../../../migrations/postgres/0011_licence_actions.sql"),
    },
    Migration {
        version: 12,
        name: "link_reports",
        sqlite: include_str!("../../../migrations/sqlite/0012_link_reports.sql"),
        postgres: include_str!("../../../migrations/postgres/0012_link_reports.sql"),
    },
    Migration {
        version: 13,
        name: "date_sort",
        sqlite: include_str!("../../../migrations/sqlite/0013_date_sort.sql"),
        postgres: include_str!("../../../migrations/postgres/0013_date_sort.sql"),
    },
    Migration {
        version: 14,
        name: "audit_search",
        sqlite: include_str!("../../../migrations/sqlite/0014_audit_search.sql"),
        postgres: include_str!("../../../migrations/postgres/0014_audit_search.sql"),
    },
    Migration {
        version: 15,
        name: "regulation_dates",
        sqlite: include_str!("../../../migrations/sqlite/0015_regulation_dates.sql"),
        postgres: include_str!("../../../migrations/postgres/0015_regulation_dates.sql"),
    },
    Migration {
        version: 17,
        name: "arrivals",
        sqlite: include_str!("../../../migrations/sqlite/0017_arrivals.sql"),
        postgres: include_str!("../../../migrations/postgres/0017_arrivals.sql"),
    },
    Migration {
        version: 18,
        name: "once_only_runs",
        sqlite: include_str!("../../../migrations/sqlite/0018_once_only_runs.sql"),
        postgres: include_str!("../../../migrations/postgres/0018_once_only_runs.sql"),
    },
    Migration {
        version: 19,
        name: "changes_by_collection",
        sqlite: include_str!("../../../migrations/sqlite/0019_changes_by_collection.sql"),
        postgres: include_str!("../../../migrations/postgres/0019_changes_by_collection.sql"),
    },
    Migration {
        version: 20,
        name: "edit_state",
        sqlite: include_str!("../../../migrations/sqlite/0020_edit_state.sql"),
        postgres: include_str!("../../../migrations/postgres/0020_edit_state.sql"),
    },
    Migration {
        version: 21,
        name: "keys_before_the_log",
        sqlite: include_str!("../../../migrations/sqlite/0021_keys_before_the_log.sql"),
        postgres: include_str!("../../../migrations/postgres/0021_keys_before_the_log.sql"),
    },
    Migration {
        version: 22,
        name: "waiting_changes",
        sqlite: include_str!("../../../migrations/sqlite/0022_waiting_changes.sql"),
        postgres: include_str!("../../../migrations/postgres/0022_waiting_changes.sql"),
    },
    Migration {
        version: 23,
        name: "public_names_indexed_once",
        sqlite: include_str!("../../../migrations/sqlite/0023_public_names_indexed_once.sql"),
        postgres: include_str!("../../../migrations/postgres/0023_public_names_indexed_once.sql"),
    },
    Migration {
        version: 24,
        name: "documents_in_the_log",
        sqlite: include_str!("../../../migrations/sqlite/0024_documents_in_the_log.sql"),
        postgres: include_str!("../../../migrations/postgres/0024_documents_in_the_log.sql"),
    },
    Migration {
        version: 25,
        name: "public_name_gram_codes",
        sqlite: include_str!("../../../migrations/sqlite/0025_public_name_gram_codes.sql"),
        postgres: include_str!("../../../migrations/postgres/0025_public_name_gram_codes.sql"),
    },
];

const CREATE_LEDGER: &str = "CREATE TABLE IF NOT EXISTS schema_migrations (
    version       BIGINT PRIMARY KEY,
    name          TEXT NOT NULL,
    applied_at_ms BIGINT NOT NULL
)";

/// One migration applied inside a transaction, on either database.
trait MigrateTx {
    /// Applies `migration` (its text for this database is `sql`) unless the ledger has it.
    async fn apply_if_missing(
        &mut self,
        migration: &Migration,
        sql: &'static str,
    ) -> Result<(), StoreError>;
}

crate::dialect::impl_for_each_transaction!(MigrateTx {
    async fn apply_if_missing(
        &mut self,
        migration: &Migration,
        sql: &'static str,
    ) -> Result<(), StoreError> {
        let applied: Option<i64> =
            sqlx::query_scalar("SELECT version FROM schema_migrations WHERE version = $1")
                .bind(migration.version)
                .fetch_optional(&mut **self)
                .await?;
        if applied.is_some() {
            return Ok(());
        }
        (&mut **self)
            .execute(sqlx::raw_sql(AssertSqlSafe(sql)))
            .await
            .map_err(|source| StoreError::Migration {
                version: migration.version,
                source,
            })?;
        sqlx::query("INSERT INTO schema_migrations VALUES ($1, $2, $3)")
            .bind(migration.version)
            .bind(migration.name)
            .bind(crate::now_ms())
            .execute(&mut **self)
            .await?;
        Ok(())
    }
});

/// Applies every migration the database does not have yet.
pub(crate) async fn run(store: &Store) -> Result<(), StoreError> {
    let failed = |version| move |source| StoreError::Migration { version, source };
    match &store.db {
        Db::Sqlite { writer, .. } => {
            writer.execute(CREATE_LEDGER).await.map_err(failed(0))?;
            // The ledger is read once: a node that is up to date (every start but the first
            // after an upgrade) opens no transaction. What is missing is checked again inside
            // its own transaction, as another process may be migrating the same file.
            let applied: Vec<i64> = sqlx::query_scalar("SELECT version FROM schema_migrations")
                .fetch_all(writer)
                .await?;
            let missing = MIGRATIONS
                .iter()
                .filter(|migration| !applied.contains(&migration.version));
            // One transaction a migration: SQLite's one writer is not held across all of them.
            for migration in missing {
                let mut tx = writer.begin().await?;
                tx.apply_if_missing(migration, migration.sqlite).await?;
                tx.commit().await?;
            }
        }
        Db::Postgres { pool } => {
            // Several processes may start at once over one database: serialise migrations.
            let mut tx = pool.begin().await?;
            sqlx::query("SELECT pg_advisory_xact_lock(7418829)")
                .execute(&mut *tx)
                .await?;
            tx.execute(CREATE_LEDGER).await.map_err(failed(0))?;
            for migration in MIGRATIONS {
                tx.apply_if_missing(migration, migration.postgres).await?;
            }
            tx.commit().await?;
        }
    }
    Ok(())
}
