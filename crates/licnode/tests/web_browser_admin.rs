//! The administration pages in a real browser: headless Chromium at 1366×768 with JavaScript
//! off, driven through WebDriver (`licnode_testkit::browser`), against nodes started from a
//! configuration as `licnode serve` starts them (issue 12, acceptance): an administrator
//! creates an account and the new user signs in; an auditor sees an altered audit entry
//! reported. Screenshots of the accounts page, the health page, the audit verdict and the
//! deadline board are kept under `target/test-artifacts/`.
//!
//! Needs Debian's `chromium` and `chromium-driver`. Without them the tests fail when `CI` is
//! set and are skipped, saying why, otherwise.

use std::sync::Arc;
use std::time::Duration;

use licnode::{Config, Node, NodeHandle};
use licnode_app::{Archive, Author, ManualClock};
use licnode_model::Level;
use licnode_store::Role;
use licnode_testkit::browser::{Browser, Viewport};
use serde_json::{Value, json};

const PASSWORD: &str = "correct horse battery";
const WAIT: Duration = Duration::from_secs(15);

/// A node from a configuration of `level`, on free ports, with `users`; its directory is kept
/// alive by the caller.
async fn start_node(
    dir: &tempfile::TempDir,
    node_section: &str,
    clock: Option<Arc<ManualClock>>,
    users: &[(&str, Role)],
) -> (NodeHandle, Config) {
    let config_path = dir.path().join("licnode.toml");
    std::fs::write(
        &config_path,
        format!("{node_section}[http]\nlisten = \"127.0.0.1:0\"\n"),
    )
    .expect("config");
    let config = Config::load(&config_path).expect("config loads");
    let node = match clock {
        Some(clock) => Node::start_with_clock(&config, clock).await,
        None => Node::start(&config).await,
    }
    .expect("node starts");
    for (name, role) in users {
        node.archive()
            .add_user(
                &licnode_app::Author::operator("console"),
                name,
                &format!("{name}（测试）"),
                *role,
                PASSWORD,
            )
            .await
            .expect("user");
    }
    (node, config)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_administrator_creates_an_account_in_chromium_and_the_new_user_signs_in() {
    let Some(browser) = Browser::start(Viewport::Desktop)
        .await
        .expect("headless Chromium starts")
    else {
        return;
    };
    let dir = tempfile::tempdir().expect("dir");
    let (node, _config) = start_node(
        &dir,
        "[node]\ncode = \"330000\"\nlevel = \"province\"\nname = \"浙江省市场监督管理局\"\n",
        None,
        &[("admin", Role::Administrator)],
    )
    .await;
    let base = format!("http://{}", node.local_addr());

    browser
        .sign_in(&base, "admin", PASSWORD)
        .await
        .expect("signed in");
    browser
        .click("nav.areas a[href='/admin/users']")
        .await
        .expect("the accounts link");
    browser
        .wait_for_text("新建账户", WAIT)
        .await
        .expect("accounts page");
    browser.fill("#account-name", "zhou").await.expect("name");
    browser
        .fill("#account-display-name", "周审批")
        .await
        .expect("display name");
    browser
        .choose("#account-role", "approver")
        .await
        .expect("role");
    browser
        .fill("#account-password", "zhou-initial-password")
        .await
        .expect("password");
    browser
        .click("#new-account button[type=submit]")
        .await
        .expect("create");
    browser
        .wait_for_text("账户：zhou", WAIT)
        .await
        .expect("the new account's page");
    assert_eq!(browser.text("#account-role").await.expect("role"), "审批人");
    browser
        .open(&format!("{base}/admin/users"))
        .await
        .expect("accounts");
    assert!(browser.source().await.expect("source").contains("周审批"));
    browser
        .screenshot("admin-accounts-after-creating-one")
        .await
        .expect("screenshot");

    // The node's health, as the administrator sees it.
    browser
        .open(&format!("{base}/health"))
        .await
        .expect("health");
    browser
        .wait_for_text("数据库", WAIT)
        .await
        .expect("health page");
    browser
        .screenshot("admin-health-page")
        .await
        .expect("screenshot");

    // Sign out; the new user signs in with the initial password and is an approver.
    browser
        .click("header form button[type=submit]")
        .await
        .expect("sign out");
    browser
        .wait_for_text("登录", WAIT)
        .await
        .expect("signed out");
    browser
        .sign_in(&base, "zhou", "zhou-initial-password")
        .await
        .expect("signed in");
    assert_eq!(browser.text("header .role").await.expect("role"), "审批人");
    assert!(
        browser
            .text("header .user-name")
            .await
            .expect("user")
            .contains("周审批")
    );
    browser
        .screenshot("admin-new-user-signed-in")
        .await
        .expect("screenshot");

    browser.close().await.expect("browser closes");
    node.shutdown().await.expect("node stops");
}

/// A record as replication would deliver it to the national node, written by `author_code`.
async fn arrive(archive: &Archive, author_code: &str, jurisdiction: &str, fields: Value) {
    let model = licnode_model::collection("inspections").expect("collection");
    let mut input = licnode_gen::Generator::new(9).record(model, jurisdiction);
    for (name, value) in fields.as_object().expect("fields") {
        if value.is_null() {
            input.remove(name);
        } else {
            input.insert(name.clone(), value.clone());
        }
    }
    Archive::with_level(
        archive.store_for_tests().clone(),
        author_code,
        Level::InspectionBody,
    )
    .create(
        "inspections",
        Some(jurisdiction),
        &input,
        &Author::approver("approver"),
    )
    .await
    .expect("record");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_auditor_sees_an_altered_audit_entry_reported_in_chromium() {
    let Some(browser) = Browser::start(Viewport::Desktop)
        .await
        .expect("headless Chromium starts")
    else {
        return;
    };
    let dir = tempfile::tempdir().expect("dir");
    let clock = ManualClock::at_date("2026-03-12".parse().expect("date"));
    let (node, config) = start_node(
        &dir,
        "[node]\ncode = \"100000\"\nlevel = \"national\"\nname = \"全国工业产品生产许可证审查中心\"\n",
        Some(clock),
        &[("auditor", Role::Auditor)],
    )
    .await;
    let base = format!("http://{}", node.local_addr());
    // Inspection results that arrived and were not reported on time (Art. 23: 5 days).
    for (jurisdiction, completed) in [
        ("330106", "2026-03-02"),
        ("320106", "2026-03-04"),
        ("440106", "2026-03-10"),
    ] {
        arrive(
            node.archive(),
            "IB0001",
            jurisdiction,
            json!({ "completion_date": completed, "reported_date": null }),
        )
        .await;
    }

    browser
        .sign_in(&base, "auditor", PASSWORD)
        .await
        .expect("signed in");
    browser
        .open(&format!("{base}/audit/verify"))
        .await
        .expect("verification");
    browser
        .click("#run-verification")
        .await
        .expect("run the verification");
    browser
        .wait_for_text("审计链完整", WAIT)
        .await
        .expect("intact first");

    // Someone with the database file rewrites who wrote the second entry.
    let pool = sqlx::SqlitePool::connect(&config.database_url())
        .await
        .expect("the node's database");
    sqlx::query("UPDATE audit_log SET user_name = 'intruder' WHERE seq = 2")
        .execute(&pool)
        .await
        .expect("tamper");
    pool.close().await;

    browser
        .open(&format!("{base}/audit/verify"))
        .await
        .expect("verification");
    browser
        .click("#run-verification")
        .await
        .expect("run the verification again");
    browser
        .wait_for_text("审计链不完整", WAIT)
        .await
        .expect("the altered entry is reported");
    let first = browser
        .text("#first-finding")
        .await
        .expect("the first finding");
    assert!(
        first.contains("第 2 条") && first.contains("记录内容被改动"),
        "{first}"
    );
    browser
        .screenshot("audit-verdict-altered-entry")
        .await
        .expect("screenshot");

    // The deadline board at national: late first, by rule and by province.
    browser
        .open(&format!("{base}/deadlines"))
        .await
        .expect("deadline board");
    browser
        .wait_for_text("按省份", WAIT)
        .await
        .expect("the national roll-up");
    let first_item = browser
        .text("#deadline-items tbody tr:first-child td:first-child")
        .await
        .expect("an item");
    assert!(first_item.starts_with("逾期"), "{first_item}");
    browser
        .screenshot("deadline-board-national")
        .await
        .expect("screenshot");

    browser.close().await.expect("browser closes");
    node.shutdown().await.expect("node stops");
}
