//! Keeping and destroying archives (Art. 37, 38) in pages: what has come due, a clerk's
//! request to destroy it with a reason, the parent's page where an approver approves or
//! refuses a child's request (signed by the node key), carrying out an approval, and the
//! destruction certificates with the verification of each one's signed approval. Every step is
//! the retention service's (`Archive::request_destruction`, `decide_destruction`,
//! `destroy_approved`), called as the JSON API calls it.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use licnode_model::DestructionDecision;
use licnode_store::retention::NodeKey;
use licnode_store::{ListQuery, StoredRecord};
use maud::{Markup, html};
use serde_json::Value;

use super::flow_messages::china_time;
use super::layout::{WebError, articles_label, page};
use super::page_operation;
use super::session::{CSRF_FIELD, WebSession};
use crate::retention::api_error;
use crate::routes::Routes;
use crate::{ApiError, AppState};

type Pairs = Vec<(String, String)>;

/// The articles behind keeping and destroying.
const ARTICLES: &[u16] = &[37, 38];
/// Due records a page lists (the request may name every due record at once).
const DUE_SHOWN: usize = 200;
/// Requests a page lists.
const REQUESTS_SHOWN: i64 = 50;
/// Certificates a page lists and verifies, newest first.
const CERTIFICATES_SHOWN: usize = 100;

pub(crate) fn routes() -> Routes<AppState> {
    Routes::new()
        .get(
            "/retention",
            overview,
            page_operation("Keeping and destroying: the records whose retention period is over, the destruction request form, and the requests of this node and its children (paged by `after`)"),
        )
        .post(
            "/retention/requests",
            request_destruction,
            page_operation("Ask the parent's approval to destroy the chosen due records (all due records when none is chosen), with a reason; clerks and up")
                .answers(303, "requested: to the request's page")
                .refuses_with_page(422, "nothing due, or a record not due (`nothing_due`, `record_not_due`, …)"),
        )
        .get(
            "/retention/requests/{id}",
            request_page,
            page_operation("A destruction request: the records it names, its decision, and the parent approver's approve and refuse forms"),
        )
        .post(
            "/retention/requests/{id}/approve",
            approve_request,
            page_operation("Approve a child's destruction request (approvers, at the parent): signed with the node key")
                .answers(303, "approved: to the request's page")
                .refuses_with_page(409, "decided already (`already_decided`)"),
        )
        .post(
            "/retention/requests/{id}/refuse",
            refuse_request,
            page_operation("Refuse a child's destruction request (approvers, at the parent)")
                .answers(303, "refused: to the request's page")
                .refuses_with_page(409, "decided already (`already_decided`)"),
        )
        .post(
            "/retention/requests/{id}/destroy",
            destroy_request,
            page_operation("Carry out an approved destruction (approvers, at the requesting node): a destruction certificate is left")
                .answers(303, "destroyed: to the certificates")
                .refuses_with_page(422, "no valid approval (`not_approved`, `approval_expired`, …)"),
        )
        .get(
            "/retention/certificates",
            certificates,
            page_operation("Destruction certificates, each with the verification of its signed approval"),
        )
}

fn text<'a>(record: &'a StoredRecord, field: &str) -> &'a str {
    record
        .data
        .get(field)
        .and_then(Value::as_str)
        .unwrap_or_default()
}

/// A request's stored decision, when it is one of [`DestructionDecision`]'s values.
fn decision_of(record: &StoredRecord) -> Option<DestructionDecision> {
    DestructionDecision::ALL
        .into_iter()
        .find(|decision| decision.as_str() == text(record, "decision"))
}

/// How this page words a decision (as the requesting node sees it).
fn decision_label(decision: Option<DestructionDecision>) -> &'static str {
    match decision {
        Some(DestructionDecision::Pending) => "待上级审批",
        Some(DestructionDecision::Approved) => "已批准",
        Some(DestructionDecision::Refused) => "未批准",
        None => "未知",
    }
}

fn collection_label(name: &str) -> &str {
    licnode_model::collection(name).map_or(name, |collection| collection.label_zh)
}

fn key(state: &AppState) -> Result<Arc<dyn NodeKey>, ApiError> {
    state.retention.key.clone().ok_or(ApiError::NoNodeKey {
        cannot: "it can neither sign nor verify approvals",
    })
}

