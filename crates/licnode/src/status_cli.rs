//! `licnode status`: this node's replication state (change log, link to the parent, lag,
//! quarantine, and its children's links as this end knows them).

use crate::cli::open_archive;
use crate::config::Config;

/// Prints the node's replication state.
pub async fn run(config: &Config) -> anyhow::Result<()> {
    let archive = open_archive(config).await?;
    let last_seq = archive.last_seq().await?;
    println!(
        "node            {} ({}, {})",
        config.node.code, config.node.name, config.node.level
    );
    println!("change log      {last_seq} changes");
    println!(
        "quarantined     {} received changes",
        archive.quarantine_count().await?
    );
    let links = archive.link_states().await?;
    let parent_urls = crate::sync_cli::ParentUrls::new(config.node.parent_urls());
    match (parent_urls.map(|urls| urls.to_string()), links.first()) {
        (None, _) => println!("parent          none (the root of the tree)"),
        (Some(url), None) => println!("parent          {url}: no session yet"),
        (Some(url), Some((_, state))) => {
            let millis = |key: &str| {
                state[key]
                    .as_i64()
                    .and_then(chrono::DateTime::from_timestamp_millis)
                    .map(|time| time.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
                    .unwrap_or_else(|| "never".to_string())
            };
            println!(
                "parent          {url} ({})",
                state["parent"].as_str().unwrap_or("unknown")
            );
            println!("last success    {}", millis("last_success_ms"));
            println!("last attempt    {}", millis("last_attempt_ms"));
            println!(
                "last error      {}",
                state["last_error"].as_str().unwrap_or("none")
            );
            println!(
                "failures        {} in a row",
                state["consecutive_failures"].as_u64().unwrap_or(0)
            );
            match archive.lag_up().await? {
                Some(lag) => println!(
                    "lag up          {lag} changes that go up not yet acknowledged by the parent"
                ),
                None => {
                    println!("lag up          unknown: no session with the parent has ended yet")
                }
            }
            println!(
                "in step since   {} (held everything the parent had for this node)",
                millis("in_step_at_ms")
            );
            println!(
                "last session    {} ms, pulled {} changes",
                state["last_session_ms"].as_u64().unwrap_or(0),
                state["pulled_last_session"].as_u64().unwrap_or(0)
            );
            println!(
                "totals          pushed {} ({:.1} MB), pulled {} ({:.1} MB), quarantined by the parent {}",
                state["pushed_total"].as_u64().unwrap_or(0),
                state["pushed_bytes_total"].as_u64().unwrap_or(0) as f64 / 1e6,
                state["pulled_total"].as_u64().unwrap_or(0),
                state["pulled_bytes_total"].as_u64().unwrap_or(0) as f64 / 1e6,
                state["quarantined_by_parent_total"].as_u64().unwrap_or(0)
            );
        }
    }
    print_children(&archive).await?;
    print_once_only(&archive).await?;
    archive.close().await;
    Ok(())
}

/// This node's links to its children, as this end knows them (issue 14 item 5).
async fn print_children(archive: &licnode_app::Archive) -> anyhow::Result<()> {
    let children = archive.child_link_reports(licnode_store::now_ms()).await?;
    if children.is_empty() {
        println!("children        none has synced with this node yet");
        return Ok(());
    }
    println!("children        last session           lag up  lag down  quarantined");
    for child in children {
        let when = child
            .last_success_ms
            .and_then(chrono::DateTime::from_timestamp_millis)
            .map(|time| time.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
            .unwrap_or_else(|| "never".to_string());
        let number = |value: Option<i64>| value.map_or("—".to_string(), |n| n.to_string());
        println!(
            "  {:<13} {when:<22} {:>6}  {:>8}  {:>11}",
            child.peer,
            number(child.lag_up),
            number(child.lag_down),
            number(child.quarantined)
        );
    }
    Ok(())
}

/// Which process runs the node's once-only work (issue 15 item 2), and the last sweep.
async fn print_once_only(archive: &licnode_app::Archive) -> anyhow::Result<()> {
    match archive.once_only_holder().await? {
        licnode_store::OnceOnlyHolder::OnlyProcess => {
            println!("once-only work  the serving process (SQLite: one process)")
        }
        licnode_store::OnceOnlyHolder::Process(name) => {
            println!("once-only work  held by {name}")
        }
        licnode_store::OnceOnlyHolder::Nobody => {
            println!("once-only work  held by no process now (none serving, or taking over)")
        }
    }
    let last = archive
        .once_only_runs(crate::retention_cli::SWEEP_TASK, 1)
        .await?;
    match last.first() {
        Some(run) => println!(
            "last sweep      {} by {}{}",
            chrono::DateTime::from_timestamp_millis(run.started_at_ms)
                .map(|time| time.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
                .unwrap_or_default(),
            run.holder,
            if run.finished_at_ms.is_none() {
                " (not finished)"
            } else {
                ""
            }
        ),
        None => println!("last sweep      never"),
    }
    Ok(())
}
