//! The error codes and statuses as the wire contract.

use super::*;

#[test]
fn each_own_variant_has_its_own_code() {
    let refusals = ApiError::one_of_each_own_variant();
    let codes: std::collections::BTreeSet<ErrorCode> =
        refusals.iter().map(ApiError::code).collect();
    assert_eq!(
        codes.len(),
        refusals.len(),
        "two variants share a code: {codes:?}"
    );
}

#[test]
fn codes_are_snake_case_and_statuses_are_errors() {
    for refusal in ApiError::one_of_each_own_variant()
        .into_iter()
        .chain(ApiError::one_of_each_service_refusal())
    {
        let code = refusal.code().as_str();
        assert!(
            !code.is_empty() && code.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
            "{code:?} is not snake case"
        );
        assert!(
            refusal.status().is_client_error() || refusal.status().is_server_error(),
            "{code} answers {}",
            refusal.status()
        );
    }
}

#[test]
fn a_validation_refusal_keeps_its_wire_shape() {
    let response = ApiError::from(ArchiveError::Invalid(licnode_model::ValidationErrors(
        Vec::new(),
    )));
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(response.code(), ErrorCode::ValidationFailed);
    assert_eq!(response.message(), "0 field(s) failed validation");
    assert_eq!(response.details(), Some(json!([])));
}

#[test]
fn a_store_failure_behind_a_service_answers_internal_and_names_nothing() {
    let error = ApiError::from(RetentionError::Signing("key file unreadable".to_string()));
    assert_eq!(error.code(), ErrorCode::Internal);
    assert_eq!(error.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert!(!error.message().contains("key file"));
}

/// Issue 17, item 1: a code exists once, with one spelling, and every code of the list is one
/// a refusal can carry — the API's, the public service's or the web application's own.
#[test]
fn every_code_is_spelt_once_and_answered_by_some_refusal() {
    let spellings: std::collections::BTreeSet<&str> =
        ErrorCode::ALL.iter().map(|code| code.as_str()).collect();
    assert_eq!(
        spellings.len(),
        ErrorCode::ALL.len(),
        "two codes share a spelling"
    );
    let answered = ApiError::every_code();
    let outside_the_api = [
        ErrorCode::RateLimited,
        ErrorCode::UnknownParameter,
        ErrorCode::QueryTooLong,
        ErrorCode::BadKind,
        ErrorCode::BadValidity,
        ErrorCode::BadCsrfToken,
    ];
    for code in ErrorCode::ALL {
        assert!(
            answered.contains(code) || outside_the_api.contains(code),
            "{code} is listed but no refusal carries it"
        );
    }
}

/// A service's refusal keeps its own spelling on the wire: none falls back to `internal`
/// unless the service itself says internal.
#[test]
fn every_service_code_is_one_of_the_api_codes() {
    for refusal in ApiError::one_of_each_service_refusal() {
        let spelled_by_service = match &refusal {
            ApiError::Archive(error) => error.code(),
            ApiError::Report(error) => error.code(),
            ApiError::Period(error) => error.code(),
            ApiError::Retention(error) => error.code(),
            ApiError::LicenceAction(error) => error.code(),
            ApiError::Anchor(error) => error.code(),
            _ => refusal.code().as_str(),
        };
        assert_eq!(refusal.code().as_str(), spelled_by_service);
    }
    for spelling in licnode_sync::DenyReason::CODES {
        assert_eq!(
            ErrorCode::of_service(spelling).map(ErrorCode::as_str),
            Some(spelling)
        );
    }
}
