//! Replication trusts only what it can check (issue 11), over real mutual TLS between real
//! nodes: national 100000, the province 330000 and its county 330106 (Xihu). A parent talks
//! only to its direct children (item 3); a child restored from a backup, or named in a push
//! that claimed more than it carried, loses none of its changes (item 4).

mod support;

use support::{NATIONAL, XIHU, ZHEJIANG};

use std::path::Path;

use licnode::sync_cli::{SessionReport, session};
use licnode::{Config, Node, NodeHandle};
use licnode_pki::{ClientError, ExpectedPeer, PeerClient};
use licnode_sync::protocol::{CURSOR_PATH, CursorResponse, PUSH_PATH, PushRequest, PushResponse};

struct Tree {
    dir: tempfile::TempDir,
    databases: Vec<licnode_testkit::TestDatabase>,
    urls: std::collections::HashMap<&'static str, String>,
    national: NodeHandle,
    national_url: String,
    zhejiang: NodeHandle,
    zhejiang_url: String,
    xihu: NodeHandle,
}

/// The configuration of the node in `dir/name`, on `database_url`, its sessions driven by the
/// test.
fn config(dir: &Path, name: &str, parent_url: Option<String>, database_url: &str) -> Config {
    let mut config = Config::load(&dir.join(name).join("licnode.toml")).expect("config");
    config.node.parent_url = parent_url;
    config.storage.database_url = Some(database_url.to_owned());
    config.sync.enabled = false;
    config.sync.interval = std::time::Duration::from_secs(3600);
    config
}

impl Tree {
    /// The three nodes; Zhejiang names `child_prefectures`.
    async fn start(backend: licnode_testkit::Backend, child_prefectures: &[&str]) -> Tree {
        let dir = tempfile::tempdir().expect("dir");
        let root = dir.path().to_owned();
        tokio::task::spawn_blocking(move || {
            support::issue_tree(&root, &[NATIONAL, ZHEJIANG, XIHU]);
        })
        .await
        .expect("tree");
        let mut databases = Vec::new();
        let mut urls = std::collections::HashMap::new();
        for name in ["national", "zhejiang", "xihu"] {
            let (url, database) =
                licnode_testkit::database_url(backend, &dir.path().join(name).join("data"))
                    .await
                    .expect("database");
            urls.insert(name, url);
            databases.extend(database);
        }
        let national = Node::start(&config(dir.path(), "national", None, &urls["national"]))
            .await
            .expect("national");
        let national_url = format!("https://{}", national.peer_addr().expect("peer"));
        let mut zhejiang_config = config(
            dir.path(),
            "zhejiang",
            Some(national_url.clone()),
            &urls["zhejiang"],
        );
        zhejiang_config.node.child_prefectures =
            child_prefectures.iter().map(ToString::to_string).collect();
        let zhejiang = Node::start(&zhejiang_config).await.expect("zhejiang");
        let zhejiang_url = format!("https://{}", zhejiang.peer_addr().expect("peer"));
        let xihu = Node::start(&config(
            dir.path(),
            "xihu",
            Some(zhejiang_url.clone()),
            &urls["xihu"],
        ))
        .await
        .expect("xihu");
        Tree {
            dir,
            databases,
            urls,
            national,
            national_url,
            zhejiang,
            zhejiang_url,
            xihu,
        }
    }

    /// One session of Xihu with Zhejiang.
    async fn sync_xihu(&self) -> SessionReport {
        session(
            self.xihu.archive(),
            self.xihu.tls().expect("tls"),
            &self.zhejiang_url,
        )
        .await
        .expect("session")
    }

    async fn shutdown(self) {
        for node in [self.xihu, self.zhejiang, self.national] {
            node.shutdown().await.expect("shutdown");
        }
    }
}

/// Creates `count` quality archives at `node` (a county keeps them: they go up and stay).
async fn write_archives(node: &NodeHandle, count: u64, seed: u64) -> Vec<String> {
    let model = licnode_model::collection("quality_archives").expect("collection");
    let mut ids = Vec::new();
    for offset in 0..count {
        let input = licnode_gen::Generator::new(seed + offset).record(model, "330106");
        let created = node
            .archive()
            .create(
                "quality_archives",
                Some("330106"),
                &input,
                &licnode_app::Author::clerk("clerk"),
            )
            .await
            .expect("create");
        ids.push(created.record.id);
    }
    ids
}

async fn holds(node: &NodeHandle, id: &str) -> bool {
    node.archive().find(id).await.expect("get").is_some()
}

