//! Writes: new records in bulk, read-modify-write of one record, and changes received from
//! other nodes. Every write stores the document, its projection and its change-log rows in one
//! transaction, and takes change sequence numbers from the node's gap-free counter.

use std::collections::{HashMap, HashSet};

use licnode_doc::{LocalChange, RecordDoc};

use crate::dialect::with_writer;
use crate::projection::Projection;
use crate::read::{LAST_SEQ_IN_THE_LOG, StoredRecord};
use crate::sync_state::QuarantineReason;
use crate::{LoggedChange, Store, StoreError};

mod edit;
mod first_change;
mod group_commit;
mod licence_action;
mod postgres;
mod sqlite;
mod transaction;

pub use licence_action::ApprovedAction;

pub(crate) use group_commit::GroupSender;
use group_commit::{MAX_GROUP, group_committer, insert_new};
pub(crate) use transaction::{CounterTx, LoadedDocument, WriteTx};
use transaction::{
    DocumentRow, ExistingRow, NewDocument, NewProjection, NewRecordRow, NextDocument,
};

/// A document is saved whole again once this many changes were added to it since it was
/// saved: its changes in the log after its saved bytes (migration 0024), which loading it
/// reads and applies one by one.
const MAX_APPENDED_CHUNKS: i64 = 24;

/// Rows per multi-row INSERT statement.
const ROWS_PER_STATEMENT: usize = 400;

/// A new record, its document built and its projection computed, ready to insert. Its
/// document is its one change, `change`: stored once, in the change log (migration 0024).
#[derive(Clone, Debug)]
pub struct PreparedRecord {
    pub projection: Projection,
    pub change: PreparedChange,
    /// The document's `licnode_doc::EditState` (encoded), when it has one: the next plain edit
    /// received is then read onto the projection without loading the document.
    pub edit_state: Option<Vec<u8>>,
}

/// A change-log row before it has a sequence number.
#[derive(Clone, Debug)]
pub struct PreparedChange {
    /// The change's hash, typed until it is bound into SQL (as lowercase hex, its stored form).
    pub hash: licnode_doc::ChangeHash,
    pub record_id: String,
    pub collection: String,
    pub jurisdiction: String,
    pub author_node: String,
    pub author_user: String,
    /// The node this change was received from; this node's own code for local changes.
    pub origin: String,
    pub at_ms: i64,
    pub bytes: Vec<u8>,
}

/// What became of a batch of received changes.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ApplyOutcome {
    /// Hashes of the changes applied and logged, in log order.
    pub applied: Vec<String>,
    /// Changes this node already had.
    pub duplicates: usize,
    /// Changes whose dependencies have not arrived; not logged, to be delivered again.
    pub pending: Vec<String>,
    /// Changes refused, with the reason: malformed bytes, or metadata that contradicts the
    /// record's document.
    pub refused: Vec<(String, String)>,
    /// The reason code of refused changes (by hash) that the document did not refuse itself:
    /// `identity_conflict`, `invalid_record`. Every other refusal is `refused_by_document`.
    pub refusal_codes: HashMap<String, QuarantineReason>,
    /// Of the applied changes, those read from their operations without loading or building
    /// their record's document: first changes and plain edits (issue 14 item 2).
    pub read_without_document: usize,
}

/// Reason code of a received change that would give a record a second id, collection or
/// jurisdiction, even as a losing concurrent value (issue 11 item 6).
pub const REASON_IDENTITY_CONFLICT: &str = QuarantineReason::IdentityConflict.as_str();
/// Reason code of a received change after which the record fails the validation a local write
/// of the same fields must pass (issue 11 item 6).
pub const REASON_INVALID_RECORD: &str = QuarantineReason::InvalidRecord.as_str();

/// The outcome of [`Store::modify`].
#[derive(Debug, thiserror::Error)]
pub enum ModifyError<E> {
    #[error("no record {0}")]
    NotFound(String),
    #[error(transparent)]
    Rejected(E),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl<E> From<sqlx::Error> for ModifyError<E> {
    fn from(error: sqlx::Error) -> Self {
        ModifyError::Store(StoreError::Database(error))
    }
}

/// Who made a local change, for its change-log row.
#[derive(Clone, Debug)]
pub struct Attribution {
    pub node: String,
    pub user: String,
    pub at_ms: i64,
}

impl Store {
    /// Inserts one new record and returns its change sequence number once it is committed.
    ///
    /// Concurrent callers share transactions (group commit): a committer task takes every
    /// record waiting, up to [`MAX_GROUP`], and commits them together, so staff writing at once
    /// pay for one fsync between them instead of one each. Each caller is answered only after
    /// the transaction holding its record has committed.
    pub async fn insert_one(&self, record: PreparedRecord) -> Result<i64, StoreError> {
        let sender = self
            .group
            .get_or_init(|| {
                let (sender, receiver) = tokio::sync::mpsc::channel(4 * MAX_GROUP);
                tokio::spawn(group_committer(self.db.clone(), receiver));
                sender
            })
            .clone();
        let (reply, answer) = tokio::sync::oneshot::channel();
        sender
            .send((record, reply))
            .await
            .map_err(|_| StoreError::GroupCommit("the committer has stopped".into()))?;
        let seq = answer
            .await
            .map_err(|_| StoreError::GroupCommit("the committer dropped the write".into()))?
            .map_err(StoreError::GroupCommit)?;
        self.signal_change();
        Ok(seq)
    }

