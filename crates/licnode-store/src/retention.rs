//! Keeping and destroying (Art. 37, 38), the store's side: the scan the retention service
//! judges due-ness on, the tombstones and destruction certificates, and the one transaction
//! that carries out an approved destruction. The rules — what is due, who may approve, whether
//! an approval's signature and times hold — are the retention service's (`licnode-app`), which
//! passes its due-ness judgement into [`Store::destroy_records`] so that it runs inside the
//! transaction, on the rows as they are then.
//!
//! A destroyed record cannot come back: the apply path drops every received change to a
//! tombstoned id (`without_destroyed`), whether it comes from a sync session, an
//! offline bundle or a peer that was offline during the destruction.

use std::collections::HashSet;

use futures_util::TryStreamExt;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use sqlx::Row;

use crate::dialect::{with_reader, with_writer};
use crate::write::WriteTx as _;
use crate::{Db, Store, StoreError};

/// The collection holding destruction requests and decisions.
pub const DESTRUCTIONS: &str = "destructions";

/// A signature made with a node key.
#[derive(Clone, Debug)]
pub struct Signature {
    pub scheme: u16,
    pub signature: Vec<u8>,
    pub chain: Vec<Vec<u8>>,
}

/// A node's key, as the approval needs it (implemented over the node PKI by the binary and
/// the server; the store knows no PKI).
pub trait NodeKey: Send + Sync {
    /// Signs `message` with this node's key.
    fn sign(&self, message: &[u8]) -> Result<Signature, String>;

    /// Verifies a chain and a signature over `message` exactly as a mutual-TLS peer's
    /// certificate is verified; returns the signer's node code, or a reason code and message.
    fn verify(
        &self,
        chain: &[Vec<u8>],
        message: &[u8],
        scheme: u16,
        signature: &[u8],
    ) -> Result<String, (String, String)>;
}

/// One destroyed record, as its certificate lists it.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct DestroyedRecord {
    pub id: String,
    pub collection: String,
    pub jurisdiction: String,
    pub due_on: String,
    /// Change-log rows removed.
    pub changes: i64,
}

/// A destruction certificate (销毁证明).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct DestructionCertificate {
    pub id: String,
    pub request_id: String,
    pub node: String,
    pub destroyed_by: String,
    pub destroyed_at_ms: i64,
    pub approving_node: String,
    pub approver: String,
    pub approved_at_ms: i64,
    /// The signed approval exactly as verified (a [`SignedDecision`]'s JSON).
    pub approval: String,
    pub records: Vec<DestroyedRecord>,
}

/// A record as a retention judgement needs it.
#[derive(Clone, Debug)]
pub struct HeldRecord {
    key: i64,
    pub id: String,
    pub collection: String,
    pub jurisdiction: String,
    pub data: Map<String, Value>,
    pub updated_at_ms: i64,
    enterprise_name: Option<String>,
}

/// key, id, collection, jurisdiction, data, updated_at_ms, enterprise_name.
type ScanRow = (i64, String, String, String, String, i64, Option<String>);
/// key, collection, jurisdiction, data, updated_at_ms, enterprise_name.
type HeldRow = (i64, String, String, String, i64, Option<String>);

fn parse_data(id: &str, text: &str) -> Result<Map<String, Value>, StoreError> {
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Ok(Map::new()),
        Err(source) => Err(StoreError::CorruptProjection {
            id: id.to_owned(),
            source,
        }),
    }
}

impl Store {
    /// Visits every record held but the destruction requests (kept for good) whose last change
    /// is before `changed_before_ms`, oldest change first, streamed so that a sweep of millions of
    /// records holds only what the visitor keeps. The retention service judges which have come
    /// due; a record's period never starts before its last change, so the service bounds the
    /// sweep by that (an indexed range read, migration 0011).
    pub async fn for_each_retained_record<F>(
        &self,
        changed_before_ms: i64,
        mut visit: F,
    ) -> Result<(), StoreError>
    where
        F: FnMut(HeldRecord),
    {
        let mut keep =
            |(key, id, collection, jurisdiction, data, updated_at_ms, enterprise_name): ScanRow| {
                visit(HeldRecord {
                    data: parse_data(&id, &data)?,
                    key,
                    id,
                    collection,
                    jurisdiction,
                    updated_at_ms,
                    enterprise_name,
                });
                Ok::<_, StoreError>(())
            };
        match &self.db {
            Db::Sqlite { reader, .. } => {
                let mut rows = sqlx::query_as::<_, ScanRow>(
                    "SELECT key, id, collection, jurisdiction, data, updated_at_ms, \
                     enterprise_name FROM records WHERE updated_at_ms < ? AND collection <> ? \
                     ORDER BY updated_at_ms, key",
                )
                .bind(changed_before_ms)
                .bind(DESTRUCTIONS)
                .fetch(reader);
                while let Some(row) = rows.try_next().await? {
                    keep(row)?;
                }
            }
            Db::Postgres { pool } => {
                let mut rows = sqlx::query_as::<_, ScanRow>(
                    "SELECT key, id, collection, jurisdiction, data::text, updated_at_ms, \
                     enterprise_name FROM records WHERE updated_at_ms < $1 AND collection <> $2 \
                     ORDER BY updated_at_ms, key",
                )
                .bind(changed_before_ms)
                .bind(DESTRUCTIONS)
                .fetch(pool);
                while let Some(row) = rows.try_next().await? {
                    keep(row)?;
                }
            }
        }
        Ok(())
    }

