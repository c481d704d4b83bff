//! The regulation's flows between records in the web application: an application's licence
//! file, stage by stage (Art. 6); on a quality archive's or notice's page, the records linked
//! through the enterprise they name (Art. 24, 29); and on the deadline board, the quality
//! archives not yet updated after such a notice (Art. 29). The same services as
//! `GET /api/v1/applications/{id}/licence_file`, `/records/{id}/linked` and
//! `/quality_archives/awaiting_update`.

use axum::Extension;
use axum::extract::{Path, State};
use axum::response::{Html, IntoResponse, Response};
use licnode_store::StoredRecord;
use maud::{Markup, html};
use serde_json::Value;

use super::layout::{WebError, page};
use super::page_operation;
use super::session::WebSession;
use crate::AppState;
use crate::routes::Routes;

pub(crate) fn routes() -> Routes<AppState> {
    Routes::new().get(
        "/applications/{id}/licence_file",
        licence_file_page,
        page_operation("An enterprise's licence file (Art. 6): 申请, 受理, 现场审查, 产品检验, 许可审批 with their dates and records, then the licence's events and quality archives (page)")
            .refuses_with_page(404, "no application of that id (`not_found`)"),
    )
}

fn text<'a>(record: &'a StoredRecord, field: &str) -> &'a str {
    record
        .data
        .get(field)
        .and_then(Value::as_str)
        .unwrap_or_default()
}

fn collection_label(name: &str) -> &str {
    licnode_model::collection(name).map_or(name, |collection| collection.label_zh)
}

/// The date a record of the file stands for, by its collection.
fn record_date(record: &StoredRecord) -> &str {
    let field = match record.collection.as_str() {
        "applications" => "application_date",
        "review_plans" => "planned_review_date",
        "site_verifications" => "verification_date",
        "inspections" => "completion_date",
        "licences" => "approval_date",
        "refusals" => "refusal_date",
        "licence_events" => "event_date",
        "notices" => "issue_date",
        _ => "",
    };
    text(record, field)
}

/// Records as a list of links: the collection, the date, the licence number if any.
fn records_table(records: &[StoredRecord]) -> Markup {
    html! {
        div.table-scroll { table.list {
            thead { tr { th { "记录" } th { "日期" } th { "证书编号" } th { "企业名称" } } }
            tbody {
                @for record in records {
                    tr data-collection=(record.collection) {
                        td { a href={ "/records/" (record.id) } { (collection_label(&record.collection)) } }
                        td { (record_date(record)) }
                        td { (text(record, "licence_number")) }
                        td { (text(record, "enterprise_name")) }
                    }
                }
            }
        } }
    }
}

async fn licence_file_page(
    State(state): State<AppState>,
    Extension(session): Extension<WebSession>,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let file = state.archive.licence_file(&id).await?;
    let enterprise = text(&file.application, "enterprise_name").to_string();
    let title = format!("许可档案：{enterprise}");
    let body = html! {
        h1 { (title) }
        p.basis {
            "依据：第6条（申请、受理、现场审查、产品检验、许可审批）· 申请记录 "
            a href={ "/records/" (file.application.id) } { (file.application.id) }
        }
        ol.licence-file {
            @for stage in &file.stages {
                li data-stage=(stage.code) data-done=(stage.date.is_some()) {
                    h2 { (stage.name_zh) " · "
                        @match &stage.date {
                            Some(date) => { span.date { (date) } }
                            None => { span.empty { "本节点尚无记录" } }
                        }
                    }
                    @if !stage.records.is_empty() { (records_table(&stage.records)) }
                }
            }
        }
        section #licence-events {
            h2 { "许可证变更、撤回、撤销、吊销和注销（第13条）" }
            @if file.licence_events.is_empty() { p.empty { "无。" } } @else { (records_table(&file.licence_events)) }
        }
        section #quality-archives {
            h2 { "获证企业质量档案（第12条）" }
            @if file.quality_archives.is_empty() { p.empty { "无。" } } @else { (records_table(&file.quality_archives)) }
        }
    };
    Ok(Html(page(&state.node, Some(&session), &title, body).into_string()).into_response())
}

/// On a record's page: an application's link to its licence file, a quality archive's
/// notices, a notice's quality archives (Art. 6, 24, 29); nothing for other collections.
pub(crate) async fn linked_section(
    state: &AppState,
    record: &StoredRecord,
) -> Result<Markup, WebError> {
    let heading = match record.collection.as_str() {
        "applications" => {
            return Ok(html! {
                p #licence-file { a.button href={ "/applications/" (record.id) "/licence_file" } { "查看许可档案（第6条）" } }
            });
        }
        "quality_archives" => "相关通报（第24、29条）",
        "notices" => "涉及企业的质量档案（第24、29条）",
        _ => return Ok(html! {}),
    };
    let (_, linked) = state.archive.linked_by_enterprise(&record.id).await?;
    Ok(html! {
        section #linked {
            h2 { (heading) }
            @if linked.is_empty() { p.empty { "无。" } } @else { (records_table(&linked)) }
        }
    })
}

/// On the deadline board: the quality archives not changed since a notice naming their
/// enterprise (Art. 29 "及时更新").
pub(crate) async fn awaiting_update_section(state: &AppState) -> Result<Markup, WebError> {
    let waiting = state.archive.archives_awaiting_update().await?;
    Ok(html! {
        section #archives-awaiting-update {
            h2 { "待更新的质量档案（第29条）" }
            p.basis { "通报（监督抽查不合格、审查发现问题）涉及的企业，其质量档案在通报之后尚未更新；通报办理状态为“已处理”后不再列出。" }
            @if waiting.is_empty() {
                p.empty { "没有待更新的质量档案。" }
            } @else {
                div.table-scroll { table.list {
                    thead { tr { th { "质量档案" } th { "证书编号" } th { "通报" } } }
                    tbody {
                        @for item in &waiting {
                            tr data-archive=(item.archive.id) {
                                td { a href={ "/records/" (item.archive.id) } { (text(&item.archive, "enterprise_name")) } }
                                td { (text(&item.archive, "licence_number")) }
                                td {
                                    @for notice in &item.notices {
                                        a href={ "/records/" (notice.id) } { (text(notice, "notice_number")) " " (record_date(notice)) } " "
                                    }
                                }
                            }
                        }
                    }
                } }
            }
        }
    })
}
