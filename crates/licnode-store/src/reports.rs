//! The statutory reports' queries (Art. 18–20): the roll-up queries over the records'
//! projections, the reports held for a period, and the persisted record of every run. The
//! reports service above the store (`licnode-app`) decides when a report is built, revised or
//! submitted.

use licnode_reports::monthly::MonthlySource;
use licnode_reports::{Period, ReportKind, YearlyFigures};
use serde::Serialize;
use serde_json::{Map, Value};
use sqlx::Row;

use crate::dialect::{with_reader, with_writer};
use crate::read::{StoredRecord, subtree_prefix};
use crate::{Db, Store, StoreError};

/// One run of a report, as `report_runs` keeps it.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct ReportRun {
    pub id: i64,
    pub kind: String,
    pub period: String,
    /// `schedule`, `catch_up` or the staff user who ran it by hand.
    pub started_by: String,
    pub started_at_ms: i64,
    pub finished_at_ms: Option<i64>,
    /// `running`, then `created`, `updated`, `unchanged`, `revised` or `failed`.
    pub outcome: String,
    pub report_id: Option<String>,
    pub detail: Option<String>,
}

fn like_prefix(within: &str) -> String {
    format!("{}%", subtree_prefix(within))
}

/// One roll-up query: the records of `collection` at or below `within` whose `date_field` is in
/// `[first, last]`, in date order. The collection and field are literals so that the partial
/// expression indexes of migration 0006 apply.
async fn by_date(
    store: &Store,
    collection: &'static str,
    date_field: &'static str,
    within: &str,
    period: &Period,
) -> Result<Vec<(String, Map<String, Value>)>, StoreError> {
    let first = period.first_day().format("%Y-%m-%d").to_string();
    let last = period.last_day().format("%Y-%m-%d").to_string();
    let rows = match &store.db {
        Db::Sqlite { reader, .. } => {
            // INDEXED BY: the planner would otherwise take the (collection, jurisdiction)
            // index and read the whole territory; the date index reads one month.
            let sql = format!(
                "SELECT id, data FROM records \
                 INDEXED BY records_{collection}_by_{date_field} \
                 WHERE collection = '{collection}' \
                 AND json_extract(data, '$.{date_field}') BETWEEN ? AND ? \
                 AND jurisdiction LIKE ? \
                 ORDER BY json_extract(data, '$.{date_field}'), key"
            );
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(&first)
                .bind(&last)
                .bind(like_prefix(within))
                .fetch_all(reader)
                .await?
                .iter()
                .map(|row| Ok((row.try_get::<String, _>(0)?, row.try_get::<String, _>(1)?)))
                .collect::<Result<Vec<_>, sqlx::Error>>()?
        }
        Db::Postgres { pool } => {
            let sql = format!(
                "SELECT id, data::text FROM records WHERE collection = '{collection}' \
                 AND (data->>'{date_field}') BETWEEN $1 AND $2 \
                 AND jurisdiction LIKE $3 \
                 ORDER BY (data->>'{date_field}'), key"
            );
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(&first)
                .bind(&last)
                .bind(like_prefix(within))
                .fetch_all(pool)
                .await?
                .iter()
                .map(|row| Ok((row.try_get::<String, _>(0)?, row.try_get::<String, _>(1)?)))
                .collect::<Result<Vec<_>, sqlx::Error>>()?
        }
    };
    rows.into_iter()
        .map(|(id, data)| {
            let data =
                serde_json::from_str(&data).map_err(|source| StoreError::CorruptProjection {
                    id: id.clone(),
                    source,
                })?;
            Ok((id, data))
        })
        .collect()
}

/// Every record of `collection` at or below `within` (the yearly figures read whole
/// collections of a territory once a year).
async fn all_within(
    store: &Store,
    collection: &'static str,
    within: &str,
) -> Result<Vec<Map<String, Value>>, StoreError> {
    let rows: Vec<String> = match &store.db {
        Db::Sqlite { reader, .. } => {
            sqlx::query_scalar(
                "SELECT data FROM records WHERE collection = ? AND jurisdiction LIKE ?",
            )
            .bind(collection)
            .bind(like_prefix(within))
            .fetch_all(reader)
            .await?
        }
        Db::Postgres { pool } => {
            sqlx::query_scalar(
                "SELECT data::text FROM records WHERE collection = $1 AND jurisdiction LIKE $2",
            )
            .bind(collection)
            .bind(like_prefix(within))
            .fetch_all(pool)
            .await?
        }
    };
    Ok(rows
        .iter()
        .filter_map(|data| serde_json::from_str(data).ok())
        .collect())
}

