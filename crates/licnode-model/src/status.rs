//! A licence's states and the events that move it between them (Art. 13, 19, 28), the states
//! of a statutory report (Art. 18–20) and a superior's decision on a destruction request
//! (Art. 38).

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

use crate::schema::EnumValue;

/// The state of a production licence (the `status` field of `licences`).
///
/// The regulation knows no suspension of a licence, so there is no such state; `expired` is set
/// when the validity (有效期, Art. 11) has passed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LicenceStatus {
    /// 有效.
    Valid,
    /// 撤回 (Art. 19).
    Withdrawn,
    /// 撤销 (Art. 19).
    Revoked,
    /// 吊销: revoked as a penalty (Art. 19).
    RevokedAsPenalty,
    /// 注销 (Art. 13, 28).
    Cancelled,
    /// 过期: the validity has passed.
    Expired,
}

impl LicenceStatus {
    /// Every status.
    pub const ALL: [LicenceStatus; 6] = [
        Self::Valid,
        Self::Withdrawn,
        Self::Revoked,
        Self::RevokedAsPenalty,
        Self::Cancelled,
        Self::Expired,
    ];

    /// The serialised value, as stored in `licences.status`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Valid => "valid",
            Self::Withdrawn => "withdrawn",
            Self::Revoked => "revoked",
            Self::RevokedAsPenalty => "revoked_as_penalty",
            Self::Cancelled => "cancelled",
            Self::Expired => "expired",
        }
    }

    /// The Chinese label.
    pub fn label_zh(self) -> &'static str {
        match self {
            Self::Valid => "有效",
            Self::Withdrawn => "撤回",
            Self::Revoked => "撤销",
            Self::RevokedAsPenalty => "吊销",
            Self::Cancelled => "注销",
            Self::Expired => "过期",
        }
    }

    /// Whether no later edit may bring the licence back: withdrawn, revoked, revoked as a
    /// penalty or cancelled (Art. 19, 28; ARCHITECTURE.md, principle 2). An expired licence is not
    /// terminal: a corrected validity date may make it valid again.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            Self::Withdrawn | Self::Revoked | Self::RevokedAsPenalty | Self::Cancelled
        )
    }
}

/// The allowed values of `licences.status`, in the order of [`LicenceStatus::ALL`].
pub const LICENCE_STATUS_VALUES: &[EnumValue] = &[
    EnumValue {
        value: "valid",
        label_zh: "有效",
    },
    EnumValue {
        value: "withdrawn",
        label_zh: "撤回",
    },
    EnumValue {
        value: "revoked",
        label_zh: "撤销",
    },
    EnumValue {
        value: "revoked_as_penalty",
        label_zh: "吊销",
    },
    EnumValue {
        value: "cancelled",
        label_zh: "注销",
    },
    EnumValue {
        value: "expired",
        label_zh: "过期",
    },
];

impl fmt::Display for LicenceStatus {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// The text was not a known licence status.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown licence status {0:?}")]
pub struct UnknownLicenceStatus(pub String);

impl FromStr for LicenceStatus {
    type Err = UnknownLicenceStatus;

    /// Accepts the serialised value or the Chinese label.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let trimmed = text.trim();
        Self::ALL
            .into_iter()
            .find(|status| status.as_str() == trimmed || status.label_zh() == trimmed)
            .ok_or_else(|| UnknownLicenceStatus(text.to_owned()))
    }
}

/// What happened to a licence (the `event_kind` field of `licence_events`; Attachment 1 tables
/// 3 and 4).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// 变更: a change of name, address, … (Art. 19).
    Change,
    /// 撤回 (Art. 19).
    Withdrawal,
    /// 撤销 (Art. 19).
    Revocation,
    /// 吊销: revocation as a penalty (Art. 19).
    PenaltyRevocation,
    /// 注销 (Art. 13, 28).
    Cancellation,
}

impl EventKind {
    /// Every event kind.
    pub const ALL: [EventKind; 5] = [
        Self::Change,
        Self::Withdrawal,
        Self::Revocation,
        Self::PenaltyRevocation,
        Self::Cancellation,
    ];

