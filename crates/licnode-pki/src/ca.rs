//! A certificate authority kept in a directory: the national root, or the intermediate CA of a
//! province or prefecture. It issues node certificates (and, above prefectures, CA
//! certificates) for its own subtree only, keeps a record of what it issued, revokes, and
//! publishes a CRL.
//!
//! A CA directory holds:
//!
//! | file | what |
//! |---|---|
//! | `ca.key` | the CA's private key (owner-readable only; the root's may be moved offline) |
//! | `ca.crt` | the CA's certificate |
//! | `chain.crt` | the intermediate certificates above it, root excluded (absent for the root) |
//! | `root.crt` | the national root certificate |
//! | `issued.jsonl` | one line per issued certificate |
//! | `revoked.json` | the revoked serials |
//! | `crl.pem`, `crl_number` | the latest CRL and its number |
//! | `tokens.json` | enrollment tokens, hashed (see [`crate::enroll`]) |
//! | `request.key`, `request.csr` | an intermediate CA's pending request, before it is signed |

mod encoding;
mod request;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use licnode_model::Level;
use licnode_model::divisions::NATIONAL_CODE;
use rcgen::{
    BasicConstraints, CertificateParams, CertificateRevocationListParams, ExtendedKeyUsagePurpose,
    IsCa, Issuer, KeyIdMethod, KeyPair, KeyUsagePurpose, PublicKeyData, RevokedCertParams, SanType,
    SerialNumber,
};
use rustls::pki_types::CertificateDer;
use serde::{Deserialize, Serialize};

use crate::error::PkiError;
use crate::files::{self, DirectoryLock};
use crate::names::{self, CertificateFacts};
use crate::{
    CLOCK_SKEW_ALLOWANCE, CRL_VALIDITY, INTERMEDIATE_LIFETIME, LEAF_LIFETIME, ROOT_LIFETIME,
};

pub use request::SigningRequest;

pub(crate) use encoding::{normalise_serial, pem_blocks, random_serial, to_time, unix_seconds};
pub(crate) use request::{authority_subject, node_subject};

use encoding::{authority_key_usages, push_pem, truncate_to_seconds};

pub(crate) const CA_KEY_FILE: &str = "ca.key";
pub(crate) const CA_CERTIFICATE_FILE: &str = "ca.crt";
pub(crate) const CHAIN_FILE: &str = "chain.crt";
pub(crate) const ROOT_FILE: &str = "root.crt";
pub(crate) const ISSUED_FILE: &str = "issued.jsonl";
pub(crate) const REVOKED_FILE: &str = "revoked.json";
pub(crate) const CRL_FILE: &str = "crl.pem";
pub(crate) const CRL_NUMBER_FILE: &str = "crl_number";
pub(crate) const REQUEST_KEY_FILE: &str = "request.key";
pub(crate) const REQUEST_CSR_FILE: &str = "request.csr";

/// What a certificate is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CertificateKind {
    /// A node's own certificate: not a CA, clientAuth and serverAuth.
    Node,
    /// An intermediate CA of a province or prefecture.
    Authority,
}

/// How to issue: the kind, and a validity other than the default (for a short-lived
/// certificate, or a test that needs an expired one). The end never passes the CA's own.
#[derive(Clone, Debug)]
pub struct IssueOptions {
    pub kind: CertificateKind,
    pub not_before: Option<SystemTime>,
    pub not_after: Option<SystemTime>,
}

impl IssueOptions {
    /// A node certificate valid for [`LEAF_LIFETIME`].
    pub fn node() -> Self {
        IssueOptions {
            kind: CertificateKind::Node,
            not_before: None,
            not_after: None,
        }
    }

    /// An intermediate CA certificate valid for [`INTERMEDIATE_LIFETIME`].
    pub fn authority() -> Self {
        IssueOptions {
            kind: CertificateKind::Authority,
            not_before: None,
            not_after: None,
        }
    }

    /// The same, valid from `not_before` to `not_after`.
    pub fn valid_between(mut self, not_before: SystemTime, not_after: SystemTime) -> Self {
        self.not_before = Some(not_before);
        self.not_after = Some(not_after);
        self
    }
}

