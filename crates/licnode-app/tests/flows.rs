//! The regulation's flows through the records service, on both backends: a reference names a
//! record the node holds (issue 13, item 2), a county's quality archive takes its licence's
//! particulars (Art. 12, 29), a notice of a failed spot check is linked with the quality
//! archives of its enterprise and leaves them waiting for their update (Art. 24, 29), and an
//! application's licence file shows its five stages (Art. 6).
//!
//! A county's copy of a licence is written here by a province archive over the county's own
//! store: the copy the authority table sends down (tested in `reports.rs` and the sync tests).

use licnode_app::{Archive, Author};
use licnode_model::Level;
use licnode_store::Store;
use licnode_testkit::{BACKENDS, Backend, TestDatabase};
use serde_json::{Map, Value, json};

async fn open(backend: Backend, dir: &std::path::Path) -> (Store, Option<TestDatabase>) {
    std::fs::create_dir_all(dir).expect("test directory");
    let (url, database) = licnode_testkit::database_url(backend, dir)
        .await
        .expect("test database");
    (Store::open(&url).await.expect("open store"), database)
}

/// A generated record of `collection` for `jurisdiction` with `overrides` written over it.
fn record(collection: &str, jurisdiction: &str, seed: u64, overrides: Value) -> Map<String, Value> {
    let model = licnode_model::collection(collection).expect("collection");
    let mut input = licnode_gen::Generator::new(seed).record(model, jurisdiction);
    if let Value::Object(overrides) = overrides {
        for (field, value) in overrides {
            input.insert(field, value);
        }
    }
    input
}

async fn count(archive: &Archive, collection: &str) -> i64 {
    archive
        .counts()
        .await
        .expect("counts")
        .into_iter()
        .find(|(name, _)| name == collection)
        .map_or(0, |(_, count)| count)
}

/// A licence of an enterprise in Xihu (330106) issued by Zhejiang, held by the county's store.
async fn licence_in_xihu(store: &Store, seed: u64) -> licnode_store::StoredRecord {
    let province = Archive::new(store.clone(), "330000");
    province
        .create(
            "licences",
            Some("330106"),
            &record(
                "licences",
                "330106",
                seed,
                json!({ "issuing_level": "provincial", "valid_until": "2030-04-30" }),
            ),
            &Author::approver("approver"),
        )
        .await
        .expect("licence")
        .record
}

// Issue 13, item 2: a reference names a record the node holds; today's county accepted a
// licence id that exists nowhere.
#[tokio::test]
async fn a_reference_to_a_record_this_node_does_not_hold_is_refused_and_changes_nothing() {
    for backend in BACKENDS {
        let dir = licnode_testkit::temp_dir().expect("dir");
        let (store, _database) = open(backend, dir.path()).await;
        let county = Archive::new(store.clone(), "330106");
        let nowhere = "0192f0c4-0000-7000-8000-00000000dead";
        let archive_input = record(
            "quality_archives",
            "330106",
            1,
            json!({ "licence": nowhere }),
        );
        let refused = county
            .create(
                "quality_archives",
                None,
                &archive_input,
                &Author::clerk("clerk"),
            )
            .await
            .expect_err("an unknown licence");
        assert_eq!(refused.code(), "unknown_reference", "{backend}");
        assert_eq!(count(&county, "quality_archives").await, 0);

        // A licence's application, at the province.
        let province = Archive::new(store.clone(), "330000");
        let licence_input = record("licences", "330106", 2, json!({ "application": nowhere }));
        let refused = province
            .create(
                "licences",
                Some("330106"),
                &licence_input,
                &Author::approver("approver"),
            )
            .await
            .expect_err("an unknown application");
        assert_eq!(refused.code(), "unknown_reference");
        assert_eq!(count(&province, "licences").await, 0);

        // A record of another collection is no licence: an application's id as `licence`.
        let application = province
            .create(
                "applications",
                Some("330106"),
                &record("applications", "330106", 3, json!({})),
                &Author::clerk("clerk"),
            )
            .await
            .expect("application")
            .record;
        let mut wrong_collection = record("quality_archives", "330106", 4, json!({}));
        wrong_collection.insert("licence".into(), json!(application.id));
        let refused = county
            .create(
                "quality_archives",
                None,
                &wrong_collection,
                &Author::clerk("clerk"),
            )
            .await
            .expect_err("an application is no licence");
        assert_eq!(refused.code(), "unknown_reference");

        // An edit naming an unknown licence changes nothing.
        let archive = county
            .create(
                "quality_archives",
                None,
                &record("quality_archives", "330106", 5, json!({})),
                &Author::clerk("clerk"),
            )
            .await
            .expect("archive without a licence")
            .record;
        let mut patch = Map::new();
        patch.insert("licence".into(), json!(nowhere));
        patch.insert("quality_notes".into(), json!("不应写入"));
        let refused = county
            .update(&archive.id, &patch, &Author::clerk("clerk"))
            .await
            .expect_err("an unknown licence in an edit");
        assert_eq!(refused.code(), "unknown_reference");
        let after = county.get(&archive.id).await.expect("archive");
        assert_eq!(after.data, archive.data);
        assert_eq!(after.last_seq, archive.last_seq);
        store.close().await;
    }
}