    /// The parent this node pulls changes from, as its replication cursors name it: `None`
    /// before its first session (or at the national node).
    pub async fn pulled_from(&self) -> Result<Option<String>, StoreError> {
        let stream = crate::SyncStream::Pull.as_str();
        let sql = "SELECT peer FROM sync_cursors WHERE stream = ";
        Ok(with_reader!(&self.db, |pool| {
            sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                "{sql}$1 ORDER BY updated_at_ms DESC LIMIT 1"
            )))
            .bind(stream)
            .fetch_optional(pool)
            .await?
        }))
    }

    /// Whether this node destroyed the record `id`.
    pub async fn is_destroyed(&self, id: &str) -> Result<bool, StoreError> {
        let found: Option<String> = with_reader!(&self.db, |pool| {
            sqlx::query_scalar("SELECT record_id FROM tombstones WHERE record_id = $1")
                .bind(id)
                .fetch_optional(pool)
                .await?
        });
        Ok(found.is_some())
    }

    /// Every destruction certificate, oldest first.
    pub async fn destruction_certificates(
        &self,
    ) -> Result<Vec<DestructionCertificate>, StoreError> {
        const COLUMNS: &str = "id, request_id, node, destroyed_by, destroyed_at_ms, \
             approving_node, approver, approved_at_ms, approval, records";
        with_reader!(&self.db, |pool| sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM destruction_certificates ORDER BY destroyed_at_ms, id"
        )))
        .fetch_all(pool)
        .await?
        .iter()
        .map(certificate_row)
        .collect::<Result<Vec<_>, _>>())
    }

    /// Carries out an approved destruction in one transaction: each named record's document,
    /// projection, name index, change-log and quarantine rows go; a tombstone per record, a
    /// destruction certificate and one audit entry per record stay. `judge` is asked, inside
    /// the transaction and on the rows as they are now, whether each held record is due and
    /// returns its due date; its refusal rolls everything back.
    pub async fn destroy_records<J, E>(
        &self,
        order: &DestructionOrder<'_>,
        judge: J,
    ) -> Result<DestructionCertificate, DestroyError<E>>
    where
        J: Fn(&HeldRecord) -> Result<String, E>,
    {
        with_writer!(&self.db, |pool| {
            let mut tx = pool.begin().await?;
            let done: Option<String> =
                sqlx::query_scalar("SELECT id FROM destruction_certificates WHERE request_id = $1")
                    .bind(order.request_id)
                    .fetch_optional(&mut *tx)
                    .await?;
            if done.is_some() {
                return Err(DestroyError::AlreadyDestroyed);
            }
            let held = tx.held_records(order.record_ids).await?;
            // Lock order, on every write path: the records' rows, then the change log. A batch
            // received meanwhile reads the tombstones again under the log's lock, so its
            // changes to these records are dropped (Art. 38).
            tx.lock_log().await?;
            let mut destroyed = Vec::new();
            for record in &held {
                // The rule is the caller's: the store only carries out what it is told is due.
                let due_on = judge(record).map_err(DestroyError::Refused)?;
                destroyed.push((record, due_on));
            }
            let mut listed = Vec::new();
            for (record, due_on) in destroyed {
                let changes = tx.remove_record(record, order).await?;
                listed.push(DestroyedRecord {
                    id: record.id.clone(),
                    collection: record.collection.clone(),
                    jurisdiction: record.jurisdiction.clone(),
                    due_on,
                    changes,
                });
            }
            let certificate = order.certificate(listed);
            tx.record_certificate(&certificate).await?;
            tx.commit().await?;
            Ok(certificate)
        })
    }
}

