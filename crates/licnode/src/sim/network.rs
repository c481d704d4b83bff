//! The simulated network: one node per agency of the real division tree, each with its own
//! SQLite store, its `Archive` and — below the national node — the node's sync loop, which
//! dials its parent in the same process through the replication engine's in-memory transport
//! behind the parent's admission check. A node can be stopped (its loop ended, its store
//! closed, its children's connections refused) and started again on the same database.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use anyhow::Context;
use licnode_app::Archive;
use licnode_app::replication::transport::InMemory;
use licnode_app::replication::{self, SessionReport, Transport, TransportError};
use licnode_model::Level;
use licnode_model::divisions::{self, DivisionLevel};
use licnode_store::{Store, StoreSettings};
use licnode_sync::NodeRef;
use licnode_sync::protocol::{
    CursorResponse, PullRequest, PullResponse, PushRequest, PushResponse,
};

use crate::supervisor::Supervisor;
use crate::sync_loop::{ParentDial, SyncTiming};

/// Which part of the tree runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Extent {
    /// One province's subtree, by its two-digit prefix (`33`).
    Province(String),
    /// The first `n` provinces in code order, with their subtrees.
    Provinces(usize),
    /// All 31 provinces.
    WholeCountry,
}

/// One agency of the simulated tree.
pub struct SimNode {
    pub node: NodeRef,
    pub parent: Option<usize>,
    pub children: Vec<usize>,
    /// A province's prefectures that run nodes (its counties then dial them).
    pub child_prefectures: Vec<String>,
    database: PathBuf,
    /// The running node, as its children reach it: empty while it is down.
    pub reachable: ParentSlot,
    running: tokio::sync::Mutex<Option<Running>>,
}

/// What a running node holds.
struct Running {
    archive: Archive,
    supervisor: Option<Supervisor>,
}

/// A node as its children reach it: the archive of the running node and its start count; a
/// connection made to one start is refused after the node stopped or started again.
#[derive(Clone, Default)]
pub struct ParentSlot(Arc<RwLock<Option<(u64, Archive)>>>);

/// Starts of nodes, numbered across the simulation.
static STARTS: AtomicU64 = AtomicU64::new(1);

