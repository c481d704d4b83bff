//! Fuzzing the store's door for received changes (issue 16, item 4): `Store::apply_remote`
//! with random bytes and mutated valid changes under true, false and random metadata, on
//! SQLite and PostgreSQL. No input panics or fails the store; every change is accounted for
//! (applied, duplicate, waiting for a dependency, or refused); a batch that applies nothing
//! changes nothing — the change log and the records already held stay as they were.
//! Cases: `LICNODE_FUZZ_CASES` (see `licnode_testkit::fuzz`). Soak: `LICNODE_FUZZ_CASES=1000000
//! cargo test --release -p licnode-store --test fuzz_apply_remote`; `LICNODE_FUZZ_BACKEND=postgres`
//! (or `sqlite`) fuzzes one backend only.
//!
//! A run is cut into generations (see [`generation_size`]): each starts a new store, so that
//! the corpus's valid changes are new again and the record edited by [`fresh_edit`] stays small
//! enough that checking it after every input does not grow the run's cost with its length.

use licnode_app::{Archive, Author};
use licnode_store::{LoggedChange, Projection, Store, StoredRecord};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Changes the store read without their document over a run (first changes and plain edits).
static READ_WITHOUT_DOCUMENT: AtomicUsize = AtomicUsize::new(0);
use licnode_testkit::fuzz::{self, Watchdog};
use licnode_testkit::{BACKENDS, TestDatabase};
use proptest::prelude::*;
use proptest::test_runner::TestRunner;
use serde_json::json;

/// A store of Zhejiang (330000) holding one licence of Xihu (330106), its changes, and the changes of a second
/// licence it does not hold yet (created and edited elsewhere), to mutate.
struct Seeded {
    store: Store,
    held: StoredRecord,
    corpus: Vec<LoggedChange>,
    /// The records the corpus's changes are of.
    record_ids: std::collections::BTreeSet<String>,
    /// The licence made elsewhere, and the actor that keeps editing it on what the store holds.
    other_id: String,
    editor: licnode_doc::ActorId,
    _database: Option<TestDatabase>,
    _dir: tempfile::TempDir,
}

async fn seeded(backend: licnode_testkit::Backend) -> Seeded {
    let dir = licnode_testkit::temp_dir().expect("dir");
    let (url, database) = licnode_testkit::database_url(backend, dir.path())
        .await
        .expect("database");
    let store = Store::open(&url).await.expect("store");
    let archive = Archive::new(store.clone(), "330000");
    let collection = licnode_model::collection("licences").expect("licences");
    let clerk = Author::clerk("clerk");
    let mut generator = licnode_gen::Generator::new(11);
    let held = archive
        .create(
            "licences",
            Some("330106"),
            &generator.record(collection, "330106"),
            &clerk,
        )
        .await
        .expect("held licence")
        .record;
    let mut edit = serde_json::Map::new();
    edit.insert("remarks".into(), json!("改过一次"));
    archive.update(&held.id, &edit, &clerk).await.expect("edit");
    let held = store.get(&held.id).await.expect("read").expect("held");

    // A second licence made elsewhere: its changes are new to the store.
    let other_dir = licnode_testkit::temp_dir().expect("dir");
    let other = Store::open(&format!(
        "sqlite://{}?mode=rwc",
        other_dir.path().join("other.db").display()
    ))
    .await
    .expect("other store");
    let elsewhere = Archive::new(other.clone(), "330000");
    let made = elsewhere
        .create(
            "licences",
            Some("330106"),
            &generator.record(collection, "330106"),
            &clerk,
        )
        .await
        .expect("other licence")
        .record;
    // And edited there: once an input has brought the licence in (as its first change, with
    // its edit state), its edit — valid or damaged — is read onto the stored projection
    // without the document (issue 14), a door of its own.
    let mut elsewhere_edit = serde_json::Map::new();
    elsewhere_edit.insert("remarks".into(), json!("异地修改"));
    elsewhere
        .update(&made.id, &elsewhere_edit, &clerk)
        .await
        .expect("other edit");
    let mut corpus = Vec::new();
    for source in [&store, &other] {
        for row in source.changes_after(0, None, 100).await.expect("changes") {
            corpus.push(LoggedChange {
                record_id: row.record_id,
                collection: row.collection,
                jurisdiction: row.jurisdiction,
                author_user: row.author_user,
                at_ms: row.at_ms,
                origin: "330106".into(),
                bytes: row.bytes,
                ..LoggedChange::default()
            });
        }
    }
    other.close().await;
    let record_ids = corpus
        .iter()
        .map(|change| change.record_id.clone())
        .collect();
    Seeded {
        store,
        held,
        corpus,
        record_ids,
        other_id: made.id,
        editor: licnode_doc::actor::fresh("330000"),
        _database: database,
        _dir: dir,
    }
}

