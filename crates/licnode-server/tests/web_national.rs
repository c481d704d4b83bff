//! The national view through real HTTP with a cookie session, on SQLite and PostgreSQL (issue
//! 12 item 7; Art. 18–20): who submitted each month's and year's report, who is missing and how
//! many days late against the statutory due dates, totals; and the network's links as the
//! nodes below reported them, the stale and failing first.

mod web_client;
mod web_support;

use licnode_store::link_reports::{LinkDirection, LinkReport};
use licnode_testkit::BACKENDS;
use reqwest::StatusCode;
use web_support::{Browser, national, province, report_arrives};

/// The cell of `reporter` for `period` in the monthly matrix: its state and its text.
fn cell(body: &str, kind: &str, reporter: &str, period: &str) -> (String, String) {
    let table_at = body
        .find(&format!("data-kind=\"{kind}\""))
        .unwrap_or_else(|| panic!("the {kind} matrix: {body}"));
    let table = &body[table_at..];
    let row_at = table
        .find(&format!("data-reporter=\"{reporter}\""))
        .unwrap_or_else(|| panic!("a row of {reporter}"));
    let row = &table[row_at
        ..table[row_at..]
            .find("</tr>")
            .map_or(table.len(), |end| row_at + end)];
    let cell_at = row
        .find(&format!("data-period=\"{period}\""))
        .unwrap_or_else(|| panic!("{reporter}'s cell for {period}: {row}"));
    let cell = &row[cell_at..];
    let state_marker = "data-state=\"";
    let state_at = cell.find(state_marker).expect("a state") + state_marker.len();
    let state = cell[state_at..state_at + cell[state_at..].find('"').expect("end")].to_string();
    let text = cell[..cell.find("</td>").expect("cell end")].to_string();
    (state, text)
}

#[tokio::test]
async fn the_national_view_shows_who_submitted_who_is_missing_and_how_many_days_late() {
    for backend in BACKENDS {
        // Art. 19: October's report is due on 10 November; today is 20 November.
        let node = national(backend, "2026-11-20").await;
        report_arrives(
            &node,
            "330000",
            "2026-10",
            Some("2026-11-06T09:00:00+08:00"),
        )
        .await;
        report_arrives(
            &node,
            "320000",
            "2026-10",
            Some("2026-11-14T09:00:00+08:00"),
        )
        .await;
        report_arrives(&node, "340000", "2026-10", None).await;

        let mut browser = Browser::signed_in(&node, "auditor").await;
        let page = browser.get("/national").await;
        assert_eq!(page.status, StatusCode::OK, "{backend}: {}", page.body);
        assert!(page.body.contains("全国汇总"));
        assert!(page.body.contains("第18—20条"));

        let (state, text) = cell(&page.body, "monthly", "330000", "2026-10");
        assert_eq!(state, "submitted", "{text}");
        assert!(text.contains("2026-11-06"), "{text}");
        let (state, text) = cell(&page.body, "monthly", "320000", "2026-10");
        assert_eq!(state, "submitted_late", "{text}");
        assert!(text.contains("迟报4天"), "{text}");
        // A draft is not a submission: Anhui is missing, 10 days late, with a draft held.
        let (state, text) = cell(&page.body, "monthly", "340000", "2026-10");
        assert_eq!(state, "missing", "{text}");
        assert!(
            text.contains("逾期10天") && text.contains("有草稿"),
            "{text}"
        );
        // A province that sent nothing at all is missing too.
        let (state, text) = cell(&page.body, "monthly", "110000", "2026-10");
        assert_eq!(state, "missing", "{text}");
        assert!(text.contains("逾期10天"), "{text}");
        // Art. 20: this year's report was due on 31 October; nobody has sent it.
        let (state, _) = cell(&page.body, "yearly", "330000", "2026");
        assert_eq!(state, "missing");
        // The newest month in one line: who has not submitted it.
        let summary_at = page
            .body
            .find("class=\"summary\" data-period=\"2026-10\"")
            .expect("the newest month's summary");
        let summary =
            &page.body[summary_at..summary_at + page.body[summary_at..].find("</p>").expect("end")];
        assert!(
            summary.contains("已逾期未报送") && summary.contains("北京市"),
            "{summary}"
        );
        assert!(
            summary.contains("安徽省") && !summary.contains("浙江省"),
            "{summary}"
        );
        // Totals count the submitted reports only.
        assert!(page.body.contains("<td>2 / "), "{}", page.body);
    }
}

