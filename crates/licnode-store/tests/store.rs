//! Storage tests. Every test runs against SQLite and PostgreSQL.

use licnode_app::Author;
use licnode_app::{Archive, ArchiveError};
use licnode_store::{ListQuery, LoggedChange, SearchQuery, Store};
use licnode_testkit::{BACKENDS, Backend, TestDatabase};
use serde_json::{Map, Value, json};

/// A licence created by a clerk at `archive`'s node, in `jurisdiction`.
async fn create_licence(
    archive: &Archive,
    jurisdiction: &str,
    name: &str,
    number: &str,
    code: &str,
) -> licnode_app::Created {
    archive
        .create(
            "licences",
            Some(jurisdiction),
            &licence(name, number, code),
            &Author::clerk("clerk"),
        )
        .await
        .expect("create a licence")
}

/// Two licences of Zhejiang counties — 杭州恒远电缆有限公司 (returned, with its credit code)
/// and 宁波海天化肥有限公司, created in that order.
async fn two_licences(archive: &Archive) -> (licnode_app::Created, String) {
    let code = credit_code("91330106MA2H3K7Q0");
    let hengyuan = create_licence(
        archive,
        "330106",
        "杭州恒远电缆有限公司",
        "(浙)XK06-001-00123",
        &code,
    )
    .await;
    create_licence(
        archive,
        "330102",
        "宁波海天化肥有限公司",
        "XK13-005-00002",
        &credit_code("91330200MA2H3K7Q1"),
    )
    .await;
    (hengyuan, code)
}

/// A store on `backend` in `dir`, with the PostgreSQL database kept alive beside it.
async fn open(backend: Backend, dir: &std::path::Path) -> (Store, Option<TestDatabase>) {
    std::fs::create_dir_all(dir).expect("test directory");
    let (url, database) = licnode_testkit::database_url(backend, dir)
        .await
        .expect("test database");
    (Store::open(&url).await.expect("open store"), database)
}

fn fields(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => panic!("test input must be an object"),
    }
}

fn licence(name: &str, number: &str, credit_code: &str) -> Map<String, Value> {
    let mut generator = licnode_gen::Generator::new(7);
    let collection = licnode_model::collection("licences").expect("licences");
    let mut input = generator.record(collection, "330106");
    input.insert("enterprise_name".into(), json!(name));
    input.insert("licence_number".into(), json!(number));
    input.insert("credit_code".into(), json!(credit_code));
    input
}

/// A valid credit code for a test enterprise, check character computed.
fn credit_code(body17: &str) -> String {
    format!(
        "{body17}{}",
        licnode_model::credit_code::check_character(body17).expect("17 valid characters")
    )
}

/// Copies every change `from` has after `cursor` into `to`, as replication will.
async fn ship(from: &Store, to: &Store, origin: &str, cursor: i64) -> i64 {
    let rows = from
        .changes_after(cursor, None, 10_000)
        .await
        .expect("changes");
    let last = rows.last().map_or(cursor, |row| row.seq);
    let remote: Vec<LoggedChange> = rows
        .into_iter()
        .map(|row| LoggedChange {
            record_id: row.record_id,
            collection: row.collection,
            jurisdiction: row.jurisdiction,
            author_user: row.author_user,
            at_ms: row.at_ms,
            origin: origin.to_string(),
            bytes: row.bytes,
            ..LoggedChange::default()
        })
        .collect();
    let outcome = to.apply_remote(&remote).await.expect("apply");
    assert!(outcome.refused.is_empty(), "refused: {:?}", outcome.refused);
    assert!(outcome.pending.is_empty(), "pending: {:?}", outcome.pending);
    last
}

#[tokio::test]
async fn created_record_reads_back_with_normalised_values_on_both_backends() {
    for backend in BACKENDS {
        let dir = licnode_testkit::temp_dir().expect("dir");
        let (store, _db) = open(backend, dir.path()).await;
        let archive = Archive::new(store.clone(), "330000");
        let code = credit_code("91330106MA2H3K7Q0");
        let created = archive
            .create(
                "licences",
                Some("330106"),
                &licence(
                    "杭州恒远电缆有限公司",
                    "(浙)xk06-001-00123",
                    &code.to_lowercase(),
                ),
                &Author::clerk("clerk-a"),
            )
            .await
            .expect("create");
        let record = archive.get(&created.record.id).await.expect("get");
        assert_eq!(record.jurisdiction, "330106", "{backend}");
        assert_eq!(
            record.data["licence_number"],
            json!("(浙)XK06-001-00123"),
            "{backend}"
        );
        assert_eq!(record.data["credit_code"], json!(code), "{backend}");
        assert_eq!(record.last_seq, 1, "{backend}");
        store.close().await;
    }
}

