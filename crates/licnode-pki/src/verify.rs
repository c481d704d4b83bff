//! Deciding whether a peer's certificate chain names a node we accept, and why not.
//!
//! The chain is verified by rustls-webpki — the engine behind rustls's
//! `WebPkiClientVerifier` — called directly, because the subtree rule needs the path webpki
//! actually verified (which CA signed the leaf), which `WebPkiClientVerifier` discards. On top
//! of the chain, validity, key usage and CRLs, we check what only licnode knows: exactly one
//! node URI, no CA certificate as a leaf, every code within its issuer's subtree, and CRLs no
//! older than the configured limit.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use licnode_model::Level;
use rustls::pki_types::{CertificateDer, CertificateRevocationListDer, TrustAnchor, UnixTime};
use webpki::{
    CertRevocationList, EndEntityCert, ExpirationPolicy, KeyUsage, OwnedCertRevocationList,
    RevocationCheckDepth, RevocationOptions, RevocationOptionsBuilder, UnknownStatusPolicy,
    VerifiedPath,
};

use crate::error::PkiError;
use crate::names::{self, CertificateFacts, FactsError};
use crate::node::crl_issuer_and_date;

/// The verified node at the other end of a connection, handed to every request as an
/// extension. Built only from a chain the verifier accepted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeerIdentity {
    /// The node's code, from its one URI SAN (`330106`, `RD0001`).
    pub code: String,
    /// Its level or kind (county, review department, …).
    pub level: Level,
    /// The certificate's serial, lower-case hex.
    pub serial: String,
    /// The code of the CA that signed the certificate.
    pub issuer_code: String,
    pub not_after: SystemTime,
    /// The chain the peer presented: its certificate first, then the intermediates.
    pub chain: Vec<CertificateDer<'static>>,
}

impl PeerIdentity {
    /// Reads the identity of a chain this crate's verifier has accepted.
    pub(crate) fn from_verified_chain(
        chain: &[CertificateDer<'_>],
    ) -> Result<PeerIdentity, Refusal> {
        let leaf = chain.first().ok_or_else(|| {
            Refusal::new(
                RefusalReason::NoClientCertificate,
                "no certificate presented",
            )
        })?;
        let facts = CertificateFacts::parse(leaf).map_err(Refusal::from_facts)?;
        let (code, level) = facts.node().map_err(Refusal::from_facts)?;
        let issuer_code = facts.issuer_code().map_err(Refusal::from_facts)?.to_owned();
        Ok(PeerIdentity {
            code,
            level,
            serial: facts.serial,
            issuer_code,
            not_after: facts.not_after,
            chain: chain.iter().map(|der| der.clone().into_owned()).collect(),
        })
    }

    /// Whether the peer's code lies within `ancestor` (a division code).
    pub fn is_within(&self, ancestor: &str) -> bool {
        licnode_model::divisions::is_within(&self.code, ancestor)
    }
}

/// Why a peer was refused: a stable code for logs, metrics and tests.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RefusalReason {
    /// The client presented no certificate.
    NoClientCertificate,
    /// The certificate could not be read.
    MalformedCertificate,
    /// A CA certificate was presented as the node's own.
    CaCertificateAsLeaf,
    /// No `urn:licnode:node:` URI SAN.
    MissingNodeUri,
    /// More than one URI SAN.
    MultipleUriSans,
    /// The level (OU) is missing or does not fit the code, or the CN differs from the code.
    LevelMismatch,
    Expired,
    NotYetValid,
    /// The certificate or a CA above it is on a CRL.
    Revoked,
    /// The chain does not lead to our root (another CA, or a forged signature).
    UnknownIssuer,
    /// The certificate is not for client (or server) authentication.
    WrongKeyUsage,
    /// Some other defect of the chain (path length, a leaf used as a CA, …).
    InvalidChain,
    /// No CRL of a CA in the chain is known: revocation cannot be checked.
    CrlMissing,
    /// A CRL could not be used (bad signature, wrong issuer).
    CrlInvalid,
    /// A CRL of the chain is older than the configured limit: fail closed.
    CrlStale,
    /// A certificate's code lies outside the subtree of the CA that signed it.
    CodeOutsideIssuerSubtree,
    /// The server is a valid node, but not the one we dialled.
    UnexpectedPeer,
    /// The TLS handshake failed for another reason (protocol, timeout, the peer gave up).
    HandshakeFailed,
}

