//! The group commit of new local records: single-record inserts that arrive together are
//! committed in one transaction (one fsync for many staff writes), each caller answered with
//! its record's sequence number once the group is durable.

use super::transaction::NewRecordRow;
use super::{CounterTx, PreparedChange, PreparedRecord, WriteTx};
use crate::dialect::with_writer;
use crate::{Db, StoreError};

/// Most records one group commit carries.
pub(super) const MAX_GROUP: usize = 256;

type GroupReply = tokio::sync::oneshot::Sender<Result<i64, String>>;
pub(crate) type GroupSender = tokio::sync::mpsc::Sender<(PreparedRecord, GroupReply)>;

pub(super) async fn insert_new(
    db: &Db,
    records: &[PreparedRecord],
) -> Result<Vec<i64>, StoreError> {
    if records.is_empty() {
        return Ok(Vec::new());
    }
    let count = records.len() as i64;
    with_writer!(db, |pool| {
        let mut tx = pool.begin().await?;
        // The change log's counter first, as on every write path.
        let first_seq = tx.take("change_seq", count).await?;
        let keys = tx.new_keys(records.len()).await?;
        let rows: Vec<NewRecordRow<'_>> = records
            .iter()
            .zip(keys)
            .enumerate()
            .map(|(i, (record, key))| (key, first_seq + i as i64, record, 1))
            .collect();
        for chunk in rows.chunks(batch_rows(&tx)) {
            tx.insert_record_rows(chunk).await?;
            let changes: Vec<(i64, &PreparedChange)> = chunk
                .iter()
                .map(|(_, seq, record, ..)| (*seq, &record.change))
                .collect();
            tx.insert_changes(&changes).await?;
        }
        tx.commit().await?;
        Ok((first_seq..first_seq + count).collect())
    })
}

/// Rows per multi-row statement of the transaction's database.
fn batch_rows<T: WriteTx>(_tx: &T) -> usize {
    T::ROWS_PER_BATCH
}

/// Commits queued single-record inserts in groups until every sender is gone.
pub(super) async fn group_committer(
    db: Db,
    mut receiver: tokio::sync::mpsc::Receiver<(PreparedRecord, GroupReply)>,
) {
    // Issue 16: the planted bug the fault harness must find (test builds only).
    #[cfg(feature = "fault-injection")]
    if crate::fault_injection::acknowledges_before_commit() {
        return crate::fault_injection::answer_before_commit(db, receiver).await;
    }
    let mut waiting = Vec::with_capacity(MAX_GROUP);
    while receiver.recv_many(&mut waiting, MAX_GROUP).await > 0 {
        let (records, replies): (Vec<PreparedRecord>, Vec<GroupReply>) = waiting.drain(..).unzip();
        match insert_new(&db, &records).await {
            Ok(seqs) => {
                for (reply, seq) in replies.into_iter().zip(seqs) {
                    let _ = reply.send(Ok(seq));
                }
            }
            Err(error) => {
                tracing::error!(%error, records = records.len(), "group commit failed");
                for reply in replies {
                    let _ = reply.send(Err(error.to_string()));
                }
            }
        }
    }
}