#[tokio::test]
async fn search_finds_by_two_character_fragment_licence_number_and_credit_code() {
    for backend in BACKENDS {
        let dir = licnode_testkit::temp_dir().expect("dir");
        let (store, _db) = open(backend, dir.path()).await;
        let archive = Archive::new(store.clone(), "330000");
        let (target, code) = two_licences(&archive).await;

        let by_fragment = store
            .search(&SearchQuery {
                name: Some("恒远".into()),
                limit: 10,
                ..Default::default()
            })
            .await
            .expect("search");
        assert_eq!(
            by_fragment
                .items
                .iter()
                .map(|r| r.id.clone())
                .collect::<Vec<_>>(),
            vec![target.record.id.clone()],
            "{backend}"
        );
        let no_match = store
            .search(&SearchQuery {
                name: Some("远杭".into()),
                limit: 10,
                ..Default::default()
            })
            .await
            .expect("search");
        assert!(
            no_match.items.is_empty(),
            "{backend}: 远杭 is not in any name"
        );
        for number in ["XK06-001-00123", "（浙）XK06-001-00123", "浙XK06 001 00123"] {
            let by_number = store
                .search(&SearchQuery {
                    licence_number: Some(number.into()),
                    limit: 10,
                    ..Default::default()
                })
                .await
                .expect("search");
            assert_eq!(by_number.items.len(), 1, "{backend}: {number}");
            assert_eq!(
                by_number.items[0].id, target.record.id,
                "{backend}: {number}"
            );
        }
        let by_code = store
            .search(&SearchQuery {
                credit_code: Some(code.to_lowercase()),
                limit: 10,
                ..Default::default()
            })
            .await
            .expect("search");
        assert_eq!(by_code.items.len(), 1, "{backend}");
        store.close().await;
    }
}

/// The public collections' names are indexed once, in the public service's gram table, and the
/// other collections' in PostgreSQL's GIN index (migration 0023): a staff search by name finds
/// both kinds, in storage order, page by page, with or without a collection.
#[tokio::test]
async fn a_name_search_finds_public_and_internal_records_in_storage_order_page_by_page() {
    for backend in BACKENDS {
        let dir = licnode_testkit::temp_dir().expect("dir");
        let (store, database) = open(backend, dir.path()).await;
        let archive = Archive::new(store.clone(), "330000");
        let applications = licnode_model::collection("applications").expect("applications");
        let mut generator = licnode_gen::Generator::new(11);
        let mut expected = Vec::new();
        for i in 0..6 {
            let name = format!("杭州恒远{}有限公司", ["电缆", "化工", "机械"][i % 3]);
            let created = if i % 2 == 0 {
                create_licence(
                    &archive,
                    "330106",
                    &name,
                    &format!("XK06-001-0012{i}"),
                    &credit_code(&format!("91330106MA2H3K7Q{i}")),
                )
                .await
            } else {
                let mut fields = generator.record(applications, "330106");
                fields.insert("enterprise_name".into(), json!(name));
                archive
                    .create("applications", None, &fields, &Author::clerk("clerk"))
                    .await
                    .expect("application")
            };
            expected.push((
                created.record.collection.clone(),
                created.record.id.clone(),
                name,
            ));
        }
        let mut other = generator.record(applications, "330106");
        other.insert("enterprise_name".into(), json!("宁波海天化肥有限公司"));
        archive
            .create("applications", None, &other, &Author::clerk("clerk"))
            .await
            .expect("other");

        // One gram, and several (walked through the rarest, every gram probed).
        for (fragment, collection) in [
            ("恒远", None),
            ("恒远", Some("licences")),
            ("恒远", Some("applications")),
            ("恒远电缆", None),
            ("远电缆有", Some("licences")),
            ("恒远化工", Some("applications")),
        ] {
            let wanted: Vec<String> = expected
                .iter()
                .filter(|(c, _, name)| {
                    collection.is_none_or(|wanted| c == wanted) && name.contains(fragment)
                })
                .map(|(_, id, _)| id.clone())
                .collect();
            assert!(!wanted.is_empty(), "{fragment}");
            let mut found = Vec::new();
            let mut after = None;
            loop {
                let page = store
                    .search(&SearchQuery {
                        name: Some(fragment.into()),
                        collection: collection.map(str::to_string),
                        after,
                        limit: 2,
                        ..Default::default()
                    })
                    .await
                    .expect("search");
                assert!(page.items.len() <= 2, "{backend}");
                found.extend(page.items.iter().map(|r| r.id.clone()));
                match page.next {
                    Some(next) => after = Some(next.parse().expect("cursor")),
                    None => break,
                }
                assert!(
                    found.len() <= wanted.len(),
                    "{backend}: {collection:?} pages on"
                );
            }
            assert_eq!(found, wanted, "{backend}: {collection:?}");
        }
        // Fragments the API refuses (one character; no letter or digit at all) are answered
        // without an error, and find nothing here.
        for fragment in ["远", "（）"] {
            let page = store
                .search(&SearchQuery {
                    name: Some(fragment.into()),
                    limit: 100,
                    ..Default::default()
                })
                .await
                .expect("a short fragment");
            assert!(page.items.is_empty(), "{backend}: {fragment}");
        }
        if let Some(database) = &database {
            let pool = sqlx::PgPool::connect(&database.url).await.expect("connect");
            let definition: String = sqlx::query_scalar(
                "SELECT indexdef FROM pg_indexes WHERE indexname = 'records_by_name_grams'",
            )
            .fetch_one(&pool)
            .await
            .expect("index");
            pool.close().await;
            assert!(
                definition.contains("public_name_collection"),
                "the GIN index leaves the public collections out: {definition}"
            );
        }
        store.close().await;
    }
}

