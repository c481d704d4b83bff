//! A node's TLS: its credentials and trust, loaded from its PKI directory and reloaded from the
//! files while it serves (renewal and new CRLs need no restart), and the rustls configurations
//! built on them — mutual TLS for node-to-node endpoints, server-auth-only TLS for
//! enrollment, and the client side that dials a parent.
//!
//! The configurations are built once; their certificate resolvers and verifiers read the
//! current material behind a lock at every handshake, so a reload reaches every new
//! connection, including those of an existing reqwest client. Session resumption is off on
//! the server: a resumed session would skip the revocation check of a certificate revoked since.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

use licnode_model::Level;
use rustls::client::ResolvesClientCert;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, CertificateRevocationListDer, ServerName, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::server::{ClientHello, NoServerSessionStorage, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls::{
    ClientConfig, DigitallySignedStruct, DistinguishedName, ServerConfig, SignatureScheme,
};

use crate::error::PkiError;
use crate::files;
use crate::names::CertificateFacts;
use crate::node::NodePkiPaths;
use crate::verify::{
    ChainPolicy, PeerIdentity, Refusal, RefusalLog, RefusalReason, Side, TrustMaterial,
    verify_node_chain,
};
use crate::{DEFAULT_MAX_CRL_AGE, RENEW_BEFORE};

/// A message signed by [`NodeTls::sign`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Signed {
    /// The TLS signature scheme's code point.
    pub scheme: u16,
    pub signature: Vec<u8>,
    /// The signer's certificate chain, leaf first (DER).
    pub chain: Vec<Vec<u8>>,
}

/// ALPN protocols offered and accepted: HTTP/2 first.
pub const ALPN_PROTOCOLS: [&[u8]; 2] = [b"h2", b"http/1.1"];

/// Where a node's PKI files are and how strict it is.
#[derive(Clone, Debug)]
pub struct NodeTlsSettings {
    /// The node's PKI directory (`<node dir>/pki`).
    pub pki_dir: PathBuf,
    /// Refuse every peer whose chain has a CRL older than this (`crl_stale`).
    pub max_crl_age: Duration,
    /// How far the node's clock runs from the machine's, in milliseconds: certificates and
    /// CRLs are checked at the node's time, as its deadlines and retention are (0 but where a
    /// development build moves the clock, `LICNODE_CLOCK_OFFSET_MS`).
    pub clock_offset_ms: i64,
}

impl NodeTlsSettings {
    /// The settings of node directory `node_dir`, with the default CRL age limit.
    pub fn for_node_dir(node_dir: &Path) -> Self {
        NodeTlsSettings {
            pki_dir: NodePkiPaths::of_node_dir(node_dir).dir,
            max_crl_age: DEFAULT_MAX_CRL_AGE,
            clock_offset_ms: 0,
        }
    }
}

/// The node's own identity, from its certificate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OwnIdentity {
    pub code: String,
    pub level: Level,
    pub serial: String,
    pub not_after: SystemTime,
}

impl OwnIdentity {
    /// Whether the certificate is within [`RENEW_BEFORE`] of its end at `now`.
    pub fn renewal_due(&self, now: SystemTime) -> bool {
        now + RENEW_BEFORE >= self.not_after
    }
}

/// What a handshake needs, as loaded at one moment.
struct Material {
    certified_key: Arc<CertifiedKey>,
    own: OwnIdentity,
    trust: TrustMaterial,
    files: Vec<(PathBuf, Option<(u64, SystemTime)>)>,
}

struct Shared {
    settings: NodeTlsSettings,
    current: RwLock<Arc<Material>>,
    refusals: Arc<RefusalLog>,
}

impl Shared {
    fn current(&self) -> Arc<Material> {
        self.current
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// The node's time, at which certificates and CRLs are checked (rustls hands the verifiers
    /// the machine's).
    fn now(&self) -> UnixTime {
        UnixTime::since_unix_epoch(
            node_time(self.settings.clock_offset_ms)
                .duration_since(SystemTime::UNIX_EPOCH)
                .unwrap_or_default(),
        )
    }
}

/// The machine's time moved by `offset_ms`.
fn node_time(offset_ms: i64) -> SystemTime {
    let now = SystemTime::now();
    let offset = Duration::from_millis(offset_ms.unsigned_abs());
    let moved = if offset_ms >= 0 {
        now.checked_add(offset)
    } else {
        now.checked_sub(offset)
    };
    moved.unwrap_or(now)
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("NodeTls")
            .field("pki_dir", &self.settings.pki_dir)
            .finish_non_exhaustive()
    }
}

