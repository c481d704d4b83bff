//! The deadline clock over the records (Art. 18–20, 23, 27, 28, 30, 31), on SQLite and PostgreSQL,
//! with an injected clock: an item is due through its last day and late from the next, by the
//! right number of days; fulfilled items disappear; the national roll-up groups per province
//! and names a province that did not report.

use chrono::NaiveDate;
use licnode_app::Author;
use licnode_app::{Archive, Clock, ManualClock};
use licnode_model::Level;
use licnode_model::deadlines::{DeadlineItem, DeadlineState, roll_up};
use licnode_store::{DeadlineQuery, Store};
use licnode_testkit::{BACKENDS, Backend, TestDatabase};
use serde_json::{Map, Value, json};

async fn open(backend: Backend, dir: &std::path::Path) -> (Store, Option<TestDatabase>) {
    let (url, database) = licnode_testkit::database_url(backend, dir)
        .await
        .expect("test database");
    (Store::open(&url).await.expect("open store"), database)
}

fn date(text: &str) -> NaiveDate {
    text.parse().expect("date")
}

/// A valid generated record of `collection` with `overrides` applied (`null` removes a field).
fn record(collection: &str, jurisdiction: &str, overrides: Value) -> Map<String, Value> {
    let mut generator = licnode_gen::Generator::new(11);
    let model = licnode_model::collection(collection).expect("collection");
    let mut input = generator.record(model, jurisdiction);
    let Value::Object(overrides) = overrides else {
        panic!("overrides must be an object")
    };
    for (name, value) in overrides {
        if value.is_null() {
            input.remove(&name);
        } else {
            input.insert(name, value);
        }
    }
    input
}

/// The node's duties on the clock's today.
async fn duties(
    store: &Store,
    clock: &ManualClock,
    node: &str,
    level: Level,
    rule: &str,
) -> Vec<DeadlineItem> {
    let mut query = DeadlineQuery::new(clock.today(), node, level);
    query.rule = Some(licnode_model::deadlines::rule(rule).expect("rule"));
    store.deadlines(&query).await.expect("deadlines")
}

fn state_of(items: &[DeadlineItem]) -> Vec<(DeadlineState, i64, i64)> {
    items
        .iter()
        .map(|item| (item.state, item.days_left, item.days_late))
        .collect()
}

#[tokio::test]
async fn an_inspection_result_is_due_through_day_five_late_from_day_six_and_gone_once_it_left() {
    for backend in BACKENDS {
        let dir = licnode_testkit::temp_dir().expect("dir");
        let (store, _database) = open(backend, dir.path()).await;
        let body = Archive::with_level(store.clone(), "IB0001", Level::InspectionBody);
        // Sent and acknowledged by the national node, which relays it to the organiser: never
        // listed (Art. 23 is met by the result's arrival, not by a typed 报送日期).
        body.create(
            "inspections",
            Some("330106"),
            &record(
                "inspections",
                "330106",
                json!({ "completion_date": "2026-03-02", "reported_date": null }),
            ),
            &Author::clerk("clerk"),
        )
        .await
        .expect("sent inspection");
        let acknowledge = async || {
            let seq = store.last_seq().await.expect("log");
            store
                .advance_sync_cursor("100000", licnode_store::SyncStream::Acked, seq)
                .await
                .expect("acknowledged");
        };
        acknowledge().await;
        // Typed as reported on the 4th, but still at the body: listed.
        let open_result = body
            .create(
                "inspections",
                Some("330106"),
                &record(
                    "inspections",
                    "330106",
                    json!({ "completion_date": "2026-03-02", "reported_date": "2026-03-04" }),
                ),
                &Author::clerk("clerk"),
            )
            .await
            .expect("inspection")
            .record;

        let clock = ManualClock::at_date(date("2026-03-02"));
        let node = ("IB0001", Level::InspectionBody);
        let items = duties(&store, &clock, node.0, node.1, "inspection_result").await;
        assert_eq!(
            state_of(&items),
            [(DeadlineState::Due, 5, 0)],
            "{backend:?}"
        );
        assert_eq!(items[0].record_id.as_deref(), Some(open_result.id.as_str()));
        assert_eq!(items[0].started, "2026-03-02");
        assert_eq!(items[0].due_date, "2026-03-07");
        assert_eq!(items[0].province, "330000");
        assert_eq!(items[0].articles, [23]);

        // Art. 23, 5 days: the 7th is the last day, the 8th is one day late.
        clock.set_date(date("2026-03-07"));
        let items = duties(&store, &clock, node.0, node.1, "inspection_result").await;
        assert_eq!(
            state_of(&items),
            [(DeadlineState::Due, 0, 0)],
            "{backend:?}"
        );
        clock.set_date(date("2026-03-08"));
        let items = duties(&store, &clock, node.0, node.1, "inspection_result").await;
        assert_eq!(
            state_of(&items),
            [(DeadlineState::Late, 0, 1)],
            "{backend:?}"
        );
        clock.set_date(date("2026-03-20"));
        let items = duties(&store, &clock, node.0, node.1, "inspection_result").await;
        assert_eq!(
            state_of(&items),
            [(DeadlineState::Late, 0, 13)],
            "{backend:?}"
        );

        // Filters: a late item is not due; another province has none.
        let mut query = DeadlineQuery::new(clock.today(), node.0, node.1);
        query.state = Some(DeadlineState::Due);
        assert!(store.deadlines(&query).await.expect("due").is_empty());
        query.state = Some(DeadlineState::Late);
        query.province = Some("320000".into());
        assert!(store.deadlines(&query).await.expect("jiangsu").is_empty());

        // Acknowledged by the parent, even late: it has left the body, gone from its list.
        acknowledge().await;
        assert!(
            duties(&store, &clock, node.0, node.1, "inspection_result")
                .await
                .is_empty()
        );
    }
}

