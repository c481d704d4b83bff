//! Received edits of records a node holds (the changed round, issue 14 item 2): plain edits
//! are read from their operations onto the stored projection, without loading the document.
//! Two stores receive the same random batches — one as it runs, one whose stored edit states
//! are erased before every batch, so that it merges every edit into the document — and must
//! answer every batch alike (applied, refused, waiting) and store the same records, each the
//! projection of its own stored document. Edits come from a county and, some concurrent, from
//! its province; some clear fields, some write tables, some are invalid; batches hold several
//! edits of one record. Every test runs against SQLite and PostgreSQL.

mod support;
use std::collections::BTreeSet;
use support::open;

use licnode_doc::{Authoring, RecordDoc, RecordMeta};
use licnode_model::FieldType;
use licnode_store::{ApplyOutcome, LoggedChange, Projection, Store};
use licnode_testkit::BACKENDS;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Map, Value, json};

/// Erases every stored edit state, as a database from before the column would hold.
async fn erase_edit_states(url: &str) {
    const ERASE: &str = "UPDATE documents SET edit_state = NULL";
    if url.starts_with("sqlite:") {
        let pool = sqlx::SqlitePool::connect(url).await.expect("connect");
        sqlx::query(ERASE).execute(&pool).await.expect("erase");
        pool.close().await;
    } else {
        let pool = sqlx::PgPool::connect(url).await.expect("connect");
        sqlx::query(ERASE).execute(&pool).await.expect("erase");
        pool.close().await;
    }
}

/// The record `id`'s name, licence number (as given and bare), credit code and status columns,
/// as stored.
type NamedColumns = (
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

/// The named columns of the records `ids` that exist, by id, read with SQL.
async fn named_columns(url: &str, ids: &[String]) -> Vec<(String, NamedColumns)> {
    const COLUMNS: &str = "SELECT id, enterprise_name, licence_number, licence_number_bare, \
                           credit_code, status FROM records ORDER BY id";
    type Row = (
        String,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
    );
    let rows: Vec<Row> = if url.starts_with("sqlite:") {
        let pool = sqlx::SqlitePool::connect(url).await.expect("connect");
        let rows = sqlx::query_as(COLUMNS)
            .fetch_all(&pool)
            .await
            .expect("read");
        pool.close().await;
        rows
    } else {
        let pool = sqlx::PgPool::connect(url).await.expect("connect");
        let rows = sqlx::query_as(COLUMNS)
            .fetch_all(&pool)
            .await
            .expect("read");
        pool.close().await;
        rows
    };
    rows.into_iter()
        .filter(|row| ids.contains(&row.0))
        .map(|(id, name, number, bare, credit_code, status)| {
            (id, (name, number, bare, credit_code, status))
        })
        .collect()
}

/// One record's life at two nodes: the county that created it and its province.
struct Record {
    meta: RecordMeta,
    replicas: [RecordDoc; 2],
}

const NODES: [&str; 2] = ["330106", "330000"];

/// A value for `field` of `collection`: usually a valid one (from a freshly generated record),
/// sometimes cleared, rarely one validation refuses.
fn value_for(
    random: &mut StdRng,
    collection: &licnode_model::Collection,
    field: &licnode_model::Field,
) -> Value {
    let roll = random.random_range(0..20);
    if roll == 0 {
        // Longer than any text field takes; not a number, a date or a code either.
        return json!("长".repeat(40_000));
    }
    if roll < 3 && !field.required {
        return Value::Null;
    }
    let generated = licnode_gen::Generator::new(random.random()).record(collection, "330106");
    generated
        .get(field.name)
        .cloned()
        .unwrap_or_else(|| json!(format!("值{}", random.random_range(0..1000))))
}

/// The fields an edit may write: every field but the identity-bearing ones the generator
/// derives from the jurisdiction.
fn editable(collection: &licnode_model::Collection) -> Vec<&'static licnode_model::Field> {
    collection
        .fields
        .iter()
        .filter(|field| !matches!(field.field_type, FieldType::DivisionCode))
        .collect()
}

#[derive(Default)]
struct Tally {
    applied: usize,
    read: usize,
    read_by_reference: usize,
    refused: usize,
}

