//! Replication over real mutual TLS on loopback between real nodes: national 100000, the
//! province 330000, and its counties 330106 and 330108. Certificates are made with the CLI as
//! the README does; the nodes run in-process on port 0.

mod support;

use support::{BINJIANG, NATIONAL, XIHU, ZHEJIANG};

use std::path::Path;

use licnode::sync_cli::{SessionReport, session};
use licnode::{Config, Node, NodeHandle};
use licnode_app::Author;
use licnode_pki::{ExpectedPeer, PeerClient};
use licnode_sync::protocol::{CURSOR_PATH, CursorResponse, PUSH_PATH, PushRequest, PushResponse};

/// Creates the four node directories with their certificates.
fn make_tree(dir: &Path) {
    support::issue_tree(dir, &[NATIONAL, ZHEJIANG, XIHU, BINJIANG]);
}

struct Tree {
    dir: tempfile::TempDir,
    _databases: Vec<licnode_testkit::TestDatabase>,
    national: NodeHandle,
    national_url: String,
    zhejiang: NodeHandle,
    zhejiang_url: String,
    xihu: NodeHandle,
    binjiang: NodeHandle,
}

impl Tree {
    async fn start(backend: licnode_testkit::Backend) -> Tree {
        Tree::start_with(backend, false).await
    }

    /// The tree, with every child's sync loop running (`auto_sync`) or not.
    async fn start_with(backend: licnode_testkit::Backend, auto_sync: bool) -> Tree {
        Tree::start_with_debounce(backend, auto_sync, std::time::Duration::from_secs(1)).await
    }

    /// [`Tree::start_with`], the province's sync loop debouncing writes for `province`
    /// (every other node's for a second).
    async fn start_with_debounce(
        backend: licnode_testkit::Backend,
        auto_sync: bool,
        province: std::time::Duration,
    ) -> Tree {
        let dir = tempfile::tempdir().expect("dir");
        let root = dir.path().to_owned();
        tokio::task::spawn_blocking(move || make_tree(&root))
            .await
            .expect("tree");
        let mut databases = Vec::new();
        let mut urls = std::collections::HashMap::new();
        for name in ["national", "zhejiang", "xihu", "binjiang"] {
            let (url, database) =
                licnode_testkit::database_url(backend, &dir.path().join(name).join("data"))
                    .await
                    .expect("database");
            urls.insert(name, url);
            databases.extend(database);
        }
        let load = |name: &str, parent: Option<String>| {
            let mut config =
                Config::load(&dir.path().join(name).join("licnode.toml")).expect("config");
            config.node.parent_url = parent;
            config.storage.database_url = Some(urls[name].clone());
            // Most tests drive every session themselves.
            config.sync.enabled = auto_sync;
            config.sync.interval = std::time::Duration::from_secs(3600);
            config.sync.debounce = if name == "zhejiang" {
                province
            } else {
                std::time::Duration::from_secs(1)
            };
            config
        };
        let national = Node::start(&load("national", None))
            .await
            .expect("national");
        let national_url = format!("https://{}", national.peer_addr().expect("peer"));
        let zhejiang = Node::start(&load("zhejiang", Some(national_url.clone())))
            .await
            .expect("zhejiang");
        let zhejiang_url = format!("https://{}", zhejiang.peer_addr().expect("peer"));
        let xihu = Node::start(&load("xihu", Some(zhejiang_url.clone())))
            .await
            .expect("xihu");
        let binjiang = Node::start(&load("binjiang", Some(zhejiang_url.clone())))
            .await
            .expect("binjiang");
        Tree {
            dir,
            _databases: databases,
            national,
            national_url,
            zhejiang,
            zhejiang_url,
            xihu,
            binjiang,
        }
    }

    /// One session of `child` with its parent at `parent_url`.
    async fn sync(child: &NodeHandle, parent_url: &str) -> SessionReport {
        session(child.archive(), child.tls().expect("tls"), parent_url)
            .await
            .expect("session")
    }

    /// Sessions bottom-up then top-down, so that everything reaches everywhere it goes.
    async fn sync_all(&self) -> Vec<SessionReport> {
        vec![
            Tree::sync(&self.xihu, &self.zhejiang_url).await,
            Tree::sync(&self.binjiang, &self.zhejiang_url).await,
            Tree::sync(&self.zhejiang, &self.national_url).await,
            Tree::sync(&self.xihu, &self.zhejiang_url).await,
            Tree::sync(&self.binjiang, &self.zhejiang_url).await,
        ]
    }

