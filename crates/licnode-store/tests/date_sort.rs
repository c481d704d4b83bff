//! Lists sorted by a date field, on SQLite and PostgreSQL: keyset pages cross equal dates
//! without losing or repeating a record, and records without the date come last either way.

use licnode_app::{Archive, Author};
use licnode_store::{DateCursor, ListQuery, Store, StoreError};
use licnode_testkit::{BACKENDS, Backend, TestDatabase};
use serde_json::json;

async fn open(backend: Backend, dir: &std::path::Path) -> (Store, Option<TestDatabase>) {
    std::fs::create_dir_all(dir).expect("test directory");
    let (url, database) = licnode_testkit::database_url(backend, dir)
        .await
        .expect("test database");
    (Store::open(&url).await.expect("open store"), database)
}

/// Creates one publication per entry (`None`: without an effective date), returning the ids in
/// creation order.
async fn create_publications(archive: &Archive, effective_dates: &[Option<&str>]) -> Vec<String> {
    let collection = licnode_model::collection("publications").expect("publications");
    let mut generator = licnode_gen::Generator::new(11);
    let mut ids = Vec::new();
    for effective_date in effective_dates {
        let mut input = generator.record(collection, "330000");
        input.insert("publish_date".into(), json!("2023-12-01"));
        match effective_date {
            Some(date) => input.insert("effective_date".into(), json!(date)),
            None => input.remove("effective_date"),
        };
        let created = archive
            .create(
                "publications",
                Some("330000"),
                &input,
                &Author::clerk("clerk"),
            )
            .await
            .expect("create publication");
        ids.push(created.record.id);
    }
    ids
}

/// Every record of the list sorted by `effective_date`, read two at a time.
async fn read_in_pages_of_two(store: &Store, descending: bool) -> Vec<String> {
    let query = ListQuery {
        collection: "publications".into(),
        limit: 2,
        descending,
        ..Default::default()
    };
    let mut seen = Vec::new();
    let mut cursor: Option<DateCursor> = None;
    loop {
        let page = store
            .list_by_date(&query, "effective_date", cursor.as_ref())
            .await
            .expect("sorted page");
        assert!(page.items.len() <= 2);
        seen.extend(page.items.iter().map(|record| record.id.clone()));
        match page.next {
            Some(next) => cursor = Some(DateCursor::parse(&next).expect("a date cursor")),
            None => break,
        }
        assert!(seen.len() <= 20, "paging does not end");
    }
    seen
}

#[tokio::test]
async fn pages_sorted_by_a_date_cross_equal_dates_and_put_undated_records_last() {
    for backend in BACKENDS {
        let dir = licnode_testkit::temp_dir().expect("dir");
        let (store, _db) = open(backend, dir.path()).await;
        let archive = Archive::new(store.clone(), "330000");
        let ids = create_publications(
            &archive,
            &[
                Some("2024-01-02"),
                Some("2024-01-01"),
                Some("2024-01-02"),
                None,
                Some("2024-01-01"),
                Some("2024-01-02"),
                None,
            ],
        )
        .await;
        let in_order = |indexes: &[usize]| -> Vec<String> {
            indexes.iter().map(|index| ids[*index].clone()).collect()
        };

        let ascending = read_in_pages_of_two(&store, false).await;
        assert_eq!(
            ascending,
            in_order(&[1, 4, 0, 2, 5, 3, 6]),
            "{backend}: oldest date first, storage order within a date, undated last"
        );
        let descending = read_in_pages_of_two(&store, true).await;
        assert_eq!(
            descending,
            in_order(&[5, 2, 0, 4, 1, 6, 3]),
            "{backend}: newest date first, undated last"
        );
        store.close().await;
    }
}

#[tokio::test]
async fn a_field_that_is_not_a_date_of_the_collection_is_refused() {
    for backend in BACKENDS {
        let dir = licnode_testkit::temp_dir().expect("dir");
        let (store, _db) = open(backend, dir.path()).await;
        let query = ListQuery {
            collection: "licences".into(),
            limit: 10,
            ..Default::default()
        };
        for field in ["enterprise_name", "issue_date') OR 1=1 --", "nonexistent"] {
            let refused = store.list_by_date(&query, field, None).await;
            assert!(
                matches!(refused, Err(StoreError::UnsortableField { .. })),
                "{backend}: {field}"
            );
        }
        let unknown_collection = ListQuery {
            collection: "nonexistent".into(),
            ..query.clone()
        };
        let refused = store
            .list_by_date(&unknown_collection, "issue_date", None)
            .await;
        assert!(matches!(refused, Err(StoreError::UnsortableField { .. })));
        store.close().await;
    }
}

/// SQLite plans a page sorted by a date on the partial index alone, whatever the collection's
/// size: no temporary B-tree sorts the collection. (PostgreSQL's plan depends on its statistics;
/// at scale it walks the same indexes.)
#[tokio::test]
async fn a_page_sorted_by_a_date_walks_the_date_index_without_sorting() {
    let dir = licnode_testkit::temp_dir().expect("dir");
    let (store, _db) = open(Backend::Sqlite, dir.path()).await;
    for (field, index) in [
        ("issue_date", "records_licences_by_issue_date"),
        ("valid_until", "records_licences_by_valid_until_key"),
    ] {
        for (descending, after_date) in [
            (false, None),
            (
                true,
                Some(DateCursor::Dated {
                    date: "2024-01-01".into(),
                    key: 10,
                }),
            ),
        ] {
            let query = ListQuery {
                collection: "licences".into(),
                within: Some("330100".into()),
                limit: 50,
                descending,
                after_date,
                ..Default::default()
            };
            let plan = store
                .explain_list_by_date(&query, field)
                .await
                .expect("plan")
                .join("\n");
            assert!(plan.contains(index), "{field}: {plan}");
            assert!(!plan.contains("TEMP B-TREE"), "{field}: {plan}");
        }
    }
    store.close().await;
}
