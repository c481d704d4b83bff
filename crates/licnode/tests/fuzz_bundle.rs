//! Fuzzing the offline bundle reader (issue 16, item 4): `licnode bundle import` at a province
//! (`bundle::import`) on random bytes, on damaged bundles (whose signature no longer holds) and
//! on bundles whose payload is damaged and then signed again by the real child — hostile
//! batches under a good signature, which reach the payload decoder and the engine's push. No
//! input panics or hangs; every bundle is applied or refused with a stable code (never
//! `internal`), and a refused bundle changes nothing at the province — its change log, its
//! cursor for the child, its quarantine — except that a signed payload of several batches keeps
//! the batches applied before the one refused (each batch is a push of its own).
//! SQLite. Cases: `LICNODE_FUZZ_CASES` (see `licnode_testkit::fuzz`). Soak:
//! `LICNODE_FUZZ_CASES=1000000 cargo test --release -p licnode --test fuzz_bundle`.

use licnode::bundle::{MAGIC, export, import, seal};
use licnode::testing::{NATIONAL, XIHU, ZHEJIANG, issue_tree};
use licnode::{Config, Node, NodeHandle};
use licnode_app::Author;
use licnode_model::Level;
use licnode_sync::NodeRef;
use licnode_testkit::fuzz::{self, Watchdog};
use proptest::prelude::*;
use proptest::test_runner::TestRunner;

struct Pair {
    _dir: tempfile::TempDir,
    zhejiang: NodeHandle,
    xihu: NodeHandle,
    /// Xihu's bundle for Zhejiang: three quality archives.
    bundle: Vec<u8>,
}

async fn pair() -> Pair {
    let dir = tempfile::tempdir().expect("dir");
    let root = dir.path().to_owned();
    tokio::task::spawn_blocking(move || issue_tree(&root, &[NATIONAL, ZHEJIANG, XIHU]))
        .await
        .expect("tree");
    let load = |name: &str| {
        let mut config = Config::load(&dir.path().join(name).join("licnode.toml")).expect("config");
        config.node.parent_url = None;
        config.node.parent_urls = Vec::new();
        config.sync.enabled = false;
        config
    };
    let zhejiang = Node::start(&load("zhejiang")).await.expect("zhejiang");
    let xihu = Node::start(&load("xihu")).await.expect("xihu");
    let collection = licnode_model::collection("quality_archives").expect("collection");
    for seed in 0..3 {
        let input = licnode_gen::Generator::new(seed).record(collection, "330106");
        xihu.archive()
            .create(
                "quality_archives",
                Some("330106"),
                &input,
                &Author::clerk("tester"),
            )
            .await
            .expect("create");
    }
    let (bundle, _) = export(
        xihu.archive(),
        xihu.tls().expect("tls"),
        &NodeRef::new("330000", Level::Province),
    )
    .await
    .expect("export");
    Pair {
        _dir: dir,
        zhejiang,
        xihu,
        bundle,
    }
}

/// The payload line of a bundle (without its newline).
fn payload(bundle: &[u8]) -> Vec<u8> {
    let start = MAGIC.len() + 1;
    let end = bundle[start..]
        .iter()
        .position(|byte| *byte == b'\n')
        .map(|at| start + at)
        .expect("payload line");
    bundle[start..end].to_vec()
}

/// A bundle of `payload` signed by `signer` as `bundle export` signs.
fn signed(signer: &NodeHandle, payload: &[u8]) -> Vec<u8> {
    seal(signer.tls().expect("tls"), payload).expect("sign")
}

/// What the province holds that a refused bundle must leave as it was. The quarantine is
/// counted, not read: read with a limit, its length stops moving once the limit is reached (and
/// reading every entry's bytes twice an input was most of the run's time).
async fn state(node: &NodeHandle) -> (i64, i64, i64) {
    let archive = node.archive();
    let store = archive.store_for_tests();
    (
        store.last_seq().await.expect("log"),
        archive.stored_of_child("330106").await.expect("cursor"),
        store.quarantine_count().await.expect("quarantine"),
    )
}

