//! A node is a value: [`Node::start`] opens its store, binds its listener and serves until
//! [`NodeHandle::shutdown`]. The node owns its background tasks through a [`Supervisor`]:
//! shutdown stops the listeners, then every task, then closes the store; a start that fails
//! stops whatever it had started.

use anyhow::Context;
use licnode_app::Archive;
use licnode_server::{AppState, NodeInfo};
use licnode_store::Store;
use std::net::SocketAddr;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::supervisor::{DEFAULT_STOP_WAIT, Supervisor, WhenTaskDies};

/// Starts nodes.
pub struct Node;

/// A running node.
pub struct NodeHandle {
    local_addr: SocketAddr,
    archive: Archive,
    /// Cancelled to stop every listener: at shutdown, or when a task that must not die died.
    stop: CancellationToken,
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
    /// The node's background tasks: the sync loop, the report scheduler, the retention sweep,
    /// the certificate upkeep and reload, the refused-handshake audit.
    supervisor: Supervisor,
    /// The data directory's lock, held shared while the node serves (a restore waits for it).
    _data_lock: Option<std::fs::File>,
}

struct PublicListener {
    local_addr: SocketAddr,
    task: JoinHandle<std::io::Result<()>>,
}

/// What a start has set going so far, stopped again if the start fails.
struct Starting {
    supervisor: Supervisor,
    stop: CancellationToken,
    public: Option<PublicListener>,
    peer: Option<PublicListener>,
    enroll: Option<PublicListener>,
}

impl Starting {
    /// Stops the listeners and the tasks started so far.
    async fn abandon(self) {
        self.stop.cancel();
        for listener in [self.public, self.peer, self.enroll].into_iter().flatten() {
            if let Err(error) = listener.task.await {
                tracing::warn!(%error, "a listener of the failed start did not stop cleanly");
            }
        }
        self.supervisor.shutdown(DEFAULT_STOP_WAIT).await;
    }
}

/// How often the node reloads its certificate material from disk.
const TLS_RELOAD_INTERVAL: std::time::Duration = std::time::Duration::from_secs(60);

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
        Node::start_supervised(config, clock, Supervisor::new()).await
    }

    /// [`Node::start_with_clock`] with the supervisor its tasks run under. When the start
    /// fails, every task and listener it had started is stopped and the store closed.
    pub(crate) async fn start_supervised(
        config: &Config,
        clock: licnode_app::SharedClock,
        supervisor: Supervisor,
    ) -> anyhow::Result<NodeHandle> {
        std::fs::create_dir_all(config.data_dir()).with_context(|| {
            format!(
                "cannot create the data directory {}",
                config.data_dir().display()
            )
        })?;
        let data_lock = crate::backup::hold_data_dir(config)?;
        let store = Store::open(&config.database_url()).await?;
        let mut starting = Starting {
            stop: supervisor.stop_node_token(),
            supervisor,
            public: None,
            peer: None,
            enroll: None,
        };
        match start_serving(config, clock, store.clone(), &mut starting).await {
            Ok(parts) => Ok(NodeHandle {
                local_addr: parts.local_addr,
                archive: parts.archive,
                stop: starting.stop,
                task: parts.task,
                public: starting.public,
                peer: starting.peer,
                enroll: starting.enroll,
                tls: parts.tls,
                link: parts.link,
                supervisor: starting.supervisor,
                _data_lock: data_lock,
            }),
            Err(error) => {
                starting.abandon().await;
                store.close().await;
                Err(error)
            }
        }
    }
}

/// What [`start_serving`] built beside the listeners and tasks it put in [`Starting`].
struct Serving {
    local_addr: SocketAddr,
    archive: Archive,
    task: JoinHandle<std::io::Result<()>>,
    tls: Option<licnode_pki::NodeTls>,
    link: Option<std::sync::Arc<licnode_server::sync::LinkHandle>>,
}

