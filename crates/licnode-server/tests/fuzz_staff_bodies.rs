//! Fuzzing the staff API's bodies (issue 16, item 4): every POST, PUT and PATCH operation the
//! API describes (`/openapi.json`), through the router in-process, with malformed JSON, wrong
//! types, huge strings, deep nesting, unknown fields and valid bodies with one field replaced,
//! sent by every role, with and without a JSON content type. Each answer is a success or a
//! refusal with a stable code of `ErrorCode` — never an internal error, never a panic. The one
//! 5xx allowed is `no_node_key` (503): this test node has no certificate, so it can neither
//! sign nor verify destruction approvals. SQLite only: the bodies are judged above the store.
//! Cases: `LICNODE_FUZZ_CASES` (see `licnode_testkit::fuzz`). Soak: `LICNODE_FUZZ_CASES=1000000
//! cargo test --release -p licnode-server --test fuzz_staff_bodies`.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use licnode_app::Archive;
use licnode_server::{AppState, ErrorCode, NodeInfo, app};
use licnode_store::{Role, Store, TokenKind};
use licnode_testkit::fuzz::{self, Watchdog};
use licnode_testkit::{Backend, TestDatabase};
use proptest::prelude::*;
use proptest::test_runner::TestRunner;
use serde_json::Value;
use tower::ServiceExt;

struct TestNode {
    /// The node's whole application, built once: building it renders the OpenAPI document.
    router: axum::Router,
    tokens: Vec<String>,
    /// A licence the node holds, for the operations on one record.
    licence_id: String,
    _database: Option<TestDatabase>,
    _dir: tempfile::TempDir,
}

async fn node() -> TestNode {
    let dir = licnode_testkit::temp_dir().expect("dir");
    let (url, database) = licnode_testkit::database_url(Backend::Sqlite, dir.path())
        .await
        .expect("database");
    let store = Store::open(&url).await.expect("store");
    let mut tokens = Vec::new();
    for (name, role) in [
        ("clerk", Role::Clerk),
        ("approver", Role::Approver),
        ("administrator", Role::Administrator),
        ("auditor", Role::Auditor),
    ] {
        store
            .add_user(name, name, role, "correct horse battery")
            .await
            .expect("user");
        let issued = store
            .issue_token(name, TokenKind::Api, "test", None)
            .await
            .expect("token");
        tokens.push(issued.token);
    }
    let archive = Archive::new(store, "330000");
    let licence_id = archive
        .create(
            "licences",
            Some("330106"),
            &licence_input(),
            &licnode_app::Author::clerk("clerk"),
        )
        .await
        .expect("licence")
        .record
        .id;
    TestNode {
        router: app(AppState::new(
            archive,
            NodeInfo {
                code: "330000".into(),
                level: "province".into(),
                name: "测试节点".into(),
                parent_url: None,
            },
        )),
        tokens,
        licence_id,
        _database: database,
        _dir: dir,
    }
}

fn licence_input() -> serde_json::Map<String, Value> {
    let collection = licnode_model::collection("licences").expect("licences");
    licnode_gen::Generator::new(21).record(collection, "330106")
}

/// Sends one request; returns the status and the body as JSON (or as a JSON string).
async fn send(
    node: &TestNode,
    token: Option<&str>,
    method: &str,
    uri: &str,
    content_type: Option<&str>,
    body: Vec<u8>,
) -> (StatusCode, Value) {
    let mut request = Request::builder().method(method).uri(uri);
    if let Some(content_type) = content_type {
        request = request.header("content-type", content_type);
    }
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    let request = request.body(Body::from(body)).expect("request");
    let response = node
        .router
        .clone()
        .oneshot(request)
        .await
        .expect("response");
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), 64 * 1024 * 1024)
        .await
        .expect("body");
    let value = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
    (status, value)
}

