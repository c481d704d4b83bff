//! Fuzzing the decoder of report kinds and periods (issue 16, item 4; Art. 18–20): the text of
//! a `kind` and a `period` as the staff API, the web forms and `licnode report` take them —
//! random text, period-shaped text at the edges (month 0 and 13, year 0 and 10,000, signs,
//! spaces, full-width digits), and mutations of valid periods. Hostile text is an error with
//! its stable code, never a panic; a period read is one whose days, due date and successor
//! can be computed and whose text reads back as itself. Cases: `LICNODE_FUZZ_CASES` (see
//! `licnode_testkit::fuzz`). Soak: `LICNODE_FUZZ_CASES=1000000 cargo test --release -p
//! licnode-reports --test fuzz_periods`.

use chrono::NaiveDate;
use licnode_reports::{Period, ReportKind};
use licnode_testkit::fuzz::{self, Watchdog};
use proptest::prelude::*;

fn watchdog() -> &'static Watchdog {
    static WATCHDOG: std::sync::OnceLock<Watchdog> = std::sync::OnceLock::new();
    WATCHDOG.get_or_init(Watchdog::default)
}

/// Text shaped like a period: a year, maybe a separator and a month, at the edges.
fn period_like() -> impl Strategy<Value = String> {
    let year = prop_oneof![
        (-10_000i64..12_000).prop_map(|year| year.to_string()),
        Just("0000".to_string()),
        Just("２０２４".to_string()),
        Just("+2024".to_string()),
        Just("99999999999999999999".to_string()),
    ];
    let month = prop_oneof![
        (0u32..100).prop_map(|month| format!("{month:02}")),
        (0u32..14).prop_map(|month| month.to_string()),
        Just("１２".to_string()),
        Just("-1".to_string()),
    ];
    let separator = prop_oneof![Just("-"), Just("/"), Just(""), Just(" - "), Just("--")];
    (year, proptest::option::of((separator, month)), "[ \t]{0,2}").prop_map(
        |(year, month, padding)| match month {
            Some((separator, month)) => format!("{padding}{year}{separator}{month}"),
            None => format!("{year}{padding}"),
        },
    )
}

/// Reads `kind` and `period` as a request would, and uses what was read.
fn read_and_use(kind_text: &str, period_text: &str) {
    let kinds = [
        ReportKind::parse(kind_text).ok(),
        Some(ReportKind::Monthly),
        Some(ReportKind::Yearly),
    ];
    for kind in kinds.into_iter().flatten() {
        match Period::parse(kind, period_text) {
            Ok(period) => {
                assert!(period.first_day() <= period.last_day(), "{period}");
                let _ = period.due_date();
                let _ = period.next();
                let _ = period.days_late(NaiveDate::MIN);
                let _ = period.days_late(NaiveDate::MAX);
                let again = Period::parse(kind, &period.to_string());
                assert_eq!(
                    again.ok(),
                    Some(period),
                    "{period_text:?} does not read back"
                );
            }
            Err(error) => assert!(!error.code().is_empty()),
        }
    }
}

proptest! {
    #![proptest_config(fuzz::config())]

    #[test]
    fn random_text_never_panics_the_period_decoder(kind in fuzz::text(), period in fuzz::text()) {
        watchdog().run(|| fuzz::describe_text(&period), || read_and_use(&kind, &period));
    }

    #[test]
    fn period_shaped_text_is_read_or_refused_never_a_panic(
        kind in prop_oneof![Just("monthly".to_string()), Just("yearly".to_string()), "[a-zA-Z]{0,8}"],
        period in period_like(),
    ) {
        watchdog().run(|| fuzz::describe_text(&period), || read_and_use(&kind, &period));
    }

    #[test]
    fn mutated_valid_periods_never_panic_the_period_decoder(
        period in fuzz::mutated(vec![b"2024-05".to_vec(), b"2024".to_vec(), b"1999-12".to_vec()])
    ) {
        let text = String::from_utf8_lossy(&period).into_owned();
        watchdog().run(|| fuzz::describe_text(&text), || read_and_use("monthly", &text));
    }
}

#[test]
fn the_valid_periods_the_mutations_start_from_read_back() {
    read_and_use("monthly", "2024-05");
    read_and_use("yearly", "2024");
    assert!(Period::parse(ReportKind::Monthly, "2024-05").is_ok());
}
