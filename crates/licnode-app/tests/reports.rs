//! The statutory reports on both backends (Art. 18–20): a month of generated records rolls up
//! into exactly that month's grants, refusals, changes and terminations; runs are idempotent
//! per period; a change after submission is revision 2, superseding revision 1, and both reach
//! the national node's store by the replication path; the national summary names the
//! provinces that have not reported.

use std::collections::BTreeSet;

use chrono::NaiveDate;
use licnode_app::Author;
use licnode_app::{Archive, ManualClock, ReportSettings, Reports, SharedClock, report_id};
use licnode_reports::{MonthlyContent, Period, ReportKind};
use licnode_store::{LoggedChange, Store};
use licnode_testkit::{BACKENDS, Backend, TestDatabase};
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

async fn open(backend: Backend, dir: &std::path::Path) -> (Store, Option<TestDatabase>) {
    std::fs::create_dir_all(dir).expect("test directory");
    let (url, database) = licnode_testkit::database_url(backend, dir)
        .await
        .expect("test database");
    (Store::open(&url).await.expect("open store"), database)
}

/// Copies every change `from` has after `cursor` into `to`, as replication does.
async fn ship(from: &Store, to: &Store, origin: &str, cursor: i64) -> i64 {
    let rows = from
        .changes_after(cursor, None, 10_000)
        .await
        .expect("changes");
    let last = rows.last().map_or(cursor, |row| row.seq);
    let remote: Vec<LoggedChange> = rows
        .into_iter()
        .map(|row| LoggedChange {
            record_id: row.record_id,
            collection: row.collection,
            jurisdiction: row.jurisdiction,
            author_user: row.author_user,
            at_ms: row.at_ms,
            origin: origin.to_string(),
            bytes: row.bytes,
            ..LoggedChange::default()
        })
        .collect();
    let outcome = to.apply_remote(&remote).await.expect("apply");
    assert!(outcome.refused.is_empty(), "refused: {:?}", outcome.refused);
    last
}

fn day(year: i32, month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, month, day).expect("date")
}

const OCTOBER: Period = Period::Month {
    year: 2026,
    month: 10,
};

/// What the test expects in each table: the ids it wrote with a date in October 2026.
#[derive(Default, Debug)]
struct Expected {
    applicants: BTreeSet<String>,
    granted: BTreeSet<String>,
    refused: BTreeSet<String>,
    changed: BTreeSet<String>,
    terminated: BTreeSet<String>,
    /// October's nationally issued licences, refusals and events in Zhejiang's territory
    /// (the generator makes about 10 % of them): never in Zhejiang's report (Art. 19).
    national: BTreeSet<String>,
}

/// True when a generated record is a national decision: its issuing level says so, or (an
/// event) the licence number carries no provincial abbreviation.
fn nationally_issued(input: &serde_json::Map<String, Value>) -> bool {
    match input.get("issuing_level").and_then(Value::as_str) {
        Some(level) => level == "national",
        None => input
            .get("licence_number")
            .and_then(Value::as_str)
            .is_some_and(|number| !number.starts_with('(')),
    }
}

/// Makes a generated licence a Zhejiang decision (issuing level and numbered `(浙)…`).
fn issued_by_zhejiang(input: &mut serde_json::Map<String, Value>) {
    input.insert("issuing_level".into(), json!("provincial"));
    let number = input["licence_number"].as_str().expect("number");
    let bare = number.rsplit(')').next().unwrap_or(number).to_string();
    input.insert("licence_number".into(), json!(format!("(浙){bare}")));
}