/// Binds the listeners and starts the tasks, recording each in `starting` as it goes.
async fn start_serving(
    config: &Config,
    clock: licnode_app::SharedClock,
    store: Store,
    starting: &mut Starting,
) -> anyhow::Result<Serving> {
    let level = config.node.level;
    // The once-only lock is the wiring's, beside the services: it holds a connection of its own.
    let once_only_store = store.clone();
    let archive = Archive::with_level(store, &config.node.code, level)
        .with_child_prefectures(config.node.child_prefectures.clone())
        .with_destruction_approvers(config.retention.national_approvers.clone());
    let listener = tokio::net::TcpListener::bind(config.http.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.http.listen))?;
    let local_addr = listener.local_addr()?;
    let supervisor = starting.supervisor.clone();
    let once_only = crate::once_only::OnceOnly::spawn(
        &supervisor,
        once_only_store,
        crate::once_only::process_name(local_addr),
    );
    let state = AppState::new(
        archive.clone(),
        NodeInfo {
            code: config.node.code.clone(),
            level: level.as_str().to_string(),
            name: config.node.name.clone(),
            parent_url: crate::sync_cli::ParentUrls::new(config.node.parent_urls())
                .map(|urls| urls.to_string()),
        },
    )
    .with_clock(clock.clone())
    .with_trusted_proxies(config.http.trusted_proxies()?)
    .with_process_name(once_only.holder_name());
    let tls = load_tls(config, clock.offset_from_machine_ms())?;
    let state = state
        .with_retention(crate::retention_cli::settings(config, tls.as_ref()))
        .with_node_tls(tls.clone());
    crate::retention_cli::spawn_sweep(&supervisor, &once_only, &archive, &clock, config);
    spawn_external_write_watch(&supervisor, &archive);
    if let Some(tls) = &tls {
        spawn_certificate_tasks(&supervisor, config, &archive, tls);
        crate::certificate_upkeep::spawn(&supervisor, &once_only, config, tls);
    }
    let state = spawn_sync_loop(config, &supervisor, &archive, tls.as_ref(), state);
    let link = state.link.clone();
    if let Some(section) = &config.public {
        starting.public = Some(start_public(section, state.clone(), &supervisor).await?);
    }
    match (&config.peer, &tls) {
        (Some(section), Some(tls)) => {
            starting.peer =
                Some(start_peer(config, section, tls, state.clone(), &supervisor).await?);
        }
        (Some(_), None) => {
            tracing::warn!(
                "[peer] is configured but the node has no certificate yet \
                 (licnode pki install --dir …): not accepting children"
            );
        }
        (None, _) => {}
    }
    spawn_report_scheduler(&supervisor, &once_only, config, &archive, clock);
    if let (Some(section), Some(tls)) = (&config.peer, &tls)
        && let Some(address) = section.enroll_listen
    {
        starting.enroll = Some(start_enroll(config, address, tls, &supervisor).await?);
    }
    let stopped = starting.stop.clone();
    let task = spawn_listener(
        &starting.supervisor,
        "staff API listener",
        licnode_server::serve(listener, state, stopped.cancelled_owned()),
    );
    tracing::info!(
        node = %config.node.code,
        %local_addr,
        backend = archive.backend().name(),
        actor = %archive.actor(),
        "node serving"
    );
    Ok(Serving {
        local_addr,
        archive,
        task,
        tls,
        link,
    })
}

/// Starts the sync loop when the node has a parent, a certificate and `[sync] enabled`; the
/// state then carries the link the API and metrics read.
fn spawn_sync_loop(
    config: &Config,
    supervisor: &Supervisor,
    archive: &Archive,
    tls: Option<&licnode_pki::NodeTls>,
    state: AppState,
) -> AppState {
    let parent_urls = crate::sync_cli::ParentUrls::new(config.node.parent_urls());
    match (parent_urls, tls) {
        (Some(parent_url), Some(tls)) if config.sync.enabled => {
            let timing = crate::sync_loop::SyncTiming::from_section(&config.sync);
            let link = crate::sync_loop::spawn(
                supervisor,
                archive.clone(),
                tls.clone(),
                parent_url,
                timing,
            );
            state.with_link(link)
        }
        _ => state,
    }
}

