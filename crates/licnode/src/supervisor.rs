//! The node's background tasks under one owner (issue 17, item 5): every task runs in the
//! supervisor's task set with its cancellation token. A task that panics or ends by itself is
//! logged and, as its policy says, started again after a backoff or made to stop the node;
//! [`Supervisor::shutdown`] cancels every task and waits for it (within a bound, aborting and
//! naming one that does not stop), so the node closes its store only under stopped tasks.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use tokio::task::{AbortHandle, JoinError, JoinSet};
use tokio_util::sync::CancellationToken;

/// How long [`Supervisor::shutdown`] waits for the tasks to stop by themselves by default.
pub const DEFAULT_STOP_WAIT: Duration = Duration::from_secs(10);

/// The first wait before a task that died is started again; it doubles with every death in a
/// row, up to [`RESTART_BACKOFF_MAX`].
const RESTART_BACKOFF_FIRST: Duration = Duration::from_secs(1);
const RESTART_BACKOFF_MAX: Duration = Duration::from_secs(60);

/// What happens when a task panics, or ends while the node runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WhenTaskDies {
    /// Log it and start the task again after a backoff: for loops whose every round stands on
    /// its own (the sync loop, the scheduler, the sweeps, the certificate upkeep).
    Restart,
    /// Log it and stop the node with an error: for a task whose loss would leave a gap that
    /// nobody would notice otherwise (the refused-handshake audit).
    StopNode,
}

/// A task that died and stopped the node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaskFailure {
    /// The task's name.
    pub task: &'static str,
    /// Its panic message, or that it ended by itself.
    pub what: String,
}

impl std::fmt::Display for TaskFailure {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(formatter, "the {} task died: {}", self.task, self.what)
    }
}

/// Owns the node's background tasks. Cloning it gives another handle on the same tasks.
#[derive(Clone)]
pub struct Supervisor {
    shared: Arc<Shared>,
}

struct Shared {
    /// The supervising tasks; `None` once shut down (nothing more is started).
    tasks: Mutex<Option<JoinSet<()>>>,
    /// Every task started and not ended, to name and abort one that does not stop.
    running: Mutex<Vec<RunningTask>>,
    next_task: AtomicU64,
    /// Cancelled at shutdown: every task stops.
    cancel_tasks: CancellationToken,
    /// Cancelled when a task with [`WhenTaskDies::StopNode`] died: the node stops.
    stop_node: CancellationToken,
    failure: Mutex<Option<TaskFailure>>,
    restarts: AtomicU64,
    spawned: AtomicU64,
    backoff_first: Duration,
    backoff_max: Duration,
}

struct RunningTask {
    id: u64,
    name: &'static str,
    /// The task's current run, while one is under way.
    abort: Option<AbortHandle>,
}

/// Removes a task from [`Shared::running`] when its supervision ends, however it ends.
struct Registered {
    shared: Arc<Shared>,
    id: u64,
}

impl Registered {
    fn set_run(&self, abort: Option<AbortHandle>) {
        if let Some(task) = lock(&self.shared.running)
            .iter_mut()
            .find(|task| task.id == self.id)
        {
            task.abort = abort;
        }
    }
}