    /// Inserts new records in one transaction (the bulk path). Returns their change sequence
    /// numbers.
    pub async fn insert_new(&self, records: &[PreparedRecord]) -> Result<Vec<i64>, StoreError> {
        let seqs = insert_new(&self.db, records).await?;
        if !seqs.is_empty() {
            self.signal_change();
        }
        Ok(seqs)
    }

    /// Changes one record: loads its document inside a write transaction (so concurrent writers
    /// of the same record are serialised), lets `change` edit it, and stores the document, its
    /// new projection and the change-log row. `change` returns `None` when nothing changed.
    pub async fn modify<E>(
        &self,
        id: &str,
        attribution: &Attribution,
        change: impl FnOnce(&mut RecordDoc) -> Result<Option<LocalChange>, E>,
    ) -> Result<StoredRecord, ModifyError<E>> {
        with_writer!(&self.db, |pool| {
            let mut tx = pool.begin().await?;
            // Lock order, on every write path: the record's row, then the change log.
            let loaded = load_whole_document(&mut tx, id)
                .await?
                .ok_or_else(|| ModifyError::NotFound(id.to_string()))?;
            tx.lock_log().await?;
            let mut doc = decode(id, &loaded.bytes)?;
            let Some(local) = change(&mut doc).map_err(ModifyError::Rejected)? else {
                tx.rollback().await?;
                return self
                    .get(id)
                    .await?
                    .ok_or_else(|| ModifyError::NotFound(id.into()));
            };
            let (saved, chunk_count) = next_saved(&mut doc, loaded.chunk_count + 1);
            let projection = Projection::of(&doc, attribution.at_ms)?;
            let edit_state = doc.edit_state().map(|state| state.encode());
            let seq = tx.take("change_seq", 1).await?;
            let row = local_change_row(&projection, &local, attribution);
            let next = NextDocument {
                projection: &projection,
                saved: saved.as_deref(),
                chunk_count,
                last_seq: seq,
                // Kept for a local write too, so that an edit received next (a registry entry
                // pushed down, a parent's correction) is read without loading the document.
                edit_state: edit_state.as_deref(),
            };
            tx.store_existing(&[(&loaded, next)]).await?;
            tx.insert_changes(&[(seq, &row)]).await?;
            tx.commit().await?;
            self.signal_change();
            Ok(StoredRecord::from_projection(loaded.key, seq, projection))
        })
    }

    /// Applies changes received from another node in one transaction. Changes already held are
    /// skipped, so duplicated and re-ordered deliveries are harmless; each applied change gets
    /// a new local sequence number, so it travels on to this node's other neighbours.
    pub async fn apply_remote(&self, changes: &[LoggedChange]) -> Result<ApplyOutcome, StoreError> {
        let mut tx = self.begin_replication().await?;
        let outcome = tx.apply_parsed(parse_all(changes)).await?;
        tx.commit().await?;
        Ok(outcome)
    }