// Art. 12, 29 (issue 13, item 2): the county picks the licence it holds; number, enterprise
// and validity come from the licence instead of being retyped.
#[tokio::test]
async fn a_countys_quality_archive_takes_number_and_validity_from_the_licence_it_picks() {
    for backend in BACKENDS {
        let dir = licnode_testkit::temp_dir().expect("dir");
        let (store, _database) = open(backend, dir.path()).await;
        let licence = licence_in_xihu(&store, 7).await;
        let county = Archive::new(store.clone(), "330106");
        let mut picked = Map::new();
        picked.insert("licence".into(), json!(licence.id));
        picked.insert("quality_status".into(), json!("good"));
        let archive = county
            .create("quality_archives", None, &picked, &Author::clerk("clerk"))
            .await
            .expect("archive from a picked licence")
            .record;
        for field in licnode_app::records::references::FIELDS_TAKEN_FROM_LICENCE {
            assert_eq!(
                archive.data[field], licence.data[field],
                "{backend} {field}"
            );
        }
        assert_eq!(archive.data["valid_until"], json!("2030-04-30"));
        assert_eq!(archive.jurisdiction, "330106");

        // A particular typed that contradicts the licence is refused, and nothing is stored.
        let mut contradicting = picked.clone();
        contradicting.insert("valid_until".into(), json!("2031-01-01"));
        let refused = county
            .create(
                "quality_archives",
                None,
                &contradicting,
                &Author::clerk("clerk"),
            )
            .await
            .expect_err("a validity the licence does not have");
        assert_eq!(refused.code(), "reference_mismatch");
        assert_eq!(count(&county, "quality_archives").await, 1);
        store.close().await;
    }
}

// Art. 24, 29 (issue 13, item 2): a notice of a failed spot check names an enterprise; its
// quality archives are linked both ways and wait on the board until they are updated.
#[tokio::test]
async fn a_failed_spot_check_notice_links_its_enterprises_archives_until_they_are_updated() {
    for backend in BACKENDS {
        let dir = licnode_testkit::temp_dir().expect("dir");
        let (store, _database) = open(backend, dir.path()).await;
        let licence = licence_in_xihu(&store, 11).await;
        let other_licence = licence_in_xihu(&store, 12).await;
        let county = Archive::new(store.clone(), "330106");
        let mut picked = Map::new();
        picked.insert("licence".into(), json!(licence.id));
        let archive = county
            .create("quality_archives", None, &picked, &Author::clerk("clerk"))
            .await
            .expect("archive")
            .record;
        picked.insert("licence".into(), json!(other_licence.id));
        let unconcerned = county
            .create("quality_archives", None, &picked, &Author::clerk("clerk"))
            .await
            .expect("other archive")
            .record;
        assert!(
            county
                .archives_awaiting_update()
                .await
                .expect("board")
                .is_empty()
        );

        // The notice is written after the archive (its document's creation time is later).
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        let province = Archive::new(store.clone(), "330000");
        let notice = province
            .create(
                "notices",
                Some("330106"),
                &record(
                    "notices",
                    "330106",
                    13,
                    json!({
                        "notice_kind": "provincial_spot_check_failure",
                        "status": "issued",
                        "credit_code": licence.data["credit_code"],
                        "licence_number": licence.data["licence_number"],
                    }),
                ),
                &Author::clerk("clerk"),
            )
            .await
            .expect("notice")
            .record;

        let (_, notices) = county
            .linked_by_enterprise(&archive.id)
            .await
            .expect("links");
        assert_eq!(ids(&notices), vec![notice.id.clone()], "{backend}");
        let (_, archives) = county
            .linked_by_enterprise(&notice.id)
            .await
            .expect("links");
        assert_eq!(ids(&archives), vec![archive.id.clone()]);
        let (_, none) = county
            .linked_by_enterprise(&unconcerned.id)
            .await
            .expect("links");
        assert!(none.is_empty());

        let waiting = county.archives_awaiting_update().await.expect("board");
        assert_eq!(waiting.len(), 1);
        assert_eq!(waiting[0].archive.id, archive.id);
        assert_eq!(ids(&waiting[0].notices), vec![notice.id.clone()]);

        // The county records the spot check in the archive: it no longer waits.
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        let mut patch = Map::new();
        patch.insert(
            "supervision_records".into(),
            json!([{ "supervision_date": "2026-05-10", "supervision_kind": "provincial_spot_check",
                      "result": "nonconforming", "findings": "抽查不合格", "handling": "责令整改" }]),
        );
        county
            .update(&archive.id, &patch, &Author::clerk("clerk"))
            .await
            .expect("update");
        assert!(
            county
                .archives_awaiting_update()
                .await
                .expect("board")
                .is_empty()
        );
        store.close().await;
    }
}

