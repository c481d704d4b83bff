//! Test support: a real hierarchy of CAs and nodes generated in a temporary directory, a node
//! serving mutual TLS on loopback, and clients presenting any certificate we craft.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use axum::routing::get;
use axum::{Extension, Json, Router};
use licnode_model::Level;
use licnode_pki::ca::IssueOptions;
use licnode_pki::node::{self, NodePkiPaths};
use licnode_pki::{
    CertificateAuthority, ExpectedPeer, NodeTls, NodeTlsSettings, PeerClient, PeerIdentity,
    RefusalReason,
};
use rcgen::{
    CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SanType,
};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, SignatureScheme};
use serde_json::{Value, json};
use tempfile::TempDir;

pub const DAY: Duration = Duration::from_secs(24 * 60 * 60);

/// national root → Zhejiang (330000, a node with its CA in `pki/ca`) → Hangzhou CA (330100)
/// → Xihu county node (330106).
pub struct Hierarchy {
    pub temp: TempDir,
    pub root: CertificateAuthority,
    pub province_ca: CertificateAuthority,
    pub prefecture_ca: CertificateAuthority,
    /// The Zhejiang node: the server of most tests.
    pub province_dir: PathBuf,
    /// The Xihu node: a valid child.
    pub county_dir: PathBuf,
}

impl Hierarchy {
    pub fn new() -> Self {
        let temp = tempfile::tempdir().expect("temporary directory");
        let base = temp.path().to_owned();
        let root = CertificateAuthority::init_root(&base.join("national-ca")).expect("root CA");
        let province_dir = base.join("zhejiang");
        let province_ca = intermediate(
            &NodePkiPaths::of_node_dir(&province_dir).ca_dir(),
            "330000",
            Level::Province,
            &root,
        );
        let prefecture_ca = intermediate(
            &base.join("hangzhou-ca"),
            "330100",
            Level::Prefecture,
            &province_ca,
        );
        let hierarchy = Hierarchy {
            temp,
            root,
            province_ca,
            prefecture_ca,
            province_dir: province_dir.clone(),
            county_dir: base.join("xihu"),
        };
        hierarchy.enroll_node(&province_dir, "330000", Level::Province, &hierarchy.root);
        // The province's own CA CRL is read from pki/ca/crl.pem; the others are installed.
        hierarchy.install_crls(&province_dir, &[&hierarchy.root, &hierarchy.prefecture_ca]);
        hierarchy.enroll_node(
            &hierarchy.county_dir.clone(),
            "330106",
            Level::County,
            &hierarchy.prefecture_ca,
        );
        hierarchy.install_crls(
            &hierarchy.county_dir,
            &[
                &hierarchy.root,
                &hierarchy.province_ca,
                &hierarchy.prefecture_ca,
            ],
        );
        hierarchy
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.temp.path().join(name)
    }

    /// Creates a key and CSR in `node_dir`, has `ca` sign it, and installs it with the root.
    pub fn enroll_node(
        &self,
        node_dir: &Path,
        code: &str,
        level: Level,
        ca: &CertificateAuthority,
    ) {
        let request = node::create_request(node_dir, code, level).expect("request");
        let issued = ca
            .issue(&request.csr_pem, &IssueOptions::node())
            .expect("issue");
        let root_pem = self.root.root_pem().expect("root pem");
        node::install_certificate(node_dir, &issued.chain_pem, Some(&root_pem)).expect("install");
    }

    /// Installs the current CRLs of `authorities` into a node directory.
    pub fn install_crls(&self, node_dir: &Path, authorities: &[&CertificateAuthority]) {
        for authority in authorities {
            node::install_crl(node_dir, &authority.crl_pem().expect("crl")).expect("install crl");
        }
    }

