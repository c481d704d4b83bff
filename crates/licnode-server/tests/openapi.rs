//! `/openapi.json` against the router it describes (issue 17, item 7): every (method, path) the
//! staff listener's router serves is in the document, every operation of the document is
//! served, and every refusal it describes names its stable error codes.

use std::collections::{BTreeSet, HashMap};

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use licnode_app::Archive;
use licnode_server::{AppState, NodeInfo, app};
use licnode_store::Store;
use licnode_testkit::Backend;
use serde_json::Value;
use tower::ServiceExt;

/// Methods an operation may have, as the document and axum's router name them.
const METHODS: [&str; 8] = [
    "get", "post", "patch", "put", "delete", "options", "trace", "connect",
];

struct TestNode {
    state: AppState,
    _dir: tempfile::TempDir,
}

async fn node() -> TestNode {
    let dir = licnode_testkit::temp_dir().expect("dir");
    let (url, _) = licnode_testkit::database_url(Backend::Sqlite, dir.path())
        .await
        .expect("database");
    let store = Store::open(&url).await.expect("store");
    TestNode {
        state: AppState::new(
            Archive::new(store, "330000"),
            NodeInfo {
                code: "330000".into(),
                level: "province".into(),
                name: "浙江省市场监督管理局".into(),
                parent_url: None,
            },
        ),
        _dir: dir,
    }
}

