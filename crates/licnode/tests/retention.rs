//! Keeping and destroying (Art. 37, 38) between real nodes over mutual TLS on loopback: the
//! county 330106 asks its province 330000 to approve destroying what has come due, the
//! province approves with a signature of its node key, the decision comes back by replication
//! and the county destroys; the province, offline meanwhile and editing its own copy, reconnects
//! and the record does not come back. Clocks are injected and moved five years on. Certificates
//! are made with the CLI as the README does.

mod support;

use support::{NATIONAL, Planned, XIHU, ZHEJIANG};

use std::path::Path;

use chrono::{Days, NaiveDate};
use licnode::sync_cli::{SessionReport, session};
use licnode::{Config, Node, NodeHandle};
use licnode_app::Author;
use licnode_app::{Clock as _, ManualClock};
use licnode_store::{Role, TokenKind};
use serde_json::{Map, Value, json};

const YEARS: u32 = 5;

/// A root CA, the province (an intermediate CA and a node certificate) and one county.
fn make_tree(dir: &Path) {
    support::issue_tree(
        dir,
        &[
            Planned {
                runs: false,
                ..NATIONAL
            },
            ZHEJIANG,
            XIHU,
        ],
    );
}

fn config(dir: &Path, name: &str, database_url: &str, parent: Option<String>) -> Config {
    let mut config = Config::load(&dir.join(name).join("licnode.toml")).expect("config");
    config.node.parent_url = parent;
    config.storage.database_url = Some(database_url.to_owned());
    // The test drives every session itself.
    config.sync.enabled = false;
    config
}

async fn sync(county: &NodeHandle, province: &NodeHandle) -> SessionReport {
    let url = format!("https://{}", province.peer_addr().expect("peer"));
    session(county.archive(), county.tls().expect("tls"), &url)
        .await
        .expect("session")
}

fn object(value: Value) -> Map<String, Value> {
    value.as_object().cloned().expect("object")
}

