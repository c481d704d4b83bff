//! The `licnode` binary as a user runs it: init, serve, kill -9, import, export.

mod support;

use std::path::Path;
use std::time::{Duration, Instant};
use support::{
    binary, client_with, config_of, free_port, free_ports, init_node, run, serve, user_token,
    wait_healthy,
};

use licnode_testkit::{BACKENDS, Backend};
use serde_json::{Value, json};

const ZHEJIANG: (&str, &str, &str) = ("330000", "province", "浙江省市场监督管理局");

#[tokio::test]
async fn kill_9_right_after_acknowledged_writes_loses_nothing() {
    for backend in BACKENDS {
        let dir = licnode_testkit::temp_dir().expect("dir");
        let (_, database) = licnode_testkit::database_url(backend, dir.path())
            .await
            .expect("db");
        let port = free_port();
        init_node(
            dir.path(),
            ZHEJIANG,
            port,
            database.as_ref().map(|d| d.url.as_str()),
        );
        let token = user_token(&config_of(dir.path()), "clerk", "clerk");
        let base = format!("http://127.0.0.1:{port}");
        let client = client_with(&token);
        let collection = licnode_model::collection("licences").expect("licences");
        let mut generator = licnode_gen::Generator::new(99);
        let mut acknowledged: Vec<(String, Value)> = Vec::new();
        for round in 0..3 {
            let mut child = serve(&config_of(dir.path()));
            wait_healthy(&client, &base, &mut child).await;
            // Everything acknowledged before is there.
            for (id, name) in &acknowledged {
                let record: Value = client
                    .get(format!("{base}/api/v1/records/{id}"))
                    .send()
                    .await
                    .expect("get")
                    .json()
                    .await
                    .expect("json");
                assert_eq!(
                    &record["fields"]["enterprise_name"], name,
                    "{backend} round {round}"
                );
            }
            // Acknowledged writes, one after another and concurrently, then kill -9 at once.
            let mut pending = Vec::new();
            for _ in 0..12 {
                let input = Value::Object(generator.record(collection, "330106"));
                let client = client.clone();
                let url = format!("{base}/api/v1/licences/records");
                pending.push(tokio::spawn(async move {
                    let response = client.post(url).json(&input).send().await.expect("post");
                    assert_eq!(response.status().as_u16(), 201);
                    let body: Value = response.json().await.expect("json");
                    (
                        body["id"].as_str().expect("id").to_string(),
                        input["enterprise_name"].clone(),
                    )
                }));
            }
            for task in pending {
                acknowledged.push(task.await.expect("write"));
            }
            child.kill().expect("kill -9");
            child.wait().expect("reap");
        }
        let mut child = serve(&config_of(dir.path()));
        wait_healthy(&client, &base, &mut child).await;
        for (id, _) in &acknowledged {
            let response = client
                .get(format!("{base}/api/v1/records/{id}"))
                .send()
                .await
                .expect("get");
            assert_eq!(response.status().as_u16(), 200, "{backend}: {id} lost");
        }
        let log: Value = client
            .get(format!("{base}/api/v1/changes?after=0&limit=500"))
            .send()
            .await
            .expect("changes")
            .json()
            .await
            .expect("json");
        let seqs: Vec<i64> = log["changes"]
            .as_array()
            .expect("changes")
            .iter()
            .map(|c| c["seq"].as_i64().expect("seq"))
            .collect();
        assert_eq!(
            seqs,
            (1..=36).collect::<Vec<_>>(),
            "{backend}: gap-free across kills"
        );
        child.kill().expect("kill");
        child.wait().expect("reap");
    }
}

