//! Fuzzing the decoder of automerge change bytes (issue 16, item 4): `parse_change` and
//! everything a node does with a change it parsed — apply it to an empty document and to a
//! record's document, read the record's fields, conflicts, history and identity, save and load
//! the document — on random bytes and on mutations of valid changes. Hostile bytes are an
//! error, never a panic or a hang. Cases: `LICNODE_FUZZ_CASES` (see `licnode_testkit::fuzz`).
//! Soak: `LICNODE_FUZZ_CASES=1000000 cargo test --release -p licnode-doc --test
//! fuzz_change_bytes`.

use licnode_doc::{Authoring, RecordDoc, RecordMeta, parse_change};
use licnode_testkit::fuzz::{self, Watchdog};
use proptest::prelude::*;
use serde_json::{Map, Value, json};

/// The changes of one licence record: its creation and two edits, as their bytes.
fn valid_changes() -> Vec<Vec<u8>> {
    let collection = licnode_model::collection("licences").expect("licences");
    let values = licnode_gen::Generator::new(7).record(collection, "330106");
    let actor = licnode_doc::actor::fresh("330106");
    let who = Authoring {
        actor: &actor,
        user: "clerk",
        time_ms: 1_700_000_000_000,
    };
    let meta = RecordMeta {
        id: "r-1".into(),
        collection: "licences".into(),
        jurisdiction: "330106".into(),
    };
    let (mut doc, created) = RecordDoc::create(&meta, &values, who).expect("create");
    let mut changes = vec![created.bytes];
    for status in ["suspended", "active"] {
        let mut edit = Map::new();
        edit.insert("status".into(), json!(status));
        edit.insert("remarks".into(), json!({"nested": [1, 2, {"deep": null}]}));
        if let Some(change) = doc.update(&edit, who).expect("update") {
            changes.push(change.bytes);
        }
    }
    changes
}

/// A record's document that a received change may be applied to.
fn record_document() -> RecordDoc {
    let mut doc = RecordDoc::empty();
    let changes: Vec<_> = valid_changes()
        .iter()
        .map(|bytes| parse_change(bytes).expect("valid").change)
        .collect();
    doc.apply(changes).expect("apply");
    doc
}

/// Everything the store does with a received change: parse, apply, read back.
fn decode_and_use(bytes: &[u8]) {
    let Ok(incoming) = parse_change(bytes) else {
        return;
    };
    let _ = incoming.hash.to_string();
    for mut doc in [RecordDoc::empty(), record_document()] {
        if doc.apply(vec![incoming.change.clone()]).is_err() {
            continue;
        }
        let _ = doc.meta();
        let _ = doc.identity_problem();
        let _ = doc.fields_and_conflicts();
        let _ = doc.history();
        let _ = doc.creator_node();
        let _ = doc.missing_deps();
        let saved = doc.save();
        let _ = RecordDoc::load(&saved).map(|loaded| loaded.fields());
    }
}

/// One watchdog for the whole run of a target.
fn watchdog() -> &'static Watchdog {
    static WATCHDOG: std::sync::OnceLock<Watchdog> = std::sync::OnceLock::new();
    WATCHDOG.get_or_init(Watchdog::default)
}

proptest! {
    #![proptest_config(fuzz::config())]

    #[test]
    fn random_bytes_never_panic_the_change_decoder(bytes in fuzz::bytes(2_048)) {
        watchdog().run(|| fuzz::describe_bytes(&bytes), || decode_and_use(&bytes));
    }

    #[test]
    fn mutated_valid_changes_never_panic_the_change_decoder(
        bytes in fuzz::mutated(valid_changes())
    ) {
        watchdog().run(|| fuzz::describe_bytes(&bytes), || decode_and_use(&bytes));
    }
}

#[test]
fn the_valid_changes_the_mutations_start_from_decode_and_apply() {
    for bytes in valid_changes() {
        let incoming = parse_change(&bytes).expect("valid change");
        assert_eq!(incoming.author_node.as_deref(), Some("330106"));
    }
    let doc = record_document();
    assert_eq!(doc.fields().get("status"), Some(&Value::from("active")));
}
