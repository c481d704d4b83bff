//! Lists sorted by one of a collection's date fields, either way, with keyset paging on the
//! composite cursor (date, key): records with the date first, in date order and storage order
//! within a date, then the records without it, in storage order.

use std::fmt;

use licnode_model::FieldType;
use sqlx::{Postgres, QueryBuilder, Row, Sqlite};

use crate::dialect::Dialect;
use crate::read::{ListQuery, Page, pg_record, push_list_filters, sqlite_record};
use crate::{Db, Store, StoreError};

/// Where a list sorted by a date stopped: after a record with the date, or after one of the
/// records without it (which come last, whatever the direction).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DateCursor {
    Dated { date: String, key: i64 },
    Undated { key: i64 },
}

impl DateCursor {
    /// Reads a cursor written by `Display` (the `next` of a page); `None` when it is not one.
    pub fn parse(text: &str) -> Option<DateCursor> {
        let mut parts = text.splitn(3, '.');
        match (
            parts.next()?,
            parts.next()?.parse::<i64>().ok()?,
            parts.next(),
        ) {
            ("d", key, Some(date)) => Some(DateCursor::Dated {
                date: date.to_string(),
                key,
            }),
            ("u", key, None) => Some(DateCursor::Undated { key }),
            _ => None,
        }
    }
}

impl fmt::Display for DateCursor {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DateCursor::Dated { date, key } => write!(formatter, "d.{key}.{date}"),
            DateCursor::Undated { key } => write!(formatter, "u.{key}"),
        }
    }
}

/// The date fields of `collection` a list may be sorted by: every `FieldType::Date` field of the
/// model's collection. Each has a partial expression index (migrations 0006 and 0013).
pub fn sortable_date_fields(collection: &str) -> Vec<&'static str> {
    licnode_model::collection(collection)
        .map(|model| {
            model
                .fields
                .iter()
                .filter(|field| field.field_type == FieldType::Date)
                .map(|field| field.name)
                .collect()
        })
        .unwrap_or_default()
}

/// The date fields whose index migration 0006 made for the monthly roll-up, on the date alone
/// (`records_<collection>_by_<field>`); every other date field's index, from migration 0013, is
/// on (date, key) and named `records_<collection>_by_<field>_key`.
const ROLL_UP_DATE_INDEXES: &[(&str, &str)] = &[
    ("licences", "issue_date"),
    ("refusals", "refusal_date"),
    ("licence_events", "event_date"),
    ("applications", "application_date"),
];

/// The partial expression index that orders `collection`'s records by `field`.
pub(crate) fn date_index_name(collection: &str, field: &str) -> String {
    if ROLL_UP_DATE_INDEXES.contains(&(collection, field)) {
        format!("records_{collection}_by_{field}")
    } else {
        format!("records_{collection}_by_{field}_key")
    }
}