#[tokio::test]
async fn import_reports_refused_rows_and_imports_the_rest_and_export_reads_them_back() {
    let backend = Backend::Sqlite;
    let dir = licnode_testkit::temp_dir().expect("dir");
    // Reviewers are registered by the national centre (Art. 15, 30).
    init_node(
        dir.path(),
        ("100000", "national", "全国工业产品生产许可证审查中心"),
        free_port(),
        None,
    );
    let config = dir.path().join("licnode.toml").display().to_string();
    let collection = licnode_model::collection("reviewers").expect("reviewers");
    let mut generator = licnode_gen::Generator::new(4);
    let columns: Vec<&str> = collection.fields.iter().map(|f| f.label_zh).collect();
    let mut csv = csv::Writer::from_writer(Vec::new());
    csv.write_record(&columns).expect("header");
    for index in 0..10 {
        let mut row = generator.record(collection, "330106");
        if index == 3 {
            row.insert("id_number".into(), json!("110101199003071234"));
        }
        if index == 7 {
            row.insert("birth_date".into(), json!("2023-02-30"));
        }
        let cells: Vec<String> = collection
            .fields
            .iter()
            .map(|field| match row.get(field.name) {
                None | Some(Value::Null) => String::new(),
                Some(Value::String(text)) => text.clone(),
                Some(other) => other.to_string(),
            })
            .collect();
        csv.write_record(&cells).expect("row");
    }
    let path = dir.path().join("reviewers.csv");
    std::fs::write(&path, csv.into_inner().expect("csv")).expect("write csv");
    let stdout = run(binary().args([
        "import",
        "--config",
        &config,
        "--collection",
        "reviewers",
        &path.display().to_string(),
    ]));
    assert!(
        stdout.contains("read 10 rows: imported 8, refused 2"),
        "{backend}: {stdout}"
    );
    assert!(stdout.contains("line 5: validation_failed"), "{stdout}");
    assert!(stdout.contains("line 9: validation_failed"), "{stdout}");

    // Art. 36: an export masks the reviewers' identity numbers unless asked for them
    // unmasked, which a file meant to be imported again needs (and the audit log records).
    let masked = run(binary().args([
        "export",
        "--config",
        &config,
        "--collection",
        "reviewers",
        "--format",
        "jsonl",
    ]));
    assert_eq!(masked.lines().count(), 8);
    assert!(
        masked
            .lines()
            .all(|line| line.contains("\"id_number\":\"******\"")),
        "{masked}"
    );
    let exported = run(binary().args([
        "export",
        "--config",
        &config,
        "--collection",
        "reviewers",
        "--format",
        "jsonl",
        "--unmasked",
    ]));
    assert_eq!(exported.lines().count(), 8);
    assert!(!exported.contains("******"), "{exported}");
    let audit = run(binary().args(["audit", "export", "--config", &config]));
    assert_eq!(
        audit.matches("\"kind\":\"secret_disclosed\"").count(),
        1,
        "the unmasked export is audited once, the masked one not: {audit}"
    );
    let again = dir.path().join("again.jsonl");
    std::fs::write(&again, &exported).expect("write");
    let stdout = run(binary().args([
        "import",
        "--config",
        &config,
        "--collection",
        "reviewers",
        &again.display().to_string(),
    ]));
    assert!(stdout.contains("imported 8, refused 0"), "{stdout}");
}

#[test]
fn the_demo_builds_a_tree_shows_records_flowing_and_walks_through_the_api() {
    let dir = licnode_testkit::temp_dir().expect("dir");
    // The demo's nodes listen on a block of ports from this base: the whole block is drawn.
    let port = free_ports(licnode::demo::LISTEN_PORTS);
    let stdout = run(binary().args([
        "demo",
        "--exit",
        "--licences",
        "200",
        "--dir",
        &dir.path().join("demo").display().to_string(),
        "--listen",
        &format!("127.0.0.1:{port}"),
    ]));
    assert!(stdout.contains("7 nodes serving"), "{stdout}");
    assert!(stdout.contains("-- in step"), "{stdout}");
    assert!(
        stdout.contains("every county holds only its own archives"),
        "{stdout}"
    );
    assert!(stdout.contains("201 Created"), "{stdout}");
    assert!(
        stdout.contains("杭州恒远电缆有限公司"),
        "the search finds the new licence: {stdout}"
    );
    assert!(stdout.contains("approval_required"), "{stdout}");
    assert!(stdout.contains("(浙)XK06-001-00123"), "{stdout}");
    let after_list = stdout
        .split("licences of Hangzhou's subtree")
        .nth(1)
        .and_then(|rest| rest.lines().nth(1))
        .unwrap_or_default();
    assert!(
        after_list.trim_start().starts_with("3301"),
        "the list shows Hangzhou's records: {stdout}"
    );
    // The last table: national holds both provinces' 200 licences.
    let national_row = stdout
        .lines()
        .rev()
        .find(|line| line.trim_start().starts_with("100000 ") && !line.contains("http"))
        .unwrap_or_default();
    assert_eq!(
        national_row.split_whitespace().nth(1),
        Some("400"),
        "{national_row}"
    );
}

