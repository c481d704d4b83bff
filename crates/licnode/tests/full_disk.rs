//! A node whose disk fills up (issue 16, item 1): it refuses writes with the stable code
//! `storage_full` (507) and stores nothing of them, stays up and keeps answering reads, and takes
//! writes again once space returns — all on a `licnode serve` process whose data directory is a
//! size-limited file system (tmpfs, mounted by the test: root only). Without the privilege to
//! mount, the test says so and is skipped, unless `CI` is set, when it fails.

mod support;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use support::{client_with, config_of, free_port, init_node, serve, user_token, wait_healthy};

const ZHEJIANG: (&str, &str, &str) = ("330000", "province", "浙江省市场监督管理局");

/// A tmpfs mounted for the test, unmounted when dropped.
struct SmallFileSystem {
    path: PathBuf,
}

impl SmallFileSystem {
    /// Mounts a tmpfs of `megabytes` at `path`; `None` when this machine does not let us.
    fn mount(path: &Path, megabytes: u32) -> Option<SmallFileSystem> {
        std::fs::create_dir_all(path).ok()?;
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={megabytes}m"), "tmpfs"])
            .arg(path)
            .output()
            .ok()?;
        mounted.status.success().then(|| SmallFileSystem {
            path: path.to_path_buf(),
        })
    }
}

impl Drop for SmallFileSystem {
    fn drop(&mut self) {
        // Best effort: lazily, in case a killed process still holds a file.
        let _ = Command::new("umount").arg("-l").arg(&self.path).status();
    }
}

/// Fills the file system under `dir` with one ballast file until it has no space left.
fn fill(dir: &Path) -> PathBuf {
    let ballast = dir.join("ballast");
    let mut file = std::fs::File::create(&ballast).expect("ballast");
    let chunk = vec![0_u8; 64 * 1024];
    while file.write_all(&chunk).is_ok() {}
    let small = [0_u8; 512];
    while file.write_all(&small).is_ok() {}
    let _ = file.sync_all();
    ballast
}

async fn write_licence(
    client: &reqwest::Client,
    base: &str,
    generator: &mut licnode_gen::Generator,
) -> (u16, Value) {
    let collection = licnode_model::collection("licences").expect("licences");
    let input = Value::Object(generator.record(collection, "330106"));
    let response = client
        .post(format!("{base}/api/v1/licences/records"))
        .json(&input)
        .send()
        .await
        .expect("the node answers");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or_default())
}

async fn change_count(client: &reqwest::Client, base: &str) -> usize {
    let mut count = 0;
    let mut after = 0_i64;
    loop {
        let page: Value = client
            .get(format!("{base}/api/v1/changes?after={after}&limit=500"))
            .send()
            .await
            .expect("changes")
            .json()
            .await
            .expect("json");
        let changes = page["changes"].as_array().cloned().unwrap_or_default();
        let Some(last) = changes.last().and_then(|change| change["seq"].as_i64()) else {
            return count;
        };
        count += changes.len();
        after = last;
    }
}

#[tokio::test]
async fn a_full_disk_refuses_writes_with_storage_full_keeps_the_node_up_and_recovers() {
    let dir = licnode_testkit::temp_dir().expect("dir");
    let Some(disk) = SmallFileSystem::mount(&dir.path().join("disk"), 24) else {
        let reason = "cannot mount a tmpfs (needs root): the full-disk test did not run";
        assert!(std::env::var_os("CI").is_none(), "{reason}");
        eprintln!("SKIPPED: {reason}");
        return;
    };
    let node_dir = disk.path.join("node");
    let port = free_port();
    init_node(&node_dir, ZHEJIANG, port, None);
    let token = user_token(&config_of(&node_dir), "clerk", "clerk");
    let client = client_with(&token);
    let base = format!("http://127.0.0.1:{port}");
    let mut process = serve(&config_of(&node_dir));
    wait_healthy(&client, &base, &mut process).await;
    let mut generator = licnode_gen::Generator::new(507);
    let mut acknowledged = Vec::new();
    for _ in 0..10 {
        let (status, body) = write_licence(&client, &base, &mut generator).await;
        assert_eq!(status, 201, "{body}");
        acknowledged.push(body["id"].as_str().expect("id").to_string());
    }

    let ballast = fill(&disk.path);
    // The database may still have room in pages it already holds: write until it has none.
    let refusal = loop {
        let (status, body) = write_licence(&client, &base, &mut generator).await;
        if status != 201 {
            break (status, body);
        }
        acknowledged.push(body["id"].as_str().expect("id").to_string());
        assert!(acknowledged.len() < 5_000, "the disk never filled up");
    };
    assert_eq!(refusal.0, 507, "{}", refusal.1);
    assert_eq!(refusal.1["error"]["code"], "storage_full", "{}", refusal.1);
    // Refused again, and nothing of the refused writes was stored.
    let (status, body) = write_licence(&client, &base, &mut generator).await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (507, &Value::from("storage_full"))
    );
    assert_eq!(change_count(&client, &base).await, acknowledged.len());
    // The node is up and answers reads.
    let health = client
        .get(format!("{base}/healthz"))
        .send()
        .await
        .expect("healthz");
    assert!(health.status().is_success());
    assert!(
        process.try_wait().expect("wait").is_none(),
        "the node exited"
    );

    std::fs::remove_file(&ballast).expect("free the space");
    let (status, body) = write_licence(&client, &base, &mut generator).await;
    assert_eq!(
        status, 201,
        "writes are taken again once space returns: {body}"
    );
    acknowledged.push(body["id"].as_str().expect("id").to_string());

    // Every acknowledged write survives kill -9.
    process.kill().expect("kill -9");
    process.wait().expect("reap");
    let mut process = serve(&config_of(&node_dir));
    wait_healthy(&client, &base, &mut process).await;
    for id in &acknowledged {
        let response = client
            .get(format!("{base}/api/v1/records/{id}"))
            .send()
            .await
            .expect("get");
        assert_eq!(response.status().as_u16(), 200, "{id} lost");
    }
    assert_eq!(change_count(&client, &base).await, acknowledged.len());
    process.kill().expect("kill");
    process.wait().expect("reap");
}

// Found when the test harness began keeping a served node's standard error beside its
// configuration — on the full disk, in the test above: a log line that could not be written
// made the logger report the failure on standard error again, and that report panics when
// standard error fails, so the node died of its full disk instead of staying up (the start
// banner on standard output likewise). Here both go to /dev/full, where every write fails
// with ENOSPC (no mount needed).
#[tokio::test]
async fn a_node_whose_standard_error_cannot_be_written_stays_up_and_takes_writes() {
    let dir = licnode_testkit::temp_dir().expect("dir");
    let node_dir = dir.path().join("node");
    let port = free_port();
    init_node(&node_dir, ZHEJIANG, port, None);
    let token = user_token(&config_of(&node_dir), "clerk", "clerk");
    let client = client_with(&token);
    let base = format!("http://127.0.0.1:{port}");
    let full = || {
        std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .expect("/dev/full")
    };
    let mut process = support::binary()
        .args(["serve", "--config", &config_of(&node_dir)])
        .stdout(full())
        .stderr(full())
        .spawn()
        .expect("spawn licnode serve");
    wait_healthy(&client, &base, &mut process).await;
    let mut generator = licnode_gen::Generator::new(508);
    for _ in 0..3 {
        let (status, body) = write_licence(&client, &base, &mut generator).await;
        assert_eq!(status, 201, "{body}");
    }
    assert!(
        process.try_wait().expect("wait").is_none(),
        "the node exited"
    );
    process.kill().expect("kill");
    process.wait().expect("reap");
}
