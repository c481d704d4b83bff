//! The regulation's flows between records, in the web application and the JSON API: a county
//! picks its quality archive's licence from those it holds (Art. 12, 29), a reference to a
//! record the node does not hold is refused (`unknown_reference`), a notice and the archives of
//! its enterprise link each other and the board lists the archives awaiting an update (Art. 24,
//! 29), and an application's licence file shows its five stages (Art. 6).

use licnode_app::Author;
use reqwest::StatusCode;
use serde_json::{Value, json};

use super::harness::{Browser, COUNTY, PROVINCE, WebNode, database, serve};
use super::{count, licence, today, token};

/// A notice of a failed provincial spot check naming the enterprise of `licence`, written at
/// the province for the county.
async fn notice_naming(province: &WebNode, licence: &str) -> String {
    let licence = province.archive.get(licence).await.expect("licence");
    let model = licnode_model::collection("notices").expect("model");
    let mut input = licnode_gen::Generator::new(41).record(model, COUNTY);
    input.insert("notice_kind".into(), json!("provincial_spot_check_failure"));
    input.insert("status".into(), json!("issued"));
    input.insert("credit_code".into(), licence.data["credit_code"].clone());
    input.insert("licence".into(), json!(licence.id));
    province
        .archive
        .create("notices", Some(COUNTY), &input, &Author::clerk("clerk"))
        .await
        .expect("notice")
        .record
        .id
}

#[tokio::test]
async fn a_county_picks_its_quality_archives_licence_from_those_it_holds() {
    for backend in licnode_testkit::BACKENDS {
        let db = database(backend).await;
        // One database seen by the province, which issues the licence, and by the county
        // holding its copy.
        let province = serve(&db.store, PROVINCE, "province", today()).await;
        let county = serve(&db.store, COUNTY, "county", today()).await;
        let licence = licence(&province, 31).await;
        let number = province.archive.get(&licence).await.expect("licence").data["licence_number"]
            .as_str()
            .expect("number")
            .to_string();
        let mut clerk = Browser::signed_in(&county, "clerk").await;
        let form = clerk.get("/collections/quality_archives/new").await;
        assert_eq!(form.status, StatusCode::OK, "{backend}");
        assert!(
            form.body.contains(&format!("value=\"{licence}\"")),
            "{}",
            form.body
        );
        assert!(form.body.contains(&number));

        let created = clerk
            .submit(
                "/collections/quality_archives/new",
                "/collections/quality_archives/new",
                &[
                    ("_jurisdiction", COUNTY),
                    ("licence", &licence),
                    ("quality_status", "good"),
                ],
            )
            .await;
        assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
        let archives = county
            .archive
            .list(&licnode_store::ListQuery {
                collection: "quality_archives".into(),
                limit: 10,
                ..Default::default()
            })
            .await
            .expect("list")
            .items;
        assert_eq!(archives.len(), 1);
        assert_eq!(archives[0].data["licence_number"], json!(number));

        // A licence the county does not hold: refused with its code, nothing stored.
        let forged = clerk
            .submit(
                "/collections/quality_archives/new",
                "/collections/quality_archives/new",
                &[
                    ("_jurisdiction", COUNTY),
                    ("licence", "0192f0c4-0000-7000-8000-00000000dead"),
                    ("quality_status", "good"),
                ],
            )
            .await;
        assert_eq!(
            forged.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            forged.body
        );
        assert_eq!(forged.error_code(), "unknown_reference");
        assert_eq!(count(&county, "quality_archives").await, 1);
    }
}

#[tokio::test]
async fn a_notice_and_its_enterprises_archive_link_each_other_until_the_archive_is_updated() {
    for backend in licnode_testkit::BACKENDS {
        let db = database(backend).await;
        let province = serve(&db.store, PROVINCE, "province", today()).await;
        let county = serve(&db.store, COUNTY, "county", today()).await;
        let licence = licence(&province, 32).await;
        let mut picked = serde_json::Map::new();
        picked.insert("licence".into(), json!(licence));
        let archive = county
            .archive
            .create("quality_archives", None, &picked, &Author::clerk("clerk"))
            .await
            .expect("archive")
            .record
            .id;
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        let notice = notice_naming(&province, &licence).await;

        let mut clerk = Browser::signed_in(&county, "clerk").await;
        let archive_page = clerk.get(&format!("/records/{archive}")).await;
        assert!(archive_page.body.contains("id=\"linked\""), "{backend}");
        assert!(archive_page.body.contains(&format!("/records/{notice}")));
        let notice_page = clerk.get(&format!("/records/{notice}")).await;
        assert!(notice_page.body.contains(&format!("/records/{archive}")));
        let board = clerk.get("/deadlines").await;
        assert!(board.body.contains("archives-awaiting-update"));
        assert!(board.body.contains(&format!("data-archive=\"{archive}\"")));

        let client = reqwest::Client::new();
        let bearer = token(&client, &county, "clerk").await;
        let get = |path: String| {
            let request = client
                .get(format!("{}{path}", county.base))
                .bearer_auth(&bearer);
            async move {
                let answer = request.send().await.expect("get");
                let status = answer.status();
                (status, answer.json::<Value>().await.expect("json"))
            }
        };
        let (status, linked) = get(format!("/api/v1/records/{archive}/linked")).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(linked["linked"][0]["id"], json!(notice));
        let (_, waiting) = get("/api/v1/quality_archives/awaiting_update".into()).await;
        assert_eq!(waiting["count"], json!(1));
        assert_eq!(waiting["items"][0]["archive"]["id"], json!(archive));

        // Updated after the notice: no longer waiting.
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        let mut patch = serde_json::Map::new();
        patch.insert("quality_notes".into(), json!("已按通报督促整改"));
        county
            .archive
            .update(&archive, &patch, &Author::clerk("clerk"))
            .await
            .expect("update");
        let (_, waiting) = get("/api/v1/quality_archives/awaiting_update".into()).await;
        assert_eq!(waiting["count"], json!(0));
        let board = clerk.get("/deadlines").await;
        assert!(!board.body.contains(&format!("data-archive=\"{archive}\"")));
    }
}

