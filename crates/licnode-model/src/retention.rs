//! How long records are kept (Art. 37) and from when: one rule per collection, as data.
//!
//! Art. 37 keeps archives and databases five years; it does not say from when. A record's five
//! years start when the matter it documents is over: a licence from its expiry or cancellation,
//! an application's file from its closing, a report from the end of its period. Until then the
//! record is live and never due. Every rule also counts from no earlier than the record's last
//! change: a record still being edited is not an old archive, and a later correction restarts
//! the clock rather than shortening it. The length is configurable (`[retention] years`,
//! default [`crate::deadlines::RETENTION_YEARS`]); destruction itself needs the superior's
//! approval (Art. 38), which the store enforces.

use serde::Serialize;
use serde_json::{Map, Value};

use crate::date::CalendarDate;

/// Where a date the clock counts from is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DateSource {
    /// A date field.
    Field { field: &'static str },
    /// A date field of every row of a table field (the latest counts).
    TableField {
        table: &'static str,
        field: &'static str,
    },
    /// A report period written `YYYY-MM` (its month's last day) or `YYYY` (31 December).
    PeriodEnd { field: &'static str },
    /// An integer year field (31 December of that year).
    YearEnd { field: &'static str },
}

/// "The record's status is one of these."
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct StatusIs {
    pub field: &'static str,
    pub values: &'static [&'static str],
}

impl StatusIs {
    fn holds(&self, data: &Map<String, Value>) -> bool {
        data.get(self.field)
            .and_then(Value::as_str)
            .is_some_and(|value| self.values.contains(&value))
    }
}

/// When a collection's records start their retention period.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct RetentionRule {
    /// The collection's name.
    pub collection: &'static str,
    /// The clock starts at the latest of these dates (and never before the last change).
    pub from: &'static [DateSource],
    /// The matter is over only when this holds; an open record is never due.
    pub closed_when: Option<StatusIs>,
    /// The matter ended before its dates (a licence cancelled before it expired, a
    /// registration withdrawn): the clock starts at the last change instead of the dates.
    pub ended_early_when: Option<StatusIs>,
    /// Kept for good: never due (destruction approvals and their certificates prove what was
    /// destroyed; destroying them would erase that proof).
    pub kept: bool,
    /// Why, for people.
    pub note: &'static str,
}

/// The retention period in years the regulation sets (Art. 37).
pub const DEFAULT_YEARS: u32 = crate::deadlines::RETENTION_YEARS;

const fn field(field: &'static str) -> DateSource {
    DateSource::Field { field }
}

const fn rule(
    collection: &'static str,
    from: &'static [DateSource],
    closed_when: Option<StatusIs>,
    ended_early_when: Option<StatusIs>,
    note: &'static str,
) -> RetentionRule {
    RetentionRule {
        collection,
        from,
        closed_when,
        ended_early_when,
        kept: false,
        note,
    }
}