    /// Tells whoever waits that the change log moved: the sync loop ("shortly after a write")
    /// and every long-poll waiting for this node's next change.
    pub(crate) fn signal_change(&self) {
        self.changed.notify_one();
        self.log_moved.send_modify(|generation| *generation += 1);
    }
}

/// Applies received changes inside the open write transaction `tx` (which holds the change
/// log's lock).
///
/// The batch is applied set-wise: one query for the hashes already held, one for the stored
/// documents of every record it touches, the documents merged on every core, then one counter
/// update for all sequence numbers, multi-row inserts for new records and for the change log,
/// and one multi-row update a table for records that already existed.
pub(crate) async fn apply_in<T: WriteTx + CounterTx>(
    tx: &mut T,
    changes: Vec<Parsed<'_>>,
) -> Result<ApplyOutcome, StoreError> {
    let mut outcome = ApplyOutcome::default();
    let by_record = group_by_record(changes, &mut outcome);
    let hashes: Vec<String> = by_record
        .iter()
        .flat_map(|(_, incoming)| incoming.iter().map(|(_, c)| c.hash.to_string()))
        .collect();
    let ids: Vec<&str> = by_record.iter().map(|(id, _)| *id).collect();
    // No resurrection (Art. 38): changes to records destroyed here are dropped.
    let destroyed = tx.tombstoned(&ids).await?;
    let by_record = crate::retention::without_destroyed(by_record, &destroyed, &mut outcome);
    let known = tx.known_hashes(&hashes).await?;
    let loaded = tx.load_documents(&ids).await?;
    let (mut plans, mut to_merge) = plan_all(by_record, loaded, &known, &mut outcome)?;
    // Records whose changes must be merged into their whole document: their changes in the
    // log after the saved bytes are read now, for them alone (a plain edit needs none).
    if !to_merge.is_empty() {
        let documents = to_merge
            .iter_mut()
            .map(|(_, id, loaded, _)| (*id, loaded))
            .collect();
        complete_documents(tx, documents).await?;
        let merged = on_every_core(
            to_merge,
            &mut outcome,
            |(index, id, loaded, fresh), outcome| {
                Ok(plan_merged(id, Some(loaded), fresh, outcome)?.map(|plan| (index, plan)))
            },
        )?;
        plans.extend(merged);
        plans.sort_by_key(|(index, _)| *index);
    }
    let plans: Vec<RemotePlan> = plans.into_iter().map(|(_, plan)| plan).collect();
    if plans.is_empty() {
        return Ok(outcome);
    }
    // New records' keys, documents and name-index rows before the change log's lock: they need
    // no place in the log, so batches of several children write them at once (PostgreSQL;
    // issue 14 item 3).
    let new_count = plans.iter().filter(|plan| plan.existing.is_none()).count();
    let keys = tx.new_keys(new_count).await?;
    if keys.len() != new_count {
        return Err(StoreError::Database(sqlx::Error::Protocol(format!(
            "{} record keys for {new_count} new records",
            keys.len()
        ))));
    }
    let mut keys = keys.into_iter();
    let plans: Vec<KeyedPlan> = plans
        .into_iter()
        .map(|plan| {
            let key = plan.existing.is_none().then(|| keys.next()).flatten();
            (plan, key)
        })
        .collect();
    let documents: Vec<NewDocument<'_>> = plans
        .iter()
        .filter_map(|(plan, key)| {
            Some(NewDocument {
                key: (*key)?,
                projection: &plan.projection,
                chunk_count: plan.chunk_count,
                edit_state: plan.edit_state.as_deref(),
            })
        })
        .collect();
    for chunk in documents.chunks(T::ROWS_PER_BATCH) {
        tx.insert_documents(chunk).await?;
    }
    // Their projection rows too: a new record's row names no place in the log
    // ([`LAST_SEQ_IN_THE_LOG`]: readers take its last change's number from the log), so on
    // PostgreSQL the row and its dozen index entries are written while other batches hold the
    // lock, not under it (issue 14 item 3: the row was the largest statement under the lock).
    let projections: Vec<NewProjection<'_>> = plans
        .iter()
        .filter_map(|(plan, key)| Some(((*key)?, LAST_SEQ_IN_THE_LOG, &plan.projection)))
        .collect();
    for chunk in projections.chunks(T::ROWS_PER_BATCH) {
        tx.insert_projections(chunk).await?;
    }
    // The change log's lock only now, after the merge (the costly part), so that batches of
    // several children are merged at once and wait for each other only to number and insert
    // (issue 14 item 3). Lock order, on every write path: the records' rows (by key), then the
    // log. A destruction that committed while this batch merged has left its tombstones: they
    // are read again under the lock, so nothing destroyed comes back (Art. 38).
    tx.lock_log().await?;
    let plans = without_destroyed_since(tx, plans, &mut outcome).await?;
    if plans.is_empty() {
        return Ok(outcome);
    }
    let rows = plans.iter().map(|(plan, _)| plan.rows.len() as i64).sum();
    let first_seq = tx.take("change_seq", rows).await?;
    let numbered = number_plans(&plans, first_seq);
    let existing: Vec<ExistingRow<'_>> = numbered
        .existing
        .iter()
        .filter_map(|(plan, last_seq)| {
            let loaded = plan.existing.as_ref()?;
            let next = NextDocument {
                projection: &plan.projection,
                saved: plan.saved.as_deref(),
                chunk_count: plan.chunk_count,
                last_seq: *last_seq,
                edit_state: plan.edit_state.as_deref(),
            };
            Some((loaded, next))
        })
        .collect();
    for chunk in existing.chunks(T::ROWS_PER_BATCH) {
        tx.store_existing(chunk).await?;
    }
    tx.insert_changes(&numbered.changes).await?;
    outcome
        .applied
        .extend(numbered.changes.iter().map(|(_, row)| row.hash.to_string()));
    Ok(outcome)
}

/// A plan with the key taken for its record when the record is new.
type KeyedPlan = (RemotePlan, Option<i64>);

/// The plans whose record no destruction has tombstoned (read under the log's lock); what was
/// written already for a new record dropped here is removed.
async fn without_destroyed_since<T: WriteTx>(
    tx: &mut T,
    plans: Vec<KeyedPlan>,
    outcome: &mut ApplyOutcome,
) -> Result<Vec<KeyedPlan>, StoreError> {
    let ids: Vec<&str> = plans
        .iter()
        .map(|(plan, _)| plan.projection.id.as_str())
        .collect();
    let destroyed = tx.tombstoned(&ids).await?;
    if destroyed.is_empty() {
        return Ok(plans);
    }
    let mut written = Vec::new();
    let kept = plans
        .into_iter()
        .filter(|(plan, key)| {
            let keep = !destroyed.contains(&plan.projection.id);
            if !keep {
                tracing::info!(record = %plan.projection.id, "changes to a record destroyed meanwhile dropped");
                outcome.duplicates += plan.rows.len();
                written.extend(*key);
            }
            keep
        })
        .collect();
    if !written.is_empty() {
        tx.remove_documents(&written).await?;
    }
    Ok(kept)
}

/// Received changes, parsed and grouped by record in order of first appearance; changes
/// repeated within the batch are counted as duplicates, malformed ones refused.
type ByRecord<'a> = Vec<(
    &'a str,
    Vec<(&'a LoggedChange, licnode_doc::IncomingChange)>,
)>;

/// A received change with its bytes parsed (once: the authority check on arrival needs the
/// author, the merge needs the change), or why they could not be.
pub(crate) type Parsed<'a> = (
    &'a LoggedChange,
    Result<licnode_doc::IncomingChange, String>,
);

/// Parses every change of a batch (on every core for a large one).
pub(crate) fn parse_all(changes: &[LoggedChange]) -> Vec<Parsed<'_>> {
    let parsed = licnode_doc::parse_changes(changes.iter().map(|change| change.bytes.as_slice()));
    changes
        .iter()
        .zip(parsed)
        .map(|(change, parsed)| (change, parsed.map_err(|error| error.to_string())))
        .collect()
}

