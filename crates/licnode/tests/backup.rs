//! `licnode backup`, `licnode restore` and `licnode audit` as an operator runs them, against a
//! real `licnode serve` (Art. 37: archives are kept five years and survive the loss of a disk;
//! ARCHITECTURE.md, principle 9: nothing acknowledged is lost).

mod support;

use std::process::{Command, Output};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::{
    PASSWORD, binary, client_with, free_port, init_node, run, serve, user_token, wait_healthy,
};

use licnode_testkit::Backend;
use serde_json::Value;

const ZHEJIANG: (&str, &str, &str) = ("330000", "province", "浙江省市场监督管理局");

fn output(command: &mut Command) -> Output {
    command.output().expect("run licnode")
}

/// Runs licnode off the async runtime (the node answers writes meanwhile).
async fn run_async(args: Vec<String>) -> Output {
    tokio::task::spawn_blocking(move || binary().args(args).output().expect("run licnode"))
        .await
        .expect("join")
}

/// Writers creating licences over HTTP until told to stop; every acknowledged id is pushed to
/// `acknowledged` in the order the acknowledgements arrived.
fn start_writers(
    client: &reqwest::Client,
    base: &str,
    acknowledged: &Arc<Mutex<Vec<String>>>,
    stop: &Arc<std::sync::atomic::AtomicBool>,
) -> Vec<tokio::task::JoinHandle<()>> {
    (0..4_u64)
        .map(|writer| {
            let client = client.clone();
            let url = format!("{base}/api/v1/licences/records");
            let acknowledged = acknowledged.clone();
            let stop = stop.clone();
            tokio::spawn(async move {
                let collection = licnode_model::collection("licences").expect("licences");
                let mut generator = licnode_gen::Generator::new(1_000 + writer);
                while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                    let input = Value::Object(generator.record(collection, "330106"));
                    let response = client.post(&url).json(&input).send().await.expect("post");
                    assert_eq!(response.status().as_u16(), 201);
                    let body: Value = response.json().await.expect("json");
                    let id = body["id"].as_str().expect("id").to_string();
                    acknowledged.lock().expect("lock").push(id);
                }
            })
        })
        .collect()
}

