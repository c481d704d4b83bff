//! The child's sync loop: a session with the parent shortly after a write (debounced), on an
//! interval, and on demand (`POST /api/v1/sync/now`); exponential backoff with jitter while the
//! parent is unreachable. Its state is shared with the API and metrics and saved for
//! `licnode status`. The loop runs under the node's [`Supervisor`]: a panic starts it again
//! (every session stands on its own), and it stops between sessions when the node shuts down.

use std::sync::Arc;
use std::time::Duration;

use licnode_app::Archive;
use licnode_pki::NodeTls;
use licnode_server::sync::{LinkHandle, LinkStatus};
use rand::Rng;
use tokio_util::sync::CancellationToken;

use crate::supervisor::{Supervisor, WhenTaskDies};

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

/// Starts the loop under `supervisor`; returns the handle the API and metrics read.
pub fn spawn(
    supervisor: &Supervisor,
    archive: Archive,
    tls: NodeTls,
    parent_url: String,
    timing: SyncTiming,
) -> Arc<LinkHandle> {
    let handle = Arc::new(LinkHandle::default());
    if let Ok(mut status) = handle.status.lock() {
        status.parent_url = parent_url.clone();
    }
    let shared = handle.clone();
    supervisor.spawn("sync loop", WhenTaskDies::Restart, move |cancel| {
        run(
            shared.clone(),
            archive.clone(),
            tls.clone(),
            parent_url.clone(),
            timing,
            cancel,
        )
    });
    handle
}

/// Sessions with the parent until `cancel` (a session under way is finished first).
async fn run(
    shared: Arc<LinkHandle>,
    archive: Archive,
    tls: NodeTls,
    parent_url: String,
    timing: SyncTiming,
    cancel: CancellationToken,
) {
    let mut wait = Duration::from_millis(200);
    loop {
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = tokio::time::sleep(wait) => {}
            _ = shared.wake.notified() => {}
            _ = archive.replication_store().changed() => {
                // More writes usually follow the first: wait a little for them.
                tokio::select! {
                    _ = cancel.cancelled() => return,
                    _ = tokio::time::sleep(timing.debounce) => {}
                }
            }
        }
        let started = licnode_store::now_ms();
        let result = crate::sync_cli::session(&archive, &tls, &parent_url).await;
        let snapshot = {
            // A panic while the status was held (the loop is then started again) leaves it
            // usable: every field is written whole.
            let mut status = shared
                .status
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            status.last_attempt_ms = Some(started);
            status.sessions += 1;
            match &result {
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
                    if let Some(divergence) = &report.diverged {
                        status.divergences_total += 1;
                        status.last_divergence = Some(divergence.clone());
                        status.recovered_total += report.recovered as u64;
                    }
                    if let Some(finding) = &report.audit_chain_broken {
                        status.audit_chain_broken = Some(finding.clone());
                    }
                    wait = timing.interval;
                }
                Err(error) => {
                    status.last_error = Some(format!("{error:#}"));
                    status.consecutive_failures += 1;
                    wait = backoff(status.consecutive_failures, timing.max_backoff);
                }
            }
            status.next_attempt_ms = Some(licnode_store::now_ms() + wait.as_millis() as i64);
            status.clone()
        };
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

async fn save(archive: &Archive, status: &LinkStatus) {
    let value = serde_json::to_value(status).unwrap_or_default();
    if let Err(error) = archive
        .replication_store()
        .save_link_state("parent", &value)
        .await
    {
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