fn ids(records: &[licnode_store::StoredRecord]) -> Vec<String> {
    records.iter().map(|record| record.id.clone()).collect()
}

// Art. 6: the licence file grows through 申请, 受理, 现场审查, 产品检验, 许可审批; the file of an
// application shows each stage with its date and the records that make it.
#[tokio::test]
async fn an_applications_licence_file_shows_each_stage_with_its_date_and_records() {
    for backend in BACKENDS {
        let dir = licnode_testkit::temp_dir().expect("dir");
        let (store, _database) = open(backend, dir.path()).await;
        let province = Archive::new(store.clone(), "330000");
        let approver = Author::approver("approver");
        let application = province
            .create(
                "applications",
                Some("330106"),
                &record(
                    "applications",
                    "330106",
                    21,
                    json!({ "application_date": "2026-01-05", "acceptance_date": "2026-01-08",
                            "approval_date": null, "stage": "accepted" }),
                ),
                &approver,
            )
            .await
            .expect("application")
            .record;
        let file = province.licence_file(&application.id).await.expect("file");
        let dates: Vec<Option<&str>> = file
            .stages
            .iter()
            .map(|stage| stage.date.as_deref())
            .collect();
        assert_eq!(
            dates,
            vec![Some("2026-01-05"), Some("2026-01-08"), None, None, None],
            "{backend}"
        );

        let names_it = json!({ "application": application.id });
        let mut verification = record("site_verifications", "330106", 22, names_it.clone());
        verification.insert("verification_date".into(), json!("2026-02-10"));
        let verification = province
            .create(
                "site_verifications",
                Some("330106"),
                &verification,
                &approver,
            )
            .await
            .expect("site verification")
            .record;
        let body = Archive::with_level(store.clone(), "IB0001", Level::InspectionBody);
        let mut inspection = record("inspections", "330106", 23, names_it.clone());
        inspection.insert("completion_date".into(), json!("2026-02-20"));
        let inspection = body
            .create(
                "inspections",
                Some("330106"),
                &inspection,
                &Author::clerk("clerk"),
            )
            .await
            .expect("inspection")
            .record;
        let mut licence = record("licences", "330106", 24, names_it);
        licence.insert("approval_date".into(), json!("2026-03-01"));
        let licence = province
            .create("licences", Some("330106"), &licence, &approver)
            .await
            .expect("licence")
            .record;
        // A record of another application stays out of this file.
        province
            .create(
                "site_verifications",
                Some("330106"),
                &record("site_verifications", "330106", 25, json!({})),
                &approver,
            )
            .await
            .expect("unrelated verification");

        let file = province.licence_file(&application.id).await.expect("file");
        let codes: Vec<&str> = file.stages.iter().map(|stage| stage.code).collect();
        assert_eq!(
            codes,
            [
                "application",
                "acceptance",
                "site_review",
                "product_inspection",
                "approval"
            ]
        );
        let names: Vec<&str> = file.stages.iter().map(|stage| stage.name_zh).collect();
        assert_eq!(names, ["申请", "受理", "现场审查", "产品检验", "许可审批"]);
        let stage = |code: &str| {
            file.stages
                .iter()
                .find(|stage| stage.code == code)
                .expect("stage")
        };
        assert_eq!(stage("site_review").date.as_deref(), Some("2026-02-10"));
        assert_eq!(
            ids(&stage("site_review").records),
            vec![verification.id.clone()]
        );
        assert_eq!(
            stage("product_inspection").date.as_deref(),
            Some("2026-02-20")
        );
        assert_eq!(
            ids(&stage("product_inspection").records),
            vec![inspection.id.clone()]
        );
        assert_eq!(stage("approval").date.as_deref(), Some("2026-03-01"));
        assert_eq!(ids(&stage("approval").records), vec![licence.id]);
        // Art. 36: the file offers no unmasked reading; secret values show the mask.
        let mut masked_total = 0;
        for (shown, stored) in [
            (&stage("site_review").records[0], &verification),
            (&stage("product_inspection").records[0], &inspection),
        ] {
            let model = licnode_model::collection(&stored.collection).expect("model");
            let mut expected = stored.data.clone();
            masked_total +=
                licnode_app::records::secrecy::mask_secret_fields(model, &mut expected).len();
            assert_eq!(shown.data, expected, "{backend}");
        }
        assert!(masked_total > 0, "the records carry secret values to mask");
        assert_eq!(
            ids(&stage("application").records),
            vec![application.id.clone()]
        );

        // Only an application has a file.
        let refused = province
            .licence_file(&licence_in_xihu(&store, 26).await.id)
            .await
            .expect_err("a licence is no application");
        assert_eq!(refused.code(), "not_found");
        store.close().await;
    }
}