impl RefusalReason {
    pub const ALL: [RefusalReason; 18] = [
        Self::NoClientCertificate,
        Self::MalformedCertificate,
        Self::CaCertificateAsLeaf,
        Self::MissingNodeUri,
        Self::MultipleUriSans,
        Self::LevelMismatch,
        Self::Expired,
        Self::NotYetValid,
        Self::Revoked,
        Self::UnknownIssuer,
        Self::WrongKeyUsage,
        Self::InvalidChain,
        Self::CrlMissing,
        Self::CrlInvalid,
        Self::CrlStale,
        Self::CodeOutsideIssuerSubtree,
        Self::UnexpectedPeer,
        Self::HandshakeFailed,
    ];

    /// The stable code logged as `reason`.
    pub fn code(self) -> &'static str {
        match self {
            Self::NoClientCertificate => "no_client_certificate",
            Self::MalformedCertificate => "malformed_certificate",
            Self::CaCertificateAsLeaf => "ca_certificate_as_leaf",
            Self::MissingNodeUri => "missing_node_uri",
            Self::MultipleUriSans => "multiple_uri_sans",
            Self::LevelMismatch => "level_mismatch",
            Self::Expired => "expired",
            Self::NotYetValid => "not_yet_valid",
            Self::Revoked => "revoked",
            Self::UnknownIssuer => "unknown_issuer",
            Self::WrongKeyUsage => "wrong_key_usage",
            Self::InvalidChain => "invalid_chain",
            Self::CrlMissing => "crl_missing",
            Self::CrlInvalid => "crl_invalid",
            Self::CrlStale => "crl_stale",
            Self::CodeOutsideIssuerSubtree => "code_outside_issuer_subtree",
            Self::UnexpectedPeer => "unexpected_peer",
            Self::HandshakeFailed => "handshake_failed",
        }
    }
}

impl std::fmt::Display for RefusalReason {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(self.code())
    }
}

/// A refused certificate: the reason, what the certificate claimed, and details for people.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    pub reason: RefusalReason,
    /// The node code the certificate claimed, when it could be read.
    pub claimed_code: Option<String>,
    pub detail: String,
}

impl Refusal {
    pub fn new(reason: RefusalReason, detail: impl Into<String>) -> Self {
        Refusal {
            reason,
            claimed_code: None,
            detail: detail.into(),
        }
    }

    fn claiming(mut self, code: Option<&str>) -> Self {
        self.claimed_code = code.map(str::to_owned);
        self
    }

    fn from_facts(error: FactsError) -> Self {
        let reason = match &error {
            FactsError::Malformed(_) => RefusalReason::MalformedCertificate,
            FactsError::MissingUri | FactsError::WrongUriKind(..) => RefusalReason::MissingNodeUri,
            FactsError::MultipleUris(_) => RefusalReason::MultipleUriSans,
            FactsError::MissingLevel | FactsError::SubjectMismatch { .. } | FactsError::Name(_) => {
                RefusalReason::LevelMismatch
            }
            FactsError::IssuerUnnamed => RefusalReason::InvalidChain,
        };
        Refusal::new(reason, error.to_string())
    }

    /// The refusal as a rustls error, so the handshake fails with it and the accept loop can
    /// recover the reason ([`Refusal::from_rustls`]).
    pub(crate) fn into_rustls(self) -> rustls::Error {
        rustls::Error::InvalidCertificate(rustls::CertificateError::Other(rustls::OtherError(
            std::sync::Arc::new(self),
        )))
    }

