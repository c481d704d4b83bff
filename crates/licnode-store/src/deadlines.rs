//! The deadline clock (Art. 18–20, 23, 27, 28, 30, 31): which duties of this node are due or
//! late on a given day, read from the records' projections. The rules and the date arithmetic
//! are in `licnode_model::deadlines`; this module only finds the unfulfilled candidates.
//!
//! Every query selects only what is still open (a field not filled in, a record not referred
//! to, a licence not yet terminal), so the work grows with the backlog, not with the archive.
//! The report rules read the small `reports` collection whole.

use std::collections::{BTreeSet, HashSet};

use chrono::{Datelike, NaiveDate};
use licnode_model::Level;
use licnode_model::date::CalendarDate;
use licnode_model::deadlines::{
    Assessment, ClockStart, DeadlineItem, DeadlineRule, DeadlineState, Fulfilment, Limit, RULES,
    ReportPeriod, assess, assess_met, change_is_applied, due_after, inspection_body_field,
    monthly_periods, yearly_periods,
};
use licnode_model::status::LicenceStatus;
use serde_json::{Map, Value};
use sqlx::{AssertSqlSafe, Row};

use crate::dialect::Dialect;
use crate::{Db, Store, StoreError};

/// What to list.
#[derive(Clone, Debug)]
pub struct DeadlineQuery {
    /// The day to judge on (the node's clock, China date).
    pub today: NaiveDate,
    /// The node's own code and level: who owes which reports.
    pub node_code: String,
    pub level: Level,
    /// Only this rule.
    pub rule: Option<&'static DeadlineRule>,
    /// Only due or only late items.
    pub state: Option<DeadlineState>,
    /// Only items of this province (a province code).
    pub province: Option<String>,
    /// Only the items this record carries (a record's page); report periods not received, which
    /// no record carries, are left out.
    pub record_id: Option<String>,
}

impl DeadlineQuery {
    /// Every rule, both states, every province, for the node `node_code` on `today`.
    pub fn new(today: NaiveDate, node_code: &str, level: Level) -> DeadlineQuery {
        DeadlineQuery {
            today,
            node_code: node_code.to_string(),
            level,
            rule: None,
            state: None,
            province: None,
            record_id: None,
        }
    }
}

/// The date of a projection's date field.
fn calendar_date(text: Option<&str>) -> Option<CalendarDate> {
    CalendarDate::parse(text?).ok()
}

fn calendar(date: NaiveDate) -> Option<CalendarDate> {
    CalendarDate::new(
        u16::try_from(date.year()).ok()?,
        u8::try_from(date.month()).ok()?,
        u8::try_from(date.day()).ok()?,
    )
}

/// The licence statuses that end a licence: a cancellation is applied once its licence has one.
fn terminal_statuses() -> String {
    LicenceStatus::ALL
        .iter()
        .filter(|status| status.is_terminal())
        .map(|status| format!("'{}'", status.as_str()))
        .collect::<Vec<_>>()
        .join(", ")
}

impl Store {
    /// The unfulfilled duties of this node as of `query.today`: late ones first (most late
    /// first), then due ones (soonest first).
    pub async fn deadlines(&self, query: &DeadlineQuery) -> Result<Vec<DeadlineItem>, StoreError> {
        let Some(today) = calendar(query.today) else {
            return Ok(Vec::new());
        };
        let mut items = Vec::new();
        for rule in RULES {
            if query.rule.is_some_and(|only| only.code != rule.code) {
                continue;
            }
            self.rule_items(rule, query, today, &mut items).await?;
        }
        items.retain(|item| {
            query.state.is_none_or(|state| item.state == state)
                && query
                    .province
                    .as_deref()
                    .is_none_or(|province| item.province == province)
        });
        items.sort_by(|left, right| {
            right
                .state
                .cmp(&left.state)
                .then(right.days_late.cmp(&left.days_late))
                .then(left.days_left.cmp(&right.days_left))
                .then(left.rule.cmp(right.rule))
                .then(left.jurisdiction.cmp(&right.jurisdiction))
                .then(left.subject.cmp(&right.subject))
        });
        Ok(items)
    }

