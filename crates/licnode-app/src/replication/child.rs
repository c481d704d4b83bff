//! The child's half of the protocol: a session, run by a child against its parent through a
//! [`Transport`] (the parent never dials). Push this node's changes after the cursor the parent
//! acknowledged until caught up, then pull the parent's changes after this node's pull cursor
//! until caught up; each pulled batch is checked change by change and stored with the pull
//! cursor in one transaction ([`super::store_batch`]).
//!
//! Before pushing, the child checks that its own log holds, at the cursor the parent
//! acknowledged, the change the parent names there (issue 11 item 4). When it does not — the
//! node was restored from a backup, reinstalled, or someone pushed in its name — the logs
//! diverged: the child says so (a warning, an audit entry, the session report), takes back
//! from the parent its own changes (which a pull never returns), and pushes its log again from
//! the start, so that nothing it wrote is left behind.

use std::time::Instant;

use licnode_store::{
    ApplyOutcome, AuditEntry, AuditKind, CursorMove, Refusal, Store, StoreError, SyncStream,
};
use licnode_sync::protocol::{
    CursorResponse, LoggedChange, MAX_BATCH, PullRequest, PullResponse, PushRequest, PushResponse,
    batch_len,
};
use licnode_sync::{Flow, Link, NodeRef, collections_for};

use super::parent::{goes_to, wire};
use super::receive::{ReceivedBatch, check_arrival, store_batch};
use super::{SyncError, Transport, TransportError};
use crate::Archive;

/// What one session moved, as it goes and at its end.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SessionReport {
    /// The parent, as it named itself and the transport confirmed.
    pub parent: String,
    /// The last sequence number of this node's log the parent has acknowledged. A session ends
    /// only once a read of the log found nothing after it that goes up, so a finished session
    /// owes the parent nothing; what is owed later is counted when asked ([`lag_up`]).
    pub acknowledged: i64,
    /// Changes pushed to the parent and applied there.
    pub pushed: usize,
    /// Changes pushed that the parent already had.
    pub push_duplicates: usize,
    /// Changes pushed that the parent quarantined.
    pub push_quarantined: usize,
    /// Change bytes pushed.
    pub pushed_bytes: u64,
    /// Changes pulled from the parent and applied here.
    pub pulled: usize,
    /// Changes pulled that this node already had.
    pub pull_duplicates: usize,
    /// Changes pulled that this node quarantined.
    pub pull_quarantined: usize,
    /// Change bytes pulled.
    pub pulled_bytes: u64,
    /// Why this node's log and the parent's cursor for it diverged, when they did: the session
    /// then took back this node's own changes and pushed its log again from the start.
    pub diverged: Option<String>,
    /// Own changes taken back from the parent after a divergence (and applied here).
    pub recovered: usize,
    /// The parent's finding when this node's audit chain no longer extends the last anchor it
    /// held (`audit_chain_not_extended`): the chain was rewritten since it was anchored.
    pub audit_chain_broken: Option<String>,
    /// How long the session has run, in milliseconds.
    pub elapsed_ms: u64,
}

impl std::fmt::Display for SessionReport {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            formatter,
            "synced with {}: pushed {} ({} already there, {} quarantined by the parent, {} bytes); \
             pulled {} ({} already here, {} quarantined, {} bytes) in {:.1} s",
            self.parent,
            self.pushed,
            self.push_duplicates,
            self.push_quarantined,
            self.pushed_bytes,
            self.pulled,
            self.pull_duplicates,
            self.pull_quarantined,
            self.pulled_bytes,
            self.elapsed_ms as f64 / 1000.0
        )?;
        if let Some(divergence) = &self.diverged {
            write!(
                formatter,
                "; this node's log had diverged from what the parent acknowledged ({divergence}): \
                 took back {} of its own changes and pushed its log again",
                self.recovered
            )?;
        }
        if let Some(finding) = &self.audit_chain_broken {
            write!(
                formatter,
                "; audit_chain_not_extended: the parent found this node's audit chain rewritten \
                 since its last anchor ({finding})"
            )?;
        }
        Ok(())
    }
}

/// Push batches on their way at once (the parent stores them in order).
pub const PUSHES_IN_FLIGHT: usize = 2;

/// How long a session goes on pushing what this node's log gains while it pushes: a relay
/// (a province passing its counties' batches up) sends each batch as soon as it is stored
/// instead of in the next session. Past this, the session ends with what was on its way, so
/// that a node written without pause still finishes sessions (and pulls between them).
pub const PUSH_FOLLOWS_LOG_FOR: std::time::Duration = std::time::Duration::from_secs(5);

