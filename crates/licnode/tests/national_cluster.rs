//! Issue 15's acceptance: the national node as three `licnode serve` processes over one
//! PostgreSQL database, with two provinces syncing to them, each listing the three URLs in
//! its own order. A national write through one process reaches a province whose long-poll
//! another process holds, within moments; one national process is killed with -9 while a
//! province writes and syncs through it, and then the process holding the once-only lock in
//! the middle of the national monthly report's scheduled run (Art. 18: the national centre's
//! roll-up), while the retention sweep runs every two seconds and a province writes and syncs.
//! The provinces fail over, nothing acknowledged is lost either way, the report is built once
//! (the next holder runs the period again and finds it made), the sweep runs on one process at
//! a time and keeps its interval across the move, and the national change log has no gap and no
//! duplicate.
//!
//! The kill lands inside the report run by construction: the national processes run with
//! `licnode-store`'s planted hold (`LICNODE_FAULT_HOLD_REPORT_RUNS`, test builds only), which
//! keeps a run that built its report from being recorded finished while a file exists.

use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use std::path::PathBuf;

use chrono::{Datelike, Timelike};
use licnode::Config;
use licnode::testing::{NATIONAL, Planned, TestNode, free_port, issue_tree, user_token};
use licnode_reports::{Period, ReportKind};
use licnode_store::Store;
use serde_json::Value;
use tokio_util::sync::CancellationToken;

const ZHEJIANG: Planned = Planned {
    dir: "zhejiang",
    code: "330000",
    level: "province",
    name: "浙江省市场监督管理局",
    parent: Some("national"),
    has_children: false,
    runs: true,
};

const JIANGSU: Planned = Planned {
    dir: "jiangsu",
    code: "320000",
    level: "province",
    name: "江苏省市场监督管理局",
    parent: Some("national"),
    has_children: false,
    runs: true,
};

/// The national node's processes.
const INSTANCES: usize = 3;
/// The retention sweep's interval at the national node.
const SWEEP_EVERY: Duration = Duration::from_secs(2);
/// The provinces' session interval: long enough that only a long-poll brings a national
/// change down quickly.
const PROVINCE_INTERVAL: Duration = Duration::from_secs(30);
/// How long anything that must happen is waited for.
const PATIENCE: Duration = Duration::from_secs(60);
/// When the national monthly report falls due, after the national configuration is written:
/// after the processes have started and before the holder is killed.
const REPORT_DUE_AFTER: Duration = Duration::from_secs(20);

struct Cluster {
    /// The national node's processes, by instance.
    nationals: Vec<TestNode>,
    /// Whether each national process still runs.
    alive: Vec<bool>,
    /// Zhejiang (URLs in the order 0, 1, 2) and Jiangsu (1, 2, 0).
    provinces: Vec<TestNode>,
    database_url: String,
    /// While this file exists, a national report run is held before it finishes.
    hold: PathBuf,
    /// The month the national monthly report's scheduled run builds.
    report_period: Period,
    _database: licnode_testkit::TestDatabase,
}

/// A monthly cron expression whose next firing is `after` from now (China time, the
/// scheduler's), and the period that firing builds.
fn monthly_report_firing(after: Duration) -> (cron::Schedule, Period) {
    let china = chrono::FixedOffset::east_opt(8 * 3600).expect("offset");
    let at = chrono::Utc::now().with_timezone(&china)
        + chrono::Duration::from_std(after).expect("duration");
    let expression = format!(
        "{} {} {} {} * *",
        at.second(),
        at.minute(),
        at.hour(),
        at.day()
    );
    let schedule = expression.parse().expect("cron");
    (
        schedule,
        Period::due_on(ReportKind::Monthly, at.date_naive()),
    )
}

fn write_config(path: &Path, config: &Config) {
    std::fs::write(path, toml::to_string_pretty(config).expect("toml")).expect("write config");
}

