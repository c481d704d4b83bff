//! The licence work flow's service on both backends (Art. 13, 19, 28): an approval writes the
//! licence event and the licence's status together or writes neither; each step leaves an
//! audit entry; a change (变更) leaves the status as it was.

use licnode_app::{Archive, Author};
use licnode_store::{ListQuery, Store};
use licnode_testkit::{BACKENDS, Backend, TestDatabase};
use serde_json::{Map, Value, json};

async fn open(backend: Backend, dir: &std::path::Path) -> (Store, Option<TestDatabase>) {
    std::fs::create_dir_all(dir).expect("test directory");
    let (url, database) = licnode_testkit::database_url(backend, dir)
        .await
        .expect("test database");
    (Store::open(&url).await.expect("open store"), database)
}

async fn licence(archive: &Archive, seed: u64) -> String {
    let model = licnode_model::collection("licences").expect("licences");
    let mut input = licnode_gen::Generator::new(seed).record(model, "330106");
    input.insert("status".into(), json!("valid"));
    archive
        .create("licences", None, &input, &Author::clerk("clerk"))
        .await
        .expect("licence")
        .record
        .id
}

fn fields(reason: &str) -> Map<String, Value> {
    let mut fields = Map::new();
    fields.insert("reason".into(), json!(reason));
    fields.insert("event_date".into(), json!("2026-11-20"));
    fields.insert("change_items".into(), json!("企业名称"));
    fields
}

async fn event_count(archive: &Archive) -> usize {
    archive
        .list(&ListQuery {
            collection: "licence_events".into(),
            limit: 100,
            ..ListQuery::default()
        })
        .await
        .expect("events")
        .items
        .len()
}

#[tokio::test]
async fn an_approval_that_the_licence_no_longer_allows_writes_neither_the_event_nor_the_status() {
    for backend in BACKENDS {
        let dir = licnode_testkit::temp_dir().expect("dir");
        let (store, _database) = open(backend, dir.path()).await;
        let archive = Archive::new(store.clone(), "330000");
        let id = licence(&archive, 21).await;
        let action = archive
            .prepare_licence_action(&id, "revocation", &fields("违法"), &Author::clerk("clerk"))
            .await
            .expect("prepared");
        // Meanwhile the licence is cancelled by another door (Art. 28: it stays so).
        let mut cancel = Map::new();
        cancel.insert("status".into(), json!("cancelled"));
        archive
            .update(&id, &cancel, &Author::approver("approver"))
            .await
            .expect("cancelled");
        let last_seq = archive.last_seq().await.expect("seq");

        let refused = archive
            .approve_licence_action(action.id, &Author::approver("approver"))
            .await
            .expect_err("refused");
        assert_eq!(refused.code(), "licence_not_active", "{backend}");
        assert_eq!(
            event_count(&archive).await,
            0,
            "{backend}: no event without its status"
        );
        assert_eq!(archive.last_seq().await.expect("seq"), last_seq);
        let stored = archive.licence_action(action.id).await.expect("action");
        assert_eq!(stored.state, "pending");
        assert_eq!(
            archive.get(&id).await.expect("licence").data["status"],
            "cancelled"
        );
    }
}

