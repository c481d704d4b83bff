//! A received change must own its operation ids (found by the store fuzz target on
//! PostgreSQL, 2026-12-06): a change whose header was altered under a correct checksum — its
//! first operation counter moved back, or its actor's previous change left out of its
//! dependencies — reads, re-encodes canonically and is applied by automerge, but it names
//! operation ids other changes hold, and once the document is saved the saved document no
//! longer loads (an error, or a panic inside automerge). The record would be lost to every
//! later change at every node that stored it. `RecordDoc::apply` refuses such a change and
//! leaves the document as it was; every change automerge makes still applies.

use automerge::{Change, ExpandedChange};
use licnode_doc::{Authoring, DocError, RecordDoc, RecordMeta};
use serde_json::{Map, json};

/// A licence created and edited twice by one actor at a county, its document, and the three
/// changes' bytes, parsed.
fn record() -> (RecordDoc, Vec<licnode_doc::IncomingChange>) {
    let actor = licnode_doc::actor::fresh("330106");
    let meta = RecordMeta {
        id: "licence-1".into(),
        collection: "licences".into(),
        jurisdiction: "330106".into(),
    };
    let collection = licnode_model::collection("licences").expect("licences");
    let input = licnode_gen::Generator::new(3).record(collection, "330106");
    let values = licnode_model::validate(collection, &input, licnode_model::Mode::Create)
        .expect("valid")
        .values;
    let who = Authoring {
        actor: &actor,
        user: "clerk",
        time_ms: 1_700_000_000_000,
    };
    let (mut doc, created) = RecordDoc::create(&meta, &values, who).expect("create");
    let mut changes = vec![created.bytes];
    for remarks in ["第一次修改", "第二次修改"] {
        let mut edit = Map::new();
        edit.insert("remarks".into(), json!(remarks));
        changes.push(
            doc.update(&edit, who)
                .expect("edit")
                .expect("a change")
                .bytes,
        );
    }
    let parsed = changes
        .iter()
        .map(|bytes| licnode_doc::parse_change(bytes).expect("parse"))
        .collect();
    (doc, parsed)
}

/// `change` with its header altered as `alter` says, encoded as automerge encodes it (so it
/// passes `parse_change`'s checksum and canonical checks).
fn forged(
    change: &licnode_doc::IncomingChange,
    alter: impl FnOnce(&mut ExpandedChange),
) -> licnode_doc::IncomingChange {
    let mut expanded = change.decoded.clone();
    alter(&mut expanded);
    expanded.hash = None;
    let bytes = Change::from(expanded).raw_bytes().to_vec();
    licnode_doc::parse_change(&bytes).expect("a forged change still parses")
}

/// Applies `change` to a copy of the document holding `held` (the first `held` changes).
fn apply_to_copy(
    changes: &[licnode_doc::IncomingChange],
    held: usize,
    change: &licnode_doc::IncomingChange,
) -> (RecordDoc, Result<(), DocError>) {
    let mut copy = RecordDoc::empty();
    copy.apply(changes[..held].iter().map(|c| c.change.clone()).collect())
        .expect("the honest changes apply");
    let applied = copy.apply(vec![change.change.clone()]);
    (copy, applied)
}

#[test]
fn a_change_whose_operations_start_among_those_it_depends_on_is_refused() {
    let (_, changes) = record();
    let second = &changes[1];
    // The third change, its first operation moved back onto the second's.
    let third = forged(&changes[2], |change| {
        change.start_op = second.change.start_op();
    });
    let (mut copy, applied) = apply_to_copy(&changes, 2, &third);
    assert!(
        matches!(applied, Err(DocError::OutOfOrder(_))),
        "{applied:?}"
    );
    assert!(!copy.has_change(&third.hash), "nothing was applied");
    // The document is as it was: it saves and loads, holding the honest changes.
    let saved = copy.save();
    let mut loaded = RecordDoc::load(&saved).expect("the document still loads");
    assert!(loaded.has_change(&second.hash));
    assert_eq!(loaded.fields()["remarks"], json!("第一次修改"));
}