fn refused_code<T: std::fmt::Debug>(result: Result<T, ClientError>) -> (u16, String) {
    match result {
        Err(ClientError::Refused { status, code, .. }) => (status, code),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

async fn peer_refusals(node: &NodeHandle, peer: &str) -> usize {
    node.archive()
        .audit_entries(0, 10_000)
        .await
        .expect("audit")
        .iter()
        .filter(|entry| entry.kind == "peer_refused" && entry.node == peer)
        .count()
}

/// Issue 11 item 3: Xihu, with its genuine certificate, dials the national node directly, and a
/// province whose prefecture Hangzhou runs a node: both refuse it at its first request
/// (`hello`), with `not_a_child`, audit it, and apply nothing it sends.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_county_that_skips_its_parent_is_refused_at_the_first_request_and_audited() {
    let tree = Tree::start(licnode_testkit::Backend::Sqlite, &["330100"]).await;
    let made = write_archives(&tree.xihu, 2, 10).await;
    let tls = tree.xihu.tls().expect("tls");
    for (parent, url, parent_code) in [
        (&tree.national, &tree.national_url, "100000"),
        (&tree.zhejiang, &tree.zhejiang_url, "330000"),
    ] {
        let client =
            PeerClient::for_node(tls, ExpectedPeer::Code(parent_code.into())).expect("client");
        let hello = client
            .get_json::<serde_json::Value>(&format!("{url}/sync/v1/hello"))
            .await;
        assert_eq!(refused_code(hello), (403, "not_a_child".into()), "{url}");
        let cursor = client
            .get_json::<CursorResponse>(&format!("{url}{CURSOR_PATH}"))
            .await;
        assert_eq!(refused_code(cursor), (403, "not_a_child".into()), "{url}");
        // What the county would push is refused whole.
        let batch = licnode_app::replication::child::next_push_batch(
            tree.xihu.archive(),
            &licnode_sync::NodeRef::new(parent_code, parent.archive().scope.node_ref().level),
            &["quality_archives"],
            0,
        )
        .await
        .expect("batch")
        .expect("something to push");
        let pushed = client
            .post_json::<_, PushResponse>(&format!("{url}{PUSH_PATH}"), &batch)
            .await;
        assert_eq!(refused_code(pushed), (403, "not_a_child".into()), "{url}");
        // A whole session fails, saying why.
        let failed = session(tree.xihu.archive(), tls, url).await;
        let error = format!("{:#}", failed.expect_err("a session with a grandparent"));
        assert!(error.contains("not_a_child"), "{error}");
        for id in &made {
            assert!(!holds(parent, id).await, "{parent_code} applied {id}");
        }
        assert!(
            peer_refusals(parent, "330106").await >= 4,
            "{parent_code}: refusals not audited"
        );
    }
    tree.shutdown().await;
}

/// A copy of the database of the node `name` as it is now: a SQLite file or a PostgreSQL dump.
async fn back_up(
    tree: &Tree,
    node: &NodeHandle,
    name: &str,
    backend: licnode_testkit::Backend,
) -> std::path::PathBuf {
    let path = tree.dir.path().join(format!("{name}-{backend}.backup"));
    match backend {
        licnode_testkit::Backend::Sqlite => node
            .archive()
            .store_for_tests()
            .backup_into(&path)
            .await
            .expect("backup"),
        licnode_testkit::Backend::Postgres => {
            let dumped = std::process::Command::new("pg_dump")
                .args(["--format=custom", "--no-owner", "--file"])
                .arg(&path)
                .arg("--dbname")
                .arg(&tree.urls[name])
                .output()
                .expect("pg_dump");
            assert!(
                dumped.status.success(),
                "{}",
                String::from_utf8_lossy(&dumped.stderr)
            );
        }
    }
    path
}

/// A fresh database holding the backup: the database URL the node restarts on.
async fn restore(
    tree: &mut Tree,
    name: &str,
    backend: licnode_testkit::Backend,
    backup: &Path,
) -> String {
    match backend {
        licnode_testkit::Backend::Sqlite => {
            let restored = tree.dir.path().join(format!("{name}-restored.db"));
            std::fs::copy(backup, &restored).expect("copy the backup");
            format!("sqlite://{}?mode=rwc", restored.display())
        }
        licnode_testkit::Backend::Postgres => {
            let target = licnode_testkit::postgres_database()
                .await
                .expect("database");
            let restored = std::process::Command::new("pg_restore")
                .args(["--no-owner", "--dbname", &target.url])
                .arg(backup)
                .output()
                .expect("pg_restore");
            assert!(
                restored.status.success(),
                "{}",
                String::from_utf8_lossy(&restored.stderr)
            );
            let url = target.url.clone();
            tree.databases.push(target);
            url
        }
    }
}

/// Issue 11 item 4, the issue's scenario: back Xihu up, write and sync 10 records, restore the
/// backup, write 10 more, sync: all 20 are at the province and back at the county, nothing is
/// quarantined or left behind, and the divergence is reported and audited.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_county_restored_from_a_backup_takes_back_what_it_had_sent_and_loses_nothing() {
    for backend in licnode_testkit::BACKENDS {
        let mut tree = Tree::start(backend, &[]).await;
        let early = write_archives(&tree.xihu, 1, 100).await;
        tree.sync_xihu().await;
        let backup = back_up(&tree, &tree.xihu, "xihu", backend).await;

        let before_restore = write_archives(&tree.xihu, 10, 200).await;
        let report = tree.sync_xihu().await;
        assert_eq!(report.pushed, 10, "{backend}: {report:?}");

        // The county's disk is lost; it comes back from the backup.
        let url = restore(&mut tree, "xihu", backend, &backup).await;
        let old = std::mem::replace(
            &mut tree.xihu,
            Node::start(&config(
                tree.dir.path(),
                "xihu",
                Some(tree.zhejiang_url.clone()),
                &url,
            ))
            .await
            .expect("restored xihu"),
        );
        old.shutdown().await.expect("shutdown");
        for id in &before_restore {
            assert!(
                !holds(&tree.xihu, id).await,
                "{backend}: the backup holds {id}"
            );
        }

        let after_restore = write_archives(&tree.xihu, 10, 300).await;
        let report = tree.sync_xihu().await;
        assert!(report.diverged.is_some(), "{backend}: {report:?}");
        assert_eq!(report.recovered, 10, "{backend}: {report:?}");
        assert_eq!(report.pushed, 10, "{backend}: {report:?}");
        // The restore rewound the audit chain past what the province had anchored: the
        // province says so (the evidence is kept), and the session's changes still moved.
        assert!(
            report
                .audit_chain_broken
                .as_deref()
                .is_some_and(|finding| finding.contains("rewritten")),
            "{backend}: {report:?}"
        );
        for id in early.iter().chain(&before_restore).chain(&after_restore) {
            assert!(
                holds(&tree.zhejiang, id).await,
                "{backend}: {id} not at the province"
            );
            assert!(
                holds(&tree.xihu, id).await,
                "{backend}: {id} not back at the county"
            );
        }
        for node in [&tree.zhejiang, &tree.xihu] {
            let quarantined = node
                .archive()
                .store_for_tests()
                .quarantined(100)
                .await
                .expect("list");
            assert!(quarantined.is_empty(), "{backend}: {quarantined:?}");
        }
        let audited = tree
            .xihu
            .archive()
            .audit_entries(0, 10_000)
            .await
            .expect("audit")
            .iter()
            .any(|entry| entry.kind == "sync_diverged");
        assert!(audited, "{backend}: the divergence is not in the audit log");

        // The two agree again: the next session finds nothing to recover or push.
        let again = tree.sync_xihu().await;
        assert_eq!(again.diverged, None, "{backend}: {again:?}");
        assert_eq!(
            (again.pushed, again.pulled, again.recovered),
            (0, 0, 0),
            "{backend}: {again:?}"
        );
        // And the county's next change goes up as usual.
        let later = write_archives(&tree.xihu, 1, 400).await;
        let report = tree.sync_xihu().await;
        assert_eq!(report.pushed, 1, "{backend}: {report:?}");
        assert!(holds(&tree.zhejiang, &later[0]).await, "{backend}");
        tree.shutdown().await;
    }
}

