//! Keeping and destroying (Art. 37, 38) over HTTP:
//!
//! - `GET  /api/v1/retention/due` — the records whose five years are over, as of the node's clock;
//! - `POST /api/v1/retention/requests` `{"record_ids": [...]?, "reason"?}` — ask the superior to
//!   approve destroying them (all due records when `record_ids` is absent);
//! - `POST /api/v1/retention/requests/{id}/approve` `{"remarks"?, "valid_days"?}` and
//!   `…/refuse` `{"remarks"?}` — the superior's signed decision (approver role);
//! - `POST /api/v1/retention/requests/{id}/destroy` — carry out a valid approval (approver role);
//! - `GET  /api/v1/retention/certificates` — the destruction certificates.
//!
//! The signing and verifying key is the node's PKI key ([`PkiNodeKey`]); a node without a
//! certificate can list and request but not decide or destroy (`no_node_key`).

use crate::error::ErrorCode;
use std::sync::Arc;

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use licnode_app::retention::{DEFAULT_APPROVAL_DAYS, RetentionError, years_or_default};
use licnode_store::retention::{NodeKey, Signature};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::Staff;
use crate::routes::{Operation, Routes};
use crate::{ApiError, AppState};

/// Longest validity an approval may be given, in days.
const MAX_APPROVAL_DAYS: u32 = 366;

/// How this node keeps and destroys: the retention length, how long its approvals are valid,
/// and its node key.
#[derive(Clone)]
pub struct RetentionSettings {
    /// Years records are kept (Art. 37; `[retention] years`).
    pub years: u32,
    /// Days an approval this node signs stays valid (`[retention] approval_days`).
    pub approval_days: u32,
    /// The node's key; `None` without a certificate.
    pub key: Option<Arc<dyn NodeKey>>,
}

impl Default for RetentionSettings {
    fn default() -> Self {
        RetentionSettings {
            years: years_or_default(None),
            approval_days: DEFAULT_APPROVAL_DAYS,
            key: None,
        }
    }
}

/// A node's PKI key as the destruction approval uses it: signatures with the node key,
/// verification exactly as a mutual-TLS peer's chain (root, subtree, expiry, revocation).
#[derive(Clone)]
pub struct PkiNodeKey(pub licnode_pki::NodeTls);

impl NodeKey for PkiNodeKey {
    fn sign(&self, message: &[u8]) -> Result<Signature, String> {
        let signed = self.0.sign(message).map_err(|error| error.to_string())?;
        Ok(Signature {
            scheme: signed.scheme,
            signature: signed.signature,
            chain: signed.chain,
        })
    }

    fn verify(
        &self,
        chain: &[Vec<u8>],
        message: &[u8],
        scheme: u16,
        signature: &[u8],
    ) -> Result<String, (String, String)> {
        let chain: Vec<licnode_pki::CertificateDer<'_>> = chain
            .iter()
            .map(|der| licnode_pki::CertificateDer::from(der.as_slice()))
            .collect();
        self.0
            .verify_signed(&chain, message, scheme, signature)
            .map(|identity| identity.code)
    }
}

