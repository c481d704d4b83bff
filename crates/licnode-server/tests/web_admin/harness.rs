//! The test harness of the administration pages: a node on a free port, a browser without
//! JavaScript with a cookie jar kept by hand, and records and changes as they would arrive.

use std::sync::Arc;

use licnode_app::{Archive, Author, ManualClock};
use licnode_model::Level;
use licnode_server::sync::LinkHandle;
use licnode_server::{AppState, NodeInfo};
use licnode_store::{LoggedChange, Role, Store};
use licnode_testkit::{Backend, TestDatabase};
use reqwest::StatusCode;
use serde_json::{Map, Value};

pub(crate) use crate::web_client::{Browser, PASSWORD, WebBase};

/// A node serving its staff listener on a free port.
pub(crate) struct WebNode {
    pub(crate) base: String,
    pub(crate) url: String,
    pub(crate) backend: Backend,
    pub(crate) archive: Archive,
    pub(crate) store: Store,
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

/// How a test node differs from a plain province.
#[derive(Default)]
pub(crate) struct Options {
    pub(crate) national: bool,
    pub(crate) clock: Option<Arc<ManualClock>>,
    pub(crate) link: Option<Arc<LinkHandle>>,
    /// Give the node a certificate from a root of its own.
    pub(crate) certificate: bool,
}

pub(crate) async fn spawn(backend: Backend, options: Options) -> WebNode {
    let dir = licnode_testkit::temp_dir().expect("dir");
    let (url, database) = licnode_testkit::database_url(backend, dir.path())
        .await
        .expect("database");
    let store = Store::open(&url).await.expect("store");
    for (user, role) in [
        ("admin", Role::Administrator),
        ("clerk", Role::Clerk),
        ("approver", Role::Approver),
        ("auditor", Role::Auditor),
    ] {
        store
            .add_user(user, &format!("{user}-显示名"), role, PASSWORD)
            .await
            .expect("user");
    }
    let (code, level, name) = if options.national {
        ("100000", "national", "全国工业产品生产许可证审查中心")
    } else {
        ("330000", "province", "浙江省市场监督管理局")
    };
    let archive = Archive::new(store.clone(), code);
    let mut state = AppState::new(
        archive.clone(),
        NodeInfo {
            code: code.into(),
            level: level.into(),
            name: name.into(),
            parent_url: None,
        },
    );
    if let Some(clock) = options.clock {
        state = state.with_clock(clock);
    }
    if let Some(link) = options.link {
        state = state.with_link(link);
    }
    if options.certificate {
        state = state.with_node_tls(Some(node_certificate(dir.path(), code, level)));
    }
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
        url,
        backend,
        archive,
        store,
        stop: Some(stop),
        _database: database,
        _dir: dir,
    }
}

pub(crate) async fn province(backend: Backend) -> WebNode {
    spawn(backend, Options::default()).await
}

impl WebNode {
    /// Runs `sql` on the database directly, past the node: what someone with the file can do.
    pub(crate) async fn tamper(&self, sql: &str) {
        match self.backend {
            Backend::Sqlite => {
                let pool = sqlx::SqlitePool::connect(&self.url).await.expect("sqlite");
                sqlx::query(sqlx::AssertSqlSafe(sql.to_string()))
                    .execute(&pool)
                    .await
                    .expect("tamper");
                pool.close().await;
            }
            Backend::Postgres => {
                let pool = sqlx::PgPool::connect(&self.url).await.expect("postgres");
                sqlx::query(sqlx::AssertSqlSafe(sql.to_string()))
                    .execute(&pool)
                    .await
                    .expect("tamper");
                pool.close().await;
            }
        }
    }
}

impl WebBase for WebNode {
    fn base_url(&self) -> &str {
        &self.base
    }
}

pub(crate) async fn user_names(node: &WebNode) -> Vec<String> {
    node.archive
        .users()
        .await
        .expect("users")
        .into_iter()
        .map(|user| user.name)
        .collect()
}

/// The status of `GET /api/v1/auth/me` with `token`.
pub(crate) async fn token_status(node: &WebNode, token: &str) -> StatusCode {
    reqwest::Client::new()
        .get(format!("{}/api/v1/auth/me", node.base))
        .bearer_auth(token)
        .send()
        .await
        .expect("response")
        .status()
}

/// A change that is not an automerge change, as a child at `peer` might push it.
pub(crate) fn garbage_from(peer: &str) -> licnode_app::replication::ReceivedBatch {
    licnode_app::replication::ReceivedBatch {
        cursor_move: Default::default(),
        peer: peer.to_string(),
        stream: licnode_store::SyncStream::Push,
        cursor: 17,
        changes: vec![LoggedChange {
            record_id: "0190a6c8-0000-7000-8000-00000000abcd".to_string(),
            collection: "quality_archives".to_string(),
            jurisdiction: "330106".to_string(),
            author_user: "someone".to_string(),
            at_ms: 0,
            origin: peer.to_string(),
            bytes: b"<script>not a change</script>".to_vec(),
            ..LoggedChange::default()
        }],
    }
}

/// A record as replication would deliver it to the national node, written by `author_code`.
pub(crate) async fn arrive(
    node: &WebNode,
    author_code: &str,
    level: Level,
    collection: &str,
    jurisdiction: &str,
    fields: Value,
) -> String {
    let model = licnode_model::collection(collection).expect("collection");
    let mut input: Map<String, Value> = licnode_gen::Generator::new(5).record(model, jurisdiction);
    for (name, value) in fields.as_object().expect("fields") {
        if value.is_null() {
            input.remove(name);
        } else {
            input.insert(name.clone(), value.clone());
        }
    }
    Archive::with_level(node.store.clone(), author_code, level)
        .create(
            collection,
            Some(jurisdiction),
            &input,
            &Author::approver("approver"),
        )
        .await
        .expect("record")
        .record
        .id
}

/// A node certificate for `code` signed by a fresh root, with the root's CRL, as `licnode pki`
/// installs them in the node's directory.
fn node_certificate(dir: &std::path::Path, code: &str, level: &str) -> licnode_pki::NodeTls {
    let root = licnode_pki::CertificateAuthority::init_root(&dir.join("root-ca")).expect("root");
    let node_dir = dir.join("node");
    let level: Level = level.parse().expect("level");
    let request = licnode_pki::node::create_request(&node_dir, code, level).expect("request");
    let issued = root
        .issue(&request.csr_pem, &licnode_pki::ca::IssueOptions::node())
        .expect("issue");
    let root_pem = root.root_pem().expect("root pem");
    licnode_pki::node::install_certificate(&node_dir, &issued.chain_pem, Some(&root_pem))
        .expect("install");
    licnode_pki::node::install_crl(&node_dir, &root.crl_pem().expect("crl")).expect("crl");
    licnode_pki::NodeTls::load(licnode_pki::NodeTlsSettings::for_node_dir(&node_dir))
        .expect("the node's TLS loads")
}