/// How often the node looks for changes written to its database by another process.
const EXTERNAL_WRITE_CHECK: std::time::Duration = std::time::Duration::from_secs(1);

/// Watches the change log for writes this process did not make (`licnode import` run beside
/// the serving node, another process of the node on the same PostgreSQL database), so that
/// they start a session and wake the children's long-polls like any write (issue 14 item 5).
fn spawn_external_write_watch(supervisor: &Supervisor, archive: &Archive) {
    let archive = archive.clone();
    supervisor.spawn(
        "external write watch",
        WhenTaskDies::Restart,
        move |cancel| {
            let archive = archive.clone();
            async move {
                let mut seen = archive.last_seq().await.unwrap_or(0);
                loop {
                    tokio::select! {
                        _ = cancel.cancelled() => return,
                        _ = tokio::time::sleep(EXTERNAL_WRITE_CHECK) => {}
                    }
                    match archive.notice_external_writes(seen).await {
                        Ok(last) => seen = last,
                        Err(error) => tracing::debug!(%error, "cannot read the change log's end"),
                    }
                }
            }
        },
    );
}

/// The tasks of a node with a certificate, under `supervisor`: the refused-handshake audit
/// (subscribed now, before any listener accepts) and the reload of the certificate material
/// from disk, on every process (the upkeep from the parent is once-only work:
/// [`crate::certificate_upkeep`]).
fn spawn_certificate_tasks(
    supervisor: &Supervisor,
    config: &Config,
    archive: &Archive,
    tls: &licnode_pki::NodeTls,
) {
    let refusals = tls.refusals();
    let audited = archive.clone();
    let refused_by = config.node.code.clone();
    // The first future is made at once, so the subscription starts now.
    supervisor.spawn(
        "refused-handshake audit",
        WhenTaskDies::StopNode,
        move |cancel| {
            crate::refusal_audit::record_refusals(
                refusals.subscribe(),
                audited.clone(),
                refused_by.clone(),
                cancel,
            )
        },
    );
    // Renewed certificates and new CRLs are picked up without a restart.
    let reloaded = tls.clone();
    supervisor.spawn("certificate reload", WhenTaskDies::Restart, move |cancel| {
        let tls = reloaded.clone();
        async move {
            cancel
                .run_until_cancelled(tls.reload_every(TLS_RELOAD_INTERVAL))
                .await;
        }
    });
}

/// The report scheduler under `supervisor`, when the node's level builds reports (Art. 18–20).
fn spawn_report_scheduler(
    supervisor: &Supervisor,
    once_only: &crate::once_only::OnceOnly,
    config: &Config,
    archive: &Archive,
    clock: licnode_app::SharedClock,
) {
    let schedule =
        crate::scheduler::ReportSchedule::from_section(&config.schedule, config.node.level);
    if schedule.reports.is_empty() {
        return;
    }
    let reports = licnode_app::Reports::new(
        archive.clone(),
        clock,
        licnode_app::ReportSettings {
            unit_name: config.node.name.clone(),
            auto_submit: config.schedule.auto_submit,
        },
    );
    // One process of the node builds the reports (issue 15 item 2).
    once_only.spawn_task(supervisor, "report scheduler", move |cancel| {
        crate::scheduler::run(reports.clone(), schedule.clone(), cancel)
    });
}

/// The node's certificate material, if `licnode pki install` put it in `<node dir>/pki`,
/// checking peers' certificates at the node's time (`clock_offset_ms` from the machine's).
fn load_tls(config: &Config, clock_offset_ms: i64) -> anyhow::Result<Option<licnode_pki::NodeTls>> {
    let pki_dir = config.base_dir().join("pki");
    if !pki_dir.join("node.crt").exists() {
        return Ok(None);
    }
    let max_crl_age = match &config.peer {
        Some(section) => section.max_crl_age,
        None => licnode_pki::DEFAULT_MAX_CRL_AGE,
    };
    let tls = licnode_pki::NodeTls::load(licnode_pki::NodeTlsSettings {
        pki_dir,
        max_crl_age,
        clock_offset_ms,
    })
    .context("cannot load the node's certificate")?;
    Ok(Some(tls))
}

