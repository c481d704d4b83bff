//! The licence work flow over HTTP (Art. 13, 19, 28): a clerk prepares a licence event, an
//! approver approves it (the event and the licence's status written together) or refuses it.
//!
//! - `POST /api/v1/licences/{id}/actions` `{"event_kind", "fields"?}` — prepare (clerks and up);
//! - `GET  /api/v1/licence-actions?state=&licence=&before=&limit=` — newest first;
//! - `POST /api/v1/licence-actions/{id}/approve` — approvers;
//! - `POST /api/v1/licence-actions/{id}/refuse` `{"reason"}` — approvers.

use crate::error::ErrorCode;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use licnode_store::licence_actions::{LicenceAction, LicenceActionQuery, states};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::auth::Staff;
use crate::records::millis_text;
use crate::routes::{Operation, Routes};
use crate::{ApiError, AppState};

/// Actions a list shows when the query does not say.
pub(crate) const DEFAULT_PAGE: i64 = 50;

pub(crate) fn routes() -> Routes<AppState> {
    let kinds = json!({ "type": "string", "enum": ["change", "withdrawal", "revocation", "penalty_revocation", "cancellation"] });
    Routes::new()
        .post(
            "/licences/{id}/actions",
            prepare,
            Operation::new("Prepare a change, withdrawal, revocation or cancellation of a licence (Art. 13, 19, 28); clerks and up. The event's fields start from the licence's; nothing is written to the licence until an approver approves")
                .json_body(json!({ "type": "object", "required": ["event_kind"], "properties": {
                    "event_kind": kinds,
                    "fields": { "type": "object", "description": "licence_events fields (reason, event_date, decision_number, change_items, …)" } } }))
                .answers(201, "the prepared action, pending")
                .refuses(400, &[ErrorCode::MalformedJson, ErrorCode::WrongType], "malformed body")
                .refuses(403, &[ErrorCode::ForbiddenRole, ErrorCode::OutsideJurisdiction, ErrorCode::AuthorNotAllowed], "auditors only read; a licence this node does not keep")
                .refuses(404, &[ErrorCode::NotFound], "no such licence")
                .refuses(409, &[ErrorCode::LicenceNotActive, ErrorCode::ReadOnlyCopy], "the licence is withdrawn, revoked or cancelled already, or a read-only copy")
                .refuses(422, &[ErrorCode::ValidationFailed, ErrorCode::NotALicence, ErrorCode::UnknownEventKind], "a field failed validation, the record is not a licence, or an unknown event kind"),
        )
        .get(
            "/licence-actions",
            list,
            Operation::new("Prepared licence actions, newest first: all, or one state (pending = 待审批), or one licence's")
                .parameters(json!([
                    { "name": "state", "in": "query", "schema": { "type": "string", "enum": ["pending", "approved", "refused"] } },
                    { "name": "licence", "in": "query", "schema": { "type": "string" } },
                    { "name": "before", "in": "query", "schema": { "type": "integer" }, "description": "the paging cursor: `next` of the previous page" },
                    { "name": "limit", "in": "query", "schema": { "type": "integer", "minimum": 1, "maximum": 200 } }
                ]))
                .answers(200, "the actions and the next page's cursor")
                .refuses(400, &[ErrorCode::BadQuery], "a malformed query"),
        )
        .post(
            "/licence-actions/{id}/approve",
            approve,
            Operation::new("Approve a prepared action (approvers): one write stores the licence event and the licence's new status, both authored by the approver")
                .answers(200, "the action approved, and the licence as it now is")
                .refuses(403, &[ErrorCode::ApprovalRequired, ErrorCode::ForbiddenRole], "not an approver")
                .refuses(404, &[ErrorCode::NotFound], "no such action or licence")
                .refuses(409, &[ErrorCode::ActionNotPending, ErrorCode::LicenceNotActive, ErrorCode::LicenceTerminal, ErrorCode::ReadOnlyCopy], "decided already, or the licence is no longer active")
                .refuses(422, &[ErrorCode::ValidationFailed], "the prepared event no longer validates"),
        )
        .post(
            "/licence-actions/{id}/refuse",
            refuse,
            Operation::new("Refuse a prepared action with a reason (approvers); nothing is written to the licence")
                .json_body(json!({ "type": "object", "required": ["reason"], "properties": { "reason": { "type": "string" } } }))
                .answers(200, "the action refused")
                .refuses(400, &[ErrorCode::MalformedJson, ErrorCode::WrongType], "malformed body")
                .refuses(403, &[ErrorCode::ApprovalRequired, ErrorCode::ForbiddenRole], "not an approver")
                .refuses(404, &[ErrorCode::NotFound], "no such action")
                .refuses(409, &[ErrorCode::ActionNotPending], "decided already")
                .refuses(422, &[ErrorCode::ReasonRequired], "no reason given"),
        )
}

