//! Who a request is counted as, through the routers: login throttling per (user, client
//! address) and per client address, so nobody can lock a clerk out from elsewhere (issue 11,
//! item 8); and the client address itself, taken from `X-Forwarded-For` only when the peer is a
//! trusted proxy, for login throttling, the public rate limit and the audit log (item 9).

use std::net::{IpAddr, SocketAddr};

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, Request, StatusCode, header};
use licnode_app::Archive;
use licnode_server::client_address::TrustedProxies;
use licnode_server::public::{self, PublicOptions};
use licnode_server::{AppState, NodeInfo, app};
use licnode_store::{Role, Store};
use licnode_testkit::{BACKENDS, Backend, TestDatabase};
use serde_json::{Value, json};
use tower::ServiceExt;

const PASSWORD: &str = "correct horse battery";
const WRONG_PASSWORD: &str = "not the password at all";

/// The failures a (user, address) and an address are allowed in a window: the limit before
/// the change, kept.
const LIMIT: usize = 10;

struct TestNode {
    state: AppState,
    _database: Option<TestDatabase>,
    _dir: tempfile::TempDir,
}

async fn node(backend: Backend, trusted_proxies: &[&str]) -> TestNode {
    let dir = licnode_testkit::temp_dir().expect("dir");
    let (url, database) = licnode_testkit::database_url(backend, dir.path())
        .await
        .expect("database");
    let store = Store::open(&url).await.expect("store");
    for name in ["clerk", "approver"] {
        store
            .add_user(name, name, Role::Clerk, PASSWORD)
            .await
            .expect("user");
    }
    let state = AppState::new(
        Archive::new(store, "330000"),
        NodeInfo {
            code: "330000".into(),
            level: "province".into(),
            name: "浙江省市场监督管理局".into(),
            parent_url: None,
        },
    )
    .with_trusted_proxies(TrustedProxies::parse(trusted_proxies).expect("trusted proxies"));
    TestNode {
        state,
        _database: database,
        _dir: dir,
    }
}

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Value,
}

/// Sends `request` to `router` as if it came over TCP from `peer`, with `X-Forwarded-For:
/// forwarded_for` when given.
async fn send(
    router: &Router,
    request: axum::http::request::Builder,
    body: Body,
    peer: &str,
    forwarded_for: Option<&str>,
) -> Answer {
    let request = match forwarded_for {
        Some(value) => request.header("x-forwarded-for", value),
        None => request,
    };
    let mut request = request.body(body).expect("request");
    let peer: IpAddr = peer.parse().expect("peer address");
    request
        .extensions_mut()
        .insert(ConnectInfo(SocketAddr::new(peer, 40_000)));
    let response = router.clone().oneshot(request).await.expect("response");
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = axum::body::to_bytes(response.into_body(), 1024 * 1024)
        .await
        .expect("body");
    Answer {
        status,
        headers,
        body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    }
}

async fn login(
    node: &TestNode,
    name: &str,
    password: &str,
    peer: &str,
    forwarded_for: Option<&str>,
) -> Answer {
    let request = Request::builder()
        .method("POST")
        .uri("/api/v1/auth/login")
        .header(header::CONTENT_TYPE, "application/json");
    let body = Body::from(json!({ "name": name, "password": password }).to_string());
    send(&app(node.state.clone()), request, body, peer, forwarded_for).await
}

