//! The error codes and statuses as the wire contract.

use super::*;

#[test]
fn each_own_variant_has_its_own_code() {
    let refusals = ApiError::one_of_each_own_variant();
    let codes: std::collections::BTreeSet<&str> = refusals.iter().map(ApiError::code).collect();
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
        let code = refusal.code();
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
    assert_eq!(response.code(), "validation_failed");
    assert_eq!(response.message(), "0 field(s) failed validation");
    assert_eq!(response.details(), Some(json!([])));
}

#[test]
fn a_store_failure_behind_a_service_answers_internal_and_names_nothing() {
    let error = ApiError::from(RetentionError::Signing("key file unreadable".to_string()));
    assert_eq!(error.code(), "internal");
    assert_eq!(error.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert!(!error.message().contains("key file"));
}