#[tokio::test]
async fn list_filters_by_subtree_and_field_and_pages_in_stable_order() {
    for backend in BACKENDS {
        let dir = licnode_testkit::temp_dir().expect("dir");
        let (store, _db) = open(backend, dir.path()).await;
        let archive = Archive::new(store.clone(), "330000");
        let collection = licnode_model::collection("licences").expect("licences");
        let mut generator = licnode_gen::Generator::new(11);
        let mut hangzhou = Vec::new();
        for index in 0..25 {
            let county = if index % 2 == 0 { "330106" } else { "330205" };
            let created = archive
                .create(
                    "licences",
                    Some(county),
                    &generator.record(collection, county),
                    &Author::clerk("clerk"),
                )
                .await
                .expect("create");
            if county == "330106" {
                hangzhou.push(created.record.id);
            }
        }
        let mut seen = Vec::new();
        let mut after = None;
        loop {
            let page = store
                .list(&ListQuery {
                    collection: "licences".into(),
                    within: Some("330100".into()),
                    after,
                    limit: 5,
                    ..Default::default()
                })
                .await
                .expect("list");
            seen.extend(page.items.iter().map(|r| r.id.clone()));
            match page.next {
                Some(next) => after = Some(next.parse().expect("cursor")),
                None => break,
            }
        }
        assert_eq!(
            seen, hangzhou,
            "{backend}: the subtree of 330100, in creation order"
        );

        let first = archive.get(&hangzhou[0]).await.expect("get");
        let name = first.data["enterprise_name"]
            .as_str()
            .expect("name")
            .to_string();
        let by_field = store
            .list(&ListQuery {
                collection: "licences".into(),
                fields: vec![("enterprise_name".into(), name)],
                limit: 50,
                ..Default::default()
            })
            .await
            .expect("list");
        assert!(
            by_field.items.iter().any(|r| r.id == hangzhou[0]),
            "{backend}"
        );
        store.close().await;
    }
}

#[tokio::test]
async fn change_log_is_gap_free_and_monotonic_across_restarts() {
    for backend in BACKENDS {
        let dir = licnode_testkit::temp_dir().expect("dir");
        let (url, _db) = licnode_testkit::database_url(backend, dir.path())
            .await
            .expect("db");
        let collection = licnode_model::collection("reviewers").expect("reviewers");
        let mut generator = licnode_gen::Generator::new(3);
        let mut ids = Vec::new();
        for _restart in 0..3 {
            let store = Store::open(&url).await.expect("open");
            let archive = Archive::new(store.clone(), "100000");
            for _ in 0..4 {
                let created = archive
                    .create(
                        "reviewers",
                        None,
                        &generator.record(collection, "100000"),
                        &Author::clerk("admin"),
                    )
                    .await
                    .expect("create");
                ids.push(created.record.id);
            }
            archive
                .update(
                    &ids[0],
                    &fields(json!({ "employer": format!("单位{}", ids.len()) })),
                    &Author::clerk("admin"),
                )
                .await
                .expect("update");
            store.close().await;
        }
        let store = Store::open(&url).await.expect("reopen");
        let rows = store.changes_after(0, None, 1_000).await.expect("changes");
        let seqs: Vec<i64> = rows.iter().map(|row| row.seq).collect();
        assert_eq!(seqs, (1..=15).collect::<Vec<_>>(), "{backend}");
        assert_eq!(store.last_seq().await.expect("last"), 15, "{backend}");
        let tail = store
            .changes_after(12, Some(&["reviewers"]), 10)
            .await
            .expect("tail");
        assert_eq!(
            tail.iter().map(|r| r.seq).collect::<Vec<_>>(),
            vec![13, 14, 15]
        );
        let none = store
            .changes_after(0, Some(&["licences"]), 10)
            .await
            .expect("none");
        assert!(none.is_empty(), "{backend}");
        store.close().await;
    }
}