/// Issue 11 item 4: a push in Xihu's name that claims to cover far more of its log than it
/// carried moves the province's cursor past Xihu's log; Xihu notices at its next session
/// (the province names a change its log does not hold there) and pushes its log again, so the
/// changes it writes meanwhile still reach the province.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_push_claiming_more_than_it_carried_cannot_make_the_county_lose_later_changes() {
    for backend in licnode_testkit::BACKENDS {
        let tree = Tree::start(backend, &[]).await;
        let first = write_archives(&tree.xihu, 3, 500).await;
        tree.sync_xihu().await;
        let client = PeerClient::for_node(
            tree.xihu.tls().expect("tls"),
            ExpectedPeer::Code("330000".into()),
        )
        .expect("client");
        let cursor: CursorResponse = client
            .get_json(&format!("{}{CURSOR_PATH}", tree.zhejiang_url))
            .await
            .expect("cursor");
        let forged: PushResponse = client
            .post_json(
                &format!("{}{PUSH_PATH}", tree.zhejiang_url),
                &PushRequest {
                    after: cursor.acknowledged,
                    up_to: cursor.acknowledged + 20,
                    up_to_hash: Some("ab".repeat(32)),
                    restart: false,
                    changes: Vec::new(),
                },
            )
            .await
            .expect("the forged push is stored");
        assert_eq!(forged.acknowledged, cursor.acknowledged + 20, "{backend}");

        // Xihu's log grows past the claimed cursor, then it syncs.
        let later = write_archives(&tree.xihu, 25, 600).await;
        let report = tree.sync_xihu().await;
        assert!(report.diverged.is_some(), "{backend}: {report:?}");
        assert_eq!(report.pushed, 25, "{backend}: {report:?}");
        for id in first.iter().chain(&later) {
            assert!(
                holds(&tree.zhejiang, id).await,
                "{backend}: {id} left behind"
            );
        }
        let again = tree.sync_xihu().await;
        assert_eq!(again.diverged, None, "{backend}: {again:?}");
        tree.shutdown().await;
    }
}

