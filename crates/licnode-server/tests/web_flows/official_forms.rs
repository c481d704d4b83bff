//! The official forms on the web: the print pages show every string of the original
//! (Attachments 1–3) in order with the records' values between them, in the same cells as the
//! downloads, and Attachment 1's 填报日期 is the report's or blank as the bureau chooses.

use licnode_app::Author;
use licnode_testkit::official_forms::{self, strings_of_grid, strings_of_html};
use reqwest::StatusCode;
use serde_json::{Value, json};

use super::harness::{Browser, PROVINCE, WebNode, database, serve};

const BLANK_FILL_DATE: &str = "填报日期：\u{a0}\u{a0}\u{a0}\u{a0} 年\u{3000} 月\u{3000} 日";

/// The strings of a page's official forms, in order.
pub(crate) fn printed_strings(page: &str) -> Vec<String> {
    let start = page
        .find("<div class=\"official-forms\">")
        .expect("the page shows an official form");
    let end = page[start..].find("</div>").expect("its end") + start;
    strings_of_html(&page[start..end])
}

/// The strings of a CSV download, in order.
pub(crate) fn csv_strings(bytes: &[u8]) -> Vec<String> {
    let text = String::from_utf8(bytes.to_vec()).expect("utf-8");
    let rows: Vec<Vec<String>> = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.trim_start_matches('\u{feff}').as_bytes())
        .records()
        .map(|row| row.expect("a row").iter().map(String::from).collect())
        .collect();
    strings_of_grid(&rows)
}

/// Every string of `expected` appears in `printed`, in the same order (the records' values
/// may stand between them).
pub(crate) fn assert_in_order(expected: &[String], printed: &[String]) {
    let mut rest = printed.iter();
    for text in expected {
        assert!(
            rest.any(|printed| printed == text),
            "{text:?} missing or out of order in {printed:?}"
        );
    }
}

/// `strings` with `from` replaced by `to` wherever it stands.
pub(crate) fn with(strings: Vec<String>, from: &str, to: &str) -> Vec<String> {
    strings
        .into_iter()
        .map(|text| if text == from { to.to_string() } else { text })
        .collect()
}

/// Attachment 1 of the report at `report_path`: the print page, with 填报日期 the report's and
/// blank, shows the original's strings in order and the same cells as the download.
pub(crate) async fn attachment_1_prints_the_original(
    browser: &mut Browser,
    node: &WebNode,
    report_path: &str,
) {
    let id = report_path.rsplit('/').next().expect("id");
    let report = node.archive.get(id).await.expect("report");
    let unit = report.data["reporting_unit"].as_str().expect("unit");
    let fill_date = chrono::NaiveDate::parse_from_str(
        report.data["fill_date"].as_str().expect("fill date"),
        "%Y-%m-%d",
    )
    .expect("a date");
    let stated = format!("填报日期：{}", licnode_reports::period::date_zh(fill_date));
    for (query, date_line) in [("", stated.as_str()), ("fill_date=blank", BLANK_FILL_DATE)] {
        let print = browser.get(&format!("{report_path}/print?{query}")).await;
        assert_eq!(print.status, StatusCode::OK, "{}", print.body);
        let printed = printed_strings(&print.body);
        let expected = with(
            official_forms::attachment_strings(1),
            "填报单位（章）：",
            &format!("填报单位（章）：{unit}"),
        );
        assert_in_order(&with(expected, BLANK_FILL_DATE, date_line), &printed);
        let csv = browser
            .get(&format!("{report_path}/attachment1?format=csv&{query}"))
            .await;
        assert_eq!(
            csv_strings(&csv.bytes),
            printed,
            "the download's cells: {query}"
        );
    }
    // Neither invented lines nor a wrong choice: 填报日期 is `report` or `blank`.
    let print = browser.get(&format!("{report_path}/print")).await;
    assert!(!print.body.contains("填表人") && !print.body.contains("审核人"));
    let refused = browser
        .get(&format!("{report_path}/print?fill_date=today"))
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert_eq!(refused.error_code(), "bad_fill_date");
}

fn generated(collection: &str, code: &str) -> serde_json::Map<String, Value> {
    let model = licnode_model::collection(collection).expect("collection");
    licnode_gen::Generator::new(7).record(model, code)
}

