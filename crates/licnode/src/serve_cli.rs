//! `licnode serve`: load the configuration, start the node, serve until interrupted.

use std::io::Write as _;
use std::path::Path;

use anyhow::Context;

use crate::config::Config;
use crate::{Node, init_logging};

/// Serves the staff API (and, with children, the peer listener) until a signal stops the node.
pub async fn run(config_path: &Path) -> anyhow::Result<()> {
    let config = Config::load(config_path)?;
    init_logging(config.log.format, "info");
    let node = match clock_offset_ms()? {
        Some(offset_ms) => {
            tracing::warn!(offset_ms, "the node's clock is moved by {CLOCK_OFFSET}");
            let clock = std::sync::Arc::new(licnode_app::OffsetClock { offset_ms });
            Node::start_with_clock(&config, clock).await?
        }
        None => Node::start(&config).await?,
    };
    // Written, not printed: a serving node whose standard output cannot take the line (a log
    // file on a full disk) goes on serving instead of panicking.
    let _ = writeln!(
        std::io::stdout(),
        "licnode {} ({}) serving on http://{}",
        config.node.code,
        config.node.name,
        node.local_addr()
    );
    node.run_until_signal().await
}

/// The environment variable that moves a development build's clock by that many milliseconds
/// (negative: behind), so that fault tests can put a node's schedules, deadlines and retention
/// over a month or year end. A shipped build (without `dev-tools`) ignores it.
const CLOCK_OFFSET: &str = "LICNODE_CLOCK_OFFSET_MS";

#[cfg(feature = "dev-tools")]
fn clock_offset_ms() -> anyhow::Result<Option<i64>> {
    let Ok(text) = std::env::var(CLOCK_OFFSET) else {
        return Ok(None);
    };
    let offset = text
        .trim()
        .parse()
        .with_context(|| format!("{CLOCK_OFFSET}: {text:?} is not a number of milliseconds"))?;
    Ok(Some(offset))
}

#[cfg(not(feature = "dev-tools"))]
fn clock_offset_ms() -> anyhow::Result<Option<i64>> {
    Ok(None)
}
