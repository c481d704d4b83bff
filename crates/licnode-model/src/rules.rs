//! Rules that look at several fields of one record: conditional requirements, report periods,
//! and dates that must come in order.

use serde_json::{Map, Value};

use crate::codes;
use crate::date::CalendarDate;
use crate::schema::Collection;
use crate::validate::{Findings, Issue};

/// Pairs of date fields where the first should not come after the second, per collection. A
/// violation is a warning (`dates_out_of_order`): old archives hold odd but real data.
const DATE_ORDER: &[(&str, &str, &str)] = &[
    ("applications", "application_date", "acceptance_date"),
    ("review_plans", "acceptance_date", "planned_review_date"),
    // Art. 21: a plan is filed before the review starts.
    ("review_plans", "filing_date", "planned_review_date"),
    ("inspections", "sampling_date", "completion_date"),
    ("inspections", "completion_date", "reported_date"),
    ("licences", "approval_date", "issue_date"),
    ("licences", "approval_date", "valid_until"),
    ("licences", "issue_date", "valid_until"),
    ("licence_events", "licence_date", "event_date"),
    ("licence_events", "licence_date", "valid_until"),
    ("letters_visits", "received_date", "reply_date"),
    ("reviewers", "birth_date", "registration_date"),
    ("reviewers", "registration_date", "valid_until"),
    ("notices", "issue_date", "response_deadline"),
    ("publications", "publish_date", "effective_date"),
];

/// Rules that only make sense for a whole new record.
pub(crate) fn check_create_rules(
    collection: &Collection,
    values: &Map<String, Value>,
    findings: &mut Findings,
) {
    // Art. 19, Attachment 1 table 3: a change names what changed (变更事项).
    if collection.name == "licence_events"
        && values.get("event_kind").and_then(Value::as_str) == Some("change")
        && values.get("change_items").is_none_or(Value::is_null)
    {
        findings.errors.push(Issue::new(
            "change_items",
            codes::MISSING_REQUIRED,
            "变更事项 is required for a change (Art. 19, Attachment 1)",
        ));
    }
}

/// Rules checked on every input, over the fields it gives.
pub(crate) fn check_rules(
    collection: &Collection,
    values: &Map<String, Value>,
    findings: &mut Findings,
) {
    // Art. 27: the approval (准予许可) is written with its date, which starts the 10-day clock
    // of the licence entry; a later edit of the file never moves it.
    if collection.name == "applications"
        && values.get("stage").and_then(Value::as_str) == Some("approved")
        && values.get("approval_date").is_none_or(Value::is_null)
    {
        findings.errors.push(Issue::new(
            "approval_date",
            codes::MISSING_REQUIRED,
            "批准日期 is required with the stage 准予许可 (Art. 27: the licence entry clock runs from it)",
        ));
    }
    if collection.name == "reports" {
        check_report_period(values, findings);
    }
    for (collection_name, earlier_field, later_field) in DATE_ORDER {
        if *collection_name != collection.name {
            continue;
        }
        // A year and month (出生年月) compares as its first day.
        let date = |name: &str| {
            values.get(name).and_then(Value::as_str).and_then(|text| {
                CalendarDate::parse(text).ok().or_else(|| {
                    crate::year_month::YearMonth::parse(text)
                        .ok()
                        .and_then(crate::year_month::YearMonth::first_day)
                })
            })
        };
        if let (Some(earlier), Some(later)) = (date(earlier_field), date(later_field))
            && earlier > later
        {
            findings.warnings.push(Issue::new(
                *later_field,
                codes::DATES_OUT_OF_ORDER,
                format!("{later_field} ({later}) is before {earlier_field} ({earlier})"),
            ));
        }
    }
}