    /// The serialised value, as stored in `licence_events.event_kind`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Change => "change",
            Self::Withdrawal => "withdrawal",
            Self::Revocation => "revocation",
            Self::PenaltyRevocation => "penalty_revocation",
            Self::Cancellation => "cancellation",
        }
    }

    /// The Chinese label.
    pub fn label_zh(self) -> &'static str {
        match self {
            Self::Change => "变更",
            Self::Withdrawal => "撤回",
            Self::Revocation => "撤销",
            Self::PenaltyRevocation => "吊销",
            Self::Cancellation => "注销",
        }
    }

    /// The status a licence ends in after this event; `None` for a change, which leaves the
    /// status as it was.
    pub fn terminal_status(self) -> Option<LicenceStatus> {
        match self {
            Self::Change => None,
            Self::Withdrawal => Some(LicenceStatus::Withdrawn),
            Self::Revocation => Some(LicenceStatus::Revoked),
            Self::PenaltyRevocation => Some(LicenceStatus::RevokedAsPenalty),
            Self::Cancellation => Some(LicenceStatus::Cancelled),
        }
    }
}

/// The allowed values of `licence_events.event_kind`, in the order of [`EventKind::ALL`].
pub const EVENT_KIND_VALUES: &[EnumValue] = &[
    EnumValue {
        value: "change",
        label_zh: "变更",
    },
    EnumValue {
        value: "withdrawal",
        label_zh: "撤回",
    },
    EnumValue {
        value: "revocation",
        label_zh: "撤销",
    },
    EnumValue {
        value: "penalty_revocation",
        label_zh: "吊销",
    },
    EnumValue {
        value: "cancellation",
        label_zh: "注销",
    },
];

impl fmt::Display for EventKind {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// The text was not a known event kind.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown licence event kind {0:?}")]
pub struct UnknownEventKind(pub String);

impl FromStr for EventKind {
    type Err = UnknownEventKind;

    /// Accepts the serialised value or the Chinese label.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let trimmed = text.trim();
        Self::ALL
            .into_iter()
            .find(|kind| kind.as_str() == trimmed || kind.label_zh() == trimmed)
            .ok_or_else(|| UnknownEventKind(text.to_owned()))
    }
}

/// The state of a statutory report (the `status` field of `reports`, Art. 18–20).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportStatus {
    /// 草稿: still being built and corrected.
    Draft,
    /// 已报送: sent up (Art. 19 "报送"); frozen from then on, a correction is the next revision.
    Submitted,
}

impl ReportStatus {
    /// Every report status.
    pub const ALL: [ReportStatus; 2] = [Self::Draft, Self::Submitted];

    /// The serialised value, as stored in `reports.status`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Submitted => "submitted",
        }
    }

    /// The Chinese label.
    pub fn label_zh(self) -> &'static str {
        match self {
            Self::Draft => "草稿",
            Self::Submitted => "已报送",
        }
    }
}

impl fmt::Display for ReportStatus {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// The text was not a known report status.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown report status {0:?}")]
pub struct UnknownReportStatus(pub String);

impl FromStr for ReportStatus {
    type Err = UnknownReportStatus;

    /// Accepts the serialised value or the Chinese label.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let trimmed = text.trim();
        Self::ALL
            .into_iter()
            .find(|status| status.as_str() == trimmed || status.label_zh() == trimmed)
            .ok_or_else(|| UnknownReportStatus(text.to_owned()))
    }
}

/// A superior's decision on a destruction request (the `decision` field of
/// `destruction_requests`, Art. 38). Also the decision a superior signs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DestructionDecision {
    /// 待审批: requested, not decided yet.
    Pending,
    /// 批准: the records may be destroyed while the signed approval is valid.
    Approved,
    /// 不予批准: the records stay.
    Refused,
}

impl DestructionDecision {
    /// Every decision.
    pub const ALL: [DestructionDecision; 3] = [Self::Pending, Self::Approved, Self::Refused];

    /// The serialised value, as stored in the request's `decision` field and signed.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Approved => "approved",
            Self::Refused => "refused",
        }
    }

    /// The Chinese label.
    pub fn label_zh(self) -> &'static str {
        match self {
            Self::Pending => "待审批",
            Self::Approved => "批准",
            Self::Refused => "不予批准",
        }
    }
}

impl fmt::Display for DestructionDecision {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// The text was not a known destruction decision.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown destruction decision {0:?}")]
pub struct UnknownDestructionDecision(pub String);

impl FromStr for DestructionDecision {
    type Err = UnknownDestructionDecision;

