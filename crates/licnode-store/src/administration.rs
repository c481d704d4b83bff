//! What the node's administrators and auditors read about the node itself: the audit log
//! searched newest first within a bounded window, the quarantine newest first, the links to
//! the children as this node's cursors and quarantine record them, and a user's API tokens
//! (listed by an identifier, revoked by it).
//!
//! Every query here is bounded: by a primary-key range, a `LIMIT`, or a table that holds one
//! row per neighbour or per token, so a page that calls it costs the same at any archive size.

use serde::Serialize;
use sqlx::Row;

use crate::audit::AuditRecord;
use crate::dialect::{with_reader, with_writer};
use crate::sync_state::{QuarantineEntry, SyncStream};
use crate::{AccountError, Store, StoreError};

/// Most audit entries one search looks at: entries are numbered, so the window is a range of
/// the primary key and the cost of a search does not grow with the log.
pub const AUDIT_SEARCH_WINDOW: i64 = 20_000;

/// A search of the audit log, newest first.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AuditSearch {
    /// Only entries of this kind.
    pub kind: Option<crate::AuditKind>,
    /// Only entries of this user.
    pub user: Option<String>,
    /// Only entries about this record.
    pub record_id: Option<String>,
    /// Only entries at or after this time (milliseconds since the epoch).
    pub from_ms: Option<i64>,
    /// Only entries before this time.
    pub until_ms: Option<i64>,
    /// Only entries numbered below this; from the head of the log when absent.
    pub before_seq: Option<i64>,
    /// Most entries answered.
    pub limit: i64,
}

/// One page of an audit search.
#[derive(Clone, Debug, Serialize)]
pub struct AuditSearchPage {
    /// The entries found, newest first.
    pub entries: Vec<AuditRecord>,
    /// The numbers looked at: from `looked_from` up to below `looked_below`.
    pub looked_from: i64,
    pub looked_below: i64,
    /// Where the next page starts (`before_seq`), or `None` when the start of the log was
    /// reached.
    pub next_before_seq: Option<i64>,
}

/// A quarantined change with its row number, for paging.
#[derive(Clone, Debug, Serialize)]
pub struct QuarantinedChange {
    pub id: i64,
    #[serde(flatten)]
    pub entry: QuarantineEntry,
}

/// What this node holds about a neighbour that pushes to it (a child).
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct ChildLink {
    /// The child's code.
    pub peer: String,
    /// The last number of the child's change log this node stored, if it ever pushed.
    pub pushed_up_to: Option<i64>,
    /// When that cursor last moved (the last push stored).
    pub last_push_ms: Option<i64>,
    /// Changes from this child in quarantine.
    pub quarantined: i64,
    /// The newest change from this child that was quarantined.
    pub last_quarantined_ms: Option<i64>,
}

/// An API token of a user, without its secret: the identifier is the SHA-256 of the token,
/// which does not let anyone act as the user.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct ApiTokenInfo {
    pub id: String,
    pub label: String,
    pub created_at_ms: i64,
    pub expires_at_ms: Option<i64>,
    pub revoked: bool,
}

/// A neighbour's code with two numbers (a cursor and its time; a count and the newest time).
type PeerRow = (String, i64, i64);

/// A value bound to a search.
enum Bind {
    Text(String),
    Number(i64),
}

