//! The statutory reports' pages (Art. 18–20, Attachment 1): the schedule (which periods are
//! due, which ran, which were submitted), running a period, a report's page with the four
//! tables of Attachment 1, submission (approvers: the reports service decides on the session's
//! typed role), the XLSX and CSV downloads (the JSON API's writer, so the same bytes) and a
//! print view that reproduces the official form on A4 landscape.

use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use chrono::NaiveDate;
use licnode_reports::forms::{self as official, FillDate};
use licnode_reports::{FormName, Period, ReportKind};
use licnode_store::StoredRecord;
use maud::{Markup, html};
use serde_json::Value;

use super::flow_messages::china_time;
use super::layout::{WebError, articles_label, page};
use super::official_forms::{self, FormParams};
use super::page_operation;
use super::session::{CSRF_FIELD, WebSession};
use crate::reports::{form_file, period_of, reports};
use crate::routes::Routes;
use crate::{ApiError, AppState};

type Pairs = Vec<(String, String)>;

/// The articles behind the reports.
const ARTICLES: &[u16] = &[18, 19, 20];
/// Months the schedule shows, newest first.
const SCHEDULE_MONTHS: u32 = 12;
/// Years the schedule shows, newest first.
const SCHEDULE_YEARS: i32 = 3;
/// Runs the schedule lists.
const RECENT_RUNS: i64 = 20;

pub(crate) fn routes() -> Routes<AppState> {
    Routes::new()
        .get(
            "/reports",
            schedule,
            page_operation("The reports' schedule: the periods due, which ran, which were submitted, and the latest runs"),
        )
        .post(
            "/reports/run",
            run_period,
            page_operation("Run (build or rebuild) a period's report now; clerks and approvers")
                .answers(303, "run: to the report's page")
                .refuses_with_page(409, "the period has not ended (`period_not_ended`)"),
        )
        .get(
            "/reports/{id}",
            report_page,
            page_operation("A report: its figures, the four tables of Attachment 1, submission, downloads"),
        )
        .post(
            "/reports/{id}/submit",
            submit_report,
            page_operation("Submit (报送) the report; approvers only, decided by the reports service")
                .answers(303, "submitted: to the report's page")
                .refuses_with_page(409, "submitted already (`report_already_submitted`)"),
        )
        .get(
            "/reports/{id}/attachment1",
            download_attachment_1,
            page_operation("Attachment 1 of a monthly report as a file (`?format=xlsx|csv&fill_date=report|blank`), the same bytes as the JSON API's form download"),
        )
        .get(
            "/reports/{id}/print",
            print_view,
            page_operation("Attachment 1 as the original prints it (A4 landscape, `?fill_date=report|blank`): 附件1：, the overall title, the four tables with 填报单位, 填报日期, numbered rows and notes"),
        )
}

fn text<'a>(record: &'a StoredRecord, field: &str) -> &'a str {
    record
        .data
        .get(field)
        .and_then(Value::as_str)
        .unwrap_or_default()
}

fn status_label(status: &str) -> &'static str {
    match status {
        "submitted" => "已报送",
        "draft" => "草稿",
        _ => "未生成",
    }
}

fn kind_label(kind: &str) -> &'static str {
    ReportKind::parse(kind).map_or("报表", ReportKind::label_zh)
}

/// The periods the schedule shows: the last months and years that can be reported.
fn scheduled_periods(today: NaiveDate) -> Vec<Period> {
    let mut periods = Vec::new();
    let mut month = Period::month_before(today);
    for _ in 0..SCHEDULE_MONTHS {
        periods.push(month);
        month = match month {
            Period::Month { year, month: 1 } => Period::Month {
                year: year - 1,
                month: 12,
            },
            Period::Month { year, month } => Period::Month {
                year,
                month: month - 1,
            },
            year => year,
        };
    }
    let this_year = Period::year_of(today).year();
    for offset in 0..SCHEDULE_YEARS {
        periods.push(Period::Year(this_year - offset));
    }
    periods
}

fn run_form(session: &WebSession, today: NaiveDate) -> Markup {
    html! {
        form.filters method="post" action="/reports/run" #run-period {
            input type="hidden" name=(CSRF_FIELD) value=(session.csrf_token);
            label { "报表类型"
                select name="kind" {
                    option value="monthly" { "月报" }
                    option value="yearly" { "年报" }
                }
            }
            label { "报告期（月报 YYYY-MM，年报 YYYY）"
                input type="text" name="period" required value=(Period::month_before(today).to_string());
            }
            button type="submit" { "生成报表" }
        }
    }
}

