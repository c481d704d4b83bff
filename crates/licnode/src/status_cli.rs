//! `licnode status`: this node's replication state (change log, link to the parent, lag,
//! quarantine).

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
    let links = archive.replication_store().link_states().await?;
    match (&config.node.parent_url, links.first()) {
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
            let acknowledged = state["acknowledged"].as_i64().unwrap_or(0);
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
            println!(
                "lag up          {} changes not acknowledged by the parent",
                (last_seq - acknowledged).max(0)
            );
            println!(
                "lag down        {} changes pulled in the last session",
                state["pulled_last_session"].as_u64().unwrap_or(0)
            );
            println!(
                "totals          pushed {}, pulled {}, quarantined by the parent {}",
                state["pushed_total"].as_u64().unwrap_or(0),
                state["pulled_total"].as_u64().unwrap_or(0),
                state["quarantined_by_parent_total"].as_u64().unwrap_or(0)
            );
        }
    }
    archive.close().await;
    Ok(())
}
