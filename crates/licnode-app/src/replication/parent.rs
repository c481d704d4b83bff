//! The parent's half of the protocol: what a node answers each message of a direct child.
//! Every function here is transport-agnostic: the HTTP peer endpoints and the offline bundle's
//! import call them with the child's identity as its certificate proved it.

use std::time::Duration;

use licnode_store::{AuditEntry, AuditKind, CursorMove, SyncStream};
use licnode_sync::protocol::{
    CursorResponse, LoggedChange, MAX_BATCH, MAX_WAIT_MS, PullRequest, PullResponse, PushRequest,
    PushResponse, author_ref, batch_len,
};
use licnode_sync::{Flow, Link, NodeRef, collections_for, decide};
use serde_json::json;

use super::SyncError;
use super::receive::{ReceivedBatch, check_arrival, received_from, store_batch};
use crate::Archive;

/// `Ok` when `peer` is a direct child of this node (issue 11 item 3); otherwise the refusal
/// (`not_a_child`), audited (`peer_refused`) and logged. `doing` says what the peer tried (a
/// route, a bundle import).
pub async fn admit_child(archive: &Archive, peer: &NodeRef, doing: &str) -> Result<(), SyncError> {
    let Some(problem) = archive.scope.not_a_child(peer) else {
        return Ok(());
    };
    tracing::warn!(peer = %peer, %problem, doing, "a peer that is not a direct child refused");
    let entry = AuditEntry::new(
        AuditKind::PeerRefused,
        &peer.code,
        "",
        licnode_store::now_ms(),
    )
    .detail(json!({
        "level": peer.level.as_str(),
        "doing": doing,
        "reason": problem,
    }));
    archive.store.audit(entry).await?;
    Err(SyncError::NotAChild {
        reason: format!("{peer} is not a direct child of this node: {problem}"),
        peer: Some((peer.code.clone(), peer.level.as_str().to_string())),
    })
}

/// This node, when `child` may exchange anything in `flow` with it; otherwise `not_a_child`.
fn link_to(archive: &Archive, child: &NodeRef, flow: Flow) -> Result<NodeRef, SyncError> {
    let local = archive.scope.node_ref();
    if collections_for(&local, child, Link::Child, flow).is_empty() {
        return Err(SyncError::NotAChild {
            reason: format!("{child} is not a child of {local}"),
            peer: None,
        });
    }
    Ok(local)
}

/// What this node has stored of the child's log, and the hash of the child's change there.
pub async fn cursor(archive: &Archive, child: &NodeRef) -> Result<CursorResponse, SyncError> {
    link_to(archive, child, Flow::Receive)?;
    let (acknowledged, acknowledged_hash) = archive
        .store
        .sync_cursor_with_hash(&child.code, SyncStream::Push)
        .await?;
    Ok(CursorResponse {
        acknowledged,
        acknowledged_hash,
    })
}

/// Stores a push batch of `child`: the batch must follow what this node stored of the child's
/// log and name the hash of the child's change at its end; every change is checked on arrival,
/// the allowed ones applied, the others quarantined and the child's push cursor moved, with
/// that hash — in one transaction. A batch already stored is harmless. A batch marked
/// `restart` (the child found its log and this cursor diverged) starts at 0 and moves the
/// cursor to its end even backwards; nothing else moves it back.
pub async fn push(
    archive: &Archive,
    child: &NodeRef,
    request: PushRequest,
) -> Result<PushResponse, SyncError> {
    admit_child(archive, child, licnode_sync::protocol::PUSH_PATH).await?;
    let local = link_to(archive, child, Flow::Receive)?;
    let store = &archive.store;
    let arrived = PushInProgress::start(archive, &child.code, request.after, request.up_to);
    let acknowledged = cursor_reaching(archive, &child.code, &request, arrived.id).await?;
    check_push(&request, acknowledged)?;
    // A batch this cursor already covers (a repeated or late batch, an offline bundle from a
    // child restored from a backup) is still applied — held changes are skipped by hash, so
    // nothing it carries is dropped — but it does not move the cursor or its hash.
    let covered = !request.restart && request.up_to <= acknowledged;
    if request.restart {
        tracing::warn!(
            peer = %child.code,
            was = acknowledged,
            "a child pushes its log again from the start (its log and this cursor diverged)"
        );
    }
    let batch = ReceivedBatch {
        peer: child.code.clone(),
        stream: SyncStream::Push,
        cursor: if covered { acknowledged } else { request.up_to },
        cursor_move: CursorMove {
            hash: if covered { None } else { request.up_to_hash },
            reset: request.restart,
        },
        changes: received_from(request.changes, &child.code),
    };
    let outcome = store_batch(store, batch, |change, author| {
        check_arrival(&local, child, Link::Child, change, author)
    })
    .await?;
    drop(arrived);
    if !outcome.applied.is_empty() {
        store.signal_received_from_child();
    }
    let acknowledged = store.sync_cursor(&child.code, SyncStream::Push).await?;
    let quarantined = outcome.refused.len() + outcome.pending.len();
    if quarantined > 0 {
        tracing::warn!(peer = %child.code, quarantined, "changes from a child quarantined");
    }
    Ok(PushResponse {
        acknowledged,
        applied: outcome.applied.len(),
        duplicates: outcome.duplicates,
        quarantined,
    })
}