/// Sends one request without a token; the status and the body as text.
async fn send(router: &Router, method: &str, uri: &str) -> (StatusCode, String) {
    let request = Request::builder()
        .method(method)
        .uri(uri)
        .body(Body::empty())
        .expect("request");
    let response = router.clone().oneshot(request).await.expect("response");
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("body");
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

async fn document(router: &Router) -> Value {
    let (status, text) = send(router, "GET", "/openapi.json").await;
    assert_eq!(status, StatusCode::OK);
    serde_json::from_str(&text).expect("the document is JSON")
}

/// The (method, path) pairs `router` routes, read from its `Debug` form: axum lists its routes
/// nowhere else. The callers check routes known to exist, so a change of that form fails the
/// tests instead of emptying them.
fn routes_of(router: &Router) -> BTreeSet<(String, String)> {
    let text = format!("{router:?}");
    let path_router = text.split("fallback_router:").next().unwrap_or_default();
    let (routes, node) = path_router
        .split_once("node: Node { paths: ")
        .expect("the router's paths in its Debug form");
    let mut paths = HashMap::new();
    for entry in node.split("RouteId(").skip(1) {
        let (id, rest) = entry.split_once(')').expect("a route id");
        let path = rest.split('"').nth(1).expect("a quoted path");
        paths.insert(id.to_string(), path.to_string());
    }
    let mut served = BTreeSet::new();
    for entry in routes.split("RouteId(").skip(1) {
        let (id, rest) = entry.split_once(')').expect("a route id");
        for method in METHODS {
            let field = format!(" {method}: ");
            let Some(at) = rest.find(&field) else {
                continue;
            };
            if !rest[at + field.len()..].starts_with("None") {
                served.insert((method.to_string(), paths[id].clone()));
            }
        }
    }
    served
}

/// The (method, path) pairs of the document.
fn operations_of(document: &Value) -> BTreeSet<(String, String)> {
    let mut documented = BTreeSet::new();
    for (path, item) in document["paths"].as_object().expect("paths") {
        for method in METHODS {
            if item.get(method).is_some() {
                documented.insert((method.to_string(), path.clone()));
            }
        }
    }
    documented
}

/// Whether the router's `route` (axum syntax) serves the document's `path`: the same literal
/// segments, and a parameter of the route where the document has a parameter or a value.
fn serves(route: &str, path: &str) -> bool {
    let route: Vec<&str> = route.split('/').collect();
    let path: Vec<&str> = path.split('/').collect();
    route.len() == path.len()
        && route.iter().zip(&path).all(|(route, path)| {
            route == path || (route.starts_with('{') && !route.starts_with("{*"))
        })
}

fn is_catch_all(route: &str) -> bool {
    route
        .rsplit('/')
        .next()
        .is_some_and(|last| last.starts_with("{*"))
}

#[tokio::test]
async fn every_route_the_router_serves_is_in_the_document_and_every_operation_is_served() {
    let node = node().await;
    let router = app(node.state.clone());
    let served = routes_of(&router);
    for known in [
        ("get", "/healthz"),
        ("patch", "/api/v1/records/{id}"),
        ("post", "/api/v1/{collection}/records"),
        ("get", "/public/api/licences"),
    ] {
        assert!(
            served.contains(&(known.0.to_string(), known.1.to_string())),
            "the router walk misses {known:?}: {served:?}"
        );
    }
    let documented = operations_of(&document(&router).await);
    let undescribed: Vec<&(String, String)> = served
        .iter()
        .filter(|(_, route)| !is_catch_all(route))
        .filter(|(method, route)| {
            !documented
                .iter()
                .any(|(documented_method, path)| documented_method == method && serves(route, path))
        })
        .collect();
    assert!(
        undescribed.is_empty(),
        "served but not in /openapi.json: {undescribed:?}"
    );
    let unserved: Vec<&(String, String)> = documented
        .iter()
        .filter(|(method, path)| {
            !served
                .iter()
                .any(|(served_method, route)| served_method == method && serves(route, path))
        })
        .collect();
    assert!(
        unserved.is_empty(),
        "in /openapi.json but not served: {unserved:?}"
    );
}

#[tokio::test]
async fn every_documented_operation_is_answered_by_its_route_and_not_by_the_fallback() {
    let node = node().await;
    let router = app(node.state.clone());
    let documented = operations_of(&document(&router).await);
    assert!(documented.len() > 40, "{documented:?}");
    for (method, path) in documented {
        // Parameters get any value: without a token every staff route answers 401 before
        // looking at them, and the open ones need none.
        let uri: String = path
            .split('/')
            .map(|segment| {
                if segment.starts_with('{') {
                    "x"
                } else {
                    segment
                }
            })
            .collect::<Vec<_>>()
            .join("/");
        let (status, body) = send(&router, &method.to_uppercase(), &uri).await;
        assert!(
            status != StatusCode::NOT_FOUND && status != StatusCode::METHOD_NOT_ALLOWED,
            "{method} {path} is documented, but {uri} answers {status}: {body}"
        );
    }
}

#[tokio::test]
async fn the_catch_alls_of_the_public_service_answer_not_found() {
    let node = node().await;
    let router = app(node.state.clone());
    let catch_alls: Vec<String> = routes_of(&router)
        .into_iter()
        .map(|(_, route)| route)
        .filter(|route| is_catch_all(route))
        .collect();
    assert!(!catch_alls.is_empty());
    for route in catch_alls {
        let uri = route
            .rsplit_once('/')
            .map(|(prefix, _)| format!("{prefix}/no-such-page"))
            .expect("a prefix");
        let (status, body) = send(&router, "GET", &uri).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{uri}: {body}");
    }
}

#[tokio::test]
async fn the_document_describes_login_the_link_the_audit_anchors_and_the_public_service() {
    let node = node().await;
    let router = app(node.state.clone());
    let document = document(&router).await;
    for (method, path) in [
        ("post", "/api/v1/auth/login"),
        ("get", "/api/v1/auth/me"),
        ("post", "/api/v1/auth/logout"),
        ("post", "/api/v1/auth/tokens"),
        ("get", "/api/v1/users"),
        ("patch", "/api/v1/users/{name}"),
        ("get", "/api/v1/sync/status"),
        ("post", "/api/v1/sync/now"),
        ("get", "/api/v1/audit/anchors"),
        ("get", "/api/v1/retention/certificates"),
        ("get", "/api/v1/reports/forms/{form}/{record}"),
        ("get", "/public"),
        ("get", "/public/api"),
        ("get", "/public/licences"),
        ("get", "/public/api/cancellations"),
        ("get", "/openapi.json"),
    ] {
        assert!(
            document["paths"][path][method].is_object(),
            "{method} {path} missing from /openapi.json"
        );
    }
    // Staff routes need a token; login and the public service do not.
    assert_eq!(
        document["paths"]["/api/v1/records/{id}"]["get"]["security"][0]["bearer"],
        serde_json::json!([])
    );
    assert!(
        document["paths"]["/api/v1/auth/login"]["post"]
            .get("security")
            .is_none()
    );
    assert!(
        document["paths"]["/public/api/licences"]["get"]
            .get("security")
            .is_none()
    );
}

#[tokio::test]
async fn every_refusal_the_document_describes_names_its_error_codes() {
    let node = node().await;
    let router = app(node.state.clone());
    let document = document(&router).await;
    let mut bare = Vec::new();
    for (path, item) in document["paths"].as_object().expect("paths") {
        for method in METHODS {
            let Some(responses) = item[method]["responses"].as_object() else {
                continue;
            };
            for (status, response) in responses {
                // A refusal (4xx) is the error body, or a page for people on the public
                // service's HTML pages; every error body names its codes.
                let error_body = response["content"]["application/json"]["schema"]["$ref"]
                    == "#/components/schemas/Error";
                let page = response["content"]["text/html"].is_object() && !path.contains("/api");
                let codes = response["x-error-codes"].as_array().map_or(0, Vec::len);
                if (status.starts_with('4') && !error_body && !page) || (error_body && codes == 0) {
                    bare.push(format!("{method} {path} {status}"));
                }
            }
        }
    }
    assert!(bare.is_empty(), "refusals without error codes: {bare:?}");
}

#[tokio::test]
async fn the_node_to_node_routes_are_neither_served_nor_described_on_the_staff_listener() {
    let node = node().await;
    let router = app(node.state.clone());
    let document = document(&router).await;
    assert!(
        routes_of(&router)
            .iter()
            .all(|(_, route)| !route.starts_with("/sync/v1") && !route.starts_with("/pki/"))
    );
    assert!(
        operations_of(&document)
            .iter()
            .all(|(_, path)| !path.starts_with("/sync/v1"))
    );
}

#[tokio::test]
async fn the_public_listener_serves_only_what_the_document_describes_as_the_public_service() {
    let node = node().await;
    let document = document(&app(node.state.clone())).await;
    let public_operations: BTreeSet<(String, String)> = operations_of(&document)
        .into_iter()
        .filter(|(_, path)| path == "/public" || path.starts_with("/public/"))
        .collect();
    let public_listener = licnode_server::public::public_app(
        node.state.clone(),
        licnode_server::public::PublicOptions::default(),
    );
    let served: BTreeSet<(String, String)> = routes_of(&public_listener)
        .into_iter()
        // `/` leads to `/public` on the public listener (said in the document's description).
        .filter(|(_, route)| route != "/" && !is_catch_all(route))
        .collect();
    assert!(!served.is_empty());
    assert_eq!(served, public_operations);
}