    /// A certificate issued by `ca` with `options`, not installed anywhere: (chain PEM, key PEM).
    pub fn leaf(
        &self,
        name: &str,
        code: &str,
        level: Level,
        ca: &CertificateAuthority,
        options: &IssueOptions,
    ) -> (String, String) {
        let dir = self.path(name);
        let request = node::create_request(&dir, code, level).expect("request");
        let issued = ca.issue(&request.csr_pem, options).expect("issue");
        let key = std::fs::read_to_string(&request.key_path).expect("key");
        (issued.chain_pem, key)
    }

    /// A certificate crafted with rcgen, signed by `ca` without any of licnode's checks:
    /// (chain PEM with the CA's chain appended, key PEM).
    pub fn crafted_leaf(
        &self,
        ca: &CertificateAuthority,
        common_name: &str,
        level: Level,
        uris: &[&str],
    ) -> (String, String) {
        let key = KeyPair::generate().expect("key");
        let mut params = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::OrganizationName, "licnode");
        dn.push(DnType::OrganizationalUnitName, level.as_str());
        dn.push(DnType::CommonName, common_name);
        params.distinguished_name = dn;
        params.subject_alt_names = uris
            .iter()
            .map(|uri| SanType::URI((*uri).try_into().expect("uri")))
            .collect();
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![
            ExtendedKeyUsagePurpose::ServerAuth,
            ExtendedKeyUsagePurpose::ClientAuth,
        ];
        let now = SystemTime::now();
        params.not_before = whole_seconds(now - DAY);
        params.not_after = whole_seconds(now + 30 * DAY);
        params.use_authority_key_identifier_extension = true;
        let ca_key = KeyPair::from_pem(&read(&ca.dir().join("ca.key"))).expect("CA key");
        let ca_pem = read(&ca.dir().join("ca.crt"));
        let issuer = Issuer::from_ca_cert_pem(&ca_pem, &ca_key).expect("issuer");
        let certificate = params.signed_by(&key, &issuer).expect("sign");
        let mut chain = certificate.pem();
        chain.push_str(&ca_pem);
        chain.push_str(&read_or_empty(&ca.dir().join("chain.crt")));
        (chain, key.serialize_pem())
    }

    /// A CA's own certificate (with the chain above it) and key, as a client would misuse them.
    pub fn ca_as_leaf(&self, ca: &CertificateAuthority) -> (String, String) {
        let mut chain = read(&ca.dir().join("ca.crt"));
        chain.push_str(&read_or_empty(&ca.dir().join("chain.crt")));
        (chain, read(&ca.dir().join("ca.key")))
    }
}

/// Creates an intermediate CA in `ca_dir`, signed by `parent`.
pub fn intermediate(
    ca_dir: &Path,
    code: &str,
    level: Level,
    parent: &CertificateAuthority,
) -> CertificateAuthority {
    let request = node::create_authority_request(ca_dir, code, level).expect("CA request");
    let issued = parent
        .issue(&request.csr_pem, &IssueOptions::authority())
        .expect("issue CA");
    licnode_pki::ca::install_authority(ca_dir, &issued.chain_pem, &parent.root_pem().expect("root"))
        .expect("install CA")
}

fn whole_seconds(time: SystemTime) -> time::OffsetDateTime {
    let seconds = time
        .duration_since(SystemTime::UNIX_EPOCH)
        .expect("after 1970")
        .as_secs();
    time::OffsetDateTime::from_unix_timestamp(i64::try_from(seconds).expect("seconds"))
        .expect("timestamp")
}

pub fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

