//! The national user sees a province missing from a month's report, in real headless Chromium
//! with JavaScript off (issue 12 acceptance; item 7; Art. 18, 19): Zhejiang's October report
//! has arrived, Beijing's has not, and on 20 November the national view shows Beijing's October
//! as not submitted, 10 days past the due date. Also a record's page at national with the time
//! limit it is part of (Art. 23) and where it travelled. Screenshots are kept under
//! `target/test-artifacts/`.
//!
//! Needs Debian's `chromium` and `chromium-driver`; without them the test fails when `CI` is
//! set and is skipped, saying why, otherwise.

mod web_client;
mod web_support;

use std::time::Duration;

use licnode_app::{Archive, Author};
use licnode_model::Level;
use licnode_store::link_reports::{LinkDirection, LinkReport};
use licnode_testkit::BACKENDS;
use licnode_testkit::browser::{Browser, Viewport};
use serde_json::json;
use web_support::{PASSWORD, national, record, report_arrives};

/// The province's link up, healthy, and a county's link to the province, failing for three
/// hours, as the province reported them.
async fn links_reported(node: &web_support::WebNode) {
    let now = node.clock_now();
    node.store
        .record_link_reports(
            &[
                LinkReport {
                    node: "330106".into(),
                    peer: "330000".into(),
                    direction: LinkDirection::Parent,
                    last_success_ms: Some(now - 3 * 60 * 60 * 1000),
                    lag_up: Some(12),
                    lag_down: Some(0),
                    consecutive_failures: Some(5),
                    quarantined: Some(0),
                    acknowledged: Some(40),
                    pulled: Some(90),
                    reported_at_ms: now - 3 * 60 * 60 * 1000,
                },
                LinkReport {
                    node: "330000".into(),
                    peer: "100000".into(),
                    direction: LinkDirection::Parent,
                    last_success_ms: Some(now - 60_000),
                    lag_up: Some(0),
                    lag_down: Some(0),
                    consecutive_failures: Some(0),
                    quarantined: Some(0),
                    acknowledged: Some(300),
                    pulled: Some(1),
                    reported_at_ms: now - 60_000,
                },
            ],
            "330000",
            now,
        )
        .await
        .expect("link reports");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_national_user_sees_a_province_missing_from_a_months_report_in_chromium() {
    let Some(browser) = Browser::start(Viewport::Desktop)
        .await
        .expect("headless Chromium starts")
    else {
        return;
    };
    let node = national(BACKENDS[0], "2026-11-20").await;
    report_arrives(
        &node,
        "330000",
        "2026-10",
        Some("2026-11-06T09:00:00+08:00"),
    )
    .await;
    links_reported(&node).await;

    browser
        .sign_in(&node.base, "auditor", PASSWORD)
        .await
        .expect("signed in");
    browser
        .open(&format!("{}/national", node.base))
        .await
        .expect("the national view");
    browser
        .wait_for_text("全国汇总", Duration::from_secs(10))
        .await
        .expect("the national view");
    let beijing = browser
        .text("table[data-kind=monthly] tr[data-reporter='110000'] td[data-period='2026-10']")
        .await
        .expect("Beijing's October");
    assert!(
        beijing.contains("未报送") && beijing.contains("逾期10天"),
        "{beijing}"
    );
    let zhejiang = browser
        .text("table[data-kind=monthly] tr[data-reporter='330000'] td[data-period='2026-10']")
        .await
        .expect("Zhejiang's October");
    assert!(zhejiang.contains("已报送"), "{zhejiang}");
    let first_link = browser
        .text("#reported-links tbody tr")
        .await
        .expect("a link");
    assert!(
        first_link.contains("330106") && first_link.contains("异常"),
        "{first_link}"
    );
    browser
        .screenshot("national-view-province-missing-monthly-report")
        .await
        .expect("screenshot");

    // A record's page: the time limit it is part of, and where it travelled.
    let inspection = Archive::with_level(node.store.clone(), "IB0001", Level::InspectionBody)
        .create(
            "inspections",
            Some("330106"),
            &record(
                "inspections",
                "330106",
                5,
                json!({ "completion_date": "2026-11-12", "reported_date": null }),
            ),
            &Author::clerk("clerk"),
        )
        .await
        .expect("inspection")
        .record;
    browser
        .open(&format!(
            "{}/records/{}#deadlines",
            node.base, inspection.id
        ))
        .await
        .expect("the record's page");
    browser
        .wait_for_text("法定时限", Duration::from_secs(10))
        .await
        .expect("the record's page");
    let deadlines = browser.text("#deadlines").await.expect("deadlines");
    assert!(deadlines.contains("已逾期3天"), "{deadlines}");
    let travel = browser.text("#travel").await.expect("travel");
    assert!(travel.contains("330000"), "{travel}");
    browser
        .screenshot("national-record-page-deadlines-and-travel")
        .await
        .expect("screenshot");
    browser.close().await.expect("close");

    // On a phone the matrix scrolls sideways inside the page.
    let phone = Browser::start(Viewport::Phone)
        .await
        .expect("a phone-sized browser")
        .expect("Chromium is here");
    phone
        .sign_in(&node.base, "auditor", PASSWORD)
        .await
        .expect("signed in");
    phone
        .open(&format!("{}/national", node.base))
        .await
        .expect("the national view");
    phone
        .wait_for_text("全国汇总", Duration::from_secs(10))
        .await
        .expect("the national view");
    phone
        .screenshot("national-view-on-a-phone")
        .await
        .expect("screenshot");
    phone.close().await.expect("close");
}