fn link(
    node: &str,
    peer: &str,
    direction: LinkDirection,
    success: Option<i64>,
    failures: i64,
) -> LinkReport {
    LinkReport {
        node: node.into(),
        peer: peer.into(),
        direction,
        last_success_ms: success,
        lag_up: Some(3),
        lag_down: Some(0),
        consecutive_failures: Some(failures),
        quarantined: Some(1),
        acknowledged: Some(10),
        pulled: Some(20),
        reported_at_ms: success.unwrap_or(0),
    }
}

#[tokio::test]
async fn the_link_table_shows_every_reported_link_with_the_stale_and_failing_first() {
    for backend in BACKENDS {
        let node = national(backend, "2026-11-20").await;
        let now = node.clock_now();
        let two_hours = 2 * 60 * 60 * 1000;
        node.store
            .record_link_reports(
                &[
                    link(
                        "330000",
                        "100000",
                        LinkDirection::Parent,
                        Some(now - 60_000),
                        0,
                    ),
                    link(
                        "330106",
                        "330000",
                        LinkDirection::Parent,
                        Some(now - two_hours),
                        0,
                    ),
                    link(
                        "330108",
                        "330000",
                        LinkDirection::Parent,
                        Some(now - 30_000),
                        4,
                    ),
                ],
                "330000",
                now,
            )
            .await
            .expect("reports");

        let mut browser = Browser::signed_in(&node, "clerk").await;
        let page = browser.get("/national").await;
        assert_eq!(page.status, StatusCode::OK, "{backend}: {}", page.body);
        let table_at = page
            .body
            .find("id=\"reported-links\"")
            .expect("the link table");
        let table = &page.body[table_at..];
        let position = |node: &str| {
            table
                .find(&format!("data-node=\"{node}\""))
                .unwrap_or_else(|| panic!("{node}'s link: {table}"))
        };
        // The stale county link (two hours) and the failing one come before the healthy one.
        assert!(position("330106") < position("330000"), "{backend}");
        assert!(position("330108") < position("330000"), "{backend}");
        assert!(table.contains("class=\"troubled\""));
        assert!(table.contains("异常"));
        assert!(table.contains("330106 西湖区"), "{table}");
        assert!(page.body.contains("共3条"));

        // A newer report of a link replaces the older; an older one does not.
        let kept = node
            .store
            .record_link_reports(
                &[link(
                    "330106",
                    "330000",
                    LinkDirection::Parent,
                    Some(now - two_hours - 1),
                    0,
                )],
                "330000",
                now,
            )
            .await
            .expect("older report");
        assert_eq!(kept, 0, "{backend}");
    }
}

#[tokio::test]
async fn a_province_sees_its_childrens_yearly_reports_and_receives_no_monthly_ones() {
    for backend in BACKENDS {
        let node = province(backend, "2026-11-20").await;
        let mut browser = Browser::signed_in(&node, "clerk").await;
        let page = browser.get("/national").await;
        assert_eq!(page.status, StatusCode::OK, "{backend}: {}", page.body);
        assert!(page.body.contains("下级报送与链路"));
        assert!(page.body.contains("本节点不接收月报"));
        // Art. 20: the prefectures report their year's supervision to the province.
        let (state, _) = cell(&page.body, "yearly", "330100", "2026");
        assert_eq!(state, "missing");
        assert!(page.body.contains("本节点尚未与上级或下级同步"));
    }
}

#[tokio::test]
async fn the_national_view_needs_a_session() {
    for backend in BACKENDS {
        let node = national(backend, "2026-11-20").await;
        let mut browser = web_support::Browser::new(&node);
        let page = browser.get("/national").await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{backend}");
        assert_eq!(page.location(), "/login");
    }
}