    async fn rule_items(
        &self,
        rule: &'static DeadlineRule,
        query: &DeadlineQuery,
        today: CalendarDate,
        items: &mut Vec<DeadlineItem>,
    ) -> Result<(), StoreError> {
        let dialect = self.db.dialect();
        let mut push = |record_id: Option<String>,
                        jurisdiction: Option<String>,
                        subject: Option<String>,
                        started: CalendarDate,
                        limit: Limit| {
            if let Some(due_date) = due_after(started, limit) {
                items.push(DeadlineItem::new(
                    rule,
                    record_id,
                    jurisdiction.unwrap_or_default(),
                    subject.unwrap_or_default(),
                    started,
                    assess(due_date, today),
                ));
            }
        };
        match (rule.start, rule.fulfilment) {
            (ClockStart::Field(start), Fulfilment::FieldFilled(fulfilled)) => {
                let sql = field_filled_sql(rule, dialect, start, fulfilled);
                for row in self.rule_rows::<4>(sql, "r", query).await? {
                    let [id, jurisdiction, subject, start] = row;
                    if let Some(started) = calendar_date(start.as_deref()) {
                        push(id, jurisdiction, subject, started, rule.limit);
                    }
                }
            }
            (
                ClockStart::Field(start),
                Fulfilment::ReferencedBy {
                    collection,
                    field: by,
                },
            ) => {
                let sql = referenced_by_sql(rule, dialect, start, collection, by);
                for row in self.rule_rows::<4>(sql, "r", query).await? {
                    let [id, jurisdiction, subject, start] = row;
                    if let Some(started) = calendar_date(start.as_deref()) {
                        push(id, jurisdiction, subject, started, rule.limit);
                    }
                }
            }
            (ClockStart::Field(start), Fulfilment::ReferencedTerminal { reference }) => {
                let sql = referenced_terminal_sql(rule, dialect, start, reference);
                let national = rule.code == "national_cancellation";
                for row in self.rule_rows::<5>(sql, "e", query).await? {
                    let [id, jurisdiction, subject, start, level] = row;
                    if (level.as_deref() == Some("national")) != national {
                        continue;
                    }
                    if let Some(started) = calendar_date(start.as_deref()) {
                        push(id, jurisdiction, subject, started, rule.limit);
                    }
                }
            }
            (ClockStart::TableRow { table, field: date }, Fulfilment::ChangeApplied) => {
                let sql = table_row_sql(rule, dialect, table);
                for row in self.rule_rows::<4>(sql, "r", query).await? {
                    let [id, jurisdiction, subject, data] = row;
                    let Some(data) = data
                        .and_then(|text| serde_json::from_str::<Map<String, Value>>(&text).ok())
                    else {
                        continue;
                    };
                    for started in unapplied_changes(&data, table, date) {
                        push(
                            id.clone(),
                            jurisdiction.clone(),
                            subject.clone(),
                            started,
                            rule.limit,
                        );
                    }
                }
            }
            (ClockStart::Field(start), Fulfilment::FiledBy(filed)) => {
                self.filed_by_items(rule, start, filed, query, today, items)
                    .await?;
            }
            (ClockStart::Field(start), Fulfilment::Arrived) => {
                self.arrival_items(rule, start, query, today, items).await?;
            }
            (ClockStart::PeriodEnd, Fulfilment::ReportSubmitted { report_kind })
                if query.record_id.is_none() =>
            {
                self.report_items(rule, report_kind, query, today, items)
                    .await?;
            }
            _ => {}
        }
        Ok(())
    }

    /// Art. 21: the records whose filing (`filed`) is due before the date in `start`, listed
    /// while not filed and, when filed late, as late by the days it was.
    async fn filed_by_items(
        &self,
        rule: &'static DeadlineRule,
        start: &'static str,
        filed: &'static str,
        query: &DeadlineQuery,
        today: CalendarDate,
        items: &mut Vec<DeadlineItem>,
    ) -> Result<(), StoreError> {
        let sql = filed_by_sql(rule, self.db.dialect(), start, filed);
        for row in self.rule_rows::<5>(sql, "r", query).await? {
            let [id, jurisdiction, subject, start, filed] = row;
            let met_on = calendar_date(filed.as_deref());
            if let Some((started, assessment)) = met_assessment(rule, start, met_on, today) {
                items.push(DeadlineItem::new(
                    rule,
                    id,
                    jurisdiction.unwrap_or_default(),
                    subject.unwrap_or_default(),
                    started,
                    assessment,
                ));
            }
        }
        Ok(())
    }

