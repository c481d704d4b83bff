//! The one place where SQLite and PostgreSQL differ in how a query is run: which pool answers
//! (`with_reader!`, `with_writer!`), which transaction type a write runs in (`BackendTx`), and
//! the few SQL spellings that are not the same in both (`Dialect`). Every query's logic is
//! written once above this; both backends accept `$1`-style placeholders, so the SQL text is
//! shared too wherever the spelling allows.

use sqlx::{Postgres, Sqlite};

/// ` LIMIT n`, with the number written into the statement instead of bound. SQLite (3.51, as
/// bundled) re-prepares a statement whose `LIMIT` is a bound parameter every time the parameter
/// is bound again (it plans for the value): a parse and a plan on every execution, which was the
/// largest single cost of reading the change log (issue 14). `limit` is an integer, never
/// text, so it cannot carry SQL; statements differ only by the number, and each connection's
/// statement cache keeps the few that recur.
pub(crate) fn limit(limit: i64) -> String {
    format!(" LIMIT {limit}")
}

/// The SQL spellings that differ between the two databases.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Dialect {
    Sqlite,
    Postgres,
}

impl Dialect {
    /// The larger of two values in one row: `MAX(a, b)` in SQLite, `GREATEST(a, b)` in
    /// PostgreSQL.
    pub(crate) fn greatest(self) -> &'static str {
        match self {
            Dialect::Sqlite => "MAX",
            Dialect::Postgres => "GREATEST",
        }
    }

    /// The statement that makes a read transaction see one snapshot throughout, if one is
    /// needed: a SQLite read transaction in WAL mode sees one snapshot from its first read on.
    pub(crate) fn one_snapshot_statement(self) -> Option<&'static str> {
        match self {
            Dialect::Sqlite => None,
            Dialect::Postgres => Some("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY"),
        }
    }

    /// A JSON column read as text: SQLite stores it as text, PostgreSQL as `jsonb`.
    pub(crate) fn json_as_text(self, column: &str) -> String {
        match self {
            Dialect::Sqlite => column.to_string(),
            Dialect::Postgres => format!("{column}::text"),
        }
    }

    /// The select-list item (with its trailing comma) that reads a record's JSON data
    /// (`r.data`) as text named `data`.
    pub(crate) fn json_data_column(self) -> String {
        format!("{} AS data,", self.json_as_text("r.data"))
    }

    /// A field of a record's JSON data (`alias.data`) as text.
    pub(crate) fn json_field(self, alias: &str, field: &str) -> String {
        match self {
            Dialect::Sqlite => format!("json_extract({alias}.data, '$.{field}')"),
            Dialect::Postgres => format!("({alias}.data->>'{field}')"),
        }
    }

    /// The clause after a table's alias that makes a query read it through `index`: SQLite
    /// (without statistics) would rather filter on `collection` and sort; PostgreSQL's planner
    /// picks the index itself.
    pub(crate) fn indexed_by(self, index: &str) -> String {
        match self {
            Dialect::Sqlite => format!(" INDEXED BY {index}"),
            Dialect::Postgres => String::new(),
        }
    }

    /// The row-lock clause of a `SELECT` inside a write transaction: PostgreSQL locks the rows
    /// read; SQLite's one writer holds the whole database already.
    pub(crate) fn for_update(self) -> &'static str {
        match self {
            Dialect::Sqlite => "",
            Dialect::Postgres => " FOR UPDATE",
        }
    }

    /// Whether the enterprise name's grams live in a table of their own (SQLite's FTS5
    /// `name_index`, keyed by the record's key) rather than in the records row (PostgreSQL's
    /// `name_grams`, kept by a trigger).
    pub(crate) fn has_separate_name_index(self) -> bool {
        self == Dialect::Sqlite
    }
}

/// A write transaction of either database. The code that differs per database implements it
/// twice; code that differs only in spelling is written once with `impl_for_each_transaction!`.
pub(crate) trait BackendTx {
    const DIALECT: Dialect;
}

impl crate::Db {
    /// The SQL spellings of this database.
    pub(crate) fn dialect(&self) -> Dialect {
        match self {
            crate::Db::Sqlite { .. } => Dialect::Sqlite,
            crate::Db::Postgres { .. } => Dialect::Postgres,
        }
    }
}

impl BackendTx for sqlx::Transaction<'_, Sqlite> {
    const DIALECT: Dialect = Dialect::Sqlite;
}

impl BackendTx for sqlx::Transaction<'_, Postgres> {
    const DIALECT: Dialect = Dialect::Postgres;
}

/// Runs `$body` with `$pool` bound to the pool that serves reads.
macro_rules! with_reader {
    ($db:expr, |$pool:ident| $body:expr) => {
        match $db {
            $crate::Db::Sqlite { reader: $pool, .. } => $body,
            $crate::Db::Postgres { pool: $pool } => $body,
        }
    };
}

/// Runs `$body` with `$pool` bound to the pool that serves writes (SQLite's one writer
/// connection).
macro_rules! with_writer {
    ($db:expr, |$pool:ident| $body:expr) => {
        match $db {
            $crate::Db::Sqlite { writer: $pool, .. } => $body,
            $crate::Db::Postgres { pool: $pool } => $body,
        }
    };
}

/// Implements a trait for the write transaction of both databases with the same items: the
/// items are written once and compiled once per backend.
macro_rules! impl_for_each_transaction {
    ($trait:path { $($items:tt)* }) => {
        impl $trait for sqlx::Transaction<'_, sqlx::Sqlite> {
            $($items)*
        }
        impl $trait for sqlx::Transaction<'_, sqlx::Postgres> {
            $($items)*
        }
    };
}

pub(crate) use {impl_for_each_transaction, with_reader, with_writer};
