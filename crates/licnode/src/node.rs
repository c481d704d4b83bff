//! A node is a value: [`Node::start`] opens its store, binds its listener and serves until
//! [`NodeHandle::shutdown`].

use anyhow::Context;
use licnode_server::{AppState, NodeInfo};
use licnode_store::{Archive, Store};
use std::net::SocketAddr;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::config::Config;

/// Starts nodes.
pub struct Node;

/// A running node.
pub struct NodeHandle {
    local_addr: SocketAddr,
    archive: Archive,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<std::io::Result<()>>,
}

impl Node {
    /// Opens the node's database (creating and migrating it), binds the staff API and serves.
    pub async fn start(config: &Config) -> anyhow::Result<NodeHandle> {
        std::fs::create_dir_all(config.data_dir()).with_context(|| {
            format!(
                "cannot create the data directory {}",
                config.data_dir().display()
            )
        })?;
        let store = Store::open(&config.database_url()).await?;
        let archive = Archive::new(store, &config.node.code);
        let listener = tokio::net::TcpListener::bind(config.http.listen)
            .await
            .with_context(|| format!("cannot listen on {}", config.http.listen))?;
        let local_addr = listener.local_addr()?;
        let state = AppState::new(
            archive.clone(),
            NodeInfo {
                code: config.node.code.clone(),
                level: config.node.level.clone(),
                name: config.node.name.clone(),
                parent_url: config.node.parent_url.clone(),
            },
        );
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(licnode_server::serve(listener, state, async move {
            let _ = stopped.await;
        }));
        tracing::info!(
            node = %config.node.code,
            %local_addr,
            backend = archive.store.backend().name(),
            actor = %archive.actor(),
            "node serving"
        );
        Ok(NodeHandle {
            local_addr,
            archive,
            stop: Some(stop),
            task,
        })
    }
}

impl NodeHandle {
    /// The address the staff API listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The node's archive (for in-process tests and tools).
    pub fn archive(&self) -> &Archive {
        &self.archive
    }

    /// Stops accepting, finishes running requests, and closes the database.
    pub async fn shutdown(mut self) -> anyhow::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        (&mut self.task).await.context("server task")??;
        self.archive.store.close().await;
        Ok(())
    }

    /// Serves until the task ends (an error) or ctrl-c / SIGTERM arrives.
    pub async fn run_until_signal(self) -> anyhow::Result<()> {
        let terminate = async {
            #[cfg(unix)]
            {
                if let Ok(mut signal) =
                    tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                {
                    signal.recv().await;
                }
            }
            #[cfg(not(unix))]
            std::future::pending::<()>().await;
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = terminate => {}
        }
        tracing::info!("shutting down");
        self.shutdown().await
    }
}
