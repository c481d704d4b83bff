//! Reads: one record, filtered lists and searches with stable keyset pagination, documents, and
//! the change log after a cursor.

use serde::Serialize;
use serde_json::{Map, Value};
use sqlx::{AssertSqlSafe, Postgres, QueryBuilder, Row, Sqlite};

use crate::dialect::with_reader;
use crate::projection::{
    Projection, gram_bits, name_grams, public_name_collection_number, public_name_gram_code,
    sql_gram_code,
};
use crate::{Db, Store, StoreError};
use licnode_sync::protocol::LoggedChange;

/// A record as the projection holds it.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct StoredRecord {
    /// Local storage key: the order of lists and the pagination cursor.
    #[serde(skip)]
    pub key: i64,
    pub id: String,
    pub collection: String,
    pub jurisdiction: String,
    pub data: Map<String, Value>,
    pub conflict_count: i64,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
    /// The local sequence number of the last change stored for this record.
    pub last_seq: i64,
}

impl StoredRecord {
    pub(crate) fn from_projection(key: i64, last_seq: i64, projection: Projection) -> Self {
        StoredRecord {
            key,
            id: projection.id,
            collection: projection.collection,
            jurisdiction: projection.jurisdiction,
            data: projection.data,
            conflict_count: projection.conflict_count,
            created_at_ms: projection.created_at_ms,
            updated_at_ms: projection.updated_at_ms,
            last_seq,
        }
    }
}

/// A filtered list of one collection.
#[derive(Clone, Debug, Default)]
pub struct ListQuery {
    pub collection: String,
    /// Exactly this jurisdiction.
    pub jurisdiction: Option<String>,
    /// This division and everything below it (`330100` → every code starting `3301`).
    pub within: Option<String>,
    pub status: Option<String>,
    /// Field equality filters on the projection; field names must be checked against the
    /// collection by the caller.
    pub fields: Vec<(String, String)>,
    /// Only records with concurrent values.
    pub conflicted: bool,
    /// Keyset cursor: records after this key (before it when `descending`).
    pub after: Option<i64>,
    pub limit: i64,
    /// Newest first: the reverse of the order this node stored the records in; with `sort_by`,
    /// the latest date first.
    pub descending: bool,
    /// Sort by this date field of the collection instead of storage order (one of
    /// `sortable_date_fields`; anything else is refused). Pages then follow `after_date`,
    /// not `after`.
    pub sort_by: Option<String>,
    /// Keyset cursor of a list sorted by a date: the `next` of the page before.
    pub after_date: Option<crate::DateCursor>,
}

/// A search of one collection (or all when `collection` is `None`).
#[derive(Clone, Debug, Default)]
pub struct SearchQuery {
    pub collection: Option<String>,
    /// A fragment of the enterprise name (two characters or more).
    pub name: Option<String>,
    /// A licence number, with or without provincial prefix.
    pub licence_number: Option<String>,
    pub credit_code: Option<String>,
    pub after: Option<i64>,
    pub limit: i64,
}

/// One page of results; `next` is the cursor of the next page, if there may be one.
#[derive(Clone, Debug, Serialize)]
pub struct Page {
    pub items: Vec<StoredRecord>,
    pub next: Option<String>,
}

/// The `last_seq` of a record received new, whose row was written before its changes were
/// numbered (`write::apply_in`): its last change's number is read from the change log
/// (`changes_by_record`). Change numbers start at 1.
pub(crate) const LAST_SEQ_IN_THE_LOG: i64 = 0;
// `RECORD_COLUMNS` spells it as a literal.
const _: () = assert!(LAST_SEQ_IN_THE_LOG == 0);

/// A record's columns, `last_seq` read from the change log when the row names no number
/// ([`LAST_SEQ_IN_THE_LOG`]).
pub(crate) const RECORD_COLUMNS: &str = "r.key, r.id, r.collection, r.jurisdiction, r.data, \
     r.conflict_count, r.created_at_ms, r.updated_at_ms, \
     CASE WHEN r.last_seq > 0 THEN r.last_seq \
     ELSE (SELECT MAX(c.seq) FROM changes c WHERE c.record_id = r.id) END";