fn text<'a>(data: &'a Map<String, Value>, field: &str) -> &'a str {
    data.get(field).and_then(Value::as_str).unwrap_or("")
}

impl Store {
    /// The records of a monthly report of the territory at or below `within` (Art. 18, 19):
    /// applications made, licences issued (发证日期), refusals decided (不予许可日期) and licence
    /// events (变更日期 / 注销时间) in the month.
    pub async fn rollup_monthly(
        &self,
        within: &str,
        period: &Period,
    ) -> Result<MonthlySource, StoreError> {
        Ok(MonthlySource {
            applications: by_date(self, "applications", "application_date", within, period).await?,
            licences: by_date(self, "licences", "issue_date", within, period).await?,
            refusals: by_date(self, "refusals", "refusal_date", within, period).await?,
            events: by_date(self, "licence_events", "event_date", within, period).await?,
        })
    }

    /// The figures of a yearly report of the territory at or below `within` (Art. 20).
    pub async fn rollup_yearly(
        &self,
        within: &str,
        period: &Period,
    ) -> Result<YearlyFigures, StoreError> {
        let first = period.first_day().format("%Y-%m-%d").to_string();
        let last = period.last_day().format("%Y-%m-%d").to_string();
        let in_year =
            |date: &str| !date.is_empty() && date >= first.as_str() && date <= last.as_str();
        let mut licensed = std::collections::HashSet::new();
        for licence in all_within(self, "licences", within).await? {
            let issued = text(&licence, "issue_date");
            let valid_until = text(&licence, "valid_until");
            if !issued.is_empty() && issued <= last.as_str() && valid_until >= first.as_str() {
                licensed.insert(text(&licence, "credit_code").to_string());
            }
        }
        let verifications = all_within(self, "site_verifications", within)
            .await?
            .iter()
            .filter(|record| in_year(text(record, "verification_date")))
            .count() as i64;
        let (mut patrol, mut periodic, mut problem, mut reviewed) = (
            std::collections::HashSet::new(),
            std::collections::HashSet::new(),
            std::collections::HashSet::new(),
            std::collections::HashSet::new(),
        );
        for archive in all_within(self, "quality_archives", within).await? {
            let enterprise = format!(
                "{}|{}",
                text(&archive, "credit_code"),
                text(&archive, "enterprise_name")
            );
            let Some(visits) = archive.get("supervision_records").and_then(Value::as_array) else {
                continue;
            };
            for visit in visits.iter().filter_map(Value::as_object) {
                if !in_year(text(visit, "supervision_date")) {
                    continue;
                }
                match text(visit, "supervision_kind") {
                    "patrol_visit" => {
                        patrol.insert(enterprise.clone());
                    }
                    "periodic_supervision" => {
                        periodic.insert(enterprise.clone());
                    }
                    "annual_review" => {
                        reviewed.insert(enterprise.clone());
                    }
                    _ => {}
                }
                if text(visit, "result") == "nonconforming" {
                    problem.insert(enterprise.clone());
                }
            }
        }
        Ok(YearlyFigures {
            year: period.year(),
            licensed_enterprise_count: licensed.len() as i64,
            // Art. 20 年度审查: the province's on-site verifications and the enterprises a
            // bureau reviewed in the year (a county holds no verification; its reviews are in
            // its quality archives).
            review_count: verifications + reviewed.len() as i64,
            patrol_visit_count: patrol.len() as i64,
            periodic_supervision_count: periodic.len() as i64,
            problem_enterprise_count: problem.len() as i64,
        })
    }