fn record(collection: &str, seed: u64, overrides: Value) -> Map<String, Value> {
    let model = licnode_model::collection(collection).expect("collection");
    let mut record = licnode_gen::Generator::new(seed).record(model, "330106");
    record.extend(object(overrides));
    record
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_county_destroys_on_its_provinces_approval_and_nothing_comes_back() {
    for backend in licnode_testkit::BACKENDS {
        scenario(backend).await;
    }
}

async fn scenario(backend: licnode_testkit::Backend) {
    let dir = tempfile::tempdir().expect("dir");
    let root = dir.path().to_owned();
    tokio::task::spawn_blocking(move || make_tree(&root))
        .await
        .expect("tree");
    let mut databases = Vec::new();
    let mut urls = std::collections::HashMap::new();
    for name in ["zhejiang", "xihu"] {
        let (url, database) =
            licnode_testkit::database_url(backend, &dir.path().join(name).join("data"))
                .await
                .expect("database");
        urls.insert(name, url);
        databases.extend(database);
    }
    let today = licnode_app::SystemClock.today();
    let province_clock = ManualClock::at_date(today);
    let county_clock = ManualClock::at_date(today);
    let province_config = config(dir.path(), "zhejiang", &urls["zhejiang"], None);
    let province = Node::start_with_clock(&province_config, province_clock.clone())
        .await
        .expect("province");
    let county = Node::start_with_clock(
        &config(
            dir.path(),
            "xihu",
            &urls["xihu"],
            Some(format!("https://{}", province.peer_addr().expect("peer"))),
        ),
        county_clock.clone(),
    )
    .await
    .expect("county");

    // The county's quality archive (up to the province) and the province's notice addressed to
    // the county (down to it), both over by the same day, five years on.
    let start: NaiveDate = today.checked_add_days(Days::new(40)).expect("date");
    let due = start
        .checked_add_months(chrono::Months::new(12 * YEARS))
        .expect("date");
    let archive = county
        .archive()
        .create(
            "quality_archives",
            None,
            &record(
                "quality_archives",
                1,
                json!({"valid_until": start.to_string(), "supervision_records": []}),
            ),
            &Author::clerk("clerk"),
        )
        .await
        .expect("archive")
        .record
        .id;
    let notice = province
        .archive()
        .create(
            "notices",
            Some("330106"),
            &record(
                "notices",
                2,
                json!({"issue_date": start.to_string(), "response_deadline": start.to_string(),
                       "status": "handled"}),
            ),
            &Author::clerk("clerk"),
        )
        .await
        .expect("notice")
        .record
        .id;
    sync(&county, &province).await;
    for node in [&county, &province] {
        for id in [&archive, &notice] {
            assert!(node.archive().find(id).await.expect("get").is_some());
        }
    }

    // Five years on, to the day.
    province_clock.set_date(due);
    county_clock.set_date(day_before(due));
    assert!(
        county
            .archive()
            .due_records(county_clock.today(), YEARS)
            .await
            .expect("due")
            .is_empty()
    );
    county_clock.set_date(due);

    // Over the staff API: who may do what, and the flow.
    let county_api = Api::new(&county).await;
    let province_api = Api::new(&province).await;
    let (status, body) = county_api.get("auditor", "/retention/due").await;
    assert_eq!((status, body["count"].as_u64()), (200, Some(2)), "{body}");
    let (status, body) = county_api
        .post("auditor", "/retention/requests", json!({}))
        .await;
    assert_eq!(status, 403, "{body}");
    let (status, request) = county_api
        .post(
            "clerk",
            "/retention/requests",
            json!({"reason": "保存期满"}),
        )
        .await;
    assert_eq!(status, 201, "{request}");
    let request_id = request["id"].as_str().expect("id").to_owned();
    let destroy_path = format!("/retention/requests/{request_id}/destroy");
    let (status, body) = county_api.post("approver", &destroy_path, json!({})).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (422, Some("not_approved")),
        "{body}"
    );

    // Up to the province, approved there with its own copies and clock, back down.
    sync(&county, &province).await;
    let approve_path = format!("/retention/requests/{request_id}/approve");
    let (status, body) = province_api.post("clerk", &approve_path, json!({})).await;
    assert_eq!(status, 403, "{body}");
    let (status, approved) = province_api
        .post("approver", &approve_path, json!({"remarks": "同意销毁"}))
        .await;
    assert_eq!(status, 200, "{approved}");
    assert_eq!(approved["data"]["decision"], "approved");
    let (status, body) = province_api
        .post("approver", &approve_path, json!({}))
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (409, Some("already_decided")),
        "{body}"
    );
    sync(&county, &province).await;
    let arrived = county.archive().get(&request_id).await.expect("request");
    assert_eq!(arrived.data["decision"], "approved");

    // The province goes offline, after editing its own copy of the notice.
    province
        .archive()
        .update(
            &notice,
            &object(json!({"handling_result": "已整改，复查合格"})),
            &Author::clerk("clerk"),
        )
        .await
        .expect("edit");
    let province_peer = province.peer_addr().expect("peer");
    province.shutdown().await.expect("shutdown");

    // The county destroys, verifying the province's signature against the PKI.
    let (status, certificate) = county_api.post("approver", &destroy_path, json!({})).await;
    assert_eq!(status, 200, "{certificate}");
    let certificate: licnode_store::retention::DestructionCertificate =
        serde_json::from_value(certificate).expect("certificate");
    assert_eq!(certificate.approving_node, "330000");
    assert_eq!(certificate.approver, "approver");
    let mut destroyed: Vec<&str> = certificate.records.iter().map(|r| r.id.as_str()).collect();
    destroyed.sort();
    let mut expected = vec![archive.as_str(), notice.as_str()];
    expected.sort();
    assert_eq!(destroyed, expected);
    for id in [&archive, &notice] {
        let store = county.archive().store_for_tests();
        assert!(store.get(id).await.expect("get").is_none(), "{backend}");
        assert!(store.record_changes(id).await.expect("changes").is_empty());
        assert!(store.is_destroyed(id).await.expect("tombstone"));
    }
    assert_eq!(
        county
            .archive()
            .destruction_certificates()
            .await
            .expect("certificates"),
        vec![certificate]
    );

    // The province comes back (same database, a new port) and the two sync: its edit of the
    // notice is dropped at the county, nothing is quarantined, nothing comes back. Its own
    // copies follow its own retention.
    let mut province_config = province_config;
    province_config.peer.as_mut().expect("peer section").listen = province_peer;
    let province = match Node::start_with_clock(&province_config, province_clock.clone()).await {
        Ok(node) => node,
        // The old port may be taken meanwhile: any port will do.
        Err(_) => {
            province_config.peer.as_mut().expect("peer").listen =
                "127.0.0.1:0".parse().expect("address");
            Node::start_with_clock(&province_config, province_clock.clone())
                .await
                .expect("province again")
        }
    };
    let report = sync(&county, &province).await;
    // The province's edit of the notice was delivered, and dropped as already held (destroyed).
    assert_eq!(
        (
            report.pulled,
            report.pull_duplicates,
            report.pull_quarantined
        ),
        (0, 1, 0),
        "{backend}: {report:?}"
    );
    let again = sync(&county, &province).await;
    for id in [&archive, &notice] {
        assert!(
            county.archive().find(id).await.expect("get").is_none(),
            "{backend}: {report:?} {again:?}"
        );
        assert!(province.archive().find(id).await.expect("get").is_some());
    }
    assert_eq!(county.archive().quarantine_count().await.expect("q"), 0);
    // The request, kept for good, tells the province the destruction was carried out.
    let (status, listed) = county_api.get("auditor", "/retention/certificates").await;
    assert_eq!(
        (status, listed["count"].as_u64()),
        (200, Some(1)),
        "{listed}"
    );
    let noted = province.archive().get(&request_id).await.expect("request");
    assert!(noted.data.contains_key("destroyed_at"), "{backend}");

    county.shutdown().await.expect("shutdown");
    province.shutdown().await.expect("shutdown");
    drop(databases);
}

