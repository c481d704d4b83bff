//! The simulation's measurements, one function each: nodes started (memory as they grow),
//! records seeded at every level, a county's record reaching its province and national, a
//! national registry change reaching every county, the network at rest, a burst of every
//! county writing at once (clean, and with the national node restarted in its middle), and a
//! province down and coming back.

use std::time::{Duration, Instant};

use anyhow::Context;
use licnode_app::{Archive, Author};
use licnode_model::Level;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};

use super::ledger::Written;
use super::observe::{ArrivalLog, Latencies, Usage, megabytes};
use super::{Core, Simulation};

/// What a county and the bureaus above it write (Art. 12, 29: the quality archive of the
/// enterprises of their territory, reported up every year, Art. 20).
const BUREAU_COLLECTION: &str = "quality_archives";
/// What the national centre writes for every node (Art. 15, 30: the reviewer registry; Art. 32:
/// every node keeps a current copy).
const REGISTRY_COLLECTION: &str = "reviewers";
/// Nodes started at once.
const STARTS_AT_ONCE: usize = 16;

/// Writes one realistic record of `collection` for `jurisdiction` at `archive` (node `origin`),
/// and books it.
pub(super) async fn write_record(
    core: &Core,
    archive: &Archive,
    origin: usize,
    collection: &'static str,
    seed: u64,
) -> anyhow::Result<Written> {
    let jurisdiction = core.network.nodes[origin].node.code.clone();
    let model = licnode_model::collection(collection).context("collection")?;
    let fields = licnode_gen::Generator::new(seed).record(model, &jurisdiction);
    let created = archive
        .create(
            collection,
            Some(&jurisdiction),
            &fields,
            &Author::operator("sim"),
        )
        .await
        .with_context(|| format!("writing {collection} at {jurisdiction}"))?;
    let written = Written {
        id: created.record.id.clone(),
        collection,
        jurisdiction,
        origin,
        at: Instant::now(),
    };
    core.ledger.record(written.clone());
    Ok(written)
}

impl Core {
    /// A seed for the next generated record.
    pub(super) fn next_seed(&self) -> u64 {
        self.seed.wrapping_mul(1_000_000_007)
            + self
                .seeds
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    }
}

impl Simulation {
    /// Starts every node, parents first, noting the memory as the network grows.
    pub(super) async fn start_all(&mut self) -> anyhow::Result<()> {
        let started = Instant::now();
        let before = Usage::now();
        let count = self.core.network.nodes.len();
        let stages: Vec<usize> = [count / 4, count / 2, count]
            .into_iter()
            .filter(|stage| *stage > 0)
            .collect();
        let mut next = 0;
        for stage in stages {
            // Parents come before their children in the list, and each batch is started whole
            // before the next, so a child never dials a parent that has not started.
            while next < stage {
                let end = (next + STARTS_AT_ONCE).min(stage);
                let starts = (next..end).map(|index| self.core.network.start(index));
                for started in futures_util::future::join_all(starts).await {
                    started?;
                }
                next = end;
            }
            let usage = Usage::now();
            self.row(
                format!("memory with {stage} nodes started"),
                format!(
                    "{:.0} MB resident, {:.2} MB per node over the {:.0} MB before",
                    megabytes(usage.resident_bytes),
                    megabytes(usage.resident_bytes.saturating_sub(before.resident_bytes))
                        / stage as f64,
                    megabytes(before.resident_bytes)
                ),
            );
        }
        self.row(
            format!("{count} nodes started"),
            format!("{:.1} s", started.elapsed().as_secs_f64()),
        );
        Ok(())
    }

    /// Every node writes `seed_records` records (bureaus their quality archive, national the
    /// reviewer registry), then the network settles.
    pub(super) async fn seed(&mut self) -> anyhow::Result<()> {
        let started = Instant::now();
        let mut writes = tokio::task::JoinSet::new();
        for index in 0..self.core.network.nodes.len() {
            let collection = match self.core.network.nodes[index].node.level {
                Level::National => REGISTRY_COLLECTION,
                _ => BUREAU_COLLECTION,
            };
            let archive = self.core.network.archive(index).context("a node is down")?;
            for _ in 0..self.options.seed_records {
                let (core, archive, seed) =
                    (self.core.clone(), archive.clone(), self.core.next_seed());
                writes.spawn(async move {
                    write_record(&core, &archive, index, collection, seed).await
                });
            }
        }
        let mut written = 0;
        while let Some(write) = writes.join_next().await {
            write.context("a write panicked")??;
            written += 1;
        }
        let wrote = started.elapsed();
        let verdict = self
            .core
            .ledger
            .settle(&self.core.network, self.settle_time())
            .await?;
        self.row(
            format!("{written} records seeded at every level, then every node in step"),
            format!(
                "written in {:.1} s, in step {:.1} s later ({})",
                wrote.as_secs_f64(),
                (started.elapsed() - wrote).as_secs_f64(),
                if verdict.is_clean() {
                    "clean"
                } else {
                    "NOT CLEAN"
                }
            ),
        );
        self.verdicts.push(("seed", verdict));
        Ok(())
    }

