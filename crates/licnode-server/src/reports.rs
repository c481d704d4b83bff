//! `/api/v1/reports…`: the statutory reports (Art. 18–21, 26). Runs by hand and their record,
//! a period's revisions and who below has reported it, submission by an approver, and the
//! official forms (Attachments 1–3) as XLSX or CSV.
//!
//! - `GET  /reports/runs?kind=&limit=` — the latest runs, newest first.
//! - `POST /reports/runs {"kind", "period"}` — build (or rebuild) a period now (clerks and up).
//! - `GET  /reports/periods/{kind}/{period}` — this node's revisions and the summary of the
//!   reports received from below: counts per reporter, totals, who is missing and how late.
//! - `POST /reports/{id}/submit` — freeze a draft (approvers, Art. 19 "报送").
//! - `GET  /reports/forms/{form}/{record}?format=xlsx|csv&filing_date=` — an official form.

use axum::Json;
use axum::Router;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Extension, Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use licnode_app::{ReportError, ReportSettings, Reports};
use licnode_reports::{FormName, Period, ReportKind};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::Staff;
use crate::{ApiError, AppState};

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/reports/runs", get(list_runs).post(run))
        .route("/reports/periods/{kind}/{period}", get(period))
        .route("/reports/{id}/submit", post(submit))
        .route("/reports/forms/{form}/{record}", get(form))
}

fn reports(state: &AppState) -> Reports {
    // Runs by hand leave drafts: an approver submits them (auto_submit is the scheduler's).
    Reports::new(
        state.archive.clone(),
        state.clock.clone(),
        ReportSettings {
            unit_name: state.node.name.clone(),
            auto_submit: false,
        },
    )
}

impl From<ReportError> for ApiError {
    fn from(error: ReportError) -> Self {
        let code = error.code();
        match error {
            ReportError::Archive(error) => error.into(),
            ReportError::Store(error) => error.into(),
            ReportError::Period(_) => ApiError::bad_request(code, error.to_string()),
            ReportError::NotFound(_) => {
                ApiError::new(StatusCode::NOT_FOUND, code, error.to_string())
            }
            ReportError::AlreadySubmitted(_)
            | ReportError::PeriodNotEnded(_)
            | ReportError::NarrativeMissing(_) => {
                ApiError::new(StatusCode::CONFLICT, code, error.to_string())
            }
            ReportError::NotOwnReport(_) => {
                ApiError::new(StatusCode::FORBIDDEN, code, error.to_string())
            }
        }
    }
}

fn period_of(kind: &str, period: &str) -> Result<Period, ApiError> {
    let kind = ReportKind::parse(kind)
        .map_err(|error| ApiError::bad_request(error.code(), error.to_string()))?;
    Period::parse(kind, period)
        .map_err(|error| ApiError::bad_request(error.code(), error.to_string()))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RunsQuery {
    kind: Option<String>,
    limit: Option<i64>,
}

async fn list_runs(
    State(state): State<AppState>,
    Extension(_staff): Extension<Staff>,
    query: Result<Query<RunsQuery>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(query) = query?;
    let kind = query
        .kind
        .as_deref()
        .map(ReportKind::parse)
        .transpose()
        .map_err(|error| ApiError::bad_request(error.code(), error.to_string()))?;
    let runs = state
        .archive
        .report_runs(kind, query.limit.unwrap_or(50))
        .await?;
    Ok(Json(json!({ "items": runs })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RunRequest {
    kind: String,
    period: String,
}

async fn run(
    State(state): State<AppState>,
    Extension(staff): Extension<Staff>,
    body: Result<Json<RunRequest>, JsonRejection>,
) -> Result<Response, ApiError> {
    staff.require_write()?;
    let Json(body) = body?;
    let period = period_of(&body.kind, &body.period)?;
    let result = reports(&state).run(&period, &staff.user.name).await?;
    let status = if result.run.outcome == "created" || result.run.outcome == "revised" {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(json!(result))).into_response())
}

async fn period(
    State(state): State<AppState>,
    Extension(_staff): Extension<Staff>,
    Path((kind, period)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let period = period_of(&kind, &period)?;
    let reports = reports(&state);
    let revisions = reports.revisions(&period).await?;
    let summary = reports.summary(&period).await?;
    Ok(Json(json!({ "revisions": revisions, "received": summary })))
}

async fn submit(
    State(state): State<AppState>,
    Extension(staff): Extension<Staff>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    staff.require_approve()?;
    let record = reports(&state).submit(&id, &staff.author()).await?;
    Ok(Json(json!(record)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FormQuery {
    format: Option<String>,
    filing_date: Option<String>,
}

async fn form(
    State(state): State<AppState>,
    Extension(_staff): Extension<Staff>,
    Path((form, record)): Path<(String, String)>,
    query: Result<Query<FormQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(query) = query?;
    let form = FormName::parse(&form).ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown_form",
            format!("unknown form {form:?}: attachment1, attachment2 or attachment3"),
        )
    })?;
    let xlsx = match query.format.as_deref().unwrap_or("xlsx") {
        "xlsx" => true,
        "csv" => false,
        other => {
            return Err(ApiError::bad_request(
                "bad_format",
                format!("format {other:?}: xlsx or csv"),
            ));
        }
    };
    let stored = state
        .archive
        .find(&record)
        .await?
        .filter(|stored| stored.collection == form.collection())
        .ok_or_else(|| {
            ApiError::not_found(format!("no {} record {record:?}", form.collection()))
        })?;
    let forms = form
        .build(&stored.data, query.filing_date.as_deref())
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::CONFLICT,
                "wrong_report_kind",
                "Attachment 1 is made from a monthly report",
            )
        })?;
    let written = if xlsx {
        licnode_reports::to_xlsx(&forms)
    } else {
        licnode_reports::to_csv(&forms)
    };
    let bytes = written.map_err(|error| {
        tracing::error!(%error, "cannot write the form");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "the node could not complete the request; the error is in its log",
        )
    })?;
    let (content_type, extension) = if xlsx {
        (
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "xlsx",
        )
    } else {
        ("text/csv; charset=utf-8", "csv")
    };
    let period = stored
        .data
        .get("period")
        .and_then(Value::as_str)
        .map(|period| format!("-{period}"))
        .unwrap_or_default();
    let disposition = format!(
        "attachment; filename=\"{}{period}.{extension}\"",
        form.as_str()
    );
    Ok((
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        bytes,
    )
        .into_response())
}