/// A certificate the CA issued.
#[derive(Clone, Debug)]
pub struct IssuedCertificate {
    pub code: String,
    pub level: Level,
    pub kind: CertificateKind,
    /// Lower-case hex.
    pub serial: String,
    pub not_after: SystemTime,
    pub certificate: CertificateDer<'static>,
    /// The new certificate followed by the CA's certificate and the intermediates above it
    /// (the root excluded): what the holder presents.
    pub chain_pem: String,
}

/// One line of `issued.jsonl`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct IssuedRecord {
    pub serial: String,
    pub code: String,
    pub level: Level,
    pub kind: CertificateKind,
    /// Unix seconds.
    pub not_before: u64,
    pub not_after: u64,
    pub issued_at: u64,
}

/// Why a certificate was revoked (RFC 5280 §5.3.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RevocationReason {
    Unspecified,
    KeyCompromise,
    CaCompromise,
    AffiliationChanged,
    Superseded,
    CessationOfOperation,
}

impl RevocationReason {
    pub const ALL: [RevocationReason; 6] = [
        Self::Unspecified,
        Self::KeyCompromise,
        Self::CaCompromise,
        Self::AffiliationChanged,
        Self::Superseded,
        Self::CessationOfOperation,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unspecified => "unspecified",
            Self::KeyCompromise => "key_compromise",
            Self::CaCompromise => "ca_compromise",
            Self::AffiliationChanged => "affiliation_changed",
            Self::Superseded => "superseded",
            Self::CessationOfOperation => "cessation_of_operation",
        }
    }

    fn to_rcgen(self) -> rcgen::RevocationReason {
        match self {
            Self::Unspecified => rcgen::RevocationReason::Unspecified,
            Self::KeyCompromise => rcgen::RevocationReason::KeyCompromise,
            Self::CaCompromise => rcgen::RevocationReason::CaCompromise,
            Self::AffiliationChanged => rcgen::RevocationReason::AffiliationChanged,
            Self::Superseded => rcgen::RevocationReason::Superseded,
            Self::CessationOfOperation => rcgen::RevocationReason::CessationOfOperation,
        }
    }
}

impl std::str::FromStr for RevocationReason {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let wanted = text.trim().to_ascii_lowercase().replace('-', "_");
        Self::ALL
            .into_iter()
            .find(|reason| reason.as_str() == wanted)
            .ok_or_else(|| {
                format!(
                    "unknown revocation reason {text:?}: expected one of {}",
                    Self::ALL.map(Self::as_str).join(", ")
                )
            })
    }
}

/// One entry of `revoked.json`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RevokedRecord {
    pub serial: String,
    /// Unix seconds.
    pub revoked_at: u64,
    pub reason: RevocationReason,
}

/// A CA opened from its directory.
pub struct CertificateAuthority {
    dir: PathBuf,
    code: String,
    level: Level,
    certificate: CertificateDer<'static>,
    certificate_pem: String,
    chain_pem: String,
    root: CertificateDer<'static>,
    key: KeyPair,
    not_after: SystemTime,
    /// How many CA levels may still hang below this CA (`None`: any).
    path_len: Option<u32>,
}

impl std::fmt::Debug for CertificateAuthority {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("CertificateAuthority")
            .field("dir", &self.dir)
            .field("code", &self.code)
            .field("level", &self.level)
            .finish_non_exhaustive()
    }
}