    async fn shutdown(self) {
        for node in [self.xihu, self.binjiang, self.zhejiang, self.national] {
            node.shutdown().await.expect("shutdown");
        }
    }
}

fn input(
    collection: &str,
    jurisdiction: &str,
    seed: u64,
) -> serde_json::Map<String, serde_json::Value> {
    let model = licnode_model::collection(collection).expect("collection");
    licnode_gen::Generator::new(seed).record(model, jurisdiction)
}

async fn create(node: &NodeHandle, collection: &str, jurisdiction: &str, seed: u64) -> String {
    node.archive()
        .create(
            collection,
            Some(jurisdiction),
            &input(collection, jurisdiction, seed),
            &Author::clerk("tester"),
        )
        .await
        .expect("create")
        .record
        .id
}

/// Whether `node` holds the record `id`.
async fn holds(node: &NodeHandle, id: &str) -> bool {
    node.archive().find(id).await.ok().flatten().is_some()
}

/// Every record id a node's database holds, with its jurisdiction.
async fn held(node: &NodeHandle) -> Vec<(String, String)> {
    let mut rows: Vec<(String, String)> = node
        .archive()
        .changes_after(0, None, 1_000_000)
        .await
        .expect("changes")
        .into_iter()
        .map(|row| (row.record_id, row.jurisdiction))
        .collect();
    rows.sort();
    rows.dedup();
    rows
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_flow_up_registries_flow_down_siblings_stay_apart_and_forgeries_are_quarantined() {
    for backend in licnode_testkit::BACKENDS {
        scenario(backend).await;
    }
}

async fn scenario(backend: licnode_testkit::Backend) {
    let tree = Tree::start(backend).await;

    // A licence at the province, a quality archive at each county, a reviewer at national.
    let licence = create(&tree.zhejiang, "licences", "330106", 1).await;
    let xihu_archive = create(&tree.xihu, "quality_archives", "330106", 2).await;
    let binjiang_archive = create(&tree.binjiang, "quality_archives", "330108", 3).await;
    let reviewer = create(&tree.national, "reviewers", "100000", 4).await;
    // A notice of the province addressed to Xihu: up to national, down to Xihu only.
    let notice = create(&tree.zhejiang, "notices", "330106", 8).await;

    let first = tree.sync_all().await;
    assert_eq!(first[0].pushed, 1, "{first:?}");
    assert_eq!(first[1].pushed, 1, "{first:?}");
    // Xihu pulls the notice addressed to it and the licence of its enterprise (Art. 12, 29).
    assert_eq!(first[0].pulled, 2, "{first:?}");
    assert_eq!(first[1].pulled, 0, "{first:?}");
    assert_eq!(first[2].pushed, 4, "{first:?}");
    assert_eq!(first[2].pulled, 1, "{first:?}");
    assert!(first[3].pulled == 1 && first[4].pulled == 1, "{first:?}");
    for report in &first {
        assert_eq!(
            report.push_quarantined + report.pull_quarantined,
            0,
            "{report:?}"
        );
    }

    // Up-flow: the province's licence and both counties' archives reach national.
    for id in [&licence, &xihu_archive, &binjiang_archive, &notice] {
        assert!(
            tree.national
                .archive()
                .find(id)
                .await
                .expect("get")
                .is_some(),
            "{id}"
        );
    }
    // Down-flow: the reviewer reaches the province and both counties.
    for node in [&tree.zhejiang, &tree.xihu, &tree.binjiang] {
        assert!(node.archive().find(&reviewer).await.expect("get").is_some());
    }
    // Art. 12, 20, 29: the licence of a Xihu enterprise reaches Xihu as a read-only copy.
    assert!(
        tree.xihu
            .archive()
            .find(&licence)
            .await
            .expect("get")
            .is_some()
    );
    let mut patch = serde_json::Map::new();
    patch.insert("remarks".into(), serde_json::json!("县局备注"));
    let edit = tree
        .xihu
        .archive()
        .update(&licence, &patch, &Author::approver("approver"))
        .await
        .expect_err("a county does not edit a licence");
    assert_eq!(edit.code(), "author_not_allowed", "{edit}");
    // The notice reaches the division it is addressed to, and only that one.
    assert!(
        tree.xihu
            .archive()
            .find(&notice)
            .await
            .expect("get")
            .is_some()
    );
    assert!(
        tree.binjiang
            .archive()
            .find(&notice)
            .await
            .expect("get")
            .is_none()
    );
    // Sibling isolation, in each county's database.
    let binjiang_holds = held(&tree.binjiang).await;
    assert!(
        binjiang_holds.iter().all(|(_, j)| !j.starts_with("330106")),
        "{binjiang_holds:?}"
    );
    assert!(
        tree.binjiang
            .archive()
            .find(&xihu_archive)
            .await
            .expect("get")
            .is_none()
    );
    assert!(
        tree.binjiang
            .archive()
            .find(&licence)
            .await
            .expect("get")
            .is_none()
    );
    let xihu_holds = held(&tree.xihu).await;
    assert!(
        xihu_holds.iter().all(|(_, j)| !j.starts_with("330108")),
        "{xihu_holds:?}"
    );

    // Idempotence: a second round moves nothing.
    let before = tree.national.archive().last_seq().await.expect("seq");
    for report in tree.sync_all().await {
        assert_eq!(
            (
                report.pushed,
                report.pulled,
                report.push_duplicates,
                report.pull_duplicates
            ),
            (0, 0, 0, 0),
            "{report:?}"
        );
    }
    assert_eq!(
        tree.national.archive().last_seq().await.expect("seq"),
        before
    );

    // A hostile Xihu pushes, bypassing its own routing: a record of its sibling's
    // jurisdiction, and a change authored in the sibling's name.
    let now = licnode_store::now_ms();
    let forge = |actor_code: &str, jurisdiction: &str, seed: u64| {
        let meta = licnode_doc::RecordMeta {
            id: uuid::Uuid::now_v7().to_string(),
            collection: "quality_archives".into(),
            jurisdiction: jurisdiction.into(),
        };
        let actor = licnode_doc::actor::fresh(actor_code);
        let (_, change) = licnode_doc::RecordDoc::create(
            &meta,
            &input("quality_archives", jurisdiction, seed),
            licnode_doc::Authoring {
                actor: &actor,
                user: "forger",
                time_ms: now,
            },
        )
        .expect("forge");
        (meta, change)
    };
    let client = PeerClient::for_node(
        tree.xihu.tls().expect("tls"),
        ExpectedPeer::Code("330000".into()),
    )
    .expect("client");
    let cursor: CursorResponse = client
        .get_json(&format!("{}{CURSOR_PATH}", tree.zhejiang_url))
        .await
        .expect("cursor");
    let forged = [forge("330106", "330108", 5), forge("330108", "330108", 6)];
    let changes = forged
        .iter()
        .enumerate()
        .map(|(i, (meta, change))| licnode_sync::protocol::LoggedChange {
            seq: cursor.acknowledged + 1 + i as i64,
            hash: change.hash.to_string(),
            record_id: meta.id.clone(),
            collection: meta.collection.clone(),
            jurisdiction: meta.jurisdiction.clone(),
            author_node: "330106".into(),
            author_user: "forger".into(),
            at_ms: now,
            bytes: change.bytes.clone(),
            ..licnode_sync::protocol::LoggedChange::default()
        })
        .collect();
    let answer: PushResponse = client
        .post_json(
            &format!("{}{PUSH_PATH}", tree.zhejiang_url),
            &PushRequest {
                after: cursor.acknowledged,
                up_to: cursor.acknowledged + 2,
                up_to_hash: Some(forged[1].1.hash.to_string()),
                restart: false,
                changes,
            },
        )
        .await
        .expect("push");
    assert_eq!((answer.applied, answer.quarantined), (0, 2), "{answer:?}");
    assert_eq!(answer.acknowledged, cursor.acknowledged + 2);
    let quarantined = tree
        .zhejiang
        .archive()
        .store_for_tests()
        .quarantined(10)
        .await
        .expect("list");
    assert_eq!(quarantined.len(), 2, "{quarantined:?}");
    for ((meta, change), entry) in forged.iter().zip(&quarantined) {
        assert_eq!(entry.peer, "330106");
        assert_eq!(entry.hash, change.hash.to_string());
        assert_eq!(entry.bytes, change.bytes);
        assert!(
            tree.zhejiang
                .archive()
                .find(&meta.id)
                .await
                .expect("get")
                .is_none()
        );
    }
    assert_eq!(quarantined[0].author_node, "330106");
    assert_eq!(
        quarantined[0].reason, "outside_jurisdiction",
        "{quarantined:?}"
    );
    assert_eq!(quarantined[1].author_node, "330108");
    assert_eq!(
        quarantined[1].reason, "author_not_on_sender_side",
        "{quarantined:?}"
    );
    // A batch that does not follow what the parent stored is refused and changes nothing.
    let gap: Result<PushResponse, _> = client
        .post_json(
            &format!("{}{PUSH_PATH}", tree.zhejiang_url),
            &PushRequest {
                after: answer.acknowledged + 5,
                up_to: answer.acknowledged + 6,
                up_to_hash: Some("0".repeat(64)),
                restart: false,
                changes: Vec::new(),
            },
        )
        .await;
    assert!(gap.is_err(), "{gap:?}");
    let cursor: CursorResponse = client
        .get_json(&format!("{}{CURSOR_PATH}", tree.zhejiang_url))
        .await
        .expect("cursor");
    assert_eq!(cursor.acknowledged, answer.acknowledged);
    // The same batch again is harmless: nothing applied, nothing quarantined twice.
    let again = tree.sync_all().await;
    assert!(
        again.iter().all(|r| r.pushed == 0 && r.pulled == 0),
        "{again:?}"
    );
    assert_eq!(
        tree.zhejiang
            .archive()
            .store_for_tests()
            .quarantined(10)
            .await
            .expect("list")
            .len(),
        2
    );

    // More than one batch each way: 1,100 archives at Binjiang travel up in several batches.
    let mut writes = tokio::task::JoinSet::new();
    for seed in 0..1_100u64 {
        let archive = tree.binjiang.archive().clone();
        writes.spawn(async move {
            archive
                .create(
                    "quality_archives",
                    Some("330108"),
                    &input("quality_archives", "330108", 1_000 + seed),
                    &Author::clerk("tester"),
                )
                .await
                .expect("create")
        });
    }
    while let Some(done) = writes.join_next().await {
        done.expect("join");
    }
    let up = Tree::sync(&tree.binjiang, &tree.zhejiang_url).await;
    assert_eq!((up.pushed, up.push_quarantined), (1_100, 0), "{up:?}");
    let up = Tree::sync(&tree.zhejiang, &tree.national_url).await;
    assert_eq!(up.pushed, 1_100, "{up:?}");
    let binjiang_at_national = held(&tree.national)
        .await
        .into_iter()
        .filter(|(_, j)| j == "330108")
        .count();
    assert_eq!(binjiang_at_national, 1_101);

    // `licnode sync now` runs one session from the command line (SQLite: the file is shared
    // with the running node).
    if backend == licnode_testkit::Backend::Sqlite {
        let licence = create(&tree.zhejiang, "licences", "330108", 7).await;
        let output = support::binary()
            .args(["sync", "now", "--config", "zhejiang/licnode.toml"])
            .env("LICNODE_NODE__PARENT_URL", &tree.national_url)
            .current_dir(tree.dir.path())
            .output()
            .expect("run licnode");
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "{stdout}\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(
            stdout.contains("synced with 100000 (national): pushed 1 (")
                && stdout.contains("pulled 0 ("),
            "{stdout}"
        );
        assert!(
            tree.national
                .archive()
                .find(&licence)
                .await
                .expect("get")
                .is_some()
        );
    }

    tree.shutdown().await;
}