/// The prefix shared by every division code at or below `code` (`330100` → `3301`,
/// `330000` → `33`, `100000` → everything).
pub fn subtree_prefix(code: &str) -> String {
    if code == "100000" {
        return String::new();
    }
    let mut prefix = code.trim_end_matches("00");
    while prefix.len() % 2 == 1 {
        prefix = &code[..prefix.len() + 1];
    }
    prefix.to_string()
}

impl Store {
    /// One record by id.
    pub async fn get(&self, id: &str) -> Result<Option<StoredRecord>, StoreError> {
        let sql = format!("SELECT {RECORD_COLUMNS} FROM records r WHERE r.id = ");
        match &self.db {
            Db::Sqlite { reader, .. } => {
                let row = sqlx::query(AssertSqlSafe(format!("{sql}?")))
                    .bind(id)
                    .fetch_optional(reader)
                    .await?;
                row.map(|row| sqlite_record(&row)).transpose()
            }
            Db::Postgres { pool } => {
                let row = sqlx::query(AssertSqlSafe(format!(
                    "{}$1",
                    sql.replace("r.data,", "r.data::text AS data,")
                )))
                .bind(id)
                .fetch_optional(pool)
                .await?;
                row.map(|row| pg_record(&row)).transpose()
            }
        }
    }

    /// The stored automerge document of a record: its saved bytes followed by its changes in
    /// the log after them (migration 0024), read in one statement (one snapshot).
    pub async fn document(&self, id: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let parts: Vec<(i64, Vec<u8>)> = with_reader!(&self.db, |pool| sqlx::query_as(
            "SELECT 0 AS place, d.bytes FROM records r JOIN documents d ON d.key = r.key \
             WHERE r.id = $1 \
             UNION ALL \
             SELECT c.seq, c.bytes FROM records r JOIN documents d ON d.key = r.key \
             JOIN changes c ON c.record_id = r.id AND c.seq > d.log_after WHERE r.id = $1 \
             ORDER BY 1",
        )
        .bind(id)
        .fetch_all(pool)
        .await?);
        if parts.is_empty() {
            return Ok(None);
        }
        Ok(Some(
            parts.into_iter().flat_map(|(_, bytes)| bytes).collect(),
        ))
    }

    /// A page of one collection, in storage order (or its reverse), or sorted by a date field
    /// when `sort_by` is set, filtered.
    pub async fn list(&self, query: &ListQuery) -> Result<Page, StoreError> {
        if let Some(field) = &query.sort_by {
            return self
                .list_by_date(query, field, query.after_date.as_ref())
                .await;
        }
        let limit = query.limit.clamp(1, 1_000);
        match &self.db {
            Db::Sqlite { reader, .. } => {
                let mut sql = QueryBuilder::<Sqlite>::new(format!(
                    "SELECT {RECORD_COLUMNS} FROM records r WHERE r.collection = "
                ));
                // A collection of the model is written into the statement: the partial indexes
                // on `records` (`WHERE collection = '…'`) make SQLite plan a bound collection
                // for its value, preparing the statement again on every list. Any other name
                // (which matches no record) stays bound.
                match licnode_model::collection(&query.collection) {
                    Some(collection) => sql.push(format!("'{}'", collection.name)),
                    None => sql.push_bind(query.collection.clone()),
                };
                push_list_filters(&mut sql, query, |field| {
                    format!("json_extract(r.data, '$.{field}')")
                });
                sql.push(list_order(query.descending))
                    .push(crate::dialect::limit(limit));
                let rows = sql.build().fetch_all(reader).await?;
                page(
                    rows.iter().map(sqlite_record).collect::<Result<_, _>>()?,
                    limit,
                )
            }
            Db::Postgres { pool } => {
                let mut sql = QueryBuilder::<Postgres>::new(format!(
                    "SELECT {} FROM records r WHERE r.collection = ",
                    RECORD_COLUMNS.replace("r.data,", "r.data::text AS data,")
                ));
                sql.push_bind(query.collection.clone());
                push_list_filters(&mut sql, query, |field| format!("r.data->>'{field}'"));
                sql.push(list_order(query.descending))
                    .push(crate::dialect::limit(limit));
                let rows = sql.build().fetch_all(pool).await?;
                page(rows.iter().map(pg_record).collect::<Result<_, _>>()?, limit)
            }
        }
    }