/// A node's TLS credentials and trust, reloadable. Cheap to clone.
#[derive(Clone, Debug)]
pub struct NodeTls {
    shared: Arc<Shared>,
    mutual: Arc<ServerConfig>,
    server_only: Arc<ServerConfig>,
}

impl NodeTls {
    /// Loads the node's key, certificate chain, root and CRLs.
    pub fn load(settings: NodeTlsSettings) -> Result<Self, PkiError> {
        let material = load_material(&settings.pki_dir)?;
        if material
            .own
            .renewal_due(node_time(settings.clock_offset_ms))
        {
            tracing::warn!(
                code = %material.own.code,
                serial = %material.own.serial,
                "the node certificate is due for renewal"
            );
        }
        let shared = Arc::new(Shared {
            settings,
            current: RwLock::new(Arc::new(material)),
            refusals: Arc::new(RefusalLog::default()),
        });
        let provider = crate::provider();
        let resolver = Arc::new(CurrentCertificate {
            shared: shared.clone(),
        });
        let mut mutual = ServerConfig::builder_with_provider(provider.clone())
            .with_protocol_versions(&[&rustls::version::TLS13])?
            .with_client_cert_verifier(Arc::new(AcceptingVerifier {
                shared: shared.clone(),
                provider: provider.clone(),
            }))
            .with_cert_resolver(resolver.clone());
        configure_server(&mut mutual);
        let mut server_only = ServerConfig::builder_with_provider(provider)
            .with_protocol_versions(&[&rustls::version::TLS13])?
            .with_no_client_auth()
            .with_cert_resolver(resolver);
        configure_server(&mut server_only);
        Ok(NodeTls {
            shared,
            mutual: Arc::new(mutual),
            server_only: Arc::new(server_only),
        })
    }

    /// Signs `message` with the node's key (offline bundles): the signature scheme (its TLS
    /// code point), the signature, and the node's certificate chain (leaf first, DER).
    pub fn sign(&self, message: &[u8]) -> Result<Signed, PkiError> {
        let material = self.shared.current();
        let key = &material.certified_key;
        let signer = key
            .key
            .choose_scheme(&[
                SignatureScheme::ED25519,
                SignatureScheme::ECDSA_NISTP256_SHA256,
                SignatureScheme::ECDSA_NISTP384_SHA384,
                SignatureScheme::RSA_PSS_SHA256,
            ])
            .ok_or_else(|| PkiError::Credentials("the node key cannot sign".into()))?;
        let signature = signer
            .sign(message)
            .map_err(|error| PkiError::Credentials(format!("cannot sign: {error}")))?;
        let chain = key.cert.iter().map(|der| der.to_vec()).collect();
        Ok(Signed {
            scheme: u16::from(signer.scheme()),
            signature,
            chain,
        })
    }

