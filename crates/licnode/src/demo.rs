//! `licnode demo`: a live demonstration on the embedded default (SQLite). It creates a node
//! directory, seeds it with realistic generated records through the bulk path, starts the node,
//! and walks through the staff API over real HTTP — create, read, partial update, list, search,
//! history — printing each step, then keeps serving until interrupted.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use serde_json::{Value, json};

use crate::config::Config;
use crate::node::Node;

/// The demo accounts' password (a demonstration node on loopback only).
const DEMO_PASSWORD: &str = "demo-password";

/// What `licnode demo` is told.
pub struct DemoOptions {
    pub dir: PathBuf,
    pub listen: SocketAddr,
    pub licences: usize,
    /// Stop after the walk-through instead of serving until interrupted.
    pub exit: bool,
}

/// Runs the demonstration.
pub async fn run(options: DemoOptions) -> anyhow::Result<()> {
    let config_path = options.dir.join("licnode.toml");
    if !config_path.exists() {
        crate::init::init(crate::init::InitOptions {
            dir: options.dir.clone(),
            code: "330000".into(),
            level: "province".into(),
            name: "浙江省市场监督管理局".into(),
            parent_url: None,
            database_url: None,
            listen: options.listen,
            peer_listen: None,
            force: false,
        })?;
    }
    let mut config = Config::load(&config_path)?;
    config.http.listen = options.listen;
    println!(
        "== licnode demo: node 330000 浙江省市场监督管理局, SQLite in {}",
        config.data_dir().display()
    );

    let node = Node::start(&config).await?;
    let archive = node.archive().clone();
    let existing: i64 = archive.store.counts().await?.iter().map(|(_, n)| n).sum();
    if existing == 0 {
        seed(&archive, options.licences).await?;
    } else {
        println!("-- the node already holds {existing} records; not seeding again");
    }
    for (name, display_name, role) in [
        ("wang", "王芳（受理员）", licnode_store::Role::Clerk),
        ("li", "李强（审批人）", licnode_store::Role::Approver),
    ] {
        match archive
            .store
            .add_user(name, display_name, role, DEMO_PASSWORD)
            .await
        {
            Ok(_) | Err(licnode_store::AccountError::Exists(_)) => {}
            Err(error) => return Err(error.into()),
        }
    }
    let base = format!("http://{}", node.local_addr());
    walk_through(&base).await?;
    println!("\n== the node serves at {base}");
    println!("   accounts: wang (clerk) and li (approver), password {DEMO_PASSWORD:?}");
    println!(
        "   try: TOKEN=$(curl -s -X POST {base}/api/v1/auth/login -H 'content-type: application/json' \\\n\
         \x20           -d '{{\"name\": \"wang\", \"password\": \"{DEMO_PASSWORD}\"}}' | sed -n 's/.*\"token\":\"\\([^\"]*\\)\".*/\\1/p')"
    );
    println!(
        "        curl -s -H \"authorization: Bearer $TOKEN\" -G {base}/api/v1/search --data-urlencode q=电缆"
    );
    println!("        curl -s {base}/openapi.json | head -c 300");
    if options.exit {
        return node.shutdown().await;
    }
    println!(
        "   ctrl-c stops it; the data stays in {}",
        config.data_dir().display()
    );
    node.run_until_signal().await
}

