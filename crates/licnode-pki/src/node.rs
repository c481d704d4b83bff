//! A node's own PKI files: its key and certificate chain, the root it trusts, the CRLs it
//! checks peers against, and a pending certificate request.
//!
//! They live in `<node dir>/pki/`:
//!
//! | file | what |
//! |---|---|
//! | `node.key` | the node's private key (owner-readable only) |
//! | `node.crt` | its certificate, then the intermediates above it (root excluded) |
//! | `root.crt` | the national root: the only trust anchor |
//! | `crls/<issuer code>.crl.pem` | the CRLs of the CAs above the node and of its children's CAs |
//! | `request.key`, `request.csr` | a request waiting to be signed (first enrollment or renewal) |
//! | `ca/` | the node's own CA directory, if it is the national, a provincial or a prefectural node |
//!
//! A node never creates a key it does not keep: the child makes its key and CSR, the parent
//! only signs. Installing a certificate moves `request.key` to `node.key` and writes
//! `node.crt` — a serving node picks both up on its next reload ([`crate::tls::NodeTls`]).

use std::path::{Path, PathBuf};

use licnode_model::Level;
use rcgen::{CertificateParams, KeyPair, PublicKeyData, SanType};
use rustls::pki_types::CertificateRevocationListDer;

use crate::ca::{self, CertificateKind};
use crate::error::PkiError;
use crate::files;
use crate::names::{self, CertificateFacts};

/// The paths of a node's PKI files.
#[derive(Clone, Debug)]
pub struct NodePkiPaths {
    pub dir: PathBuf,
}

impl NodePkiPaths {
    /// The PKI directory of the node directory `node_dir` (`<node_dir>/pki`).
    pub fn of_node_dir(node_dir: &Path) -> Self {
        NodePkiPaths {
            dir: node_dir.join("pki"),
        }
    }

    pub fn key(&self) -> PathBuf {
        self.dir.join("node.key")
    }

    pub fn certificate(&self) -> PathBuf {
        self.dir.join("node.crt")
    }

    /// A certificate chain being installed (see [`install_certificate`]).
    pub fn pending_certificate(&self) -> PathBuf {
        self.dir.join("node.crt.new")
    }

    pub fn root(&self) -> PathBuf {
        self.dir.join("root.crt")
    }

    pub fn crls(&self) -> PathBuf {
        self.dir.join("crls")
    }

    pub fn request_key(&self) -> PathBuf {
        self.dir.join("request.key")
    }

    pub fn request_csr(&self) -> PathBuf {
        self.dir.join("request.csr")
    }

    /// The node's own CA directory, by convention.
    pub fn ca_dir(&self) -> PathBuf {
        self.dir.join("ca")
    }
}

/// A certificate request written to disk.
#[derive(Clone, Debug)]
pub struct CertificateRequest {
    pub code: String,
    pub level: Level,
    pub kind: CertificateKind,
    pub csr_pem: String,
    pub key_path: PathBuf,
    pub csr_path: PathBuf,
}

/// Creates a new key and a CSR naming node `code` of `level`, as
/// `<node_dir>/pki/request.key` and `request.csr`. A pending request is replaced (its key was
/// never certified); the node's current key and certificate are left alone, so a node renews
/// while it keeps serving.
pub fn create_request(
    node_dir: &Path,
    code: &str,
    level: Level,
) -> Result<CertificateRequest, PkiError> {
    names::check_node(code, level)?;
    let paths = NodePkiPaths::of_node_dir(node_dir);
    write_request(
        &paths.request_key(),
        &paths.request_csr(),
        code,
        level,
        CertificateKind::Node,
    )
}

/// Creates a new key and a CSR for the intermediate CA of `code` in the CA directory
/// `ca_dir` (`request.key`, `request.csr`).
pub fn create_authority_request(
    ca_dir: &Path,
    code: &str,
    level: Level,
) -> Result<CertificateRequest, PkiError> {
    names::check_authority(code, level)?;
    let key_path = ca_dir.join(ca::CA_KEY_FILE);
    if key_path.exists() {
        return Err(PkiError::Exists(key_path));
    }
    write_request(
        &ca_dir.join(ca::REQUEST_KEY_FILE),
        &ca_dir.join(ca::REQUEST_CSR_FILE),
        code,
        level,
        CertificateKind::Authority,
    )
}

fn write_request(
    key_path: &Path,
    csr_path: &Path,
    code: &str,
    level: Level,
    kind: CertificateKind,
) -> Result<CertificateRequest, PkiError> {
    let key = KeyPair::generate()?;
    let mut params = CertificateParams::default();
    let uri = match kind {
        CertificateKind::Node => {
            params.distinguished_name = ca::node_subject(code, level);
            names::node_uri(code)
        }
        CertificateKind::Authority => {
            params.distinguished_name = ca::authority_subject(code, level);
            names::ca_uri(code)
        }
    };
    params.subject_alt_names = vec![SanType::URI(uri.try_into()?)];
    let csr_pem = params.serialize_request(&key)?.pem()?;
    files::write_atomic(key_path, key.serialize_pem().as_bytes(), true)?;
    files::write_atomic(csr_path, csr_pem.as_bytes(), false)?;
    Ok(CertificateRequest {
        code: code.to_owned(),
        level,
        kind,
        csr_pem,
        key_path: key_path.to_owned(),
        csr_path: csr_path.to_owned(),
    })
}

