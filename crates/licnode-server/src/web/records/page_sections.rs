//! Parts of a record's page beyond its fields (issue 12 item 4): the statutory time limits it
//! is part of (the deadlines service), where it has travelled (which of this node's parent and
//! children acknowledged its newest change), and the conflicting values of a field side by
//! side, each with a button that makes it the value — a normal edit through `Archive::update`,
//! so the approval rules apply to it as to any edit.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use licnode_app::network::TravelState;
use licnode_app::records::secrecy::{self, may_read_secrets};
use licnode_app::{Reader, SecretFields};
use licnode_model::Collection;
use licnode_model::deadlines::DeadlineState;
use licnode_store::StoredRecord;
use licnode_store::link_reports::LinkDirection;
use maud::{Markup, html};
use serde_json::{Map, Value};

use super::{Pairs, parameter};
use crate::AppState;
use crate::records::{authorise_write, collection_of};
use crate::routes::Routes;
use crate::web::layout::{WebError, articles_label};
use crate::web::national::node_label;
use crate::web::page_operation;
use crate::web::session::{CSRF_FIELD, WebSession};

/// What the page shows of the record's secret fields (Art. 36): that they are masked, with a
/// link that shows them to an approver or administrator (audited), or that they are shown and
/// the reading was audited. Nothing for a record without secret values.
pub(super) fn secrecy_notice(
    model: &Collection,
    record: &StoredRecord,
    session: &WebSession,
    reader: &Reader,
) -> Markup {
    if reader.secrets() == SecretFields::Unmasked {
        return html! {
            p.secret-notice #secrets-shown { "正在显示秘密字段原值（第36条）：本次查阅已记入审计日志，请勿泄露。" }
        };
    }
    if secrecy::masked_paths(model, &record.data).is_empty() {
        return html! {};
    }
    html! {
        p.secret-notice #secrets-masked {
            "秘密字段（企业商业秘密、技术秘密和个人信息，第36条）已屏蔽，显示为“" (licnode_model::MASKED_SECRET) "”。"
            @if may_read_secrets(session.staff.user.role) {
                " "
                a #show-secrets href={ "/records/" (record.id) "?unmasked=1" } { "显示原值（记入审计日志）" }
            }
        }
    }
}

pub(super) fn routes() -> Routes<AppState> {
    Routes::new().post(
        "/records/{id}/resolve",
        resolve,
        page_operation("Make one of a field's conflicting values its value: a normal edit of that field, judged like any edit")
            .answers(303, "changed: to the record's page")
            .refuses_with_page(400, "no such field or an unreadable value (`invalid_body`)")
            .refuses_with_page(409, "a read-only copy, a terminal licence, a submitted report (their codes)")
            .refuses_with_page(422, "the value does not pass validation (`validation_failed`)"),
    )
}