#[tokio::test]
async fn concurrent_edits_at_a_province_and_the_national_centre_merge_keeping_both_sides_and_listing_the_conflict()
 {
    for backend in BACKENDS {
        let dir = licnode_testkit::temp_dir().expect("dir");
        // Licences are authored by provinces and the national centre (Art. 11, 27): "county"
        // here is the province's node, "province" the national centre's.
        let (county_store, _a) = open(backend, &dir.path().join("province")).await;
        let (province_store, _b) = open(backend, &dir.path().join("national")).await;
        let county = Archive::new(county_store.clone(), "330000");
        let province = Archive::new(province_store.clone(), "100000");
        let code = credit_code("91330106MA2H3K7Q0");
        let created = create_licence(
            &county,
            "330106",
            "杭州恒远电缆有限公司",
            "XK06-001-00123",
            &code,
        )
        .await;
        let id = created.record.id.clone();
        let county_cursor = ship(&county_store, &province_store, "330000", 0).await;
        let province_cursor = province_store.last_seq().await.expect("seq");

        // Concurrently: each side edits its own field, and both edit the address.
        county
            .update(&id, &fields(json!({ "production_address": "西湖区文三路1号", "residence_address": "县里写的地址" })), &Author::clerk("clerk"))
            .await
            .expect("county edit");
        province
            .update(
                &id,
                &fields(json!({ "product_name": "电力电缆", "residence_address": "省里写的地址" })),
                &Author::approver("approver"),
            )
            .await
            .expect("province edit");
        ship(&county_store, &province_store, "330000", county_cursor).await;
        ship(&province_store, &county_store, "100000", province_cursor).await;

        let at_county = county.get(&id).await.expect("county copy");
        let at_province = province.get(&id).await.expect("province copy");
        assert_eq!(
            at_county.data, at_province.data,
            "{backend}: both sides converge"
        );
        assert_eq!(
            at_county.data["production_address"],
            json!("西湖区文三路1号")
        );
        assert_eq!(at_county.data["product_name"], json!("电力电缆"));
        let conflicts = county.conflicts(&id).await.expect("conflicts");
        assert_eq!(conflicts.len(), 1, "{backend}");
        assert_eq!(conflicts[0].field, "residence_address");
        let mut values: Vec<String> = conflicts[0]
            .values
            .iter()
            .map(|v| v.as_str().unwrap_or_default().to_string())
            .collect();
        values.sort();
        assert_eq!(
            values,
            vec!["县里写的地址".to_string(), "省里写的地址".to_string()]
        );
        assert_eq!(at_county.conflict_count, 1, "{backend}");

        // Writing the field resolves the conflict.
        county
            .update(
                &id,
                &fields(json!({ "residence_address": "核实后的地址" })),
                &Author::clerk("clerk"),
            )
            .await
            .expect("resolve");
        assert!(county.conflicts(&id).await.expect("conflicts").is_empty());
        let history = county.history(&id).await.expect("history");
        assert_eq!(
            history.len(),
            4,
            "{backend}: create, two concurrent edits, resolution"
        );
        assert!(
            history
                .iter()
                .any(|h| h.node.as_deref() == Some("100000")
                    && h.user.as_deref() == Some("approver"))
        );
        county_store.close().await;
        province_store.close().await;
    }
}

#[tokio::test]
async fn received_changes_are_idempotent_and_travel_on_with_new_sequence_numbers() {
    for backend in BACKENDS {
        let dir = licnode_testkit::temp_dir().expect("dir");
        let (county_store, _a) = open(backend, &dir.path().join("a")).await;
        let (province_store, _b) = open(backend, &dir.path().join("b")).await;
        let county = Archive::new(county_store.clone(), "330106");
        let collection = licnode_model::collection("applications").expect("applications");
        let mut generator = licnode_gen::Generator::new(5);
        for _ in 0..3 {
            county
                .create(
                    "applications",
                    None,
                    &generator.record(collection, "330106"),
                    &Author::clerk("clerk"),
                )
                .await
                .expect("create");
        }
        ship(&county_store, &province_store, "330106", 0).await;
        // The same batch again, and again reversed: nothing new.
        let rows = county_store
            .changes_after(0, None, 100)
            .await
            .expect("rows");
        let mut remote: Vec<LoggedChange> = rows
            .iter()
            .map(|row| LoggedChange {
                record_id: row.record_id.clone(),
                collection: row.collection.clone(),
                jurisdiction: row.jurisdiction.clone(),
                author_user: row.author_user.clone(),
                at_ms: row.at_ms,
                origin: "330106".into(),
                bytes: row.bytes.clone(),
                ..LoggedChange::default()
            })
            .collect();
        let again = province_store.apply_remote(&remote).await.expect("again");
        assert_eq!((again.applied.len(), again.duplicates), (0, 3), "{backend}");
        remote.reverse();
        let reversed = province_store
            .apply_remote(&remote)
            .await
            .expect("reversed");
        assert_eq!(reversed.applied.len(), 0, "{backend}");
        let logged = province_store
            .changes_after(0, None, 100)
            .await
            .expect("log");
        assert_eq!(
            logged.iter().map(|r| r.seq).collect::<Vec<_>>(),
            vec![1, 2, 3]
        );
        assert!(
            logged
                .iter()
                .all(|r| r.origin == "330106" && r.author_node == "330106")
        );
        // The rows' metadata alone: the same rows, the same fields, no bytes; what came from
        // the county is left out for the county.
        let metadata = province_store
            .change_metadata_after_not_from(1, Some(&["applications"]), None, 100)
            .await
            .expect("metadata");
        let expected: Vec<LoggedChange> = logged[1..]
            .iter()
            .map(|row| LoggedChange {
                bytes: Vec::new(),
                ..row.clone()
            })
            .collect();
        assert_eq!(metadata, expected, "{backend}");
        assert!(logged.iter().all(|row| !row.bytes.is_empty()), "{backend}");
        let for_the_county = province_store
            .change_metadata_after_not_from(0, Some(&["applications"]), Some("330106"), 100)
            .await
            .expect("metadata");
        assert!(for_the_county.is_empty(), "{backend}: {for_the_county:?}");
        county_store.close().await;
        province_store.close().await;
    }
}

