//! Certificate signing requests, read and checked, and the subjects certificates are issued
//! with.

use licnode_model::Level;
use rcgen::{CertificateSigningRequestParams, DistinguishedName, DnType, DnValue, SanType};

use super::CertificateKind;
use crate::error::PkiError;
use crate::names;

/// A certificate signing request, read and checked: it names one node or CA, consistently.
#[derive(Debug)]
pub struct SigningRequest {
    pub code: String,
    pub level: Level,
    pub kind: CertificateKind,
    pub(super) params: CertificateSigningRequestParams,
}

impl SigningRequest {
    /// Reads a PEM CSR made by [`crate::node::create_request`]: its signature must verify, it
    /// must carry exactly one licnode URI SAN, and its subject must name the same code and a
    /// level that fits it.
    pub fn from_pem(csr_pem: &str) -> Result<Self, PkiError> {
        let params = CertificateSigningRequestParams::from_pem(csr_pem)
            .map_err(|error| PkiError::Request(format!("unreadable CSR: {error}")))?;
        let uris: Vec<&str> = params
            .params
            .subject_alt_names
            .iter()
            .filter_map(|name| match name {
                SanType::URI(uri) => Some(uri.as_str()),
                _ => None,
            })
            .collect();
        let uri = match uris.as_slice() {
            [uri] => *uri,
            [] => return Err(PkiError::Request("the CSR carries no URI SAN".to_owned())),
            more => {
                return Err(PkiError::Request(format!(
                    "the CSR carries {} URI SANs; exactly one is allowed",
                    more.len()
                )));
            }
        };
        let (kind, code) = if let Some(code) = uri.strip_prefix(names::NODE_URI_PREFIX) {
            (CertificateKind::Node, code)
        } else if let Some(code) = uri.strip_prefix(names::CA_URI_PREFIX) {
            (CertificateKind::Authority, code)
        } else {
            return Err(PkiError::Request(format!(
                "the URI SAN {uri:?} is not a licnode node or CA URI"
            )));
        };
        let dn = &params.params.distinguished_name;
        let level = dn_text(dn, DnType::OrganizationalUnitName)
            .and_then(|unit| unit.parse::<Level>().ok())
            .ok_or_else(|| PkiError::Request("the CSR's subject names no level (OU)".to_owned()))?;
        let expected_common_name = match kind {
            CertificateKind::Node => {
                names::check_node(code, level)?;
                code.to_owned()
            }
            CertificateKind::Authority => {
                names::check_authority(code, level)?;
                names::ca_common_name(code)
            }
        };
        if dn_text(dn, DnType::CommonName) != Some(expected_common_name.as_str()) {
            return Err(PkiError::Request(format!(
                "the CSR's common name does not read {expected_common_name:?}"
            )));
        }
        Ok(SigningRequest {
            code: code.to_owned(),
            level,
            kind,
            params,
        })
    }
}

fn dn_text(dn: &DistinguishedName, kind: DnType) -> Option<&str> {
    match dn.get(&kind)? {
        DnValue::Utf8String(text) => Some(text.as_str()),
        DnValue::PrintableString(text) => Some(text.as_str()),
        DnValue::Ia5String(text) => Some(text.as_str()),
        _ => None,
    }
}

/// The subject of a node certificate.
pub(crate) fn node_subject(code: &str, level: Level) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::OrganizationName, names::ORGANIZATION);
    dn.push(DnType::OrganizationalUnitName, level.as_str());
    dn.push(DnType::CommonName, code);
    dn
}

/// The subject of a CA certificate.
pub(crate) fn authority_subject(code: &str, level: Level) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::OrganizationName, names::ORGANIZATION);
    dn.push(DnType::OrganizationalUnitName, level.as_str());
    dn.push(DnType::CommonName, names::ca_common_name(code));
    dn
}
