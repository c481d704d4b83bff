//! One harness for tests that start nodes, in-process or as `licnode serve` processes: a
//! [`TestNode`] is spoken to the same way either way (base URL, a client holding an
//! administrator's token, JSON `get`/`post`, `restart`, `stop`, data directory). Also the CLI
//! helpers of process-level tests and the tree of certificates they issue (`issue_tree`).

pub mod faults;
mod in_process;
mod process;
mod process_control;
mod tree;

use std::path::PathBuf;
use std::process::Child;
use std::sync::Arc;

use anyhow::Context;
pub use licnode_testkit::{BACKENDS, Backend};

pub use in_process::spawn_node;
pub use process::{
    PASSWORD, binary, client_with, config_of, free_port, free_ports, init_node, licnode,
    licnode_binary_path, run, serve, stop_gracefully, user_token, wait_healthy,
};
pub use tree::{BINJIANG, NATIONAL, Planned, XIHU, ZHEJIANG, issue_tree};

use crate::{Config, Node, NodeHandle};

/// A node started for a test, with everything it needs kept alive: its temporary directory and,
/// on PostgreSQL, its database. A process still running when the node is dropped is killed.
pub struct TestNode {
    /// `http://127.0.0.1:<port>` of the staff API.
    pub base_url: String,
    /// Sends an administrator's API token with every request.
    pub client: reqwest::Client,
    /// The configuration `licnode init` wrote.
    pub config: Config,
    runner: NodeRunner,
    _database: Option<licnode_testkit::TestDatabase>,
    /// The node's directory, or the directory of the tree it belongs to (shared by its nodes).
    _dir: Arc<tempfile::TempDir>,
}

/// How the node runs; `None` while it is stopped.
enum NodeRunner {
    InProcess {
        handle: Option<Box<NodeHandle>>,
    },
    Process {
        config_file: String,
        /// Extra environment of the `licnode serve` process (e.g. a fault-injection switch).
        environment: Vec<(String, String)>,
        child: Option<Child>,
    },
}

/// The name a test node is given at `licnode init`.
fn node_name(code: &str) -> String {
    format!("测试节点 {code}")
}

impl TestNode {
    /// Starts the node again on its directory and database (after `stop`, or to restart).
    async fn start(&mut self) -> anyhow::Result<()> {
        match &mut self.runner {
            NodeRunner::InProcess { handle } => {
                let started = Node::start(&self.config).await?;
                self.base_url = format!("http://{}", started.local_addr());
                *handle = Some(Box::new(started));
            }
            NodeRunner::Process {
                config_file,
                environment,
                child,
            } => {
                let mut started = process::serve_with_environment(config_file, environment);
                wait_healthy(&self.client, &self.base_url, &mut started).await;
                *child = Some(started);
            }
        }
        Ok(())
    }

    /// Stops the node: shuts the in-process node down, or sends the process SIGTERM and waits
    /// for it to exit. Stopping a stopped node does nothing.
    pub async fn stop(&mut self) -> anyhow::Result<()> {
        match &mut self.runner {
            NodeRunner::InProcess { handle } => {
                if let Some(running) = handle.take() {
                    (*running).shutdown().await?;
                }
            }
            NodeRunner::Process { child, .. } => {
                if let Some(mut running) = child.take() {
                    stop_gracefully(&mut running).await?;
                }
            }
        }
        Ok(())
    }

    /// Stops the node and starts it again on the same directory and database.
    pub async fn restart(&mut self) -> anyhow::Result<()> {
        self.stop().await?;
        self.start().await
    }

    /// The running in-process node; `None` for a process, or once stopped.
    pub fn node_handle(&self) -> Option<&NodeHandle> {
        match &self.runner {
            NodeRunner::InProcess { handle } => handle.as_deref(),
            NodeRunner::Process { .. } => None,
        }
    }

    /// The node's configuration file; `None` for an in-process node.
    pub fn config_file(&self) -> Option<&str> {
        match &self.runner {
            NodeRunner::InProcess { .. } => None,
            NodeRunner::Process { config_file, .. } => Some(config_file),
        }
    }

    /// The node's data directory.
    pub fn data_dir(&self) -> PathBuf {
        self.config.data_dir()
    }

    /// `GET path`, as JSON (`null` when the body is not JSON).
    pub async fn get(&self, path: &str) -> anyhow::Result<(u16, serde_json::Value)> {
        let response = self
            .client
            .get(format!("{}{path}", self.base_url))
            .send()
            .await
            .with_context(|| format!("GET {path}"))?;
        let status = response.status().as_u16();
        Ok((status, response.json().await.unwrap_or_default()))
    }

    /// `POST path` with a JSON body, as JSON (`null` when the answer is not JSON).
    pub async fn post(
        &self,
        path: &str,
        body: &serde_json::Value,
    ) -> anyhow::Result<(u16, serde_json::Value)> {
        let response = self
            .client
            .post(format!("{}{path}", self.base_url))
            .json(body)
            .send()
            .await
            .with_context(|| format!("POST {path}"))?;
        let status = response.status().as_u16();
        Ok((status, response.json().await.unwrap_or_default()))
    }
}

impl Drop for TestNode {
    fn drop(&mut self) {
        if let NodeRunner::Process {
            child: Some(running),
            ..
        } = &mut self.runner
        {
            // Best effort: the test is over, a leftover process must not outlive it.
            let _ = running.kill();
            let _ = running.wait();
        }
    }
}