#[tokio::test]
async fn a_review_plans_page_prints_attachment_2_as_the_original() {
    for backend in licnode_testkit::BACKENDS {
        let db = database(backend).await;
        let node = serve(&db.store, PROVINCE, "province", super::day_in_next_month()).await;
        let mut plan = generated("review_plans", PROVINCE);
        plan.remove("basis");
        plan.remove("requirements");
        let plan = node
            .archive
            .create("review_plans", None, &plan, &Author::approver("approver"))
            .await
            .expect("plan")
            .record;
        let mut browser = Browser::signed_in(&node, "approver").await;
        let page = browser.get(&format!("/records/{}", plan.id)).await;
        let print_path = format!("/forms/attachment2/{}/print", plan.id);
        assert!(
            page.body.contains(&print_path),
            "{backend}: the record links its form"
        );

        let print = browser.get(&print_path).await;
        assert_eq!(print.status, StatusCode::OK, "{}", print.body);
        let printed = printed_strings(&print.body);
        let product = plan.data["product_name"].as_str().expect("product");
        let number = plan.data["plan_number"].as_str().expect("number");
        let mut expected = with(
            official_forms::attachment_strings(2),
            "产品名称：",
            &format!("产品名称：{product}"),
        );
        expected = with(expected, "编号：", &format!("编号：{number}"));
        // The organiser's own line replaces the original's list of what it holds.
        expected.retain(|text| !text.starts_with("审查组织单位名称、"));
        expected.retain(|text| !text.starts_with("编制：") && !text.starts_with("审批："));
        expected.retain(|text| !text.starts_with("年   月   日"));
        assert_in_order(&expected, &printed);
        let organiser = plan.data["organiser_name"].as_str().expect("organiser");
        assert!(
            printed
                .iter()
                .any(|text| text.starts_with(organiser) && text.ends_with('。')),
            "说明 with its full stop: {printed:?}"
        );
        let csv = browser
            .get(&format!("/forms/attachment2/{}/file?format=csv", plan.id))
            .await;
        assert_eq!(csv_strings(&csv.bytes), printed);
        let unknown = browser
            .get(&format!("/forms/attachment9/{}/print", plan.id))
            .await;
        assert_eq!(unknown.error_code(), "unknown_form");
    }
}

#[tokio::test]
async fn an_inspection_bodys_page_prints_each_change_filing_as_attachment_3() {
    for backend in licnode_testkit::BACKENDS {
        let db = database(backend).await;
        let node = serve(&db.store, "100000", "national", super::day_in_next_month()).await;
        let mut body = generated("inspection_bodies", "100000");
        body.insert(
            "change_filings".into(),
            json!([{"changed_item": "phone", "value_before": "0571-87000001",
                    "value_after": "0571-87000002", "filing_date": "2026-10-08",
                    "provincial_opinion": "同意备案"}]),
        );
        let body = node
            .archive
            .create(
                "inspection_bodies",
                None,
                &body,
                &Author::approver("approver"),
            )
            .await
            .expect("inspection body")
            .record;
        let mut browser = Browser::signed_in(&node, "approver").await;
        let page = browser.get(&format!("/records/{}", body.id)).await;
        let print_path = format!(
            "/forms/attachment3/{}/print?filing_date=2026-10-08",
            body.id
        );
        assert!(
            page.body.contains(&print_path.replace('&', "&amp;"))
                || page.body.contains(&print_path),
            "{backend}: the record links the filing's form"
        );
        let print = browser.get(&print_path).await;
        assert_eq!(print.status, StatusCode::OK, "{}", print.body);
        let printed = printed_strings(&print.body);
        let signature = "负责人签字：\n年   月   日（加盖公章）";
        let expected = official_forms::attachment_strings(3);
        let last_signature = expected
            .iter()
            .rposition(|text| text == signature)
            .expect("line");
        let mut expected = expected;
        expected[last_signature] = format!("同意备案\n{signature}");
        assert_in_order(&expected, &printed);
        let phone = printed
            .iter()
            .position(|text| text == "电    话")
            .expect("电话");
        assert_eq!(
            printed[phone + 1..phone + 3],
            ["0571-87000001", "0571-87000002"]
        );
    }
}
