//! The time limits the regulation sets, as data: for each duty, which collection holds it, which
//! date starts the clock, what fulfils it and how long it may take; and the pure date arithmetic
//! that says what is due and what is late on a given day.
//!
//! How days are counted: every limit in the regulation is written "N日内" (Art. 23, 27, 28, 30,
//! 31), in 日 (days), never 工作日 (working days), so limits here are calendar days. As usual in
//! Chinese law the day of the event itself is not counted: a result finished on 1 May with a
//! 5-day limit is due by the end of 6 May, and late from 7 May. The monthly reports are due "于每
//! 月初" (Art. 18, 19), early in the month, without a number; we read 月初 as the first ten days
//! of the month (上旬): the report of a month is due by the 10th of the next month
//! ([`MONTHLY_REPORT_DUE_DAY`]). The yearly report is due "每年10月" (Art. 20): by 31 October of
//! the year it is about.

use serde::Serialize;

use crate::date::CalendarDate;

/// Art. 23: an inspection body reports product-inspection results within 5 days of finishing.
pub const INSPECTION_RESULT_REPORT_DAYS: u32 = 5;
/// Art. 27: a licence is added to the licensed-enterprise database within 10 days of approval
/// (or of receiving the provincial data).
pub const LICENCE_DATABASE_UPDATE_DAYS: u32 = 10;
/// Art. 28: the national centre records a national cancellation within 5 days.
pub const NATIONAL_CANCELLATION_UPDATE_DAYS: u32 = 5;
/// Art. 28: provincial cancellations are recorded within 10 days (by the province, or by the
/// national centre from receiving them).
pub const PROVINCIAL_CANCELLATION_UPDATE_DAYS: u32 = 10;
/// Art. 30: an approved reviewer is registered within 5 days.
pub const REVIEWER_REGISTRATION_DAYS: u32 = 5;
/// Art. 31: review-department and inspection-body filings are applied within 5 days.
pub const FILING_UPDATE_DAYS: u32 = 5;
/// Art. 20: provinces report post-licence supervision to the national level every October.
pub const YEARLY_SUPERVISION_REPORT_MONTH: u32 = 10;
/// Art. 37: archives and databases are kept 5 years.
pub const RETENTION_YEARS: u32 = 5;
/// Art. 18, 19: "于每月初", read as the first ten days of the month: last month's report is due
/// by the 10th.
pub const MONTHLY_REPORT_DUE_DAY: u32 = 10;
/// How many past monthly periods the report rules look at (older gaps are for the archive, not
/// the clock).
pub const REPORT_LOOKBACK_MONTHS: u32 = 12;
/// How many yearly periods (this one included, once October has begun) the yearly rule looks at.
pub const REPORT_LOOKBACK_YEARS: u32 = 2;

/// What starts a rule's clock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClockStart {
    /// A date field of the record.
    Field(&'static str),
    /// A date column of each row of a table field (one clock per row).
    TableRow {
        table: &'static str,
        field: &'static str,
    },
    /// The end of the report period.
    PeriodEnd,
}

