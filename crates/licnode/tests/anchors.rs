//! Audit anchors between real nodes over mutual TLS, and `licnode audit verify` as an operator
//! runs it (issue 11 item 5; ARCHITECTURE.md, principle 10: the parent is the node's witness). A county
//! (330106) anchors its chain at its province (330000), which relays the anchor to national
//! (100000). Tampering that keeps the chain consistent — editing an entry and recomputing every
//! later hash, deleting the last entries and rewriting `audit_head` — is done in SQL on the
//! county's database file, as an insider would, and must be reported with a non-zero exit.

mod support;

use std::path::{Path, PathBuf};
use std::process::Output;

use licnode::sync_cli::session;
use licnode::{Config, Node, NodeHandle};
use licnode_pki::{ClientError, ExpectedPeer, PeerClient};
use licnode_server::anchors::{ANCHOR_PATH, RELAY_PATH, RelayRequest, RelayResponse};
use licnode_server::retention::PkiNodeKey;
use licnode_store::AuditKind;
use licnode_store::anchors::SignedAnchor;
use licnode_store::audit::entry_hash;
use licnode_store::retention::NodeKey;
use licnode_store::{AuditEntry, Role, Store, TokenKind};
use support::{NATIONAL, XIHU, ZHEJIANG, binary};

/// The placeholder parent URL `issue_tree` writes.
const PLACEHOLDER_PARENT: &str = "https://127.0.0.1:1";

fn node_config(dir: &Path, name: &str, parent_url: Option<String>) -> Config {
    let mut config = Config::load(&dir.join(name).join("licnode.toml")).expect("config");
    config.node.parent_url = parent_url;
    config.sync.enabled = false;
    config
}

/// `licnode audit verify --config xihu/licnode.toml` plus `extra`, run as an operator does.
async fn audit_verify(dir: &Path, extra: &[&str]) -> Output {
    let mut args: Vec<String> = vec![
        "audit".into(),
        "verify".into(),
        "--config".into(),
        dir.join("xihu/licnode.toml").display().to_string(),
    ];
    args.extend(extra.iter().map(|arg| arg.to_string()));
    tokio::task::spawn_blocking(move || binary().args(args).output().expect("run licnode"))
        .await
        .expect("join")
}

