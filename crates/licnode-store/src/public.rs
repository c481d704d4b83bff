//! Reads for the public query service (Art. 27, 28, 30, 31, 33–35): pages of one public
//! collection, newest first, filtered by a name fragment (the two-character gram index), a
//! licence number, a credit code, equality or membership on public fields, the province of the
//! credit code, and registration status.
//!
//! This layer refuses collections that are not public and filters on public fields only, so a
//! filter cannot be used to probe an internal value; which fields of the rows leave the node is
//! decided above it, by the field classification (`licnode-server`'s `public_view`).

use licnode_model::Collection;
use licnode_model::validity::LicenceValidity;
use serde_json::{Map, Value};
use sqlx::{Postgres, QueryBuilder, Row, Sqlite};

use crate::dialect::with_reader;
use crate::projection::{bare_licence_number, name_grams, public_name_gram_code};
use crate::{Db, Store, StoreError};

/// Largest page the public service reads at once.
pub const PUBLIC_MAX_LIMIT: i64 = 200;

/// A query of one public collection. Build it with [`PublicQuery::new`].
#[derive(Clone, Debug)]
pub struct PublicQuery {
    collection: &'static Collection,
    /// A fragment of the collection's name field (two characters or more).
    pub name: Option<String>,
    /// A licence number, with or without its provincial prefix.
    pub licence_number: Option<String>,
    /// A unified social credit code.
    pub credit_code: Option<String>,
    /// `field = value` on public fields of the collection.
    pub equals: Vec<(&'static str, String)>,
    /// `field IN (values)` on a public field of the collection.
    pub any_of: Option<(&'static str, Vec<String>)>,
    /// Records whose status column is absent or not one of these (e.g. cancelled filings).
    pub status_not_in: Vec<String>,
    /// The two-digit province part of the record's credit code (characters 3–4, the
    /// registration authority's division, GB 32100): a province filter that reads only a
    /// public field.
    pub credit_code_province: Option<String>,
    /// Licences of one class of validity on a day (`YYYY-MM-DD`), Art. 27: in force, expired
    /// or ended by an event (`licnode_model::validity`).
    pub licence_validity: Option<(LicenceValidity, String)>,
    /// Only records of this jurisdiction (record metadata, not a field: the national centre's
    /// own publications are those of `100000`, Art. 35).
    pub jurisdiction: Option<String>,
    /// Keyset cursor: records older (smaller key) than this one.
    pub before: Option<i64>,
    pub limit: i64,
}

/// One row of a public page: the record's fields as stored. Every field is here, public or
/// not; the caller shows only what the classification allows.
#[derive(Clone, Debug, PartialEq)]
pub struct PublicRow {
    /// The storage key: the order of the page and the cursor.
    pub key: i64,
    pub data: Map<String, Value>,
}

/// One page of a public query, newest first; `next` continues it (`before = next`).
#[derive(Clone, Debug, PartialEq)]
pub struct PublicPage {
    pub rows: Vec<PublicRow>,
    pub next: Option<i64>,
}

impl PublicQuery {
    /// An unfiltered query of `collection`, newest first, `limit` rows a page.
    pub fn new(collection: &'static Collection, limit: i64) -> PublicQuery {
        PublicQuery {
            collection,
            name: None,
            licence_number: None,
            credit_code: None,
            equals: Vec::new(),
            any_of: None,
            status_not_in: Vec::new(),
            credit_code_province: None,
            licence_validity: None,
            jurisdiction: None,
            before: None,
            limit,
        }
    }

    /// The collection queried.
    pub fn collection(&self) -> &'static Collection {
        self.collection
    }

    /// Whether every filter reads a public field of a public collection (Art. 36): a filter on
    /// an internal field would let anyone probe its value one guess at a time.
    fn reads_only_public_fields(&self) -> bool {
        let collection = self.collection;
        let public = |field: Option<&str>| field.is_some_and(|f| collection.is_public_field(f));
        collection.public
            && (self.name.is_none() || public(collection.enterprise_name_field))
            && (self.licence_number.is_none() || public(collection.licence_number_field))
            && ((self.credit_code.is_none() && self.credit_code_province.is_none())
                || public(collection.credit_code_field))
            && (self.status_not_in.is_empty() || public(collection.status_field))
            && (self.licence_validity.is_none()
                || (public(collection.status_field) && collection.is_public_field("valid_until")))
            && self
                .equals
                .iter()
                .all(|(field, _)| collection.is_public_field(field))
            && self
                .any_of
                .as_ref()
                .is_none_or(|(field, _)| collection.is_public_field(field))
    }
}

impl Store {
    /// A page of a public collection, newest first. A collection that is not public, or a
    /// filter on a field that is not public, finds nothing.
    pub async fn public_records(&self, query: &PublicQuery) -> Result<PublicPage, StoreError> {
        let limit = query.limit.clamp(1, PUBLIC_MAX_LIMIT);
        if !query.reads_only_public_fields() {
            return Ok(PublicPage {
                rows: Vec::new(),
                next: None,
            });
        }
        let name = query
            .name
            .as_deref()
            .map(str::trim)
            .filter(|name| !name.is_empty());
        let rows = with_reader!(&self.db, |pool| {
            let mut sql = QueryBuilder::new("");
            let key_column = match name {
                Some(name) => sql.push_name_match(query, name),
                None => {
                    sql.push(format!(
                        "SELECT r.key, {} FROM records r WHERE 1 = 1",
                        self.db.dialect().json_as_text("r.data")
                    ));
                    "r.key"
                }
            };
            if let Some(before) = query.before {
                sql.push(format!(" AND {key_column} < ")).push_bind(before);
            }
            push_filters(&mut sql, query, |field| {
                self.db.dialect().json_field("r", field)
            });
            sql.push(format!(" ORDER BY {key_column} DESC"))
                .push(crate::dialect::limit(limit));
            let rows = sql.build().fetch_all(pool).await?;
            rows.iter()
                .map(|row| public_row(row.try_get(0)?, row.try_get(1)?))
                .collect::<Result<Vec<_>, StoreError>>()?
        });
        let next = if rows.len() as i64 == limit {
            rows.last().map(|row| row.key)
        } else {
            None
        };
        Ok(PublicPage { rows, next })
    }
}

impl Store {
    /// Refreshes the planner's statistics after a bulk load, as autovacuum would soon after
    /// (PostgreSQL: [`Store::analyze`], which vacuums and analyzes `public_name_grams` too;
    /// SQLite: `PRAGMA optimize`, the periodic maintenance SQLite recommends).
    pub async fn refresh_statistics(&self) -> Result<(), StoreError> {
        self.analyze().await?;
        if let Db::Sqlite { writer, .. } = &self.db {
            sqlx::query("PRAGMA optimize").execute(writer).await?;
        }
        Ok(())
    }
}

/// The part of a public search that finds names: SQLite's FTS5 table, PostgreSQL's gram table.
trait NameMatch {
    /// Pushes the `SELECT … FROM … WHERE` of a search for the name fragment `name`; returns
    /// the column that orders and pages the results.
    fn push_name_match(&mut self, query: &PublicQuery, name: &str) -> &'static str;
}

impl NameMatch for QueryBuilder<Sqlite> {
    fn push_name_match(&mut self, _query: &PublicQuery, name: &str) -> &'static str {
        // The grams as an FTS5 phrase: consecutive grams stand for the substring;
        // every hit is verified with a substring test.
        let phrase = format!("\"{}\"", name_grams(name).join(" ").replace('"', ""));
        self.push(
            "SELECT r.key, r.data FROM name_index f CROSS JOIN records r ON r.key = f.rowid \
                 WHERE name_index MATCH ",
        )
        .push_bind(phrase)
        .push(" AND instr(r.enterprise_name, ")
        .push_bind(name.to_string())
        .push(") > 0");
        "f.rowid"
    }
}