/// The retention routes, each with its description (Art. 37, 38).
pub(crate) fn routes() -> Routes<AppState> {
    let body_refusals = [
        ErrorCode::MalformedJson,
        ErrorCode::WrongType,
        ErrorCode::InvalidBody,
    ];
    let no_key = "this node has no certificate: it can neither sign nor verify approvals";
    Routes::new()
        .get(
            "/retention/due",
            due,
            Operation::new("Records whose retention period (Art. 37, `[retention] years` from when their matter ended) has passed, as of the node's clock")
                .answers(200, "the due records, with the date each became due"),
        )
        .post(
            "/retention/requests",
            request,
            Operation::new("Ask the parent's approval to destroy due records (Art. 38); the request replicates up")
                .optional_json_body(json!({ "type": "object", "properties": {
                    "record_ids": { "type": "array", "items": { "type": "string" }, "description": "default: every due record" },
                    "reason": { "type": "string" } } }))
                .answers(201, "the destructions record of the request")
                .refuses(400, &body_refusals, "malformed body")
                .refuses(403, &[ErrorCode::ForbiddenRole], "auditors only read")
                .refuses(422, &[ErrorCode::NothingDue, ErrorCode::NoSuperior, ErrorCode::TooManyRecords, ErrorCode::RecordNotDue, ErrorCode::RecordNeverDue, ErrorCode::RecordUnknown], "nothing to ask for, no parent (the national node without [retention] national_approvers), or records that are not due"),
        )
        .post(
            "/retention/requests/{id}/approve",
            approve,
            Operation::new("Approve a child's request (approvers, at the parent): checks due-ness on this node's copy and clock and signs the exact decision with the node key")
                .optional_json_body(json!({ "type": "object", "properties": {
                    "remarks": { "type": "string" },
                    "valid_days": { "type": "integer", "minimum": 1, "maximum": MAX_APPROVAL_DAYS } } }))
                .answers(200, "the request with its signed decision")
                .refuses(400, &body_refusals, "malformed body")
                .refuses(400, &[ErrorCode::InvalidValidDays], "valid_days out of range")
                .refuses(403, &[ErrorCode::ApprovalRequired, ErrorCode::NotASuperior, ErrorCode::NotADesignatedApprover, ErrorCode::ApproverIsRequester], "not an approver, or not the requesting node's parent (only it decides); at the national node, not a designated second approver or the requester (Art. 38)")
                .refuses(404, &[ErrorCode::NotFound], "no such request")
                .refuses(409, &[ErrorCode::AlreadyDecided], "the request was decided")
                .refuses(422, &[ErrorCode::RecordNotDue, ErrorCode::NotADestructionRequest], "a record not due by this node's copy and clock, or not a destruction request")
                .refuses(503, &[ErrorCode::NoNodeKey], no_key),
        )
        .post(
            "/retention/requests/{id}/refuse",
            refuse,
            Operation::new("Refuse a child's request (approvers, at the parent); the signed refusal replicates back")
                .optional_json_body(json!({ "type": "object", "properties": { "remarks": { "type": "string" } } }))
                .answers(200, "the request with its signed refusal")
                .refuses(400, &body_refusals, "malformed body, or a validity (a refusal has none)")
                .refuses(403, &[ErrorCode::ApprovalRequired, ErrorCode::NotASuperior, ErrorCode::NotADesignatedApprover, ErrorCode::ApproverIsRequester], "not an approver, or not the requesting node's parent; at the national node, not a designated second approver or the requester")
                .refuses(404, &[ErrorCode::NotFound], "no such request")
                .refuses(409, &[ErrorCode::AlreadyDecided], "the request was decided")
                .refuses(422, &[ErrorCode::NotADestructionRequest], "not a destruction request")
                .refuses(503, &[ErrorCode::NoNodeKey], no_key),
        )
        .post(
            "/retention/requests/{id}/destroy",
            destroy,
            Operation::new("Destroy exactly the approved records (approvers, at the requesting node): document, history, projection and search entries; leaves a destruction certificate")
                .answers(200, "the destruction certificate")
                .refuses(403, &[ErrorCode::ApprovalRequired, ErrorCode::ApprovalNotFromASuperior, ErrorCode::NotADesignatedApprover, ErrorCode::ApproverIsRequester], "not an approver, or an approval not signed by this node's parent (at the national node: by a designated second approver)")
                .refuses(404, &[ErrorCode::NotFound], "no such request")
                .refuses(409, &[ErrorCode::AlreadyDestroyed], "the records were destroyed")
                .refuses(422, &[ErrorCode::NotApproved, ErrorCode::ApprovalRefused, ErrorCode::ApprovalForOtherRecords, ErrorCode::ApprovalSignatureInvalid, ErrorCode::ApprovalMalformed, ErrorCode::ApprovalExpired, ErrorCode::ApprovalFromTheFuture, ErrorCode::RecordNotDue], "refused, nothing destroyed")
                .refuses(503, &[ErrorCode::NoNodeKey], no_key),
        )
        .get(
            "/retention/certificates",
            certificates,
            Operation::new("Destruction certificates: what was destroyed, when, on whose signed approval (kept for good)")
                .answers(200, "the certificates, newest first"),
        )
}