impl ParentSlot {
    fn current(&self) -> Option<(u64, Archive)> {
        self.0
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    fn set(&self, value: Option<(u64, Archive)>) {
        *self
            .0
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = value;
    }

    /// The running node's archive, if it runs.
    pub fn archive(&self) -> Option<Archive> {
        self.current().map(|(_, archive)| archive)
    }
}

/// The tree as it runs.
pub struct Network {
    pub nodes: Vec<SimNode>,
    pub timing: SyncTiming,
    pub directory: PathBuf,
    template: PathBuf,
    stuck_closes: AtomicU64,
}

/// How long a stopped node's store is given to close.
const CLOSE_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// The simulated nodes of `extent`, national first, each after its parent. With
/// `prefectures`, a province's counties dial its prefectures (each a node, named in the
/// province's `child_prefectures`); without, every county dials its province.
pub fn tree(extent: &Extent, prefectures: bool) -> anyhow::Result<Vec<(NodeRef, Option<usize>)>> {
    let provinces: Vec<_> = match extent {
        Extent::Province(prefix) => {
            let code = format!("{prefix}0000");
            let province = divisions::lookup(&code)
                .filter(|division| division.level == DivisionLevel::Province)
                .with_context(|| format!("{prefix} is not a province's code prefix"))?;
            vec![province]
        }
        Extent::Provinces(count) => {
            let all = divisions::provinces();
            anyhow::ensure!(
                (1..=all.len()).contains(count),
                "between 1 and {} provinces",
                all.len()
            );
            all.into_iter().take(*count).collect()
        }
        Extent::WholeCountry => divisions::provinces(),
    };
    let mut nodes = vec![(
        NodeRef::new(divisions::NATIONAL_CODE, Level::National),
        None,
    )];
    for province in provinces {
        let province_index = nodes.len();
        nodes.push((
            NodeRef::new(province.code.clone(), Level::Province),
            Some(0),
        ));
        if !prefectures {
            for county in divisions::counties_within(&province.code) {
                nodes.push((
                    NodeRef::new(county.code.clone(), Level::County),
                    Some(province_index),
                ));
            }
            continue;
        }
        for prefecture in divisions::children(&province.code) {
            // A municipality's districts lie directly under it (the data has no placeholder
            // prefecture): they dial the province.
            if prefecture.level == DivisionLevel::County {
                nodes.push((
                    NodeRef::new(prefecture.code.clone(), Level::County),
                    Some(province_index),
                ));
                continue;
            }
            let prefecture_index = nodes.len();
            nodes.push((
                NodeRef::new(prefecture.code.clone(), Level::Prefecture),
                Some(province_index),
            ));
            for county in divisions::counties_within(&prefecture.code) {
                nodes.push((
                    NodeRef::new(county.code.clone(), Level::County),
                    Some(prefecture_index),
                ));
            }
        }
    }
    Ok(nodes)
}

impl Network {
    /// Prepares the nodes of `topology` under `directory` (nothing runs yet): a database
    /// migrated once is copied for every node, so that thousands open in seconds.
    pub async fn prepare(
        topology: Vec<(NodeRef, Option<usize>)>,
        directory: &Path,
        timing: SyncTiming,
    ) -> anyhow::Result<Network> {
        let template = directory.join("template.db");
        let store = Store::open_with(&sqlite_url(&template), StoreSettings::LIGHT).await?;
        store.close().await;
        let mut nodes: Vec<SimNode> = topology
            .iter()
            .map(|(node, parent)| SimNode {
                node: node.clone(),
                parent: *parent,
                children: Vec::new(),
                child_prefectures: Vec::new(),
                database: directory.join(format!("{}.db", node.code)),
                reachable: ParentSlot::default(),
                running: tokio::sync::Mutex::new(None),
            })
            .collect();
        for index in 0..nodes.len() {
            if let Some(parent) = nodes[index].parent {
                nodes[parent].children.push(index);
                if nodes[index].node.level == Level::Prefecture {
                    let code = nodes[index].node.code.clone();
                    nodes[parent].child_prefectures.push(code);
                }
            }
        }
        Ok(Network {
            nodes,
            timing,
            directory: directory.to_path_buf(),
            template,
            stuck_closes: AtomicU64::new(0),
        })
    }

    /// Starts node `index`: its store (a copy of the template the first time), its archive and,
    /// below the national node, its sync loop. Returns its archive.
    pub async fn start(&self, index: usize) -> anyhow::Result<Archive> {
        let member = &self.nodes[index];
        let mut running = member.running.lock().await;
        if let Some(running) = running.as_ref() {
            return Ok(running.archive.clone());
        }
        if !member.database.exists() {
            std::fs::copy(&self.template, &member.database).with_context(|| {
                format!(
                    "cannot copy the template store to {}",
                    member.database.display()
                )
            })?;
        }
        let store = Store::open_with(&sqlite_url(&member.database), StoreSettings::LIGHT).await?;
        let archive = Archive::with_level(store, &member.node.code, member.node.level)
            .with_child_prefectures(member.child_prefectures.clone());
        let supervisor = match member.parent {
            Some(parent) => {
                let supervisor = Supervisor::new();
                let dial = InProcessDial {
                    parent: self.nodes[parent].reachable.clone(),
                    parent_code: self.nodes[parent].node.code.clone(),
                    child: member.node.clone(),
                };
                crate::sync_loop::spawn_dialling(&supervisor, archive.clone(), dial, self.timing);
                Some(supervisor)
            }
            None => None,
        };
        let start = STARTS.fetch_add(1, Ordering::Relaxed);
        member.reachable.set(Some((start, archive.clone())));
        *running = Some(Running {
            archive: archive.clone(),
            supervisor,
        });
        Ok(archive)
    }

    /// Stops node `index` as a process stop would: its children's connections are refused
    /// from now on, its loop ends (a session under way is finished first) and its store closes.
    pub async fn stop(&self, index: usize) {
        let member = &self.nodes[index];
        member.reachable.set(None);
        let Some(running) = member.running.lock().await.take() else {
            return;
        };
        if let Some(supervisor) = running.supervisor {
            supervisor
                .shutdown(std::time::Duration::from_secs(30))
                .await;
        }
        // sqlx's `Pool::close` can wait for ever for a connection returned to the pool while it
        // closes (seen once in a dozen restarts): the node goes on without waiting longer, as
        // a process that exits would, and the stuck close is counted.
        let closed = tokio::time::timeout(CLOSE_WAIT, running.archive.close()).await;
        if closed.is_err() {
            self.stuck_closes.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(node = %member.node, "the store did not close within {CLOSE_WAIT:?}");
        }
    }

