//! A record's document is kept once, in the change log (migration 0024, issue 14): its stored
//! row holds saved bytes — none for a new record — and the document is those bytes followed by
//! the record's changes in the log after `log_after`. Received plain edits, merged concurrent
//! edits and local edits each leave a document that holds every change of the record; every
//! `MAX_APPENDED_CHUNKS` (24) changes it is saved whole and `log_after` moves on. A database
//! whose documents were stored whole before the migration reads them as they were. Every test
//! runs against SQLite and PostgreSQL.

mod support;
use support::open;

use licnode_doc::{Authoring, RecordDoc, RecordMeta};
use licnode_store::{Attribution, LoggedChange, ModifyError, Projection, Store};
use licnode_testkit::BACKENDS;
use serde_json::{Map, json};

/// The document row of record `id` as stored: the length of its saved bytes and `log_after`.
async fn document_row(url: &str, id: &str) -> (i64, i64) {
    if url.starts_with("sqlite:") {
        let pool = sqlx::SqlitePool::connect(url).await.expect("connect");
        let row = sqlx::query_as(
            "SELECT length(d.bytes), d.log_after FROM documents d \
             JOIN records r ON r.key = d.key WHERE r.id = ?",
        )
        .bind(id)
        .fetch_one(&pool)
        .await
        .expect("the document row");
        pool.close().await;
        row
    } else {
        let pool = sqlx::PgPool::connect(url).await.expect("connect");
        let (length, after): (i32, i64) = sqlx::query_as(
            "SELECT octet_length(d.bytes), d.log_after FROM documents d \
             JOIN records r ON r.key = d.key WHERE r.id = $1",
        )
        .bind(id)
        .fetch_one(&pool)
        .await
        .expect("the document row");
        pool.close().await;
        (i64::from(length), after)
    }
}

/// Runs `statements` one by one on the database at `url`, `bytes` bound where one has `$1`.
async fn execute(url: &str, statements: &[&str], bytes: &[u8]) {
    macro_rules! run_on {
        ($pool:expr) => {{
            let pool = $pool;
            for sql in statements {
                let query = sqlx::query(sqlx::AssertSqlSafe(*sql));
                let query = if sql.contains('$') {
                    query.bind(bytes)
                } else {
                    query
                };
                query.execute(&pool).await.expect(sql);
            }
            pool.close().await;
        }};
    }
    if url.starts_with("sqlite:") {
        run_on!(sqlx::SqlitePool::connect(url).await.expect("connect"));
    } else {
        run_on!(sqlx::PgPool::connect(url).await.expect("connect"));
    }
}

/// A licence issued at a county, and every change made to it so far, in order: the whole
/// document is these changes loaded.
struct Licence {
    meta: RecordMeta,
    changes: Vec<u8>,
    time_ms: i64,
}

impl Licence {
    fn new(id: &str, county: &licnode_doc::ActorId) -> (Licence, LoggedChange) {
        let meta = RecordMeta {
            id: id.into(),
            collection: "licences".into(),
            jurisdiction: "330106".into(),
        };
        let model = licnode_model::collection("licences").expect("licences");
        let mut values = licnode_gen::Generator::new(24).record(model, "330106");
        values.insert("status".into(), json!("valid"));
        let time_ms = 1_764_800_000_000;
        let who = Authoring {
            actor: county,
            user: "clerk",
            time_ms,
        };
        let (_, change) = RecordDoc::create(&meta, &values, who).expect("create");
        let mut licence = Licence {
            meta,
            changes: Vec::new(),
            time_ms,
        };
        let logged = licence.logged(change.bytes, "330106");
        (licence, logged)
    }

    /// The whole document: every change so far.
    fn document(&self) -> RecordDoc {
        RecordDoc::load(&self.changes).expect("every change loads")
    }

    /// An edit of the remarks by `actor` on the whole document as it is now (the edit is not
    /// added to the changes: see [`Licence::logged`]).
    fn edit(&mut self, actor: &licnode_doc::ActorId, remarks: &str) -> Vec<u8> {
        self.time_ms += 1;
        let mut values = Map::new();
        values.insert("remarks".into(), json!(remarks));
        let who = Authoring {
            actor,
            user: "clerk",
            time_ms: self.time_ms,
        };
        self.document()
            .update(&values, who)
            .expect("edit")
            .expect("a change")
            .bytes
    }