    /// Art. 23: the results not yet arrived on time. At the inspection body that made them, those
    /// its parent has not acknowledged (the body cannot see further; the parent relays them to
    /// the organiser); at any other node, those that arrived here after their due date, as the
    /// node recorded their arrival (`record_arrivals`, migration 0017). A record stored before
    /// arrivals were recorded is not judged.
    async fn arrival_items(
        &self,
        rule: &'static DeadlineRule,
        start: &str,
        query: &DeadlineQuery,
        today: CalendarDate,
        items: &mut Vec<DeadlineItem>,
    ) -> Result<(), StoreError> {
        let dialect = self.db.dialect();
        let at_author = query.level == Level::InspectionBody;
        let sql = arrived_sql(rule, dialect, start, at_author);
        for row in self.rule_rows::<5>(sql, "r", query).await? {
            let [id, jurisdiction, subject, start, arrived_at_ms] = row;
            let met_on = if at_author {
                None
            } else {
                let Some(date) = arrived_at_ms
                    .and_then(|text| text.parse::<i64>().ok())
                    .and_then(china_date_of_ms)
                else {
                    continue;
                };
                Some(date)
            };
            if let Some((started, assessment)) = met_assessment(rule, start, met_on, today) {
                items.push(DeadlineItem::new(
                    rule,
                    id,
                    jurisdiction.unwrap_or_default(),
                    subject.unwrap_or_default(),
                    started,
                    assessment,
                ));
            }
        }
        Ok(())
    }

    /// The reports of `report_kind` owed to or by this node and not submitted (Art. 18–20).
    async fn report_items(
        &self,
        rule: &'static DeadlineRule,
        report_kind: &str,
        query: &DeadlineQuery,
        today: CalendarDate,
        items: &mut Vec<DeadlineItem>,
    ) -> Result<(), StoreError> {
        let reporters = self.reporters(query, report_kind).await?;
        if reporters.is_empty() {
            return Ok(());
        }
        let submitted = self.submitted_reports(report_kind).await?;
        let periods = match rule.limit {
            Limit::DayOfNextMonth(_) => monthly_periods(today),
            _ => yearly_periods(today),
        };
        for ReportPeriod {
            period,
            opens,
            due_date,
        } in periods
        {
            if today < opens {
                continue;
            }
            for reporter in &reporters {
                if !submitted.contains(&(reporter.clone(), period.clone())) {
                    items.push(DeadlineItem::new(
                        rule,
                        None,
                        reporter.clone(),
                        period.clone(),
                        opens,
                        assess(due_date, today),
                    ));
                }
            }
        }
        Ok(())
    }

    /// Who owes this node reports of `report_kind`: at the national node, every province it
    /// hears from (a child that pushes to it, or whose licences or reports it holds, Art. 18–20);
    /// a province owes its own; a bureau below a province its own yearly report, and a province
    /// or prefecture waits for the yearly reports of its child bureaus (Art. 20).
    async fn reporters(
        &self,
        query: &DeadlineQuery,
        report_kind: &str,
    ) -> Result<BTreeSet<String>, StoreError> {
        let mut reporters = BTreeSet::new();
        match query.level {
            Level::National => {
                let sql = format!(
                    "SELECT peer FROM sync_cursors WHERE stream = '{}' \
                     UNION SELECT DISTINCT jurisdiction FROM records WHERE collection = 'reports' \
                     UNION SELECT DISTINCT jurisdiction FROM records WHERE collection = 'licences'",
                    crate::SyncStream::Push.as_str()
                );
                for row in self.text_rows::<1>(sql).await? {
                    let [Some(code)] = row else {
                        continue;
                    };
                    if let Some(province) = licnode_model::divisions::province_of(&code) {
                        reporters.insert(province.code.clone());
                    }
                }
            }
            Level::Province => {
                reporters.insert(query.node_code.clone());
            }
            Level::Prefecture | Level::County if report_kind == "yearly" => {
                reporters.insert(query.node_code.clone());
            }
            _ => {}
        }
        // Art. 20: the bureaus below report their yearly supervision to their superior, so a
        // province or prefecture also waits for the yearly report of each child bureau that
        // pushes to it.
        if report_kind == "yearly" && matches!(query.level, Level::Province | Level::Prefecture) {
            let sql = format!(
                "SELECT peer FROM sync_cursors WHERE stream = '{}'",
                crate::SyncStream::Push.as_str()
            );
            for row in self.text_rows::<1>(sql).await? {
                let [Some(peer)] = row else { continue };
                if peer != query.node_code
                    && licnode_model::divisions::is_within(&peer, &query.node_code)
                {
                    reporters.insert(peer);
                }
            }
        }
        Ok(reporters)
    }