/// Binds and serves the enrollment endpoint over server-authenticated TLS.
async fn start_enroll(
    config: &Config,
    address: SocketAddr,
    tls: &licnode_pki::NodeTls,
    supervisor: &Supervisor,
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
    let task = spawn_listener(
        supervisor,
        "enrollment listener",
        licnode_pki::serve_server_tls(
            listener,
            tls.clone(),
            router,
            supervisor.stop_node_token().cancelled_owned(),
        ),
    );
    tracing::info!(%local_addr, "enrollment endpoint serving");
    Ok(PublicListener { local_addr, task })
}

/// Binds and serves the node-to-node endpoints over mutual TLS (`[peer] listen`).
async fn start_peer(
    config: &Config,
    section: &crate::config::PeerSection,
    tls: &licnode_pki::NodeTls,
    state: AppState,
    supervisor: &Supervisor,
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
    let task = spawn_listener(
        supervisor,
        "node-to-node listener",
        licnode_pki::serve_mutual_tls(
            listener,
            tls.clone(),
            router,
            supervisor.stop_node_token().cancelled_owned(),
        ),
    );
    tracing::info!(%local_addr, "node-to-node endpoints serving over mutual TLS");
    Ok(PublicListener { local_addr, task })
}

/// Binds and serves the public query service alone (`[public] listen`).
async fn start_public(
    section: &crate::config::PublicSection,
    state: AppState,
    supervisor: &Supervisor,
) -> anyhow::Result<PublicListener> {
    let listener = tokio::net::TcpListener::bind(section.listen)
        .await
        .with_context(|| format!("cannot listen on {} for [public]", section.listen))?;
    let local_addr = listener.local_addr()?;
    let options = licnode_server::public::PublicOptions {
        requests_per_second: section.requests_per_second,
        burst: section.burst,
    };
    let task = spawn_listener(
        supervisor,
        "public listener",
        licnode_server::public::serve(
            listener,
            state,
            options,
            supervisor.stop_node_token().cancelled_owned(),
        ),
    );
    tracing::info!(%local_addr, "public query service serving");
    Ok(PublicListener { local_addr, task })
}

/// Spawns a listener's serving future. A listener that ends, fails or panics while the node
/// runs stops the node with an error naming it: never silently gone.
fn spawn_listener<Serving>(
    supervisor: &Supervisor,
    name: &'static str,
    serving: Serving,
) -> JoinHandle<std::io::Result<()>>
where
    Serving: std::future::Future<Output = std::io::Result<()>> + Send + 'static,
{
    let guard = ListenerGuard {
        supervisor: supervisor.clone(),
        name,
        ended: None,
    };
    tokio::spawn(async move {
        let mut guard = guard;
        let result = serving.await;
        guard.ended_with(&result);
        result
    })
}

/// Stops the node when a listener's task ends before the node was told to stop, however it
/// ends (a panic unwinds through this).
struct ListenerGuard {
    supervisor: Supervisor,
    name: &'static str,
    ended: Option<String>,
}

impl ListenerGuard {
    fn ended_with(&mut self, result: &std::io::Result<()>) {
        self.ended = Some(match result {
            Ok(()) => "stopped serving".to_string(),
            Err(error) => format!("failed: {error}"),
        });
    }
}

impl Drop for ListenerGuard {
    fn drop(&mut self) {
        if !self.supervisor.stop_node_token().is_cancelled() {
            let what = self.ended.take().unwrap_or_else(|| "panicked".to_string());
            self.supervisor.stop_node_because(self.name, what);
        }
    }
}

