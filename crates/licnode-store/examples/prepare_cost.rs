//! Where the time of building a new record goes: validation, the automerge document, the
//! projection read back from it. `cargo run --release -p licnode-store --example prepare_cost`.

use std::time::Instant;

use licnode_doc::{Authoring, RecordDoc, RecordMeta};
use licnode_store::Projection;

fn main() {
    let collection = licnode_model::collection("licences").expect("licences");
    let mut generator = licnode_gen::Generator::new(1);
    let count = 20_000;
    let started = Instant::now();
    let inputs: Vec<_> = (0..count)
        .map(|_| generator.record(collection, "330106"))
        .collect();
    let generate = started.elapsed();
    let actor = licnode_doc::actor::fresh("330000");
    let started = Instant::now();
    let validated: Vec<_> = inputs
        .iter()
        .map(|input| {
            licnode_model::validate(collection, input, licnode_model::Mode::Create).expect("valid")
        })
        .collect();
    let validate = started.elapsed();
    let started = Instant::now();
    let docs: Vec<_> = validated
        .iter()
        .enumerate()
        .map(|(index, validated)| {
            let meta = RecordMeta {
                id: format!("record-{index}"),
                collection: "licences".into(),
                jurisdiction: "330106".into(),
            };
            RecordDoc::create(
                &meta,
                &validated.values,
                Authoring {
                    actor: &actor,
                    user: "bench",
                    time_ms: 0,
                },
            )
            .expect("create")
        })
        .collect();
    let create = started.elapsed();
    let started = Instant::now();
    for (doc, _) in &docs {
        std::hint::black_box(Projection::of(doc, 0).expect("projection"));
    }
    let project = started.elapsed();
    let per = |d: std::time::Duration| d.as_secs_f64() * 1e6 / count as f64;
    println!("| step | µs per record |\n|---|---|");
    println!(
        "| generate (not on the write path) | {:.1} |",
        per(generate)
    );
    println!("| validate | {:.1} |", per(validate));
    println!(
        "| automerge document (create + commit + change bytes) | {:.1} |",
        per(create)
    );
    println!(
        "| projection read back from the document | {:.1} |",
        per(project)
    );
}
