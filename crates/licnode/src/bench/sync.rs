//! `licnode bench sync`: county → province → national over mutual TLS.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context;
use licnode_app::Archive;

use super::{Measurements, Row, millis, percentile};
use crate::NodeHandle;
use crate::sync_cli::{HttpTransport, session, session_with};

/// Peak resident memory of this process so far (Linux `VmHWM`), in MB.
pub(super) fn peak_memory_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    let kilobytes: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kilobytes / 1024.0)
}

/// CPU time this process has used so far, user and system, all threads (Linux
/// `/proc/self/stat`, in clock ticks of 10 ms: Linux's `USER_HZ` is 100 on every architecture
/// it runs on here).
pub(super) fn process_cpu() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The command name (field 2) is in parentheses and may hold spaces: count after it.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the whole line, 12 and 13 after the name.
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(Duration::from_millis(ticks * 10))
}

/// CPU time every process on the machine has used so far, all cores together (Linux
/// `/proc/stat`: every state but idle and waiting for IO), in clock ticks of 10 ms.
pub(super) fn machine_cpu() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let line = stat.lines().find(|line| line.starts_with("cpu "))?;
    let ticks: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .map(str::parse)
        .collect::<Result<_, _>>()
        .ok()?;
    // user nice system idle iowait irq softirq steal (guest time is inside user already).
    let busy: u64 = ticks.iter().take(8).sum::<u64>() - ticks.get(3)? - ticks.get(4)?;
    Some(Duration::from_millis(busy * 10))
}

/// `perf record`'s control FIFO, named by `LICNODE_BENCH_PERF_CTL`, so that a profile taken
/// with `perf record -D -1 --control fifo:<path>` holds the rounds alone, not the county's
/// edits made between them (docs/BENCHMARKS.md says how it is used). The FIFO is opened for
/// writing at the start of each round, which waits until something reads it: name one that
/// `perf` holds open.
struct PerfControl(Option<std::fs::File>);

impl PerfControl {
    fn from_env() -> PerfControl {
        let fifo = std::env::var_os("LICNODE_BENCH_PERF_CTL")
            .and_then(|path| std::fs::OpenOptions::new().write(true).open(path).ok());
        PerfControl(fifo)
    }

    fn send(&self, command: &str) {
        use std::io::Write;
        if let Some(mut fifo) = self.0.as_ref() {
            // A profiler that went away leaves the bench's figures as they are.
            let _ = writeln!(fifo, "{command}");
        }
    }
}

/// The connections of a round's sessions, kept from one round to the next as the sync loop
/// keeps its connection to the parent: county → province and province → national.
struct Links {
    county: HttpTransport,
    province: HttpTransport,
}

/// What one round moved and how long it took.
struct Round {
    /// Changes the county pushed to the province.
    pushed: usize,
    /// Changes the province relayed to the national node.
    relayed: usize,
    /// When the county's session was over.
    county_done: Duration,
    /// When the province found nothing more to relay.
    total: Duration,
    /// CPU time the process (all three nodes) used during the round, if the system tells.
    cpu: Option<Duration>,
}

impl Round {
    /// CPU per record moved and cores busy on average, for the round's row: what tells
    /// whether more parallelism or less work per change is the lever.
    fn cpu_figures(&self, records: usize) -> String {
        match self.cpu {
            Some(cpu) => format!(
                "{:.0} µs CPU a record, {:.2} cores busy on average",
                cpu.as_secs_f64() * 1e6 / records.max(1) as f64,
                cpu.as_secs_f64() / self.total.as_secs_f64()
            ),
            None => "CPU time not available".to_string(),
        }
    }
}