#[tokio::test]
async fn a_cancellation_is_applied_within_five_days_for_national_and_ten_for_provincial_licences() {
    for backend in BACKENDS {
        let dir = licnode_testkit::temp_dir().expect("dir");
        let (store, _database) = open(backend, dir.path()).await;
        let province = Archive::new(store.clone(), "330000");
        let national = Archive::new(store.clone(), "100000");
        let provincial_licence = province
            .create(
                "licences",
                Some("330106"),
                &record(
                    "licences",
                    "330106",
                    json!({ "issuing_level": "provincial", "status": "valid" }),
                ),
                &Author::clerk("clerk"),
            )
            .await
            .expect("provincial licence")
            .record;
        let national_licence = national
            .create(
                "licences",
                Some("330106"),
                &record(
                    "licences",
                    "330106",
                    json!({ "issuing_level": "national", "status": "valid",
                            "licence_number": "(浙)xk06-001-00999" }),
                ),
                &Author::clerk("clerk"),
            )
            .await
            .expect("national licence")
            .record;
        for (author, licence) in [
            (&province, &provincial_licence),
            (&national, &national_licence),
        ] {
            author
                .create(
                    "licence_events",
                    Some("330106"),
                    &record(
                        "licence_events",
                        "330106",
                        json!({ "licence": licence.id, "event_kind": "cancellation",
                                "event_date": "2026-03-02", "change_items": null,
                                "change_details": null }),
                    ),
                    &Author::approver("approver"),
                )
                .await
                .expect("cancellation");
        }

        let clock = ManualClock::at_date(date("2026-03-08"));
        let items = duties(
            &store,
            &clock,
            "100000",
            Level::National,
            "national_cancellation",
        )
        .await;
        assert_eq!(
            state_of(&items),
            [(DeadlineState::Late, 0, 1)],
            "{backend:?}"
        );
        let items = duties(
            &store,
            &clock,
            "100000",
            Level::National,
            "provincial_cancellation",
        )
        .await;
        assert_eq!(
            state_of(&items),
            [(DeadlineState::Due, 4, 0)],
            "{backend:?}"
        );
        assert_eq!(items[0].due_date, "2026-03-12");
        clock.set_date(date("2026-03-13"));
        let items = duties(
            &store,
            &clock,
            "330000",
            Level::Province,
            "provincial_cancellation",
        )
        .await;
        assert_eq!(
            state_of(&items),
            [(DeadlineState::Late, 0, 1)],
            "{backend:?}"
        );

        // The licence shows the cancellation: applied, gone.
        let mut patch = Map::new();
        patch.insert("status".into(), json!("cancelled"));
        province
            .update(
                &provincial_licence.id,
                &patch,
                &Author::approver("approver"),
            )
            .await
            .expect("cancel");
        assert!(
            duties(
                &store,
                &clock,
                "330000",
                Level::Province,
                "provincial_cancellation"
            )
            .await
            .is_empty()
        );
    }
}