    /// Verifies a signed message from another node (offline bundles): its chain is checked
    /// exactly as a mutual-TLS peer's (root, subtree, expiry, revocation, fresh CRLs), then
    /// the signature over `message` with the leaf's key. Returns the signer's identity, or
    /// why it is refused (`bad_signature` when the chain is good but the signature is not).
    pub fn verify_signed(
        &self,
        chain: &[CertificateDer<'_>],
        message: &[u8],
        scheme: u16,
        signature: &[u8],
    ) -> Result<PeerIdentity, (String, String)> {
        let material = self.shared.current();
        let policy = ChainPolicy::accepting(self.shared.settings.max_crl_age);
        let (leaf, intermediates) = chain.split_first().ok_or_else(|| {
            (
                "no_certificate".to_owned(),
                "no certificate chain".to_owned(),
            )
        })?;
        let identity = verify_node_chain(
            &material.trust,
            leaf,
            intermediates,
            self.shared.now(),
            &policy,
        )
        .map_err(|refusal| (refusal.reason.code().to_owned(), refusal.detail))?;
        let bad = |detail: &str| ("bad_signature".to_owned(), detail.to_owned());
        let scheme = SignatureScheme::from(scheme);
        let provider = crate::provider();
        let algorithms = provider
            .signature_verification_algorithms
            .mapping
            .iter()
            .find(|(known, _)| *known == scheme)
            .map(|(_, algorithms)| *algorithms)
            .ok_or_else(|| bad("unsupported signature scheme"))?;
        let cert = webpki::EndEntityCert::try_from(leaf)
            .map_err(|error| bad(&format!("unusable certificate: {error}")))?;
        if algorithms.iter().any(|algorithm| {
            cert.verify_signature(*algorithm, message, signature)
                .is_ok()
        }) {
            Ok(identity)
        } else {
            Err(bad("the signature does not match the signed bytes"))
        }
    }

    /// Re-reads the files if any changed. A new certificate is taken only if it matches its
    /// key, names a node and chains to the root; otherwise the current material stays and the
    /// error is returned (a renewal half-written is picked up on the next call). New CRLs and
    /// a new root are taken as they are. Returns whether anything was reloaded.
    pub fn reload(&self) -> Result<bool, PkiError> {
        let current = self.shared.current();
        let unchanged = current
            .files
            .iter()
            .all(|(path, state)| files::file_state(path) == *state)
            && crl_paths(&self.shared.settings.pki_dir).len() == crl_count(&current.files);
        if unchanged {
            return Ok(false);
        }
        let material = load_material(&self.shared.settings.pki_dir)?;
        let serial_changed = material.own.serial != current.own.serial;
        if serial_changed {
            let chain = &material.certified_key.cert;
            let (leaf, intermediates) = chain
                .split_first()
                .ok_or_else(|| PkiError::Credentials("empty certificate chain".to_owned()))?;
            verify_node_chain(
                &material.trust,
                leaf,
                intermediates,
                self.shared.now(),
                &ChainPolicy::dialling(),
            )
            .map_err(|refusal| {
                PkiError::Credentials(format!("the new node certificate is refused: {refusal}"))
            })?;
        }
        let own = material.own.clone();
        *self
            .shared
            .current
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Arc::new(material);
        tracing::info!(
            code = %own.code,
            serial = %own.serial,
            certificate_changed = serial_changed,
            "TLS material reloaded"
        );
        Ok(true)
    }

    /// Calls [`Self::reload`] every `interval` until the returned task is aborted; failures
    /// are logged and the current material kept.
    pub fn spawn_reloader(&self, interval: Duration) -> tokio::task::JoinHandle<()> {
        tokio::spawn(self.clone().reload_every(interval))
    }

    /// Calls [`Self::reload`] every `interval`, for as long as the future is polled; failures
    /// are logged and the current material kept.
    pub async fn reload_every(self, interval: Duration) {
        let mut ticker = tokio::time::interval(interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        ticker.tick().await;
        loop {
            ticker.tick().await;
            let attempt = self.clone();
            match tokio::task::spawn_blocking(move || attempt.reload()).await {
                Ok(Ok(_)) => {}
                Ok(Err(error)) => {
                    tracing::warn!(error = %error, "TLS reload failed; keeping the current certificate")
                }
                Err(error) => tracing::error!(error = %error, "TLS reload task failed"),
            }
        }
    }

    /// The node's own identity, as currently loaded.
    pub fn own_identity(&self) -> OwnIdentity {
        self.shared.current().own.clone()
    }

    /// The refusals of this node (accepting and dialling).
    pub fn refusals(&self) -> Arc<RefusalLog> {
        self.shared.refusals.clone()
    }

    /// The code and thisUpdate of every CRL held.
    pub fn crl_dates(&self) -> Vec<(String, SystemTime)> {
        self.shared.current().trust.crl_dates()
    }

    /// The server configuration of node-to-node endpoints: a client certificate is required
    /// and verified ([`verify_node_chain`] with [`ChainPolicy::accepting`]).
    pub fn mutual_tls_server_config(&self) -> Arc<ServerConfig> {
        self.mutual.clone()
    }

    /// The server configuration of the enrollment endpoint: the node's certificate, no client
    /// certificate asked (the child has none yet; its token authenticates it).
    pub fn server_only_config(&self) -> Arc<ServerConfig> {
        self.server_only.clone()
    }

    /// A client configuration that presents this node's certificate and accepts only a server
    /// whose chain leads to the root and names `expected`.
    pub fn client_config(&self, expected: ExpectedPeer) -> Result<ClientConfig, PkiError> {
        let provider = crate::provider();
        let verifier = Arc::new(DiallingVerifier {
            trust: TrustSource::Node(self.shared.clone()),
            expected,
            provider: provider.clone(),
            refusals: self.shared.refusals.clone(),
        });
        let mut config = ClientConfig::builder_with_provider(provider)
            .with_protocol_versions(&[&rustls::version::TLS13])?
            .dangerous()
            .with_custom_certificate_verifier(verifier)
            .with_client_cert_resolver(Arc::new(CurrentCertificate {
                shared: self.shared.clone(),
            }));
        config.alpn_protocols = ALPN_PROTOCOLS
            .iter()
            .map(|protocol| protocol.to_vec())
            .collect();
        Ok(config)
    }
}

/// A client configuration for a node that has no certificate yet (enrollment): it presents
/// none and accepts only a server whose chain leads to `root` and names `expected`.
pub fn enrollment_client_config(
    root: &CertificateDer<'_>,
    expected: ExpectedPeer,
) -> Result<ClientConfig, PkiError> {
    let trust = TrustMaterial::new(root, &[])?;
    let provider = crate::provider();
    let verifier = Arc::new(DiallingVerifier {
        trust: TrustSource::Fixed(Arc::new(trust)),
        expected,
        provider: provider.clone(),
        refusals: Arc::new(RefusalLog::default()),
    });
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    config.alpn_protocols = ALPN_PROTOCOLS
        .iter()
        .map(|protocol| protocol.to_vec())
        .collect();
    Ok(config)
}

fn configure_server(config: &mut ServerConfig) {
    config.alpn_protocols = ALPN_PROTOCOLS
        .iter()
        .map(|protocol| protocol.to_vec())
        .collect();
    config.session_storage = Arc::new(NoServerSessionStorage {});
    config.send_tls13_tickets = 0;
}

/// Which server a dialling node accepts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExpectedPeer {
    /// Exactly this node (the parent whose code the configuration names).
    Code(String),
    /// Any node whose chain leads to the root.
    AnyNode,
}

fn load_material(pki_dir: &Path) -> Result<Material, PkiError> {
    let paths = NodePkiPaths {
        dir: pki_dir.to_owned(),
    };
    let mut watched = vec![
        paths.key(),
        paths.certificate(),
        paths.pending_certificate(),
        paths.root(),
    ];
    let crl_files = crl_paths(pki_dir);
    watched.extend(crl_files.iter().cloned());
    // Record the files' state before reading, so a change while reading is seen next time.
    let files_state = watched
        .iter()
        .map(|path| (path.clone(), files::file_state(path)))
        .collect();
    let key = files::read_private_key(&paths.key())?;
    let chain = files::read_certificates(&paths.certificate())?;
    let root = files::read_certificate(&paths.root())?;
    let mut crls: Vec<CertificateRevocationListDer<'static>> = Vec::new();
    for path in &crl_files {
        crls.push(files::read_crl(path)?);
    }
    let provider = crate::provider();
    let certified_key = match CertifiedKey::from_der(chain, key.clone_key(), &provider) {
        Ok(certified_key) => certified_key,
        Err(error) => {
            // An installation in progress (or cut short): the new key is in place, its
            // chain still in node.crt.new.
            let pending = files::read_certificates(&paths.pending_certificate()).ok();
            pending
                .and_then(|chain| CertifiedKey::from_der(chain, key, &provider).ok())
                .ok_or_else(|| {
                    PkiError::Credentials(format!(
                        "{} does not match {}: {error}",
                        paths.key().display(),
                        paths.certificate().display()
                    ))
                })?
        }
    };
    let facts = CertificateFacts::parse(certified_key.end_entity_cert()?)?;
    let (code, level) = facts.node()?;
    let trust = TrustMaterial::new(&root, &crls)?;
    Ok(Material {
        certified_key: Arc::new(certified_key),
        own: OwnIdentity {
            code,
            level,
            serial: facts.serial,
            not_after: facts.not_after,
        },
        trust,
        files: files_state,
    })
}

/// The CRL files a node checks peers against: `crls/*.pem` and its own CA's `ca/crl.pem`.
fn crl_paths(pki_dir: &Path) -> Vec<PathBuf> {
    let paths = NodePkiPaths {
        dir: pki_dir.to_owned(),
    };
    let mut found: Vec<PathBuf> = std::fs::read_dir(paths.crls())
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|entry| entry.path())
                .filter(|path| path.extension().is_some_and(|extension| extension == "pem"))
                .collect()
        })
        .unwrap_or_default();
    found.sort();
    let own = paths.ca_dir().join(crate::ca::CRL_FILE);
    if own.exists() {
        found.push(own);
    }
    found
}