impl NameMatch for QueryBuilder<Postgres> {
    fn push_name_match(&mut self, query: &PublicQuery, name: &str) -> &'static str {
        // The newest records holding one gram of the fragment, from `public_name_grams`
        // (migrations 0003 and 0025: a gram of a collection is one code) in key order, each
        // verified with a substring test. A longer fragment walks its rarest gram: the one
        // with the fewest entries, counted up to a bound. A collection the table does not hold
        // has no number: its codes (number 0) match nothing.
        let mut codes: Vec<i64> = name_grams(name)
            .iter()
            .map(|gram| public_name_gram_code(query.collection.name, gram).unwrap_or(0))
            .collect();
        codes.sort_unstable();
        codes.dedup();
        self.push(
            "SELECT r.key, r.data::text FROM public_name_grams p \
                 JOIN records r ON r.key = p.key WHERE ",
        );
        if let [code] = codes.as_slice() {
            self.push("p.code = ").push_bind(*code);
        } else {
            self.push("p.code = (SELECT c.code FROM unnest(")
                .push_bind(codes)
                .push(
                    "::bigint[]) AS c(code) ORDER BY (SELECT count(*) FROM \
                         (SELECT 1 FROM public_name_grams q WHERE q.code = c.code LIMIT 1000) \
                         AS n), c.code LIMIT 1)",
                );
        }
        self.push(" AND strpos(r.enterprise_name, ")
            .push_bind(name.to_string())
            .push(") > 0");
        if let Some(before) = query.before {
            self.push(" AND p.key < ").push_bind(before);
        }
        "p.key"
    }
}