// Issue 17, item 4: a bad value stops the node before anything starts, naming its key — read
// from the file or from the environment alike.
#[test]
fn serve_with_a_bad_sync_interval_exits_before_anything_starts_naming_the_key() {
    for from_environment in [false, true] {
        let dir = licnode_testkit::temp_dir().expect("dir");
        let port = free_port();
        let config = init_node(dir.path(), ZHEJIANG, port, None);
        let mut serve = binary();
        serve.args(["serve", "--config", &config]);
        if from_environment {
            serve.env("LICNODE_SYNC__INTERVAL", "soon");
        } else {
            let text = std::fs::read_to_string(&config).expect("read");
            let written = text
                .lines()
                .map(|line| {
                    if line.starts_with("interval =") {
                        "interval = \"soon\""
                    } else {
                        line
                    }
                })
                .collect::<Vec<_>>()
                .join("\n");
            assert_ne!(written, text, "init writes [sync] interval");
            std::fs::write(&config, written).expect("write");
        }
        let mut child = serve
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("spawn licnode serve");
        let deadline = Instant::now() + Duration::from_secs(60);
        let status = loop {
            if let Some(status) = child.try_wait().expect("wait") {
                break status;
            }
            if Instant::now() > deadline {
                child.kill().expect("kill");
                child.wait().expect("reap");
                panic!("licnode serve kept running with a bad [sync] interval");
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        let output = child.wait_with_output().expect("output");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!status.success(), "{stderr}");
        assert!(stderr.contains("[sync] interval"), "{stderr}");
        assert!(stderr.contains("soon"), "{stderr}");
        if from_environment {
            assert!(stderr.contains("LICNODE_SYNC__INTERVAL"), "{stderr}");
        }
        // Nothing started: the store was never opened, so no listener was bound.
        assert!(!stderr.contains("node serving"), "{stderr}");
        assert!(
            !dir.path().join("data").join("licnode.db").exists(),
            "the node opened its database"
        );
        assert!(
            std::net::TcpListener::bind(("127.0.0.1", port)).is_ok(),
            "the staff port is held"
        );
    }
}

/// `licnode <args>` in `dir`, which must succeed.
fn licnode_in(dir: &Path, args: &[&str]) -> String {
    run(binary().args(args).current_dir(dir))
}

#[tokio::test]
async fn kill_9_in_the_middle_of_syncs_twenty_times_loses_nothing_and_counts_nothing_twice() {
    let dir = licnode_testkit::temp_dir().expect("dir");
    let root = dir.path();
    let (province_port, peer_port, county_port) = (free_port(), free_port(), free_port());
    let parent_url = format!("https://127.0.0.1:{peer_port}");
    licnode_in(
        root,
        &[
            "init",
            "--dir",
            "zhejiang",
            "--code",
            "330000",
            "--level",
            "province",
            "--name",
            "浙江省市场监督管理局",
            "--listen",
            &format!("127.0.0.1:{province_port}"),
            "--peer-listen",
            &format!("127.0.0.1:{peer_port}"),
        ],
    );
    licnode_in(
        root,
        &[
            "init",
            "--dir",
            "xihu",
            "--code",
            "330106",
            "--level",
            "county",
            "--name",
            "杭州市西湖区市场监督管理局",
            "--listen",
            &format!("127.0.0.1:{county_port}"),
            "--parent-url",
            &parent_url,
        ],
    );
    for line in [
        "pki init-root --ca-dir national/pki/ca",
        "pki request --ca-dir zhejiang/pki/ca --code 330000 --level province",
        "pki sign --ca-dir national/pki/ca --csr zhejiang/pki/ca/request.csr --ca --out zhejiang-ca.crt",
        "pki install --ca-dir zhejiang/pki/ca --cert zhejiang-ca.crt --root national/pki/ca/root.crt",
        "pki request --dir zhejiang --code 330000 --level province",
        "pki sign --ca-dir national/pki/ca --csr zhejiang/pki/request.csr --out zhejiang.crt",
        "pki install --dir zhejiang --cert zhejiang.crt --root national/pki/ca/root.crt --crl national/pki/ca/crl.pem",
        "pki request --dir xihu --code 330106 --level county",
        "pki sign --ca-dir zhejiang/pki/ca --csr xihu/pki/request.csr --out xihu.crt",
        "pki install --dir xihu --cert xihu.crt --root national/pki/ca/root.crt --crl national/pki/ca/crl.pem --crl zhejiang/pki/ca/crl.pem",
    ] {
        licnode_in(root, &line.split(' ').collect::<Vec<_>>());
    }
    // The county syncs every second and a second after each write.
    let county_config = root.join("xihu/licnode.toml");
    let text = std::fs::read_to_string(&county_config)
        .expect("config")
        .replace("interval = \"60s\"", "interval = \"1s\"")
        .replace("debounce = \"2s\"", "debounce = \"1s\"")
        .replace("max_backoff = \"10m\"", "max_backoff = \"2s\"");
    assert!(
        text.contains("interval = \"1s\"") && text.contains("max_backoff = \"2s\""),
        "{text}"
    );
    std::fs::write(&county_config, text).expect("config");
    let token = user_token(&config_of(&root.join("xihu")), "clerk", "clerk");
    let county = client_with(&token);
    let county_base = format!("http://127.0.0.1:{county_port}");
    let province_base = format!("http://127.0.0.1:{province_port}");
    let plain = reqwest::Client::new();

    let mut province_process = serve(&config_of(&root.join("zhejiang")));
    let mut county_process = serve(&config_of(&root.join("xihu")));
    wait_healthy(&plain, &province_base, &mut province_process).await;
    wait_healthy(&plain, &county_base, &mut county_process).await;
    let collection = licnode_model::collection("quality_archives").expect("collection");
    let mut generator = licnode_gen::Generator::new(2020);
    let mut acknowledged = Vec::new();
    for round in 0..20u64 {
        for _ in 0..10 {
            let input = Value::Object(generator.record(collection, "330106"));
            let response = county
                .post(format!("{county_base}/api/v1/quality_archives/records"))
                .json(&input)
                .send()
                .await
                .expect("post");
            assert_eq!(response.status().as_u16(), 201, "round {round}");
            let body: Value = response.json().await.expect("json");
            acknowledged.push(body["id"].as_str().expect("id").to_string());
        }
        // Let a session start (debounce 1 s), then kill one side in its middle.
        tokio::time::sleep(Duration::from_millis(900 + 37 * round)).await;
        let (victim, dir_name, base) = if round % 2 == 0 {
            (&mut county_process, "xihu", &county_base)
        } else {
            (&mut province_process, "zhejiang", &province_base)
        };
        victim.kill().expect("kill -9");
        victim.wait().expect("reap");
        *victim = serve(&config_of(&root.join(dir_name)));
        wait_healthy(&plain, base, victim).await;
    }
    // Both converge: every acknowledged write reaches the province, once.
    let province_token = {
        let config = root.join("zhejiang/licnode.toml").display().to_string();
        run(binary()
            .args([
                "user", "add", "--config", &config, "--name", "auditor", "--role", "auditor",
            ])
            .env("LICNODE_PASSWORD", "a long enough password"));
        run(binary().args(["user", "token", "--config", &config, "--name", "auditor"]))
            .trim()
            .to_string()
    };
    let province = client_with(&province_token);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let log: Value = province
            .get(format!("{province_base}/api/v1/changes?after=0&limit=500"))
            .send()
            .await
            .expect("changes")
            .json()
            .await
            .expect("json");
        let changes = log["changes"].as_array().cloned().unwrap_or_default();
        let mut records: Vec<String> = changes
            .iter()
            .map(|change| change["record_id"].as_str().unwrap_or_default().to_string())
            .collect();
        if records.len() >= acknowledged.len() || Instant::now() > deadline {
            records.sort();
            let before = records.len();
            records.dedup();
            assert_eq!(
                before,
                records.len(),
                "a change was stored twice at the province"
            );
            let mut expected = acknowledged.clone();
            expected.sort();
            assert_eq!(
                records, expected,
                "every acknowledged write reached the province"
            );
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    for child in [&mut county_process, &mut province_process] {
        child.kill().expect("kill");
        child.wait().expect("reap");
    }
}