/// Keeps in `outcome` the first failure of a stopped listener.
fn keep_first_error(
    outcome: &mut anyhow::Result<()>,
    stopped: Result<std::io::Result<()>, tokio::task::JoinError>,
    what: &str,
) {
    let error = match stopped {
        Ok(Ok(())) => return,
        Ok(Err(error)) => anyhow::Error::from(error).context(what.to_string()),
        Err(error) => anyhow::Error::from(error).context(what.to_string()),
    };
    if outcome.is_ok() {
        *outcome = Err(error);
    } else {
        tracing::error!(error = %format!("{error:#}"), "{what} failed");
    }
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

    /// The node's background tasks (for tests and tools that add one of their own).
    pub fn supervisor(&self) -> &Supervisor {
        &self.supervisor
    }

    /// Stops accepting and finishes running requests; then stops every background task and
    /// waits for it (a task that does not stop within [`DEFAULT_STOP_WAIT`] is aborted and
    /// named in the log); then closes the database. Fails when a listener failed, or when a
    /// task that must not die died.
    pub async fn shutdown(mut self) -> anyhow::Result<()> {
        self.stop.cancel();
        let mut outcome: anyhow::Result<()> = Ok(());
        for listener in [self.public.take(), self.peer.take(), self.enroll.take()]
            .into_iter()
            .flatten()
        {
            keep_first_error(&mut outcome, listener.task.await, "listener task");
        }
        keep_first_error(&mut outcome, (&mut self.task).await, "server task");
        // Nothing is accepted any more: the tasks stop now (the refused-handshake audit writes
        // the refusals it still holds), and only then is the store closed under them.
        self.supervisor.shutdown(DEFAULT_STOP_WAIT).await;
        self.archive.close().await;
        if let Some(failure) = self.supervisor.failure() {
            return Err(anyhow::anyhow!("{failure}"));
        }
        outcome
    }

    /// Serves until ctrl-c or SIGTERM arrives, or a task that must not die died (an error).
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
            _ = tokio::signal::ctrl_c() => tracing::info!("shutting down"),
            _ = terminate => tracing::info!("shutting down"),
            _ = self.supervisor.node_must_stop() => {
                tracing::error!("a background task died: shutting down");
            }
        }
        self.shutdown().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::supervisor::WhenTaskDies;
    use licnode_testkit::{BACKENDS, Backend};
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    /// A province node's configuration in `dir` on `backend`, its staff API on a free port.
    async fn province(
        dir: &std::path::Path,
        backend: Backend,
    ) -> (Config, Option<licnode_testkit::TestDatabase>) {
        let (url, database) = licnode_testkit::database_url(backend, dir)
            .await
            .expect("database");
        let path = crate::init::init(crate::init::InitOptions {
            dir: dir.to_path_buf(),
            code: "330000".into(),
            level: "province".into(),
            name: "浙江省市场监督管理局".into(),
            parent_url: None,
            database_url: Some(url),
            listen: "127.0.0.1:0".parse().expect("address"),
            peer_listen: None,
            force: false,
        })
        .expect("init");
        (Config::load(&path).expect("config"), database)
    }

    // Issue 17, item 5: the store is closed only under stopped tasks.
    #[tokio::test]
    async fn shutdown_waits_for_every_task_before_the_store_is_closed() {
        for backend in BACKENDS {
            let dir = licnode_testkit::temp_dir().expect("dir");
            let (config, _database) = province(dir.path(), backend).await;
            let node = Node::start(&config).await.expect("start");
            let supervisor = node.supervisor().clone();
            assert!(
                supervisor.running().contains(&"report scheduler")
                    && supervisor.running().contains(&"retention sweep"),
                "{backend}: {:?}",
                supervisor.running()
            );
            // A task that still writes after it is told to stop: the write must land before
            // the store is closed.
            let written: Arc<Mutex<Option<Result<(), String>>>> = Arc::default();
            let outcome = written.clone();
            let archive = node.archive().clone();
            supervisor.spawn("late writer", WhenTaskDies::Restart, move |cancel| {
                let archive = archive.clone();
                let outcome = outcome.clone();
                async move {
                    cancel.cancelled().await;
                    tokio::time::sleep(Duration::from_millis(300)).await;
                    let result = archive
                        .save_link_state("late writer", &serde_json::json!({"stopping": true}))
                        .await
                        .map_err(|error| error.to_string());
                    *outcome
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(result);
                }
            });
            node.shutdown().await.expect("shutdown");
            let written = written
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .clone();
            assert_eq!(written, Some(Ok(())), "{backend}");
            assert!(supervisor.running().is_empty(), "{backend}");
        }
    }

    #[tokio::test]
    async fn a_failed_start_stops_every_task_it_had_started() {
        let dir = licnode_testkit::temp_dir().expect("dir");
        let (mut config, _database) = province(dir.path(), Backend::Sqlite).await;
        // The public service's address is taken: the start fails after the sweep started.
        let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        config.public = Some(crate::config::PublicSection {
            listen: taken.local_addr().expect("address"),
            requests_per_second: 10.0,
            burst: 10,
        });
        let supervisor = Supervisor::new();
        let error = Node::start_supervised(
            &config,
            Arc::new(licnode_app::SystemClock),
            supervisor.clone(),
        )
        .await
        .err()
        .expect("the start fails");
        assert!(format!("{error:#}").contains("[public]"), "{error:#}");
        assert!(supervisor.spawned() >= 1, "nothing had been started");
        assert!(
            supervisor.running().is_empty(),
            "{:?}",
            supervisor.running()
        );
        // The supervisor is shut down: nothing more starts under it.
        supervisor.spawn("after", WhenTaskDies::Restart, |cancel| async move {
            cancel.cancelled().await
        });
        assert!(supervisor.running().is_empty());
        // The node can start again at once: the data directory and the store were let go.
        config.public = None;
        let node = Node::start(&config).await.expect("a second start");
        node.shutdown().await.expect("shutdown");
    }

    #[tokio::test]
    async fn a_listener_that_ends_while_the_node_runs_stops_the_node_naming_it() {
        let supervisor = Supervisor::new();
        let listener = spawn_listener(&supervisor, "staff API listener", async {
            Err(std::io::Error::other("accept failed"))
        });
        tokio::time::timeout(Duration::from_secs(10), supervisor.node_must_stop())
            .await
            .expect("the node is told to stop");
        assert!(listener.await.expect("joined").is_err());
        let failure = supervisor.failure().expect("the failure");
        assert_eq!(failure.task, "staff API listener");
        assert!(failure.what.contains("accept failed"), "{failure}");

        // A listener that ends because the node stops is no failure.
        let supervisor = Supervisor::new();
        let stop = supervisor.stop_node_token();
        let listener = spawn_listener(&supervisor, "public listener", async move {
            stop.cancelled().await;
            Ok(())
        });
        supervisor.stop_node_token().cancel();
        assert!(listener.await.expect("joined").is_ok());
        assert!(supervisor.failure().is_none());
    }

    #[tokio::test]
    async fn a_task_that_must_not_die_stops_the_node_with_an_error() {
        let dir = licnode_testkit::temp_dir().expect("dir");
        let (config, _database) = province(dir.path(), Backend::Sqlite).await;
        let node = Node::start(&config).await.expect("start");
        let address = node.local_addr();
        node.supervisor()
            .spawn("audit writer", WhenTaskDies::StopNode, |_cancel| async {
                panic!("the audit log cannot be written");
            });
        tokio::time::timeout(Duration::from_secs(10), node.supervisor().node_must_stop())
            .await
            .expect("the node is told to stop");
        // The staff listener stops accepting.
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while tokio::net::TcpStream::connect(address).await.is_ok() {
            assert!(
                std::time::Instant::now() < deadline,
                "the listener still accepts"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let error = node
            .shutdown()
            .await
            .expect_err("the node stopped with an error");
        let message = format!("{error:#}");
        assert!(
            message.contains("audit writer") && message.contains("cannot be written"),
            "{message}"
        );
    }
}
