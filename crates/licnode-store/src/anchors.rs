//! Anchors of audit chains outside the database (issue 11 item 5; ARCHITECTURE.md, principle 10: the
//! parent is the node's witness): a node signs the head of its audit chain with its node key
//! and hands it to its parent at every session; the parent keeps it, checks that it extends the
//! last anchor it holds of that node, and relays it further up. `licnode audit verify` then
//! checks the local chain against the newest anchor the parent holds, so deleting the last
//! entries and rewriting `audit_head`, or editing an entry and recomputing every later hash,
//! no longer goes unnoticed.
//!
//! Also here: the cross-check of the audit log against the change log (every stored change has
//! its `write` entry), and the check of the chain at a point another copy recorded (an anchor,
//! a backup manifest).
//!
//! Signing and verifying reuse the node key of destruction approvals
//! ([`crate::retention::NodeKey`]): the same TLS signature schemes, the signer's certificate
//! chain verified exactly as a mutual-TLS peer's.

use serde::{Deserialize, Serialize};

use crate::audit::{AuditEntry, AuditFinding, AuditReport, GENESIS_HASH};
use crate::dialect::with_reader;
use crate::retention::NodeKey;
use crate::{Db, Store, StoreError};

/// What the signature of an anchor is over: a version tag and the payload's JSON text.
const SIGNED_CONTEXT: &str = "licnode audit anchor v1\n";

/// Most changes without an audit entry listed one by one (all are counted).
pub const MAX_LISTED_CHANGES: i64 = 1_000;

/// What a node signs: the head of its audit chain, and what its chain holds at the number of
/// the previous anchor its parent holds (so the parent can tell that the chain still extends
/// it).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnchorPayload {
    /// The node whose chain this is.
    pub node: String,
    /// The last entry's number and hash.
    pub audit_seq: i64,
    pub audit_hash: String,
    /// The number of the previous anchor the parent holds (0 when none) and the hash this
    /// node's entry of that number has now ([`GENESIS_HASH`] for 0, empty when the entry is
    /// gone).
    pub previous_seq: i64,
    pub previous_hash: String,
    /// When it was signed (the node's clock), milliseconds since the Unix epoch.
    pub signed_at_ms: i64,
}

/// A signed anchor as it travels: the payload text exactly as signed, the signature and the
/// signer's certificate chain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedAnchor {
    /// The JSON text of an [`AnchorPayload`], exactly as signed.
    pub payload: String,
    /// The TLS signature scheme's code point.
    pub scheme: u16,
    /// Hex.
    pub signature: String,
    /// The signer's certificate chain, leaf first, DER in hex.
    pub chain: Vec<String>,
}

/// An anchor held by this node.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeldAnchor {
    /// Local arrival order (the relay cursor).
    pub anchor_key: i64,
    pub node: String,
    pub audit_seq: i64,
    pub audit_hash: String,
    pub previous_seq: i64,
    pub previous_hash: String,
    pub signed_at_ms: i64,
    /// The neighbour it came from (this node's own code for its own anchors).
    pub received_from: String,
    pub received_at_ms: i64,
    /// Whether it extended the last anchor held of its node when it arrived.
    pub extends: bool,
    pub signed: SignedAnchor,
}

/// What storing an arriving anchor found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AnchorArrival {
    /// Already held (the same signature): nothing stored.
    pub duplicate: bool,
    /// Whether it extends the last anchor held of its node (true when none was held).
    pub extends: bool,
    /// The last anchor held of the node before it arrived: number and hash.
    pub previous_held: Option<(i64, String)>,
}