/// What was installed.
#[derive(Clone, Debug)]
pub struct InstalledCertificate {
    pub code: String,
    pub level: Level,
    pub serial: String,
    pub not_after: std::time::SystemTime,
}

/// Installs a signed certificate chain (leaf first, as `pki sign` and the enrollment endpoint
/// answer it) into the node directory. The leaf must certify the pending `request.key` (which
/// becomes `node.key`) or, failing that, the current `node.key`. `root_pem`, when given,
/// becomes the node's trust anchor.
pub fn install_certificate(
    node_dir: &Path,
    chain_pem: &str,
    root_pem: Option<&str>,
) -> Result<InstalledCertificate, PkiError> {
    let paths = NodePkiPaths::of_node_dir(node_dir);
    let chain = files::certificates_from_pem(chain_pem)
        .map_err(|error| PkiError::Request(format!("no certificate to install: {error:?}")))?;
    let facts = CertificateFacts::parse(&chain[0])?;
    let (code, level) = facts.node()?;
    if let Some(root_pem) = root_pem {
        files::certificates_from_pem(root_pem)
            .map_err(|error| PkiError::Request(format!("no root certificate: {error:?}")))?;
    }
    let (_, parsed) = x509_parser::parse_x509_certificate(&chain[0])
        .map_err(|error| PkiError::Request(error.to_string()))?;
    let certified_key = |path: &Path| -> Result<bool, PkiError> {
        if !path.exists() {
            return Ok(false);
        }
        let key = KeyPair::from_pem(&files::read_text(path)?)
            .map_err(|error| PkiError::malformed(path, error))?;
        Ok(parsed.public_key().raw == key.subject_public_key_info().as_slice())
    };
    let from_request = certified_key(&paths.request_key())?;
    if !from_request && !certified_key(&paths.key())? {
        return Err(PkiError::Request(format!(
            "the certificate was not issued for {} nor {}",
            paths.request_key().display(),
            paths.key().display()
        )));
    }
    if let Some(root_pem) = root_pem {
        files::write_atomic(&paths.root(), root_pem.as_bytes(), false)?;
    }
    // The new chain goes to node.crt.new, then the key and the chain are renamed into place.
    // A reload between the renames, or a node started after a crash between them, finds the
    // new key with the old chain and uses node.crt.new, which matches it.
    let pending = paths.pending_certificate();
    files::write_atomic(&pending, chain_pem.as_bytes(), false)?;
    if from_request {
        std::fs::rename(paths.request_key(), paths.key())
            .map_err(|source| PkiError::write(paths.key(), source))?;
        let _ = std::fs::remove_file(paths.request_csr());
    }
    std::fs::rename(&pending, paths.certificate())
        .map_err(|source| PkiError::write(paths.certificate(), source))?;
    tracing::info!(%code, %level, serial = %facts.serial, "node certificate installed");
    Ok(InstalledCertificate {
        code,
        level,
        serial: facts.serial,
        not_after: facts.not_after,
    })
}

/// Installs a CRL into the node's `crls/` directory as `<issuer code>.crl.pem`, unless the one
/// there is newer. Returns the issuer's code.
pub fn install_crl(node_dir: &Path, crl_pem: &str) -> Result<String, PkiError> {
    let paths = NodePkiPaths::of_node_dir(node_dir);
    let der = files::crl_from_pem(crl_pem).map_err(PkiError::Request)?;
    let (issuer_code, this_update) = crl_issuer_and_date(&der)?;
    let path = paths.crls().join(format!("{issuer_code}.crl.pem"));
    if let Ok(existing) = files::read_crl(&path)
        && let Ok((_, existing_update)) = crl_issuer_and_date(&existing)
        && existing_update > this_update
    {
        return Ok(issuer_code);
    }
    files::write_atomic(&path, crl_pem.as_bytes(), false)?;
    Ok(issuer_code)
}

/// The code of a CRL's issuer and its thisUpdate (Unix seconds).
pub(crate) fn crl_issuer_and_date(
    der: &CertificateRevocationListDer<'_>,
) -> Result<(String, i64), PkiError> {
    let (_, crl) = x509_parser::parse_x509_crl(der)
        .map_err(|error| PkiError::Request(format!("unreadable CRL: {error}")))?;
    let issuer_code = crl
        .issuer()
        .iter_common_name()
        .find_map(|name| name.as_str().ok())
        .and_then(|name| name.strip_prefix(names::CA_COMMON_NAME_PREFIX))
        .filter(|code| {
            !code.is_empty()
                && code
                    .bytes()
                    .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-')
        })
        .ok_or_else(|| PkiError::Request("the CRL's issuer is not a licnode CA".to_owned()))?
        .to_owned();
    Ok((issuer_code, crl.last_update().timestamp()))
}
