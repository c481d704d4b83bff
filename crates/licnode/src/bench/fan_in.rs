//! `licnode bench fan-in`: many provinces pushing to one national node at the same time (issue
//! 14 item 3), through the replication engine's in-memory transport, so that the figure is the
//! engine's and the national database's, not TLS's.

use std::time::Instant;

use anyhow::Context;
use licnode_app::replication::transport::InMemory;
use licnode_app::{Archive, Author, BulkRow, BulkWriter};
use licnode_model::Level;
use licnode_model::divisions::PROVINCE_ABBREVIATIONS;
use licnode_sync::NodeRef;

use super::{Measurements, Row, open_store};

pub(super) async fn fan_in_bench(
    backend: &str,
    provinces: usize,
    records: usize,
) -> anyhow::Result<Vec<Row>> {
    anyhow::ensure!(
        (1..=PROVINCE_ABBREVIATIONS.len()).contains(&provinces),
        "between 1 and {} provinces",
        PROVINCE_ABBREVIATIONS.len()
    );
    let mut measurements = Measurements::new(backend);
    let dir = tempfile::tempdir()?;
    let (store, _database) = open_store(backend, dir.path(), "national").await?;
    let national = Archive::with_level(store, "100000", Level::National);
    let mut senders = Vec::new();
    let started = Instant::now();
    for (index, (prefix, _)) in PROVINCE_ABBREVIATIONS.iter().take(provinces).enumerate() {
        // Each province keeps its own archive on SQLite, as a provincial node would.
        let code = format!("{prefix}0000");
        let (store, _) = open_store("sqlite", dir.path(), &code).await?;
        let archive = Archive::with_level(store, &code, Level::Province);
        write_licences(&archive, &code, records, index as u64).await?;
        senders.push(archive);
    }
    measurements.push(
        format!("{provinces} provinces × {records} licences written (untimed set-up)"),
        format!("{:.1} s", started.elapsed().as_secs_f64()),
    );
    let started = Instant::now();
    let (process_before, machine_before) = (super::sync::process_cpu(), super::sync::machine_cpu());
    let mut sessions = tokio::task::JoinSet::new();
    for province in &senders {
        let province = province.clone();
        let mut transport = InMemory {
            parent: national.clone(),
            child: NodeRef::new(province.scope.node_code.clone(), Level::Province),
        };
        sessions.spawn(async move {
            licnode_app::replication::run_session(&province, &mut transport, &|_| {})
                .await
                .map(|report| report.pushed)
        });
    }
    let mut pushed = 0;
    while let Some(session) = sessions.join_next().await {
        pushed += session
            .context("a province's session panicked")?
            .context("a province's session")?;
    }
    let elapsed = started.elapsed();
    anyhow::ensure!(
        pushed == provinces * records,
        "pushed {pushed} of {}",
        provinces * records
    );
    measurements.push(
        format!("{provinces} provinces × {records} licences pushed to national at once"),
        format!(
            "{:.0} records/s aggregate ({:.1} s)",
            pushed as f64 / elapsed.as_secs_f64(),
            elapsed.as_secs_f64()
        ),
    );
    // Where the CPU went: this process (the provinces and national), and the whole machine
    // (with the PostgreSQL server, and anything else running).
    let used = |after: Option<std::time::Duration>, before: Option<std::time::Duration>| {
        after
            .zip(before)
            .map(|(after, before)| after.saturating_sub(before).as_secs_f64())
    };
    if let (Some(process), Some(machine)) = (
        used(super::sync::process_cpu(), process_before),
        used(super::sync::machine_cpu(), machine_before),
    ) {
        measurements.push(
            "CPU: this process (provinces and national) / the whole machine".to_string(),
            format!(
                "{:.0} / {:.0} µs a record; {:.2} / {:.2} cores busy on average",
                process * 1e6 / pushed.max(1) as f64,
                machine * 1e6 / pushed.max(1) as f64,
                process / elapsed.as_secs_f64(),
                machine / elapsed.as_secs_f64()
            ),
        );
    }
    if let Some(peak) = super::sync::peak_memory_mb() {
        measurements.push(
            "peak memory of the process (national and every province)".to_string(),
            format!("{peak:.0} MB"),
        );
    }
    for archive in senders {
        archive.close().await;
    }
    national.close().await;
    Ok(measurements.into_rows())
}

/// Writes `records` licences issued by the province `code`, through the bulk path.
async fn write_licences(
    archive: &Archive,
    code: &str,
    records: usize,
    seed: u64,
) -> anyhow::Result<()> {
    let collection = licnode_model::collection("licences").context("collection")?;
    let mut generator = licnode_gen::Generator::new(1_000 + seed);
    let mut writer = BulkWriter::new(archive, "licences", &Author::operator("bench"))?;
    for start in (0..records).step_by(1_000) {
        let rows = (start..(start + 1_000).min(records))
            .map(|_| BulkRow {
                jurisdiction: Some(code.to_owned()),
                fields: generator.record(collection, code),
            })
            .collect();
        writer.write(rows).await?;
    }
    writer.finish().await?;
    Ok(())
}
