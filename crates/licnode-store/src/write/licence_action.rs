//! The approval of a prepared licence action in one transaction (Art. 13, 19, 28): the new
//! licence event, the licence's new document and projection, their change-log rows and audit
//! entries, and the action's decision with its own audit entry — all stored, or none.

use licnode_doc::{LocalChange, RecordDoc};

use super::{
    Attribution, CounterTx, ModifyError, NewRecordRow, NextDocument, PreparedChange,
    PreparedRecord, WriteTx, decode, load_whole_document, local_change_row, next_saved,
};
use crate::Store;
use crate::dialect::with_writer;
use crate::licence_actions::{ActionDecision, ActionTx, LicenceAction};
use crate::projection::Projection;
use crate::read::StoredRecord;

/// What an approval stored: the licence as it now is, and the action as decided.
#[derive(Clone, Debug)]
pub struct ApprovedAction {
    pub licence: StoredRecord,
    pub action: LicenceAction,
}

impl Store {
    /// Approves the pending action `id` in one transaction: loads the action (its row locked)
    /// and its licence's document (locked), lets `judge` — the records service's rule — refuse
    /// or edit the licence, then inserts `event` (the licence event, already validated and
    /// built), stores the licence's change, and records `decision` on the action. Either all of
    /// it is committed or nothing is.
    pub async fn approve_licence_action<E>(
        &self,
        id: i64,
        event: PreparedRecord,
        attribution: &Attribution,
        decision: &ActionDecision<'_>,
        judge: impl FnOnce(&LicenceAction, &mut RecordDoc) -> Result<Option<LocalChange>, E>,
    ) -> Result<ApprovedAction, ModifyError<E>> {
        with_writer!(&self.db, |pool| {
            let mut tx = pool.begin().await?;
            let action = tx
                .load_action(id)
                .await?
                .ok_or_else(|| ModifyError::NotFound(format!("licence action {id}")))?;
            // Lock order, on every write path: the record's row, then the change log.
            let loaded = load_whole_document(&mut tx, &action.licence_id)
                .await?
                .ok_or_else(|| ModifyError::NotFound(action.licence_id.clone()))?;
            tx.lock_log().await?;
            let mut doc = decode(&action.licence_id, &loaded.bytes)?;
            let licence_change = judge(&action, &mut doc).map_err(ModifyError::Rejected)?;
            let count = 1 + i64::from(licence_change.is_some());
            let first_seq = tx.take("change_seq", count).await?;
            let event_keys = tx.new_keys(1).await?;
            let event_rows: Vec<NewRecordRow<'_>> = event_keys
                .into_iter()
                .map(|key| (key, first_seq, &event, 1))
                .collect();
            tx.insert_record_rows(&event_rows).await?;
            let mut changes: Vec<(i64, PreparedChange)> = vec![(first_seq, event.change.clone())];
            let mut licence = None;
            if let Some(local) = &licence_change {
                let seq = first_seq + 1;
                let (saved, chunk_count) = next_saved(&mut doc, loaded.chunk_count + 1);
                let projection = Projection::of(&doc, attribution.at_ms)?;
                let edit_state = doc.edit_state().map(|state| state.encode());
                changes.push((seq, local_change_row(&projection, local, attribution)));
                let next = NextDocument {
                    projection: &projection,
                    saved: saved.as_deref(),
                    chunk_count,
                    last_seq: seq,
                    edit_state: edit_state.as_deref(),
                };
                tx.store_existing(&[(&loaded, next)]).await?;
                licence = Some(StoredRecord::from_projection(loaded.key, seq, projection));
            }
            let rows: Vec<(i64, &PreparedChange)> =
                changes.iter().map(|(seq, change)| (*seq, change)).collect();
            tx.insert_changes(&rows).await?;
            let action = tx.record_decision(&action, decision).await?;
            tx.commit().await?;
            self.signal_change();
            let licence = match licence {
                Some(licence) => licence,
                None => self
                    .get(&action.licence_id)
                    .await?
                    .ok_or_else(|| ModifyError::NotFound(action.licence_id.clone()))?,
            };
            Ok(ApprovedAction { licence, action })
        })
    }
}
