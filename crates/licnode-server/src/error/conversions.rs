//! How the services' errors become API errors: one `From` impl per service error, each
//! keeping the service's stable code and choosing the status.

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::http::StatusCode;
use licnode_app::ArchiveError;
use licnode_app::LicenceActionError;
use licnode_app::reports::ReportError;
use licnode_app::retention::RetentionError;
use licnode_reports::PeriodError;
use licnode_store::anchors::AnchorError;
use licnode_store::{AccountError, StoreError};

use super::ApiError;

pub(super) fn licence_action_status(error: &LicenceActionError) -> StatusCode {
    match error {
        LicenceActionError::Archive(inner) => archive_status(inner),
        LicenceActionError::Store(_) => StatusCode::INTERNAL_SERVER_ERROR,
        LicenceActionError::NotFound(_) => StatusCode::NOT_FOUND,
        LicenceActionError::NotALicence(_)
        | LicenceActionError::UnknownEventKind(_)
        | LicenceActionError::ReasonRequired => StatusCode::UNPROCESSABLE_ENTITY,
        LicenceActionError::LicenceNotActive { .. } | LicenceActionError::NotPending { .. } => {
            StatusCode::CONFLICT
        }
    }
}

pub(super) fn archive_status(error: &ArchiveError) -> StatusCode {
    match error {
        ArchiveError::Invalid(_)
        | ArchiveError::InvalidJurisdiction(_)
        | ArchiveError::OutsideRegulation { .. }
        | ArchiveError::UnknownReference { .. }
        | ArchiveError::ReferenceMismatch { .. } => StatusCode::UNPROCESSABLE_ENTITY,
        ArchiveError::UnknownCollection(_) | ArchiveError::NotFound(_) => StatusCode::NOT_FOUND,
        ArchiveError::OutsideJurisdiction { .. }
        | ArchiveError::NotAuthorised(_)
        | ArchiveError::ReadOnlyRole { .. }
        | ArchiveError::ApprovalRequired { .. }
        | ArchiveError::SecretNotForRole { .. } => StatusCode::FORBIDDEN,
        ArchiveError::TerminalLicence(_)
        | ArchiveError::ReadOnlyCopy { .. }
        | ArchiveError::ReportSubmitted(_) => StatusCode::CONFLICT,
        ArchiveError::Store(_) | ArchiveError::Document(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl From<ArchiveError> for ApiError {
    fn from(error: ArchiveError) -> Self {
        match error {
            ArchiveError::Store(inner) => ApiError::from(inner),
            ArchiveError::Document(ref inner) => ApiError::internal(inner),
            refusal => ApiError::Archive(refusal),
        }
    }
}

impl From<licnode_app::official_forms::OfficialFormError> for ApiError {
    fn from(error: licnode_app::official_forms::OfficialFormError) -> Self {
        use licnode_app::official_forms::OfficialFormError;
        match error {
            OfficialFormError::NotFound { .. } => ApiError::not_found(error.to_string()),
            OfficialFormError::WrongKind(_) => ApiError::WrongReportKind,
            OfficialFormError::Store(inner) => ApiError::from(inner),
        }
    }
}

impl From<ReportError> for ApiError {
    fn from(error: ReportError) -> Self {
        match error {
            ReportError::Archive(inner) => ApiError::from(inner),
            ReportError::Store(ref inner) => ApiError::internal(inner),
            ReportError::Period(inner) => ApiError::Period(inner),
            refusal => ApiError::Report(refusal),
        }
    }
}

impl From<PeriodError> for ApiError {
    fn from(error: PeriodError) -> Self {
        ApiError::Period(error)
    }
}

impl From<RetentionError> for ApiError {
    fn from(error: RetentionError) -> Self {
        match error {
            RetentionError::Archive(inner) => ApiError::from(inner),
            RetentionError::Store(_) | RetentionError::Signing(_) => {
                tracing::error!(%error, "retention step failed");
                ApiError::Internal
            }
            refusal => ApiError::Retention(refusal),
        }
    }
}

impl From<LicenceActionError> for ApiError {
    fn from(error: LicenceActionError) -> Self {
        match error {
            LicenceActionError::Archive(inner) => ApiError::from(inner),
            LicenceActionError::Store(ref inner) => ApiError::internal(inner),
            refusal => ApiError::LicenceAction(refusal),
        }
    }
}

impl From<AnchorError> for ApiError {
    fn from(error: AnchorError) -> Self {
        match error {
            AnchorError::Store(inner) => ApiError::from(inner),
            refusal => ApiError::Anchor(refusal),
        }
    }
}

impl From<AccountError> for ApiError {
    fn from(error: AccountError) -> Self {
        match error {
            AccountError::Store(inner) => ApiError::from(inner),
            AccountError::Hash(message) => {
                tracing::error!(%message, "password hashing failed");
                ApiError::Internal
            }
            refusal => ApiError::Account(refusal),
        }
    }
}

impl From<licnode_app::network::LinkReportError> for ApiError {
    fn from(error: licnode_app::network::LinkReportError) -> Self {
        use licnode_app::network::LinkReportError;
        match error {
            LinkReportError::TooMany(_) => ApiError::BadBatch {
                reason: error.to_string(),
            },
            LinkReportError::OutsideSubtree(reason) => {
                ApiError::LinkReportOutsideSubtree { reason }
            }
            LinkReportError::Store(error) => ApiError::from(error),
        }
    }
}

impl From<licnode_app::replication::SyncError> for ApiError {
    fn from(error: licnode_app::replication::SyncError) -> Self {
        use licnode_app::replication::SyncError;
        match error {
            SyncError::NotAChild { reason, peer } => ApiError::NotAChild { reason, peer },
            SyncError::BadBatch { reason } => ApiError::BadBatch { reason },
            SyncError::CursorGap {
                after,
                acknowledged,
            } => ApiError::CursorGap {
                after,
                acknowledged,
            },
            SyncError::PullCursorDiverged { after, last_seq } => {
                ApiError::PullCursorDiverged { after, last_seq }
            }
            SyncError::Store(error) => ApiError::from(error),
            error @ (SyncError::Protocol(_) | SyncError::Transport(_)) => {
                ApiError::internal(&error)
            }
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        if error.is_storage_full() {
            tracing::error!(%error, "a write was refused: storage is full");
            return ApiError::StorageFull;
        }
        ApiError::internal(&error)
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        let status = rejection.status();
        let reason = rejection.body_text();
        match &rejection {
            // axum answers these three with 400, 422 and 415, the statuses of the variants.
            JsonRejection::JsonSyntaxError(_) => ApiError::MalformedJson { reason },
            JsonRejection::JsonDataError(_) => ApiError::WrongType { reason },
            JsonRejection::MissingJsonContentType(_) => ApiError::UnsupportedMediaType { reason },
            _ if status == StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge { reason },
            _ => ApiError::BadBody { status, reason },
        }
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        ApiError::BadQuery {
            reason: rejection.body_text(),
        }
    }
}