type AuditRow = (
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

fn audit_record(row: AuditRow) -> AuditRecord {
    let (seq, at_ms, kind, node, user, record_id, change_hash, detail, prev_hash, hash) = row;
    AuditRecord {
        seq,
        at_ms,
        kind: crate::AuditKind::from_stored(&kind),
        node,
        user,
        record_id,
        change_hash,
        detail: serde_json::from_str(&detail).unwrap_or(serde_json::Value::String(detail)),
        prev_hash,
        hash,
    }
}

impl Store {
    /// The entries `search` selects, newest first. A search by kind, user or record reads its
    /// index (migration 0014) back from its start to the start of the log; a search by time
    /// alone looks at most [`AUDIT_SEARCH_WINDOW`] numbers below its start. A page that is not
    /// full says where the numbers looked at ended, so the next page looks further back.
    pub async fn audit_search(&self, search: &AuditSearch) -> Result<AuditSearchPage, StoreError> {
        let (head, _) = self.audit_head().await?;
        let below = search.before_seq.unwrap_or(head + 1).clamp(1, head + 1);
        let indexed = search.kind.is_some() || search.user.is_some() || search.record_id.is_some();
        let from = if indexed {
            1
        } else {
            (below - AUDIT_SEARCH_WINDOW).max(1)
        };
        let limit = search.limit.clamp(1, 1_000);
        let mut conditions = vec!["seq < $1".to_string(), "seq >= $2".to_string()];
        let mut binds = vec![Bind::Number(below), Bind::Number(from)];
        let mut add = |condition: &str, bind: Bind| {
            binds.push(bind);
            conditions.push(format!("{condition} ${}", binds.len()));
        };
        if let Some(kind) = &search.kind {
            add("kind =", Bind::Text(kind.as_str().to_owned()));
        }
        if let Some(user) = &search.user {
            add("user_name =", Bind::Text(user.clone()));
        }
        if let Some(record_id) = &search.record_id {
            add("record_id =", Bind::Text(record_id.clone()));
        }
        if let Some(from_ms) = search.from_ms {
            add("at_ms >=", Bind::Number(from_ms));
        }
        if let Some(until_ms) = search.until_ms {
            add("at_ms <", Bind::Number(until_ms));
        }
        binds.push(Bind::Number(limit));
        let sql = format!(
            "SELECT seq, at_ms, kind, node, user_name, record_id, change_hash, detail, \
             prev_hash, hash FROM audit_log WHERE {} ORDER BY seq DESC LIMIT ${}",
            conditions.join(" AND "),
            binds.len()
        );
        let rows: Vec<AuditRow> = with_reader!(&self.db, |pool| {
            let mut query = sqlx::query_as(sqlx::AssertSqlSafe(sql));
            for bind in &binds {
                query = match bind {
                    Bind::Text(text) => query.bind(text.clone()),
                    Bind::Number(number) => query.bind(*number),
                };
            }
            query.fetch_all(pool).await?
        });
        let entries: Vec<AuditRecord> = rows.into_iter().map(audit_record).collect();
        let next_before_seq = match entries.last() {
            Some(last) if entries.len() as i64 == limit => Some(last.seq),
            _ if from > 1 => Some(from),
            _ => None,
        };
        Ok(AuditSearchPage {
            entries,
            looked_from: from,
            looked_below: below,
            next_before_seq,
        })
    }

    /// Quarantined changes numbered below `before_id` (all when absent), newest first, at most
    /// `limit`.
    pub async fn quarantine_page(
        &self,
        before_id: Option<i64>,
        limit: i64,
    ) -> Result<Vec<QuarantinedChange>, StoreError> {
        let before_id = before_id.unwrap_or(i64::MAX);
        let limit = limit.clamp(1, 1_000);
        with_reader!(&self.db, |pool| {
            let rows = sqlx::query(
                "SELECT id, peer, hash, record_id, collection, jurisdiction, author_node, \
                 reason, message, received_at_ms FROM quarantine WHERE id < $1 \
                 ORDER BY id DESC LIMIT $2",
            )
            .bind(before_id)
            .bind(limit)
            .fetch_all(pool)
            .await?;
            rows.iter()
                .map(|row| {
                    Ok(QuarantinedChange {
                        id: row.try_get(0)?,
                        entry: QuarantineEntry {
                            peer: row.try_get(1)?,
                            hash: row.try_get(2)?,
                            record_id: row.try_get(3)?,
                            collection: row.try_get(4)?,
                            jurisdiction: row.try_get(5)?,
                            author_node: row.try_get(6)?,
                            reason: row.try_get(7)?,
                            message: row.try_get(8)?,
                            bytes: Vec::new(),
                            received_at_ms: row.try_get(9)?,
                        },
                    })
                })
                .collect::<Result<Vec<_>, StoreError>>()
        })
    }

    /// Every neighbour that pushed to this node or had a change quarantined, with its push
    /// cursor and its quarantined changes. (The cursor table holds one row per neighbour and
    /// stream; the quarantine is grouped by its `(peer, hash)` key.)
    pub async fn child_links(&self) -> Result<Vec<ChildLink>, StoreError> {
        let (cursors, quarantined): (Vec<PeerRow>, Vec<PeerRow>) = with_reader!(&self.db, |pool| {
            let cursors = sqlx::query_as(
                "SELECT peer, seq, updated_at_ms FROM sync_cursors WHERE stream = $1",
            )
            .bind(SyncStream::Push.as_str())
            .fetch_all(pool)
            .await?;
            let quarantined = sqlx::query_as(
                "SELECT peer, COUNT(*), MAX(received_at_ms) FROM quarantine GROUP BY peer",
            )
            .fetch_all(pool)
            .await?;
            (cursors, quarantined)
        });
        let mut links: std::collections::BTreeMap<String, ChildLink> = Default::default();
        for (peer, seq, updated_at_ms) in cursors {
            let link = links.entry(peer.clone()).or_default();
            link.peer = peer;
            link.pushed_up_to = Some(seq);
            link.last_push_ms = Some(updated_at_ms);
        }
        for (peer, count, newest) in quarantined {
            let link = links.entry(peer.clone()).or_default();
            link.peer = peer;
            link.quarantined = count;
            link.last_quarantined_ms = Some(newest);
        }
        Ok(links.into_values().collect())
    }

    /// The API tokens of `user`, newest first (login sessions are not listed).
    pub async fn api_tokens(&self, user: &str) -> Result<Vec<ApiTokenInfo>, AccountError> {
        let rows: Vec<(String, String, i64, Option<i64>, bool)> = with_reader!(&self.db, |pool| {
            sqlx::query_as(
                "SELECT token_hash, label, created_at_ms, expires_at_ms, revoked FROM tokens \
                     WHERE user_name = $1 AND kind = 'api' ORDER BY created_at_ms DESC LIMIT 200",
            )
            .bind(user)
            .fetch_all(pool)
            .await?
        });
        Ok(rows
            .into_iter()
            .map(
                |(id, label, created_at_ms, expires_at_ms, revoked)| ApiTokenInfo {
                    id,
                    label,
                    created_at_ms,
                    expires_at_ms,
                    revoked,
                },
            )
            .collect())
    }

    /// Revokes the API token `id` of `user` (an identifier from [`Store::api_tokens`]).
    pub async fn revoke_api_token(&self, user: &str, id: &str) -> Result<(), AccountError> {
        let changed = with_writer!(&self.db, |pool| {
            sqlx::query(
                "UPDATE tokens SET revoked = TRUE \
                 WHERE token_hash = $1 AND user_name = $2 AND kind = 'api'",
            )
            .bind(id)
            .bind(user)
            .execute(pool)
            .await?
            .rows_affected()
        });
        if changed == 0 {
            return Err(AccountError::NoSuchToken(id.chars().take(16).collect()));
        }
        Ok(())
    }
}