    /// The change `bytes`, added to the whole document, as received from `origin`.
    fn logged(&mut self, bytes: Vec<u8>, origin: &str) -> LoggedChange {
        self.changes.extend_from_slice(&bytes);
        LoggedChange {
            record_id: self.meta.id.clone(),
            collection: self.meta.collection.clone(),
            jurisdiction: self.meta.jurisdiction.clone(),
            author_user: "clerk".into(),
            at_ms: self.time_ms,
            origin: origin.into(),
            bytes,
            ..LoggedChange::default()
        }
    }
}

/// The stored document of the licence holds exactly its changes, and the stored record is its
/// projection.
async fn check_document(store: &Store, licence: &Licence, label: &str) {
    let bytes = store
        .document(&licence.meta.id)
        .await
        .expect("document")
        .expect("held");
    let mut stored = RecordDoc::load(&bytes).expect("the stored document loads");
    let mut whole = licence.document();
    let mut heads = stored.heads();
    let mut expected = whole.heads();
    heads.sort();
    expected.sort();
    assert_eq!(heads, expected, "{label}: the stored document's heads");
    assert_eq!(
        stored.changes().len(),
        whole.changes().len(),
        "{label}: the stored document's changes"
    );
    let record = store
        .get(&licence.meta.id)
        .await
        .expect("get")
        .expect("held");
    let projected = Projection::of(&stored, record.updated_at_ms).expect("projection");
    assert_eq!(
        record.data, projected.data,
        "{label}: the stored projection"
    );
    assert_eq!(
        record.data,
        whole.fields(),
        "{label}: the fields of every change"
    );
}

#[tokio::test]
async fn a_records_document_is_its_changes_in_the_log_kept_once_and_saved_every_24() {
    for backend in BACKENDS {
        let dir = licnode_testkit::temp_dir().expect("dir");
        let (store, url, _database) = open(backend, &dir.path().join("province")).await;
        let county = licnode_doc::actor::fresh("330106");
        let other_county_clerk = licnode_doc::actor::fresh("330106");
        let province = licnode_doc::actor::fresh("330000");
        let id = "0190f0f0-0000-7000-8000-000000000024";
        let (mut licence, first) = Licence::new(id, &county);
        let outcome = store.apply_remote(&[first]).await.expect("received");
        assert_eq!(outcome.applied.len(), 1, "{backend}");
        assert_eq!(
            document_row(&url, id).await,
            (0, 0),
            "{backend}: a received record's document row holds no bytes; its change is in the log"
        );
        check_document(&store, &licence, &format!("{backend}: received")).await;

        let mut compactions = Vec::new();
        let mut kinds = [0_usize; 3];
        for step in 1..=60 {
            let label = format!("{backend} step {step}");
            match step % 5 {
                // A local edit: the whole document is loaded, edited and its change logged.
                0 => {
                    kinds[0] += 1;
                    let mut made = None;
                    let attribution = Attribution {
                        node: "330000".into(),
                        user: "clerk".into(),
                        at_ms: licence.time_ms + 1,
                    };
                    let remarks = format!("省局第 {step} 次修改");
                    licence.time_ms += 1;
                    let who = Authoring {
                        actor: &province,
                        user: "clerk",
                        time_ms: licence.time_ms,
                    };
                    let mut values = Map::new();
                    values.insert("remarks".into(), json!(remarks));
                    store
                        .modify(id, &attribution, |doc| {
                            let change = doc.update(&values, who)?;
                            made = change.as_ref().map(|change| change.bytes.clone());
                            Ok::<_, licnode_doc::DocError>(change)
                        })
                        .await
                        .map_err(|error| match error {
                            ModifyError::Store(error) => error.to_string(),
                            other => other.to_string(),
                        })
                        .expect("edited here");
                    licence.logged(made.expect("a change"), "330000");
                }
                // Two concurrent edits in one batch: the second is merged into the whole
                // document, whose changes in the log are read for it.
                3 => {
                    kinds[1] += 1;
                    let one = licence.edit(&county, &format!("县局第 {step} 次"));
                    let two = licence.edit(&other_county_clerk, &format!("县局另一人第 {step} 次"));
                    let batch = [licence.logged(one, "330106"), licence.logged(two, "330106")];
                    let outcome = store.apply_remote(&batch).await.expect("received");
                    assert_eq!(outcome.applied.len(), 2, "{label}: {outcome:?}");
                    assert!(outcome.read_without_document < 2, "{label}: merged");
                }
                // A received plain edit, read onto the projection without the document.
                _ => {
                    kinds[2] += 1;
                    let edit = licence.edit(&county, &format!("县局第 {step} 次"));
                    let batch = [licence.logged(edit, "330106")];
                    let outcome = store.apply_remote(&batch).await.expect("received");
                    assert_eq!(outcome.applied.len(), 1, "{label}: {outcome:?}");
                }
            }
            check_document(&store, &licence, &label).await;
            let (saved, after) = document_row(&url, id).await;
            if compactions.is_empty() && saved == 0 {
                assert_eq!(after, 0, "{label}: nothing saved yet");
            } else if compactions.last().is_none_or(|(_, last)| *last != after) {
                assert!(saved > 0, "{label}: saved whole");
                compactions.push((step, after));
            }
        }
        assert!(
            kinds.iter().all(|count| *count >= 10),
            "{backend}: {kinds:?}"
        );
        // 73 changes in all: saved whole when the 25th and the 49th (or so: two changes
        // arrive at once every fifth step) were added, each time up to its last change.
        assert!(
            compactions.len() >= 2,
            "{backend}: saved whole every 24 changes: {compactions:?}"
        );
        assert!(
            compactions.windows(2).all(|pair| pair[0].1 < pair[1].1),
            "{backend}: each save moves `log_after` on: {compactions:?}"
        );
        store.close().await;
    }
}