async fn check_batch(
    stores: [&Store; 2],
    batch: &[LoggedChange],
    ids: &[String],
    [url, reference_url]: [&str; 2],
    tally: &mut Tally,
    label: &str,
) {
    erase_edit_states(reference_url).await;
    let outcome = stores[0].apply_remote(batch).await.expect("apply");
    let reference = stores[1]
        .apply_remote(batch)
        .await
        .expect("apply (reference)");
    let set = |outcome: &ApplyOutcome| {
        (
            outcome.applied.clone(),
            outcome.pending.iter().cloned().collect::<BTreeSet<_>>(),
            // With the reason each gives: a refusal reads the same on both paths.
            outcome.refused.iter().cloned().collect::<BTreeSet<_>>(),
            outcome.duplicates,
            outcome
                .refusal_codes
                .iter()
                .map(|(hash, code)| (hash.clone(), code.as_str()))
                .collect::<BTreeSet<_>>(),
        )
    };
    assert_eq!(
        set(&outcome),
        set(&reference),
        "{label}: the batch's outcome"
    );
    tally.applied += outcome.applied.len();
    tally.read += outcome.read_without_document;
    tally.read_by_reference += reference.read_without_document;
    tally.refused += outcome.refused.len();
    let columns = named_columns(url, ids).await;
    for id in ids {
        let stored = stores[0].get(id).await.expect("get");
        let merged = stores[1].get(id).await.expect("get (reference)");
        let (Some(stored), Some(merged)) = (stored, merged) else {
            continue;
        };
        assert_eq!(stored.data, merged.data, "{label} {id}: fields");
        assert_eq!(
            (
                stored.conflict_count,
                stored.created_at_ms,
                stored.updated_at_ms
            ),
            (
                merged.conflict_count,
                merged.created_at_ms,
                merged.updated_at_ms
            ),
            "{label} {id}"
        );
        let bytes = stores[0].document(id).await.expect("doc").expect("bytes");
        let document = RecordDoc::load(&bytes).expect("the stored document loads");
        let projected = Projection::of(&document, stored.updated_at_ms).expect("projection");
        assert_eq!(stored.data, projected.data, "{label} {id}: its document's");
        assert_eq!(
            stored.conflict_count, projected.conflict_count,
            "{label} {id}"
        );
        // The columns read from the fields follow them, changed or not (SQLite sets them only
        // when one changed).
        let (_, stored_columns) = columns
            .iter()
            .find(|(row, _)| row == id)
            .expect("the record's row");
        let projected_columns = (
            projected.enterprise_name,
            projected.licence_number,
            projected.licence_number_bare,
            projected.credit_code,
            projected.status,
        );
        assert_eq!(
            stored_columns, &projected_columns,
            "{label} {id}: its named columns"
        );
    }
}

#[tokio::test]
async fn received_edits_read_without_their_document_store_what_merging_them_stores() {
    let collections = ["quality_archives", "licences", "inspections"];
    for backend in BACKENDS {
        let dir = licnode_testkit::temp_dir().expect("dir");
        let (store, url, _database) = open(backend, &dir.path().join("read")).await;
        let (reference, reference_url, _reference_database) =
            open(backend, &dir.path().join("merged")).await;
        let mut random = StdRng::seed_from_u64(14);
        let mut tally = Tally::default();
        let mut time_ms = 1_764_800_000_000_i64;
        for scenario in 0..24 {
            let actors = NODES.map(licnode_doc::actor::fresh);
            let name = collections[scenario % collections.len()];
            let collection = licnode_model::collection(name).expect("collection");
            let mut records = Vec::new();
            let mut batch: Vec<LoggedChange> = Vec::new();
            let logged =
                |meta: &RecordMeta, node: usize, bytes: Vec<u8>, at_ms: i64| LoggedChange {
                    record_id: meta.id.clone(),
                    collection: meta.collection.clone(),
                    jurisdiction: meta.jurisdiction.clone(),
                    author_user: "clerk".into(),
                    at_ms,
                    origin: NODES[node].into(),
                    bytes,
                    ..LoggedChange::default()
                };
            for index in 0..3 {
                let meta = RecordMeta {
                    id: format!("0190f0f0-0000-7000-8000-{scenario:06}{index:06}"),
                    collection: name.into(),
                    jurisdiction: "330106".into(),
                };
                let values =
                    licnode_gen::Generator::new(random.random()).record(collection, "330106");
                time_ms += 1;
                let who = Authoring {
                    actor: &actors[0],
                    user: "clerk",
                    time_ms,
                };
                let (county, change) = RecordDoc::create(&meta, &values, who).expect("create");
                let province = RecordDoc::load(&change.bytes).expect("load");
                batch.push(logged(&meta, 0, change.bytes, time_ms));
                records.push(Record {
                    meta,
                    replicas: [county, province],
                });
            }
            let ids: Vec<String> = records.iter().map(|r| r.meta.id.clone()).collect();
            let fields = editable(collection);
            for step in 0..20 {
                let record = &mut records[random.random_range(0..3)];
                match random.random_range(0..10) {
                    // The two nodes exchange what they have.
                    0 => {
                        let [county, province] = &mut record.replicas;
                        county.apply(province.changes()).expect("sync");
                        province.apply(county.changes()).expect("sync");
                    }
                    roll => {
                        let node = usize::from(roll >= 8);
                        let mut patch = Map::new();
                        for _ in 0..random.random_range(1..3) {
                            let field = fields[random.random_range(0..fields.len())];
                            patch.insert(
                                field.name.into(),
                                value_for(&mut random, collection, field),
                            );
                        }
                        time_ms += 1;
                        let who = Authoring {
                            actor: &actors[node],
                            user: "clerk",
                            time_ms,
                        };
                        if let Some(change) =
                            record.replicas[node].update(&patch, who).expect("update")
                        {
                            batch.push(logged(&record.meta, node, change.bytes, time_ms));
                        }
                    }
                }
                if random.random_bool(0.3) || step == 19 {
                    let label = format!("{backend} scenario {scenario} step {step}");
                    check_batch(
                        [&store, &reference],
                        &batch,
                        &ids,
                        [&url, &reference_url],
                        &mut tally,
                        &label,
                    )
                    .await;
                    batch.clear();
                }
            }
        }
        println!(
            "{backend}: {} changes applied, {} read without their document ({} by the reference, \
             which merges every edit), {} refused",
            tally.applied, tally.read, tally.read_by_reference, tally.refused
        );
        // The test is about the edits read: most of them must be.
        assert!(
            tally.read >= tally.read_by_reference + tally.applied / 4,
            "{backend}: too few edits read without their document to test anything"
        );
        assert!(tally.refused > 0, "{backend}: no invalid edit was tried");
        store.close().await;
        reference.close().await;
    }
}

