//! Harness for end-to-end tests: real nodes (their own directory, configuration and database)
//! serving real HTTP on loopback port 0, started and stopped in-process.

use std::path::PathBuf;

use anyhow::Context;
use licnode::{Config, Node, NodeHandle};
pub use licnode_testkit::{BACKENDS, Backend};

/// A node started for a test, with everything it needs kept alive.
pub struct TestNode {
    pub handle: Option<NodeHandle>,
    pub config: Config,
    pub base_url: String,
    pub client: reqwest::Client,
    _database: Option<licnode_testkit::TestDatabase>,
    _dir: tempfile::TempDir,
}

/// Starts a node with `code` and `level` on `backend`, listening on a free loopback port.
pub async fn spawn_node(backend: Backend, code: &str, level: &str) -> anyhow::Result<TestNode> {
    let dir = licnode_testkit::temp_dir()?;
    let (url, database) = licnode_testkit::database_url(backend, dir.path()).await?;
    let config_path = licnode::init::init(licnode::init::InitOptions {
        dir: dir.path().to_path_buf(),
        code: code.into(),
        level: level.into(),
        name: format!("测试节点 {code}"),
        parent_url: None,
        database_url: Some(url),
        listen: "127.0.0.1:0".parse()?,
        peer_listen: None,
        force: false,
    })?;
    let config = Config::load(&config_path)?;
    let handle = Node::start(&config).await?;
    let store = handle.archive().replication_store();
    store
        .add_user(
            "e2e",
            "e2e",
            licnode_store::Role::Administrator,
            "e2e-password",
        )
        .await?;
    let token = store
        .issue_token("e2e", licnode_store::TokenKind::Api, "e2e", None)
        .await?
        .token;
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        reqwest::header::AUTHORIZATION,
        format!("Bearer {token}").parse()?,
    );
    Ok(TestNode {
        base_url: format!("http://{}", handle.local_addr()),
        handle: Some(handle),
        config,
        client: reqwest::Client::builder()
            .default_headers(headers)
            .build()?,
        _database: database,
        _dir: dir,
    })
}

impl TestNode {
    /// Stops the node and starts it again on the same directory and database.
    pub async fn restart(&mut self) -> anyhow::Result<()> {
        if let Some(handle) = self.handle.take() {
            handle.shutdown().await?;
        }
        let handle = Node::start(&self.config).await?;
        self.base_url = format!("http://{}", handle.local_addr());
        self.handle = Some(handle);
        Ok(())
    }

    /// The node's data directory.
    pub fn data_dir(&self) -> PathBuf {
        self.config.data_dir()
    }

    /// `GET path`, as JSON.
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

    /// `POST path` with a JSON body, as JSON.
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
