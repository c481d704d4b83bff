//! The first-change path against the merge it replaces: for records of every collection and
//! for hand-made edge cases, planning a received first change gives the same projection (byte
//! for byte), document bytes, change-log rows and outcome as merging it into a new document;
//! changes it does not read are merged, with the result they had before.

use std::collections::HashSet;

use automerge::transaction::Transactable;
use automerge::{AutoCommit, ObjType, ROOT, ScalarValue};
use licnode_doc::{Authoring, RecordDoc, RecordMeta};
use proptest::prelude::*;
use serde_json::{Map, Value, json};

use super::super::{ApplyOutcome, LoggedChange, RemotePlan, data_text, plan_merged, plan_remote};

/// What a plan stores, in comparable form (the edit state decoded).
type Stored = (
    String,
    super::Projection,
    Option<Vec<u8>>,
    i64,
    String,
    Option<licnode_doc::EditState>,
);

fn stored(plan: Option<RemotePlan>) -> Option<Stored> {
    plan.map(|plan| {
        (
            data_text(&plan.projection),
            plan.projection,
            plan.saved,
            plan.chunk_count,
            format!("{:?}", plan.rows),
            plan.edit_state
                .as_deref()
                .map(|bytes| licnode_doc::EditState::decode(bytes).expect("decodes")),
        )
    })
}

/// The plan and outcome of receiving `remote` at a node without the record, first as
/// `plan_remote` does it, then by merging it into a new document as before.
fn both_ways(remote: &LoggedChange) -> [(Option<Stored>, ApplyOutcome); 2] {
    let parsed = || licnode_doc::parse_change(&remote.bytes).expect("parse");
    let mut fast_outcome = ApplyOutcome::default();
    let fast = plan_remote(
        &remote.record_id,
        None,
        vec![(remote, parsed())],
        &HashSet::new(),
        &mut fast_outcome,
    )
    .expect("plan")
    .stored_plan();
    let mut merged_outcome = ApplyOutcome::default();
    let merged = plan_merged(
        &remote.record_id,
        None,
        vec![(remote, parsed())],
        &mut merged_outcome,
    )
    .expect("merge");
    // Counted by the fast path alone: not part of what must agree.
    let read = std::mem::take(&mut fast_outcome.read_without_document);
    assert!(read <= 1 && merged_outcome.read_without_document == 0);
    [
        (stored(fast), fast_outcome),
        (stored(merged), merged_outcome),
    ]
}

fn meta(collection: &str, id: &str) -> RecordMeta {
    RecordMeta {
        id: id.into(),
        collection: collection.into(),
        jurisdiction: "330106".into(),
    }
}

fn remote_of(meta: &RecordMeta, bytes: Vec<u8>) -> LoggedChange {
    LoggedChange {
        record_id: meta.id.clone(),
        collection: meta.collection.clone(),
        jurisdiction: meta.jurisdiction.clone(),
        author_user: "clerk".into(),
        at_ms: 1_764_900_000_000,
        origin: "330106".into(),
        bytes,
        ..LoggedChange::default()
    }
}

/// The first change of a record created the way the node creates one.
fn created(meta: &RecordMeta, values: &Map<String, Value>) -> Vec<u8> {
    let actor = licnode_doc::actor::fresh("330106");
    let who = Authoring {
        actor: &actor,
        user: "clerk",
        time_ms: 1_764_800_000_000,
    };
    RecordDoc::create(meta, values, who)
        .expect("create")
        .1
        .bytes
}

fn assert_first_change_read(bytes: &[u8]) {
    let incoming = licnode_doc::parse_change(bytes).expect("parse");
    assert!(
        licnode_doc::first_change_fields(&incoming).is_some(),
        "a record's creating change is read from its operations"
    );
}

fn cases() -> u32 {
    if std::env::var_os("LICNODE_SLOW_TESTS").is_some() {
        256
    } else {
        48
    }
}

