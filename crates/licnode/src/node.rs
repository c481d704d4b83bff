//! A node is a value: [`Node::start`] opens its store, binds its listener and serves until
//! [`NodeHandle::shutdown`].

use anyhow::Context;
use licnode_app::Archive;
use licnode_server::{AppState, NodeInfo};
use licnode_store::Store;
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
    /// The mutual-TLS listener for child nodes, when `[peer]` is configured.
    peer: Option<PublicListener>,
    /// The enrollment listener, when `[peer] enroll_listen` is configured.
    enroll: Option<PublicListener>,
    /// The node's TLS material, when it has a certificate.
    tls: Option<licnode_pki::NodeTls>,
    /// The sync loop's link to the parent, when it runs.
    link: Option<std::sync::Arc<licnode_server::sync::LinkHandle>>,
    /// The report scheduler, when the node's level builds reports.
    scheduler: Option<JoinHandle<()>>,
    /// The writer of refused handshakes to the audit log, when the node has a certificate.
    refusal_audit: Option<crate::refusal_audit::RefusalAudit>,
    /// The data directory's lock, held shared while the node serves (a restore waits for it).
    _data_lock: Option<std::fs::File>,
}

struct PublicListener {
    local_addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<std::io::Result<()>>,
}

impl Node {
    /// Opens the node's database (creating and migrating it), binds the staff API and serves.
    pub async fn start(config: &Config) -> anyhow::Result<NodeHandle> {
        Node::start_with_clock(config, std::sync::Arc::new(licnode_app::SystemClock)).await
    }

    /// [`Node::start`] with an injected clock, for tests that move time.
    pub async fn start_with_clock(
        config: &Config,
        clock: licnode_app::SharedClock,
    ) -> anyhow::Result<NodeHandle> {
        std::fs::create_dir_all(config.data_dir()).with_context(|| {
            format!(
                "cannot create the data directory {}",
                config.data_dir().display()
            )
        })?;
        let data_lock = crate::backup::hold_data_dir(config)?;
        let store = Store::open(&config.database_url()).await?;
        let level: licnode_model::Level = config
            .node
            .level
            .parse()
            .map_err(|_| anyhow::anyhow!("unknown node level {:?}", config.node.level))?;
        let archive = Archive::with_level(store, &config.node.code, level)
            .with_child_prefectures(config.node.child_prefectures.clone());
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
        )
        .with_clock(clock.clone())
        .with_trusted_proxies(config.http.trusted_proxies()?);
        let tls = load_tls(config)?;
        let state = state.with_retention(crate::retention_cli::settings(config, tls.as_ref()));
        crate::retention_cli::spawn_sweep(archive.clone(), clock.clone(), config)?;
        let refusal_audit = tls.as_ref().map(|tls| {
            crate::refusal_audit::RefusalAudit::spawn(
                &tls.refusals(),
                archive.clone(),
                config.node.code.clone(),
            )
        });
        let state = match (&config.node.parent_url, &tls) {
            (Some(parent_url), Some(tls)) if config.sync.enabled => {
                let timing = crate::sync_loop::SyncTiming::from_section(&config.sync)?;
                let link = crate::sync_loop::spawn(
                    archive.clone(),
                    tls.clone(),
                    parent_url.clone(),
                    timing,
                );
                state.with_link(link)
            }
            _ => state,
        };
        let link = state.link.clone();
        let public = match &config.public {
            Some(section) => Some(start_public(section, state.clone()).await?),
            None => None,
        };
        let peer = match (&config.peer, &tls) {
            (Some(section), Some(tls)) => {
                Some(start_peer(config, section, tls, state.clone()).await?)
            }
            (Some(_), None) => {
                tracing::warn!(
                    "[peer] is configured but the node has no certificate yet \
                     (licnode pki install --dir …): not accepting children"
                );
                None
            }
            (None, _) => None,
        };
        if let (Some(parent_url), Some(tls)) = (&config.node.parent_url, &tls) {
            spawn_certificate_upkeep(config.base_dir(), parent_url.clone(), tls.clone());
        }
        let schedule = crate::scheduler::ReportSchedule::from_section(&config.schedule, level)?;
        let scheduler = (!schedule.reports.is_empty()).then(|| {
            let reports = licnode_app::Reports::new(
                archive.clone(),
                clock.clone(),
                licnode_app::ReportSettings {
                    unit_name: config.node.name.clone(),
                    auto_submit: config.schedule.auto_submit,
                },
            );
            crate::scheduler::spawn(reports, schedule)
        });
        let enroll = match (&config.peer, &tls) {
            (Some(section), Some(tls)) => match section.enroll_listen {
                Some(address) => Some(start_enroll(config, address, tls).await?),
                None => None,
            },
            _ => None,
        };
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(licnode_server::serve(listener, state, async move {
            let _ = stopped.await;
        }));
        tracing::info!(
            node = %config.node.code,
            %local_addr,
            backend = archive.backend().name(),
            actor = %archive.actor(),
            "node serving"
        );
        Ok(NodeHandle {
            local_addr,
            archive,
            stop: Some(stop),
            task,
            public,
            peer,
            enroll,
            tls,
            link,
            scheduler,
            refusal_audit,
            _data_lock: data_lock,
        })
    }
}

