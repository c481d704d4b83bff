//! The staff API through its router, on SQLite and PostgreSQL: what clients see, errors
//! included, and that refused requests write nothing.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use licnode_app::Archive;
use licnode_server::{AppState, NodeInfo, app};
use licnode_store::{Role, Store, TokenKind};
use licnode_testkit::{BACKENDS, Backend, TestDatabase};
use serde_json::{Value, json};
use tower::ServiceExt;

struct TestNode {
    state: AppState,
    /// API tokens of one account per role: clerk, approver, administrator, auditor.
    tokens: std::collections::HashMap<&'static str, String>,
    _database: Option<TestDatabase>,
    _dir: tempfile::TempDir,
}

const PASSWORD: &str = "correct horse battery";

async fn node(backend: Backend, code: &str) -> TestNode {
    let dir = licnode_testkit::temp_dir().expect("dir");
    let (url, database) = licnode_testkit::database_url(backend, dir.path())
        .await
        .expect("database");
    let store = Store::open(&url).await.expect("store");
    let mut tokens = std::collections::HashMap::new();
    for (name, role) in [
        ("clerk", Role::Clerk),
        ("approver", Role::Approver),
        ("administrator", Role::Administrator),
        ("auditor", Role::Auditor),
    ] {
        store
            .add_user(name, name, role, PASSWORD)
            .await
            .expect("user");
        let issued = store
            .issue_token(name, TokenKind::Api, "test", None)
            .await
            .expect("token");
        tokens.insert(name, issued.token);
    }
    TestNode {
        state: AppState::new(
            Archive::new(store, code),
            NodeInfo {
                code: code.into(),
                level: "province".into(),
                name: "测试节点".into(),
                parent_url: None,
            },
        ),
        tokens,
        _database: database,
        _dir: dir,
    }
}

/// Sends one request as the clerk; returns status and JSON body (or the text as a JSON string).
async fn call(node: &TestNode, method: &str, uri: &str, body: Option<Body>) -> (StatusCode, Value) {
    call_as(node, Some(&node.tokens["clerk"]), method, uri, body).await
}