/// Writes `count` generated records of each reported collection for Zhejiang (330000), about
/// half dated in October 2026 and the rest in September or November, plus records of Jiangsu
/// (320000, written by the national node) dated in October that the report must leave out.
async fn a_month_of_records(store: &Store, count: usize) -> Expected {
    let province = Archive::new(store.clone(), "330000");
    let national = Archive::new(store.clone(), "100000");
    let mut generator = licnode_gen::Generator::new(2026);
    let mut rng = rand::rngs::StdRng::seed_from_u64(11);
    let mut expected = Expected::default();
    // An event names a licence the node holds (the records service refuses any other): the
    // licences written before it, Zhejiang's and the foreign ones.
    let (mut own_licences, mut foreign_licences) = (Vec::new(), Vec::new());
    for (collection_name, date_field) in [
        ("applications", "application_date"),
        ("licences", "issue_date"),
        ("refusals", "refusal_date"),
        ("licence_events", "event_date"),
    ] {
        let collection = licnode_model::collection(collection_name).expect("collection");
        for index in 0..count {
            let in_october = rng.random_bool(0.5);
            let date = if in_october {
                day(2026, 10, rng.random_range(1..=31))
            } else if rng.random_bool(0.5) {
                day(2026, 9, 30)
            } else {
                day(2026, 11, 1)
            };
            let mut input = generator.record(collection, "330000");
            input.insert(
                date_field.into(),
                json!(date.format("%Y-%m-%d").to_string()),
            );
            if collection_name == "licence_events" {
                input.insert(
                    "licence".into(),
                    json!(own_licences[index % own_licences.len()]),
                );
            }
            if collection_name == "licence_events" && index % 3 == 0 {
                input.insert("event_kind".into(), json!("change"));
                input.insert("change_items".into(), json!("企业名称"));
            }
            let created = province
                // Generated events and licences hold decisions: an approver's to write.
                .create(collection_name, None, &input, &Author::approver("approver"))
                .await
                .expect("create");
            if collection_name == "licences" {
                own_licences.push(created.record.id.clone());
            }
            if in_october {
                let id = created.record.id.clone();
                let set = match (collection_name, input.get("event_kind")) {
                    ("applications", _) => &mut expected.applicants,
                    _ if nationally_issued(&input) => &mut expected.national,
                    ("licences", _) => &mut expected.granted,
                    ("refusals", _) => &mut expected.refused,
                    (_, Some(Value::String(kind))) if kind == "change" => &mut expected.changed,
                    _ => &mut expected.terminated,
                };
                set.insert(id);
            }
            if index % 4 == 0 {
                // Another province's record in the same month.
                let mut foreign = generator.record(collection, "320000");
                foreign.insert(date_field.into(), json!("2026-10-15"));
                if collection_name == "licence_events" {
                    let licence = &foreign_licences[index % foreign_licences.len()];
                    foreign.insert("licence".into(), json!(licence));
                }
                let created = national
                    .create(
                        collection_name,
                        None,
                        &foreign,
                        &Author::approver("approver"),
                    )
                    .await
                    .expect("create foreign");
                if collection_name == "licences" {
                    foreign_licences.push(created.record.id);
                }
            }
        }
    }
    expected
}

fn ids<T>(rows: &[T], id: impl Fn(&T) -> &String) -> BTreeSet<String> {
    rows.iter().map(|row| id(row).clone()).collect()
}

fn reports(store: &Store, node: &str, clock: &SharedClock, auto_submit: bool) -> Reports {
    Reports::new(
        Archive::new(store.clone(), node),
        clock.clone(),
        ReportSettings {
            unit_name: "浙江省市场监督管理局".into(),
            auto_submit,
        },
    )
}

#[tokio::test]
async fn a_month_of_records_rolls_up_into_exactly_that_months_four_tables_on_both_backends() {
    for backend in BACKENDS {
        let dir = licnode_testkit::temp_dir().expect("dir");
        let (store, _db) = open(backend, dir.path()).await;
        let expected = a_month_of_records(&store, 24).await;
        assert!(!expected.granted.is_empty() && !expected.terminated.is_empty());
        let clock: SharedClock = ManualClock::at_date(day(2026, 11, 2));
        let reports = reports(&store, "330000", &clock, false);

        let first = reports.run(&OCTOBER, "schedule").await.expect("run");
        assert_eq!(first.run.outcome, "created", "{backend:?}");
        let record = first.report.expect("report");
        assert_eq!(
            record.id,
            report_id("330000", ReportKind::Monthly, &OCTOBER, 1)
        );
        let content: MonthlyContent =
            serde_json::from_str(record.data["content"].as_str().expect("content"))
                .expect("content parses");
        let tables = &content.tables;
        assert_eq!(ids(&content.applicants, |r| &r.record), expected.applicants);
        assert_eq!(ids(&tables.granted, |r| &r.record), expected.granted);
        assert_eq!(ids(&tables.refused, |r| &r.record), expected.refused);
        assert_eq!(ids(&tables.changed, |r| &r.record), expected.changed);
        assert_eq!(ids(&tables.terminated, |r| &r.record), expected.terminated);
        // Art. 19: the nationally issued decisions of the territory are not the province's.
        assert!(
            !expected.national.is_empty(),
            "the generator makes national licences"
        );
        let reported: BTreeSet<String> = ids(&tables.granted, |r| &r.record)
            .into_iter()
            .chain(ids(&tables.refused, |r| &r.record))
            .chain(ids(&tables.changed, |r| &r.record))
            .chain(ids(&tables.terminated, |r| &r.record))
            .collect();
        assert!(reported.is_disjoint(&expected.national), "{backend:?}");
        assert!(
            tables
                .granted
                .iter()
                .all(|row| row.remark == "发证" || row.remark == "换证")
        );
        assert_eq!(
            record.data["granted_count"],
            json!(expected.granted.len() as i64)
        );
        assert_eq!(record.data["status"], json!("draft"));
        assert_eq!(record.data["fill_date"], json!("2026-11-02"));

        // Running the same period again yields the same single report.
        let second = reports.run(&OCTOBER, "alice").await.expect("rerun");
        assert_eq!(second.run.outcome, "unchanged");
        assert_eq!(second.report.expect("report").id, record.id);
        assert_eq!(
            store
                .reports_of_period(ReportKind::Monthly, &OCTOBER)
                .await
                .expect("reports")
                .len(),
            1
        );
        let runs = store.report_runs(None, 10).await.expect("runs");
        assert_eq!(runs.len(), 2);
        assert_eq!(runs[0].started_by, "alice");
        assert!(runs.iter().all(|run| run.finished_at_ms.is_some()));
        store.close().await;
    }
}