    /// The refusal carried by a rustls error, or what the error itself says.
    pub(crate) fn from_rustls(error: &rustls::Error) -> Refusal {
        if let rustls::Error::InvalidCertificate(rustls::CertificateError::Other(other)) = error
            && let Some(refusal) = other.0.downcast_ref::<Refusal>()
        {
            return refusal.clone();
        }
        let reason = match error {
            rustls::Error::NoCertificatesPresented => RefusalReason::NoClientCertificate,
            _ => RefusalReason::HandshakeFailed,
        };
        Refusal::new(reason, error.to_string())
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(formatter, "{}: {}", self.reason.code(), self.detail)
    }
}

impl std::error::Error for Refusal {}

/// Which end of a connection a refusal happened at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// We accepted a connection and refused the client.
    Accepting,
    /// We dialled a node and refused its server certificate.
    Dialling,
}

/// One refusal, as kept in the [`RefusalLog`].
#[derive(Clone, Debug)]
pub struct RefusalRecord {
    pub at: SystemTime,
    pub side: Side,
    pub remote: Option<SocketAddr>,
    pub reason: RefusalReason,
    pub claimed_code: Option<String>,
    pub detail: String,
}

/// The most recent refusals, in memory, with a count per reason since start (for tests now,
/// metrics later). Every refusal recorded here is logged with its reason code — at WARN the
/// first from each source address in a minute, at DEBUG the rest, so a flood cannot flood the
/// log — and sent to [`RefusalLog::subscribe`]rs (the node counts them into its audit log).
#[derive(Debug)]
pub struct RefusalLog {
    capacity: usize,
    inner: Mutex<RefusalLogInner>,
    reports: tokio::sync::broadcast::Sender<RefusalRecord>,
}

#[derive(Debug, Default)]
struct RefusalLogInner {
    recent: VecDeque<RefusalRecord>,
    counts: BTreeMap<RefusalReason, u64>,
    /// The minute each source address was last logged at WARN (issue 11, item 8).
    warned: HashMap<Option<IpAddr>, u64>,
}

/// Source addresses remembered for [`RefusalLogInner::warned`] before the stale ones go.
const WARNED_ADDRESSES_KEPT: usize = 4096;

impl RefusalLogInner {
    /// Whether this is the first refusal from `source` in `minute` (then logged at WARN).
    fn first_this_minute(&mut self, source: Option<IpAddr>, minute: u64) -> bool {
        if self.warned.get(&source) == Some(&minute) {
            return false;
        }
        if self.warned.len() >= WARNED_ADDRESSES_KEPT {
            self.warned.retain(|_, warned_at| *warned_at == minute);
            if self.warned.len() >= WARNED_ADDRESSES_KEPT {
                // So many addresses this minute: one WARN for all of them is enough.
                return false;
            }
        }
        self.warned.insert(source, minute);
        true
    }
}

impl Default for RefusalLog {
    fn default() -> Self {
        Self::with_capacity(1024)
    }
}

impl RefusalLog {
    /// A log keeping the `capacity` most recent refusals.
    pub fn with_capacity(capacity: usize) -> Self {
        RefusalLog {
            capacity: capacity.max(1),
            inner: Mutex::new(RefusalLogInner::default()),
            reports: tokio::sync::broadcast::Sender::new(capacity.max(1)),
        }
    }

    /// Every refusal recorded from now on. A subscriber that falls more than the log's capacity
    /// behind is told how many it missed (`RecvError::Lagged`).
    pub fn subscribe(&self) -> tokio::sync::broadcast::Receiver<RefusalRecord> {
        self.reports.subscribe()
    }