/// What fulfils a rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fulfilment {
    /// A field of the same record is filled in.
    FieldFilled(&'static str),
    /// A record of `collection` refers to this one through `field`.
    ReferencedBy {
        collection: &'static str,
        field: &'static str,
    },
    /// The record this one refers to through `reference` has reached a terminal licence status
    /// (a terminal licence cannot change status any more, Art. 28; ARCHITECTURE.md, principle 2).
    ReferencedTerminal { reference: &'static str },
    /// The record's current value of the changed item equals the row's value after the change
    /// (Attachment 3).
    ChangeApplied,
    /// A submitted report of the kind and period from the reporting division.
    ReportSubmitted { report_kind: &'static str },
    /// A date field of the record on or before the due date (a later one: met late).
    FiledBy(&'static str),
    /// The record's arrival at the node that judges it, as that node recorded it on receipt;
    /// at the inspection body that made it, its parent's acknowledgement (Art. 23).
    Arrived,
}

/// How the due date follows from the start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Limit {
    /// Calendar days after the start, the start day not counted.
    Days(u32),
    /// Calendar days before the start ("前": the day before, for 1).
    DaysBefore(u32),
    /// This day of the month after the period (monthly reports).
    DayOfNextMonth(u32),
    /// The last day of this month of the period's year (yearly reports).
    EndOfMonth(u32),
}

/// One statutory limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeadlineRule {
    /// Stable machine name, used in the API and the metrics.
    pub code: &'static str,
    /// The articles that set it.
    pub articles: &'static [u32],
    /// What the duty is, in Chinese.
    pub label_zh: &'static str,
    /// The collection whose records carry the duty.
    pub collection: &'static str,
    /// Only records whose field has this value.
    pub only: Option<(&'static str, &'static str)>,
    pub start: ClockStart,
    pub fulfilment: Fulfilment,
    pub limit: Limit,
}

/// Every rule, in the order of the articles.
pub const RULES: &[DeadlineRule] = &[
    // Art. 21: 审查部在实施审查前向全国许可证审查中心备案核查计划: filed at the latest the day
    // before the (first) planned review; a plan filed later is late by as many days.
    DeadlineRule {
        code: "review_plan_filing",
        articles: &[21],
        label_zh: "审查前备案核查计划",
        collection: "review_plans",
        only: None,
        start: ClockStart::Field("planned_review_date"),
        fulfilment: Fulfilment::FiledBy("filing_date"),
        limit: Limit::DaysBefore(1),
    },
    // Art. 23: 检验机构在完成产品检验后5日内向审查组织单位报送产品检验信息. Met by the result's
    // arrival, which the receiving node records itself (never a typed date); the body sees it
    // met once its parent, which relays it to the organiser, has acknowledged it.
    DeadlineRule {
        code: "inspection_result",
        articles: &[23],
        label_zh: "产品检验信息报送审查组织单位",
        collection: "inspections",
        only: None,
        start: ClockStart::Field("completion_date"),
        fulfilment: Fulfilment::Arrived,
        limit: Limit::Days(INSPECTION_RESULT_REPORT_DAYS),
    },
    // Art. 27: 申请企业获批准10日内更新获证企业数据库. The clock runs from the application's
    // approval date (批准日期, written with the stage 准予许可), so later edits of the file do
    // not restart it. An approved application waits for its licence record: one of the same
    // enterprise (credit code) that names it, or, as the reference is optional, is for the same
    // product and approved no earlier than the application was made. The national centre's
    // duty for provincial licences ("收到…后10日内") is met on arrival, since replication stores
    // what it receives.
    DeadlineRule {
        code: "licence_entry",
        articles: &[27],
        label_zh: "获批准企业录入获证企业数据库",
        collection: "applications",
        only: Some(("stage", "approved")),
        start: ClockStart::Field("approval_date"),
        fulfilment: Fulfilment::ReferencedBy {
            collection: "licences",
            field: "application",
        },
        limit: Limit::Days(LICENCE_DATABASE_UPDATE_DAYS),
    },
    // Art. 28: 国家发证获证企业许可证被注销5日内更新国家注销企业数据库. A recorded cancellation
    // (注销, dated `event_date`) is applied once the licence itself shows it. At the national
    // node the clock of a provincial cancellation also starts on its date, not on receipt (no
    // receipt date is kept): stricter than the article by the replication delay.
    DeadlineRule {
        code: "national_cancellation",
        articles: &[28],
        label_zh: "国家发证注销更新注销企业数据库",
        collection: "licence_events",
        only: Some(("event_kind", "cancellation")),
        start: ClockStart::Field("event_date"),
        fulfilment: Fulfilment::ReferencedTerminal {
            reference: "licence",
        },
        limit: Limit::Days(NATIONAL_CANCELLATION_UPDATE_DAYS),
    },
    // Art. 28: 省级发证获证企业被注销10日内更新省级发证注销企业数据库 (a licence not held here,
    // whose issuing level is unknown, gets the longer limit).
    DeadlineRule {
        code: "provincial_cancellation",
        articles: &[28],
        label_zh: "省级发证注销更新注销企业数据库",
        collection: "licence_events",
        only: Some(("event_kind", "cancellation")),
        start: ClockStart::Field("event_date"),
        fulfilment: Fulfilment::ReferencedTerminal {
            reference: "licence",
        },
        limit: Limit::Days(PROVINCIAL_CANCELLATION_UPDATE_DAYS),
    },
    // Art. 30: 核查人员资质被批准后5日内更新数据库. The clock runs from the qualification's
    // approval (资质批准日期) and is met by the registration itself (注册编号), whatever the
    // record's status says.
    DeadlineRule {
        code: "reviewer_registration",
        articles: &[30],
        label_zh: "审查员资质批准后更新审查员数据库",
        collection: "reviewers",
        only: None,
        start: ClockStart::Field("approval_date"),
        fulfilment: Fulfilment::FieldFilled("registration_number"),
        limit: Limit::Days(REVIEWER_REGISTRATION_DAYS),
    },
    // Art. 31: 审查部…备案信息变更后5日内更新数据库.
    DeadlineRule {
        code: "review_department_filing",
        articles: &[31],
        label_zh: "审查部备案后更新数据库",
        collection: "review_departments",
        only: None,
        // Met by the registration of the filing (备案编号), not by any value in status.
        start: ClockStart::Field("filing_date"),
        fulfilment: Fulfilment::FieldFilled("filing_number"),
        limit: Limit::Days(FILING_UPDATE_DAYS),
    },
    // Art. 31: …检验机构备案信息变更后5日内更新数据库.
    DeadlineRule {
        code: "inspection_body_filing",
        articles: &[31],
        label_zh: "检验机构备案后更新数据库",
        collection: "inspection_bodies",
        only: None,
        // Met by the registration of the filing (备案编号), not by any value in status.
        start: ClockStart::Field("filing_date"),
        fulfilment: Fulfilment::FieldFilled("filing_number"),
        limit: Limit::Days(FILING_UPDATE_DAYS),
    },
    // Art. 26, 31: a change filing (Attachment 3) is applied to the body's current details
    // within 5 days of the filing.
    DeadlineRule {
        code: "inspection_body_change",
        articles: &[26, 31],
        label_zh: "检验机构信息变更备案后更新数据库",
        collection: "inspection_bodies",
        only: None,
        start: ClockStart::TableRow {
            table: "change_filings",
            field: "filing_date",
        },
        fulfilment: Fulfilment::ChangeApplied,
        limit: Limit::Days(FILING_UPDATE_DAYS),
    },
    // Art. 18, 19: 每月初报送上月… (Attachment 1).
    DeadlineRule {
        code: "monthly_report",
        articles: &[18, 19],
        label_zh: "省级发证工作信息月报",
        collection: "reports",
        only: Some(("report_kind", "monthly")),
        start: ClockStart::PeriodEnd,
        fulfilment: Fulfilment::ReportSubmitted {
            report_kind: "monthly",
        },
        limit: Limit::DayOfNextMonth(MONTHLY_REPORT_DUE_DAY),
    },
    // Art. 20: 每年10月就本年度获证企业后续监管工作情况报告.
    DeadlineRule {
        code: "yearly_report",
        articles: &[20],
        label_zh: "获证企业后续监管年度报告",
        collection: "reports",
        only: Some(("report_kind", "yearly")),
        start: ClockStart::PeriodEnd,
        fulfilment: Fulfilment::ReportSubmitted {
            report_kind: "yearly",
        },
        limit: Limit::EndOfMonth(YEARLY_SUPERVISION_REPORT_MONTH),
    },
];

/// The rule with this code.
pub fn rule(code: &str) -> Option<&'static DeadlineRule> {
    RULES.iter().find(|rule| rule.code == code)
}