/// One input: random bytes, a damaged bundle, or a damaged payload signed again.
#[derive(Debug, Clone)]
enum Input {
    Bytes(Vec<u8>),
    Damaged(Vec<u8>),
    Resigned(Vec<u8>),
}

fn input(bundle: Vec<u8>) -> impl Strategy<Value = Input> {
    let line = payload(&bundle);
    prop_oneof![
        1 => fuzz::bytes(4_096).prop_map(Input::Bytes),
        2 => fuzz::mutated(vec![bundle]).prop_map(Input::Damaged),
        4 => fuzz::mutated(vec![line]).prop_map(Input::Resigned),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_bundle_is_applied_or_refused_with_a_stable_code_never_a_panic() {
    let pair = pair().await;
    let watchdog = Watchdog::default();
    let mut config = fuzz::config();
    config.failure_persistence = None;
    let mut runner = TestRunner::new(config);
    let handle = tokio::runtime::Handle::current();
    let outcomes = std::sync::Mutex::new(std::collections::BTreeMap::<String, u64>::new());
    let result = tokio::task::block_in_place(|| {
        runner.run(&input(pair.bundle.clone()), |input| {
            let bytes = match &input {
                Input::Bytes(bytes) | Input::Damaged(bytes) => bytes.clone(),
                Input::Resigned(payload) => signed(&pair.xihu, payload),
            };
            watchdog.start(|| fuzz::describe_bytes(&bytes));
            let (before, outcome, after) = handle.block_on(async {
                let before = state(&pair.zhejiang).await;
                let outcome = import(
                    pair.zhejiang.archive(),
                    pair.zhejiang.tls().expect("tls"),
                    &bytes,
                )
                .await;
                (before, outcome, state(&pair.zhejiang).await)
            });
            watchdog.done();
            let kind = match &input {
                Input::Bytes(_) => "random bytes",
                Input::Damaged(_) => "damaged bundle",
                Input::Resigned(_) => "damaged payload signed again",
            };
            let said = match &outcome {
                Ok(report) if report.quarantined > 0 => "applied, some quarantined".to_string(),
                Ok(_) => "applied".to_string(),
                Err(refused) => refused.code.clone(),
            };
            *outcomes
                .lock()
                .expect("tally")
                .entry(format!("{kind}: {said}"))
                .or_default() += 1;
            if let Err(refused) = outcome {
                prop_assert!(
                    !refused.code.is_empty() && refused.code != "internal",
                    "{refused}: {}",
                    fuzz::describe_bytes(&bytes)
                );
                if !matches!(input, Input::Resigned(_)) {
                    prop_assert_eq!(before, after, "{}", refused);
                }
                if matches!(input, Input::Bytes(_)) {
                    prop_assert_eq!(refused.code.as_str(), "malformed_bundle");
                }
            }
            Ok(())
        })
    });
    for (outcome, count) in outcomes.lock().expect("tally").iter() {
        eprintln!("{count:>9}  {outcome}");
    }
    if let Err(failure) = result {
        panic!("{failure}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bundle_the_mutations_start_from_is_applied_and_its_payload_signed_again_too() {
    let pair = pair().await;
    let tls = pair.zhejiang.tls().expect("tls");
    let again = signed(&pair.xihu, &payload(&pair.bundle));
    let report = import(pair.zhejiang.archive(), tls, &again)
        .await
        .expect("signed again");
    assert_eq!(report.applied, 3, "{report}");
    let report = import(pair.zhejiang.archive(), tls, &pair.bundle)
        .await
        .expect("as exported");
    assert_eq!((report.applied, report.duplicates), (0, 3), "{report}");
    // The payload signed by the province itself: not its child.
    let refused = import(
        pair.zhejiang.archive(),
        tls,
        &signed(&pair.zhejiang, &payload(&pair.bundle)),
    )
    .await
    .expect_err("signed by the province");
    assert_eq!(refused.code, "signer_mismatch", "{refused}");
}