fn said(output: &Output) -> String {
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// The county's SQLite files (database, WAL, shared memory).
fn database_files(dir: &Path) -> Vec<PathBuf> {
    ["licnode.db", "licnode.db-wal", "licnode.db-shm"]
        .iter()
        .map(|name| dir.join("xihu/data").join(name))
        .collect()
}

fn keep_copy(dir: &Path, copy: &Path) {
    std::fs::create_dir_all(copy).expect("copy dir");
    for file in database_files(dir) {
        if file.exists() {
            std::fs::copy(&file, copy.join(file.file_name().expect("name"))).expect("copy");
        }
    }
}

fn put_back(dir: &Path, copy: &Path) {
    for file in database_files(dir) {
        let saved = copy.join(file.file_name().expect("name"));
        if file.exists() {
            std::fs::remove_file(&file).expect("remove");
        }
        if saved.exists() {
            std::fs::copy(&saved, &file).expect("put back");
        }
    }
}

/// A direct connection to the county's database file, as an insider has.
async fn raw(dir: &Path) -> sqlx::SqlitePool {
    let url = format!(
        "sqlite://{}?mode=rw",
        dir.join("xihu/data/licnode.db").display()
    );
    sqlx::SqlitePool::connect(&url).await.expect("connect")
}

async fn head(pool: &sqlx::SqlitePool) -> (i64, String) {
    sqlx::query_as("SELECT seq, hash FROM audit_head WHERE id = 1")
        .fetch_one(pool)
        .await
        .expect("head")
}

async fn hash_at(pool: &sqlx::SqlitePool, seq: i64) -> String {
    sqlx::query_scalar("SELECT hash FROM audit_log WHERE seq = ?")
        .bind(seq)
        .fetch_one(pool)
        .await
        .expect("hash")
}

async fn set_head(pool: &sqlx::SqlitePool, seq: i64, hash: &str) {
    sqlx::query("UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1")
        .bind(seq)
        .bind(hash)
        .execute(pool)
        .await
        .expect("head");
}

/// An audit entry's hashed columns, as stored.
type EntryRow = (
    i64,
    i64,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    String,
);

/// Edits who acted in entry `seq`, then recomputes every later hash and the head: the chain is
/// consistent again.
async fn edit_and_rechain(pool: &sqlx::SqlitePool, seq: i64) {
    sqlx::query("UPDATE audit_log SET user_name = 'somebody else' WHERE seq = ?")
        .bind(seq)
        .execute(pool)
        .await
        .expect("edit");
    let rows: Vec<EntryRow> = sqlx::query_as(
        "SELECT seq, at_ms, kind, node, user_name, record_id, change_hash, detail \
             FROM audit_log WHERE seq >= ? ORDER BY seq",
    )
    .bind(seq)
    .fetch_all(pool)
    .await
    .expect("entries");
    let mut previous = hash_at(pool, seq - 1).await;
    let mut last = (seq - 1, previous.clone());
    for (seq, at_ms, kind, node, user, record_id, change_hash, detail) in rows {
        let hash = entry_hash(
            &previous,
            seq,
            at_ms,
            &kind,
            &node,
            &user,
            record_id.as_deref(),
            change_hash.as_deref(),
            &detail,
        );
        sqlx::query("UPDATE audit_log SET prev_hash = ?, hash = ? WHERE seq = ?")
            .bind(&previous)
            .bind(&hash)
            .bind(seq)
            .execute(pool)
            .await
            .expect("rechain");
        previous = hash.clone();
        last = (seq, hash);
    }
    set_head(pool, last.0, &last.1).await;
}

/// Deletes the last `count` entries, rewrites the head to the one before them, and deletes
/// the anchors the county keeps of itself, covering every local trace.
async fn delete_last_and_cover(pool: &sqlx::SqlitePool, count: i64) -> i64 {
    let (head_seq, _) = head(pool).await;
    let keep = head_seq - count;
    sqlx::query("DELETE FROM audit_log WHERE seq > ?")
        .bind(keep)
        .execute(pool)
        .await
        .expect("delete");
    let hash = hash_at(pool, keep).await;
    set_head(pool, keep, &hash).await;
    sqlx::query("DELETE FROM audit_anchors")
        .execute(pool)
        .await
        .expect("delete anchors");
    keep
}

async fn create_archive(node: &NodeHandle, seed: u64) {
    let model = licnode_model::collection("quality_archives").expect("collection");
    node.archive()
        .create(
            "quality_archives",
            Some("330106"),
            &licnode_gen::Generator::new(seed).record(model, "330106"),
            &licnode_app::Author::clerk("clerk"),
        )
        .await
        .expect("create");
}

async fn kinds_in_log(store: &Store) -> Vec<AuditKind> {
    store
        .audit_entries(0, 10_000)
        .await
        .expect("entries")
        .into_iter()
        .map(|entry| entry.kind)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chain_rewritten_after_it_was_anchored_is_reported_against_the_parent_and_flagged_by_it()
{
    let dir = tempfile::tempdir().expect("dir");
    let root = dir.path().to_owned();
    tokio::task::spawn_blocking(move || support::issue_tree(&root, &[NATIONAL, ZHEJIANG, XIHU]))
        .await
        .expect("tree");
    let dir = dir.path();
    let national = Node::start(&node_config(dir, "national", None))
        .await
        .expect("national");
    let national_url = format!("https://{}", national.peer_addr().expect("peer"));
    let zhejiang = Node::start(&node_config(dir, "zhejiang", Some(national_url.clone())))
        .await
        .expect("zhejiang");
    let zhejiang_url = format!("https://{}", zhejiang.peer_addr().expect("peer"));
    // The county's configuration names its parent, as an operator's does.
    let xihu_file = dir.join("xihu/licnode.toml");
    let text = std::fs::read_to_string(&xihu_file).expect("read config");
    assert!(text.contains(PLACEHOLDER_PARENT));
    std::fs::write(&xihu_file, text.replace(PLACEHOLDER_PARENT, &zhejiang_url))
        .expect("write config");
    let xihu_config = node_config(dir, "xihu", Some(zhejiang_url.clone()));
    let xihu = Node::start(&xihu_config).await.expect("xihu");

    for seed in 0..3 {
        create_archive(&xihu, seed).await;
    }
    let backups = dir.join("backups");
    std::fs::create_dir_all(&backups).expect("backups");
    let backup_file = backups.join("xihu.db").display().to_string();
    let config_arg = xihu_file.display().to_string();
    tokio::task::spawn_blocking(move || {
        support::run(binary().args(["backup", "--config", &config_arg, &backup_file]))
    })
    .await
    .expect("backup");
    for user in ["a", "b", "c"] {
        xihu.archive()
            .audit(AuditEntry::new(
                AuditKind::Login,
                "330106",
                user,
                licnode_store::now_ms(),
            ))
            .await
            .expect("login");
    }
    let (anchored_seq, anchored_hash) = xihu.archive().audit_head().await.expect("head");

    // A session hands the signed head up; the province relays it to national.
    session(xihu.archive(), xihu.tls().expect("tls"), &zhejiang_url)
        .await
        .expect("county session");
    session(
        zhejiang.archive(),
        zhejiang.tls().expect("tls"),
        &national_url,
    )
    .await
    .expect("province session");
    let at_province = zhejiang
        .archive()
        .store_for_tests()
        .newest_anchor("330106")
        .await
        .expect("anchor")
        .expect("the province holds the county's anchor");
    assert_eq!(
        (at_province.audit_seq, at_province.audit_hash.as_str()),
        (anchored_seq, anchored_hash.as_str())
    );
    assert!(at_province.extends);
    for code in ["330106", "330000"] {
        assert!(
            national
                .archive()
                .store_for_tests()
                .newest_anchor(code)
                .await
                .expect("anchor")
                .is_some(),
            "national holds {code}'s anchor"
        );
    }
    // A second session with nothing new signs nothing new.
    session(xihu.archive(), xihu.tls().expect("tls"), &zhejiang_url)
        .await
        .expect("county session");
    let county_anchors = zhejiang
        .archive()
        .store_for_tests()
        .anchors_after(0, "330000", 100)
        .await
        .expect("held");
    assert_eq!(county_anchors.len(), 1, "{county_anchors:?}");

    let backups_arg = backups.display().to_string();
    let untouched = audit_verify(dir, &["--backups", &backups_arg]).await;
    assert!(untouched.status.success(), "{}", said(&untouched));
    let text = said(&untouched);
    assert!(text.contains("the parent 330000's newest anchor"), "{text}");
    assert!(text.contains("xihu.db.manifest.json"), "{text}");

    xihu.shutdown().await.expect("shutdown");
    let pristine = dir.join("pristine");
    keep_copy(dir, &pristine);

    // (b) Entry 2 edited, every later hash and the head recomputed: the chain verifies by
    // itself, but not at the parent's anchor, the county's own last anchor or the backup's head.
    let pool = raw(dir).await;
    edit_and_rechain(&pool, 2).await;
    pool.close().await;
    let edited = audit_verify(dir, &["--backups", &backups_arg]).await;
    assert!(!edited.status.success(), "{}", said(&edited));
    let text = said(&edited);
    assert!(
        !text.contains("chain_broken"),
        "the rewrite is consistent: {text}"
    );
    assert!(
        text.contains(&format!("anchor_mismatch      {anchored_seq}")),
        "{text}"
    );
    assert!(text.contains("backup_mismatch"), "{text}");
    let offline = audit_verify(dir, &["--offline"]).await;
    assert!(!offline.status.success(), "{}", said(&offline));
    assert!(said(&offline).contains("the last anchor this node signed"));
    put_back(dir, &pristine);

    // (a, c) The last 3 entries (anchored) deleted, the head rewritten and the county's own
    // anchors deleted: nothing local is left to tell, and `--offline` says what it skipped…
    let pool = raw(dir).await;
    let kept = delete_last_and_cover(&pool, 3).await;
    pool.close().await;
    assert_eq!(kept, anchored_seq - 3);
    let offline = audit_verify(dir, &["--offline"]).await;
    assert!(
        said(&offline).contains("not checked: parent: --offline"),
        "{}",
        said(&offline)
    );
    // …but the parent's anchor does.
    let deleted = audit_verify(dir, &[]).await;
    assert!(!deleted.status.success(), "{}", said(&deleted));
    let text = said(&deleted);
    assert!(text.contains("anchor_mismatch"), "{text}");
    assert!(
        text.contains(&format!("第 {anchored_seq} 条已不存在")),
        "{text}"
    );

    // (e) The county writes on and syncs: the province finds that its chain no longer extends
    // the anchor it holds, keeps the new anchor as evidence, records it in its own audit log and
    // answers so; the session reports that code (its changes still move, so a restored node
    // recovers); national flags it too once relayed.
    let xihu = Node::start(&xihu_config).await.expect("xihu again");
    create_archive(&xihu, 99).await;
    let flagged = session(xihu.archive(), xihu.tls().expect("tls"), &zhejiang_url)
        .await
        .expect("the session's changes move");
    let finding = flagged
        .audit_chain_broken
        .clone()
        .expect("the parent flags the rewritten chain");
    assert!(
        flagged.to_string().contains("audit_chain_not_extended"),
        "{flagged}"
    );
    assert!(finding.contains("rewritten"), "{finding}");
    let broken = zhejiang
        .archive()
        .store_for_tests()
        .broken_anchors("330106")
        .await
        .expect("broken");
    assert_eq!(broken.len(), 1);
    assert_eq!(broken[0].previous_seq, anchored_seq);
    assert!(
        kinds_in_log(zhejiang.archive().store_for_tests())
            .await
            .contains(&AuditKind::AuditChainBroken)
    );
    assert!(
        kinds_in_log(xihu.archive().store_for_tests())
            .await
            .contains(&AuditKind::AuditChainBroken),
        "the county's own log says what its parent found"
    );
    let flagged = audit_verify(dir, &[]).await;
    assert!(!flagged.status.success(), "{}", said(&flagged));
    assert!(
        said(&flagged).contains("anchor_not_extended"),
        "{}",
        said(&flagged)
    );
    session(
        zhejiang.archive(),
        zhejiang.tls().expect("tls"),
        &national_url,
    )
    .await
    .expect("province session");
    assert_eq!(
        national
            .archive()
            .store_for_tests()
            .broken_anchors("330106")
            .await
            .expect("broken")
            .len(),
        1,
        "national judges the relayed anchor the same way"
    );
    // Once relayed, the province keeps of the county only the newest anchor (here the one
    // that broke the chain); national, with no parent, the same.
    for (witness, own) in [(&zhejiang, "330000"), (&national, "100000")] {
        let county: Vec<_> = witness
            .archive()
            .store_for_tests()
            .anchors_after(0, own, 100)
            .await
            .expect("held")
            .into_iter()
            .filter(|anchor| anchor.node == "330106")
            .collect();
        assert_eq!(county.len(), 1, "{own}: {county:?}");
        assert!(!county[0].extends);
    }

    // (d) The staff API reports the change-log cross-check and the last anchor known locally:
    // the last two entries (a write among them) deleted and the head rewritten.
    let store = xihu.archive().store_for_tests();
    store
        .add_user("auditor", "auditor", Role::Auditor, support::PASSWORD)
        .await
        .expect("auditor");
    let token = store
        .issue_token("auditor", TokenKind::Api, "test", None)
        .await
        .expect("token")
        .token;
    let pool = raw(dir).await;
    let (head_seq, _) = head(&pool).await;
    sqlx::query("DELETE FROM audit_log WHERE seq > ?")
        .bind(head_seq - 2)
        .execute(&pool)
        .await
        .expect("delete");
    let kept_hash = hash_at(&pool, head_seq - 2).await;
    set_head(&pool, head_seq - 2, &kept_hash).await;
    pool.close().await;
    let verified: serde_json::Value = support::client_with(&token)
        .get(format!("http://{}/api/v1/audit/verify", xihu.local_addr()))
        .send()
        .await
        .expect("verify")
        .json()
        .await
        .expect("json");
    assert_eq!(verified["intact"], false, "{verified}");
    assert_eq!(
        verified["report"]["findings"],
        serde_json::json!([]),
        "{verified}"
    );
    assert_eq!(verified["change_log"]["without_entry"], 1, "{verified}");
    let problems: Vec<&str> = verified["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter_map(|finding| finding["problem"].as_str())
        .collect();
    assert_eq!(
        problems,
        ["change_without_entry", "anchor_mismatch"],
        "{verified}"
    );

    for node in [xihu, zhejiang, national] {
        node.shutdown().await.expect("shutdown");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_parent_keeps_only_anchors_its_child_signed_or_relays_from_below_it() {
    let dir = tempfile::tempdir().expect("dir");
    let root = dir.path().to_owned();
    tokio::task::spawn_blocking(move || support::issue_tree(&root, &[NATIONAL, ZHEJIANG, XIHU]))
        .await
        .expect("tree");
    let dir = dir.path();
    let national = Node::start(&node_config(dir, "national", None))
        .await
        .expect("national");
    let national_url = format!("https://{}", national.peer_addr().expect("peer"));
    let zhejiang = Node::start(&node_config(dir, "zhejiang", Some(national_url.clone())))
        .await
        .expect("zhejiang");
    let zhejiang_url = format!("https://{}", zhejiang.peer_addr().expect("peer"));
    let xihu = Node::start(&node_config(dir, "xihu", Some(zhejiang_url.clone())))
        .await
        .expect("xihu");
    create_archive(&xihu, 1).await;
    let tls = xihu.tls().expect("tls");
    let key = PkiNodeKey(tls.clone());
    let (_, signed) = xihu
        .archive()
        .store_for_tests()
        .sign_anchor("330106", &key, 0, licnode_store::now_ms())
        .await
        .expect("sign");
    let client = PeerClient::for_node(tls, ExpectedPeer::Code("330000".into())).expect("client");
    let refused_code = |result: Result<serde_json::Value, ClientError>| match result {
        Err(ClientError::Refused { code, .. }) => code,
        other => panic!("expected a refusal, got {other:?}"),
    };

    // A payload changed after signing.
    let mut forged = signed.clone();
    forged.payload = forged.payload.replace("\"audit_seq\":", "\"audit_seq\":1");
    let answer = client
        .post_json(&format!("{zhejiang_url}{ANCHOR_PATH}"), &forged)
        .await;
    assert_eq!(refused_code(answer), "anchor_signature_invalid");

    // An anchor naming another node than its signer.
    let payload = licnode_store::anchors::AnchorPayload {
        node: "330108".into(),
        audit_seq: 1,
        audit_hash: "00".into(),
        previous_seq: 0,
        previous_hash: licnode_store::audit::GENESIS_HASH.into(),
        signed_at_ms: 0,
    };
    let text = serde_json::to_string(&payload).expect("json");
    let signature = key
        .sign(&licnode_store::anchors::signed_message(&text))
        .expect("sign");
    let impostor = SignedAnchor {
        payload: text,
        scheme: signature.scheme,
        signature: hex::encode(&signature.signature),
        chain: signature.chain.iter().map(hex::encode).collect(),
    };
    let answer = client
        .post_json(&format!("{zhejiang_url}{ANCHOR_PATH}"), &impostor)
        .await;
    assert_eq!(refused_code(answer), "anchor_signer_mismatch");

    // A county relays nothing: its own anchor is not below it.
    let relayed: RelayResponse = client
        .post_json(
            &format!("{zhejiang_url}{RELAY_PATH}"),
            &RelayRequest {
                anchors: vec![signed.clone()],
            },
        )
        .await
        .expect("relay");
    assert_eq!(relayed.stored, 0);
    assert_eq!(relayed.refused.len(), 1);
    assert_eq!(relayed.refused[0].code, "anchor_not_below_sender");

    // Nothing of the above was kept; the genuine anchor is, once.
    assert!(
        zhejiang
            .archive()
            .store_for_tests()
            .newest_anchor("330106")
            .await
            .expect("anchor")
            .is_none()
    );
    for _ in 0..2 {
        let _: serde_json::Value = client
            .post_json(&format!("{zhejiang_url}{ANCHOR_PATH}"), &signed)
            .await
            .expect("hand up");
    }
    let held = zhejiang
        .archive()
        .store_for_tests()
        .anchors_after(0, "330000", 100)
        .await
        .expect("held");
    assert_eq!(held.len(), 1);

    for node in [xihu, zhejiang, national] {
        node.shutdown().await.expect("shutdown");
    }
}