/// JSON values of every kind a field may be sent, valid or not.
fn any_value() -> impl Strategy<Value = Value> {
    let scalar = prop_oneof![
        Just(json!("")),
        "[a-zA-Z0-9 ]{0,12}".prop_map(Value::from),
        "[杭州西湖区某某电器有限公司路号（）]{1,16}".prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        any::<bool>().prop_map(Value::from),
        Just(Value::Null),
    ];
    scalar.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-z_]{1,8}", inner, 0..4)
                .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn a_generated_record_of_any_collection_is_received_as_the_merge_would_receive_it(
        collection_index in 0..licnode_model::collections().len(),
        seed in any::<u64>(),
    ) {
        let collection = &licnode_model::collections()[collection_index];
        let values = licnode_gen::Generator::new(seed).record(collection, "330106");
        let meta = meta(collection.name, "0190-generated");
        let bytes = created(&meta, &values);
        assert_first_change_read(&bytes);
        let [fast, merged] = both_ways(&remote_of(&meta, bytes));
        prop_assert!(fast.0.is_some(), "a generated record is accepted: {:?}", fast.1);
        prop_assert_eq!(fast, merged);
    }

    #[test]
    fn edge_case_values_are_received_as_the_merge_would_receive_them(
        collection_index in 0..licnode_model::collections().len(),
        seed in any::<u64>(),
        overrides in prop::collection::vec((any::<prop::sample::Index>(), any_value()), 0..4),
        dropped in prop::collection::vec(any::<prop::sample::Index>(), 0..3),
        unknown in prop::option::of(("[a-z]{1,8}", any_value())),
    ) {
        let collection = &licnode_model::collections()[collection_index];
        let mut values = licnode_gen::Generator::new(seed).record(collection, "330106");
        for (index, value) in overrides {
            let field = index.get(collection.fields);
            values.insert(field.name.into(), value);
        }
        // Leaving out fields, the required ones among them (Art. 12 lists what an application holds).
        for index in dropped {
            values.remove(index.get(collection.fields).name);
        }
        if let Some((name, value)) = unknown {
            values.insert(name, value);
        }
        let meta = meta(collection.name, "0190-edge");
        let bytes = created(&meta, &values);
        assert_first_change_read(&bytes);
        let [fast, merged] = both_ways(&remote_of(&meta, bytes));
        prop_assert_eq!(fast, merged);
    }
}

#[test]
fn a_first_change_whose_sender_claims_another_record_is_refused_as_the_merge_refuses_it() {
    let collection = licnode_model::collection("quality_archives").expect("collection");
    let values = licnode_gen::Generator::new(7).record(collection, "330106");
    let meta = meta("quality_archives", "0190-claimed");
    let mut remote = remote_of(&meta, created(&meta, &values));
    remote.jurisdiction = "330000".into();
    let [fast, merged] = both_ways(&remote);
    assert_eq!(fast.0, None);
    assert_eq!(fast.1.refused.len(), 1, "refused: {:?}", fast.1);
    assert_eq!(fast, merged);
}

/// A first change built operation by operation: the identity, then whatever `build` writes.
fn hand_made(meta: &RecordMeta, build: impl FnOnce(&mut AutoCommit)) -> Vec<u8> {
    let mut doc = AutoCommit::new().with_actor(licnode_doc::actor::fresh("330106"));
    doc.put(ROOT, "_id", meta.id.as_str()).expect("put");
    doc.put(ROOT, "_collection", meta.collection.as_str())
        .expect("put");
    doc.put(ROOT, "_jurisdiction", meta.jurisdiction.as_str())
        .expect("put");
    doc.put(ROOT, "_created_at", 1_764_800_000_000_i64)
        .expect("put");
    let collection = licnode_model::collection(&meta.collection).expect("collection");
    let values = licnode_gen::Generator::new(11).record(collection, "330106");
    for (name, value) in &values {
        if let Some(text) = value.as_str() {
            doc.put(ROOT, name.as_str(), text).expect("put");
        }
    }
    build(&mut doc);
    let hash = doc.commit().expect("a change");
    doc.get_change_by_hash(&hash)
        .expect("the change")
        .raw_bytes()
        .to_vec()
}

