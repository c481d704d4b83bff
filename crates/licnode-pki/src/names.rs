//! How a node is named in a certificate, and which CA may name which node.
//!
//! A node certificate carries exactly one URI SAN, `urn:licnode:node:<code>`, and its subject
//! is `O=licnode, OU=<level>, CN=<code>` (`OU=county`, `OU=review_department`, …). A CA
//! certificate carries exactly one URI SAN, `urn:licnode:ca:<code>`, and its subject is
//! `O=licnode, OU=<level>, CN=licnode CA <code>`. The code in a certificate's *issuer* name
//! therefore names the CA that signed it, and every link of a chain can be checked against the
//! division tree: a CA issues only within its own subtree (ARCHITECTURE.md, principle 5).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use licnode_model::Level;
use licnode_model::divisions::{self, NATIONAL_CODE};
use x509_parser::extensions::{GeneralName, ParsedExtension};
use x509_parser::oid_registry::OID_X509_EXT_SUBJECT_ALT_NAME;

/// The URI SAN prefix of a node certificate.
pub const NODE_URI_PREFIX: &str = "urn:licnode:node:";
/// The URI SAN prefix of a CA certificate.
pub const CA_URI_PREFIX: &str = "urn:licnode:ca:";
/// The organisation (O) of every licnode certificate.
pub const ORGANIZATION: &str = "licnode";
/// The common name of a CA certificate is this prefix followed by the CA's code.
pub const CA_COMMON_NAME_PREFIX: &str = "licnode CA ";

/// The longest code of a review department or an inspection body.
const MAX_NON_DIVISION_CODE_LEN: usize = 32;

/// The URI SAN naming a node.
pub fn node_uri(code: &str) -> String {
    format!("{NODE_URI_PREFIX}{code}")
}

/// The URI SAN naming a CA.
pub fn ca_uri(code: &str) -> String {
    format!("{CA_URI_PREFIX}{code}")
}

/// The common name of a CA certificate.
pub fn ca_common_name(code: &str) -> String {
    format!("{CA_COMMON_NAME_PREFIX}{code}")
}

/// A node's code and level do not fit together.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("{code:?} is not a GB/T 2260 division code of a {level} bureau")]
    NotADivisionOfLevel { code: String, level: Level },
    #[error(
        "{code:?} is not a valid code for a {level}: use 1–32 ASCII capital letters, digits or '-', starting RD for a review department and IB for an inspection body (e.g. RD0001, IB0001)"
    )]
    InvalidNonDivisionCode { code: String, level: Level },
    #[error("a {level} holds no CA: only the national, provincial and prefectural bureaus do")]
    NotAnAuthorityLevel { level: Level },
}

/// Checks that `code` names an agency of `level`: bureaus by their GB/T 2260 code of the
/// matching division level (national `100000`, province `330000`, prefecture `330100`, county
/// `330106`); review departments and inspection bodies by a code that is not a division code
/// (`RD0001`, `IB0001`).
pub fn check_node(code: &str, level: Level) -> Result<(), NameError> {
    if level.is_territorial() {
        let fits = divisions::lookup(code)
            .is_some_and(|division| Level::for_division(division.level) == level);
        if fits {
            Ok(())
        } else {
            Err(NameError::NotADivisionOfLevel {
                code: code.to_owned(),
                level,
            })
        }
    } else {
        let well_formed = !code.is_empty()
            && code.len() <= MAX_NON_DIVISION_CODE_LEN
            && code
                .bytes()
                .all(|byte| byte.is_ascii_uppercase() || byte.is_ascii_digit() || byte == b'-')
            && !code.bytes().all(|byte| byte.is_ascii_digit());
        // The code names the level (`licnode_sync::level_of_code`): a node receiving a change
        // relayed from a review department or inspection body learns its level from it.
        let prefix = if level == Level::ReviewDepartment {
            "RD"
        } else {
            "IB"
        };
        if well_formed && code.starts_with(prefix) && divisions::lookup(code).is_none() {
            Ok(())
        } else {
            Err(NameError::InvalidNonDivisionCode {
                code: code.to_owned(),
                level,
            })
        }
    }
}

/// Checks that an agency of `level` may hold a CA: national (the root), provinces and
/// prefectures (intermediates for their subtree).
pub fn check_authority(code: &str, level: Level) -> Result<(), NameError> {
    check_node(code, level)?;
    match level {
        Level::National | Level::Province | Level::Prefecture => Ok(()),
        _ => Err(NameError::NotAnAuthorityLevel { level }),
    }
}