/// Issue 11 item 6, through a push: a change in Xihu's name after which its record fails the
/// model (an impossible date) is quarantined at the province as `invalid_record`, and the
/// province's copy stays as it was.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pushed_change_that_breaks_the_model_is_quarantined_and_changes_nothing() {
    let tree = Tree::start(licnode_testkit::Backend::Sqlite, &[]).await;
    let id = write_archives(&tree.xihu, 1, 700).await.remove(0);
    tree.sync_xihu().await;
    let before = tree
        .zhejiang
        .archive()
        .get(&id)
        .await
        .expect("at the province");
    let bytes = tree
        .xihu
        .archive()
        .store_for_tests()
        .document(&id)
        .await
        .expect("document")
        .expect("held");
    let mut doc = licnode_doc::RecordDoc::load(&bytes).expect("load");
    let mut values = serde_json::Map::new();
    values.insert("valid_until".into(), serde_json::json!("2024-13-45"));
    let actor = licnode_doc::actor::fresh("330106");
    let change = doc
        .update(
            &values,
            licnode_doc::Authoring {
                actor: &actor,
                user: "forger",
                time_ms: 1,
            },
        )
        .expect("update")
        .expect("a change");
    let client = PeerClient::for_node(
        tree.xihu.tls().expect("tls"),
        ExpectedPeer::Code("330000".into()),
    )
    .expect("client");
    let cursor: CursorResponse = client
        .get_json(&format!("{}{CURSOR_PATH}", tree.zhejiang_url))
        .await
        .expect("cursor");
    let seq = cursor.acknowledged + 1;
    let answer: PushResponse = client
        .post_json(
            &format!("{}{PUSH_PATH}", tree.zhejiang_url),
            &PushRequest {
                after: cursor.acknowledged,
                up_to: seq,
                up_to_hash: Some(change.hash.to_string()),
                restart: false,
                changes: vec![licnode_sync::protocol::LoggedChange {
                    seq,
                    hash: change.hash.to_string(),
                    record_id: id.clone(),
                    collection: "quality_archives".into(),
                    jurisdiction: "330106".into(),
                    author_node: "330106".into(),
                    author_user: "forger".into(),
                    at_ms: 1,
                    bytes: change.bytes.clone(),
                    ..licnode_sync::protocol::LoggedChange::default()
                }],
            },
        )
        .await
        .expect("push");
    assert_eq!((answer.applied, answer.quarantined), (0, 1), "{answer:?}");
    let quarantined = tree
        .zhejiang
        .archive()
        .store_for_tests()
        .quarantined(10)
        .await
        .expect("quarantine");
    assert_eq!(quarantined.len(), 1, "{quarantined:?}");
    assert_eq!(quarantined[0].reason, "invalid_record");
    assert_eq!(quarantined[0].hash, change.hash.to_string());
    let after = tree
        .zhejiang
        .archive()
        .get(&id)
        .await
        .expect("at the province");
    assert_eq!(after.data, before.data);
    tree.shutdown().await;
}