/// A destruction's steps inside its write transaction, on either database.
trait DestroyTx {
    /// The records of `ids` that exist, locked for this transaction.
    async fn held_records(&mut self, ids: &[String]) -> Result<Vec<HeldRecord>, StoreError>;
    /// Deletes a record, its document, its change-log rows and its quarantined changes, and
    /// leaves its tombstone; returns how many changes went.
    async fn remove_record(
        &mut self,
        record: &HeldRecord,
        order: &DestructionOrder<'_>,
    ) -> Result<i64, StoreError>;
    /// Stores the certificate and one audit entry per destroyed record (Art. 37, 38).
    async fn record_certificate(
        &mut self,
        certificate: &DestructionCertificate,
    ) -> Result<(), StoreError>;
}

crate::dialect::impl_for_each_transaction!(DestroyTx {
    async fn held_records(&mut self, ids: &[String]) -> Result<Vec<HeldRecord>, StoreError> {
        use crate::dialect::BackendTx as _;
        let dialect = Self::DIALECT;
        let sql = format!(
            "SELECT key, collection, jurisdiction, {data}, updated_at_ms, enterprise_name \
             FROM records WHERE id = $1{lock}",
            data = dialect.json_as_text("data"),
            lock = dialect.for_update(),
        );
        let mut held = Vec::new();
        for id in ids {
            let row: Option<HeldRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
                .bind(id)
                .fetch_optional(&mut **self)
                .await?;
            if let Some((key, collection, jurisdiction, data, updated_at_ms, enterprise_name)) = row {
                held.push(HeldRecord {
                    key,
                    id: id.clone(),
                    data: parse_data(id, &data)?,
                    collection,
                    jurisdiction,
                    updated_at_ms,
                    enterprise_name,
                });
            }
        }
        Ok(held)
    }

    async fn remove_record(
        &mut self,
        record: &HeldRecord,
        order: &DestructionOrder<'_>,
    ) -> Result<i64, StoreError> {
        use crate::dialect::BackendTx as _;
        // On PostgreSQL the public name grams go with the row (trigger, migration 0003); SQLite
        // keeps them in a separate full-text table.
        if Self::DIALECT.has_separate_name_index() && record.enterprise_name.is_some() {
            sqlx::query("DELETE FROM name_index WHERE rowid = $1")
                .bind(record.key)
                .execute(&mut **self)
                .await?;
        }
        sqlx::query("DELETE FROM documents WHERE key = $1")
            .bind(record.key)
            .execute(&mut **self)
            .await?;
        sqlx::query("DELETE FROM records WHERE key = $1")
            .bind(record.key)
            .execute(&mut **self)
            .await?;
        let changes = sqlx::query("DELETE FROM changes WHERE record_id = $1")
            .bind(&record.id)
            .execute(&mut **self)
            .await?
            .rows_affected();
        sqlx::query("DELETE FROM quarantine WHERE record_id = $1")
            .bind(&record.id)
            .execute(&mut **self)
            .await?;
        sqlx::query(
            "INSERT INTO tombstones (record_id, collection, jurisdiction, destroyed_at_ms, \
             certificate_id) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (record_id) DO NOTHING",
        )
        .bind(&record.id)
        .bind(&record.collection)
        .bind(&record.jurisdiction)
        .bind(order.destroyed_at_ms)
        .bind(order.certificate_id)
        .execute(&mut **self)
        .await?;
        Ok(changes as i64)
    }

    async fn record_certificate(
        &mut self,
        certificate: &DestructionCertificate,
    ) -> Result<(), StoreError> {
        use crate::audit::AuditTx as _;
        sqlx::query(
            "INSERT INTO destruction_certificates (id, request_id, node, destroyed_by, \
             destroyed_at_ms, approving_node, approver, approved_at_ms, approval, records) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(&certificate.id)
        .bind(&certificate.request_id)
        .bind(&certificate.node)
        .bind(&certificate.destroyed_by)
        .bind(certificate.destroyed_at_ms)
        .bind(&certificate.approving_node)
        .bind(&certificate.approver)
        .bind(certificate.approved_at_ms)
        .bind(&certificate.approval)
        .bind(records_json(certificate))
        .execute(&mut **self)
        .await?;
        self.append_audit(&audit_entries(certificate)).await?;
        Ok(())
    }
});

fn certificate_row<R: Row>(row: &R) -> Result<DestructionCertificate, StoreError>
where
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    for<'a> String: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> i64: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    let id: String = row.try_get("id")?;
    let records: String = row.try_get("records")?;
    let records =
        serde_json::from_str(&records).map_err(|source| StoreError::CorruptProjection {
            id: id.clone(),
            source,
        })?;
    Ok(DestructionCertificate {
        id,
        request_id: row.try_get("request_id")?,
        node: row.try_get("node")?,
        destroyed_by: row.try_get("destroyed_by")?,
        destroyed_at_ms: row.try_get("destroyed_at_ms")?,
        approving_node: row.try_get("approving_node")?,
        approver: row.try_get("approver")?,
        approved_at_ms: row.try_get("approved_at_ms")?,
        approval: row.try_get("approval")?,
        records,
    })
}