    /// Records whose enterprise name contains a fragment, or with a licence number or credit
    /// code, in storage order.
    pub async fn search(&self, query: &SearchQuery) -> Result<Page, StoreError> {
        let limit = query.limit.clamp(1, 1_000);
        let after = query.after.unwrap_or(0);
        match &self.db {
            Db::Sqlite { reader, .. } => {
                let mut sql = QueryBuilder::<Sqlite>::new("");
                if let Some(name) = &query.name {
                    let grams = name_grams(name);
                    let phrase = format!("\"{}\"", grams.join(" ").replace('"', ""));
                    sql.push(format!(
                        "SELECT {RECORD_COLUMNS} FROM name_index f CROSS JOIN records r ON r.key = f.rowid \
                         WHERE name_index MATCH "
                    ));
                    sql.push_bind(phrase)
                        .push(" AND f.rowid > ")
                        .push_bind(after)
                        .push(" AND instr(r.enterprise_name, ")
                        .push_bind(name.trim().to_string())
                        .push(") > 0");
                } else {
                    sql.push(format!(
                        "SELECT {RECORD_COLUMNS} FROM records r WHERE r.key > "
                    ));
                    sql.push_bind(after);
                }
                push_search_filters(&mut sql, query);
                sql.push(if query.name.is_some() {
                    " ORDER BY f.rowid"
                } else {
                    " ORDER BY r.key"
                })
                .push(crate::dialect::limit(limit));
                let rows = sql.build().fetch_all(reader).await?;
                page(
                    rows.iter().map(sqlite_record).collect::<Result<_, _>>()?,
                    limit,
                )
            }
            Db::Postgres { pool } => {
                let columns = RECORD_COLUMNS.replace("r.data,", "r.data::text AS data,");
                let mut sql = QueryBuilder::<Postgres>::new("");
                match &query.name {
                    None => {
                        sql.push(format!("SELECT {columns} FROM records r WHERE r.key > "))
                            .push_bind(after);
                        push_search_filters(&mut sql, query);
                        sql.push(" ORDER BY r.key");
                    }
                    Some(name) => {
                        push_pg_name_search(&mut sql, &columns, query, name, after, limit)
                    }
                }
                sql.push(crate::dialect::limit(limit));
                let rows = sql.build().fetch_all(pool).await?;
                page(rows.iter().map(pg_record).collect::<Result<_, _>>()?, limit)
            }
        }
    }

    /// Change-log rows after `after`, in sequence order, optionally only of some collections.
    pub async fn changes_after(
        &self,
        after: i64,
        collections: Option<&[&str]>,
        limit: i64,
    ) -> Result<Vec<LoggedChange>, StoreError> {
        self.changes_after_not_from(after, collections, None, limit)
            .await
    }

    /// [`Store::changes_after`] without the rows that `not_from` handed this node (their
    /// origin): what a parent may send a child, skipped in the query rather than read and
    /// dropped — after a child's push, its own changes fill the parent's log past that child's
    /// pull cursor, and the next pull passes over them without loading their bytes.
    pub async fn changes_after_not_from(
        &self,
        after: i64,
        collections: Option<&[&str]>,
        not_from: Option<&str>,
        limit: i64,
    ) -> Result<Vec<LoggedChange>, StoreError> {
        self.read_changes_after(after, collections, not_from, limit, CHANGE_COLUMNS)
            .await
    }

    /// [`Store::changes_after_not_from`] without the changes' bytes (`bytes` is left empty):
    /// for counting what a peer is owed, where only the rows' metadata decides.
    pub async fn change_metadata_after_not_from(
        &self,
        after: i64,
        collections: Option<&[&str]>,
        not_from: Option<&str>,
        limit: i64,
    ) -> Result<Vec<LoggedChange>, StoreError> {
        self.read_changes_after(after, collections, not_from, limit, CHANGE_METADATA_COLUMNS)
            .await
    }

