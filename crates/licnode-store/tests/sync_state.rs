//! Replication state: a received batch, its quarantine and its cursor are stored together, and
//! a duplicated or re-ordered batch is harmless. Every test runs against SQLite and PostgreSQL.

use licnode_app::Archive;
use licnode_app::Author;
use licnode_store::sync_state::{REASON_MALFORMED, REASON_MISSING_DEPENDENCY, SyncStream};
use licnode_store::{CursorMove, LoggedChange, Refusal, Store};
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
async fn rows(store: &Store, after: i64, origin: &str) -> Vec<LoggedChange> {
    store
        .changes_after(after, None, 10_000)
        .await
        .expect("changes")
        .into_iter()
        .map(|row| LoggedChange {
            record_id: row.record_id,
            collection: row.collection,
            jurisdiction: row.jurisdiction,
            author_user: row.author_user,
            at_ms: row.at_ms,
            origin: origin.to_owned(),
            bytes: row.bytes,
            ..LoggedChange::default()
        })
        .collect()
}

fn record(collection: &str, jurisdiction: &str) -> serde_json::Map<String, serde_json::Value> {
    let model = licnode_model::collection(collection).expect("collection");
    licnode_gen::Generator::new(11).record(model, jurisdiction)
}

/// A quality archive created at the county (Xihu) and then edited: two changes, the second
/// depending on the first. Returns the record's id.
async fn created_and_edited(county: &Store) -> String {
    let (id, _) = county_record(county).await;
    let mut patch = serde_json::Map::new();
    patch.insert("product_name".into(), json!(EDITED_PRODUCT));
    Archive::new(county.clone(), "330106")
        .update(&id, &patch, &Author::clerk("u"))
        .await
        .expect("update");
    id
}

/// The product name [`created_and_edited`] gives the record.
const EDITED_PRODUCT: &str = "电线电缆（复查）";

/// Denies every change of `refused_collection`.
fn deny(
    refused_collection: &'static str,
) -> impl FnMut(&LoggedChange, Option<&str>) -> Result<(), Refusal> {
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
        let batch = licnode_app::replication::ReceivedBatch {
            cursor_move: Default::default(),
            peer: "330106".into(),
            stream: SyncStream::Push,
            cursor: 2,
            changes: rows(&county, 0, "330106").await,
        };
        assert_eq!(
            province
                .sync_cursor("330106", SyncStream::Push)
                .await
                .expect("c"),
            0
        );
        let outcome =
            licnode_app::replication::store_batch(&province, batch.clone(), deny("licences"))
                .await
                .expect("apply");
        assert_eq!(outcome.applied.len(), 1, "{backend}");
        assert_eq!(outcome.refused.len(), 1, "{backend}");
        assert_eq!(
            province
                .sync_cursor("330106", SyncStream::Push)
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
        let again =
            licnode_app::replication::store_batch(&province, batch.clone(), deny("licences"))
                .await
                .expect("apply");
        assert!(again.applied.is_empty(), "{backend}");
        assert_eq!(again.duplicates, 1, "{backend}");
        assert_eq!(province.quarantined(10).await.expect("list").len(), 1);
        assert_eq!(province.last_seq().await.expect("seq"), 1, "{backend}");

        // An older batch arriving late never moves the cursor back.
        let late = licnode_app::replication::ReceivedBatch {
            cursor_move: Default::default(),
            cursor: 1,
            changes: batch.changes[..1].to_vec(),
            ..batch
        };
        licnode_app::replication::store_batch(&province, late, deny("licences"))
            .await
            .expect("apply");
        assert_eq!(
            province
                .sync_cursor("330106", SyncStream::Push)
                .await
                .expect("c"),
            2
        );
        assert_eq!(
            province
                .sync_cursor("330108", SyncStream::Push)
                .await
                .expect("c"),
            0
        );
        county.close().await;
        province.close().await;
    }
}

