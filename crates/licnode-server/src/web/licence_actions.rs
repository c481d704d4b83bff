//! The licence lifecycle's pages (Art. 13, 19, 28): from a licence's page a clerk prepares a
//! change (变更), withdrawal (撤回), revocation (撤销), revocation as a penalty (吊销) or
//! cancellation (注销) with the licence event's form generated from the model; approvers see
//! what waits for them ("待审批") and approve an action with one click — the records service
//! writes the licence event and the licence's status together — or refuse it with a reason.
//! Every decision is the service's (`Archive::approve_licence_action`, …) on the session's
//! typed role; a page only offers what the role may do.

use crate::error::ErrorCode;
use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use licnode_app::LicenceActionError;
use licnode_model::{Collection, EventKind};
use licnode_store::StoredRecord;
use licnode_store::licence_actions::{LicenceAction, states};
use maud::{Markup, html};
use serde_json::{Map, Value};

use super::flow_messages::china_time;
use super::form::{self, FormView, Typed};
use super::layout::{WebError, articles_label, page};
use super::messages;
use super::page_operation;
use super::session::{CSRF_FIELD, WebSession};
use crate::licence_actions::{ListParams, action_query};
use crate::routes::Routes;
use crate::{ApiError, AppState};

type Pairs = Vec<(String, String)>;

/// The articles behind the licence work flow.
const ARTICLES: &[u16] = &[13, 19, 28];

pub(crate) fn routes() -> Routes<AppState> {
    Routes::new()
        .get(
            "/licences/{id}/actions/new",
            new_action_form,
            page_operation("The form that prepares a change, withdrawal, revocation or cancellation of a licence (`?kind=`), the licence event's fields from the model"),
        )
        .post(
            "/licences/{id}/actions/new",
            prepare_action,
            page_operation("Prepare the licence action from the form: it waits for an approver")
                .answers(303, "prepared: to the action's page")
                .refuses_with_page(409, "the licence is no longer active (`licence_not_active`)")
                .refuses_with_page(422, "a field failed validation: the form again, each problem next to its field"),
        )
        .get(
            "/licence-actions",
            action_list,
            page_operation("Prepared licence actions (`?state=pending` by default: 待审批), newest first, paged"),
        )
        .get(
            "/licence-actions/{id}",
            action_page,
            page_operation("A prepared licence action: the event's fields, who prepared and decided it, and for an approver the approve and refuse buttons"),
        )
        .post(
            "/licence-actions/{id}/approve",
            approve_action,
            page_operation("Approve the action in one click: the licence event and the licence's status are written together")
                .answers(303, "approved: to the action's page")
                .refuses_with_page(409, "decided already (`action_not_pending`) or the licence is no longer active"),
        )
        .post(
            "/licence-actions/{id}/refuse",
            refuse_action,
            page_operation("Refuse the action with a reason")
                .answers(303, "refused: to the action's page")
                .refuses_with_page(409, "decided already (`action_not_pending`)")
                .refuses_with_page(422, "no reason given (`reason_required`)"),
        )
}

/// The event kinds in the order a page offers them.
fn kind_label(kind: &str) -> &'static str {
    kind.parse::<EventKind>()
        .map_or("未知", EventKind::label_zh)
}

fn state_label(state: &str) -> &'static str {
    match state {
        states::PENDING => "待审批",
        states::APPROVED => "已批准",
        states::REFUSED => "已退回",
        _ => "未知",
    }
}

fn events_model() -> Result<&'static Collection, WebError> {
    Ok(crate::records::collection_of("licence_events")?)
}

fn may_write(session: &WebSession) -> bool {
    session.staff.user.role.may_write()
}

fn may_approve(session: &WebSession) -> bool {
    session.staff.user.role.may_approve()
}

/// The licence work flow's part of a licence's page: what a clerk may prepare, and the link to
/// the licence's actions.
pub(crate) fn licence_panel(
    state: &AppState,
    record: &StoredRecord,
    session: &WebSession,
) -> Markup {
    // Only a node that records licence events (national, provinces) offers to prepare one.
    let records_events = super::home::may_author_collection(state, "licence_events");
    let status = record.data.get("status").and_then(Value::as_str);
    let active = status
        .and_then(|status| status.parse::<licnode_model::LicenceStatus>().ok())
        .is_none_or(|status| !status.is_terminal());
    html! {
        section #licence-actions {
            h2 { "许可证变更、撤回、撤销、吊销和注销" }
            p.basis { "依据：" (articles_label(ARTICLES)) "。经办人提出，审批人批准后写入事件记录和证书状态。" }
            @if active && records_events && may_write(session) {
                p.action-links {
                    @for kind in EventKind::ALL {
                        a.button href={ "/licences/" (record.id) "/actions/new?kind=" (kind.as_str()) } { "办理" (kind.label_zh()) }
                        " "
                    }
                }
            } @else if !active {
                p.read-only data-error-code="licence_not_active" { (messages::refusal(ErrorCode::LicenceNotActive, "")) }
            }
            p { a href={ "/licence-actions?state=&licence=" (record.id) } { "本证书的办理记录" } }
        }
    }
}

