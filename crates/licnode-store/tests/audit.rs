//! The audit log (Art. 37, 38; ARCHITECTURE.md, principle 9): every stored change leaves an entry, the
//! chain of an untouched log verifies, and every one of hundreds of random flips, deletions and
//! re-orderings made directly in SQL is reported with its entry's number. Every test runs
//! against SQLite and PostgreSQL.

mod support;
use licnode_app::Archive;
use licnode_app::Author;
use licnode_store::AuditKind;
use licnode_store::{AuditEntry, AuditReport, Store};
use licnode_testkit::{BACKENDS, Backend};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::json;
use support::open;

/// A direct connection to the store's database, for tampering as an intruder with SQL access
/// would.
enum Raw {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
}

impl Raw {
    async fn connect(url: &str) -> Raw {
        if url.starts_with("sqlite:") {
            Raw::Sqlite(sqlx::SqlitePool::connect(url).await.expect("connect"))
        } else {
            Raw::Postgres(sqlx::PgPool::connect(url).await.expect("connect"))
        }
    }

    /// Runs `sql`, with `?` placeholders (rewritten to `$n` for PostgreSQL), binding `texts`
    /// in order.
    async fn run(&self, sql: &str, binds: &[Bind]) {
        match self {
            Raw::Sqlite(pool) => {
                let mut query = sqlx::query(sqlx::AssertSqlSafe(sql.to_string()));
                for bind in binds {
                    query = match bind {
                        Bind::Int(value) => query.bind(*value),
                        Bind::Text(value) => query.bind(value.clone()),
                    };
                }
                query.execute(pool).await.expect(sql);
            }
            Raw::Postgres(pool) => {
                let mut numbered = String::new();
                let mut n = 0;
                for character in sql.chars() {
                    if character == '?' {
                        n += 1;
                        numbered.push_str(&format!("${n}"));
                    } else {
                        numbered.push(character);
                    }
                }
                let mut query = sqlx::query(sqlx::AssertSqlSafe(numbered));
                for bind in binds {
                    query = match bind {
                        Bind::Int(value) => query.bind(*value),
                        Bind::Text(value) => query.bind(value.clone()),
                    };
                }
                query.execute(pool).await.expect(sql);
            }
        }
    }

