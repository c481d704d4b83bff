//! `licnode demo`: a live demonstration on the embedded default (SQLite). It builds a real
//! hierarchy on this machine — the national node, two provinces, two counties under each, with
//! real division codes — issues their certificates, starts every node on loopback, seeds
//! realistic records through the bulk path, shows licences and archives flowing up and the
//! registries flowing down over mutual TLS until the tree is in step, walks through a
//! province's staff API over HTTP, prints each node's URL, and keeps serving until interrupted.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use serde_json::{Value, json};

use crate::config::Config;
use crate::node::{Node, NodeHandle};

/// The demo accounts' password (a demonstration node on loopback only).
const DEMO_PASSWORD: &str = "demo-password";

/// What `licnode demo` is told.
#[derive(clap::Args)]
pub struct DemoOptions {
    /// The demo node's directory (kept between runs).
    #[arg(long, default_value = "licnode-demo")]
    pub dir: PathBuf,
    /// Address of the demo node's staff API.
    #[arg(long, default_value = "127.0.0.1:8640")]
    pub listen: SocketAddr,
    /// Licences to seed.
    #[arg(long, default_value_t = 20_000)]
    pub licences: usize,
    /// Stop after the walk-through instead of serving until interrupted.
    #[arg(long)]
    pub exit: bool,
}

/// One node of the demo tree.
struct DemoNode {
    dir_name: &'static str,
    code: &'static str,
    level: &'static str,
    name: &'static str,
    /// Index of the parent in [`TREE`].
    parent: Option<usize>,
}

/// The national node, two provinces, two counties under each: real division codes.
const TREE: [DemoNode; 7] = [
    DemoNode {
        dir_name: "national",
        code: "100000",
        level: "national",
        name: "全国工业产品生产许可证审查中心",
        parent: None,
    },
    DemoNode {
        dir_name: "zhejiang",
        code: "330000",
        level: "province",
        name: "浙江省市场监督管理局",
        parent: Some(0),
    },
    DemoNode {
        dir_name: "jiangsu",
        code: "320000",
        level: "province",
        name: "江苏省市场监督管理局",
        parent: Some(0),
    },
    DemoNode {
        dir_name: "xihu",
        code: "330106",
        level: "county",
        name: "杭州市西湖区市场监督管理局",
        parent: Some(1),
    },
    DemoNode {
        dir_name: "binjiang",
        code: "330108",
        level: "county",
        name: "杭州市滨江区市场监督管理局",
        parent: Some(1),
    },
    DemoNode {
        dir_name: "xuanwu",
        code: "320102",
        level: "county",
        name: "南京市玄武区市场监督管理局",
        parent: Some(2),
    },
    DemoNode {
        dir_name: "gulou",
        code: "320106",
        level: "county",
        name: "南京市鼓楼区市场监督管理局",
        parent: Some(2),
    },
];

/// How many consecutive ports from `--listen` the demo's nodes listen on ([`addresses`]).
pub const LISTEN_PORTS: u16 = PORT_STRIDE * (TREE.len() as u16 - 1) + 2;

/// The ports between one node's first port and the next node's.
const PORT_STRIDE: u16 = 10;

/// The staff and peer addresses of node `index`, from the base address.
fn addresses(base: SocketAddr, index: usize) -> (SocketAddr, SocketAddr) {
    let port = base.port() + PORT_STRIDE * index as u16;
    (
        SocketAddr::new(base.ip(), port),
        SocketAddr::new(base.ip(), port + 1),
    )
}

#[derive(clap::Parser)]
struct PkiLine {
    #[command(subcommand)]
    command: crate::pki_cli::PkiCommand,
}

/// Runs one `licnode pki …` command in-process.
async fn pki(arguments: &[&str]) -> anyhow::Result<()> {
    use clap::Parser;
    let line = PkiLine::try_parse_from(std::iter::once("pki").chain(arguments.iter().copied()))?;
    crate::pki_cli::run(line.command)
        .await
        .with_context(|| format!("licnode pki {}", arguments.join(" ")))
}