/// The form page of a licence action.
struct ActionForm<'a> {
    licence: &'a StoredRecord,
    typed: &'a Typed,
    problems: &'a HashMap<String, Vec<String>>,
    refusal: Option<(ErrorCode, String)>,
}

fn action_form_page(
    state: &AppState,
    session: &WebSession,
    model: &'static Collection,
    form_page: ActionForm<'_>,
) -> Markup {
    let territory = form::territory(&state.archive.scope);
    let view = FormView {
        model,
        typed: form_page.typed,
        problems: form_page.problems,
        territory: &territory,
        jurisdictions: None,
        creating: true,
        licence_choices: &[],
    };
    let licence_number = form_page
        .licence
        .data
        .get("licence_number")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let title = format!("办理许可证事项：{licence_number}");
    let body = html! {
        h1 { (title) }
        p.basis {
            (model.label_zh) " · 依据：" (articles_label(ARTICLES))
            " · " span.required { "*" } " 为必填项 · 提交后由审批人批准"
        }
        p { "许可证：" a href={ "/records/" (form_page.licence.id) } { (licence_number) } }
        @if let Some((code, message)) = &form_page.refusal {
            p.error role="alert" data-error-code=(code) { (message) " （错误代码：" (code) "）" }
        }
        @if !form_page.problems.is_empty() {
            p.error role="alert" data-error-code="validation_failed" { (messages::refusal(ErrorCode::ValidationFailed, "")) }
        }
        form.record method="post" action={ "/licences/" (form_page.licence.id) "/actions/new" } {
            input type="hidden" name=(CSRF_FIELD) value=(session.csrf_token);
            (form::fields(&view))
            div.actions { button type="submit" { "提交审批" } }
        }
    };
    page(&state.node, Some(session), &title, body)
}

/// What the form starts with: the licence's fields under the event's names, and the kind.
fn typed_from_licence(licence: &StoredRecord, kind: &str, model: &Collection) -> Typed {
    let mut typed = form::typed_from_record(model, &licence.data);
    for (event_field, licence_field) in [("licence_date", "issue_date")] {
        if let Some(value) = licence.data.get(licence_field) {
            typed.insert(event_field.to_string(), form::value_text(value));
        }
    }
    // Fields of the licence that the event does not have are not shown; those it has are.
    typed.retain(|name, _| {
        model
            .field(name.split('[').next().unwrap_or(name))
            .is_some()
    });
    typed.insert("licence".to_string(), licence.id.clone());
    typed.insert("event_kind".to_string(), kind.to_string());
    typed.remove("remarks");
    typed
}

#[derive(serde::Deserialize)]
struct KindParam {
    kind: Option<String>,
}

async fn licence_of(state: &AppState, id: &str) -> Result<StoredRecord, WebError> {
    let licence = state.archive.get(id).await?;
    if licence.collection != "licences" {
        return Err(ApiError::from(LicenceActionError::NotALicence(id.to_string())).into());
    }
    Ok(licence)
}

async fn new_action_form(
    State(state): State<AppState>,
    Extension(session): Extension<WebSession>,
    Path(id): Path<String>,
    Query(params): Query<KindParam>,
) -> Result<Response, WebError> {
    session.staff.require_write()?;
    let licence = licence_of(&state, &id).await?;
    let model = events_model()?;
    let kind = params
        .kind
        .filter(|kind| kind.parse::<EventKind>().is_ok())
        .unwrap_or_else(|| EventKind::Revocation.as_str().to_string());
    let mut typed = typed_from_licence(&licence, &kind, model);
    // The event's date defaults to today (Art. 28 counts its days from the decision).
    typed.insert(
        "event_date".to_string(),
        state.clock.today().format("%Y-%m-%d").to_string(),
    );
    let markup = action_form_page(
        &state,
        &session,
        model,
        ActionForm {
            licence: &licence,
            typed: &typed,
            problems: &HashMap::new(),
            refusal: None,
        },
    );
    Ok(Html(markup.into_string()).into_response())
}

