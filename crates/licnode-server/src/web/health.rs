//! The node's health, for administrators (auditors read it too) (issue 12, item 6): the link
//! to the parent as the sync loop keeps it (the data of `GET /api/v1/sync/status`: last
//! success, lag in changes, failures, quarantine), each child as this node's cursors,
//! quarantine and anchors record it, the node certificate's and CRLs' expiry, the database's
//! size, the backups `licnode backup` recorded in the audit log, and "sync now" — the function
//! `POST /api/v1/sync/now` calls (`sync::wake_sync_loop`).

use crate::error::ErrorCode;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::extract::{Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use licnode_store::AuditKind;
use licnode_store::administration::{AUDIT_SEARCH_WINDOW, AuditSearch, ChildLink};
use maud::{Markup, html};

use super::display::{byte_size, china_time, china_time_or_dash, parameter};
use super::layout::{WebError, page};
use super::page_operation;
use super::session::{CSRF_FIELD, WebSession};
use crate::routes::Routes;
use crate::sync::LinkStatus;
use crate::{ApiError, AppState};

type Pairs = Vec<(String, String)>;

const BASIS: &str = "依据：第18—26条（信息按期报送）、第32条（保持数据最新）、第37条（档案保存）";

/// Backups listed.
const BACKUPS_SHOWN: i64 = 10;

pub(crate) fn routes() -> Routes<AppState> {
    Routes::new()
        .get(
            "/health",
            health_page,
            page_operation("The node's health: the link to the parent and to each child, certificate and CRL expiry, database size, backup history (administrators; auditors read it)")
                .refuses_with_page(403, "neither an administrator nor an auditor (`forbidden_role`)"),
        )
        .post(
            "/health/sync",
            sync_now,
            page_operation("Sync now: a session with the parent starts at once, as `POST /api/v1/sync/now` (administrators)")
                .answers(303, "woken: back to the health page")
                .refuses_with_page(403, "not an administrator: auditors only read (`forbidden_role`)")
                .refuses_with_page(409, "this node has no parent link (`no_parent_link`)"),
        )
}

fn sync_refusal(error: ApiError) -> WebError {
    match error.code() {
        ErrorCode::NoParentLink => WebError::new(
            error.status(),
            error.code(),
            "本节点没有上级链路（未配置上级地址，或还没有节点证书），无法同步",
        ),
        _ => WebError::from(error),
    }
}

fn millis_of(time: SystemTime) -> i64 {
    time.duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_millis() as i64)
}

/// Whole days from now until `time`, negative once past.
fn days_until(time: SystemTime, now_ms: i64) -> i64 {
    (millis_of(time) - now_ms).div_euclid(86_400_000)
}

fn division_label(code: &str) -> String {
    licnode_model::divisions::lookup(code).map_or_else(
        || code.to_string(),
        |division| format!("{code} {}", division.name),
    )
}

fn parent_section(state: &AppState, session: &WebSession, last_seq: i64) -> Markup {
    let status: Option<LinkStatus> = state.link.as_ref().map(|link| link.snapshot());
    let may_sync = session.staff.require_write().is_ok();
    html! {
        h2 { "上级链路" }
        @match status {
            None => p.empty #parent-link { "本节点没有上级链路（全国节点，或未配置上级地址，或还没有节点证书）。" },
            Some(status) => {
                dl.fields #parent-link data-failures=(status.consecutive_failures) {
                    dt { "上级节点" } dd { (status.parent.as_deref().map_or_else(|| "（尚未连接）".to_string(), division_label)) " · " (status.parent_url) }
                    dt { "最近一次成功" } dd #last-success { (china_time_or_dash(status.last_success_ms)) }
                    dt { "最近一次尝试" } dd { (china_time_or_dash(status.last_attempt_ms)) }
                    dt { "连续失败次数" } dd { (status.consecutive_failures) }
                    @if let Some(error) = &status.last_error { dt { "最近的错误" } dd.error { (error) } }
                    dt { "待上报的变更" } dd #lag-up { ((last_seq - status.acknowledged).max(0)) }
                    dt { "上次会话拉取的变更" } dd { (status.pulled_last_session) }
                    dt { "被上级隔离的变更（累计）" } dd { (status.quarantined_by_parent_total) }
                    dt { "日志分歧（累计）" } dd { (status.divergences_total) }
                    dt { "下次尝试" } dd { (china_time_or_dash(status.next_attempt_ms)) }
                }
                @if may_sync {
                    form.actions method="post" action="/health/sync" {
                        input type="hidden" name=(CSRF_FIELD) value=(session.csrf_token);
                        button #sync-now type="submit" { "立即同步" }
                    }
                }
            }
        }
    }
}

