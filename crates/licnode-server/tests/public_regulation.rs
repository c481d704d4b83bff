//! What the public pages owe by the regulation, on SQLite and PostgreSQL: the licence list
//! (Art. 27) shows the licences in force by default, and on request the expired ones and those
//! withdrawn, revoked or cancelled, each labelled, judged on the node's China date to the day;
//! the national review centre's contacts and consultation telephone (Art. 35) are a record of
//! the national node, shown on the home page and in the JSON index; the laws, catalogue and
//! implementation rules (Art. 33) and an accepting office's guide (Art. 34) are listed by kind.

use std::net::SocketAddr;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode};
use licnode_app::{Archive, Author, ManualClock};
use licnode_server::public::{self, PublicOptions};
use licnode_server::{AppState, NodeInfo};
use licnode_store::Store;
use licnode_testkit::{BACKENDS, Backend, TestDatabase};
use serde_json::{Value, json};
use tower::ServiceExt;

const PROVINCE: &str = "330000";

struct TestNode {
    state: AppState,
    _database: Option<TestDatabase>,
    _dir: tempfile::TempDir,
}

async fn node(backend: Backend, today: chrono::NaiveDate) -> TestNode {
    let dir = licnode_testkit::temp_dir().expect("dir");
    let (url, database) = licnode_testkit::database_url(backend, dir.path())
        .await
        .expect("database");
    let store = Store::open(&url).await.expect("store");
    let state = AppState::new(
        Archive::new(store, PROVINCE),
        NodeInfo {
            code: PROVINCE.into(),
            level: "province".into(),
            name: "浙江省市场监督管理局".into(),
            parent_url: None,
        },
    )
    .with_clock(ManualClock::at_date(today));
    TestNode {
        state,
        _database: database,
        _dir: dir,
    }
}

fn router(node: &TestNode) -> Router {
    public::public_app(
        node.state.clone(),
        PublicOptions {
            requests_per_second: 0.0,
            burst: 1,
        },
    )
}

async fn get(router: &Router, uri: &str) -> (StatusCode, String) {
    let mut request = Request::builder()
        .uri(uri)
        .body(Body::empty())
        .expect("request");
    request
        .extensions_mut()
        .insert(ConnectInfo(SocketAddr::from(([192, 0, 2, 1], 40_000))));
    let response = router.clone().oneshot(request).await.expect("response");
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), 16 * 1024 * 1024)
        .await
        .expect("body");
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

/// Writes a licence of `name` with `status` (none: absent) valid until `valid_until`.
async fn licence(node: &TestNode, seed: u64, name: &str, status: Option<&str>, valid_until: &str) {
    let model = licnode_model::collection("licences").expect("licences");
    let mut input = licnode_gen::Generator::new(seed).record(model, "330106");
    input.insert("enterprise_name".into(), json!(name));
    input.insert("approval_date".into(), json!("2020-01-01"));
    input.insert("issue_date".into(), json!("2020-01-05"));
    input.insert("valid_until".into(), json!(valid_until));
    match status {
        Some(status) => input.insert("status".into(), json!(status)),
        None => input.remove("status"),
    };
    node.state
        .archive
        .create(
            "licences",
            Some("330106"),
            &input,
            &Author::approver("approver"),
        )
        .await
        .expect("licence");
}