#[tokio::test]
async fn a_change_after_submission_is_revision_2_and_both_reach_the_national_store() {
    for backend in BACKENDS {
        let dir = licnode_testkit::temp_dir().expect("dir");
        let (province_store, _db1) = open(backend, &dir.path().join("province")).await;
        let (national_store, _db2) = open(backend, &dir.path().join("national")).await;
        let clock = ManualClock::at_date(day(2026, 11, 2));
        let shared: SharedClock = clock.clone();
        let province = reports(&province_store, "330000", &shared, false);
        let national = reports(&national_store, "100000", &shared, false);

        let mut generator = licnode_gen::Generator::new(5);
        let licences = licnode_model::collection("licences").expect("licences");
        let mut input = generator.record(licences, "330000");
        issued_by_zhejiang(&mut input);
        input.insert("issue_date".into(), json!("2026-10-20"));
        province
            .archive
            .create("licences", None, &input, &Author::clerk("clerk"))
            .await
            .expect("licence");

        let draft = province.run(&OCTOBER, "schedule").await.expect("run");
        let first_id = draft.report.expect("report").id;
        let submitted = province
            .submit(&first_id, &Author::approver("approver"))
            .await
            .expect("submit");
        assert_eq!(submitted.data["status"], json!("submitted"));
        let again = province
            .submit(&first_id, &Author::approver("approver"))
            .await
            .unwrap_err();
        assert_eq!(again.code(), "report_already_submitted");
        let cursor = ship(&province_store, &national_store, "330000", 0).await;

        // Before the due date nobody is late; Zhejiang has submitted, the others are missing.
        let summary = national.summary(&OCTOBER).await.expect("summary");
        assert!(!summary.missing.contains(&"330000".to_string()));
        assert!(summary.missing.contains(&"320000".to_string()));
        assert_eq!(summary.totals[1], 1);
        assert!(
            summary
                .reporters
                .iter()
                .all(|reporter| reporter.days_late == 0)
        );

        // A licence of October recorded late: the next run is revision 2.
        let mut late = generator.record(licences, "330000");
        issued_by_zhejiang(&mut late);
        late.insert("issue_date".into(), json!("2026-10-31"));
        province
            .archive
            .create("licences", None, &late, &Author::clerk("clerk"))
            .await
            .expect("late licence");
        clock.set_date(day(2026, 11, 13));
        let revised = province.run(&OCTOBER, "schedule").await.expect("rerun");
        assert_eq!(revised.run.outcome, "revised");
        let second = revised.report.expect("report");
        assert_eq!(
            second.id,
            report_id("330000", ReportKind::Monthly, &OCTOBER, 2)
        );
        assert_eq!(second.data["revision"], json!(2));
        assert_eq!(second.data["supersedes"], json!(first_id));
        assert_eq!(second.data["granted_count"], json!(2));
        province
            .submit(&second.id, &Author::approver("approver"))
            .await
            .expect("submit 2");
        ship(&province_store, &national_store, "330000", cursor).await;

        let held = national_store
            .get(&second.id)
            .await
            .expect("get")
            .expect("revision 2 at national");
        assert_eq!(held.data["status"], json!("submitted"));
        let summary = national.summary(&OCTOBER).await.expect("summary");
        let zhejiang = summary
            .reporters
            .iter()
            .find(|reporter| reporter.division == "330000")
            .expect("zhejiang");
        assert_eq!(zhejiang.revision, Some(2));
        assert_eq!(summary.totals[1], 2);
        let jiangsu = summary
            .reporters
            .iter()
            .find(|reporter| reporter.division == "320000")
            .expect("jiangsu");
        // Due on 10 November; on the 13th Jiangsu is three days late.
        assert_eq!(jiangsu.days_late, 3);
        assert_eq!(jiangsu.name, "江苏省");
        province_store.close().await;
        national_store.close().await;
    }
}