/// Waits up to 30 s for `check` to hold.
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !check().await {
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting: {what}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// A relay forwards what a child pushed at once: the debounce gathers a clerk's writes, and a
/// child's batch is gathered already. With the province debouncing its writes for a minute, a
/// county's new record still reaches national within seconds (the wait gives up at 30 s).
#[tokio::test]
async fn a_province_relays_a_countys_batch_without_waiting_for_its_debounce() {
    let minute = std::time::Duration::from_secs(60);
    let tree = Tree::start_with_debounce(licnode_testkit::Backend::Sqlite, true, minute).await;
    for node in [&tree.xihu, &tree.zhejiang] {
        eventually("the first session", || async {
            node.link()
                .is_some_and(|link| link.snapshot().last_success_ms.is_some())
        })
        .await;
    }
    let started = std::time::Instant::now();
    let id = create(&tree.xihu, "quality_archives", "330106", 5).await;
    eventually(
        "the county's archive reaches national before the province's debounce ends",
        || holds(&tree.national, &id),
    )
    .await;
    let elapsed = started.elapsed();
    println!("county → province → national in {elapsed:?} (the province's debounce: 60 s)");
    assert!(elapsed < minute, "{elapsed:?}");
    tree.shutdown().await;
}

#[tokio::test]
async fn a_write_at_a_county_reaches_national_by_itself_shortly_after() {
    let tree = Tree::start_with(licnode_testkit::Backend::Sqlite, true).await;
    let collection = licnode_model::collection("quality_archives").expect("collection");
    let fields = licnode_gen::Generator::new(77).record(collection, "330106");
    let created = tree
        .xihu
        .archive()
        .create("quality_archives", None, &fields, &Author::clerk("clerk"))
        .await
        .expect("create");
    let id = created.record.id.clone();
    eventually("the archive reaches national through the province", || {
        holds(&tree.national, &id)
    })
    .await;
    // The province relays the county's batch at once, so national may hold it before the
    // county's session has ended and been recorded.
    let link = tree.xihu.link().expect("xihu's loop runs");
    eventually("the county's session is recorded", || async {
        link.snapshot().sessions > 0
    })
    .await;
    let link = link.snapshot();
    assert_eq!(
        link.parent.as_deref().map(|p| p.starts_with("330000")),
        Some(true),
        "{link:?}"
    );
    assert!(
        link.last_success_ms.is_some() && link.last_error.is_none(),
        "{link:?}"
    );
    assert_eq!(
        link.acknowledged,
        tree.xihu.archive().last_seq().await.expect("seq"),
        "nothing left to push: {link:?}"
    );
    tree.shutdown().await;
}

#[tokio::test]
async fn an_unreachable_parent_is_retried_with_growing_waits_and_the_error_is_shown() {
    let tree = Tree::start_with(licnode_testkit::Backend::Sqlite, false).await;
    // A county whose parent address answers nothing.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("port");
    let address = closed.local_addr().expect("address");
    drop(closed);
    let mut config =
        Config::load(&tree.dir.path().join("binjiang").join("licnode.toml")).expect("config");
    config.node.parent_url = Some(format!("https://{address}"));
    config.storage.database_url = None;
    config.storage.data_dir = tree.dir.path().join("binjiang-offline");
    config.http.listen = "127.0.0.1:0".parse().expect("listen");
    config.peer = None;
    config.public = None;
    config.sync.enabled = true;
    config.sync.max_backoff = std::time::Duration::from_secs(2);
    let offline = Node::start(&config).await.expect("offline county");
    let link = offline.link().expect("the loop runs");
    eventually("three failed attempts", || async {
        link.snapshot().consecutive_failures >= 3
    })
    .await;
    let status = link.snapshot();
    assert!(
        status.last_error.as_deref().is_some_and(|e| !e.is_empty()),
        "{status:?}"
    );
    assert!(status.last_success_ms.is_none(), "{status:?}");
    let next_wait =
        status.next_attempt_ms.expect("next attempt") - status.last_attempt_ms.expect("attempt");
    assert!(
        next_wait >= 750,
        "backoff grows past the first second: {status:?}"
    );
    offline.shutdown().await.expect("shutdown");
    tree.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_offline_bundle_is_applied_as_a_push_and_refused_when_tampered() {
    for backend in licnode_testkit::BACKENDS {
        bundle_scenario(backend).await;
    }
}

async fn bundle_scenario(backend: licnode_testkit::Backend) {
    use licnode::bundle::{MAGIC, export, import};
    use licnode_model::Level;
    use licnode_store::SyncStream;
    use licnode_sync::NodeRef;

    let tree = Tree::start(backend).await;
    let zhejiang = NodeRef::new("330000", Level::Province);
    let xihu_tls = tree.xihu.tls().expect("tls");
    let zhejiang_tls = tree.zhejiang.tls().expect("tls");

    // Xihu, offline, makes five records and writes a bundle for its province.
    let mut made = Vec::new();
    for seed in 0..5 {
        made.push(create(&tree.xihu, "quality_archives", "330106", 100 + seed).await);
    }
    let (bundle, summary) = export(tree.xihu.archive(), xihu_tls, &zhejiang)
        .await
        .expect("export");
    assert_eq!(summary.changes, 5, "{summary}");
    assert_eq!(summary.after, 0, "{summary}");
    assert!(summary.up_to >= 5, "{summary}");
    assert!(bundle.starts_with(format!("{MAGIC}\n").as_bytes()));

    let nothing_written = |label: &'static str| {
        let tree = &tree;
        let made = &made;
        async move {
            let held = held(&tree.zhejiang).await;
            assert!(
                made.iter()
                    .all(|id| !held.iter().any(|(held, _)| held == id)),
                "{label}: records written"
            );
            let store = tree.zhejiang.archive().store_for_tests();
            assert_eq!(
                store
                    .sync_cursor("330106", SyncStream::Push)
                    .await
                    .expect("cursor"),
                0,
                "{label}"
            );
            assert!(
                store.quarantined(10).await.expect("q").is_empty(),
                "{label}"
            );
        }
    };

    // One byte flipped in the payload: refused, nothing written.
    let mut tampered = bundle.clone();
    let at = MAGIC.len() + 40;
    tampered[at] ^= 0x01;
    let refused = import(tree.zhejiang.archive(), zhejiang_tls, &tampered)
        .await
        .expect_err("tampered");
    assert_eq!(refused.code, "bad_signature", "{refused}");
    nothing_written("tampered").await;

    // Xihu's payload signed by Binjiang: the signature is good but the signer is not Xihu.
    let payload_end = bundle
        .iter()
        .enumerate()
        .filter(|(_, byte)| **byte == b'\n')
        .nth(1)
        .expect("payload line")
        .0
        + 1;
    let forged = licnode::bundle::seal(
        tree.binjiang.tls().expect("tls"),
        &bundle[MAGIC.len() + 1..payload_end - 1],
    )
    .expect("sign");
    let refused = import(tree.zhejiang.archive(), zhejiang_tls, &forged)
        .await
        .expect_err("forged");
    assert_eq!(refused.code, "signer_mismatch", "{refused}");
    // Xihu's signature line under Binjiang's own bundle: the signature does not match.
    let (other, _) = export(
        tree.binjiang.archive(),
        tree.binjiang.tls().expect("tls"),
        &zhejiang,
    )
    .await
    .expect("export");
    let other_end = other
        .iter()
        .enumerate()
        .filter(|(_, byte)| **byte == b'\n')
        .nth(1)
        .expect("payload line")
        .0
        + 1;
    let mut spliced = other[..other_end].to_vec();
    spliced.extend_from_slice(&bundle[payload_end..]);
    let refused = import(tree.zhejiang.archive(), zhejiang_tls, &spliced)
        .await
        .expect_err("spliced");
    assert_eq!(refused.code, "bad_signature", "{refused}");
    nothing_written("other signer").await;

    // A bundle for another parent: refused at the province and at national.
    let (for_national, _) = export(
        tree.xihu.archive(),
        xihu_tls,
        &NodeRef::new("100000", Level::National),
    )
    .await
    .expect("export");
    let refused = import(tree.zhejiang.archive(), zhejiang_tls, &for_national)
        .await
        .expect_err("wrong parent");
    assert_eq!(refused.code, "wrong_parent", "{refused}");
    let refused = import(
        tree.national.archive(),
        tree.national.tls().expect("tls"),
        &bundle,
    )
    .await
    .expect_err("wrong parent");
    assert_eq!(refused.code, "wrong_parent", "{refused}");
    nothing_written("wrong parent").await;

    // The real bundle: applied as a push, the child's cursor advanced.
    let report = import(tree.zhejiang.archive(), zhejiang_tls, &bundle)
        .await
        .expect("import");
    assert_eq!(report.applied, 5, "{report}");
    assert_eq!(report.quarantined, 0, "{report}");
    assert_eq!(report.acknowledged, summary.up_to, "{report}");
    let held_at_province = held(&tree.zhejiang).await;
    for id in &made {
        assert!(
            held_at_province
                .iter()
                .any(|(held, jurisdiction)| held == id && jurisdiction == "330106"),
            "{id} not at the province"
        );
    }

    // Twice: harmless.
    let again = import(tree.zhejiang.archive(), zhejiang_tls, &bundle)
        .await
        .expect("import again");
    assert_eq!(again.applied, 0, "{again}");
    assert_eq!(again.acknowledged, summary.up_to, "{again}");
    assert_eq!(held(&tree.zhejiang).await, held_at_province);

    // The next network session sends nothing new.
    let next = Tree::sync(&tree.xihu, &tree.zhejiang_url).await;
    assert_eq!(next.pushed, 0, "{next:?}");
    assert_eq!(next.push_duplicates, 0, "{next:?}");
    // And the next bundle starts where the province stands.
    create(&tree.xihu, "quality_archives", "330106", 200).await;
    let (_, summary) = export(tree.xihu.archive(), xihu_tls, &zhejiang)
        .await
        .expect("export");
    assert_eq!(summary.changes, 1, "{summary}");
    assert!(summary.after >= report.acknowledged, "{summary}");

    tree.shutdown().await;
}

#[test]
fn the_bundle_commands_export_import_and_refuse_a_tampered_file() {
    let dir = tempfile::tempdir().expect("dir");
    make_tree(dir.path());
    let run = |args: &[&str]| {
        support::binary()
            .args(args)
            .current_dir(dir.path())
            .output()
            .expect("run licnode")
    };
    let exported = run(&[
        "bundle",
        "export",
        "--config",
        "xihu/licnode.toml",
        "--parent",
        "330000",
        "--out",
        "xihu.bundle",
    ]);
    let stdout = String::from_utf8_lossy(&exported.stdout);
    assert!(exported.status.success(), "{stdout}");
    assert!(stdout.contains("changes"), "{stdout}");
    let imported = run(&[
        "bundle",
        "import",
        "--config",
        "zhejiang/licnode.toml",
        "xihu.bundle",
    ]);
    let stdout = String::from_utf8_lossy(&imported.stdout);
    assert!(imported.status.success(), "{stdout}");
    assert!(stdout.contains("bundle from 330106"), "{stdout}");

    let path = dir.path().join("xihu.bundle");
    let mut bytes = std::fs::read(&path).expect("read");
    bytes[licnode::bundle::MAGIC.len() + 10] ^= 0x01;
    std::fs::write(&path, bytes).expect("write");
    let refused = run(&[
        "bundle",
        "import",
        "--config",
        "zhejiang/licnode.toml",
        "xihu.bundle",
    ]);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success());
    assert!(stderr.contains("bad_signature"), "{stderr}");
}