/// Creates the seven node directories and their certificates, as README's "Setting up a
/// hierarchy" does by hand.
pub(crate) async fn build_tree(dir: &std::path::Path, base: SocketAddr) -> anyhow::Result<()> {
    init_node_directories(dir, base)?;
    issue_certificates(dir).await
}

/// `licnode init` for every node of [`TREE`], each dialling its parent's peer address.
fn init_node_directories(dir: &std::path::Path, base: SocketAddr) -> anyhow::Result<()> {
    for (index, node) in TREE.iter().enumerate() {
        let (listen, peer) = addresses(base, index);
        crate::init::init(crate::init::InitOptions {
            dir: dir.join(node.dir_name),
            code: node.code.into(),
            level: node.level.into(),
            name: node.name.into(),
            parent_url: node
                .parent
                .map(|parent| format!("https://{}", addresses(base, parent).1)),
            database_url: None,
            listen,
            peer_listen: (node.level != "county").then_some(peer),
            force: false,
        })?;
    }
    Ok(())
}

/// A path under the demo directory, as a command-line argument.
fn demo_path(dir: &std::path::Path, name: &str) -> String {
    dir.join(name).display().to_string()
}

/// The root CA, an intermediate CA per province, and a certificate for every node, installed
/// with the root and the CRLs of the CAs above it.
async fn issue_certificates(dir: &std::path::Path) -> anyhow::Result<()> {
    let path = |name: &str| demo_path(dir, name);
    let root_ca = path("national/pki/ca");
    let root = path("national/pki/ca/root.crt");
    let national_crl = path("national/pki/ca/crl.pem");
    pki(&["init-root", "--ca-dir", &root_ca]).await?;
    for node in &TREE {
        let node_dir = path(node.dir_name);
        let csr = path(&format!("{}/pki/request.csr", node.dir_name));
        let certificate = path(&format!("{}.crt", node.dir_name));
        // Who signs the node certificate, and the CRLs of the CAs above the node.
        let (signing_ca, crls) = match node.parent {
            None => (root_ca.clone(), Vec::new()),
            Some(0) => {
                issue_province_authority(dir, node, &root_ca, &root).await?;
                (root_ca.clone(), vec![national_crl.clone()])
            }
            Some(parent) => {
                let parent_name = TREE[parent].dir_name;
                (
                    path(&format!("{parent_name}/pki/ca")),
                    vec![
                        national_crl.clone(),
                        path(&format!("{parent_name}/pki/ca/crl.pem")),
                    ],
                )
            }
        };
        pki(&[
            "request", "--dir", &node_dir, "--code", node.code, "--level", node.level,
        ])
        .await?;
        pki(&[
            "sign",
            "--ca-dir",
            &signing_ca,
            "--csr",
            &csr,
            "--out",
            &certificate,
        ])
        .await?;
        let mut install = vec![
            "install",
            "--dir",
            &node_dir,
            "--cert",
            &certificate,
            "--root",
            &root,
        ];
        for crl in &crls {
            install.extend(["--crl", crl.as_str()]);
        }
        pki(&install).await?;
    }
    Ok(())
}

/// A province's intermediate CA for its subtree, signed by the root; the national node is
/// given its CRL, to check the province CA's revocations too.
async fn issue_province_authority(
    dir: &std::path::Path,
    node: &DemoNode,
    root_ca: &str,
    root: &str,
) -> anyhow::Result<()> {
    let path = |name: &str| demo_path(dir, name);
    let ca_dir = path(&format!("{}/pki/ca", node.dir_name));
    let ca_csr = path(&format!("{}/pki/ca/request.csr", node.dir_name));
    let ca_certificate = path(&format!("{}-ca.crt", node.dir_name));
    pki(&[
        "request", "--ca-dir", &ca_dir, "--code", node.code, "--level", node.level,
    ])
    .await?;
    pki(&[
        "sign",
        "--ca-dir",
        root_ca,
        "--csr",
        &ca_csr,
        "--ca",
        "--out",
        &ca_certificate,
    ])
    .await?;
    pki(&[
        "install",
        "--ca-dir",
        &ca_dir,
        "--cert",
        &ca_certificate,
        "--root",
        root,
    ])
    .await?;
    let province_crl = path(&format!("{}/pki/ca/crl.pem", node.dir_name));
    pki(&[
        "install",
        "--dir",
        &path("national"),
        "--crl",
        &province_crl,
    ])
    .await
}