async fn schedule(
    State(state): State<AppState>,
    Extension(session): Extension<WebSession>,
) -> Result<Response, WebError> {
    let reports = reports(&state);
    let today = state.clock.today();
    let mut rows = Vec::new();
    for period in scheduled_periods(today) {
        let latest = reports
            .revisions(&period)
            .await
            .map_err(ApiError::from)?
            .pop();
        rows.push((period, latest));
    }
    let runs = reports.runs(None, RECENT_RUNS).await?;
    let body = html! {
        h1 { "统计报表" }
        p.basis { "依据：" (articles_label(ARTICLES)) "、附件1 · 月报于次月10日前报送，年报于当年10月31日前报送" }
        @if session.staff.user.role.may_write() {
            (run_form(&session, today))
        }
        div.table-scroll { table.list #schedule {
            thead { tr {
                th { "报告期" } th { "类型" } th { "报送期限" } th { "状态" } th { "版本" }
                th { "报送时间" } th.number { "逾期天数" }
            } }
            tbody {
                @for (period, latest) in &rows {
                    @let status = latest.as_ref().map(|record| text(record, "status")).unwrap_or_default();
                    @let late = if status == "submitted" || period.due_date() >= today { 0 } else { period.days_late(today) };
                    tr data-period=(period.to_string()) data-status=(status) {
                        td { @if let Some(record) = latest { a href={ "/reports/" (record.id) } { (period.to_string()) } } @else { (period.to_string()) } }
                        td { (period.kind().label_zh()) }
                        td { (period.due_date().format("%Y-%m-%d").to_string()) }
                        td { (status_label(status)) }
                        td { (latest.as_ref().map(|record| record.data.get("revision").map(super::form::value_text).unwrap_or_default()).unwrap_or_default()) }
                        td { (latest.as_ref().map(|record| text(record, "submitted_at")).unwrap_or_default()) }
                        td.number { @if late > 0 { strong.late { (late) } } @else { "—" } }
                    }
                }
            }
        } }
        h2 { "最近的运行" }
        @if runs.is_empty() {
            p.empty { "尚无运行记录。" }
        } @else {
            div.table-scroll { table.list #runs {
                thead { tr { th { "报告期" } th { "类型" } th { "发起" } th { "开始时间" } th { "结果" } th { "说明" } } }
                tbody {
                    @for run in &runs {
                        tr {
                            td { @if let Some(id) = &run.report_id { a href={ "/reports/" (id) } { (run.period) } } @else { (run.period) } }
                            td { (kind_label(&run.kind)) }
                            td { (run.started_by) }
                            td { (china_time(run.started_at_ms)) }
                            td { (run.outcome) }
                            td { (run.detail.as_deref().unwrap_or("")) }
                        }
                    }
                }
            } }
        }
    };
    Ok(Html(page(&state.node, Some(&session), "统计报表", body).into_string()).into_response())
}

async fn run_period(
    State(state): State<AppState>,
    Extension(session): Extension<WebSession>,
    Form(pairs): Form<Pairs>,
) -> Result<Response, WebError> {
    let value = |name: &str| {
        pairs
            .iter()
            .find(|(known, _)| known == name)
            .map(|(_, value)| value.trim().to_string())
            .unwrap_or_default()
    };
    let period = period_of(&value("kind"), &value("period"))?;
    let result = reports(&state)
        .run_as(&period, &session.staff.author())
        .await
        .map_err(ApiError::from)?;
    let target = result.report.map_or_else(
        || "/reports".to_string(),
        |report| format!("/reports/{}", report.id),
    );
    Ok(Redirect::to(&target).into_response())
}

async fn report_of(state: &AppState, id: &str) -> Result<StoredRecord, WebError> {
    state
        .archive
        .find(id)
        .await?
        .filter(|record| record.collection == "reports")
        .ok_or_else(|| ApiError::not_found(format!("no report {id:?}")).into())
}

/// A yearly report's four sections (Art. 20): each with its figures — from the year's records
/// and from the supervision reports held — and its narrative, or a mark that it is missing.
fn yearly_sections(report: &StoredRecord) -> Markup {
    let content: Value = serde_json::from_str(text(report, "content")).unwrap_or(Value::Null);
    let figures_of = |code: &str| -> Vec<Value> {
        content["sections"]
            .as_array()
            .and_then(|sections| sections.iter().find(|section| section["code"] == code))
            .and_then(|section| section["figures"].as_array().cloned())
            .unwrap_or_default()
    };
    html! {
        @for section in licnode_reports::YEARLY_SECTIONS {
            section.yearly-section data-section=(section.code) {
                h2 { (section.name_zh) }
                div.table-scroll { table.list {
                    thead { tr { th { "项目" } th { "按本年度记录" } th { "按监管情况报告" } } }
                    tbody { @for figure in figures_of(section.code) { tr {
                        td { (figure["label_zh"].as_str().unwrap_or_default()) }
                        td { (figure["from_records"]) }
                        td { (figure["from_supervision_reports"]) }
                    } } }
                } }
                @match text(report, section.narrative_field).trim() {
                    "" => { p.empty data-missing="narrative" { "情况说明尚未填写（报送前必填）。" } }
                    narrative => { p.narrative { (narrative) } }
                }
            }
        }
    }
}

