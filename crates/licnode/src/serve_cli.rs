//! `licnode serve`: load the configuration, start the node, serve until interrupted.

use std::path::Path;

use crate::config::Config;
use crate::{Node, init_logging};

/// Serves the staff API (and, with children, the peer listener) until a signal stops the node.
pub async fn run(config_path: &Path) -> anyhow::Result<()> {
    let config = Config::load(config_path)?;
    init_logging(config.log.format, "info");
    let node = Node::start(&config).await?;
    println!(
        "licnode {} ({}) serving on http://{}",
        config.node.code,
        config.node.name,
        node.local_addr()
    );
    node.run_until_signal().await
}