/// Whether the CA of `issuer_code` may issue a certificate naming `subject_code`: a division
/// within its subtree (itself included), or — for the national CA only — a review department
/// or an inspection body, whose codes are not divisions.
pub fn may_issue(issuer_code: &str, subject_code: &str) -> bool {
    if divisions::lookup(subject_code).is_some() {
        divisions::is_within(subject_code, issuer_code)
    } else {
        issuer_code == NATIONAL_CODE
    }
}

/// Whether the CA of `issuer_code` may issue a CA certificate for `subject_code`: strictly
/// below itself in the tree.
pub fn may_issue_authority(issuer_code: &str, subject_code: &str) -> bool {
    issuer_code != subject_code
        && divisions::lookup(subject_code).is_some()
        && divisions::is_within(subject_code, issuer_code)
}

/// What a certificate says about itself, read without judging it.
#[derive(Clone, Debug)]
pub struct CertificateFacts {
    /// `basicConstraints` CA:true.
    pub is_ca: bool,
    /// Every URI in every subjectAltName extension, in order.
    pub uris: Vec<String>,
    /// The subject's organisational units (the level is one of them).
    pub organizational_units: Vec<String>,
    /// The subject's common name.
    pub common_name: Option<String>,
    /// The issuer's common name.
    pub issuer_common_name: Option<String>,
    /// The serial number, lower-case hex.
    pub serial: String,
    pub not_before: SystemTime,
    pub not_after: SystemTime,
}

/// Why a certificate does not name a node or a CA.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FactsError {
    #[error("not a DER X.509 certificate: {0}")]
    Malformed(String),
    #[error("the certificate carries no licnode URI SAN")]
    MissingUri,
    #[error("the certificate carries {0} URI SANs; a licnode certificate carries exactly one")]
    MultipleUris(usize),
    #[error("the URI SAN {0:?} is not a licnode {1} URI")]
    WrongUriKind(String, &'static str),
    #[error("the certificate's subject names no level (OU)")]
    MissingLevel,
    #[error("the subject's common name {common_name:?} does not match the URI SAN code {code:?}")]
    SubjectMismatch { common_name: String, code: String },
    #[error("the issuer's name does not name a licnode CA")]
    IssuerUnnamed,
    #[error(transparent)]
    Name(#[from] NameError),
}

impl CertificateFacts {
    /// Reads a DER certificate.
    pub fn parse(der: &[u8]) -> Result<Self, FactsError> {
        let (_, certificate) = x509_parser::parse_x509_certificate(der)
            .map_err(|error| FactsError::Malformed(error.to_string()))?;
        let mut uris = Vec::new();
        for extension in certificate.iter_extensions() {
            if extension.oid != OID_X509_EXT_SUBJECT_ALT_NAME {
                continue;
            }
            match extension.parsed_extension() {
                ParsedExtension::SubjectAlternativeName(names) => {
                    for name in &names.general_names {
                        if let GeneralName::URI(uri) = name {
                            uris.push((*uri).to_owned());
                        }
                    }
                }
                _ => {
                    return Err(FactsError::Malformed(
                        "unreadable subjectAltName extension".to_owned(),
                    ));
                }
            }
        }
        let is_ca = certificate
            .basic_constraints()
            .map_err(|error| FactsError::Malformed(error.to_string()))?
            .is_some_and(|constraints| constraints.value.ca);
        let text_of = |attribute: &x509_parser::x509::AttributeTypeAndValue<'_>| {
            attribute.as_str().ok().map(str::to_owned)
        };
        let subject = certificate.subject();
        let organizational_units = subject
            .iter_organizational_unit()
            .filter_map(text_of)
            .collect();
        let common_name = subject.iter_common_name().find_map(text_of);
        let issuer_common_name = certificate.issuer().iter_common_name().find_map(text_of);
        let validity = certificate.validity();
        Ok(CertificateFacts {
            is_ca,
            uris,
            organizational_units,
            common_name,
            issuer_common_name,
            serial: hex::encode(certificate.raw_serial()),
            not_before: system_time(validity.not_before.timestamp()),
            not_after: system_time(validity.not_after.timestamp()),
        })
    }

    /// Reads every certificate of a PEM text (a chain), first to last.
    pub fn parse_pem_chain(pem: &str) -> Result<Vec<Self>, FactsError> {
        let chain = crate::files::certificates_from_pem(pem).map_err(|error| match error {
            crate::files::PemError::Empty => {
                FactsError::Malformed("the text holds no PEM certificate".to_owned())
            }
            crate::files::PemError::Malformed(message) => FactsError::Malformed(message),
        })?;
        chain.iter().map(|der| Self::parse(der)).collect()
    }

    /// The one URI SAN, which must start with `prefix`; the code after it.
    fn single_uri_code(&self, prefix: &str, kind: &'static str) -> Result<&str, FactsError> {
        match self.uris.as_slice() {
            [] => Err(FactsError::MissingUri),
            [uri] => uri
                .strip_prefix(prefix)
                .filter(|code| !code.is_empty())
                .ok_or_else(|| FactsError::WrongUriKind(uri.clone(), kind)),
            more => Err(FactsError::MultipleUris(more.len())),
        }
    }

    /// The level named in the subject's OU.
    pub fn level(&self) -> Result<Level, FactsError> {
        self.organizational_units
            .iter()
            .find_map(|unit| unit.parse::<Level>().ok())
            .ok_or(FactsError::MissingLevel)
    }

    /// The node this certificate names: its code (from the one URI SAN) and level (from the
    /// OU), consistent with each other and with the common name.
    pub fn node(&self) -> Result<(String, Level), FactsError> {
        let code = self.single_uri_code(NODE_URI_PREFIX, "node")?;
        let level = self.level()?;
        check_node(code, level)?;
        match &self.common_name {
            Some(common_name) if common_name == code => Ok((code.to_owned(), level)),
            other => Err(FactsError::SubjectMismatch {
                common_name: other.clone().unwrap_or_default(),
                code: code.to_owned(),
            }),
        }
    }

    /// The CA this certificate names: its code and level, consistent with the common name.
    pub fn authority(&self) -> Result<(String, Level), FactsError> {
        let code = self.single_uri_code(CA_URI_PREFIX, "CA")?;
        let level = self.level()?;
        check_authority(code, level)?;
        let expected = ca_common_name(code);
        match &self.common_name {
            Some(common_name) if *common_name == expected => Ok((code.to_owned(), level)),
            other => Err(FactsError::SubjectMismatch {
                common_name: other.clone().unwrap_or_default(),
                code: code.to_owned(),
            }),
        }
    }

    /// The code of the CA named as this certificate's issuer.
    pub fn issuer_code(&self) -> Result<&str, FactsError> {
        self.issuer_common_name
            .as_deref()
            .and_then(|name| name.strip_prefix(CA_COMMON_NAME_PREFIX))
            .filter(|code| !code.is_empty())
            .ok_or(FactsError::IssuerUnnamed)
    }
}

