//! A fault campaign: clients write to every node while faults of every kind hit the tree —
//! kill -9 inside a session (on a byte count through a proxy) and at any moment, SIGSTOP and
//! SIGCONT, partitions both ways and one way, delay, throttling, resets mid-stream and
//! half-open connections — until a budget of kills is spent; then the network heals and the
//! checker judges the tree.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use licnode_testkit::faults::signals::{self, Signal};
use licnode_testkit::faults::{Direction, FaultProxy, TriggerAction};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tokio_util::sync::CancellationToken;

use super::checker::{Verdict, WriteLog, converge_and_check, spawn_writers};
use super::tree::FaultTree;

/// Every kind of fault a campaign applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FaultKind {
    /// kill -9 of a child or its parent when N bytes of a session have crossed their link.
    KillMidSession,
    /// kill -9 of any node at a random moment, restarted after a random pause.
    KillAnyTime,
    /// SIGSTOP of any node, SIGCONT after up to 1.5 s.
    Pause,
    /// A link blocked both ways for up to 2 s.
    Partition,
    /// A link blocked one way for up to 2 s.
    PartitionOneWay,
    /// Every chunk on a link held up to 300 ms, for up to 2 s.
    Delay,
    /// A link throttled to 2–20 KB/s one way, for up to 2 s.
    Throttle,
    /// A link's connections reset (RST) when N bytes of a session have crossed it.
    ResetMidStream,
    /// A link's open connections frozen without closing, reset after up to 2 s.
    HalfOpen,
}

impl FaultKind {
    /// Every kind, in the order a campaign first applies each once.
    pub const ALL: [FaultKind; 9] = [
        FaultKind::KillMidSession,
        FaultKind::KillAnyTime,
        FaultKind::Pause,
        FaultKind::Partition,
        FaultKind::PartitionOneWay,
        FaultKind::Delay,
        FaultKind::Throttle,
        FaultKind::ResetMidStream,
        FaultKind::HalfOpen,
    ];

    pub fn name(self) -> &'static str {
        match self {
            FaultKind::KillMidSession => "kill -9 mid-session",
            FaultKind::KillAnyTime => "kill -9 any time",
            FaultKind::Pause => "SIGSTOP/SIGCONT",
            FaultKind::Partition => "partition both ways",
            FaultKind::PartitionOneWay => "partition one way",
            FaultKind::Delay => "delay",
            FaultKind::Throttle => "throttle",
            FaultKind::ResetMidStream => "reset mid-stream",
            FaultKind::HalfOpen => "half-open",
        }
    }

    fn is_kill(self) -> bool {
        matches!(self, FaultKind::KillMidSession | FaultKind::KillAnyTime)
    }
}

/// How much a campaign does.
#[derive(Clone, Debug)]
pub struct Budget {
    /// Kills to land (mid-session and any time together); the campaign stops when they have,
    /// unless `min_duration` has not passed yet.
    pub kills: u32,
    /// The campaign goes on at least this long, however soon its kills land (a soak of hours:
    /// the kills are then a minimum). Zero for a campaign that stops at its kills.
    pub min_duration: Duration,
    /// The campaign stops after this long, kills spent or not.
    pub max_duration: Duration,
    /// Of the faults after the first of each kind, the share that are kills.
    pub kill_share: f64,
    /// Sync intervals the tree has to converge once the faults stop.
    pub convergence_intervals: u32,
    /// Seeds the faults' choices and the clients' records.
    pub seed: u64,
}

/// What a campaign did and what the checker found.
#[derive(Clone, Debug)]
pub struct CampaignReport {
    pub faults: Vec<(FaultKind, u32)>,
    pub kills: u32,
    /// Kills meant to land mid-session whose trigger never fired (landed any time instead).
    pub kills_without_traffic: u32,
    pub attempts: u64,
    pub acknowledged: usize,
    pub unanswered: u64,
    pub verdict: Verdict,
    pub faults_took: Duration,
    pub time_to_converge: Duration,
    pub sync_interval: Duration,
}