/// How often a push waiting for a child's batch to be stored looks again whether one still is
/// (a batch refused whole is quarantined without moving the log).
const RECEIVING_RECHECK: std::time::Duration = std::time::Duration::from_millis(20);

/// Pushes on their way, oldest first; those still running when a session fails are stopped.
#[derive(Default)]
struct InFlight(std::collections::VecDeque<(i64, usize, PushTask)>);

/// A push on its way.
type PushTask = tokio::task::JoinHandle<Result<PushResponse, TransportError>>;

impl Drop for InFlight {
    fn drop(&mut self) {
        for (_, _, sent) in &self.0 {
            sent.abort();
        }
    }
}

/// The change bytes a batch carries.
fn batch_bytes(request: &PushRequest) -> usize {
    request
        .changes
        .iter()
        .map(|change| change.bytes.len())
        .sum()
}

/// Most changes [`lag_up`] counts: a link cut off longer shows at least this many.
pub const LAG_COUNTED: i64 = 10_000;

/// Changes of this node's log after `acknowledged` (the parent's cursor of it) that go up to
/// `parent` (at most [`LAG_COUNTED`]); changes that came from the parent are never counted.
/// Counted when asked — by the status, the metric, `licnode status` — so that a link that has
/// failed for a day shows what accumulated, not what its last good session left.
pub async fn lag_up(
    store: &Store,
    local: &NodeRef,
    parent: &NodeRef,
    acknowledged: i64,
) -> Result<i64, StoreError> {
    let up = collections_for(local, parent, Link::Parent, Flow::Send);
    if up.is_empty() {
        return Ok(0);
    }
    // The rows' metadata decides; their bytes are never read here (the metrics ask on every
    // scrape).
    let rows = store
        .change_metadata_after_not_from(acknowledged, Some(&up), Some(&parent.code), LAG_COUNTED)
        .await?;
    Ok(rows
        .iter()
        .filter(|row| goes_to(local, parent, Link::Parent, row))
        .count() as i64)
}

/// Who watches a session's progress: called after every batch with the figures so far.
pub type Progress<'a> = &'a (dyn Fn(&SessionReport) + Send + Sync);

/// One session with the parent behind `transport`: pull until caught up, then push until caught
/// up. The pull comes first because the parent's answers carry its cursor of this node's log,
/// so the push needs no exchange of its own to learn where to start: a session with nothing to
/// move is one exchange. `progress` sees the figures after every batch.
pub async fn run_session<T: Transport + Clone + 'static>(
    archive: &Archive,
    transport: &mut T,
    progress: Progress<'_>,
) -> Result<SessionReport, SyncError> {
    let started = Instant::now();
    let parent = transport.hello().await?;
    let mut session = Session {
        store: &archive.store,
        receiving: archive.pushes_in_progress.clone(),
        local: archive.scope.node_ref(),
        parent,
        started,
        progress,
        report: SessionReport::default(),
    };
    session.report.parent = session.parent.to_string();
    let cursor = session.pull_all(transport).await?;
    session.push_all(transport, cursor).await?;
    session.tick();
    Ok(session.report)
}

/// What a long-poll brought.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Watched {
    /// Changes applied here.
    pub pulled: usize,
    /// False when more is waiting at the parent: run a session.
    pub caught_up: bool,
}

/// One long-poll of the parent behind `transport` (issue 14 item 4): a pull after this node's
/// pull cursor that the parent holds up to `wait_ms` until it has something for this node,
/// stored like any pulled batch. A refused cursor (the parent was restored) is an error: the
/// next session pulls again from the start.
pub async fn watch_parent<T: Transport>(
    archive: &Archive,
    transport: &mut T,
    parent: &NodeRef,
    wait_ms: u64,
) -> Result<Watched, SyncError> {
    let poll = long_poll(archive, transport, parent, wait_ms).await?;
    store_long_poll(archive, parent, poll).await
}

/// A long-poll's answer, not stored yet.
#[derive(Clone, Debug)]
pub struct LongPoll {
    after: i64,
    answer: PullResponse,
}