/// Which part of a sorted list a query reads.
enum Part<'a> {
    /// Records with the date, after this position if any.
    Dated(Option<(&'a str, i64)>),
    /// Records without the date, after this key if any.
    Undated(Option<i64>),
}

/// The query of one part of a sorted list. The collection and field names are the model's own
/// (checked by `list_by_date`), written into the SQL so that the planner matches the partial
/// indexes, whose `WHERE collection = '…'` and expression it must see literally.
fn part_sql<DB: sqlx::Database>(
    leading: &str,
    dialect: Dialect,
    query: &ListQuery,
    field: &str,
    part: &Part<'_>,
    limit: i64,
) -> QueryBuilder<DB>
where
    String: for<'q> sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    i64: for<'q> sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    let date = dialect.json_field("r", field);
    let columns = crate::read::RECORD_COLUMNS.replace("r.data,", &dialect.json_data_column());
    let index = dialect.indexed_by(&date_index_name(&query.collection, field));
    let mut sql = QueryBuilder::<DB>::new(format!(
        "{leading}SELECT {columns} FROM records r{index} WHERE r.collection = '{}'",
        query.collection
    ));
    let unpaged = ListQuery {
        after: None,
        ..query.clone()
    };
    push_list_filters(&mut sql, &unpaged, |name| dialect.json_field("r", name));
    let (before_or_after, direction) = if query.descending {
        ("<", " DESC")
    } else {
        (">", "")
    };
    match part {
        Part::Dated(position) => {
            sql.push(format!(" AND {date} IS NOT NULL"));
            if let Some((last_date, last_key)) = position {
                // `date >= d` alone is what the index ranges on; the OR settles equal dates.
                sql.push(format!(" AND {date} {before_or_after}= "))
                    .push_bind(last_date.to_string())
                    .push(format!(" AND ({date} {before_or_after} "))
                    .push_bind(last_date.to_string())
                    .push(format!(" OR r.key {before_or_after} "))
                    .push_bind(*last_key)
                    .push(")");
            }
            sql.push(format!(" ORDER BY {date}{direction}, r.key{direction}"));
        }
        Part::Undated(after_key) => {
            sql.push(format!(" AND {date} IS NULL"));
            if let Some(last_key) = after_key {
                sql.push(format!(" AND r.key {before_or_after} "))
                    .push_bind(*last_key);
            }
            sql.push(format!(" ORDER BY r.key{direction}"));
        }
    }
    sql.push(crate::dialect::limit(limit));
    sql
}

impl Store {
    /// A page of one collection sorted by the date field `field` (ascending, or descending when
    /// `query.descending`), after `cursor`; the page's `next` is a `DateCursor`. Filters are
    /// `ListQuery`'s; its key cursor `after` is not used.
    pub async fn list_by_date(
        &self,
        query: &ListQuery,
        field: &str,
        cursor: Option<&DateCursor>,
    ) -> Result<Page, StoreError> {
        let Some(field) = sortable_date_fields(&query.collection)
            .into_iter()
            .find(|name| *name == field)
        else {
            return Err(StoreError::UnsortableField {
                collection: query.collection.clone(),
                field: field.to_string(),
            });
        };
        let limit = query.limit.clamp(1, 1_000);
        let mut items = Vec::new();
        if !matches!(cursor, Some(DateCursor::Undated { .. })) {
            let position = match cursor {
                Some(DateCursor::Dated { date, key }) => Some((date.as_str(), *key)),
                _ => None,
            };
            items = self
                .list_part(query, field, &Part::Dated(position), limit)
                .await?;
        }
        let remaining = limit - items.len() as i64;
        if remaining > 0 {
            let after_key = match cursor {
                Some(DateCursor::Undated { key }) => Some(*key),
                _ => None,
            };
            let undated = self
                .list_part(query, field, &Part::Undated(after_key), remaining)
                .await?;
            items.extend(undated);
        }
        let next = if items.len() as i64 == limit {
            items.last().map(|record| {
                match record.data.get(field).and_then(|value| value.as_str()) {
                    Some(date) => DateCursor::Dated {
                        date: date.to_string(),
                        key: record.key,
                    },
                    None => DateCursor::Undated { key: record.key },
                }
                .to_string()
            })
        } else {
            None
        };
        Ok(Page { items, next })
    }

