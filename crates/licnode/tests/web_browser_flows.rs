//! The work flows of the staff web application in a real browser (issue 12, acceptance):
//! headless Chromium with JavaScript off, driven through WebDriver (`licnode_testkit::browser`),
//! against a provincial node started from its configuration. A clerk prepares a revocation and
//! the approver approves it, after which the public listing shows the licence revoked; the
//! approver runs and submits a monthly report, opens Attachment 1 and its print view, and
//! downloads the XLSX, which calamine opens. Screenshots are kept under
//! `target/test-artifacts/`.
//!
//! Needs Debian's `chromium` and `chromium-driver` (`.ci/run` installs them). Without them the
//! tests fail when `CI` is set and are skipped, saying why, otherwise.

use std::io::Cursor;
use std::time::Duration;

use calamine::{Reader, Xlsx};
use licnode::{Config, Node, NodeHandle};
use licnode_app::{Author, Clock as _};
use licnode_store::Role;
use licnode_testkit::browser::{Browser, Viewport};
use serde_json::json;

const PASSWORD: &str = "demo-password";
const WAIT: Duration = Duration::from_secs(15);

/// A provincial node with a clerk (`wang`) and an approver (`li`), as the demo has them.
async fn province(dir: &std::path::Path) -> NodeHandle {
    let config_path = dir.join("licnode.toml");
    std::fs::write(
        &config_path,
        "[node]\ncode = \"330000\"\nlevel = \"province\"\nname = \"浙江省市场监督管理局\"\n\
         [http]\nlisten = \"127.0.0.1:0\"\n",
    )
    .expect("config");
    let config = Config::load(&config_path).expect("config loads");
    let node = Node::start(&config).await.expect("node starts");
    for (name, display, role) in [
        ("wang", "王经办", Role::Clerk),
        ("li", "李审批", Role::Approver),
    ] {
        node.archive()
            .add_user(
                &licnode_app::Author::operator("console"),
                name,
                display,
                role,
                PASSWORD,
            )
            .await
            .expect("user");
    }
    node
}