async fn children_section(state: &AppState, links: &[ChildLink]) -> Result<Markup, WebError> {
    let mut last_anchor = Vec::with_capacity(links.len());
    for link in links {
        let anchor = state.archive.newest_anchor(&link.peer).await?;
        last_anchor.push(anchor.map(|anchor| anchor.received_at_ms));
    }
    Ok(html! {
        h2 { "下级链路" }
        @if links.is_empty() {
            p.empty #child-links { "还没有下级节点向本节点上报。" }
        } @else {
            p.basis { "下级自己的待上报数量由下级节点报告；这里是本节点收到的情况。" }
            div.table-scroll {
                table.list #child-links {
                    thead { tr {
                        th { "下级节点" } th.number { "已收到其日志至" } th { "最近一次收到上报" }
                        th { "最近一次完成会话（锚点）" } th.number { "隔离的变更" } th { "最近一次隔离" }
                    } }
                    tbody {
                        @for (link, anchor_ms) in links.iter().zip(&last_anchor) {
                            tr data-peer=(link.peer) {
                                td { (division_label(&link.peer)) }
                                td.number { (link.pushed_up_to.map_or_else(|| "—".to_string(), |seq| seq.to_string())) }
                                td { (china_time_or_dash(link.last_push_ms)) }
                                td { (china_time_or_dash(*anchor_ms)) }
                                td.number {
                                    @if link.quarantined > 0 { a href="/quarantine" { (link.quarantined) } } @else { "0" }
                                }
                                td { (china_time_or_dash(link.last_quarantined_ms)) }
                            }
                        }
                    }
                }
            }
        }
    })
}

