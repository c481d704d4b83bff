//! `licnode peer`: the link to the parent node, checked over mutual TLS.

use anyhow::{Context, bail};
use clap::Subcommand;

use crate::cli::ConfigArg;
use crate::config::Config;

#[derive(Subcommand)]
pub enum PeerCommand {
    /// Dial the parent over mutual TLS and show who answered and who it saw.
    Check {
        #[command(flatten)]
        config: ConfigArg,
        /// Keep trying this many seconds while the parent is unreachable.
        #[arg(long, default_value_t = 0)]
        wait: u64,
    },
}

pub async fn run(command: PeerCommand) -> anyhow::Result<()> {
    match command {
        PeerCommand::Check { config, wait } => {
            let config = Config::load(&config.config)?;
            let parent_url = config
                .node
                .parent_urls()
                .into_iter()
                .next()
                .context("this node has no parent_url: it is the root of the tree")?;
            let tls = licnode_pki::NodeTls::load(licnode_pki::NodeTlsSettings::for_node_dir(
                &config.base_dir(),
            ))
            .context("the node has no certificate yet: see `licnode pki request` / `install`")?;
            let client =
                licnode_pki::PeerClient::for_node(&tls, licnode_pki::ExpectedPeer::AnyNode)?;
            let url = format!("{}/sync/v1/hello", parent_url.trim_end_matches('/'));
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(wait);
            let answer: serde_json::Value = loop {
                match client.get_json(&url).await {
                    Ok(answer) => break answer,
                    Err(error) if std::time::Instant::now() < deadline => {
                        tracing::debug!(%error, "parent not reachable yet");
                        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
                    }
                    Err(error) => bail!("cannot reach the parent at {url}: {error}"),
                }
            };
            println!(
                "connected to {} {} ({}) over mutual TLS; it sees this node as {} ({})",
                answer["me"]["code"].as_str().unwrap_or_default(),
                answer["me"]["name"].as_str().unwrap_or_default(),
                answer["me"]["level"].as_str().unwrap_or_default(),
                answer["you"]["code"].as_str().unwrap_or_default(),
                answer["you"]["level"].as_str().unwrap_or_default(),
            );
            Ok(())
        }
    }
}
