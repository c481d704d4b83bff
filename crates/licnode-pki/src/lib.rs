//! Node identity (ARCHITECTURE.md, principle 5): the hierarchical PKI of the licence administration —
//! a national root CA, an intermediate CA per province and prefecture for its subtree, one
//! certificate per node naming it by `urn:licnode:node:<code>` — with enrollment, renewal,
//! revocation lists, and mutual TLS between nodes that hands every request the verified peer
//! as a typed [`PeerIdentity`].
//!
//! The map:
//! - [`names`]: how certificates name nodes and CAs; which CA may issue for which code.
//! - [`ca`]: a CA directory — issue, revoke, publish a CRL.
//! - [`node`]: a node's own files — make a key and CSR, install a certificate or a CRL.
//! - [`enroll`]: one-time tokens, the parent's enrollment and renewal, the child's calls.
//! - [`verify`]: whether a peer's chain is accepted, the refusal reasons and their log.
//! - [`tls`]: the node's reloadable credentials and its rustls configurations.
//! - [`serve`]: the accept loop serving a tower service (an axum `Router`) over (m)TLS.
//! - [`client`]: an HTTPS client to other nodes.
//!
//! # Crypto provider
//!
//! ring, and only ring: `cargo tree -i aws-lc-sys` finds nothing. A clean build is faster with
//! it — aws-lc-rs compiles the large aws-lc C library and added ~40 s to a clean debug build on
//! a 2-core machine — and rcgen defaults to it, so certificate
//! generation and TLS share one implementation. Every configuration is
//! built with an explicit provider ([`provider`]); [`install_crypto_provider`] also makes ring
//! the process default for code that asks rustls for one.

#![forbid(unsafe_code)]

pub mod ca;
pub mod client;
pub mod enroll;
mod error;
mod files;
pub mod names;
pub mod node;
pub mod serve;
pub mod tls;
pub mod verify;

use std::sync::{Arc, OnceLock};
use std::time::Duration;

pub use ca::{CertificateAuthority, CertificateKind, IssueOptions, IssuedCertificate};
pub use client::{ClientError, PeerClient};
pub use enroll::{EnrollmentAuthority, EnrollmentError, EnrollmentRequest, EnrollmentResponse};
pub use error::PkiError;
pub use rustls::pki_types::CertificateDer;
pub use serve::{serve_mutual_tls, serve_server_tls};
pub use tls::{ExpectedPeer, NodeTls, NodeTlsSettings, OwnIdentity, Signed};
pub use verify::{PeerIdentity, Refusal, RefusalLog, RefusalReason, RefusalRecord, Side};

const DAY: u64 = 24 * 60 * 60;

// Lifetimes, chosen for offices that stay offline for weeks.
//
// The root lives 20 years: it is installed on every node and replacing it is a national
// project. Intermediates (provinces, prefectures) live 10 years: re-keying a province touches
// every node below it. Node certificates live 400 days and are renewed from 60 days before
// they end, so an office that is offline for up to eight weeks when its renewal window opens
// still renews in time; a stolen node key is useful for at most 400 days even if nobody revokes
// it. A CRL says its successor comes within 30 days; a node refuses peers once a CRL of their
// chain is older than 45 days (configurable), a fortnight's grace after a missed publication.

/// Lifetime of the national root CA certificate.
pub const ROOT_LIFETIME: Duration = Duration::from_secs(20 * 365 * DAY);
/// Lifetime of a provincial or prefectural CA certificate.
pub const INTERMEDIATE_LIFETIME: Duration = Duration::from_secs(10 * 365 * DAY);
/// Lifetime of a node certificate.
pub const LEAF_LIFETIME: Duration = Duration::from_secs(400 * DAY);
/// A node certificate is due for renewal this long before it ends.
pub const RENEW_BEFORE: Duration = Duration::from_secs(60 * DAY);
/// A CRL's nextUpdate is this long after its thisUpdate.
pub const CRL_VALIDITY: Duration = Duration::from_secs(30 * DAY);
/// By default a node refuses peers whose chain has a CRL older than this (`crl_stale`).
pub const DEFAULT_MAX_CRL_AGE: Duration = Duration::from_secs(45 * DAY);
/// By default an enrollment token expires this long after it is issued.
pub const DEFAULT_TOKEN_LIFETIME: Duration = Duration::from_secs(7 * DAY);
/// Certificates start this long before they are issued, so a node whose clock runs a little
/// behind its parent's accepts them at once.
pub const CLOCK_SKEW_ALLOWANCE: Duration = Duration::from_secs(60 * 60);

/// The crypto provider every configuration of this crate uses: ring.
pub fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    static PROVIDER: OnceLock<Arc<rustls::crypto::CryptoProvider>> = OnceLock::new();
    PROVIDER
        .get_or_init(|| Arc::new(rustls::crypto::ring::default_provider()))
        .clone()
}

/// Makes ring the process-wide rustls provider (call once at start; later calls and a
/// provider installed earlier are left alone).
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}
