//! A record's first change read from its operations shows what the document it creates shows:
//! the same metadata, fields and creation time, no conflicts and a single identity (issue 14
//! item 2; issue 11 item 6 for the identity). Changes of other shapes are not read.

use automerge::transaction::Transactable;
use automerge::{AutoCommit, ROOT};
use licnode_doc::{Authoring, RecordDoc, RecordMeta, first_change_fields, parse_change};
use proptest::prelude::*;
use serde_json::{Map, Value, json};

fn meta(collection: &str) -> RecordMeta {
    RecordMeta {
        id: "0190-first".into(),
        collection: collection.into(),
        jurisdiction: "330106".into(),
    }
}

/// Creates a record as the node does, reads its first change both ways, and compares.
fn assert_read_as_document(meta: &RecordMeta, values: &Map<String, Value>) {
    let actor = licnode_doc::actor::fresh("330106");
    let who = Authoring {
        actor: &actor,
        user: "clerk",
        time_ms: 1_764_800_000_000,
    };
    let (_, change) = RecordDoc::create(meta, values, who).expect("create");
    let incoming = parse_change(&change.bytes).expect("parse");
    let first = first_change_fields(&incoming).expect("a creating change is read");
    let document = RecordDoc::load(&change.bytes).expect("load");
    assert_eq!(first.meta, document.meta().expect("meta"));
    assert_eq!(
        serde_json::to_string(&first.fields).expect("json"),
        serde_json::to_string(&document.fields()).expect("json"),
        "fields, byte for byte"
    );
    assert_eq!(first.created_at_ms, document.created_at_ms());
    assert_eq!(document.conflicts(), Vec::new());
    assert_eq!(document.identity_problem(), None);
}

fn any_value() -> impl Strategy<Value = Value> {
    let scalar = prop_oneof![
        Just(json!("")),
        "[a-zA-Z0-9 ]{0,12}".prop_map(Value::from),
        "[杭州西湖区某某电器有限公司（）]{1,16}".prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        any::<bool>().prop_map(Value::from),
        Just(Value::Null),
    ];
    scalar.prop_recursive(4, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::btree_map("[a-z_]{0,8}", inner, 0..4)
                .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn a_generated_record_of_any_collection_reads_as_its_document(
        collection_index in 0..licnode_model::collections().len(),
        seed in any::<u64>(),
    ) {
        let collection = &licnode_model::collections()[collection_index];
        let values = licnode_gen::Generator::new(seed).record(collection, "330106");
        assert_read_as_document(&meta(collection.name), &values);
    }

    #[test]
    fn any_values_read_as_their_document(
        values in prop::collection::btree_map("[a-z][a-z_]{0,10}", any_value(), 0..12),
    ) {
        let values: Map<String, Value> = values.into_iter().collect();
        assert_read_as_document(&meta("quality_archives"), &values);
    }
}

#[test]
fn a_record_without_fields_reads_as_its_document() {
    assert_read_as_document(&meta("quality_archives"), &Map::new());
}

#[test]
fn a_change_that_updates_a_record_is_not_read() {
    let actor = licnode_doc::actor::fresh("330106");
    let who = Authoring {
        actor: &actor,
        user: "clerk",
        time_ms: 1,
    };
    let mut values = Map::new();
    values.insert("remarks".into(), json!("初次"));
    let (mut doc, _) = RecordDoc::create(&meta("quality_archives"), &values, who).expect("create");
    values.insert("remarks".into(), Value::Null);
    let update = doc.update(&values, who).expect("update").expect("a change");
    let incoming = parse_change(&update.bytes).expect("parse");
    assert_eq!(first_change_fields(&incoming), None);
}

#[test]
fn a_first_change_without_its_identity_is_not_read() {
    let mut doc = AutoCommit::new();
    doc.put(ROOT, "_id", "0190-first").expect("put");
    doc.put(ROOT, "_collection", "quality_archives")
        .expect("put");
    doc.put(ROOT, "remarks", "初次").expect("put");
    let hash = doc.commit().expect("a change");
    let bytes = doc
        .get_change_by_hash(&hash)
        .expect("change")
        .raw_bytes()
        .to_vec();
    let incoming = parse_change(&bytes).expect("parse");
    assert_eq!(first_change_fields(&incoming), None);
}