    async fn text(&self, column: &str, seq: i64) -> Option<String> {
        let sql = format!("SELECT {column} FROM audit_log WHERE seq = ");
        match self {
            Raw::Sqlite(pool) => sqlx::query_scalar(sqlx::AssertSqlSafe(format!("{sql}?")))
                .bind(seq)
                .fetch_one(pool)
                .await
                .expect("read"),
            Raw::Postgres(pool) => sqlx::query_scalar(sqlx::AssertSqlSafe(format!("{sql}$1")))
                .bind(seq)
                .fetch_one(pool)
                .await
                .expect("read"),
        }
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

fn record(
    collection: &str,
    jurisdiction: &str,
    seed: u64,
) -> serde_json::Map<String, serde_json::Value> {
    let model = licnode_model::collection(collection).expect("collection");
    licnode_gen::Generator::new(seed).record(model, jurisdiction)
}

/// A log of writes (one at a time and in bulk) and of other events.
async fn fill(store: &Store, entries: usize) {
    let archive = Archive::new(store.clone(), "330106");
    for seed in 0..5 {
        archive
            .create(
                "quality_archives",
                None,
                &record("quality_archives", "330106", seed),
                &Author::clerk("clerk"),
            )
            .await
            .expect("create");
    }
    let events: Vec<AuditEntry> = (0..entries)
        .map(|i| {
            let kind = [AuditKind::Login, AuditKind::LoginFailed, AuditKind::Export][i % 3].clone();
            let entry = AuditEntry::new(
                kind,
                "330106",
                &format!("user{i}"),
                1_700_000_000_000 + i as i64,
            )
            .detail(json!({ "n": i, "note": "测试" }));
            if i % 4 == 0 {
                entry
                    .record(&format!("record-{i}"))
                    .change(&format!("{i:064x}"))
            } else {
                entry
            }
        })
        .collect();
    store.audit_all(&events).await.expect("audit");
}

fn assert_reported(report: &AuditReport, seqs: &[i64], what: &str) {
    for seq in seqs {
        assert!(
            report.findings.iter().any(|finding| finding.covers(*seq)),
            "{what}: entry {seq} not reported; findings: {:?}",
            report.findings
        );
    }
}

#[tokio::test]
async fn every_stored_change_leaves_an_entry_and_an_untouched_log_verifies() {
    for backend in BACKENDS {
        let dir = licnode_testkit::temp_dir().expect("dir");
        let (store, _url, _database) = open(backend, dir.path()).await;
        let empty = store.audit_verify().await.expect("verify");
        assert!(empty.is_clean(), "{backend}: {empty:?}");
        assert_eq!(empty.entries, 0);

        let archive = Archive::new(store.clone(), "330106");
        let created = archive
            .create(
                "quality_archives",
                None,
                &record("quality_archives", "330106", 1),
                &Author::clerk("clerk"),
            )
            .await
            .expect("create");
        let mut writer =
            licnode_app::BulkWriter::new(&archive, "quality_archives", &Author::clerk("loader"))
                .expect("writer");
        let rows = (0..450)
            .map(|seed| licnode_app::BulkRow {
                jurisdiction: None,
                fields: record("quality_archives", "330106", 100 + seed),
            })
            .collect();
        let (refused, _) = writer.write(rows).await.expect("bulk");
        assert!(refused.is_empty(), "{refused:?}");
        writer.finish().await.expect("finish");
        store
            .audit(AuditEntry::new(AuditKind::Login, "330106", "clerk", 1))
            .await
            .expect("audit");

        let changes = store.changes_after(0, None, 10_000).await.expect("changes");
        let entries = store.audit_entries(0, 10_000).await.expect("entries");
        let writes: Vec<_> = entries
            .iter()
            .filter(|e| e.kind == AuditKind::Write)
            .collect();
        assert_eq!(
            writes.len(),
            changes.len(),
            "{backend}: one entry per change"
        );
        for (write, change) in writes.iter().zip(&changes) {
            assert_eq!(write.change_hash.as_deref(), Some(change.hash.as_str()));
            assert_eq!(write.record_id.as_deref(), Some(change.record_id.as_str()));
            assert_eq!(write.user, change.author_user);
            assert_eq!(write.node, change.author_node);
        }
        assert_eq!(
            writes[0].record_id.as_deref(),
            Some(created.record.id.as_str())
        );
        assert_eq!(writes[0].user, "clerk");
        assert_eq!(writes[1].user, "loader");
        let numbers: Vec<i64> = entries.iter().map(|e| e.seq).collect();
        assert_eq!(
            numbers,
            (1..=entries.len() as i64).collect::<Vec<_>>(),
            "gap-free"
        );
        assert_eq!(
            entries.last().map(|e| e.kind.as_str()),
            Some(AuditKind::Login.as_str())
        );

        let report = store.audit_verify().await.expect("verify");
        assert!(report.is_clean(), "{backend}: {:?}", report.findings);
        assert_eq!(report.entries, entries.len() as i64);
        assert_eq!(report.head_seq, entries.len() as i64);
        assert_eq!(Some(&report.head_hash), entries.last().map(|e| &e.hash));
        store.close().await;
    }
}

#[tokio::test]
async fn concurrent_writers_and_events_keep_one_gap_free_chain() {
    for backend in BACKENDS {
        let dir = licnode_testkit::temp_dir().expect("dir");
        let (store, _url, _database) = open(backend, dir.path()).await;
        let mut tasks = Vec::new();
        for task in 0..8_u64 {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                let archive = Archive::new(store.clone(), "330106");
                for i in 0..10 {
                    archive
                        .create(
                            "quality_archives",
                            None,
                            &record("quality_archives", "330106", task * 100 + i),
                            &Author::clerk("clerk"),
                        )
                        .await
                        .expect("create");
                    store
                        .audit(AuditEntry::new(
                            AuditKind::Login,
                            "330106",
                            "clerk",
                            i as i64,
                        ))
                        .await
                        .expect("audit");
                }
            }));
        }
        for task in tasks {
            task.await.expect("task");
        }
        let report = store.audit_verify().await.expect("verify");
        assert!(report.is_clean(), "{backend}: {:?}", report.findings);
        assert_eq!(report.entries, 160, "{backend}");
        store.close().await;
    }
}