    async fn read_changes_after(
        &self,
        after: i64,
        collections: Option<&[&str]>,
        not_from: Option<&str>,
        limit: i64,
        columns: &str,
    ) -> Result<Vec<LoggedChange>, StoreError> {
        match &self.db {
            Db::Sqlite { reader, .. } => {
                let mut sql = changes_query::<Sqlite>(columns, after, collections, not_from, limit);
                let rows = sql.build().fetch_all(reader).await?;
                rows.iter().map(change_row).collect()
            }
            Db::Postgres { pool } => {
                let mut sql =
                    changes_query::<Postgres>(columns, after, collections, not_from, limit);
                let rows = sql.build().fetch_all(pool).await?;
                rows.iter().map(change_row).collect()
            }
        }
    }

    /// The change-log rows of one record, in sequence order.
    pub async fn record_changes(&self, record_id: &str) -> Result<Vec<LoggedChange>, StoreError> {
        let columns = "seq, hash, record_id, collection, jurisdiction, author_node, author_user, \
                       origin, at_ms, bytes";
        with_reader!(&self.db, |pool| {
            let rows = sqlx::query(AssertSqlSafe(format!(
                "SELECT {columns} FROM changes WHERE record_id = $1 ORDER BY seq"
            )))
            .bind(record_id)
            .fetch_all(pool)
            .await?;
            rows.iter().map(change_row).collect()
        })
    }

    /// The highest change sequence number stored (0 when none).
    pub async fn last_seq(&self) -> Result<i64, StoreError> {
        let sql = "SELECT value FROM node_counters WHERE name = 'change_seq'";
        Ok(with_reader!(&self.db, |pool| sqlx::query_scalar(sql)
            .fetch_one(pool)
            .await?))
    }

    /// How many records there are, per collection.
    pub async fn counts(&self) -> Result<Vec<(String, i64)>, StoreError> {
        let sql =
            "SELECT collection, COUNT(*) FROM records GROUP BY collection ORDER BY collection";
        Ok(with_reader!(&self.db, |pool| sqlx::query_as(sql)
            .fetch_all(pool)
            .await?))
    }

    /// After a bulk load: flushes the name index's pending list, refreshes the planner's
    /// statistics, and vacuums the public name grams, as autovacuum would soon after
    /// (PostgreSQL; SQLite needs none of it for these queries). The name searches count and
    /// walk `public_name_grams` by index-only scans, which read the table's rows too until a
    /// vacuum marks its pages all-visible: right after a load of 100,000 licences a
    /// four-character staff search took about 6 ms at the median instead of about 1.
    pub async fn analyze(&self) -> Result<(), StoreError> {
        if let Db::Postgres { pool } = &self.db {
            sqlx::query("SELECT gin_clean_pending_list('records_by_name_grams')")
                .execute(pool)
                .await?;
            sqlx::query("ANALYZE records").execute(pool).await?;
            sqlx::query("ANALYZE changes").execute(pool).await?;
            sqlx::query("VACUUM (ANALYZE) public_name_grams")
                .execute(pool)
                .await?;
        }
        Ok(())
    }

    /// Bytes the database occupies (SQLite: pages in use; PostgreSQL: the database's size).
    pub async fn size_bytes(&self) -> Result<i64, StoreError> {
        Ok(match &self.db {
            Db::Sqlite { reader, .. } => {
                sqlx::query_scalar(
                    "SELECT (page_count - freelist_count) * page_size \
                     FROM pragma_page_count(), pragma_freelist_count(), pragma_page_size()",
                )
                .fetch_one(reader)
                .await?
            }
            Db::Postgres { pool } => {
                sqlx::query_scalar("SELECT pg_database_size(current_database())")
                    .fetch_one(pool)
                    .await?
            }
        })
    }
}

