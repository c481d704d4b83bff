//! The PKI endpoints between nodes: enrollment of a child holding a one-time token (served on
//! the server-authenticated TLS listener, since the child has no certificate yet), and, on the
//! mutual-TLS listener, renewal by a child with its current certificate and the CRLs a parent
//! hands down. Errors are JSON with a stable code, like the staff API's.

use axum::extract::rejection::JsonRejection;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use licnode_pki::enroll::{CRLS_PATH, ENROLL_PATH, RENEW_PATH, RenewalRequest};
use licnode_pki::{EnrollmentAuthority, EnrollmentError, EnrollmentRequest, PeerIdentity};
use serde_json::json;

/// Largest enrollment or renewal request, in bytes (a CSR is under 1 KB).
const MAX_PKI_BODY_BYTES: usize = 64 * 1024;

/// `POST /pki/v1/enroll`: for the server-authenticated (enrollment) listener.
pub fn enrollment_router(authority: EnrollmentAuthority) -> Router {
    Router::new()
        .route(ENROLL_PATH, post(enroll))
        .layer(DefaultBodyLimit::max(MAX_PKI_BODY_BYTES))
        .with_state(authority)
}

/// `POST /pki/v1/renew` and `GET /pki/v1/crls`: for the mutual-TLS listener, whose requests
/// carry the verified [`PeerIdentity`].
pub fn peer_pki_router(authority: EnrollmentAuthority) -> Router {
    Router::new()
        .route(RENEW_PATH, post(renew))
        .route(CRLS_PATH, get(crls))
        .layer(DefaultBodyLimit::max(MAX_PKI_BODY_BYTES))
        .with_state(authority)
}

async fn enroll(
    State(authority): State<EnrollmentAuthority>,
    body: Result<Json<EnrollmentRequest>, JsonRejection>,
) -> Response {
    let Json(request) = match body {
        Ok(body) => body,
        Err(rejection) => return malformed(&rejection),
    };
    let result = tokio::task::spawn_blocking(move || authority.enroll(&request)).await;
    respond(result, None)
}

async fn renew(
    State(authority): State<EnrollmentAuthority>,
    Extension(peer): Extension<PeerIdentity>,
    body: Result<Json<RenewalRequest>, JsonRejection>,
) -> Response {
    let Json(request) = match body {
        Ok(body) => body,
        Err(rejection) => return malformed(&rejection),
    };
    let code = peer.code.clone();
    let result = tokio::task::spawn_blocking(move || authority.renew(&peer, &request)).await;
    respond(result, Some(&code))
}

async fn crls(
    State(authority): State<EnrollmentAuthority>,
    Extension(peer): Extension<PeerIdentity>,
) -> Response {
    let result = tokio::task::spawn_blocking(move || authority.crls()).await;
    respond(result, Some(&peer.code))
}

fn respond<T: serde::Serialize>(
    result: Result<Result<T, EnrollmentError>, tokio::task::JoinError>,
    peer: Option<&str>,
) -> Response {
    match result {
        Ok(Ok(answer)) => (StatusCode::OK, Json(answer)).into_response(),
        Ok(Err(error)) => {
            if matches!(error, EnrollmentError::Internal(_)) {
                tracing::error!(error = %error, ?peer, "PKI request failed");
            } else {
                tracing::warn!(code = error.code(), error = %error, ?peer, "PKI request refused");
            }
            let status =
                StatusCode::from_u16(error.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            error_response(status, error.code(), &error.public_message())
        }
        Err(join_error) => {
            tracing::error!(error = %join_error, ?peer, "PKI request task failed");
            error_response(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "the node could not complete the request; the error is in its log",
            )
        }
    }
}

fn malformed(rejection: &JsonRejection) -> Response {
    error_response(rejection.status(), "malformed_json", &rejection.body_text())
}

fn error_response(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        Json(json!({ "error": { "code": code, "message": message } })),
    )
        .into_response()
}