/// Migration 0024 on a database whose documents were stored whole (each change both in the
/// log and in its document's bytes): each document reads as it was, not with its changes
/// twice, and a change received after the migration joins it.
#[tokio::test]
async fn documents_stored_whole_before_migration_24_read_as_they_were_and_take_new_changes() {
    for backend in BACKENDS {
        let dir = licnode_testkit::temp_dir().expect("dir");
        let (store, url, _database) = open(backend, &dir.path().join("national")).await;
        let county = licnode_doc::actor::fresh("330106");
        let id = "0190f0f0-0000-7000-8000-000000000023";
        let (mut licence, first) = Licence::new(id, &county);
        store.apply_remote(&[first]).await.expect("received");
        for step in 0..3 {
            let edit = licence.edit(&county, &format!("县局第 {step} 次"));
            let logged = licence.logged(edit, "330106");
            store.apply_remote(&[logged]).await.expect("received");
        }
        let whole = store.document(id).await.expect("document").expect("held");
        assert_eq!(whole, licence.changes, "{backend}: the four changes");
        store.close().await;
        // The database as migration 23 left it: the document's bytes are every change.
        execute(
            &url,
            &[
                "UPDATE documents SET bytes = $1",
                "ALTER TABLE documents DROP COLUMN log_after",
                "DELETE FROM schema_migrations WHERE version = 24",
            ],
            &whole,
        )
        .await;
        let store = Store::open(&url).await.expect("migrated");
        let read = store.document(id).await.expect("document").expect("held");
        assert!(
            read == whole,
            "{backend}: the document reads as it was stored ({} bytes), not as {} bytes",
            whole.len(),
            read.len()
        );
        let (saved, after) = document_row(&url, id).await;
        assert_eq!(saved, whole.len() as i64, "{backend}");
        assert_eq!(after, 4, "{backend}: the log's counter when migrated");
        check_document(&store, &licence, &format!("{backend}: migrated")).await;
        let edit = licence.edit(&county, "迁移之后");
        let logged = licence.logged(edit, "330106");
        store.apply_remote(&[logged]).await.expect("received");
        check_document(&store, &licence, &format!("{backend}: after the migration")).await;
        store.close().await;
    }
}
