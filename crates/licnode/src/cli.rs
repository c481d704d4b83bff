//! What the commands share: the `--config` argument, opening the node's archive, naming a
//! collection.

use std::path::PathBuf;

use anyhow::Context;
use licnode_app::Archive;
use licnode_store::Store;

use crate::config::Config;

/// The node's configuration file, as every command that works on a node takes it.
#[derive(clap::Args)]
pub struct ConfigArg {
    /// The node's configuration file.
    #[arg(long, short, env = "LICNODE_CONFIG", default_value = "licnode.toml")]
    pub config: PathBuf,
}

/// The collection named `name`, or an error listing the collections.
pub fn collection_named(name: &str) -> anyhow::Result<&'static licnode_model::Collection> {
    licnode_model::collection(name).with_context(|| {
        let names: Vec<&str> = licnode_model::collections()
            .iter()
            .map(|c| c.name)
            .collect();
        format!(
            "unknown collection {name:?}; the collections are {}",
            names.join(", ")
        )
    })
}

/// Opens the node's store (creating its data directory) as its records service.
pub async fn open_archive(config: &Config) -> anyhow::Result<Archive> {
    std::fs::create_dir_all(config.data_dir())
        .with_context(|| format!("cannot create {}", config.data_dir().display()))?;
    let store = Store::open(&config.database_url()).await?;
    let level = config.node.level;
    Ok(Archive::with_level(store, &config.node.code, level))
}