/// The node's certificate material, if `licnode pki install` put it in `<node dir>/pki`.
fn load_tls(config: &Config) -> anyhow::Result<Option<licnode_pki::NodeTls>> {
    let pki_dir = config.base_dir().join("pki");
    if !pki_dir.join("node.crt").exists() {
        return Ok(None);
    }
    let max_crl_age = match &config.peer {
        Some(section) => licnode_pki::parse_duration(&section.max_crl_age).map_err(|error| {
            anyhow::anyhow!("[peer] max_crl_age {:?}: {error}", section.max_crl_age)
        })?,
        None => licnode_pki::DEFAULT_MAX_CRL_AGE,
    };
    let tls = licnode_pki::NodeTls::load(licnode_pki::NodeTlsSettings {
        pki_dir,
        max_crl_age,
    })
    .context("cannot load the node's certificate")?;
    // Renewed certificates and new CRLs are picked up without a restart.
    tls.spawn_reloader(std::time::Duration::from_secs(60));
    Ok(Some(tls))
}

/// How often a child fetches its parent's CRLs and checks whether to renew its certificate.
const CERTIFICATE_UPKEEP_INTERVAL: std::time::Duration = std::time::Duration::from_secs(60 * 60);

/// Keeps the node's trust material current from its parent, over mutual TLS: the CRLs of the
/// CAs above (so revocations flow down the tree), and the node's certificate, renewed once it
/// is within the renewal window. The serving listeners pick both up without a restart.
fn spawn_certificate_upkeep(
    node_dir: std::path::PathBuf,
    parent_url: String,
    tls: licnode_pki::NodeTls,
) {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(CERTIFICATE_UPKEEP_INTERVAL);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            let client =
                match licnode_pki::PeerClient::for_node(&tls, licnode_pki::ExpectedPeer::AnyNode) {
                    Ok(client) => client,
                    Err(error) => {
                        tracing::warn!(%error, "certificate upkeep: no client");
                        continue;
                    }
                };
            match licnode_pki::enroll::refresh_crls(&node_dir, &client, &parent_url).await {
                Ok(issuers) => tracing::debug!(?issuers, "CRLs refreshed from the parent"),
                Err(error) => tracing::warn!(%error, "cannot refresh CRLs from the parent"),
            }
            if tls.own_identity().renewal_due(std::time::SystemTime::now()) {
                match licnode_pki::enroll::renew(&node_dir, &client, &parent_url).await {
                    Ok(_) => tracing::info!("node certificate renewed"),
                    Err(error) => tracing::warn!(%error, "cannot renew the node certificate"),
                }
            }
            if let Err(error) = tls.reload() {
                tracing::warn!(%error, "cannot reload the certificate material");
            }
        }
    });
}

