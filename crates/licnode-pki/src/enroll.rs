//! Enrollment and renewal over the network.
//!
//! The parent's operator issues a one-time token for one code and level
//! (`licnode pki token`); only its SHA-256 is stored, in the CA directory's `tokens.json`. The
//! child makes its own key and CSR and posts them with the token to the parent's enrollment
//! endpoint (server-authenticated TLS: the child trusts the root it was given); the parent
//! checks the token — known, unused, unexpired, for this code and level — signs within its
//! subtree, marks the token used and answers the chain and the CRLs the child needs. A node
//! renews the same way before its certificate ends, over mutual TLS with its current
//! certificate instead of a token.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use licnode_model::Level;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::ca::{
    CertificateAuthority, CertificateKind, IssueOptions, IssuedCertificate, SigningRequest,
    unix_seconds,
};
use crate::client::{ClientError, PeerClient};
use crate::error::PkiError;
use crate::files::{self, DirectoryLock};
use crate::names;
use crate::node::{self, InstalledCertificate};
use crate::verify::PeerIdentity;

/// Where a child posts its token and CSR (server-authenticated TLS).
pub const ENROLL_PATH: &str = "/pki/v1/enroll";
/// Where a node posts a new CSR to renew (mutual TLS, its current certificate).
pub const RENEW_PATH: &str = "/pki/v1/renew";
/// Where a child fetches the CRLs its parent holds (mutual TLS).
pub const CRLS_PATH: &str = "/pki/v1/crls";

const TOKENS_FILE: &str = "tokens.json";
const TOKEN_PREFIX: &str = "lnt_";

/// A child's first request.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct EnrollmentRequest {
    pub token: String,
    pub csr_pem: String,
}

/// A node's renewal request.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RenewalRequest {
    pub csr_pem: String,
}

/// What the parent answers to an enrollment or a renewal.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct EnrollmentResponse {
    pub code: String,
    pub level: Level,
    pub serial: String,
    /// Unix seconds.
    pub not_after: u64,
    /// The new certificate, then the intermediates above it (root excluded).
    pub certificate_chain_pem: String,
    /// The CRLs the parent holds for the chain: its own CA's and those above it.
    pub crls_pem: Vec<String>,
}

/// The CRLs a parent hands down.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CrlBundle {
    pub crls_pem: Vec<String>,
}

/// A token as handed to the operator (once; only its hash is kept).
#[derive(Clone, Debug)]
pub struct IssuedToken {
    pub token: String,
    pub code: String,
    pub level: Level,
    pub expires_at: SystemTime,
}

/// One entry of `tokens.json`.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct TokenRecord {
    sha256: String,
    code: String,
    level: Level,
    created_at: u64,
    expires_at: u64,
    used_at: Option<u64>,
    used_serial: Option<String>,
}

/// Why an enrollment or renewal is refused.
#[derive(Debug, thiserror::Error)]
pub enum EnrollmentError {
    #[error("the enrollment token is not known to this CA")]
    TokenUnknown,
    #[error("the enrollment token was already used")]
    TokenUsed,
    #[error("the enrollment token has expired")]
    TokenExpired,
    #[error(
        "the enrollment token is for {token_code} ({token_level}); the request names {code} ({level})"
    )]
    TokenMismatch {
        token_code: String,
        token_level: Level,
        code: String,
        level: Level,
    },
    #[error("node {peer} may renew only its own certificate, not {code}'s")]
    NotYours { peer: String, code: String },
    #[error("{0}")]
    Refused(PkiError),
    #[error("the CA could not complete the request: {0}")]
    Internal(PkiError),
}

