//! Tampering that keeps the audit chain consistent (issue 11 item 5): deleting the last entries
//! and rewriting `audit_head`, or editing an entry and recomputing every later hash, passes the
//! chain check by construction; the change-log cross-check, a point recorded elsewhere (an
//! anchor, a backup manifest) and the parent's judgement of a new anchor find it. Tampering is
//! done in SQL directly, as an insider with access to the database would. Every test runs
//! against SQLite and PostgreSQL.

mod support;
use licnode_app::Archive;
use licnode_store::AuditKind;
use licnode_store::anchors::{AnchorPayload, SignedAnchor};
use licnode_store::audit::entry_hash;
use licnode_store::{AuditEntry, Store};
use licnode_testkit::BACKENDS;
use support::open;

/// A direct connection to the store's database, as an insider with SQL access has.
enum Raw {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
}

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

impl Raw {
    async fn connect(url: &str) -> Raw {
        if url.starts_with("sqlite:") {
            Raw::Sqlite(sqlx::SqlitePool::connect(url).await.expect("connect"))
        } else {
            Raw::Postgres(sqlx::PgPool::connect(url).await.expect("connect"))
        }
    }

    fn numbered(&self, sql: &str) -> String {
        match self {
            Raw::Sqlite(_) => sql.to_owned(),
            Raw::Postgres(_) => {
                let mut out = String::new();
                let mut n = 0;
                for character in sql.chars() {
                    if character == '?' {
                        n += 1;
                        out.push_str(&format!("${n}"));
                    } else {
                        out.push(character);
                    }
                }
                out
            }
        }
    }

    async fn run(&self, sql: &str, binds: &[Bind]) {
        let sql = self.numbered(sql);
        macro_rules! bound {
            ($pool:expr) => {{
                let mut query = sqlx::query(sqlx::AssertSqlSafe(sql.clone()));
                for bind in binds {
                    query = match bind {
                        Bind::Int(value) => query.bind(*value),
                        Bind::Text(value) => query.bind(value.clone()),
                    };
                }
                query.execute($pool).await.expect("tamper");
            }};
        }
        match self {
            Raw::Sqlite(pool) => bound!(pool),
            Raw::Postgres(pool) => bound!(pool),
        }
    }

    async fn entries_from(&self, from_seq: i64) -> Vec<EntryRow> {
        let sql = self.numbered(
            "SELECT seq, at_ms, kind, node, user_name, record_id, change_hash, detail \
             FROM audit_log WHERE seq >= ? ORDER BY seq",
        );
        match self {
            Raw::Sqlite(pool) => sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(from_seq)
                .fetch_all(pool)
                .await
                .expect("read"),
            Raw::Postgres(pool) => sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(from_seq)
                .fetch_all(pool)
                .await
                .expect("read"),
        }
    }

    /// Recomputes the hash of every entry from `from_seq` on, and the head, so that the chain
    /// verifies again after an edit.
    async fn rechain_from(&self, store: &Store, from_seq: i64) {
        let mut previous = store
            .audit_hash_at(from_seq - 1)
            .await
            .expect("hash")
            .expect("previous entry");
        let mut last = (from_seq - 1, previous.clone());
        for (seq, at_ms, kind, node, user, record_id, change_hash, detail) in
            self.entries_from(from_seq).await
        {
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
            self.run(
                "UPDATE audit_log SET prev_hash = ?, hash = ? WHERE seq = ?",
                &[
                    Bind::Text(previous.clone()),
                    Bind::Text(hash.clone()),
                    Bind::Int(seq),
                ],
            )
            .await;
            previous = hash.clone();
            last = (seq, hash);
        }
        self.set_head(last.0, &last.1).await;
    }

    async fn set_head(&self, seq: i64, hash: &str) {
        self.run(
            "UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1",
            &[Bind::Int(seq), Bind::Text(hash.to_owned())],
        )
        .await;
    }

    /// Deletes the last `count` entries and rewrites the head to the entry before them.
    async fn delete_last(&self, store: &Store, count: i64) -> i64 {
        let (head_seq, _) = store.audit_head().await.expect("head");
        let keep = head_seq - count;
        self.run("DELETE FROM audit_log WHERE seq > ?", &[Bind::Int(keep)])
            .await;
        let hash = store
            .audit_hash_at(keep)
            .await
            .expect("hash")
            .expect("kept");
        self.set_head(keep, &hash).await;
        keep
    }

    async fn close(self) {
        match self {
            Raw::Sqlite(pool) => pool.close().await,
            Raw::Postgres(pool) => pool.close().await,
        }
    }
}

enum Bind {
    Int(i64),
    Text(String),
}

/// Five quality archives written at 330106, then `logins` login entries.
async fn fill(store: &Store, logins: usize) {
    let archive = Archive::new(store.clone(), "330106");
    let model = licnode_model::collection("quality_archives").expect("collection");
    for seed in 0..5 {
        archive
            .create(
                "quality_archives",
                None,
                &licnode_gen::Generator::new(seed).record(model, "330106"),
                &licnode_app::Author::clerk("clerk"),
            )
            .await
            .expect("create");
    }
    for i in 0..logins {
        store
            .audit(AuditEntry::new(
                AuditKind::Login,
                "330106",
                &format!("user{i}"),
                1_700_000_000_000 + i as i64,
            ))
            .await
            .expect("login");
    }
}