/// Inputs a store takes before the next generation's store replaces it: a quarter of the run,
/// at most 2,000 (some 600 fresh edits of one record, and 25 compactions of its document; 500
/// generations in a million inputs).
fn generation_size() -> u32 {
    (fuzz::cases() / 4).clamp(1, 2_000)
}

/// The next generation: a new store holding the held licence, received as its changes in the
/// corpus (the first generation made it locally), and not the licence made elsewhere, whose
/// changes in the corpus are so new again; a new actor edits that licence once it is held.
async fn next_generation(previous: Seeded, backend: licnode_testkit::Backend) -> Seeded {
    previous.store.close().await;
    drop(previous._database);
    let dir = licnode_testkit::temp_dir().expect("dir");
    let (url, database) = licnode_testkit::database_url(backend, dir.path())
        .await
        .expect("database");
    let store = Store::open(&url).await.expect("store");
    let own: Vec<LoggedChange> = previous
        .corpus
        .iter()
        .filter(|change| change.record_id == previous.held.id)
        .cloned()
        .collect();
    let outcome = store.apply_remote(&own).await.expect("the held licence");
    assert_eq!(outcome.applied.len(), own.len(), "{outcome:?}");
    let held = store
        .get(&previous.held.id)
        .await
        .expect("read")
        .expect("held");
    Seeded {
        store,
        held,
        corpus: previous.corpus,
        record_ids: previous.record_ids,
        other_id: previous.other_id,
        editor: licnode_doc::actor::fresh("330000"),
        _database: database,
        _dir: dir,
    }
}

/// Edits made so far by [`fresh_edit`]: each writes a value not written before.
static FRESH_EDITS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// A valid edit of the licence made elsewhere, made on the document the store holds now — so
/// that, unlike the corpus's changes (duplicates after their first arrival), it is new and
/// follows on, and the door that reads a plain edit without its document stays open all along a
/// soak. `None` while the store does not hold the licence.
async fn fresh_edit(seeded: &Seeded) -> Option<LoggedChange> {
    let bytes = seeded
        .store
        .document(&seeded.other_id)
        .await
        .expect("document")?;
    let mut document = licnode_doc::RecordDoc::load(&bytes).expect("a held document loads");
    let count = FRESH_EDITS.fetch_add(1, Ordering::Relaxed);
    let mut values = serde_json::Map::new();
    values.insert("remarks".into(), json!(format!("异地第 {count} 次修改")));
    let at_ms = licnode_store::now_ms();
    let who = licnode_doc::Authoring {
        actor: &seeded.editor,
        user: "clerk",
        time_ms: at_ms,
    };
    let local = document.update(&values, who).ok()??;
    Some(LoggedChange {
        record_id: seeded.other_id.clone(),
        collection: "licences".into(),
        jurisdiction: "330106".into(),
        author_user: "clerk".into(),
        at_ms,
        origin: "330106".into(),
        bytes: local.bytes,
        ..LoggedChange::default()
    })
}

/// What a received change claims besides its bytes: a valid change's own claims, or others.
#[derive(Clone, Debug)]
enum Claims {
    Own,
    OtherRecord(String),
    OtherCollection(String),
    OtherJurisdiction(String),
}

fn claims() -> impl Strategy<Value = Claims> {
    prop_oneof![
        3 => Just(Claims::Own),
        1 => fuzz::text().prop_map(Claims::OtherRecord),
        1 => prop_oneof![Just("licence_events".to_string()), Just("public_notices".to_string()), fuzz::text()]
            .prop_map(Claims::OtherCollection),
        1 => prop_oneof![Just("320102".to_string()), Just("330000".to_string()), fuzz::text()]
            .prop_map(Claims::OtherJurisdiction),
    ]
}

