//! The reports' pages (Art. 18–20, Attachment 1) and the retention pages (Art. 37, 38).

use chrono::{Days, NaiveDate};
use licnode_app::Author;
use reqwest::StatusCode;
use serde_json::{Value, json};

use super::harness::{
    Browser, COUNTY, HOSTILE, PASSWORD, PROVINCE, WebNode, assert_escaped, database, serve,
};

/// The month before `today`, as a period (`YYYY-MM`).
fn previous_month(today: NaiveDate) -> String {
    licnode_reports::Period::month_before(today).to_string()
}

/// A licence of the county issued on the first day of the month before `today`.
async fn licence_issued_last_month(node: &WebNode, today: NaiveDate) {
    let model = licnode_model::collection("licences").expect("model");
    let mut input = licnode_gen::Generator::new(11).record(model, COUNTY);
    let period = licnode_reports::Period::month_before(today);
    input.insert("status".into(), json!("valid"));
    input.insert("issue_date".into(), json!(period.first_day().to_string()));
    node.archive
        .create("licences", None, &input, &Author::approver("approver"))
        .await
        .expect("licence");
}

async fn report_status(node: &WebNode, id: &str) -> String {
    let report = node.archive.get(id).await.expect("report");
    report.data["status"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

async fn api_bytes(node: &WebNode, path: &str) -> (StatusCode, Vec<u8>) {
    let client = reqwest::Client::new();
    let login: Value = client
        .post(format!("{}/api/v1/auth/login", node.base))
        .json(&json!({ "name": "approver", "password": PASSWORD }))
        .send()
        .await
        .expect("login")
        .json()
        .await
        .expect("json");
    let answer = client
        .get(format!("{}{path}", node.base))
        .bearer_auth(login["token"].as_str().expect("token"))
        .send()
        .await
        .expect("answer");
    (
        answer.status(),
        answer.bytes().await.expect("bytes").to_vec(),
    )
}

#[tokio::test]
async fn a_clerk_runs_a_month_and_only_the_approver_submits_it_and_downloads_attachment_1() {
    for backend in licnode_testkit::BACKENDS {
        let db = database(backend).await;
        let today = super::day_in_next_month();
        let node = serve(&db.store, PROVINCE, "province", today).await;
        licence_issued_last_month(&node, today).await;
        let period = previous_month(today);

        // An auditor only reads.
        let mut auditor = Browser::signed_in(&node, "auditor").await;
        let schedule = auditor.get("/reports").await;
        assert!(!schedule.body.contains("/reports/run"));
        let refused = auditor
            .submit(
                "/reports",
                "/reports/run",
                &[("kind", "monthly"), ("period", &period)],
            )
            .await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
        assert_eq!(refused.error_code(), "forbidden_role");

        let mut clerk = Browser::signed_in(&node, "clerk").await;
        let run = clerk
            .submit(
                "/reports",
                "/reports/run",
                &[("kind", "monthly"), ("period", &period)],
            )
            .await;
        assert_eq!(run.status, StatusCode::SEE_OTHER, "{backend}: {}", run.body);
        let report_path = run.location().to_string();
        let id = report_path.rsplit('/').next().expect("id").to_string();
        let page = clerk.get(&report_path).await;
        assert_eq!(page.status, StatusCode::OK);
        for title in [
            licnode_reports::forms::GRANTED_TITLE,
            licnode_reports::forms::REFUSED_TITLE,
            licnode_reports::forms::CHANGED_TITLE,
            licnode_reports::forms::TERMINATED_TITLE,
        ] {
            assert!(page.body.contains(title), "{title}");
        }
        assert!(page.body.contains("rowspan=") || page.body.contains("<th"));
        assert!(
            !page.body.contains("/submit\""),
            "a clerk sees no submit button"
        );
        // Art. 19: submitting is an approver's; the service refuses a clerk's forged POST.
        let forged = clerk
            .submit(&report_path, &format!("{report_path}/submit"), &[])
            .await;
        assert_eq!(forged.status, StatusCode::FORBIDDEN, "{}", forged.body);
        assert_eq!(forged.error_code(), "approval_required");
        assert_eq!(report_status(&node, &id).await, "draft", "{backend}");

        let mut approver = Browser::signed_in(&node, "approver").await;
        let page = approver.get(&report_path).await;
        assert!(page.body.contains(&format!("{report_path}/submit")));
        let submitted = approver
            .submit(&report_path, &format!("{report_path}/submit"), &[])
            .await;
        assert_eq!(
            submitted.status,
            StatusCode::SEE_OTHER,
            "{}",
            submitted.body
        );
        assert_eq!(report_status(&node, &id).await, "submitted");
        let schedule = approver.get("/reports").await;
        assert!(schedule.body.contains(&format!(
            "data-period=\"{period}\" data-status=\"submitted\""
        )));

        downloads_are_the_apis_and_the_print_view_is_the_original(
            &mut approver,
            &node,
            &report_path,
        )
        .await;
    }
}

/// The downloads of a report's page are the JSON API's bytes; the print view is the original
/// form, printed on A4 landscape.
async fn downloads_are_the_apis_and_the_print_view_is_the_original(
    approver: &mut Browser,
    node: &WebNode,
    report_path: &str,
) {
    let id = report_path.rsplit('/').next().expect("id");
    // The downloads are the JSON API's bytes.
    let csv = approver
        .get(&format!("{report_path}/attachment1?format=csv"))
        .await;
    let (status, api_csv) = api_bytes(
        node,
        &format!("/api/v1/reports/forms/attachment1/{id}?format=csv"),
    )
    .await;
    assert_eq!((csv.status, status), (StatusCode::OK, StatusCode::OK));
    assert_eq!(csv.bytes, api_csv);
    let xlsx = approver
        .get(&format!("{report_path}/attachment1?format=xlsx"))
        .await;
    let (_, api_xlsx) = api_bytes(
        node,
        &format!("/api/v1/reports/forms/attachment1/{id}?format=xlsx"),
    )
    .await;
    assert!(xlsx.bytes.starts_with(b"PK"));
    // The same writer behind both doors, and its bytes depend only on the report.
    assert_eq!(xlsx.bytes, api_xlsx);
    assert_eq!(
        xlsx.headers["content-type"],
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );

    // 填报日期 left blank, as the bureau chooses: the same bytes behind both doors; any other
    // choice is refused with its code.
    let blank = approver
        .get(&format!(
            "{report_path}/attachment1?format=xlsx&fill_date=blank"
        ))
        .await;
    let (_, api_blank) = api_bytes(
        node,
        &format!("/api/v1/reports/forms/attachment1/{id}?format=xlsx&fill_date=blank"),
    )
    .await;
    assert_eq!(blank.bytes, api_blank);
    assert_ne!(blank.bytes, xlsx.bytes);
    let (status, refusal) = api_bytes(
        node,
        &format!("/api/v1/reports/forms/attachment1/{id}?fill_date=yesterday"),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let refusal: Value = serde_json::from_slice(&refusal).expect("json");
    assert_eq!(refusal["error"]["code"], "bad_fill_date");

    // The print view is the original: every string of Attachment 1 in order, 填报日期 the
    // report's or blank, the same cells as the download, on A4 landscape.
    super::official_forms::attachment_1_prints_the_original(approver, node, report_path).await;
    let style = approver.get("/web/style.css").await;
    assert!(style.body.contains("@page{size:A4 landscape") && style.body.contains("@media print"));
}

/// A quality archive of the county whose five years start on `start`.
fn quality_archive(start: NaiveDate) -> serde_json::Map<String, Value> {
    let model = licnode_model::collection("quality_archives").expect("collection");
    let mut record = licnode_gen::Generator::new(7).record(model, COUNTY);
    record.insert("valid_until".into(), json!(start.to_string()));
    record.insert(
        "supervision_records".into(),
        json!([{"supervision_date": "2020-03-04", "supervision_kind": "patrol_visit",
                 "result": "conforming"}]),
    );
    record
}

#[tokio::test]
async fn a_county_requests_destruction_and_only_its_parents_approver_decides_it() {
    for backend in licnode_testkit::BACKENDS {
        let db = database(backend).await;
        let start = super::today()
            .checked_add_days(Days::new(40))
            .expect("date");
        let due = start
            .checked_add_months(chrono::Months::new(12 * 5))
            .expect("date");
        // One database seen by the county and by its province, as in the service's tests.
        let county = serve(&db.store, COUNTY, "county", due).await;
        let province = serve(&db.store, PROVINCE, "province", due).await;
        let archive = county
            .archive
            .create(
                "quality_archives",
                None,
                &quality_archive(start),
                &Author::clerk("clerk"),
            )
            .await
            .expect("archive")
            .record
            .id;

        let mut county_clerk = Browser::signed_in(&county, "clerk").await;
        let bad_page = county_clerk.get("/retention?after=x").await;
        assert_eq!(
            (bad_page.status, bad_page.error_code()),
            (StatusCode::BAD_REQUEST, "bad_cursor".into())
        );
        let overview = county_clerk.get("/retention").await;
        assert!(
            overview.body.contains(&archive),
            "{backend}: the due record is listed"
        );
        let requested = county_clerk
            .submit(
                "/retention",
                "/retention/requests",
                &[("record_id", &archive), ("reason", HOSTILE)],
            )
            .await;
        assert_eq!(
            requested.status,
            StatusCode::SEE_OTHER,
            "{}",
            requested.body
        );
        let request_path = requested.location().to_string();
        assert!(request_path.starts_with("/retention/requests/"));
        let page = county_clerk.get(&request_path).await;
        assert!(page.body.contains("待上级审批"));
        assert_escaped(&page.body);

        // The county's own approver does not decide its own request (Art. 38).
        let mut county_approver = Browser::signed_in(&county, "approver").await;
        let own = county_approver
            .submit(&request_path, &format!("{request_path}/approve"), &[])
            .await;
        assert_eq!(own.status, StatusCode::FORBIDDEN);
        assert_eq!(own.error_code(), "not_a_superior");

        // The province's clerk is refused; nothing is decided.
        let mut province_clerk = Browser::signed_in(&province, "clerk").await;
        let forged = province_clerk
            .submit(
                &request_path,
                &format!("{request_path}/approve"),
                &[("remarks", "x")],
            )
            .await;
        assert_eq!(forged.status, StatusCode::FORBIDDEN);
        assert_eq!(forged.error_code(), "approval_required");
        assert!(
            province_clerk
                .get(&request_path)
                .await
                .body
                .contains("data-decision=\"pending\"")
        );

        approved_by_the_parents_approver(&province, &request_path).await;
        carried_out_with_a_verified_certificate(&county, &request_path, &archive).await;
    }
}

/// The county's approver carries the approval out; the certificate's signed approval verifies.
async fn carried_out_with_a_verified_certificate(
    county: &WebNode,
    request_path: &str,
    archive: &str,
) {
    let mut county_approver = Browser::signed_in(county, "approver").await;
    // The county carries it out; the certificate's signed approval verifies.
    let destroyed = county_approver
        .submit(request_path, &format!("{request_path}/destroy"), &[])
        .await;
    assert_eq!(
        destroyed.status,
        StatusCode::SEE_OTHER,
        "{}",
        destroyed.body
    );
    assert!(county.archive.find(archive).await.expect("find").is_none());
    let certificates = county_approver.get("/retention/certificates").await;
    assert!(
        certificates.body.contains("data-verification=\"valid\""),
        "{}",
        certificates.body
    );
    assert!(certificates.body.contains("签名有效"));
}

/// The province's approver finds the child's request and approves it, with remarks.
async fn approved_by_the_parents_approver(province: &WebNode, request_path: &str) {
    let mut province_approver = Browser::signed_in(province, "approver").await;
    let list = province_approver.get("/retention").await;
    assert!(list.body.contains("（下级）"));
    let page = province_approver.get(request_path).await;
    assert!(page.body.contains(&format!("{request_path}/approve")));
    let approved = province_approver
        .submit(
            request_path,
            &format!("{request_path}/approve"),
            &[("remarks", HOSTILE)],
        )
        .await;
    assert_eq!(approved.status, StatusCode::SEE_OTHER, "{}", approved.body);
    let page = province_approver.get(request_path).await;
    assert!(page.body.contains("data-decision=\"approved\""));
    assert_escaped(&page.body);
}