    /// Records and logs a refusal.
    pub fn record(&self, side: Side, remote: Option<SocketAddr>, refusal: &Refusal) {
        let record = RefusalRecord {
            at: SystemTime::now(),
            side,
            remote,
            reason: refusal.reason,
            claimed_code: refusal.claimed_code.clone(),
            detail: refusal.detail.clone(),
        };
        let minute = record
            .at
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |since| since.as_secs() / 60);
        let first_this_minute = {
            let mut inner = self
                .inner
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            *inner.counts.entry(record.reason).or_default() += 1;
            if inner.recent.len() == self.capacity {
                inner.recent.pop_front();
            }
            // No subscriber is not an error.
            let _ = self.reports.send(record.clone());
            inner.recent.push_back(record);
            inner.first_this_minute(remote.map(|address| address.ip().to_canonical()), minute)
        };
        if first_this_minute {
            tracing::warn!(
                reason = refusal.reason.code(),
                side = ?side,
                remote = ?remote,
                claimed_code = ?refusal.claimed_code,
                detail = %refusal.detail,
                "peer refused (further refusals from this address this minute are logged at DEBUG)"
            );
        } else {
            tracing::debug!(
                reason = refusal.reason.code(),
                side = ?side,
                remote = ?remote,
                claimed_code = ?refusal.claimed_code,
                detail = %refusal.detail,
                "peer refused"
            );
        }
    }

    /// The kept refusals, oldest first.
    pub fn recent(&self) -> Vec<RefusalRecord> {
        let inner = self
            .inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        inner.recent.iter().cloned().collect()
    }

    /// How many refusals of this reason since start.
    pub fn count(&self, reason: RefusalReason) -> u64 {
        let inner = self
            .inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        inner.counts.get(&reason).copied().unwrap_or(0)
    }

    /// Every reason seen since start, with its count.
    pub fn counts(&self) -> Vec<(RefusalReason, u64)> {
        let inner = self
            .inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        inner
            .counts
            .iter()
            .map(|(reason, count)| (*reason, *count))
            .collect()
    }
}

/// A CRL the node holds.
#[derive(Debug)]
struct HeldCrl {
    list: CertRevocationList<'static>,
    issuer_code: String,
    this_update: SystemTime,
}

/// What a node trusts: the national root and the CRLs it holds.
#[derive(Debug)]
pub struct TrustMaterial {
    root_code: String,
    anchors: Vec<TrustAnchor<'static>>,
    crls: Vec<HeldCrl>,
}

impl TrustMaterial {
    /// Builds the trust of a node from its root certificate and CRLs (one per issuer is kept:
    /// the newest).
    pub fn new(
        root: &CertificateDer<'_>,
        crls: &[CertificateRevocationListDer<'_>],
    ) -> Result<Self, PkiError> {
        let facts = CertificateFacts::parse(root)?;
        let (root_code, _) = facts.authority()?;
        let anchor = webpki::anchor_from_trusted_cert(root)
            .map_err(|error| PkiError::Credentials(format!("unusable root certificate: {error}")))?
            .to_owned();
        let mut newest: BTreeMap<Vec<u8>, HeldCrl> = BTreeMap::new();
        for der in crls {
            let owned = OwnedCertRevocationList::from_der(der)
                .map_err(|error| PkiError::Credentials(format!("unusable CRL: {error}")))?;
            let (issuer_code, this_update) = crl_issuer_and_date(der)?;
            let this_update = SystemTime::UNIX_EPOCH
                + Duration::from_secs(u64::try_from(this_update).unwrap_or(0));
            let list = CertRevocationList::from(owned);
            let issuer = list.issuer().to_vec();
            let held = HeldCrl {
                list,
                issuer_code,
                this_update,
            };
            match newest.get(&issuer) {
                Some(existing) if existing.this_update >= held.this_update => {}
                _ => {
                    newest.insert(issuer, held);
                }
            }
        }
        Ok(TrustMaterial {
            root_code,
            anchors: vec![anchor],
            crls: newest.into_values().collect(),
        })
    }

    /// The code and thisUpdate of every CRL held.
    pub fn crl_dates(&self) -> Vec<(String, SystemTime)> {
        self.crls
            .iter()
            .map(|crl| (crl.issuer_code.clone(), crl.this_update))
            .collect()
    }
}

/// How strictly to verify a chain.
#[derive(Clone, Copy, Debug)]
pub struct ChainPolicy {
    /// Client authentication (we accept a peer) or server authentication (we dial one).
    pub usage: Usage,
    /// Refuse with `crl_stale` when a CRL of the chain is older than this; `None` tolerates
    /// stale CRLs.
    pub max_crl_age: Option<Duration>,
    /// Refuse with `crl_missing` when a CA of the chain has no CRL here.
    pub require_crls: bool,
}

/// What the certificate must be good for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Usage {
    ClientAuth,
    ServerAuth,
}

