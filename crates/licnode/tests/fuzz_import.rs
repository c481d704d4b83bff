//! Fuzzing the import decoders (issue 16, item 4): `licnode import` of CSV and JSON lines
//! (`transfer::import`) on random bytes, on mutated valid files and on valid files with rows of
//! random JSON (wrong types, huge strings, deep nesting, unknown fields). No input panics or
//! hangs; a file is either refused as a whole with an error (an unreadable header) or read row
//! by row, every row imported or refused with its reason. SQLite: the rows are judged above the
//! store. Cases: `LICNODE_FUZZ_CASES` (see `licnode_testkit::fuzz`). Soak:
//! `LICNODE_FUZZ_CASES=1000000 cargo test --release -p licnode --test fuzz_import`.

use licnode::transfer::{self, Format};
use licnode_app::Archive;
use licnode_store::Store;
use licnode_testkit::fuzz::{self, Watchdog};
use licnode_testkit::{Backend, TestDatabase};
use proptest::prelude::*;
use proptest::test_runner::TestRunner;
use serde_json::Value;

fn licence_rows(count: u64) -> Vec<serde_json::Map<String, Value>> {
    let collection = licnode_model::collection("licences").expect("licences");
    let mut generator = licnode_gen::Generator::new(5);
    (0..count)
        .map(|_| generator.record(collection, "330106"))
        .collect()
}

/// A valid JSON-lines file of licences.
fn valid_jsonl() -> Vec<u8> {
    licence_rows(3)
        .into_iter()
        .map(|row| format!("{}\n", Value::Object(row)))
        .collect::<String>()
        .into_bytes()
}

/// A valid CSV file of licences: a header of field names, one row per licence.
fn valid_csv() -> Vec<u8> {
    let rows = licence_rows(3);
    let headers: Vec<String> = rows[0].keys().cloned().collect();
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(&headers).expect("header");
    for row in &rows {
        let cells: Vec<String> = headers
            .iter()
            .map(|name| match &row[name] {
                Value::String(text) => text.clone(),
                Value::Null => String::new(),
                other => other.to_string(),
            })
            .collect();
        writer.write_record(&cells).expect("row");
    }
    writer.into_inner().expect("csv")
}

/// One file to import: its format and bytes.
fn file() -> impl Strategy<Value = (Format, Vec<u8>)> {
    let random_lines = proptest::collection::vec(fuzz::json_value(3), 1..5).prop_map(|values| {
        values
            .into_iter()
            .map(|value| format!("{value}\n"))
            .collect::<String>()
            .into_bytes()
    });
    prop_oneof![
        1 => fuzz::bytes(1_024).prop_map(|bytes| (Format::Csv, bytes)),
        1 => fuzz::bytes(1_024).prop_map(|bytes| (Format::Jsonl, bytes)),
        3 => fuzz::mutated(vec![valid_csv()]).prop_map(|bytes| (Format::Csv, bytes)),
        3 => fuzz::mutated(vec![valid_jsonl()]).prop_map(|bytes| (Format::Jsonl, bytes)),
        2 => random_lines.prop_map(|bytes| (Format::Jsonl, bytes)),
    ]
}

struct Node {
    archive: Archive,
    _database: Option<TestDatabase>,
    _dir: tempfile::TempDir,
}

async fn node() -> Node {
    let dir = licnode_testkit::temp_dir().expect("dir");
    let (url, database) = licnode_testkit::database_url(Backend::Sqlite, dir.path())
        .await
        .expect("database");
    let store = Store::open(&url).await.expect("store");
    Node {
        archive: Archive::new(store, "330000"),
        _database: database,
        _dir: dir,
    }
}

async fn import(
    node: &Node,
    format: Format,
    bytes: Vec<u8>,
) -> anyhow::Result<transfer::ImportSummary> {
    let collection = licnode_model::collection("licences").expect("licences");
    let input: Box<dyn std::io::BufRead + Send> = Box::new(std::io::Cursor::new(bytes));
    transfer::import(
        &node.archive,
        collection,
        format,
        input,
        Some("330106"),
        "operator",
        &mut |_| {},
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_imported_file_is_refused_or_read_row_by_row_never_a_panic() {
    let node = node().await;
    let watchdog = Watchdog::default();
    let mut config = fuzz::config();
    config.failure_persistence = None;
    let mut runner = TestRunner::new(config);
    let handle = tokio::runtime::Handle::current();
    let result = tokio::task::block_in_place(|| {
        runner.run(&file(), |(format, bytes)| {
            watchdog.start(|| fuzz::describe_bytes(&bytes));
            let imported = handle.block_on(import(&node, format, bytes));
            watchdog.done();
            if let Ok(summary) = imported {
                prop_assert_eq!(
                    summary.imported + summary.refused.len() as u64,
                    summary.read,
                    "{:?}",
                    summary.refused
                );
            }
            Ok(())
        })
    });
    if let Err(failure) = result {
        panic!("{failure}");
    }
}

#[tokio::test]
async fn the_valid_files_the_mutations_start_from_import() {
    for (format, bytes) in [(Format::Csv, valid_csv()), (Format::Jsonl, valid_jsonl())] {
        let node = node().await;
        let summary = import(&node, format, bytes).await.expect("import");
        assert_eq!(
            (summary.read, summary.imported),
            (3, 3),
            "{:?}",
            summary.refused
        );
    }
}