/// A transaction that moves a replication cursor wakes whoever watches the cursors at its
/// commit, not before: a child's next pushed batch waits on it while the batch before is stored
/// (issue 14). One that moves none wakes nobody.
#[tokio::test]
async fn a_moved_cursor_wakes_its_watchers_at_the_commit() {
    for backend in BACKENDS {
        let dir = licnode_testkit::temp_dir().expect("dir");
        let (store, _database) = open(backend, &dir.path().join("province")).await;
        let mut watching = store.watch_cursors();
        watching.borrow_and_update();

        let mut tx = store.begin_replication().await.expect("begin");
        tx.advance_cursor("330106", SyncStream::Push, 7, &CursorMove::default())
            .await
            .expect("move the cursor");
        assert!(
            !watching.has_changed().expect("watch"),
            "{backend:?}: woken before the commit"
        );
        tx.commit().await.expect("commit");
        assert!(
            watching.has_changed().expect("watch"),
            "{backend:?}: the commit of a moved cursor woke nobody"
        );
        assert_eq!(
            store
                .sync_cursor("330106", SyncStream::Push)
                .await
                .expect("cursor"),
            7
        );

        watching.borrow_and_update();
        let tx = store.begin_replication().await.expect("begin");
        tx.commit().await.expect("commit");
        assert!(
            !watching.has_changed().expect("watch"),
            "{backend:?}: a transaction that moved no cursor woke its watchers"
        );

        store
            .advance_sync_cursor("330106", SyncStream::Push, 9)
            .await
            .expect("advance");
        assert!(
            watching.has_changed().expect("watch"),
            "{backend:?}: a cursor moved on its own woke nobody"
        );
    }
}

#[tokio::test]
async fn malformed_changes_and_changes_missing_a_dependency_are_quarantined() {
    for backend in BACKENDS {
        let dir = licnode_testkit::temp_dir().expect("dir");
        let (county, _a) = open(backend, &dir.path().join("county")).await;
        let (province, _b) = open(backend, &dir.path().join("province")).await;
        created_and_edited(&county).await;
        // Only the second change: its dependency never arrives.
        let mut changes = rows(&county, 1, "330106").await;
        assert_eq!(changes.len(), 1);
        let mut garbage = changes[0].clone();
        garbage.bytes = b"\x85\x6f\x4a\x83garbage".to_vec();
        changes.push(garbage.clone());
        garbage.bytes = vec![0u8; 64];
        changes.push(garbage.clone());
        changes.push(garbage);
        let outcome = licnode_app::replication::store_batch(
            &province,
            licnode_app::replication::ReceivedBatch {
                cursor_move: Default::default(),
                peer: "330106".into(),
                stream: SyncStream::Push,
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
                .sync_cursor("330106", SyncStream::Push)
                .await
                .expect("c"),
            2
        );
        // The figures a session's link report reads in one statement, keyed by the peer: its
        // saved state, what sits in quarantine from it, the pull cursor of its log.
        let figures = |peer: &'static str| {
            let province = province.clone();
            async move {
                let (state, quarantined, pulled) =
                    province.parent_link_figures(peer).await.expect("figures");
                (
                    state.map(|state| state["sessions"].clone()),
                    quarantined,
                    pulled,
                )
            }
        };
        assert_eq!(figures("330106").await, (None, 3, 0), "{backend}");
        province
            .save_link_state("parent", &json!({ "sessions": 4 }))
            .await
            .expect("save");
        province
            .reset_sync_cursor("330106", SyncStream::Pull, 7)
            .await
            .expect("cursor");
        assert_eq!(figures("330106").await, (Some(json!(4)), 3, 7), "{backend}");
        assert_eq!(figures("330000").await, (Some(json!(4)), 0, 0), "{backend}");
        county.close().await;
        province.close().await;
    }
}

/// A record made at a county node, and its stored document.
async fn county_record(store: &Store) -> (String, Vec<u8>) {
    let archive = Archive::new(store.clone(), "330106");
    let created = archive
        .create(
            "quality_archives",
            None,
            &record("quality_archives", "330106"),
            &licnode_app::Author::clerk("clerk"),
        )
        .await
        .expect("create");
    let id = created.record.id;
    let bytes = store.document(&id).await.expect("document").expect("held");
    (id, bytes)
}

/// A change of the county's record made elsewhere, with `values` written as they are (no
/// validation: what a hostile or broken node could send).
fn forged_update(bytes: &[u8], values: serde_json::Value) -> LoggedChange {
    let mut doc = licnode_doc::RecordDoc::load(bytes).expect("load");
    let meta = doc.meta().expect("meta");
    let actor = licnode_doc::actor::fresh("330106");
    let values = values.as_object().expect("object").clone();
    let change = doc
        .update(
            &values,
            licnode_doc::Authoring {
                actor: &actor,
                user: "forger",
                time_ms: 2,
            },
        )
        .expect("update")
        .expect("a change");
    LoggedChange {
        record_id: meta.id,
        collection: meta.collection,
        jurisdiction: meta.jurisdiction,
        author_user: "forger".into(),
        at_ms: 2,
        origin: "330106".into(),
        bytes: change.bytes,
        ..LoggedChange::default()
    }
}