impl CertificateAuthority {
    /// Creates the national root CA in `dir` (which must not hold one): a new key, a
    /// self-signed certificate valid for [`ROOT_LIFETIME`], and a first, empty CRL.
    pub fn init_root(dir: &Path) -> Result<Self, PkiError> {
        let key_path = dir.join(CA_KEY_FILE);
        if key_path.exists() {
            return Err(PkiError::Exists(key_path));
        }
        files::create_dir(dir)?;
        let key = KeyPair::generate()?;
        let now = SystemTime::now();
        let mut params = CertificateParams::default();
        params.not_before = to_time(now - CLOCK_SKEW_ALLOWANCE);
        params.not_after = to_time(now + ROOT_LIFETIME);
        params.serial_number = Some(random_serial());
        params.distinguished_name = authority_subject(NATIONAL_CODE, Level::National);
        params.subject_alt_names = vec![SanType::URI(names::ca_uri(NATIONAL_CODE).try_into()?)];
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = authority_key_usages();
        let certificate = params.self_signed(&key)?;
        files::write_new(&key_path, key.serialize_pem().as_bytes(), true)?;
        files::write_atomic(
            &dir.join(CA_CERTIFICATE_FILE),
            certificate.pem().as_bytes(),
            false,
        )?;
        files::write_atomic(&dir.join(ROOT_FILE), certificate.pem().as_bytes(), false)?;
        let authority = Self::open(dir)?;
        authority.generate_crl()?;
        Ok(authority)
    }