async fn wait_for_writes(acknowledged: &Arc<Mutex<Vec<String>>>, count: usize) {
    let deadline = Instant::now() + Duration::from_secs(120);
    while acknowledged.lock().expect("lock").len() < count {
        assert!(Instant::now() < deadline, "writes do not arrive");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_backup_taken_during_writes_restores_every_write_acknowledged_before_it() {
    let dir = licnode_testkit::temp_dir().expect("dir");
    let port = free_port();
    let config = init_node(dir.path(), ZHEJIANG, port, None);
    let clerk = client_with(&user_token(&config, "clerk", "clerk"));
    let auditor = client_with(&user_token(&config, "auditor", "auditor"));
    let base = format!("http://127.0.0.1:{port}");
    let mut node = serve(&config);
    wait_healthy(&clerk, &base, &mut node).await;

    let acknowledged = Arc::new(Mutex::new(Vec::new()));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writers = start_writers(&clerk, &base, &acknowledged, &stop);
    wait_for_writes(&acknowledged, 60).await;

    // The backup starts while the writers go on.
    let backup = dir.path().join("backups").join("node.db");
    std::fs::create_dir_all(backup.parent().expect("parent")).expect("backups dir");
    let before: Vec<String> = acknowledged.lock().expect("lock").clone();
    let taken = run_async(vec![
        "backup".into(),
        "--config".into(),
        config.clone(),
        backup.display().to_string(),
    ])
    .await;
    assert!(
        taken.status.success(),
        "backup failed: {}",
        String::from_utf8_lossy(&taken.stderr)
    );
    let during = acknowledged.lock().expect("lock").len();
    wait_for_writes(&acknowledged, during + 20).await;
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    for writer in writers {
        writer.await.expect("writer");
    }
    let manifest: Value = serde_json::from_slice(
        &std::fs::read(format!("{}.manifest.json", backup.display())).expect("manifest"),
    )
    .expect("manifest json");
    let backed_up = manifest["collections"]["licences"].as_i64().expect("count");
    assert!(backed_up >= before.len() as i64, "{manifest}");

    // The backup is in the node's audit log; the log verifies while the node serves.
    let log: Value = auditor
        .get(format!("{base}/api/v1/audit?after=0&limit=1000"))
        .send()
        .await
        .expect("audit")
        .json()
        .await
        .expect("json");
    let kinds: Vec<&str> = log["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .filter_map(|entry| entry["kind"].as_str())
        .collect();
    assert!(kinds.contains(&"backup"), "{kinds:?}");
    assert!(kinds.contains(&"write"), "{kinds:?}");
    let verified: Value = auditor
        .get(format!("{base}/api/v1/audit/verify"))
        .send()
        .await
        .expect("verify")
        .json()
        .await
        .expect("json");
    assert_eq!(verified["intact"], true, "{verified}");
    // Clerks do not read the audit log.
    let refused = clerk
        .get(format!("{base}/api/v1/audit"))
        .send()
        .await
        .expect("audit as clerk");
    assert_eq!(refused.status().as_u16(), 403);

    // Nothing replaces the database under a running node.
    let database = dir.path().join("data").join("licnode.db");
    let under_node = output(binary().args([
        "restore",
        "--config",
        &config,
        &backup.display().to_string(),
    ]));
    assert!(!under_node.status.success());
    assert!(
        String::from_utf8_lossy(&under_node.stderr).contains("a node is serving"),
        "{}",
        String::from_utf8_lossy(&under_node.stderr)
    );
    // Verifying a backup is harmless while the node serves.
    run(binary().args([
        "restore",
        "--verify-only",
        "--config",
        &config,
        &backup.display().to_string(),
    ]));

    node.kill().expect("kill");
    node.wait().expect("reap");
    let restored = run(binary().args([
        "restore",
        "--config",
        &config,
        &backup.display().to_string(),
    ]));
    assert!(restored.contains("previous database is kept"), "{restored}");
    assert!(database.exists());
    let audit = run(binary().args(["audit", "verify", "--config", &config]));
    assert!(audit.contains("intact"), "{audit}");

    let mut node = serve(&config);
    wait_healthy(&clerk, &base, &mut node).await;
    for id in &before {
        let response = clerk
            .get(format!("{base}/api/v1/records/{id}"))
            .send()
            .await
            .expect("get");
        assert_eq!(
            response.status().as_u16(),
            200,
            "{id} acknowledged before the backup, lost"
        );
    }
    let all = acknowledged.lock().expect("lock").clone();
    let mut present = 0;
    for id in &all {
        let response = clerk
            .get(format!("{base}/api/v1/records/{id}"))
            .send()
            .await
            .expect("get");
        if response.status().is_success() {
            present += 1;
        }
    }
    assert_eq!(
        present, backed_up,
        "the restored node holds what the manifest says"
    );
    let log: Value = auditor
        .get(format!("{base}/api/v1/audit?after=0&limit=1000"))
        .send()
        .await
        .expect("audit")
        .json()
        .await
        .expect("json");
    let last = log["entries"].as_array().expect("entries").last().cloned();
    assert_eq!(
        last.as_ref().map(|entry| &entry["kind"]),
        Some(&Value::from("restore"))
    );
    node.kill().expect("kill");
    node.wait().expect("reap");

    // A backup whose audit log was edited is refused, even with a manifest that matches the
    // edited file.
    let entry = &log["entries"][4];
    let hash = entry["hash"].as_str().expect("hash").to_string();
    let mut bytes = std::fs::read(&backup).expect("read backup");
    // Every copy of the hash is changed: SQLite leaves stale copies in unused page space, and
    // changing one of those changes nothing the database holds.
    let mut copies = 0;
    let mut at = 0;
    while let Some(found) = bytes[at..]
        .windows(hash.len())
        .position(|window| window == hash.as_bytes())
    {
        let position = at + found;
        bytes[position] = if bytes[position] == b'0' { b'1' } else { b'0' };
        copies += 1;
        at = position + hash.len();
    }
    assert!(copies > 0, "the hash is in the file");
    let edited = dir.path().join("backups").join("edited.db");
    std::fs::write(&edited, &bytes).expect("write");
    let mut edited_manifest = manifest.clone();
    edited_manifest["sha256"] = Value::from(sha256_hex(&bytes));
    std::fs::write(
        format!("{}.manifest.json", edited.display()),
        serde_json::to_vec(&edited_manifest).expect("json"),
    )
    .expect("write manifest");
    let refused = output(binary().args([
        "restore",
        "--config",
        &config,
        &edited.display().to_string(),
    ]));
    assert!(
        !refused.status.success(),
        "entry {entry}: {}",
        String::from_utf8_lossy(&refused.stdout)
    );
    let said = String::from_utf8_lossy(&refused.stdout);
    assert!(said.contains("audit log"), "{said}");
    // And a file that is not the one its manifest describes is refused before anything else.
    std::fs::write(&edited, b"not a database").expect("write");
    let refused = output(binary().args([
        "restore",
        "--config",
        &config,
        &edited.display().to_string(),
    ]));
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("SHA-256"));
    // The restored node's database was left alone by both refusals.
    run(binary().args(["audit", "verify", "--config", &config]));
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

#[tokio::test]
async fn on_postgresql_a_pg_dump_taken_during_writes_restores_and_verifies() {
    let dir = licnode_testkit::temp_dir().expect("dir");
    let (_, database) = licnode_testkit::database_url(Backend::Postgres, dir.path())
        .await
        .expect("db");
    let database = database.expect("postgres");
    let port = free_port();
    let config = init_node(dir.path(), ZHEJIANG, port, Some(&database.url));
    let clerk = client_with(&user_token(&config, "clerk", "clerk"));
    let base = format!("http://127.0.0.1:{port}");
    let mut node = serve(&config);
    wait_healthy(&clerk, &base, &mut node).await;
    let acknowledged = Arc::new(Mutex::new(Vec::new()));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writers = start_writers(&clerk, &base, &acknowledged, &stop);
    wait_for_writes(&acknowledged, 40).await;
    let backup = dir.path().join("node.dump");
    let before: Vec<String> = acknowledged.lock().expect("lock").clone();
    let taken = run_async(vec![
        "backup".into(),
        "--config".into(),
        config.clone(),
        backup.display().to_string(),
    ])
    .await;
    assert!(
        taken.status.success(),
        "backup failed: {}",
        String::from_utf8_lossy(&taken.stderr)
    );
    // The audit chain verifies while writers append to it.
    let verified = run_async(vec![
        "audit".into(),
        "verify".into(),
        "--config".into(),
        config.clone(),
    ])
    .await;
    assert!(
        verified.status.success(),
        "{}",
        String::from_utf8_lossy(&verified.stdout)
    );
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    for writer in writers {
        writer.await.expect("writer");
    }
    // Logins, refused logins and exports leave entries too.
    let anonymous = reqwest::Client::new();
    for (password, status) in [(PASSWORD, 200), ("not the password", 401)] {
        let response = anonymous
            .post(format!("{base}/api/v1/auth/login"))
            .json(&serde_json::json!({ "name": "clerk", "password": password }))
            .send()
            .await
            .expect("login");
        assert_eq!(response.status().as_u16(), status);
    }
    node.kill().expect("kill");
    node.wait().expect("reap");
    run(binary().args([
        "export",
        "--config",
        &config,
        "--collection",
        "licences",
        "--output",
        &dir.path().join("licences.csv").display().to_string(),
    ]));
    let said = run(binary().args(["restore", "--verify-only", "--config", &config]));
    assert!(said.contains("verifies"), "{said}");
    // The dump goes into an empty database, which verifies against the manifest and holds
    // every write acknowledged before the backup started.
    let target = licnode_testkit::postgres_database().await.expect("db");
    let restored = output(Command::new("pg_restore").args([
        "--no-owner",
        "--dbname",
        &target.url,
        &backup.display().to_string(),
    ]));
    assert!(
        restored.status.success(),
        "{}",
        String::from_utf8_lossy(&restored.stderr)
    );
    let other = dir.path().join("restored");
    let restored_config = init_node(&other, ZHEJIANG, free_port(), Some(&target.url));
    let said = run(binary().args([
        "restore",
        "--verify-only",
        "--config",
        &restored_config,
        &backup.display().to_string(),
    ]));
    assert!(said.contains("verifies"), "{said}");
    let listed = run(binary().args([
        "export",
        "--config",
        &restored_config,
        "--collection",
        "licences",
        "--format",
        "jsonl",
    ]));
    for id in &before {
        assert!(
            listed.contains(id.as_str()),
            "{id} acknowledged before the backup, lost"
        );
    }
    // Restoring over the configured database is left to pg_restore.
    let refused = output(binary().args([
        "restore",
        "--config",
        &restored_config,
        &backup.display().to_string(),
    ]));
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("pg_restore"));

    let exported = run(binary().args(["audit", "export", "--config", &config]));
    let writes = exported
        .lines()
        .filter(|line| line.contains("\"kind\":\"write\"") && line.contains("\"user\":\"clerk\""))
        .count();
    assert_eq!(writes, acknowledged.lock().expect("lock").len());
    for kind in ["login", "login_failed", "export", "backup"] {
        assert!(
            exported
                .lines()
                .any(|line| line.contains(&format!("\"kind\":\"{kind}\""))),
            "no {kind} entry"
        );
    }
}
