//! A tree of `licnode serve` processes with certificates issued as the README does (national →
//! Zhejiang → 西湖区 and 滨江区), each child dialling its parent's mutual-TLS listener through a
//! [`FaultProxy`], every node on SQLite or PostgreSQL as asked.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use licnode_model::Level;
use licnode_sync::NodeRef;
use licnode_testkit::Backend;
use licnode_testkit::faults::FaultProxy;

use crate::Config;
use crate::testing::{
    BINJIANG, NATIONAL, Planned, TestNode, XIHU, ZHEJIANG, free_port, issue_tree,
};

/// How a fault tree is built.
#[derive(Clone, Debug)]
pub struct TreeOptions {
    /// How often each child starts a session with its parent (and the longest backoff).
    pub sync_interval: Duration,
    /// The codes of the nodes that keep their records in PostgreSQL (the rest use SQLite).
    pub postgres_nodes: Vec<&'static str>,
    /// Extra environment of the processes of some nodes, by code (fault-injection switches,
    /// clock offsets).
    pub environment: Vec<(&'static str, String, String)>,
    /// Whether the nodes build their statutory reports on their schedules (off: only the
    /// clients' writes are in the logs).
    pub schedules: bool,
}

impl Default for TreeOptions {
    fn default() -> Self {
        TreeOptions {
            sync_interval: Duration::from_secs(1),
            postgres_nodes: Vec::new(),
            environment: Vec::new(),
            schedules: false,
        }
    }
}

/// One node of the tree: where it sits, its process and the proxy it dials its parent through.
pub struct TreeNode {
    pub code: &'static str,
    pub level: Level,
    /// The index of its parent in [`FaultTree::nodes`].
    pub parent: Option<usize>,
    pub node: TestNode,
    /// Between this node and its parent's sync listener; `None` for the national node.
    pub proxy_to_parent: Option<FaultProxy>,
}

impl TreeNode {
    /// The node as the authority table names it.
    pub fn node_ref(&self) -> NodeRef {
        NodeRef::new(self.code, self.level)
    }
}

/// A running tree; dropping it kills every process and removes its directory.
pub struct FaultTree {
    /// Parents before children.
    pub nodes: Vec<TreeNode>,
    pub options: TreeOptions,
    _dir: Arc<tempfile::TempDir>,
}

/// The nodes of every fault tree: a national node, a province and two of its counties.
const PLAN: [Planned; 4] = [NATIONAL, ZHEJIANG, XIHU, BINJIANG];

impl FaultTree {
    /// Issues the tree's certificates, configures every node (its ports, database, schedules
    /// off, the sync interval) with each child's parent URL naming a fault proxy, and starts
    /// every node, parents first.
    pub async fn start(options: TreeOptions) -> anyhow::Result<FaultTree> {
        let dir = Arc::new(licnode_testkit::temp_dir()?);
        let root = dir.path().to_path_buf();
        tokio::task::spawn_blocking(move || issue_tree(&root, &PLAN)).await?;
        let mut configured: Vec<(PathBuf, Config, Option<licnode_testkit::TestDatabase>)> =
            Vec::new();
        let mut proxies: Vec<Option<FaultProxy>> = Vec::new();
        for planned in &PLAN {
            let node_dir = dir.path().join(planned.dir);
            let config_file = node_dir.join("licnode.toml");
            let mut config = Config::load(&config_file)?;
            configure(&mut config, &options);
            let database = if options.postgres_nodes.contains(&planned.code) {
                let (url, database) =
                    licnode_testkit::database_url(Backend::Postgres, &node_dir).await?;
                config.storage.database_url = Some(url);
                database
            } else {
                None
            };
            let proxy = match planned.parent {
                Some(parent_dir) => {
                    let parent_index = index_of_dir(parent_dir)?;
                    let upstream = peer_address(&configured[parent_index].1)?;
                    let proxy = FaultProxy::start(upstream).await?;
                    config.node.parent_url = Some(proxy.url());
                    Some(proxy)
                }
                None => None,
            };
            write_config(&config_file, &config)?;
            configured.push((config_file, config, database));
            proxies.push(proxy);
        }
        let mut nodes = Vec::new();
        for ((planned, (config_file, config, database)), proxy) in
            PLAN.iter().zip(configured).zip(proxies)
        {
            let environment = options
                .environment
                .iter()
                .filter(|(code, ..)| *code == planned.code)
                .map(|(_, key, value)| (key.clone(), value.clone()))
                .collect();
            let node =
                TestNode::spawn_process_in_tree(&config_file, dir.clone(), database, environment)
                    .await
                    .with_context(|| format!("starting {}", planned.code))?;
            let parent = planned.parent.map(index_of_dir).transpose()?;
            nodes.push(TreeNode {
                code: planned.code,
                level: config.node.level,
                parent,
                node,
                proxy_to_parent: proxy,
            });
        }
        Ok(FaultTree {
            nodes,
            options,
            _dir: dir,
        })
    }

    /// The node called `code`.
    pub fn by_code(&self, code: &str) -> Option<&TreeNode> {
        self.nodes.iter().find(|member| member.code == code)
    }

    /// The node called `code`, to kill, pause or restart.
    pub fn by_code_mut(&mut self, code: &str) -> Option<&mut TreeNode> {
        self.nodes.iter_mut().find(|member| member.code == code)
    }

    /// Heals every proxy (partitions, delay, throttling) and drops their unfired triggers.
    pub fn heal_network(&self) {
        for proxy in self.nodes.iter().filter_map(|m| m.proxy_to_parent.as_ref()) {
            proxy.heal();
            proxy.disarm_triggers();
        }
    }
}

/// The tree harness's settings on top of what `licnode init` wrote.
fn configure(config: &mut Config, options: &TreeOptions) {
    config.http.listen = SocketAddr::from(([127, 0, 0, 1], free_port()));
    if let Some(peer) = &mut config.peer {
        peer.listen = SocketAddr::from(([127, 0, 0, 1], free_port()));
    }
    config.sync.interval = options.sync_interval;
    config.sync.debounce = Duration::from_millis(200);
    config.sync.max_backoff = options.sync_interval;
    if !options.schedules {
        config.schedule.monthly = None;
        config.schedule.yearly = None;
    }
    // A clock moved forward makes schedules due at once: look every second.
    config.schedule.check_every = Duration::from_secs(1);
}

fn index_of_dir(dir: &str) -> anyhow::Result<usize> {
    PLAN.iter()
        .position(|planned| planned.dir == dir)
        .ok_or_else(|| anyhow::anyhow!("no node {dir} in the tree"))
}

fn peer_address(config: &Config) -> anyhow::Result<SocketAddr> {
    config
        .peer
        .as_ref()
        .map(|peer| peer.listen)
        .ok_or_else(|| anyhow::anyhow!("{} has no peer listener", config.node.code))
}

fn write_config(path: &Path, config: &Config) -> anyhow::Result<()> {
    let text = toml::to_string_pretty(config).context("serialising a configuration")?;
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
}
