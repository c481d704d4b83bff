//! A county clerk's quality archive travels up and the province's clerk finds it, in real
//! headless Chromium (JavaScript off) against real nodes replicating over mutual TLS (issue 12
//! acceptance; items 2–4): the clerk signs in at the county (330106), records the archive
//! through the form generated from the model, the county syncs with its province (330000), and
//! the province's clerk finds it in the province's list, newest first. The county's record
//! page then says the province acknowledged it. Screenshots of the list and the record page
//! are kept under `target/test-artifacts/`.
//!
//! Needs Debian's `chromium` and `chromium-driver`; without them the test fails when `CI` is
//! set and is skipped, saying why, otherwise.

mod support;

use std::path::Path;
use std::time::Duration;

use licnode::sync_cli::session;
use licnode::{Config, Node};
use licnode_store::Role;
use licnode_testkit::browser::{Browser, Viewport};
use support::{NATIONAL, XIHU, ZHEJIANG};

const PASSWORD: &str = "a long enough password";

fn node_config(dir: &Path, name: &str, parent_url: Option<String>) -> Config {
    let mut config = Config::load(&dir.join(name).join("licnode.toml")).expect("config");
    config.node.parent_url = parent_url;
    config.sync.enabled = false;
    config
}

/// Types a date into a date input, whatever order of year, month and day the browser's
/// locale shows, and checks the value the form will send.
async fn fill_date(browser: &Browser, css: &str, iso: &str) {
    let (year, rest) = iso.split_at(4);
    let (month, day) = (&rest[1..3], &rest[4..6]);
    for typed in [
        format!("{year}{month}{day}"),
        format!("{month}{day}{year}"),
        format!("{day}{month}{year}"),
    ] {
        browser.fill(css, &typed).await.expect("type the date");
        let value = browser
            .find(css)
            .await
            .expect("date input")
            .prop("value")
            .await
            .expect("value");
        if value.as_deref() == Some(iso) {
            return;
        }
    }
    panic!("the date input did not take {iso}");
}

/// Fills the county's form for a new quality archive of `enterprise` and saves it; returns
/// the record page's URL.
async fn record_through_the_form(browser: &Browser, county: &str, enterprise: &str) -> String {
    browser
        .open(&format!("{county}/collections/quality_archives/new"))
        .await
        .expect("the form");
    let model = licnode_model::collection("quality_archives").expect("collection");
    let generated = licnode_gen::Generator::new(11).record(model, "330106");
    let text = |name: &str| {
        generated
            .get(name)
            .and_then(|value| value.as_str())
            .expect("a generated value")
            .to_string()
    };
    let (licence_number, credit_code) = (text("licence_number"), text("credit_code"));
    for (name, value) in [
        ("enterprise_name", enterprise),
        ("licence_number", licence_number.as_str()),
        ("credit_code", credit_code.as_str()),
        ("product_category", "电线电缆"),
        ("product_name", "额定电压450/750V及以下聚氯乙烯绝缘电缆"),
    ] {
        browser
            .fill(&format!("[name='{name}']"), value)
            .await
            .expect("type a field");
    }
    browser
        .choose("select[name=division_code]", "330106")
        .await
        .expect("the division");
    fill_date(browser, "input[name=valid_until]", "2028-12-31").await;
    browser
        .click("form.record button[type=submit]")
        .await
        .expect("save");
    if browser
        .wait_for_text("修改记录", Duration::from_secs(10))
        .await
        .is_err()
    {
        let source = browser.source().await.unwrap_or_default();
        panic!("the archive was not saved: {source}");
    }
    let record_url = browser.current_url().await.expect("url");
    assert!(record_url.contains("/records/"), "{record_url}");
    record_url
}