/// Columns an intruder might edit, with whether they hold text.
const COLUMNS: [(&str, bool); 9] = [
    ("at_ms", false),
    ("kind", true),
    ("node", true),
    ("user_name", true),
    ("record_id", true),
    ("change_hash", true),
    ("detail", true),
    ("prev_hash", true),
    ("hash", true),
];

/// `text` with one character changed (or `x` when there is none).
fn flipped(text: Option<String>) -> String {
    let text = text.unwrap_or_default();
    let mut characters: Vec<char> = text.chars().collect();
    match characters.last_mut() {
        Some(last) => *last = if *last == 'x' { 'y' } else { 'x' },
        None => characters.push('x'),
    }
    characters.into_iter().collect()
}

/// Swaps the numbers of entries `a` and `b`: the two entries change places.
async fn swap(raw: &Raw, a: i64, b: i64) {
    raw.run(
        "UPDATE audit_log SET seq = ? WHERE seq = ?",
        &[Bind::Int(-1), Bind::Int(a)],
    )
    .await;
    raw.run(
        "UPDATE audit_log SET seq = ? WHERE seq = ?",
        &[Bind::Int(a), Bind::Int(b)],
    )
    .await;
    raw.run(
        "UPDATE audit_log SET seq = ? WHERE seq = ?",
        &[Bind::Int(b), Bind::Int(-1)],
    )
    .await;
}

/// Copies entry `seq` into `audit_saved` (to put it back after deleting it).
async fn save(raw: &Raw, seq: i64) {
    raw.run("DELETE FROM audit_saved", &[]).await;
    raw.run(
        "INSERT INTO audit_saved SELECT * FROM audit_log WHERE seq = ?",
        &[Bind::Int(seq)],
    )
    .await;
}

