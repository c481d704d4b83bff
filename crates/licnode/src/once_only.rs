//! Work that must happen once however many `licnode serve` processes serve the node over one
//! PostgreSQL database (issue 15 item 2): the report scheduler, the retention sweep and the
//! certificate upkeep run only on the process that holds the node's once-only lock
//! ([`licnode_store::OnceOnlyClaim`]: a session-level advisory lock on a connection of its
//! own). A task under [`OnceOnly::spawn_task`] waits until this process holds the lock, runs
//! while it does, and is cancelled the moment the lock is lost; when the holder dies, another
//! process claims the lock within [`CLAIM_RETRY`] and starts the work there. A SQLite node is one
//! process: it always holds the lock.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use licnode_store::{OnceOnlyClaim, OnceOnlyHolder, Store};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::supervisor::{Supervisor, WhenTaskDies};

/// How often a process that does not hold the lock tries to claim it: the longest a task waits
/// after its holder died.
pub const CLAIM_RETRY: Duration = Duration::from_secs(1);

/// How often the holder checks that its lock's connection still answers, and how long it
/// waits for the answer. A holder cut off from the database stops its work within the sum of
/// both, well before the server ends its idle session (10 s) and lets another process in.
const HOLD_CHECK: Duration = Duration::from_secs(2);
const HOLD_CHECK_PATIENCE: Duration = Duration::from_secs(3);

/// This process's place in the node's once-only work. Cloning it gives another handle.
#[derive(Clone)]
pub struct OnceOnly {
    shared: Arc<Shared>,
}

struct Shared {
    store: Store,
    /// The name this process claims the lock under (and records its runs under).
    holder_name: String,
    /// True while this process holds the lock.
    held: watch::Sender<bool>,
}

/// The name a process of the node claims the lock under: its host, process id and staff
/// address, so that `licnode status` says which process holds it.
pub fn process_name(staff_address: std::net::SocketAddr) -> String {
    let host = std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|name| name.trim().to_string())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "localhost".to_string());
    format!("{host} pid {} staff {staff_address}", std::process::id())
}

impl OnceOnly {
    /// Starts claiming the node's once-only lock under `holder_name`, as a task of
    /// `supervisor` that holds it until the node stops (then lets it go at once).
    pub fn spawn(supervisor: &Supervisor, store: Store, holder_name: String) -> OnceOnly {
        let once_only = OnceOnly {
            shared: Arc::new(Shared {
                store,
                holder_name,
                held: watch::Sender::new(false),
            }),
        };
        let claiming = once_only.clone();
        supervisor.spawn("once-only lock", WhenTaskDies::Restart, move |cancel| {
            let claiming = claiming.clone();
            async move { claiming.claim_until(cancel).await }
        });
        once_only
    }

    /// True while this process holds the lock.
    pub fn holds(&self) -> bool {
        *self.shared.held.borrow()
    }

    /// The name this process claims the lock under.
    pub fn holder_name(&self) -> &str {
        &self.shared.holder_name
    }

    /// Who holds the lock, as the database says.
    pub async fn holder(&self) -> Result<OnceOnlyHolder, licnode_store::StoreError> {
        self.shared.store.once_only_holder().await
    }

    /// Claims the lock, holds it while its connection answers, claims again when it is lost,
    /// until `cancel`.
    async fn claim_until(&self, cancel: CancellationToken) {
        let shared = &self.shared;
        loop {
            let claim = tokio::select! {
                _ = cancel.cancelled() => return,
                claim = shared.store.claim_once_only(&shared.holder_name) => claim,
            };
            match claim {
                Ok(Some(claim)) => {
                    tracing::info!(holder = %shared.holder_name, "this process holds the once-only lock");
                    shared.held.send_replace(true);
                    let stopped = self.hold(claim, &cancel).await;
                    shared.held.send_replace(false);
                    if stopped {
                        return;
                    }
                    tracing::warn!("the once-only lock was lost: its work stops on this process");
                }
                Ok(None) => {}
                Err(error) => tracing::debug!(%error, "cannot claim the once-only lock"),
            }
            tokio::select! {
                _ = cancel.cancelled() => return,
                _ = tokio::time::sleep(CLAIM_RETRY) => {}
            }
        }
    }

