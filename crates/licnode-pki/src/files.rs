//! Reading and writing PEM files: certificates, keys, CRLs; atomic replacement so a serving
//! node that re-reads its files never sees half of one; private keys readable by the owner only.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, CertificateRevocationListDer, PrivateKeyDer};

use crate::error::PkiError;

/// Reads a whole text file.
pub(crate) fn read_text(path: &Path) -> Result<String, PkiError> {
    fs::read_to_string(path).map_err(|source| PkiError::read(path, source))
}

/// Reads every certificate of a PEM file; at least one.
pub(crate) fn read_certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, PkiError> {
    let text = read_text(path)?;
    let certificates = certificates_from_pem(&text).map_err(|error| match error {
        PemError::Empty => PkiError::Missing {
            path: path.to_owned(),
            what: "certificate",
        },
        PemError::Malformed(message) => PkiError::malformed(path, message),
    })?;
    Ok(certificates)
}

/// Reads the first (only) certificate of a PEM file.
pub(crate) fn read_certificate(path: &Path) -> Result<CertificateDer<'static>, PkiError> {
    let mut certificates = read_certificates(path)?;
    Ok(certificates.swap_remove(0))
}

/// Reads a PKCS#8 (or SEC1/PKCS#1) private key from a PEM file.
pub(crate) fn read_private_key(path: &Path) -> Result<PrivateKeyDer<'static>, PkiError> {
    let text = read_text(path)?;
    PrivateKeyDer::from_pem_slice(text.as_bytes())
        .map_err(|error| PkiError::malformed(path, format!("no private key: {error}")))
}

/// Reads a CRL from a PEM file.
pub(crate) fn read_crl(path: &Path) -> Result<CertificateRevocationListDer<'static>, PkiError> {
    let text = read_text(path)?;
    crl_from_pem(&text).map_err(|message| PkiError::malformed(path, message))
}

/// The problem with a PEM text.
#[derive(Debug)]
pub(crate) enum PemError {
    Empty,
    Malformed(String),
}

/// Every certificate of a PEM text.
pub(crate) fn certificates_from_pem(text: &str) -> Result<Vec<CertificateDer<'static>>, PemError> {
    let certificates = CertificateDer::pem_slice_iter(text.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| PemError::Malformed(error.to_string()))?;
    if certificates.is_empty() {
        Err(PemError::Empty)
    } else {
        Ok(certificates)
    }
}

/// The CRL of a PEM text.
pub(crate) fn crl_from_pem(text: &str) -> Result<CertificateRevocationListDer<'static>, String> {
    CertificateRevocationListDer::from_pem_slice(text.as_bytes())
        .map_err(|error| format!("no X509 CRL: {error}"))
}

/// Creates a directory and its parents.
pub(crate) fn create_dir(path: &Path) -> Result<(), PkiError> {
    fs::create_dir_all(path).map_err(|source| PkiError::write(path, source))
}

/// Replaces `path` with `contents` atomically: a temporary file in the same directory, flushed
/// to disk, then renamed over the old one. `private` files are created readable by the owner
/// only (keys, token hashes).
pub(crate) fn write_atomic(path: &Path, contents: &[u8], private: bool) -> Result<(), PkiError> {
    let directory = path
        .parent()
        .filter(|parent| !parent.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    create_dir(directory)?;
    let file_name = path
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temporary = directory.join(format!(
        ".{file_name}.{}-{:08x}.tmp",
        std::process::id(),
        rand::random::<u32>()
    ));
    let result = (|| {
        let mut file = open_new(&temporary, private)?;
        file.write_all(contents)?;
        file.sync_all()?;
        fs::rename(&temporary, path)?;
        if let Ok(directory) = fs::File::open(directory) {
            let _ = directory.sync_all();
        }
        Ok(())
    })();
    result.map_err(|source| {
        let _ = fs::remove_file(&temporary);
        PkiError::write(path, source)
    })
}

/// Writes a file that must not exist yet.
pub(crate) fn write_new(path: &Path, contents: &[u8], private: bool) -> Result<(), PkiError> {
    if let Some(directory) = path
        .parent()
        .filter(|parent| !parent.as_os_str().is_empty())
    {
        create_dir(directory)?;
    }
    let mut file = open_new(path, private).map_err(|source| {
        if source.kind() == std::io::ErrorKind::AlreadyExists {
            PkiError::Exists(path.to_owned())
        } else {
            PkiError::write(path, source)
        }
    })?;
    file.write_all(contents)
        .and_then(|()| file.sync_all())
        .map_err(|source| PkiError::write(path, source))
}

fn open_new(path: &Path, private: bool) -> std::io::Result<fs::File> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(if private { 0o600 } else { 0o644 });
    }
    #[cfg(not(unix))]
    let _ = private;
    options.open(path)
}

/// An exclusive lock on a CA directory, held while its state files change, so two processes
/// (the CLI and a serving node) never issue from the same token or lose a revocation.
pub(crate) struct DirectoryLock {
    _file: fs::File,
}

impl DirectoryLock {
    pub(crate) fn acquire(directory: &Path) -> Result<Self, PkiError> {
        let path: PathBuf = directory.join("lock");
        let file = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|source| PkiError::write(&path, source))?;
        file.lock()
            .map_err(|source| PkiError::write(&path, source))?;
        Ok(DirectoryLock { _file: file })
    }
}

/// A fingerprint of a file's state (length and modification time), to notice replacement.
pub(crate) fn file_state(path: &Path) -> Option<(u64, std::time::SystemTime)> {
    let metadata = fs::metadata(path).ok()?;
    Some((metadata.len(), metadata.modified().ok()?))
}