/// A node's staff API with one account per role.
struct Api {
    base: String,
    tokens: std::collections::HashMap<&'static str, String>,
    client: reqwest::Client,
}

impl Api {
    async fn new(node: &NodeHandle) -> Api {
        let store = node.archive().store_for_tests();
        let mut tokens = std::collections::HashMap::new();
        for (name, role) in [
            ("clerk", Role::Clerk),
            ("approver", Role::Approver),
            ("auditor", Role::Auditor),
        ] {
            store
                .add_user(name, name, role, "correct horse battery staple")
                .await
                .expect("user");
            let issued = store
                .issue_token(name, TokenKind::Api, "test", None)
                .await
                .expect("token");
            tokens.insert(name, issued.token);
        }
        Api {
            base: format!("http://{}/api/v1", node.local_addr()),
            tokens,
            client: reqwest::Client::new(),
        }
    }

    async fn answer(response: reqwest::Response) -> (u16, Value) {
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    async fn get(&self, user: &str, path: &str) -> (u16, Value) {
        let response = self
            .client
            .get(format!("{}{path}", self.base))
            .bearer_auth(&self.tokens[user])
            .send()
            .await
            .expect("request");
        Api::answer(response).await
    }

    async fn post(&self, user: &str, path: &str, body: Value) -> (u16, Value) {
        let response = self
            .client
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.tokens[user])
            .json(&body)
            .send()
            .await
            .expect("request");
        Api::answer(response).await
    }
}

fn day_before(date: NaiveDate) -> NaiveDate {
    date.pred_opt().expect("date")
}