pub(crate) fn push_list_filters<DB: sqlx::Database>(
    sql: &mut QueryBuilder<DB>,
    query: &ListQuery,
    field_expression: impl Fn(&str) -> String,
) where
    String: for<'q> sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    i64: for<'q> sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    if let Some(jurisdiction) = &query.jurisdiction {
        sql.push(" AND r.jurisdiction = ")
            .push_bind(jurisdiction.clone());
    }
    if let Some(within) = &query.within {
        let prefix = subtree_prefix(within);
        if !prefix.is_empty() {
            sql.push(" AND r.jurisdiction LIKE ")
                .push_bind(format!("{prefix}%"));
        }
    }
    if let Some(status) = &query.status {
        sql.push(" AND r.status = ").push_bind(status.clone());
    }
    for (field, value) in &query.fields {
        // Field names are checked against the collection's fields before they get here, and
        // are plain snake_case: safe inside the JSON path.
        if field.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            sql.push(format!(" AND {} = ", field_expression(field)))
                .push_bind(value.clone());
        }
    }
    if query.conflicted {
        sql.push(" AND r.conflict_count > 0");
    }
    if let Some(after) = query.after {
        // The cursor is the last key of the page before, in the list's order.
        let comparison = if query.descending {
            " AND r.key < "
        } else {
            " AND r.key > "
        };
        sql.push(comparison).push_bind(after);
    }
}

/// The `ORDER BY` of a list: storage order, or newest first. Both databases walk the
/// `(collection, key)` index either way.
fn list_order(descending: bool) -> &'static str {
    if descending {
        " ORDER BY r.key DESC"
    } else {
        " ORDER BY r.key"
    }
}

/// A staff search by name on PostgreSQL, in key order from `after`, without its final `LIMIT`.
/// The public collections' names are indexed once, in `public_name_grams` (the public service's
/// table: a gram of a collection — one code, migration 0025 — and its records in key order);
/// the GIN index over `name_grams` covers only the other collections (migration 0023). A search that may find records of both reads each collection's
/// part in key order and merges them. A fragment too short to have a gram (the API refuses one
/// character) is a substring test over every record.
fn push_pg_name_search(
    sql: &mut QueryBuilder<Postgres>,
    columns: &str,
    query: &SearchQuery,
    name: &str,
    after: i64,
    limit: i64,
) {
    let mut grams = name_grams(name);
    grams.sort();
    grams.dedup();
    let name = name.trim().to_string();
    if grams.is_empty() {
        sql.push(format!("SELECT {columns} FROM records r WHERE r.key > "))
            .push_bind(after)
            .push(" AND strpos(r.enterprise_name, ")
            .push_bind(name)
            .push(") > 0");
        push_search_filters(sql, query);
        sql.push(" ORDER BY r.key");
        return;
    }
    let public: Vec<&'static str> = match &query.collection {
        Some(wanted) => licnode_model::collection(wanted)
            .filter(|model| model.public)
            .map(|model| model.name)
            .into_iter()
            .collect(),
        None => licnode_model::collections()
            .iter()
            .filter(|model| model.public)
            .map(|model| model.name)
            .collect(),
    };
    let others = query.collection.is_none() || public.is_empty();
    if grams.len() > 1 && !public.is_empty() {
        // The fragment's rarest gram among the public collections searched, its entries
        // counted up to a bound (as the public search does), once for every collection's part.
        // A gram is counted as its codes in those collections (migration 0025): the numbers
        // are the model's collections', spelled as literals — bound as an array, a prepared
        // statement's generic plan guesses their number and reads the counted entries from the
        // table instead of the index alone (measured: 6 ms against under 1 ms).
        let codes: Vec<String> = public
            .iter()
            .filter_map(|name| public_name_collection_number(name))
            .map(|number| sql_gram_code(number, "g.bits"))
            .collect();
        sql.push("WITH rarest(bits) AS (SELECT g.bits FROM unnest(")
            .push_bind(grams.iter().map(|gram| gram_bits(gram)).collect::<Vec<_>>())
            .push(format!(
                "::bigint[]) AS g(bits) ORDER BY (SELECT count(*) FROM \
                 (SELECT 1 FROM public_name_grams q WHERE q.code IN ({}) \
                 LIMIT 1000) AS c), g.bits LIMIT 1) ",
                codes.join(", ")
            ));
    }
    sql.push("SELECT * FROM (");
    let mut first = true;
    let mut part = |sql: &mut QueryBuilder<Postgres>| {
        if !std::mem::take(&mut first) {
            sql.push(" UNION ALL ");
        }
    };
    if others {
        part(sql);
        // `NOT public_name_collection(…)` is the index's own predicate, spelled as it is, so
        // that the planner uses the partial index whatever collection is bound.
        sql.push(format!("(SELECT {columns} FROM records r WHERE r.key > "))
            .push_bind(after)
            .push(" AND NOT public_name_collection(r.collection) AND r.name_grams @> ")
            .push_bind(grams.clone())
            .push("::text[] AND strpos(r.enterprise_name, ")
            .push_bind(name.clone())
            .push(") > 0");
        push_search_filters(sql, query);
        sql.push(format!(" ORDER BY r.key{})", crate::dialect::limit(limit)));
    }
    for collection in public {
        part(sql);
        // The records holding the fragment's (rarest) gram, in key order, each verified with
        // a substring test.
        let number = public_name_collection_number(collection).unwrap_or(0);
        sql.push(format!(
            "(SELECT {columns} FROM public_name_grams p JOIN records r ON r.key = p.key \
             WHERE p.code = "
        ));
        if let [gram] = grams.as_slice() {
            sql.push_bind(public_name_gram_code(collection, gram).unwrap_or(0));
        } else {
            // Every gram of the fragment in the record's own row (`name_grams`, kept for every
            // record; only its index leaves the public collections out), before the substring
            // test. (Probing the gram table for each gram instead planned and ran about twice
            // as long: docs/BENCHMARKS.md.)
            sql.push(format!(
                "(SELECT {} FROM rarest) AND r.name_grams @> ",
                sql_gram_code(number, "bits")
            ))
            .push_bind(grams.clone())
            .push("::text[]");
        }
        sql.push(" AND p.key > ")
            .push_bind(after)
            .push(" AND strpos(r.enterprise_name, ")
            .push_bind(name.clone())
            .push(") > 0");
        push_search_filters(sql, query);
        sql.push(format!(" ORDER BY p.key{})", crate::dialect::limit(limit)));
    }
    sql.push(") AS found ORDER BY 1");
}

