//! The audit log: every write, login, export, refused sync change or certificate, destruction,
//! backup and restore of this node, hash-chained so that an altered, deleted or re-ordered entry
//! is found (Art. 37, 38: the archive is only trusted if what was done to it leaves a trace that
//! cannot be changed unnoticed; ARCHITECTURE.md, principle 9).
//!
//! Entry `seq` (gap-free, from 1) has `hash = sha256(prev_hash ‖ canonical)`, hex, where
//! `prev_hash` is entry `seq - 1`'s hash (64 zeros for the first) and `canonical` is the JSON
//! array `[seq, at_ms, kind, node, user, record_id, change_hash, detail]` (`record_id` and
//! `change_hash` may be `null`; `detail` is the stored JSON text as a string). The number is in
//! the hashed bytes, so an entry moved to another place no longer verifies there.
//!
//! An entry is appended in the transaction of what it records (`AuditTx::append_audit`), so it
//! exists exactly when that did. Appenders serialise on the `audit_head` row (SQLite has one writer; PostgreSQL holds the row lock until commit). A transaction that
//! also writes the change log takes the change log's lock first, and the audit lock last, so
//! the lock order is the same everywhere.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::{Postgres, QueryBuilder, Sqlite};

pub use crate::audit_kind::AuditKind;
use crate::dialect::with_reader;
use crate::{Db, Store, StoreError};

/// The `prev_hash` of the first entry.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Rows per multi-row INSERT statement (SQLite binds at most 32,766 parameters).
const ROWS_PER_STATEMENT: usize = 400;
/// Entries read per page while verifying.
const VERIFY_PAGE: i64 = 5_000;
/// Verification lists at most this many findings (a log renumbered wholesale would otherwise
/// produce one per entry).
pub const MAX_FINDINGS: usize = 100_000;
/// How far from its place verification looks for an entry's original number.
const MOVE_WINDOW: i64 = 16;

/// Something to record in the audit log.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// When it happened (the node's clock), milliseconds since the Unix epoch.
    pub at_ms: i64,
    pub kind: AuditKind,
    /// The node that acted (for a write: the change's author node).
    pub node: String,
    /// The user who acted; empty when no user did (a peer, the node itself).
    pub user: String,
    pub record_id: Option<String>,
    pub change_hash: Option<String>,
    /// Whatever else says what happened (a JSON object).
    pub detail: serde_json::Value,
}

impl AuditEntry {
    /// An entry with no record, no change and an empty detail.
    pub fn new(kind: AuditKind, node: &str, user: &str, at_ms: i64) -> AuditEntry {
        AuditEntry {
            at_ms,
            kind,
            node: node.to_string(),
            user: user.to_string(),
            record_id: None,
            change_hash: None,
            detail: serde_json::Value::Object(Default::default()),
        }
    }

    /// The same entry, about `record_id`.
    pub fn record(mut self, record_id: &str) -> AuditEntry {
        self.record_id = Some(record_id.to_string());
        self
    }

    /// The same entry, about the change `hash`.
    pub fn change(mut self, hash: &str) -> AuditEntry {
        self.change_hash = Some(hash.to_string());
        self
    }

    /// The same entry, with `detail`.
    pub fn detail(mut self, detail: serde_json::Value) -> AuditEntry {
        self.detail = detail;
        self
    }
}

/// A stored audit entry.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AuditRecord {
    pub seq: i64,
    pub at_ms: i64,
    /// The kind as stored: [`AuditKind::Other`] for a kind this release does not write.
    pub kind: AuditKind,
    pub node: String,
    pub user: String,
    pub record_id: Option<String>,
    pub change_hash: Option<String>,
    /// The detail, parsed; a string when the stored text is not JSON (it was altered).
    pub detail: serde_json::Value,
    pub prev_hash: String,
    pub hash: String,
}

/// What is wrong with one entry, or a run of entries, of the log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AuditFinding {
    /// The first entry concerned.
    pub seq: i64,
    /// The last entry concerned (equal to `seq` for one entry).
    pub until_seq: i64,
    /// `missing` (deleted), `altered` (contents do not match the hash), `moved` (the entry
    /// verifies under another number: re-ordered), `chain_broken` (the entry does not follow the
    /// one before it: that one, or this link, was rewritten), `head_mismatch` (the last entry
    /// is not the one the head of the chain records).
    pub problem: &'static str,
    pub message: String,
}

