//! Views over the reports and deadlines services for the web application's pages: the reports
//! matrix of the national view (who below reported which recent month and year, when, how
//! late; Art. 18–20) and the statutory time limits one record is part of (Art. 18–20, 23, 27,
//! 28, 30, 31).

use chrono::NaiveDate;
use licnode_model::deadlines::{ClockStart, DeadlineItem, DeadlineRule, RULES};
use licnode_reports::{Period, ReportKind};
use licnode_store::{StoreError, StoredRecord};
use serde::Serialize;
use serde_json::Value;

use crate::clock::Clock;
use crate::records::Archive;
use crate::reports::{ReportError, ReporterStatus, Reports};

/// One reporter's standing for one period.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum ReportStanding {
    /// Submitted on `date`, `days_late` days after the due date (0 when on time).
    Submitted { date: String, days_late: i64 },
    /// Nothing submitted and the due date has passed.
    Missing {
        days_late: i64,
        /// A draft is held (run, not submitted).
        draft: bool,
    },
    /// Nothing submitted yet, and not due yet.
    NotDue { draft: bool },
}

/// One period's column.
#[derive(Clone, Debug, Serialize)]
pub struct MatrixPeriod {
    pub period: String,
    pub due_date: String,
    /// Sums of the submitted reports' counts (applicants, granted, refused, changed,
    /// terminated).
    pub totals: [i64; 5],
    pub submitted: usize,
    pub missing: usize,
}

/// One expected reporter's row.
#[derive(Clone, Debug, Serialize)]
pub struct MatrixRow {
    pub division: String,
    pub name: String,
    /// One per period, in the order of [`ReportMatrix::periods`].
    pub cells: Vec<ReportStanding>,
}

/// Who below reported the recent periods of one kind.
#[derive(Clone, Debug, Serialize)]
pub struct ReportMatrix {
    pub kind: ReportKind,
    /// Newest first.
    pub periods: Vec<MatrixPeriod>,
    pub rows: Vec<MatrixRow>,
}

/// The China date an RFC 3339 time was on, as the reports service writes `submitted_at`.
fn date_of(time: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(time.get(..10)?, "%Y-%m-%d").ok()
}

/// A reporter's standing on `today`, against the period's statutory due date.
pub fn standing(reporter: &ReporterStatus, period: &Period, today: NaiveDate) -> ReportStanding {
    let submitted = reporter.status.as_deref() == Some("submitted");
    let draft = reporter.status.is_some() && !submitted;
    if submitted {
        let date = reporter.submitted_at.as_deref().and_then(date_of);
        return ReportStanding::Submitted {
            date: date.map(|date| date.to_string()).unwrap_or_default(),
            days_late: date.map_or(0, |date| period.days_late(date)),
        };
    }
    if today > period.due_date() {
        ReportStanding::Missing {
            days_late: period.days_late(today),
            draft,
        }
    } else {
        ReportStanding::NotDue { draft }
    }
}

/// The `count` most recent periods of `kind` that have ended by `today`, newest first.
pub fn recent_periods(kind: ReportKind, today: NaiveDate, count: usize) -> Vec<Period> {
    let mut period = Period::due_on(kind, today);
    let mut periods = Vec::with_capacity(count);
    for _ in 0..count {
        periods.push(period);
        period = match period {
            Period::Month { year, month: 1 } => Period::Month {
                year: year - 1,
                month: 12,
            },
            Period::Month { year, month } => Period::Month {
                year,
                month: month - 1,
            },
            Period::Year(year) => Period::Year(year - 1),
        };
    }
    periods
}

impl Reports {
    /// Who below reported each of the `count` most recent periods of `kind` (Art. 18–20): one
    /// summary per period (an indexed query each), each cell judged against the period's due
    /// date.
    pub async fn matrix(
        &self,
        kind: ReportKind,
        count: usize,
    ) -> Result<ReportMatrix, ReportError> {
        let today = self.clock.today();
        let expected = self.expected_reporters(kind);
        let mut rows: Vec<MatrixRow> = expected
            .into_iter()
            .map(|(division, name)| MatrixRow {
                division,
                name,
                cells: Vec::with_capacity(count),
            })
            .collect();
        let mut periods = Vec::with_capacity(count);
        for period in recent_periods(kind, today, count) {
            let summary = self.summary(&period).await?;
            let mut submitted = 0;
            for (row, reporter) in rows.iter_mut().zip(&summary.reporters) {
                let cell = standing(reporter, &period, today);
                if matches!(cell, ReportStanding::Submitted { .. }) {
                    submitted += 1;
                }
                row.cells.push(cell);
            }
            periods.push(MatrixPeriod {
                period: summary.period,
                due_date: summary.due_date,
                totals: summary.totals,
                submitted,
                missing: summary.missing.len(),
            });
        }
        Ok(ReportMatrix {
            kind,
            periods,
            rows,
        })
    }
}

