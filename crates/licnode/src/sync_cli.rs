//! Replication sessions, run by a child against its parent (the parent never dials): push this
//! node's changes after the cursor the parent acknowledged until caught up, then pull the
//! parent's changes after this node's pull cursor until caught up. Each pulled batch is checked
//! change by change with the authority function and stored with the pull cursor in one
//! transaction; refused changes are quarantined. `licnode sync now` runs one session.
//!
//! Before pushing, the child checks that its own log holds, at the cursor the parent
//! acknowledged, the change the parent names there (issue 11 item 4). When it does not — the
//! node was restored from a backup, reinstalled, or someone pushed in its name — the logs
//! diverged: the child says so (a warning, an audit entry, the session report and the link
//! status), takes back from the parent its own changes (which a pull never returns), and pushes
//! its log again from the start, so that nothing it wrote is left behind.

use std::path::PathBuf;

use anyhow::{Context, bail};
use licnode_app::Archive;
use licnode_pki::{ClientError, ExpectedPeer, NodeTls, NodeTlsSettings, PeerClient};
use licnode_server::sync::{check_arrival, remote, wire};
use licnode_store::AuditKind;
use licnode_store::sync_state::{SyncBatch, SyncStream};
use licnode_store::{AuditEntry, CursorMove, Refusal, Store};
use licnode_sync::protocol::{
    CURSOR_PATH, CursorResponse, HELLO_PATH, MAX_BATCH, PULL_PATH, PUSH_PATH, PullRequest,
    PullResponse, PushRequest, PushResponse, RECOVER_PATH, WireChange, author_ref, batch_len,
};
use licnode_sync::{Flow, Link, NodeRef, collections_for, decide};

use crate::config::Config;

/// `licnode sync …`
#[derive(clap::Subcommand, Debug)]
pub enum SyncCommand {
    /// Run one replication session with the parent now and print how many changes went each
    /// way.
    Now {
        /// The node's configuration file.
        #[arg(long, short, env = "LICNODE_CONFIG", default_value = "licnode.toml")]
        config: PathBuf,
    },
}

/// Runs a `licnode sync` command.
pub async fn run(command: SyncCommand) -> anyhow::Result<()> {
    match command {
        SyncCommand::Now { config } => {
            let config = Config::load(&config)?;
            let parent_url = config
                .node
                .parent_url
                .clone()
                .context("this node has no parent_url: it is the root of the tree")?;
            let level = config.node.level;
            let tls = NodeTls::load(NodeTlsSettings::for_node_dir(&config.base_dir())).context(
                "the node has no certificate yet: see `licnode pki request` / `install`",
            )?;
            let store = Store::open(&config.database_url()).await?;
            let archive = Archive::with_level(store, &config.node.code, level);
            let report = session(&archive, &tls, &parent_url).await?;
            println!("{report}");
            archive.close().await;
            Ok(())
        }
    }
}

/// What one session moved.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SessionReport {
    /// The parent, as it named itself and its certificate confirmed.
    pub parent: String,
    /// The last sequence number of this node's log the parent has acknowledged.
    pub acknowledged: i64,
    /// Changes pushed to the parent and applied there.
    pub pushed: usize,
    /// Changes pushed that the parent already had.
    pub push_duplicates: usize,
    /// Changes pushed that the parent quarantined.
    pub push_quarantined: usize,
    /// Changes pulled from the parent and applied here.
    pub pulled: usize,
    /// Changes pulled that this node already had.
    pub pull_duplicates: usize,
    /// Changes pulled that this node quarantined.
    pub pull_quarantined: usize,
    /// Why this node's log and the parent's cursor for it diverged, when they did: the session
    /// then took back this node's own changes and pushed its log again from the start.
    pub diverged: Option<String>,
    /// Own changes taken back from the parent after a divergence (and applied here).
    pub recovered: usize,
    /// The parent's finding when this node's audit chain no longer extends the last anchor it
    /// held (`audit_chain_not_extended`): the chain was rewritten since it was anchored.
    pub audit_chain_broken: Option<String>,
}

