//! `GET /api/v1/deadlines` and the late gauge of `/metrics` through the router, on SQLite and
//! PostgreSQL, with the node's clock injected: the national node sees an inspection result go
//! late (Art. 23) and names the province that did not report (Art. 18, 19); bad filters get
//! stable codes.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use licnode_app::Author;
use licnode_app::{Archive, ManualClock};
use licnode_model::Level;
use licnode_server::{AppState, NodeInfo, app};
use licnode_store::{Role, Store, TokenKind};
use licnode_testkit::{BACKENDS, Backend, TestDatabase};
use serde_json::{Map, Value, json};
use tower::ServiceExt;

struct TestNode {
    state: AppState,
    clock: Arc<ManualClock>,
    token: String,
    _database: Option<TestDatabase>,
    _dir: tempfile::TempDir,
}

fn date(text: &str) -> chrono::NaiveDate {
    text.parse().expect("date")
}

/// The national node, its clock on `today`, with an auditor's token (reading is enough).
async fn national_node(backend: Backend, today: &str) -> TestNode {
    let dir = licnode_testkit::temp_dir().expect("dir");
    let (url, database) = licnode_testkit::database_url(backend, dir.path())
        .await
        .expect("database");
    let store = Store::open(&url).await.expect("store");
    store
        .add_user("auditor", "auditor", Role::Auditor, "correct horse battery")
        .await
        .expect("user");
    let token = store
        .issue_token("auditor", TokenKind::Api, "test", None)
        .await
        .expect("token")
        .token;
    let clock = ManualClock::at_date(date(today));
    let state = AppState::new(
        Archive::new(store, "100000"),
        NodeInfo {
            code: "100000".into(),
            level: "national".into(),
            name: "全国工业产品生产许可证审查中心".into(),
            parent_url: None,
        },
    )
    .with_clock(clock.clone());
    TestNode {
        state,
        clock,
        token,
        _database: database,
        _dir: dir,
    }
}

fn record(collection: &str, jurisdiction: &str, overrides: Value) -> Map<String, Value> {
    let model = licnode_model::collection(collection).expect("collection");
    let mut input = licnode_gen::Generator::new(5).record(model, jurisdiction);
    if let Value::Object(overrides) = overrides {
        for (name, value) in overrides {
            if value.is_null() {
                input.remove(&name);
            } else {
                input.insert(name, value);
            }
        }
    }
    input
}

/// Writes into the national node's database as replication would deliver it.
async fn arrive(author: Archive, collection: &str, jurisdiction: &str, fields: Value) {
    author
        .create(
            collection,
            Some(jurisdiction),
            &record(collection, jurisdiction, fields),
            // Generated records hold decisions (terminal licences, submitted reports).
            &Author::approver("approver"),
        )
        .await
        .expect("record");
}

async fn get(node: &TestNode, uri: &str, token: Option<&str>) -> (StatusCode, Value) {
    let mut request = Request::builder().method("GET").uri(uri);
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    let response = app(node.state.clone())
        .oneshot(request.body(Body::empty()).expect("request"))
        .await
        .expect("response");
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), 16 * 1024 * 1024)
        .await
        .expect("body");
    let value = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
    (status, value)
}