async fn seed(archive: &licnode_store::Archive, licences: usize) -> anyhow::Result<()> {
    let started = Instant::now();
    let mut generator = licnode_gen::Generator::new(2026);
    let counties = licnode_model::divisions::counties_within("330000");
    let plan = [
        ("licences", licences),
        ("applications", licences / 4),
        ("refusals", licences / 20),
        ("quality_archives", licences / 10),
    ];
    for (name, count) in plan {
        let collection = licnode_model::collection(name).context("collection")?;
        let mut writer = licnode_store::BulkWriter::new(archive, name, "demo")?;
        let mut rows = Vec::with_capacity(1_000);
        for index in 0..count {
            let county = &counties[index % counties.len()].code;
            rows.push(licnode_store::BulkRow {
                jurisdiction: Some(county.clone()),
                fields: generator.record(collection, county),
            });
            if rows.len() == 1_000 || index + 1 == count {
                let (refused, _) = writer.write(std::mem::take(&mut rows)).await?;
                if let Some((_, error)) = refused.first() {
                    anyhow::bail!("seeding {name}: {error}");
                }
            }
        }
        writer.finish().await?;
        println!("-- seeded {count:>6} {name}");
    }
    println!("-- seeding took {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}

async fn login(client: &reqwest::Client, base: &str, name: &str) -> anyhow::Result<String> {
    let response: Value = client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({ "name": name, "password": DEMO_PASSWORD }))
        .send()
        .await?
        .json()
        .await?;
    response["token"]
        .as_str()
        .map(str::to_string)
        .with_context(|| format!("login of {name} failed: {response}"))
}

async fn walk_through(base: &str) -> anyhow::Result<()> {
    let client = reqwest::Client::new();
    let step = |title: &str| println!("\n>> {title}");

    step("POST /api/v1/auth/login — clerk 王芳 (wang) and approver 李强 (li) log in");
    let clerk = login(&client, base, "wang").await?;
    let approver = login(&client, base, "li").await?;
    println!("   session tokens issued (they expire after 8 hours)");

    step("POST /api/v1/licences/records?jurisdiction=330106 — a new licence, as a clerk of 西湖区");
    let licence = json!({
        "enterprise_name": "杭州恒远电缆有限公司",
        "credit_code": "91330106MA2H3K7Q0C",
        "residence_address": "杭州市西湖区文三路 90 号",
        "production_address": "杭州市西湖区三墩镇振华路 18 号",
        "division_code": "330106",
        "product_category": "电线电缆",
        "product_name": "电力电缆",
        "application_units": "挤包绝缘低压电力电缆",
        "licence_number": "（浙）XK06-001-00123",
        "issuing_level": "provincial",
        "issuing_authority": "浙江省市场监督管理局",
        "approval_date": "2026-11-02",
        "issue_date": "2026-11-05",
        "valid_until": "2031-11-04",
        "issuance_kind": "new"
    });
    let response = client
        .post(format!(
            "{base}/api/v1/licences/records?jurisdiction=330106"
        ))
        .bearer_auth(&clerk)
        .json(&licence)
        .send()
        .await?;
    let status = response.status();
    let created: Value = response.json().await?;
    println!(
        "   {status}: id {}, licence number normalised to {}, warnings {}",
        created["id"], created["fields"]["licence_number"], created["warnings"]
    );
    let id = created["id"]
        .as_str()
        .context("the create answered no id")?
        .to_string();

    step("PATCH /api/v1/records/{id} — an approver corrects the production address");
    let response = client
        .patch(format!("{base}/api/v1/records/{id}"))
        .bearer_auth(&approver)
        .json(&json!({ "production_address": "杭州市西湖区三墩镇振华路 20 号" }))
        .send()
        .await?;
    let updated: Value = response.json().await?;
    println!(
        "   production_address = {}",
        updated["fields"]["production_address"]
    );

    step("GET /api/v1/records/{id}/history — who changed what, where, when");
    let history: Value = client
        .get(format!("{base}/api/v1/records/{id}/history"))
        .bearer_auth(&clerk)
        .send()
        .await?
        .json()
        .await?;
    for change in history["changes"].as_array().into_iter().flatten() {
        println!(
            "   {} {} by {} at node {}: {}",
            change["time"].as_str().unwrap_or_default(),
            change["kind"].as_str().unwrap_or_default(),
            change["user"].as_str().unwrap_or_default(),
            change["node"].as_str().unwrap_or_default(),
            change["fields"]
        );
    }

    for (title, query) in [
        (
            "GET /api/v1/search?q=恒远 — a two-character fragment of the name",
            "恒远",
        ),
        (
            "GET /api/v1/search?q=XK06-001-00123 — the licence number without its prefix",
            "XK06-001-00123",
        ),
        (
            "GET /api/v1/search?q=电缆 — a common fragment, first page of three",
            "电缆",
        ),
    ] {
        step(title);
        let started = Instant::now();
        let page: Value = client
            .get(format!("{base}/api/v1/search"))
            .query(&[("q", query), ("limit", "3")])
            .bearer_auth(&clerk)
            .send()
            .await?
            .json()
            .await?;
        let elapsed = started.elapsed();
        for item in page["items"].as_array().into_iter().flatten() {
            println!(
                "   {} {} {}",
                item["fields"]["licence_number"]
                    .as_str()
                    .unwrap_or_default(),
                item["fields"]["enterprise_name"]
                    .as_str()
                    .unwrap_or_default(),
                item["jurisdiction"].as_str().unwrap_or_default()
            );
        }
        println!(
            "   ({:.1} ms over HTTP, next page cursor {})",
            elapsed.as_secs_f64() * 1000.0,
            page["next"]
        );
    }

    step("GET /api/v1/licences/records?within=330100&limit=3 — licences of Hangzhou's subtree");
    let page: Value = client
        .get(format!(
            "{base}/api/v1/licences/records?within=330100&limit=3"
        ))
        .bearer_auth(&clerk)
        .send()
        .await?
        .json()
        .await?;
    for item in page["items"].as_array().into_iter().flatten() {
        println!(
            "   {} {}",
            item["jurisdiction"].as_str().unwrap_or_default(),
            item["fields"]["enterprise_name"]
                .as_str()
                .unwrap_or_default()
        );
    }

    step("POST a licence with a malformed credit code — refused, nothing written");
    let mut bad = licence.clone();
    bad["credit_code"] = json!("NOT-A-CODE");
    let response = client
        .post(format!("{base}/api/v1/licences/records"))
        .bearer_auth(&clerk)
        .json(&bad)
        .send()
        .await?;
    println!("   {}: {}", response.status(), response.text().await?);

    step("PATCH the licence's status to 注销 (cancelled) as the clerk — an approval, refused");
    let response = client
        .patch(format!("{base}/api/v1/records/{id}"))
        .bearer_auth(&clerk)
        .json(&json!({ "status": "cancelled" }))
        .send()
        .await?;
    println!("   {}: {}", response.status(), response.text().await?);
    Ok(())
}