/// Changes of shapes the first-change path does not read, each merged as before.
fn unread_shapes() -> Vec<(&'static str, Vec<u8>)> {
    let meta = meta("quality_archives", "0190-unread");
    vec![
        (
            "a delete",
            hand_made(&meta, |doc| {
                doc.put(ROOT, "remarks", "初次").expect("put");
                doc.delete(ROOT, "remarks").expect("delete");
            }),
        ),
        (
            "a value written twice",
            hand_made(&meta, |doc| {
                doc.put(ROOT, "remarks", "初次").expect("put");
                doc.put(ROOT, "remarks", "复查").expect("put");
            }),
        ),
        (
            "a text object",
            hand_made(&meta, |doc| {
                let text = doc
                    .put_object(ROOT, "remarks", ObjType::Text)
                    .expect("text");
                doc.splice_text(&text, 0, 0, "复查").expect("splice");
            }),
        ),
        (
            "a counter",
            hand_made(&meta, |doc| {
                doc.put(ROOT, "remarks", ScalarValue::counter(3))
                    .expect("put");
            }),
        ),
        (
            "a list filled from its head",
            hand_made(&meta, |doc| {
                let list = doc
                    .put_object(ROOT, "remarks", ObjType::List)
                    .expect("list");
                doc.insert(&list, 0, "后").expect("insert");
                doc.insert(&list, 0, "前").expect("insert");
            }),
        ),
        (
            "an identity that is not text",
            hand_made(&meta, |doc| {
                doc.put(ROOT, "_jurisdiction", 330106_i64).expect("put");
            }),
        ),
        (
            "a nested map whose key is written twice",
            hand_made(&meta, |doc| {
                let map = doc.put_object(ROOT, "remarks", ObjType::Map).expect("map");
                doc.put(&map, "a", 1_i64).expect("put");
                doc.put(&map, "a", 2_i64).expect("put");
            }),
        ),
    ]
}

#[test]
fn changes_the_first_change_path_does_not_read_are_merged_as_before() {
    let meta = meta("quality_archives", "0190-unread");
    for (shape, bytes) in unread_shapes() {
        let incoming = licnode_doc::parse_change(&bytes).expect("parse");
        assert_eq!(
            licnode_doc::first_change_fields(&incoming),
            None,
            "{shape} is not read from the operations"
        );
        let [fast, merged] = both_ways(&remote_of(&meta, bytes));
        assert_eq!(fast, merged, "{shape}");
    }
}

#[test]
fn a_change_with_a_dependency_is_merged_as_before() {
    let collection = licnode_model::collection("quality_archives").expect("collection");
    let values = licnode_gen::Generator::new(3).record(collection, "330106");
    let meta = meta("quality_archives", "0190-second");
    let actor = licnode_doc::actor::fresh("330106");
    let who = Authoring {
        actor: &actor,
        user: "clerk",
        time_ms: 1,
    };
    let (mut doc, _) = RecordDoc::create(&meta, &values, who).expect("create");
    let mut patch = Map::new();
    patch.insert("remarks".into(), json!("复查"));
    let second = doc.update(&patch, who).expect("update").expect("a change");
    let incoming = licnode_doc::parse_change(&second.bytes).expect("parse");
    assert_eq!(licnode_doc::first_change_fields(&incoming), None);
    let [fast, merged] = both_ways(&remote_of(&meta, second.bytes));
    // Its dependency has not arrived: pending either way.
    assert_eq!(fast.1.pending.len(), 1);
    assert_eq!(fast, merged);
}

#[test]
fn a_hand_made_first_change_of_plain_puts_is_read_and_received_as_merged() {
    let meta = meta("quality_archives", "0190-plain");
    let bytes = hand_made(&meta, |_| {});
    assert_first_change_read(&bytes);
    let [fast, merged] = both_ways(&remote_of(&meta, bytes));
    assert!(fast.0.is_some(), "accepted: {:?}", fast.1);
    assert_eq!(fast, merged);
}