impl AuditFinding {
    /// Whether this finding concerns entry `seq`.
    pub fn covers(&self, seq: i64) -> bool {
        self.seq <= seq && seq <= self.until_seq
    }
}

/// The outcome of [`Store::audit_verify`].
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AuditReport {
    /// Entries read.
    pub entries: i64,
    /// The head of the chain as recorded when verification started: the last entry's number
    /// and hash. Entries appended while verifying are not looked at.
    pub head_seq: i64,
    pub head_hash: String,
    /// Every problem found, in log order.
    pub findings: Vec<AuditFinding>,
    /// True when more than [`MAX_FINDINGS`] problems were found and the rest are not listed.
    pub truncated: bool,
}

impl AuditReport {
    /// True when the log is intact.
    pub fn is_clean(&self) -> bool {
        self.findings.is_empty()
    }
}

/// The hash of an entry numbered `seq` following `prev_hash`, its detail as stored text.
#[allow(clippy::too_many_arguments)]
pub fn entry_hash(
    prev_hash: &str,
    seq: i64,
    at_ms: i64,
    kind: &str,
    node: &str,
    user: &str,
    record_id: Option<&str>,
    change_hash: Option<&str>,
    detail: &str,
) -> String {
    let canonical =
        serde_json::to_vec(&(seq, at_ms, kind, node, user, record_id, change_hash, detail))
            .unwrap_or_default();
    let mut digest = Sha256::new();
    digest.update(prev_hash.as_bytes());
    digest.update(&canonical);
    hex::encode(digest.finalize())
}

/// A numbered, chained entry ready to insert.
struct Chained<'a> {
    seq: i64,
    entry: &'a AuditEntry,
    detail: String,
    prev_hash: String,
    hash: String,
}

/// Numbers and chains `entries` after the head (`head_seq`, `head_hash`).
fn chain<'a>(head_seq: i64, head_hash: &str, entries: &'a [AuditEntry]) -> Vec<Chained<'a>> {
    let mut prev_hash = head_hash.to_string();
    entries
        .iter()
        .enumerate()
        .map(|(i, entry)| {
            let seq = head_seq + 1 + i as i64;
            let detail = entry.detail.to_string();
            let hash = entry_hash(
                &prev_hash,
                seq,
                entry.at_ms,
                entry.kind.as_str(),
                &entry.node,
                &entry.user,
                entry.record_id.as_deref(),
                entry.change_hash.as_deref(),
                &detail,
            );
            Chained {
                seq,
                entry,
                detail,
                prev_hash: std::mem::replace(&mut prev_hash, hash.clone()),
                hash,
            }
        })
        .collect()
}

/// Appends audit entries inside a write transaction of either database.
pub(crate) trait AuditTx {
    /// Appends `entries`; returns the number of the first, or 0 when there are none.
    async fn append_audit(&mut self, entries: &[AuditEntry]) -> Result<i64, StoreError>;
}

crate::dialect::impl_for_each_transaction!(AuditTx {
    async fn append_audit(&mut self, entries: &[AuditEntry]) -> Result<i64, StoreError> {
        use crate::dialect::BackendTx as _;
        if entries.is_empty() {
            return Ok(0);
        }
        // PostgreSQL holds the head row's lock until commit, so appenders serialise on it;
        // SQLite's one writer holds the whole database already.
        let (head_seq, head_hash): (i64, String) = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT seq, hash FROM audit_head WHERE id = 1{}",
            Self::DIALECT.for_update()
        )))
        .fetch_one(&mut **self)
        .await?;
        let chained = chain(head_seq, &head_hash, entries);
        self.insert_audit_rows(&chained).await?;
        if let Some(last) = chained.last() {
            sqlx::query("UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1")
                .bind(last.seq)
                .bind(&last.hash)
                .execute(&mut **self)
                .await?;
        }
        Ok(head_seq + 1)
    }
});