#[tokio::test]
async fn an_approved_action_writes_both_records_in_one_go_and_every_step_is_audited() {
    for backend in BACKENDS {
        let dir = licnode_testkit::temp_dir().expect("dir");
        let (store, _database) = open(backend, dir.path()).await;
        let archive = Archive::new(store.clone(), "330000");
        let id = licence(&archive, 22).await;
        let before = archive.last_seq().await.expect("seq");
        let withdrawal = archive
            .prepare_licence_action(&id, "withdrawal", &fields("撤回"), &Author::clerk("clerk"))
            .await
            .expect("prepared");
        // A clerk's approval is refused on the typed role, whatever the kind.
        let clerk = archive
            .approve_licence_action(withdrawal.id, &Author::clerk("clerk"))
            .await
            .expect_err("refused");
        assert_eq!(clerk.code(), "approval_required");
        let (action, licence) = archive
            .approve_licence_action(withdrawal.id, &Author::approver("approver"))
            .await
            .expect("approved");
        assert_eq!(action.state, "approved");
        assert_eq!(licence.data["status"], "withdrawn", "{backend}");
        // Two changes, consecutive: the event and the licence.
        assert_eq!(archive.last_seq().await.expect("seq"), before + 2);
        let event_id = action.event_id.expect("event");
        let event = archive.get(&event_id).await.expect("event");
        assert_eq!(event.data["event_kind"], "withdrawal");
        assert_eq!(event.data["licence_number"], licence.data["licence_number"]);

        let audit = store.audit_entries(0, 10_000).await.expect("audit");
        let steps: Vec<String> = audit
            .iter()
            .filter(|entry| entry.kind == "licence_action")
            .map(|entry| {
                entry.detail["step"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string()
            })
            .collect();
        assert_eq!(steps, ["prepared", "approved"], "{backend}");
        assert!(store.audit_verify().await.expect("verify").is_clean());
    }
}

#[tokio::test]
async fn an_approved_change_records_the_event_and_leaves_the_status_as_it_was() {
    for backend in BACKENDS {
        let dir = licnode_testkit::temp_dir().expect("dir");
        let (store, _database) = open(backend, dir.path()).await;
        let archive = Archive::new(store.clone(), "330000");
        let id = licence(&archive, 23).await;
        let change = archive
            .prepare_licence_action(&id, "change", &fields("更名"), &Author::clerk("clerk"))
            .await
            .expect("prepared");
        let (action, licence) = archive
            .approve_licence_action(change.id, &Author::approver("approver"))
            .await
            .expect("approved");
        assert_eq!(licence.data["status"], "valid", "{backend}");
        assert!(action.event_id.is_some());
        assert_eq!(event_count(&archive).await, 1);
        let unknown = archive
            .prepare_licence_action(&id, "suspension", &fields("x"), &Author::clerk("clerk"))
            .await
            .expect_err("refused");
        assert_eq!(unknown.code(), "unknown_event_kind");
    }
}

#[tokio::test]
async fn actions_are_listed_newest_first_by_state_or_licence_and_paged() {
    use licnode_store::licence_actions::LicenceActionQuery;
    for backend in BACKENDS {
        let dir = licnode_testkit::temp_dir().expect("dir");
        let (store, _database) = open(backend, dir.path()).await;
        let archive = Archive::new(store.clone(), "330000");
        let first = licence(&archive, 31).await;
        let second = licence(&archive, 32).await;
        let mut ids = Vec::new();
        for (licence_id, kind) in [
            (&first, "change"),
            (&second, "revocation"),
            (&first, "withdrawal"),
        ] {
            let action = archive
                .prepare_licence_action(licence_id, kind, &fields("原因"), &Author::clerk("clerk"))
                .await
                .expect("prepared");
            ids.push(action.id);
        }
        archive
            .approve_licence_action(ids[0], &Author::approver("approver"))
            .await
            .expect("approved");
        let list = |state: Option<&str>, licence_id: Option<&str>, before: Option<i64>, limit| {
            let archive = archive.clone();
            let query = LicenceActionQuery {
                state: state.map(str::to_string),
                licence_id: licence_id.map(str::to_string),
                before,
                limit,
            };
            async move {
                let page = archive.licence_actions(&query).await.expect("list");
                page.iter().map(|action| action.id).collect::<Vec<_>>()
            }
        };
        assert_eq!(
            list(None, None, None, 10).await,
            [ids[2], ids[1], ids[0]],
            "{backend}"
        );
        assert_eq!(
            list(Some("pending"), None, None, 10).await,
            [ids[2], ids[1]]
        );
        assert_eq!(list(None, Some(&first), None, 10).await, [ids[2], ids[0]]);
        assert_eq!(
            list(Some("approved"), Some(&first), None, 10).await,
            [ids[0]]
        );
        assert_eq!(list(None, None, None, 2).await, [ids[2], ids[1]]);
        assert_eq!(list(None, None, Some(ids[1]), 2).await, [ids[0]]);
        assert_eq!(
            archive.pending_licence_action_count().await.expect("count"),
            2
        );
    }
}