/// The time limits `record` is part of, each with its open item (due or late) or none.
pub(super) async fn deadlines_section(
    state: &AppState,
    record: &StoredRecord,
) -> Result<Markup, WebError> {
    let deadlines = state
        .archive
        .record_deadlines(state.clock.as_ref(), record)
        .await?;
    Ok(html! {
        section #deadlines {
            h2 { "法定时限" }
            @if deadlines.is_empty() {
                p.empty { "这类记录不涉及法定时限。" }
            } @else {
                div.table-scroll { table.list {
                    thead { tr { th { "时限" } th { "依据" } th { "起算" } th { "应完成日期" } th { "状态" } } }
                    tbody {
                        @for deadline in &deadlines {
                            @if deadline.open.is_empty() {
                                tr data-rule=(deadline.rule.code) data-state="closed" {
                                    td { (deadline.rule.label_zh) }
                                    td { (articles_label(&deadline.rule.articles.iter().map(|&article| article as u16).collect::<Vec<_>>())) }
                                    td { "—" } td { "—" }
                                    td { "无待办（已完成或尚未起算）" }
                                }
                            }
                            @for item in &deadline.open {
                                tr data-rule=(deadline.rule.code) data-state=(item.state.as_str()) {
                                    td { (deadline.rule.label_zh) }
                                    td { (articles_label(&deadline.rule.articles.iter().map(|&article| article as u16).collect::<Vec<_>>())) }
                                    td { (item.started) }
                                    td { (item.due_date) }
                                    td {
                                        @match item.state {
                                            DeadlineState::Late => { span.flag { "已逾期" (item.days_late) "天" } }
                                            DeadlineState::Due => { "还剩" (item.days_left) "天" }
                                        }
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

fn travel_label(state: TravelState) -> &'static str {
    match state {
        TravelState::Acknowledged => "已确认收到",
        TravelState::Pending => "尚未确认",
        TravelState::CameFromThere => "由该节点传来",
        TravelState::NotRouted => "按许可权限表不发往该节点",
    }
}

/// Which of this node's parent and children acknowledged the record's newest change.
pub(super) async fn travel_section(
    state: &AppState,
    record: &StoredRecord,
) -> Result<Markup, WebError> {
    let travels = state.archive.travel(record).await?;
    Ok(html! {
        section #travel {
            h2 { "传递情况" }
            p.basis { "本记录最新一次修改（本节点变更日志第" (record.last_seq) "号）在上级和下级节点的确认情况。" }
            @if travels.is_empty() {
                p.empty { "本节点尚未与上级或下级同步。" }
            } @else {
                div.table-scroll { table.list {
                    thead { tr { th { "节点" } th { "关系" } th { "状态" } } }
                    tbody {
                        @for travel in &travels {
                            tr data-peer=(travel.peer) data-travel=(format!("{:?}", travel.state).to_lowercase()) {
                                td { (node_label(&travel.peer)) }
                                td { @match travel.direction { LinkDirection::Parent => "上级", LinkDirection::Child => "下级" } }
                                td { (travel_label(travel.state)) }
                            }
                        }
                    }
                } }
            }
        }
    })
}

/// A conflict's values side by side; with `choose` (the viewer may edit the record), each with
/// a button that makes it the field's value.
pub(super) fn conflict_values(
    record_id: &str,
    field: &str,
    values: &[(Value, String)],
    session: &WebSession,
    choose: bool,
) -> Markup {
    html! {
        div.side-by-side {
            @for (value, text) in values {
                @if choose {
                    form.choose method="post" action={ "/records/" (record_id) "/resolve" } {
                        input type="hidden" name=(CSRF_FIELD) value=(session.csrf_token);
                        input type="hidden" name="field" value=(field);
                        input type="hidden" name="value" value=(value.to_string());
                        span.value { (text) }
                        button type="submit" { "采用此值" }
                    }
                } @else {
                    span.value { (text) }
                }
            }
        }
    }
}

async fn resolve(
    State(state): State<AppState>,
    Extension(session): Extension<WebSession>,
    Path(id): Path<String>,
    Form(pairs): Form<Pairs>,
) -> Result<Response, WebError> {
    let record = state.archive.get(&id).await?;
    let model = collection_of(&record.collection)?;
    authorise_write(&session.staff, model)?;
    let field = parameter(&pairs, "field");
    let value: Value = serde_json::from_str(parameter(&pairs, "value")).map_err(|_| {
        WebError::from(crate::ApiError::InvalidBody {
            reason: "the chosen value is not readable".to_string(),
        })
    })?;
    if model.field(field).is_none() {
        return Err(WebError::from(crate::ApiError::InvalidBody {
            reason: format!("{field:?} is no field of {}", model.name),
        }));
    }
    let mut patch = Map::new();
    patch.insert(field.to_string(), value);
    state
        .archive
        .update(&id, &patch, &session.staff.author())
        .await?;
    state.metrics.increment("licnode_records_updated_total", 1);
    Ok(Redirect::to(&format!("/records/{id}")).into_response())
}
