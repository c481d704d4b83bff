//! A node serving the staff web application on a free port, its clock in the test's hands, and
//! a browser without JavaScript (a cookie jar kept by hand, forms posted as
//! `application/x-www-form-urlencoded`): what the web tests of the national view, the lists and
//! the record page share.

// Each test binary uses its own part of the harness.
#![allow(dead_code)]

use std::sync::Arc;

use licnode_app::{Archive, ManualClock};
use licnode_server::{AppState, NodeInfo};
use licnode_store::{Role, Store};
use licnode_testkit::{Backend, TestDatabase};
use serde_json::{Map, Value, json};

// Each test binary uses its own part of the client too.
#[allow(unused_imports)]
pub use crate::web_client::{Answer, Browser, PASSWORD, WebBase, pairs};

/// A node serving its staff listener on a free port.
pub struct WebNode {
    pub base: String,
    pub archive: Archive,
    pub store: Store,
    pub clock: Arc<ManualClock>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    _database: Option<TestDatabase>,
    _dir: tempfile::TempDir,
}

impl Drop for WebNode {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

impl WebNode {
    /// Now on the node's clock, in milliseconds.
    pub fn clock_now(&self) -> i64 {
        use licnode_app::Clock;
        self.clock.now_ms()
    }
}

pub fn date(text: &str) -> chrono::NaiveDate {
    text.parse().expect("date")
}

/// The node `code` at `level`, its clock on `today`, with a clerk, an approver and an auditor.
pub async fn spawn(backend: Backend, code: &str, level: &str, name: &str, today: &str) -> WebNode {
    let dir = licnode_testkit::temp_dir().expect("dir");
    let (url, database) = licnode_testkit::database_url(backend, dir.path())
        .await
        .expect("database");
    let store = Store::open(&url).await.expect("store");
    for (user, role) in [
        ("clerk", Role::Clerk),
        ("approver", Role::Approver),
        ("auditor", Role::Auditor),
    ] {
        store
            .add_user(user, &format!("{user}-显示名"), role, PASSWORD)
            .await
            .expect("user");
    }
    let level_value: licnode_model::Level = level.parse().expect("level");
    let archive = Archive::with_level(store.clone(), code, level_value);
    let clock = ManualClock::at_date(date(today));
    let state = AppState::new(
        archive.clone(),
        NodeInfo {
            code: code.into(),
            level: level.into(),
            name: name.into(),
            parent_url: None,
        },
    )
    .with_clock(clock.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("listener");
    let address = listener.local_addr().expect("address");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(licnode_server::serve(listener, state, async {
        let _ = stopped.await;
    }));
    WebNode {
        base: format!("http://{address}"),
        archive,
        store,
        clock,
        stop: Some(stop),
        _database: database,
        _dir: dir,
    }
}

pub async fn national(backend: Backend, today: &str) -> WebNode {
    spawn(
        backend,
        "100000",
        "national",
        "全国工业产品生产许可证审查中心",
        today,
    )
    .await
}

pub async fn province(backend: Backend, today: &str) -> WebNode {
    spawn(backend, "330000", "province", "浙江省市场监督管理局", today).await
}

/// A generated record of `collection` in `jurisdiction`, with `overrides` (null removes).
pub fn record(
    collection: &str,
    jurisdiction: &str,
    seed: u64,
    overrides: Value,
) -> Map<String, Value> {
    let model = licnode_model::collection(collection).expect("collection");
    let mut input = licnode_gen::Generator::new(seed).record(model, jurisdiction);
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

/// A report of `province` for `period`, as replication delivers it to the national node.
pub async fn report_arrives(node: &WebNode, province: &str, period: &str, submitted: Option<&str>) {
    let status = if submitted.is_some() {
        "submitted"
    } else {
        "draft"
    };
    let mut overrides = json!({
        "report_kind": "monthly", "period": period, "status": status,
        "reporting_division": province, "revision": 1,
    });
    match submitted {
        Some(at) => overrides["submitted_at"] = json!(at),
        None => overrides["submitted_at"] = json!(null),
    }
    licnode_app::Archive::new(node.store.clone(), province)
        .create(
            "reports",
            Some(province),
            &record("reports", province, 3, overrides),
            &licnode_app::Author::approver("approver"),
        )
        .await
        .expect("report");
}

impl WebBase for WebNode {
    fn base_url(&self) -> &str {
        &self.base
    }
}