pub(super) async fn sync_bench(
    records: usize,
    changed: usize,
    changed_rounds: usize,
) -> anyhow::Result<Vec<Row>> {
    let mut measurements = Measurements::new("sqlite");
    let dir = tempfile::tempdir()?;
    let nodes = start_demo_tree(dir.path()).await?;
    let url = |index: usize| -> anyhow::Result<String> {
        Ok(format!(
            "https://{}",
            nodes[index].peer_addr().context("peer listener")?
        ))
    };
    let (national_url, zhejiang_url) = (url(0)?, url(1)?);
    let (zhejiang, xihu) = (&nodes[1], &nodes[2]);
    let county = xihu.archive();
    let payload = load_county_records(county, records).await?;

    // One connection each way, kept from session to session as the sync loop keeps it.
    let mut links = Links {
        county: HttpTransport::connect(xihu.tls().context("tls")?, zhejiang_url.as_str()).await?,
        province: HttpTransport::connect(zhejiang.tls().context("tls")?, national_url.as_str())
            .await?,
    };
    let round = run_round(xihu, zhejiang, &mut links).await?;
    anyhow::ensure!(
        round.pushed == records && round.relayed == records,
        "cold round moved {}/{}",
        round.pushed,
        round.relayed
    );
    measurements.push(
        format!("cold: {records} records county → province → national"),
        format!(
            "{:.0} records/s end to end ({:.1} s; county → province {:.1} s)",
            records as f64 / round.total.as_secs_f64(),
            round.total.as_secs_f64(),
            round.county_done.as_secs_f64()
        ),
    );
    measurements.push(
        "cold round: CPU of the three nodes".to_string(),
        round.cpu_figures(records),
    );
    measurements.push(
        "change bytes per record (automerge, as the batch frame carries them, before TLS)"
            .to_string(),
        format!("{} B", payload / records.max(1)),
    );

    let mut changed_totals = Vec::new();
    for round_number in 0..changed_rounds.max(1) {
        edit_county_records(county, changed, round_number).await?;
        let round = run_round(xihu, zhejiang, &mut links).await?;
        anyhow::ensure!(
            round.pushed == changed && round.relayed == changed,
            "changed round moved {}/{}",
            round.pushed,
            round.relayed
        );
        if changed_totals.is_empty() {
            measurements.push(
                format!("{changed} changed records county → province → national"),
                format!(
                    "{:.3} s end to end (county → province {:.3} s)",
                    round.total.as_secs_f64(),
                    round.county_done.as_secs_f64()
                ),
            );
            measurements.push(
                "changed round: CPU of the three nodes".to_string(),
                round.cpu_figures(changed),
            );
        }
        changed_totals.push(round.total);
    }
    if changed_totals.len() > 1 {
        let rounds = changed_totals.len();
        measurements.push(
            format!("{changed} changed records, median of {rounds} rounds (p50 / max)"),
            format!(
                "{} / {}",
                millis(percentile(&mut changed_totals, 0.5)),
                millis(percentile(&mut changed_totals, 1.0))
            ),
        );
    }
    let mut empty = time_empty_rounds(xihu, &zhejiang_url, false).await?;
    measurements.push(
        "empty round county ↔ province, new connections (p50 / p99 of 20)".to_string(),
        format!(
            "{} / {}",
            millis(percentile(&mut empty, 0.5)),
            millis(percentile(&mut empty, 0.99))
        ),
    );
    let mut reused = time_empty_rounds(xihu, &zhejiang_url, true).await?;
    measurements.push(
        "empty round county ↔ province, one connection reused (p50 / p99 of 20)".to_string(),
        format!(
            "{} / {}",
            millis(percentile(&mut reused, 0.5)),
            millis(percentile(&mut reused, 0.99))
        ),
    );
    let mut down = time_down_flow(&nodes, &national_url, &zhejiang_url).await?;
    measurements.push(
        "national registry entry reaching the county through the province, long-polls open \
         (p50 / max of 10)"
            .to_string(),
        format!(
            "{} / {}",
            millis(percentile(&mut down, 0.5)),
            millis(percentile(&mut down, 1.0))
        ),
    );
    if let Some(peak) = peak_memory_mb() {
        measurements.push(
            "peak memory of the process hosting all three nodes".to_string(),
            format!("{peak:.0} MB"),
        );
    }
    for node in nodes {
        node.shutdown().await?;
    }
    Ok(measurements.into_rows())
}