/// Binds and serves the enrollment endpoint over server-authenticated TLS.
async fn start_enroll(
    config: &Config,
    address: SocketAddr,
    tls: &licnode_pki::NodeTls,
) -> anyhow::Result<PublicListener> {
    let ca_dir = config.base_dir().join("pki").join("ca");
    anyhow::ensure!(
        ca_dir.join("ca.crt").exists(),
        "[peer] enroll_listen needs a CA in {}",
        ca_dir.display()
    );
    let listener = tokio::net::TcpListener::bind(address)
        .await
        .with_context(|| format!("cannot listen on {address} for enrollment"))?;
    let local_addr = listener.local_addr()?;
    let router = licnode_server::peer::enrollment_router(licnode_pki::EnrollmentAuthority::new(
        &ca_dir, None,
    ));
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(licnode_pki::serve_server_tls(
        listener,
        tls.clone(),
        router,
        async move {
            let _ = stopped.await;
        },
    ));
    tracing::info!(%local_addr, "enrollment endpoint serving");
    Ok(PublicListener {
        local_addr,
        stop: Some(stop),
        task,
    })
}

/// Binds and serves the node-to-node endpoints over mutual TLS (`[peer] listen`).
async fn start_peer(
    config: &Config,
    section: &crate::config::PeerSection,
    tls: &licnode_pki::NodeTls,
    state: AppState,
) -> anyhow::Result<PublicListener> {
    let listener = tokio::net::TcpListener::bind(section.listen)
        .await
        .with_context(|| format!("cannot listen on {} for [peer]", section.listen))?;
    let local_addr = listener.local_addr()?;
    let mut router = licnode_server::sync::peer_router(state);
    let ca_dir = config.base_dir().join("pki").join("ca");
    if ca_dir.join("ca.crt").exists() || ca_dir.join("root.crt").exists() {
        // The CRLs this node holds from above are served with its own, so revocations flow
        // down the whole tree.
        let authority = licnode_pki::EnrollmentAuthority::new(
            &ca_dir,
            Some(config.base_dir().join("pki").join("crls")),
        );
        router = router.merge(licnode_server::peer::peer_pki_router(authority));
    }
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(licnode_pki::serve_mutual_tls(
        listener,
        tls.clone(),
        router,
        async move {
            let _ = stopped.await;
        },
    ));
    tracing::info!(%local_addr, "node-to-node endpoints serving over mutual TLS");
    Ok(PublicListener {
        local_addr,
        stop: Some(stop),
        task,
    })
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

    /// The address of the mutual-TLS listener for child nodes, when `[peer]` is configured and
    /// the node has a certificate.
    pub fn peer_addr(&self) -> Option<SocketAddr> {
        self.peer.as_ref().map(|peer| peer.local_addr)
    }

    /// The sync loop's link to the parent, when it runs.
    pub fn link(&self) -> Option<&licnode_server::sync::LinkHandle> {
        self.link.as_deref()
    }

    /// The node's TLS material, when it has a certificate.
    pub fn tls(&self) -> Option<&licnode_pki::NodeTls> {
        self.tls.as_ref()
    }

    /// The node's archive (for in-process tests and tools).
    pub fn archive(&self) -> &Archive {
        &self.archive
    }

    /// Stops accepting, finishes running requests, and closes the database.
    pub async fn shutdown(mut self) -> anyhow::Result<()> {
        if let Some(scheduler) = self.scheduler.take() {
            scheduler.abort();
        }
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        for listener in [
            self.public.as_mut(),
            self.peer.as_mut(),
            self.enroll.as_mut(),
        ]
        .into_iter()
        .flatten()
        {
            if let Some(stop) = listener.stop.take() {
                let _ = stop.send(());
            }
            (&mut listener.task).await.context("listener task")??;
        }
        (&mut self.task).await.context("server task")??;
        // Nothing is accepted any more: the refusals still counted are written now.
        if let Some(refusal_audit) = self.refusal_audit.take() {
            refusal_audit.stop().await;
        }
        self.archive.close().await;
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