/// Whether an item is still within its limit or past it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeadlineState {
    /// Not fulfilled, due date not passed (today may be the due date).
    Due,
    /// Not fulfilled and the due date has passed.
    Late,
}

impl DeadlineState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Due => "due",
            Self::Late => "late",
        }
    }

    /// `due` or `late`.
    pub fn parse(text: &str) -> Option<DeadlineState> {
        match text {
            "due" => Some(Self::Due),
            "late" => Some(Self::Late),
            _ => None,
        }
    }
}

/// Where an unfulfilled item stands on a day.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Assessment {
    pub due_date: CalendarDate,
    pub state: DeadlineState,
    /// Days past the due date (0 while due).
    pub days_late: i64,
    /// Days until the due date (0 on the due date and when late).
    pub days_left: i64,
}

/// The date `days` calendar days after `date`.
pub fn add_days(date: CalendarDate, days: i64) -> Option<CalendarDate> {
    from_day_number(date.day_number() + days)
}

/// The date of a day number (days since 1970-01-01), if within the accepted years.
pub fn from_day_number(day_number: i64) -> Option<CalendarDate> {
    // Howard Hinnant's civil_from_days, the inverse of `CalendarDate::day_number`.
    let z = day_number + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    CalendarDate::new(
        u16::try_from(year).ok()?,
        u8::try_from(month).ok()?,
        u8::try_from(day).ok()?,
    )
}

/// The due date of a day-counted limit that starts on `start`.
pub fn due_after(start: CalendarDate, limit: Limit) -> Option<CalendarDate> {
    match limit {
        Limit::Days(days) => add_days(start, i64::from(days)),
        Limit::DaysBefore(days) => add_days(start, -i64::from(days)),
        Limit::DayOfNextMonth(_) | Limit::EndOfMonth(_) => None,
    }
}