impl Cluster {
    async fn start() -> Cluster {
        let dir = Arc::new(licnode_testkit::temp_dir().expect("dir"));
        let root = dir.path().to_path_buf();
        tokio::task::spawn_blocking(move || issue_tree(&root, &[NATIONAL, ZHEJIANG, JIANGSU]))
            .await
            .expect("tree");
        let national_dir = dir.path().join("national");
        let (database_url, database) =
            licnode_testkit::database_url(licnode_testkit::Backend::Postgres, &national_dir)
                .await
                .expect("database");
        let mut base = Config::load(&national_dir.join("licnode.toml")).expect("config");
        base.storage.database_url = Some(database_url.clone());
        base.retention.sweep_every = SWEEP_EVERY;
        let (firing, report_period) = monthly_report_firing(REPORT_DUE_AFTER);
        base.schedule.monthly = Some(firing);
        base.schedule.check_every = Duration::from_secs(1);
        // The three months before it count as reported, so that the schedule has begun and
        // nothing earlier is due (a firing day past the 28th fired last in an earlier month).
        let store = Store::open(&database_url).await.expect("open");
        let mut earlier = report_period;
        for _ in 0..3 {
            earlier = Period::due_on(ReportKind::Monthly, earlier.first_day());
            let run = store
                .start_report_run(ReportKind::Monthly, &earlier, "schedule", 0)
                .await
                .expect("run");
            store
                .finish_report_run(run, 0, "skipped", None, Some("before the test"))
                .await
                .expect("finish");
        }
        store.close().await;
        let hold = dir.path().join("hold-report-runs");
        std::fs::write(&hold, b"").expect("hold file");
        let environment = vec![(
            licnode_store::fault_injection::HOLD_REPORT_RUNS.to_string(),
            hold.display().to_string(),
        )];
        let mut instance_files = Vec::new();
        let mut peer_urls = Vec::new();
        for instance in 0..INSTANCES {
            let mut config = base.clone();
            config.http.listen = ([127, 0, 0, 1], free_port()).into();
            let peer = config.peer.as_mut().expect("national listens for peers");
            peer.listen = ([127, 0, 0, 1], free_port()).into();
            peer_urls.push(format!("https://{}", peer.listen));
            let file = national_dir.join(format!("instance-{instance}.toml"));
            write_config(&file, &config);
            instance_files.push(file);
        }
        let first = instance_files[0].display().to_string();
        let token = tokio::task::spawn_blocking(move || user_token(&first, "e2e", "administrator"))
            .await
            .expect("token");
        let mut nationals = Vec::new();
        for file in &instance_files {
            nationals.push(
                TestNode::spawn_process_with_token(
                    file,
                    dir.clone(),
                    None,
                    &token,
                    environment.clone(),
                )
                .await
                .expect("national process"),
            );
        }
        let mut provinces = Vec::new();
        for (planned, order) in [(ZHEJIANG, [0, 1, 2]), (JIANGSU, [1, 2, 0])] {
            let file = dir.path().join(planned.dir).join("licnode.toml");
            let mut config = Config::load(&file).expect("config");
            config.node.parent_url = None;
            config.node.parent_urls = order.iter().map(|&i| peer_urls[i].clone()).collect();
            config.http.listen = ([127, 0, 0, 1], free_port()).into();
            config.sync.interval = PROVINCE_INTERVAL;
            config.sync.debounce = Duration::from_millis(200);
            config.sync.max_backoff = Duration::from_secs(1);
            config.schedule.monthly = None;
            config.schedule.yearly = None;
            write_config(&file, &config);
            provinces.push(
                TestNode::spawn_process_in_tree(&file, dir.clone(), None, Vec::new())
                    .await
                    .expect("province"),
            );
        }
        Cluster {
            nationals,
            alive: vec![true; INSTANCES],
            provinces,
            database_url,
            hold,
            report_period,
            _database: database.expect("postgres"),
        }
    }

