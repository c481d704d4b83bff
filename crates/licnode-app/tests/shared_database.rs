//! A node served by several processes over one PostgreSQL database (issue 15 item 3): writers
//! in every process take change-log numbers at once, and a child pulling meanwhile never skips
//! a change that commits late. The log's numbering lives in the database alone — the
//! `node_counters` row, locked by each writer's `UPDATE … RETURNING` until it commits — and
//! each [`Store`] has its own connections and its own group-commit queue, exactly as a process
//! has; so several stores in one test exercise what several processes would. SQLite nodes are
//! one process (they hold the data directory's lock): this is PostgreSQL's case alone.

use std::collections::BTreeSet;
use std::time::Duration;

use licnode_app::replication::parent;
use licnode_app::{Archive, Author};
use licnode_model::Level;
use licnode_store::Store;
use licnode_sync::NodeRef;
use licnode_sync::protocol::PullRequest;
use licnode_testkit::Backend;

/// Processes of the province node, writers in each, records each writer creates.
const PROCESSES: usize = 3;
const WRITERS_PER_PROCESS: usize = 4;
const RECORDS_PER_WRITER: usize = 15;

async fn create_notice(archive: &Archive, seed: u64) -> String {
    let model = licnode_model::collection("notices").expect("collection");
    let fields = licnode_gen::Generator::new(seed).record(model, "330106");
    archive
        .create("notices", Some("330106"), &fields, &Author::clerk("clerk"))
        .await
        .expect("create")
        .record
        .id
}

/// Pulls as the county 西湖区 does, in small batches, until told to stop and caught up with
/// the log's end; returns every sequence number received, in order of arrival.
async fn pull_everything(
    archive: Archive,
    writers_done: tokio::sync::watch::Receiver<bool>,
) -> Vec<i64> {
    let county = NodeRef::new("330106", Level::County);
    let mut request = PullRequest {
        after: 0,
        after_hash: None,
        limit: Some(5),
        wait_ms: None,
    };
    let mut received = Vec::new();
    loop {
        let done = *writers_done.borrow();
        let answer = parent::pull(&archive, &county, request.clone())
            .await
            .expect("pull");
        received.extend(answer.changes.iter().map(|change| change.seq));
        request.after = answer.next;
        request.after_hash = answer.next_hash.clone();
        let end = archive.last_seq().await.expect("end");
        if done && answer.caught_up && request.after >= end {
            return received;
        }
        if answer.caught_up {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }
}

// Issue 15 item 3: sequence numbers are 1..=N with no gap and no duplicate, and a child that
// pulled while every process wrote has every one of them, once.
#[tokio::test]
async fn writers_in_several_processes_leave_a_gap_free_log_and_a_concurrent_pull_skips_nothing() {
    let dir = licnode_testkit::temp_dir().expect("dir");
    let (url, _database) = licnode_testkit::database_url(Backend::Postgres, dir.path())
        .await
        .expect("database");
    let mut processes = Vec::new();
    for _ in 0..PROCESSES {
        let store = Store::open(&url).await.expect("open");
        processes.push(Archive::with_level(store, "330000", Level::Province));
    }
    let (done_sender, done) = tokio::sync::watch::channel(false);
    let puller = tokio::spawn(pull_everything(processes[0].clone(), done));
    let mut writers = tokio::task::JoinSet::new();
    for (process, archive) in processes.iter().enumerate() {
        for writer in 0..WRITERS_PER_PROCESS {
            let archive = archive.clone();
            writers.spawn(async move {
                for record in 0..RECORDS_PER_WRITER {
                    let seed = (process * 10_000 + writer * 100 + record) as u64;
                    let id = create_notice(&archive, seed).await;
                    // An edit now and then: a second change of the same record.
                    if record % 5 == 0 {
                        let mut patch = serde_json::Map::new();
                        patch.insert(
                            "issuing_unit".into(),
                            serde_json::json!(format!("改 {seed}")),
                        );
                        archive
                            .update(&id, &patch, &Author::clerk("clerk"))
                            .await
                            .expect("update");
                    }
                }
            });
        }
    }
    while let Some(finished) = writers.join_next().await {
        finished.expect("writer");
    }
    done_sender.send_replace(true);
    let received = tokio::time::timeout(Duration::from_secs(60), puller)
        .await
        .expect("the pull catches up")
        .expect("puller");

    let writes = PROCESSES * WRITERS_PER_PROCESS * RECORDS_PER_WRITER;
    let expected = (writes + writes / 5) as i64;
    let last = processes[1].last_seq().await.expect("end");
    assert_eq!(last, expected, "one number per change, no more");
    let logged: Vec<i64> = processes[2]
        .changes_after(0, None, expected * 2)
        .await
        .expect("log")
        .iter()
        .map(|row| row.seq)
        .collect();
    assert_eq!(
        logged,
        (1..=expected).collect::<Vec<_>>(),
        "the log has a gap or a duplicate"
    );
    let distinct: BTreeSet<i64> = received.iter().copied().collect();
    assert_eq!(distinct.len(), received.len(), "a change was pulled twice");
    assert_eq!(
        distinct.into_iter().collect::<Vec<_>>(),
        logged,
        "the concurrent pull skipped a change that committed late"
    );
    assert!(
        received.windows(2).all(|pair| pair[0] < pair[1]),
        "changes arrived out of order"
    );
}