fn read_or_empty(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

/// A node serving mutual TLS on loopback; `/whoami` answers the peer identity it was handed.
pub struct TestServer {
    pub addr: SocketAddr,
    pub tls: NodeTls,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

impl TestServer {
    pub fn url(&self, path: &str) -> String {
        format!("https://{}{path}", self.addr)
    }

    /// Waits for the first refusal the server logs after `before` refusals and returns its
    /// reason.
    pub async fn next_refusal(&self, before: usize) -> Option<RefusalReason> {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let recent = self.tls.refusals().recent();
            if let Some(record) = recent.get(before) {
                return Some(record.reason);
            }
            if Instant::now() > deadline {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

pub fn whoami_router() -> Router {
    Router::new().route(
        "/whoami",
        get(|Extension(peer): Extension<PeerIdentity>| async move {
            Json(json!({
                "code": peer.code,
                "level": peer.level,
                "serial": peer.serial,
                "issuer_code": peer.issuer_code,
                "chain_length": peer.chain.len(),
            }))
        }),
    )
}

/// Serves `router` over mutual TLS as the node in `node_dir`.
pub async fn serve(node_dir: &Path, router: Router) -> TestServer {
    serve_with(NodeTlsSettings::for_node_dir(node_dir), router).await
}

pub async fn serve_with(settings: NodeTlsSettings, router: Router) -> TestServer {
    let tls = NodeTls::load(settings).expect("server TLS");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("address");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(licnode_pki::serve_mutual_tls(
        listener,
        tls.clone(),
        router,
        async move {
            let _ = stopped.await;
        },
    ));
    TestServer {
        addr,
        tls,
        stop: Some(stop),
    }
}

/// A client presenting the certificate of node directory `node_dir`.
pub fn node_client(node_dir: &Path, expected: ExpectedPeer) -> PeerClient {
    let tls = NodeTls::load(NodeTlsSettings::for_node_dir(node_dir)).expect("client TLS");
    PeerClient::for_node(&tls, expected).expect("client")
}

/// A client presenting `chain` and `key` (PEM), or nothing, and trusting any server: the
/// server's verdict on the client is what these tests examine.
pub fn crafted_client(credentials: Option<(&str, &str)>) -> PeerClient {
    PeerClient::new(crafted_client_config(credentials))
}

pub fn crafted_client_config(credentials: Option<(&str, &str)>) -> ClientConfig {
    let builder = ClientConfig::builder_with_provider(licnode_pki::provider())
        .with_protocol_versions(&[&rustls::version::TLS13])
        .expect("TLS 1.3")
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AnyServer));
    let mut config = match credentials {
        Some((chain, key)) => {
            let chain: Vec<CertificateDer<'static>> =
                CertificateDer::pem_slice_iter(chain.as_bytes())
                    .collect::<Result<_, _>>()
                    .expect("chain");
            let key = PrivateKeyDer::from_pem_slice(key.as_bytes()).expect("key");
            builder
                .with_client_auth_cert(chain, key)
                .expect("client cert")
        }
        None => builder.with_no_client_auth(),
    };
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    config
}

/// Accepts any server certificate (test clients only).
#[derive(Debug)]
struct AnyServer;

impl ServerCertVerifier for AnyServer {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &licnode_pki::provider().signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &licnode_pki::provider().signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        licnode_pki::provider()
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// Presents `credentials` to `server` and returns the reason the server logged for refusing it.
pub async fn refusal_of(
    server: &TestServer,
    credentials: Option<(&str, &str)>,
) -> Option<RefusalReason> {
    let before = server.tls.refusals().recent().len();
    let client = crafted_client(credentials);
    let answer: Result<Value, _> = client.get_json(&server.url("/whoami")).await;
    if answer.is_ok() {
        return None;
    }
    server.next_refusal(before).await
}

/// The serial of the certificate a TLS server presents.
pub async fn served_serial(addr: SocketAddr, credentials: (&str, &str)) -> Option<String> {
    let connector =
        tokio_rustls::TlsConnector::from(Arc::new(crafted_client_config(Some(credentials))));
    let stream = tokio::net::TcpStream::connect(addr).await.ok()?;
    let name = ServerName::try_from("localhost").ok()?;
    let tls = connector.connect(name, stream).await.ok()?;
    let leaf = tls.get_ref().1.peer_certificates()?.first()?.clone();
    let facts = licnode_pki::names::CertificateFacts::parse(&leaf).ok()?;
    Some(facts.serial)
}