    /// Accepts the serialised value or the Chinese label.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let trimmed = text.trim();
        Self::ALL
            .into_iter()
            .find(|decision| decision.as_str() == trimmed || decision.label_zh() == trimmed)
            .ok_or_else(|| UnknownDestructionDecision(text.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn licence_status_enum_values_match_the_rust_enum() {
        assert_eq!(LICENCE_STATUS_VALUES.len(), LicenceStatus::ALL.len());
        for (status, enum_value) in LicenceStatus::ALL.iter().zip(LICENCE_STATUS_VALUES) {
            assert_eq!(status.as_str(), enum_value.value);
            assert_eq!(status.label_zh(), enum_value.label_zh);
            let serialised = serde_json::to_value(status).ok();
            assert_eq!(serialised, Some(serde_json::Value::from(enum_value.value)));
        }
    }

    #[test]
    fn event_kind_enum_values_match_the_rust_enum() {
        assert_eq!(EVENT_KIND_VALUES.len(), EventKind::ALL.len());
        for (kind, enum_value) in EventKind::ALL.iter().zip(EVENT_KIND_VALUES) {
            assert_eq!(kind.as_str(), enum_value.value);
            assert_eq!(kind.label_zh(), enum_value.label_zh);
            let serialised = serde_json::to_value(kind).ok();
            assert_eq!(serialised, Some(serde_json::Value::from(enum_value.value)));
        }
    }

    #[test]
    fn withdrawn_revoked_and_cancelled_licences_are_terminal_but_expired_ones_are_not() {
        assert!(!LicenceStatus::Valid.is_terminal());
        assert!(LicenceStatus::Withdrawn.is_terminal());
        assert!(LicenceStatus::Revoked.is_terminal());
        assert!(LicenceStatus::RevokedAsPenalty.is_terminal());
        assert!(LicenceStatus::Cancelled.is_terminal());
        assert!(!LicenceStatus::Expired.is_terminal());
    }

    #[test]
    fn every_event_but_a_change_ends_the_licence_in_a_terminal_status() {
        assert_eq!(EventKind::Change.terminal_status(), None);
        for kind in EventKind::ALL
            .into_iter()
            .filter(|kind| *kind != EventKind::Change)
        {
            let status = kind.terminal_status();
            assert!(status.is_some_and(LicenceStatus::is_terminal), "{kind}");
            assert_eq!(status.map(LicenceStatus::label_zh), Some(kind.label_zh()));
        }
    }

    #[test]
    fn report_status_enum_values_match_the_rust_enum() {
        let values = crate::collections::REPORT_STATUS_VALUES;
        assert_eq!(values.len(), ReportStatus::ALL.len());
        for (status, enum_value) in ReportStatus::ALL.iter().zip(values) {
            assert_eq!(status.as_str(), enum_value.value);
            assert_eq!(status.label_zh(), enum_value.label_zh);
            assert_eq!(enum_value.value.parse::<ReportStatus>(), Ok(*status));
        }
    }

    #[test]
    fn destruction_decision_enum_values_match_the_rust_enum() {
        let values = crate::collections::DESTRUCTION_DECISION_VALUES;
        assert_eq!(values.len(), DestructionDecision::ALL.len());
        for (decision, enum_value) in DestructionDecision::ALL.iter().zip(values) {
            assert_eq!(decision.as_str(), enum_value.value);
            assert_eq!(decision.label_zh(), enum_value.label_zh);
            assert_eq!(
                enum_value.value.parse::<DestructionDecision>(),
                Ok(*decision)
            );
            assert_eq!(decision.to_string(), decision.as_str());
            let serialised = serde_json::to_value(decision).ok();
            assert_eq!(serialised, Some(serde_json::Value::from(enum_value.value)));
        }
    }

    #[test]
    fn destruction_decisions_are_spelt_as_stored_and_signed_before() {
        let spellings: Vec<&str> = DestructionDecision::ALL
            .iter()
            .map(|decision| decision.as_str())
            .collect();
        assert_eq!(spellings, ["pending", "approved", "refused"]);
        assert!("approve".parse::<DestructionDecision>().is_err());
    }

    #[test]
    fn statuses_and_event_kinds_parse_from_value_or_chinese_label() {
        assert_eq!(
            "吊销".parse::<LicenceStatus>(),
            Ok(LicenceStatus::RevokedAsPenalty)
        );
        assert_eq!(
            "revoked_as_penalty".parse::<LicenceStatus>(),
            Ok(LicenceStatus::RevokedAsPenalty)
        );
        assert_eq!("注销".parse::<EventKind>(), Ok(EventKind::Cancellation));
        assert_eq!(" change ".parse::<EventKind>(), Ok(EventKind::Change));
        assert!("suspended".parse::<LicenceStatus>().is_err());
    }
}
