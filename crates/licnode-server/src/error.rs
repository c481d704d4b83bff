//! The API's one error type: each refusal a variant with its context, one mapping to a status
//! and one to the stable machine code (issue 17, item 3). The codes are the wire contract:
//! `{"error":{"code","message","details"}}`, byte for byte the same as before the enum.
//! Internal errors are logged (with the request id of the span) and never leak details.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use licnode_app::ArchiveError;
use licnode_app::LicenceActionError;
use licnode_app::reports::ReportError;
use licnode_app::retention::RetentionError;
use licnode_reports::PeriodError;
use licnode_store::anchors::AnchorError;
use licnode_store::{AccountError, Role};
use serde_json::{Value, json};

/// The message of every internal error: the cause is in the node's log, never in the answer.
const INTERNAL_MESSAGE: &str = "the node could not complete the request; the error is in its log";

/// An error answered to an API client: one variant per refusal.
#[derive(Debug)]
pub enum ApiError {
    /// The node failed; the cause was logged when the error was made.
    Internal,
    /// The node's storage is full: the write was refused and nothing was stored (issue 16).
    StorageFull,
    /// No such thing (record, user, endpoint…): the text says what was looked for.
    NotFound {
        what: String,
    },
    MethodNotAllowed,
    /// A body that is not JSON.
    MalformedJson {
        reason: String,
    },
    /// JSON of the wrong shape for the endpoint.
    WrongType {
        reason: String,
    },
    UnsupportedMediaType {
        reason: String,
    },
    PayloadTooLarge {
        reason: String,
    },
    /// Any other unreadable body, with the status the extractor chose.
    BadBody {
        status: StatusCode,
        reason: String,
    },
    /// The same key twice in one object (the node never guesses which one counts).
    DuplicateKey {
        key: String,
        path: String,
    },
    ExpectedObject,
    BadQuery {
        reason: String,
    },
    BadCursor,
    BadLimit {
        reason: String,
    },
    UnknownFilter {
        reason: String,
    },
    QueryTooShort,
    MissingQuery,
    BadState,
    UnknownRule {
        rule: String,
        known: String,
    },
    BadProvince {
        value: String,
    },
    UnknownForm {
        form: String,
    },
    UnknownCollection {
        name: String,
    },
    BadFormat {
        format: String,
    },
    /// Attachment 1's 填报日期 is the report's (`report`) or left blank (`blank`).
    BadFillDate {
        value: String,
    },
    /// Attachment 1 is made from a monthly report only.
    WrongReportKind,
    /// Destruction goes through the retention API (Art. 38).
    UseRetentionApi,
    InvalidBody {
        reason: String,
    },
    InvalidValidDays {
        max_days: u32,
    },
    Unauthenticated {
        reason: String,
    },
    ForbiddenRole {
        reason: String,
    },
    /// The change needs an approver (Art. 13, 18–20, 28).
    ApprovalRequired {
        role: Role,
    },
    BadRole {
        reason: String,
    },
    TooManyAttempts {
        retry_after_seconds: u64,
    },
    NoPeerIdentity,
    /// A parent talks only to its direct children.
    NotAChild {
        reason: String,
        peer: Option<(String, String)>,
    },
    BadBatch {
        reason: String,
    },
    /// More records match than one export carries (issue 12 item 3).
    ExportTooLarge {
        limit: usize,
    },
    /// A child reported a link outside its own subtree (issue 12 item 7).
    LinkReportOutsideSubtree {
        reason: String,
    },
    CursorGap {
        after: i64,
        acknowledged: i64,
    },
    PullCursorDiverged {
        after: i64,
        last_seq: i64,
    },
    NoParentLink,
    NoNodeKey {
        cannot: &'static str,
    },
    AnchorSignerMismatch {
        child: String,
        named: String,
    },
    AuditChainNotExtended {
        message: String,
        details: Value,
    },
    /// Refused by the records service, under its own stable codes.
    Archive(ArchiveError),
    Report(ReportError),
    Period(PeriodError),
    Retention(RetentionError),
    /// Refused by the licence work flow (Art. 13, 19, 28).
    LicenceAction(LicenceActionError),
    Anchor(AnchorError),
    Account(AccountError),
}

impl ApiError {
    /// Logs `error` and answers an internal error that names nothing of it.
    pub fn internal(error: &dyn std::error::Error) -> Self {
        tracing::error!(error = %error, "internal error");
        ApiError::Internal
    }

