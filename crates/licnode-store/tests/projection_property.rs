//! Property: after any sequence of partial updates, the stored projection equals the record's
//! document, and both equal the updates applied in order (ARCHITECTURE.md, principle 1). Runs against
//! SQLite and PostgreSQL; `LICNODE_SLOW_TESTS=1` runs more cases.

use licnode_app::Archive;
use licnode_app::Author;
use licnode_doc::RecordDoc;
use licnode_store::Store;
use licnode_testkit::BACKENDS;
use proptest::prelude::*;
use serde_json::{Map, Value, json};

/// Fields the property edits: optional ones may also be cleared with null.
const TEXT_FIELDS: [(&str, bool); 5] = [
    ("residence_address", false),
    ("production_address", false),
    ("product_name", false),
    ("remarks", true),
    ("application_units", false),
];

fn patch_strategy() -> impl Strategy<Value = Vec<(usize, Option<String>)>> {
    let value = prop_oneof![
        3 => "[a-z杭州西湖区路号厂]{1,12}".prop_map(Some),
        1 => Just(None),
    ];
    prop::collection::vec((0..TEXT_FIELDS.len(), value), 1..4)
}

fn cases() -> u32 {
    if std::env::var_os("LICNODE_SLOW_TESTS").is_some() {
        64
    } else {
        24
    }
}

#[test]
fn projection_equals_document_after_any_sequence_of_updates() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    for backend in BACKENDS {
        let dir = licnode_testkit::temp_dir().expect("dir");
        let (url, _database) = runtime
            .block_on(licnode_testkit::database_url(backend, dir.path()))
            .expect("database");
        let store = runtime.block_on(Store::open(&url)).expect("store");
        let archive = Archive::new(store.clone(), "330000");
        let collection = licnode_model::collection("licences").expect("licences");
        let generator = std::sync::Mutex::new(licnode_gen::Generator::new(1));
        let mut config = ProptestConfig::with_cases(cases());
        config.failure_persistence = None;
        proptest!(config, |(patches in prop::collection::vec(patch_strategy(), 1..8))| {
            runtime.block_on(async {
                let input = generator.lock().expect("generator").record(collection, "330106");
                let created = archive.create("licences", Some("330106"), &input, &Author::clerk("clerk")).await.expect("create");
                let mut expected: Map<String, Value> = created.record.data.clone();
                for patch in &patches {
                    let mut body = Map::new();
                    for (index, value) in patch {
                        let (name, optional) = TEXT_FIELDS[*index];
                        match value {
                            Some(text) => { body.insert(name.into(), json!(text)); }
                            None if optional => { body.insert(name.into(), Value::Null); }
                            None => {}
                        }
                    }
                    if body.is_empty() { continue; }
                    match archive.update(&created.record.id, &body, &Author::clerk("clerk")).await {
                        Ok(_) => {
                            for (name, value) in &body {
                                let text = value.as_str().map(str::trim);
                                match text {
                                    Some(text) if !text.is_empty() => { expected.insert(name.clone(), json!(text)); }
                                    _ => { expected.remove(name); }
                                }
                            }
                        }
                        // Whitespace-only text for a required field is refused; nothing changes.
                        Err(licnode_app::ArchiveError::Invalid(_)) => {}
                        Err(other) => panic!("update failed: {other}"),
                    }
                }
                let stored = store.get(&created.record.id).await.expect("get").expect("record");
                let bytes = store.document(&created.record.id).await.expect("doc").expect("bytes");
                let document = RecordDoc::load(&bytes).expect("load").fields();
                prop_assert_eq!(&stored.data, &document, "{}: projection vs document", backend);
                prop_assert_eq!(&stored.data, &expected, "{}: projection vs updates", backend);
                Ok(())
            })?;
        });
        runtime.block_on(store.close());
    }
}
