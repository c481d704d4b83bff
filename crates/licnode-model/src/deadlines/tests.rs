//! The deadline rules' and date arithmetic's tests.

use super::*;

fn date(text: &str) -> CalendarDate {
    CalendarDate::parse(text).unwrap()
}

#[test]
fn every_rule_has_a_unique_code_and_names_an_existing_collection_and_fields() {
    let mut codes = std::collections::HashSet::new();
    for rule in RULES {
        assert!(codes.insert(rule.code), "{} twice", rule.code);
        let collection = crate::collection(rule.collection).unwrap();
        if let Some((field, value)) = rule.only {
            let field = collection.field(field).unwrap();
            let crate::schema::FieldType::Enum(values) = field.field_type else {
                panic!("{}: {} is not an enumeration", rule.code, field.name);
            };
            assert!(values.iter().any(|candidate| candidate.value == value));
        }
        match rule.start {
            ClockStart::Field(name) => {
                let field = collection.field(name).unwrap();
                assert_eq!(field.field_type, crate::schema::FieldType::Date);
            }
            ClockStart::TableRow { table, field } => {
                let crate::schema::FieldType::Table(rows) =
                    collection.field(table).unwrap().field_type
                else {
                    panic!("{table} is not a table");
                };
                assert!(rows.iter().any(|row| row.name == field));
            }
            ClockStart::PeriodEnd => {}
        }
        match rule.fulfilment {
            Fulfilment::FieldFilled(name) => assert!(collection.field(name).is_some()),
            Fulfilment::FiledBy(name) => assert_eq!(
                collection.field(name).unwrap().field_type,
                crate::schema::FieldType::Date
            ),
            Fulfilment::ReferencedBy { collection, field } => {
                let referring = crate::collection(collection).unwrap();
                assert_eq!(
                    referring.field(field).unwrap().field_type,
                    crate::schema::FieldType::RecordRef(rule.collection)
                );
            }
            Fulfilment::ReferencedTerminal { reference } => {
                assert_eq!(
                    collection.field(reference).unwrap().field_type,
                    crate::schema::FieldType::RecordRef("licences")
                );
            }
            Fulfilment::ChangeApplied
            | Fulfilment::ReportSubmitted { .. }
            | Fulfilment::Arrived => {}
        }
    }
}

#[test]
fn the_limits_are_the_articles_numbers() {
    let days = |code: &str| match rule(code).unwrap().limit {
        Limit::Days(days) => days,
        other => panic!("{other:?}"),
    };
    assert_eq!(days("inspection_result"), 5); // Art. 23
    assert_eq!(days("licence_entry"), 10); // Art. 27
    assert_eq!(days("national_cancellation"), 5); // Art. 28
    assert_eq!(days("provincial_cancellation"), 10); // Art. 28
    assert_eq!(days("reviewer_registration"), 5); // Art. 30
    assert_eq!(days("review_department_filing"), 5); // Art. 31
    assert_eq!(days("inspection_body_change"), 5); // Art. 31
    assert_eq!(
        rule("review_plan_filing").unwrap().limit,
        Limit::DaysBefore(1)
    ); // Art. 21
}

#[test]
fn a_duty_met_by_its_due_date_is_gone_and_one_met_later_stays_late_by_those_days() {
    let due = date("2026-05-06");
    let today = date("2026-05-20");
    assert_eq!(assess_met(due, Some(date("2026-05-06")), today), None);
    let late = assess_met(due, Some(date("2026-05-09")), today).unwrap();
    assert_eq!((late.state, late.days_late), (DeadlineState::Late, 3));
    // Not met, or met only after the day judged on: as of that day it is open.
    let open = assess_met(due, None, date("2026-05-05")).unwrap();
    assert_eq!((open.state, open.days_left), (DeadlineState::Due, 1));
    let future = assess_met(due, Some(date("2026-05-09")), date("2026-05-07")).unwrap();
    assert_eq!((future.state, future.days_late), (DeadlineState::Late, 1));
}