    pub fn not_found(what: impl Into<String>) -> Self {
        ApiError::NotFound { what: what.into() }
    }

    /// The HTTP status of this refusal.
    pub fn status(&self) -> StatusCode {
        use ApiError::*;
        match self {
            Internal => StatusCode::INTERNAL_SERVER_ERROR,
            StorageFull => StatusCode::INSUFFICIENT_STORAGE,
            NotFound { .. } | UnknownForm { .. } | UnknownCollection { .. } => {
                StatusCode::NOT_FOUND
            }
            MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            UnsupportedMediaType { .. } => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            BadBody { status, .. } => *status,
            MalformedJson { .. }
            | DuplicateKey { .. }
            | ExpectedObject
            | BadQuery { .. }
            | BadCursor
            | BadLimit { .. }
            | UnknownFilter { .. }
            | QueryTooShort
            | MissingQuery
            | BadState
            | UnknownRule { .. }
            | BadProvince { .. }
            | BadFormat { .. }
            | BadFillDate { .. }
            | InvalidBody { .. }
            | InvalidValidDays { .. }
            | BadBatch { .. }
            | Period(_) => StatusCode::BAD_REQUEST,
            WrongType { .. }
            | BadRole { .. }
            | AnchorSignerMismatch { .. }
            | Anchor(_)
            | ExportTooLarge { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Unauthenticated { .. } => StatusCode::UNAUTHORIZED,
            ForbiddenRole { .. }
            | ApprovalRequired { .. }
            | NoPeerIdentity
            | NotAChild { .. }
            | LinkReportOutsideSubtree { .. } => StatusCode::FORBIDDEN,
            TooManyAttempts { .. } => StatusCode::TOO_MANY_REQUESTS,
            WrongReportKind
            | UseRetentionApi
            | CursorGap { .. }
            | PullCursorDiverged { .. }
            | NoParentLink
            | AuditChainNotExtended { .. } => StatusCode::CONFLICT,
            NoNodeKey { .. } => StatusCode::SERVICE_UNAVAILABLE,
            Archive(error) => archive_status(error),
            Report(error) => match error {
                ReportError::Period(_) => StatusCode::BAD_REQUEST,
                ReportError::Archive(inner) => archive_status(inner),
                ReportError::Store(_) => StatusCode::INTERNAL_SERVER_ERROR,
                ReportError::NotFound(_) => StatusCode::NOT_FOUND,
                ReportError::AlreadySubmitted(_)
                | ReportError::PeriodNotEnded(_)
                | ReportError::NarrativeMissing { .. } => StatusCode::CONFLICT,
                ReportError::NotOwnReport(_) => StatusCode::FORBIDDEN,
            },
            Retention(error) => match error {
                RetentionError::RequestNotFound(_) => StatusCode::NOT_FOUND,
                RetentionError::NotASuperior { .. }
                | RetentionError::NotFromASuperior { .. }
                | RetentionError::NotADesignatedApprover { .. }
                | RetentionError::ApproverIsRequester { .. } => StatusCode::FORBIDDEN,
                RetentionError::AlreadyDecided(_) | RetentionError::AlreadyDestroyed(_) => {
                    StatusCode::CONFLICT
                }
                RetentionError::Archive(inner) => archive_status(inner),
                RetentionError::Store(_) | RetentionError::Signing(_) => {
                    StatusCode::INTERNAL_SERVER_ERROR
                }
                _ => StatusCode::UNPROCESSABLE_ENTITY,
            },
            LicenceAction(error) => licence_action_status(error),
            Account(error) => match error {
                AccountError::Exists(_) | AccountError::OwnAccountLockout(_) => {
                    StatusCode::CONFLICT
                }
                AccountError::NoSuchUser(_) | AccountError::NoSuchToken(_) => StatusCode::NOT_FOUND,
                AccountError::BadName | AccountError::WeakPassword => {
                    StatusCode::UNPROCESSABLE_ENTITY
                }
                AccountError::Hash(_) | AccountError::Store(_) => StatusCode::INTERNAL_SERVER_ERROR,
            },
        }
    }

    /// The stable machine code of this refusal: the wire contract.
    pub fn code(&self) -> ErrorCode {
        use ApiError::*;
        match self {
            Internal => ErrorCode::Internal,
            StorageFull => ErrorCode::StorageFull,
            NotFound { .. } => ErrorCode::NotFound,
            MethodNotAllowed => ErrorCode::MethodNotAllowed,
            MalformedJson { .. } => ErrorCode::MalformedJson,
            WrongType { .. } => ErrorCode::WrongType,
            UnsupportedMediaType { .. } => ErrorCode::UnsupportedMediaType,
            PayloadTooLarge { .. } => ErrorCode::PayloadTooLarge,
            BadBody { .. } => ErrorCode::BadBody,
            DuplicateKey { .. } => ErrorCode::DuplicateKey,
            ExpectedObject => ErrorCode::ExpectedObject,
            BadQuery { .. } => ErrorCode::BadQuery,
            BadCursor => ErrorCode::BadCursor,
            BadLimit { .. } => ErrorCode::BadLimit,
            UnknownFilter { .. } => ErrorCode::UnknownFilter,
            QueryTooShort => ErrorCode::QueryTooShort,
            MissingQuery => ErrorCode::MissingQuery,
            BadState => ErrorCode::BadState,
            UnknownRule { .. } => ErrorCode::UnknownRule,
            BadProvince { .. } => ErrorCode::BadProvince,
            UnknownForm { .. } => ErrorCode::UnknownForm,
            UnknownCollection { .. } => ErrorCode::UnknownCollection,
            BadFormat { .. } => ErrorCode::BadFormat,
            BadFillDate { .. } => ErrorCode::BadFillDate,
            WrongReportKind => ErrorCode::WrongReportKind,
            UseRetentionApi => ErrorCode::UseRetentionApi,
            InvalidBody { .. } => ErrorCode::InvalidBody,
            InvalidValidDays { .. } => ErrorCode::InvalidValidDays,
            Unauthenticated { .. } => ErrorCode::Unauthenticated,
            ForbiddenRole { .. } => ErrorCode::ForbiddenRole,
            ApprovalRequired { .. } => ErrorCode::ApprovalRequired,
            BadRole { .. } => ErrorCode::BadRole,
            TooManyAttempts { .. } => ErrorCode::TooManyAttempts,
            NoPeerIdentity => ErrorCode::NoPeerIdentity,
            NotAChild { .. } => ErrorCode::NotAChild,
            BadBatch { .. } => ErrorCode::BadBatch,
            LinkReportOutsideSubtree { .. } => ErrorCode::LinkReportOutsideSubtree,
            ExportTooLarge { .. } => ErrorCode::ExportTooLarge,
            CursorGap { .. } => ErrorCode::CursorGap,
            PullCursorDiverged { .. } => ErrorCode::PullCursorDiverged,
            NoParentLink => ErrorCode::NoParentLink,
            NoNodeKey { .. } => ErrorCode::NoNodeKey,
            AnchorSignerMismatch { .. } => ErrorCode::AnchorSignerMismatch,
            AuditChainNotExtended { .. } => ErrorCode::AuditChainNotExtended,
            Archive(error) => service_code(error.code()),
            Report(error) => service_code(error.code()),
            Period(error) => service_code(error.code()),
            Retention(error) => service_code(error.code()),
            LicenceAction(error) => service_code(error.code()),
            Anchor(error) => service_code(error.code()),
            Account(error) => match error {
                AccountError::Exists(_) => ErrorCode::UserExists,
                AccountError::NoSuchUser(_) | AccountError::NoSuchToken(_) => ErrorCode::NotFound,
                AccountError::BadName => ErrorCode::BadUserName,
                AccountError::WeakPassword => ErrorCode::WeakPassword,
                AccountError::OwnAccountLockout(_) => ErrorCode::OwnAccountLockout,
                AccountError::Hash(_) | AccountError::Store(_) => ErrorCode::Internal,
            },
        }
    }

    /// The message for people, built from the variant's context.
    pub fn message(&self) -> String {
        use ApiError::*;
        match self {
            Internal => INTERNAL_MESSAGE.to_string(),
            StorageFull => "the node's storage is full: nothing was stored; the write can be \
                            sent again once space is freed"
                .to_string(),
            NotFound { what } => what.clone(),
            MethodNotAllowed => "this endpoint does not take that method".to_string(),
            MalformedJson { reason }
            | WrongType { reason }
            | UnsupportedMediaType { reason }
            | BadBody { reason, .. }
            | PayloadTooLarge { reason }
            | BadQuery { reason }
            | BadLimit { reason }
            | UnknownFilter { reason }
            | InvalidBody { reason }
            | Unauthenticated { reason }
            | ForbiddenRole { reason }
            | BadRole { reason }
            | NotAChild { reason, .. }
            | BadBatch { reason }
            | LinkReportOutsideSubtree { reason } => reason.clone(),
            DuplicateKey { key, path } => {
                format!("the key {key:?} appears more than once in the object at {path}")
            }
            ExpectedObject => "the body must be a JSON object of field names to values".to_string(),
            BadCursor => "`after` must be a cursor from `next`".to_string(),
            QueryTooShort => "a name fragment needs at least two characters".to_string(),
            MissingQuery => "give q, name, licence_number or credit_code".to_string(),
            BadState => "state must be due or late".to_string(),
            UnknownRule { rule, known } => format!("unknown rule {rule:?}; the rules are {known}"),
            BadProvince { value } => format!("{value:?} is not a division code"),
            UnknownForm { form } => {
                format!("unknown form {form:?}: attachment1, attachment2 or attachment3")
            }
            UnknownCollection { name } => {
                format!("unknown collection {name:?}; see /api/v1/collections")
            }
            BadFormat { format } => format!("format {format:?}: xlsx or csv"),
            BadFillDate { value } => format!(
                "fill_date {value:?}: report (the report's 填报日期) or blank (written by hand)"
            ),
            ExportTooLarge { limit } => format!(
                "more than {limit} records match: narrow the filter (jurisdiction, status) and \
                 export in parts"
            ),
            WrongReportKind => "Attachment 1 is made from a monthly report".to_string(),
            UseRetentionApi => "destruction requests and decisions are made through \
                                /api/v1/retention/requests"
                .to_string(),
            InvalidValidDays { max_days } => format!("valid_days must be 1 to {max_days}"),
            ApprovalRequired { role } => format!(
                "this change needs an approver; a {} may not make it",
                role.as_str()
            ),
            TooManyAttempts {
                retry_after_seconds,
            } => format!("too many failed logins; try again in {retry_after_seconds} s"),
            NoPeerIdentity => {
                "node-to-node endpoints answer only peers with a verified certificate".to_string()
            }
            CursorGap {
                after,
                acknowledged,
            } => format!("the batch follows {after} but this node has stored up to {acknowledged}"),
            PullCursorDiverged { after, .. } => format!(
                "this node's log does not hold, at {after}, the change the pull cursor names; \
                 pull again from the start"
            ),
            NoParentLink => {
                "this node has no parent link (no parent_url, or no certificate yet)".to_string()
            }
            NoNodeKey { cannot } => format!("this node has no certificate: {cannot}"),
            AnchorSignerMismatch { child, named } => {
                format!("{child} hands up an anchor of {named}: a child hands up its own")
            }
            AuditChainNotExtended { message, .. } => message.clone(),
            Archive(ArchiveError::Invalid(errors)) => {
                format!("{} field(s) failed validation", errors.0.len())
            }
            Report(ReportError::Archive(ArchiveError::Invalid(errors)))
            | Retention(RetentionError::Archive(ArchiveError::Invalid(errors))) => {
                format!("{} field(s) failed validation", errors.0.len())
            }
            Archive(error) => error.to_string(),
            Report(error) => error.to_string(),
            Period(error) => error.to_string(),
            Retention(error) => error.to_string(),
            LicenceAction(error) => error.to_string(),
            Anchor(error) => error.to_string(),
            Account(error) => error.to_string(),
        }
    }

    /// The machine-readable context of the refusal, when it has some.
    pub fn details(&self) -> Option<Value> {
        use ApiError::*;
        match self {
            DuplicateKey { key, path } => Some(json!({ "key": key, "path": path })),
            NotAChild {
                peer: Some((peer, level)),
                ..
            } => Some(json!({ "peer": peer, "level": level })),
            CursorGap { acknowledged, .. } => Some(json!({ "acknowledged": acknowledged })),
            PullCursorDiverged { last_seq, .. } => Some(json!({ "last_seq": last_seq })),
            AuditChainNotExtended { details, .. } => Some(details.clone()),
            Archive(ArchiveError::Invalid(errors))
            | Report(ReportError::Archive(ArchiveError::Invalid(errors)))
            | Retention(RetentionError::Archive(ArchiveError::Invalid(errors))) => {
                Some(serde_json::to_value(&errors.0).unwrap_or(Value::Null))
            }
            Archive(ArchiveError::OutsideRegulation { field, value, kind }) => {
                Some(json!({ "field": field, "value": value, "excluded_products": kind }))
            }
            Archive(ArchiveError::UnknownReference {
                field,
                collection,
                id,
            }) => Some(json!({ "field": field, "collection": collection, "id": id })),
            Archive(ArchiveError::ReferenceMismatch {
                field,
                given,
                licence,
            }) => Some(json!({ "field": field, "given": given, "licence": licence })),
            _ => None,
        }
    }
}

impl ApiError {
    /// One refusal of each of the server's own variants, with placeholder context.
    fn one_of_each_own_variant() -> Vec<ApiError> {
        let text = String::new;
        vec![
            ApiError::Internal,
            ApiError::StorageFull,
            ApiError::NotFound { what: text() },
            ApiError::MethodNotAllowed,
            ApiError::MalformedJson { reason: text() },
            ApiError::WrongType { reason: text() },
            ApiError::UnsupportedMediaType { reason: text() },
            ApiError::PayloadTooLarge { reason: text() },
            ApiError::BadBody {
                status: StatusCode::BAD_REQUEST,
                reason: text(),
            },
            ApiError::DuplicateKey {
                key: text(),
                path: text(),
            },
            ApiError::ExpectedObject,
            ApiError::BadQuery { reason: text() },
            ApiError::BadCursor,
            ApiError::BadLimit { reason: text() },
            ApiError::UnknownFilter { reason: text() },
            ApiError::QueryTooShort,
            ApiError::MissingQuery,
            ApiError::BadState,
            ApiError::UnknownRule {
                rule: text(),
                known: text(),
            },
            ApiError::BadProvince { value: text() },
            ApiError::UnknownForm { form: text() },
            ApiError::UnknownCollection { name: text() },
            ApiError::BadFormat { format: text() },
            ApiError::BadFillDate { value: text() },
            ApiError::WrongReportKind,
            ApiError::UseRetentionApi,
            ApiError::InvalidBody { reason: text() },
            ApiError::InvalidValidDays { max_days: 1 },
            ApiError::Unauthenticated { reason: text() },
            ApiError::ForbiddenRole { reason: text() },
            ApiError::ApprovalRequired { role: Role::Clerk },
            ApiError::BadRole { reason: text() },
            ApiError::TooManyAttempts {
                retry_after_seconds: 1,
            },
            ApiError::NoPeerIdentity,
            ApiError::NotAChild {
                reason: text(),
                peer: None,
            },
            ApiError::BadBatch { reason: text() },
            ApiError::LinkReportOutsideSubtree { reason: text() },
            ApiError::ExportTooLarge { limit: 1 },
            ApiError::CursorGap {
                after: 0,
                acknowledged: 0,
            },
            ApiError::PullCursorDiverged {
                after: 0,
                last_seq: 0,
            },
            ApiError::NoParentLink,
            ApiError::NoNodeKey { cannot: "" },
            ApiError::AnchorSignerMismatch {
                child: text(),
                named: text(),
            },
            ApiError::AuditChainNotExtended {
                message: text(),
                details: Value::Null,
            },
        ]
    }