    /// Holds `claim` until its connection stops answering (false) or `cancel` (true, the lock
    /// released).
    async fn hold(&self, mut claim: OnceOnlyClaim, cancel: &CancellationToken) -> bool {
        loop {
            tokio::select! {
                _ = cancel.cancelled() => {
                    // The work under the lock is told to stop first (its tokens are children
                    // of the node's), then the lock goes.
                    self.shared.held.send_replace(false);
                    claim.release().await;
                    return true;
                }
                _ = tokio::time::sleep(HOLD_CHECK) => {}
            }
            if !claim.still_held(HOLD_CHECK_PATIENCE).await {
                return false;
            }
        }
    }

    /// Starts `task` under `supervisor` as once-only work called `name`: each time this process
    /// comes to hold the lock, `make` is called with a token cancelled when the lock is lost or
    /// the node stops, and the future it returns runs until it ends or that token fires.
    pub fn spawn_task<Make, Task>(&self, supervisor: &Supervisor, name: &'static str, make: Make)
    where
        Make: Fn(CancellationToken) -> Task + Send + Sync + 'static,
        Task: Future<Output = ()> + Send + 'static,
    {
        let once_only = self.clone();
        let make = Arc::new(make);
        supervisor.spawn(name, WhenTaskDies::Restart, move |cancel| {
            let once_only = once_only.clone();
            let make = make.clone();
            async move {
                let mut held = once_only.shared.held.subscribe();
                loop {
                    tokio::select! {
                        _ = cancel.cancelled() => return,
                        waited = async { held.wait_for(|held| *held).await.map(|_| ()) } => {
                            if waited.is_err() {
                                return;
                            }
                        }
                    }
                    let while_held = cancel.child_token();
                    let running = make(while_held.clone());
                    tokio::pin!(running);
                    tokio::select! {
                        _ = &mut running => {}
                        _ = async { held.wait_for(|held| !*held).await.map(|_| ()) } => {
                            tracing::info!(task = name, "the once-only lock moved: stopping");
                            while_held.cancel();
                            running.await;
                        }
                    }
                    if cancel.is_cancelled() {
                        return;
                    }
                    // The task ended while the lock is still held: it is started again
                    // after a pause, as the supervisor would.
                    tokio::select! {
                        _ = cancel.cancelled() => return,
                        _ = tokio::time::sleep(CLAIM_RETRY) => {}
                    }
                }
            }
        });
    }

    /// Runs `work` as a recorded run of `task` by this process (`once_only_runs`): started
    /// before, finished after. A run whose process died during it stays unfinished.
    pub async fn recorded<Work, Output>(&self, task: &str, work: Work) -> Output
    where
        Work: Future<Output = Output>,
    {
        let store = &self.shared.store;
        let run = store
            .start_once_only_run(task, &self.shared.holder_name, licnode_store::now_ms())
            .await;
        let output = work.await;
        match run {
            Ok(run) => {
                if let Err(error) = store
                    .finish_once_only_run(run, licnode_store::now_ms())
                    .await
                {
                    tracing::warn!(%error, task, "cannot record the end of a once-only run");
                }
            }
            Err(error) => tracing::warn!(%error, task, "cannot record a once-only run"),
        }
        output
    }

    /// How long until `task` is due again, `every` after its last recorded run started
    /// (whichever process ran it): a process that takes the lock over keeps the interval.
    pub async fn until_due(&self, task: &str, every: Duration) -> Duration {
        let last = match self.shared.store.once_only_runs(task, 1).await {
            Ok(runs) => runs.into_iter().next(),
            Err(error) => {
                tracing::debug!(%error, task, "cannot read the last once-only run");
                None
            }
        };
        let Some(last) = last else {
            return Duration::ZERO;
        };
        let since = licnode_store::now_ms().saturating_sub(last.started_at_ms);
        let since = Duration::from_millis(u64::try_from(since).unwrap_or(0));
        every.saturating_sub(since)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A task that counts how many of its runs are under way at once, and the most ever.
    fn counting_task(
        running: Arc<AtomicUsize>,
        most: Arc<AtomicUsize>,
    ) -> impl Fn(CancellationToken) -> std::pin::Pin<Box<dyn Future<Output = ()> + Send>>
    + Send
    + Sync
    + 'static {
        move |cancel| {
            let (running, most) = (running.clone(), most.clone());
            Box::pin(async move {
                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(now, Ordering::SeqCst);
                cancel.cancelled().await;
                running.fetch_sub(1, Ordering::SeqCst);
            })
        }
    }

    async fn wait_until(what: &str, mut condition: impl FnMut() -> bool) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        while !condition() {
            assert!(tokio::time::Instant::now() < deadline, "{what}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    // Issue 15 item 2: two processes over one PostgreSQL database run the task one at a time,
    // and when the one running it stops, the other takes it up.
    #[tokio::test]
    async fn once_only_work_runs_on_one_process_and_moves_when_that_process_stops() {
        let dir = licnode_testkit::temp_dir().expect("dir");
        let (url, _database) =
            licnode_testkit::database_url(licnode_testkit::Backend::Postgres, dir.path())
                .await
                .expect("database");
        let (running, most) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let mut processes = Vec::new();
        for name in ["first", "second"] {
            let supervisor = Supervisor::new();
            let store = Store::open(&url).await.expect("open");
            let once_only = OnceOnly::spawn(&supervisor, store, name.to_string());
            once_only.spawn_task(
                &supervisor,
                "counted",
                counting_task(running.clone(), most.clone()),
            );
            processes.push((supervisor, once_only));
        }
        wait_until("the task starts", || running.load(Ordering::SeqCst) == 1).await;
        tokio::time::sleep(CLAIM_RETRY * 2).await;
        let holder = processes
            .iter()
            .position(|(_, once_only)| once_only.holds())
            .expect("a holder");
        assert_eq!(
            processes
                .iter()
                .filter(|(_, once_only)| once_only.holds())
                .count(),
            1
        );
        let (stopped, _) = processes.remove(holder);
        stopped.shutdown(Duration::from_secs(10)).await;
        let (_, survivor) = &processes[0];
        wait_until("the other process takes the work up", || {
            survivor.holds() && running.load(Ordering::SeqCst) == 1
        })
        .await;
        assert_eq!(most.load(Ordering::SeqCst), 1, "the task ran twice at once");
    }

    #[tokio::test]
    async fn a_sqlite_node_runs_its_once_only_work_at_once() {
        let dir = licnode_testkit::temp_dir().expect("dir");
        let (url, _) = licnode_testkit::database_url(licnode_testkit::Backend::Sqlite, dir.path())
            .await
            .expect("database");
        let supervisor = Supervisor::new();
        let store = Store::open(&url).await.expect("open");
        let once_only = OnceOnly::spawn(&supervisor, store.clone(), "the node".into());
        let (running, most) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        once_only.spawn_task(&supervisor, "counted", counting_task(running.clone(), most));
        wait_until("the task starts", || running.load(Ordering::SeqCst) == 1).await;
        let ran = once_only.recorded("counted", async { 7 }).await;
        assert_eq!(ran, 7);
        let runs = store.once_only_runs("counted", 5).await.expect("runs");
        assert_eq!(runs.len(), 1);
        assert_eq!(runs[0].holder, "the node");
        assert!(runs[0].finished_at_ms.is_some());
        assert!(
            once_only
                .until_due("counted", Duration::from_secs(3600))
                .await
                > Duration::from_secs(3500)
        );
        supervisor.shutdown(Duration::from_secs(10)).await;
        assert_eq!(
            running.load(Ordering::SeqCst),
            0,
            "the task stopped with the node"
        );
    }
}