/// The enterprise names of a JSON page and the label of each, in page order.
async fn names_and_labels(router: &Router, query: &str) -> Vec<(String, String)> {
    let (status, body) = get(router, &format!("/public/api/licences?limit=100{query}")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let answer: Value = serde_json::from_str(&body).expect("json");
    let items = answer["items"].as_array().expect("items");
    let labels = answer["item_validity"].as_array().expect("item_validity");
    assert_eq!(items.len(), labels.len());
    let mut found: Vec<(String, String)> = items
        .iter()
        .zip(labels)
        .map(|(item, label)| {
            (
                item["enterprise_name"].as_str().expect("name").to_string(),
                label["label"].as_str().expect("label").to_string(),
            )
        })
        .collect();
    found.sort();
    found
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut pairs: Vec<(String, String)> = list
        .iter()
        .map(|(name, label)| (name.to_string(), label.to_string()))
        .collect();
    pairs.sort();
    pairs
}

#[tokio::test]
async fn the_public_licence_list_shows_licences_in_force_and_expired_or_cancelled_ones_on_request()
{
    let today = chrono::NaiveDate::from_ymd_opt(2026, 3, 10).expect("date");
    for backend in BACKENDS {
        let node = node(backend, today).await;
        licence(&node, 1, "恒远电缆甲有限公司", Some("valid"), "2026-03-10").await;
        licence(&node, 2, "恒远电缆乙有限公司", None, "2029-01-01").await;
        licence(&node, 3, "恒远电缆丙有限公司", Some("valid"), "2026-03-09").await;
        licence(
            &node,
            4,
            "恒远电缆丁有限公司",
            Some("expired"),
            "2026-02-01",
        )
        .await;
        licence(
            &node,
            5,
            "恒远电缆戊有限公司",
            Some("cancelled"),
            "2029-01-01",
        )
        .await;
        licence(
            &node,
            6,
            "恒远电缆己有限公司",
            Some("revoked_as_penalty"),
            "2029-01-01",
        )
        .await;
        let router = router(&node);

        // Art. 27: by default, the licences in force — the last day of the validity included.
        let in_force = pairs(&[
            ("恒远电缆甲有限公司", "有效"),
            ("恒远电缆乙有限公司", "有效"),
        ]);
        assert_eq!(names_and_labels(&router, "").await, in_force, "{backend:?}");
        assert_eq!(
            names_and_labels(&router, "&validity=in_force").await,
            in_force
        );
        let expired = pairs(&[
            ("恒远电缆丙有限公司", "已过期"),
            ("恒远电缆丁有限公司", "已过期"),
        ]);
        assert_eq!(
            names_and_labels(&router, "&validity=expired").await,
            expired
        );
        let ended = pairs(&[
            ("恒远电缆戊有限公司", "注销"),
            ("恒远电缆己有限公司", "吊销"),
        ]);
        assert_eq!(names_and_labels(&router, "&validity=ended").await, ended);
        let all = names_and_labels(&router, "&validity=all").await;
        assert_eq!(all.len(), 6);
        // A name search keeps the default: in force only.
        let searched = names_and_labels(&router, "&q=%E6%81%92%E8%BF%9C").await;
        assert_eq!(searched, in_force);

        // The page says so too: the filter, and each licence's label.
        let (status, page) = get(&router, "/public/licences?validity=expired").await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains("name=\"validity\""), "{page}");
        assert_eq!(
            page.matches("data-validity=\"expired\"").count(),
            2,
            "{page}"
        );
        assert!(page.contains("证书状态：<strong>已过期</strong>"), "{page}");
        assert!(!page.contains("恒远电缆甲有限公司"));
        let (status, answer) = get(&router, "/public/api/licences?validity=suspended").await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(answer.contains("bad_validity"), "{answer}");

        // The next day the licence valid until 10 March has expired.
        let tomorrow = node
            .state
            .clone()
            .with_clock(ManualClock::at_date(today.succ_opt().expect("date")));
        let later = public::public_app(
            tomorrow,
            PublicOptions {
                requests_per_second: 0.0,
                burst: 1,
            },
        );
        assert_eq!(
            names_and_labels(&later, "").await,
            pairs(&[("恒远电缆乙有限公司", "有效")])
        );
    }
}

// Art. 35: 全国许可证审查中心…的联系方式 are public.
#[tokio::test]
async fn the_national_centres_contacts_are_a_national_record_shown_on_the_public_home_page() {
    let today = chrono::NaiveDate::from_ymd_opt(2026, 3, 10).expect("date");
    for backend in BACKENDS {
        let node = node(backend, today).await;
        let router = router(&node);
        // None recorded yet: the home page has no such section, the index says null.
        let (_, home) = get(&router, "/public").await;
        assert!(!home.contains("centre-contacts"), "{home}");
        let (_, index) = get(&router, "/public/api").await;
        let index: Value = serde_json::from_str(&index).expect("json");
        assert_eq!(index["national_centre_contacts"], Value::Null);

        // The national node's record (it reaches every node, Art. 32), an older repealed one,
        // and a province's record of the same kind, which is not the national centre's.
        let store = node.state.archive.store_for_tests().clone();
        let national = Archive::new(store.clone(), "100000");
        let province = Archive::new(store, PROVINCE);
        let contacts = |phone: &str, status: &str| {
            let model = licnode_model::collection("publications").expect("publications");
            let mut input = licnode_gen::Generator::new(35).record(model, "100000");
            for (field, value) in [
                ("publication_kind", "centre_contacts"),
                ("title", "全国工业产品生产许可证审查中心联系方式"),
                ("status", status),
                ("consultation_phone", phone),
                ("address", "北京市海淀区马甸东路9号"),
            ] {
                input.insert(field.into(), json!(value));
            }
            input
        };
        for (archive, jurisdiction, phone, status) in [
            (&national, "100000", "010-82260011", "repealed"),
            (&national, "100000", "010-82260022", "in_force"),
            (&province, PROVINCE, "0571-85170033", "in_force"),
        ] {
            archive
                .create(
                    "publications",
                    Some(jurisdiction),
                    &contacts(phone, status),
                    &Author::clerk("clerk"),
                )
                .await
                .expect("contacts");
        }
        let (status, home) = get(&router, "/public").await;
        assert_eq!(status, StatusCode::OK);
        assert!(home.contains("id=\"centre-contacts\""), "{home}");
        assert!(home.contains("全国工业产品生产许可证审查中心联系方式"));
        assert!(home.contains("010-82260022"), "{home}");
        assert!(home.contains("北京市海淀区马甸东路9号"));
        assert!(
            !home.contains("010-82260011") && !home.contains("0571-85170033"),
            "{backend:?}"
        );
        let (_, index) = get(&router, "/public/api").await;
        let index: Value = serde_json::from_str(&index).expect("json");
        assert_eq!(
            index["national_centre_contacts"]["consultation_phone"],
            json!("010-82260022"),
            "{backend:?}"
        );
        // It is also in the publications list, by its kind.
        let (_, listed) = get(&router, "/public/api/publications?kind=centre_contacts").await;
        let listed: Value = serde_json::from_str(&listed).expect("json");
        assert_eq!(listed["items"].as_array().map(Vec::len), Some(3));
    }
}