    /// One refusal of each variant of the services' error types the API passes on.
    fn one_of_each_service_refusal() -> Vec<ApiError> {
        let text = String::new;
        let mut refusals = vec![
            ApiError::Archive(ArchiveError::UnknownCollection(text())),
            ApiError::Archive(ArchiveError::NotFound(text())),
            ApiError::Archive(ArchiveError::Invalid(licnode_model::ValidationErrors(
                Vec::new(),
            ))),
            ApiError::Archive(ArchiveError::OutsideJurisdiction {
                jurisdiction: text(),
                node: text(),
            }),
            ApiError::Archive(ArchiveError::InvalidJurisdiction(text())),
            ApiError::Archive(ArchiveError::TerminalLicence(text())),
            ApiError::Archive(ArchiveError::ReadOnlyCopy {
                id: text(),
                collection: text(),
                creator: text(),
            }),
            ApiError::Archive(ArchiveError::ReportSubmitted(text())),
            ApiError::Archive(ArchiveError::OutsideRegulation {
                field: text(),
                value: text(),
                kind: "",
            }),
            ApiError::Archive(ArchiveError::SecretNotForRole {
                user: text(),
                role: Role::Clerk,
            }),
            ApiError::Archive(ArchiveError::UnknownReference {
                field: text(),
                collection: text(),
                id: text(),
            }),
            ApiError::Archive(ArchiveError::ReferenceMismatch {
                field: text(),
                given: text(),
                licence: text(),
            }),
            ApiError::Report(ReportError::NotFound(text())),
            ApiError::Report(ReportError::AlreadySubmitted(text())),
            ApiError::Report(ReportError::NotOwnReport(text())),
            ApiError::Report(ReportError::PeriodNotEnded(text())),
            ApiError::Report(ReportError::NarrativeMissing {
                id: text(),
                sections: Vec::new(),
            }),
            ApiError::Period(PeriodError::UnknownKind(text())),
            ApiError::Period(PeriodError::Malformed(text())),
            ApiError::Anchor(AnchorError::Malformed(text())),
            ApiError::Anchor(AnchorError::BadSignature {
                code: text(),
                message: text(),
            }),
            ApiError::Anchor(AnchorError::SignerMismatch {
                signer: text(),
                named: text(),
            }),
            ApiError::Anchor(AnchorError::Signing(text())),
            ApiError::Account(AccountError::Exists(text())),
            ApiError::Account(AccountError::NoSuchUser(text())),
            ApiError::Account(AccountError::BadName),
            ApiError::Account(AccountError::WeakPassword),
            ApiError::Account(AccountError::OwnAccountLockout(text())),
        ];
        refusals.extend(Self::one_of_each_retention_and_licence_action_refusal());
        refusals
    }