async fn prepare_action(
    State(state): State<AppState>,
    Extension(session): Extension<WebSession>,
    Path(id): Path<String>,
    Form(pairs): Form<Pairs>,
) -> Result<Response, WebError> {
    let licence = licence_of(&state, &id).await?;
    let model = events_model()?;
    let (input, typed) = form::input_from_form(model, &pairs, None);
    let kind = input
        .get("event_kind")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let mut fields: Map<String, Value> = input;
    fields.remove("event_kind");
    fields.remove("licence");
    match state
        .archive
        .prepare_licence_action(&id, &kind, &fields, &session.staff.author())
        .await
    {
        Ok(action) => Ok(Redirect::to(&format!("/licence-actions/{}", action.id)).into_response()),
        Err(LicenceActionError::Archive(licnode_app::ArchiveError::Invalid(errors))) => {
            let problems = form::problems_by_input(&errors.0);
            let markup = action_form_page(
                &state,
                &session,
                model,
                ActionForm {
                    licence: &licence,
                    typed: &typed,
                    problems: &problems,
                    refusal: None,
                },
            );
            Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(markup.into_string())).into_response())
        }
        Err(LicenceActionError::Store(error)) => Err(ApiError::from(error).into()),
        Err(refused) => {
            let refusal = WebError::from(ApiError::from(refused));
            let markup = action_form_page(
                &state,
                &session,
                model,
                ActionForm {
                    licence: &licence,
                    typed: &typed,
                    problems: &HashMap::new(),
                    refusal: Some((refusal.code, refusal.message.clone())),
                },
            );
            Ok((refusal.status, Html(markup.into_string())).into_response())
        }
    }
}

/// The one-click approval button of a pending action.
fn approve_button(session: &WebSession, action: &LicenceAction) -> Markup {
    html! {
        form.inline method="post" action={ "/licence-actions/" (action.id) "/approve" } {
            input type="hidden" name=(CSRF_FIELD) value=(session.csrf_token);
            button type="submit" data-action="approve" { "批准" }
        }
    }
}

fn list_link(params: &ListParams, before: i64) -> String {
    let pairs = [
        ("state", params.state.clone().unwrap_or_default()),
        ("licence", params.licence.clone().unwrap_or_default()),
        ("before", before.to_string()),
    ];
    format!(
        "/licence-actions?{}",
        serde_urlencoded::to_string(pairs).unwrap_or_default()
    )
}

async fn action_list(
    State(state): State<AppState>,
    Extension(session): Extension<WebSession>,
    Query(pairs): Query<Pairs>,
) -> Result<Response, WebError> {
    let value = |name: &str| {
        pairs
            .iter()
            .find(|(known, _)| known == name)
            .map(|(_, value)| value.clone())
    };
    // No state named at all: what waits for an approver.
    let state_filter = value("state").or_else(|| Some(states::PENDING.to_string()));
    let before = match value("before").filter(|text| !text.is_empty()) {
        Some(text) => Some(text.parse::<i64>().map_err(|_| ApiError::BadCursor)?),
        None => None,
    };
    let params = ListParams {
        state: state_filter,
        licence: value("licence"),
        before,
        limit: Some(crate::licence_actions::DEFAULT_PAGE),
    };
    let query = action_query(ListParams {
        state: params.state.clone(),
        licence: params.licence.clone(),
        before: params.before,
        limit: params.limit,
    })?;
    let actions = state.archive.licence_actions(&query).await?;
    let next = (actions.len() as i64 >= query.limit)
        .then(|| actions.last().map(|action| action.id))
        .flatten();
    let chosen = params.state.clone().unwrap_or_default();
    let title = if chosen == states::PENDING {
        "待审批的许可证事项"
    } else {
        "许可证事项办理记录"
    };
    let body = html! {
        h1 { (title) }
        p.basis { "依据：" (articles_label(ARTICLES)) " · 经办人提出，审批人批准后写入许可证事件和证书状态" }
        form.filters method="get" action="/licence-actions" {
            label { "状态"
                select name="state" {
                    option value="" selected[chosen.is_empty()] { "（全部）" }
                    @for known in [states::PENDING, states::APPROVED, states::REFUSED] {
                        option value=(known) selected[chosen == known] { (state_label(known)) }
                    }
                }
            }
            @if let Some(licence) = &params.licence {
                input type="hidden" name="licence" value=(licence);
            }
            button type="submit" { "查询" }
        }
        @if actions.is_empty() {
            p.empty { "没有符合条件的事项。" }
        } @else {
            div.table-scroll { table.list #actions {
                thead { tr {
                    th { "编号" } th { "审批" } th { "类型" } th { "企业名称" } th { "证书编号" }
                    th { "提出人" } th { "提出时间" } th { "状态" }
                } }
                tbody {
                    @for action in &actions {
                        tr data-action-id=(action.id) data-state=(action.state) {
                            td { a href={ "/licence-actions/" (action.id) } { (action.id) } }
                            td {
                                @if action.state == states::PENDING && may_approve(&session) {
                                    (approve_button(&session, action))
                                }
                                " " a href={ "/licence-actions/" (action.id) } { "查看" }
                            }
                            td { (kind_label(&action.event_kind)) }
                            td { (action.enterprise_name.as_deref().unwrap_or("—")) }
                            td { (action.licence_number.as_deref().unwrap_or("—")) }
                            td { (action.prepared_by) }
                            td { (china_time(action.prepared_at_ms)) }
                            td { (state_label(&action.state)) }
                        }
                    }
                }
            } }
            @if let Some(next) = next {
                p.pager { a href=(list_link(&params, next)) { "下一页" } }
            }
        }
    };
    Ok(Html(page(&state.node, Some(&session), title, body).into_string()).into_response())
}