/// Runs the demonstration.
pub async fn run(options: DemoOptions) -> anyhow::Result<()> {
    let dir = &options.dir;
    if !dir.join("national").join("licnode.toml").exists() {
        println!(
            "== building the tree in {}: 7 nodes, their certificates",
            dir.display()
        );
        build_tree(dir, options.listen).await?;
    }
    let handles = start_nodes(dir).await?;
    println!("== 7 nodes serving on SQLite, children dialling their parents over mutual TLS");

    let empty = handles[0].archive().counts().await?.is_empty();
    if empty {
        seed_tree(&handles, options.licences).await?;
    }
    wait_until_in_step(&handles, options.licences).await?;
    add_demo_accounts(&handles).await?;
    let base = format!("http://{}", handles[1].local_addr());
    println!("\n== the staff API of 330000 浙江省市场监督管理局");
    walk_through(&base).await?;
    print_node_addresses(&handles, &base);
    if options.exit {
        for handle in handles {
            handle.shutdown().await?;
        }
        return Ok(());
    }
    println!("   ctrl-c stops them; the data stays in {}", dir.display());
    let _ = tokio::signal::ctrl_c().await;
    for handle in handles {
        handle.shutdown().await?;
    }
    Ok(())
}

/// Starts every node of [`TREE`] from its directory, syncing often: a demo wants to see
/// things move.
async fn start_nodes(dir: &std::path::Path) -> anyhow::Result<Vec<NodeHandle>> {
    let mut handles = Vec::new();
    for node in &TREE {
        let mut config = Config::load(&dir.join(node.dir_name).join("licnode.toml"))?;
        config.sync.interval = std::time::Duration::from_secs(5);
        config.sync.debounce = std::time::Duration::from_secs(1);
        let handle = Node::start(&config).await?;
        handles.push(handle);
    }
    Ok(handles)
}