fn group_by_record<'a>(changes: Vec<Parsed<'a>>, outcome: &mut ApplyOutcome) -> ByRecord<'a> {
    let mut by_record: ByRecord<'a> = Vec::new();
    let mut record_index: HashMap<&str, usize> = HashMap::new();
    let mut seen: HashSet<licnode_doc::ChangeHash> = HashSet::new();
    for (remote, parsed) in changes {
        if let Some(problem) = unstorable_claims(remote) {
            outcome
                .refused
                .push((String::new(), format!("malformed change: {problem}")));
            continue;
        }
        match parsed {
            Ok(incoming) => {
                if !seen.insert(incoming.hash) {
                    outcome.duplicates += 1;
                    continue;
                }
                let index = *record_index.entry(&remote.record_id).or_insert_with(|| {
                    by_record.push((&remote.record_id, Vec::new()));
                    by_record.len() - 1
                });
                by_record[index].1.push((remote, incoming));
            }
            Err(error) => outcome
                .refused
                .push((String::new(), format!("malformed change: {error}"))),
        }
    }
    by_record
}

/// Why what a received change claims besides its bytes cannot be stored, if it cannot: text
/// with a NUL character, which PostgreSQL's text refuses (found by fuzzing the store on
/// PostgreSQL: the whole batch failed, and with it the sender's session, on every attempt).
pub fn unstorable_claims(change: &LoggedChange) -> Option<String> {
    [
        ("record id", &change.record_id),
        ("collection", &change.collection),
        ("jurisdiction", &change.jurisdiction),
        ("author user", &change.author_user),
        ("origin", &change.origin),
    ]
    .iter()
    .find(|(_, text)| text.contains('\0'))
    .map(|(name, _)| format!("its {name} holds a NUL character"))
}

/// Fewest records worth a second thread when merging a batch.
const PARALLEL_PLAN_MIN_RECORDS: usize = 32;

/// A batch's changes to one record that must be merged into its whole document, whose
/// changes in the log are not loaded yet: the record's place in the batch, its id, its stored
/// document row and the changes it has not seen.
type ToMerge<'a> = (
    usize,
    &'a str,
    LoadedDocument,
    Vec<(&'a LoggedChange, licnode_doc::IncomingChange)>,
);

/// A batch's plans, each with its record's place in the batch, and the records to merge into
/// their whole documents.
type PlannedBatch<'a> = (Vec<(usize, RemotePlan)>, Vec<ToMerge<'a>>);

/// Plans every record's received changes, on every core for a large batch: the plans, each
/// with its record's place in the batch (sequence numbers follow arrival order), and the
/// records whose changes must be merged into their whole document, left for the caller to
/// load it.
fn plan_all<'a>(
    by_record: ByRecord<'a>,
    mut loaded: HashMap<String, LoadedDocument>,
    known: &HashSet<String>,
    outcome: &mut ApplyOutcome,
) -> Result<PlannedBatch<'a>, StoreError> {
    let work: Vec<_> = by_record
        .into_iter()
        .enumerate()
        .map(|(index, (id, incoming))| (index, id, loaded.remove(id), incoming))
        .collect();
    let planned = on_every_core(work, outcome, |(index, id, loaded, incoming), outcome| {
        Ok(match plan_remote(id, loaded, incoming, known, outcome)? {
            Planned::Nothing => None,
            Planned::Plan(plan) => Some(Ok((index, *plan))),
            Planned::NeedsDocument(loaded, fresh) => Some(Err((index, id, *loaded, fresh))),
        })
    })?;
    let mut plans = Vec::new();
    let mut to_merge = Vec::new();
    for planned in planned {
        match planned {
            Ok(plan) => plans.push(plan),
            Err(waiting) => to_merge.push(waiting),
        }
    }
    Ok((plans, to_merge))
}

/// `each` over `work`, on every core when there is enough of it; the results in `work`'s
/// order, what each recorded gathered into `outcome`.
fn on_every_core<W: Send, R: Send>(
    work: Vec<W>,
    outcome: &mut ApplyOutcome,
    each: impl Fn(W, &mut ApplyOutcome) -> Result<Option<R>, StoreError> + Sync,
) -> Result<Vec<R>, StoreError> {
    let threads = std::thread::available_parallelism()
        .map(usize::from)
        .unwrap_or(1)
        .min(work.len() / PARALLEL_PLAN_MIN_RECORDS)
        .max(1);
    let run = |chunk: Vec<W>| -> Result<(Vec<R>, ApplyOutcome), StoreError> {
        let mut partial = ApplyOutcome::default();
        let mut results = Vec::new();
        for item in chunk {
            results.extend(each(item, &mut partial)?);
        }
        Ok((results, partial))
    };
    let results = if threads == 1 {
        vec![run(work)]
    } else {
        let per_thread = work.len().div_ceil(threads);
        let mut chunks = Vec::new();
        let mut rest = work;
        while !rest.is_empty() {
            let tail = rest.split_off(per_thread.min(rest.len()));
            chunks.push(std::mem::replace(&mut rest, tail));
        }
        let run = &run;
        std::thread::scope(|scope| {
            let handles: Vec<_> = chunks
                .into_iter()
                .map(|chunk| scope.spawn(move || run(chunk)))
                .collect();
            handles
                .into_iter()
                .map(|handle| handle.join().expect("merging documents panicked"))
                .collect()
        })
    };
    let mut all = Vec::new();
    for result in results {
        let (part, partial) = result?;
        all.extend(part);
        outcome.duplicates += partial.duplicates;
        outcome.read_without_document += partial.read_without_document;
        outcome.pending.extend(partial.pending);
        outcome.refused.extend(partial.refused);
        outcome.refusal_codes.extend(partial.refusal_codes);
    }
    Ok(all)
}