/// Writes `count` October licences at `archive` for `jurisdiction`, issued nationally or by the
/// province of the jurisdiction, and returns their ids.
async fn october_licences(
    archive: &Archive,
    generator: &mut licnode_gen::Generator,
    jurisdiction: &str,
    count: usize,
    national: bool,
) -> BTreeSet<String> {
    let licences = licnode_model::collection("licences").expect("licences");
    let abbreviation = licnode_model::divisions::province_abbreviation(jurisdiction).expect("abbr");
    let mut written = BTreeSet::new();
    for index in 0..count {
        let mut input = generator.record(licences, jurisdiction);
        let number = input["licence_number"].as_str().expect("number");
        let bare = number.rsplit(')').next().unwrap_or(number).to_string();
        let (level, number) = if national {
            ("national", bare)
        } else {
            ("provincial", format!("({abbreviation}){bare}"))
        };
        input.insert("issuing_level".into(), json!(level));
        input.insert("licence_number".into(), json!(number));
        input.insert(
            "issue_date".into(),
            json!(format!("2026-10-{:02}", index % 28 + 1)),
        );
        let created = archive
            .create("licences", None, &input, &Author::approver("approver"))
            .await
            .expect("licence");
        written.insert(created.record.id);
    }
    written
}

#[tokio::test]
async fn national_totals_add_the_provinces_reports_without_counting_a_national_licence_twice() {
    // Art. 19: each province reports its own issuance; the nationally issued licences of its
    // territory reach it from national and are national's to count (Art. 11, 27).
    for backend in BACKENDS {
        let dir = licnode_testkit::temp_dir().expect("dir");
        let (national_store, _db0) = open(backend, &dir.path().join("national")).await;
        let (zhejiang_store, _db1) = open(backend, &dir.path().join("zhejiang")).await;
        let (jiangsu_store, _db2) = open(backend, &dir.path().join("jiangsu")).await;
        let shared: SharedClock = ManualClock::at_date(day(2026, 11, 2));
        let national = reports(&national_store, "100000", &shared, false);
        let zhejiang = reports(&zhejiang_store, "330000", &shared, true);
        let jiangsu = reports(&jiangsu_store, "320000", &shared, true);
        let mut generator = licnode_gen::Generator::new(19);

        let mut nationally_issued =
            october_licences(&national.archive, &mut generator, "330000", 3, true).await;
        nationally_issued
            .extend(october_licences(&national.archive, &mut generator, "320000", 2, true).await);
        // The national licences flow down to the provinces of their enterprises.
        ship(&national_store, &zhejiang_store, "100000", 0).await;
        ship(&national_store, &jiangsu_store, "100000", 0).await;
        let zhejiang_own =
            october_licences(&zhejiang.archive, &mut generator, "330000", 4, false).await;
        let jiangsu_own =
            october_licences(&jiangsu.archive, &mut generator, "320000", 5, false).await;

        for (province, own) in [(&zhejiang, &zhejiang_own), (&jiangsu, &jiangsu_own)] {
            let report = province.run(&OCTOBER, "schedule").await.expect("run");
            let record = report.report.expect("report");
            assert_eq!(record.data["status"], json!("submitted"), "{backend:?}");
            let content: MonthlyContent =
                serde_json::from_str(record.data["content"].as_str().expect("content"))
                    .expect("content parses");
            assert_eq!(
                &ids(&content.tables.granted, |r| &r.record),
                own,
                "{backend:?}"
            );
        }
        ship(&zhejiang_store, &national_store, "330000", 0).await;
        ship(&jiangsu_store, &national_store, "320000", 0).await;

        let summary = national.summary(&OCTOBER).await.expect("summary");
        assert_eq!(
            summary.totals[1],
            (zhejiang_own.len() + jiangsu_own.len()) as i64,
            "{backend:?}"
        );
        // National's own roll-up holds every licence but counts only its own issuance.
        let own_report = national
            .run(&OCTOBER, "schedule")
            .await
            .expect("national run");
        let content: MonthlyContent = serde_json::from_str(
            own_report.report.expect("report").data["content"]
                .as_str()
                .expect("content"),
        )
        .expect("content parses");
        assert_eq!(
            ids(&content.tables.granted, |r| &r.record),
            nationally_issued
        );
        assert_eq!(
            summary.totals[1] + content.tables.granted.len() as i64,
            (nationally_issued.len() + zhejiang_own.len() + jiangsu_own.len()) as i64
        );
        for store in [national_store, zhejiang_store, jiangsu_store] {
            store.close().await;
        }
    }
}