/// One received change of the batch: which valid change it starts from, its bytes (mutated,
/// or random) and its claims.
fn received(corpus: Vec<LoggedChange>) -> impl Strategy<Value = LoggedChange> {
    let valid: Vec<Vec<u8>> = corpus.iter().map(|change| change.bytes.clone()).collect();
    let count = corpus.len();
    let as_they_are = corpus.clone();
    let damaged = (
        0..count,
        prop_oneof![
            3 => fuzz::mutated(valid.clone()),
            // Damaged columns under a correct checksum reach the store's reading of a parsed
            // change: the merge, a first change or an edit read without its document.
            2 => fuzz::mutated_change_columns(valid),
            1 => fuzz::bytes(512),
        ],
        claims(),
    )
        .prop_map(move |(index, bytes, claims)| {
            let mut change = corpus[index].clone();
            change.bytes = bytes;
            match claims {
                Claims::Own => {}
                Claims::OtherRecord(id) => change.record_id = id,
                Claims::OtherCollection(name) => change.collection = name,
                Claims::OtherJurisdiction(code) => change.jurisdiction = code,
            }
            change
        });
    prop_oneof![
        5 => damaged,
        // Valid changes as they are, so that records come in and their edits follow.
        1 => (0..count).prop_map(move |index| as_they_are[index].clone()),
    ]
}

