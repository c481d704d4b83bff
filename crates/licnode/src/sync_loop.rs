//! The child's sync loop: a session with the parent shortly after a write (debounced), at once
//! when a child's pushed batch was stored (a relay forwards it), when the
//! long-poll it keeps open to the parent brings something down, on an interval, and on demand
//! (`POST /api/v1/sync/now`); exponential backoff with jitter while the parent is unreachable. Its state is shared with the API and metrics and saved for
//! `licnode status`. The loop runs under the node's [`Supervisor`]: a panic starts it again
//! (every session stands on its own), and it stops between sessions when the node shuts down.
//! How it reaches the parent is a [`ParentDial`]: mutual-TLS HTTP in a node ([`HttpDial`]),
//! a parent in the same process in the country simulation.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use licnode_app::Archive;
use licnode_app::replication::{self, SessionReport, Transport};
use licnode_pki::NodeTls;
use licnode_server::sync::{LinkHandle, LinkStatus};
use licnode_sync::NodeRef;
use rand::Rng;
use tokio_util::sync::CancellationToken;

use crate::supervisor::{Supervisor, WhenTaskDies};
use crate::sync_cli::{HttpTransport, ParentUrls};

/// The loop's timing.
#[derive(Clone, Copy, Debug)]
pub struct SyncTiming {
    pub interval: Duration,
    pub debounce: Duration,
    pub max_backoff: Duration,
}

impl SyncTiming {
    /// The timing of `[sync]` (checked when the configuration was read).
    pub fn from_section(section: &crate::config::SyncSection) -> SyncTiming {
        SyncTiming {
            interval: section.interval,
            debounce: section.debounce,
            max_backoff: section.max_backoff,
        }
    }
}

/// How long to wait after `failures` failed sessions in a row: doubling from one second up
/// to `max`, with ±25 % jitter so that many offices do not retry in step.
pub fn backoff(failures: u32, max: Duration) -> Duration {
    let base = Duration::from_secs(1)
        .saturating_mul(
            1u32.checked_shl(failures.saturating_sub(1))
                .unwrap_or(u32::MAX),
        )
        .min(max);
    let jitter = rand::rng().random_range(0.75..1.25);
    base.mul_f64(jitter).min(max)
}

/// How the loop reaches its parent: a connection (kept from session to session while it
/// works), the parent it names, and a session over it.
pub trait ParentDial: Clone + Send + Sync + 'static {
    /// A connection to the parent.
    type Connection: Transport + Clone + Send + Sync + 'static;
    /// Opens a connection to the parent.
    fn connect(&self) -> impl Future<Output = anyhow::Result<Self::Connection>> + Send;
    /// The parent, as the connection verified it.
    fn parent_of(connection: &Self::Connection) -> NodeRef;
    /// One session over `connection`, with whatever the node hands up after it.
    fn session(
        &self,
        archive: &Archive,
        connection: &mut Self::Connection,
    ) -> impl Future<Output = anyhow::Result<SessionReport>> + Send;
    /// Where the parent is, as the link status shows it.
    fn address(&self) -> String;
    /// Whether a connection kept from the last session is still the one to use (a node on a
    /// fallback URL of its parent gives it up after a while, to come back to the first).
    fn keeps(_connection: &Self::Connection) -> bool {
        true
    }
}

/// The node's dial: mutual TLS to the parent's peer listener, then the session and the audit
/// anchor and link reports handed up after it.
#[derive(Clone)]
pub struct HttpDial {
    pub tls: NodeTls,
    pub parent_url: ParentUrls,
}

impl ParentDial for HttpDial {
    type Connection = HttpTransport;

    async fn connect(&self) -> anyhow::Result<HttpTransport> {
        HttpTransport::connect(&self.tls, &self.parent_url).await
    }

    fn parent_of(connection: &HttpTransport) -> NodeRef {
        connection.parent().clone()
    }

    async fn session(
        &self,
        archive: &Archive,
        connection: &mut HttpTransport,
    ) -> anyhow::Result<SessionReport> {
        crate::sync_cli::session_with(archive, &self.tls, connection, &|_| {}).await
    }

    fn address(&self) -> String {
        self.parent_url.to_string()
    }

    fn keeps(connection: &HttpTransport) -> bool {
        connection.keeps_its_parent()
    }
}

/// Starts the loop under `supervisor`; returns the handle the API and metrics read.
pub fn spawn(
    supervisor: &Supervisor,
    archive: Archive,
    tls: NodeTls,
    parent_url: ParentUrls,
    timing: SyncTiming,
) -> Arc<LinkHandle> {
    spawn_dialling(supervisor, archive, HttpDial { tls, parent_url }, timing)
}