#[test]
fn a_five_day_limit_is_due_through_the_fifth_day_and_late_from_the_sixth() {
    let finished = date("2026-04-28");
    let due = due_after(finished, Limit::Days(5)).unwrap();
    assert_eq!(due, date("2026-05-03"));
    assert_eq!(
        assess(due, date("2026-04-28")),
        Assessment {
            due_date: due,
            state: DeadlineState::Due,
            days_late: 0,
            days_left: 5
        }
    );
    assert_eq!(assess(due, due).state, DeadlineState::Due);
    assert_eq!(assess(due, due).days_left, 0);
    let next_day = assess(due, date("2026-05-04"));
    assert_eq!(
        (next_day.state, next_day.days_late),
        (DeadlineState::Late, 1)
    );
    assert_eq!(assess(due, date("2026-06-02")).days_late, 30);
}

#[test]
fn day_numbers_round_trip_across_leap_days_and_year_ends() {
    for text in [
        "2024-02-28",
        "2024-02-29",
        "2024-12-31",
        "2000-03-01",
        "1970-01-01",
    ] {
        let day = date(text);
        assert_eq!(from_day_number(day.day_number()), Some(day));
    }
    assert_eq!(add_days(date("2024-02-25"), 5), Some(date("2024-03-01")));
    assert_eq!(add_days(date("2025-02-25"), 5), Some(date("2025-03-02")));
    assert_eq!(add_days(date("2026-12-28"), 10), Some(date("2027-01-07")));
}

#[test]
fn a_monthly_report_is_due_on_the_tenth_of_the_next_month() {
    let october = monthly_period(2026, 10).unwrap();
    assert_eq!(october.period, "2026-10");
    assert_eq!(october.opens, date("2026-11-01"));
    assert_eq!(october.due_date, date("2026-11-10"));
    let december = monthly_period(2026, 12).unwrap();
    assert_eq!(december.due_date, date("2027-01-10"));
}

#[test]
fn the_monthly_periods_owed_are_the_last_twelve_ended_months() {
    let periods = monthly_periods(date("2026-01-05"));
    assert_eq!(periods.len(), 12);
    assert_eq!(periods[0].period, "2025-12");
    assert_eq!(periods[11].period, "2025-01");
}

#[test]
fn the_yearly_report_is_owed_from_october_and_due_at_its_end() {
    let september: Vec<String> = yearly_periods(date("2026-09-30"))
        .into_iter()
        .map(|period| period.period)
        .collect();
    assert_eq!(september, ["2025", "2024"]);
    let october = yearly_periods(date("2026-10-01"));
    assert_eq!(october[0].period, "2026");
    assert_eq!(october[0].due_date, date("2026-10-31"));
}

#[test]
fn a_change_filing_is_applied_when_the_field_holds_the_value_after_or_its_label() {
    assert_eq!(inspection_body_field("phone"), Some("phone"));
    assert_eq!(inspection_body_field("通信地址"), Some("address"));
    assert_eq!(inspection_body_field("other"), None);
    assert!(change_is_applied(
        "phone",
        Some("0571-88880000"),
        " 0571-88880000"
    ));
    assert!(!change_is_applied(
        "phone",
        Some("0571-88880001"),
        "0571-88880000"
    ));
    assert!(change_is_applied("nature", Some("enterprise"), "企业"));
    assert!(!change_is_applied(
        "nature",
        Some("public_institution"),
        "企业"
    ));
    assert!(!change_is_applied("phone", None, "0571-88880000"));
}

#[test]
fn the_roll_up_counts_per_province_and_names_missing_reports() {
    let today = date("2026-11-20");
    let started = date("2026-11-01");
    let late = assess(date("2026-11-10"), today);
    let items = vec![
        DeadlineItem::new(
            rule("monthly_report").unwrap(),
            None,
            "320000".into(),
            "2026-10".into(),
            started,
            late,
        ),
        DeadlineItem::new(
            rule("inspection_result").unwrap(),
            Some("a".into()),
            "330106".into(),
            "杭州恒远电缆有限公司".into(),
            started,
            assess(date("2026-11-25"), today),
        ),
    ];
    let rolled = roll_up(&items);
    assert_eq!(rolled.len(), 2);
    assert_eq!(rolled[0].province, "320000");
    assert_eq!(rolled[0].province_name, "江苏省");
    assert_eq!((rolled[0].late, rolled[0].max_days_late), (1, 10));
    assert_eq!(rolled[0].missing_reports, ["monthly 2026-10"]);
    assert_eq!(rolled[1].province, "330000");
    assert_eq!((rolled[1].due, rolled[1].late), (1, 0));
}