impl EnrollmentError {
    /// The stable code answered to the client.
    pub fn code(&self) -> &'static str {
        match self {
            Self::TokenUnknown => "enrollment_token_unknown",
            Self::TokenUsed => "enrollment_token_used",
            Self::TokenExpired => "enrollment_token_expired",
            Self::TokenMismatch { .. } => "enrollment_token_mismatch",
            Self::NotYours { .. } => "renewal_not_allowed",
            Self::Refused(_) => "certificate_request_refused",
            Self::Internal(_) => "internal",
        }
    }

    /// The HTTP status answered to the client.
    pub fn status(&self) -> u16 {
        match self {
            Self::TokenUnknown | Self::TokenUsed | Self::TokenExpired => 401,
            Self::TokenMismatch { .. } | Self::NotYours { .. } => 403,
            Self::Refused(_) => 422,
            Self::Internal(_) => 500,
        }
    }

    /// The message answered to the client: internal details stay in the log.
    pub fn public_message(&self) -> String {
        match self {
            Self::Internal(_) => {
                "the CA could not complete the request; the error is in its log".to_owned()
            }
            other => other.to_string(),
        }
    }

    fn classify(error: PkiError) -> Self {
        match error {
            PkiError::Request(_)
            | PkiError::Name(_)
            | PkiError::Facts(_)
            | PkiError::OutsideSubtree { .. }
            | PkiError::AuthorityRefused { .. } => Self::Refused(error),
            other => Self::Internal(other),
        }
    }
}

/// Creates a one-time enrollment token for node `code` of `level`, valid for `lifetime`,
/// refusing a code outside the CA's subtree. Returns the token; only its hash is stored.
pub fn create_token(
    authority: &CertificateAuthority,
    code: &str,
    level: Level,
    lifetime: Duration,
) -> Result<IssuedToken, PkiError> {
    names::check_node(code, level)?;
    if !names::may_issue(authority.code(), code) {
        return Err(PkiError::OutsideSubtree {
            ca: authority.code().to_owned(),
            code: code.to_owned(),
        });
    }
    let secret: [u8; 32] = rand::random();
    let token = format!("{TOKEN_PREFIX}{}", hex::encode(secret));
    let now = SystemTime::now();
    let expires_at = now + lifetime;
    let _lock = DirectoryLock::acquire(authority.dir())?;
    let mut tokens = read_tokens(authority.dir())?;
    tokens.push(TokenRecord {
        sha256: token_hash(&token),
        code: code.to_owned(),
        level,
        created_at: unix_seconds(now),
        expires_at: unix_seconds(expires_at),
        used_at: None,
        used_serial: None,
    });
    write_tokens(authority.dir(), &tokens)?;
    tracing::info!(ca = %authority.code(), %code, %level, "enrollment token issued");
    Ok(IssuedToken {
        token,
        code: code.to_owned(),
        level,
        expires_at: UNIX_EPOCH + Duration::from_secs(unix_seconds(expires_at)),
    })
}

fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.trim().as_bytes()))
}

fn read_tokens(ca_dir: &Path) -> Result<Vec<TokenRecord>, PkiError> {
    let path = ca_dir.join(TOKENS_FILE);
    match std::fs::read_to_string(&path) {
        Ok(text) => serde_json::from_str(&text).map_err(|error| PkiError::malformed(&path, error)),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(source) => Err(PkiError::read(&path, source)),
    }
}

fn write_tokens(ca_dir: &Path, tokens: &[TokenRecord]) -> Result<(), PkiError> {
    let path = ca_dir.join(TOKENS_FILE);
    let text =
        serde_json::to_string_pretty(tokens).map_err(|error| PkiError::malformed(&path, error))?;
    files::write_atomic(&path, text.as_bytes(), true)
}

/// The parent's side of enrollment and renewal: a CA directory, and the directory of CRLs from
/// above that it hands down with its own.
#[derive(Clone, Debug)]
pub struct EnrollmentAuthority {
    ca_dir: PathBuf,
    crl_dir: Option<PathBuf>,
}

impl EnrollmentAuthority {
    /// `ca_dir` is opened afresh for every request, so a renewed CA certificate or a new CRL
    /// is used without a restart. `crl_dir` holds the CRLs of the CAs above (usually
    /// `<node dir>/pki/crls`).
    pub fn new(ca_dir: impl Into<PathBuf>, crl_dir: Option<PathBuf>) -> Self {
        EnrollmentAuthority {
            ca_dir: ca_dir.into(),
            crl_dir,
        }
    }