const fn status(field: &'static str, values: &'static [&'static str]) -> Option<StatusIs> {
    Some(StatusIs { field, values })
}

/// A licence that is no longer in force before its expiry (Art. 28).
const LICENCE_ENDED: &[&str] = &[
    "withdrawn",
    "revoked",
    "revoked_as_penalty",
    "cancelled",
    "expired",
];
/// A registration or filing that has ended (Art. 30, 31).
const REGISTRATION_ENDED: &[&str] = &["cancelled", "expired"];

static RULES: [RetentionRule; 18] = [
    rule(
        "applications",
        &[field("application_date"), field("acceptance_date")],
        status("stage", &["approved", "refused", "withdrawn_by_applicant"]),
        None,
        "Art. 6: the licence file closes with the decision (准予/不予许可) or the applicant's \
         withdrawal; kept five years from the last change of the closed file",
    ),
    rule(
        "review_plans",
        &[
            field("plan_date"),
            field("acceptance_date"),
            field("planned_review_date"),
        ],
        None,
        None,
        "Art. 7, 21: from the planned review",
    ),
    rule(
        "site_verifications",
        &[field("verification_date")],
        None,
        None,
        "Art. 8, 22: from the verification",
    ),
    rule(
        "inspections",
        &[
            field("sampling_date"),
            field("completion_date"),
            field("reported_date"),
        ],
        None,
        None,
        "Art. 9, 23: from the inspection's completion and report",
    ),
    rule(
        "refusals",
        &[field("refusal_date")],
        None,
        None,
        "Art. 10: from the refusal",
    ),
    rule(
        "licences",
        &[field("valid_until")],
        None,
        status("status", LICENCE_ENDED),
        "Art. 11, 28: from the licence's expiry, or from its withdrawal, revocation or \
         cancellation when earlier",
    ),
    rule(
        "licence_events",
        &[field("event_date"), field("valid_until")],
        None,
        None,
        "Art. 13, 28: from the event, and not before the licence it concerns expires",
    ),
    rule(
        "quality_archives",
        &[
            field("valid_until"),
            DateSource::TableField {
                table: "supervision_records",
                field: "supervision_date",
            },
        ],
        None,
        None,
        "Art. 12, 29: from the licence's expiry and the last supervision recorded",
    ),
    rule(
        "letters_visits",
        &[field("received_date"), field("reply_date")],
        status("handling_status", &["replied", "closed"]),
        None,
        "Art. 14: from the reply, once the letter or visit is answered",
    ),
    rule(
        "reviewers",
        &[field("registration_date"), field("valid_until")],
        None,
        status("status", REGISTRATION_ENDED),
        "Art. 15, 30: from the registration's expiry, or its cancellation when earlier",
    ),
    rule(
        "review_departments",
        &[field("filing_date")],
        status("status", REGISTRATION_ENDED),
        None,
        "Art. 16, 31: from the cancellation or expiry of the filing",
    ),
    rule(
        "inspection_bodies",
        &[
            field("filing_date"),
            DateSource::TableField {
                table: "change_filings",
                field: "filing_date",
            },
        ],
        status("status", REGISTRATION_ENDED),
        None,
        "Art. 17, 31: from the cancellation or expiry of the filing",
    ),
    rule(
        "notices",
        &[field("issue_date"), field("response_deadline")],
        status("status", &["handled"]),
        None,
        "Art. 24, 25: from the notice's handling",
    ),
    rule(
        "publications",
        &[field("publish_date"), field("effective_date")],
        status("status", &["repealed"]),
        None,
        "Art. 33, 34: from the repeal; what is in force is kept",
    ),
    rule(
        "supervision_reports",
        &[DateSource::YearEnd { field: "year" }, field("report_date")],
        status("status", &["submitted"]),
        None,
        "Art. 20: from the end of the reported year, once submitted",
    ),
    rule(
        "reports",
        &[
            DateSource::PeriodEnd { field: "period" },
            field("fill_date"),
        ],
        status("status", &["submitted"]),
        None,
        "Art. 18-20: from the end of the reported period, once submitted",
    ),
    RetentionRule {
        collection: "destructions",
        from: &[],
        closed_when: None,
        ended_early_when: None,
        kept: true,
        note: "Art. 38: the approvals of destructions are the proof of what was destroyed",
    },
    rule(
        "inspection_body_filings",
        &[field("filing_date"), field("opinion_date")],
        None,
        None,
        "Art. 26, 31: from the filing or the opinion on it",
    ),
];

/// Every collection's rule, in the model's order.
pub fn rules() -> &'static [RetentionRule] {
    &RULES
}

/// The rule of `collection`.
pub fn rule_of(collection: &str) -> Option<&'static RetentionRule> {
    RULES.iter().find(|rule| rule.collection == collection)
}

fn date_of(value: &Value) -> Option<CalendarDate> {
    value
        .as_str()
        .and_then(|text| CalendarDate::parse(text).ok())
}