/// The plans with their sequence numbers.
struct NumberedPlans<'a> {
    /// Plans of records already stored, with their last sequence number.
    existing: Vec<(&'a RemotePlan, i64)>,
    /// Every change-log row, numbered.
    changes: Vec<(i64, &'a PreparedChange)>,
}

fn number_plans(plans: &[KeyedPlan], first_seq: i64) -> NumberedPlans<'_> {
    let mut numbered = NumberedPlans {
        existing: Vec::new(),
        changes: Vec::new(),
    };
    let mut seq = first_seq;
    for (plan, key) in plans {
        for row in &plan.rows {
            numbered.changes.push((seq, row));
            seq += 1;
        }
        if key.is_none() {
            numbered.existing.push((plan, seq - 1));
        }
    }
    numbered
}

/// What to store for one record after applying received changes to it.
struct RemotePlan {
    existing: Option<LoadedDocument>,
    projection: Projection,
    /// The whole document saved, when it is compacted (see [`NextDocument::saved`]); a new
    /// record's document is its changes in the log.
    saved: Option<Vec<u8>>,
    chunk_count: i64,
    rows: Vec<PreparedChange>,
    /// The record's `licnode_doc::EditState` after the changes, when known.
    edit_state: Option<Vec<u8>>,
}

/// What [`plan_remote`] made of one record's received changes.
enum Planned<'a> {
    /// Nothing to store: every change was held already, refused or left waiting.
    Nothing,
    Plan(Box<RemotePlan>),
    /// The changes must be merged into the record's whole document, whose changes in the log
    /// are not loaded yet: the stored row and the changes this node has not seen.
    NeedsDocument(
        Box<LoadedDocument>,
        Vec<(&'a LoggedChange, licnode_doc::IncomingChange)>,
    ),
}

#[cfg(test)]
impl Planned<'_> {
    /// The plan made without loading any document, or `None` when there is nothing to store.
    fn stored_plan(self) -> Option<RemotePlan> {
        match self {
            Planned::Nothing => None,
            Planned::Plan(plan) => Some(*plan),
            Planned::NeedsDocument(..) => panic!("the record's whole document was needed"),
        }
    }
}

impl From<Option<RemotePlan>> for Planned<'_> {
    fn from(plan: Option<RemotePlan>) -> Self {
        plan.map_or(Planned::Nothing, |plan| Planned::Plan(Box::new(plan)))
    }
}

fn plan_remote<'a>(
    record_id: &str,
    loaded: Option<LoadedDocument>,
    incoming: Vec<(&'a LoggedChange, licnode_doc::IncomingChange)>,
    known: &HashSet<String>,
    outcome: &mut ApplyOutcome,
) -> Result<Planned<'a>, StoreError> {
    let fresh: Vec<(&LoggedChange, licnode_doc::IncomingChange)> = incoming
        .into_iter()
        .filter(|(_, change)| {
            let duplicate = known.contains(&change.hash.to_string());
            if duplicate {
                outcome.duplicates += 1;
            }
            !duplicate
        })
        .collect();
    if fresh.is_empty() {
        return Ok(Planned::Nothing);
    }
    // A record this node does not hold, arriving as its first change alone (a cold sync):
    // read from the change's operations, without building its document (issue 14 item 2).
    if loaded.is_none()
        && let Some(planned) = first_change::plan_first_change(&fresh, outcome)
    {
        return Ok(planned.into());
    }
    // A record this node holds, receiving plain edits made on the document it holds (the
    // changed round): read onto the stored projection, without loading the document.
    if let Some(stored) = &loaded
        && let Some(planned) = edit::plan_edits(stored, &fresh, outcome)
    {
        return Ok(planned
            .map(|plan| RemotePlan {
                existing: loaded,
                ..plan
            })
            .into());
    }
    match loaded {
        Some(stored) if !stored.complete => Ok(Planned::NeedsDocument(Box::new(stored), fresh)),
        loaded => Ok(plan_merged(record_id, loaded, fresh, outcome)?.into()),
    }
}

