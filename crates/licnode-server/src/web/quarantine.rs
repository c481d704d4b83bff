//! The quarantine (issue 12, item 5; ARCHITECTURE.md, principle 5): the changes neighbours
//! sent that this node refused — by the authority table or because the change itself could
//! not stand — with the reason in Chinese, the neighbour, when, and the record, newest first,
//! paged. Kept, never applied; the same rows as `GET /api/v1/sync/quarantine`.

use axum::Extension;
use axum::extract::{Query, State};
use axum::response::{Html, IntoResponse, Response};
use licnode_store::QuarantineReason;
use maud::html;

use super::display::{china_time, link_with, parameter};
use super::layout::{WebError, page};
use super::page_operation;
use super::session::WebSession;
use crate::routes::Routes;
use crate::{ApiError, AppState};

type Pairs = Vec<(String, String)>;

/// Changes on one page.
const PAGE_SIZE: i64 = 50;

pub(crate) fn routes() -> Routes<AppState> {
    Routes::new().get(
        "/quarantine",
        quarantine_page,
        page_operation("The quarantine: changes received from a neighbour and refused, with their reasons in Chinese, newest first, paged (before)")
            .refuses_with_page(400, "a malformed page cursor (`bad_query`)"),
    )
}

/// A reason the store quarantines for, in Chinese.
fn store_reason_label(reason: QuarantineReason) -> &'static str {
    match reason {
        QuarantineReason::MalformedChange => "数据无法解析（不是有效的变更）",
        QuarantineReason::RefusedByDocument => "与记录已有内容矛盾，记录拒绝了这项变更",
        QuarantineReason::MissingDependency => "缺少它所依赖的变更（收到后会自动重试）",
        QuarantineReason::IdentityConflict => "会使记录的编号、数据库或辖区出现第二个值",
        QuarantineReason::InvalidRecord => "变更后的记录不符合字段校验规则",
    }
}

/// A quarantine reason in Chinese: the store's own ([`QuarantineReason`]), or one of the
/// authority table's and the arrival checks' codes; the code itself when unknown.
pub(crate) fn reason_label(code: &str) -> String {
    if let Ok(reason) = code.parse::<QuarantineReason>() {
        return store_reason_label(reason).to_string();
    }
    let text = match code {
        "outside_jurisdiction" => "记录的辖区不在发送方或本节点的范围内",
        "author_not_on_sender_side" => "变更的作者不在发送方一侧",
        "author_not_allowed" => "按许可权限表，作者节点无权录入这类记录",
        "wrong_direction" => "这类记录不按这个方向流转",
        "collection_is_local" => "这类记录只在本节点保存，不同步",
        "not_addressed_to_peer" => "记录不是发给这个节点的",
        "unknown_collection" => "没有这个数据库",
        "unknown_jurisdiction" => "辖区不是有效的行政区划代码",
        "invalid_node" => "节点代码与其级别不符",
        "invalid_link" => "两端不是上下级",
        "unbound_author" => "变更没有绑定作者节点",
        "unknown_author" => "无法识别变更的作者节点",
        _ => "",
    };
    if text.is_empty() {
        code.to_string()
    } else {
        text.to_string()
    }
}

fn collection_label(name: &str) -> String {
    licnode_model::collection(name)
        .map_or_else(|| name.to_string(), |model| model.label_zh.to_string())
}

async fn quarantine_page(
    State(state): State<AppState>,
    Extension(session): Extension<WebSession>,
    Query(params): Query<Pairs>,
) -> Result<Response, WebError> {
    let before = match parameter(&params, "before") {
        "" => None,
        text => Some(
            text.parse::<i64>()
                .ok()
                .filter(|id| *id > 0)
                .ok_or_else(|| ApiError::BadQuery {
                    reason: "before must be a quarantine row number".to_string(),
                })?,
        ),
    };
    let total = state.archive.quarantine_count().await?;
    let rows = state.archive.quarantine_page(before, PAGE_SIZE).await?;
    let next = (rows.len() as i64 == PAGE_SIZE)
        .then(|| rows.last().map(|row| row.id))
        .flatten();
    let body = html! {
        h1 { "隔离区" }
        p.basis { "依据：第18—26、32条（谁向谁报送什么）；收到的变更在入库前按许可权限表和字段规则检查，不合格的隔离保存、从不应用" }
        p #quarantine-total { "隔离区共有 " (total) " 项变更，新的在前。" }
        @if rows.is_empty() {
            p.empty #no-quarantined { "隔离区里没有变更。" }
        } @else {
            div.table-scroll {
                table.list #quarantined {
                    thead { tr { th { "收到时间" } th { "来自" } th { "原因" } th { "数据库" } th { "记录" } th { "辖区" } th { "作者节点" } th { "说明" } } }
                    tbody {
                        @for row in &rows {
                            tr data-reason=(row.entry.reason) {
                                td { (china_time(row.entry.received_at_ms)) }
                                td { (row.entry.peer) }
                                td { (reason_label(&row.entry.reason)) br; code { (row.entry.reason) } }
                                td { (collection_label(&row.entry.collection)) }
                                td { a href={ "/records/" (row.entry.record_id) } { (row.entry.record_id) } }
                                td { (row.entry.jurisdiction) }
                                td { (row.entry.author_node) }
                                td.detail { (row.entry.message) }
                            }
                        }
                    }
                }
            }
        }
        @if let Some(next) = next {
            p.pager { a #older href=(link_with("/quarantine", &params, "before", &next.to_string())) { "更早的 →" } }
        }
    };
    Ok(Html(page(&state.node, Some(&session), "隔离区", body).into_string()).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reason_the_store_quarantines_for_is_worded_in_chinese() {
        for reason in QuarantineReason::ALL {
            assert_ne!(reason_label(reason.as_str()), reason.as_str());
        }
        assert_eq!(reason_label("something_new"), "something_new");
    }
}