#[tokio::test]
async fn a_revocation_at_national_wins_over_a_concurrent_status_edit_at_the_province() {
    for backend in licnode_testkit::BACKENDS {
        let tree = Tree::start(backend).await;
        let licence = create(&tree.zhejiang, "licences", "330106", 31).await;
        Tree::sync(&tree.zhejiang, &tree.national_url).await;
        let patch = |value: serde_json::Value| match value {
            serde_json::Value::Object(map) => map,
            _ => unreachable!("patches are objects"),
        };
        // Concurrently: national revokes (Art. 28, 撤销); the province marks it expired and
        // adds a remark, not knowing.
        tree.national
            .archive()
            .update(
                &licence,
                &patch(serde_json::json!({ "status": "revoked" })),
                &Author::approver("approver"),
            )
            .await
            .expect("national revokes");
        tree.zhejiang
            .archive()
            .update(
                &licence,
                &patch(serde_json::json!({ "status": "expired", "remarks": "有效期届满" })),
                &Author::clerk("clerk"),
            )
            .await
            .expect("province edits");
        let report = Tree::sync(&tree.zhejiang, &tree.national_url).await;
        assert_eq!(report.pushed, 1, "{backend}: {report:?}");
        let merged = tree
            .national
            .archive()
            .get(&licence)
            .await
            .expect("licence");
        assert_eq!(
            merged.data["status"],
            serde_json::json!("revoked"),
            "{backend}: the terminal state wins"
        );
        assert_eq!(
            merged.data["remarks"],
            serde_json::json!("有效期届满"),
            "{backend}: no field lost"
        );
        let conflicts = tree
            .national
            .archive()
            .conflicts(&licence)
            .await
            .expect("conflicts");
        assert_eq!(conflicts.len(), 1, "{backend}: {conflicts:?}");
        assert_eq!(conflicts[0].field, "status");
        assert_eq!(conflicts[0].shown, serde_json::json!("revoked"));
        tree.shutdown().await;
    }
}