/// Inputs checked so far that applied nothing.
static CHECKED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Applies `batch` and checks what the store did with it.
async fn apply_and_check(seeded: &Seeded, batch: &[LoggedChange]) -> Result<(), TestCaseError> {
    let store = &seeded.store;
    let seq_before = store.last_seq().await.expect("last seq");
    let held_before = store.get(&seeded.held.id).await.expect("read");
    let outcome = store.apply_remote(batch).await;
    let outcome = match outcome {
        Ok(outcome) => outcome,
        Err(error) => return Err(TestCaseError::fail(format!("the store failed: {error}"))),
    };
    let accounted =
        outcome.applied.len() + outcome.duplicates + outcome.pending.len() + outcome.refused.len();
    prop_assert!(
        accounted >= batch.len(),
        "{} changes, {accounted} accounted for: {outcome:?}",
        batch.len()
    );
    let seq_after = store.last_seq().await.expect("last seq");
    prop_assert_eq!(seq_after - seq_before, outcome.applied.len() as i64);
    // What was stored must read back: the documents of the records the valid changes are of
    // (a change applies only to the record its document names).
    // And the stored projection is the document's, however the changes were applied (merged,
    // or read from their operations without the document). Checked after every input that
    // applied a change, and after one in 16 that did not (the change log and the held record
    // are checked after every input, below).
    let touched =
        !outcome.applied.is_empty() || CHECKED.fetch_add(1, Ordering::Relaxed).is_multiple_of(16);
    for record_id in seeded.record_ids.iter().filter(|_| touched) {
        if let Some(bytes) = store.document(record_id).await.expect("document") {
            let loaded = licnode_doc::RecordDoc::load(&bytes);
            prop_assert!(loaded.is_ok(), "record {} no longer loads", record_id);
            let stored = store.get(record_id).await.expect("read").expect("held");
            let projected = loaded
                .ok()
                .and_then(|document| Projection::of(&document, stored.updated_at_ms).ok())
                .map(|projection| (projection.data, projection.conflict_count));
            prop_assert_eq!(
                projected,
                Some((stored.data, stored.conflict_count)),
                "record {}: the stored projection is not its document's",
                record_id
            );
        }
    }
    READ_WITHOUT_DOCUMENT.fetch_add(outcome.read_without_document, Ordering::Relaxed);
    if outcome.applied.is_empty() {
        let held_after = store.get(&seeded.held.id).await.expect("read");
        prop_assert_eq!(
            held_before.map(|record| record.data),
            held_after.map(|record| record.data)
        );
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_received_changes_never_panic_or_fail_the_store_and_change_nothing() {
    let watchdog = Watchdog::default();
    for backend in fuzz::backends() {
        let started = std::time::Instant::now();
        let first = seeded(backend).await;
        // A batch, and whether a fresh valid edit of the licence made elsewhere ends it.
        let strategy = (
            proptest::collection::vec(received(first.corpus.clone()), 1..6),
            proptest::bool::weighted(0.3),
        );
        let current = std::cell::RefCell::new(Some(first));
        let (inputs, generations) = (std::cell::Cell::new(0u32), std::cell::Cell::new(1u32));
        // A run over a live store is not replayed from a file: the seed is in the failure.
        let mut config = fuzz::config();
        config.failure_persistence = None;
        let mut runner = TestRunner::new(config);
        let handle = tokio::runtime::Handle::current();
        let result = tokio::task::block_in_place(|| {
            runner.run(&strategy, |(mut batch, edit_too)| {
                if inputs.get() > 0 && inputs.get().is_multiple_of(generation_size()) {
                    let previous = current.borrow_mut().take().expect("a store");
                    let next = handle.block_on(next_generation(previous, backend));
                    *current.borrow_mut() = Some(next);
                    generations.set(generations.get() + 1);
                    // Progress, for a soak's log.
                    eprintln!(
                        "{backend}: {} inputs in {:.0?}, generation {} begins ({} fresh edits \
                         so far)",
                        inputs.get(),
                        started.elapsed(),
                        generations.get(),
                        FRESH_EDITS.load(Ordering::Relaxed)
                    );
                }
                inputs.set(inputs.get() + 1);
                let seeded = current.borrow();
                let seeded = seeded.as_ref().expect("a store");
                if edit_too && let Some(edit) = handle.block_on(fresh_edit(seeded)) {
                    batch.push(edit);
                }
                watchdog.start(|| format!("{backend}: {}", fuzz::describe_debug(&batch)));
                let checked = handle.block_on(apply_and_check(seeded, &batch));
                watchdog.done();
                checked
            })
        });
        if let Err(failure) = result {
            panic!("{backend}: {failure}");
        }
        // Said per backend: a soak stopped during the second still reports the first.
        eprintln!(
            "{backend}: {} inputs without a failure in {:.0?}, {} generations ({} changes read \
             without their document, {} fresh edits)",
            fuzz::cases(),
            started.elapsed(),
            generations.get(),
            READ_WITHOUT_DOCUMENT.swap(0, Ordering::Relaxed),
            FRESH_EDITS.swap(0, Ordering::Relaxed)
        );
        assert!(
            generations.get() > 1 || fuzz::cases() < 4,
            "every run of more than a few inputs has more than one generation"
        );
        if let Some(last) = current.into_inner() {
            last.store.close().await;
        }
    }
}

/// Found by this target: a change with a wrong checksum was applied and its bytes stored, and
/// the record's stored document no longer loaded ("bad checksum"), so every later change to
/// the record failed. Now the change is refused and nothing is stored.
#[tokio::test]
async fn a_received_change_with_a_wrong_checksum_is_refused_and_stores_nothing() {
    for backend in BACKENDS {
        let seeded = seeded(backend).await;
        let mut forged = seeded
            .corpus
            .iter()
            .find(|change| change.record_id != seeded.held.id)
            .expect("a change of the other licence")
            .clone();
        forged.bytes[4] ^= 1;
        let before = seeded.store.last_seq().await.expect("seq");
        let outcome = seeded
            .store
            .apply_remote(std::slice::from_ref(&forged))
            .await
            .expect("apply");
        assert_eq!(outcome.refused.len(), 1, "{backend}: {outcome:?}");
        assert_eq!(seeded.store.last_seq().await.expect("seq"), before);
        assert!(
            seeded
                .store
                .document(&forged.record_id)
                .await
                .expect("document")
                .is_none(),
            "{backend}"
        );
        seeded.store.close().await;
    }
}

/// Found by this target on PostgreSQL: a valid change whose claimed record id held a NUL
/// character failed the whole batch ("invalid byte sequence for encoding UTF8: 0x00") — a
/// sender's session failed on every attempt. Now such a change is refused as malformed, and
/// the rest of the batch is applied.
#[tokio::test]
async fn a_change_claiming_text_with_a_nul_character_is_refused_and_the_batch_goes_on() {
    for backend in BACKENDS {
        let seeded = seeded(backend).await;
        let mut others = seeded
            .corpus
            .iter()
            .filter(|change| change.record_id != seeded.held.id)
            .cloned();
        let first = others.next().expect("the other licence's first change");
        let mut forged = others.next().expect("its edit");
        forged.record_id = "\0".into();
        let before = seeded.store.last_seq().await.expect("seq");
        let outcome = seeded
            .store
            .apply_remote(&[first.clone(), forged])
            .await
            .expect("the batch is stored, not failed");
        assert_eq!(outcome.applied.len(), 1, "{backend}: {outcome:?}");
        assert_eq!(outcome.refused.len(), 1, "{backend}: {outcome:?}");
        assert!(
            outcome.refused[0].1.contains("NUL"),
            "{backend}: {outcome:?}"
        );
        assert_eq!(seeded.store.last_seq().await.expect("seq"), before + 1);
        seeded.store.close().await;
    }
}