/// Longest a pushed batch that starts past the cursor waits for the batch before it to arrive
/// (the two travel at once, and either may come first).
const ARRIVAL_GRACE: Duration = Duration::from_secs(2);

/// The child's push cursor, once it has reached where `request` starts: a child sends its
/// next batch while the parent still stores the one before (issue 14 item 2), so a batch that
/// starts past the cursor waits for the cursor to move there — as long as a batch that ends
/// there is being stored (it commits or fails), and up to [`ARRIVAL_GRACE`] for one to arrive.
/// A batch that still does not follow is refused by [`check_push`] (`cursor_gap`).
async fn cursor_reaching(
    archive: &Archive,
    child: &str,
    request: &PushRequest,
    own: u64,
) -> Result<i64, SyncError> {
    let store = &archive.store;
    let mut moved = store.watch_cursors();
    moved.borrow_and_update();
    let mut nothing_closing_since: Option<tokio::time::Instant> = None;
    loop {
        let acknowledged = store.sync_cursor(child, SyncStream::Push).await?;
        if request.restart || request.after <= acknowledged {
            return Ok(acknowledged);
        }
        let closing = archive
            .pushes_in_progress
            .lock()
            .map(|in_progress| {
                in_progress.iter().any(|(id, (peer, after, up_to))| {
                    *id != own && peer == child && *after < request.after && *up_to >= request.after
                })
            })
            .unwrap_or(false);
        if closing {
            nothing_closing_since = None;
        } else {
            let since = *nothing_closing_since.get_or_insert_with(tokio::time::Instant::now);
            if since.elapsed() >= ARRIVAL_GRACE {
                return Ok(acknowledged);
            }
        }
        // The cursor moving wakes this at once; a batch arriving is seen at the next look.
        let _ = tokio::time::timeout(Duration::from_millis(20), moved.changed()).await;
    }
}

/// Push batches arrived and not yet stored, by arrival number: (child, after, up_to).
pub(crate) type PushesInProgress =
    std::sync::Arc<std::sync::Mutex<std::collections::HashMap<u64, PushRange>>>;

/// The child a pushed batch came from and the part of its log it covers: (child, after, up_to).
pub(crate) type PushRange = (String, i64, i64);

/// Marks a batch of a child, from `after` to `up_to`, as arrived and not yet stored, until
/// dropped.
struct PushInProgress<'a> {
    archive: &'a Archive,
    id: u64,
}

impl<'a> PushInProgress<'a> {
    fn start(archive: &'a Archive, child: &str, after: i64, up_to: i64) -> PushInProgress<'a> {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        let id = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if let Ok(mut in_progress) = archive.pushes_in_progress.lock() {
            in_progress.insert(id, (child.to_owned(), after, up_to));
        }
        PushInProgress { archive, id }
    }
}

impl Drop for PushInProgress<'_> {
    fn drop(&mut self) {
        if let Ok(mut in_progress) = self.archive.pushes_in_progress.lock() {
            in_progress.remove(&self.id);
        }
    }
}