// Art. 20: the yearly report's four contents are sections with figures from the year's records
// and from the supervision reports the bureau holds for the year (its own and those sent up).
#[tokio::test]
async fn a_yearly_report_has_four_sections_with_the_years_supervision_report_figures() {
    use licnode_app::{ManualClock, ReportSettings, Reports, SharedClock};
    for backend in BACKENDS {
        let dir = licnode_testkit::temp_dir().expect("dir");
        let (store, _database) = open(backend, dir.path()).await;
        // What the province holds: its counties' and prefectures' supervision reports, as they
        // arrive by replication (written here over the province's store), one of last year.
        for (seed, author, year, licensed, patrol, problems) in [
            (31, "330106", 2026, 40, 12, 2),
            (32, "330100", 2026, 100, 30, 5),
            (33, "330106", 2025, 999, 999, 999),
        ] {
            let bureau = Archive::new(store.clone(), author);
            let input = record(
                "supervision_reports",
                author,
                seed,
                json!({ "year": year, "licensed_enterprise_count": licensed,
                        "patrol_visit_count": patrol, "problem_enterprise_count": problems }),
            );
            bureau
                .create("supervision_reports", None, &input, &Author::clerk("clerk"))
                .await
                .expect("supervision report");
        }
        let clock: SharedClock =
            ManualClock::at_date(chrono::NaiveDate::from_ymd_opt(2026, 10, 2).expect("date"));
        let reports = Reports::new(
            Archive::new(store.clone(), "330000"),
            clock,
            ReportSettings {
                unit_name: "浙江省市场监督管理局".into(),
                auto_submit: true,
            },
        );
        let report = reports
            .run(&licnode_reports::Period::Year(2026), "schedule")
            .await
            .expect("run")
            .report
            .expect("report");
        let content: Value =
            serde_json::from_str(report.data["content"].as_str().expect("content")).expect("json");
        let sections = content["sections"].as_array().expect("sections");
        let names: Vec<&str> = sections
            .iter()
            .map(|section| section["name_zh"].as_str().expect("name"))
            .collect();
        assert_eq!(
            names,
            ["年度审查", "巡查回访", "定期监督", "问题企业处理"],
            "{backend}"
        );
        assert_eq!(content["supervision_reports"], json!(2));
        let reported = |section: usize, figure: usize| {
            sections[section]["figures"][figure]["from_supervision_reports"].clone()
        };
        assert_eq!(reported(0, 0), json!(140));
        assert_eq!(reported(1, 0), json!(42));
        assert_eq!(reported(3, 0), json!(7));
        // Each section's narrative is a field of the report, required before it goes up.
        let model = licnode_model::collection("reports").expect("reports");
        for section in &licnode_reports::YEARLY_SECTIONS {
            assert!(model.field(section.narrative_field).is_some());
            assert_eq!(
                section.narrative_field,
                sections
                    .iter()
                    .find(|s| s["code"] == section.code)
                    .expect("section")["narrative_field"]
            );
        }
        assert_eq!(report.data["status"], json!("draft"));
        store.close().await;
    }
}

