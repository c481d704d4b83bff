//! The API's one error type: a stable machine code, a message for people, the right status.
//! Internal errors are logged (with the request id of the span) and never leak details.

use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use licnode_app::ArchiveError;
use licnode_store::StoreError;
use serde_json::{Value, json};

/// An error answered to an API client.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub details: Option<Value>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            details: None,
        }
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    pub fn with_details(mut self, details: Value) -> Self {
        self.details = Some(details);
        self
    }

    fn internal(error: &dyn std::error::Error) -> Self {
        tracing::error!(error = %error, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "the node could not complete the request; the error is in its log",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = json!({ "code": self.code, "message": self.message });
        if let Some(details) = self.details {
            body["details"] = details;
        }
        (self.status, Json(json!({ "error": body }))).into_response()
    }
}

impl From<ArchiveError> for ApiError {
    fn from(error: ArchiveError) -> Self {
        let code = error.code();
        match error {
            ArchiveError::Invalid(errors) => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                code,
                format!("{} field(s) failed validation", errors.0.len()),
            )
            .with_details(serde_json::to_value(&errors.0).unwrap_or(Value::Null)),
            ArchiveError::UnknownCollection(_) | ArchiveError::NotFound(_) => {
                ApiError::new(StatusCode::NOT_FOUND, code, error.to_string())
            }
            ArchiveError::OutsideJurisdiction { .. }
            | ArchiveError::NotAuthorised(_)
            | ArchiveError::ReadOnlyRole { .. }
            | ArchiveError::ApprovalRequired { .. } => {
                ApiError::new(StatusCode::FORBIDDEN, code, error.to_string())
            }
            ArchiveError::InvalidJurisdiction(_) => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, error.to_string())
            }
            ArchiveError::TerminalLicence(_)
            | ArchiveError::ReadOnlyCopy { .. }
            | ArchiveError::ReportSubmitted(_) => {
                ApiError::new(StatusCode::CONFLICT, code, error.to_string())
            }
            ArchiveError::Store(ref inner) => ApiError::internal(inner),
            ArchiveError::Document(ref inner) => ApiError::internal(inner),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        ApiError::internal(&error)
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        let status = rejection.status();
        let code = match &rejection {
            JsonRejection::JsonSyntaxError(_) => "malformed_json",
            JsonRejection::JsonDataError(_) => "wrong_type",
            JsonRejection::MissingJsonContentType(_) => "unsupported_media_type",
            _ if status == StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
            _ => "bad_body",
        };
        ApiError::new(status, code, rejection.body_text())
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        ApiError::bad_request("bad_query", rejection.body_text())
    }
}