#[tokio::test]
async fn the_national_node_lists_due_and_late_duties_per_province_on_its_clock() {
    for backend in BACKENDS {
        let node = national_node(backend, "2026-03-05").await;
        let store = node.state.archive.store_for_tests().clone();
        // Zhejiang reported February; Jiangsu, whose licences arrive here, did not.
        arrive(
            Archive::new(store.clone(), "330000"),
            "reports",
            "330000",
            json!({ "report_kind": "monthly", "period": "2026-02", "status": "submitted",
                    "reporting_division": "330000", "revision": 1 }),
        )
        .await;
        arrive(
            Archive::new(store.clone(), "320000"),
            "licences",
            "320106",
            json!({ "licence_number": "(苏)xk06-001-00077", "issuing_level": "provincial" }),
        )
        .await;
        // An inspection finished on 2 March, not yet reported (Art. 23: due 7 March).
        arrive(
            Archive::with_level(store.clone(), "IB0001", Level::InspectionBody),
            "inspections",
            "330106",
            json!({ "completion_date": "2026-03-02", "reported_date": null }),
        )
        .await;

        let token = Some(node.token.as_str());
        let (status, body) = get(&node, "/api/v1/deadlines?rule=inspection_result", token).await;
        assert_eq!(status, StatusCode::OK, "{backend:?}: {body}");
        assert_eq!(body["today"], json!("2026-03-05"));
        assert_eq!(
            (body["due"].clone(), body["late"].clone()),
            (json!(1), json!(0))
        );
        assert_eq!(body["items"][0]["state"], json!("due"));
        assert_eq!(body["items"][0]["days_left"], json!(2));
        assert_eq!(body["items"][0]["province"], json!("330000"));

        // The node's clock moves on: one day past the limit.
        node.clock.set_date(date("2026-03-08"));
        let (_, body) = get(&node, "/api/v1/deadlines?rule=inspection_result", token).await;
        assert_eq!(body["items"][0]["state"], json!("late"), "{backend:?}");
        assert_eq!(body["items"][0]["days_late"], json!(1));

        // February's monthly report is due by the 10th; on the 12th Jiangsu is 2 days late.
        node.clock.set_date(date("2026-03-12"));
        let (status, body) = get(
            &node,
            "/api/v1/deadlines?state=late&rule=monthly_report&province=320106",
            token,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{backend:?}: {body}");
        let items = body["items"].as_array().expect("items");
        assert!(
            items
                .iter()
                .all(|item| item["jurisdiction"] == json!("320000"))
        );
        let february = items
            .iter()
            .find(|item| item["subject"] == json!("2026-02"))
            .expect("February owed by Jiangsu");
        assert_eq!(february["days_late"], json!(2));
        assert_eq!(february["record_id"], Value::Null);
        let provinces = body["provinces"].as_array().expect("roll-up");
        assert_eq!(provinces.len(), 1);
        assert_eq!(provinces[0]["province_name"], json!("江苏省"));
        assert!(
            provinces[0]["missing_reports"]
                .as_array()
                .expect("missing")
                .contains(&json!("monthly 2026-02"))
        );

        // The whole view: Zhejiang's February is not owed.
        let (_, body) = get(&node, "/api/v1/deadlines?limit=5000", token).await;
        let zhejiang = body["provinces"]
            .as_array()
            .expect("roll-up")
            .iter()
            .find(|province| province["province"] == json!("330000"))
            .expect("Zhejiang")
            .clone();
        assert!(
            !zhejiang["missing_reports"]
                .as_array()
                .expect("missing")
                .contains(&json!("monthly 2026-02"))
        );
        assert_eq!(zhejiang["rules"]["inspection_result"]["late"], json!(1));

        // The gauge counts late items per rule.
        let (status, metrics) = get(&node, "/metrics", None).await;
        assert_eq!(status, StatusCode::OK);
        let metrics = metrics.as_str().expect("text").to_string();
        assert!(
            metrics.contains("licnode_deadlines_late{rule=\"inspection_result\"} 1\n"),
            "{metrics}"
        );
        assert!(metrics.contains("licnode_deadlines_late{rule=\"licence_entry\"} 0\n"));

        // The gauge is computed again when the records change …
        arrive(
            Archive::with_level(store.clone(), "IB0001", Level::InspectionBody),
            "inspections",
            "330108",
            json!({ "completion_date": "2026-03-01", "reported_date": null }),
        )
        .await;
        let (_, metrics) = get(&node, "/metrics", None).await;
        let metrics = metrics.as_str().expect("text").to_string();
        assert!(
            metrics.contains("licnode_deadlines_late{rule=\"inspection_result\"} 2\n"),
            "{backend:?}: a new late inspection counts: {metrics}"
        );
        // … and when the day changes (back before either limit passed).
        node.clock.set_date(date("2026-03-05"));
        let (_, metrics) = get(&node, "/metrics", None).await;
        let metrics = metrics.as_str().expect("text").to_string();
        assert!(
            metrics.contains("licnode_deadlines_late{rule=\"inspection_result\"} 0\n"),
            "{backend:?}: {metrics}"
        );
    }
}

#[tokio::test]
async fn bad_deadline_filters_get_stable_codes_and_strangers_get_nothing() {
    let node = national_node(Backend::Sqlite, "2026-03-05").await;
    let token = Some(node.token.as_str());
    for (query, code) in [
        ("state=soon", "bad_state"),
        ("rule=art_99", "unknown_rule"),
        ("province=999999", "bad_province"),
        ("limit=0", "bad_limit"),
        ("limit=many", "bad_limit"),
        ("colour=red", "unknown_filter"),
    ] {
        let (status, body) = get(&node, &format!("/api/v1/deadlines?{query}"), token).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {body}");
        assert_eq!(body["error"]["code"], json!(code), "{query}");
    }
    let (status, _) = get(&node, "/api/v1/deadlines", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}