#[tokio::test]
async fn a_county_offline_through_a_thousand_edits_catches_up_when_it_reconnects() {
    let tree = Tree::start(licnode_testkit::Backend::Sqlite).await;
    // Offline: no session runs while the county records 100 archives and edits them 900 times.
    let mut ids = Vec::new();
    for seed in 0..100 {
        ids.push(create(&tree.xihu, "quality_archives", "330106", 1_000 + seed).await);
    }
    let mut expected = std::collections::HashMap::new();
    for edit in 0..900usize {
        let id = &ids[edit % ids.len()];
        let remark = format!("第{edit}次巡查记录");
        let patch = match serde_json::json!({ "remarks": remark }) {
            serde_json::Value::Object(map) => map,
            _ => unreachable!("an object"),
        };
        tree.xihu
            .archive()
            .update(id, &patch, &Author::clerk("clerk"))
            .await
            .unwrap_or_else(|error| panic!("edit {edit}: {error}"));
        expected.insert(id.clone(), remark);
    }
    assert_eq!(tree.xihu.archive().last_seq().await.expect("seq"), 1_000);
    // Reconnect: one session with the province, one of the province with national.
    let county = Tree::sync(&tree.xihu, &tree.zhejiang_url).await;
    assert_eq!(county.pushed, 1_000, "{county:?}");
    let province = Tree::sync(&tree.zhejiang, &tree.national_url).await;
    assert_eq!(province.pushed, 1_000, "{province:?}");
    for node in [&tree.zhejiang, &tree.national] {
        for (id, remark) in &expected {
            let record = node.archive().get(id).await.expect("record");
            assert_eq!(record.data["remarks"], serde_json::json!(remark));
        }
    }
    let again = Tree::sync(&tree.xihu, &tree.zhejiang_url).await;
    assert_eq!((again.pushed, again.push_duplicates), (0, 0), "{again:?}");
    tree.shutdown().await;
}