/// [`plan_remote`] for changes that must be merged into the record's document to be read.
fn plan_merged(
    record_id: &str,
    loaded: Option<LoadedDocument>,
    fresh: Vec<(&LoggedChange, licnode_doc::IncomingChange)>,
    outcome: &mut ApplyOutcome,
) -> Result<Option<RemotePlan>, StoreError> {
    let mut doc = match &loaded {
        Some(loaded) => decode(record_id, &loaded.bytes)?,
        None => RecordDoc::empty(),
    };
    let before = doc.meta().ok();
    let changes: Vec<licnode_doc::Change> = fresh.iter().map(|(_, c)| c.change.clone()).collect();
    let refuse_all = |reason: String, outcome: &mut ApplyOutcome| {
        for (_, change) in &fresh {
            outcome
                .refused
                .push((change.hash.to_string(), reason.clone()));
        }
    };
    if let Err(error) = doc.apply(changes) {
        refuse_all(format!("change does not apply: {error}"), outcome);
        return Ok(None);
    }
    // Nothing waiting for a missing dependency means every change applied; otherwise ask
    // change by change (a costlier lookup).
    let all_applied = doc.missing_deps().is_empty();
    let mut applied = Vec::new();
    for (remote, change) in &fresh {
        if all_applied || doc.has_change(&change.hash) {
            applied.push((*remote, change));
        } else {
            outcome.pending.push(change.hash.to_string());
        }
    }
    if applied.is_empty() {
        return Ok(None);
    }
    // The document's own metadata must agree with what the sender claimed, and must not change.
    let meta = match agreed_meta(&doc, before.as_ref(), &applied) {
        Ok(meta) => meta,
        Err(reason) => {
            refuse_all(reason.into(), outcome);
            return Ok(None);
        }
    };
    // Issue 11 item 6: no merge gives a record a second identity, not even as a losing value.
    if let Some(problem) = doc.identity_problem() {
        refuse_all_as(
            &fresh,
            QuarantineReason::IdentityConflict,
            format!("the change gives the record a second identity: {problem}"),
            outcome,
        );
        return Ok(None);
    }
    let at_ms = applied.iter().map(|(r, _)| r.at_ms).max().unwrap_or(0);
    let projection = Projection::of(&doc, at_ms)?;
    if let Err(problem) = validate_received(&meta.collection, loaded.as_ref(), &projection) {
        refuse_all_as(&fresh, QuarantineReason::InvalidRecord, problem, outcome);
        return Ok(None);
    }
    let chunk_count = loaded.as_ref().map_or(0, |loaded| loaded.chunk_count) + applied.len() as i64;
    // A new record's document is its changes in the log, however many (compacted on its
    // next write): its row is written before the changes have their numbers.
    let (saved, chunk_count) = match &loaded {
        Some(_) => next_saved(&mut doc, chunk_count),
        None => (None, chunk_count),
    };
    let rows = received_rows(&applied, &meta);
    // With every change applied (none waiting), the state the next plain edit is read against.
    let edit_state = all_applied
        .then(|| doc.edit_state())
        .flatten()
        .map(|state| state.encode());
    Ok(Some(RemotePlan {
        existing: loaded,
        projection,
        saved,
        chunk_count,
        rows,
        edit_state,
    }))
}

/// The record's metadata after the merge, when it agrees with what the senders of `applied`
/// claimed and with what it was `before`; otherwise why not.
fn agreed_meta(
    doc: &RecordDoc,
    before: Option<&licnode_doc::RecordMeta>,
    applied: &[(&LoggedChange, &licnode_doc::IncomingChange)],
) -> Result<licnode_doc::RecordMeta, &'static str> {
    let meta = doc
        .meta()
        .map_err(|_| "the record's document has no metadata")?;
    first_change::meta_agrees(&meta, before, applied)?;
    Ok(meta)
}

/// The change-log rows of the applied received changes of one record.
fn received_rows(
    applied: &[(&LoggedChange, &licnode_doc::IncomingChange)],
    meta: &licnode_doc::RecordMeta,
) -> Vec<PreparedChange> {
    applied
        .iter()
        .map(|(remote, change)| PreparedChange {
            hash: change.hash,
            record_id: meta.id.clone(),
            collection: meta.collection.clone(),
            jurisdiction: meta.jurisdiction.clone(),
            author_node: change.author_node.clone().unwrap_or_default(),
            author_user: remote.author_user.clone(),
            origin: remote.origin.clone(),
            at_ms: remote.at_ms,
            bytes: remote.bytes.clone(),
        })
        .collect()
}

/// Refuses every change of `fresh` with the reason `reason`.
fn refuse_all_as(
    fresh: &[(&LoggedChange, licnode_doc::IncomingChange)],
    reason: QuarantineReason,
    message: String,
    outcome: &mut ApplyOutcome,
) {
    for (_, change) in fresh {
        let hash = change.hash.to_string();
        outcome.refusal_codes.insert(hash.clone(), reason);
        outcome.refused.push((hash, message.clone()));
    }
}

/// Issue 11 item 6: a received change is applied only if the record it leaves passes the
/// validation a local write must pass, field by field: every field the changes altered (all of
/// a new record's) is a field of the collection and holds a value its type accepts, and no
/// required field is missing or cleared. The rules across fields are not asked of the merged
/// record: a local write checks them over the fields it gives, so a sequence of valid writes —
/// or two concurrent ones — may leave a combination no single write gave, and refusing it on
/// arrival would split the copies for good.
fn validate_received(
    collection: &str,
    loaded: Option<&LoadedDocument>,
    projection: &Projection,
) -> Result<(), String> {
    let model = licnode_model::collection(collection)
        .ok_or_else(|| format!("{collection:?} is not a collection of the model"))?;
    let fields = &projection.data;
    let old: Option<serde_json::Map<String, serde_json::Value>> = loaded
        .and_then(|loaded| loaded.old_data.as_deref())
        .and_then(|text| serde_json::from_str(text).ok());
    let null = serde_json::Value::Null;
    let mut to_check: Vec<(&str, &serde_json::Value)> = Vec::new();
    match &old {
        Some(old) => {
            for (name, value) in fields {
                if old.get(name) != Some(value) {
                    to_check.push((name, value));
                }
            }
            for name in old.keys() {
                if !fields.contains_key(name) {
                    to_check.push((name, &null));
                }
            }
        }
        None => {
            to_check.extend(fields.iter().map(|(name, value)| (name.as_str(), value)));
            for field in model.fields.iter().filter(|field| field.required) {
                if !fields.contains_key(field.name) {
                    to_check.push((field.name, &null));
                }
            }
        }
    }
    validate_changed(collection, to_check)
}