/// An action as the API shows it.
pub(crate) fn action_json(action: &LicenceAction) -> Value {
    json!({
        "id": action.id,
        "licence": action.licence_id,
        "event_kind": action.event_kind,
        "enterprise_name": action.enterprise_name,
        "licence_number": action.licence_number,
        "fields": action.fields,
        "state": action.state,
        "prepared_by": action.prepared_by,
        "prepared_at": millis_text(action.prepared_at_ms),
        "decided_by": action.decided_by,
        "decided_at": action.decided_at_ms.map(millis_text),
        "decision_reason": action.decision_reason,
        "event_id": action.event_id,
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PrepareBody {
    event_kind: String,
    #[serde(default)]
    fields: Map<String, Value>,
}

async fn prepare(
    State(state): State<AppState>,
    Extension(staff): Extension<Staff>,
    Path(id): Path<String>,
    body: Result<Json<PrepareBody>, JsonRejection>,
) -> Result<Response, ApiError> {
    staff.require_write()?;
    let Json(body) = body?;
    let action = state
        .archive
        .prepare_licence_action(&id, &body.event_kind, &body.fields, &staff.author())
        .await?;
    Ok((StatusCode::CREATED, Json(action_json(&action))).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ListParams {
    pub state: Option<String>,
    pub licence: Option<String>,
    pub before: Option<i64>,
    pub limit: Option<i64>,
}

/// The store's query of a list's parameters; an unknown state is refused.
pub(crate) fn action_query(params: ListParams) -> Result<LicenceActionQuery, ApiError> {
    let state = params.state.filter(|state| !state.is_empty());
    if let Some(state) = &state
        && ![states::PENDING, states::APPROVED, states::REFUSED].contains(&state.as_str())
    {
        return Err(ApiError::BadQuery {
            reason: format!("state {state:?}: pending, approved or refused"),
        });
    }
    Ok(LicenceActionQuery {
        state,
        licence_id: params.licence.filter(|licence| !licence.is_empty()),
        before: params.before,
        limit: params.limit.unwrap_or(DEFAULT_PAGE),
    })
}

async fn list(
    State(state): State<AppState>,
    Extension(_staff): Extension<Staff>,
    params: Result<Query<ListParams>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(params) = params?;
    let query = action_query(params)?;
    let actions = state.archive.licence_actions(&query).await?;
    let next = (actions.len() as i64 >= query.limit.clamp(1, 200))
        .then(|| actions.last().map(|action| action.id))
        .flatten();
    Ok(Json(json!({
        "items": actions.iter().map(action_json).collect::<Vec<_>>(),
        "next": next,
    })))
}

fn action_id(id: &str) -> Result<i64, ApiError> {
    id.parse()
        .map_err(|_| ApiError::not_found(format!("no licence action {id:?}")))
}

async fn approve(
    State(state): State<AppState>,
    Extension(staff): Extension<Staff>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let (action, licence) = state
        .archive
        .approve_licence_action(action_id(&id)?, &staff.author())
        .await?;
    state.metrics.increment("licnode_records_created_total", 1);
    Ok(Json(json!({
        "action": action_json(&action),
        "licence": { "id": licence.id, "fields": licence.data },
    })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RefuseBody {
    reason: String,
}

async fn refuse(
    State(state): State<AppState>,
    Extension(staff): Extension<Staff>,
    Path(id): Path<String>,
    body: Result<Json<RefuseBody>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let Json(body) = body?;
    let action = state
        .archive
        .refuse_licence_action(action_id(&id)?, &body.reason, &staff.author())
        .await?;
    Ok(Json(action_json(&action)))
}