/// The province's clerk signs in, finds `enterprise` first in the province's list (newest
/// first) and by two characters of its name.
async fn province_clerk_finds(province: &str, enterprise: &str) {
    let province_browser = Browser::start(Viewport::Desktop)
        .await
        .expect("a second browser")
        .expect("Chromium is here");
    province_browser
        .sign_in(province, "clerk", PASSWORD)
        .await
        .expect("signed in");
    province_browser
        .open(&format!("{province}/collections/quality_archives"))
        .await
        .expect("the list");
    province_browser
        .wait_for_text(enterprise, Duration::from_secs(10))
        .await
        .expect("the county's archive is in the province's list");
    let first_row = province_browser
        .text("table.list tbody tr")
        .await
        .expect("a row");
    assert!(first_row.contains(enterprise), "{first_row}");
    assert!(first_row.contains("330106"), "{first_row}");
    province_browser
        .screenshot("province-list-finds-county-quality-archive")
        .await
        .expect("screenshot");
    // And by two characters of its name.
    province_browser
        .fill("input[name=q]", "西溪")
        .await
        .expect("search");
    province_browser
        .click("form.filters button[type=submit]")
        .await
        .expect("search");
    province_browser
        .wait_for_text(enterprise, Duration::from_secs(10))
        .await
        .expect("found by name");
    province_browser.close().await.expect("close");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_county_clerks_quality_archive_reaches_the_provinces_list_after_the_nodes_sync() {
    let Some(browser) = Browser::start(Viewport::Desktop)
        .await
        .expect("headless Chromium starts")
    else {
        return;
    };
    let dir = tempfile::tempdir().expect("dir");
    let root = dir.path().to_owned();
    tokio::task::spawn_blocking(move || support::issue_tree(&root, &[NATIONAL, ZHEJIANG, XIHU]))
        .await
        .expect("tree");
    let dir = dir.path();
    let national = Node::start(&node_config(dir, "national", None))
        .await
        .expect("national");
    let national_url = format!("https://{}", national.peer_addr().expect("peer"));
    let zhejiang = Node::start(&node_config(dir, "zhejiang", Some(national_url)))
        .await
        .expect("zhejiang");
    let zhejiang_url = format!("https://{}", zhejiang.peer_addr().expect("peer"));
    let xihu = Node::start(&node_config(dir, "xihu", Some(zhejiang_url.clone())))
        .await
        .expect("xihu");
    for node in [&xihu, &zhejiang] {
        node.archive()
            .store_for_tests()
            .add_user("clerk", "经办人小王", Role::Clerk, PASSWORD)
            .await
            .expect("clerk");
    }
    let county = format!("http://{}", xihu.local_addr());
    let province = format!("http://{}", zhejiang.local_addr());

    // The county clerk records a quality archive through the form (Art. 12, 29).
    browser
        .sign_in(&county, "clerk", PASSWORD)
        .await
        .expect("signed in");
    let enterprise = "杭州西溪精工电器有限公司";
    let record_url = record_through_the_form(&browser, &county, enterprise).await;

    // The county syncs with its province.
    session(xihu.archive(), xihu.tls().expect("tls"), &zhejiang_url)
        .await
        .expect("county session");

    // The province's clerk finds it in the province's list, newest first.
    province_clerk_finds(&province, enterprise).await;

    // Back at the county: the record's page says the province acknowledged its newest change.
    browser.open(&record_url).await.expect("record page");
    browser
        .wait_for_text("已确认收到", Duration::from_secs(10))
        .await
        .expect("the province acknowledged it");
    // Scrolled to the time limits and the travel (the same document: no reload).
    browser
        .open(&format!("{record_url}#deadlines"))
        .await
        .expect("record page");
    let travel = browser.text("#travel").await.expect("travel");
    assert!(travel.contains("330000"), "{travel}");
    assert!(browser.source().await.expect("source").contains("法定时限"));
    browser
        .screenshot("county-record-page-travel-and-deadlines")
        .await
        .expect("screenshot");
    browser.close().await.expect("close");

    xihu.shutdown().await.expect("shutdown");
    zhejiang.shutdown().await.expect("shutdown");
    national.shutdown().await.expect("shutdown");
}
