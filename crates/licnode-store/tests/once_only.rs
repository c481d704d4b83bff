//! The once-only lock (issue 15 item 2): over one PostgreSQL database, one store at a time
//! holds it, the others are told who does, and it moves the moment its holder's session ends
//! (as when its process is killed with -9); a SQLite node's one process always holds it. Runs
//! of once-only work are recorded with their holder.

use std::time::{Duration, Instant};

use licnode_store::{OnceOnlyHolder, Store};
use licnode_testkit::{BACKENDS, Backend};

/// Two stores over the same database, as two processes of one node open it.
async fn two_stores(
    backend: Backend,
    dir: &std::path::Path,
) -> (Store, Store, Option<licnode_testkit::TestDatabase>) {
    let (url, database) = licnode_testkit::database_url(backend, dir)
        .await
        .expect("database");
    let first = Store::open(&url).await.expect("open");
    let second = Store::open(&url).await.expect("open again");
    (first, second, database)
}

#[tokio::test]
async fn one_process_at_a_time_holds_the_once_only_lock_and_the_others_see_which() {
    let dir = licnode_testkit::temp_dir().expect("dir");
    let (first, second, _database) = two_stores(Backend::Postgres, dir.path()).await;
    let mut held = first
        .claim_once_only("process one")
        .await
        .expect("claim")
        .expect("the first claim takes the lock");
    assert!(
        second
            .claim_once_only("process two")
            .await
            .expect("claim")
            .is_none(),
        "a second process must not take a held lock"
    );
    for store in [&first, &second] {
        assert_eq!(
            store.once_only_holder().await.expect("holder"),
            OnceOnlyHolder::Process("process one".into())
        );
    }
    assert!(held.still_held(Duration::from_secs(3)).await);
    held.release().await;
    let taken = second
        .claim_once_only("process two")
        .await
        .expect("claim")
        .expect("a released lock is free at once");
    assert_eq!(
        first.once_only_holder().await.expect("holder"),
        OnceOnlyHolder::Process("process two".into())
    );
    drop(taken);
}

// The holder's process dies: PostgreSQL ends its session, which frees the lock, and the old
// claim knows it lost it.
#[tokio::test]
async fn the_once_only_lock_moves_when_its_holders_session_ends() {
    let dir = licnode_testkit::temp_dir().expect("dir");
    let (first, second, database) = two_stores(Backend::Postgres, dir.path()).await;
    let mut held = first
        .claim_once_only("doomed process")
        .await
        .expect("claim")
        .expect("taken");
    // What the death of the holder's process does to its session, done from outside.
    let url = database.as_ref().expect("postgres").url.clone();
    let admin = sqlx::PgPool::connect(&url).await.expect("connect");
    let ended: Vec<bool> = sqlx::query_scalar(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = current_database() AND application_name LIKE 'licnode once-only: %'",
    )
    .fetch_all(&admin)
    .await
    .expect("terminate");
    assert_eq!(ended, [true], "the holder's session is ended");
    let deadline = Instant::now() + Duration::from_secs(5);
    let taken = loop {
        if let Some(claim) = second.claim_once_only("survivor").await.expect("claim") {
            break claim;
        }
        assert!(Instant::now() < deadline, "the lock was not freed");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(!held.still_held(Duration::from_secs(3)).await);
    assert_eq!(
        first.once_only_holder().await.expect("holder"),
        OnceOnlyHolder::Process("survivor".into())
    );
    drop(taken);
}

#[tokio::test]
async fn a_sqlite_node_is_one_process_and_always_holds_the_once_only_lock() {
    let dir = licnode_testkit::temp_dir().expect("dir");
    let (store, _, _) = two_stores(Backend::Sqlite, dir.path()).await;
    let mut claim = store
        .claim_once_only("the node")
        .await
        .expect("claim")
        .expect("always");
    assert!(claim.still_held(Duration::from_secs(1)).await);
    assert_eq!(
        store.once_only_holder().await.expect("holder"),
        OnceOnlyHolder::OnlyProcess
    );
}

#[tokio::test]
async fn once_only_runs_are_recorded_with_their_holder_newest_first() {
    for backend in BACKENDS {
        let dir = licnode_testkit::temp_dir().expect("dir");
        let (store, other, _database) = two_stores(backend, dir.path()).await;
        let first = store
            .start_once_only_run("retention sweep", "process one", 1_000)
            .await
            .expect("start");
        store
            .finish_once_only_run(first, 1_500)
            .await
            .expect("finish");
        // A run whose process died stays unfinished.
        let second = other
            .start_once_only_run("retention sweep", "process two", 2_000)
            .await
            .expect("start");
        other
            .start_once_only_run("another task", "process two", 2_100)
            .await
            .expect("start");
        let runs = store
            .once_only_runs("retention sweep", 10)
            .await
            .expect("runs");
        let seen: Vec<_> = runs
            .iter()
            .map(|run| (run.id, run.holder.as_str(), run.finished_at_ms))
            .collect();
        assert_eq!(
            seen,
            [
                (second, "process two", None),
                (first, "process one", Some(1_500))
            ],
            "{backend}"
        );
    }
}
