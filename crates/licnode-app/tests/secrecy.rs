//! Art. 36 (issue 13, item 10): secret fields are masked for every reader of the records service
//! unless an approver or administrator asks for them, and every unmasked read that showed a
//! secret leaves a `secret_disclosed` audit entry; on both backends.

use licnode_app::{Archive, ArchiveError, Author, Reader, SecretFields};
use licnode_model::MASKED_SECRET;
use licnode_store::administration::AuditSearch;
use licnode_store::{AuditKind, AuditRecord, ListQuery, Role, SearchQuery, Store};
use licnode_testkit::{BACKENDS, Backend, TestDatabase};
use serde_json::{Map, Value, json};

const PROVINCE: &str = "330000";

async fn open(backend: Backend, dir: &std::path::Path) -> (Archive, Option<TestDatabase>) {
    std::fs::create_dir_all(dir).expect("test directory");
    let (url, database) = licnode_testkit::database_url(backend, dir)
        .await
        .expect("test database");
    let store = Store::open(&url).await.expect("open store");
    (Archive::new(store, PROVINCE), database)
}

/// A province's quality archive of one enterprise with its production scale, output value and
/// conditions filled in (all three secret, Art. 36), and its id.
async fn quality_archive(archive: &Archive) -> (String, Map<String, Value>) {
    let model = licnode_model::collection("quality_archives").expect("quality_archives");
    let mut fields = licnode_gen::Generator::new(36).record(model, PROVINCE);
    fields.insert("production_scale".into(), json!("年产电缆 12000 千米"));
    fields.insert("annual_output_value".into(), json!(8600));
    fields.insert(
        "production_conditions".into(),
        json!("三条交联生产线，自有检测室"),
    );
    let created = archive
        .create("quality_archives", None, &fields, &Author::clerk("clerk"))
        .await
        .expect("created");
    (created.record.id, fields)
}

async fn disclosures(archive: &Archive) -> Vec<AuditRecord> {
    archive
        .audit_search(&AuditSearch {
            kind: Some(AuditKind::SecretDisclosed),
            limit: 100,
            ..AuditSearch::default()
        })
        .await
        .expect("audit search")
        .entries
}

#[tokio::test]
async fn a_clerk_reads_a_record_with_its_secret_fields_masked_and_nothing_is_audited() {
    for backend in BACKENDS {
        let dir = licnode_testkit::temp_dir().expect("dir");
        let (archive, _database) = open(backend, dir.path()).await;
        let (id, stored) = quality_archive(&archive).await;
        let clerk = Reader::masked(&Author::clerk("clerk"), "test");

        let read = archive.read_as(&id, &clerk).await.expect("read");
        for secret in [
            "production_scale",
            "annual_output_value",
            "production_conditions",
        ] {
            assert_eq!(
                read.data[secret],
                json!(MASKED_SECRET),
                "{backend}: {secret}"
            );
        }
        assert_eq!(
            read.data["enterprise_name"], stored["enterprise_name"],
            "{backend}: a field that is not secret is shown"
        );
        let listed = archive
            .list_as(
                &ListQuery {
                    collection: "quality_archives".into(),
                    limit: 10,
                    ..ListQuery::default()
                },
                &clerk,
            )
            .await
            .expect("list");
        assert_eq!(
            listed.items[0].data["production_scale"],
            json!(MASKED_SECRET)
        );
        let name = stored["enterprise_name"].as_str().expect("a name");
        let found = archive
            .search_as(
                &SearchQuery {
                    name: Some(name.chars().take(4).collect()),
                    limit: 10,
                    ..SearchQuery::default()
                },
                &clerk,
            )
            .await
            .expect("search");
        assert!(!found.items.is_empty(), "{backend}: the search finds it");
        assert!(
            found
                .items
                .iter()
                .all(|record| record.data["production_scale"] == json!(MASKED_SECRET)),
            "{backend}: search results are masked"
        );
        assert!(
            disclosures(&archive).await.is_empty(),
            "{backend}: a masked read discloses nothing"
        );
    }
}

