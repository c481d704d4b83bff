//! The node-to-node router, driven with a verified peer identity as the mutual-TLS listener
//! hands it over: a parent answers only its direct children, and every error — axum's own
//! rejections and unknown routes included — is JSON with a stable code (issue 11 items 3, 7).

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use licnode_app::Archive;
use licnode_model::Level;
use licnode_pki::PeerIdentity;
use licnode_server::sync::peer_router;
use licnode_server::{AppState, NodeInfo};
use licnode_store::Store;
use licnode_testkit::{BACKENDS, Backend, TestDatabase};
use serde_json::Value;
use tower::ServiceExt;

struct Province {
    state: AppState,
    _database: Option<TestDatabase>,
    _dir: tempfile::TempDir,
}

/// Zhejiang, whose prefecture Hangzhou (330100) runs a node of its own.
async fn zhejiang(backend: Backend) -> Province {
    let dir = licnode_testkit::temp_dir().expect("dir");
    let (url, database) = licnode_testkit::database_url(backend, dir.path())
        .await
        .expect("database");
    let store = Store::open(&url).await.expect("store");
    let archive = Archive::with_level(store, "330000", Level::Province)
        .with_child_prefectures(vec!["330100".into()]);
    Province {
        state: AppState::new(
            archive,
            NodeInfo {
                code: "330000".into(),
                level: "province".into(),
                name: "浙江省市场监督管理局".into(),
                parent_url: None,
            },
        ),
        _database: database,
        _dir: dir,
    }
}

fn peer(code: &str, level: Level) -> PeerIdentity {
    PeerIdentity {
        code: code.into(),
        level,
        serial: "01".into(),
        issuer_code: "100000".into(),
        not_after: std::time::SystemTime::now() + std::time::Duration::from_secs(3_600),
        chain: Vec::new(),
    }
}

/// Sends `request` as `from` and returns the status and the JSON body (`Value::Null` when the
/// body is not JSON).
async fn send(
    state: &AppState,
    from: &PeerIdentity,
    mut request: Request<Body>,
) -> (StatusCode, Value) {
    request.extensions_mut().insert(from.clone());
    let response = peer_router(state.clone())
        .oneshot(request)
        .await
        .expect("answer");
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("body");
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

fn post(path: &str, content_type: &str, body: impl Into<Body>) -> Request<Body> {
    Request::post(path)
        .header(header::CONTENT_TYPE, content_type)
        .body(body.into())
        .expect("request")
}

fn code(body: &Value) -> Option<&str> {
    body["error"]["code"].as_str()
}

/// Issue 11 item 7: malformed JSON, a wrong content type, an oversize body, an unknown route and
/// a wrong method are answered `{"error":{"code","message"}}` with stable codes.
#[tokio::test]
async fn peer_endpoints_answer_every_error_as_json_with_a_stable_code() {
    for backend in BACKENDS {
        let province = zhejiang(backend).await;
        let ningbo_county = peer("330212", Level::County);
        let oversize = vec![b' '; licnode_sync::protocol::MAX_BATCH_BODY_BYTES + 1];
        let cases = [
            (
                post(
                    "/sync/v1/push",
                    "application/json",
                    "{\"after\": 0, \"up_to\"",
                ),
                StatusCode::BAD_REQUEST,
                "malformed_json",
            ),
            (
                post("/sync/v1/push", "application/json", "{\"after\": \"zero\"}"),
                StatusCode::UNPROCESSABLE_ENTITY,
                "wrong_type",
            ),
            (
                post("/sync/v1/pull", "text/plain", "{\"after\": 0}"),
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
            ),
            (
                post("/sync/v1/push", "application/json", oversize),
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
            ),
            (
                Request::get("/sync/v1/no-such-route")
                    .body(Body::empty())
                    .expect("request"),
                StatusCode::NOT_FOUND,
                "not_found",
            ),
            (
                Request::delete("/sync/v1/push")
                    .body(Body::empty())
                    .expect("request"),
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
            ),
        ];
        for (request, status, expected) in cases {
            let what = format!("{} {}", request.method(), request.uri());
            let (answered, body) = send(&province.state, &ningbo_county, request).await;
            assert_eq!(answered, status, "{backend} {what}: {body}");
            assert_eq!(code(&body), Some(expected), "{backend} {what}: {body}");
            assert!(
                body["error"]["message"].is_string(),
                "{backend} {what}: {body}"
            );
        }
        // Refused input changed nothing.
        let cursor = province
            .state
            .archive
            .store_for_tests()
            .sync_cursor("330212", licnode_store::SyncStream::Push)
            .await
            .expect("cursor");
        assert_eq!(cursor, 0, "{backend}");
    }
}

/// Issue 11 item 3: a county whose prefecture runs a node talks to its prefecture, not to its
/// province: refused at its first request (`hello` included) with `not_a_child`, and audited; a
/// county of a prefecture that runs no node is the province's child.
#[tokio::test]
async fn a_province_refuses_a_county_whose_prefecture_runs_a_node_at_the_first_request() {
    for backend in BACKENDS {
        let province = zhejiang(backend).await;
        let xihu = peer("330106", Level::County);
        for path in ["/sync/v1/hello", "/sync/v1/cursor"] {
            let request = Request::get(path).body(Body::empty()).expect("request");
            let (status, body) = send(&province.state, &xihu, request).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{backend} {path}: {body}");
            assert_eq!(code(&body), Some("not_a_child"), "{backend} {path}: {body}");
        }
        let push = post(
            "/sync/v1/push",
            "application/json",
            "{\"after\": 0, \"up_to\": 0, \"changes\": []}",
        );
        let (status, body) = send(&province.state, &xihu, push).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{backend}: {body}");
        assert_eq!(code(&body), Some("not_a_child"), "{backend}: {body}");
        let audit = province
            .state
            .archive
            .audit_entries(0, 100)
            .await
            .expect("audit");
        let refusals = audit
            .iter()
            .filter(|entry| entry.kind == "peer_refused" && entry.node == "330106")
            .count();
        assert_eq!(refusals, 3, "{backend}: {audit:?}");

        // Hangzhou itself, and a county of Ningbo (no prefecture node), are children.
        for child in [
            peer("330100", Level::Prefecture),
            peer("330212", Level::County),
        ] {
            let request = Request::get("/sync/v1/hello")
                .body(Body::empty())
                .expect("request");
            let (status, body) = send(&province.state, &child, request).await;
            assert_eq!(status, StatusCode::OK, "{backend} {}: {body}", child.code);
            assert_eq!(body["you"]["code"], child.code.as_str());
        }
    }
}