#[tokio::test]
async fn a_period_that_has_not_ended_is_refused_and_recorded_nowhere() {
    let dir = licnode_testkit::temp_dir().expect("dir");
    let (store, _db) = open(Backend::Sqlite, dir.path()).await;
    let shared: SharedClock = ManualClock::at_date(day(2026, 10, 31));
    let reports = reports(&store, "330000", &shared, false);
    let error = reports.run(&OCTOBER, "alice").await.unwrap_err();
    assert_eq!(error.code(), "period_not_ended");
    assert!(store.report_runs(None, 10).await.expect("runs").is_empty());
}

#[tokio::test]
async fn the_yearly_report_counts_the_years_supervision_and_waits_for_its_narrative() {
    for backend in BACKENDS {
        let dir = licnode_testkit::temp_dir().expect("dir");
        let (store, _db) = open(backend, dir.path()).await;
        let shared: SharedClock = ManualClock::at_date(day(2026, 10, 2));
        let reports = reports(&store, "330000", &shared, true);
        let archive = &reports.archive;
        let mut generator = licnode_gen::Generator::new(9);
        let model = |name| licnode_model::collection(name).expect("collection");
        // Two licences valid in 2026 and one that expired in 2020.
        for (issued, valid_until) in [
            ("2025-05-01", "2030-04-30"),
            ("2026-02-01", "2031-01-31"),
            ("2016-01-01", "2020-12-31"),
        ] {
            let mut input = generator.record(model("licences"), "330000");
            input.insert("issue_date".into(), json!(issued));
            input.insert("approval_date".into(), json!(issued));
            input.insert("valid_until".into(), json!(valid_until));
            archive
                .create("licences", None, &input, &Author::clerk("clerk"))
                .await
                .expect("licence");
        }
        for date in ["2026-03-01", "2025-12-31"] {
            let mut input = generator.record(model("site_verifications"), "330000");
            input.insert("verification_date".into(), json!(date));
            archive
                .create("site_verifications", None, &input, &Author::clerk("clerk"))
                .await
                .expect("verification");
        }
        for visits in [
            json!([
                {"supervision_date": "2026-04-01", "supervision_kind": "patrol_visit",
                 "result": "conforming"},
                {"supervision_date": "2026-05-01", "supervision_kind": "periodic_supervision",
                 "result": "nonconforming", "findings": "出厂检验记录不全"}
            ]),
            json!([
                {"supervision_date": "2025-04-01", "supervision_kind": "patrol_visit",
                 "result": "conforming"}
            ]),
        ] {
            let mut input = generator.record(model("quality_archives"), "330000");
            input.insert("supervision_records".into(), visits);
            archive
                .create("quality_archives", None, &input, &Author::clerk("clerk"))
                .await
                .expect("quality archive");
        }

        let year = Period::Year(2026);
        let result = reports.run(&year, "schedule").await.expect("yearly run");
        let record = result.report.expect("report");
        // Even with auto_submit, a yearly report waits for its narrative (Art. 20).
        assert_eq!(record.data["status"], json!("draft"));
        let content: Value =
            serde_json::from_str(record.data["content"].as_str().expect("content")).expect("json");
        let figures = &content["figures"];
        assert_eq!(
            figures["licensed_enterprise_count"],
            json!(2),
            "{backend:?}"
        );
        assert_eq!(figures["review_count"], json!(1));
        assert_eq!(figures["patrol_visit_count"], json!(1));
        assert_eq!(figures["periodic_supervision_count"], json!(1));
        assert_eq!(figures["problem_enterprise_count"], json!(1));

        let refused = reports
            .submit(&record.id, &Author::approver("approver"))
            .await
            .unwrap_err();
        assert_eq!(refused.code(), "narrative_missing");
        // Art. 20: four required sections; a remark or three of them are not enough.
        let mut narrative = serde_json::Map::new();
        narrative.insert("remarks".into(), json!("本年度工作情况见各部分。"));
        for field in [
            "annual_review_narrative",
            "patrol_visit_narrative",
            "periodic_supervision_narrative",
        ] {
            narrative.insert(field.into(), json!("……"));
        }
        archive
            .update(&record.id, &narrative, &Author::clerk("clerk"))
            .await
            .expect("three narratives");
        let refused = reports
            .submit(&record.id, &Author::approver("approver"))
            .await
            .unwrap_err();
        assert_eq!(refused.code(), "narrative_missing");
        assert!(refused.to_string().contains("问题企业处理"), "{refused}");
        assert!(!refused.to_string().contains("巡查回访"), "{refused}");
        let mut last = serde_json::Map::new();
        last.insert(
            "problem_handling_narrative".into(),
            json!("对出厂检验记录不全的企业责令整改。"),
        );
        archive
            .update(&record.id, &last, &Author::clerk("clerk"))
            .await
            .expect("the fourth narrative");
        let submitted = reports
            .submit(&record.id, &Author::approver("approver"))
            .await
            .expect("submit");
        assert_eq!(submitted.data["status"], json!("submitted"));

        // The province's view of the year: its prefectures have not reported to it.
        let summary = reports.summary(&year).await.expect("summary");
        assert!(summary.missing.contains(&"330100".to_string()));
        assert_eq!(summary.due_date, "2026-10-31");
        store.close().await;
    }
}