/// A record received new is stored before its change is numbered (so that, on PostgreSQL, its
/// row is written outside the change log's lock): every read still shows as its `last_seq` the
/// number its last change got in this node's log, and a later edit's number after that.
#[tokio::test]
async fn a_received_record_shows_the_number_its_change_got_in_this_nodes_log() {
    for backend in BACKENDS {
        let dir = licnode_testkit::temp_dir().expect("dir");
        let (county_store, _a) = open(backend, &dir.path().join("a")).await;
        let (province_store, _b) = open(backend, &dir.path().join("b")).await;
        let county = Archive::new(county_store.clone(), "330106");
        let province = Archive::new(province_store.clone(), "330000");
        // A change of the province's own first, so that the two logs number differently.
        let own = create_licence(
            &province,
            "330106",
            "杭州省属电器有限公司",
            "XK06-001-00999",
            &credit_code("91330106MA2H3K7Q9"),
        )
        .await;
        assert_eq!(own.record.last_seq, 1, "{backend}");
        let collection = licnode_model::collection("applications").expect("applications");
        let mut generator = licnode_gen::Generator::new(7);
        let mut ids = Vec::new();
        for _ in 0..3 {
            let created = county
                .create(
                    "applications",
                    None,
                    &generator.record(collection, "330106"),
                    &Author::clerk("clerk"),
                )
                .await
                .expect("create");
            ids.push(created.record.id);
        }
        let cursor = ship(&county_store, &province_store, "330106", 0).await;
        let logged = province_store
            .changes_after(1, None, 100)
            .await
            .expect("log");
        for id in &ids {
            let seq = logged
                .iter()
                .find(|row| &row.record_id == id)
                .expect("logged")
                .seq;
            assert!(seq > 1, "{backend}");
            let record = province_store.get(id).await.expect("get").expect("held");
            assert_eq!(record.last_seq, seq, "{backend}: read by id");
        }
        let listed = province_store
            .list(&ListQuery {
                collection: "applications".into(),
                limit: 10,
                ..ListQuery::default()
            })
            .await
            .expect("list");
        assert_eq!(listed.items.len(), 3, "{backend}");
        for record in &listed.items {
            let seq = logged
                .iter()
                .find(|row| row.record_id == record.id)
                .expect("logged")
                .seq;
            assert_eq!(record.last_seq, seq, "{backend}: listed");
        }
        // A received edit names its own number in the row.
        county
            .update(
                &ids[0],
                &fields(json!({ "remarks": "补充材料已收到" })),
                &Author::clerk("clerk"),
            )
            .await
            .expect("edit");
        ship(&county_store, &province_store, "330106", cursor).await;
        let last = province_store.last_seq().await.expect("last");
        let edited = province_store
            .get(&ids[0])
            .await
            .expect("get")
            .expect("held");
        assert_eq!(edited.last_seq, last, "{backend}: after a received edit");
        county_store.close().await;
        province_store.close().await;
    }
}

#[tokio::test]
async fn hostile_change_bytes_are_refused_and_change_nothing() {
    for backend in BACKENDS {
        let dir = licnode_testkit::temp_dir().expect("dir");
        let (store, _db) = open(backend, dir.path()).await;
        let corpus: Vec<Vec<u8>> = vec![
            Vec::new(),
            vec![0u8; 64],
            b"\x85\x6f\x4a\x83garbage".to_vec(),
            (0..=255u8).collect(),
        ];
        let remote: Vec<LoggedChange> = corpus
            .into_iter()
            .map(|bytes| LoggedChange {
                record_id: "x".into(),
                collection: "licences".into(),
                jurisdiction: "330106".into(),
                author_user: "mallory".into(),
                at_ms: 0,
                origin: "330106".into(),
                bytes,
                ..LoggedChange::default()
            })
            .collect();
        let outcome = store.apply_remote(&remote).await.expect("apply");
        assert_eq!(outcome.refused.len(), 4, "{backend}");
        assert_eq!(store.last_seq().await.expect("seq"), 0, "{backend}");
        store.close().await;
    }
}