impl fmt::Display for CampaignReport {
    fn fmt(&self, out: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(out, "| fault | count |")?;
        writeln!(out, "|---|---:|")?;
        for (kind, count) in &self.faults {
            writeln!(out, "| {} | {count} |", kind.name())?;
        }
        let verdict = &self.verdict;
        let rows: [(&str, String); 12] = [
            ("kills", self.kills.to_string()),
            (
                "of which meant mid-session but without traffic",
                self.kills_without_traffic.to_string(),
            ),
            ("writes sent", self.attempts.to_string()),
            ("acknowledged writes", self.acknowledged.to_string()),
            ("unanswered writes", self.unanswered.to_string()),
            ("lost (must be 0)", verdict.lost.len().to_string()),
            ("misplaced", verdict.misplaced.len().to_string()),
            ("stored twice", verdict.duplicated.len().to_string()),
            ("altered", verdict.altered.len().to_string()),
            (
                "quarantined / audit failures",
                format!("{} / {}", verdict.quarantined.len(), verdict.audit.len()),
            ),
            (
                "faults took",
                format!("{:.1} s", self.faults_took.as_secs_f64()),
            ),
            (
                "time to converge",
                format!(
                    "{:.1} s ({:.1} sync intervals)",
                    self.time_to_converge.as_secs_f64(),
                    self.time_to_converge.as_secs_f64() / self.sync_interval.as_secs_f64()
                ),
            ),
        ];
        for (name, value) in rows {
            writeln!(out, "| {name} | {value} |")?;
        }
        Ok(())
    }
}

/// Runs a campaign on `tree` within `budget` and checks the tree afterwards.
pub async fn run_campaign(tree: &mut FaultTree, budget: &Budget) -> anyhow::Result<CampaignReport> {
    let log = Arc::new(WriteLog::default());
    let stop = CancellationToken::new();
    let writers = spawn_writers(tree, log.clone(), stop.clone(), budget.seed);
    let mut random = StdRng::seed_from_u64(budget.seed);
    let mut counts: Vec<(FaultKind, u32)> = FaultKind::ALL.iter().map(|kind| (*kind, 0)).collect();
    let (mut kills, mut kills_without_traffic) = (0_u32, 0_u32);
    let started = Instant::now();
    let mut step = 0_usize;
    let mut said_at = Instant::now();
    while (kills < budget.kills || started.elapsed() < budget.min_duration)
        && started.elapsed() < budget.max_duration
    {
        let kind = match FaultKind::ALL.get(step) {
            Some(first_of_its_kind) => *first_of_its_kind,
            None if random.random_bool(budget.kill_share) => {
                if random.random_bool(0.7) {
                    FaultKind::KillMidSession
                } else {
                    FaultKind::KillAnyTime
                }
            }
            None => FaultKind::ALL[random.random_range(2..FaultKind::ALL.len())],
        };
        let landed_with_traffic = apply(tree, kind, &mut random).await?;
        if !landed_with_traffic {
            kills_without_traffic += 1;
        }
        if let Some((_, count)) = counts.iter_mut().find(|(counted, _)| *counted == kind) {
            *count += 1;
        }
        if kind.is_kill() {
            kills += 1;
        }
        step += 1;
        // A long soak says how far it got as it goes: a run cut short still reports.
        if said_at.elapsed() >= PROGRESS_EVERY {
            said_at = Instant::now();
            eprintln!(
                "fault campaign: {:.0} min, {step} faults, {kills} kills, {} writes acknowledged",
                started.elapsed().as_secs_f64() / 60.0,
                log.acknowledged_count()
            );
        }
    }
    let faults_took = started.elapsed();
    stop.cancel();
    for writer in writers {
        writer.await?;
    }
    tree.heal_network();
    let (verdict, time_to_converge) =
        converge_and_check(tree, &log, budget.convergence_intervals).await?;
    Ok(CampaignReport {
        faults: counts,
        kills,
        kills_without_traffic,
        attempts: log.attempts.load(Ordering::SeqCst),
        acknowledged: log.acknowledged_count(),
        unanswered: log.unanswered.load(Ordering::SeqCst),
        verdict,
        faults_took,
        time_to_converge,
        sync_interval: tree.options.sync_interval,
    })
}

/// How often a campaign prints how far it got.
const PROGRESS_EVERY: Duration = Duration::from_secs(300);

/// How long a byte trigger may wait for a session to carry its bytes.
const TRIGGER_PATIENCE: Duration = Duration::from_secs(10);