#[tokio::test]
async fn an_application_edited_concurrently_at_a_county_and_its_province_merges_everywhere() {
    for backend in licnode_testkit::BACKENDS {
        let tree = Tree::start(backend).await;
        // Xihu accepts an application (Art. 34 entrusted acceptance) and reports it up.
        let application = create(&tree.xihu, "applications", "330106", 41).await;
        Tree::sync(&tree.xihu, &tree.zhejiang_url).await;
        let patch = |value: serde_json::Value| match value {
            serde_json::Value::Object(map) => map,
            _ => unreachable!("patches are objects"),
        };
        // Concurrently, neither side knowing: the county corrects the contact person, the
        // province the phone; both change the postcode.
        tree.xihu
            .archive()
            .update(
                &application,
                &patch(serde_json::json!({ "contact_person": "王县联", "postcode": "310012" })),
                &Author::clerk("clerk"),
            )
            .await
            .expect("county edits");
        tree.zhejiang
            .archive()
            .update(
                &application,
                &patch(
                    serde_json::json!({ "contact_phone": "0571-87654321", "postcode": "310013" }),
                ),
                &Author::clerk("clerk"),
            )
            .await
            .expect("province edits");
        tree.sync_all().await;
        let mut copies = Vec::new();
        for (name, node) in [
            ("xihu", &tree.xihu),
            ("zhejiang", &tree.zhejiang),
            ("national", &tree.national),
        ] {
            let record = node.archive().get(&application).await.expect("record");
            assert_eq!(
                record.data["contact_person"],
                serde_json::json!("王县联"),
                "{backend} {name}: the county's edit is kept"
            );
            assert_eq!(
                record.data["contact_phone"],
                serde_json::json!("0571-87654321"),
                "{backend} {name}: the province's edit is kept"
            );
            let conflicts = node
                .archive()
                .conflicts(&application)
                .await
                .expect("conflicts");
            assert_eq!(conflicts.len(), 1, "{backend} {name}: {conflicts:?}");
            assert_eq!(conflicts[0].field, "postcode");
            copies.push((name, record.data));
        }
        // One record, the same everywhere it is kept — and never at the sibling.
        for (name, data) in &copies[1..] {
            assert_eq!(data, &copies[0].1, "{backend}: {name} differs from xihu");
        }
        assert!(
            tree.binjiang.archive().get(&application).await.is_err(),
            "{backend}: the sibling never holds it"
        );
        // In step: another round moves nothing.
        for report in tree.sync_all().await {
            assert_eq!(
                (report.pushed, report.pulled),
                (0, 0),
                "{backend}: {report:?}"
            );
        }
        tree.shutdown().await;
    }
}

