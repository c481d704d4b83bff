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
    /// The public query service's own listener, when `[public]` is configured.
    public: Option<PublicListener>,
}

struct PublicListener {
    local_addr: SocketAddr,
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
        let level: licnode_model::Level = config
            .node
            .level
            .parse()
            .map_err(|_| anyhow::anyhow!("unknown node level {:?}", config.node.level))?;
        let archive = Archive::with_level(store, &config.node.code, level);
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
        let public = match &config.public {
            Some(section) => Some(start_public(section, state.clone()).await?),
            None => None,
        };
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
            public,
        })
    }
}

/// Binds and serves the public query service alone (`[public] listen`).
async fn start_public(
    section: &crate::config::PublicSection,
    state: AppState,
) -> anyhow::Result<PublicListener> {
    let listener = tokio::net::TcpListener::bind(section.listen)
        .await
        .with_context(|| format!("cannot listen on {} for [public]", section.listen))?;
    let local_addr = listener.local_addr()?;
    let options = licnode_server::public::PublicOptions {
        requests_per_second: section.requests_per_second,
        burst: section.burst,
    };
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(licnode_server::public::serve(
        listener,
        state,
        options,
        async move {
            let _ = stopped.await;
        },
    ));
    tracing::info!(%local_addr, "public query service serving");
    Ok(PublicListener {
        local_addr,
        stop: Some(stop),
        task,
    })
}

impl NodeHandle {
    /// The address the staff API listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The address of the public query service's own listener, when `[public]` is configured.
    pub fn public_addr(&self) -> Option<SocketAddr> {
        self.public.as_ref().map(|public| public.local_addr)
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
        if let Some(public) = self.public.as_mut() {
            if let Some(stop) = public.stop.take() {
                let _ = stop.send(());
            }
            (&mut public.task).await.context("public server task")??;
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