/// An edit of record `id` made at the national office on the document `store` holds now,
/// received.
/// Checks that the stored projection is the stored document's, and returns the outcome.
async fn receive_national_edit(
    store: &Store,
    id: &str,
    actor: &licnode_doc::ActorId,
    n: usize,
) -> ApplyOutcome {
    let bytes = store.document(id).await.expect("document").expect("held");
    let mut document = RecordDoc::load(&bytes).expect("loads");
    let mut values = Map::new();
    values.insert("remarks".into(), json!(format!("总局第 {n} 次补正")));
    let at_ms = licnode_store::now_ms();
    let who = Authoring {
        actor,
        user: "national",
        time_ms: at_ms,
    };
    let local = document
        .update(&values, who)
        .expect("edit")
        .expect("a change");
    let stored = store.get(id).await.expect("read").expect("held");
    let outcome = store
        .apply_remote(&[LoggedChange {
            record_id: id.into(),
            collection: stored.collection.clone(),
            jurisdiction: stored.jurisdiction.clone(),
            author_user: "national".into(),
            at_ms,
            origin: "100000".into(),
            bytes: local.bytes,
            ..LoggedChange::default()
        }])
        .await
        .expect("applied");
    let stored = store.get(id).await.expect("read").expect("held");
    let document = RecordDoc::load(&store.document(id).await.expect("document").expect("held"))
        .expect("the stored document loads");
    let projection = Projection::of(&document, stored.updated_at_ms).expect("projection");
    assert_eq!(
        projection.data, stored.data,
        "the stored projection is the document's"
    );
    assert_eq!(stored.data["remarks"], json!(format!("总局第 {n} 次补正")));
    outcome
}

/// Local writes keep the record's edit state as received ones do (issue 14): after a licence is
/// created at a province, edited there, and changed by an approved licence action (Art. 13),
/// the next edit received from the national office is read onto the projection without
/// loading the document.
#[tokio::test]
async fn after_each_local_write_the_next_received_edit_is_read_without_the_document() {
    use licnode_app::{Archive, Author};
    for backend in BACKENDS {
        let dir = licnode_testkit::temp_dir().expect("dir");
        let (store, _url, _database) = open(backend, &dir.path().join("province")).await;
        let archive = Archive::new(store.clone(), "330000");
        let model = licnode_model::collection("licences").expect("licences");
        let mut input = licnode_gen::Generator::new(31).record(model, "330106");
        input.insert("status".into(), json!("valid"));
        let clerk = Author::clerk("clerk");
        let id = archive
            .create("licences", Some("330106"), &input, &clerk)
            .await
            .expect("created")
            .record
            .id;
        let national = licnode_doc::actor::fresh("100000");
        let outcome = receive_national_edit(&store, &id, &national, 1).await;
        assert_eq!(
            (outcome.applied.len(), outcome.read_without_document),
            (1, 1),
            "{backend}: after a local create: {outcome:?}"
        );

        let mut edit = Map::new();
        edit.insert("remarks".into(), json!("省局修改"));
        archive
            .update(&id, &edit, &clerk)
            .await
            .expect("edited here");
        let outcome = receive_national_edit(&store, &id, &national, 2).await;
        assert_eq!(
            (outcome.applied.len(), outcome.read_without_document),
            (1, 1),
            "{backend}: after a local edit: {outcome:?}"
        );

        let mut fields = Map::new();
        fields.insert("reason".into(), json!("企业申请撤回"));
        fields.insert("event_date".into(), json!("2026-11-20"));
        let action = archive
            .prepare_licence_action(&id, "withdrawal", &fields, &clerk)
            .await
            .expect("prepared");
        let (_, licence) = archive
            .approve_licence_action(action.id, &Author::approver("approver"))
            .await
            .expect("approved");
        assert_ne!(
            licence.data["status"],
            json!("valid"),
            "{backend}: the action wrote the licence"
        );
        let outcome = receive_national_edit(&store, &id, &national, 3).await;
        assert_eq!(
            (outcome.applied.len(), outcome.read_without_document),
            (1, 1),
            "{backend}: after a licence action: {outcome:?}"
        );
        store.close().await;
    }
}