fn last_day_of_month(year: u16, month: u8) -> Option<CalendarDate> {
    (28..=31)
        .rev()
        .find_map(|day| CalendarDate::new(year, month, day))
}

fn period_end(text: &str) -> Option<CalendarDate> {
    let text = text.trim();
    match text.split_once(['-', '/', '年']) {
        Some((year, month)) => {
            let month = month.trim_end_matches('月');
            last_day_of_month(year.parse().ok()?, month.parse().ok()?)
        }
        None => CalendarDate::new(text.trim_end_matches('年').parse().ok()?, 12, 31),
    }
}

impl DateSource {
    /// The dates this source finds in `data`.
    fn dates(&self, data: &Map<String, Value>) -> Vec<CalendarDate> {
        match *self {
            DateSource::Field { field } => data.get(field).and_then(date_of).into_iter().collect(),
            DateSource::TableField { table, field } => data
                .get(table)
                .and_then(Value::as_array)
                .map(|rows| {
                    rows.iter()
                        .filter_map(|row| row.get(field).and_then(date_of))
                        .collect()
                })
                .unwrap_or_default(),
            DateSource::PeriodEnd { field } => data
                .get(field)
                .and_then(Value::as_str)
                .and_then(period_end)
                .into_iter()
                .collect(),
            DateSource::YearEnd { field } => data
                .get(field)
                .and_then(Value::as_i64)
                .and_then(|year| u16::try_from(year).ok())
                .and_then(|year| CalendarDate::new(year, 12, 31))
                .into_iter()
                .collect(),
        }
    }
}

impl RetentionRule {
    /// The date a record's retention period starts: `None` while it is open (or kept for good).
    /// `last_change` is the (China) date of its last change.
    pub fn starts(
        &self,
        data: &Map<String, Value>,
        last_change: CalendarDate,
    ) -> Option<CalendarDate> {
        if self.kept {
            return None;
        }
        if let Some(closed) = &self.closed_when
            && !closed.holds(data)
        {
            return None;
        }
        if let Some(ended) = &self.ended_early_when
            && ended.holds(data)
        {
            return Some(last_change);
        }
        let latest = self.from.iter().flat_map(|source| source.dates(data)).max();
        Some(latest.map_or(last_change, |date| date.max(last_change)))
    }

    /// The first day a record may be destroyed: `years` after its period starts. `None` while
    /// it is open or kept for good.
    pub fn due_on(
        &self,
        data: &Map<String, Value>,
        last_change: CalendarDate,
        years: u32,
    ) -> Option<CalendarDate> {
        self.starts(data, last_change)
            .and_then(|start| add_years(start, years))
    }
}