/// Issue 14 item 4: a parent's change comes down by itself within moments at every depth — the
/// children's long-polls bring it, not their interval (an hour here). A county's lag up counts
/// only what it must send up, never what it pulled (issue 14 item 5).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_registry_entry_at_national_reaches_the_counties_by_itself_long_before_their_interval() {
    let tree = Tree::start_with(licnode_testkit::Backend::Sqlite, true).await;
    for county in [&tree.xihu, &tree.binjiang, &tree.zhejiang] {
        eventually("the first session, which opens the long-poll", || async {
            county
                .link()
                .is_some_and(|link| link.snapshot().last_success_ms.is_some())
        })
        .await;
    }
    let started = std::time::Instant::now();
    let reviewer = create(&tree.national, "reviewers", "100000", 4).await;
    for county in [&tree.xihu, &tree.binjiang] {
        eventually("the reviewer reaches the county two levels down", || {
            holds(county, &reviewer)
        })
        .await;
    }
    let elapsed = started.elapsed();
    println!("national → province → counties in {elapsed:?} (interval: 1 h)");
    assert!(
        elapsed < std::time::Duration::from_secs(30),
        "came down with the interval, not the long-poll: {elapsed:?}"
    );
    eventually("the county's session records the pulled change", || async {
        tree.xihu.link().expect("loop").snapshot().pulled_total >= 1
    })
    .await;
    assert_eq!(
        tree.xihu.archive().lag_up().await.expect("lag"),
        Some(0),
        "pulled changes are not owed upwards"
    );
    tree.shutdown().await;
}
