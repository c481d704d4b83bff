//! `licnode sim`: the country simulated in one process (issue 15 item 1). Every agency of the
//! real division tree — national, provinces, prefectures (or not), counties — runs the node's
//! own code: its store (SQLite, in a directory of its own), the records service (`Archive`),
//! the replication engine with the authority checks on both ends, and the node's sync loop
//! with the default `[sync]` settings and its long-poll, dialling its parent through the
//! engine's in-memory transport. What differs from production: every node shares one process
//! and one tokio runtime; a SQLite store keeps 1 MB of page cache for its writer and one
//! reader (a node: 64 MB and eight readers of 16 MB); no TLS, no HTTP, no audit anchors or link
//! reports after a session; records are written through `Archive` directly, not the HTTP API.
//!
//! It seeds realistic records (`licnode-gen`) at every level, measures (see [`phases`] and
//! [`disruptions`]), prints a table, and checks that every node holds exactly what
//! `licnode_sync::decide` sends it ([`ledger`]).

mod disruptions;
pub mod ledger;
pub mod network;
pub mod observe;
mod phases;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::{Duration, Instant};

use ledger::{Ledger, Verdict};
use network::{Extent, Network};
use observe::Latencies;

use crate::sync_loop::SyncTiming;

/// `licnode sim` options.
#[derive(clap::Args, Clone, Debug)]
pub struct SimOptions {
    /// One province's subtree, by its two-digit code (`33`: Zhejiang).
    #[arg(long, conflicts_with_all = ["provinces", "whole_country"])]
    pub province: Option<String>,
    /// The first N provinces in code order, with their subtrees.
    #[arg(long, conflicts_with = "whole_country")]
    pub provinces: Option<usize>,
    /// The whole tree: national, 31 provinces, their prefectures and counties.
    #[arg(long)]
    pub whole_country: bool,
    /// Whether the prefectures run nodes (`false`: the counties dial their province).
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    pub prefectures: bool,
    /// The window over which the sampled counties each write one record, and how long the
    /// network is watched at rest.
    #[arg(long, default_value = "30s", value_parser = humantime::parse_duration)]
    pub duration: Duration,
    /// How long every county writes at once (a record a second each).
    #[arg(long, default_value_t = 60)]
    pub burst_seconds: u64,
    /// How long a province is down.
    #[arg(long, default_value = "60s", value_parser = humantime::parse_duration)]
    pub outage: Duration,
    /// The seed of the generated records and of the sampled counties.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// How many counties write a record for the latency figures.
    #[arg(long, default_value_t = 300)]
    pub sample_counties: usize,
    /// Records every node writes before the measurements.
    #[arg(long, default_value_t = 2)]
    pub seed_records: usize,
    /// Where the nodes' databases go (a temporary directory, removed after, by default).
    #[arg(long)]
    pub dir: Option<PathBuf>,
}

impl SimOptions {
    /// Which part of the tree the options name (one province when none is named).
    pub fn extent(&self) -> Extent {
        if self.whole_country {
            Extent::WholeCountry
        } else if let Some(count) = self.provinces {
            Extent::Provinces(count)
        } else {
            Extent::Province(self.province.clone().unwrap_or_else(|| "33".to_string()))
        }
    }
}