#[test]
fn a_change_that_leaves_out_its_actors_previous_change_is_refused() {
    let (_, changes) = record();
    // The third change made concurrent with the second (its deps the first change only):
    // its operations would start where the second's do, ids the second holds.
    let third = forged(&changes[2], |change| {
        change.deps = vec![changes[0].hash];
        change.start_op = changes[1].change.start_op();
    });
    let (_, applied) = apply_to_copy(&changes, 2, &third);
    assert!(
        matches!(applied, Err(DocError::OutOfOrder(_))),
        "{applied:?}"
    );
    // And sent before the second change arrives, so that the honest one would collide.
    let (mut copy, applied) = apply_to_copy(&changes, 1, &third);
    assert!(
        matches!(applied, Err(DocError::OutOfOrder(_))),
        "{applied:?}"
    );
    copy.apply(vec![changes[1].change.clone()])
        .expect("the honest second change still applies");
    RecordDoc::load(&copy.save()).expect("and the document loads");
}

#[test]
fn honest_changes_apply_in_one_batch_in_any_order_and_concurrent_edits_merge() {
    let (mut doc, changes) = record();
    // Every change at once, last first: the check reads dependencies from the batch too.
    let mut copy = RecordDoc::empty();
    copy.apply(changes.iter().rev().map(|c| c.change.clone()).collect())
        .expect("applies");
    assert_eq!(copy.heads(), doc.heads());
    // A change waiting for a dependency is not refused; it applies when the dependency comes.
    let mut waiting = RecordDoc::empty();
    waiting
        .apply(vec![changes[0].change.clone(), changes[2].change.clone()])
        .expect("the third waits");
    assert_eq!(waiting.missing_deps(), vec![changes[1].hash]);
    waiting
        .apply(vec![changes[1].change.clone()])
        .expect("the second arrives");
    assert!(waiting.missing_deps().is_empty());
    assert_eq!(waiting.heads(), doc.heads());
    // An edit at the province, concurrent with the county's second edit, merges both ways.
    let province = licnode_doc::actor::fresh("330000");
    let mut at_province = RecordDoc::empty();
    at_province
        .apply(changes[..2].iter().map(|c| c.change.clone()).collect())
        .expect("applies");
    let mut edit = Map::new();
    edit.insert("remarks".into(), json!("省局修改"));
    let who = Authoring {
        actor: &province,
        user: "province",
        time_ms: 1_700_000_000_001,
    };
    let concurrent = at_province
        .update(&edit, who)
        .expect("edit")
        .expect("change");
    let concurrent = licnode_doc::parse_change(&concurrent.bytes).expect("parse");
    doc.apply(vec![concurrent.change.clone()])
        .expect("the province's edit merges at the county");
    at_province
        .apply(vec![changes[2].change.clone()])
        .expect("the county's edit merges at the province");
    assert_eq!(doc.heads().len(), 2);
    let (mut a, mut b) = (doc.heads(), at_province.heads());
    a.sort();
    b.sort();
    assert_eq!(a, b);
    RecordDoc::load(&doc.save()).expect("the merged document loads");
}

/// Found by the same target on PostgreSQL, after the check above: a change may carry extra
/// bytes after its operations — an author footer — and automerge asserts, loading a document,
/// that a change with an author is its actor's first. A later change with one, read without
/// the document (a plain edit) and appended to the stored document, made every load of the
/// record panic. No node writes extra bytes: `parse_change` refuses any.
#[test]
fn a_change_carrying_an_author_or_other_extra_bytes_is_refused_at_the_door() {
    let (_, changes) = record();
    for extra in [
        // An author footer: kind 1, length, the author's bytes.
        vec![1, 4, 0xde, 0xad, 0xbe, 0xef],
        // Bytes no footer kind names.
        vec![9, 9, 9],
    ] {
        for change in &changes {
            let mut expanded = change.decoded.clone();
            expanded.extra_bytes = extra.clone();
            expanded.hash = None;
            let bytes = Change::from(expanded).raw_bytes().to_vec();
            let parsed = licnode_doc::parse_change(&bytes);
            assert!(
                matches!(parsed, Err(DocError::ExtraBytes)),
                "seq {}: {parsed:?}",
                change.change.seq()
            );
        }
    }
    // Every change the node makes has none.
    for change in &changes {
        assert!(change.change.extra_bytes().is_empty());
    }
}
