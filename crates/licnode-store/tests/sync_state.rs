//! Replication state: a received batch, its quarantine and its cursor are stored together, and
//! a duplicated or re-ordered batch is harmless. Every test runs against SQLite and PostgreSQL.

use licnode_store::Author;
use licnode_store::sync_state::{
    REASON_MALFORMED, REASON_MISSING_DEPENDENCY, STREAM_PUSH, SyncBatch,
};
use licnode_store::{Archive, Refusal, RemoteChange, Store};
use licnode_testkit::{BACKENDS, Backend, TestDatabase};
use serde_json::json;

async fn open(backend: Backend, dir: &std::path::Path) -> (Store, Option<TestDatabase>) {
    std::fs::create_dir_all(dir).expect("test directory");
    let (url, database) = licnode_testkit::database_url(backend, dir)
        .await
        .expect("test database");
    (Store::open(&url).await.expect("open store"), database)
}

/// The change-log rows of `store` after `after` as a neighbour receives them from `origin`.
async fn rows(store: &Store, after: i64, origin: &str) -> Vec<RemoteChange> {
    store
        .changes_after(after, None, 10_000)
        .await
        .expect("changes")
        .into_iter()
        .map(|row| RemoteChange {
            record_id: row.record_id,
            collection: row.collection,
            jurisdiction: row.jurisdiction,
            author_user: row.author_user,
            at_ms: row.at_ms,
            origin: origin.to_owned(),
            bytes: row.bytes,
        })
        .collect()
}

fn record(collection: &str, jurisdiction: &str) -> serde_json::Map<String, serde_json::Value> {
    let model = licnode_model::collection(collection).expect("collection");
    licnode_gen::Generator::new(11).record(model, jurisdiction)
}

/// Denies every change of `refused_collection`.
fn deny(
    refused_collection: &'static str,
) -> impl FnMut(&RemoteChange, Option<&str>) -> Result<(), Refusal> {
    move |change, _| {
        if change.collection == refused_collection {
            Err(Refusal {
                code: "outside_jurisdiction".into(),
                message: "test refusal".into(),
            })
        } else {
            Ok(())
        }
    }
}

#[tokio::test]
async fn a_batch_its_quarantine_and_its_cursor_are_stored_together_and_replays_are_harmless() {
    for backend in BACKENDS {
        let dir = licnode_testkit::temp_dir().expect("dir");
        let (county, _a) = open(backend, &dir.path().join("county")).await;
        let (province, _b) = open(backend, &dir.path().join("province")).await;
        let archive = Archive::new(county.clone(), "330106");
        archive
            .create(
                "quality_archives",
                None,
                &record("quality_archives", "330106"),
                &Author::clerk("u"),
            )
            .await
            .expect("create");
        let refused = Archive::new(county.clone(), "330000");
        refused
            .create(
                "licences",
                Some("330106"),
                &record("licences", "330106"),
                &Author::clerk("u"),
            )
            .await
            .expect("create");
        let batch = SyncBatch {
            peer: "330106".into(),
            stream: STREAM_PUSH.into(),
            cursor: 2,
            changes: rows(&county, 0, "330106").await,
        };
        assert_eq!(
            province
                .sync_cursor("330106", STREAM_PUSH)
                .await
                .expect("c"),
            0
        );
        let outcome = province
            .apply_sync_batch(batch.clone(), deny("licences"))
            .await
            .expect("apply");
        assert_eq!(outcome.applied.len(), 1, "{backend}");
        assert_eq!(outcome.refused.len(), 1, "{backend}");
        assert_eq!(
            province
                .sync_cursor("330106", STREAM_PUSH)
                .await
                .expect("c"),
            2
        );
        let quarantined = province.quarantined(10).await.expect("list");
        assert_eq!(quarantined.len(), 1, "{backend}");
        assert_eq!(quarantined[0].collection, "licences");
        assert_eq!(quarantined[0].reason, "outside_jurisdiction");
        assert_eq!(quarantined[0].author_node, "330000");
        assert_eq!(quarantined[0].peer, "330106");
        assert_eq!(province.last_seq().await.expect("seq"), 1, "{backend}");

        // The same batch again: nothing new applied or quarantined.
        let again = province
            .apply_sync_batch(batch.clone(), deny("licences"))
            .await
            .expect("apply");
        assert!(again.applied.is_empty(), "{backend}");
        assert_eq!(again.duplicates, 1, "{backend}");
        assert_eq!(province.quarantined(10).await.expect("list").len(), 1);
        assert_eq!(province.last_seq().await.expect("seq"), 1, "{backend}");

        // An older batch arriving late never moves the cursor back.
        let late = SyncBatch {
            cursor: 1,
            changes: batch.changes[..1].to_vec(),
            ..batch
        };
        province
            .apply_sync_batch(late, deny("licences"))
            .await
            .expect("apply");
        assert_eq!(
            province
                .sync_cursor("330106", STREAM_PUSH)
                .await
                .expect("c"),
            2
        );
        assert_eq!(
            province
                .sync_cursor("330108", STREAM_PUSH)
                .await
                .expect("c"),
            0
        );
        county.close().await;
        province.close().await;
    }
}

#[tokio::test]
async fn malformed_changes_and_changes_missing_a_dependency_are_quarantined() {
    for backend in BACKENDS {
        let dir = licnode_testkit::temp_dir().expect("dir");
        let (county, _a) = open(backend, &dir.path().join("county")).await;
        let (province, _b) = open(backend, &dir.path().join("province")).await;
        let archive = Archive::new(county.clone(), "330106");
        let created = archive
            .create(
                "quality_archives",
                None,
                &record("quality_archives", "330106"),
                &Author::clerk("u"),
            )
            .await
            .expect("create");
        let mut patch = serde_json::Map::new();
        patch.insert("product_name".into(), json!("电线电缆（复查）"));
        archive
            .update(&created.record.id, &patch, &Author::clerk("u"))
            .await
            .expect("update");
        // Only the second change: its dependency never arrives.
        let mut changes = rows(&county, 1, "330106").await;
        assert_eq!(changes.len(), 1);
        let mut garbage = changes[0].clone();
        garbage.bytes = b"\x85\x6f\x4a\x83garbage".to_vec();
        changes.push(garbage.clone());
        garbage.bytes = vec![0u8; 64];
        changes.push(garbage.clone());
        changes.push(garbage);
        let outcome = province
            .apply_sync_batch(
                SyncBatch {
                    peer: "330106".into(),
                    stream: STREAM_PUSH.into(),
                    cursor: 2,
                    changes,
                },
                |_, _| Ok(()),
            )
            .await
            .expect("apply");
        assert!(outcome.applied.is_empty(), "{backend}");
        let quarantined = province.quarantined(10).await.expect("list");
        let reasons: Vec<&str> = quarantined.iter().map(|q| q.reason.as_str()).collect();
        assert_eq!(
            reasons,
            [
                REASON_MALFORMED,
                REASON_MALFORMED,
                REASON_MISSING_DEPENDENCY
            ],
            "{backend}"
        );
        assert_eq!(province.last_seq().await.expect("seq"), 0, "{backend}");
        assert_eq!(
            province
                .sync_cursor("330106", STREAM_PUSH)
                .await
                .expect("c"),
            2
        );
        county.close().await;
        province.close().await;
    }
}