/// Starts the loop under `supervisor`, reaching the parent through `dial`.
pub fn spawn_dialling<Dial: ParentDial>(
    supervisor: &Supervisor,
    archive: Archive,
    dial: Dial,
    timing: SyncTiming,
) -> Arc<LinkHandle> {
    let handle = Arc::new(LinkHandle::default());
    if let Ok(mut status) = handle.status.lock() {
        status.parent_url = dial.address();
    }
    let shared = handle.clone();
    supervisor.spawn("sync loop", WhenTaskDies::Restart, move |cancel| {
        run(
            shared.clone(),
            archive.clone(),
            dial.clone(),
            timing,
            cancel,
        )
    });
    handle
}

/// How long a long-poll asks the parent to hold its answer when nothing is waiting.
const LONG_POLL_WAIT_MS: u64 = 20_000;
/// Least time between the starts of two long-polls.
const LONG_POLL_SPACING: Duration = Duration::from_millis(500);

/// Sessions with the parent until `cancel` (a session under way is finished first). Between
/// sessions the loop keeps a long-poll open to the parent (issue 14 item 4), so a change made
/// above reaches this node within moments; the interval stays as the fallback.
async fn run<Dial: ParentDial>(
    shared: Arc<LinkHandle>,
    archive: Archive,
    dial: Dial,
    timing: SyncTiming,
    cancel: CancellationToken,
) {
    restore_totals(&archive, &shared).await;
    let mut next_session = tokio::time::Instant::now() + Duration::from_millis(200);
    // The connection to the parent, kept from one session to the next while it works.
    let mut transport: Option<Dial::Connection> = None;
    // A parent that answers a long-poll at once with nothing (an older release that does not
    // wait) is not asked again at once.
    let mut poll_not_before = tokio::time::Instant::now();
    loop {
        let mut watcher = transport.clone();
        // Only the asking is raced against the other wake-ups: once an answer is in, it is
        // stored and counted whatever else happened meanwhile.
        let long_poll = async {
            match watcher.as_mut() {
                Some(watcher) => {
                    tokio::time::sleep_until(poll_not_before).await;
                    let parent = Dial::parent_of(watcher);
                    replication::child::long_poll(&archive, watcher, &parent, LONG_POLL_WAIT_MS)
                        .await
                        .map(|poll| (parent, poll))
                }
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = tokio::time::sleep_until(next_session) => {}
            _ = shared.wake.notified() => {}
            _ = archive.changed() => {
                // More writes usually follow the first: wait a little for them — unless a
                // child's batch is among them, which goes on at once (below).
                tokio::select! {
                    _ = cancel.cancelled() => return,
                    _ = tokio::time::sleep(timing.debounce) => {}
                    _ = relay_now(&archive, &shared) => {}
                }
            }
            // A child's pushed batch is forwarded to the parent at once while the link works:
            // a relay does not hold what comes up through it for a debounce at every level.
            _ = relay_now(&archive, &shared) => {}
            polled = long_poll => {
                poll_not_before = tokio::time::Instant::now() + LONG_POLL_SPACING;
                let watched = match polled {
                    Ok((parent, poll)) => {
                        replication::child::store_long_poll(&archive, &parent, poll).await
                    }
                    Err(error) => Err(error),
                };
                match watched {
                    // Nothing came down in time: this node holds what the parent has for it.
                    Ok(watched) if watched.pulled == 0 && watched.caught_up => {
                        if let Ok(mut status) = shared.status.lock() {
                            status.in_step_at_ms = Some(licnode_store::now_ms());
                        }
                        continue;
                    }
                    // Something came down: a session records it and relays what it must.
                    Ok(watched) => {
                        if let Ok(mut status) = shared.status.lock() {
                            status.pulled_total += watched.pulled as u64;
                        }
                    }
                    Err(error) => {
                        tracing::debug!(%error, "the long-poll to the parent failed");
                        transport = None;
                        continue;
                    }
                }
            }
        }
        let started = licnode_store::now_ms();
        let result = session(&archive, &dial, &mut transport).await;
        let wait = record(&shared, &result, started, timing);
        next_session = tokio::time::Instant::now() + wait;
        let snapshot = shared.snapshot();
        match &result {
            Ok(report) if report.pushed + report.pulled > 0 => {
                tracing::info!(%report, "synced")
            }
            Ok(_) => tracing::debug!("in step with the parent"),
            Err(error) => tracing::warn!(
                error = %format!("{error:#}"),
                failures = snapshot.consecutive_failures,
                retry_in_ms = wait.as_millis() as u64,
                "sync with the parent failed"
            ),
        }
        save(&archive, &snapshot).await;
    }
}

/// Resolves when a child's pushed changes were stored and the link to the parent works (its
/// last session did not fail); while it fails, they wait for the backoff or the debounce like
/// any write, so that children pushing do not hammer an unreachable parent.
async fn relay_now(archive: &Archive, shared: &LinkHandle) {
    loop {
        archive.received_from_child().await;
        if shared.snapshot().consecutive_failures == 0 {
            return;
        }
    }
}

/// One session, on the kept connection or a new one; a failed session drops the connection.
async fn session<Dial: ParentDial>(
    archive: &Archive,
    dial: &Dial,
    transport: &mut Option<Dial::Connection>,
) -> anyhow::Result<SessionReport> {
    let mut connected = match transport.take() {
        Some(connected) if Dial::keeps(&connected) => connected,
        _ => dial.connect().await?,
    };
    let report = dial.session(archive, &mut connected).await?;
    *transport = Some(connected);
    Ok(report)
}

/// Records a session's outcome in the shared status; returns how long to wait for the next.
fn record(
    shared: &LinkHandle,
    result: &anyhow::Result<SessionReport>,
    started: i64,
    timing: SyncTiming,
) -> Duration {
    // A panic while the status was held (the loop is then started again) leaves it usable:
    // every field is written whole.
    let mut status = shared
        .status
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    status.last_attempt_ms = Some(started);
    status.sessions += 1;
    let wait = match result {
        Ok(report) => {
            status.parent = Some(report.parent.clone());
            status.last_success_ms = Some(licnode_store::now_ms());
            status.last_error = None;
            status.consecutive_failures = 0;
            status.pushed_total += report.pushed as u64;
            status.pulled_total += report.pulled as u64;
            status.quarantined_by_parent_total += report.push_quarantined as u64;
            status.pulled_last_session = report.pulled as u64;
            status.acknowledged = report.acknowledged;
            status.in_step_at_ms = status.last_success_ms;
            status.last_session_ms = Some(report.elapsed_ms);
            status.pushed_bytes_total += report.pushed_bytes;
            status.pulled_bytes_total += report.pulled_bytes;
            if let Some(divergence) = &report.diverged {
                status.divergences_total += 1;
                status.last_divergence = Some(divergence.clone());
                status.recovered_total += report.recovered as u64;
            }
            if let Some(finding) = &report.audit_chain_broken {
                status.audit_chain_broken = Some(finding.clone());
            }
            timing.interval
        }
        Err(error) => {
            status.last_error = Some(format!("{error:#}"));
            status.consecutive_failures += 1;
            backoff(status.consecutive_failures, timing.max_backoff)
        }
    };
    status.next_attempt_ms = Some(licnode_store::now_ms() + wait.as_millis() as i64);
    wait
}

/// The totals of the link as saved before a restart, so that they do not start again at 0.
async fn restore_totals(archive: &Archive, shared: &LinkHandle) {
    let Ok(states) = archive.link_states().await else {
        return;
    };
    let Some(saved) = states
        .into_iter()
        .find(|(peer, _)| peer == "parent")
        .and_then(|(_, state)| serde_json::from_value::<LinkStatus>(state).ok())
    else {
        return;
    };
    if let Ok(mut status) = shared.status.lock() {
        status.sessions = saved.sessions;
        status.pushed_total = saved.pushed_total;
        status.pulled_total = saved.pulled_total;
        status.pushed_bytes_total = saved.pushed_bytes_total;
        status.pulled_bytes_total = saved.pulled_bytes_total;
        status.quarantined_by_parent_total = saved.quarantined_by_parent_total;
        status.divergences_total = saved.divergences_total;
        status.recovered_total = saved.recovered_total;
        status.last_divergence = saved.last_divergence;
        status.last_success_ms = saved.last_success_ms;
        status.acknowledged = saved.acknowledged;
    }
}

async fn save(archive: &Archive, status: &LinkStatus) {
    let value = serde_json::to_value(status).unwrap_or_default();
    if let Err(error) = archive.save_link_state("parent", &value).await {
        tracing::warn!(%error, "cannot save the link state");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_maximum_with_jitter() {
        let max = Duration::from_secs(600);
        for failures in 1..=20 {
            let wait = backoff(failures, max);
            let base = Duration::from_secs(1 << (failures - 1).min(30)).min(max);
            assert!(
                wait >= base.mul_f64(0.75) && wait <= base.mul_f64(1.25).min(max),
                "{failures}: {wait:?}"
            );
        }
    }
}
