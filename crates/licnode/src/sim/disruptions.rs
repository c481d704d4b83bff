//! The simulation under load and faults: every county writing at once for a while (clean, and
//! with the national node stopped and started again in its middle), and a province down and
//! coming back while its counties keep writing.

use std::time::{Duration, Instant};

use anyhow::Context;
use licnode_model::Level;

use super::Simulation;
use super::ledger::Written;
use super::observe::{ArrivalLog, Usage, megabytes};
use super::phases::{latencies, wait_for_arrivals, write_record};

/// What a county writes in the burst and during the outage.
const BUREAU_COLLECTION: &str = "quality_archives";
/// A county in the burst writes a record, then waits this long.
const BURST_PAUSE: Duration = Duration::from_secs(1);

impl Simulation {
    /// Every county writes one record a second for `burst_seconds`; with `restart_national`,
    /// the national node is stopped and started again halfway. Measures the writes, CPU and
    /// memory during the burst, and when national held every record.
    pub(super) async fn burst(&mut self, restart_national: bool) -> anyhow::Result<()> {
        let counties = self.core.network.at_level(Level::County);
        let length = Duration::from_secs(self.options.burst_seconds);
        let national = ArrivalLog::watch(&self.national()?, &[BUREAU_COLLECTION]).await;
        let before = Usage::now();
        let started = Instant::now();
        let writing = self.county_writers(&counties, started + length);
        let mut peak = before.resident_bytes;
        let mut restart_took = None;
        let mut national_log = national.clone();
        while started.elapsed() < length {
            tokio::time::sleep(Duration::from_secs(1)).await;
            peak = peak.max(Usage::now().resident_bytes);
            if restart_national && restart_took.is_none() && started.elapsed() >= length / 2 {
                let stopping = Instant::now();
                let end = self.national()?.last_seq().await?;
                self.core.network.stop(0).await;
                national_log.stop();
                let archive = self.core.network.start(0).await?;
                restart_took = Some(stopping.elapsed());
                // Everything the restarted node stored after the old one's end arrived since.
                national_log = ArrivalLog::watch_after(&archive, &[BUREAU_COLLECTION], end);
            }
        }
        let written = join_writers(writing).await?;
        let during = Usage::now();
        let ended = Instant::now();
        // Records that reached national before the restart are in the first log, the rest in
        // the second (the restarted node's log starts again from its end).
        let arrived = |record: &Written| {
            national
                .arrival(&record.id)
                .or_else(|| national_log.arrival(&record.id))
        };
        let deadline = ended + self.settle_time();
        while Instant::now() < deadline && written.iter().any(|record| arrived(record).is_none()) {
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let drained = ended.elapsed();
        let to_national = latencies(&written, arrived);
        national.stop();
        national_log.stop();
        let name = if restart_national {
            "burst with the national node restarted halfway"
        } else {
            "burst"
        };
        let rate = written.len() as f64 / length.as_secs_f64().max(0.001);
        self.row(
            format!(
                "{name}: {} counties writing for {} s (a record, then {} s pause)",
                counties.len(),
                length.as_secs(),
                BURST_PAUSE.as_secs()
            ),
            format!(
                "{} records acknowledged ({rate:.0}/s); CPU {:.0} % of one core; peak {:.0} MB \
                 resident",
                written.len(),
                during.cores_since(&before) * 100.0,
                megabytes(peak)
            ),
        );
        if let Some(took) = restart_took {
            self.row(
                "  the national node stopped and started again (store closed and reopened)"
                    .to_string(),
                format!("{:.2} s", took.as_secs_f64()),
            );
        }
        self.row(
            format!("  {name}: every record at national"),
            format!(
                "{:.1} s after the burst ended; each record {}",
                drained.as_secs_f64(),
                to_national.describe()
            ),
        );
        if restart_national {
            self.report.burst_with_restart_to_national = to_national;
        } else {
            self.report.burst_to_national = to_national;
        }
        Ok(())
    }

    /// One task per county writing until `until`; each returns what it wrote.
    fn county_writers(
        &self,
        counties: &[usize],
        until: Instant,
    ) -> tokio::task::JoinSet<anyhow::Result<Vec<Written>>> {
        let mut writers = tokio::task::JoinSet::new();
        for county in counties.iter().copied() {
            let core = self.core.clone();
            writers.spawn(async move {
                let mut written = Vec::new();
                while Instant::now() < until {
                    let archive = core.network.archive(county).context("a county is down")?;
                    let seed = core.next_seed();
                    written.push(
                        write_record(&core, &archive, county, BUREAU_COLLECTION, seed).await?,
                    );
                    tokio::time::sleep(BURST_PAUSE).await;
                }
                Ok(written)
            });
        }
        writers
    }

    /// The province with the most counties is down for `outage` (its loop stopped, its store
    /// closed, its children's connections refused) while every county below it writes one
    /// record a second; then it starts again. When national held everything written.
    pub(super) async fn province_outage(&mut self) -> anyhow::Result<()> {
        let counties = self.core.network.at_level(Level::County);
        let network = &self.core.network;
        // The province with the most counties below it.
        let Some(province) = network
            .at_level(Level::Province)
            .into_iter()
            .max_by_key(|province| {
                counties
                    .iter()
                    .filter(|county| network.province_of(**county) == Some(*province))
                    .count()
            })
        else {
            return Ok(());
        };
        let below: Vec<usize> = counties
            .iter()
            .copied()
            .filter(|county| self.core.network.province_of(*county) == Some(province))
            .collect();
        let national = ArrivalLog::watch(&self.national()?, &[BUREAU_COLLECTION]).await;
        self.core.network.stop(province).await;
        let down_at = Instant::now();
        let writing = self.county_writers(&below, down_at + self.options.outage);
        tokio::time::sleep(self.options.outage).await;
        let written = join_writers(writing).await?;
        let stopped_for = down_at.elapsed();
        self.core.network.start(province).await?;
        let back = Instant::now();
        wait_for_arrivals(&[(&national, "national")], &written, self.settle_time()).await;
        let caught_up = back.elapsed();
        let missing = written
            .iter()
            .filter(|record| national.arrival(&record.id).is_none())
            .count();
        national.stop();
        self.row(
            format!(
                "province {} down for {:.0} s while its {} counties wrote {} records",
                self.core.network.nodes[province].node.code,
                stopped_for.as_secs_f64(),
                below.len(),
                written.len()
            ),
            format!(
                "every record at national {:.1} s after it came back{}",
                caught_up.as_secs_f64(),
                if missing > 0 {
                    format!(" ({missing} NEVER ARRIVED)")
                } else {
                    String::new()
                }
            ),
        );
        self.report.outage_missing = missing;
        Ok(())
    }
}

/// What every writer wrote.
async fn join_writers(
    mut writers: tokio::task::JoinSet<anyhow::Result<Vec<Written>>>,
) -> anyhow::Result<Vec<Written>> {
    let mut written = Vec::new();
    while let Some(writer) = writers.join_next().await {
        written.extend(writer.context("a writer panicked")??);
    }
    Ok(written)
}
