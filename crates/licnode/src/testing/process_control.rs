//! What a fault harness does to a node's process: adopt a node directory a tree test prepared,
//! kill -9 it, freeze and thaw it (SIGSTOP, SIGCONT), and start it again.

use std::path::Path;
use std::sync::Arc;

use licnode_testkit::faults::signals::{self, Signal};

use super::process::{client_with, user_token};
use super::{NodeRunner, TestNode};
use crate::Config;

impl TestNode {
    /// Starts `licnode serve` on a node directory already initialised (with its certificates,
    /// e.g. by [`super::issue_tree`]), with an administrator's API token and `environment` added
    /// to the process's environment at every start. `tree_dir` is the directory the node lives
    /// in, kept alive as long as any of its nodes; `database` the PostgreSQL database its
    /// configuration names, if any.
    pub async fn spawn_process_in_tree(
        config_file: &Path,
        tree_dir: Arc<tempfile::TempDir>,
        database: Option<licnode_testkit::TestDatabase>,
        environment: Vec<(String, String)>,
    ) -> anyhow::Result<TestNode> {
        let for_token = config_file.display().to_string();
        let token =
            tokio::task::spawn_blocking(move || user_token(&for_token, "e2e", "administrator"))
                .await?;
        TestNode::spawn_process_with_token(config_file, tree_dir, database, &token, environment)
            .await
    }

    /// [`TestNode::spawn_process_in_tree`] with an API token already issued on the node's
    /// database: another process of a node served by several over one PostgreSQL database.
    pub async fn spawn_process_with_token(
        config_file: &Path,
        tree_dir: Arc<tempfile::TempDir>,
        database: Option<licnode_testkit::TestDatabase>,
        token: &str,
        environment: Vec<(String, String)>,
    ) -> anyhow::Result<TestNode> {
        let config = Config::load(config_file)?;
        let config_file = config_file.display().to_string();
        let mut node = TestNode {
            base_url: format!("http://{}", config.http.listen),
            client: client_with(token),
            config,
            runner: NodeRunner::Process {
                config_file,
                environment,
                child: None,
            },
            _database: database,
            _dir: tree_dir,
        };
        node.start().await?;
        Ok(node)
    }

    /// The id of the node's running process; `None` in-process or while stopped.
    pub fn process_id(&self) -> Option<u32> {
        match &self.runner {
            NodeRunner::Process {
                child: Some(running),
                ..
            } => Some(running.id()),
            _ => None,
        }
    }

    /// Sends SIGKILL to the node's process and reaps it: nothing is flushed, nothing closed.
    /// Reaps a process already killed from elsewhere (a byte trigger's hook) too.
    pub fn kill_9(&mut self) -> anyhow::Result<()> {
        if let NodeRunner::Process { child, .. } = &mut self.runner
            && let Some(mut running) = child.take()
        {
            // Already dead (killed by a hook) or not: kill is harmless either way.
            let _ = running.kill();
            running.wait()?;
        }
        Ok(())
    }

    /// Sends `signal` (SIGSTOP, SIGCONT, SIGKILL) to the node's process without reaping it.
    pub fn signal(&self, signal: Signal) -> anyhow::Result<()> {
        let pid = self
            .process_id()
            .ok_or_else(|| anyhow::anyhow!("the node has no running process"))?;
        signals::send(pid, signal)
    }

    /// Sets (or replaces) a variable of the environment the node's process starts with: it
    /// takes effect at the next start.
    pub fn set_environment(&mut self, key: &str, value: &str) {
        if let NodeRunner::Process { environment, .. } = &mut self.runner {
            environment.retain(|(existing, _)| existing != key);
            environment.push((key.to_string(), value.to_string()));
        }
    }

    /// Starts the node's process again after [`TestNode::kill_9`] or `stop`, and waits until
    /// it answers `/healthz`.
    pub async fn start_again(&mut self) -> anyhow::Result<()> {
        self.start().await
    }
}
