//! What reading a received change costs, step by step (issue 14): the bytes parsed and their
//! checksum checked, the operations decoded, and the decoded change encoded again and hashed —
//! the canonical check `parse_change` makes since a non-canonical change bricked a record
//! (RELIABILITY.md). Changes as a county sends them: a quality archive's first change, and an
//! edit of one field. `cargo run --release -p licnode-doc --example parse_cost`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use automerge::Change;
use licnode_doc::{Authoring, RecordDoc, RecordMeta};
use serde_json::{Map, json};

/// Runs `step` over every change and returns the mean time per change.
fn per_change(changes: &[Vec<u8>], step: impl Fn(&[u8])) -> Duration {
    // Best of three passes: the figure is the step's cost, not the machine's other work.
    (0..3)
        .map(|_| {
            let started = Instant::now();
            for bytes in changes {
                step(bytes);
            }
            started.elapsed() / changes.len() as u32
        })
        .min()
        .expect("three passes")
}

fn main() {
    let collection = licnode_model::collection("quality_archives").expect("quality archives");
    let mut generator = licnode_gen::Generator::new(1);
    let actor = licnode_doc::actor::fresh("330106");
    let count = 20_000;
    let (mut firsts, mut edits) = (Vec::new(), Vec::new());
    for index in 0..count {
        let input = generator.record(collection, "330106");
        let values = licnode_model::validate(collection, &input, licnode_model::Mode::Create)
            .expect("valid")
            .values;
        let meta = RecordMeta {
            id: format!("record-{index}"),
            collection: collection.name.into(),
            jurisdiction: "330106".into(),
        };
        let who = Authoring {
            actor: &actor,
            user: "bench",
            time_ms: 1,
        };
        let (mut document, first) = RecordDoc::create(&meta, &values, who).expect("create");
        let mut edit = Map::new();
        edit.insert("remarks".into(), json!(format!("第 {index} 次修改")));
        let edited = document
            .update(&edit, who)
            .expect("edit")
            .expect("a change");
        firsts.push(first.bytes);
        edits.push(edited.bytes);
    }
    println!("| step | first change (µs) | edit (µs) |\n|---|---:|---:|");
    let row = |name: &str, step: &dyn Fn(&[u8])| {
        let first = per_change(&firsts, step);
        let edit = per_change(&edits, step);
        println!(
            "| {name} | {:.1} | {:.1} |",
            first.as_secs_f64() * 1e6,
            edit.as_secs_f64() * 1e6
        );
    };
    row("bytes parsed, checksum checked", &|bytes| {
        let change = Change::from_bytes(bytes.to_vec()).expect("parse");
        black_box(change.hash());
    });
    row("… and the operations decoded", &|bytes| {
        let change = Change::from_bytes(bytes.to_vec()).expect("parse");
        black_box(change.decode());
    });
    row("… and a clone of the decoded operations", &|bytes| {
        let change = Change::from_bytes(bytes.to_vec()).expect("parse");
        let decoded = change.decode();
        black_box(decoded.clone());
        black_box(decoded);
    });
    row(
        "… and encoded again and hashed (the canonical check)",
        &|bytes| {
            let change = Change::from_bytes(bytes.to_vec()).expect("parse");
            black_box(Change::from(change.decode()).hash());
        },
    );
    row(
        "`parse_change` (all of it, the decoded change kept)",
        &|bytes| {
            black_box(licnode_doc::parse_change(bytes).expect("parse"));
        },
    );
    println!(
        "\n{count} changes of each kind; first change {} bytes, edit {} bytes on average.",
        firsts.iter().map(Vec::len).sum::<usize>() / count,
        edits.iter().map(Vec::len).sum::<usize>() / count
    );
}