/// Every operation with a body the API describes: method and concrete path.
async fn operations_with_bodies(node: &TestNode) -> Vec<(String, String)> {
    let (status, openapi) = send(node, None, "GET", "/openapi.json", None, Vec::new()).await;
    assert_eq!(status, StatusCode::OK);
    let mut operations = Vec::new();
    for (path, methods) in openapi["paths"].as_object().expect("paths") {
        // The staff API; the web application's forms and the public service are other doors.
        if !path.starts_with("/api/v1/") {
            continue;
        }
        for method in methods.as_object().expect("methods").keys() {
            if !matches!(method.as_str(), "post" | "put" | "patch") {
                continue;
            }
            let concrete = path
                .replace("{collection}", "licences")
                .replace("{id}", &node.licence_id)
                .replace("{name}", "clerk")
                .replace("{kind}", "monthly")
                .replace("{period}", "2024-05");
            operations.push((method.to_uppercase(), concrete));
        }
    }
    operations
}

/// A body: generated JSON or bytes, or the valid licence with one field replaced or added.
fn body() -> impl Strategy<Value = Vec<u8>> {
    let replaced = (
        prop_oneof![
            Just("status".to_string()),
            Just("licence_number".to_string()),
            Just("enterprise_name".to_string()),
            Just("issue_date".to_string()),
            Just("_id".to_string()),
            "[a-z_]{1,20}"
        ],
        fuzz::json_value(3),
    )
        .prop_map(|(field, value)| {
            let mut input = licence_input();
            input.insert(field, value);
            Value::Object(input).to_string().into_bytes()
        });
    prop_oneof![3 => fuzz::json_body(), 2 => replaced]
}

/// One request of the run: which operation, which role (or none), which content type.
fn request(
    operations: usize,
) -> impl Strategy<Value = (usize, Option<usize>, Option<&'static str>, Vec<u8>)> {
    (
        0..operations,
        prop_oneof![4 => (0usize..4).prop_map(Some), 1 => Just(None)],
        prop_oneof![
            6 => Just(Some("application/json")),
            1 => Just(None),
            1 => Just(Some("text/plain")),
            1 => Just(Some("application/json; charset=latin1")),
        ],
        body(),
    )
}

/// The answer must be a success or a refusal with a code of `ErrorCode`; never internal.
fn judge(
    method: &str,
    path: &str,
    status: StatusCode,
    answer: &Value,
) -> Result<(), TestCaseError> {
    if status.is_success() || status.is_redirection() {
        return Ok(());
    }
    let code = answer["error"]["code"].as_str().unwrap_or_default();
    prop_assert!(
        ErrorCode::ALL.iter().any(|known| known.as_str() == code),
        "{method} {path} answered {status} without a stable code: {answer}"
    );
    let unavailable_without_key =
        status == StatusCode::SERVICE_UNAVAILABLE && code == ErrorCode::NoNodeKey.as_str();
    prop_assert!(
        status.is_client_error() || unavailable_without_key,
        "{method} {path} answered {status} {code}: {answer}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_body_of_every_write_operation_is_answered_with_success_or_a_stable_refusal() {
    let node = node().await;
    let operations = operations_with_bodies(&node).await;
    assert!(operations.len() > 15, "only {operations:?}");
    let watchdog = Watchdog::default();
    let mut config = fuzz::config();
    config.failure_persistence = None;
    let mut runner = TestRunner::new(config);
    let handle = tokio::runtime::Handle::current();
    let result = tokio::task::block_in_place(|| {
        runner.run(
            &request(operations.len()),
            |(operation, role, content_type, body)| {
                let (method, path) = &operations[operation];
                watchdog.start(|| format!("{method} {path}: {}", fuzz::describe_bytes(&body)));
                let token = role.map(|role| node.tokens[role].as_str());
                let (status, answer) =
                    handle.block_on(send(&node, token, method, path, content_type, body));
                watchdog.done();
                judge(method, path, status, &answer)
            },
        )
    });
    if let Err(failure) = result {
        panic!("{failure}");
    }
}

#[tokio::test]
async fn the_operations_fuzzed_are_the_api_write_operations() {
    let node = node().await;
    let operations = operations_with_bodies(&node).await;
    let listed: Vec<String> = operations
        .iter()
        .map(|(method, path)| format!("{method} {path}"))
        .collect();
    for expected in [
        "POST /api/v1/auth/login",
        "POST /api/v1/users",
        "PATCH /api/v1/users/clerk",
        "POST /api/v1/licences/records",
    ] {
        assert!(
            listed.iter().any(|op| op == expected),
            "{expected} missing: {listed:?}"
        );
    }
}