/// The demo tree's national, Zhejiang and Xihu nodes, started in this process with their sync
/// loops and reports off.
async fn start_demo_tree(dir: &Path) -> anyhow::Result<Vec<NodeHandle>> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    let base = listener.local_addr()?;
    drop(listener);
    crate::demo::build_tree(dir, base).await?;
    let mut nodes = Vec::new();
    for name in ["national", "zhejiang", "xihu"] {
        let mut config = crate::Config::load(&dir.join(name).join("licnode.toml"))?;
        config.sync.enabled = false;
        // Only the records made here move: no report is scheduled.
        config.schedule.monthly = None;
        config.schedule.yearly = None;
        config.http.listen = "127.0.0.1:0".parse()?;
        if let Some(peer) = config.peer.as_mut() {
            peer.listen = "127.0.0.1:0".parse()?;
        }
        nodes.push(crate::Node::start(&config).await?);
    }
    Ok(nodes)
}

/// Writes `records` quality archives at the county; the bytes of their changes.
async fn load_county_records(county: &Archive, records: usize) -> anyhow::Result<usize> {
    let collection = licnode_model::collection("quality_archives").context("collection")?;
    let mut generator = licnode_gen::Generator::new(7);
    let mut writer = licnode_app::BulkWriter::new(
        county,
        "quality_archives",
        &licnode_app::Author::operator("bench"),
    )?;
    for start in (0..records).step_by(1_000) {
        let rows = (start..(start + 1_000).min(records))
            .map(|_| licnode_app::BulkRow {
                jurisdiction: Some("330106".into()),
                fields: generator.record(collection, "330106"),
            })
            .collect();
        writer.write(rows).await?;
    }
    writer.finish().await?;
    // Read a page at a time: the bench's own reading must not weigh on the nodes' peak memory.
    let (mut bytes, mut after) = (0, 0);
    loop {
        let page = county.changes_after(after, None, 1_000).await?;
        let Some(last) = page.last() else {
            return Ok(bytes);
        };
        after = last.seq;
        bytes += page.iter().map(|row| row.bytes.len()).sum::<usize>();
    }
}

/// Edits the remarks of `changed` records at the county (for the `round`th time).
async fn edit_county_records(county: &Archive, changed: usize, round: usize) -> anyhow::Result<()> {
    let page = county
        .list(&licnode_store::ListQuery {
            collection: "quality_archives".into(),
            limit: changed as i64,
            ..Default::default()
        })
        .await?;
    for (index, record) in page.items.iter().enumerate() {
        let mut patch = serde_json::Map::new();
        patch.insert(
            "remarks".into(),
            serde_json::json!(format!("复查 {index}.{round}")),
        );
        county
            .update(&record.id, &patch, &licnode_app::Author::operator("bench"))
            .await?;
    }
    Ok(())
}