/// One statutory time limit a record is part of, and its open items (none when fulfilled or
/// not started).
#[derive(Clone, Debug)]
pub struct RecordDeadline {
    pub rule: &'static DeadlineRule,
    pub open: Vec<DeadlineItem>,
}

fn text<'a>(record: &'a StoredRecord, field: &str) -> &'a str {
    record.data.get(field).and_then(Value::as_str).unwrap_or("")
}

impl Archive {
    /// The statutory time limits `record` is part of — the rules of its collection whose
    /// condition it meets — each with its open items as of `clock`'s today: the record's own
    /// (one indexed query per rule), or for a report, its period's.
    pub async fn record_deadlines(
        &self,
        clock: &dyn Clock,
        record: &StoredRecord,
    ) -> Result<Vec<RecordDeadline>, StoreError> {
        let mut deadlines = Vec::new();
        for rule in RULES {
            let applies = rule.collection == record.collection
                && rule
                    .only
                    .is_none_or(|(field, value)| text(record, field) == value);
            if !applies {
                continue;
            }
            let mut query = self.deadline_query(clock);
            query.rule = Some(rule);
            let open = if matches!(rule.start, ClockStart::PeriodEnd) {
                let reporter = match text(record, "reporting_division") {
                    "" => record.jurisdiction.as_str(),
                    division => division,
                };
                let period = text(record, "period");
                self.deadlines(&query)
                    .await?
                    .into_iter()
                    .filter(|item| item.jurisdiction == reporter && item.subject == period)
                    .collect()
            } else {
                query.record_id = Some(record.id.clone());
                self.deadlines(&query).await?
            };
            deadlines.push(RecordDeadline { rule, open });
        }
        // Rules that share a condition and differ by who issued the licence (Art. 28: 5 days
        // for a national licence, 10 for a provincial one): once one of them runs, the other
        // does not concern the record.
        let running: Vec<(&str, Option<(&str, &str)>)> = deadlines
            .iter()
            .filter(|deadline| !deadline.open.is_empty())
            .map(|deadline| (deadline.rule.collection, deadline.rule.only))
            .collect();
        deadlines.retain(|deadline| {
            !deadline.open.is_empty()
                || !running.contains(&(deadline.rule.collection, deadline.rule.only))
        });
        Ok(deadlines)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reporter(status: Option<&str>, submitted_at: Option<&str>) -> ReporterStatus {
        ReporterStatus {
            division: "330000".into(),
            name: "浙江省".into(),
            report_id: None,
            revision: None,
            status: status.map(str::to_string),
            submitted_at: submitted_at.map(str::to_string),
            counts: None,
            days_late: 0,
        }
    }

    fn day(year: i32, month: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(year, month, day).expect("date")
    }

    #[test]
    fn a_report_submitted_after_the_tenth_is_late_by_the_days_past_it() {
        // Art. 19: the monthly report is due early the next month (the 10th).
        let october = Period::Month {
            year: 2026,
            month: 10,
        };
        let on_time = reporter(Some("submitted"), Some("2026-11-09T10:00:00+08:00"));
        assert_eq!(
            standing(&on_time, &october, day(2026, 12, 1)),
            ReportStanding::Submitted {
                date: "2026-11-09".into(),
                days_late: 0
            }
        );
        let late = reporter(Some("submitted"), Some("2026-11-14T10:00:00+08:00"));
        assert_eq!(
            standing(&late, &october, day(2026, 12, 1)),
            ReportStanding::Submitted {
                date: "2026-11-14".into(),
                days_late: 4
            }
        );
        assert_eq!(
            standing(&reporter(Some("draft"), None), &october, day(2026, 11, 13)),
            ReportStanding::Missing {
                days_late: 3,
                draft: true
            }
        );
        assert_eq!(
            standing(&reporter(None, None), &october, day(2026, 11, 5)),
            ReportStanding::NotDue { draft: false }
        );
    }

    #[test]
    fn recent_periods_go_back_across_the_new_year() {
        let months = recent_periods(ReportKind::Monthly, day(2026, 2, 15), 3);
        let names: Vec<String> = months.iter().map(Period::to_string).collect();
        assert_eq!(names, ["2026-01", "2025-12", "2025-11"]);
        let years = recent_periods(ReportKind::Yearly, day(2026, 2, 15), 2);
        let names: Vec<String> = years.iter().map(Period::to_string).collect();
        assert_eq!(names, ["2026", "2025"]);
    }
}