async fn sign_out(browser: &Browser) {
    browser
        .click("header .user button")
        .await
        .expect("sign out");
    browser
        .wait_for_text("current-password", WAIT)
        .await
        .expect("signed out");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clerk_prepares_a_revocation_the_approver_approves_it_and_the_public_listing_shows_it_revoked()
 {
    let Some(browser) = Browser::start(Viewport::Desktop)
        .await
        .expect("headless Chromium starts")
    else {
        return;
    };
    let dir = tempfile::tempdir().expect("dir");
    let node = province(dir.path()).await;
    let base = format!("http://{}", node.local_addr());
    let model = licnode_model::collection("licences").expect("licences");
    let mut input = licnode_gen::Generator::new(71).record(model, "330106");
    let enterprise_name = "杭州澜湄精密电缆有限公司";
    input.insert("enterprise_name".into(), json!(enterprise_name));
    input.insert("status".into(), json!("valid"));
    let licence = node
        .archive()
        .create("licences", Some("330106"), &input, &Author::clerk("wang"))
        .await
        .expect("licence")
        .record
        .id;

    // The clerk prepares the revocation from the licence's page.
    browser
        .sign_in(&base, "wang", PASSWORD)
        .await
        .expect("signed in");
    browser
        .open(&format!("{base}/records/{licence}"))
        .await
        .expect("licence page");
    browser
        .click("a[href$='kind=revocation']")
        .await
        .expect("prepare a revocation");
    browser.wait_for_text("提交审批", WAIT).await.expect("form");
    browser
        .screenshot("web-licence-action-form")
        .await
        .expect("screenshot");
    browser
        .fill("textarea[name=reason]", "以欺骗手段取得生产许可证")
        .await
        .expect("reason");
    browser
        .fill("input[name=decision_number]", "浙市监许撤〔2026〕7号")
        .await
        .expect("decision number");
    browser
        .click("form.record button[type=submit]")
        .await
        .expect("submit");
    browser
        .wait_for_text("data-state=\"pending\"", WAIT)
        .await
        .expect("prepared");
    sign_out(&browser).await;

    // The approver approves it in one click from the list of what waits.
    browser
        .sign_in(&base, "li", PASSWORD)
        .await
        .expect("signed in");
    browser
        .open(&format!("{base}/licence-actions"))
        .await
        .expect("pending list");
    browser
        .wait_for_text(enterprise_name, WAIT)
        .await
        .expect("the action is listed");
    browser
        .screenshot("web-licence-actions-pending")
        .await
        .expect("screenshot");
    browser
        .click("#actions button[data-action=approve]")
        .await
        .expect("approve");
    browser
        .wait_for_text("data-state=\"approved\"", WAIT)
        .await
        .expect("approved");
    let stored = node.archive().get(&licence).await.expect("licence");
    assert_eq!(stored.data["status"], "revoked");

    // The public listing of the same node shows it among the ended licences, labelled revoked
    // (Art. 27, 28).
    browser
        .open(&format!("{base}/public/licences?q=澜湄&validity=ended"))
        .await
        .expect("public listing");
    browser
        .wait_for_text(enterprise_name, WAIT)
        .await
        .expect("the licence is listed");
    let card = browser.text("section.card").await.expect("a result");
    assert!(card.contains("撤销"), "{card}");
    browser.close().await.expect("browser closes");
    node.shutdown().await.expect("node stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_approver_runs_and_submits_a_monthly_report_and_downloads_attachment_1() {
    let Some(browser) = Browser::start(Viewport::Desktop)
        .await
        .expect("headless Chromium starts")
    else {
        return;
    };
    let dir = tempfile::tempdir().expect("dir");
    let node = province(dir.path()).await;
    let base = format!("http://{}", node.local_addr());
    let period = licnode_reports::Period::month_before(licnode_app::SystemClock.today());
    let model = licnode_model::collection("licences").expect("licences");
    let mut input = licnode_gen::Generator::new(72).record(model, "330106");
    input.insert("issue_date".into(), json!(period.first_day().to_string()));
    input.insert("enterprise_name".into(), json!("宁波海曙恒达阀门有限公司"));
    node.archive()
        .create("licences", Some("330106"), &input, &Author::clerk("wang"))
        .await
        .expect("licence");

    browser
        .sign_in(&base, "li", PASSWORD)
        .await
        .expect("signed in");
    browser
        .open(&format!("{base}/reports"))
        .await
        .expect("schedule");
    browser
        .fill("#run-period input[name=period]", &period.to_string())
        .await
        .expect("period");
    browser
        .click("#run-period button[type=submit]")
        .await
        .expect("run");
    browser
        .wait_for_text("submit-report", WAIT)
        .await
        .expect("the report");
    browser
        .click("#submit-report button")
        .await
        .expect("submit");
    browser
        .wait_for_text("data-status=\"submitted\"", WAIT)
        .await
        .expect("submitted");
    browser
        .wait_for_text("宁波海曙恒达阀门有限公司", WAIT)
        .await
        .expect("Attachment 1's first table lists the licence");
    browser
        .screenshot("web-report-attachment-1")
        .await
        .expect("screenshot");

    let workbook_text = download_xlsx(&browser, &base, &period.to_string()).await;
    assert!(
        workbook_text
            .iter()
            .any(|cell| cell == "宁波海曙恒达阀门有限公司")
    );

    // The print view: the original form, 附件1： and its overall title above the tables.
    browser.click("#print-view").await.expect("print view");
    browser
        .wait_for_text("class=\"print-view\"", WAIT)
        .await
        .expect("print view");
    let source = browser.source().await.expect("source");
    assert!(
        source.contains("附件1：") && source.contains("工业产品生产许可省级发证工作信息汇总表")
    );
    browser
        .screenshot("web-report-attachment-1-print")
        .await
        .expect("screenshot");
    browser.close().await.expect("browser closes");
    node.shutdown().await.expect("node stops");
}

/// Follows the report page's XLSX link with the session's cookie; the first table's cells of
/// the workbook, which must be a real XLSX.
async fn download_xlsx(browser: &Browser, base: &str, period: &str) -> Vec<String> {
    // The XLSX link, followed with the session's cookie.
    let href = browser
        .find("#download-xlsx")
        .await
        .expect("the download link")
        .attr("href")
        .await
        .expect("href")
        .expect("an href");
    let cookie = browser
        .client()
        .get_named_cookie(licnode_server::web::SESSION_COOKIE)
        .await
        .expect("the session cookie");
    let response = reqwest::Client::new()
        .get(format!("{base}{href}"))
        .header(
            "cookie",
            format!("{}={}", licnode_server::web::SESSION_COOKIE, cookie.value()),
        )
        .send()
        .await
        .expect("download");
    assert_eq!(response.status(), 200);
    let disposition = response.headers()["content-disposition"]
        .to_str()
        .expect("ascii")
        .to_string();
    assert!(
        disposition.contains(&format!("attachment1-{period}.xlsx")),
        "{disposition}"
    );
    let bytes = response.bytes().await.expect("bytes").to_vec();
    let mut workbook: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).expect("a real XLSX");
    let sheet = workbook
        .worksheet_range("获证企业")
        .expect("the first table");
    sheet
        .rows()
        .flat_map(|row| row.iter().map(|cell| cell.to_string()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_phone_the_approver_approves_from_the_pending_list() {
    let Some(browser) = Browser::start(Viewport::Phone)
        .await
        .expect("headless Chromium starts")
    else {
        return;
    };
    let dir = tempfile::tempdir().expect("dir");
    let node = province(dir.path()).await;
    let base = format!("http://{}", node.local_addr());
    let model = licnode_model::collection("licences").expect("licences");
    let mut input = licnode_gen::Generator::new(73).record(model, "330106");
    input.insert("status".into(), json!("valid"));
    let licence = node
        .archive()
        .create("licences", Some("330106"), &input, &Author::clerk("wang"))
        .await
        .expect("licence")
        .record
        .id;
    let mut fields = serde_json::Map::new();
    fields.insert("reason".into(), json!("企业申请注销"));
    fields.insert("event_date".into(), json!("2026-11-20"));
    node.archive()
        .prepare_licence_action(&licence, "cancellation", &fields, &Author::clerk("wang"))
        .await
        .expect("prepared");

    browser
        .sign_in(&base, "li", PASSWORD)
        .await
        .expect("signed in");
    browser
        .open(&format!("{base}/licence-actions"))
        .await
        .expect("pending list");
    browser
        .screenshot("web-licence-actions-pending-phone")
        .await
        .expect("screenshot");
    browser
        .click("#actions button[data-action=approve]")
        .await
        .expect("approve");
    browser
        .wait_for_text("data-state=\"approved\"", WAIT)
        .await
        .expect("approved");
    let stored = node.archive().get(&licence).await.expect("licence");
    assert_eq!(stored.data["status"], "cancelled");
    browser.close().await.expect("browser closes");
    node.shutdown().await.expect("node stops");
}