    /// One refusal of each variant of the retention and licence-action services' errors.
    fn one_of_each_retention_and_licence_action_refusal() -> Vec<ApiError> {
        let text = String::new;
        let mut refusals = Vec::new();
        refusals.extend(
            [
                RetentionError::RequestNotFound(text()),
                RetentionError::NotARequest(text()),
                RetentionError::NothingDue,
                RetentionError::NoSuperior,
                RetentionError::NotADesignatedApprover { user: text() },
                RetentionError::ApproverIsRequester { user: text() },
                RetentionError::TooManyRecords,
                RetentionError::RecordNotDue {
                    id: text(),
                    due_on: text(),
                },
                RetentionError::RecordNeverDue(text()),
                RetentionError::RecordUnknown(text()),
                RetentionError::NotASuperior {
                    requesting_node: text(),
                },
                RetentionError::AlreadyDecided(text()),
                RetentionError::NotApproved(text()),
                RetentionError::ApprovalRefused(text()),
                RetentionError::ApprovalMalformed(text()),
                RetentionError::BadSignature {
                    code: text(),
                    message: text(),
                },
                RetentionError::NotFromASuperior { signer: text() },
                RetentionError::ApprovalForOtherRecords,
                RetentionError::ApprovalExpired,
                RetentionError::ApprovalFromTheFuture,
                RetentionError::AlreadyDestroyed(text()),
            ]
            .map(ApiError::Retention),
        );
        refusals.extend(
            [
                LicenceActionError::NotFound(0),
                LicenceActionError::NotALicence(text()),
                LicenceActionError::UnknownEventKind(text()),
                LicenceActionError::LicenceNotActive {
                    licence: text(),
                    status: text(),
                },
                LicenceActionError::NotPending {
                    id: 0,
                    state: text(),
                },
                LicenceActionError::ReasonRequired,
            ]
            .map(ApiError::LicenceAction),
        );
        refusals
    }