impl Drop for Registered {
    fn drop(&mut self) {
        lock(&self.shared.running).retain(|task| task.id != self.id);
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Default for Supervisor {
    fn default() -> Self {
        Supervisor::new()
    }
}

impl Supervisor {
    /// A supervisor with no tasks yet.
    pub fn new() -> Supervisor {
        Supervisor::with_restart_backoff(RESTART_BACKOFF_FIRST, RESTART_BACKOFF_MAX)
    }

    /// A supervisor whose restarts wait `first`, doubling up to `max` (tests use milliseconds).
    pub fn with_restart_backoff(first: Duration, max: Duration) -> Supervisor {
        Supervisor {
            shared: Arc::new(Shared {
                tasks: Mutex::new(Some(JoinSet::new())),
                running: Mutex::new(Vec::new()),
                next_task: AtomicU64::new(0),
                cancel_tasks: CancellationToken::new(),
                stop_node: CancellationToken::new(),
                failure: Mutex::new(None),
                restarts: AtomicU64::new(0),
                spawned: AtomicU64::new(0),
                backoff_first: first,
                backoff_max: max.max(first),
            }),
        }
    }

    /// Starts the task `name`: `make` builds its future from the token it must stop on. The
    /// first future is built now (what it subscribes to, it hears from now on), later ones when
    /// the task is started again. Must be called within a tokio runtime.
    pub fn spawn<Make, Task>(&self, name: &'static str, when_dies: WhenTaskDies, mut make: Make)
    where
        Make: FnMut(CancellationToken) -> Task + Send + 'static,
        Task: Future<Output = ()> + Send + 'static,
    {
        let mut tasks = lock(&self.shared.tasks);
        let Some(tasks) = tasks.as_mut() else {
            tracing::warn!(task = name, "the node is stopping: the task is not started");
            return;
        };
        let first = make(self.shared.cancel_tasks.clone());
        self.shared.spawned.fetch_add(1, Ordering::Relaxed);
        let id = self.shared.next_task.fetch_add(1, Ordering::Relaxed);
        lock(&self.shared.running).push(RunningTask {
            id,
            name,
            abort: None,
        });
        let registered = Registered {
            shared: self.shared.clone(),
            id,
        };
        tasks.spawn(supervise(registered, name, when_dies, first, make));
    }

    /// Resolves once a task with [`WhenTaskDies::StopNode`] died.
    pub async fn node_must_stop(&self) {
        self.shared.stop_node.cancelled().await;
    }

    /// The token cancelled when a task with [`WhenTaskDies::StopNode`] died.
    pub fn stop_node_token(&self) -> CancellationToken {
        self.shared.stop_node.clone()
    }

    /// Stops the node because `task` (one not run by this supervisor, e.g. a listener) died;
    /// logged, and kept as the node's failure unless another came first.
    pub fn stop_node_because(&self, task: &'static str, what: String) {
        tracing::error!(task, %what, "stopping the node");
        lock(&self.shared.failure).get_or_insert(TaskFailure { task, what });
        self.shared.stop_node.cancel();
    }

    /// The task that died and stopped the node, if one did.
    pub fn failure(&self) -> Option<TaskFailure> {
        lock(&self.shared.failure).clone()
    }

    /// How many times tasks were started again after dying.
    pub fn restarts(&self) -> u64 {
        self.shared.restarts.load(Ordering::Relaxed)
    }

    /// How many tasks were started (not counting restarts).
    pub fn spawned(&self) -> u64 {
        self.shared.spawned.load(Ordering::Relaxed)
    }

    /// The names of the tasks started and not ended (one waiting to be started again too).
    pub fn running(&self) -> Vec<&'static str> {
        lock(&self.shared.running)
            .iter()
            .map(|running| running.name)
            .collect()
    }

    /// Cancels every task and waits until each has stopped, at most `wait`; then aborts those
    /// still running, logs their names and returns them. Nothing is started afterwards.
    pub async fn shutdown(&self, wait: Duration) -> Vec<&'static str> {
        self.shared.cancel_tasks.cancel();
        let Some(mut tasks) = lock(&self.shared.tasks).take() else {
            return Vec::new();
        };
        let deadline = tokio::time::Instant::now() + wait;
        while let Ok(Some(joined)) = tokio::time::timeout_at(deadline, tasks.join_next()).await {
            log_supervisor_end(joined);
        }
        if tasks.is_empty() {
            return Vec::new();
        }
        let stuck: Vec<(&'static str, Option<AbortHandle>)> = lock(&self.shared.running)
            .iter()
            .map(|running| (running.name, running.abort.clone()))
            .collect();
        for (name, abort) in &stuck {
            tracing::error!(
                task = name,
                wait_ms = wait.as_millis() as u64,
                "background task did not stop when the node shut down; aborting it"
            );
            if let Some(abort) = abort {
                abort.abort();
            }
        }
        tasks.abort_all();
        // An aborted task stops at its next await; one blocked outside the runtime is given up.
        let deadline = tokio::time::Instant::now() + wait;
        while let Ok(Some(joined)) = tokio::time::timeout_at(deadline, tasks.join_next()).await {
            log_supervisor_end(joined);
        }
        if !tasks.is_empty() {
            tracing::error!(
                tasks = tasks.len(),
                "background tasks did not stop even when aborted; leaving them"
            );
            tasks.detach_all();
        }
        stuck.into_iter().map(|(name, _)| name).collect()
    }
}

fn log_supervisor_end(joined: Result<(), JoinError>) {
    if let Err(error) = joined
        && error.is_panic()
    {
        tracing::error!(%error, "a task supervisor panicked");
    }
}

/// The words of a panic, or what else ended the task.
fn what_ended(error: JoinError) -> String {
    if !error.is_panic() {
        return error.to_string();
    }
    let payload = error.into_panic();
    if let Some(text) = payload.downcast_ref::<&str>() {
        format!("panicked: {text}")
    } else if let Some(text) = payload.downcast_ref::<String>() {
        format!("panicked: {text}")
    } else {
        "panicked".to_string()
    }
}

/// Runs one task to its end, starting it again or stopping the node when it dies.
async fn supervise<Make, Task>(
    registered: Registered,
    name: &'static str,
    when_dies: WhenTaskDies,
    first: Task,
    mut make: Make,
) where
    Make: FnMut(CancellationToken) -> Task + Send + 'static,
    Task: Future<Output = ()> + Send + 'static,
{
    let shared = registered.shared.clone();
    let mut next = Some(first);
    let mut deaths_in_a_row: u32 = 0;
    loop {
        let task = match next.take() {
            Some(task) => task,
            None => make(shared.cancel_tasks.clone()),
        };
        let started = Instant::now();
        // Its own tokio task, so that a panic comes back as a JoinError instead of unwinding
        // through the supervisor.
        let handle = tokio::spawn(task);
        registered.set_run(Some(handle.abort_handle()));
        let outcome = handle.await;
        registered.set_run(None);
        let what = match outcome {
            Ok(()) if shared.cancel_tasks.is_cancelled() => return,
            Err(error) if error.is_cancelled() => return,
            Ok(()) => "ended by itself while the node runs".to_string(),
            Err(error) => what_ended(error),
        };
        if shared.cancel_tasks.is_cancelled() {
            tracing::error!(task = name, %what, "background task died while stopping");
            return;
        }
        match when_dies {
            WhenTaskDies::Restart => {
                // A task that ran well for a while starts its backoff again from the first wait.
                if started.elapsed() > shared.backoff_max {
                    deaths_in_a_row = 0;
                }
                deaths_in_a_row = deaths_in_a_row.saturating_add(1);
                let wait = shared
                    .backoff_first
                    .saturating_mul(1u32.checked_shl(deaths_in_a_row - 1).unwrap_or(u32::MAX))
                    .min(shared.backoff_max);
                tracing::error!(
                    task = name,
                    %what,
                    restart_in_ms = wait.as_millis() as u64,
                    "background task died; starting it again"
                );
                shared.restarts.fetch_add(1, Ordering::Relaxed);
                tokio::select! {
                    _ = shared.cancel_tasks.cancelled() => return,
                    _ = tokio::time::sleep(wait) => {}
                }
            }
            WhenTaskDies::StopNode => {
                Supervisor { shared }.stop_node_because(name, what);
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    fn quick() -> Supervisor {
        Supervisor::with_restart_backoff(Duration::from_millis(10), Duration::from_millis(40))
    }

    #[tokio::test]
    async fn a_task_that_panics_is_started_again_and_the_panic_is_logged() {
        let logs = crate::test_logs::capture();
        let supervisor = quick();
        let starts = Arc::new(AtomicUsize::new(0));
        let counted = starts.clone();
        supervisor.spawn("flaky", WhenTaskDies::Restart, move |cancel| {
            let start = counted.fetch_add(1, Ordering::SeqCst);
            async move {
                if start < 2 {
                    panic!("flaky round {start}");
                }
                cancel.cancelled().await;
            }
        });
        let deadline = Instant::now() + Duration::from_secs(10);
        while starts.load(Ordering::SeqCst) < 3 {
            assert!(Instant::now() < deadline, "the task was not started again");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        assert_eq!(supervisor.restarts(), 2);
        assert!(supervisor.failure().is_none());
        assert_eq!(supervisor.running(), ["flaky"]);
        assert!(supervisor.shutdown(Duration::from_secs(5)).await.is_empty());
        let logged = logs.text();
        assert!(
            logged.contains("flaky round 0") && logged.contains("flaky round 1"),
            "{logged}"
        );
        assert!(logged.contains("starting it again"), "{logged}");
    }

    #[tokio::test]
    async fn a_task_that_ends_by_itself_is_started_again() {
        let supervisor = quick();
        let starts = Arc::new(AtomicUsize::new(0));
        let counted = starts.clone();
        supervisor.spawn("short-lived", WhenTaskDies::Restart, move |cancel| {
            let start = counted.fetch_add(1, Ordering::SeqCst);
            async move {
                if start > 0 {
                    cancel.cancelled().await;
                }
            }
        });
        let deadline = Instant::now() + Duration::from_secs(10);
        while starts.load(Ordering::SeqCst) < 2 {
            assert!(Instant::now() < deadline, "the task was not started again");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        assert_eq!(supervisor.restarts(), 1);
        supervisor.shutdown(Duration::from_secs(5)).await;
    }

    #[tokio::test]
    async fn a_task_that_must_not_die_stops_the_node_with_its_panic() {
        let supervisor = quick();
        supervisor.spawn("audit", WhenTaskDies::StopNode, |_cancel| async {
            panic!("cannot count");
        });
        tokio::time::timeout(Duration::from_secs(10), supervisor.node_must_stop())
            .await
            .expect("the node is told to stop");
        let failure = supervisor.failure().expect("the failure");
        assert_eq!(failure.task, "audit");
        assert!(failure.what.contains("cannot count"), "{failure}");
        assert_eq!(supervisor.restarts(), 0);
        supervisor.shutdown(Duration::from_secs(5)).await;
    }

    #[tokio::test]
    async fn shutdown_waits_for_a_task_to_finish_its_last_work() {
        let supervisor = quick();
        let finished = Arc::new(AtomicUsize::new(0));
        let flag = finished.clone();
        supervisor.spawn("careful", WhenTaskDies::Restart, move |cancel| {
            let flag = flag.clone();
            async move {
                cancel.cancelled().await;
                tokio::time::sleep(Duration::from_millis(200)).await;
                flag.store(1, Ordering::SeqCst);
            }
        });
        assert!(supervisor.shutdown(Duration::from_secs(5)).await.is_empty());
        assert_eq!(
            finished.load(Ordering::SeqCst),
            1,
            "shutdown returned early"
        );
        assert!(supervisor.running().is_empty());
    }

    #[tokio::test]
    async fn a_task_that_ignores_the_stop_is_aborted_and_named_after_the_wait() {
        let logs = crate::test_logs::capture();
        let supervisor = quick();
        let dropped = Arc::new(AtomicUsize::new(0));
        let flag = dropped.clone();
        supervisor.spawn("stubborn", WhenTaskDies::Restart, move |_cancel| {
            let guard = DropFlag(flag.clone());
            async move {
                let _guard = guard;
                std::future::pending::<()>().await;
            }
        });
        supervisor.spawn("polite", WhenTaskDies::Restart, |cancel| async move {
            cancel.cancelled().await;
        });
        let started = Instant::now();
        let stuck = supervisor.shutdown(Duration::from_millis(200)).await;
        assert_eq!(stuck, ["stubborn"]);
        assert!(started.elapsed() < Duration::from_secs(5));
        assert_eq!(
            dropped.load(Ordering::SeqCst),
            1,
            "the task was not stopped"
        );
        assert!(logs.text().contains("stubborn"), "{}", logs.text());
        // Nothing is started after shutdown.
        let made = Arc::new(AtomicUsize::new(0));
        let counted = made.clone();
        supervisor.spawn("late", WhenTaskDies::Restart, move |cancel| {
            counted.fetch_add(1, Ordering::SeqCst);
            async move { cancel.cancelled().await }
        });
        assert_eq!(made.load(Ordering::SeqCst), 0);
    }

    struct DropFlag(Arc<AtomicUsize>);

    impl Drop for DropFlag {
        fn drop(&mut self) {
            self.0.store(1, Ordering::SeqCst);
        }
    }
}