/// The asking half of [`watch_parent`]: nothing is stored, so a caller may drop it at any
/// moment (a sync loop that has something else to do).
pub async fn long_poll<T: Transport>(
    archive: &Archive,
    transport: &mut T,
    parent: &NodeRef,
    wait_ms: u64,
) -> Result<LongPoll, SyncError> {
    let (after, after_hash) = archive
        .store
        .sync_cursor_with_hash(&parent.code, SyncStream::Pull)
        .await?;
    let answer = transport
        .pull(&PullRequest {
            after,
            after_hash,
            limit: Some(MAX_BATCH),
            wait_ms: Some(wait_ms),
        })
        .await?;
    Ok(LongPoll { after, answer })
}

/// The storing half of [`watch_parent`]: the answer checked and stored like any pulled batch.
pub async fn store_long_poll(
    archive: &Archive,
    parent: &NodeRef,
    poll: LongPoll,
) -> Result<Watched, SyncError> {
    let LongPoll { after, answer } = poll;
    if answer.next < after {
        return Err(SyncError::Protocol(format!(
            "the parent answered a cursor {} before {after}",
            answer.next
        )));
    }
    let caught_up = answer.caught_up;
    let mut pulled = 0;
    if answer.next > after {
        let local = archive.scope.node_ref();
        pulled = apply_pulled(&archive.store, &local, parent, answer)
            .await?
            .applied
            .len();
    }
    Ok(Watched { pulled, caught_up })
}

struct Session<'a> {
    store: &'a Store,
    /// The batches of this node's own children arrived and being stored: a push does not end
    /// while one is, so that a relay sends each on as soon as it is stored.
    receiving: super::parent::PushesInProgress,
    local: NodeRef,
    parent: NodeRef,
    started: Instant,
    progress: Progress<'a>,
    report: SessionReport,
}