#[tokio::test]
async fn a_clerk_or_an_auditor_asking_for_secret_fields_unmasked_is_refused() {
    for role in [Role::Clerk, Role::Auditor] {
        let refused = Reader::new(
            &Author::staff("someone", role),
            SecretFields::Unmasked,
            "test",
        )
        .expect_err("refused");
        assert!(
            matches!(refused, ArchiveError::SecretNotForRole { .. }),
            "{role:?}: {refused}"
        );
        assert_eq!(refused.code(), "secret_not_for_role");
    }
}

#[tokio::test]
async fn an_approver_reads_secret_fields_unmasked_and_the_audit_log_holds_the_read() {
    for backend in BACKENDS {
        let dir = licnode_testkit::temp_dir().expect("dir");
        let (archive, _database) = open(backend, dir.path()).await;
        let (id, stored) = quality_archive(&archive).await;
        let approver = Reader::new(&Author::approver("wang"), SecretFields::Unmasked, "test")
            .expect("an approver may ask");

        let read = archive.read_as(&id, &approver).await.expect("read");
        assert_eq!(read.data["production_scale"], stored["production_scale"]);
        assert_eq!(read.data["annual_output_value"], json!(8600));

        let entries = disclosures(&archive).await;
        assert_eq!(entries.len(), 1, "{backend}: one read, one entry");
        let entry = &entries[0];
        assert_eq!(entry.user, "wang");
        assert_eq!(entry.record_id.as_deref(), Some(id.as_str()));
        assert_eq!(entry.detail["role"], json!("approver"));
        assert_eq!(entry.detail["collections"], json!(["quality_archives"]));
        assert_eq!(
            entry.detail["fields"],
            json!([
                "production_scale",
                "annual_output_value",
                "production_conditions"
            ])
        );
        let logged = serde_json::to_string(entry).expect("entry as JSON");
        assert!(
            !logged.contains("12000"),
            "{backend}: the audit log names the fields, never their values"
        );
    }
}

#[tokio::test]
async fn a_filter_on_a_secret_field_is_refused_to_a_clerk_and_audited_for_an_approver() {
    for backend in BACKENDS {
        let dir = licnode_testkit::temp_dir().expect("dir");
        let (archive, _database) = open(backend, dir.path()).await;
        quality_archive(&archive).await;
        let probe = ListQuery {
            collection: "quality_archives".into(),
            fields: vec![("production_scale".into(), "年产电缆 12000 千米".into())],
            limit: 10,
            ..ListQuery::default()
        };
        let refused = archive
            .list_as(&probe, &Reader::masked(&Author::clerk("clerk"), "test"))
            .await
            .expect_err("a clerk may not probe a secret");
        assert_eq!(refused.code(), "secret_not_for_role", "{backend}");

        let approver = Reader::masked(&Author::approver("wang"), "test");
        let found = archive.list_as(&probe, &approver).await.expect("list");
        assert_eq!(found.items.len(), 1, "{backend}: the filter matched");
        assert_eq!(
            found.items[0].data["production_scale"],
            json!(MASKED_SECRET)
        );
        let entries = disclosures(&archive).await;
        assert_eq!(entries.len(), 1, "{backend}");
        assert_eq!(
            entries[0].detail["filtered_on"],
            json!(["production_scale"])
        );
    }
}

#[tokio::test]
async fn the_mask_sent_back_in_a_secret_field_is_refused_and_the_secret_kept() {
    for backend in BACKENDS {
        let dir = licnode_testkit::temp_dir().expect("dir");
        let (archive, _database) = open(backend, dir.path()).await;
        let (id, stored) = quality_archive(&archive).await;
        let clerk = Author::clerk("clerk");
        let masked = archive
            .read_as(&id, &Reader::masked(&clerk, "test"))
            .await
            .expect("read");
        let mut patch = Map::new();
        patch.insert(
            "production_scale".into(),
            masked.data["production_scale"].clone(),
        );
        let refused = archive
            .update(&id, &patch, &clerk)
            .await
            .expect_err("refused");
        let ArchiveError::Invalid(errors) = &refused else {
            panic!("{backend}: {refused}");
        };
        assert_eq!(errors.0[0].code, licnode_model::codes::MASKED_VALUE);
        let kept = archive.get(&id).await.expect("record");
        assert_eq!(
            kept.data["production_scale"], stored["production_scale"],
            "{backend}"
        );
    }
}