/// The reports routes for the OpenAPI document.
pub(crate) fn openapi_paths() -> serde_json::Map<String, Value> {
    let error = |codes: &str| {
        json!({ "description": codes,
                "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } })
    };
    let mut paths = serde_json::Map::new();
    paths.insert("/api/v1/reports/runs".into(), json!({
        "get": {
            "summary": "The latest report runs, newest first (kind, period, started, finished, outcome)",
            "parameters": [
                { "name": "kind", "in": "query", "schema": { "type": "string", "enum": ["monthly", "yearly"] } },
                { "name": "limit", "in": "query", "schema": { "type": "integer", "minimum": 1, "maximum": 1000 } }
            ],
            "responses": { "200": { "description": "runs" }, "400": error("unknown_report_kind") }
        },
        "post": {
            "summary": "Build (or rebuild) this node's report of a period now (Art. 18-20); clerks and up",
            "requestBody": { "required": true, "content": { "application/json": { "schema": {
                "type": "object", "required": ["kind", "period"],
                "properties": { "kind": { "type": "string", "enum": ["monthly", "yearly"] },
                                "period": { "type": "string", "description": "YYYY-MM or YYYY" } } } } } },
            "responses": {
                "201": { "description": "a report or a new revision was created" },
                "200": { "description": "the draft was updated, or nothing changed" },
                "400": error("unknown_report_kind or invalid_period"),
                "403": error("forbidden_role"),
                "409": error("period_not_ended")
            }
        }
    }));
    paths.insert("/api/v1/reports/periods/{kind}/{period}".into(), json!({ "get": {
        "summary": "This node's revisions of a period, and the reports received from below: counts per reporter, totals, who is missing and how many days late",
        "parameters": [
            { "name": "kind", "in": "path", "required": true, "schema": { "type": "string", "enum": ["monthly", "yearly"] } },
            { "name": "period", "in": "path", "required": true, "schema": { "type": "string" } }
        ],
        "responses": { "200": { "description": "revisions and received" }, "400": error("unknown_report_kind or invalid_period") }
    } }));
    paths.insert("/api/v1/reports/{id}/submit".into(), json!({ "post": {
        "summary": "Submit (freeze) a draft report; approvers only (Art. 19)",
        "parameters": [ { "name": "id", "in": "path", "required": true, "schema": { "type": "string" } } ],
        "responses": {
            "200": { "description": "the submitted report" },
            "403": error("approval_required or report_not_own"),
            "404": error("not_found"),
            "409": error("report_already_submitted or narrative_missing")
        }
    } }));
    paths.insert("/api/v1/reports/forms/{form}/{record}".into(), json!({ "get": {
        "summary": "An official form as XLSX or CSV: attachment1 from a monthly report, attachment2 from a review plan, attachment3 from an inspection body",
        "parameters": [
            { "name": "form", "in": "path", "required": true, "schema": { "type": "string", "enum": ["attachment1", "attachment2", "attachment3"] } },
            { "name": "record", "in": "path", "required": true, "schema": { "type": "string" } },
            { "name": "format", "in": "query", "schema": { "type": "string", "enum": ["xlsx", "csv"] } },
            { "name": "filing_date", "in": "query", "schema": { "type": "string", "format": "date" } }
        ],
        "responses": {
            "200": { "description": "the file" },
            "400": error("bad_format"),
            "404": error("unknown_form or not_found"),
            "409": error("wrong_report_kind")
        }
    } }));
    paths
}