#[tokio::test]
async fn an_approved_application_waits_ten_days_from_its_approval_date_and_edits_do_not_restart_it()
{
    for backend in BACKENDS {
        let dir = licnode_testkit::temp_dir().expect("dir");
        let (store, _database) = open(backend, dir.path()).await;
        let province = Archive::new(store.clone(), "330000");
        // Art. 27: approved on 2 March, the day written with the stage 准予许可.
        let application = province
            .create(
                "applications",
                Some("330106"),
                &record(
                    "applications",
                    "330106",
                    json!({ "stage": "approved", "application_date": "2026-01-05",
                            "approval_date": "2026-03-02" }),
                ),
                &Author::clerk("clerk"),
            )
            .await
            .expect("application")
            .record;
        let application_id = application.id.clone();
        let credit_code = application.data["credit_code"].clone();

        // On its limit (the 12th) due; past it late, by the day.
        let clock = ManualClock::at_date(date("2026-03-12"));
        let items = duties(&store, &clock, "330000", Level::Province, "licence_entry").await;
        assert_eq!(
            state_of(&items),
            [(DeadlineState::Due, 0, 0)],
            "{backend:?}"
        );
        assert_eq!(items[0].record_id.as_deref(), Some(application_id.as_str()));
        assert_eq!(items[0].started, "2026-03-02");
        clock.set_date(date("2026-03-13"));
        let items = duties(&store, &clock, "330000", Level::Province, "licence_entry").await;
        assert_eq!(state_of(&items), [(DeadlineState::Late, 0, 1)]);

        // A later edit of the file does not restart the clock.
        province
            .update(
                &application_id,
                json!({ "accepting_office": "浙江省市场监督管理局行政审批处" })
                    .as_object()
                    .expect("patch"),
                &Author::clerk("clerk"),
            )
            .await
            .expect("edit");
        clock.set_date(date("2026-03-15"));
        let items = duties(&store, &clock, "330000", Level::Province, "licence_entry").await;
        assert_eq!(
            state_of(&items),
            [(DeadlineState::Late, 0, 3)],
            "{backend:?}"
        );
        assert_eq!(items[0].started, "2026-03-02");

        // The approval is written with its date: 准予许可 without one is refused.
        let undated = province
            .update(
                &application_id,
                json!({ "stage": "approved", "approval_date": null })
                    .as_object()
                    .expect("patch"),
                &Author::clerk("clerk"),
            )
            .await
            .expect_err("approval without a date");
        assert_eq!(undated.code(), "validation_failed");

        // Another enterprise's licence does not fulfil it.
        let body = "91330106MA2H3K7Q0";
        let other_credit_code = format!(
            "{body}{}",
            licnode_model::credit_code::check_character(body).expect("check character")
        );
        assert_ne!(json!(other_credit_code), credit_code);
        province
            .create(
                "licences",
                Some("330106"),
                &record(
                    "licences",
                    "330106",
                    json!({ "approval_date": "2026-03-02", "credit_code": other_credit_code }),
                ),
                &Author::clerk("clerk"),
            )
            .await
            .expect("another licence");
        let items = duties(&store, &clock, "330000", Level::Province, "licence_entry").await;
        assert_eq!(
            state_of(&items),
            [(DeadlineState::Late, 0, 3)],
            "{backend:?}"
        );

        // Art. 27: the licence is entered: gone.
        province
            .create(
                "licences",
                Some("330106"),
                &record(
                    "licences",
                    "330106",
                    json!({ "application": application_id, "credit_code": credit_code,
                            "approval_date": "2026-03-02" }),
                ),
                &Author::clerk("clerk"),
            )
            .await
            .expect("licence");
        assert!(
            duties(&store, &clock, "330000", Level::Province, "licence_entry")
                .await
                .is_empty()
        );
    }
}