#[tokio::test]
async fn invalid_input_and_foreign_jurisdiction_are_refused_and_write_nothing() {
    for backend in BACKENDS {
        let dir = licnode_testkit::temp_dir().expect("dir");
        let (store, _db) = open(backend, dir.path()).await;
        let archive = Archive::new(store.clone(), "330000");
        let code = credit_code("91330106MA2H3K7Q0");
        let outside = archive
            .create(
                "licences",
                Some("320102"),
                &licence("南京某某有限公司", "XK06-001-00001", &code),
                &Author::clerk("clerk"),
            )
            .await;
        assert!(
            matches!(outside, Err(ArchiveError::OutsideJurisdiction { .. })),
            "{backend}"
        );
        let mut bad = licence("杭州恒远电缆有限公司", "XK06-001-00123", &code);
        bad.insert("no_such_field".into(), json!("x"));
        let invalid = archive
            .create("licences", Some("330106"), &bad, &Author::clerk("clerk"))
            .await;
        let county = Archive::new(store.clone(), "330106");
        let not_authorised = county
            .create(
                "licences",
                None,
                &licence("杭州恒远电缆有限公司", "XK06-001-00123", &code),
                &Author::clerk("clerk"),
            )
            .await;
        assert!(
            matches!(&not_authorised, Err(error @ ArchiveError::NotAuthorised(_)) if error.code() == "author_not_allowed"),
            "{backend}: a county does not author licences: {not_authorised:?}"
        );
        assert!(
            matches!(invalid, Err(ArchiveError::Invalid(_))),
            "{backend}"
        );
        let unknown = archive
            .create(
                "no_such_collection",
                None,
                &Map::new(),
                &Author::clerk("clerk"),
            )
            .await;
        assert!(
            matches!(unknown, Err(ArchiveError::UnknownCollection(_))),
            "{backend}"
        );
        assert_eq!(store.last_seq().await.expect("seq"), 0, "{backend}");
        assert!(
            store.counts().await.expect("counts").is_empty(),
            "{backend}"
        );
        store.close().await;
    }
}

#[tokio::test]
async fn a_cancelled_licence_cannot_be_edited_back_to_valid() {
    for backend in BACKENDS {
        let dir = licnode_testkit::temp_dir().expect("dir");
        let (store, _db) = open(backend, dir.path()).await;
        let archive = Archive::new(store.clone(), "330000");
        let created = create_licence(
            &archive,
            "330106",
            "杭州恒远电缆有限公司",
            "XK06-001-00123",
            &credit_code("91330106MA2H3K7Q0"),
        )
        .await;
        let id = created.record.id;
        archive
            .update(
                &id,
                &fields(json!({ "status": "cancelled" })),
                &Author::approver("approver"),
            )
            .await
            .expect("cancel");
        let back = archive
            .update(
                &id,
                &fields(json!({ "status": "valid" })),
                &Author::clerk("clerk"),
            )
            .await;
        assert!(
            matches!(back, Err(ArchiveError::TerminalLicence(_))),
            "{backend}"
        );
        assert_eq!(
            archive.get(&id).await.expect("get").data["status"],
            json!("cancelled")
        );
        store.close().await;
    }
}

/// The store carries out a destruction only as far as the judge passed in lets it: a refusal
/// rolls the whole transaction back (Art. 38: nothing is destroyed without every record being
/// due), and a request carried out once is not carried out again.
#[tokio::test]
async fn a_destruction_the_judge_refuses_changes_nothing_and_one_carried_out_is_not_repeated() {
    use licnode_store::retention::{DestroyError, DestructionOrder};
    for backend in BACKENDS {
        let dir = licnode_testkit::temp_dir().expect("dir");
        let (store, _db) = open(backend, dir.path()).await;
        let archive = Archive::new(store.clone(), "330000");
        let code = credit_code("91330106MA2H3K7Q0");
        let created = archive
            .create(
                "licences",
                Some("330106"),
                &licence("杭州恒远电缆有限公司", "(浙)XK06-001-00123", &code),
                &Author::clerk("clerk-a"),
            )
            .await
            .expect("create");
        let id = created.record.id.clone();
        let record_ids = vec![id.clone()];
        let order = DestructionOrder {
            request_id: "request-1",
            record_ids: &record_ids,
            certificate_id: "certificate-1",
            node: "330000",
            destroyed_by: "clerk-a",
            destroyed_at_ms: 1_000,
            approving_node: "000000",
            approver: "approver-n",
            approved_at_ms: 900,
            approval: "{}",
        };
        let audit_head = store.audit_head().await.expect("audit head");

        let refused = store
            .destroy_records(&order, |held| {
                Err::<String, String>(format!("{} is not due", held.id))
            })
            .await;
        match refused {
            Err(DestroyError::Refused(reason)) => {
                assert_eq!(reason, format!("{id} is not due"), "{backend}")
            }
            other => panic!("{backend}: expected the judge's refusal, got {other:?}"),
        }
        assert!(store.get(&id).await.expect("get").is_some(), "{backend}");
        assert!(
            !store.is_destroyed(&id).await.expect("tombstone"),
            "{backend}"
        );
        assert!(
            store
                .destruction_certificates()
                .await
                .expect("certificates")
                .is_empty(),
            "{backend}"
        );
        assert_eq!(
            store.audit_head().await.expect("audit head"),
            audit_head,
            "{backend}"
        );

        let certificate = store
            .destroy_records(&order, |_| Ok::<String, String>("2026-01-01".into()))
            .await
            .expect("destroyed");
        assert_eq!(certificate.records.len(), 1, "{backend}");
        assert_eq!(certificate.records[0].due_on, "2026-01-01", "{backend}");
        assert!(store.get(&id).await.expect("get").is_none(), "{backend}");
        assert!(
            store.is_destroyed(&id).await.expect("tombstone"),
            "{backend}"
        );

        let again = store
            .destroy_records(&order, |_| Ok::<String, String>("2026-01-01".into()))
            .await;
        assert!(
            matches!(again, Err(DestroyError::AlreadyDestroyed)),
            "{backend}: {again:?}"
        );
        store.close().await;
    }
}