/// Why an anchor is refused.
#[derive(Debug, thiserror::Error)]
pub enum AnchorError {
    #[error("the anchor is not readable: {0}")]
    Malformed(String),
    #[error("the anchor's signature is not valid ({code}): {message}")]
    BadSignature { code: String, message: String },
    #[error("the anchor is signed by {signer} but names {named}")]
    SignerMismatch { signer: String, named: String },
    #[error("cannot sign the anchor: {0}")]
    Signing(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl AnchorError {
    /// The stable error code.
    pub fn code(&self) -> &'static str {
        match self {
            AnchorError::Malformed(_) => "anchor_malformed",
            AnchorError::BadSignature { .. } => "anchor_signature_invalid",
            AnchorError::SignerMismatch { .. } => "anchor_signer_mismatch",
            AnchorError::Signing(_) => "anchor_signing_failed",
            AnchorError::Store(_) => "internal",
        }
    }
}

/// The bytes an anchor's signature is over.
pub fn signed_message(payload: &str) -> Vec<u8> {
    let mut message = SIGNED_CONTEXT.as_bytes().to_vec();
    message.extend_from_slice(payload.as_bytes());
    message
}

/// Verifies `signed` with the node PKI: the chain as a mutual-TLS peer's, the signature over the
/// payload, and that the signer is the node the payload names. Returns the payload.
pub fn verify_anchor(
    key: &dyn NodeKey,
    signed: &SignedAnchor,
) -> Result<AnchorPayload, AnchorError> {
    let payload: AnchorPayload = serde_json::from_str(&signed.payload)
        .map_err(|error| AnchorError::Malformed(error.to_string()))?;
    let signature = hex::decode(&signed.signature)
        .map_err(|error| AnchorError::Malformed(format!("signature: {error}")))?;
    let chain = signed
        .chain
        .iter()
        .map(hex::decode)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| AnchorError::Malformed(format!("certificate chain: {error}")))?;
    let signer = key
        .verify(
            &chain,
            &signed_message(&signed.payload),
            signed.scheme,
            &signature,
        )
        .map_err(|(code, message)| AnchorError::BadSignature { code, message })?;
    if signer != payload.node {
        return Err(AnchorError::SignerMismatch {
            signer,
            named: payload.node,
        });
    }
    Ok(payload)
}

/// Whether `payload` extends the last anchor held of its node, `(seq, hash)`: its number is not
/// smaller, and the node's chain still has the held hash at the held number.
pub fn extends(payload: &AnchorPayload, held: Option<&(i64, String)>) -> bool {
    match held {
        None => true,
        Some((held_seq, held_hash)) => {
            payload.audit_seq >= *held_seq
                && payload.previous_seq == *held_seq
                && &payload.previous_hash == held_hash
                && (payload.audit_seq != *held_seq || &payload.audit_hash == held_hash)
        }
    }
}

/// The outcome of the cross-check of the change log against the audit log.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ChangeLogCheck {
    /// Changes looked at: every change from the first one the audit log covers.
    pub changes: i64,
    /// Changes with no `write` entry, counted.
    pub without_entry: i64,
    /// The first of them ([`MAX_LISTED_CHANGES`] at most): change number, change hash, record.
    pub listed: Vec<(i64, String, String)>,
}

impl ChangeLogCheck {
    /// One finding per change without an entry (numbers are change numbers).
    pub fn findings(&self) -> Vec<AuditFinding> {
        let mut findings: Vec<AuditFinding> = self
            .listed
            .iter()
            .map(|(seq, hash, record_id)| AuditFinding {
                seq: *seq,
                until_seq: *seq,
                problem: "change_without_entry",
                message: format!(
                    "变更日志第 {seq} 条（记录 {record_id}，变更 {hash}）没有审计记录：其审计记录被删除"
                ),
            })
            .collect();
        let unlisted = self.without_entry - self.listed.len() as i64;
        if unlisted > 0 {
            findings.push(AuditFinding {
                seq: 0,
                until_seq: 0,
                problem: "change_without_entry",
                message: format!("……另有 {unlisted} 条变更没有审计记录"),
            });
        }
        findings
    }
}

/// A point of the chain recorded elsewhere (an anchor, a backup manifest) and whether the
/// chain still holds it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PointCheck {
    /// Where the point was recorded (`the parent 330000`, a manifest's path, …).
    pub source: String,
    pub audit_seq: i64,
    pub audit_hash: String,
    /// What is wrong, if anything.
    pub finding: Option<AuditFinding>,
}

/// Every check of the audit log a node can make by itself: the chain, the change log, its own
/// last anchor; the CLI adds backup manifests and the parent's anchor.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AuditCheck {
    pub chain: AuditReport,
    pub change_log: ChangeLogCheck,
    /// Points recorded elsewhere: the last anchor this node signed, backup manifests, the
    /// parent's newest anchor.
    pub points: Vec<PointCheck>,
    /// Checks that could not be made, said plainly (no parent, `--offline`, …).
    pub not_checked: Vec<String>,
}