impl Session<'_> {
    fn tick(&mut self) {
        self.report.elapsed_ms = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(0);
        (self.progress)(&self.report);
    }

    async fn audit_divergence(&self, detail: serde_json::Value) -> Result<(), StoreError> {
        let entry = AuditEntry::new(
            AuditKind::SyncDiverged,
            &self.local.code,
            "",
            licnode_store::now_ms(),
        )
        .detail(detail);
        self.store.audit(entry).await.map(|_| ())
    }

    /// The push half: recovers first if the parent's cursor and this log diverged, then sends
    /// batches until the parent has acknowledged everything that goes up. `known` is the
    /// parent's cursor when a pull answer of this session carried it; otherwise it is asked.
    async fn push_all<T: Transport + Clone + 'static>(
        &mut self,
        transport: &mut T,
        known: Option<CursorResponse>,
    ) -> Result<(), SyncError> {
        let (local, parent, store) = (self.local.clone(), self.parent.clone(), self.store);
        let up: Vec<&str> = collections_for(&local, &parent, Link::Parent, Flow::Send);
        let cursor = match known {
            Some(cursor) => cursor,
            None => transport.cursor().await?,
        };
        let mut acknowledged = cursor.acknowledged;
        let mut restart = false;
        let before = divergence(store, &parent, &cursor).await?;
        let mut stored_acknowledged = before.stored_acknowledged;
        if let Some(divergence) = before.divergence {
            tracing::warn!(
                parent = %parent,
                %divergence,
                "this node's log diverged from what the parent acknowledged: taking back its \
                 own changes and pushing the log again"
            );
            self.audit_divergence(serde_json::json!({
                "parent": parent.code,
                "acknowledged": cursor.acknowledged,
                "acknowledged_hash": cursor.acknowledged_hash,
                "reason": divergence,
            }))
            .await?;
            self.report.recovered = recover_own_changes(transport, store, &local, &parent).await?;
            // What the parent acknowledged is no longer known: bundles start from the beginning.
            store
                .reset_sync_cursor(&parent.code, SyncStream::Acked, 0)
                .await?;
            stored_acknowledged = Some(0);
            self.report.diverged = Some(divergence);
            acknowledged = 0;
            restart = true;
        }
        if restart {
            // The restart goes alone: the parent moves its cursor back only with it.
            let mut request = push_batch_after(store, &local, &parent, &up, 0)
                .await?
                .unwrap_or(PushRequest {
                    after: 0,
                    up_to: 0,
                    up_to_hash: None,
                    restart: true,
                    changes: Vec::new(),
                });
            request.restart = true;
            let (up_to, bytes) = (request.up_to, batch_bytes(&request));
            let answer = transport.push(&request).await?;
            acknowledged = self.acknowledged(up_to, bytes, answer)?;
        }
        // A log that ends where the parent acknowledged has nothing more to send: no read of it
        // (a write after the check wakes the next session) — unless a child's batch is being
        // stored, which the push then waits for and sends on.
        let nothing_after = !restart && before.log_end == acknowledged;
        if !up.is_empty() && (!nothing_after || self.receiving_from_children()) {
            acknowledged = self.push_pipelined(transport, &up, acknowledged).await?;
        }
        self.report.acknowledged = acknowledged;
        // Remembered so that an offline bundle starts where the parent stands, and stored at
        // the first session even at 0: it names the parent the lag up is counted for. What was
        // stored was read before the push (`divergence`); the cursor never moves back, so a
        // bundle's move meanwhile is not undone.
        if stored_acknowledged.is_none_or(|stored| acknowledged > stored) {
            store
                .advance_sync_cursor(&parent.code, SyncStream::Acked, acknowledged)
                .await?;
        }
        Ok(())
    }

    /// Sends batches after `acknowledged` until the parent has acknowledged everything that
    /// goes up, [`PUSHES_IN_FLIGHT`] at a time: while the parent stores one batch, the next is
    /// read, encoded and on its way (the parent stores them in order, issue 14 item 2). What
    /// the log gains while the session pushes goes too, for up to [`PUSH_FOLLOWS_LOG_FOR`].
    /// Returns what the parent acknowledged last.
    async fn push_pipelined<T: Transport + Clone + 'static>(
        &mut self,
        transport: &T,
        up: &[&str],
        mut acknowledged: i64,
    ) -> Result<i64, SyncError> {
        let (local, parent, store) = (self.local.clone(), self.parent.clone(), self.store);
        let mut in_flight: InFlight = InFlight::default();
        let mut next_after = acknowledged;
        let mut exhausted = false;
        let started = std::time::Instant::now();
        let mut log = store.watch_log();
        log.borrow_and_update();
        // Whether the log is still followed: for a while, and while its signal works.
        let mut following = true;
        loop {
            following = following && started.elapsed() < PUSH_FOLLOWS_LOG_FOR;
            while !exhausted && in_flight.0.len() < PUSHES_IN_FLIGHT {
                match push_batch_after(store, &local, &parent, up, next_after).await? {
                    Some(request) => {
                        next_after = request.up_to;
                        let (up_to, bytes) = (request.up_to, batch_bytes(&request));
                        let mut carrier = transport.clone();
                        let sent = tokio::spawn(async move { carrier.push(&request).await });
                        in_flight.0.push_back((up_to, bytes, sent));
                    }
                    None => exhausted = true,
                }
            }
            // With room on the way and the log read to its end, what the log gains meanwhile
            // (a relay's next received batch) is sent as soon as it is stored.
            let follow = following && exhausted && in_flight.0.len() < PUSHES_IN_FLIGHT;
            let Some((_, _, front)) = in_flight.0.front_mut() else {
                // Nothing on the way and the log read to its end; a child's batch still being
                // stored here goes on as soon as it is.
                if following && self.receiving_from_children() {
                    match tokio::time::timeout(RECEIVING_RECHECK, log.changed()).await {
                        Ok(Err(_)) => following = false,
                        Ok(Ok(())) | Err(_) => exhausted = false,
                    }
                    continue;
                }
                return Ok(acknowledged);
            };
            let answer = if follow {
                tokio::select! {
                    answer = front => answer,
                    moved = log.changed() => {
                        match moved {
                            Ok(()) => exhausted = false,
                            Err(_) => following = false,
                        }
                        continue;
                    }
                }
            } else {
                front.await
            };
            let (up_to, bytes, _) = in_flight.0.pop_front().expect("the front push");
            let answer = answer
                .map_err(|error| SyncError::Protocol(format!("a push task failed: {error}")))??;
            acknowledged = self.acknowledged(up_to, bytes, answer)?;
        }
    }

    /// True while a batch of a child of this node is being stored.
    fn receiving_from_children(&self) -> bool {
        self.receiving
            .lock()
            .map(|in_progress| !in_progress.is_empty())
            .unwrap_or(false)
    }

    /// Takes in the parent's answer to a batch up to `up_to`; returns what it acknowledged.
    fn acknowledged(
        &mut self,
        up_to: i64,
        bytes: usize,
        answer: PushResponse,
    ) -> Result<i64, SyncError> {
        if answer.acknowledged < up_to {
            return Err(SyncError::Protocol(format!(
                "the parent acknowledged {} after a batch up to {up_to}",
                answer.acknowledged
            )));
        }
        self.report.acknowledged = answer.acknowledged;
        self.report.pushed += answer.applied;
        self.report.push_duplicates += answer.duplicates;
        self.report.push_quarantined += answer.quarantined;
        self.report.pushed_bytes += bytes as u64;
        self.tick();
        Ok(answer.acknowledged)
    }

    /// The pull half: asks for batches after the stored cursor until caught up, starting again
    /// from the beginning if the parent's log no longer holds the cursor's change. Returns the
    /// parent's cursor of this node's log from its last answer, when the answers carry it.
    async fn pull_all<T: Transport>(
        &mut self,
        transport: &mut T,
    ) -> Result<Option<CursorResponse>, SyncError> {
        let (local, parent, store) = (self.local.clone(), self.parent.clone(), self.store);
        let (mut after, mut after_hash) = store
            .sync_cursor_with_hash(&parent.code, SyncStream::Pull)
            .await?;
        let mut cursor = None;
        loop {
            let asked = transport
                .pull(&PullRequest {
                    after,
                    after_hash: after_hash.clone(),
                    limit: Some(MAX_BATCH),
                    wait_ms: None,
                })
                .await;
            let mut answer = match asked {
                Err(TransportError::Refused { code, .. }) if code == "pull_cursor_diverged" => {
                    // The parent's log no longer holds the change this cursor stands on (the
                    // parent was restored from a backup): pull again from the start.
                    let divergence = format!(
                        "the parent's log does not hold, at {after}, the change this node's \
                         pull cursor names"
                    );
                    tracing::warn!(parent = %parent, %divergence, "pulling again from the start");
                    self.audit_divergence(serde_json::json!({
                        "parent": parent.code,
                        "stream": SyncStream::Pull.as_str(),
                        "after": after,
                        "reason": divergence,
                    }))
                    .await?;
                    store
                        .reset_sync_cursor(&parent.code, SyncStream::Pull, 0)
                        .await?;
                    self.report.diverged.get_or_insert(divergence);
                    (after, after_hash) = (0, None);
                    continue;
                }
                other => other?,
            };
            if answer.next < after {
                return Err(SyncError::Protocol(format!(
                    "the parent answered a cursor {} before {after}",
                    answer.next
                )));
            }
            if let Some(acknowledged) = answer.acknowledged.take() {
                cursor = Some(acknowledged);
            }
            let progressed = answer.next > after;
            let caught_up = answer.caught_up;
            if progressed {
                after = answer.next;
                after_hash = answer.next_hash.clone();
                let bytes: usize = answer.changes.iter().map(|change| change.bytes.len()).sum();
                let outcome = apply_pulled(store, &local, &parent, answer).await?;
                self.report.pulled += outcome.applied.len();
                self.report.pull_duplicates += outcome.duplicates;
                self.report.pull_quarantined += outcome.refused.len() + outcome.pending.len();
                self.report.pulled_bytes += bytes as u64;
                self.tick();
            }
            if caught_up || !progressed {
                return Ok(cursor);
            }
        }
    }
}