fn requests_table(requests: &[StoredRecord], own_node: &str) -> Markup {
    html! {
        div.table-scroll { table.list #requests {
            thead { tr {
                th { "申请日期" } th { "申请节点" } th.number { "档案数" } th { "状态" } th { "审批节点" } th { "销毁时间" }
            } }
            tbody {
                @for request in requests {
                    tr data-request=(request.id) data-decision=(text(request, "decision")) {
                        td { a href={ "/retention/requests/" (request.id) } { (text(request, "requested_date")) } }
                        td { (text(request, "requesting_node")) @if text(request, "requesting_node") != own_node { " （下级）" } }
                        td.number { (licnode_app::retention::parse_record_ids(text(request, "record_ids")).len()) }
                        td { (decision_label(decision_of(request))) }
                        td { (text(request, "approving_node")) }
                        td { (text(request, "destroyed_at")) }
                    }
                }
            }
        } }
    }
}

#[derive(serde::Deserialize)]
struct RequestsPage {
    /// The paging cursor of the requests: `next` of the page before.
    after: Option<String>,
}

async fn overview(
    State(state): State<AppState>,
    Extension(session): Extension<WebSession>,
    Query(paging): Query<RequestsPage>,
) -> Result<Response, WebError> {
    let after = match paging.after.filter(|text| !text.is_empty()) {
        Some(text) => Some(text.parse::<i64>().map_err(|_| ApiError::BadCursor)?),
        None => None,
    };
    let today = state.clock.today();
    let due = state
        .archive
        .due_records(today, state.retention.years)
        .await?;
    let requests = state
        .archive
        .list(&ListQuery {
            collection: licnode_store::retention::DESTRUCTIONS.to_string(),
            limit: REQUESTS_SHOWN,
            after,
            ..ListQuery::default()
        })
        .await?;
    let national = state.archive.scope.level == licnode_model::Level::National;
    let body = html! {
        h1 { "档案保管与销毁" }
        p.basis { "依据：" (articles_label(ARTICLES)) " · 档案保存" (state.retention.years) "年；销毁须经上级批准 · "
            a href="/retention/certificates" { "销毁证明" } }
        h2 { "已到保管期限的档案（" (due.len()) "）" }
        @if due.is_empty() {
            p.empty { "没有已到保管期限的档案。" }
        } @else {
            form.record method="post" action="/retention/requests" #request-destruction {
                input type="hidden" name=(CSRF_FIELD) value=(session.csrf_token);
                div.table-scroll { table.list #due {
                    thead { tr { th { "选择" } th { "数据库" } th { "记录" } th { "辖区" } th { "到期日" } } }
                    tbody {
                        @for record in due.iter().take(DUE_SHOWN) {
                            tr {
                                td { input type="checkbox" name="record_id" value=(record.id); }
                                td { (collection_label(&record.collection)) }
                                td { a href={ "/records/" (record.id) } { (record.id) } }
                                td { (record.jurisdiction) }
                                td { (record.due_on) }
                            }
                        }
                    }
                } }
                @if due.len() > DUE_SHOWN { p.basis { "仅列出前" (DUE_SHOWN) "条；不选择时申请销毁全部到期档案。" } }
                @if session.staff.user.role.may_write() && !national {
                    div.field {
                        label for="reason" { "申请理由" }
                        textarea #reason name="reason" rows="3" {}
                    }
                    div.actions { button type="submit" { "申请上级批准销毁" } }
                }
            }
        }
        h2 { "销毁申请" }
        @if requests.items.is_empty() {
            p.empty { "没有销毁申请。" }
        } @else {
            (requests_table(&requests.items, &state.archive.scope.node_code))
            @if let Some(next) = &requests.next {
                p.pager { a href={ "/retention?after=" (next) } { "下一页" } }
            }
        }
    };
    Ok(
        Html(page(&state.node, Some(&session), "档案保管与销毁", body).into_string())
            .into_response(),
    )
}

async fn request_destruction(
    State(state): State<AppState>,
    Extension(session): Extension<WebSession>,
    Form(pairs): Form<Pairs>,
) -> Result<Response, WebError> {
    session.staff.require_write()?;
    let chosen: Vec<String> = pairs
        .iter()
        .filter(|(name, value)| name == "record_id" && !value.trim().is_empty())
        .map(|(_, value)| value.trim().to_string())
        .collect();
    let reason = pairs
        .iter()
        .find(|(name, _)| name == "reason")
        .map(|(_, value)| value.as_str());
    let record = state
        .archive
        .request_destruction(
            (!chosen.is_empty()).then_some(chosen.as_slice()),
            state.clock.as_ref(),
            state.retention.years,
            reason,
            &session.staff.author(),
        )
        .await
        .map_err(api_error)?;
    Ok(Redirect::to(&format!("/retention/requests/{}", record.id)).into_response())
}

