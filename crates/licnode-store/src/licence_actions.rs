//! Prepared licence actions (Art. 13, 19, 28; migration 0011): the node-local work items a clerk
//! prepares and an approver approves or refuses. The store keeps them and carries out a
//! decision in one transaction with its audit entry; the records service (`licnode-app`) passes
//! in the judgement of whether the decision may be made, so it runs inside that transaction.
//! The approval itself, which also writes the licence event and the licence, is
//! `Store::approve_licence_action` (`write/licence_action.rs`).

use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::audit::{AuditEntry, AuditKind, AuditTx};
use crate::dialect::{BackendTx, with_reader, with_writer};
use crate::{ModifyError, Store, StoreError};

/// Most actions one page lists.
pub const MAX_PAGE: i64 = 200;

/// The states of a prepared action.
pub mod states {
    /// Waiting for an approver (待审批).
    pub const PENDING: &str = "pending";
    /// Approved: the licence event was written, and the licence's status with it.
    pub const APPROVED: &str = "approved";
    /// Refused by an approver, with a reason.
    pub const REFUSED: &str = "refused";
}

/// One prepared licence action.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct LicenceAction {
    pub id: i64,
    pub licence_id: String,
    /// The licence event's kind (`change`, `withdrawal`, `revocation`, …).
    pub event_kind: String,
    pub enterprise_name: Option<String>,
    pub licence_number: Option<String>,
    /// The prepared licence event's validated fields.
    pub fields: Map<String, Value>,
    pub state: String,
    pub prepared_by: String,
    pub prepared_at_ms: i64,
    pub decided_by: Option<String>,
    pub decided_at_ms: Option<i64>,
    pub decision_reason: Option<String>,
    /// The `licence_events` record written on approval.
    pub event_id: Option<String>,
}

/// A licence action to keep, as prepared.
#[derive(Clone, Debug)]
pub struct NewLicenceAction<'a> {
    pub licence_id: &'a str,
    pub event_kind: &'a str,
    pub enterprise_name: Option<&'a str>,
    pub licence_number: Option<&'a str>,
    pub fields: &'a Map<String, Value>,
    pub prepared_by: &'a str,
    pub prepared_at_ms: i64,
    /// The node's code, for the audit entry.
    pub node: &'a str,
}

/// Which actions a page lists: newest first, one state or all, one licence or all, before the
/// id `before` (the paging cursor).
#[derive(Clone, Debug, Default)]
pub struct LicenceActionQuery {
    pub state: Option<String>,
    pub licence_id: Option<String>,
    pub before: Option<i64>,
    pub limit: i64,
}

/// A decision to record on a pending action.
#[derive(Clone, Debug)]
pub struct ActionDecision<'a> {
    pub state: &'static str,
    pub decided_by: &'a str,
    pub decided_at_ms: i64,
    pub reason: Option<&'a str>,
    pub event_id: Option<&'a str>,
    /// The node's code, for the audit entry.
    pub node: &'a str,
}

pub(crate) const COLUMNS: &str = "id, licence_id, event_kind, enterprise_name, licence_number, \
     fields, state, prepared_by, prepared_at_ms, decided_by, decided_at_ms, decision_reason, \
     event_id";

/// One row of `licence_actions`, selected with [`COLUMNS`].
pub(crate) type ActionRow = (
    i64,
    String,
    String,
    Option<String>,
    Option<String>,
    String,
    String,
    String,
    i64,
    Option<String>,
    Option<i64>,
    Option<String>,
    Option<String>,
);

/// The action a row holds.
pub(crate) fn action_of(row: ActionRow) -> Result<LicenceAction, StoreError> {
    let (id, licence_id, event_kind, enterprise_name, licence_number, fields_text, state) =
        (row.0, row.1, row.2, row.3, row.4, row.5, row.6);
    let fields =
        serde_json::from_str(&fields_text).map_err(|source| StoreError::CorruptProjection {
            id: format!("licence action {id}"),
            source,
        })?;
    Ok(LicenceAction {
        id,
        licence_id,
        event_kind,
        enterprise_name,
        licence_number,
        fields,
        state,
        prepared_by: row.7,
        prepared_at_ms: row.8,
        decided_by: row.9,
        decided_at_ms: row.10,
        decision_reason: row.11,
        event_id: row.12,
    })
}