    /// Opens the CA in `dir`.
    pub fn open(dir: &Path) -> Result<Self, PkiError> {
        let certificate_path = dir.join(CA_CERTIFICATE_FILE);
        let certificate_pem = files::read_text(&certificate_path)?;
        let certificate = files::read_certificate(&certificate_path)?;
        let facts = CertificateFacts::parse(&certificate)?;
        let (code, level) = facts.authority()?;
        let key_path = dir.join(CA_KEY_FILE);
        let key = KeyPair::from_pem(&files::read_text(&key_path)?)
            .map_err(|error| PkiError::malformed(&key_path, error))?;
        let (_, parsed) = x509_parser::parse_x509_certificate(&certificate)
            .map_err(|error| PkiError::malformed(&certificate_path, error))?;
        if parsed.public_key().raw != key.subject_public_key_info().as_slice() {
            return Err(PkiError::malformed(
                &key_path,
                "the key does not belong to ca.crt",
            ));
        }
        let path_len = parsed
            .basic_constraints()
            .ok()
            .flatten()
            .and_then(|constraints| constraints.value.path_len_constraint);
        let chain_path = dir.join(CHAIN_FILE);
        let chain_pem = match std::fs::read_to_string(&chain_path) {
            Ok(text) => text,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(source) => return Err(PkiError::read(&chain_path, source)),
        };
        let root = files::read_certificate(&dir.join(ROOT_FILE))?;
        Ok(CertificateAuthority {
            dir: dir.to_owned(),
            code,
            level,
            certificate,
            certificate_pem,
            chain_pem,
            root,
            key,
            not_after: facts.not_after,
            path_len,
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The code of the agency this CA belongs to.
    pub fn code(&self) -> &str {
        &self.code
    }

    pub fn level(&self) -> Level {
        self.level
    }

    /// The CA's own certificate.
    pub fn certificate(&self) -> &CertificateDer<'static> {
        &self.certificate
    }

    /// The national root certificate.
    pub fn root(&self) -> &CertificateDer<'static> {
        &self.root
    }

    /// The root certificate as PEM.
    pub fn root_pem(&self) -> Result<String, PkiError> {
        files::read_text(&self.dir.join(ROOT_FILE))
    }

    pub fn not_after(&self) -> SystemTime {
        self.not_after
    }

    /// Issues a certificate for a CSR, refusing codes outside this CA's subtree
    /// ([`names::may_issue`]) and CA certificates this CA may not create.
    pub fn issue(
        &self,
        csr_pem: &str,
        options: &IssueOptions,
    ) -> Result<IssuedCertificate, PkiError> {
        let request = SigningRequest::from_pem(csr_pem)?;
        self.issue_request(&request, options)
    }

    /// Checks that this CA may sign `request` as `kind`, without signing.
    pub fn check_request(
        &self,
        request: &SigningRequest,
        kind: CertificateKind,
    ) -> Result<(), PkiError> {
        if request.kind != kind {
            return Err(PkiError::Request(match kind {
                CertificateKind::Node => {
                    "the CSR asks for a CA certificate; sign it as a CA (--ca)".to_owned()
                }
                CertificateKind::Authority => {
                    "the CSR asks for a node certificate, not a CA certificate".to_owned()
                }
            }));
        }
        if !names::may_issue(&self.code, &request.code) {
            return Err(PkiError::OutsideSubtree {
                ca: self.code.clone(),
                code: request.code.clone(),
            });
        }
        if kind == CertificateKind::Authority {
            if !names::may_issue_authority(&self.code, &request.code) {
                return Err(PkiError::AuthorityRefused {
                    ca: self.code.clone(),
                    reason: format!("{} is not below {}", request.code, self.code),
                });
            }
            if self.path_len == Some(0) {
                return Err(PkiError::AuthorityRefused {
                    ca: self.code.clone(),
                    reason: "its certificate allows no CA below it (pathLen 0)".to_owned(),
                });
            }
        }
        Ok(())
    }

    /// Issues a certificate for a request already read.
    pub fn issue_request(
        &self,
        request: &SigningRequest,
        options: &IssueOptions,
    ) -> Result<IssuedCertificate, PkiError> {
        self.check_request(request, options.kind)?;
        let now = SystemTime::now();
        if now >= self.not_after {
            return Err(PkiError::AuthorityRefused {
                ca: self.code.clone(),
                reason: "its own certificate has expired".to_owned(),
            });
        }
        let lifetime = match options.kind {
            CertificateKind::Node => LEAF_LIFETIME,
            CertificateKind::Authority => INTERMEDIATE_LIFETIME,
        };
        let not_before = options.not_before.unwrap_or(now - CLOCK_SKEW_ALLOWANCE);
        let not_after = options
            .not_after
            .unwrap_or(now + lifetime)
            .min(self.not_after);
        let serial = random_serial();
        let serial_hex = hex::encode(serial.as_ref());
        let mut params = CertificateParams::default();
        params.not_before = to_time(not_before);
        params.not_after = to_time(not_after);
        params.serial_number = Some(serial);
        params.use_authority_key_identifier_extension = true;
        match options.kind {
            CertificateKind::Node => {
                params.distinguished_name = node_subject(&request.code, request.level);
                params.subject_alt_names =
                    vec![SanType::URI(names::node_uri(&request.code).try_into()?)];
                params.is_ca = IsCa::ExplicitNoCa;
                params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
                params.extended_key_usages = vec![
                    ExtendedKeyUsagePurpose::ServerAuth,
                    ExtendedKeyUsagePurpose::ClientAuth,
                ];
            }
            CertificateKind::Authority => {
                params.distinguished_name = authority_subject(&request.code, request.level);
                params.subject_alt_names =
                    vec![SanType::URI(names::ca_uri(&request.code).try_into()?)];
                // A province's CA may create prefecture CAs; a prefecture's only leaves.
                let below = if request.level == Level::Province {
                    1
                } else {
                    0
                };
                params.is_ca = IsCa::Ca(BasicConstraints::Constrained(below));
                params.key_usages = authority_key_usages();
            }
        }
        let issuer = self.issuer()?;
        let certificate = params.signed_by(&request.params.public_key, &issuer)?;
        let mut chain_pem = certificate.pem();
        push_pem(&mut chain_pem, &self.certificate_pem);
        push_pem(&mut chain_pem, &self.chain_pem);
        let record = IssuedRecord {
            serial: serial_hex.clone(),
            code: request.code.clone(),
            level: request.level,
            kind: options.kind,
            not_before: unix_seconds(not_before),
            not_after: unix_seconds(not_after),
            issued_at: unix_seconds(now),
        };
        self.append_issued(&record)?;
        tracing::info!(
            ca = %self.code,
            code = %request.code,
            level = %request.level,
            kind = ?options.kind,
            serial = %serial_hex,
            "certificate issued"
        );
        Ok(IssuedCertificate {
            code: request.code.clone(),
            level: request.level,
            kind: options.kind,
            serial: serial_hex,
            not_after: truncate_to_seconds(not_after),
            certificate: certificate.der().clone(),
            chain_pem,
        })
    }

    fn issuer(&self) -> Result<Issuer<'static, &KeyPair>, PkiError> {
        Ok(Issuer::from_ca_cert_der(&self.certificate, &self.key)?)
    }

