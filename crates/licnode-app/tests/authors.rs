//! The write path judges every write by its author's role, on the validated values, at every
//! door (create, prepare, bulk, update, the reports service), on both backends (issue 11,
//! items 1 and 2).

use chrono::NaiveDate;
use licnode_app::{
    Approval, Archive, ArchiveError, Author, BulkRow, BulkWriter, ManualClock, ReportError,
    ReportSettings, Reports, SharedClock,
};
use licnode_reports::Period;
use licnode_store::{Role, Store};
use licnode_testkit::{BACKENDS, Backend, TestDatabase};
use serde_json::{Map, Value, json};

async fn open(backend: Backend, dir: &std::path::Path) -> (Store, Option<TestDatabase>) {
    std::fs::create_dir_all(dir).expect("test directory");
    let (url, database) = licnode_testkit::database_url(backend, dir)
        .await
        .expect("test database");
    (Store::open(&url).await.expect("open store"), database)
}

fn licence(status: &str) -> Map<String, Value> {
    let collection = licnode_model::collection("licences").expect("licences");
    let mut input = licnode_gen::Generator::new(3).record(collection, "330106");
    input.insert("status".into(), json!(status));
    input
}

fn needs_approval<T: std::fmt::Debug>(result: Result<T, ArchiveError>) -> bool {
    matches!(
        result,
        Err(ArchiveError::ApprovalRequired {
            approval: Approval::TerminalLicenceStatus(_),
            ..
        })
    )
}

// Issue 11, item 1; Art. 13, 19, 28.
#[tokio::test]
async fn every_door_of_the_write_path_refuses_a_clerk_a_terminal_status() {
    for backend in BACKENDS {
        let dir = licnode_testkit::temp_dir().expect("dir");
        let (store, _database) = open(backend, dir.path()).await;
        let archive = Archive::new(store.clone(), "330000");
        let clerk = Author::clerk("clerk");
        let revoked = licence(" Revoked ");

        assert!(needs_approval(
            archive.create("licences", None, &revoked, &clerk).await
        ));
        assert!(needs_approval(
            archive.prepare("licences", None, &revoked, &clerk, 0)
        ));
        let mut writer = BulkWriter::new(&archive, "licences", &clerk).expect("writer");
        let (refused, _) = writer
            .write(vec![BulkRow {
                jurisdiction: None,
                fields: revoked.clone(),
            }])
            .await
            .expect("batch");
        assert_eq!(refused.len(), 1, "{backend}");
        assert!(needs_approval::<()>(Err(refused
            .into_iter()
            .next()
            .expect("row")
            .1)));
        assert_eq!(writer.finish().await.expect("finish"), 0);

        let valid = archive
            .create("licences", None, &licence("valid"), &clerk)
            .await
            .expect("a clerk enters a valid licence");
        let before = store.last_seq().await.expect("seq");
        let mut patch = Map::new();
        patch.insert("status".into(), json!("吊销"));
        assert!(needs_approval(
            archive.update(&valid.record.id, &patch, &clerk).await
        ));
        let auditor = Author::staff("auditor", Role::Auditor);
        assert!(matches!(
            archive.update(&valid.record.id, &patch, &auditor).await,
            Err(ArchiveError::ReadOnlyRole { .. })
        ));
        assert!(matches!(
            archive
                .create("licences", None, &licence("valid"), &auditor)
                .await,
            Err(ArchiveError::ReadOnlyRole { .. })
        ));
        assert_eq!(store.last_seq().await.expect("seq"), before, "{backend}");

        // The node's operator imports an archive's decided licences.
        let mut writer =
            BulkWriter::new(&archive, "licences", &Author::operator("import")).expect("writer");
        let (refused, _) = writer
            .write(vec![BulkRow {
                jurisdiction: None,
                fields: revoked,
            }])
            .await
            .expect("batch");
        assert!(refused.is_empty(), "{backend}: {refused:?}");
        assert_eq!(writer.finish().await.expect("finish"), 1);
        let revoked = archive
            .update(&valid.record.id, &patch, &Author::approver("approver"))
            .await
            .expect("an approver revokes");
        assert_eq!(revoked.record.data["status"], json!("revoked_as_penalty"));
        store.close().await;
    }
}

// Issue 11, item 2; Art. 18–20: a correction is the next revision, never an edit.
#[tokio::test]
async fn a_submitted_report_is_refused_to_every_author_even_the_nodes_own_writers() {
    for backend in BACKENDS {
        let dir = licnode_testkit::temp_dir().expect("dir");
        let (store, _database) = open(backend, dir.path()).await;
        let clock: SharedClock =
            ManualClock::at_date(NaiveDate::from_ymd_opt(2026, 11, 2).expect("date"));
        let reports = Reports::new(
            Archive::new(store.clone(), "330000"),
            clock,
            ReportSettings {
                unit_name: "浙江省市场监督管理局".into(),
                auto_submit: false,
            },
        );
        let october = Period::Month {
            year: 2026,
            month: 10,
        };
        let run = reports.run(&october, "schedule").await.expect("run");
        let id = run.report.expect("report").id;
        let refused = reports
            .submit(&id, &Author::clerk("clerk"))
            .await
            .expect_err("a clerk does not submit");
        assert!(
            matches!(
                refused,
                ReportError::Archive(ArchiveError::ApprovalRequired {
                    approval: Approval::ReportSubmission,
                    ..
                })
            ),
            "{backend}: {refused:?}"
        );
        reports
            .submit(&id, &Author::approver("approver"))
            .await
            .expect("an approver submits");

        let before = store.last_seq().await.expect("seq");
        let mut patch = Map::new();
        patch.insert("remarks".into(), json!("补记"));
        for author in [
            Author::clerk("clerk"),
            Author::approver("approver"),
            Author::report_scheduler(),
            Author::operator("operator"),
        ] {
            let result = reports.archive.update(&id, &patch, &author).await;
            assert!(
                matches!(result, Err(ArchiveError::ReportSubmitted(ref refused)) if *refused == id),
                "{backend} {author:?}: {result:?}"
            );
        }
        assert_eq!(store.last_seq().await.expect("seq"), before, "{backend}");
        let again = reports.run(&october, "schedule").await.expect("run again");
        assert_eq!(again.run.outcome, "unchanged");
        store.close().await;
    }
}