#[tokio::test]
async fn deleting_the_last_three_write_entries_and_rewriting_the_head_is_found_by_the_change_log() {
    for backend in BACKENDS {
        let dir = licnode_testkit::temp_dir().expect("dir");
        let (store, url, _database) = open(backend, dir.path()).await;
        fill(&store, 0).await;
        let check = store.audit_check("330106").await.expect("check");
        assert!(check.is_clean(), "{backend:?}: {:?}", check.findings());
        assert_eq!(check.change_log.changes, 5, "{backend:?}");

        let raw = Raw::connect(&url).await;
        raw.delete_last(&store, 3).await;
        let check = store.audit_check("330106").await.expect("check");
        // The chain alone cannot tell: it is consistent.
        assert!(check.chain.is_clean(), "{backend:?}");
        // Issue 11 item 5: every stored change has its entry.
        assert!(!check.is_clean(), "{backend:?}");
        assert_eq!(check.change_log.without_entry, 3, "{backend:?}");
        let listed: Vec<i64> = check.change_log.listed.iter().map(|row| row.0).collect();
        assert_eq!(listed, vec![3, 4, 5], "{backend:?}");
        assert!(
            check
                .findings()
                .iter()
                .all(|finding| finding.problem == "change_without_entry"),
            "{backend:?}"
        );
        raw.close().await;
        store.close().await;
    }
}

#[tokio::test]
async fn an_edited_entry_with_every_later_hash_recomputed_is_found_at_a_point_recorded_elsewhere() {
    for backend in BACKENDS {
        let dir = licnode_testkit::temp_dir().expect("dir");
        let (store, url, _database) = open(backend, dir.path()).await;
        fill(&store, 4).await;
        let (head_seq, head_hash) = store.audit_head().await.expect("head");
        assert_eq!(head_seq, 9, "{backend:?}");
        let untouched = store
            .audit_check_point("an anchor", head_seq, &head_hash, "anchor_mismatch")
            .await
            .expect("point");
        assert!(untouched.finding.is_none(), "{backend:?}");

        // Who wrote entry 2 is changed, every later hash and the head recomputed.
        let raw = Raw::connect(&url).await;
        raw.run(
            "UPDATE audit_log SET user_name = ? WHERE seq = ?",
            &[Bind::Text("somebody else".into()), Bind::Int(2)],
        )
        .await;
        raw.rechain_from(&store, 2).await;
        let check = store.audit_check("330106").await.expect("check");
        assert!(
            check.chain.is_clean(),
            "{backend:?}: the rewrite is consistent"
        );
        assert_eq!(check.change_log.without_entry, 0, "{backend:?}");
        let point = store
            .audit_check_point("an anchor", head_seq, &head_hash, "anchor_mismatch")
            .await
            .expect("point");
        let finding = point.finding.expect("the rewrite is found at the anchor");
        assert_eq!(
            (finding.seq, finding.problem),
            (9, "anchor_mismatch"),
            "{backend:?}"
        );

        // Deleting the last three and rewriting the head is found at the same point.
        raw.delete_last(&store, 3).await;
        let point = store
            .audit_check_point("an anchor", head_seq, &head_hash, "anchor_mismatch")
            .await
            .expect("point");
        let finding = point.finding.expect("the deletion is found at the anchor");
        assert!(finding.message.contains("已不存在"), "{}", finding.message);
        raw.close().await;
        store.close().await;
    }
}

fn anchor(
    node: &str,
    seq: i64,
    hash: &str,
    previous: (i64, &str),
    n: u8,
) -> (AnchorPayload, SignedAnchor) {
    let payload = AnchorPayload {
        node: node.to_owned(),
        audit_seq: seq,
        audit_hash: hash.to_owned(),
        previous_seq: previous.0,
        previous_hash: previous.1.to_owned(),
        signed_at_ms: 1_700_000_000_000 + i64::from(n),
    };
    let signed = SignedAnchor {
        payload: serde_json::to_string(&payload).expect("json"),
        scheme: 0x0807,
        signature: format!("{n:02x}"),
        chain: vec!["00".into()],
    };
    (payload, signed)
}