/// Sends one request with `token` (none: no Authorization header).
async fn call_as(
    node: &TestNode,
    token: Option<&str>,
    method: &str,
    uri: &str,
    body: Option<Body>,
) -> (StatusCode, Value) {
    let mut request = Request::builder().method(method).uri(uri);
    if body.is_some() {
        request = request.header("content-type", "application/json");
    }
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    let request = request
        .body(body.unwrap_or_else(Body::empty))
        .expect("request");
    let response = app(node.state.clone())
        .oneshot(request)
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

fn licence_input() -> Value {
    let collection = licnode_model::collection("licences").expect("licences");
    Value::Object(licnode_gen::Generator::new(21).record(collection, "330106"))
}

#[tokio::test]
async fn create_get_update_list_search_history_through_the_api() {
    for backend in BACKENDS {
        let node = node(backend, "330000").await;
        let input = licence_input();
        let (status, created) = call(
            &node,
            "POST",
            "/api/v1/licences/records",
            Some(Body::from(input.to_string())),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{backend}: {created}");
        let id = created["id"].as_str().expect("id").to_string();
        assert_eq!(created["jurisdiction"], json!("330000"));

        let (status, read) = call(&node, "GET", &format!("/api/v1/records/{id}"), None).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(read["fields"]["enterprise_name"], input["enterprise_name"]);

        let (status, updated) = call(
            &node,
            "PATCH",
            &format!("/api/v1/records/{id}"),
            Some(Body::from(json!({ "remarks": "复核完毕" }).to_string())),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{backend}: {updated}");
        assert_eq!(updated["fields"]["remarks"], json!("复核完毕"));
        assert_eq!(updated["changed"], json!(true));

        let (status, listed) = call(&node, "GET", "/api/v1/licences/records?limit=10", None).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(listed["items"].as_array().map(Vec::len), Some(1));

        let name: Vec<char> = input["enterprise_name"]
            .as_str()
            .expect("name")
            .chars()
            .collect();
        let fragment: String = name[2..4].iter().collect();
        let uri = format!("/api/v1/search?q={}", urlencode(&fragment));
        let (status, found) = call(&node, "GET", &uri, None).await;
        assert_eq!(status, StatusCode::OK, "{backend}: {found}");
        assert_eq!(
            found["items"][0]["id"],
            json!(id),
            "{backend}: search {fragment}"
        );

        let number = input["licence_number"].as_str().expect("number");
        let (_, found) = call(
            &node,
            "GET",
            &format!("/api/v1/search?q={}", urlencode(number)),
            None,
        )
        .await;
        assert_eq!(
            found["items"][0]["id"],
            json!(id),
            "{backend}: search {number}"
        );

        let (status, history) =
            call(&node, "GET", &format!("/api/v1/records/{id}/history"), None).await;
        assert_eq!(status, StatusCode::OK);
        let changes = history["changes"].as_array().expect("changes");
        assert_eq!(changes.len(), 2);
        assert_eq!(changes[1]["user"], json!("clerk"));
        assert_eq!(changes[1]["node"], json!("330000"));
        assert_eq!(changes[1]["fields"], json!(["remarks"]));

        let (status, conflicts) = call(
            &node,
            "GET",
            &format!("/api/v1/records/{id}/conflicts"),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(conflicts["conflicts"], json!([]));

        let (status, log) = call(&node, "GET", "/api/v1/changes?after=0", None).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(log["changes"].as_array().map(Vec::len), Some(2));

        let (status, quarantine) = call(&node, "GET", "/api/v1/sync/quarantine", None).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(quarantine["quarantined"], json!([]));
    }
}

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => {
                (byte as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

#[tokio::test]
async fn malformed_input_gets_a_stable_error_code_and_writes_nothing() {
    for backend in BACKENDS {
        let node = node(backend, "330000").await;
        let mut unknown_field = licence_input();
        unknown_field["colour"] = json!("red");
        let mut wrong_type = licence_input();
        wrong_type["enterprise_name"] = json!(42);
        let mut invalid_code = licence_input();
        invalid_code["credit_code"] = json!("91330106MA2H3K7Q0IOZ");
        let mut invalid_division = licence_input();
        invalid_division["division_code"] = json!("999999");
        let oversize = json!({ "remarks": "长".repeat(licnode_server::MAX_BODY_BYTES) });
        let cases: Vec<(&str, String, StatusCode, &str)> = vec![
            (
                "/api/v1/licences/records",
                "{\"enterprise_name\": ".into(),
                StatusCode::BAD_REQUEST,
                "malformed_json",
            ),
            (
                "/api/v1/licences/records",
                "[1, 2]".into(),
                StatusCode::BAD_REQUEST,
                "expected_object",
            ),
            (
                "/api/v1/no_such/records",
                licence_input().to_string(),
                StatusCode::NOT_FOUND,
                "unknown_collection",
            ),
            (
                "/api/v1/licences/records",
                unknown_field.to_string(),
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation_failed",
            ),
            (
                "/api/v1/licences/records",
                wrong_type.to_string(),
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation_failed",
            ),
            (
                "/api/v1/licences/records",
                invalid_code.to_string(),
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation_failed",
            ),
            (
                "/api/v1/licences/records",
                invalid_division.to_string(),
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation_failed",
            ),
            (
                "/api/v1/licences/records",
                oversize.to_string(),
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
            ),
            (
                "/api/v1/licences/records?jurisdiction=320102",
                licence_input().to_string(),
                StatusCode::FORBIDDEN,
                "outside_jurisdiction",
            ),
        ];
        for (uri, body, expected_status, expected_code) in cases {
            let (status, answer) = call(&node, "POST", uri, Some(Body::from(body))).await;
            assert_eq!(status, expected_status, "{backend} {uri}: {answer}");
            assert_eq!(
                answer["error"]["code"],
                json!(expected_code),
                "{backend} {uri}: {answer}"
            );
            assert!(
                answer["error"]["message"]
                    .as_str()
                    .is_some_and(|m| !m.is_empty())
            );
        }
        let (_, answer) = call(
            &node,
            "POST",
            "/api/v1/licences/records",
            Some(Body::from(unknown_field_body())),
        )
        .await;
        assert_eq!(
            answer["error"]["details"][0]["code"],
            json!("unknown_field"),
            "{answer}"
        );
        assert_eq!(
            node.state.archive.last_seq().await.expect("seq"),
            0,
            "{backend}: nothing written"
        );

        let (status, answer) = call(&node, "GET", "/api/v1/records/nope", None).await;
        assert_eq!(
            (status, answer["error"]["code"].clone()),
            (StatusCode::NOT_FOUND, json!("not_found"))
        );
        let (status, answer) = call(&node, "GET", "/api/v1/search?q=杭", None).await;
        assert_eq!(
            (status, answer["error"]["code"].clone()),
            (StatusCode::BAD_REQUEST, json!("query_too_short"))
        );
        let (status, answer) =
            call(&node, "GET", "/api/v1/licences/records?colour=red", None).await;
        assert_eq!(
            (status, answer["error"]["code"].clone()),
            (StatusCode::BAD_REQUEST, json!("unknown_filter"))
        );
        let (status, answer) = call(&node, "GET", "/nowhere", None).await;
        assert_eq!(
            (status, answer["error"]["code"].clone()),
            (StatusCode::NOT_FOUND, json!("not_found"))
        );
    }
}

fn unknown_field_body() -> String {
    let mut input = licence_input();
    input["colour"] = json!("red");
    input.to_string()
}

/// Issue 17, item 3: a route's description names only codes an `ApiError` can carry (the
/// public service under /public answers its own bilingual errors and is not checked here).
#[tokio::test]
async fn every_error_code_a_route_declares_is_one_the_api_can_answer() {
    let node = node(Backend::Sqlite, "330000").await;
    let (status, openapi) = call(&node, "GET", "/openapi.json", None).await;
    assert_eq!(status, StatusCode::OK);
    let known = licnode_server::ApiError::every_code();
    let mut declared = 0;
    let paths = openapi["paths"].as_object().expect("paths");
    for (path, operations) in paths {
        if path.starts_with("/public") {
            continue;
        }
        for (method, operation) in operations.as_object().expect("operations") {
            let Some(responses) = operation["responses"].as_object() else {
                continue;
            };
            for (status, response) in responses {
                for code in response["x-error-codes"].as_array().into_iter().flatten() {
                    let code = code.as_str().expect("a code is a string");
                    declared += 1;
                    assert!(
                        known.iter().any(|listed| listed.as_str() == code),
                        "{method} {path} declares {status} {code:?}, which no ApiError carries"
                    );
                }
            }
        }
    }
    assert!(declared > 50, "only {declared} codes declared");
}

#[tokio::test]
async fn health_metrics_and_openapi_are_served() {
    let node = node(Backend::Sqlite, "330000").await;
    let (status, health) = call(&node, "GET", "/healthz", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(health["status"], json!("ok"));
    let (status, metrics) = call(&node, "GET", "/metrics", None).await;
    assert_eq!(status, StatusCode::OK);
    let text = metrics.as_str().expect("text");
    assert!(
        text.contains(
            "licnode_http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"} 1"
        ),
        "{text}"
    );
    assert!(text.contains("licnode_change_log_last_seq 0"));
    let (status, openapi) = call(&node, "GET", "/openapi.json", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(openapi["openapi"], json!("3.1.0"));
    for collection in licnode_model::collections() {
        let path = format!("/api/v1/{}/records", collection.name);
        assert!(
            openapi["paths"][&path].is_object(),
            "{path} missing from the OpenAPI document"
        );
    }
    for path in [
        "/api/v1/deadlines",
        "/api/v1/audit",
        "/api/v1/retention/due",
        "/api/v1/retention/requests/{id}/approve",
        "/api/v1/retention/requests/{id}/destroy",
    ] {
        assert!(
            openapi["paths"][path].is_object(),
            "{path} missing from the OpenAPI document"
        );
    }
    let (status, schema) = call(&node, "GET", "/api/v1/collections/reviewers", None).await;
    assert_eq!(status, StatusCode::OK);
    let id_number = schema["fields"]
        .as_array()
        .and_then(|fields| fields.iter().find(|f| f["name"] == json!("id_number")))
        .expect("id_number field");
    assert_eq!(id_number["classification"], json!("secret"));
}

fn login_body(name: &str, password: &str) -> Option<Body> {
    Some(Body::from(
        json!({ "name": name, "password": password }).to_string(),
    ))
}

#[tokio::test]
async fn a_clerk_cannot_approve() {
    let node = node(Backend::Sqlite, "330000").await;
    let (_, created) = call(
        &node,
        "POST",
        "/api/v1/licences/records",
        Some(Body::from(licence_input().to_string())),
    )
    .await;
    let id = created["id"].as_str().expect("id").to_string();
    let cancel = || Some(Body::from(json!({ "status": "cancelled" }).to_string()));
    let (status, answer) = call(&node, "PATCH", &format!("/api/v1/records/{id}"), cancel()).await;
    assert_eq!(
        (status, answer["error"]["code"].clone()),
        (StatusCode::FORBIDDEN, json!("approval_required"))
    );
    let (status, _) = call_as(
        &node,
        Some(&node.tokens["approver"]),
        "PATCH",
        &format!("/api/v1/records/{id}"),
        cancel(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "an approver may");
}

#[tokio::test]
async fn an_auditor_cannot_write() {
    let node = node(Backend::Sqlite, "330000").await;
    let (status, answer) = call_as(
        &node,
        Some(&node.tokens["auditor"]),
        "POST",
        "/api/v1/licences/records",
        Some(Body::from(licence_input().to_string())),
    )
    .await;
    assert_eq!(
        (status, answer["error"]["code"].clone()),
        (StatusCode::FORBIDDEN, json!("forbidden_role"))
    );
    assert_eq!(node.state.archive.last_seq().await.expect("seq"), 0);
}

#[tokio::test]
async fn a_disabled_user_is_refused() {
    let node = node(Backend::Sqlite, "330000").await;
    let (status, _) = call_as(
        &node,
        Some(&node.tokens["administrator"]),
        "PATCH",
        "/api/v1/users/clerk",
        Some(Body::from(json!({ "disabled": true }).to_string())),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, answer) = call(&node, "GET", "/api/v1/licences/records", None).await;
    assert_eq!(
        (status, answer["error"]["code"].clone()),
        (StatusCode::UNAUTHORIZED, json!("unauthenticated"))
    );
    let (status, _) = call_as(
        &node,
        None,
        "POST",
        "/api/v1/auth/login",
        login_body("clerk", PASSWORD),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "nor may it log in");
}

#[tokio::test]
async fn a_logged_out_token_is_refused() {
    let node = node(Backend::Sqlite, "330000").await;
    let (status, session) = call_as(
        &node,
        None,
        "POST",
        "/api/v1/auth/login",
        login_body("clerk", PASSWORD),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{session}");
    let token = session["token"].as_str().expect("token").to_string();
    let (status, me) = call_as(&node, Some(&token), "GET", "/api/v1/auth/me", None).await;
    assert_eq!(
        (status, me["user"]["role"].clone()),
        (StatusCode::OK, json!("clerk"))
    );
    let (status, _) = call_as(&node, Some(&token), "POST", "/api/v1/auth/logout", None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = call_as(&node, Some(&token), "GET", "/api/v1/auth/me", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_wrong_password_answers_401_without_saying_which_part_was_wrong() {
    let node = node(Backend::Sqlite, "330000").await;
    let (status_password, wrong_password) = call_as(
        &node,
        None,
        "POST",
        "/api/v1/auth/login",
        login_body("clerk", "not the password"),
    )
    .await;
    let (status_name, wrong_name) = call_as(
        &node,
        None,
        "POST",
        "/api/v1/auth/login",
        login_body("nobody", PASSWORD),
    )
    .await;
    assert_eq!(
        (status_password, status_name),
        (StatusCode::UNAUTHORIZED, StatusCode::UNAUTHORIZED)
    );
    assert_eq!(
        wrong_password, wrong_name,
        "the two refusals must be indistinguishable"
    );
}

#[tokio::test]
async fn requests_without_a_token_are_refused_but_health_is_open() {
    let node = node(Backend::Sqlite, "330000").await;
    let (status, answer) = call_as(&node, None, "GET", "/api/v1/licences/records", None).await;
    assert_eq!(
        (status, answer["error"]["code"].clone()),
        (StatusCode::UNAUTHORIZED, json!("unauthenticated"))
    );
    let (status, _) = call_as(&node, None, "GET", "/healthz", None).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn repeated_failed_logins_are_rate_limited() {
    let node = node(Backend::Sqlite, "330000").await;
    let mut statuses = Vec::new();
    for _ in 0..12 {
        let (status, _) = call_as(
            &node,
            None,
            "POST",
            "/api/v1/auth/login",
            login_body("clerk", "wrong password!"),
        )
        .await;
        statuses.push(status);
    }
    assert_eq!(statuses[..10], [StatusCode::UNAUTHORIZED; 10]);
    assert_eq!(statuses[10..], [StatusCode::TOO_MANY_REQUESTS; 2]);
    let (status, _) = call_as(
        &node,
        None,
        "POST",
        "/api/v1/auth/login",
        login_body("clerk", PASSWORD),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::TOO_MANY_REQUESTS,
        "even the right password waits out the window"
    );
}
