//! Nodes started inside the test's own process with `Node::start`: no binary to build, and the
//! test may reach into the node (its archive, its store) through `TestNode::node_handle`.

use licnode_testkit::Backend;

use super::{NodeRunner, TestNode, node_name};
use crate::Config;

/// The account every in-process test node is given, with its API token on `TestNode::client`.
const TEST_ACCOUNT: &str = "e2e";

impl TestNode {
    /// Starts a node with `code` and `level` on `backend` inside this process, listening on a
    /// free loopback port, with an administrator's API token.
    pub async fn spawn_in_process(
        backend: Backend,
        code: &str,
        level: &str,
    ) -> anyhow::Result<TestNode> {
        let dir = licnode_testkit::temp_dir()?;
        let (database_url, database) = licnode_testkit::database_url(backend, dir.path()).await?;
        let config_path = crate::init::init(crate::init::InitOptions {
            dir: dir.path().to_path_buf(),
            code: code.into(),
            level: level.into(),
            name: node_name(code),
            parent_url: None,
            database_url: Some(database_url),
            listen: "127.0.0.1:0".parse()?,
            peer_listen: None,
            force: false,
        })?;
        let config = Config::load(&config_path)?;
        let mut node = TestNode {
            base_url: String::new(),
            client: reqwest::Client::new(),
            config,
            runner: NodeRunner::InProcess { handle: None },
            _database: database,
            _dir: std::sync::Arc::new(dir),
        };
        node.start().await?;
        let archive = node
            .node_handle()
            .expect("an in-process node that has just started")
            .archive()
            .clone();
        // The test account is created as the operator would at the console.
        let operator = licnode_app::Author::operator("console");
        archive
            .add_user(
                &operator,
                TEST_ACCOUNT,
                TEST_ACCOUNT,
                licnode_store::Role::Administrator,
                "e2e-password",
            )
            .await?;
        let token = archive
            .issue_api_token(&operator, TEST_ACCOUNT, TEST_ACCOUNT, None)
            .await?
            .token;
        node.client = super::client_with(&token);
        Ok(node)
    }
}

/// Starts a node with `code` and `level` on `backend` inside this process
/// (`TestNode::spawn_in_process`).
pub async fn spawn_node(backend: Backend, code: &str, level: &str) -> anyhow::Result<TestNode> {
    TestNode::spawn_in_process(backend, code, level).await
}