impl AuditCheck {
    /// Every finding: the chain's, the change log's, the points'.
    pub fn findings(&self) -> Vec<AuditFinding> {
        let mut findings = self.chain.findings.clone();
        findings.extend(self.change_log.findings());
        findings.extend(self.points.iter().filter_map(|point| point.finding.clone()));
        findings
    }

    /// True when nothing was found.
    pub fn is_clean(&self) -> bool {
        self.chain.is_clean()
            && self.change_log.without_entry == 0
            && self.points.iter().all(|point| point.finding.is_none())
    }
}

type AnchorRow = (
    i64,
    String,
    i64,
    String,
    i64,
    String,
    i64,
    String,
    i64,
    String,
    String,
    String,
    i64,
    bool,
);

const SELECT_ANCHORS: &str = "SELECT anchor_key, node, audit_seq, audit_hash, previous_seq, \
     previous_hash, signed_at_ms, payload, scheme, signature, chain, received_from, \
     received_at_ms, extends FROM audit_anchors";

fn held(row: AnchorRow) -> HeldAnchor {
    let (
        anchor_key,
        node,
        audit_seq,
        audit_hash,
        previous_seq,
        previous_hash,
        signed_at_ms,
        payload,
        scheme,
        signature,
        chain,
        received_from,
        received_at_ms,
        extends,
    ) = row;
    HeldAnchor {
        anchor_key,
        node,
        audit_seq,
        audit_hash,
        previous_seq,
        previous_hash,
        signed_at_ms,
        received_from,
        received_at_ms,
        extends,
        signed: SignedAnchor {
            payload,
            scheme: u16::try_from(scheme).unwrap_or_default(),
            signature,
            // Written by this node as a JSON array; an altered one reads as empty.
            chain: serde_json::from_str(&chain).unwrap_or_default(),
        },
    }
}

/// Replaces `?` placeholders with `$1, $2, …` for PostgreSQL.
fn numbered(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut number = 0;
    for character in sql.chars() {
        if character == '?' {
            number += 1;
            out.push('$');
            out.push_str(&number.to_string());
        } else {
            out.push(character);
        }
    }
    out
}

impl Store {
    /// The hash of audit entry `seq` as stored ([`GENESIS_HASH`] for 0), or `None` when there is
    /// no such entry.
    pub async fn audit_hash_at(&self, seq: i64) -> Result<Option<String>, StoreError> {
        if seq == 0 {
            return Ok(Some(GENESIS_HASH.to_owned()));
        }
        let sql = "SELECT hash FROM audit_log WHERE seq = ?";
        Ok(match &self.db {
            Db::Sqlite { reader, .. } => {
                sqlx::query_scalar(sql)
                    .bind(seq)
                    .fetch_optional(reader)
                    .await?
            }
            Db::Postgres { pool } => {
                sqlx::query_scalar(sqlx::AssertSqlSafe(numbered(sql)))
                    .bind(seq)
                    .fetch_optional(pool)
                    .await?
            }
        })
    }

    /// Signs the head of this node's chain with `key`, for a parent whose newest anchor of this
    /// node is at `previous_seq` (0 when it holds none).
    pub async fn sign_anchor(
        &self,
        node: &str,
        key: &dyn NodeKey,
        previous_seq: i64,
        now_ms: i64,
    ) -> Result<(AnchorPayload, SignedAnchor), AnchorError> {
        let (audit_seq, audit_hash) = self.audit_head().await?;
        let previous_hash = self.audit_hash_at(previous_seq).await?.unwrap_or_default();
        let payload = AnchorPayload {
            node: node.to_owned(),
            audit_seq,
            audit_hash,
            previous_seq,
            previous_hash,
            signed_at_ms: now_ms,
        };
        let text = serde_json::to_string(&payload)
            .map_err(|error| AnchorError::Signing(error.to_string()))?;
        let signature = key
            .sign(&signed_message(&text))
            .map_err(AnchorError::Signing)?;
        let signed = SignedAnchor {
            payload: text,
            scheme: signature.scheme,
            signature: hex::encode(&signature.signature),
            chain: signature.chain.iter().map(hex::encode).collect(),
        };
        Ok((payload, signed))
    }