    /// (reporting division, period) of every submitted report of `report_kind`; a report counts
    /// for its jurisdiction and for the division it names as its reporter.
    async fn submitted_reports(
        &self,
        report_kind: &str,
    ) -> Result<HashSet<(String, String)>, StoreError> {
        let field = |name: &str| match self.backend() {
            crate::Backend::Sqlite => format!("json_extract(data, '$.{name}')"),
            crate::Backend::Postgres => format!("(data->>'{name}')"),
        };
        let sql = format!(
            "SELECT jurisdiction, {}, {} FROM records WHERE collection = 'reports' \
             AND {} = '{report_kind}' AND {} = 'submitted'",
            field("reporting_division"),
            field("period"),
            field("report_kind"),
            field("status"),
        );
        let mut submitted = HashSet::new();
        for row in self.text_rows::<3>(sql).await? {
            let [jurisdiction, division, period] = row;
            let Some(period) = period else { continue };
            for reporter in [jurisdiction, division].into_iter().flatten() {
                submitted.insert((reporter, period.clone()));
            }
        }
        Ok(submitted)
    }

    /// Runs a rule's `sql` whose record is aliased `alias`, only for `query.record_id` when it
    /// names one (bound, never spliced into the text).
    async fn rule_rows<const N: usize>(
        &self,
        sql: String,
        alias: &str,
        query: &DeadlineQuery,
    ) -> Result<Vec<[Option<String>; N]>, StoreError> {
        match &query.record_id {
            Some(id) => {
                self.text_rows_bound::<N>(format!("{sql} AND {alias}.id = $1"), Some(id))
                    .await
            }
            None => self.text_rows::<N>(sql).await,
        }
    }

    /// Runs `sql` (built from the rules' constants only, never from input) and reads the first
    /// `N` columns of every row as text.
    async fn text_rows<const N: usize>(
        &self,
        sql: String,
    ) -> Result<Vec<[Option<String>; N]>, StoreError> {
        self.text_rows_bound::<N>(sql, None).await
    }

    /// [`Store::text_rows`] with `$1` bound to `bound`, when given.
    async fn text_rows_bound<const N: usize>(
        &self,
        sql: String,
        bound: Option<&str>,
    ) -> Result<Vec<[Option<String>; N]>, StoreError> {
        fn columns<const N: usize, R: Row>(row: &R) -> Result<[Option<String>; N], sqlx::Error>
        where
            usize: sqlx::ColumnIndex<R>,
            for<'r> Option<String>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
        {
            let mut values = [const { None }; N];
            for (index, value) in values.iter_mut().enumerate() {
                *value = row.try_get::<Option<String>, _>(index)?;
            }
            Ok(values)
        }
        let rows = match &self.db {
            Db::Sqlite { reader, .. } => bound
                .into_iter()
                .fold(sqlx::query(AssertSqlSafe(sql)), |statement, value| {
                    statement.bind(value.to_string())
                })
                .fetch_all(reader)
                .await?
                .iter()
                .map(columns::<N, _>)
                .collect::<Result<_, _>>()?,
            Db::Postgres { pool } => bound
                .into_iter()
                .fold(sqlx::query(AssertSqlSafe(sql)), |statement, value| {
                    statement.bind(value.to_string())
                })
                .fetch_all(pool)
                .await?
                .iter()
                .map(columns::<N, _>)
                .collect::<Result<_, _>>()?,
        };
        Ok(rows)
    }
}

