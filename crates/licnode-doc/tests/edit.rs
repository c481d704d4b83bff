//! A received edit read from its operations onto the stored record (`EditState::read_edit`)
//! shows what merging it into the record's document shows: the same fields, no conflicts, and
//! the state the document gives (issue 14 item 2, the changed round). Edits it does not read
//! are merged; the test follows a receiving node through random edits made at two nodes, some
//! concurrent, some nested, some clearing fields, delivered in causal order.

use licnode_doc::{Authoring, EditState, RecordDoc, RecordMeta, parse_change};
use proptest::prelude::*;
use serde_json::{Map, Value, json};

fn meta() -> RecordMeta {
    RecordMeta {
        id: "0190-edit".into(),
        collection: "quality_archives".into(),
        jurisdiction: "330106".into(),
    }
}

/// A node receiving a record's changes one at a time, as the store does: its document's bytes,
/// its fields and its edit state, and how many edits were read without the document.
struct Receiver {
    bytes: Vec<u8>,
    fields: Map<String, Value>,
    state: Option<EditState>,
    read: usize,
    merged: usize,
}

impl Receiver {
    fn new(first: &[u8]) -> Receiver {
        let incoming = parse_change(first).expect("parse");
        let read = licnode_doc::first_change_fields(&incoming).expect("a first change");
        let state = EditState::of_first_change(&incoming, &read);
        let mut document = RecordDoc::load(first).expect("load");
        assert_eq!(
            Some(&state),
            document.edit_state().as_ref(),
            "a first change's state is its document's"
        );
        Receiver {
            bytes: first.to_vec(),
            fields: read.fields,
            state: Some(state),
            read: 0,
            merged: 0,
        }
    }

    /// Receives `change`, checking the edit read from its operations against the merge.
    fn receive(&mut self, change: &[u8]) {
        let incoming = parse_change(change).expect("parse");
        let mut document = RecordDoc::load(&self.bytes).expect("load");
        document
            .apply(vec![incoming.change.clone()])
            .expect("apply");
        assert!(
            document.missing_deps().is_empty(),
            "delivered in causal order"
        );
        let merged_fields = document.fields();
        let merged_state = document.edit_state();
        match self
            .state
            .as_ref()
            .and_then(|state| state.read_edit(&incoming))
        {
            Some(edit) => {
                self.read += 1;
                let mut fields = self.fields.clone();
                for (name, value) in &edit.fields {
                    match value {
                        Some(value) => fields.insert(name.clone(), value.clone()),
                        None => fields.remove(name),
                    };
                }
                assert_eq!(fields, merged_fields, "the fields the edit leaves");
                assert_eq!(
                    document.conflicts(),
                    Vec::new(),
                    "a read edit leaves no conflict"
                );
                assert_eq!(
                    Some(&edit.state),
                    merged_state.as_ref(),
                    "the state it leaves"
                );
                self.state = Some(edit.state);
            }
            None => {
                self.merged += 1;
                self.state = merged_state;
            }
        }
        // The state is stored and read back between changes.
        self.state = self.state.as_ref().map(|state| {
            let decoded = EditState::decode(&state.encode()).expect("decode");
            assert_eq!(&decoded, state);
            decoded
        });
        self.fields = merged_fields;
        self.bytes.extend_from_slice(change);
    }
}

fn who<'a>(actor: &'a licnode_doc::ActorId, time_ms: i64) -> Authoring<'a> {
    Authoring {
        actor,
        user: "clerk",
        time_ms,
    }
}

fn patch(pairs: &[(&str, Value)]) -> Map<String, Value> {
    pairs
        .iter()
        .map(|(name, value)| (name.to_string(), value.clone()))
        .collect()
}

#[test]
fn a_plain_edit_is_read_and_a_concurrent_one_merged() {
    let county = licnode_doc::actor::fresh("330106");
    let province = licnode_doc::actor::fresh("330000");
    let values = patch(&[
        ("enterprise_name", json!("杭州某某电器有限公司")),
        ("remarks", json!("初检")),
    ]);
    let (mut at_county, first) =
        RecordDoc::create(&meta(), &values, who(&county, 1)).expect("create");
    let mut receiver = Receiver::new(&first.bytes);
    let mut at_province = RecordDoc::load(&first.bytes).expect("load");

    // A plain edit, a cleared field and a new one: read.
    let change = at_county
        .update(&patch(&[("remarks", json!("复查"))]), who(&county, 2))
        .expect("update")
        .expect("a change");
    receiver.receive(&change.bytes);
    let change = at_county
        .update(
            &patch(&[("remarks", Value::Null), ("product", json!("电线"))]),
            who(&county, 3),
        )
        .expect("update")
        .expect("a change");
    receiver.receive(&change.bytes);
    assert_eq!((receiver.read, receiver.merged), (2, 0));

    // The province writes the field the county just wrote, without having seen it: two
    // concurrent values — merged, and no state until the conflict is resolved.
    let concurrent = at_province
        .update(&patch(&[("product", json!("电缆"))]), who(&province, 4))
        .expect("update")
        .expect("a change");
    receiver.receive(&concurrent.bytes);
    assert_eq!((receiver.read, receiver.merged), (2, 1));
    assert_eq!(
        receiver.state, None,
        "a record with a conflict has no edit state"
    );

    // A table (a nested list) is merged too.
    let mut at_county_now = RecordDoc::load(&receiver.bytes).expect("load");
    let nested = at_county_now
        .update(
            &patch(&[("items", json!([{"name": "甲"}]))]),
            who(&county, 5),
        )
        .expect("update")
        .expect("a change");
    receiver.receive(&nested.bytes);
    assert_eq!((receiver.read, receiver.merged), (2, 2));
}

