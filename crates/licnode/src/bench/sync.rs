//! `licnode bench sync`: county → province → national over mutual TLS.

use std::time::{Duration, Instant};

use anyhow::Context;

use super::{Row, millis, percentile};

/// Peak resident memory of this process so far (Linux `VmHWM`), in MB.
pub(super) fn peak_memory_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    let kilobytes: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kilobytes / 1024.0)
}

pub(super) async fn sync_bench(records: usize, changed: usize) -> anyhow::Result<Vec<Row>> {
    use crate::sync_cli::session;
    let mut rows = Vec::new();
    let mut push = |measure: String, value: String| {
        eprintln!("[sqlite] {measure}: {value}");
        rows.push(Row {
            backend: "sqlite".to_string(),
            measure,
            value,
        })
    };
    let dir = tempfile::tempdir()?;
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    let base = listener.local_addr()?;
    drop(listener);
    crate::demo::build_tree(dir.path(), base).await?;
    let mut nodes = Vec::new();
    for name in ["national", "zhejiang", "xihu"] {
        let mut config = crate::Config::load(&dir.path().join(name).join("licnode.toml"))?;
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
    let url = |index: usize| -> anyhow::Result<String> {
        Ok(format!(
            "https://{}",
            nodes[index].peer_addr().context("peer listener")?
        ))
    };
    let (national_url, zhejiang_url) = (url(0)?, url(1)?);
    let (zhejiang, xihu) = (&nodes[1], &nodes[2]);
    let county = xihu.archive();
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
    let payload: usize = county
        .changes_after(0, None, i64::MAX)
        .await?
        .iter()
        .map(|row| row.bytes.len())
        .sum();

    let (zhejiang_url_ref, national_url_ref) = (&zhejiang_url, &national_url);
    // The province relays while the county is still pushing, as its sync loop does: sessions
    // of the province with national run back to back until the county's session is over and
    // one more province session finds nothing new.
    let round = |label: &'static str| async move {
        let started = Instant::now();
        let county = async {
            let report =
                session(xihu.archive(), xihu.tls().context("tls")?, zhejiang_url_ref).await?;
            anyhow::Ok((report, started.elapsed()))
        };
        let county_finished = std::sync::atomic::AtomicBool::new(false);
        let province = async {
            let mut relayed = 0;
            loop {
                let done = county_finished.load(std::sync::atomic::Ordering::SeqCst);
                let report = session(
                    zhejiang.archive(),
                    zhejiang.tls().context("tls")?,
                    national_url_ref,
                )
                .await?;
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
        anyhow::Ok((label, up.pushed, relayed?, county_done, total))
    };
    let (_, pushed, relayed, county_done, total) = round("cold").await?;
    anyhow::ensure!(
        pushed == records && relayed == records,
        "cold round moved {pushed}/{relayed}"
    );
    push(
        format!("cold: {records} records county → province → national"),
        format!(
            "{:.0} records/s end to end ({:.1} s; county → province {:.1} s)",
            records as f64 / total.as_secs_f64(),
            total.as_secs_f64(),
            county_done.as_secs_f64()
        ),
    );
    push(
        "change bytes per record (automerge, before base64/JSON/TLS)".to_string(),
        format!("{} B", payload / records.max(1)),
    );

    let page = county
        .list(&licnode_store::ListQuery {
            collection: "quality_archives".into(),
            limit: changed as i64,
            ..Default::default()
        })
        .await?;
    for (index, record) in page.items.iter().enumerate() {
        let mut patch = serde_json::Map::new();
        patch.insert("remarks".into(), serde_json::json!(format!("复查 {index}")));
        county
            .update(&record.id, &patch, &licnode_app::Author::operator("bench"))
            .await?;
    }
    let (_, pushed, relayed, county_done, total) = round("changed").await?;
    anyhow::ensure!(
        pushed == changed && relayed == changed,
        "changed round moved {pushed}/{relayed}"
    );
    push(
        format!("{changed} changed records county → province → national"),
        format!(
            "{:.3} s end to end (county → province {:.3} s)",
            total.as_secs_f64(),
            county_done.as_secs_f64()
        ),
    );
    let mut empty = Vec::new();
    for _ in 0..20 {
        let started = Instant::now();
        let report = session(xihu.archive(), xihu.tls().context("tls")?, &zhejiang_url).await?;
        empty.push(started.elapsed());
        anyhow::ensure!(
            report.pushed + report.pulled == 0,
            "an empty round moved changes"
        );
    }
    push(
        "empty round county ↔ province, new connections (p50 / p99 of 20)".to_string(),
        format!(
            "{} / {}",
            millis(percentile(&mut empty, 0.5)),
            millis(percentile(&mut empty, 0.99))
        ),
    );
    if let Some(peak) = peak_memory_mb() {
        push(
            "peak memory of the process hosting all three nodes".to_string(),
            format!("{peak:.0} MB"),
        );
    }
    for node in nodes {
        node.shutdown().await?;
    }
    Ok(rows)
}