/// The filing dates of the change filings in `data[table]` not yet applied: per changed item
/// only the latest filing counts (an earlier one was overtaken by it); 其他 names no field and is
/// not checked.
fn unapplied_changes(data: &Map<String, Value>, table: &str, date: &str) -> Vec<CalendarDate> {
    let Some(rows) = data.get(table).and_then(Value::as_array) else {
        return Vec::new();
    };
    let mut latest: std::collections::BTreeMap<&'static str, (CalendarDate, &str)> =
        Default::default();
    for row in rows {
        let text = |name: &str| row.get(name).and_then(Value::as_str);
        let (Some(item), Some(filed), Some(after)) = (
            text("changed_item").and_then(inspection_body_field),
            calendar_date(text(date)),
            text("value_after"),
        ) else {
            continue;
        };
        if latest
            .get(item)
            .is_none_or(|(previous, _)| filed >= *previous)
        {
            latest.insert(item, (filed, after));
        }
    }
    latest
        .into_iter()
        .filter(|(field, (_, after))| {
            !change_is_applied(field, data.get(*field).and_then(Value::as_str), after)
        })
        .map(|(_, (filed, _))| filed)
        .collect()
}

/// The start of a duty met on `met_on` and where it stands on `today`, unless it was met in time.
fn met_assessment(
    rule: &DeadlineRule,
    start: Option<String>,
    met_on: Option<CalendarDate>,
    today: CalendarDate,
) -> Option<(CalendarDate, Assessment)> {
    let started = calendar_date(start.as_deref())?;
    let due_date = due_after(started, rule.limit)?;
    assess_met(due_date, met_on, today).map(|assessment| (started, assessment))
}

/// The China date (UTC+8) of a time in milliseconds since the epoch.
fn china_date_of_ms(at_ms: i64) -> Option<CalendarDate> {
    let china = chrono::FixedOffset::east_opt(8 * 3600)?;
    let date = chrono::DateTime::from_timestamp_millis(at_ms)?
        .with_timezone(&china)
        .date_naive();
    calendar(date)
}

/// Art. 21: a dated record whose date field `filed` is empty or not before the start (the
/// limit is counted back from the start, so a filing on the start day is already late).
fn filed_by_sql(rule: &DeadlineRule, dialect: Dialect, start: &str, filed: &str) -> String {
    let only = only_condition(rule, dialect, "r");
    let start = dialect.json_field("r", start);
    let filed = dialect.json_field("r", filed);
    format!(
        "SELECT r.id, r.jurisdiction, r.enterprise_name, {start}, {filed} FROM records r \
         WHERE r.collection = '{}'{only} AND {start} IS NOT NULL \
         AND ({filed} IS NULL OR {filed} = '' OR {filed} >= {start})",
        rule.collection
    )
}

/// Art. 23: at the author (`at_author`), the dated records whose first change the parent has
/// not acknowledged (the `acked` cursor); elsewhere the dated records with their arrival here.
fn arrived_sql(rule: &DeadlineRule, dialect: Dialect, start: &str, at_author: bool) -> String {
    let only = only_condition(rule, dialect, "r");
    let start = dialect.json_field("r", start);
    let condition = if at_author {
        format!(
            "NOT EXISTS (SELECT 1 FROM changes c JOIN sync_cursors s ON s.stream = '{}' \
             WHERE c.record_id = r.id AND c.seq <= s.seq)",
            crate::SyncStream::Acked.as_str()
        )
    } else {
        "a.arrived_at_ms IS NOT NULL".to_owned()
    };
    format!(
        "SELECT r.id, r.jurisdiction, r.enterprise_name, {start}, \
         CAST(a.arrived_at_ms AS TEXT) FROM records r \
         LEFT JOIN record_arrivals a ON a.record_id = r.id \
         WHERE r.collection = '{}'{only} AND {start} IS NOT NULL AND {condition}",
        rule.collection
    )
}