impl ChainPolicy {
    /// Accepting a peer: every CA of the chain must have a CRL here, no older than
    /// `max_crl_age` — otherwise fail closed.
    pub fn accepting(max_crl_age: Duration) -> Self {
        ChainPolicy {
            usage: Usage::ClientAuth,
            max_crl_age: Some(max_crl_age),
            require_crls: true,
        }
    }

    /// Dialling a parent: revocation is checked with the CRLs held, but a missing or stale
    /// CRL does not stop the call — an office back from weeks offline must reach its parent
    /// to fetch fresh CRLs. The parent, accepting, is the one that fails closed.
    pub fn dialling() -> Self {
        ChainPolicy {
            usage: Usage::ServerAuth,
            max_crl_age: None,
            require_crls: false,
        }
    }
}

/// Verifies a peer's chain (its certificate and the intermediates it sent) at `now` and returns
/// its identity, or why it is refused.
pub fn verify_node_chain(
    trust: &TrustMaterial,
    end_entity: &CertificateDer<'_>,
    intermediates: &[CertificateDer<'_>],
    now: UnixTime,
    policy: &ChainPolicy,
) -> Result<PeerIdentity, Refusal> {
    // What the certificate claims, before trusting any of it.
    let facts = CertificateFacts::parse(end_entity).map_err(Refusal::from_facts)?;
    let claimed = facts
        .uris
        .first()
        .and_then(|uri| uri.strip_prefix(names::NODE_URI_PREFIX))
        .map(str::to_owned);
    let claimed = claimed.as_deref();
    if facts.is_ca {
        return Err(Refusal::new(
            RefusalReason::CaCertificateAsLeaf,
            "a CA certificate was presented as a node certificate",
        )
        .claiming(claimed));
    }
    let (code, level) = facts
        .node()
        .map_err(|error| Refusal::from_facts(error).claiming(claimed))?;

    // The chain: signatures, validity, key usage, revocation.
    let end_entity_cert = EndEntityCert::try_from(end_entity).map_err(|error| {
        Refusal::new(RefusalReason::MalformedCertificate, error.to_string()).claiming(claimed)
    })?;
    let crl_refs: Vec<&CertRevocationList<'_>> = trust.crls.iter().map(|crl| &crl.list).collect();
    let revocation = revocation_options(&crl_refs, policy, claimed)?;
    let usage = match policy.usage {
        Usage::ClientAuth => KeyUsage::client_auth(),
        Usage::ServerAuth => KeyUsage::server_auth(),
    };
    let algorithms = crate::provider().signature_verification_algorithms.all;
    let path = end_entity_cert
        .verify_for_usage(
            algorithms,
            &trust.anchors,
            intermediates,
            now,
            usage,
            revocation,
            None,
        )
        .map_err(|error| refusal_of_webpki(error).claiming(claimed))?;

    // Every link within its issuer's subtree, and no CRL of the chain too old.
    let issuer_code = check_links_within_subtrees(trust, &code, &path, claimed)?;
    if let Some(max_age) = policy.max_crl_age {
        let mut chain_issuers: Vec<&[u8]> = vec![end_entity_cert.issuer()];
        chain_issuers.extend(
            path.intermediate_certificates()
                .map(|certificate| certificate.issuer()),
        );
        check_crl_ages(trust, &chain_issuers, now, max_age, claimed)?;
    }

    let mut chain = vec![end_entity.clone().into_owned()];
    chain.extend(
        path.intermediate_certificates()
            .map(|certificate| certificate.der().into_owned()),
    );
    Ok(PeerIdentity {
        code,
        level,
        serial: facts.serial,
        issuer_code,
        not_after: facts.not_after,
        chain,
    })
}

/// How webpki checks revocation under `policy`: every certificate of the chain against the
/// CRLs held. With no CRL held, a policy that requires CRLs refuses; the others skip the check.
fn revocation_options<'crls>(
    crl_refs: &'crls [&'crls CertRevocationList<'crls>],
    policy: &ChainPolicy,
    claimed: Option<&str>,
) -> Result<Option<RevocationOptions<'crls>>, Refusal> {
    match RevocationOptionsBuilder::new(crl_refs) {
        Ok(builder) => Ok(Some(
            builder
                .with_depth(RevocationCheckDepth::Chain)
                .with_status_policy(if policy.require_crls {
                    UnknownStatusPolicy::Deny
                } else {
                    UnknownStatusPolicy::Allow
                })
                .with_expiration_policy(ExpirationPolicy::Ignore)
                .build(),
        )),
        Err(_) if policy.require_crls => Err(Refusal::new(
            RefusalReason::CrlMissing,
            "this node holds no CRL: revocation cannot be checked",
        )
        .claiming(claimed)),
        Err(_) => Ok(None),
    }
}