/// What a child reads of its own log and link before it pushes, in one statement.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BeforePush {
    /// Why this node's log and the parent's cursor for it diverged, if they did.
    pub divergence: Option<String>,
    /// Where this node's log ends.
    pub log_end: i64,
    /// The parent's acknowledgement as this node last stored it (`None` before the first
    /// session stored it).
    pub stored_acknowledged: Option<i64>,
}

/// Why this node's log and the parent's cursor for it (`cursor`) diverged, if they did: the
/// parent acknowledged past the end of this log, or names another change than this log holds
/// at that place. A cursor stored without a hash is checked by length only; a place whose change
/// an approved destruction removed (Art. 38) cannot be checked and is taken as agreeing. Read
/// with it: the end of this log and what this node last stored of the parent's acknowledgement.
pub async fn divergence(
    store: &Store,
    parent: &NodeRef,
    cursor: &CursorResponse,
) -> Result<BeforePush, StoreError> {
    let ((log_end, own), stored) = store
        .log_end_with_hash_at_and_cursor(cursor.acknowledged, &parent.code, SyncStream::Acked)
        .await?;
    let stored_acknowledged = stored.map(|(seq, _)| seq);
    let divergence = if cursor.acknowledged <= 0 {
        None
    } else if log_end < cursor.acknowledged {
        Some(format!(
            "the parent acknowledged change {} of this node's log, which ends at {log_end}",
            cursor.acknowledged
        ))
    } else {
        match (own, &cursor.acknowledged_hash) {
            (Some(own), Some(expected)) if own != *expected => Some(format!(
                "the parent acknowledged change {} as {expected}, but this node's change there is {own}",
                cursor.acknowledged
            )),
            _ => None,
        }
    };
    Ok(BeforePush {
        divergence,
        log_end,
        stored_acknowledged,
    })
}