/// What an approved destruction names, as the retention service verified it.
#[derive(Clone, Copy, Debug)]
pub struct DestructionOrder<'a> {
    pub request_id: &'a str,
    /// Sorted, unique.
    pub record_ids: &'a [String],
    pub certificate_id: &'a str,
    /// This node.
    pub node: &'a str,
    pub destroyed_by: &'a str,
    pub destroyed_at_ms: i64,
    pub approving_node: &'a str,
    pub approver: &'a str,
    pub approved_at_ms: i64,
    /// The signed approval exactly as verified.
    pub approval: &'a str,
}

impl DestructionOrder<'_> {
    fn certificate(&self, records: Vec<DestroyedRecord>) -> DestructionCertificate {
        DestructionCertificate {
            id: self.certificate_id.to_owned(),
            request_id: self.request_id.to_owned(),
            node: self.node.to_owned(),
            destroyed_by: self.destroyed_by.to_owned(),
            destroyed_at_ms: self.destroyed_at_ms,
            approving_node: self.approving_node.to_owned(),
            approver: self.approver.to_owned(),
            approved_at_ms: self.approved_at_ms,
            approval: self.approval.to_owned(),
            records,
        }
    }
}

/// Why [`Store::destroy_records`] carried nothing out.
#[derive(Debug, thiserror::Error)]
pub enum DestroyError<E> {
    /// A certificate for this request exists already.
    #[error("the request was already carried out")]
    AlreadyDestroyed,
    /// The caller's judge refused a record.
    #[error("refused")]
    Refused(E),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl<E> From<sqlx::Error> for DestroyError<E> {
    fn from(error: sqlx::Error) -> Self {
        DestroyError::Store(StoreError::Database(error))
    }
}

/// One audit entry per destroyed record, in the destruction's transaction: the log says what
/// went, when, by whom and on whose approval, even though the record itself is gone.
fn audit_entries(certificate: &DestructionCertificate) -> Vec<crate::audit::AuditEntry> {
    certificate
        .records
        .iter()
        .map(|record| {
            crate::audit::AuditEntry::new(
                crate::audit::AuditKind::Destruction,
                &certificate.node,
                &certificate.destroyed_by,
                certificate.destroyed_at_ms,
            )
            .record(&record.id)
            .detail(json!({
                "certificate": certificate.id,
                "request": certificate.request_id,
                "collection": record.collection,
                "jurisdiction": record.jurisdiction,
                "due_on": record.due_on,
                "changes": record.changes,
                "approving_node": certificate.approving_node,
                "approver": certificate.approver,
                "approved_at_ms": certificate.approved_at_ms,
            }))
        })
        .collect()
}

fn records_json(certificate: &DestructionCertificate) -> String {
    serde_json::to_string(&certificate.records).unwrap_or_else(|_| "[]".to_owned())
}

/// The received changes of `by_record` without those to records this node destroyed
/// (`destroyed`, read by the apply path inside its write transaction, so a destruction and a
/// batch never interleave), which are dropped and counted as already held: the node had them
/// and destroyed them on its superior's approval (Art. 38). They are not quarantined either,
/// since the quarantine keeps a change's bytes.
pub(crate) fn without_destroyed<'a, T>(
    by_record: Vec<(&'a str, Vec<T>)>,
    destroyed: &HashSet<String>,
    outcome: &mut crate::write::ApplyOutcome,
) -> Vec<(&'a str, Vec<T>)> {
    if destroyed.is_empty() {
        return by_record;
    }
    by_record
        .into_iter()
        .filter(|(id, changes)| {
            let keep = !destroyed.contains(*id);
            if !keep {
                tracing::info!(
                    record = id,
                    changes = changes.len(),
                    "changes to a destroyed record dropped"
                );
                outcome.duplicates += changes.len();
            }
            keep
        })
        .collect()
}