    /// Every stable code the staff and node-to-node API can answer: the server's own and those
    /// of the services it passes on (the authority table's refusals included). A route's
    /// description names only these (checked by a test over `/openapi.json`).
    pub fn every_code() -> std::collections::BTreeSet<ErrorCode> {
        let mut codes: std::collections::BTreeSet<ErrorCode> = Self::one_of_each_own_variant()
            .iter()
            .chain(Self::one_of_each_service_refusal().iter())
            .map(ApiError::code)
            .collect();
        codes.extend(
            licnode_sync::DenyReason::CODES
                .into_iter()
                .map(service_code),
        );
        codes
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = json!({ "code": self.code().as_str(), "message": self.message() });
        if let Some(details) = self.details() {
            body["details"] = details;
        }
        (self.status(), Json(json!({ "error": body }))).into_response()
    }
}

mod code;
mod conversions;
pub use code::ErrorCode;

/// The API's code for a code a service spells: every service code is one of the API's
/// (checked by a test over one refusal of each service variant); an unknown spelling is
/// logged and answered as an internal error rather than sent unlisted.
pub(crate) fn service_code(spelling: &'static str) -> ErrorCode {
    ErrorCode::of_service(spelling).unwrap_or_else(|| {
        tracing::error!(
            code = spelling,
            "a service refused with a code the API does not list"
        );
        ErrorCode::Internal
    })
}
use conversions::{archive_status, licence_action_status};

#[cfg(test)]
mod tests;