/// The API error of a refused retention step.
pub fn api_error(error: RetentionError) -> ApiError {
    ApiError::from(error)
}

fn key(state: &AppState) -> Result<Arc<dyn NodeKey>, ApiError> {
    state
        .retention
        .key
        .clone()
        .ok_or_else(|| ApiError::NoNodeKey {
            cannot: "it can neither sign nor verify approvals",
        })
}

/// An optional JSON body: absent or empty means the defaults.
fn body<T: for<'de> Deserialize<'de> + Default>(
    body: Result<Json<Value>, JsonRejection>,
) -> Result<T, ApiError> {
    let value = match body {
        Ok(Json(value)) => value,
        Err(JsonRejection::MissingJsonContentType(_)) => return Ok(T::default()),
        Err(rejection) => return Err(rejection.into()),
    };
    serde_json::from_value(value).map_err(|error| ApiError::InvalidBody {
        reason: error.to_string(),
    })
}

async fn due(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let today = state.clock.today();
    let items = state
        .archive
        .due_records(today, state.retention.years)
        .await?;
    Ok(Json(json!({
        "today": today.to_string(),
        "years": state.retention.years,
        "count": items.len(),
        "items": items,
    })))
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RequestBody {
    record_ids: Option<Vec<String>>,
    reason: Option<String>,
}

async fn request(
    State(state): State<AppState>,
    Extension(staff): Extension<Staff>,
    input: Result<Json<Value>, JsonRejection>,
) -> Result<Response, ApiError> {
    staff.require_write()?;
    let input: RequestBody = body(input)?;
    let record = state
        .archive
        .request_destruction(
            input.record_ids.as_deref(),
            state.clock.as_ref(),
            state.retention.years,
            input.reason.as_deref(),
            &staff.author(),
        )
        .await
        .map_err(api_error)?;
    Ok((StatusCode::CREATED, Json(json!(record))).into_response())
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct DecisionBody {
    remarks: Option<String>,
    valid_days: Option<u32>,
}

async fn decide(
    state: AppState,
    staff: Staff,
    id: String,
    approve: bool,
    input: DecisionBody,
) -> Result<Json<Value>, ApiError> {
    let valid_days = input.valid_days.unwrap_or(state.retention.approval_days);
    if valid_days == 0 || valid_days > MAX_APPROVAL_DAYS {
        return Err(ApiError::InvalidValidDays {
            max_days: MAX_APPROVAL_DAYS,
        });
    }
    let key = key(&state)?;
    let record = state
        .archive
        .decide_destruction(
            &id,
            approve,
            key.as_ref(),
            state.clock.as_ref(),
            state.retention.years,
            valid_days,
            input.remarks.as_deref(),
            &staff.author(),
        )
        .await
        .map_err(api_error)?;
    Ok(Json(json!(record)))
}

async fn approve(
    State(state): State<AppState>,
    Extension(staff): Extension<Staff>,
    Path(id): Path<String>,
    input: Result<Json<Value>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    decide(state, staff, id, true, body(input)?).await
}

async fn refuse(
    State(state): State<AppState>,
    Extension(staff): Extension<Staff>,
    Path(id): Path<String>,
    input: Result<Json<Value>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let input: DecisionBody = body(input)?;
    if input.valid_days.is_some() {
        return Err(ApiError::InvalidBody {
            reason: "a refusal has no validity".to_string(),
        });
    }
    decide(state, staff, id, false, input).await
}

async fn destroy(
    State(state): State<AppState>,
    Extension(staff): Extension<Staff>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let key = key(&state)?;
    let certificate = state
        .archive
        .destroy_approved(
            &id,
            key.as_ref(),
            state.clock.as_ref(),
            state.retention.years,
            &staff.author(),
        )
        .await
        .map_err(api_error)?;
    state.metrics.increment(
        "licnode_records_destroyed_total",
        certificate.records.len() as u64,
    );
    Ok(Json(json!(certificate)))
}

async fn certificates(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let items = state.archive.destruction_certificates().await?;
    Ok(Json(json!({ "count": items.len(), "items": items })))
}