fn push_search_filters<DB: sqlx::Database>(sql: &mut QueryBuilder<DB>, query: &SearchQuery)
where
    String: for<'q> sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    if let Some(collection) = &query.collection {
        sql.push(" AND r.collection = ")
            .push_bind(collection.clone());
    }
    if let Some(number) = &query.licence_number {
        sql.push(" AND r.licence_number_bare = ")
            .push_bind(crate::projection::bare_licence_number(number));
    }
    if let Some(code) = &query.credit_code {
        sql.push(" AND r.credit_code = ")
            .push_bind(code.trim().to_uppercase());
    }
}

fn page(items: Vec<StoredRecord>, limit: i64) -> Result<Page, StoreError> {
    let next = if items.len() as i64 == limit {
        items.last().map(|record| record.key.to_string())
    } else {
        None
    };
    Ok(Page { items, next })
}

/// A record read from a row: the projection's JSON text parsed into `data`.
fn record_of(mut record: StoredRecord, data: String) -> Result<StoredRecord, StoreError> {
    record.data = match serde_json::from_str::<Value>(&data) {
        Ok(Value::Object(map)) => map,
        Ok(_) => Map::new(),
        Err(source) => {
            return Err(StoreError::CorruptProjection {
                id: record.id,
                source,
            });
        }
    };
    Ok(record)
}

pub(crate) fn sqlite_record(row: &sqlx::sqlite::SqliteRow) -> Result<StoredRecord, StoreError> {
    record_of(
        StoredRecord {
            key: row.try_get(0)?,
            id: row.try_get(1)?,
            collection: row.try_get(2)?,
            jurisdiction: row.try_get(3)?,
            data: Map::new(),
            conflict_count: row.try_get(5)?,
            created_at_ms: row.try_get(6)?,
            updated_at_ms: row.try_get(7)?,
            last_seq: row.try_get(8)?,
        },
        row.try_get(4)?,
    )
}

