//! A received batch is parsed on every core (`parse_changes`, issue 14): the results are
//! exactly what `parse_change` gives each change, in the batch's order, refusals included.

use licnode_doc::{Authoring, DocError, RecordDoc, RecordMeta, parse_change, parse_changes};

/// The creating changes of `count` quality archives made at a county.
fn first_changes(count: usize) -> Vec<Vec<u8>> {
    let collection = licnode_model::collection("quality_archives").expect("collection");
    let mut generator = licnode_gen::Generator::new(5);
    let actor = licnode_doc::actor::fresh("330106");
    (0..count)
        .map(|index| {
            let input = generator.record(collection, "330106");
            let values = licnode_model::validate(collection, &input, licnode_model::Mode::Create)
                .expect("valid")
                .values;
            let meta = RecordMeta {
                id: format!("archive-{index}"),
                collection: collection.name.into(),
                jurisdiction: "330106".into(),
            };
            let who = Authoring {
                actor: &actor,
                user: "clerk",
                time_ms: 1_700_000_000_000,
            };
            RecordDoc::create(&meta, &values, who)
                .expect("create")
                .1
                .bytes
        })
        .collect()
}

/// A short description of a parse result to compare: the hash, or the refusal.
fn outcome(result: &Result<licnode_doc::IncomingChange, DocError>) -> String {
    match result {
        Ok(incoming) => format!("ok {}", incoming.hash),
        Err(error) => format!("refused: {error}"),
    }
}

#[test]
fn a_large_batch_parses_in_order_to_what_each_change_parses_to_alone() {
    let mut batch = first_changes(300);
    // Refusals spread over the batch, so that every thread's share holds some.
    for index in (7..batch.len()).step_by(41) {
        batch[index][4] ^= 1; // a wrong checksum
    }
    batch[100].truncate(20);
    batch[250] = b"not a change".to_vec();
    let together = parse_changes(batch.iter().map(Vec::as_slice));
    assert_eq!(together.len(), batch.len());
    let alone: Vec<String> = batch
        .iter()
        .map(|bytes| outcome(&parse_change(bytes)))
        .collect();
    let together: Vec<String> = together.iter().map(outcome).collect();
    assert_eq!(together, alone);
    let refused = together
        .iter()
        .filter(|line| line.starts_with("refused"))
        .count();
    assert_eq!(
        refused, 10,
        "eight wrong checksums, one truncated, one not a change"
    );
}

#[test]
fn an_empty_or_small_batch_parses_too() {
    assert!(parse_changes(std::iter::empty()).is_empty());
    let batch = first_changes(3);
    let parsed = parse_changes(batch.iter().map(Vec::as_slice));
    assert!(parsed.iter().all(Result::is_ok));
}