/// A push batch that contradicts itself or does not follow `acknowledged` is refused before
/// anything is stored.
fn check_push(request: &PushRequest, acknowledged: i64) -> Result<(), SyncError> {
    let bad = |reason: &str| {
        Err(SyncError::BadBatch {
            reason: reason.to_owned(),
        })
    };
    if request.up_to < request.after
        || request
            .changes
            .iter()
            .any(|change| change.seq <= request.after || change.seq > request.up_to)
    {
        return bad("every change of a batch lies in (after, up_to]");
    }
    // Issue 11 item 4: the cursor is stored with the hash of the child's change at it, so the
    // child can tell whether its log still holds what this node acknowledged.
    if request.up_to > 0 && request.up_to_hash.is_none() {
        return bad("a batch names the hash of the child's change at up_to (up_to_hash)");
    }
    if let Some(last) = request.changes.last()
        && last.seq == request.up_to
        && request.up_to_hash.as_deref() != Some(last.hash.as_str())
    {
        return bad("up_to_hash is not the hash of the batch's change at up_to");
    }
    if request.restart && request.after != 0 {
        return bad("a restarted push starts at the beginning of the child's log (after = 0)");
    }
    if !request.restart && request.after > acknowledged {
        return Err(SyncError::CursorGap {
            after: request.after,
            acknowledged,
        });
    }
    Ok(())
}

/// The next batch of this node's log after `request.after` that goes down to `child` (never a
/// change that came from it), and the cursor the child moves to. With `wait_ms`, a pull that
/// finds nothing for the child waits (at most [`MAX_WAIT_MS`]) for this node's log to move
/// and looks once more: the long-poll that brings a parent's changes down within moments at
/// every depth (issue 14 item 4).
pub async fn pull(
    archive: &Archive,
    child: &NodeRef,
    request: PullRequest,
) -> Result<PullResponse, SyncError> {
    let local = link_to(archive, child, Flow::Send)?;
    let wait = request.wait_ms.unwrap_or(0).min(MAX_WAIT_MS);
    let mut log = archive.store.watch_log();
    log.borrow_and_update();
    if wait == 0 {
        // A session's pull: its answer tells where the parent stands for the push that follows.
        return pull_once(archive, &local, child, &request, true).await;
    }
    let answer = pull_once(archive, &local, child, &request, false).await?;
    if !answer.changes.is_empty() || !answer.caught_up {
        return Ok(answer);
    }
    let deadline = tokio::time::Instant::now() + Duration::from_millis(wait);
    let mut request = request;
    let mut answer = answer;
    // Changes that do not go to the child move the log too: keep waiting until one does or the
    // time is up.
    while let Ok(Ok(())) = tokio::time::timeout_at(deadline, log.changed()).await {
        request.after = answer.next;
        request.after_hash.clone_from(&answer.next_hash);
        answer = pull_once(archive, &local, child, &request, false).await?;
        if !answer.changes.is_empty() || !answer.caught_up {
            break;
        }
    }
    Ok(answer)
}

