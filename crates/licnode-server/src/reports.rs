//! `/api/v1/reports…`: the statutory reports (Art. 18–21, 26). Runs by hand and their record,
//! a period's revisions and who below has reported it, submission by an approver, and the
//! official forms (Attachments 1–3) as XLSX or CSV.
//!
//! - `GET  /reports/runs?kind=&limit=` — the latest runs, newest first.
//! - `POST /reports/runs {"kind", "period"}` — build (or rebuild) a period now (clerks and up).
//! - `GET  /reports/periods/{kind}/{period}` — this node's revisions and the summary of the
//!   reports received from below: counts per reporter, totals, who is missing and how late.
//! - `POST /reports/{id}/submit` — freeze a draft (approvers, Art. 19 "报送").
//! - `GET  /reports/forms/{form}/{record}?format=xlsx|csv&filing_date=&fill_date=report|blank`
//!   — an official form; `fill_date=blank` leaves Attachment 1's 填报日期 for the bureau to
//!   write by hand, as the original prints it.

use crate::error::ErrorCode;
use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Extension, Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use licnode_app::{ReportSettings, Reports};
use licnode_reports::{FillDate, FormName, Period, ReportKind};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::Staff;
use crate::routes::{Operation, Routes};
use crate::{ApiError, AppState};

/// The reports routes, each with its description.
pub(crate) fn routes() -> Routes<AppState> {
    let kinds = json!({ "type": "string", "enum": ["monthly", "yearly"] });
    Routes::new()
        .get(
            "/reports/runs",
            list_runs,
            Operation::new("The latest report runs, newest first (kind, period, started, finished, outcome)")
                .parameters(json!([
                    { "name": "kind", "in": "query", "schema": kinds },
                    { "name": "limit", "in": "query", "schema": { "type": "integer", "minimum": 1, "maximum": 1000 } }
                ]))
                .answers(200, "runs")
                .refuses(400, &[ErrorCode::BadQuery, ErrorCode::UnknownReportKind], "a malformed query or an unknown kind"),
        )
        .post(
            "/reports/runs",
            run,
            Operation::new("Build (or rebuild) this node's report of a period now (Art. 18-20); clerks and up")
                .json_body(json!({
                    "type": "object", "required": ["kind", "period"],
                    "properties": { "kind": kinds,
                                    "period": { "type": "string", "description": "YYYY-MM or YYYY" } } }))
                .answers(201, "a report or a new revision was created")
                .answers(200, "the draft was updated, or nothing changed")
                .refuses(400, &[ErrorCode::MalformedJson, ErrorCode::BadBody, ErrorCode::UnknownReportKind, ErrorCode::InvalidPeriod], "malformed body, an unknown kind or a malformed period")
                .refuses(403, &[ErrorCode::ForbiddenRole], "auditors only read")
                .refuses(409, &[ErrorCode::PeriodNotEnded], "the period has not ended"),
        )
        .get(
            "/reports/periods/{kind}/{period}",
            period,
            Operation::new("This node's revisions of a period, and the reports received from below: counts per reporter, totals, who is missing and how many days late")
                .parameters(json!([{ "name": "kind", "in": "path", "required": true, "schema": kinds }]))
                .answers(200, "revisions and received")
                .refuses(400, &[ErrorCode::UnknownReportKind, ErrorCode::InvalidPeriod], "an unknown kind or a malformed period"),
        )
        .post(
            "/reports/{id}/submit",
            submit,
            Operation::new("Submit (freeze) a draft report; approvers only (Art. 19)")
                .answers(200, "the submitted report")
                .refuses(403, &[ErrorCode::ApprovalRequired, ErrorCode::ReportNotOwn], "not an approver, or a report of another node")
                .refuses(404, &[ErrorCode::NotFound], "no such report")
                .refuses(409, &[ErrorCode::ReportAlreadySubmitted, ErrorCode::NarrativeMissing], "already submitted, or a yearly report lacks the narrative of one of its four sections (Art. 20)"),
        )
        .get(
            "/reports/forms/{form}/{record}",
            form,
            Operation::new("An official form as XLSX or CSV: attachment1 from a monthly report, attachment2 from a review plan, attachment3 from an inspection body")
                .parameters(json!([
                    { "name": "form", "in": "path", "required": true, "schema": { "type": "string", "enum": ["attachment1", "attachment2", "attachment3"] } },
                    { "name": "format", "in": "query", "schema": { "type": "string", "enum": ["xlsx", "csv"] } },
                    { "name": "filing_date", "in": "query", "schema": { "type": "string", "format": "date" } },
                    { "name": "fill_date", "in": "query", "description": "attachment1: the report's 填报日期 (report, the default) or blank, to be written by hand", "schema": { "type": "string", "enum": ["report", "blank"] } }
                ]))
                .answers_content(200, "the form as XLSX", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", json!({ "type": "string", "format": "binary" }))
                .refuses(400, &[ErrorCode::BadQuery, ErrorCode::BadFormat, ErrorCode::BadFillDate], "a malformed query, an unknown format or fill_date")
                .refuses(404, &[ErrorCode::UnknownForm, ErrorCode::NotFound], "an unknown form or no such record")
                .refuses(409, &[ErrorCode::WrongReportKind], "attachment1 is made from a monthly report"),
        )
}

pub(crate) fn reports(state: &AppState) -> Reports {
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

pub(crate) fn period_of(kind: &str, period: &str) -> Result<Period, ApiError> {
    let kind = ReportKind::parse(kind)?;
    Ok(Period::parse(kind, period)?)
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
    let kind = query.kind.as_deref().map(ReportKind::parse).transpose()?;
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
    let result = reports(&state).run_as(&period, &staff.author()).await?;
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
    fill_date: Option<String>,
}

/// `report` (or absent) or `blank`; `bad_fill_date` otherwise.
pub(crate) fn fill_date_of(value: Option<&str>) -> Result<FillDate, ApiError> {
    value.map_or(Ok(FillDate::Report), |value| {
        FillDate::parse(value).ok_or_else(|| ApiError::BadFillDate {
            value: value.to_string(),
        })
    })
}

async fn form(
    State(state): State<AppState>,
    Extension(_staff): Extension<Staff>,
    Path((form, record)): Path<(String, String)>,
    query: Result<Query<FormQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(query) = query?;
    let form = FormName::parse(&form).ok_or_else(|| ApiError::UnknownForm {
        form: form.to_string(),
    })?;
    let xlsx = match query.format.as_deref().unwrap_or("xlsx") {
        "xlsx" => true,
        "csv" => false,
        other => {
            return Err(ApiError::BadFormat {
                format: other.to_string(),
            });
        }
    };
    let fill_date = fill_date_of(query.fill_date.as_deref())?;
    let choice = FormChoice {
        filing_date: query.filing_date.as_deref(),
        fill_date,
    };
    form_file(&state, form, &record, xlsx, choice).await
}

/// What a download of a form asks for beside the record: the filing of Attachment 3, and
/// whether Attachment 1 states its 填报日期.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct FormChoice<'a> {
    pub(crate) filing_date: Option<&'a str>,
    pub(crate) fill_date: FillDate,
}

/// An official form of a stored record as a download (XLSX or CSV): the one writer the JSON
/// API's route and the web application's download links share, so both give the same bytes.
pub(crate) async fn form_file(
    state: &AppState,
    form: FormName,
    record: &str,
    xlsx: bool,
    choice: FormChoice<'_>,
) -> Result<Response, ApiError> {
    let (stored, forms) = state
        .archive
        .official_form(form, record, choice.filing_date, choice.fill_date)
        .await?;
    let written = if xlsx {
        licnode_reports::to_xlsx(&forms)
    } else {
        licnode_reports::to_csv(&forms)
    };
    let bytes = written.map_err(|error| {
        tracing::error!(%error, "cannot write the form");
        ApiError::Internal
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