/// Where an unfulfilled item with this due date stands on `today`.
pub fn assess(due_date: CalendarDate, today: CalendarDate) -> Assessment {
    let difference = today.day_number() - due_date.day_number();
    if difference > 0 {
        Assessment {
            due_date,
            state: DeadlineState::Late,
            days_late: difference,
            days_left: 0,
        }
    } else {
        Assessment {
            due_date,
            state: DeadlineState::Due,
            days_late: 0,
            days_left: -difference,
        }
    }
}

/// Where a duty met on `met_on` (if at all) stands on `today`: `None` when met by the due date;
/// late by the days it was late when met after it; as [`assess`] when not met by `today` (a
/// date after `today` has not happened yet as of `today`).
pub fn assess_met(
    due_date: CalendarDate,
    met_on: Option<CalendarDate>,
    today: CalendarDate,
) -> Option<Assessment> {
    match met_on.filter(|met| *met <= today) {
        Some(met) if met <= due_date => None,
        Some(met) => Some(assess(due_date, met)),
        None => Some(assess(due_date, today)),
    }
}

/// A report period that the clock is running for: when it opened (the period ended) and when
/// the report is due.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReportPeriod {
    /// `2026-10` or `2026`, as in `reports.period`.
    pub period: String,
    pub opens: CalendarDate,
    pub due_date: CalendarDate,
}

/// The monthly period `YYYY-MM`: opens on the 1st of the next month, due on its 10th.
pub fn monthly_period(year: u16, month: u8) -> Option<ReportPeriod> {
    let (next_year, next_month) = if month == 12 {
        (year.checked_add(1)?, 1)
    } else {
        (year, month.checked_add(1)?)
    };
    CalendarDate::new(year, month, 1)?;
    let due_day = u8::try_from(MONTHLY_REPORT_DUE_DAY).ok()?;
    Some(ReportPeriod {
        period: format!("{year:04}-{month:02}"),
        opens: CalendarDate::new(next_year, next_month, 1)?,
        due_date: CalendarDate::new(next_year, next_month, due_day)?,
    })
}

/// The yearly period `YYYY`: opens on 1 October, due on 31 October (Art. 20).
pub fn yearly_period(year: u16) -> Option<ReportPeriod> {
    let month = u8::try_from(YEARLY_SUPERVISION_REPORT_MONTH).ok()?;
    Some(ReportPeriod {
        period: format!("{year:04}"),
        opens: CalendarDate::new(year, month, 1)?,
        due_date: CalendarDate::new(year, month, 31)?,
    })
}

/// The monthly periods whose report is owed on `today`: the last [`REPORT_LOOKBACK_MONTHS`]
/// months that have ended, newest first.
pub fn monthly_periods(today: CalendarDate) -> Vec<ReportPeriod> {
    let mut periods = Vec::new();
    let (mut year, mut month) = (today.year(), today.month());
    for _ in 0..REPORT_LOOKBACK_MONTHS {
        if month == 1 {
            year -= 1;
            month = 12;
        } else {
            month -= 1;
        }
        if let Some(period) = monthly_period(year, month) {
            periods.push(period);
        }
    }
    periods
}

/// The yearly periods whose report is owed on `today`: this year once October has begun, and
/// the years before, [`REPORT_LOOKBACK_YEARS`] in all, newest first.
pub fn yearly_periods(today: CalendarDate) -> Vec<ReportPeriod> {
    let mut year = today.year();
    if u32::from(today.month()) < YEARLY_SUPERVISION_REPORT_MONTH {
        year -= 1;
    }
    (0..REPORT_LOOKBACK_YEARS)
        .filter_map(|back| yearly_period(year.checked_sub(u16::try_from(back).ok()?)?))
        .collect()
}

/// The field of `inspection_bodies` that a change-filing item (Attachment 3, 变更事项) changes;
/// `None` for 其他, which names no field.
pub fn inspection_body_field(changed_item: &str) -> Option<&'static str> {
    let item = crate::collections::INSPECTION_BODY_CHANGE_ITEM_VALUES
        .iter()
        .find(|value| value.value == changed_item || value.label_zh == changed_item)?;
    match item.value {
        "name" => Some("name"),
        "competent_authority" => Some("competent_authority"),
        "host_unit" => Some("host_unit"),
        "nature" => Some("nature"),
        "asset_nature" => Some("asset_nature"),
        "address" => Some("address"),
        "postcode" => Some("postcode"),
        "phone" => Some("phone"),
        "fax" => Some("fax"),
        "email" => Some("email"),
        "contact_person" => Some("contact_person"),
        _ => None,
    }
}