#[tokio::test]
async fn an_applications_licence_file_is_one_page_and_one_api_answer() {
    for backend in licnode_testkit::BACKENDS {
        let db = database(backend).await;
        let province = serve(&db.store, PROVINCE, "province", today()).await;
        let model = licnode_model::collection("applications").expect("model");
        let mut input = licnode_gen::Generator::new(33).record(model, COUNTY);
        input.insert("application_date".into(), json!("2026-01-05"));
        input.insert("acceptance_date".into(), json!("2026-01-08"));
        input.insert("approval_date".into(), Value::Null);
        input.insert("stage".into(), json!("accepted"));
        let application = province
            .archive
            .create(
                "applications",
                Some(COUNTY),
                &input,
                &Author::approver("approver"),
            )
            .await
            .expect("application")
            .record
            .id;
        let model = licnode_model::collection("licences").expect("model");
        let mut input = licnode_gen::Generator::new(34).record(model, COUNTY);
        input.insert("application".into(), json!(application));
        input.insert("approval_date".into(), json!("2026-03-01"));
        input.insert("status".into(), json!("valid"));
        let licence = province
            .archive
            .create("licences", None, &input, &Author::approver("approver"))
            .await
            .expect("licence")
            .record
            .id;

        let mut clerk = Browser::signed_in(&province, "clerk").await;
        let application_page = clerk.get(&format!("/records/{application}")).await;
        assert!(
            application_page
                .body
                .contains(&format!("/applications/{application}/licence_file"))
        );
        let page = clerk
            .get(&format!("/applications/{application}/licence_file"))
            .await;
        assert_eq!(page.status, StatusCode::OK, "{backend}");
        for stage in [
            "application",
            "acceptance",
            "site_review",
            "product_inspection",
            "approval",
        ] {
            assert!(
                page.body.contains(&format!("data-stage=\"{stage}\"")),
                "{stage}"
            );
        }
        assert!(page.body.contains(&format!("/records/{licence}")));
        let missing = clerk
            .get(&format!("/applications/{licence}/licence_file"))
            .await;
        assert_eq!(missing.status, StatusCode::NOT_FOUND);

        let client = reqwest::Client::new();
        let bearer = token(&client, &province, "clerk").await;
        let answer: Value = client
            .get(format!(
                "{}/api/v1/applications/{application}/licence_file",
                province.base
            ))
            .bearer_auth(&bearer)
            .send()
            .await
            .expect("get")
            .json()
            .await
            .expect("json");
        let dates: Vec<Value> = answer["stages"]
            .as_array()
            .expect("stages")
            .iter()
            .map(|stage| stage["date"].clone())
            .collect();
        assert_eq!(
            dates,
            [
                json!("2026-01-05"),
                json!("2026-01-08"),
                Value::Null,
                Value::Null,
                json!("2026-03-01")
            ]
        );
        assert_eq!(answer["stages"][4]["records"][0]["id"], json!(licence));
        assert_eq!(answer["stages"][4]["name"], json!("许可审批"));
    }
}

// Art. 20: the yearly report's page shows its four sections, each with its figures and its
// narrative or the mark that the narrative is still missing.
#[tokio::test]
async fn a_yearly_reports_page_shows_its_four_sections_and_which_narratives_are_missing() {
    for backend in licnode_testkit::BACKENDS {
        let db = database(backend).await;
        let province = serve(&db.store, PROVINCE, "province", today()).await;
        let reports = licnode_app::Reports::new(
            province.archive.clone(),
            // A yearly report is run from October of its year on (Art. 20).
            licnode_app::ManualClock::at_date(
                chrono::NaiveDate::from_ymd_opt(2026, 10, 2).expect("date"),
            ),
            licnode_app::ReportSettings {
                unit_name: "浙江省市场监督管理局".into(),
                auto_submit: false,
            },
        );
        let year = licnode_reports::Period::Year(2026);
        let report = reports
            .run(&year, "schedule")
            .await
            .expect("run")
            .report
            .expect("report");
        let mut narrative = serde_json::Map::new();
        narrative.insert(
            "annual_review_narrative".into(),
            json!("本年度审查获证企业。"),
        );
        province
            .archive
            .update(&report.id, &narrative, &Author::clerk("clerk"))
            .await
            .expect("narrative");
        let mut clerk = Browser::signed_in(&province, "clerk").await;
        let page = clerk.get(&format!("/reports/{}", report.id)).await;
        assert_eq!(page.status, StatusCode::OK, "{backend}");
        for section in [
            "annual_review",
            "patrol_visit",
            "periodic_supervision",
            "problem_handling",
        ] {
            assert!(
                page.body.contains(&format!("data-section=\"{section}\"")),
                "{section}"
            );
        }
        assert!(page.body.contains("本年度审查获证企业。"));
        assert_eq!(page.body.matches("data-missing=\"narrative\"").count(), 3);
    }
}