/// Stores `changes` as a batch from the county, allowed by the authority check, and returns the
/// quarantine's reasons by hash.
async fn receive(store: &Store, changes: Vec<LoggedChange>) -> Vec<(String, String)> {
    let batch = licnode_app::replication::ReceivedBatch {
        cursor_move: Default::default(),
        peer: "330106".into(),
        stream: SyncStream::Push,
        cursor: 1,
        changes,
    };
    licnode_app::replication::store_batch(store, batch, |_, _| Ok(()))
        .await
        .expect("apply");
    store
        .quarantined(100)
        .await
        .expect("quarantine")
        .into_iter()
        .map(|entry| (entry.hash, entry.reason))
        .collect()
}

/// Issue 11 item 6: a received change is applied only if the record passes the validation a
/// local write of the same fields passes; a refused change is quarantined as `invalid_record`.
#[tokio::test]
async fn a_received_change_that_breaks_the_model_is_quarantined_as_invalid_record() {
    for backend in BACKENDS {
        let dir = licnode_testkit::temp_dir().expect("dir");
        let (county, _a) = open(backend, &dir.path().join("county")).await;
        let (province, _b) = open(backend, &dir.path().join("province")).await;
        let (id, bytes) = county_record(&county).await;
        let created = rows(&county, 0, "330106").await;
        receive(&province, created).await;
        let before = province.get(&id).await.expect("get").expect("held");

        let invalid = [
            json!({ "valid_until": "2024-13-45" }),
            json!({ "valid_until": null }),
            json!({ "employee_count": "many" }),
            json!({ "no_such_field": "x" }),
        ];
        for values in invalid {
            let change = forged_update(&bytes, values.clone());
            let hash = licnode_doc::parse_change(&change.bytes)
                .expect("parse")
                .hash
                .to_string();
            let quarantined = receive(&province, vec![change]).await;
            assert!(
                quarantined.contains(&(hash, "invalid_record".to_string())),
                "{backend} {values}: {quarantined:?}"
            );
            let after = province.get(&id).await.expect("get").expect("held");
            assert_eq!(after.data, before.data, "{backend} {values}: applied");
        }

        // A valid change of the same record is applied.
        let valid = forged_update(&bytes, json!({ "quality_notes": "复查合格" }));
        receive(&province, vec![valid]).await;
        let after = province.get(&id).await.expect("get").expect("held");
        assert_eq!(after.data["quality_notes"], json!("复查合格"), "{backend}");

        // A new record that lacks a required field is refused too.
        let actor = licnode_doc::actor::fresh("330106");
        let mut fields = record("quality_archives", "330106");
        fields.remove("licence_number");
        let meta = licnode_doc::RecordMeta {
            id: "0190f0f0-0000-7000-8000-000000000001".into(),
            collection: "quality_archives".into(),
            jurisdiction: "330106".into(),
        };
        let (_, change) = licnode_doc::RecordDoc::create(
            &meta,
            &fields,
            licnode_doc::Authoring {
                actor: &actor,
                user: "forger",
                time_ms: 3,
            },
        )
        .expect("create");
        let quarantined = receive(
            &province,
            vec![LoggedChange {
                record_id: meta.id.clone(),
                collection: meta.collection.clone(),
                jurisdiction: meta.jurisdiction.clone(),
                author_user: "forger".into(),
                at_ms: 3,
                origin: "330106".into(),
                bytes: change.bytes.clone(),
                ..LoggedChange::default()
            }],
        )
        .await;
        assert!(
            quarantined.contains(&(change.hash.to_string(), "invalid_record".to_string())),
            "{backend}: {quarantined:?}"
        );
        assert!(province.get(&meta.id).await.expect("get").is_none());
    }
}