/// Received edits of several records in one batch are stored set-wise (a statement a table,
/// issue 14): each record gets its own new fields and sequence number, and a renamed
/// enterprise is found by its new name and no longer by its old one (the name index is
/// rewritten for it alone).
#[tokio::test]
async fn a_batch_of_received_edits_stores_each_record_its_own_fields_and_renames_in_the_index() {
    for backend in BACKENDS {
        let dir = licnode_testkit::temp_dir().expect("dir");
        let (province_store, _a) = open(backend, &dir.path().join("a")).await;
        let (national_store, _b) = open(backend, &dir.path().join("b")).await;
        let province = Archive::new(province_store.clone(), "330000");
        let names = [
            "杭州恒远电缆有限公司",
            "杭州澜湄化肥有限公司",
            "杭州沣渚水泥有限公司",
        ];
        let mut ids = Vec::new();
        for (index, name) in names.iter().enumerate() {
            let created = create_licence(
                &province,
                "330106",
                name,
                &format!("XK06-001-0012{index}"),
                &credit_code(&format!("91330106MA2H3K7Q{index}")),
            )
            .await;
            ids.push(created.record.id);
        }
        let cursor = ship(&province_store, &national_store, "330000", 0).await;
        for (index, id) in ids.iter().enumerate() {
            let mut patch = Map::new();
            patch.insert("remarks".into(), json!(format!("复查 {index}")));
            if index == 1 {
                patch.insert("enterprise_name".into(), json!("杭州汀岚化肥有限公司"));
            }
            province
                .update(id, &patch, &Author::clerk("clerk"))
                .await
                .expect("edit");
        }
        ship(&province_store, &national_store, "330000", cursor).await;

        let mut seqs = std::collections::BTreeSet::new();
        for (index, id) in ids.iter().enumerate() {
            let at_national = national_store.get(id).await.expect("get").expect("held");
            let at_source = province_store.get(id).await.expect("get").expect("held");
            assert_eq!(
                at_national.data, at_source.data,
                "{backend}: record {index}"
            );
            assert_eq!(
                at_national.data["remarks"],
                json!(format!("复查 {index}")),
                "{backend}"
            );
            // The record's last sequence number is its own edit's.
            let last = national_store
                .changes_after(at_national.last_seq - 1, None, 1)
                .await
                .expect("log");
            assert_eq!(&last[0].record_id, id, "{backend}: record {index}");
            seqs.insert(at_national.last_seq);
        }
        assert_eq!(
            seqs,
            (4..=6).collect(),
            "{backend}: the three edits, numbered after the creations"
        );
        let found = |name: &'static str| {
            let store = national_store.clone();
            async move {
                store
                    .search(&SearchQuery {
                        name: Some(name.into()),
                        limit: 10,
                        ..Default::default()
                    })
                    .await
                    .expect("search")
                    .items
                    .into_iter()
                    .map(|record| record.id)
                    .collect::<Vec<_>>()
            }
        };
        assert_eq!(found("汀岚").await, vec![ids[1].clone()], "{backend}");
        assert!(found("澜湄").await.is_empty(), "{backend}: the old name");
        assert_eq!(found("恒远").await, vec![ids[0].clone()], "{backend}");
        assert_eq!(found("沣渚").await, vec![ids[2].clone()], "{backend}");
        province_store.close().await;
        national_store.close().await;
    }
}

