//! Report kinds and periods: a calendar month (Art. 18, 19: "每月初 … 上月") or a year
//! (Art. 20: "每年10月 … 本年度"), their first and last days and when they are due.

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

/// Monthly (Art. 18, 19) or yearly (Art. 20).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportKind {
    Monthly,
    Yearly,
}

impl ReportKind {
    /// The value stored in `reports.report_kind`.
    pub fn as_str(self) -> &'static str {
        match self {
            ReportKind::Monthly => "monthly",
            ReportKind::Yearly => "yearly",
        }
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            ReportKind::Monthly => "月报",
            ReportKind::Yearly => "年报",
        }
    }

    /// `monthly` / `yearly` (or the Chinese labels).
    pub fn parse(text: &str) -> Result<ReportKind, PeriodError> {
        match text.trim() {
            "monthly" | "月报" => Ok(ReportKind::Monthly),
            "yearly" | "年报" => Ok(ReportKind::Yearly),
            other => Err(PeriodError::UnknownKind(other.to_string())),
        }
    }
}

/// Refusals of a kind or period, each with a stable machine code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PeriodError {
    #[error("unknown report kind {0:?} (expected monthly or yearly)")]
    UnknownKind(String),
    #[error("{0:?} is not a period (YYYY-MM for a monthly report, YYYY for a yearly one)")]
    Malformed(String),
}

impl PeriodError {
    pub fn code(&self) -> &'static str {
        match self {
            PeriodError::UnknownKind(_) => "unknown_report_kind",
            PeriodError::Malformed(_) => "invalid_period",
        }
    }
}

/// The days a report covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Period {
    Month { year: i32, month: u32 },
    Year(i32),
}

/// Art. 19 says "每月初" (early in the month) without a day; the report counts as late after
/// this day of the following month.
pub const MONTHLY_DUE_DAY: u32 = 10;

impl Period {
    /// `2026-10` for a monthly period, `2026` for a yearly one.
    pub fn parse(kind: ReportKind, text: &str) -> Result<Period, PeriodError> {
        let malformed = || PeriodError::Malformed(text.to_string());
        let text = text.trim();
        let digits = |part: &str, len: usize| {
            (part.len() == len && part.bytes().all(|b| b.is_ascii_digit()))
                .then(|| part.parse::<i32>().ok())
                .flatten()
        };
        let period = match kind {
            ReportKind::Monthly => {
                let (year, month) = text.split_once('-').ok_or_else(malformed)?;
                let year = digits(year, 4).ok_or_else(malformed)?;
                let month = digits(month, 2).ok_or_else(malformed)?;
                if !(1..=12).contains(&month) {
                    return Err(malformed());
                }
                Period::Month {
                    year,
                    month: month as u32,
                }
            }
            ReportKind::Yearly => Period::Year(digits(text, 4).ok_or_else(malformed)?),
        };
        if !(1900..=2999).contains(&period.year()) {
            return Err(malformed());
        }
        Ok(period)
    }

    pub fn kind(&self) -> ReportKind {
        match self {
            Period::Month { .. } => ReportKind::Monthly,
            Period::Year(_) => ReportKind::Yearly,
        }
    }

    pub fn year(&self) -> i32 {
        match *self {
            Period::Month { year, .. } | Period::Year(year) => year,
        }
    }

    /// The month before the one `today` is in: what a monthly run on `today` reports (Art. 18,
    /// 19: "每月初 … 上月").
    pub fn month_before(today: NaiveDate) -> Period {
        let (year, month) = if today.month() == 1 {
            (today.year() - 1, 12)
        } else {
            (today.year(), today.month() - 1)
        };
        Period::Month { year, month }
    }

    /// The year `today` is in: a yearly report covers the current year (Art. 20: "每年10月就
    /// 本年度").
    pub fn year_of(today: NaiveDate) -> Period {
        Period::Year(today.year())
    }

    /// The period of `kind` that a run on `today` reports.
    pub fn due_on(kind: ReportKind, today: NaiveDate) -> Period {
        match kind {
            ReportKind::Monthly => Period::month_before(today),
            ReportKind::Yearly => Period::year_of(today),
        }
    }