/// `YYYY-MM` for a monthly report, `YYYY` for a yearly one (Art. 18–20). Without the kind, either.
fn check_report_period(values: &Map<String, Value>, findings: &mut Findings) {
    let Some(period) = values.get("period").and_then(Value::as_str) else {
        return;
    };
    let is_year = |text: &str| {
        text.len() == 4
            && text.bytes().all(|byte| byte.is_ascii_digit())
            && text
                .parse::<u16>()
                .is_ok_and(|year| (crate::date::MIN_YEAR..=crate::date::MAX_YEAR).contains(&year))
    };
    let is_month = |text: &str| {
        text.split_once('-').is_some_and(|(year, month)| {
            is_year(year)
                && month.len() == 2
                && month
                    .parse::<u8>()
                    .is_ok_and(|month| (1..=12).contains(&month))
        })
    };
    let ok = match values.get("report_kind").and_then(Value::as_str) {
        Some("monthly") => is_month(period),
        Some("yearly") => is_year(period),
        _ => is_month(period) || is_year(period),
    };
    if !ok {
        findings.errors.push(Issue::new(
            "period",
            codes::INVALID_PERIOD,
            format!(
                "报告期 {period:?} must be YYYY-MM for a monthly report or YYYY for a yearly one"
            ),
        ));
    }
}

#[cfg(test)]
mod tests {
    use crate::collections::collection;
    use crate::validate::{Mode, validate};
    use crate::{codes, schema::Collection};
    use serde_json::{Map, Value, json};

    fn object(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            _ => Map::new(),
        }
    }

    fn named(name: &str) -> &'static Collection {
        collection(name).unwrap_or_else(|| panic!("{name} exists"))
    }

    #[test]
    fn a_change_event_must_say_what_changed() {
        let input = object(json!({
            "licence": "licence-1",
            "licence_number": "(浙)XK06-001-00123",
            "event_kind": "变更",
            "enterprise_name": "杭州西湖恒远电缆有限公司",
            "product_category": "电线电缆",
            "product_name": "电线电缆",
            "licence_date": "2023-03-01",
            "reason": "企业名称变更",
            "event_date": "2024-01-10"
        }));
        let Err(errors) = validate(named("licence_events"), &input, Mode::Create) else {
            panic!("expected an error");
        };
        assert_eq!(errors.0.len(), 1);
        assert_eq!(errors.0[0].field, "change_items");
        assert_eq!(errors.0[0].code, codes::MISSING_REQUIRED);

        let mut with_items = input.clone();
        with_items.insert("change_items".into(), json!("企业名称"));
        assert!(validate(named("licence_events"), &with_items, Mode::Create).is_ok());

        let mut cancellation = input;
        cancellation.insert("event_kind".into(), json!("cancellation"));
        assert!(validate(named("licence_events"), &cancellation, Mode::Create).is_ok());
    }

    #[test]
    fn report_periods_fit_the_report_kind() {
        let reports = named("reports");
        let check = |kind: Option<&str>, period: &str| {
            let mut input = object(json!({"period": period}));
            if let Some(kind) = kind {
                input.insert("report_kind".into(), json!(kind));
            }
            validate(reports, &input, Mode::Patch).is_ok()
        };
        assert!(check(Some("monthly"), "2024-05"));
        assert!(check(Some("月报"), "2024-12"));
        assert!(!check(Some("monthly"), "2024"));
        assert!(!check(Some("monthly"), "2024-13"));
        assert!(!check(Some("monthly"), "2024-5"));
        assert!(check(Some("yearly"), "2024"));
        assert!(!check(Some("yearly"), "2024-05"));
        assert!(check(None, "2024"));
        assert!(check(None, "2024-05"));
        assert!(!check(None, "May 2024"));
    }

    #[test]
    fn dates_out_of_order_are_a_warning_not_an_error() {
        let input = object(json!({"approval_date": "2024-03-01", "valid_until": "2019-02-28"}));
        let result = validate(named("licences"), &input, Mode::Patch);
        let Ok(validated) = result else {
            panic!("expected success, got {result:?}");
        };
        assert_eq!(validated.warnings.len(), 1);
        assert_eq!(validated.warnings[0].code, codes::DATES_OUT_OF_ORDER);
        assert_eq!(validated.warnings[0].field, "valid_until");
    }

    #[test]
    fn dates_in_order_or_alone_give_no_warning() {
        let input = object(json!({"approval_date": "2024-03-01", "valid_until": "2029-02-28"}));
        assert!(
            validate(named("licences"), &input, Mode::Patch).is_ok_and(|v| v.warnings.is_empty())
        );
        let input = object(json!({"valid_until": "2019-02-28"}));
        assert!(
            validate(named("licences"), &input, Mode::Patch).is_ok_and(|v| v.warnings.is_empty())
        );
    }
}
