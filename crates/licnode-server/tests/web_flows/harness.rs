//! The work-flow pages' test harness: nodes serving their staff listener on a free port (with
//! an injected clock and test node keys), and a browser without JavaScript that keeps its
//! cookies and posts forms with the page's CSRF token.

use std::sync::Arc;

use licnode_app::{Archive, ManualClock};
use licnode_server::retention::RetentionSettings;
use licnode_server::{AppState, NodeInfo};
use licnode_store::retention::{NodeKey, Signature};
use licnode_store::{Role, Store};
use licnode_testkit::{Backend, TestDatabase};
use sha2::{Digest, Sha256};

pub use crate::web_client::{Answer, Browser, PASSWORD, WebBase, pairs};
pub const PROVINCE: &str = "330000";
pub const COUNTY: &str = "330106";

/// Node keys for the tests: a node signs with a secret only it knows; verifying looks the
/// signer's secret up by the code its "chain" names, as the PKI looks its certificate up.
#[derive(Clone)]
pub struct TestKey {
    pub code: &'static str,
}

fn secret(code: &str) -> Option<&'static str> {
    match code {
        PROVINCE => Some("province secret"),
        COUNTY => Some("county secret"),
        _ => None,
    }
}

fn mac(secret: &str, message: &[u8]) -> Vec<u8> {
    let mut hasher = Sha256::new();
    hasher.update(secret.as_bytes());
    hasher.update(message);
    hasher.finalize().to_vec()
}

impl NodeKey for TestKey {
    fn sign(&self, message: &[u8]) -> Result<Signature, String> {
        Ok(Signature {
            scheme: 0x0807,
            signature: mac(secret(self.code).unwrap_or_default(), message),
            chain: vec![self.code.as_bytes().to_vec()],
        })
    }

    fn verify(
        &self,
        chain: &[Vec<u8>],
        message: &[u8],
        _scheme: u16,
        signature: &[u8],
    ) -> Result<String, (String, String)> {
        let signer = chain
            .first()
            .and_then(|leaf| std::str::from_utf8(leaf).ok())
            .ok_or_else(|| ("no_certificate".to_owned(), String::new()))?;
        let secret = secret(signer).ok_or_else(|| ("unknown_issuer".to_owned(), signer.into()))?;
        if mac(secret, message) == signature {
            Ok(signer.to_owned())
        } else {
            Err(("bad_signature".to_owned(), String::new()))
        }
    }
}

/// A database with the test users (clerk, approver, auditor).
pub struct Database {
    pub store: Store,
    pub _database: Option<TestDatabase>,
    pub _dir: tempfile::TempDir,
}

pub async fn database(backend: Backend) -> Database {
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
    Database {
        store,
        _database: database,
        _dir: dir,
    }
}

/// A node serving its staff listener on a free port.
pub struct WebNode {
    pub base: String,
    pub archive: Archive,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for WebNode {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// A node of `code` over `store`, its clock at `today`, with a test node key.
pub async fn serve(
    store: &Store,
    code: &'static str,
    level: &str,
    today: chrono::NaiveDate,
) -> WebNode {
    let archive = Archive::new(store.clone(), code);
    let clock = ManualClock::at_date(today);
    let state = AppState::new(
        archive.clone(),
        NodeInfo {
            code: code.into(),
            level: level.into(),
            name: format!("{code} 市场监督管理局"),
            parent_url: None,
        },
    )
    .with_clock(clock.clone())
    .with_retention(RetentionSettings {
        years: 5,
        approval_days: 30,
        key: Some(Arc::new(TestKey { code })),
    });
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
        stop: Some(stop),
    }
}

impl WebBase for WebNode {
    fn base_url(&self) -> &str {
        &self.base
    }
}

/// Script tags and quotes, as a hostile user types them.
pub const HOSTILE: &str = "<script>alert(\"x\")</script>'\"><img src=x onerror=alert(1)>";

/// The page shows `HOSTILE` only escaped.
pub fn assert_escaped(body: &str) {
    assert!(!body.contains(HOSTILE), "raw input on the page: {body}");
    assert!(
        !body.contains("<script>"),
        "a script tag on the page: {body}"
    );
    assert!(
        !body.contains("<img src=x"),
        "an image tag on the page: {body}"
    );
    assert!(
        body.contains("&lt;script&gt;"),
        "the input is not shown: {body}"
    );
}