/// The client address and outcome of every login entry in the audit log, oldest first.
async fn audited_logins(node: &TestNode) -> Vec<(String, String, String)> {
    node.state
        .archive
        .audit_entries(0, 10_000)
        .await
        .expect("audit entries")
        .into_iter()
        .filter(|entry| entry.kind == "login" || entry.kind == "login_failed")
        .map(|entry| {
            (
                entry.user,
                entry.detail["client"].as_str().unwrap_or("").to_owned(),
                entry.detail["how"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect()
}

fn assert_throttled(answer: &Answer, what: &str) {
    assert_eq!(answer.status, StatusCode::TOO_MANY_REQUESTS, "{what}");
    assert_eq!(answer.body["error"]["code"], "too_many_attempts", "{what}");
    assert!(
        answer.headers.contains_key(header::RETRY_AFTER),
        "{what}: Retry-After"
    );
}

#[tokio::test]
async fn wrong_passwords_from_one_address_do_not_lock_the_clerk_out_from_another() {
    for backend in BACKENDS {
        let node = node(backend, &[]).await;
        let attacker = "192.0.2.10";
        let office = "198.51.100.20";
        for attempt in 0..LIMIT {
            let answer = login(&node, "clerk", WRONG_PASSWORD, attacker, None).await;
            assert_eq!(
                answer.status,
                StatusCode::UNAUTHORIZED,
                "{backend}: attempt {attempt}"
            );
            assert_eq!(answer.body["error"]["code"], "unauthenticated");
        }
        // The attacker's address is locked, for this name and for any other …
        assert_throttled(
            &login(&node, "clerk", PASSWORD, attacker, None).await,
            "the right password from the locked address",
        );
        assert_throttled(
            &login(&node, "approver", PASSWORD, attacker, None).await,
            "another name from the locked address",
        );
        // … but the clerk, at her own desk, logs in (issue 11, item 8).
        let answer = login(&node, "clerk", PASSWORD, office, None).await;
        assert_eq!(
            answer.status,
            StatusCode::OK,
            "{backend}: {:?}",
            answer.body
        );
        assert!(
            answer.body["token"]
                .as_str()
                .is_some_and(|token| !token.is_empty())
        );

        // The second throttled attempt of the minute is counted, not audited on its own.
        let audited = audited_logins(&node).await;
        assert_eq!(audited.len(), LIMIT + 2, "{backend}: {audited:?}");
        assert!(
            audited[..LIMIT]
                .iter()
                .all(|(user, client, how)| user == "clerk"
                    && client == attacker
                    && how == "wrong_credentials"),
            "{backend}: {audited:?}"
        );
        assert_eq!(
            audited[LIMIT + 1],
            ("clerk".to_owned(), office.to_owned(), "password".to_owned())
        );
    }
}

#[tokio::test]
async fn a_forged_x_forwarded_for_from_an_untrusted_peer_is_ignored_by_login_throttling_and_audit()
{
    let node = node(Backend::Sqlite, &["10.0.0.0/8"]).await;
    let peer = "192.0.2.10";
    for attempt in 0..LIMIT {
        // A new "client" every time, as a password guesser would claim.
        let forged = format!("203.0.113.{}", attempt + 1);
        let answer = login(&node, "clerk", WRONG_PASSWORD, peer, Some(&forged)).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "attempt {attempt}");
    }
    assert_throttled(
        &login(&node, "clerk", PASSWORD, peer, Some("203.0.113.99")).await,
        "the peer is counted by its own address",
    );
    let audited = audited_logins(&node).await;
    assert!(
        audited.iter().all(|(_, client, _)| client == peer),
        "{audited:?}"
    );
}

#[tokio::test]
async fn behind_a_trusted_proxy_logins_are_throttled_and_audited_by_the_forwarded_client() {
    let node = node(Backend::Sqlite, &["10.0.0.0/8", "fd00::/8"]).await;
    let proxy = "10.0.0.5";
    let guesser = "203.0.113.7";
    for attempt in 0..LIMIT {
        // What the guesser wrote itself stands left of what the proxy appended.
        let forwarded = format!("1.1.1.{attempt}, {guesser}");
        let answer = login(&node, "clerk", WRONG_PASSWORD, proxy, Some(&forwarded)).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "attempt {attempt}");
    }
    assert_throttled(
        &login(&node, "clerk", PASSWORD, proxy, Some(guesser)).await,
        "the forwarded guesser",
    );
    // Another client of the same proxy is somebody else, over IPv6 as well.
    let clerk = login(&node, "clerk", PASSWORD, proxy, Some("198.51.100.20")).await;
    assert_eq!(clerk.status, StatusCode::OK, "{:?}", clerk.body);
    let over_ipv6 = login(&node, "clerk", PASSWORD, "fd00::5", Some("2001:db8::20")).await;
    assert_eq!(over_ipv6.status, StatusCode::OK, "{:?}", over_ipv6.body);

    let audited = audited_logins(&node).await;
    let clients: Vec<&str> = audited
        .iter()
        .map(|(_, client, _)| client.as_str())
        .collect();
    let mut expected = vec![guesser; LIMIT + 1];
    expected.extend(["198.51.100.20", "2001:db8::20"]);
    assert_eq!(clients, expected);
}

#[tokio::test]
async fn the_public_rate_limit_counts_the_forwarded_client_only_behind_a_trusted_proxy() {
    let node = node(Backend::Sqlite, &["10.0.0.5"]).await;
    let router = public::public_app(
        node.state.clone(),
        PublicOptions {
            requests_per_second: 0.01,
            burst: 2,
        },
    );
    let get = || Request::builder().method("GET").uri("/public/api/licences");
    let proxy = "10.0.0.5";
    for _ in 0..2 {
        let answer = send(&router, get(), Body::empty(), proxy, Some("203.0.113.7")).await;
        assert_eq!(answer.status, StatusCode::OK);
    }
    let greedy = send(&router, get(), Body::empty(), proxy, Some("203.0.113.7")).await;
    assert_eq!(greedy.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(greedy.body["error"]["code"], "rate_limited");
    // The proxy's other clients are not held back by one greedy one.
    let other = send(&router, get(), Body::empty(), proxy, Some("203.0.113.8")).await;
    assert_eq!(other.status, StatusCode::OK);

    // An untrusted peer cannot escape its limit by naming new clients.
    let peer = "192.0.2.10";
    for index in 0..2 {
        let forged = format!("198.51.100.{index}");
        let answer = send(&router, get(), Body::empty(), peer, Some(&forged)).await;
        assert_eq!(answer.status, StatusCode::OK);
    }
    let forged = send(&router, get(), Body::empty(), peer, Some("198.51.100.99")).await;
    assert_eq!(forged.status, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn a_locked_out_guesser_adds_one_audit_entry_a_minute_however_often_it_tries() {
    let mut node = node(Backend::Sqlite, &[]).await;
    let clock = licnode_app::ManualClock::new(1_767_225_600_000);
    node.state = node.state.clone().with_clock(clock.clone());
    let guesser = "192.0.2.10";
    for _ in 0..LIMIT {
        let answer = login(&node, "clerk", WRONG_PASSWORD, guesser, None).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    }
    for attempt in 0..50 {
        assert_throttled(
            &login(&node, "clerk", WRONG_PASSWORD, guesser, None).await,
            &format!("throttled attempt {attempt}"),
        );
    }
    let throttled_entries = |entries: Vec<licnode_store::AuditRecord>| -> Vec<Value> {
        entries
            .into_iter()
            .filter(|entry| entry.detail["how"] == "too_many_attempts")
            .map(|entry| entry.detail)
            .collect()
    };
    let store = node.state.archive.store_for_tests();
    let entries = throttled_entries(store.audit_entries(0, 10_000).await.expect("audit"));
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert_eq!(entries[0]["client"], guesser);
    assert_eq!(entries[0]["throttled_not_audited"], 0);

    // The next minute's first attempt is audited with the count of those that were not.
    clock.advance_ms(60_000);
    assert_throttled(
        &login(&node, "clerk", WRONG_PASSWORD, guesser, None).await,
        "the next minute",
    );
    let entries = throttled_entries(store.audit_entries(0, 10_000).await.expect("audit"));
    assert_eq!(entries.len(), 2, "{entries:?}");
    assert_eq!(entries[1]["throttled_not_audited"], 49);
}