/// Creates `count` notices of the province addressed to Xihu (they go down to it).
async fn write_notices(node: &NodeHandle, count: u64, seed: u64) -> Vec<String> {
    let model = licnode_model::collection("notices").expect("collection");
    let mut ids = Vec::new();
    for offset in 0..count {
        let input = licnode_gen::Generator::new(seed + offset).record(model, "330106");
        let created = node
            .archive()
            .create(
                "notices",
                Some("330106"),
                &input,
                &licnode_app::Author::clerk("clerk"),
            )
            .await
            .expect("create");
        ids.push(created.record.id);
    }
    ids
}

/// The same for the other direction: the province restored from a backup names, at the
/// county's pull cursor, another change than it had (or none), so the county pulls again from
/// the start and receives what the province writes after the restore.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_county_pulls_what_its_province_writes_after_the_province_was_restored() {
    for backend in licnode_testkit::BACKENDS {
        let mut tree = Tree::start(backend, &[]).await;
        write_archives(&tree.xihu, 1, 800).await;
        tree.sync_xihu().await;
        let backup = back_up(&tree, &tree.zhejiang, "zhejiang", backend).await;
        let lost = write_notices(&tree.zhejiang, 5, 900).await;
        let report = tree.sync_xihu().await;
        assert_eq!(report.pulled, 5, "{backend}: {report:?}");

        let url = restore(&mut tree, "zhejiang", backend, &backup).await;
        let restarted = Node::start(&config(
            tree.dir.path(),
            "zhejiang",
            Some(tree.national_url.clone()),
            &url,
        ))
        .await
        .expect("restored zhejiang");
        tree.zhejiang_url = format!("https://{}", restarted.peer_addr().expect("peer"));
        let old = std::mem::replace(&mut tree.zhejiang, restarted);
        old.shutdown().await.expect("shutdown");
        for id in &lost {
            assert!(
                !holds(&tree.zhejiang, id).await,
                "{backend}: backup holds {id}"
            );
        }

        let written_after = write_notices(&tree.zhejiang, 5, 1_000).await;
        let report = tree.sync_xihu().await;
        assert!(report.diverged.is_some(), "{backend}: {report:?}");
        for id in &written_after {
            assert!(
                holds(&tree.xihu, id).await,
                "{backend}: {id} never reached the county"
            );
        }
        let again = tree.sync_xihu().await;
        assert_eq!(again.diverged, None, "{backend}: {again:?}");
        assert_eq!((again.pushed, again.pulled), (0, 0), "{backend}: {again:?}");
        tree.shutdown().await;
    }
}

/// A batch the province's cursor already covers — a late batch, or an offline bundle from a
/// county restored from a backup, whose log reuses numbers the province acknowledged — is still
/// applied (held changes are skipped by hash), and moves neither the cursor nor its hash.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_the_cursor_already_covers_is_applied_without_moving_the_cursor() {
    let tree = Tree::start(licnode_testkit::Backend::Sqlite, &[]).await;
    write_archives(&tree.xihu, 3, 1_100).await;
    tree.sync_xihu().await;
    let store = tree.zhejiang.archive().store_for_tests();
    let before = store
        .sync_cursor_with_hash("330106", licnode_store::SyncStream::Push)
        .await
        .expect("cursor");
    // A change Xihu never pushed, numbered inside what the province acknowledged.
    let id = write_archives(&tree.xihu, 1, 1_200).await.remove(0);
    let mut batch = licnode_app::replication::child::next_push_batch(
        tree.xihu.archive(),
        &tree.zhejiang.archive().scope.node_ref(),
        &["quality_archives"],
        before.0,
    )
    .await
    .expect("batch")
    .expect("the new change");
    for change in &mut batch.changes {
        change.seq = before.0;
    }
    batch.after = before.0 - 1;
    batch.up_to = before.0;
    batch.up_to_hash = batch.changes.last().map(|change| change.hash.clone());
    let answer = licnode_app::replication::parent::push(
        tree.zhejiang.archive(),
        &tree.xihu.archive().scope.node_ref(),
        batch,
    )
    .await
    .expect("applied");
    assert_eq!(answer.applied, 1, "{answer:?}");
    assert!(holds(&tree.zhejiang, &id).await);
    let after = store
        .sync_cursor_with_hash("330106", licnode_store::SyncStream::Push)
        .await
        .expect("cursor");
    assert_eq!(after, before);
    tree.shutdown().await;
}