async fn destruction_request(state: &AppState, id: &str) -> Result<StoredRecord, WebError> {
    state
        .archive
        .find(id)
        .await?
        .filter(|record| record.collection == licnode_store::retention::DESTRUCTIONS)
        .ok_or_else(|| ApiError::not_found(format!("no destruction request {id:?}")).into())
}

fn decision_forms(session: &WebSession, request: &StoredRecord) -> Markup {
    html! {
        section #decide {
            h2 { "上级审批（第38条）" }
            form.record method="post" action={ "/retention/requests/" (request.id) "/approve" } {
                input type="hidden" name=(CSRF_FIELD) value=(session.csrf_token);
                div.field { label for="approve-remarks" { "审批意见" } textarea #approve-remarks name="remarks" rows="2" {} }
                div.actions { button type="submit" data-action="approve" { "批准销毁" } }
            }
            form.record method="post" action={ "/retention/requests/" (request.id) "/refuse" } {
                input type="hidden" name=(CSRF_FIELD) value=(session.csrf_token);
                div.field { label for="refuse-remarks" { "不批准的理由" } textarea #refuse-remarks name="remarks" rows="2" {} }
                div.actions { button type="submit" data-action="refuse" { "不批准" } }
            }
        }
    }
}

async fn request_page(
    State(state): State<AppState>,
    Extension(session): Extension<WebSession>,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let request = destruction_request(&state, &id).await?;
    let own = state.archive.scope.node_code.clone();
    let decision = decision_of(&request);
    // A child's request: a bureau below, or a review department or inspection body (whose
    // requests carry the national division, Art. 38).
    let from_child = text(&request, "requesting_node") != own;
    let approver = session.staff.user.role.may_approve();
    // Art. 38: the national node has no superior; its own requests go to a designated second
    // approver (the service refuses the requester and anyone not designated).
    let scope = &state.archive.scope;
    let national_own = scope.level == licnode_model::Level::National && !from_child;
    let second_approver = national_own
        && scope
            .destruction_approvers
            .contains(&session.staff.user.name);
    let record_ids = licnode_app::retention::parse_record_ids(text(&request, "record_ids"));
    let title = format!("销毁申请：{}", text(&request, "requesting_node"));
    let body = html! {
        h1 { (title) }
        p.basis { "依据：" (articles_label(ARTICLES)) " · 状态：" strong #decision data-decision=(text(&request, "decision")) { (decision_label(decision)) } }
        dl.fields {
            dt { "申请节点" } dd { (text(&request, "requesting_node")) }
            dt { "申请日期" } dd { (text(&request, "requested_date")) }
            dt { "申请理由" } dd { (text(&request, "reason")) }
            @if !text(&request, "approving_node").is_empty() {
                dt { "审批节点" } dd { (text(&request, "approving_node")) " · " (text(&request, "approver")) " · " (text(&request, "approved_at")) }
                dt { "审批意见" } dd { (text(&request, "decision_remarks")) }
                dt { "有效期至" } dd { (text(&request, "expires_at")) }
            }
            @if !text(&request, "destroyed_at").is_empty() {
                dt { "销毁时间" } dd { (text(&request, "destroyed_at")) }
            }
        }
        h2 { "申请销毁的档案（" (record_ids.len()) "）" }
        ul.record-ids { @for record_id in record_ids.iter().take(DUE_SHOWN) { li { code { (record_id) } } } }
        @if decision == Some(DestructionDecision::Pending) && (from_child || second_approver) && approver {
            (decision_forms(&session, &request))
        } @else if decision == Some(DestructionDecision::Pending) && national_own {
            p.read-only { "国家级节点的销毁申请由另一名指定审批人审批（第38条）。" }
        } @else if decision == Some(DestructionDecision::Pending) && from_child {
            p.read-only { "下级的销毁申请由本节点的审批人审批（第38条）。" }
        }
        @if decision == Some(DestructionDecision::Approved) && !from_child && approver && text(&request, "destroyed_at").is_empty() {
            form.inline method="post" action={ "/retention/requests/" (request.id) "/destroy" } {
                input type="hidden" name=(CSRF_FIELD) value=(session.csrf_token);
                button type="submit" data-action="destroy" { "按批准执行销毁" }
            }
        }
        p { a href="/retention" { "返回档案保管" } }
    };
    Ok(Html(page(&state.node, Some(&session), &title, body).into_string()).into_response())
}

fn remarks_of(pairs: &Pairs) -> Option<&str> {
    pairs
        .iter()
        .find(|(name, _)| name == "remarks")
        .map(|(_, value)| value.as_str())
}

async fn decide(
    state: &AppState,
    session: &WebSession,
    id: &str,
    approve: bool,
    remarks: Option<&str>,
) -> Result<Response, WebError> {
    let key = key(state)?;
    state
        .archive
        .decide_destruction(
            id,
            approve,
            key.as_ref(),
            state.clock.as_ref(),
            state.retention.years,
            state.retention.approval_days,
            remarks,
            &session.staff.author(),
        )
        .await
        .map_err(api_error)?;
    Ok(Redirect::to(&format!("/retention/requests/{id}")).into_response())
}

async fn approve_request(
    State(state): State<AppState>,
    Extension(session): Extension<WebSession>,
    Path(id): Path<String>,
    Form(pairs): Form<Pairs>,
) -> Result<Response, WebError> {
    decide(&state, &session, &id, true, remarks_of(&pairs)).await
}

async fn refuse_request(
    State(state): State<AppState>,
    Extension(session): Extension<WebSession>,
    Path(id): Path<String>,
    Form(pairs): Form<Pairs>,
) -> Result<Response, WebError> {
    decide(&state, &session, &id, false, remarks_of(&pairs)).await
}

async fn destroy_request(
    State(state): State<AppState>,
    Extension(session): Extension<WebSession>,
    Path(id): Path<String>,
    _form: Form<Pairs>,
) -> Result<Response, WebError> {
    let key = key(&state)?;
    let certificate = state
        .archive
        .destroy_approved(
            &id,
            key.as_ref(),
            state.clock.as_ref(),
            state.retention.years,
            &session.staff.author(),
        )
        .await
        .map_err(api_error)?;
    state.metrics.increment(
        "licnode_records_destroyed_total",
        certificate.records.len() as u64,
    );
    Ok(Redirect::to("/retention/certificates").into_response())
}

async fn certificates(
    State(state): State<AppState>,
    Extension(session): Extension<WebSession>,
) -> Result<Response, WebError> {
    let certificates = state.archive.destruction_certificates().await?;
    let key = state.retention.key.clone();
    let body = html! {
        h1 { "销毁证明" }
        p.basis { "依据：" (articles_label(ARTICLES)) " · 每份证明附上级签署的批准，本页逐份验证签名" }
        @if certificates.is_empty() {
            p.empty { "尚无销毁证明。" }
        } @else {
            div.table-scroll { table.list #certificates {
                thead { tr {
                    th { "证明编号" } th { "销毁时间" } th { "执行人" } th { "批准节点" } th { "审批人" }
                    th.number { "档案数" } th { "验证结果" }
                } }
                tbody {
                    @for certificate in certificates.iter().rev().take(CERTIFICATES_SHOWN) {
                        @let verified = key.as_ref().map(|key| state.archive.verify_destruction_certificate(certificate, key.as_ref()));
                        tr data-certificate=(certificate.id) {
                            td { code { (certificate.id) } }
                            td { (china_time(certificate.destroyed_at_ms)) }
                            td { (certificate.destroyed_by) }
                            td { (certificate.approving_node) }
                            td { (certificate.approver) }
                            td.number { (certificate.records.len()) }
                            td {
                                @match &verified {
                                    Some(Ok(())) => { span.verified data-verification="valid" { "签名有效" } }
                                    Some(Err(error)) => { span.problem data-verification=(error.code()) { "验证未通过：" code { (error.code()) } } }
                                    None => { span data-verification="no_node_key" { "本节点无证书，无法验证" } }
                                }
                            }
                        }
                    }
                }
            } }
        }
        p { a href="/retention" { "返回档案保管" } }
    };
    Ok(Html(page(&state.node, Some(&session), "销毁证明", body).into_string()).into_response())
}