/// One look at the log for `child` after its cursor. `with_cursor` (a session's pull) adds what
/// this node has stored of the child's log, when the child sends it anything, read with the
/// log's end in one statement — the push that follows starts there. A long-poll's answer is
/// stored without a push after it and goes without.
async fn pull_once(
    archive: &Archive,
    local: &NodeRef,
    child: &NodeRef,
    request: &PullRequest,
    with_cursor: bool,
) -> Result<PullResponse, SyncError> {
    let store = &archive.store;
    let collections = collections_for(local, child, Link::Child, Flow::Send);
    let limit = request.limit.unwrap_or(MAX_BATCH).clamp(1, MAX_BATCH);
    // Every change numbered up to `high` is committed (numbers become visible in order), so
    // when the query finds fewer than `limit`, the child has considered everything up to
    // `high`: its cursor moves there even if nothing was for it, and the next round starts at
    // the end of the log instead of scanning it again.
    let sends_up = with_cursor && link_to(archive, child, Flow::Receive).is_ok();
    let ((high, own_at_after), stored) = if sends_up {
        let (position, cursor) = store
            .log_end_with_hash_at_and_cursor(request.after, &child.code, SyncStream::Push)
            .await?;
        let (acknowledged, acknowledged_hash) = cursor.unwrap_or((0, None));
        let stored = CursorResponse {
            acknowledged,
            acknowledged_hash,
        };
        (position, Some(stored))
    } else {
        (store.log_end_with_hash_at(request.after).await?, None)
    };
    // The child's cursor names a change of this log: if this log no longer holds it there
    // (this node was restored from a backup), the child's cursor would skip what this node
    // writes next. It is told so, and pulls again from the start (held changes are skipped).
    if request.after > 0
        && let Some(expected) = &request.after_hash
    {
        let held = match &own_at_after {
            Some(own) => own == expected,
            None => request.after <= high,
        };
        if !held || request.after > high {
            tracing::warn!(
                peer = %child.code,
                after = request.after,
                high,
                "a child's pull cursor names a change this log does not hold there"
            );
            return Err(SyncError::PullCursorDiverged {
                after: request.after,
                last_seq: high,
            });
        }
    }
    // What came from the child is skipped in the query: it fills this log past the child's
    // cursor after each of its pushes, and a pull should not load it to drop it.
    // A log that ends at the child's cursor has nothing after it: no read of it (the quiet
    // pull of every session and every long-poll's first look).
    let rows = if request.after >= high {
        Vec::new()
    } else {
        store
            .changes_after_not_from(request.after, Some(&collections), Some(&child.code), limit)
            .await?
    };
    let (rows, next, caught_up) = cut_batch(rows, limit, request.after, high);
    let changes = rows
        .into_iter()
        .filter(|row| goes_to(local, child, Link::Child, row))
        .map(wire)
        .collect();
    let next_hash = match next {
        0 => None,
        // A quiet pull ends where it began: the hash there was read above.
        next if next == request.after => own_at_after,
        next => store.change_hash_at(next).await?,
    };
    Ok(PullResponse {
        changes,
        next,
        next_hash,
        caught_up,
        acknowledged: stored,
    })
}

/// The rows of one batch (at most `limit` were read, cut further to the batch size), the
/// cursor the receiver moves to — at the last row while more is waiting, at the end of the log
/// (`high`) once caught up — and whether it is caught up.
fn cut_batch(
    mut rows: Vec<licnode_store::LoggedChange>,
    limit: i64,
    after: i64,
    high: i64,
) -> (Vec<licnode_store::LoggedChange>, i64, bool) {
    let mut caught_up = (rows.len() as i64) < limit;
    let fits = batch_len(rows.iter().map(|row| row.bytes.len()));
    if fits < rows.len() {
        rows.truncate(fits);
        caught_up = false;
    }
    let next = match rows.last() {
        Some(row) if !caught_up => row.seq,
        Some(row) => row.seq.max(high),
        None => after.max(high),
    };
    (rows, next, caught_up)
}

/// True when the authority table sends the change-log row `row` from `local` to `peer` over
/// `link`.
pub(crate) fn goes_to(
    local: &NodeRef,
    peer: &NodeRef,
    link: Link,
    row: &licnode_store::LoggedChange,
) -> bool {
    author_ref(&row.author_node, local, peer).is_some_and(|author| {
        decide(
            local,
            peer,
            link,
            Flow::Send,
            &row.collection,
            &row.jurisdiction,
            &author,
        )
        .is_allowed()
    })
}

/// The changes this node stored from `child` (its own and those it relayed from below) after
/// `request.after` in this node's log: what a child whose log diverged from this node's cursor
/// (restored from a backup, reinstalled) takes back (ARCHITECTURE.md, principle 10: a parent
/// is its children's memory). A normal pull never sends a child what came from it.
pub async fn recover(
    archive: &Archive,
    child: &NodeRef,
    request: PullRequest,
) -> Result<PullResponse, SyncError> {
    link_to(archive, child, Flow::Receive)?;
    let store = &archive.store;
    let limit = request.limit.unwrap_or(MAX_BATCH).clamp(1, MAX_BATCH);
    let high = store.last_seq().await?;
    let rows = store
        .changes_from_origin(&child.code, request.after, limit)
        .await?;
    let (rows, next, caught_up) = cut_batch(rows, limit, request.after, high);
    Ok(PullResponse {
        changes: rows.into_iter().map(wire).collect(),
        next,
        next_hash: None,
        caught_up,
        acknowledged: None,
    })
}

/// A change-log row as it leaves the node: who handed it to this node stays here (the
/// serialisation skips it too; this keeps the in-memory transport to the same rule).
pub fn wire(mut row: LoggedChange) -> LoggedChange {
    row.origin.clear();
    row
}