// Art. 30, 31: registering an approved reviewer, and a review department's or inspection
// body's filing, within 5 days of the approval or filing; met by the registration itself
// (注册编号, 备案编号), whatever the status says.
#[tokio::test]
async fn registrations_are_due_five_days_after_approval_or_filing_and_met_only_by_registering() {
    for backend in BACKENDS {
        let dir = licnode_testkit::temp_dir().expect("dir");
        let (store, _database) = open(backend, dir.path()).await;
        let national = Archive::new(store.clone(), "100000");
        let mut waiting = Vec::new();
        for (rule, collection, start, registration) in [
            (
                "reviewer_registration",
                "reviewers",
                "approval_date",
                "registration_number",
            ),
            (
                "review_department_filing",
                "review_departments",
                "filing_date",
                "filing_number",
            ),
            (
                "inspection_body_filing",
                "inspection_bodies",
                "filing_date",
                "filing_number",
            ),
        ] {
            let mut overrides = json!({ "status": "active", registration: null });
            overrides[start] = json!("2026-03-02");
            if collection == "reviewers" {
                overrides["registration_date"] = Value::Null;
            }
            let id = national
                .create(
                    collection,
                    Some("100000"),
                    &record(collection, "100000", overrides),
                    &Author::clerk("clerk"),
                )
                .await
                .expect("record")
                .record
                .id;
            waiting.push((rule, id, registration));
        }
        let clock = ManualClock::at_date(date("2026-03-07"));
        for (rule, id, _) in &waiting {
            // On the limit: due, although the status already says 有效.
            let items = duties(&store, &clock, "100000", Level::National, rule).await;
            assert_eq!(
                state_of(&items),
                [(DeadlineState::Due, 0, 0)],
                "{rule} {backend:?}"
            );
            assert_eq!(items[0].record_id.as_deref(), Some(id.as_str()));
            assert_eq!(items[0].started, "2026-03-02");
            assert_eq!(
                items[0].articles,
                if *rule == "reviewer_registration" {
                    &[30][..]
                } else {
                    &[31][..]
                }
            );
        }
        clock.set_date(date("2026-03-08"));
        for (rule, id, registration) in &waiting {
            let items = duties(&store, &clock, "100000", Level::National, rule).await;
            assert_eq!(
                state_of(&items),
                [(DeadlineState::Late, 0, 1)],
                "{rule} {backend:?}"
            );
            // Another status does not meet it; the registration does.
            let mut patch = Map::new();
            patch.insert("status".into(), json!("suspended"));
            national
                .update(id, &patch, &Author::approver("approver"))
                .await
                .expect("status");
            assert_eq!(
                duties(&store, &clock, "100000", Level::National, rule)
                    .await
                    .len(),
                1
            );
            let mut patch = Map::new();
            patch.insert((*registration).into(), json!("备2026-0308"));
            national
                .update(id, &patch, &Author::clerk("clerk"))
                .await
                .expect("registered");
            assert!(
                duties(&store, &clock, "100000", Level::National, rule)
                    .await
                    .is_empty()
            );
        }
    }
}

#[tokio::test]
async fn an_inspection_body_change_filing_is_late_until_the_new_value_is_entered() {
    for backend in BACKENDS {
        let dir = licnode_testkit::temp_dir().expect("dir");
        let (store, _database) = open(backend, dir.path()).await;
        let national = Archive::new(store.clone(), "100000");
        let body = national
            .create(
                "inspection_bodies",
                Some("100000"),
                &record(
                    "inspection_bodies",
                    "100000",
                    json!({ "phone": "0571-88880000", "status": "active", "change_filings": [
                        { "changed_item": "phone", "value_before": "0571-88880000",
                          "value_after": "0571-88881111", "filing_date": "2026-03-02" }
                    ] }),
                ),
                &Author::clerk("clerk"),
            )
            .await
            .expect("body")
            .record;
        let clock = ManualClock::at_date(date("2026-03-09"));
        let items = duties(
            &store,
            &clock,
            "100000",
            Level::National,
            "inspection_body_change",
        )
        .await;
        assert_eq!(
            state_of(&items),
            [(DeadlineState::Late, 0, 2)],
            "{backend:?}"
        );
        assert_eq!(items[0].province, "100000");

        let mut patch = Map::new();
        patch.insert("phone".into(), json!("0571-88881111"));
        national
            .update(&body.id, &patch, &Author::clerk("clerk"))
            .await
            .expect("apply");
        assert!(
            duties(
                &store,
                &clock,
                "100000",
                Level::National,
                "inspection_body_change"
            )
            .await
            .is_empty()
        );
    }
}

/// A monthly report of `province` for `period` in `status`.
async fn report(store: &Store, province: &str, period: &str, status: &str) {
    Archive::new(store.clone(), province)
        .create(
            "reports",
            Some(province),
            &record(
                "reports",
                province,
                json!({ "report_kind": "monthly", "period": period, "status": status,
                        "reporting_division": province, "revision": 1 }),
            ),
            &Author::approver("approver"),
        )
        .await
        .expect("report");
}