pub(crate) fn pg_record(row: &sqlx::postgres::PgRow) -> Result<StoredRecord, StoreError> {
    record_of(
        StoredRecord {
            key: row.try_get(0)?,
            id: row.try_get(1)?,
            collection: row.try_get(2)?,
            jurisdiction: row.try_get(3)?,
            data: Map::new(),
            conflict_count: i64::from(row.try_get::<i32, _>(5)?),
            created_at_ms: row.try_get(6)?,
            updated_at_ms: row.try_get(7)?,
            last_seq: row.try_get(8)?,
        },
        row.try_get(4)?,
    )
}

pub(crate) fn change_row<R: Row>(row: &R) -> Result<LoggedChange, StoreError>
where
    usize: sqlx::ColumnIndex<R>,
    i64: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    String: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    Vec<u8>: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    let bytes = match row.columns().len() {
        // Metadata only (`CHANGE_METADATA_COLUMNS`).
        9 => Vec::new(),
        _ => row.try_get(9)?,
    };
    Ok(LoggedChange {
        seq: row.try_get(0)?,
        hash: row.try_get(1)?,
        record_id: row.try_get(2)?,
        collection: row.try_get(3)?,
        jurisdiction: row.try_get(4)?,
        author_node: row.try_get(5)?,
        author_user: row.try_get(6)?,
        origin: row.try_get(7)?,
        at_ms: row.try_get(8)?,
        bytes,
    })
}

/// A change-log row's columns, as [`change_row`] reads them.
const CHANGE_COLUMNS: &str = "seq, hash, record_id, collection, jurisdiction, author_node, author_user, origin, at_ms, bytes";
/// [`CHANGE_COLUMNS`] without the change's bytes.
const CHANGE_METADATA_COLUMNS: &str =
    "seq, hash, record_id, collection, jurisdiction, author_node, author_user, origin, at_ms";

/// The query of [`Store::changes_after_not_from`]. With collections named, each collection's
/// first `limit` rows after the cursor (origin checked) come from the index
/// `changes_collection_seq` (migration 0019) and the first `limit` of them all are read: the
/// same rows as one scan in number order, but rows of other collections — in a parent's log,
/// mostly what its children sent up — are never passed over.
fn changes_query<DB>(
    columns: &str,
    after: i64,
    collections: Option<&[&str]>,
    not_from: Option<&str>,
    limit: i64,
) -> QueryBuilder<DB>
where
    DB: sqlx::Database,
    for<'t> i64: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
    for<'t> String: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
{
    let mut sql = QueryBuilder::<DB>::new(format!("SELECT {columns} FROM changes WHERE "));
    match collections {
        None => {
            sql.push("seq > ").push_bind(after);
            if let Some(origin) = not_from {
                sql.push(" AND origin <> ").push_bind(origin.to_string());
            }
        }
        Some(collections) => {
            let mut names = collections.to_vec();
            names.sort_unstable();
            names.dedup();
            sql.push("seq IN (");
            if names.is_empty() {
                sql.push("SELECT seq FROM changes WHERE 1 = 0");
            }
            for (index, name) in names.iter().enumerate() {
                if index > 0 {
                    sql.push(" UNION ALL ");
                }
                sql.push("SELECT seq FROM (SELECT seq FROM changes WHERE collection = ")
                    .push_bind(name.to_string())
                    .push(" AND seq > ")
                    .push_bind(after);
                if let Some(origin) = not_from {
                    sql.push(" AND origin <> ").push_bind(origin.to_string());
                }
                sql.push(" ORDER BY seq")
                    .push(crate::dialect::limit(limit))
                    .push(") AS first_of_collection");
            }
            sql.push(")");
        }
    }
    sql.push(" ORDER BY seq").push(crate::dialect::limit(limit));
    sql
}

#[cfg(test)]
mod tests {
    use super::subtree_prefix;

    #[test]
    fn subtree_prefixes_follow_the_division_levels() {
        assert_eq!(subtree_prefix("330000"), "33");
        assert_eq!(subtree_prefix("330100"), "3301");
        assert_eq!(subtree_prefix("330106"), "330106");
        assert_eq!(subtree_prefix("100000"), "");
        assert_eq!(subtree_prefix("110000"), "11");
    }
}