/// Applies one fault and undoes it (a killed node is restarted, a paused one continued, a
/// partition healed). Returns `false` for a mid-session fault whose bytes never came (it was
/// applied at once instead).
async fn apply(tree: &mut FaultTree, kind: FaultKind, random: &mut StdRng) -> anyhow::Result<bool> {
    let any_node = random.random_range(0..tree.nodes.len());
    // A child, whose proxy is the link the fault hits.
    let child = random.random_range(1..tree.nodes.len());
    let direction = if random.random_bool(0.5) {
        Direction::ChildToParent
    } else {
        Direction::ParentToChild
    };
    let hold = Duration::from_millis(random.random_range(300..2_000));
    let bytes = random.random_range(1..8_000);
    match kind {
        FaultKind::KillMidSession => {
            let victim = match (random.random_bool(0.5), tree.nodes[child].parent) {
                (true, Some(parent)) => parent,
                _ => child,
            };
            let Some(pid) = tree.nodes[victim].node.process_id() else {
                anyhow::bail!("{} is not running", tree.nodes[victim].code);
            };
            let proxy = link(tree, child)?;
            let fired_before = proxy.statistics().triggers_fired;
            proxy.after_bytes(
                direction,
                bytes,
                TriggerAction::Hook(Box::new(move || {
                    let _ = signals::send(pid, Signal::Kill);
                })),
            );
            let fired = wait_for_trigger(proxy, fired_before).await;
            if !fired {
                proxy.disarm_triggers();
            }
            restart_killed(tree, victim, Duration::ZERO).await?;
            return Ok(fired);
        }
        FaultKind::KillAnyTime => {
            let pause = Duration::from_millis(random.random_range(0..500));
            restart_killed(tree, any_node, pause).await?;
        }
        FaultKind::Pause => {
            let node = &tree.nodes[any_node].node;
            node.signal(Signal::Stop)?;
            tokio::time::sleep(hold.min(Duration::from_millis(1_500))).await;
            node.signal(Signal::Continue)?;
        }
        FaultKind::Partition => {
            hold_then_heal(link(tree, child)?, hold, FaultProxy::partition).await
        }
        FaultKind::PartitionOneWay => {
            let proxy = link(tree, child)?;
            hold_then_heal(proxy, hold, |proxy| proxy.partition_one_way(direction)).await;
        }
        FaultKind::Delay => {
            let delay = Duration::from_millis(random.random_range(50..300));
            hold_then_heal(link(tree, child)?, hold, |proxy| proxy.delay(delay)).await;
        }
        FaultKind::Throttle => {
            let rate = random.random_range(2_000..20_000);
            hold_then_heal(link(tree, child)?, hold, |proxy| {
                proxy.throttle(direction, rate)
            })
            .await;
        }
        FaultKind::ResetMidStream => {
            let proxy = link(tree, child)?;
            let fired_before = proxy.statistics().triggers_fired;
            proxy.after_bytes(direction, bytes, TriggerAction::Reset);
            if !wait_for_trigger(proxy, fired_before).await {
                proxy.disarm_triggers();
                proxy.reset_connections();
                return Ok(false);
            }
        }
        FaultKind::HalfOpen => {
            let proxy = link(tree, child)?;
            proxy.leave_half_open();
            tokio::time::sleep(hold).await;
            proxy.reset_connections();
        }
    }
    Ok(true)
}

/// The proxy between `child` and its parent.
fn link(tree: &FaultTree, child: usize) -> anyhow::Result<&FaultProxy> {
    tree.nodes[child]
        .proxy_to_parent
        .as_ref()
        .ok_or_else(|| anyhow::anyhow!("{} has no parent link", tree.nodes[child].code))
}

async fn hold_then_heal(proxy: &FaultProxy, hold: Duration, fault: impl FnOnce(&FaultProxy)) {
    fault(proxy);
    tokio::time::sleep(hold).await;
    proxy.heal();
}

/// Waits until the proxy has fired a trigger more than `fired_before`; `false` after
/// [`TRIGGER_PATIENCE`].
async fn wait_for_trigger(proxy: &FaultProxy, fired_before: u64) -> bool {
    let deadline = Instant::now() + TRIGGER_PATIENCE;
    while Instant::now() < deadline {
        if proxy.statistics().triggers_fired > fired_before {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    false
}

/// kill -9 of node `index` (if a hook has not killed it already), reaped, restarted after
/// `pause`.
async fn restart_killed(tree: &mut FaultTree, index: usize, pause: Duration) -> anyhow::Result<()> {
    let node = &mut tree.nodes[index].node;
    node.kill_9()?;
    tokio::time::sleep(pause).await;
    node.start_again().await
}