/// The audit entry of a step of action `id` on `licence_id`.
pub(crate) fn audit_entry(
    step: &str,
    node: &str,
    user: &str,
    at_ms: i64,
    action: &LicenceAction,
    reason: Option<&str>,
) -> AuditEntry {
    AuditEntry::new(AuditKind::LicenceAction, node, user, at_ms)
        .record(&action.licence_id)
        .detail(json!({
            "action": action.id,
            "step": step,
            "event_kind": action.event_kind,
            "reason": reason,
            "event_id": action.event_id,
        }))
}

crate::dialect::impl_for_each_transaction!(ActionTx {
    async fn load_action(&mut self, id: i64) -> Result<Option<LicenceAction>, StoreError> {
        let row: Option<ActionRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM licence_actions WHERE id = $1{}",
            <Self as BackendTx>::DIALECT.for_update()
        )))
        .bind(id)
        .fetch_optional(&mut **self)
        .await?;
        row.map(action_of).transpose()
    }

    async fn record_decision(
        &mut self,
        action: &LicenceAction,
        decision: &ActionDecision<'_>,
    ) -> Result<LicenceAction, StoreError> {
        sqlx::query(
            "UPDATE licence_actions SET state = $1, decided_by = $2, decided_at_ms = $3, \
             decision_reason = $4, event_id = $5 WHERE id = $6 AND state = 'pending'",
        )
        .bind(decision.state)
        .bind(decision.decided_by)
        .bind(decision.decided_at_ms)
        .bind(decision.reason)
        .bind(decision.event_id)
        .bind(action.id)
        .execute(&mut **self)
        .await?;
        let decided = LicenceAction {
            state: decision.state.to_string(),
            decided_by: Some(decision.decided_by.to_string()),
            decided_at_ms: Some(decision.decided_at_ms),
            decision_reason: decision.reason.map(str::to_string),
            event_id: decision.event_id.map(str::to_string),
            ..action.clone()
        };
        self.append_audit(&[audit_entry(
            decision.state,
            decision.node,
            decision.decided_by,
            decision.decided_at_ms,
            &decided,
            decision.reason,
        )])
        .await?;
        Ok(decided)
    }
});

/// Reads and decides prepared actions inside a write transaction of either database.
pub(crate) trait ActionTx {
    /// The action `id`, its row locked for the transaction (PostgreSQL).
    async fn load_action(&mut self, id: i64) -> Result<Option<LicenceAction>, StoreError>;
    /// Records `decision` on the pending `action` with its audit entry; returns the action as
    /// decided.
    async fn record_decision(
        &mut self,
        action: &LicenceAction,
        decision: &ActionDecision<'_>,
    ) -> Result<LicenceAction, StoreError>;
}