/// The rule's `only` condition on the record aliased `alias`, or nothing.
fn only_condition(rule: &DeadlineRule, dialect: Dialect, alias: &str) -> String {
    rule.only
        .map(|(name, value)| format!(" AND {} = '{value}'", dialect.json_field(alias, name)))
        .unwrap_or_default()
}

/// Art. 23, 30, 31: a date is set and the field that records the duty is not.
fn field_filled_sql(rule: &DeadlineRule, dialect: Dialect, start: &str, fulfilled: &str) -> String {
    let only = only_condition(rule, dialect, "r");
    let start = dialect.json_field("r", start);
    let fulfilled = dialect.json_field("r", fulfilled);
    format!(
        "SELECT r.id, r.jurisdiction, r.enterprise_name, {start} FROM records r \
         WHERE r.collection = '{}'{only} AND {start} IS NOT NULL \
         AND ({fulfilled} IS NULL OR {fulfilled} = '')",
        rule.collection
    )
}

/// Art. 27: an approved application (its approval date starts the clock) without a licence. The licence is looked up through the
/// enterprise's credit code (indexed): it fulfils when it names the application, or is for the
/// same product and approved no earlier than the application was made (the reference is
/// optional). SQLite is kept off the collection index for that lookup (`+c.collection`):
/// without statistics it would scan every licence for every application.
fn referenced_by_sql(
    rule: &DeadlineRule,
    dialect: Dialect,
    start: &str,
    collection: &str,
    by: &str,
) -> String {
    let only = only_condition(rule, dialect, "r");
    let field = |alias: &str, name: &str| dialect.json_field(alias, name);
    let collection_column = match dialect {
        Dialect::Sqlite => "+c.collection",
        Dialect::Postgres => "c.collection",
    };
    let start = field("r", start);
    format!(
        "SELECT r.id, r.jurisdiction, r.enterprise_name, {start} FROM records r \
         WHERE r.collection = '{}'{only} AND {start} IS NOT NULL \
         AND NOT EXISTS (SELECT 1 FROM records c WHERE c.credit_code = r.credit_code \
           AND {collection_column} = '{collection}' \
           AND ({} = r.id OR ({} = {} AND {} >= COALESCE({}, ''))))",
        rule.collection,
        field("c", by),
        field("c", "product_name"),
        field("r", "product_name"),
        field("c", "approval_date"),
        field("r", "application_date"),
    )
}

/// Art. 28: a recorded cancellation whose licence does not show it yet. The licence's issuing
/// level (the fifth column) picks the 5- or the 10-day rule.
fn referenced_terminal_sql(
    rule: &DeadlineRule,
    dialect: Dialect,
    start: &str,
    reference: &str,
) -> String {
    let only = only_condition(rule, dialect, "e");
    let start = dialect.json_field("e", start);
    let level = dialect.json_field("l", "issuing_level");
    let status = dialect.json_field("l", "status");
    format!(
        "SELECT e.id, e.jurisdiction, e.enterprise_name, {start}, {level} \
         FROM records e LEFT JOIN records l ON l.id = {} \
         WHERE e.collection = '{}'{only} AND {start} IS NOT NULL \
         AND (l.id IS NULL OR {status} IS NULL OR {status} NOT IN ({}))",
        dialect.json_field("e", reference),
        rule.collection,
        terminal_statuses(),
    )
}

/// Art. 26, 31: the records whose table `table` holds filings; the latest filing of each item
/// must show in the current details.
fn table_row_sql(rule: &DeadlineRule, dialect: Dialect, table: &str) -> String {
    let table_present = match dialect {
        Dialect::Sqlite => format!("json_extract(r.data, '$.{table}')"),
        Dialect::Postgres => format!("(r.data->'{table}')"),
    };
    format!(
        "SELECT r.id, r.jurisdiction, r.enterprise_name, {} FROM records r \
         WHERE r.collection = '{}' AND {table_present} IS NOT NULL",
        dialect.json_as_text("r.data"),
        rule.collection,
    )
}
