//! Who writes a record — a staff user with a role, or one of the node's own system writers —
//! and which writes are an approver's (Art. 13, 18–20, 28). The write path decides on the
//! validated, typed values, so no spelling of a value can differ between the check and what
//! is stored (issue 11, item 1).

use std::fmt;

use licnode_model::{EventKind, LicenceStatus, ReportStatus};
use serde_json::{Map, Value};

use licnode_store::Role;

/// The author of a write: the user name recorded with the change, and the role the write is
/// judged by.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Author {
    user: String,
    role: Role,
}

impl Author {
    /// A staff user signed in with `role`.
    pub fn staff(user: impl Into<String>, role: Role) -> Author {
        Author {
            user: user.into(),
            role,
        }
    }

    /// A staff user with the clerk's role.
    pub fn clerk(user: impl Into<String>) -> Author {
        Author::staff(user, Role::Clerk)
    }

    /// A staff user with the approver's role.
    pub fn approver(user: impl Into<String>) -> Author {
        Author::staff(user, Role::Approver)
    }

    /// The node's report scheduler: it builds the reports and, where the node's configuration
    /// says reports go up by themselves (`auto_submit`), submits them, which is an approver's
    /// act (Art. 19 "报送").
    pub fn report_scheduler() -> Author {
        Author::staff("scheduler", Role::Approver)
    }

    /// The node's operator at its console (`licnode import`, the demo data, benchmarks, the
    /// command-line report and retention commands): whoever holds the node's database holds
    /// every role, so the operator writes as an administrator.
    pub fn operator(user: impl Into<String>) -> Author {
        Author::staff(user, Role::Administrator)
    }

    /// The user name recorded with the change.
    pub fn user(&self) -> &str {
        &self.user
    }

    /// The role the write is judged by.
    pub fn role(&self) -> Role {
        self.role
    }
}

/// Why a write needs an approver.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Approval {
    /// A licence withdrawn, revoked, revoked as a penalty or cancelled (Art. 13, 19, 28).
    TerminalLicenceStatus(LicenceStatus),
    /// A licence event other than a 变更 records such a decision (Art. 19, 28); editing one
    /// edits the decision.
    LicenceEvent(EventKind),
    /// Submitting a report freezes it (Art. 18–20 "报送").
    ReportSubmission,
    /// A value of a field the approval rule reads that is none of its kind's values: refused
    /// to everyone but approvers rather than let through.
    UnrecognisedValue { field: &'static str },
    /// Deciding a destruction request of a node below (Art. 38 "经上级批准").
    DestructionDecision,
    /// Destroying records on a signed approval (Art. 38).
    Destruction,
}

impl fmt::Display for Approval {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Approval::TerminalLicenceStatus(status) => write!(
                formatter,
                "putting a licence into the terminal status {status} ({})",
                status.label_zh()
            ),
            Approval::LicenceEvent(kind) => write!(
                formatter,
                "recording a licence event of kind {kind} ({})",
                kind.label_zh()
            ),
            Approval::ReportSubmission => formatter.write_str("submitting a report (报送)"),
            Approval::UnrecognisedValue { field } => {
                write!(formatter, "writing an unrecognised value of {field}")
            }
            Approval::DestructionDecision => {
                formatter.write_str("deciding a destruction request (销毁审批)")
            }
            Approval::Destruction => formatter.write_str("destroying records (销毁)"),
        }
    }
}

/// A typed reading of `values[field]`: `None` when absent or cleared, `Some(Err)` when the value
/// is none of the kind's values.
fn typed<T: std::str::FromStr>(
    values: &Map<String, Value>,
    field: &'static str,
) -> Option<Result<T, Approval>> {
    match values.get(field)? {
        Value::Null => None,
        Value::String(text) => Some(
            text.parse::<T>()
                .map_err(|_| Approval::UnrecognisedValue { field }),
        ),
        _ => Some(Err(Approval::UnrecognisedValue { field })),
    }
}

/// Whether a write of `collection` needs an approver, decided on the validated values it
/// stores (`written`: a new record's values or a patch's) and, for an edit, the record's
/// current values.
///
/// - `licences`: a status written that is terminal (撤回 / 撤销 / 吊销 / 注销);
/// - `licence_events`: the event kind the record will have after the write (the one written,
///   or the stored one) is anything but a 变更;
/// - `reports`: a status written that is `submitted` (已报送).
///
/// Entering an approved licence, or a 变更 event, is a clerk's work (Art. 27).
pub fn approval_needed(
    collection: &str,
    written: &Map<String, Value>,
    current: Option<&Map<String, Value>>,
) -> Option<Approval> {
    match collection {
        "licences" => match typed::<LicenceStatus>(written, "status")? {
            Ok(status) if status.is_terminal() => Some(Approval::TerminalLicenceStatus(status)),
            Ok(_) => None,
            Err(approval) => Some(approval),
        },
        "licence_events" => {
            let kind = typed::<EventKind>(written, "event_kind")
                .or_else(|| current.and_then(|current| typed(current, "event_kind")))?;
            match kind {
                Ok(EventKind::Change) => None,
                Ok(kind) => Some(Approval::LicenceEvent(kind)),
                Err(approval) => Some(approval),
            }
        }
        "reports" => match typed::<ReportStatus>(written, "status")? {
            Ok(ReportStatus::Submitted) => Some(Approval::ReportSubmission),
            Ok(ReportStatus::Draft) => None,
            Err(approval) => Some(approval),
        },
        _ => None,
    }
}

/// Whether a stored report is submitted, and so frozen (Art. 18–20: a correction is the next
/// revision).
pub fn is_submitted_report(collection: &str, current: &Map<String, Value>) -> bool {
    collection == "reports"
        && matches!(
            typed::<ReportStatus>(current, "status"),
            Some(Ok(ReportStatus::Submitted))
        )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn object(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            _ => Map::new(),
        }
    }

    #[test]
    fn terminal_licence_statuses_need_an_approver_and_others_do_not() {
        for status in LicenceStatus::ALL {
            let written = object(json!({ "status": status.as_str() }));
            assert_eq!(
                approval_needed("licences", &written, None).is_some(),
                status.is_terminal(),
                "{status}"
            );
        }
        assert_eq!(
            approval_needed("licences", &object(json!({ "status": null })), None),
            None
        );
    }

    #[test]
    fn an_edit_of_a_licence_event_is_judged_by_the_kind_it_will_have() {
        let revocation = object(json!({ "event_kind": "revocation" }));
        let change = object(json!({ "event_kind": "change" }));
        let remarks = object(json!({ "remarks": "更正" }));
        assert_eq!(
            approval_needed("licence_events", &remarks, Some(&revocation)),
            Some(Approval::LicenceEvent(EventKind::Revocation))
        );
        assert_eq!(
            approval_needed("licence_events", &remarks, Some(&change)),
            None
        );
        assert_eq!(
            approval_needed("licence_events", &revocation, Some(&change)),
            Some(Approval::LicenceEvent(EventKind::Revocation))
        );
    }

    #[test]
    fn a_value_the_rule_cannot_read_needs_an_approver() {
        let written = object(json!({ "status": "REVOKED" }));
        assert_eq!(
            approval_needed("licences", &written, None),
            Some(Approval::UnrecognisedValue { field: "status" })
        );
    }
}