    /// The database's plan for the records with the date of a page of `query` sorted by `field`
    /// (after `query.after_date`), one line per step: a check that a page walks an index rather
    /// than sorting the collection.
    pub async fn explain_list_by_date(
        &self,
        query: &ListQuery,
        field: &str,
    ) -> Result<Vec<String>, StoreError> {
        let Some(field) = sortable_date_fields(&query.collection)
            .into_iter()
            .find(|name| *name == field)
        else {
            return Err(StoreError::UnsortableField {
                collection: query.collection.clone(),
                field: field.to_string(),
            });
        };
        let position = match &query.after_date {
            Some(DateCursor::Dated { date, key }) => Some((date.as_str(), *key)),
            _ => None,
        };
        let part = Part::Dated(position);
        let limit = query.limit.clamp(1, 1_000);
        let dialect = self.db.dialect();
        match &self.db {
            Db::Sqlite { reader, .. } => {
                let mut sql =
                    part_sql::<Sqlite>("EXPLAIN QUERY PLAN ", dialect, query, field, &part, limit);
                let rows = sql.build().fetch_all(reader).await?;
                Ok(rows
                    .iter()
                    .map(|row| row.try_get::<String, _>(3))
                    .collect::<Result<_, _>>()?)
            }
            Db::Postgres { pool } => {
                let mut sql = part_sql::<Postgres>("EXPLAIN ", dialect, query, field, &part, limit);
                let rows = sql.build().fetch_all(pool).await?;
                Ok(rows
                    .iter()
                    .map(|row| row.try_get::<String, _>(0))
                    .collect::<Result<_, _>>()?)
            }
        }
    }

    async fn list_part(
        &self,
        query: &ListQuery,
        field: &str,
        part: &Part<'_>,
        limit: i64,
    ) -> Result<Vec<crate::StoredRecord>, StoreError> {
        let dialect = self.db.dialect();
        match &self.db {
            Db::Sqlite { reader, .. } => {
                let mut sql = part_sql::<Sqlite>("", dialect, query, field, part, limit);
                let rows = sql.build().fetch_all(reader).await?;
                rows.iter().map(sqlite_record).collect()
            }
            Db::Postgres { pool } => {
                let mut sql = part_sql::<Postgres>("", dialect, query, field, part, limit);
                let rows = sql.build().fetch_all(pool).await?;
                rows.iter().map(pg_record).collect()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{DateCursor, date_index_name, sortable_date_fields};

    #[test]
    fn date_cursors_read_back_what_they_write() {
        for cursor in [
            DateCursor::Dated {
                date: "2024-03-01".to_string(),
                key: 42,
            },
            DateCursor::Dated {
                date: String::new(),
                key: 3,
            },
            DateCursor::Undated { key: 7 },
        ] {
            assert_eq!(DateCursor::parse(&cursor.to_string()), Some(cursor));
        }
        for refused in ["", "42", "d.42", "d.x.2024-03-01", "u.1.2", "x.1"] {
            assert_eq!(DateCursor::parse(refused), None, "{refused}");
        }
    }

    /// Every sortable field has its index, under the name the list names it by, on the
    /// expression the list sorts by: a sort never reads a whole collection.
    #[test]
    fn every_sortable_date_field_has_an_index_on_both_backends() {
        let sqlite = [
            include_str!("../../../migrations/sqlite/0006_reports.sql"),
            include_str!("../../../migrations/sqlite/0013_date_sort.sql"),
            include_str!("../../../migrations/sqlite/0015_regulation_dates.sql"),
            include_str!("../../../migrations/sqlite/0017_arrivals.sql"),
        ]
        .concat();
        let postgres = [
            include_str!("../../../migrations/postgres/0006_reports.sql"),
            include_str!("../../../migrations/postgres/0013_date_sort.sql"),
            include_str!("../../../migrations/postgres/0015_regulation_dates.sql"),
            include_str!("../../../migrations/postgres/0017_arrivals.sql"),
        ]
        .concat();
        for collection in licnode_model::collections() {
            for field in sortable_date_fields(collection.name) {
                let name = collection.name;
                let index = date_index_name(name, field);
                let key = if index.ends_with("_key") { ", key" } else { "" };
                let sqlite_index = format!(
                    "CREATE INDEX {index}\n    ON records (json_extract(data, '$.{field}'){key}) \
                     WHERE collection = '{name}';"
                );
                assert!(sqlite.contains(&sqlite_index), "{sqlite_index}");
                let postgres_index = format!(
                    "CREATE INDEX {index}\n    ON records ((data->>'{field}'){key}) \
                     WHERE collection = '{name}';"
                );
                assert!(postgres.contains(&postgres_index), "{postgres_index}");
            }
        }
    }
}