    /// Every `reports` record of `kind` for `period` this node holds (its own and, at a parent,
    /// those received from below).
    pub async fn reports_of_period(
        &self,
        kind: ReportKind,
        period: &Period,
    ) -> Result<Vec<StoredRecord>, StoreError> {
        let period_text = period.to_string();
        let ids: Vec<String> = match &self.db {
            Db::Sqlite { reader, .. } => {
                sqlx::query_scalar(
                    "SELECT id FROM records INDEXED BY records_reports_by_period \
                     WHERE collection = 'reports' \
                     AND json_extract(data, '$.period') = ? ORDER BY key",
                )
                .bind(&period_text)
                .fetch_all(reader)
                .await?
            }
            Db::Postgres { pool } => {
                sqlx::query_scalar(
                    "SELECT id FROM records WHERE collection = 'reports' \
                     AND (data->>'period') = $1 ORDER BY key",
                )
                .bind(&period_text)
                .fetch_all(pool)
                .await?
            }
        };
        let mut found = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(record) = self.get(&id).await?
                && text(&record.data, "report_kind") == kind.as_str()
            {
                found.push(record);
            }
        }
        Ok(found)
    }

    /// Records the start of a run; returns its id.
    pub async fn start_report_run(
        &self,
        kind: ReportKind,
        period: &Period,
        started_by: &str,
        at_ms: i64,
    ) -> Result<i64, StoreError> {
        let period = period.to_string();
        Ok(with_writer!(&self.db, |pool| {
            sqlx::query_scalar(
                "INSERT INTO report_runs (kind, period, started_by, started_at_ms, outcome) \
                 VALUES ($1, $2, $3, $4, 'running') RETURNING id",
            )
            .bind(kind.as_str())
            .bind(period)
            .bind(started_by)
            .bind(at_ms)
            .fetch_one(pool)
            .await?
        }))
    }

    /// Records how a run ended.
    pub async fn finish_report_run(
        &self,
        run: i64,
        at_ms: i64,
        outcome: &str,
        report_id: Option<&str>,
        detail: Option<&str>,
    ) -> Result<(), StoreError> {
        #[cfg(feature = "fault-injection")]
        if report_id.is_some() {
            crate::fault_injection::hold_report_run().await;
        }
        with_writer!(&self.db, |pool| {
            sqlx::query(
                "UPDATE report_runs SET finished_at_ms = $1, outcome = $2, report_id = $3, \
                     detail = $4 WHERE id = $5",
            )
            .bind(at_ms)
            .bind(outcome)
            .bind(report_id)
            .bind(detail)
            .bind(run)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// The latest runs, newest first; only those of `kind` when given.
    pub async fn report_runs(
        &self,
        kind: Option<ReportKind>,
        limit: i64,
    ) -> Result<Vec<ReportRun>, StoreError> {
        let limit = limit.clamp(1, 1_000);
        let kind = kind.map(ReportKind::as_str);
        const COLUMNS: &str = "id, kind, period, started_by, started_at_ms, finished_at_ms, \
                               outcome, report_id, detail";
        with_reader!(&self.db, |pool| {
            let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT {COLUMNS} FROM report_runs WHERE (CAST($1 AS TEXT) IS NULL OR kind = $1) \
                 ORDER BY id DESC LIMIT $2"
            )))
            .bind(kind)
            .bind(limit)
            .fetch_all(pool)
            .await?;
            Ok(rows
                .iter()
                .map(|row| -> Result<ReportRun, sqlx::Error> {
                    Ok(ReportRun {
                        id: row.try_get(0)?,
                        kind: row.try_get(1)?,
                        period: row.try_get(2)?,
                        started_by: row.try_get(3)?,
                        started_at_ms: row.try_get(4)?,
                        finished_at_ms: row.try_get(5)?,
                        outcome: row.try_get(6)?,
                        report_id: row.try_get(7)?,
                        detail: row.try_get(8)?,
                    })
                })
                .collect::<Result<_, _>>()?)
        })
    }

    /// The periods of `kind` with a run that did not fail.
    pub async fn periods_run(&self, kind: ReportKind) -> Result<Vec<String>, StoreError> {
        Ok(with_reader!(&self.db, |pool| {
            sqlx::query_scalar(
                "SELECT DISTINCT period FROM report_runs \
                     WHERE kind = $1 AND outcome NOT IN ('failed', 'running') ORDER BY period",
            )
            .bind(kind.as_str())
            .fetch_all(pool)
            .await?
        }))
    }
}
