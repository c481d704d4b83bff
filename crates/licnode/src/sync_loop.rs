//! The child's sync loop: a session with the parent shortly after a write (debounced), on an
//! interval, and on demand (`POST /api/v1/sync/now`); exponential backoff with jitter while the
//! parent is unreachable. Its state is shared with the API and metrics and saved for
//! `licnode status`.

use std::sync::Arc;
use std::time::Duration;

use licnode_app::Archive;
use licnode_pki::NodeTls;
use licnode_server::sync::{LinkHandle, LinkStatus};
use rand::Rng;

/// The loop's timing.
#[derive(Clone, Copy, Debug)]
pub struct SyncTiming {
    pub interval: Duration,
    pub debounce: Duration,
    pub max_backoff: Duration,
}

impl SyncTiming {
    /// The timing of `[sync]`.
    pub fn from_section(section: &crate::config::SyncSection) -> anyhow::Result<SyncTiming> {
        let parse = |name: &str, text: &str| {
            licnode_pki::parse_duration(text)
                .map_err(|error| anyhow::anyhow!("[sync] {name} {text:?}: {error}"))
        };
        Ok(SyncTiming {
            interval: parse("interval", &section.interval)?,
            debounce: parse("debounce", &section.debounce)?,
            max_backoff: parse("max_backoff", &section.max_backoff)?,
        })
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

/// Starts the loop; returns the handle the API and metrics read.
pub fn spawn(
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
    tokio::spawn(async move {
        let mut wait = Duration::from_millis(200);
        loop {
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = shared.wake.notified() => {}
                _ = archive.replication_store().changed() => {
                    // More writes usually follow the first: wait a little for them.
                    tokio::time::sleep(timing.debounce).await;
                }
            }
            let started = licnode_store::now_ms();
            let result = crate::sync_cli::session(&archive, &tls, &parent_url).await;
            let snapshot = {
                let Ok(mut status) = shared.status.lock() else {
                    break;
                };
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
    });
    handle
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