fn crl_count(files: &[(PathBuf, Option<(u64, SystemTime)>)]) -> usize {
    files
        .iter()
        .filter(|(path, _)| path.extension().is_some_and(|extension| extension == "pem"))
        .count()
}

/// Resolves the node's current certificate, as server and as client.
#[derive(Debug)]
struct CurrentCertificate {
    shared: Arc<Shared>,
}

impl ResolvesServerCert for CurrentCertificate {
    fn resolve(&self, _client_hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.shared.current().certified_key.clone())
    }
}

impl ResolvesClientCert for CurrentCertificate {
    fn resolve(
        &self,
        _root_hint_subjects: &[&[u8]],
        _sigschemes: &[SignatureScheme],
    ) -> Option<Arc<CertifiedKey>> {
        Some(self.shared.current().certified_key.clone())
    }

    fn has_certs(&self) -> bool {
        true
    }
}

/// Verifies a client's chain when accepting a peer.
#[derive(Debug)]
struct AcceptingVerifier {
    shared: Arc<Shared>,
    provider: Arc<CryptoProvider>,
}

impl ClientCertVerifier for AcceptingVerifier {
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _machine_time: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        let material = self.shared.current();
        let policy = ChainPolicy::accepting(self.shared.settings.max_crl_age);
        let now = self.shared.now();
        match verify_node_chain(&material.trust, end_entity, intermediates, now, &policy) {
            Ok(_) => Ok(ClientCertVerified::assertion()),
            // Recorded by the accept loop, which knows the peer's address.
            Err(refusal) => Err(refusal.into_rustls()),
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        certificate: &CertificateDer<'_>,
        signature: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            certificate,
            signature,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        certificate: &CertificateDer<'_>,
        signature: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            certificate,
            signature,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

#[derive(Debug)]
enum TrustSource {
    Node(Arc<Shared>),
    Fixed(Arc<TrustMaterial>),
}

/// Verifies a server's chain when dialling a node: the root, the CRLs held (tolerating
/// missing and stale ones, see [`ChainPolicy::dialling`]), and the expected code — never the
/// host name, since nodes are named by code, not by address.
#[derive(Debug)]
struct DiallingVerifier {
    trust: TrustSource,
    expected: ExpectedPeer,
    provider: Arc<CryptoProvider>,
    refusals: Arc<RefusalLog>,
}

impl ServerCertVerifier for DiallingVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        machine_time: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let material;
        let (trust, now): (&TrustMaterial, UnixTime) = match &self.trust {
            TrustSource::Node(shared) => {
                material = shared.current();
                (&material.trust, shared.now())
            }
            // A node enrolling has no clock of its own yet.
            TrustSource::Fixed(trust) => (trust, machine_time),
        };
        let result = verify_node_chain(
            trust,
            end_entity,
            intermediates,
            now,
            &ChainPolicy::dialling(),
        )
        .and_then(|identity| match &self.expected {
            ExpectedPeer::Code(code) if *code != identity.code => Err(Refusal {
                reason: RefusalReason::UnexpectedPeer,
                claimed_code: Some(identity.code.clone()),
                detail: format!("dialled node {code}, reached node {}", identity.code),
            }),
            _ => Ok(identity),
        });
        match result {
            Ok(_) => Ok(ServerCertVerified::assertion()),
            Err(refusal) => {
                self.refusals.record(Side::Dialling, None, &refusal);
                Err(refusal.into_rustls())
            }
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        certificate: &CertificateDer<'_>,
        signature: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            certificate,
            signature,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        certificate: &CertificateDer<'_>,
        signature: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            certificate,
            signature,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// The identity of the client of an accepted mutual-TLS connection.
pub(crate) fn accepted_peer(
    peer_certificates: Option<&[CertificateDer<'static>]>,
) -> Result<PeerIdentity, Refusal> {
    match peer_certificates {
        Some(chain) if !chain.is_empty() => PeerIdentity::from_verified_chain(chain),
        _ => Err(Refusal::new(
            RefusalReason::NoClientCertificate,
            "the client presented no certificate",
        )),
    }
}