async fn report_page(
    State(state): State<AppState>,
    Extension(session): Extension<WebSession>,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let report = report_of(&state, &id).await?;
    let attachment = official::attachment_1_of_report(&report.data, FillDate::Report);
    let status = text(&report, "status");
    // Only the node that made a report submits it; those received from below are read.
    let own = report.jurisdiction == state.archive.scope.node_code;
    let title = format!(
        "{}：{}（第{}版）",
        kind_label(text(&report, "report_kind")),
        text(&report, "period"),
        report
            .data
            .get("revision")
            .map(super::form::value_text)
            .unwrap_or_default()
    );
    let counts = [
        ("申请企业", "applicant_count"),
        ("获证", "granted_count"),
        ("不予许可", "refused_count"),
        ("变更", "changed_count"),
        ("撤回、撤销、吊销和注销", "terminated_count"),
    ];
    let body = html! {
        h1 { (title) }
        p.basis { "依据：" (articles_label(ARTICLES)) "、附件1 · 填报单位：" (text(&report, "reporting_unit")) " · 填报日期：" (text(&report, "fill_date")) }
        p { "状态：" strong #report-status data-status=(status) { (status_label(status)) }
            @if !text(&report, "submitted_at").is_empty() { " · 报送时间：" (text(&report, "submitted_at")) } }
        dl.fields {
            @for (label, field) in counts {
                @if let Some(value) = report.data.get(field) { dt { (label) } dd { (super::form::value_text(value)) } }
            }
        }
        p.report-actions {
            @if attachment.is_some() {
                a.button #download-xlsx href={ "/reports/" (report.id) "/attachment1?format=xlsx" } { "下载附件1（XLSX）" } " "
                a.button #download-csv href={ "/reports/" (report.id) "/attachment1?format=csv" } { "下载附件1（CSV）" } " "
                a.button #print-view href={ "/reports/" (report.id) "/print" } { "打印视图" }
            }
        }
        @if attachment.is_some() {
            // Art. 19: the bureau may leave 填报日期 blank and write it by hand beside its seal.
            p.report-actions #blank-fill-date { "填报日期留空（手写）："
                a.button #download-xlsx-blank href={ "/reports/" (report.id) "/attachment1?format=xlsx&fill_date=blank" } { "XLSX" } " "
                a.button #download-csv-blank href={ "/reports/" (report.id) "/attachment1?format=csv&fill_date=blank" } { "CSV" } " "
                a.button #print-view-blank href={ "/reports/" (report.id) "/print?fill_date=blank" } { "打印视图" }
            }
        }
        @if status == "draft" && !own {
            p.read-only { "这是下级报送来的报表（" (report.jurisdiction) "）。" }
        } @else if status == "draft" && session.staff.user.role.may_approve() {
            form.inline method="post" action={ "/reports/" (report.id) "/submit" } #submit-report {
                input type="hidden" name=(CSRF_FIELD) value=(session.csrf_token);
                button type="submit" { "报送" }
            }
        } @else if status == "draft" {
            p.read-only { "报表须由审批人报送（第19条）。" }
        }
        @if status == "draft" && own && text(&report, "report_kind") == "yearly" && session.staff.user.role.may_write() {
            p { a.button href={ "/records/" (report.id) "/edit" } { "填写年度审查、巡查回访、定期监督、问题企业处理情况（第20条）" } }
        }
        @if text(&report, "report_kind") == "yearly" { (yearly_sections(&report)) }
        @if let Some(forms) = &attachment {
            div.table-scroll { (official_forms::form_html(forms)) }
        } @else if let Some(remarks) = report.data.get("remarks") {
            h2 { "工作情况说明" }
            p { (super::form::value_text(remarks)) }
        }
        p { a href="/reports" { "返回统计报表" } }
    };
    Ok(Html(page(&state.node, Some(&session), &title, body).into_string()).into_response())
}

async fn submit_report(
    State(state): State<AppState>,
    Extension(session): Extension<WebSession>,
    Path(id): Path<String>,
    _form: Form<Pairs>,
) -> Result<Response, WebError> {
    // The reports service decides: submitting is an approver's act (Art. 19), checked in the
    // write on the session's typed role.
    reports(&state)
        .submit(&id, &session.staff.author())
        .await
        .map_err(ApiError::from)?;
    Ok(Redirect::to(&format!("/reports/{id}")).into_response())
}

async fn download_attachment_1(
    State(state): State<AppState>,
    Extension(_session): Extension<WebSession>,
    Path(id): Path<String>,
    Query(params): Query<FormParams>,
) -> Result<Response, WebError> {
    Ok(form_file(
        &state,
        FormName::Attachment1,
        &id,
        params.xlsx()?,
        params.choice()?,
    )
    .await?)
}

/// Attachment 1 as the original prints it: 附件1：, the overall title, each table with its
/// 填报单位 and 填报日期 (the report's, or blank with `?fill_date=blank`), its numbered rows and
/// its notes, each table on its own A4 landscape page.
async fn print_view(
    State(state): State<AppState>,
    Extension(session): Extension<WebSession>,
    Path(id): Path<String>,
    Query(params): Query<FormParams>,
) -> Result<Response, WebError> {
    let (report, forms) =
        official_forms::sheets_of(&state, FormName::Attachment1, &id, params.choice()?).await?;
    let body = official_forms::print_body(&forms, &format!("/reports/{}", report.id), "返回报表");
    Ok(Html(
        page(
            &state.node,
            Some(&session),
            official::ATTACHMENT_1_TITLE,
            body,
        )
        .into_string(),
    )
    .into_response())
}