fn certificate_section(state: &AppState) -> Markup {
    let now_ms = state.clock.now_ms();
    let crl_validity = licnode_pki::CRL_VALIDITY;
    html! {
        h2 { "节点证书与吊销列表" }
        @match &state.node_tls {
            None => p.empty #certificate { "本节点还没有节点证书（licnode pki install）：不能与上下级同步。" },
            Some(tls) => {
                @let own = tls.own_identity();
                @let days_left = days_until(own.not_after, now_ms);
                dl.fields #certificate data-days-left=(days_left) {
                    dt { "证书" } dd { (own.code) " · " (own.level.label_zh()) " · 序列号 " code { (own.serial) } }
                    dt { "有效期至" } dd {
                        (china_time(millis_of(own.not_after))) "（"
                        @if days_left < 0 { "已过期" } @else { "还有 " (days_left) " 天" }
                        @if own.renewal_due(SystemTime::now()) { "，应续期" }
                        "）"
                    }
                }
                div.table-scroll {
                    table.list #crls {
                        thead { tr { th { "吊销列表签发者" } th { "签发时间" } th { "过期时间" } } }
                        tbody {
                            @for (issuer, this_update) in tls.crl_dates() {
                                @let expires = this_update + crl_validity;
                                tr.late[days_until(expires, now_ms) < 0] {
                                    td { (issuer) }
                                    td { (china_time(millis_of(this_update))) }
                                    td { (china_time(millis_of(expires))) }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

async fn database_section(state: &AppState, last_seq: i64) -> Result<Markup, WebError> {
    let size = state.archive.database_size_bytes().await?;
    let quarantined = state.archive.quarantine_count().await?;
    let (audit_seq, _) = state.archive.audit_head().await?;
    Ok(html! {
        h2 { "数据库" }
        dl.fields #database {
            dt { "数据库" } dd { (state.archive.backend().name()) }
            dt { "大小" } dd #database-size { (byte_size(size)) }
            dt { "变更日志" } dd { "至第 " (last_seq) " 项" }
            dt { "审计日志" } dd { "至第 " (audit_seq) " 条" }
            dt { "隔离区" } dd { a href="/quarantine" { (quarantined) " 项" } }
        }
    })
}

async fn backups_section(state: &AppState) -> Result<Markup, WebError> {
    let found = state
        .archive
        .audit_search(&AuditSearch {
            kind: Some(AuditKind::Backup),
            limit: BACKUPS_SHOWN,
            ..AuditSearch::default()
        })
        .await?;
    let field = |detail: &serde_json::Value, name: &str| match detail.get(name) {
        Some(serde_json::Value::String(text)) => text.clone(),
        Some(other) => other.to_string(),
        None => String::new(),
    };
    Ok(html! {
        h2 { "备份记录" }
        @if found.entries.is_empty() {
            p.empty #backups { "最近 " (AUDIT_SEARCH_WINDOW) " 条审计记录中没有备份（licnode backup）。"
                a href="/audit?kind=backup" { "在审计日志中向前查找" } }
        } @else {
            div.table-scroll {
                table.list #backups {
                    thead { tr { th { "时间" } th { "操作人" } th { "文件" } th.number { "记录数" } th.number { "变更日志至" } th { "SHA-256" } } }
                    tbody {
                        @for entry in &found.entries {
                            tr {
                                td { (china_time(entry.at_ms)) }
                                td { (entry.user) }
                                td { (field(&entry.detail, "file")) }
                                td.number { (field(&entry.detail, "records")) }
                                td.number { (field(&entry.detail, "last_change_seq")) }
                                td { code { (field(&entry.detail, "sha256").chars().take(16).collect::<String>()) "…" } }
                            }
                        }
                    }
                }
            }
        }
    })
}

async fn health_page(
    State(state): State<AppState>,
    Extension(session): Extension<WebSession>,
    Query(params): Query<Pairs>,
) -> Result<Response, WebError> {
    session.staff.require_oversight()?;
    let last_seq = state.archive.last_seq().await?;
    let links = state.archive.child_links().await?;
    let children = children_section(&state, &links).await?;
    let database = database_section(&state, last_seq).await?;
    let backups = backups_section(&state).await?;
    let body = html! {
        h1 { "节点状态" }
        p.basis { (BASIS) }
        @if parameter(&params, "sync") == "started" {
            p.read-only #sync-started role="status" { "已通知同步任务：与上级的会话马上开始，稍后刷新本页查看结果。" }
        }
        (parent_section(&state, &session, last_seq))
        (children)
        (certificate_section(&state))
        (database)
        (backups)
    };
    Ok(Html(page(&state.node, Some(&session), "节点状态", body).into_string()).into_response())
}

async fn sync_now(
    State(state): State<AppState>,
    Extension(session): Extension<WebSession>,
    _form: Form<Pairs>,
) -> Result<Response, WebError> {
    session.staff.require_oversight()?;
    crate::sync::wake_sync_loop(&state, &session.staff).map_err(sync_refusal)?;
    Ok(Redirect::to("/health?sync=started").into_response())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn days_until_counts_whole_days_and_goes_negative_once_past() {
        let now = SystemTime::now();
        let now_ms = millis_of(now);
        assert_eq!(
            days_until(now + Duration::from_secs(3 * 86_400 + 60), now_ms),
            3
        );
        assert_eq!(days_until(now - Duration::from_secs(60), now_ms), -1);
    }
}