#[tokio::test]
async fn every_random_flip_deletion_and_reordering_is_reported_and_repairs_verify_again() {
    const ENTRIES: usize = 300;
    const TRIALS: usize = 150;
    for backend in BACKENDS {
        let dir = licnode_testkit::temp_dir().expect("dir");
        let (store, url, _database) = open(backend, dir.path()).await;
        fill(&store, ENTRIES).await;
        let (last, _) = store.audit_head().await.expect("head");
        assert!(store.audit_verify().await.expect("verify").is_clean());
        let raw = Raw::connect(&url).await;
        raw.run(
            "CREATE TABLE audit_saved AS SELECT * FROM audit_log WHERE seq < 0",
            &[],
        )
        .await;
        let mut rng = StdRng::seed_from_u64(match backend {
            Backend::Sqlite => 7,
            Backend::Postgres => 8,
        });
        let mut counts = [0_usize; 3];
        for trial in 0..TRIALS {
            // The first and last entries are tampered with as often as any other.
            let seq = match trial % 10 {
                0 => 1,
                1 => last,
                _ => rng.random_range(1..=last),
            };
            let kind = rng.random_range(0..3);
            counts[kind] += 1;
            match kind {
                0 => {
                    let (column, is_text) = COLUMNS[rng.random_range(0..COLUMNS.len())];
                    let what = format!("{backend}: trial {trial}, {column} of entry {seq} flipped");
                    if is_text {
                        let before = raw.text(column, seq).await;
                        let sql = format!("UPDATE audit_log SET {column} = ? WHERE seq = ?");
                        raw.run(&sql, &[Bind::Text(flipped(before.clone())), Bind::Int(seq)])
                            .await;
                        let report = store.audit_verify().await.expect("verify");
                        assert_reported(&report, &[seq], &what);
                        let restore = match before {
                            Some(text) => Bind::Text(text),
                            None => {
                                let sql =
                                    format!("UPDATE audit_log SET {column} = NULL WHERE seq = ?");
                                raw.run(&sql, &[Bind::Int(seq)]).await;
                                continue_check(&store, &what).await;
                                continue;
                            }
                        };
                        raw.run(&sql, &[restore, Bind::Int(seq)]).await;
                    } else {
                        let sql = "UPDATE audit_log SET at_ms = at_ms + 1 WHERE seq = ?";
                        raw.run(sql, &[Bind::Int(seq)]).await;
                        let report = store.audit_verify().await.expect("verify");
                        assert_reported(&report, &[seq], &what);
                        let sql = "UPDATE audit_log SET at_ms = at_ms - 1 WHERE seq = ?";
                        raw.run(sql, &[Bind::Int(seq)]).await;
                    }
                    continue_check(&store, &what).await;
                }
                1 => {
                    let what = format!("{backend}: trial {trial}, entry {seq} deleted");
                    save(&raw, seq).await;
                    raw.run("DELETE FROM audit_log WHERE seq = ?", &[Bind::Int(seq)])
                        .await;
                    let report = store.audit_verify().await.expect("verify");
                    assert_reported(&report, &[seq], &what);
                    raw.run("INSERT INTO audit_log SELECT * FROM audit_saved", &[])
                        .await;
                    continue_check(&store, &what).await;
                }
                _ => {
                    // Neighbours most often, anywhere sometimes.
                    let other = if rng.random_bool(0.7) {
                        let distance = rng.random_range(1..=5);
                        if seq + distance <= last {
                            seq + distance
                        } else {
                            seq - distance
                        }
                    } else {
                        loop {
                            let other = rng.random_range(1..=last);
                            if other != seq {
                                break other;
                            }
                        }
                    };
                    let what =
                        format!("{backend}: trial {trial}, entries {seq} and {other} swapped");
                    swap(&raw, seq, other).await;
                    let report = store.audit_verify().await.expect("verify");
                    assert_reported(&report, &[seq, other], &what);
                    swap(&raw, seq, other).await;
                    continue_check(&store, &what).await;
                }
            }
        }
        assert!(counts.iter().all(|count| *count > 20), "{counts:?}");
        raw.close().await;
        store.close().await;
    }
}

/// After a trial is undone, the log verifies again.
async fn continue_check(store: &Store, what: &str) {
    let report = store.audit_verify().await.expect("verify");
    assert!(
        report.is_clean(),
        "{what}, then repaired: {:?}",
        report.findings
    );
}

