//! Records received as their first change alone (a cold sync) are stored without building
//! their documents (issue 14 item 2): what is stored must be what the stored document shows,
//! the records must be found by name and licence number, and the first local edit must read
//! the document from the stored change. Every test runs against SQLite and PostgreSQL.

use licnode_doc::{Authoring, RecordDoc, RecordMeta};
use licnode_store::{Attribution, LoggedChange, Projection, SearchQuery, Store};
use licnode_testkit::{BACKENDS, Backend, TestDatabase};
use serde_json::{Map, json};

async fn open(backend: Backend, dir: &std::path::Path) -> (Store, Option<TestDatabase>) {
    std::fs::create_dir_all(dir).expect("test directory");
    let (url, database) = licnode_testkit::database_url(backend, dir)
        .await
        .expect("test database");
    (Store::open(&url).await.expect("open store"), database)
}

/// One generated record of every collection, as the county sends each: its creating change.
fn first_changes() -> Vec<(RecordMeta, LoggedChange)> {
    let actor = licnode_doc::actor::fresh("330106");
    let mut generator = licnode_gen::Generator::new(5);
    licnode_model::collections()
        .iter()
        .enumerate()
        .map(|(index, collection)| {
            let values = generator.record(collection, "330106");
            let meta = RecordMeta {
                id: format!("0190f0f0-0000-7000-8000-{index:012}"),
                collection: collection.name.into(),
                jurisdiction: "330106".into(),
            };
            let who = Authoring {
                actor: &actor,
                user: "clerk",
                time_ms: 1_764_800_000_000,
            };
            let (_, change) = RecordDoc::create(&meta, &values, who).expect("create");
            let remote = LoggedChange {
                record_id: meta.id.clone(),
                collection: meta.collection.clone(),
                jurisdiction: meta.jurisdiction.clone(),
                author_user: "clerk".into(),
                at_ms: 1_764_900_000_000,
                origin: "330106".into(),
                bytes: change.bytes,
                ..LoggedChange::default()
            };
            (meta, remote)
        })
        .collect()
}

#[tokio::test]
async fn records_received_as_first_changes_are_stored_as_their_documents_show_them() {
    for backend in BACKENDS {
        let dir = licnode_testkit::temp_dir().expect("dir");
        let (store, _database) = open(backend, dir.path()).await;
        let received = first_changes();
        let changes: Vec<LoggedChange> = received.iter().map(|(_, c)| c.clone()).collect();
        let outcome = store.apply_remote(&changes).await.expect("apply");
        assert_eq!(
            outcome.applied.len(),
            changes.len(),
            "{backend}: {outcome:?}"
        );
        for (meta, remote) in &received {
            let stored = store.get(&meta.id).await.expect("get").expect("held");
            let bytes = store.document(&meta.id).await.expect("doc").expect("bytes");
            assert_eq!(
                bytes, remote.bytes,
                "{backend}: the document is the change received"
            );
            let document = RecordDoc::load(&bytes).expect("load");
            let expected = Projection::of(&document, remote.at_ms).expect("projection");
            assert_eq!(stored.data, expected.data, "{backend} {}", meta.collection);
            assert_eq!(stored.conflict_count, 0, "{backend}");
            assert_eq!(stored.created_at_ms, expected.created_at_ms, "{backend}");
            assert_eq!(stored.updated_at_ms, remote.at_ms, "{backend}");
            assert_eq!(
                (&stored.collection, &stored.jurisdiction),
                (&meta.collection, &meta.jurisdiction)
            );
        }
        store.close().await;
    }
}

#[tokio::test]
async fn a_licence_received_as_its_first_change_is_found_by_name_and_number_and_edits_locally() {
    for backend in BACKENDS {
        let dir = licnode_testkit::temp_dir().expect("dir");
        let (store, _database) = open(backend, dir.path()).await;
        let (meta, remote) = first_changes()
            .into_iter()
            .find(|(meta, _)| meta.collection == "licences")
            .expect("a licence");
        store
            .apply_remote(std::slice::from_ref(&remote))
            .await
            .expect("apply");
        let stored = store.get(&meta.id).await.expect("get").expect("held");
        let name = stored.data["enterprise_name"].as_str().expect("name");
        let number = stored.data["licence_number"].as_str().expect("number");
        let by_name = SearchQuery {
            collection: Some("licences".into()),
            name: Some(name.chars().take(4).collect()),
            limit: 10,
            ..SearchQuery::default()
        };
        let by_number = SearchQuery {
            licence_number: Some(number.into()),
            limit: 10,
            ..SearchQuery::default()
        };
        for query in [by_name, by_number] {
            let page = store.search(&query).await.expect("search");
            assert!(
                page.items.iter().any(|item| item.id == meta.id),
                "{backend}: {query:?}"
            );
        }
        // The first local edit reads the document from the stored change.
        let actor = licnode_doc::actor::fresh("330000");
        let attribution = Attribution {
            node: "330000".into(),
            user: "clerk".into(),
            at_ms: remote.at_ms + 1,
        };
        let mut patch = Map::new();
        patch.insert("remarks".into(), json!("省局复核"));
        let edited = store
            .modify(&meta.id, &attribution, |doc| {
                let who = Authoring {
                    actor: &actor,
                    user: "clerk",
                    time_ms: attribution.at_ms,
                };
                doc.update(&patch, who)
            })
            .await
            .expect("modify");
        assert_eq!(edited.data["remarks"], json!("省局复核"), "{backend}");
        assert_eq!(edited.data["licence_number"], json!(number), "{backend}");
        store.close().await;
    }
}