// Art. 12, 20, 29: a county keeps the quality archives of its licensed enterprises and reports
// on them yearly; the licences it counts come down from the issuer as read-only copies.
#[tokio::test]
async fn a_countys_yearly_report_counts_the_licences_that_came_down_to_it() {
    for backend in BACKENDS {
        let dir = licnode_testkit::temp_dir().expect("dir");
        let (province_store, _db1) = open(backend, &dir.path().join("province")).await;
        let (county_store, _db2) = open(backend, &dir.path().join("county")).await;
        let shared: SharedClock = ManualClock::at_date(day(2026, 10, 2));
        let county = reports(&county_store, "330106", &shared, false);
        let year = Period::Year(2026);
        let figures = |record: Option<licnode_store::StoredRecord>| {
            let record = record.expect("report");
            let content: Value =
                serde_json::from_str(record.data["content"].as_str().expect("content"))
                    .expect("json");
            content["figures"]["licensed_enterprise_count"].clone()
        };
        assert_eq!(
            figures(county.run(&year, "schedule").await.expect("run").report),
            json!(0)
        );

        let province = Archive::new(province_store.clone(), "330000");
        let model = licnode_model::collection("licences").expect("licences");
        let mut input = licnode_gen::Generator::new(12).record(model, "330106");
        input.insert("issue_date".into(), json!("2025-05-01"));
        input.insert("approval_date".into(), json!("2025-04-28"));
        input.insert("valid_until".into(), json!("2030-04-30"));
        let licence = province
            .create(
                "licences",
                Some("330106"),
                &input,
                &Author::approver("approver"),
            )
            .await
            .expect("licence")
            .record
            .id;
        // The authority table sends it down to the county of the enterprise …
        let decision = licnode_sync::decide(
            &licnode_sync::NodeRef::new("330000", licnode_model::Level::Province),
            &licnode_sync::NodeRef::new("330106", licnode_model::Level::County),
            licnode_sync::Link::Child,
            licnode_sync::Flow::Send,
            "licences",
            "330106",
            &licnode_sync::NodeRef::new("330000", licnode_model::Level::Province),
        );
        assert_eq!(decision, licnode_sync::Decision::Allow);
        ship(&province_store, &county_store, "330000", 0).await;
        // … where it is a read-only copy that the county's yearly figures count.
        assert!(county.archive.find(&licence).await.expect("find").is_some());
        assert_eq!(
            figures(county.run(&year, "schedule").await.expect("rerun").report),
            json!(1)
        );
        province_store.close().await;
        county_store.close().await;
    }
}