/// [`validate_received`] of the fields `to_check` of a record of `collection`: those the
/// changes altered, a `null` value for one missing or cleared.
fn validate_changed(
    collection: &str,
    to_check: Vec<(&str, &serde_json::Value)>,
) -> Result<(), String> {
    let model = licnode_model::collection(collection)
        .ok_or_else(|| format!("{collection:?} is not a collection of the model"))?;
    let mut problems = Vec::new();
    for (name, value) in to_check {
        let Some(field) = model.fields.iter().find(|field| field.name == name) else {
            problems.push(format!("{name}: no such field in {collection}"));
            continue;
        };
        if value.is_null() {
            if field.required {
                problems.push(format!("{name}: required, missing or cleared"));
            }
            continue;
        }
        if let Err(errors) = licnode_model::validate_field(field, value) {
            problems.extend(errors.0.iter().map(ToString::to_string));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "the record would fail validation: {}",
            problems.join("; ")
        ))
    }
}

fn decode(id: &str, bytes: &[u8]) -> Result<RecordDoc, StoreError> {
    RecordDoc::load(bytes).map_err(|source| StoreError::CorruptDocument {
        id: id.to_string(),
        source: Box::new(source),
    })
}

/// What to store of a document that now has `chunk_count` chunks, and the count then: nothing
/// (its saved bytes stay, its new changes are read from the log after them) while it has at
/// most [`MAX_APPENDED_CHUNKS`]; the whole document saved (compacted: one chunk) once it has
/// more.
fn next_saved(doc: &mut RecordDoc, chunk_count: i64) -> (Option<Vec<u8>>, i64) {
    if chunk_count > MAX_APPENDED_CHUNKS {
        return (Some(doc.save()), 1);
    }
    (None, chunk_count)
}

/// The stored document of record `id`, whole (its saved bytes and its changes in the log after
/// them), locked for the transaction `tx`.
async fn load_whole_document<T: WriteTx>(
    tx: &mut T,
    id: &str,
) -> Result<Option<LoadedDocument>, StoreError> {
    let Some(mut loaded) = tx.load_document(id).await? else {
        return Ok(None);
    };
    complete_documents(tx, vec![(id, &mut loaded)]).await?;
    Ok(Some(loaded))
}

/// Completes the loaded document rows `documents` (by record id) with their changes in the log
/// after their saved bytes, read in one query: each is then its record's whole document.
async fn complete_documents<T: WriteTx>(
    tx: &mut T,
    documents: Vec<(&str, &mut LoadedDocument)>,
) -> Result<(), StoreError> {
    let wanted: Vec<(&str, i64)> = documents
        .iter()
        .map(|(id, loaded)| (*id, loaded.log_after))
        .collect();
    let mut tails = tx.log_tails(&wanted).await?;
    for (id, loaded) in documents {
        loaded.complete_with(tails.remove(id).unwrap_or_default());
    }
    Ok(())
}

fn local_change_row(
    projection: &Projection,
    local: &LocalChange,
    attribution: &Attribution,
) -> PreparedChange {
    PreparedChange {
        hash: local.hash,
        record_id: projection.id.clone(),
        collection: projection.collection.clone(),
        jurisdiction: projection.jurisdiction.clone(),
        author_node: attribution.node.clone(),
        author_user: attribution.user.clone(),
        origin: attribution.node.clone(),
        at_ms: attribution.at_ms,
        bytes: local.bytes.clone(),
    }
}