fn system_time(unix_seconds: i64) -> SystemTime {
    if unix_seconds >= 0 {
        UNIX_EPOCH + Duration::from_secs(unix_seconds.unsigned_abs())
    } else {
        UNIX_EPOCH - Duration::from_secs(unix_seconds.unsigned_abs())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_county_code_names_a_county_and_not_a_province() {
        assert_eq!(check_node("330106", Level::County), Ok(()));
        assert!(check_node("330106", Level::Province).is_err());
    }

    #[test]
    fn review_departments_use_codes_that_are_not_divisions() {
        assert_eq!(check_node("RD0001", Level::ReviewDepartment), Ok(()));
        assert!(check_node("330106", Level::ReviewDepartment).is_err());
        assert!(check_node("rd 1", Level::InspectionBody).is_err());
    }

    #[test]
    fn a_province_issues_within_its_subtree_only() {
        assert!(may_issue("330000", "330106"));
        assert!(may_issue("330000", "330000"));
        assert!(!may_issue("330000", "320106"));
        assert!(!may_issue("330100", "330000"));
    }

    #[test]
    fn only_the_national_ca_issues_for_review_departments() {
        assert!(may_issue(NATIONAL_CODE, "RD0001"));
        assert!(!may_issue("330000", "IB0001"));
    }

    #[test]
    fn a_ca_issues_ca_certificates_strictly_below_itself() {
        assert!(may_issue_authority(NATIONAL_CODE, "330000"));
        assert!(may_issue_authority("330000", "330100"));
        assert!(!may_issue_authority("330000", "330000"));
        assert!(!may_issue_authority("330100", "330000"));
    }

    #[test]
    fn counties_hold_no_ca() {
        assert!(check_authority("330106", Level::County).is_err());
        assert_eq!(check_authority("330100", Level::Prefecture), Ok(()));
    }
}