/// The bundled SQLite is compiled as `.cargo/config.toml` says (`LIBSQLITE3_FLAGS`): without
/// the page-cache group that puts every connection's pages behind one process-wide mutex, and
/// without allocation counters kept under another. A build that misses the setting (run from
/// outside the workspace, or a new version of libsqlite3-sys that names it differently) still
/// works, only slower (docs/BENCHMARKS.md, "SQLite without its process-wide locks"): this says
/// so instead.
#[tokio::test]
async fn bundled_sqlite_is_built_without_its_process_wide_locks() {
    use sqlx::Connection;
    let mut connection = sqlx::SqliteConnection::connect("sqlite::memory:")
        .await
        .expect("in-memory SQLite");
    let options: Vec<String> = sqlx::query_scalar("PRAGMA compile_options")
        .fetch_all(&mut connection)
        .await
        .expect("compile options");
    assert!(
        options.iter().any(|option| option == "DEFAULT_MEMSTATUS=0"),
        "SQLite keeps its allocation counters: {options:?}"
    );
    assert!(
        !options
            .iter()
            .any(|option| option == "ENABLE_MEMORY_MANAGEMENT"),
        "SQLite shares one page-cache group across connections: {options:?}"
    );
}

/// Names found by a staff search for `fragment`, in storage order.
async fn names_found(store: &Store, fragment: &str) -> Vec<String> {
    let page = store
        .search(&SearchQuery {
            name: Some(fragment.into()),
            limit: 10,
            ..Default::default()
        })
        .await
        .expect("search");
    page.items
        .iter()
        .map(|record| enterprise_name(&record.data))
        .collect()
}

/// A record's enterprise name, or an empty string.
fn enterprise_name(data: &Map<String, Value>) -> String {
    data["enterprise_name"].as_str().unwrap_or("").to_string()
}

/// Names found by the public service for `fragment` among licences, newest first.
async fn public_names_found(store: &Store, fragment: &str) -> Vec<String> {
    let mut query = licnode_store::public::PublicQuery::new(
        licnode_model::collection("licences").expect("licences"),
        10,
    );
    query.name = Some(fragment.into());
    let page = store.public_records(&query).await.expect("public search");
    page.rows
        .iter()
        .map(|row| enterprise_name(&row.data))
        .collect()
}

/// Migration 0025 keeps PostgreSQL's public name grams as codes: the grams a database already
/// held are converted, so that names stored before it are found after it, by the staff search
/// and the public service, and a rename after it moves the record in the index.
#[tokio::test]
async fn public_names_indexed_before_the_gram_codes_are_found_after_them() {
    let dir = licnode_testkit::temp_dir().expect("dir");
    let (url, _database) = licnode_testkit::database_url(Backend::Postgres, dir.path())
        .await
        .expect("database");
    let store = Store::open(&url).await.expect("open");
    let archive = Archive::new(store.clone(), "330000");
    let (hengyuan, _) = two_licences(&archive).await;
    store.close().await;
    // The database as migration 0024 left it: grams as (collection, gram, key) rows.
    let pool = sqlx::PgPool::connect(&url).await.expect("connect");
    for statement in [
        "DROP TABLE public_name_grams",
        "DROP FUNCTION public_name_gram_code(TEXT, TEXT)",
        "CREATE TABLE public_name_grams (collection TEXT NOT NULL, gram TEXT NOT NULL, \
         key BIGINT NOT NULL, PRIMARY KEY (collection, gram, key))",
        "INSERT INTO public_name_grams (collection, gram, key) \
         SELECT DISTINCT collection, g.gram, key FROM records, unnest(name_grams) AS g(gram) \
         WHERE public_name_collection(collection)",
        "DELETE FROM schema_migrations WHERE version = 25",
    ] {
        sqlx::query(statement)
            .execute(&pool)
            .await
            .expect(statement);
    }

    let store = Store::open(&url).await.expect("migrated");
    assert_eq!(names_found(&store, "恒远").await, ["杭州恒远电缆有限公司"]);
    assert_eq!(
        names_found(&store, "海天化肥").await,
        ["宁波海天化肥有限公司"]
    );
    assert_eq!(
        names_found(&store, "有限公司").await,
        ["杭州恒远电缆有限公司", "宁波海天化肥有限公司"]
    );
    assert!(names_found(&store, "远杭").await.is_empty());
    assert_eq!(
        public_names_found(&store, "恒远电缆").await,
        ["杭州恒远电缆有限公司"]
    );
    assert_eq!(
        public_names_found(&store, "有限").await,
        ["宁波海天化肥有限公司", "杭州恒远电缆有限公司"]
    );
    let archive = Archive::new(store.clone(), "330000");
    archive
        .update(
            &hengyuan.record.id,
            &fields(json!({ "enterprise_name": "杭州远见线缆有限公司" })),
            &Author::clerk("clerk"),
        )
        .await
        .expect("rename");
    assert!(names_found(&store, "恒远").await.is_empty());
    assert!(public_names_found(&store, "恒远").await.is_empty());
    assert_eq!(
        names_found(&store, "远见线").await,
        ["杭州远见线缆有限公司"]
    );
    assert_eq!(
        public_names_found(&store, "远见").await,
        ["杭州远见线缆有限公司"]
    );
    let codes: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM public_name_grams")
        .fetch_one(&pool)
        .await
        .expect("count");
    pool.close().await;
    // 杭州远见线缆有限公司: 9 grams; 宁波海天化肥有限公司: 9 — nothing of the old name left.
    assert_eq!(codes, 18);
    store.close().await;
}