/// `date` plus `years` calendar years. 29 February becomes 1 March when the target year has no
/// 29 February: never a day early.
pub fn add_years(date: CalendarDate, years: u32) -> Option<CalendarDate> {
    let year = u16::try_from(u32::from(date.year()) + years).ok()?;
    CalendarDate::new(year, date.month(), date.day())
        .or_else(|| CalendarDate::new(year, 3, 1).filter(|_| date.month() == 2))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::FieldType;
    use serde_json::json;

    fn date(text: &str) -> CalendarDate {
        CalendarDate::parse(text).unwrap()
    }

    fn data(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap()
    }

    #[test]
    fn every_collection_has_exactly_one_rule_in_the_model_order() {
        let names: Vec<_> = rules().iter().map(|rule| rule.collection).collect();
        let model: Vec<_> = crate::collections().iter().map(|c| c.name).collect();
        assert_eq!(names, model);
    }

    #[test]
    fn every_rule_names_real_date_fields_and_status_values() {
        for rule in rules() {
            let collection = crate::collection(rule.collection).unwrap();
            for source in rule.from {
                match *source {
                    DateSource::Field { field } => assert_eq!(
                        collection.field(field).map(|f| f.field_type),
                        Some(FieldType::Date),
                        "{}.{field}",
                        rule.collection
                    ),
                    DateSource::TableField { table, field } => {
                        let Some(FieldType::Table(rows)) =
                            collection.field(table).map(|f| f.field_type)
                        else {
                            panic!("{}.{table} is not a table", rule.collection)
                        };
                        assert!(
                            rows.iter()
                                .any(|f| f.name == field && f.field_type == FieldType::Date)
                        );
                    }
                    DateSource::PeriodEnd { field } | DateSource::YearEnd { field } => {
                        assert!(collection.field(field).is_some(), "{field}")
                    }
                }
            }
            for status in [rule.closed_when, rule.ended_early_when]
                .into_iter()
                .flatten()
            {
                let Some(FieldType::Enum(values)) =
                    collection.field(status.field).map(|f| f.field_type)
                else {
                    panic!("{}.{} is not an enumeration", rule.collection, status.field)
                };
                for value in status.values {
                    assert!(values.iter().any(|v| v.value == *value), "{value}");
                }
            }
            assert!(rule.kept || !rule.from.is_empty(), "{}", rule.collection);
        }
    }

    #[test]
    fn a_licence_counts_from_its_expiry_or_its_cancellation() {
        let rule = rule_of("licences").unwrap();
        let valid = data(json!({"valid_until": "2026-12-01", "status": "valid"}));
        let edited = date("2026-11-27");
        assert_eq!(rule.starts(&valid, edited), Some(date("2026-12-01")));
        assert_eq!(
            rule.due_on(&valid, edited, DEFAULT_YEARS),
            Some(date("2031-12-01"))
        );
        let cancelled = data(json!({"valid_until": "2029-12-01", "status": "cancelled"}));
        assert_eq!(rule.starts(&cancelled, edited), Some(edited));
    }

    #[test]
    fn an_open_file_is_never_due_and_a_late_edit_restarts_the_clock() {
        let rule = rule_of("applications").unwrap();
        let open = data(json!({"application_date": "2020-01-01", "stage": "accepted"}));
        assert_eq!(rule.starts(&open, date("2020-01-02")), None);
        let closed = data(json!({"application_date": "2020-01-01", "stage": "approved"}));
        assert_eq!(
            rule.starts(&closed, date("2021-06-30")),
            Some(date("2021-06-30"))
        );
    }

    #[test]
    fn reports_count_from_the_end_of_their_period() {
        let rule = rule_of("reports").unwrap();
        let monthly = data(json!({"period": "2026-02", "fill_date": "2026-02-03",
                                  "status": "submitted"}));
        assert_eq!(
            rule.starts(&monthly, date("2026-02-03")),
            Some(date("2026-02-28"))
        );
        let yearly = data(json!({"period": "2026", "fill_date": "2026-01-05",
                                 "status": "submitted"}));
        assert_eq!(
            rule.starts(&yearly, date("2026-01-05")),
            Some(date("2026-12-31"))
        );
        let draft = data(json!({"period": "2026", "status": "draft"}));
        assert_eq!(rule.starts(&draft, date("2026-01-05")), None);
    }

    #[test]
    fn table_dates_count_and_destruction_records_are_kept() {
        let rule = rule_of("quality_archives").unwrap();
        let archive = data(json!({"valid_until": "2026-01-01", "supervision_records": [
            {"supervision_date": "2027-03-04"}, {"supervision_date": "2026-05-06"}]}));
        assert_eq!(
            rule.starts(&archive, date("2025-01-01")),
            Some(date("2027-03-04"))
        );
        let kept = rule_of("destructions").unwrap();
        assert_eq!(kept.starts(&Map::new(), date("2000-01-01")), None);
    }

    #[test]
    fn five_years_from_29_february_is_1_march() {
        assert_eq!(add_years(date("2024-02-29"), 5), Some(date("2029-03-01")));
        assert_eq!(add_years(date("2024-02-29"), 4), Some(date("2028-02-29")));
        assert_eq!(add_years(date("2026-12-01"), 5), Some(date("2031-12-01")));
    }
}