    fn alive(&self) -> impl Iterator<Item = usize> + '_ {
        (0..INSTANCES).filter(|&instance| self.alive[instance])
    }

    fn kill(&mut self, instance: usize) {
        self.nationals[instance].kill_9().expect("kill -9");
        self.alive[instance] = false;
    }

    /// The instance holding the once-only lock, once every living process agrees on it and
    /// exactly one says it is the holder.
    async fn single_holder(&self) -> usize {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let mut holders = Vec::new();
            let mut names = HashSet::new();
            for instance in self.alive() {
                if let Ok((200, status)) = self.nationals[instance].get("/api/v1/sync/status").await
                {
                    names.insert(status["once_only"]["holder"].to_string());
                    if status["once_only"]["this_process"] == true {
                        holders.push(instance);
                    }
                }
            }
            if holders.len() == 1 && names.len() == 1 {
                return holders[0];
            }
            assert!(
                Instant::now() < deadline,
                "no single holder: {holders:?} {names:?}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

/// Creates a record of `collection` in `jurisdiction` at `node`; its id once acknowledged.
async fn write(node: &TestNode, collection: &str, jurisdiction: &str, seed: u64) -> Option<String> {
    let model = licnode_model::collection(collection).expect("collection");
    let input = Value::Object(licnode_gen::Generator::new(seed).record(model, jurisdiction));
    match node
        .post(&format!("/api/v1/{collection}/records"), &input)
        .await
    {
        Ok((201, created)) => created["id"].as_str().map(str::to_string),
        _ => None,
    }
}

/// Keeps writing licences at a province until `stop`; returns the ids it acknowledged.
fn keep_writing(
    province: &TestNode,
    jurisdiction: &'static str,
    first_seed: u64,
    stop: CancellationToken,
) -> tokio::task::JoinHandle<Vec<String>> {
    let base_url = province.base_url.clone();
    let client = province.client.clone();
    tokio::spawn(async move {
        let model = licnode_model::collection("licences").expect("licences");
        let mut acknowledged = Vec::new();
        let mut seed = first_seed;
        while !stop.is_cancelled() {
            let input =
                Value::Object(licnode_gen::Generator::new(seed).record(model, jurisdiction));
            seed += 1;
            let sent = client
                .post(format!("{base_url}/api/v1/licences/records"))
                .json(&input)
                .send()
                .await;
            if let Ok(response) = sent
                && response.status().as_u16() == 201
                && let Ok(created) = response.json::<Value>().await
                && let Some(id) = created["id"].as_str()
            {
                acknowledged.push(id.to_string());
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        acknowledged
    })
}

/// Waits until `node` holds every record of `ids`.
async fn wait_until_held(node: &TestNode, ids: &[String], what: &str) {
    let deadline = Instant::now() + PATIENCE;
    for id in ids {
        loop {
            if let Ok((200, _)) = node.get(&format!("/api/v1/records/{id}")).await {
                break;
            }
            assert!(Instant::now() < deadline, "{what}: {id} never arrived");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// Waits until every province has finished a session with the national node.
async fn wait_until_linked(provinces: &[TestNode]) {
    let deadline = Instant::now() + PATIENCE;
    for province in provinces {
        loop {
            let (_, status) = province.get("/api/v1/sync/status").await.expect("status");
            if status["parent"]["status"]["last_success_ms"].is_number() {
                break;
            }
            assert!(Instant::now() < deadline, "no session: {status}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// How long a province writes before the kill, and again after it: longer with
/// `LICNODE_SLOW_TESTS`.
fn writing_half() -> Duration {
    if std::env::var_os("LICNODE_SLOW_TESTS").is_some() {
        Duration::from_secs(15)
    } else {
        Duration::from_millis(1500)
    }
}

/// A province writes and syncs for a while; `instance` is killed with -9 in the middle.
async fn kill_while_a_province_syncs(
    cluster: &mut Cluster,
    province: usize,
    instance: usize,
    seed: u64,
) -> Vec<String> {
    let jurisdiction = if province == 0 { "330000" } else { "320000" };
    let stop = CancellationToken::new();
    let writer = keep_writing(
        &cluster.provinces[province],
        jurisdiction,
        seed,
        stop.clone(),
    );
    let half = writing_half();
    tokio::time::sleep(half).await;
    cluster.kill(instance);
    tokio::time::sleep(half).await;
    stop.cancel();
    writer.await.expect("writer")
}

#[tokio::test]
async fn three_national_processes_over_one_database_lose_nothing_when_two_are_killed() {
    let mut cluster = Cluster::start().await;
    wait_until_linked(&cluster.provinces).await;
    cluster.single_holder().await;

    // Item 1: a write through process 2 wakes the long-polls held by processes 0 and 1.
    let written_at = Instant::now();
    let publication = write(&cluster.nationals[2], "publications", "100000", 1)
        .await
        .expect("a national publication");
    for province in &cluster.provinces {
        wait_until_held(province, std::slice::from_ref(&publication), "long-poll").await;
    }
    let reached = written_at.elapsed();
    assert!(
        reached < Duration::from_secs(5),
        "a national write took {reached:?} to reach the provinces through other processes' \
         long-polls (their interval is {PROVINCE_INTERVAL:?})"
    );
    eprintln!("a national write reached both provinces through other processes in {reached:?}");

    // National writes through every process, acknowledged before anything is killed.
    let mut national_ids = vec![publication];
    for instance in 0..INSTANCES {
        national_ids.extend(
            write(
                &cluster.nationals[instance],
                "publications",
                "100000",
                10 + instance as u64,
            )
            .await,
        );
    }

    // Zhejiang's preferred process dies while it writes and syncs through it.
    let mut province_ids = kill_while_a_province_syncs(&mut cluster, 0, 0, 1_000).await;
    // Then the process holding the once-only lock (the sweep runs every two seconds), in the
    // middle of the national monthly report's scheduled run, while Jiangsu writes and syncs.
    let period = cluster.report_period;
    let held = wait_for_held_runs(&cluster.database_url, &period, 0).await;
    let holder = cluster.single_holder().await;
    province_ids.extend(kill_while_a_province_syncs(&mut cluster, 1, holder, 2_000).await);
    let last_holder = cluster.single_holder().await;
    assert_ne!(last_holder, holder);
    // The new holder runs the period again (the killed run never finished); let it finish.
    wait_for_held_runs(&cluster.database_url, &period, held).await;
    std::fs::remove_file(&cluster.hold).expect("release the hold");
    tokio::time::sleep(SWEEP_EVERY * 2).await;

    // Writes after the failover, at the survivor and at both provinces.
    let survivor = cluster.alive().next().expect("a survivor");
    national_ids.extend(write(&cluster.nationals[survivor], "publications", "100000", 20).await);
    province_ids.extend(write(&cluster.provinces[0], "licences", "330000", 3_000).await);
    province_ids.extend(write(&cluster.provinces[1], "licences", "320000", 3_001).await);

    assert!(
        province_ids.len() > 20,
        "the provinces wrote too little: {}",
        province_ids.len()
    );
    wait_until_held(
        &cluster.nationals[survivor],
        &province_ids,
        "province write at national",
    )
    .await;
    for province in &cluster.provinces {
        wait_until_held(province, &national_ids, "national write at a province").await;
    }
    check_change_log(&cluster.database_url).await;
    check_sweeps(&cluster.database_url).await;
    check_report_built_once(&cluster.database_url, &period).await;
}

/// The scheduled runs of `period` started and not finished.
async fn held_runs(store: &Store, period: &Period) -> usize {
    store
        .report_runs(Some(ReportKind::Monthly), 100)
        .await
        .expect("runs")
        .iter()
        .filter(|run| run.period == period.to_string() && run.outcome == "running")
        .count()
}

/// Waits until more than `than` runs of `period` are held (started and not finished) and the
/// report record exists; returns how many are.
async fn wait_for_held_runs(database_url: &str, period: &Period, than: usize) -> usize {
    let store = Store::open(database_url).await.expect("open");
    let report = licnode_app::report_id("100000", ReportKind::Monthly, period, 1);
    let deadline = Instant::now() + PATIENCE + REPORT_DUE_AFTER;
    let held = loop {
        let held = held_runs(&store, period).await;
        if held > than && store.get(&report).await.expect("get").is_some() {
            break held;
        }
        assert!(
            Instant::now() < deadline,
            "no report run of {period} held beyond {than}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    store.close().await;
    held
}

/// The national report of `period` was built once: one revision, written once to the change
/// log, and exactly one run of it finished (the killed ones stay `running`).
async fn check_report_built_once(database_url: &str, period: &Period) {
    let store = Store::open(database_url).await.expect("open");
    let deadline = Instant::now() + PATIENCE;
    let finished = loop {
        let finished: Vec<_> = store
            .report_runs(Some(ReportKind::Monthly), 100)
            .await
            .expect("runs")
            .into_iter()
            .filter(|run| run.period == period.to_string() && run.outcome != "running")
            .collect();
        if !finished.is_empty() {
            break finished;
        }
        assert!(Instant::now() < deadline, "the report run never finished");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(finished.len(), 1, "{finished:?}");
    assert_eq!(
        finished[0].outcome, "unchanged",
        "the run after the kill found the report made: {finished:?}"
    );
    let first = licnode_app::report_id("100000", ReportKind::Monthly, period, 1);
    let second = licnode_app::report_id("100000", ReportKind::Monthly, period, 2);
    assert!(store.get(&first).await.expect("get").is_some());
    assert!(store.get(&second).await.expect("get").is_none());
    let last = store.last_seq().await.expect("end");
    let written = store
        .changes_after(0, None, last + 10)
        .await
        .expect("log")
        .iter()
        .filter(|row| row.record_id == first)
        .count();
    assert_eq!(written, 1, "the report was written {written} times");
    eprintln!(
        "the national report of {period} was built once, by the run after {} killed one(s)",
        held_runs(&store, period).await
    );
    store.close().await;
}

/// The national log: 1..=N, each change once.
async fn check_change_log(database_url: &str) {
    let store = Store::open(database_url).await.expect("open");
    let last = store.last_seq().await.expect("end");
    let rows = store
        .changes_after(0, None, last * 2 + 10)
        .await
        .expect("log");
    let numbers: Vec<i64> = rows.iter().map(|row| row.seq).collect();
    assert_eq!(numbers, (1..=last).collect::<Vec<_>>(), "gap or duplicate");
    let hashes: HashSet<&str> = rows.iter().map(|row| row.hash.as_str()).collect();
    assert_eq!(hashes.len(), rows.len(), "a change is logged twice");
    store.close().await;
}

/// The sweep ran on one process at a time, at most once every [`SWEEP_EVERY`], and on more
/// than one process (its holder was killed).
async fn check_sweeps(database_url: &str) {
    let store = Store::open(database_url).await.expect("open");
    let mut runs = store
        .once_only_runs(licnode::retention_cli::SWEEP_TASK, 1_000)
        .await
        .expect("runs");
    runs.reverse();
    assert!(runs.len() >= 4, "too few sweeps: {runs:?}");
    for pair in runs.windows(2) {
        let (earlier, later) = (&pair[0], &pair[1]);
        if let Some(finished) = earlier.finished_at_ms {
            assert!(
                later.started_at_ms >= finished,
                "sweeps overlapped: {pair:?}"
            );
        }
        let apart = later.started_at_ms - earlier.started_at_ms;
        assert!(
            apart >= SWEEP_EVERY.as_millis() as i64 - 50,
            "two sweeps within one interval: {pair:?}"
        );
    }
    let holders: HashSet<&str> = runs.iter().map(|run| run.holder.as_str()).collect();
    assert!(holders.len() >= 2, "the sweep never moved: {holders:?}");
    store.close().await;
}