/// Checks that every certificate of the verified path lies within its issuer's subtree, up to
/// the root, and returns the code of the CA that signed the node's certificate.
fn check_links_within_subtrees<'path>(
    trust: &TrustMaterial,
    node_code: &str,
    path: &'path VerifiedPath<'path>,
    claimed: Option<&str>,
) -> Result<String, Refusal> {
    let mut child_code = node_code.to_owned();
    let mut child_is_authority = false;
    let mut issuer_code_of_leaf = None;
    for certificate in path.intermediate_certificates() {
        let authority = CertificateFacts::parse(&certificate.der())
            .and_then(|facts| facts.authority())
            .map_err(|error| {
                Refusal::new(
                    RefusalReason::InvalidChain,
                    format!("an intermediate is not a licnode CA: {error}"),
                )
                .claiming(claimed)
            })?;
        check_link(&authority.0, &child_code, child_is_authority)
            .map_err(|refusal| refusal.claiming(claimed))?;
        issuer_code_of_leaf.get_or_insert_with(|| authority.0.clone());
        child_code = authority.0;
        child_is_authority = true;
    }
    check_link(&trust.root_code, &child_code, child_is_authority)
        .map_err(|refusal| refusal.claiming(claimed))?;
    Ok(issuer_code_of_leaf.unwrap_or_else(|| trust.root_code.clone()))
}

/// Refuses when the CRL held for any CA of the chain (named by `chain_issuers`) is older than
/// `max_age` at `now`.
fn check_crl_ages(
    trust: &TrustMaterial,
    chain_issuers: &[&[u8]],
    now: UnixTime,
    max_age: Duration,
    claimed: Option<&str>,
) -> Result<(), Refusal> {
    let now_time = SystemTime::UNIX_EPOCH + Duration::from_secs(now.as_secs());
    for issuer in chain_issuers {
        let Some(crl) = trust.crls.iter().find(|crl| crl.list.issuer() == *issuer) else {
            continue; // webpki refused already when a CRL is required
        };
        let age = now_time
            .duration_since(crl.this_update)
            .unwrap_or(Duration::ZERO);
        if age > max_age {
            return Err(Refusal::new(
                RefusalReason::CrlStale,
                format!(
                    "the CRL of CA {} is {} days old; the limit is {} days",
                    crl.issuer_code,
                    age.as_secs() / 86_400,
                    max_age.as_secs() / 86_400
                ),
            )
            .claiming(claimed));
        }
    }
    Ok(())
}