impl std::fmt::Display for SessionReport {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            formatter,
            "synced with {}: pushed {} ({} already there, {} quarantined by the parent); \
             pulled {} ({} already here, {} quarantined)",
            self.parent,
            self.pushed,
            self.push_duplicates,
            self.push_quarantined,
            self.pulled,
            self.pull_duplicates,
            self.pull_quarantined
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

#[derive(serde::Deserialize)]
struct Hello {
    me: HelloNode,
}

#[derive(serde::Deserialize)]
struct HelloNode {
    code: String,
    level: licnode_model::Level,
}

/// One session with the parent at `parent_url`: push until caught up, then pull until caught
/// up.
pub async fn session(
    archive: &Archive,
    tls: &NodeTls,
    parent_url: &str,
) -> anyhow::Result<SessionReport> {
    let base = parent_url.trim_end_matches('/');
    // Learn the parent's code, then hold the connection to a server whose certificate names it.
    let hello: Hello = PeerClient::for_node(tls, ExpectedPeer::AnyNode)?
        .get_json(&format!("{base}{HELLO_PATH}"))
        .await
        .with_context(|| format!("cannot reach the parent at {base}"))?;
    let parent = NodeRef::new(hello.me.code, hello.me.level);
    let client = PeerClient::for_node(tls, ExpectedPeer::Code(parent.code.clone()))?;
    let local = archive.scope.node_ref();
    let store = archive.replication_store();
    let mut report = SessionReport {
        parent: parent.to_string(),
        ..SessionReport::default()
    };

    push_all(&client, base, store, &local, &parent, &mut report).await?;
    pull_all(&client, base, store, &local, &parent, &mut report).await?;
    // The signed head of this node's audit chain goes to its witness (issue 11 item 5).
    let anchored = crate::anchors::hand_up(archive, tls, &client, base, &parent.code).await?;
    report.audit_chain_broken = anchored.chain_broken;
    // The state of this node's links, and of its subtree's, goes up too (issue 12 item 7).
    let link = licnode_app::network::SessionLink {
        parent: parent.code.clone(),
        acknowledged: report.acknowledged,
        pulled_this_session: i64::try_from(report.pulled).unwrap_or(i64::MAX),
    };
    crate::link_reports::hand_up(archive, &client, base, &link).await?;
    Ok(report)
}

/// The push half of a session: recovers first if the parent's cursor and this log diverged,
/// then sends batches until the parent has acknowledged everything that goes up.
async fn push_all(
    client: &PeerClient,
    base: &str,
    store: &Store,
    local: &NodeRef,
    parent: &NodeRef,
    report: &mut SessionReport,
) -> anyhow::Result<()> {
    let up: Vec<&str> = collections_for(local, parent, Link::Parent, Flow::Send);
    let cursor: CursorResponse = client.get_json(&format!("{base}{CURSOR_PATH}")).await?;
    let mut acknowledged = cursor.acknowledged;
    let mut restart = false;
    if let Some(divergence) = divergence(store, &cursor).await? {
        tracing::warn!(
            parent = %parent,
            %divergence,
            "this node's log diverged from what the parent acknowledged: taking back its own \
             changes and pushing the log again"
        );
        let entry = AuditEntry::new(
            AuditKind::SyncDiverged,
            &local.code,
            "",
            licnode_store::now_ms(),
        )
        .detail(serde_json::json!({
            "parent": parent.code,
            "acknowledged": cursor.acknowledged,
            "acknowledged_hash": cursor.acknowledged_hash,
            "reason": divergence,
        }));
        store.audit(entry).await?;
        report.recovered = recover_own_changes(client, base, store, local, parent).await?;
        // What the parent acknowledged is no longer known: bundles start from the beginning.
        store
            .reset_sync_cursor(&parent.code, SyncStream::Acked, 0)
            .await?;
        report.diverged = Some(divergence);
        acknowledged = 0;
        restart = true;
    }
    if !up.is_empty() || restart {
        loop {
            let batch = push_batch(store, local, parent, &up, acknowledged).await?;
            let mut request = match batch {
                Some(request) => request,
                // Nothing to push again: the restart still tells the parent where this log
                // stands, so that the next session finds the two in agreement.
                None if restart => PushRequest {
                    after: 0,
                    up_to: 0,
                    up_to_hash: None,
                    restart: true,
                    changes: Vec::new(),
                },
                None => break,
            };
            request.restart = restart;
            restart = false;
            let up_to = request.up_to;
            let answer: PushResponse = client
                .post_json(&format!("{base}{PUSH_PATH}"), &request)
                .await?;
            if answer.acknowledged < up_to {
                bail!(
                    "the parent acknowledged {} after a batch up to {up_to}",
                    answer.acknowledged
                );
            }
            acknowledged = answer.acknowledged;
            report.pushed += answer.applied;
            report.push_duplicates += answer.duplicates;
            report.push_quarantined += answer.quarantined;
            if up.is_empty() {
                break;
            }
        }
    }
    report.acknowledged = acknowledged;
    // Remembered so that an offline bundle starts where the parent stands.
    if acknowledged > store.sync_cursor(&parent.code, SyncStream::Acked).await? {
        let batch = SyncBatch {
            peer: parent.code.clone(),
            stream: SyncStream::Acked,
            cursor: acknowledged,
            changes: Vec::new(),
        };
        store.apply_sync_batch(batch, |_, _| Ok(())).await?;
    }

    Ok(())
}

/// The pull half of a session: asks for batches after the stored cursor until caught up,
/// starting again from the beginning if the parent's log no longer holds the cursor's change.
async fn pull_all(
    client: &PeerClient,
    base: &str,
    store: &Store,
    local: &NodeRef,
    parent: &NodeRef,
    report: &mut SessionReport,
) -> anyhow::Result<()> {
    let (mut after, mut after_hash) = store
        .sync_cursor_with_hash(&parent.code, SyncStream::Pull)
        .await?;
    loop {
        let asked = client
            .post_json::<_, PullResponse>(
                &format!("{base}{PULL_PATH}"),
                &PullRequest {
                    after,
                    after_hash: after_hash.clone(),
                    limit: Some(MAX_BATCH),
                },
            )
            .await;
        let answer = match asked {
            Err(ClientError::Refused { code, .. }) if code == "pull_cursor_diverged" => {
                // The parent's log no longer holds the change this cursor stands on (the
                // parent was restored from a backup): pull again from the start.
                let divergence = format!(
                    "the parent's log does not hold, at {after}, the change this node's pull \
                     cursor names"
                );
                tracing::warn!(parent = %parent, %divergence, "pulling again from the start");
                let entry = AuditEntry::new(
                    AuditKind::SyncDiverged,
                    &local.code,
                    "",
                    licnode_store::now_ms(),
                )
                .detail(serde_json::json!({
                    "parent": parent.code,
                    "stream": SyncStream::Pull.as_str(),
                    "after": after,
                    "reason": divergence,
                }));
                store.audit(entry).await?;
                store
                    .reset_sync_cursor(&parent.code, SyncStream::Pull, 0)
                    .await?;
                report.diverged.get_or_insert(divergence);
                (after, after_hash) = (0, None);
                continue;
            }
            other => other?,
        };
        if answer.next < after {
            bail!(
                "the parent answered a cursor {} before {after}",
                answer.next
            );
        }
        let progressed = answer.next > after;
        let caught_up = answer.caught_up;
        if progressed {
            after = answer.next;
            after_hash = answer.next_hash.clone();
            let outcome = apply_pulled(store, local, parent, answer).await?;
            report.pulled += outcome.applied.len();
            report.pull_duplicates += outcome.duplicates;
            report.pull_quarantined += outcome.refused.len() + outcome.pending.len();
        }
        if caught_up || !progressed {
            break;
        }
    }
    Ok(())
}

/// Why this node's log and the parent's cursor for it (`cursor`) diverged, if they did: the
/// parent acknowledged past the end of this log, or names another change than this log holds
/// at that place. A cursor stored without a hash is checked by length only; a place whose change
/// an approved destruction removed (Art. 38) cannot be checked and is taken as agreeing.
pub async fn divergence(store: &Store, cursor: &CursorResponse) -> anyhow::Result<Option<String>> {
    if cursor.acknowledged <= 0 {
        return Ok(None);
    }
    let last = store.last_seq().await?;
    if last < cursor.acknowledged {
        return Ok(Some(format!(
            "the parent acknowledged change {} of this node's log, which ends at {last}",
            cursor.acknowledged
        )));
    }
    let Some(expected) = &cursor.acknowledged_hash else {
        return Ok(None);
    };
    match store.change_hash_at(cursor.acknowledged).await? {
        Some(own) if own != *expected => Ok(Some(format!(
            "the parent acknowledged change {} as {expected}, but this node's change there is {own}",
            cursor.acknowledged
        ))),
        _ => Ok(None),
    }
}

/// Takes back from `parent` the changes this node sent it (its own and those it relayed from
/// below) that this node no longer holds, from the start of the parent's log; returns how many
/// were applied. Each is checked as one this node could have sent up (the author on this
/// node's side, a collection and jurisdiction it may send); held ones are skipped.
async fn recover_own_changes(
    client: &PeerClient,
    base: &str,
    store: &Store,
    local: &NodeRef,
    parent: &NodeRef,
) -> anyhow::Result<usize> {
    let mut after = 0;
    let mut recovered = 0;
    loop {
        let answer: PullResponse = client
            .post_json(
                &format!("{base}{RECOVER_PATH}"),
                &PullRequest {
                    after,
                    after_hash: None,
                    limit: Some(MAX_BATCH),
                },
            )
            .await?;
        if answer.next < after {
            bail!(
                "the parent answered a cursor {} before {after}",
                answer.next
            );
        }
        let progressed = answer.next > after;
        let caught_up = answer.caught_up;
        if progressed {
            after = answer.next;
            let outcome = apply_recovered(store, local, parent, answer).await?;
            recovered += outcome.applied.len();
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
) -> anyhow::Result<licnode_store::ApplyOutcome> {
    let batch = SyncBatch {
        peer: parent.code.clone(),
        stream: SyncStream::Recover,
        cursor: answer.next,
        changes: answer
            .changes
            .into_iter()
            .map(|change| remote(change, &parent.code))
            .collect(),
    };
    Ok(store
        .apply_sync_batch(batch, |change, author| {
            // The same question as when this node pushed the change: may it go up?
            check_arrival(parent, local, Link::Child, change, author).map_err(|refusal| Refusal {
                code: refusal.code,
                message: format!("not a change this node sent up: {}", refusal.message),
            })
        })
        .await?)
}

/// Stores a pull answer of `parent`: every change checked on arrival, the allowed ones applied,
/// the others quarantined, and the pull cursor moved to `answer.next` — in one transaction. A
/// stale or repeated answer is harmless (the cursor never moves back; held changes are skipped).
pub async fn apply_pulled(
    store: &Store,
    local: &NodeRef,
    parent: &NodeRef,
    answer: PullResponse,
) -> anyhow::Result<licnode_store::ApplyOutcome> {
    let cursor_move = CursorMove {
        hash: answer.next_hash.clone(),
        reset: false,
    };
    let batch = SyncBatch {
        peer: parent.code.clone(),
        stream: SyncStream::Pull,
        cursor: answer.next,
        changes: answer
            .changes
            .into_iter()
            .map(|change| remote(change, &parent.code))
            .collect(),
    };
    Ok(store
        .apply_sync_batch_moving(batch, cursor_move, |change, author| {
            check_arrival(local, parent, Link::Parent, change, author)
        })
        .await?)
}

/// The next push batch to `parent` after `after` (at most [`MAX_BATCH`] changes /
/// [`licnode_sync::protocol::MAX_BATCH_CHANGE_BYTES`]; changes that do not go up are skipped,
/// so `up_to` may lie past the last change's sequence number), or `None` when caught up. Used
/// by network sessions and offline bundles alike.
pub async fn push_batch(
    store: &Store,
    local: &NodeRef,
    parent: &NodeRef,
    up: &[&str],
    after: i64,
) -> anyhow::Result<Option<PushRequest>> {
    let mut rows = store.changes_after(after, Some(up), MAX_BATCH).await?;
    rows.truncate(batch_len(rows.iter().map(|row| row.bytes.len())));
    let Some(last) = rows.last() else {
        return Ok(None);
    };
    let up_to = last.seq;
    let up_to_hash = Some(last.hash.clone());
    let changes: Vec<WireChange> = rows
        .into_iter()
        .filter(|row| row.origin != parent.code)
        .filter(|row| {
            author_ref(&row.author_node, local, parent).is_some_and(|author| {
                decide(
                    local,
                    parent,
                    Link::Parent,
                    Flow::Send,
                    &row.collection,
                    &row.jurisdiction,
                    &author,
                )
                .is_allowed()
            })
        })
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