impl Store {
    /// Keeps a prepared action (state `pending`) with its audit entry, in one transaction.
    pub async fn insert_licence_action(
        &self,
        new: &NewLicenceAction<'_>,
    ) -> Result<LicenceAction, StoreError> {
        let fields_text = serde_json::to_string(new.fields).unwrap_or_else(|_| "{}".into());
        with_writer!(&self.db, |pool| {
            let mut tx = pool.begin().await?;
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO licence_actions (licence_id, event_kind, enterprise_name, \
                 licence_number, fields, state, prepared_by, prepared_at_ms) \
                 VALUES ($1, $2, $3, $4, $5, 'pending', $6, $7) RETURNING id",
            )
            .bind(new.licence_id)
            .bind(new.event_kind)
            .bind(new.enterprise_name)
            .bind(new.licence_number)
            .bind(&fields_text)
            .bind(new.prepared_by)
            .bind(new.prepared_at_ms)
            .fetch_one(&mut *tx)
            .await?;
            let action = LicenceAction {
                id,
                licence_id: new.licence_id.to_string(),
                event_kind: new.event_kind.to_string(),
                enterprise_name: new.enterprise_name.map(str::to_string),
                licence_number: new.licence_number.map(str::to_string),
                fields: new.fields.clone(),
                state: states::PENDING.to_string(),
                prepared_by: new.prepared_by.to_string(),
                prepared_at_ms: new.prepared_at_ms,
                decided_by: None,
                decided_at_ms: None,
                decision_reason: None,
                event_id: None,
            };
            tx.append_audit(&[audit_entry(
                "prepared",
                new.node,
                new.prepared_by,
                new.prepared_at_ms,
                &action,
                None,
            )])
            .await?;
            tx.commit().await?;
            Ok(action)
        })
    }

    /// One action.
    pub async fn licence_action(&self, id: i64) -> Result<Option<LicenceAction>, StoreError> {
        with_reader!(&self.db, |pool| {
            let row: Option<ActionRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {COLUMNS} FROM licence_actions WHERE id = $1"
            )))
            .bind(id)
            .fetch_optional(pool)
            .await?;
            row.map(action_of).transpose()
        })
    }

    /// A page of actions, newest first; one indexed range read (by state, or by licence).
    pub async fn licence_actions(
        &self,
        query: &LicenceActionQuery,
    ) -> Result<Vec<LicenceAction>, StoreError> {
        let limit = query.limit.clamp(1, MAX_PAGE);
        let before = query.before.unwrap_or(i64::MAX);
        // Only the conditions given, so that each shape of the query is one range read of its
        // index (by state, by licence, or the primary key).
        let mut conditions = vec!["id < $1".to_string()];
        let mut texts = Vec::new();
        for (column, value) in [("state", &query.state), ("licence_id", &query.licence_id)] {
            if let Some(value) = value {
                texts.push(value.clone());
                conditions.push(format!("{column} = ${}", texts.len() + 2));
            }
        }
        let sql = format!(
            "SELECT {COLUMNS} FROM licence_actions WHERE {} ORDER BY id DESC LIMIT $2",
            conditions.join(" AND ")
        );
        with_reader!(&self.db, |pool| {
            let mut select = sqlx::query_as::<_, ActionRow>(sqlx::AssertSqlSafe(sql))
                .bind(before)
                .bind(limit);
            for text in &texts {
                select = select.bind(text);
            }
            let rows: Vec<ActionRow> = select.fetch_all(pool).await?;
            rows.into_iter().map(action_of).collect()
        })
    }

    /// How many actions wait for an approver (one indexed count).
    pub async fn pending_licence_action_count(&self) -> Result<i64, StoreError> {
        Ok(with_reader!(&self.db, |pool| {
            sqlx::query_scalar("SELECT COUNT(*) FROM licence_actions WHERE state = 'pending'")
                .fetch_one(pool)
                .await?
        }))
    }

    /// Refuses a pending action: `judge` (the records service's rule) sees the action as stored,
    /// inside the transaction, and may refuse; then the decision and its audit entry are
    /// written together.
    pub async fn refuse_licence_action<E>(
        &self,
        id: i64,
        decision: &ActionDecision<'_>,
        judge: impl FnOnce(&LicenceAction) -> Result<(), E>,
    ) -> Result<LicenceAction, ModifyError<E>> {
        with_writer!(&self.db, |pool| {
            let mut tx = pool.begin().await?;
            let action = tx
                .load_action(id)
                .await?
                .ok_or_else(|| ModifyError::NotFound(id.to_string()))?;
            judge(&action).map_err(ModifyError::Rejected)?;
            let decided = tx.record_decision(&action, decision).await?;
            tx.commit().await?;
            Ok(decided)
        })
    }
}