/// Takes back from `parent` the changes this node sent it (its own and those it relayed from
/// below) that this node no longer holds, from the start of the parent's log; returns how many
/// were applied.
async fn recover_own_changes<T: Transport>(
    transport: &mut T,
    store: &Store,
    local: &NodeRef,
    parent: &NodeRef,
) -> Result<usize, SyncError> {
    let mut after = 0;
    let mut recovered = 0;
    loop {
        let answer = transport
            .recover(&PullRequest {
                after,
                limit: Some(MAX_BATCH),
                ..PullRequest::default()
            })
            .await?;
        if answer.next < after {
            return Err(SyncError::Protocol(format!(
                "the parent answered a cursor {} before {after}",
                answer.next
            )));
        }
        let progressed = answer.next > after;
        let caught_up = answer.caught_up;
        if progressed {
            after = answer.next;
            recovered += apply_recovered(store, local, parent, answer)
                .await?
                .applied
                .len();
        }
        if caught_up || !progressed {
            return Ok(recovered);
        }
    }
}

/// Stores a recovery answer of `parent`: this node's own changes given back. Every change must
/// be one this node may send the parent (so a parent cannot slip anything else in this way);
/// the others are quarantined.
pub async fn apply_recovered(
    store: &Store,
    local: &NodeRef,
    parent: &NodeRef,
    answer: PullResponse,
) -> Result<ApplyOutcome, StoreError> {
    let batch = ReceivedBatch::from_wire(
        &parent.code,
        SyncStream::Recover,
        answer.next,
        answer.changes,
    );
    store_batch(store, batch, |change, author| {
        // The same question as when this node pushed the change: may it go up?
        check_arrival(parent, local, Link::Child, change, author).map_err(|refusal| Refusal {
            code: refusal.code,
            message: format!("not a change this node sent up: {}", refusal.message),
        })
    })
    .await
}

/// Stores a pull answer of `parent`: every change checked on arrival, the allowed ones applied,
/// the others quarantined, and the pull cursor moved to `answer.next` — in one transaction. A
/// stale or repeated answer is harmless (the cursor never moves back; held changes are skipped).
pub async fn apply_pulled(
    store: &Store,
    local: &NodeRef,
    parent: &NodeRef,
    answer: PullResponse,
) -> Result<ApplyOutcome, StoreError> {
    let mut batch =
        ReceivedBatch::from_wire(&parent.code, SyncStream::Pull, answer.next, answer.changes);
    batch.cursor_move = CursorMove {
        hash: answer.next_hash,
        reset: false,
    };
    store_batch(store, batch, |change, author| {
        check_arrival(local, parent, Link::Parent, change, author)
    })
    .await
}

/// The next push batch of `archive`'s node to `parent` after `after` (at most [`MAX_BATCH`]
/// changes / [`licnode_sync::protocol::MAX_BATCH_CHANGE_BYTES`]; changes that do not go up
/// are skipped, so `up_to` may lie past the last change's sequence number), or `None` when
/// caught up. Used by network sessions and offline bundles alike.
pub async fn next_push_batch(
    archive: &Archive,
    parent: &NodeRef,
    up: &[&str],
    after: i64,
) -> Result<Option<PushRequest>, StoreError> {
    let local = archive.scope.node_ref();
    push_batch_after(&archive.store, &local, parent, up, after).await
}

async fn push_batch_after(
    store: &Store,
    local: &NodeRef,
    parent: &NodeRef,
    up: &[&str],
    after: i64,
) -> Result<Option<PushRequest>, StoreError> {
    let mut rows = store.changes_after(after, Some(up), MAX_BATCH).await?;
    rows.truncate(batch_len(rows.iter().map(|row| row.bytes.len())));
    let Some(last) = rows.last() else {
        return Ok(None);
    };
    let up_to = last.seq;
    let up_to_hash = Some(last.hash.clone());
    let changes: Vec<LoggedChange> = rows
        .into_iter()
        .filter(|row| row.origin != parent.code)
        .filter(|row| goes_to(local, parent, Link::Parent, row))
        .map(wire)
        .collect();
    Ok(Some(PushRequest {
        after,
        up_to,
        up_to_hash,
        restart: false,
        changes,
    }))
}