/// What the simulation found, for tests and the table.
#[derive(Clone, Debug, Default)]
pub struct SimReport {
    pub nodes: usize,
    /// The table: what was measured, and the figure.
    pub rows: Vec<(String, String)>,
    pub county_to_province: Latencies,
    pub county_to_national: Latencies,
    pub registry_to_counties: Latencies,
    pub burst_to_national: Latencies,
    pub burst_with_restart_to_national: Latencies,
    /// Records written below the down province that never reached national.
    pub outage_missing: usize,
    /// The check after each step that settles: its name and verdict.
    pub verdicts: Vec<(&'static str, Verdict)>,
}

impl SimReport {
    /// True when every check found every record where the rules send it and nowhere else.
    pub fn is_clean(&self) -> bool {
        self.verdicts.iter().all(|(_, verdict)| verdict.is_clean())
    }
}

/// What the measurements share with the tasks they spawn.
pub(crate) struct Core {
    pub network: Network,
    pub ledger: Ledger,
    seed: u64,
    seeds: AtomicU64,
}

struct Simulation {
    core: Arc<Core>,
    options: SimOptions,
    report: SimReport,
    verdicts: Vec<(&'static str, Verdict)>,
}

impl Simulation {
    fn row(&mut self, what: String, figure: String) {
        eprintln!("  {what}: {figure}");
        self.report.rows.push((what, figure));
    }
}

/// Runs `licnode sim`: prints the table, fails when a check found a record out of place.
pub async fn run(options: SimOptions) -> anyhow::Result<()> {
    let report = simulate(options).await?;
    println!("{}", table(&report));
    for (step, verdict) in &report.verdicts {
        for line in verdict
            .lost
            .iter()
            .chain(&verdict.misplaced)
            .chain(&verdict.quarantined)
        {
            println!("{step}: {line}");
        }
    }
    anyhow::ensure!(
        report.is_clean(),
        "some node does not hold exactly what the authority table sends it (listed above)"
    );
    Ok(())
}

/// Runs the simulation and returns what it measured.
pub async fn simulate(options: SimOptions) -> anyhow::Result<SimReport> {
    let temporary;
    let directory = match &options.dir {
        Some(directory) => {
            std::fs::create_dir_all(directory)?;
            directory.clone()
        }
        None => {
            temporary = tempfile::tempdir()?;
            temporary.path().to_path_buf()
        }
    };
    let topology = network::tree(&options.extent(), options.prefectures)?;
    let timing = SyncTiming::from_section(&crate::config::SyncSection::default());
    let network = Network::prepare(topology, &directory, timing).await?;
    let mut simulation = Simulation {
        core: Arc::new(Core {
            network,
            ledger: Ledger::default(),
            seed: options.seed,
            seeds: AtomicU64::new(0),
        }),
        options,
        report: SimReport::default(),
        verdicts: Vec::new(),
    };
    simulation.report.nodes = simulation.core.network.nodes.len();
    let started = Instant::now();
    let outcome = simulation.measure().await;
    let network = &simulation.core.network;
    futures_util::future::join_all((0..network.nodes.len()).map(|index| network.stop(index))).await;
    outcome?;
    let stuck = simulation.core.network.stuck_closes();
    if stuck > 0 {
        simulation.row(
            "stops whose store had not closed after 10 s (sqlx's pool close waiting)".to_string(),
            stuck.to_string(),
        );
    }
    simulation.row(
        "the whole simulation".to_string(),
        format!("{:.0} s", started.elapsed().as_secs_f64()),
    );
    simulation.report.verdicts = std::mem::take(&mut simulation.verdicts);
    Ok(simulation.report)
}

impl Simulation {
    async fn measure(&mut self) -> anyhow::Result<()> {
        eprintln!(
            "licnode sim: {} nodes ({} with prefectures as nodes: {})",
            self.core.network.nodes.len(),
            describe_extent(&self.options.extent()),
            self.options.prefectures
        );
        self.start_all().await?;
        self.seed().await?;
        self.county_to_national().await?;
        // At rest first: what reaches the counties is then the long-poll's work alone.
        self.at_rest().await?;
        self.registry_to_counties().await?;
        self.burst(false).await?;
        self.settle("burst").await?;
        self.burst(true).await?;
        self.settle("burst with national restarted").await?;
        self.province_outage().await?;
        self.settle("province outage").await?;
        Ok(())
    }

    async fn settle(&mut self, step: &'static str) -> anyhow::Result<()> {
        let started = Instant::now();
        let verdict = self
            .core
            .ledger
            .settle(&self.core.network, self.settle_time())
            .await?;
        self.row(
            format!("  after the {step}: every node holds exactly what the rules send it"),
            format!(
                "{} after {:.1} s ({} records{})",
                if verdict.is_clean() { "yes" } else { "NO" },
                started.elapsed().as_secs_f64(),
                verdict.records,
                if verdict.looked_up > 0 {
                    format!(", {} looked up one by one", verdict.looked_up)
                } else {
                    String::new()
                }
            ),
        );
        self.verdicts.push((step, verdict));
        Ok(())
    }
}

fn describe_extent(extent: &Extent) -> String {
    match extent {
        Extent::Province(prefix) => format!("province {prefix}"),
        Extent::Provinces(count) => format!("the first {count} provinces"),
        Extent::WholeCountry => "the whole country".to_string(),
    }
}

/// The table `licnode sim` prints.
pub fn table(report: &SimReport) -> String {
    let width = report
        .rows
        .iter()
        .map(|(what, _)| what.chars().count())
        .max()
        .unwrap_or(0);
    let mut out = format!("country simulation: {} nodes\n", report.nodes);
    for (what, figure) in &report.rows {
        let pad = width - what.chars().count();
        out.push_str(&format!("{what}{}  {figure}\n", " ".repeat(pad)));
    }
    out
}
