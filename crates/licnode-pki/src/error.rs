//! The errors of the PKI library: files, certificates, and the issuing policy.

use std::path::PathBuf;

use crate::names::{FactsError, NameError};

/// An error of the PKI library.
#[derive(Debug, thiserror::Error)]
pub enum PkiError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} holds no {what}")]
    Missing { path: PathBuf, what: &'static str },
    #[error("{path}: {message}")]
    Malformed { path: PathBuf, message: String },
    #[error("{0} already exists; refusing to overwrite it")]
    Exists(PathBuf),
    #[error("certificate generation failed: {0}")]
    Generate(#[from] rcgen::Error),
    #[error(transparent)]
    Name(#[from] NameError),
    #[error("certificate: {0}")]
    Facts(#[from] FactsError),
    #[error("the certificate signing request is refused: {0}")]
    Request(String),
    #[error("the CA {ca} may not issue for {code}: it lies outside the CA's subtree")]
    OutsideSubtree { ca: String, code: String },
    #[error("the CA {ca} may not issue a CA certificate: {reason}")]
    AuthorityRefused { ca: String, reason: String },
    #[error("serial {0} was not issued by this CA")]
    UnknownSerial(String),
    #[error("TLS: {0}")]
    Tls(#[from] rustls::Error),
    #[error("the node's credentials are unusable: {0}")]
    Credentials(String),
}

impl PkiError {
    pub(crate) fn read(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        PkiError::Read {
            path: path.into(),
            source,
        }
    }

    pub(crate) fn write(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        PkiError::Write {
            path: path.into(),
            source,
        }
    }

    pub(crate) fn malformed(path: impl Into<PathBuf>, message: impl ToString) -> Self {
        PkiError::Malformed {
            path: path.into(),
            message: message.to_string(),
        }
    }
}