    /// Sampled counties each write one record at a random moment of `duration`; when each
    /// reached its province and national.
    pub(super) async fn county_to_national(&mut self) -> anyhow::Result<()> {
        let counties = self.core.network.at_level(Level::County);
        let mut rng = rand::rngs::StdRng::seed_from_u64(self.options.seed);
        let sample: Vec<usize> = counties
            .choose_multiple(&mut rng, self.options.sample_counties.min(counties.len()))
            .copied()
            .collect();
        let national = ArrivalLog::watch(&self.national()?, &[BUREAU_COLLECTION]).await;
        let mut provinces = std::collections::HashMap::new();
        for index in self.core.network.at_level(Level::Province) {
            let archive = self
                .core
                .network
                .archive(index)
                .context("a province is down")?;
            provinces.insert(
                index,
                ArrivalLog::watch(&archive, &[BUREAU_COLLECTION]).await,
            );
        }
        let window = self.options.duration.as_millis().max(1) as u64;
        let mut writes = tokio::task::JoinSet::new();
        for county in sample {
            let delay = Duration::from_millis(rng.random_range(0..window));
            let archive = self
                .core
                .network
                .archive(county)
                .context("a county is down")?;
            let (core, seed) = (self.core.clone(), self.core.next_seed());
            writes.spawn(async move {
                tokio::time::sleep(delay).await;
                write_record(&core, &archive, county, BUREAU_COLLECTION, seed).await
            });
        }
        let mut written = Vec::new();
        while let Some(write) = writes.join_next().await {
            written.push(write.context("a write panicked")??);
        }
        let logs: Vec<(&ArrivalLog, &str)> = vec![(&national, "national")];
        wait_for_arrivals(&logs, &written, self.settle_time()).await;
        let to_province = latencies(&written, |record| {
            let province = self.core.network.province_of(record.origin)?;
            provinces.get(&province)?.arrival(&record.id)
        });
        let to_national = latencies(&written, |record| national.arrival(&record.id));
        national.stop();
        provinces.values().for_each(ArrivalLog::stop);
        self.row(
            format!(
                "a county's new record reaching its province ({} counties, one record each)",
                written.len()
            ),
            to_province.describe(),
        );
        self.row(
            "a county's new record reaching national".to_string(),
            to_national.describe(),
        );
        self.report.county_to_province = to_province;
        self.report.county_to_national = to_national;
        Ok(())
    }

    /// The national node adds a reviewer; when every county has it.
    pub(super) async fn registry_to_counties(&mut self) -> anyhow::Result<()> {
        let counties = self.core.network.at_level(Level::County);
        let mut logs = Vec::new();
        for county in &counties {
            let archive = self
                .core
                .network
                .archive(*county)
                .context("a county is down")?;
            logs.push(ArrivalLog::watch(&archive, &[REGISTRY_COLLECTION]).await);
        }
        let national = self.national()?;
        let record = write_record(
            &self.core,
            &national,
            0,
            REGISTRY_COLLECTION,
            self.core.next_seed(),
        )
        .await?;
        let watched: Vec<(&ArrivalLog, &str)> = logs.iter().map(|log| (log, "county")).collect();
        wait_for_arrivals(&watched, std::slice::from_ref(&record), self.settle_time()).await;
        let arrivals: Vec<Option<Instant>> =
            logs.iter().map(|log| log.arrival(&record.id)).collect();
        logs.iter().for_each(ArrivalLog::stop);
        let missing = arrivals.iter().filter(|arrival| arrival.is_none()).count();
        let samples: Vec<Duration> = arrivals
            .into_iter()
            .flatten()
            .map(|arrival| arrival.saturating_duration_since(record.at))
            .collect();
        let summary = Latencies::of(samples, missing);
        self.row(
            format!(
                "a national registry change reaching every county ({} counties)",
                counties.len()
            ),
            format!(
                "the last after {:.2} s; {}",
                summary.max.as_secs_f64(),
                summary.describe()
            ),
        );
        self.report.registry_to_counties = summary;
        Ok(())
    }

    /// The network with nothing to do for `duration`: memory and CPU.
    pub(super) async fn at_rest(&mut self) -> anyhow::Result<()> {
        let before = Usage::now();
        tokio::time::sleep(self.options.duration).await;
        let after = Usage::now();
        let nodes = self.core.network.nodes.len() as f64;
        let cores = after.cores_since(&before);
        self.row(
            format!(
                "at rest for {} s (long-polls open, {} s interval)",
                self.options.duration.as_secs(),
                self.core.network.timing.interval.as_secs()
            ),
            format!(
                "{:.0} MB resident ({:.2} MB per node); CPU {:.1} % of one core ({:.3} % per node)",
                megabytes(after.resident_bytes),
                megabytes(after.resident_bytes) / nodes,
                cores * 100.0,
                cores * 100.0 / nodes
            ),
        );
        Ok(())
    }

    /// The time the network is given to settle: three sync intervals (a session missed by the
    /// long-poll is caught by the interval) and a minute.
    pub(super) fn settle_time(&self) -> Duration {
        self.core.network.timing.interval * 3 + Duration::from_secs(60)
    }

    pub(super) fn national(&self) -> anyhow::Result<Archive> {
        self.core
            .network
            .archive(0)
            .context("the national node is down")
    }
}

/// Latencies of `written` records to when `arrival` says each arrived.
pub(super) fn latencies(
    written: &[Written],
    arrival: impl Fn(&Written) -> Option<Instant>,
) -> Latencies {
    let mut samples = Vec::new();
    let mut missing = 0;
    for record in written {
        match arrival(record) {
            Some(at) => samples.push(at.saturating_duration_since(record.at)),
            None => missing += 1,
        }
    }
    Latencies::of(samples, missing)
}

/// Waits until every log has seen every record, at most `timeout`.
pub(super) async fn wait_for_arrivals(
    logs: &[(&ArrivalLog, &str)],
    written: &[Written],
    timeout: Duration,
) {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        let all = logs.iter().all(|(log, _)| {
            written
                .iter()
                .all(|record| log.arrival(&record.id).is_some())
        });
        if all {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