    fn append_issued(&self, record: &IssuedRecord) -> Result<(), PkiError> {
        let path = self.dir.join(ISSUED_FILE);
        let mut line =
            serde_json::to_string(record).map_err(|error| PkiError::malformed(&path, error))?;
        line.push('\n');
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(|source| PkiError::write(&path, source))?;
        file.write_all(line.as_bytes())
            .and_then(|()| file.sync_all())
            .map_err(|source| PkiError::write(&path, source))
    }

    /// Every certificate this CA issued, oldest first.
    pub fn issued(&self) -> Result<Vec<IssuedRecord>, PkiError> {
        let path = self.dir.join(ISSUED_FILE);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(source) => return Err(PkiError::read(&path, source)),
        };
        text.lines()
            .filter(|line| !line.trim().is_empty())
            .map(|line| {
                serde_json::from_str(line).map_err(|error| PkiError::malformed(&path, error))
            })
            .collect()
    }

    /// The revoked serials.
    pub fn revoked(&self) -> Result<Vec<RevokedRecord>, PkiError> {
        let path = self.dir.join(REVOKED_FILE);
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                serde_json::from_str(&text).map_err(|error| PkiError::malformed(&path, error))
            }
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
            Err(source) => Err(PkiError::read(&path, source)),
        }
    }

    /// Revokes a certificate this CA issued, by serial (hex, colons allowed). Revoking twice
    /// changes nothing. The revocation reaches peers with the next CRL ([`Self::generate_crl`]).
    pub fn revoke(
        &self,
        serial: &str,
        reason: RevocationReason,
    ) -> Result<RevokedRecord, PkiError> {
        let serial = normalise_serial(serial);
        let _lock = DirectoryLock::acquire(&self.dir)?;
        if !self.issued()?.iter().any(|record| record.serial == serial) {
            return Err(PkiError::UnknownSerial(serial));
        }
        let mut revoked = self.revoked()?;
        if let Some(existing) = revoked.iter().find(|record| record.serial == serial) {
            return Ok(existing.clone());
        }
        let record = RevokedRecord {
            serial: serial.clone(),
            revoked_at: unix_seconds(SystemTime::now()),
            reason,
        };
        revoked.push(record.clone());
        let path = self.dir.join(REVOKED_FILE);
        let text = serde_json::to_string_pretty(&revoked)
            .map_err(|error| PkiError::malformed(&path, error))?;
        files::write_atomic(&path, text.as_bytes(), false)?;
        tracing::warn!(ca = %self.code, %serial, reason = reason.as_str(), "certificate revoked");
        Ok(record)
    }

    /// Revokes the (first) certificate of a PEM file.
    pub fn revoke_certificate(
        &self,
        certificate_pem: &str,
        reason: RevocationReason,
    ) -> Result<RevokedRecord, PkiError> {
        let certificates = files::certificates_from_pem(certificate_pem)
            .map_err(|error| PkiError::Request(format!("no certificate to revoke: {error:?}")))?;
        let facts = CertificateFacts::parse(&certificates[0])?;
        self.revoke(&facts.serial, reason)
    }

    /// Signs a new CRL dated now, valid for [`CRL_VALIDITY`], writes it to `crl.pem` and
    /// returns it as PEM.
    pub fn generate_crl(&self) -> Result<String, PkiError> {
        self.generate_crl_at(SystemTime::now())
    }

    /// Signs a new CRL dated `this_update` (a test can date it in the past to make it stale).
    pub fn generate_crl_at(&self, this_update: SystemTime) -> Result<String, PkiError> {
        let _lock = DirectoryLock::acquire(&self.dir)?;
        let number_path = self.dir.join(CRL_NUMBER_FILE);
        let previous: u64 = match std::fs::read_to_string(&number_path) {
            Ok(text) => text
                .trim()
                .parse()
                .map_err(|error| PkiError::malformed(&number_path, error))?,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => 0,
            Err(source) => return Err(PkiError::read(&number_path, source)),
        };
        let number = previous + 1;
        let revoked_certs = self
            .revoked()?
            .into_iter()
            .map(|record| {
                let bytes = hex::decode(&record.serial)
                    .map_err(|error| PkiError::malformed(self.dir.join(REVOKED_FILE), error))?;
                Ok(RevokedCertParams {
                    serial_number: SerialNumber::from_slice(&bytes),
                    revocation_time: to_time(UNIX_EPOCH + Duration::from_secs(record.revoked_at)),
                    reason_code: Some(record.reason.to_rcgen()),
                    invalidity_date: None,
                })
            })
            .collect::<Result<Vec<_>, PkiError>>()?;
        let params = CertificateRevocationListParams {
            this_update: to_time(this_update),
            next_update: to_time(this_update + CRL_VALIDITY),
            crl_number: SerialNumber::from(number),
            issuing_distribution_point: None,
            revoked_certs,
            key_identifier_method: KeyIdMethod::Sha256,
        };
        let crl = params.signed_by(&self.issuer()?)?;
        let pem = crl.pem()?;
        files::write_atomic(&self.dir.join(CRL_FILE), pem.as_bytes(), false)?;
        files::write_atomic(&number_path, format!("{number}\n").as_bytes(), false)?;
        tracing::info!(ca = %self.code, crl_number = number, "CRL published");
        Ok(pem)
    }

    /// The latest CRL as PEM.
    pub fn crl_pem(&self) -> Result<String, PkiError> {
        files::read_text(&self.dir.join(CRL_FILE))
    }
}