/// Checks that the CA `issuer_code` may have signed a certificate for `subject_code`.
fn check_link(
    issuer_code: &str,
    subject_code: &str,
    subject_is_authority: bool,
) -> Result<(), Refusal> {
    let allowed = if subject_is_authority {
        names::may_issue_authority(issuer_code, subject_code)
    } else {
        names::may_issue(issuer_code, subject_code)
    };
    if allowed {
        Ok(())
    } else {
        Err(Refusal::new(
            RefusalReason::CodeOutsideIssuerSubtree,
            format!("{subject_code} lies outside the subtree of its issuing CA {issuer_code}"),
        ))
    }
}

fn refusal_of_webpki(error: webpki::Error) -> Refusal {
    use webpki::Error;
    let reason = match &error {
        Error::CertExpired { .. } | Error::InvalidCertValidity => RefusalReason::Expired,
        Error::CertNotValidYet { .. } => RefusalReason::NotYetValid,
        Error::CertRevoked => RefusalReason::Revoked,
        Error::UnknownIssuer | Error::InvalidSignatureForPublicKey => RefusalReason::UnknownIssuer,
        Error::UnknownRevocationStatus => RefusalReason::CrlMissing,
        Error::RequiredEkuNotFoundContext(_) | Error::EmptyEkuExtension => {
            RefusalReason::WrongKeyUsage
        }
        Error::CaUsedAsEndEntity => RefusalReason::CaCertificateAsLeaf,
        Error::InvalidCrlSignatureForPublicKey
        | Error::IssuerNotCrlSigner
        | Error::CrlExpired { .. }
        | Error::UnsupportedCrlVersion
        | Error::UnsupportedDeltaCrl
        | Error::UnsupportedIndirectCrl
        | Error::UnsupportedCrlIssuingDistributionPoint
        | Error::InvalidCrlNumber => RefusalReason::CrlInvalid,
        Error::BadDer | Error::BadDerTime | Error::TrailingData(_) => {
            RefusalReason::MalformedCertificate
        }
        _ => RefusalReason::InvalidChain,
    };
    Refusal::new(reason, error.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subscribers_receive_every_refusal_recorded_after_they_subscribed() {
        let log = RefusalLog::with_capacity(4);
        log.record(
            Side::Accepting,
            None,
            &Refusal::new(RefusalReason::HandshakeFailed, "before"),
        );
        let mut reports = log.subscribe();
        let refusal =
            Refusal::new(RefusalReason::HandshakeFailed, "after").claiming(Some("330106"));
        log.record(Side::Dialling, None, &refusal);
        let received = reports.try_recv().expect("one refusal");
        assert_eq!(received.detail, "after");
        assert_eq!(received.claimed_code.as_deref(), Some("330106"));
        assert_eq!(received.side, Side::Dialling);
        assert!(reports.try_recv().is_err(), "nothing else");
    }

    #[test]
    fn only_the_first_refusal_from_an_address_in_a_minute_is_a_warning() {
        let mut inner = RefusalLogInner::default();
        let flooder: Option<IpAddr> = Some([192, 0, 2, 7].into());
        let other: Option<IpAddr> = Some([198, 51, 100, 1].into());
        assert!(inner.first_this_minute(flooder, 1000));
        for _ in 0..299 {
            assert!(!inner.first_this_minute(flooder, 1000));
        }
        assert!(inner.first_this_minute(other, 1000));
        assert!(inner.first_this_minute(flooder, 1001), "the next minute");
        // Many addresses in one minute cannot grow the memory without bound.
        for index in 0..(WARNED_ADDRESSES_KEPT as u32 * 2) {
            inner.first_this_minute(Some(IpAddr::from(index.to_be_bytes())), 1002);
        }
        assert!(inner.warned.len() <= WARNED_ADDRESSES_KEPT);
    }
}