    /// Stores a verified anchor that came from `received_from` (this node's own code for its
    /// own), judging whether it extends the last one held of its node — or taking `verdict`
    /// when given (a node's own anchor, as its parent judged it). An anchor that does not
    /// extend is kept as evidence and leaves an [`AuditKind::AuditChainBroken`](crate::AuditKind::AuditChainBroken) entry in this node's
    /// audit log, in the same transaction. `local_node` is this node, for the entry. An anchor
    /// already held (same signature) changes nothing.
    pub async fn record_anchor(
        &self,
        payload: &AnchorPayload,
        signed: &SignedAnchor,
        received_from: &str,
        local_node: &str,
        verdict: Option<bool>,
        now_ms: i64,
    ) -> Result<AnchorArrival, StoreError> {
        let chain = serde_json::to_string(&signed.chain).unwrap_or_else(|_| "[]".to_owned());
        let last_sql = "SELECT audit_seq, audit_hash FROM audit_anchors WHERE node = ? \
                        ORDER BY anchor_key DESC LIMIT 1";
        let exists_sql = "SELECT anchor_key FROM audit_anchors WHERE signature = ?";
        let insert_sql = "INSERT INTO audit_anchors (node, audit_seq, audit_hash, previous_seq, \
             previous_hash, signed_at_ms, payload, scheme, signature, chain, received_from, \
             received_at_ms, extends) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
        macro_rules! store_in {
            ($tx:expr, $prepare:expr, $append:path) => {{
                let tx = $tx;
                let existing: Option<i64> = sqlx::query_scalar(sqlx::AssertSqlSafe($prepare(
                    exists_sql,
                )))
                .bind(&signed.signature)
                .fetch_optional(&mut **tx)
                .await?;
                let previous_held: Option<(i64, String)> =
                    sqlx::query_as(sqlx::AssertSqlSafe($prepare(last_sql)))
                        .bind(&payload.node)
                        .fetch_optional(&mut **tx)
                        .await?;
                if existing.is_some() {
                    return Ok(AnchorArrival {
                        duplicate: true,
                        extends: true,
                        previous_held,
                    });
                }
                let extends =
                    verdict.unwrap_or_else(|| extends(payload, previous_held.as_ref()));
                sqlx::query(sqlx::AssertSqlSafe($prepare(insert_sql)))
                    .bind(&payload.node)
                    .bind(payload.audit_seq)
                    .bind(&payload.audit_hash)
                    .bind(payload.previous_seq)
                    .bind(&payload.previous_hash)
                    .bind(payload.signed_at_ms)
                    .bind(&signed.payload)
                    .bind(i64::from(signed.scheme))
                    .bind(&signed.signature)
                    .bind(&chain)
                    .bind(received_from)
                    .bind(now_ms)
                    .bind(extends)
                    .execute(&mut **tx)
                    .await?;
                if !extends {
                    let (held_seq, held_hash) = previous_held.clone().unwrap_or_default();
                    let entry = AuditEntry::new(crate::AuditKind::AuditChainBroken, &payload.node, "", now_ms)
                        .detail(serde_json::json!({
                            "witness": local_node,
                            "received_from": received_from,
                            "held_seq": held_seq,
                            "held_hash": held_hash,
                            "anchor": payload,
                        }));
                    $append(tx, &[entry]).await?;
                }
                AnchorArrival {
                    duplicate: false,
                    extends,
                    previous_held,
                }
            }};
        }
        match &self.db {
            Db::Sqlite { writer, .. } => {
                let mut tx = writer.begin_with("BEGIN IMMEDIATE").await?;
                let arrival = store_in!(
                    &mut tx,
                    |sql: &str| sql.to_owned(),
                    crate::audit::AuditTx::append_audit
                );
                tx.commit().await?;
                Ok(arrival)
            }
            Db::Postgres { pool } => {
                let mut tx = pool.begin().await?;
                // Keys become visible in the order they were taken (the relay cursor relies on
                // it), even with several processes over one database.
                sqlx::query("LOCK TABLE audit_anchors IN SHARE ROW EXCLUSIVE MODE")
                    .execute(&mut *tx)
                    .await?;
                let arrival = store_in!(&mut tx, numbered, crate::audit::AuditTx::append_audit);
                tx.commit().await?;
                Ok(arrival)
            }
        }
    }