    /// How many stops found the store's close still waiting after [`CLOSE_WAIT`].
    pub fn stuck_closes(&self) -> u64 {
        self.stuck_closes.load(Ordering::Relaxed)
    }

    /// The archive of node `index` while it runs.
    pub fn archive(&self, index: usize) -> Option<Archive> {
        self.nodes[index].reachable.archive()
    }

    /// Indices of the nodes of `level`.
    pub fn at_level(&self, level: Level) -> Vec<usize> {
        (0..self.nodes.len())
            .filter(|index| self.nodes[*index].node.level == level)
            .collect()
    }

    /// The province above node `index` (itself for a province).
    pub fn province_of(&self, mut index: usize) -> Option<usize> {
        loop {
            let member = &self.nodes[index];
            if member.node.level == Level::Province {
                return Some(index);
            }
            index = member.parent?;
        }
    }
}

fn sqlite_url(path: &Path) -> String {
    format!("sqlite://{}", path.display())
}

/// The sync loop's dial in the simulation: the parent's running archive, behind the engine's
/// in-memory transport (the admission check included).
#[derive(Clone)]
struct InProcessDial {
    parent: ParentSlot,
    parent_code: String,
    child: NodeRef,
}

impl ParentDial for InProcessDial {
    type Connection = InProcessLink;

    async fn connect(&self) -> anyhow::Result<InProcessLink> {
        let (start, archive) = self
            .parent
            .current()
            .with_context(|| format!("the parent {} does not answer", self.parent_code))?;
        Ok(InProcessLink {
            start,
            slot: self.parent.clone(),
            carrier: InMemory {
                parent: archive,
                child: self.child.clone(),
            },
        })
    }

    fn parent_of(connection: &InProcessLink) -> NodeRef {
        connection.carrier.parent.scope.node_ref()
    }

    async fn session(
        &self,
        archive: &Archive,
        connection: &mut InProcessLink,
    ) -> anyhow::Result<SessionReport> {
        Ok(replication::run_session(archive, connection, &|_| {}).await?)
    }

    fn address(&self) -> String {
        format!("in-process:{}", self.parent_code)
    }
}

/// A connection to one start of a parent: every message is refused once that start ended, as
/// a dropped TCP connection would be, and an answer that comes after it is lost.
#[derive(Clone)]
pub struct InProcessLink {
    start: u64,
    slot: ParentSlot,
    carrier: InMemory,
}

impl InProcessLink {
    fn check(&self) -> Result<(), TransportError> {
        match self.slot.current() {
            Some((start, _)) if start == self.start => Ok(()),
            _ => Err(TransportError::Failed(
                "the parent stopped: connection lost".to_string(),
            )),
        }
    }

    async fn carried<R>(
        &self,
        answer: impl Future<Output = Result<R, TransportError>>,
    ) -> Result<R, TransportError> {
        self.check()?;
        let answer = answer.await?;
        self.check()?;
        Ok(answer)
    }
}

impl Transport for InProcessLink {
    async fn hello(&mut self) -> Result<NodeRef, TransportError> {
        let mut carrier = self.carrier.clone();
        self.carried(async move { carrier.hello().await }).await
    }

    async fn cursor(&mut self) -> Result<CursorResponse, TransportError> {
        let mut carrier = self.carrier.clone();
        self.carried(async move { carrier.cursor().await }).await
    }

    async fn push(&mut self, request: &PushRequest) -> Result<PushResponse, TransportError> {
        let mut carrier = self.carrier.clone();
        self.carried(async move { carrier.push(request).await })
            .await
    }

    async fn pull(&mut self, request: &PullRequest) -> Result<PullResponse, TransportError> {
        let mut carrier = self.carrier.clone();
        self.carried(async move { carrier.pull(request).await })
            .await
    }

    async fn recover(&mut self, request: &PullRequest) -> Result<PullResponse, TransportError> {
        let mut carrier = self.carrier.clone();
        self.carried(async move { carrier.recover(request).await })
            .await
    }
}