fn action_id(id: &str) -> Result<i64, WebError> {
    id.parse::<i64>()
        .map_err(|_| WebError::from(ApiError::not_found(format!("no licence action {id:?}"))))
}

async fn action_page(
    State(state): State<AppState>,
    Extension(session): Extension<WebSession>,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let action = state
        .archive
        .licence_action(action_id(&id)?)
        .await
        .map_err(ApiError::from)?;
    let model = events_model()?;
    let title = format!(
        "{}：{}",
        kind_label(&action.event_kind),
        action.enterprise_name.as_deref().unwrap_or("—")
    );
    let body = html! {
        h1 { (title) }
        p.basis { "依据：" (articles_label(ARTICLES)) " · 状态：" strong #action-state data-state=(action.state) { (state_label(&action.state)) } }
        dl.fields {
            dt { "许可证" } dd { a href={ "/records/" (action.licence_id) } { (action.licence_number.as_deref().unwrap_or(&action.licence_id)) } }
            dt { "提出人" } dd { (action.prepared_by) " · " (china_time(action.prepared_at_ms)) }
            @if let Some(decided_by) = &action.decided_by {
                dt { "审批人" } dd { (decided_by) " · " (action.decided_at_ms.map(china_time).unwrap_or_default()) }
            }
            @if let Some(reason) = &action.decision_reason {
                dt { "退回理由" } dd { (reason) }
            }
            @if let Some(event_id) = &action.event_id {
                dt { "事件记录" } dd { a href={ "/records/" (event_id) } { (event_id) } }
            }
        }
        h2 { "事件内容" }
        dl.fields {
            @for field in model.fields {
                @if let Some(value) = action.fields.get(field.name) {
                    dt { (field.label_zh) }
                    dd { (form::display_text(field, value)) }
                }
            }
        }
        @if action.state == states::PENDING {
            @if may_approve(&session) {
                section #decide {
                    h2 { "审批" }
                    p { "批准后，事件记录和证书状态在同一次写入中保存，署名为您。" }
                    (approve_button(&session, &action))
                    form.record method="post" action={ "/licence-actions/" (action.id) "/refuse" } {
                        input type="hidden" name=(CSRF_FIELD) value=(session.csrf_token);
                        div.field {
                            label for="reason" { "退回理由" span.required title="必填" { "*" } }
                            textarea #reason name="reason" rows="3" required {}
                        }
                        div.actions { button.secondary type="submit" data-action="refuse" { "退回" } }
                    }
                }
            } @else {
                p.read-only { "等待审批人批准（第13、19、28条）。" }
            }
        }
        p { a href="/licence-actions" { "返回待审批列表" } }
    };
    Ok(Html(page(&state.node, Some(&session), &title, body).into_string()).into_response())
}

async fn approve_action(
    State(state): State<AppState>,
    Extension(session): Extension<WebSession>,
    Path(id): Path<String>,
    _form: Form<Pairs>,
) -> Result<Response, WebError> {
    let id = action_id(&id)?;
    state
        .archive
        .approve_licence_action(id, &session.staff.author())
        .await
        .map_err(ApiError::from)?;
    state.metrics.increment("licnode_records_created_total", 1);
    Ok(Redirect::to(&format!("/licence-actions/{id}")).into_response())
}

async fn refuse_action(
    State(state): State<AppState>,
    Extension(session): Extension<WebSession>,
    Path(id): Path<String>,
    Form(pairs): Form<Pairs>,
) -> Result<Response, WebError> {
    let id = action_id(&id)?;
    let reason = pairs
        .iter()
        .find(|(name, _)| name == "reason")
        .map(|(_, value)| value.as_str())
        .unwrap_or_default();
    state
        .archive
        .refuse_licence_action(id, reason, &session.staff.author())
        .await
        .map_err(ApiError::from)?;
    Ok(Redirect::to(&format!("/licence-actions/{id}")).into_response())
}