#[tokio::test]
async fn many_tamperings_at_once_are_each_listed_not_just_the_first() {
    for backend in BACKENDS {
        let dir = licnode_testkit::temp_dir().expect("dir");
        let (store, url, _database) = open(backend, dir.path()).await;
        fill(&store, 400).await;
        let raw = Raw::connect(&url).await;
        let mut expected = Vec::new();
        // One tampering every 40 entries, cycling through the kinds.
        for (i, seq) in (10..=400).step_by(40).enumerate() {
            match i % 4 {
                0 => {
                    raw.run(
                        "UPDATE audit_log SET user_name = 'intruder' WHERE seq = ?",
                        &[Bind::Int(seq)],
                    )
                    .await;
                    expected.push(seq);
                }
                1 => {
                    raw.run("DELETE FROM audit_log WHERE seq = ?", &[Bind::Int(seq)])
                        .await;
                    expected.push(seq);
                }
                2 => {
                    swap(&raw, seq, seq + 1).await;
                    expected.extend([seq, seq + 1]);
                }
                _ => {
                    raw.run(
                        "UPDATE audit_log SET detail = '{}' WHERE seq = ?",
                        &[Bind::Int(seq)],
                    )
                    .await;
                    expected.push(seq);
                }
            }
        }
        // And the last entries are cut off.
        let (last, _) = store.audit_head().await.expect("head");
        raw.run(
            "DELETE FROM audit_log WHERE seq > ?",
            &[Bind::Int(last - 3)],
        )
        .await;
        expected.extend(last - 2..=last);
        let report = store.audit_verify().await.expect("verify");
        assert_reported(&report, &expected, &format!("{backend}: many at once"));
        // Nothing untouched is blamed, except an entry right after one that was moved or
        // removed (its link is what broke).
        for finding in &report.findings {
            let near = expected
                .iter()
                .any(|seq| finding.seq <= *seq + 1 && *seq <= finding.until_seq + 1);
            assert!(near, "{backend}: untouched entry blamed: {finding:?}");
        }
        raw.close().await;
        store.close().await;
    }
}

#[tokio::test]
async fn received_changes_are_logged_as_writes_and_refused_ones_as_sync_refused() {
    use licnode_store::sync_state::SyncStream;
    use licnode_store::{LoggedChange, Refusal};
    for backend in BACKENDS {
        let dir = licnode_testkit::temp_dir().expect("dir");
        let (county, _url, _a) = open(backend, &dir.path().join("county")).await;
        let (province, _url, _b) = open(backend, &dir.path().join("province")).await;
        let kept = Archive::new(county.clone(), "330106")
            .create(
                "quality_archives",
                None,
                &record("quality_archives", "330106", 1),
                &Author::clerk("clerk"),
            )
            .await
            .expect("create");
        let denied = Archive::new(county.clone(), "330000")
            .create(
                "licences",
                Some("330106"),
                &record("licences", "330106", 2),
                &Author::clerk("clerk"),
            )
            .await
            .expect("create");
        let changes: Vec<LoggedChange> = county
            .changes_after(0, None, 100)
            .await
            .expect("changes")
            .into_iter()
            .map(|row| LoggedChange {
                record_id: row.record_id,
                collection: row.collection,
                jurisdiction: row.jurisdiction,
                author_user: row.author_user,
                at_ms: row.at_ms,
                origin: "330106".into(),
                bytes: row.bytes,
                ..LoggedChange::default()
            })
            .collect();
        licnode_app::replication::store_batch(
            &province,
            licnode_app::replication::ReceivedBatch {
                cursor_move: Default::default(),
                peer: "330106".into(),
                stream: SyncStream::Push,
                cursor: 2,
                changes,
            },
            |change: &LoggedChange, _: Option<&str>| {
                if change.collection == "licences" {
                    Err(Refusal {
                        code: "outside_jurisdiction".into(),
                        message: "test refusal".into(),
                    })
                } else {
                    Ok(())
                }
            },
        )
        .await
        .expect("apply");
        let entries = province.audit_entries(0, 100).await.expect("entries");
        assert_eq!(entries.len(), 2, "{backend}: {entries:?}");
        let write = entries
            .iter()
            .find(|e| e.kind == AuditKind::Write)
            .expect("write");
        assert_eq!(write.record_id.as_deref(), Some(kept.record.id.as_str()));
        assert_eq!(write.detail["origin"], "330106");
        let refused = entries
            .iter()
            .find(|e| e.kind == AuditKind::SyncRefused)
            .expect("refused");
        assert_eq!(
            refused.record_id.as_deref(),
            Some(denied.record.id.as_str())
        );
        assert_eq!(refused.node, "330106");
        assert_eq!(refused.detail["reason"], "outside_jurisdiction");
        assert!(province.audit_verify().await.expect("verify").is_clean());
        county.close().await;
        province.close().await;
    }
}