    /// Redeems a token: signs the CSR if the token is known, unused, unexpired and for the
    /// code and level the CSR names. A token works once. Blocking (file IO): call it from
    /// `spawn_blocking`.
    pub fn enroll(
        &self,
        request: &EnrollmentRequest,
    ) -> Result<EnrollmentResponse, EnrollmentError> {
        let authority =
            CertificateAuthority::open(&self.ca_dir).map_err(EnrollmentError::Internal)?;
        let signing = SigningRequest::from_pem(&request.csr_pem);
        let hash = token_hash(&request.token);
        let _lock = DirectoryLock::acquire(&self.ca_dir).map_err(EnrollmentError::Internal)?;
        let mut tokens = read_tokens(&self.ca_dir).map_err(EnrollmentError::Internal)?;
        // The token first: an unauthenticated caller learns nothing about the CA's policy.
        let record = tokens
            .iter_mut()
            .find(|record| record.sha256 == hash)
            .ok_or(EnrollmentError::TokenUnknown)?;
        if record.used_at.is_some() {
            return Err(EnrollmentError::TokenUsed);
        }
        let now = unix_seconds(SystemTime::now());
        if now >= record.expires_at {
            return Err(EnrollmentError::TokenExpired);
        }
        let signing = signing.map_err(EnrollmentError::classify)?;
        authority
            .check_request(&signing, CertificateKind::Node)
            .map_err(EnrollmentError::classify)?;
        if record.code != signing.code || record.level != signing.level {
            return Err(EnrollmentError::TokenMismatch {
                token_code: record.code.clone(),
                token_level: record.level,
                code: signing.code.clone(),
                level: signing.level,
            });
        }
        let issued = authority
            .issue_request(&signing, &IssueOptions::node())
            .map_err(EnrollmentError::classify)?;
        record.used_at = Some(now);
        record.used_serial = Some(issued.serial.clone());
        write_tokens(&self.ca_dir, &tokens).map_err(EnrollmentError::Internal)?;
        self.response(&authority, issued)
    }

    /// Signs a new certificate for a peer that already holds one: the CSR must name the peer's
    /// own code and level. Blocking.
    pub fn renew(
        &self,
        peer: &PeerIdentity,
        request: &RenewalRequest,
    ) -> Result<EnrollmentResponse, EnrollmentError> {
        let authority =
            CertificateAuthority::open(&self.ca_dir).map_err(EnrollmentError::Internal)?;
        let signing =
            SigningRequest::from_pem(&request.csr_pem).map_err(EnrollmentError::classify)?;
        if signing.code != peer.code || signing.level != peer.level {
            return Err(EnrollmentError::NotYours {
                peer: peer.code.clone(),
                code: signing.code,
            });
        }
        let issued = authority
            .issue_request(&signing, &IssueOptions::node())
            .map_err(EnrollmentError::classify)?;
        self.response(&authority, issued)
    }

    /// The CRLs this parent hands down: its CA's own and those of the CAs above it.
    pub fn crls(&self) -> Result<CrlBundle, EnrollmentError> {
        let authority =
            CertificateAuthority::open(&self.ca_dir).map_err(EnrollmentError::Internal)?;
        Ok(CrlBundle {
            crls_pem: self.collect_crls(&authority)?,
        })
    }

    fn collect_crls(
        &self,
        authority: &CertificateAuthority,
    ) -> Result<Vec<String>, EnrollmentError> {
        let mut crls = vec![authority.crl_pem().map_err(EnrollmentError::Internal)?];
        if let Some(crl_dir) = &self.crl_dir {
            let mut paths: Vec<PathBuf> = std::fs::read_dir(crl_dir)
                .map(|entries| {
                    entries
                        .filter_map(Result::ok)
                        .map(|entry| entry.path())
                        .filter(|path| path.extension().is_some_and(|extension| extension == "pem"))
                        .collect()
                })
                .unwrap_or_default();
            paths.sort();
            for path in paths {
                crls.push(files::read_text(&path).map_err(EnrollmentError::Internal)?);
            }
        }
        Ok(crls)
    }