    async fn anchors_where(
        &self,
        condition: &str,
        binds: &[AnchorBind<'_>],
    ) -> Result<Vec<HeldAnchor>, StoreError> {
        let sql = format!("{SELECT_ANCHORS} {condition}");
        macro_rules! bound {
            ($query:expr) => {{
                let mut query = $query;
                for bind in binds {
                    query = match bind {
                        AnchorBind::Text(text) => query.bind(text.to_string()),
                        AnchorBind::Number(number) => query.bind(*number),
                    };
                }
                query
            }};
        }
        let rows: Vec<AnchorRow> = match &self.db {
            Db::Sqlite { reader, .. } => {
                bound!(sqlx::query_as(sqlx::AssertSqlSafe(sql)))
                    .fetch_all(reader)
                    .await?
            }
            Db::Postgres { pool } => {
                bound!(sqlx::query_as(sqlx::AssertSqlSafe(numbered(&sql))))
                    .fetch_all(pool)
                    .await?
            }
        };
        Ok(rows.into_iter().map(held).collect())
    }

    /// The newest anchor held of `node` (the last to arrive).
    pub async fn newest_anchor(&self, node: &str) -> Result<Option<HeldAnchor>, StoreError> {
        Ok(self
            .anchors_where(
                "WHERE node = ? ORDER BY anchor_key DESC LIMIT 1",
                &[AnchorBind::Text(node)],
            )
            .await?
            .pop())
    }

    /// Whether the newest anchor held of `node` (this node) was accepted and anchors the audit
    /// chain's head as it stands: the parent took this very head and nothing was audited since.
    /// One statement, for the question every quiet session asks.
    pub async fn newest_anchor_is_head(&self, node: &str) -> Result<bool, StoreError> {
        let sql = "SELECT COUNT(*) FROM audit_anchors a JOIN audit_head h ON h.id = 1 \
                   WHERE a.node = $1 AND a.extends AND a.audit_seq = h.seq \
                   AND a.audit_hash = h.hash AND a.anchor_key = \
                   (SELECT MAX(b.anchor_key) FROM audit_anchors b WHERE b.node = a.node)";
        let count: i64 = with_reader!(&self.db, |pool| sqlx::query_scalar(sql)
            .bind(node)
            .fetch_one(pool)
            .await?);
        Ok(count > 0)
    }

    /// The anchors of `node` that did not extend the one before them: evidence that its chain
    /// was rewritten.
    pub async fn broken_anchors(&self, node: &str) -> Result<Vec<HeldAnchor>, StoreError> {
        self.anchors_where(
            "WHERE node = ? AND NOT extends ORDER BY anchor_key",
            &[AnchorBind::Text(node)],
        )
        .await
    }

    /// Anchors that arrived after `after_key` of nodes other than `except_node`, oldest first,
    /// at most `limit` (the relay to the parent).
    pub async fn anchors_after(
        &self,
        after_key: i64,
        except_node: &str,
        limit: i64,
    ) -> Result<Vec<HeldAnchor>, StoreError> {
        self.anchors_where(
            &format!(
                "WHERE anchor_key > ? AND node <> ? ORDER BY anchor_key{}",
                crate::dialect::limit(limit.clamp(1, 10_000))
            ),
            &[AnchorBind::Number(after_key), AnchorBind::Text(except_node)],
        )
        .await
    }

    /// The newest anchor of every node held, and how many of each node's anchors did not extend
    /// the one before, by node code.
    pub async fn anchors_by_node(&self) -> Result<Vec<(HeldAnchor, i64)>, StoreError> {
        let newest = self
            .anchors_where(
                "WHERE anchor_key IN (SELECT MAX(anchor_key) FROM audit_anchors GROUP BY node) \
                 ORDER BY node",
                &[],
            )
            .await?;
        let sql = "SELECT node, COUNT(*) FROM audit_anchors WHERE NOT extends GROUP BY node";
        let broken: Vec<(String, i64)> =
            with_reader!(&self.db, |pool| sqlx::query_as(sql).fetch_all(pool).await?);
        let broken: std::collections::HashMap<String, i64> = broken.into_iter().collect();
        Ok(newest
            .into_iter()
            .map(|anchor| {
                let count = broken.get(&anchor.node).copied().unwrap_or(0);
                (anchor, count)
            })
            .collect())
    }

    /// Deletes the anchors later ones make redundant: an anchor that extended the one before
    /// it, when a newer anchor of its node is held (which extends it in turn, or is kept as
    /// evidence), and it has been relayed to the parent (`anchor_key <= relayed_up_to`; `None`
    /// when this node has no parent). Only of `node` when given. Anchors that did not extend
    /// are kept for good. Returns how many were deleted.
    pub async fn prune_anchors(
        &self,
        node: Option<&str>,
        relayed_up_to: Option<i64>,
    ) -> Result<u64, StoreError> {
        let sql = "DELETE FROM audit_anchors WHERE extends AND anchor_key <= ? \
                   AND (? = '' OR node = ?) \
                   AND anchor_key < (SELECT MAX(newer.anchor_key) FROM audit_anchors newer \
                                     WHERE newer.node = audit_anchors.node)";
        let up_to = relayed_up_to.unwrap_or(i64::MAX);
        let node = node.unwrap_or("");
        let result = match &self.db {
            Db::Sqlite { writer, .. } => sqlx::query(sql)
                .bind(up_to)
                .bind(node)
                .bind(node)
                .execute(writer)
                .await?
                .rows_affected(),
            Db::Postgres { pool } => sqlx::query(sqlx::AssertSqlSafe(numbered(sql)))
                .bind(up_to)
                .bind(node)
                .bind(node)
                .execute(pool)
                .await?
                .rows_affected(),
        };
        Ok(result)
    }

    /// Checks that the chain still holds entry `seq` with `hash`, as `source` recorded it.
    pub async fn audit_check_point(
        &self,
        source: &str,
        seq: i64,
        hash: &str,
        problem: &'static str,
    ) -> Result<PointCheck, StoreError> {
        let (head_seq, _) = self.audit_head().await?;
        let stored = self.audit_hash_at(seq).await?;
        // The message is for auditors, in Chinese; `source` stays as given, in the check.
        let source_zh = format!("记录点（{source}）");
        let finding = match stored {
            None => Some(AuditFinding {
                seq,
                until_seq: seq.max(head_seq),
                problem,
                message: format!(
                    "第 {seq} 条已不存在（日志链头为第 {head_seq} 条），而{source_zh}记录过它：\
                     自第 {} 条起的记录被删除",
                    (head_seq + 1).min(seq)
                ),
            }),
            Some(stored) if stored != hash => Some(AuditFinding {
                seq,
                until_seq: seq,
                problem,
                message: format!(
                    "第 {seq} 条的哈希值为 {stored}，而{source_zh}记录的是 {hash}：日志在此之前被改写"
                ),
            }),
            Some(_) => None,
        };
        Ok(PointCheck {
            source: source.to_owned(),
            audit_seq: seq,
            audit_hash: hash.to_owned(),
            finding,
        })
    }

    /// The cross-check of the change log against the audit log: every change (from the first
    /// one the audit log covers, see migration 0010) has its `write` entry. One query for all.
    pub async fn audit_check_change_log(&self) -> Result<ChangeLogCheck, StoreError> {
        let (from, missing) = (CHANGES_AUDITED, WITHOUT_WRITE_ENTRY);
        let total_sql = format!("SELECT COUNT(*) {from}");
        let missing_sql = format!("SELECT COUNT(*) {from} {missing}");
        let list_sql = format!("SELECT seq, hash, record_id {from} {missing} ORDER BY seq LIMIT ?");
        let (changes, without_entry, listed): (i64, i64, Vec<(i64, String, String)>) =
            match &self.db {
                Db::Sqlite { reader, .. } => (
                    sqlx::query_scalar(sqlx::AssertSqlSafe(total_sql))
                        .fetch_one(reader)
                        .await?,
                    sqlx::query_scalar(sqlx::AssertSqlSafe(missing_sql))
                        .fetch_one(reader)
                        .await?,
                    sqlx::query_as(sqlx::AssertSqlSafe(list_sql))
                        .bind(MAX_LISTED_CHANGES)
                        .fetch_all(reader)
                        .await?,
                ),
                Db::Postgres { pool } => (
                    sqlx::query_scalar(sqlx::AssertSqlSafe(total_sql))
                        .fetch_one(pool)
                        .await?,
                    sqlx::query_scalar(sqlx::AssertSqlSafe(missing_sql))
                        .fetch_one(pool)
                        .await?,
                    sqlx::query_as(sqlx::AssertSqlSafe(numbered(&list_sql)))
                        .bind(MAX_LISTED_CHANGES)
                        .fetch_all(pool)
                        .await?,
                ),
            };
        Ok(ChangeLogCheck {
            changes,
            without_entry,
            listed,
        })
    }

    /// Every check this node can make by itself: the chain, the change log, and the chain at
    /// the last anchor `node` (this node) signed and recorded locally.
    pub async fn audit_check(&self, node: &str) -> Result<AuditCheck, StoreError> {
        let chain = self.audit_verify().await?;
        let change_log = self.audit_check_change_log().await?;
        let mut points = Vec::new();
        let mut not_checked = Vec::new();
        match self.newest_anchor(node).await? {
            Some(anchor) => points.push(
                self.audit_check_point(
                    "the last anchor this node signed",
                    anchor.audit_seq,
                    &anchor.audit_hash,
                    "anchor_mismatch",
                )
                .await?,
            ),
            None => not_checked.push("this node has signed no anchor yet".to_owned()),
        }
        Ok(AuditCheck {
            chain,
            change_log,
            points,
            not_checked,
        })
    }
}

/// A value bound to an anchor query.
enum AnchorBind<'a> {
    Text(&'a str),
    Number(i64),
}

/// The changes the audit log covers (migration 0010).
const CHANGES_AUDITED: &str =
    "FROM changes WHERE seq >= (SELECT first_audited_change FROM audit_coverage)";

/// Those without their `write` entry. `kind || ''` keeps the entry's kind out of the index
/// choice: SQLite otherwise probes `audit_log_by_kind_seq` (kind = 'write') and walks every
/// write entry for every change — quadratic; found by the fault soak's check of a relay with
/// 673,684 entries, unfinished after 35 minutes. By the change's hash it is one probe a change.
const WITHOUT_WRITE_ENTRY: &str = "AND NOT EXISTS (SELECT 1 FROM audit_log WHERE \
                                   audit_log.change_hash = changes.hash AND \
                                   audit_log.kind || '' = 'write')";

#[cfg(test)]
mod plan_tests {
    use super::{CHANGES_AUDITED, WITHOUT_WRITE_ENTRY};
    use crate::{Db, Store};

    /// The change-log cross-check probes the audit log by the change's hash, once a change —
    /// never by kind, which walks every write entry for every change.
    #[tokio::test]
    async fn the_change_log_cross_check_probes_the_audit_log_by_change_hash() {
        let dir = tempfile::tempdir().expect("dir");
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("plan.db").display());
        let store = Store::open(&url).await.expect("store");
        let Db::Sqlite { reader, .. } = &store.db else {
            unreachable!("a SQLite URL opens SQLite");
        };
        let sql =
            format!("EXPLAIN QUERY PLAN SELECT COUNT(*) {CHANGES_AUDITED} {WITHOUT_WRITE_ENTRY}");
        let plan: Vec<(i64, i64, i64, String)> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .fetch_all(reader)
            .await
            .expect("plan");
        let details: Vec<&str> = plan.iter().map(|row| row.3.as_str()).collect();
        assert!(
            details
                .iter()
                .any(|detail| detail.contains("audit_log_by_change")),
            "{details:?}"
        );
        assert!(
            !details
                .iter()
                .any(|detail| detail.contains("audit_log_by_kind_seq")),
            "{details:?}"
        );
        store.close().await;
    }
}