/// One round: the county pushes to the province, and the province relays while the county is
/// still pushing, as its sync loop does — sessions of the province with national run back to
/// back until the county's session is over and one more province session finds nothing new.
async fn run_round(
    county_node: &NodeHandle,
    province_node: &NodeHandle,
    links: &mut Links,
) -> anyhow::Result<Round> {
    let profiler = PerfControl::from_env();
    profiler.send("enable");
    let started = Instant::now();
    let cpu_before = process_cpu();
    let Links {
        county: county_link,
        province: province_link,
    } = links;
    let county = async {
        let tls = county_node.tls().context("tls")?;
        let report = session_with(county_node.archive(), tls, county_link, &|_| {}).await?;
        anyhow::Ok((report, started.elapsed()))
    };
    let county_finished = std::sync::atomic::AtomicBool::new(false);
    let province = async {
        let mut relayed = 0;
        loop {
            let done = county_finished.load(std::sync::atomic::Ordering::SeqCst);
            let tls = province_node.tls().context("tls")?;
            let report = session_with(province_node.archive(), tls, province_link, &|_| {}).await?;
            relayed += report.pushed;
            if done && report.pushed == 0 {
                break;
            }
            if report.pushed == 0 {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
        anyhow::Ok(relayed)
    };
    let county = async {
        let result = county.await;
        county_finished.store(true, std::sync::atomic::Ordering::SeqCst);
        result
    };
    let (county, relayed) = tokio::join!(county, province);
    let (up, county_done) = county?;
    let total = started.elapsed();
    let cpu = process_cpu()
        .zip(cpu_before)
        .map(|(after, before)| after.saturating_sub(before));
    profiler.send("disable");
    Ok(Round {
        pushed: up.pushed,
        relayed: relayed?,
        county_done,
        total,
        cpu,
    })
}

/// Twenty sessions of the county with the province that find nothing to move, each over a new
/// connection or all over one connection (`reuse`, as the sync loop keeps it); how long each
/// took.
async fn time_empty_rounds(
    county_node: &NodeHandle,
    province_url: &str,
    reuse: bool,
) -> anyhow::Result<Vec<Duration>> {
    let tls = county_node.tls().context("tls")?;
    let mut kept = HttpTransport::connect(tls, province_url).await?;
    session_with(county_node.archive(), tls, &mut kept, &|_| {}).await?;
    let mut empty = Vec::new();
    for _ in 0..20 {
        let started = Instant::now();
        let report = if reuse {
            session_with(county_node.archive(), tls, &mut kept, &|_| {}).await?
        } else {
            session(county_node.archive(), tls, province_url).await?
        };
        empty.push(started.elapsed());
        anyhow::ensure!(
            report.pushed + report.pulled == 0,
            "an empty round moved changes"
        );
    }
    Ok(empty)
}

/// Ten registry entries written at national, each timed until the county holds it, while the
/// province and the county keep a long-poll open to their parents as their sync loops do.
async fn time_down_flow(
    nodes: &[NodeHandle],
    national_url: &str,
    province_url: &str,
) -> anyhow::Result<Vec<Duration>> {
    let (national, province, county) = (&nodes[0], &nodes[1], &nodes[2]);
    let watch = |node: &NodeHandle, url: &str| {
        let archive = node.archive().clone();
        let tls = node.tls().cloned();
        let url = url.to_owned();
        tokio::spawn(async move {
            let tls = tls.context("tls")?;
            let mut transport = HttpTransport::connect(&tls, &url).await?;
            let parent = transport.parent().clone();
            loop {
                licnode_app::replication::watch_parent(&archive, &mut transport, &parent, 20_000)
                    .await?;
            }
            #[allow(unreachable_code)]
            anyhow::Ok(())
        })
    };
    let watchers = [watch(province, national_url), watch(county, province_url)];
    tokio::time::sleep(Duration::from_millis(500)).await;
    let collection = licnode_model::collection("reviewers").context("collection")?;
    let mut generator = licnode_gen::Generator::new(11);
    let mut times = Vec::new();
    for _ in 0..10 {
        let started = Instant::now();
        let id = national
            .archive()
            .create(
                "reviewers",
                Some("100000"),
                &generator.record(collection, "100000"),
                &licnode_app::Author::operator("bench"),
            )
            .await?
            .record
            .id;
        while county.archive().find(&id).await?.is_none() {
            anyhow::ensure!(
                started.elapsed() < Duration::from_secs(60),
                "the entry did not come down within a minute"
            );
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        times.push(started.elapsed());
    }
    for watcher in watchers {
        watcher.abort();
    }
    Ok(times)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The CPU figures the benches print come from the system's counters: this process's time
    /// grows while it works, and the machine's by at least as much.
    #[test]
    fn the_cpu_counters_read_and_grow_with_work() {
        let (process_before, machine_before) = (
            process_cpu().expect("this process's CPU"),
            machine_cpu().expect("the machine's CPU"),
        );
        let started = Instant::now();
        let mut spin = 0u64;
        while process_cpu().expect("CPU") < process_before + Duration::from_millis(50) {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "the counter never moved"
            );
            for _ in 0..100_000 {
                spin = std::hint::black_box(spin.wrapping_mul(31).wrapping_add(7));
            }
        }
        let process = process_cpu().expect("CPU") - process_before;
        let machine = machine_cpu().expect("CPU") - machine_before;
        // Both are counted in 10 ms ticks, sampled at slightly different moments.
        assert!(
            machine + Duration::from_millis(20) >= process,
            "machine {machine:?} < process {process:?}"
        );
    }
}