    fn response(
        &self,
        authority: &CertificateAuthority,
        issued: IssuedCertificate,
    ) -> Result<EnrollmentResponse, EnrollmentError> {
        Ok(EnrollmentResponse {
            code: issued.code,
            level: issued.level,
            serial: issued.serial,
            not_after: unix_seconds(issued.not_after),
            certificate_chain_pem: issued.chain_pem,
            crls_pem: self.collect_crls(authority)?,
        })
    }
}

/// The child's side: posts the pending request of `node_dir` (`pki request`) with `token` to
/// the parent at `parent_url` (`https://host:port`), trusting only `root`, and installs the
/// answer (certificate and CRLs).
pub async fn enroll(
    node_dir: &Path,
    parent_url: &str,
    root_pem: &str,
    token: &str,
) -> Result<InstalledCertificate, EnrollError> {
    let paths = node::NodePkiPaths::of_node_dir(node_dir);
    let csr_pem = files::read_text(&paths.request_csr())?;
    let root = files::certificates_from_pem(root_pem)
        .map_err(|error| PkiError::Request(format!("no root certificate: {error:?}")))?;
    let client = PeerClient::for_enrollment(&root[0], crate::ExpectedPeer::AnyNode)?;
    let url = format!("{}{ENROLL_PATH}", parent_url.trim_end_matches('/'));
    let response: EnrollmentResponse = client
        .post_json(
            &url,
            &EnrollmentRequest {
                token: token.trim().to_owned(),
                csr_pem,
            },
        )
        .await?;
    Ok(install_response(node_dir, &response, Some(root_pem))?)
}

/// Renews over mutual TLS: posts the pending request of `node_dir` to the parent with the
/// node's current certificate and installs the answer. The serving node picks the new
/// certificate up on its next reload.
pub async fn renew(
    node_dir: &Path,
    client: &PeerClient,
    parent_url: &str,
) -> Result<InstalledCertificate, EnrollError> {
    let paths = node::NodePkiPaths::of_node_dir(node_dir);
    let csr_pem = files::read_text(&paths.request_csr())?;
    let url = format!("{}{RENEW_PATH}", parent_url.trim_end_matches('/'));
    let response: EnrollmentResponse = client.post_json(&url, &RenewalRequest { csr_pem }).await?;
    Ok(install_response(node_dir, &response, None)?)
}

/// Fetches the parent's CRLs over mutual TLS and installs those newer than the ones held.
/// Returns the codes of the issuers.
pub async fn refresh_crls(
    node_dir: &Path,
    client: &PeerClient,
    parent_url: &str,
) -> Result<Vec<String>, EnrollError> {
    let url = format!("{}{CRLS_PATH}", parent_url.trim_end_matches('/'));
    let bundle: CrlBundle = client.get_json(&url).await?;
    let mut issuers = Vec::new();
    for crl in &bundle.crls_pem {
        issuers.push(node::install_crl(node_dir, crl)?);
    }
    Ok(issuers)
}

/// Installs an enrollment or renewal answer into a node directory.
pub fn install_response(
    node_dir: &Path,
    response: &EnrollmentResponse,
    root_pem: Option<&str>,
) -> Result<InstalledCertificate, PkiError> {
    for crl in &response.crls_pem {
        node::install_crl(node_dir, crl)?;
    }
    node::install_certificate(node_dir, &response.certificate_chain_pem, root_pem)
}

/// A failed enrollment or renewal, on the child's side.
#[derive(Debug, thiserror::Error)]
pub enum EnrollError {
    #[error(transparent)]
    Pki(#[from] PkiError),
    #[error(transparent)]
    Client(#[from] ClientError),
}