fn data_text(projection: &Projection) -> String {
    // Serialised in place: a map of JSON values always serialises.
    serde_json::to_string(&projection.data).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use licnode_doc::{Authoring, RecordDoc, RecordMeta};
    use licnode_testkit::BACKENDS;

    use super::*;
    use crate::dialect::with_writer;

    /// A licence (a public collection, so it has public name grams on PostgreSQL) planned as a
    /// received first change.
    fn received_licence(id: &str) -> (LoggedChange, licnode_doc::IncomingChange) {
        let actor = licnode_doc::actor::fresh("330106");
        let collection = licnode_model::collection("licences").expect("licences");
        let values = licnode_gen::Generator::new(7).record(collection, "330106");
        let meta = RecordMeta {
            id: id.into(),
            collection: "licences".into(),
            jurisdiction: "330106".into(),
        };
        let who = Authoring {
            actor: &actor,
            user: "clerk",
            time_ms: 1_764_800_000_000,
        };
        let (_, change) = RecordDoc::create(&meta, &values, who).expect("create");
        let incoming = licnode_doc::parse_change(&change.bytes).expect("parse");
        let logged = LoggedChange {
            record_id: meta.id,
            collection: meta.collection,
            jurisdiction: meta.jurisdiction,
            author_user: "clerk".into(),
            at_ms: 1_764_900_000_000,
            origin: "330106".into(),
            bytes: change.bytes,
            ..LoggedChange::default()
        };
        (logged, incoming)
    }

    /// Counts the rows of `key`, with `sql` a `SELECT COUNT(*) … = $1`.
    async fn rows_of_key(store: &Store, sql: &'static str, key: i64) -> i64 {
        with_writer!(&store.db, |pool| {
            sqlx::query_scalar(sql)
                .bind(key)
                .fetch_one(pool)
                .await
                .expect("count")
        })
    }

    /// A received batch writes a new record's document, name index and projection row before
    /// it takes the change log's lock; if a destruction of that record committed meanwhile
    /// (Art. 38), what was written goes again, in the same transaction.
    #[tokio::test]
    async fn a_new_record_destroyed_while_its_batch_merged_leaves_no_row_or_name_behind() {
        for backend in BACKENDS {
            let dir = licnode_testkit::temp_dir().expect("dir");
            let (url, _database) = licnode_testkit::database_url(backend, dir.path())
                .await
                .expect("database");
            let store = Store::open(&url).await.expect("open");
            let id = "0190f0f0-0000-7000-8000-000000000001";
            let (logged, incoming) = received_licence(id);
            let mut outcome = ApplyOutcome::default();
            let plan = plan_remote(
                id,
                None,
                vec![(&logged, incoming)],
                &HashSet::new(),
                &mut outcome,
            )
            .expect("plan")
            .stored_plan()
            .expect("a new record");
            let documents_sql = "SELECT COUNT(*) FROM documents WHERE key = $1";
            let records_sql = "SELECT COUNT(*) FROM records WHERE key = $1";
            let names_sql = match backend {
                licnode_testkit::Backend::Sqlite => {
                    "SELECT COUNT(*) FROM name_index WHERE rowid = $1"
                }
                licnode_testkit::Backend::Postgres => {
                    "SELECT COUNT(*) FROM public_name_grams WHERE key = $1"
                }
            };
            with_writer!(&store.db, |pool| {
                let mut tx = pool.begin().await.expect("begin");
                let key = tx.new_keys(1).await.expect("key")[0];
                let document = NewDocument {
                    key,
                    projection: &plan.projection,
                    chunk_count: plan.chunk_count,
                    edit_state: plan.edit_state.as_deref(),
                };
                tx.insert_documents(&[document]).await.expect("documents");
                tx.insert_projections(&[(key, LAST_SEQ_IN_THE_LOG, &plan.projection)])
                    .await
                    .expect("projection");
                let mut written = Vec::new();
                for sql in [documents_sql, names_sql, records_sql] {
                    let count: i64 = sqlx::query_scalar(sql)
                        .bind(key)
                        .fetch_one(&mut *tx)
                        .await
                        .expect("count");
                    written.push(count);
                }
                assert_eq!(written[0], 1, "{backend:?}: the document is written");
                assert!(written[1] > 0, "{backend:?}: the name is indexed");
                assert_eq!(written[2], 1, "{backend:?}: the projection row is written");
                // The destruction that committed while the batch merged.
                sqlx::query(
                    "INSERT INTO tombstones (record_id, collection, jurisdiction, \
                     destroyed_at_ms, certificate_id) VALUES ($1, 'licences', '330106', 1, 'c')",
                )
                .bind(id)
                .execute(&mut *tx)
                .await
                .expect("tombstone");
                let kept = without_destroyed_since(&mut tx, vec![(plan, Some(key))], &mut outcome)
                    .await
                    .expect("re-check");
                assert!(kept.is_empty(), "{backend:?}: the plan is dropped");
                assert_eq!(outcome.duplicates, 1, "{backend:?}");
                tx.commit().await.expect("commit");
                assert_eq!(
                    rows_of_key(&store, documents_sql, key).await,
                    0,
                    "{backend:?}"
                );
                assert_eq!(rows_of_key(&store, names_sql, key).await, 0, "{backend:?}");
                assert_eq!(
                    rows_of_key(&store, records_sql, key).await,
                    0,
                    "{backend:?}"
                );
            });
        }
    }
}

#[cfg(test)]
mod gram_code_tests {
    use super::*;
    use crate::dialect::with_writer;
    use crate::projection::public_name_gram_code;

    /// The writer computes a new record's name codes in Rust; the database computes them in
    /// `public_name_gram_code` (migration 0025) when a record is renamed or deleted. They must
    /// agree, or a renamed record keeps its old codes and loses its new ones.
    #[tokio::test]
    async fn the_writers_gram_codes_are_the_databases() {
        let dir = licnode_testkit::temp_dir().expect("dir");
        let (url, _database) =
            licnode_testkit::database_url(licnode_testkit::Backend::Postgres, dir.path())
                .await
                .expect("database");
        let store = Store::open(&url).await.expect("open");
        let cases = [
            ("licences", "恒远"),
            ("licence_events", "恒远"),
            ("reviewers", "a"),
            ("review_departments", "x9"),
            ("inspection_bodies", "𠀀远"),
            ("publications", "\u{10ffff}\u{10ffff}"),
            ("applications", "恒远"),
        ];
        for (collection, gram) in cases {
            let in_the_database: Option<i64> = with_writer!(&store.db, |pool| {
                sqlx::query_scalar("SELECT public_name_gram_code($1, $2)")
                    .bind(collection)
                    .bind(gram)
                    .fetch_one(pool)
                    .await
                    .expect("code")
            });
            assert_eq!(
                in_the_database,
                public_name_gram_code(collection, gram),
                "{collection} {gram}"
            );
        }
        store.close().await;
    }
}