/// Whether a record's current `value` of a field is the filed `value_after`: equal after
/// trimming, or, for an enumerated field, the value's Chinese label (a filing is written in
/// words: 企业, not `enterprise`).
pub fn change_is_applied(field: &str, current: Option<&str>, value_after: &str) -> bool {
    let Some(current) = current.map(str::trim) else {
        return false;
    };
    let value_after = value_after.trim();
    if current == value_after {
        return true;
    }
    let label = crate::collection("inspection_bodies")
        .and_then(|collection| collection.field(field))
        .and_then(|field| match field.field_type {
            crate::schema::FieldType::Enum(values) => values
                .iter()
                .find(|value| value.value == current)
                .map(|value| value.label_zh),
            _ => None,
        });
    label == Some(value_after)
}

/// One unfulfilled duty.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DeadlineItem {
    /// The rule's code.
    pub rule: &'static str,
    pub articles: &'static [u32],
    pub collection: &'static str,
    /// The record that carries the duty; `None` for a report not received at all.
    pub record_id: Option<String>,
    /// The division the duty belongs to (the record's jurisdiction, or the reporting division).
    pub jurisdiction: String,
    /// The province of the jurisdiction; the national code for national duties.
    pub province: String,
    /// What it is about: an enterprise, a reviewer, a body, a report period.
    pub subject: String,
    /// When the clock started.
    pub started: String,
    pub due_date: String,
    pub state: DeadlineState,
    pub days_late: i64,
    pub days_left: i64,
}

impl DeadlineItem {
    /// An item of `rule` started on `started`, due on `assessment.due_date`.
    pub fn new(
        rule: &'static DeadlineRule,
        record_id: Option<String>,
        jurisdiction: String,
        subject: String,
        started: CalendarDate,
        assessment: Assessment,
    ) -> DeadlineItem {
        let province = province_code(&jurisdiction);
        DeadlineItem {
            rule: rule.code,
            articles: rule.articles,
            collection: rule.collection,
            record_id,
            jurisdiction,
            province,
            subject,
            started: started.to_string(),
            due_date: assessment.due_date.to_string(),
            state: assessment.state,
            days_late: assessment.days_late,
            days_left: assessment.days_left,
        }
    }
}

/// The province code of a jurisdiction; the national code for the national level (and for a
/// code that is not a division).
pub fn province_code(jurisdiction: &str) -> String {
    crate::divisions::province_of(jurisdiction).map_or_else(
        || crate::divisions::NATIONAL_CODE.to_string(),
        |province| province.code.clone(),
    )
}

/// Counts of one rule within a province.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct RuleCounts {
    pub due: u64,
    pub late: u64,
    pub max_days_late: i64,
}

/// The items of one province, counted (the national roll-up).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ProvinceRollUp {
    pub province: String,
    pub province_name: String,
    pub due: u64,
    pub late: u64,
    pub max_days_late: i64,
    /// Per rule code.
    pub rules: std::collections::BTreeMap<&'static str, RuleCounts>,
    /// The report periods this province has not submitted (`monthly 2026-10`, `yearly 2026`).
    pub missing_reports: Vec<String>,
}

/// Groups items per province, provinces in code order.
pub fn roll_up(items: &[DeadlineItem]) -> Vec<ProvinceRollUp> {
    let mut provinces: std::collections::BTreeMap<&str, ProvinceRollUp> = Default::default();
    for item in items {
        let entry = provinces
            .entry(item.province.as_str())
            .or_insert_with(|| ProvinceRollUp {
                province: item.province.clone(),
                province_name: crate::divisions::lookup(&item.province)
                    .map_or_else(String::new, |division| division.name.clone()),
                due: 0,
                late: 0,
                max_days_late: 0,
                rules: Default::default(),
                missing_reports: Vec::new(),
            });
        let counts = entry.rules.entry(item.rule).or_default();
        match item.state {
            DeadlineState::Due => {
                entry.due += 1;
                counts.due += 1;
            }
            DeadlineState::Late => {
                entry.late += 1;
                counts.late += 1;
            }
        }
        entry.max_days_late = entry.max_days_late.max(item.days_late);
        counts.max_days_late = counts.max_days_late.max(item.days_late);
        if item.record_id.is_none() && item.collection == "reports" {
            let kind = if item.rule == "yearly_report" {
                "yearly"
            } else {
                "monthly"
            };
            entry
                .missing_reports
                .push(format!("{kind} {}", item.subject));
        }
    }
    provinces.into_values().collect()
}

#[cfg(test)]
mod tests;