#[tokio::test]
async fn the_national_roll_up_names_the_province_that_did_not_report_and_how_late() {
    for backend in BACKENDS {
        let dir = licnode_testkit::temp_dir().expect("dir");
        let (store, _database) = open(backend, dir.path()).await;
        // Zhejiang submits February; Jiangsu only drafts it; both are heard from.
        report(&store, "330000", "2026-02", "submitted").await;
        report(&store, "320000", "2026-02", "draft").await;

        let clock = ManualClock::at_date(date("2026-03-10"));
        let february = |items: &[DeadlineItem]| -> Vec<(String, DeadlineState, i64)> {
            items
                .iter()
                .filter(|item| item.subject == "2026-02")
                .map(|item| (item.jurisdiction.clone(), item.state, item.days_late))
                .collect()
        };
        let items = duties(&store, &clock, "100000", Level::National, "monthly_report").await;
        assert_eq!(
            february(&items),
            [("320000".to_string(), DeadlineState::Due, 0)],
            "{backend:?}"
        );

        // Art. 18, 19: due by the 10th; on the 14th Jiangsu is 4 days late.
        clock.set_date(date("2026-03-14"));
        let items = duties(&store, &clock, "100000", Level::National, "monthly_report").await;
        assert_eq!(
            february(&items),
            [("320000".to_string(), DeadlineState::Late, 4)],
            "{backend:?}"
        );
        let provinces = roll_up(&items);
        let jiangsu = provinces
            .iter()
            .find(|province| province.province == "320000")
            .expect("Jiangsu in the roll-up");
        assert_eq!(jiangsu.province_name, "江苏省");
        assert!(
            jiangsu
                .missing_reports
                .contains(&"monthly 2026-02".to_string())
        );
        let zhejiang = provinces
            .iter()
            .find(|province| province.province == "330000")
            .expect("Zhejiang in the roll-up (earlier months)");
        assert!(
            !zhejiang
                .missing_reports
                .contains(&"monthly 2026-02".to_string())
        );
        // Twelve months are owed; Zhejiang reported one of them.
        assert_eq!(zhejiang.late, 11);
        assert_eq!(jiangsu.late, 12);

        // A province node sees only its own report.
        let own = duties(&store, &clock, "320000", Level::Province, "monthly_report").await;
        assert!(own.iter().all(|item| item.jurisdiction == "320000"));
        assert_eq!(own.len(), 12);

        // Jiangsu submits: gone from the national view.
        report(&store, "320000", "2026-02", "submitted").await;
        let items = duties(&store, &clock, "100000", Level::National, "monthly_report").await;
        assert!(february(&items).is_empty(), "{backend:?}");
    }
}

#[tokio::test]
async fn a_province_waits_for_its_own_and_its_pushing_counties_yearly_reports() {
    for backend in BACKENDS {
        let dir = licnode_testkit::temp_dir().expect("dir");
        let (store, _database) = open(backend, dir.path()).await;
        // 西湖区 replicates to the province: it is a child bureau that owes a yearly report.
        licnode_app::replication::store_batch(
            &store,
            licnode_app::replication::ReceivedBatch {
                cursor_move: Default::default(),
                peer: "330106".into(),
                stream: licnode_store::SyncStream::Push,
                cursor: 1,
                changes: Vec::new(),
            },
            |_, _| Ok(()),
        )
        .await
        .expect("cursor");
        // Art. 20: October's report of the year, due by the 31st.
        let clock = ManualClock::at_date(date("2026-11-05"));
        let this_year = |items: &[DeadlineItem]| -> Vec<(String, DeadlineState, i64)> {
            items
                .iter()
                .filter(|item| item.subject == "2026")
                .map(|item| (item.jurisdiction.clone(), item.state, item.days_late))
                .collect()
        };
        let items = duties(&store, &clock, "330000", Level::Province, "yearly_report").await;
        assert_eq!(
            this_year(&items),
            [
                ("330000".to_string(), DeadlineState::Late, 5),
                ("330106".to_string(), DeadlineState::Late, 5)
            ],
            "{backend:?}"
        );

        Archive::new(store.clone(), "330106")
            .create(
                "reports",
                Some("330106"),
                &record(
                    "reports",
                    "330106",
                    json!({ "report_kind": "yearly", "period": "2026", "status": "submitted",
                            "reporting_division": "330106", "revision": 1 }),
                ),
                &Author::approver("approver"),
            )
            .await
            .expect("county report");
        let items = duties(&store, &clock, "330000", Level::Province, "yearly_report").await;
        assert_eq!(
            this_year(&items),
            [("330000".to_string(), DeadlineState::Late, 5)],
            "{backend:?}"
        );
    }
}
