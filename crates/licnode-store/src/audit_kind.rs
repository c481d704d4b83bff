//! What an audit entry records: the kind stored in `audit_log.kind` and hashed into the chain.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The kind of an audit entry. The spelling of each kind is stored in `audit_log.kind` and is
/// part of the entry's hashed bytes: `as_str` is the only place it is written, and it never
/// changes. The log is append-only, so a stored kind this release does not know (one a newer
/// release wrote) is read as [`AuditKind::Other`] with its spelling kept, and the entry still
/// verifies.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum AuditKind {
    /// A change stored in the change log (local or received).
    Write,
    /// A successful staff login.
    Login,
    /// A refused staff login (wrong name or password, disabled account, too many attempts).
    LoginFailed,
    /// Records leaving the node: `licnode export`, `licnode bundle export`.
    Export,
    /// A received change refused and quarantined.
    SyncRefused,
    /// A peer certificate refused during a TLS handshake.
    CertificateRefused,
    /// Records destroyed on an approval (Art. 38).
    Destruction,
    /// A backup taken.
    Backup,
    /// A backup restored.
    Restore,
    /// A peer refused because it is not a direct child of this node (issue 11 item 3).
    PeerRefused,
    /// This node's log and its parent's cursor for it diverged (a restore, a reinstall, a
    /// forged push): it pushes its log again and takes back its own changes (issue 11 item 4).
    SyncDiverged,
    /// A step of a prepared licence action: prepared, approved or refused.
    LicenceAction,
    /// A child handed up an audit anchor that does not extend the one before it: its audit
    /// chain was rewritten since.
    AuditChainBroken,
    /// An account action: an account created, disabled or enabled, an API token issued or
    /// revoked (issue 17, item 4); the detail names the action and the account.
    Account,
    /// Secret fields (Art. 36) read or exported unmasked, at an approver's or administrator's
    /// explicit request; the detail names the door, the collection, the records and the fields.
    SecretDisclosed,
    /// A kind this release does not write, as stored.
    Other(String),
}

impl AuditKind {
    /// Every kind this release writes, in the order the audit page offers them.
    pub const KNOWN: [AuditKind; 15] = [
        AuditKind::Write,
        AuditKind::Login,
        AuditKind::LoginFailed,
        AuditKind::Export,
        AuditKind::SyncRefused,
        AuditKind::CertificateRefused,
        AuditKind::Destruction,
        AuditKind::Backup,
        AuditKind::Restore,
        AuditKind::PeerRefused,
        AuditKind::SyncDiverged,
        AuditKind::LicenceAction,
        AuditKind::AuditChainBroken,
        AuditKind::Account,
        AuditKind::SecretDisclosed,
    ];

    /// The kind's code, as stored and hashed.
    pub fn as_str(&self) -> &str {
        match self {
            AuditKind::Write => "write",
            AuditKind::Login => "login",
            AuditKind::LoginFailed => "login_failed",
            AuditKind::Export => "export",
            AuditKind::SyncRefused => "sync_refused",
            AuditKind::CertificateRefused => "certificate_refused",
            AuditKind::Destruction => "destruction",
            AuditKind::Backup => "backup",
            AuditKind::Restore => "restore",
            AuditKind::PeerRefused => "peer_refused",
            AuditKind::SyncDiverged => "sync_diverged",
            AuditKind::LicenceAction => "licence_action",
            AuditKind::AuditChainBroken => "audit_chain_broken",
            AuditKind::Account => "account",
            AuditKind::SecretDisclosed => "secret_disclosed",
            AuditKind::Other(code) => code,
        }
    }

    /// The kind a stored code names: one of [`AuditKind::KNOWN`], or [`AuditKind::Other`] with
    /// the code as stored.
    pub fn from_stored(code: &str) -> AuditKind {
        AuditKind::KNOWN
            .into_iter()
            .find(|kind| kind.as_str() == code)
            .unwrap_or_else(|| AuditKind::Other(code.to_owned()))
    }
}

impl std::fmt::Display for AuditKind {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(self.as_str())
    }
}

impl std::str::FromStr for AuditKind {
    type Err = std::convert::Infallible;

    fn from_str(code: &str) -> Result<Self, Self::Err> {
        Ok(AuditKind::from_stored(code))
    }
}

impl PartialEq<str> for AuditKind {
    fn eq(&self, code: &str) -> bool {
        self.as_str() == code
    }
}

impl PartialEq<&str> for AuditKind {
    fn eq(&self, code: &&str) -> bool {
        self.as_str() == *code
    }
}

impl Serialize for AuditKind {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for AuditKind {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let code = String::deserialize(deserializer)?;
        Ok(AuditKind::from_stored(&code))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_reads_back_from_its_spelling() {
        for kind in AuditKind::KNOWN {
            assert_eq!(AuditKind::from_stored(kind.as_str()), kind);
            assert_eq!(kind.to_string(), kind.as_str());
        }
    }

    #[test]
    fn the_stored_spellings_are_the_ones_logs_already_hold() {
        let spellings: Vec<&str> = AuditKind::KNOWN.iter().map(AuditKind::as_str).collect();
        assert_eq!(
            spellings,
            [
                "write",
                "login",
                "login_failed",
                "export",
                "sync_refused",
                "certificate_refused",
                "destruction",
                "backup",
                "restore",
                "peer_refused",
                "sync_diverged",
                "licence_action",
                "audit_chain_broken",
                "account",
                "secret_disclosed",
            ]
        );
    }

    #[test]
    fn an_unknown_stored_kind_keeps_its_spelling() {
        let kind = AuditKind::from_stored("key_rotated");
        assert_eq!(kind, AuditKind::Other("key_rotated".to_owned()));
        assert_eq!(kind.as_str(), "key_rotated");
    }

    #[test]
    fn a_kind_travels_in_json_as_its_spelling() {
        for kind in AuditKind::KNOWN {
            let json = serde_json::to_value(&kind).expect("a kind serialises");
            assert_eq!(json, serde_json::Value::String(kind.as_str().to_owned()));
            let back: AuditKind = serde_json::from_value(json).expect("a kind deserialises");
            assert_eq!(back, kind);
        }
        let unknown: AuditKind =
            serde_json::from_value(serde_json::json!("key_rotated")).expect("any string reads");
        assert_eq!(unknown, AuditKind::Other("key_rotated".to_owned()));
    }
}