/// Installs a signed intermediate CA certificate into the CA directory that made the request
/// (`request.key` becomes `ca.key`), with the chain above it and the root, and publishes the
/// CA's first CRL.
pub fn install_authority(
    ca_dir: &Path,
    chain_pem: &str,
    root_pem: &str,
) -> Result<CertificateAuthority, PkiError> {
    let chain = files::certificates_from_pem(chain_pem)
        .map_err(|error| PkiError::Request(format!("no CA certificate to install: {error:?}")))?;
    let facts = CertificateFacts::parse(&chain[0])?;
    facts.authority()?;
    files::certificates_from_pem(root_pem)
        .map_err(|error| PkiError::Request(format!("no root certificate: {error:?}")))?;
    let request_key_path = ca_dir.join(REQUEST_KEY_FILE);
    let key_path = ca_dir.join(CA_KEY_FILE);
    let key_source = if request_key_path.exists() {
        &request_key_path
    } else {
        &key_path
    };
    let key = KeyPair::from_pem(&files::read_text(key_source)?)
        .map_err(|error| PkiError::malformed(key_source, error))?;
    let (_, parsed) = x509_parser::parse_x509_certificate(&chain[0])
        .map_err(|error| PkiError::Request(error.to_string()))?;
    if parsed.public_key().raw != key.subject_public_key_info().as_slice() {
        return Err(PkiError::Request(format!(
            "the CA certificate was not issued for the key in {}",
            key_source.display()
        )));
    }
    let blocks = pem_blocks(chain_pem);
    let (own, above) = blocks
        .split_first()
        .ok_or_else(|| PkiError::Request("no CA certificate to install".to_owned()))?;
    files::write_atomic(&ca_dir.join(ROOT_FILE), root_pem.as_bytes(), false)?;
    files::write_atomic(&ca_dir.join(CHAIN_FILE), above.concat().as_bytes(), false)?;
    files::write_atomic(&ca_dir.join(CA_CERTIFICATE_FILE), own.as_bytes(), false)?;
    if key_source == &request_key_path {
        std::fs::rename(&request_key_path, &key_path)
            .map_err(|source| PkiError::write(&key_path, source))?;
        let _ = std::fs::remove_file(ca_dir.join(REQUEST_CSR_FILE));
    }
    let authority = CertificateAuthority::open(ca_dir)?;
    authority.generate_crl()?;
    Ok(authority)
}