/// One step of a scenario: who edits, and what.
#[derive(Clone, Debug)]
enum Step {
    /// The county (0) or the province (1) writes these fields.
    Edit(usize, Vec<(String, Value)>),
    /// The two exchange what they have.
    Sync,
}

fn any_scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        4 => "[a-z0-9 ]{0,6}".prop_map(Value::from),
        2 => "[杭州西湖区某电器公司]{1,6}".prop_map(Value::from),
        1 => any::<i64>().prop_map(Value::from),
        1 => any::<f64>().prop_map(Value::from),
        1 => any::<bool>().prop_map(Value::from),
        2 => Just(Value::Null),
    ]
}

/// Mostly scalars (what a plain edit writes), sometimes a table or a nested map.
fn any_value() -> impl Strategy<Value = Value> {
    let nested = any_scalar().prop_recursive(2, 8, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..3).prop_map(Value::Array),
            prop::collection::btree_map("[a-z]{1,3}", inner, 0..3)
                .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    });
    prop_oneof![8 => any_scalar(), 1 => nested]
}

fn any_step() -> impl Strategy<Value = Step> {
    prop_oneof![
        6 => (
            prop_oneof![5 => Just(0_usize), 1 => Just(1_usize)],
            prop::collection::vec(("(remarks|product|note|a|b)", any_value()), 1..3),
        )
            .prop_map(|(who, fields)| Step::Edit(who, fields)),
        1 => Just(Step::Sync),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn an_edit_read_from_its_operations_shows_what_the_merged_document_shows(
        first in prop::collection::btree_map("(remarks|product|note|a|b)", any_value(), 0..4),
        steps in prop::collection::vec(any_step(), 1..16),
    ) {
        let actors = [
            licnode_doc::actor::fresh("330106"),
            licnode_doc::actor::fresh("330000"),
        ];
        let (county, created) = RecordDoc::create(
            &meta(),
            &first.into_iter().collect(),
            who(&actors[0], 1),
        )
        .expect("create");
        let mut receiver = Receiver::new(&created.bytes);
        let province = RecordDoc::load(&created.bytes).expect("load");
        let mut replicas = [county, province];
        for (time, step) in steps.into_iter().enumerate() {
            match step {
                Step::Edit(index, fields) => {
                    let values: Map<String, Value> = fields.into_iter().collect();
                    let made = replicas[index]
                        .update(&values, who(&actors[index], time as i64 + 2))
                        .expect("update");
                    // The receiver gets every change as it is made: causal order.
                    if let Some(change) = made {
                        receiver.receive(&change.bytes);
                    }
                }
                Step::Sync => {
                    let [county, province] = &mut replicas;
                    county.apply(province.changes()).expect("to the county");
                    province.apply(county.changes()).expect("to the province");
                }
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    /// The stored state is read back as itself, and a damaged one is refused, never a panic:
    /// the edit is then merged.
    #[test]
    fn a_stored_edit_state_reads_back_as_itself_and_a_damaged_one_is_refused(
        seed in any::<u64>(),
        cut in any::<prop::sample::Index>(),
        noise in prop::collection::vec(any::<u8>(), 0..64),
    ) {
        let collection = licnode_model::collection("licences").expect("licences");
        let values = licnode_gen::Generator::new(seed).record(collection, "330106");
        let actor = licnode_doc::actor::fresh("330106");
        let licence = RecordMeta { collection: "licences".into(), ..meta() };
        let (_, created) = RecordDoc::create(&licence, &values, who(&actor, 1)).expect("create");
        let incoming = parse_change(&created.bytes).expect("parse");
        let first = licnode_doc::first_change_fields(&incoming).expect("read");
        let state = EditState::of_first_change(&incoming, &first);
        let stored = state.encode();
        prop_assert_eq!(EditState::decode(&stored), Some(state));
        // Small beside the change it describes (172 bytes for a 687-byte licence).
        prop_assert!(stored.len() * 3 < created.bytes.len(), "{} of {}", stored.len(), created.bytes.len());
        let cut = cut.index(stored.len());
        prop_assert_eq!(EditState::decode(&stored[..cut]), None, "cut at {}", cut);
        let _ = EditState::decode(&noise);
        let mut damaged = stored.clone();
        damaged.extend_from_slice(&noise);
        if !noise.is_empty() {
            prop_assert_eq!(EditState::decode(&damaged), None);
        }
    }
}