/// Issue 11 item 6: no merge gives a record a second id, collection or jurisdiction, not even
/// as a losing concurrent value; such a change is quarantined as `identity_conflict`.
#[tokio::test]
async fn a_received_change_cannot_give_a_record_a_second_identity_even_as_a_losing_value() {
    for backend in BACKENDS {
        let dir = licnode_testkit::temp_dir().expect("dir");
        let (county, _a) = open(backend, &dir.path().join("county")).await;
        let (province, _b) = open(backend, &dir.path().join("province")).await;
        let (id, bytes) = county_record(&county).await;
        receive(&province, rows(&county, 0, "330106").await).await;
        let original = licnode_doc::RecordDoc::load(&bytes)
            .expect("load")
            .meta()
            .expect("meta");

        // A second creation of the same id, concurrent with the real one, naming another
        // jurisdiction: after the merge the real values may still win, with the forged ones
        // kept as losing conflict values. Concurrent values are ordered by op id (counter, then
        // actor), so the forger takes the county's smallest actor ids (suffix 0, 1, …): below the
        // real creation's random suffix, the forged values lose, every run.
        let losing = (0..64)
            .find_map(|attempt| {
                let mut actor_bytes = vec![6u8];
                actor_bytes.extend_from_slice(b"330106");
                actor_bytes.extend_from_slice(&(attempt as u64).to_be_bytes());
                let actor = licnode_doc::ActorId::from(actor_bytes);
                let forged_meta = licnode_doc::RecordMeta {
                    id: id.clone(),
                    collection: "quality_archives".into(),
                    jurisdiction: "330108".into(),
                };
                let (_, change) = licnode_doc::RecordDoc::create(
                    &forged_meta,
                    &record("quality_archives", "330108"),
                    licnode_doc::Authoring {
                        actor: &actor,
                        user: "forger",
                        time_ms: attempt,
                    },
                )
                .expect("forge");
                let mut merged = licnode_doc::RecordDoc::load(&bytes).expect("load");
                merged
                    .apply(vec![
                        licnode_doc::parse_change(&change.bytes)
                            .expect("parse")
                            .change,
                    ])
                    .expect("merge");
                (merged.meta().ok() == Some(original.clone())).then_some(change)
            })
            .expect("a forged creation that loses the merge");
        let quarantined = receive(
            &province,
            vec![LoggedChange {
                record_id: id.clone(),
                collection: "quality_archives".into(),
                jurisdiction: "330106".into(),
                author_user: "forger".into(),
                at_ms: 4,
                origin: "330106".into(),
                bytes: losing.bytes.clone(),
                ..LoggedChange::default()
            }],
        )
        .await;
        assert!(
            quarantined.contains(&(losing.hash.to_string(), "identity_conflict".to_string())),
            "{backend}: {quarantined:?}"
        );
        let document = province.document(&id).await.expect("doc").expect("held");
        let held = licnode_doc::RecordDoc::load(&document).expect("load");
        assert_eq!(held.meta().expect("meta"), original, "{backend}");
        assert!(
            held.conflicts().is_empty(),
            "{backend}: the forged values were merged: {:?}",
            held.conflicts()
        );
        let history = province.record_changes(&id).await.expect("changes");
        assert!(
            history
                .iter()
                .all(|row| row.hash != losing.hash.to_string()),
            "{backend}: the forged creation is in the log"
        );
    }
}

/// A change that arrived before its dependency waits in quarantine and is applied by the batch
/// that brings the dependency (`Store::retry_waiting`, asked of a reader first whether anything
/// waits); then nothing waits any more.
#[tokio::test]
async fn a_change_waiting_for_its_dependency_is_applied_when_the_dependency_arrives() {
    for backend in BACKENDS {
        let dir = licnode_testkit::temp_dir().expect("dir");
        let (county, _a) = open(backend, &dir.path().join("county")).await;
        let (province, _b) = open(backend, &dir.path().join("province")).await;
        let record_id = created_and_edited(&county).await;
        let changes = rows(&county, 0, "330106").await;
        assert_eq!(changes.len(), 2, "{backend}");
        let batch =
            |cursor: i64, changes: Vec<LoggedChange>| licnode_app::replication::ReceivedBatch {
                cursor_move: Default::default(),
                peer: "330106".into(),
                stream: SyncStream::Push,
                cursor,
                changes,
            };
        // The edit first, alone: it waits for the record's first change.
        let early = licnode_app::replication::store_batch(
            &province,
            batch(2, vec![changes[1].clone()]),
            |_, _| Ok(()),
        )
        .await
        .expect("apply the edit");
        assert!(early.applied.is_empty(), "{backend}");
        let waiting = province.quarantined(10).await.expect("list");
        assert_eq!(waiting.len(), 1, "{backend}");
        assert_eq!(waiting[0].reason, REASON_MISSING_DEPENDENCY, "{backend}");
        // Then the first change: applied, and the waiting edit with it.
        let late = licnode_app::replication::store_batch(
            &province,
            batch(2, vec![changes[0].clone()]),
            |_, _| Ok(()),
        )
        .await
        .expect("apply the first change");
        assert_eq!(late.applied.len(), 2, "{backend}: {late:?}");
        assert!(
            province.quarantined(10).await.expect("list").is_empty(),
            "{backend}"
        );
        assert_eq!(province.last_seq().await.expect("seq"), 2, "{backend}");
        let stored = province
            .get(&record_id)
            .await
            .expect("get")
            .expect("the record");
        assert_eq!(
            stored.data["product_name"],
            json!(EDITED_PRODUCT),
            "{backend}"
        );
    }
}