/// Inserts chained audit rows: multi-row `VALUES` on SQLite, one array a column on PostgreSQL.
trait AuditRowsTx {
    async fn insert_audit_rows(&mut self, chained: &[Chained<'_>]) -> Result<(), StoreError>;
}

impl AuditRowsTx for sqlx::Transaction<'_, Sqlite> {
    async fn insert_audit_rows(&mut self, chained: &[Chained<'_>]) -> Result<(), StoreError> {
        for chunk in chained.chunks(ROWS_PER_STATEMENT) {
            let mut insert = QueryBuilder::<Sqlite>::new(
                "INSERT INTO audit_log (seq, at_ms, kind, node, user_name, record_id, change_hash, \
                 detail, prev_hash, hash) ",
            );
            insert.push_values(chunk, |mut row, c| {
                row.push_bind(c.seq)
                    .push_bind(c.entry.at_ms)
                    .push_bind(c.entry.kind.as_str().to_owned())
                    .push_bind(c.entry.node.clone())
                    .push_bind(c.entry.user.clone())
                    .push_bind(c.entry.record_id.clone())
                    .push_bind(c.entry.change_hash.clone())
                    .push_bind(c.detail.clone())
                    .push_bind(c.prev_hash.clone())
                    .push_bind(c.hash.clone());
            });
            insert.build().execute(&mut **self).await?;
        }
        Ok(())
    }
}

impl AuditRowsTx for sqlx::Transaction<'_, Postgres> {
    async fn insert_audit_rows(&mut self, chained: &[Chained<'_>]) -> Result<(), StoreError> {
        for chunk in chained.chunks(2_000) {
            let text = |f: fn(&Chained) -> String| -> Vec<String> { chunk.iter().map(f).collect() };
            let optional = |f: fn(&Chained) -> Option<String>| -> Vec<Option<String>> {
                chunk.iter().map(f).collect()
            };
            sqlx::query(
                "INSERT INTO audit_log (seq, at_ms, kind, node, user_name, record_id, change_hash, \
                 detail, prev_hash, hash) \
                 SELECT * FROM UNNEST($1::bigint[], $2::bigint[], $3::text[], $4::text[], \
                                      $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], \
                                      $10::text[])",
            )
            .bind(chunk.iter().map(|c| c.seq).collect::<Vec<_>>())
            .bind(chunk.iter().map(|c| c.entry.at_ms).collect::<Vec<_>>())
            .bind(text(|c| c.entry.kind.as_str().to_owned()))
            .bind(text(|c| c.entry.node.clone()))
            .bind(text(|c| c.entry.user.clone()))
            .bind(optional(|c| c.entry.record_id.clone()))
            .bind(optional(|c| c.entry.change_hash.clone()))
            .bind(text(|c| c.detail.clone()))
            .bind(text(|c| c.prev_hash.clone()))
            .bind(text(|c| c.hash.clone()))
            .execute(&mut **self)
            .await?;
        }
        Ok(())
    }
}

/// The audit entries of stored changes: one `write` entry per change-log row.
pub(crate) fn write_entries(rows: &[(i64, &crate::write::PreparedChange)]) -> Vec<AuditEntry> {
    rows.iter()
        .map(|(seq, change)| AuditEntry {
            at_ms: change.at_ms,
            kind: AuditKind::Write,
            node: change.author_node.clone(),
            user: change.author_user.clone(),
            record_id: Some(change.record_id.clone()),
            change_hash: Some(change.hash.to_string()),
            detail: serde_json::json!({
                "seq": seq,
                "collection": change.collection,
                "origin": change.origin,
            }),
        })
        .collect()
}

/// The audit entries of received changes refused and quarantined: the sending peer is the
/// node; no user acted.
pub(crate) fn refusal_entries(rows: &[crate::sync_state::QuarantineEntry]) -> Vec<AuditEntry> {
    rows.iter()
        .map(|row| AuditEntry {
            at_ms: row.received_at_ms,
            kind: AuditKind::SyncRefused,
            node: row.peer.clone(),
            user: String::new(),
            record_id: Some(row.record_id.clone()),
            change_hash: Some(row.hash.clone()),
            detail: serde_json::json!({
                "reason": row.reason,
                "message": row.message,
                "author_node": row.author_node,
                "collection": row.collection,
                "jurisdiction": row.jurisdiction,
            }),
        })
        .collect()
}

type Row = (
    i64,
    i64,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    String,
    String,
    String,
);

const SELECT_ROWS: &str = "SELECT seq, at_ms, kind, node, user_name, record_id, change_hash, \
                           detail, prev_hash, hash FROM audit_log";

fn record(row: Row) -> AuditRecord {
    let (seq, at_ms, kind, node, user, record_id, change_hash, detail, prev_hash, hash) = row;
    AuditRecord {
        seq,
        at_ms,
        kind: AuditKind::from_stored(&kind),
        node,
        user,
        record_id,
        change_hash,
        detail: serde_json::from_str(&detail).unwrap_or(serde_json::Value::String(detail)),
        prev_hash,
        hash,
    }
}

/// One entry as verification sees it: its stored fields and the hash its contents give.
struct Checked {
    seq: i64,
    stored_hash: String,
    recomputed: String,
    intact: bool,
}

/// Walks the log in order, comparing each entry with its contents and with the one before.
struct Verifier {
    head_seq: i64,
    head_hash: String,
    entries: i64,
    previous: Option<Checked>,
    findings: Vec<AuditFinding>,
    truncated: bool,
}

impl Verifier {
    fn find(&mut self, seq: i64, until_seq: i64, problem: &'static str, message: String) {
        if self.findings.len() >= MAX_FINDINGS {
            self.truncated = true;
            return;
        }
        self.findings.push(AuditFinding {
            seq,
            until_seq,
            problem,
            message,
        });
    }

    fn check(&mut self, row: &Row) {
        let (seq, at_ms, kind, node, user, record_id, change_hash, detail, prev_hash, hash) = row;
        let seq = *seq;
        self.entries += 1;
        let hash_at = |number: i64| {
            entry_hash(
                prev_hash,
                number,
                *at_ms,
                kind,
                node,
                user,
                record_id.as_deref(),
                change_hash.as_deref(),
                detail,
            )
        };
        let recomputed = hash_at(seq);
        let mut intact = true;
        let expected = self.previous.as_ref().map_or(1, |p| p.seq + 1);
        let gap = seq > expected;
        if gap {
            self.find(
                expected,
                seq - 1,
                "missing",
                if seq - 1 == expected {
                    format!("第 {expected} 条记录缺失")
                } else {
                    format!("第 {expected} 至 {} 条记录缺失", seq - 1)
                },
            );
        }
        if &recomputed != hash {
            intact = false;
            let original = (1..=MOVE_WINDOW)
                .flat_map(|distance| [seq - distance, seq + distance])
                .filter(|number| *number >= 1)
                .find(|number| &hash_at(*number) == hash);
            match original {
                Some(original) => self.find(
                    seq,
                    seq,
                    "moved",
                    format!("第 {seq} 条是被移位的第 {original} 条记录"),
                ),
                None => self.find(
                    seq,
                    seq,
                    "altered",
                    format!("第 {seq} 条与其哈希值不符：记录被篡改"),
                ),
            }
        } else if !gap {
            // The link is checked against both the previous entry's stored hash and the hash of
            // its contents, so that one altered entry is reported once, not twice.
            let previous = self.previous.as_ref();
            let follows = match previous {
                None => prev_hash == GENESIS_HASH,
                Some(p) => !p.intact || &p.stored_hash == prev_hash || &p.recomputed == prev_hash,
            };
            if !follows {
                intact = false;
                self.find(
                    seq,
                    seq,
                    "chain_broken",
                    format!("第 {seq} 条未接续第 {} 条：两者之一被改写", seq - 1),
                );
            }
        }
        self.previous = Some(Checked {
            seq,
            stored_hash: hash.clone(),
            recomputed,
            intact,
        });
    }

    fn finish(mut self) -> AuditReport {
        let last_seq = self.previous.as_ref().map_or(0, |p| p.seq);
        if last_seq < self.head_seq {
            self.find(
                last_seq + 1,
                self.head_seq,
                "missing",
                format!(
                    "日志止于第 {last_seq} 条，而链头记录为第 {} 条：末尾的记录被删除",
                    self.head_seq
                ),
            );
        } else if let Some(last) = &self.previous
            && last.stored_hash != self.head_hash
            && last.recomputed != self.head_hash
        {
            let seq = last.seq;
            self.find(
                seq,
                seq,
                "head_mismatch",
                format!("第 {seq} 条不是链头所记录的那一条"),
            );
        }
        AuditReport {
            entries: self.entries,
            head_seq: self.head_seq,
            head_hash: self.head_hash,
            findings: self.findings,
            truncated: self.truncated,
        }
    }
}

impl Store {
    /// Appends one entry in its own transaction; returns its number. For what happens outside a
    /// store transaction (logins, exports, refused certificates, backups).
    pub async fn audit(&self, entry: AuditEntry) -> Result<i64, StoreError> {
        self.audit_all(std::slice::from_ref(&entry)).await
    }

    /// Appends entries in one transaction; returns the number of the first (0 when none).
    pub async fn audit_all(&self, entries: &[AuditEntry]) -> Result<i64, StoreError> {
        match &self.db {
            Db::Sqlite { writer, .. } => {
                // IMMEDIATE: the write lock is taken (waiting out the busy timeout) before the
                // head is read. Another process (a node serving while `licnode backup` records
                // itself) may write between a deferred read and the write, which SQLite refuses
                // at once instead of waiting.
                let mut tx = writer.begin_with("BEGIN IMMEDIATE").await?;
                let seq = tx.append_audit(entries).await?;
                tx.commit().await?;
                Ok(seq)
            }
            Db::Postgres { pool } => {
                let mut tx = pool.begin().await?;
                let seq = tx.append_audit(entries).await?;
                tx.commit().await?;
                Ok(seq)
            }
        }
    }

    /// Entries after `after_seq`, in order, at most `limit` (1 to 10,000).
    pub async fn audit_entries(
        &self,
        after_seq: i64,
        limit: i64,
    ) -> Result<Vec<AuditRecord>, StoreError> {
        let limit = limit.clamp(1, 10_000);
        let rows: Vec<Row> = with_reader!(&self.db, |pool| {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "{SELECT_ROWS} WHERE seq > $1 ORDER BY seq{}",
                crate::dialect::limit(limit)
            )))
            .bind(after_seq)
            .fetch_all(pool)
            .await?
        });
        Ok(rows.into_iter().map(record).collect())
    }

    /// The head of the chain: the last entry's number and hash (0 and [`GENESIS_HASH`] when the
    /// log is empty).
    pub async fn audit_head(&self) -> Result<(i64, String), StoreError> {
        let sql = "SELECT seq, hash FROM audit_head WHERE id = 1";
        Ok(with_reader!(&self.db, |pool| sqlx::query_as(sql)
            .fetch_one(pool)
            .await?))
    }

    /// Checks the whole log: every entry against its hash, every link, the numbering, and the
    /// end against the recorded head. Reports every problem (up to [`MAX_FINDINGS`]), not just
    /// the first.
    pub async fn audit_verify(&self) -> Result<AuditReport, StoreError> {
        let (head_seq, head_hash) = self.audit_head().await?;
        let mut verifier = Verifier {
            head_seq,
            head_hash,
            entries: 0,
            previous: None,
            findings: Vec::new(),
            truncated: false,
        };
        // Entries appended while verifying lie past the head read above and are not looked at.
        let mut after = i64::MIN;
        loop {
            let rows: Vec<Row> = with_reader!(&self.db, |pool| {
                sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "{SELECT_ROWS} WHERE seq > $1 AND seq <= $2 ORDER BY seq{}",
                    crate::dialect::limit(VERIFY_PAGE)
                )))
                .bind(after)
                .bind(head_seq)
                .fetch_all(pool)
                .await?
            });
            let Some(last) = rows.last() else { break };
            after = last.0;
            for row in &rows {
                verifier.check(row);
            }
        }
        Ok(verifier.finish())
    }
}
