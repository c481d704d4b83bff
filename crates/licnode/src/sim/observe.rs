//! What the simulation measures with: when records arrive at a node (a watcher of the node's
//! change log), the process's memory and CPU time (`/proc/self`), and latency percentiles.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use licnode_app::Archive;
use tokio_util::sync::CancellationToken;

/// When each record of some collections first reached one node, as that node's change log
/// shows it. Watching starts at the log's end when it was made, so only later arrivals count.
#[derive(Clone)]
pub struct ArrivalLog {
    arrived: Arc<Mutex<HashMap<String, Instant>>>,
    stop: CancellationToken,
}

impl ArrivalLog {
    /// Starts watching `archive` for changes to `collections`.
    pub async fn watch(archive: &Archive, collections: &'static [&'static str]) -> ArrivalLog {
        let end = archive.last_seq().await.unwrap_or(0);
        ArrivalLog::watch_after(archive, collections, end)
    }

    /// Starts watching `archive` for changes to `collections` after its change `after` (a
    /// node started again: what it stored since it opened counts too).
    pub fn watch_after(
        archive: &Archive,
        collections: &'static [&'static str],
        after: i64,
    ) -> ArrivalLog {
        let log = ArrivalLog {
            arrived: Arc::default(),
            stop: CancellationToken::new(),
        };
        let archive = archive.clone();
        let mut moved = archive.watch_log();
        let mut seen = after;
        let (arrived, stop) = (log.arrived.clone(), log.stop.clone());
        tokio::spawn(async move {
            loop {
                // Everything after `seen` is read before waiting again, so no move is missed.
                loop {
                    let Ok(rows) = archive.changes_after(seen, Some(collections), 1_000).await
                    else {
                        break;
                    };
                    let now = Instant::now();
                    let Some(last) = rows.last().map(|row| row.seq) else {
                        break;
                    };
                    {
                        let mut arrived = arrived.lock().unwrap_or_else(|e| e.into_inner());
                        for row in rows {
                            arrived.entry(row.record_id).or_insert(now);
                        }
                    }
                    seen = last;
                }
                tokio::select! {
                    _ = stop.cancelled() => return,
                    changed = moved.changed() => if changed.is_err() { return },
                }
            }
        });
        log
    }

    /// When `record` arrived, if it did.
    pub fn arrival(&self, record: &str) -> Option<Instant> {
        self.arrived
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(record)
            .copied()
    }

    /// Stops watching.
    pub fn stop(&self) {
        self.stop.cancel();
    }
}

/// Latencies summarised: how many, p50, p99 and the largest, and how many never arrived.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Latencies {
    pub count: usize,
    pub missing: usize,
    pub p50: Duration,
    pub p99: Duration,
    pub max: Duration,
}

impl Latencies {
    /// Summarises `samples` (those that arrived) and `missing` (those that did not).
    pub fn of(mut samples: Vec<Duration>, missing: usize) -> Latencies {
        samples.sort();
        let at = |fraction: f64| -> Duration {
            if samples.is_empty() {
                return Duration::ZERO;
            }
            let rank = ((samples.len() as f64) * fraction).ceil() as usize;
            samples[rank.clamp(1, samples.len()) - 1]
        };
        Latencies {
            count: samples.len(),
            missing,
            p50: at(0.50),
            p99: at(0.99),
            max: samples.last().copied().unwrap_or_default(),
        }
    }

    /// `p50 / p99 / max` in seconds, with how many and how many missing.
    pub fn describe(&self) -> String {
        let missing = if self.missing > 0 {
            format!(", {} NEVER ARRIVED", self.missing)
        } else {
            String::new()
        };
        format!(
            "p50 {:.2} s, p99 {:.2} s, max {:.2} s (n = {}{missing})",
            self.p50.as_secs_f64(),
            self.p99.as_secs_f64(),
            self.max.as_secs_f64(),
            self.count
        )
    }
}

/// The process's resident memory and CPU time so far.
#[derive(Clone, Copy, Debug, Default)]
pub struct Usage {
    pub resident_bytes: u64,
    pub cpu: Duration,
    pub at: Option<Instant>,
}

impl Usage {
    /// Reads `/proc/self` (zeros where it cannot be read: not Linux).
    pub fn now() -> Usage {
        Usage {
            resident_bytes: resident_bytes().unwrap_or(0),
            cpu: cpu_time().unwrap_or_default(),
            at: Some(Instant::now()),
        }
    }

    /// The CPU used between `earlier` and this reading, in cores (1.0 = one core busy).
    pub fn cores_since(&self, earlier: &Usage) -> f64 {
        let (Some(now), Some(then)) = (self.at, earlier.at) else {
            return 0.0;
        };
        let wall = now.duration_since(then).as_secs_f64();
        if wall <= 0.0 {
            return 0.0;
        }
        self.cpu.saturating_sub(earlier.cpu).as_secs_f64() / wall
    }
}

/// Resident memory from `/proc/self/status` (`VmRSS`, in kB).
fn resident_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmRSS:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// User and system CPU time from `/proc/self/stat` (fields 14 and 15, in clock ticks of
/// 1/100 s, Linux's `USER_HZ` on every architecture it supports).
fn cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The command name (field 2) may hold spaces: count fields after its closing parenthesis.
    let after_name = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let user: u64 = fields.get(11)?.parse().ok()?;
    let system: u64 = fields.get(12)?.parse().ok()?;
    Some(Duration::from_millis((user + system) * 10))
}

/// Megabytes, for the table.
pub fn megabytes(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_taken_by_nearest_rank() {
        let samples = (1..=100).map(Duration::from_millis).collect();
        let latencies = Latencies::of(samples, 2);
        assert_eq!(latencies.p50, Duration::from_millis(50));
        assert_eq!(latencies.p99, Duration::from_millis(99));
        assert_eq!(latencies.max, Duration::from_millis(100));
        assert_eq!((latencies.count, latencies.missing), (100, 2));
    }

    #[test]
    fn the_process_reads_its_own_memory_and_cpu_time() {
        let usage = Usage::now();
        assert!(usage.resident_bytes > 0);
        let busy_until = Instant::now() + Duration::from_millis(50);
        while Instant::now() < busy_until {}
        assert!(Usage::now().cpu >= usage.cpu);
    }
}