/// The one read a quiet session makes about anchoring: is the newest own anchor an accepted
/// one of the audit head as it stands?
#[tokio::test]
async fn the_own_head_counts_as_anchored_only_while_the_newest_accepted_anchor_names_it() {
    for backend in BACKENDS {
        let dir = licnode_testkit::temp_dir().expect("dir");
        let (store, _url, _database) = open(backend, dir.path()).await;
        fill(&store, 2).await;
        assert!(!store.newest_anchor_is_head("330106").await.expect("read"));
        let genesis = licnode_store::audit::GENESIS_HASH;
        let (seq, hash) = store.audit_head().await.expect("head");
        let own = |verdict: bool, previous: (i64, String), n: u8| {
            let store = store.clone();
            async move {
                let (seq, hash) = store.audit_head().await.expect("head");
                let (payload, signed) = anchor("330106", seq, &hash, (previous.0, &previous.1), n);
                store
                    .record_anchor(&payload, &signed, "330106", "330106", Some(verdict), 5)
                    .await
                    .expect("record");
            }
        };
        own(true, (0, genesis.to_owned()), 1).await;
        assert!(
            store.newest_anchor_is_head("330106").await.expect("read"),
            "{backend:?}"
        );
        // Another node's anchor is not this node's.
        assert!(!store.newest_anchor_is_head("330108").await.expect("read"));
        // Something audited since: the head moved past the anchor.
        fill(&store, 1).await;
        assert!(
            !store.newest_anchor_is_head("330106").await.expect("read"),
            "{backend:?}"
        );
        // The new head anchored but refused by the parent (evidence): not anchored.
        own(false, (seq, hash.clone()), 2).await;
        assert!(
            !store.newest_anchor_is_head("330106").await.expect("read"),
            "{backend:?}"
        );
        own(true, (seq, hash), 3).await;
        assert!(
            store.newest_anchor_is_head("330106").await.expect("read"),
            "{backend:?}"
        );
        store.close().await;
    }
}

#[tokio::test]
async fn a_witness_keeps_an_anchor_that_no_longer_extends_the_last_one_and_flags_it() {
    for backend in BACKENDS {
        let dir = licnode_testkit::temp_dir().expect("dir");
        let (store, _url, _database) = open(backend, dir.path()).await;
        let genesis = licnode_store::audit::GENESIS_HASH;
        let record = |(payload, signed): (AnchorPayload, SignedAnchor)| {
            let store = store.clone();
            async move {
                store
                    .record_anchor(&payload, &signed, "330106", "330100", None, 5)
                    .await
                    .expect("record")
            }
        };
        let first = record(anchor("330106", 10, "h10", (0, genesis), 1)).await;
        assert!(first.extends && !first.duplicate, "{backend:?}");
        let second = record(anchor("330106", 20, "h20", (10, "h10"), 2)).await;
        assert!(second.extends, "{backend:?}");
        // The same anchor again changes nothing.
        let again = record(anchor("330106", 20, "h20", (10, "h10"), 2)).await;
        assert!(again.duplicate, "{backend:?}");
        // The child's chain no longer has h20 at entry 20: rewritten after it was anchored.
        let rewritten = record(anchor("330106", 25, "x25", (20, "x20"), 3)).await;
        assert!(!rewritten.extends, "{backend:?}");
        assert_eq!(rewritten.previous_held, Some((20, "h20".into())));
        // A chain that went back (deleted entries) does not extend either.
        let shorter = record(anchor("330106", 17, "y17", (25, "x25"), 4)).await;
        assert!(!shorter.extends, "{backend:?}");

        let newest = store.newest_anchor("330106").await.expect("newest");
        assert_eq!(newest.map(|anchor| anchor.audit_seq), Some(17));
        let broken = store.broken_anchors("330106").await.expect("broken");
        assert_eq!(
            broken
                .iter()
                .map(|anchor| anchor.audit_seq)
                .collect::<Vec<_>>(),
            vec![25, 17],
            "{backend:?}"
        );
        let by_node = store.anchors_by_node().await.expect("by node");
        assert_eq!(by_node.len(), 1);
        assert_eq!(by_node[0].1, 2, "{backend:?}");
        // The witness's own audit log says so, once per break.
        let entries = store.audit_entries(0, 100).await.expect("entries");
        let flagged: Vec<_> = entries
            .iter()
            .filter(|entry| entry.kind == AuditKind::AuditChainBroken)
            .collect();
        assert_eq!(flagged.len(), 2, "{backend:?}");
        assert_eq!(flagged[0].node, "330106");
        assert_eq!(flagged[0].detail["held_seq"], 20);
        assert!(store.audit_verify().await.expect("verify").is_clean());
        // Relaying: what arrived after a key, other nodes only.
        assert_eq!(
            store
                .anchors_after(0, "330106", 100)
                .await
                .expect("after")
                .len(),
            0
        );
        assert_eq!(
            store
                .anchors_after(1, "330100", 100)
                .await
                .expect("after")
                .len(),
            3,
            "{backend:?}"
        );
        // Pruning keeps the newest of each node and every anchor that did not extend; an
        // anchor not yet relayed to the parent (past `relayed_up_to`) stays.
        let pruned = store.prune_anchors(None, Some(1)).await.expect("prune");
        assert_eq!(pruned, 1, "{backend:?}");
        let pruned = store.prune_anchors(None, None).await.expect("prune");
        assert_eq!(pruned, 1, "{backend:?}");
        let left = store.anchors_after(0, "330100", 100).await.expect("left");
        assert_eq!(
            left.iter()
                .map(|anchor| anchor.audit_seq)
                .collect::<Vec<_>>(),
            vec![25, 17],
            "{backend:?}"
        );
        assert_eq!(store.prune_anchors(None, None).await.expect("prune"), 0);
        store.close().await;
    }
}