/// Registries at national, `licences` licences (and refusals) at each province, archives and
/// applications at the counties.
async fn seed_tree(handles: &[NodeHandle], licences: usize) -> anyhow::Result<()> {
    let started = Instant::now();
    seed(
        handles[0].archive(),
        &[
            ("reviewers", 120),
            ("inspection_bodies", 12),
            ("publications", 10),
        ],
        "100000",
    )
    .await?;
    for province in [1, 2] {
        let count = licences;
        seed(
            handles[province].archive(),
            &[("licences", count), ("refusals", count / 20)],
            TREE[province].code,
        )
        .await?;
    }
    for county in 3..7 {
        seed(
            handles[county].archive(),
            &[("quality_archives", 50), ("applications", 100)],
            TREE[county].code,
        )
        .await?;
    }
    println!(
        "-- seeded in {:.1} s: registries at national, licences at the provinces, archives at the counties",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Watches records flow up and registries flow down until the tree is in step, printing each
/// node's counts every two seconds; then checks sibling isolation. Gives up after 3 minutes.
async fn wait_until_in_step(handles: &[NodeHandle], licences: usize) -> anyhow::Result<()> {
    let expected_licences = 2 * licences as i64;
    let deadline = Instant::now() + std::time::Duration::from_secs(180);
    loop {
        let mut table = Vec::new();
        for (index, handle) in handles.iter().enumerate() {
            let counts: std::collections::HashMap<String, i64> =
                handle.archive().counts().await?.into_iter().collect();
            table.push((index, counts));
        }
        let count =
            |index: usize, collection: &str| table[index].1.get(collection).copied().unwrap_or(0);
        let national_has_all =
            count(0, "licences") >= expected_licences && count(0, "quality_archives") >= 200;
        let counties_have_registries = (3..7).all(|county| count(county, "reviewers") >= 120);
        println!("\n   node      licences  refusals  archives  reviewers  insp.bodies");
        for (index, _) in &table {
            println!(
                "   {:<8} {:>9} {:>9} {:>9} {:>10} {:>12}",
                TREE[*index].code,
                count(*index, "licences"),
                count(*index, "refusals"),
                count(*index, "quality_archives"),
                count(*index, "reviewers"),
                count(*index, "inspection_bodies")
            );
        }
        if national_has_all && counties_have_registries {
            let isolated = counties_hold_only_their_own_archives(handles, &count).await?;
            println!(
                "-- in step: every licence and archive reached national; the registries reached every county"
            );
            println!(
                "   sibling isolation: {}",
                if isolated {
                    "every county holds only its own archives"
                } else {
                    "VIOLATED — a county holds another county's archives"
                }
            );
            anyhow::ensure!(isolated, "sibling isolation violated");
            return Ok(());
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "the tree did not get in step within 3 minutes"
        );
        tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    }
}

/// Sibling isolation, checked in each county's database: every archive it holds (`count`) is
/// its own.
async fn counties_hold_only_their_own_archives(
    handles: &[NodeHandle],
    count: &impl Fn(usize, &str) -> i64,
) -> anyhow::Result<bool> {
    let mut isolated = true;
    for county in 3..7 {
        let own = handles[county]
            .archive()
            .list(&licnode_store::ListQuery {
                collection: "quality_archives".into(),
                jurisdiction: Some(TREE[county].code.into()),
                limit: 1_000,
                ..Default::default()
            })
            .await?
            .items
            .len() as i64;
        isolated &= own == count(county, "quality_archives");
    }
    Ok(isolated)
}

/// Every node gets a clerk, an approver, an administrator and an auditor, so each node's web
/// application can be signed into at once, in every role.
async fn add_demo_accounts(handles: &[NodeHandle]) -> anyhow::Result<()> {
    for handle in handles {
        for (name, display_name, role) in [
            ("wang", "王芳（受理员）", licnode_store::Role::Clerk),
            ("li", "李强（审批人）", licnode_store::Role::Approver),
            (
                "zhang",
                "张敏（系统管理员）",
                licnode_store::Role::Administrator,
            ),
            ("zhao", "赵伟（审计员）", licnode_store::Role::Auditor),
        ] {
            match handle
                .archive()
                .add_user(
                    &licnode_app::Author::operator("demo"),
                    name,
                    display_name,
                    role,
                    DEMO_PASSWORD,
                )
                .await
            {
                Ok(_) | Err(licnode_store::AccountError::Exists(_)) => {}
                Err(error) => return Err(error.into()),
            }
        }
    }
    Ok(())
}

/// Where each node serves, the public search, and a curl line to try the staff API at `base`.
fn print_node_addresses(handles: &[NodeHandle], base: &str) {
    println!(
        "\n== the nodes: open the web application in a browser and sign in as wang (clerk), li \
         (approver), zhang (administrator) or zhao (auditor), password {DEMO_PASSWORD:?}; the staff API is under /api/v1:"
    );
    for (index, handle) in handles.iter().enumerate() {
        println!(
            "   {} {:<28} http://{}/",
            TREE[index].code,
            TREE[index].name,
            handle.local_addr()
        );
    }
    println!(
        "   public search: http://{}/public/licences",
        handles[0].local_addr()
    );
    println!(
        "   try: TOKEN=$(curl -s -X POST {base}/api/v1/auth/login -H 'content-type: application/json' \\\n\
         \x20           -d '{{\"name\": \"wang\", \"password\": \"{DEMO_PASSWORD}\"}}' | sed -n 's/.*\"token\":\"\\([^\"]*\\)\".*/\\1/p')"
    );
    println!("        curl -s -H \"authorization: Bearer $TOKEN\" {base}/api/v1/sync/status");
}

async fn seed(
    archive: &licnode_app::Archive,
    plan: &[(&str, usize)],
    within: &str,
) -> anyhow::Result<()> {
    let mut generator = licnode_gen::Generator::new(2026 ^ within.parse::<u64>().unwrap_or(0));
    let counties = licnode_model::divisions::counties_within(within);
    for (name, count) in plan {
        let collection = licnode_model::collection(name).context("collection")?;
        let mut writer =
            licnode_app::BulkWriter::new(archive, name, &licnode_app::Author::operator("demo"))?;
        let mut rows = Vec::with_capacity(1_000);
        for index in 0..*count {
            let jurisdiction = if counties.is_empty() {
                within.to_string()
            } else {
                counties[index % counties.len()].code.clone()
            };
            rows.push(licnode_app::BulkRow {
                fields: generator.record(collection, &jurisdiction),
                jurisdiction: Some(jurisdiction),
            });
            if rows.len() == 1_000 || index + 1 == *count {
                let (refused, _) = writer.write(std::mem::take(&mut rows)).await?;
                if let Some((_, error)) = refused.first() {
                    anyhow::bail!("seeding {name} at {within}: {error}");
                }
            }
        }
        writer.finish().await?;
    }
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

/// Prints the title of a step of the walk-through.
fn step(title: &str) {
    println!("\n>> {title}");
}

/// A walk through the staff API at `base`: log in, create, correct, read the history, search,
/// list a subtree, and two writes that are refused.
async fn walk_through(base: &str) -> anyhow::Result<()> {
    let client = reqwest::Client::new();
    step("POST /api/v1/auth/login — clerk 王芳 (wang) and approver 李强 (li) log in");
    let clerk = login(&client, base, "wang").await?;
    let approver = login(&client, base, "li").await?;
    println!("   session tokens issued (they expire after 8 hours)");

    let (licence, id) = create_licence(&client, base, &clerk).await?;
    correct_and_show_history(&client, base, &clerk, &approver, &id).await?;
    search_and_list(&client, base, &clerk).await?;
    show_refused_writes(&client, base, &clerk, &licence, &id).await
}

/// A clerk of 西湖区 creates a licence; the licence as sent and its id.
async fn create_licence(
    client: &reqwest::Client,
    base: &str,
    clerk: &str,
) -> anyhow::Result<(Value, String)> {
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
        .bearer_auth(clerk)
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
    Ok((licence, id))
}

/// An approver corrects the licence; its history shows who changed what.
async fn correct_and_show_history(
    client: &reqwest::Client,
    base: &str,
    clerk: &str,
    approver: &str,
    id: &str,
) -> anyhow::Result<()> {
    step("PATCH /api/v1/records/{id} — an approver corrects the production address");
    let response = client
        .patch(format!("{base}/api/v1/records/{id}"))
        .bearer_auth(approver)
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
        .bearer_auth(clerk)
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

    Ok(())
}

/// Searches by name fragment and licence number, and a page of a subtree's licences.
async fn search_and_list(client: &reqwest::Client, base: &str, clerk: &str) -> anyhow::Result<()> {
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
            .bearer_auth(clerk)
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
        .bearer_auth(clerk)
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

    Ok(())
}

/// A malformed licence and a clerk's attempt at an approver's change: both refused.
async fn show_refused_writes(
    client: &reqwest::Client,
    base: &str,
    clerk: &str,
    licence: &Value,
    id: &str,
) -> anyhow::Result<()> {
    step("POST a licence with a malformed credit code — refused, nothing written");
    let mut bad = licence.clone();
    bad["credit_code"] = json!("NOT-A-CODE");
    let response = client
        .post(format!("{base}/api/v1/licences/records"))
        .bearer_auth(clerk)
        .json(&bad)
        .send()
        .await?;
    println!("   {}: {}", response.status(), response.text().await?);

    step("PATCH the licence's status to 注销 (cancelled) as the clerk — an approval, refused");
    let response = client
        .patch(format!("{base}/api/v1/records/{id}"))
        .bearer_auth(clerk)
        .json(&json!({ "status": "cancelled" }))
        .send()
        .await?;
    println!("   {}: {}", response.status(), response.text().await?);
    Ok(())
}