    pub fn first_day(&self) -> NaiveDate {
        match *self {
            Period::Month { year, month } => ymd(year, month, 1),
            Period::Year(year) => ymd(year, 1, 1),
        }
    }

    pub fn last_day(&self) -> NaiveDate {
        match *self {
            Period::Month { year, month } => {
                let next = if month == 12 {
                    ymd(year + 1, 1, 1)
                } else {
                    ymd(year, month + 1, 1)
                };
                next.pred_opt().unwrap_or(next)
            }
            Period::Year(year) => ymd(year, 12, 31),
        }
    }

    /// The last day the report is on time: the 10th of the following month for a monthly
    /// report ([`MONTHLY_DUE_DAY`]); 31 October of the year for a yearly one (Art. 20).
    pub fn due_date(&self) -> NaiveDate {
        match *self {
            Period::Month { .. } => {
                let next = self.last_day().succ_opt().unwrap_or(self.last_day());
                ymd(next.year(), next.month(), MONTHLY_DUE_DAY)
            }
            Period::Year(year) => ymd(year, 10, 31),
        }
    }

    /// Days past the due date on `today` (0 when not late).
    pub fn days_late(&self, today: NaiveDate) -> i64 {
        (today - self.due_date()).num_days().max(0)
    }

    /// The period after this one.
    pub fn next(&self) -> Period {
        match *self {
            Period::Month { year: y, month: 12 } => Period::Month {
                year: y + 1,
                month: 1,
            },
            Period::Month { year, month } => Period::Month {
                year,
                month: month + 1,
            },
            Period::Year(year) => Period::Year(year + 1),
        }
    }
}

impl std::fmt::Display for Period {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Period::Month { year, month } => write!(f, "{year:04}-{month:02}"),
            Period::Year(year) => write!(f, "{year:04}"),
        }
    }
}

fn ymd(year: i32, month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, month, day).unwrap_or(NaiveDate::MIN)
}

/// `2026年11月2日`, as the forms' 填报日期 is written.
pub fn date_zh(date: NaiveDate) -> String {
    format!("{}年{}月{}日", date.year(), date.month(), date.day())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn a_monthly_run_reports_the_month_before_across_the_new_year() {
        assert_eq!(
            Period::month_before(day(2027, 1, 1)),
            Period::Month {
                year: 2026,
                month: 12
            }
        );
        assert_eq!(
            Period::month_before(day(2026, 11, 30)).to_string(),
            "2026-10"
        );
    }

    #[test]
    fn periods_parse_print_and_bound_their_days() {
        let february = Period::parse(ReportKind::Monthly, "2028-02").unwrap();
        assert_eq!(february.to_string(), "2028-02");
        assert_eq!(february.first_day(), day(2028, 2, 1));
        assert_eq!(february.last_day(), day(2028, 2, 29));
        assert_eq!(february.due_date(), day(2028, 3, 10));
        assert_eq!(february.days_late(day(2028, 3, 10)), 0);
        assert_eq!(february.days_late(day(2028, 3, 13)), 3);
        let year = Period::parse(ReportKind::Yearly, "2026").unwrap();
        assert_eq!(year.last_day(), day(2026, 12, 31));
        assert_eq!(year.due_date(), day(2026, 10, 31));
        for bad in ["2026", "2026-13", "2026-1", "26-01", "2026-00", "x"] {
            let error = Period::parse(ReportKind::Monthly, bad).unwrap_err();
            assert_eq!(error.code(), "invalid_period", "{bad}");
        }
        assert!(Period::parse(ReportKind::Yearly, "2026-01").is_err());
        assert_eq!(
            ReportKind::parse("weekly").unwrap_err().code(),
            "unknown_report_kind"
        );
    }

    #[test]
    fn the_period_after_december_is_january() {
        let december = Period::Month {
            year: 2026,
            month: 12,
        };
        assert_eq!(december.next().to_string(), "2027-01");
        assert_eq!(date_zh(day(2026, 11, 2)), "2026年11月2日");
    }
}