fn push_filters<DB: sqlx::Database>(
    sql: &mut QueryBuilder<DB>,
    query: &PublicQuery,
    field_expression: impl Fn(&str) -> String,
) where
    String: for<'q> sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    sql.push(" AND r.collection = ")
        .push_bind(query.collection.name.to_string());
    if let Some(number) = &query.licence_number {
        sql.push(" AND r.licence_number_bare = ")
            .push_bind(bare_licence_number(number));
        // With its provincial prefix, a number names one province's licence: (浙)XK06-001-00123
        // is not (苏)XK06-001-00123. A number stored without a prefix still matches.
        if let Ok(parsed) = licnode_model::licence_number::normalise(number)
            && parsed.province_abbreviation().is_some()
        {
            sql.push(" AND (r.licence_number = ")
                .push_bind(parsed.canonical())
                .push(" OR r.licence_number = ")
                .push_bind(parsed.bare())
                .push(")");
        }
    }
    if let Some(code) = &query.credit_code {
        sql.push(" AND r.credit_code = ")
            .push_bind(code.trim().to_uppercase());
    }
    if let Some(province) = &query.credit_code_province {
        // The same expression as the index of migration 0003.
        sql.push(" AND substr(r.credit_code, 3, 2) = ")
            .push_bind(province.clone());
    }
    // Field names come from the model (`&'static str` checked public above): plain snake_case,
    // safe inside the JSON path.
    for (field, value) in &query.equals {
        sql.push(format!(" AND {} = ", field_expression(field)))
            .push_bind(value.clone());
    }
    if let Some((field, values)) = &query.any_of {
        if values.is_empty() {
            sql.push(" AND 1 = 0");
        } else {
            sql.push(format!(" AND {} IN (", field_expression(field)));
            let mut list = sql.separated(", ");
            for value in values {
                list.push_bind(value.clone());
            }
            list.push_unseparated(")");
        }
    }
    if let Some((validity, today)) = &query.licence_validity {
        push_validity(sql, *validity, today, &field_expression("valid_until"));
    }
    if let Some(jurisdiction) = &query.jurisdiction {
        sql.push(" AND r.jurisdiction = ")
            .push_bind(jurisdiction.clone());
    }
    if !query.status_not_in.is_empty() {
        sql.push(" AND (r.status IS NULL OR r.status NOT IN (");
        let mut list = sql.separated(", ");
        for status in &query.status_not_in {
            list.push_bind(status.clone());
        }
        list.push_unseparated("))");
    }
}

/// The condition of one class of validity on `today` (`licnode_model::validity` states the
/// same rule for one record; `licnode-server/tests/public_regulation.rs` checks that every
/// licence a filter finds carries that filter's label).
fn push_validity<DB: sqlx::Database>(
    sql: &mut QueryBuilder<DB>,
    validity: LicenceValidity,
    today: &str,
    valid_until: &str,
) where
    String: for<'q> sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    let not_ended = "(r.status IS NULL OR r.status = 'valid')";
    match validity {
        LicenceValidity::InForce => {
            sql.push(format!(" AND {not_ended} AND {valid_until} >= "))
                .push_bind(today.to_string());
        }
        LicenceValidity::Expired => {
            sql.push(format!(
                " AND (r.status = 'expired' OR ({not_ended} AND {valid_until} < "
            ))
            .push_bind(today.to_string())
            .push("))");
        }
        LicenceValidity::Ended => {
            sql.push(" AND r.status IN (");
            let mut list = sql.separated(", ");
            for status in LicenceValidity::ended_statuses() {
                list.push_bind(status.to_string());
            }
            list.push_unseparated(")");
        }
    }
}

fn public_row(key: i64, data: String) -> Result<PublicRow, StoreError> {
    let data = match serde_json::from_str::<Value>(&data) {
        Ok(Value::Object(map)) => map,
        Ok(_) => Map::new(),
        Err(source) => {
            return Err(StoreError::CorruptProjection {
                id: format!("key {key}"),
                source,
            });
        }
    };
    Ok(PublicRow { key, data })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collection(name: &str) -> &'static Collection {
        licnode_model::collection(name).expect("collection")
    }

    #[test]
    fn filters_on_public_fields_of_public_collections_are_allowed() {
        let mut query = PublicQuery::new(collection("licences"), 20);
        query.name = Some("恒远".into());
        query.licence_number = Some("XK06-001-00123".into());
        query.equals.push(("product_category", "电线电缆".into()));
        query.credit_code_province = Some("33".into());
        assert!(query.reads_only_public_fields());
    }

    #[test]
    fn the_postgres_gram_table_keeps_exactly_the_public_collections() {
        // `public_name_collection`, the one list the writer, the update trigger and the GIN
        // index's predicate (migration 0023) read.
        let migration = include_str!("../../../migrations/postgres/0021_keys_before_the_log.sql");
        for model in licnode_model::collections() {
            let quoted = format!("'{}'", model.name);
            assert_eq!(
                migration.contains(&quoted),
                model.public,
                "{}: public in the model, and in the gram table's list, must agree",
                model.name
            );
        }
    }

    #[test]
    fn a_filter_on_an_internal_field_or_a_private_collection_is_refused() {
        let mut query = PublicQuery::new(collection("licences"), 20);
        query.equals.push(("residence_address", "杭州".into()));
        assert!(!query.reads_only_public_fields());
        let query = PublicQuery::new(collection("applications"), 20);
        assert!(!query.reads_only_public_fields());
        let mut query = PublicQuery::new(collection("licence_events"), 20);
        query.any_of = Some(("remarks", vec!["x".into()]));
        assert!(!query.reads_only_public_fields());
    }
}