// Art. 20: a county's and a prefecture's yearly reports go to their superior, a province's to
// national — the authority table sends each `reports` record up the tree.
#[test]
fn a_yearly_report_goes_up_from_county_to_prefecture_to_province_to_national() {
    use licnode_sync::{Decision, Flow, Link, NodeRef, decide};
    let county = NodeRef::new("330106", Level::County);
    let prefecture = NodeRef::new("330100", Level::Prefecture);
    let province = NodeRef::new("330000", Level::Province);
    let national = NodeRef::new("100000", Level::National);
    for (sender, parent, author) in [
        (&county, &prefecture, &county),
        (&prefecture, &province, &prefecture),
        (&prefecture, &province, &county),
        (&province, &national, &province),
    ] {
        let decision = decide(
            sender,
            parent,
            Link::Parent,
            Flow::Send,
            "reports",
            &author.code,
            author,
        );
        assert_eq!(
            decision,
            Decision::Allow,
            "{} -> {}",
            sender.code,
            parent.code
        );
    }
    // A sibling county's report is not another county's to send.
    let other_county = NodeRef::new("330105", Level::County);
    let refused = decide(
        &county,
        &prefecture,
        Link::Parent,
        Flow::Send,
        "reports",
        "330105",
        &other_county,
    );
    assert_ne!(refused, Decision::Allow);
}

// Art. 12, 20, 29 (issue 13, item 2): a county's yearly report counts the licensed
// enterprises of its territory (their licences came down to it) and the enterprises it
// reviewed (年度审查, recorded in their quality archives) — both 0 before.
#[tokio::test]
async fn a_countys_yearly_report_counts_its_licensed_enterprises_and_its_reviews() {
    use licnode_app::{ManualClock, ReportSettings, Reports, SharedClock};
    for backend in BACKENDS {
        let dir = licnode_testkit::temp_dir().expect("dir");
        let (store, _database) = open(backend, dir.path()).await;
        let clock: SharedClock =
            ManualClock::at_date(chrono::NaiveDate::from_ymd_opt(2026, 10, 2).expect("date"));
        let county = Reports::new(
            Archive::new(store.clone(), "330106"),
            clock,
            ReportSettings {
                unit_name: "杭州市西湖区市场监督管理局".into(),
                auto_submit: false,
            },
        );
        let year = licnode_reports::Period::Year(2026);
        let figures = |report: Option<licnode_store::StoredRecord>| {
            let report = report.expect("report");
            let content: Value =
                serde_json::from_str(report.data["content"].as_str().expect("content"))
                    .expect("json");
            (
                content["figures"]["licensed_enterprise_count"].clone(),
                content["figures"]["review_count"].clone(),
            )
        };
        let before = county.run(&year, "schedule").await.expect("run").report;
        assert_eq!(figures(before), (json!(0), json!(0)), "{backend}");

        let licence = licence_in_xihu(&store, 51).await;
        let mut picked = Map::new();
        picked.insert("licence".into(), json!(licence.id));
        picked.insert(
            "supervision_records".into(),
            json!([{ "supervision_date": "2026-06-01", "supervision_kind": "annual_review",
                      "result": "conforming" }]),
        );
        county
            .archive
            .create("quality_archives", None, &picked, &Author::clerk("clerk"))
            .await
            .expect("archive");
        let after = county.run(&year, "schedule").await.expect("rerun").report;
        assert_eq!(figures(after), (json!(1), json!(1)));
        store.close().await;
    }
}
