//! Faults planted for the harness, compiled only with the `fault-injection` feature (test
//! builds) and switched on only by the node's environment at start:
//!
//! - `LICNODE_FAULT_ACKNOWLEDGE_BEFORE_COMMIT=1`, a durability bug for the harness to find
//!   (below);
//! - `LICNODE_FAULT_HOLD_REPORT_RUNS=<file>`, which holds every report run that built a report
//!   just before the run is recorded finished, for as long as the file exists: a test kills the
//!   process holding it, so that a kill lands inside a report run by construction.
//!
//! With the switch on, the group committer answers a staff write as soon as the record's row
//! and document are committed, and commits the record's change-log rows (and their audit
//! entries) a second later in a transaction of their own. A kill -9 in that second loses
//! changes that were acknowledged: the record never replicates. The harness must report it.

use std::time::Duration;

use crate::dialect::with_writer;
use crate::write::{CounterTx, PreparedChange, PreparedRecord, WriteTx};
use crate::{Db, StoreError};

/// The environment variable that switches the planted bug on.
pub const ACKNOWLEDGE_BEFORE_COMMIT: &str = "LICNODE_FAULT_ACKNOWLEDGE_BEFORE_COMMIT";

/// The environment variable naming the file that holds report runs while it exists.
pub const HOLD_REPORT_RUNS: &str = "LICNODE_FAULT_HOLD_REPORT_RUNS";

/// Waits while the file named by [`HOLD_REPORT_RUNS`] exists (at once when it is not set).
pub(crate) async fn hold_report_run() {
    let Some(file) = std::env::var_os(HOLD_REPORT_RUNS) else {
        return;
    };
    let file = std::path::PathBuf::from(file);
    if file.exists() {
        tracing::warn!("{HOLD_REPORT_RUNS} is set: a report run is held before it finishes");
    }
    while file.exists() {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// How long the change-log rows wait after the answer.
const DEFERRAL: Duration = Duration::from_secs(1);

type Reply = tokio::sync::oneshot::Sender<Result<i64, String>>;

/// Whether the node was started with the planted bug switched on.
pub(crate) fn acknowledges_before_commit() -> bool {
    std::env::var(ACKNOWLEDGE_BEFORE_COMMIT).as_deref() == Ok("1")
}

/// The group committer with the planted bug: answers, then commits the change-log rows.
pub(crate) async fn answer_before_commit(
    db: Db,
    mut receiver: tokio::sync::mpsc::Receiver<(PreparedRecord, Reply)>,
) {
    tracing::warn!("{ACKNOWLEDGE_BEFORE_COMMIT} is set: writes are acknowledged before commit");
    let mut waiting = Vec::new();
    while receiver.recv_many(&mut waiting, 256).await > 0 {
        let (records, replies): (Vec<PreparedRecord>, Vec<Reply>) = waiting.drain(..).unzip();
        match commit_records_without_changes(&db, &records).await {
            Ok(first_seq) => {
                for (offset, reply) in replies.into_iter().enumerate() {
                    let _ = reply.send(Ok(first_seq + offset as i64));
                }
                tokio::time::sleep(DEFERRAL).await;
                let changes: Vec<(i64, &PreparedChange)> = records
                    .iter()
                    .enumerate()
                    .map(|(offset, record)| (first_seq + offset as i64, &record.change))
                    .collect();
                if let Err(error) = commit_changes(&db, &changes).await {
                    tracing::error!(%error, "deferred change rows failed");
                }
            }
            Err(error) => {
                for reply in replies {
                    let _ = reply.send(Err(error.to_string()));
                }
            }
        }
    }
}

/// Commits the records' rows and documents, numbering their changes; returns the first number.
async fn commit_records_without_changes(
    db: &Db,
    records: &[PreparedRecord],
) -> Result<i64, StoreError> {
    let count = records.len() as i64;
    with_writer!(db, |pool| {
        let mut tx = pool.begin().await?;
        let first_seq = tx.take("change_seq", count).await?;
        let keys = tx.new_keys(records.len()).await?;
        let rows: Vec<_> = records
            .iter()
            .zip(keys)
            .enumerate()
            .map(|(i, (record, key))| (key, first_seq + i as i64, record, 1))
            .collect();
        for row in &rows {
            tx.insert_record_rows(std::slice::from_ref(row)).await?;
        }
        tx.commit().await?;
        Ok(first_seq)
    })
}

/// Commits change-log rows (with their audit entries).
async fn commit_changes(db: &Db, changes: &[(i64, &PreparedChange)]) -> Result<(), StoreError> {
    with_writer!(db, |pool| {
        let mut tx = pool.begin().await?;
        for change in changes {
            tx.insert_changes(std::slice::from_ref(change)).await?;
        }
        tx.commit().await?;
        Ok(())
    })
}