/// Art. 33: the national level publishes the laws, the product catalogue and the implementation
/// rules; Art. 34: an accepting office publishes its guide — legal basis, conditions, procedure,
/// time limits, fees, the list of documents, a sample application and the complaint telephone.
/// Each is on the public publications list under its kind, with those fields.
#[tokio::test]
async fn the_laws_catalogue_rules_and_an_accepting_offices_guide_are_public_by_their_kind() {
    let today = chrono::NaiveDate::from_ymd_opt(2026, 3, 10).expect("date");
    for backend in BACKENDS {
        let node = node(backend, today).await;
        let router = router(&node);
        let store = node.state.archive.store_for_tests().clone();
        let national = Archive::new(store, "100000");
        let model = licnode_model::collection("publications").expect("publications");
        let publication = |seed: u64, jurisdiction: &str, kind: &str, title: &str| {
            let mut input = licnode_gen::Generator::new(seed).record(model, jurisdiction);
            input.insert("publication_kind".into(), json!(kind));
            input.insert("title".into(), json!(title));
            input.insert("status".into(), json!("in_force"));
            input
        };
        for (seed, kind, title) in [
            (331, "law", "中华人民共和国工业产品生产许可证管理条例"),
            (332, "catalogue", "实行生产许可证制度管理的产品目录"),
            (
                333,
                "implementation_rules",
                "电线电缆产品生产许可证实施细则",
            ),
        ] {
            national
                .create(
                    "publications",
                    Some("100000"),
                    &publication(seed, "100000", kind, title),
                    &Author::clerk("clerk"),
                )
                .await
                .expect("national publication");
        }
        let mut guide = publication(334, PROVINCE, "application_guide", "生产许可受理办事指南");
        for (field, value) in [
            ("legal_basis", "《工业产品生产许可证管理条例》"),
            ("fees", "不收费"),
            ("complaint_phone", "0571-85170000"),
        ] {
            guide.insert(field.into(), json!(value));
        }
        node.state
            .archive
            .create(
                "publications",
                Some(PROVINCE),
                &guide,
                &Author::clerk("clerk"),
            )
            .await
            .expect("guide");

        for (kind, title) in [
            ("law", "中华人民共和国工业产品生产许可证管理条例"),
            ("catalogue", "实行生产许可证制度管理的产品目录"),
            ("implementation_rules", "电线电缆产品生产许可证实施细则"),
            ("application_guide", "生产许可受理办事指南"),
        ] {
            let (status, body) =
                get(&router, &format!("/public/api/publications?kind={kind}")).await;
            assert_eq!(status, StatusCode::OK, "{backend:?}: {body}");
            let listed: Value = serde_json::from_str(&body).expect("json");
            let titles: Vec<&str> = listed["items"]
                .as_array()
                .expect("items")
                .iter()
                .filter_map(|item| item["title"].as_str())
                .collect();
            assert_eq!(titles, [title], "{backend:?}: {kind}");
            if kind == "application_guide" {
                let item = &listed["items"][0];
                assert_eq!(item["legal_basis"], json!("《工业产品生产许可证管理条例》"));
                assert_eq!(item["fees"], json!("不收费"));
                assert_eq!(item["complaint_phone"], json!("0571-85170000"));
            }
        }
    }
}
