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
    // What the store keeps is the received bytes after the document's: they must load again.
    let mut alone = RecordDoc::empty();
    if alone.apply(vec![incoming.change.clone()]).is_ok()
        && alone.missing_deps().is_empty()
        && let Err(error) = RecordDoc::load(bytes)
    {
        panic!("a change that applies does not load again: {error}");
    }
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

    #[test]
    fn mutated_change_columns_with_a_correct_checksum_never_panic_the_decoder(
        bytes in fuzz::mutated_change_columns(valid_changes())
    ) {
        watchdog().run(|| fuzz::describe_bytes(&bytes), || decode_and_use(&bytes));
    }

    #[test]
    fn random_columns_with_a_correct_checksum_never_panic_the_decoder(
        chunk_type in 0u8..4,
        data in fuzz::bytes(1_024),
    ) {
        let bytes = fuzz::framed_chunk(chunk_type, &data);
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

/// Found by `mutated_change_columns_with_a_correct_checksum_never_panic_the_decoder`: a change
/// whose other actors include an empty actor id made automerge 0.12 panic in `import_ops`
/// (`lookup_actor(..).unwrap()`). Minimal input: no dependencies, actor `0000`, seq 1, start op
/// 1, time 0, empty message, one other actor of length 0, then zeros.
#[test]
fn a_change_naming_an_empty_other_actor_is_refused_not_a_panic() {
    let mut data = vec![0, 2, 0, 0, 1, 1, 0, 0, 1, 0];
    data.extend(std::iter::repeat_n(0, 1_120));
    let bytes = fuzz::framed_chunk(fuzz::CHANGE_CHUNK, &data);
    // `parse_change` refuses it before any document sees it: its bytes are not automerge's own
    // encoding of what they hold.
    assert!(matches!(
        parse_change(&bytes),
        Err(licnode_doc::DocError::NotCanonical)
    ));
    // And a document given it anyway refuses it without a panic.
    let change = automerge::Change::from_bytes(bytes).expect("the chunk itself decodes");
    for mut doc in [RecordDoc::empty(), record_document()] {
        let refused = doc.apply(vec![change.clone()]);
        assert!(
            matches!(refused, Err(licnode_doc::DocError::ApplyPanicked)),
            "{refused:?}"
        );
        // Nothing half-applied stays behind.
        assert!(doc.fields().is_empty());
    }
}

/// Found by the soak (`LICNODE_FUZZ_CASES=1000000`) of
/// `mutated_change_columns_with_a_correct_checksum_never_panic_the_decoder`, after 376,210
/// inputs: a change whose object-id column holds a number past `u32` made automerge 0.12 panic
/// inside `Change::from_bytes` (`ObjIdIter`: `u32::try_from(..).unwrap()`), so a hostile peer's
/// change panicked the receiving task instead of being quarantined. `parse_change` refuses it.
#[test]
fn a_change_whose_object_id_overflows_is_refused_not_a_panic() {
    let data: Vec<u8> = vec![
        1, 68, 178, 75, 85, 127, 157, 238, 211, 69, 199, 133, 36, 230, 94, 211, 231, 134, 56, 153,
        35, 204, 28, 235, 25, 52, 125, 14, 239, 157, 82, 95, 191, 15, 6, 51, 51, 48, 49, 48, 54,
        63, 93, 195, 3, 203, 175, 215, 16, 2, 22, 128, 208, 149, 255, 188, 49, 32, 123, 34, 117,
        115, 101, 114, 34, 58, 34, 99, 108, 101, 114, 107, 34, 44, 34, 107, 105, 110, 100, 34, 58,
        34, 117, 112, 100, 97, 116, 101, 34, 125, 0, 12, 1, 6, 2, 8, 17, 6, 19, 8, 21, 26, 52, 3,
        66, 8, 86, 8, 87, 11, 112, 6, 113, 2, 115, 3, 1, 0, 0, 0, 0, 0, 1, 128, 128, 128, 128, 16,
        0, 1, 4, 0, 0, 1, 0, 1, 127, 22, 3, 23, 0, 1, 0, 3, 2, 0, 0, 1, 0, 2, 125, 0, 24, 1, 0, 1,
        126, 7, 114, 101, 109, 97, 114, 107, 115, 6, 110, 101, 115, 116, 101, 100, 0, 3, 127, 6,
        115, 116, 97, 116, 117, 115, 2, 3, 1, 126, 0, 2, 2, 1, 126, 0, 1, 2, 0, 2, 20, 126, 0, 150,
        1, 1, 2, 115, 117, 115, 112, 101, 110, 100, 101, 100, 127, 1, 4, 0, 127, 1, 2, 0, 126, 18,
        2,
    ];
    let bytes = fuzz::framed_chunk(fuzz::CHANGE_CHUNK, &data);
    assert!(
        matches!(
            parse_change(&bytes),
            Err(licnode_doc::DocError::DecodePanicked)
        ),
        "refused as undecodable"
    );
}

/// Found by the store's `fuzz_apply_remote`: a change with one checksum byte flipped was
/// accepted by automerge's `Change::from_bytes`, applied and stored, and the record's stored
/// document no longer loaded ("bad checksum"): every later change to it failed.
#[test]
fn a_change_with_a_wrong_checksum_is_refused() {
    let mut bytes = valid_changes().remove(0);
    bytes[4] ^= 1;
    assert!(matches!(
        parse_change(&bytes),
        Err(licnode_doc::DocError::BadChecksum)
    ));
}

#[test]
fn a_valid_change_framed_again_is_the_same_change() {
    for bytes in valid_changes() {
        assert_eq!(
            fuzz::framed_chunk(fuzz::CHANGE_CHUNK, &fuzz::chunk_data(&bytes)),
            bytes
        );
    }
}

/// Found by the store's `fuzz_apply_remote` on both backends, once its batches carried fresh
/// edits of one record (thousands of changes, so the document was compacted again and again):
/// a change whose columns had been altered under a correct checksum still read as a valid
/// change, was applied and stored; encoded again by automerge it hashed differently, so once
/// the document holding it was saved, the saved document no longer loaded (`MismatchedHeads`)
/// and every later change to the record failed. `parse_change` refuses such a change. The
/// input is found here among the same mutations, from a fixed seed.
#[test]
fn a_change_whose_bytes_are_not_its_canonical_encoding_is_refused() {
    use proptest::strategy::{Strategy, ValueTree};
    use proptest::test_runner::TestRunner;
    let strategy = fuzz::mutated_change_columns(valid_changes());
    let mut runner = TestRunner::deterministic();
    let mut found = None;
    for _ in 0..200_000 {
        let bytes = strategy.new_tree(&mut runner).expect("input").current();
        let Ok(change) = automerge::Change::from_bytes(bytes.clone()) else {
            continue;
        };
        // What `parse_change` checked before: a checksum that matches the contents.
        if bytes.get(4..8) != Some(&change.hash().0[..4]) {
            continue;
        }
        let canonical =
            std::panic::catch_unwind(|| automerge::Change::from(change.decode()).hash());
        if matches!(canonical, Ok(hash) if hash != change.hash()) {
            found = Some(bytes);
            break;
        }
    }
    let bytes = found.expect("a mutation that reads as a change but is not its canonical encoding");
    assert!(
        matches!(
            parse_change(&bytes),
            Err(licnode_doc::DocError::NotCanonical)
        ),
        "refused as not canonical: {:?}",
        parse_change(&bytes).map(|incoming| incoming.hash)
    );
}
