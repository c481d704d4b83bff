//! The audit log for auditors and administrators (issue 12, item 6; Art. 37, 38): the entries
//! newest first with filters (kind, user, date range, record) and paging, and the verification
//! — the check `GET /api/v1/audit/verify` and `licnode audit verify` run (`Archive::
//! audit_check`: the chain, the change log against it, the last anchor this node signed), the
//! parent's standing on this node's anchors as the sync link last heard it, and the anchors
//! held of the nodes below — with a green or red verdict and the first broken entry named.
//!
//! A list filtered by kind, user or record reads the index of its filter (migration 0014), a
//! page at a time back to the start of the log; a list by date alone reads a bounded window of
//! entry numbers per page (`AUDIT_SEARCH_WINDOW`): either costs the same at any log size. The verification reads the whole chain, as the CLI does — a
//! second or more at a few hundred thousand entries — so it is an action, not a page view:
//! `POST /audit/verify` runs it (never from a cache: an altered row need not move the head) and
//! `GET /audit/verify` shows the last run, when and by whom, with the button to run it again.

use std::sync::Mutex;

use axum::Extension;
use axum::extract::{Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use licnode_store::administration::AUDIT_SEARCH_WINDOW;
use licnode_store::anchors::AuditCheck;
use licnode_store::{AuditFinding, AuditKind, AuditRecord};
use maud::{Markup, html};

use super::display::{china_time, link_with, parameter};
use super::layout::{WebError, page};
use super::page_operation;
use super::session::WebSession;
use crate::AppState;
use crate::audit::require_audit_reader;
use crate::routes::Routes;

type Pairs = Vec<(String, String)>;

const BASIS: &str = "依据：第37、38条（档案保存与销毁须留有不可篡改的记录）";

/// Entries on one page.
const PAGE_SIZE: i64 = 50;

/// Longest detail shown in a row; the whole entry is in `licnode audit export`.
const DETAIL_CHARS: usize = 240;

pub(crate) fn routes() -> Routes<AppState> {
    let readers = "neither an auditor nor an administrator (`forbidden_role`)";
    Routes::new()
        .get(
            "/audit",
            audit_log,
            page_operation("The audit log, newest first, with filters (kind, user, from, until, record) and paging (before) (auditors and administrators)")
                .refuses_with_page(403, readers),
        )
        .get(
            "/audit/verify",
            verification,
            page_operation("The last verification of the audit log run here, when and by whom: the chain, the change log against it, the anchors; a green or red verdict with the first broken entry named (auditors and administrators)")
                .refuses_with_page(403, readers),
        )
        .post(
            "/audit/verify",
            run_verification,
            page_operation("Verify the audit log end to end now, then show the result (auditors and administrators)")
                .answers(303, "to `/audit/verify`, which shows the result")
                .refuses_with_page(403, readers),
        )
}

/// A kind in Chinese (the code itself for a kind this release does not write).
pub(crate) fn kind_label(kind: &AuditKind) -> &str {
    match kind {
        AuditKind::Write => "数据变更",
        AuditKind::Login => "登录",
        AuditKind::LoginFailed => "登录失败",
        AuditKind::Export => "数据导出",
        AuditKind::SyncRefused => "拒收的同步变更",
        AuditKind::CertificateRefused => "拒绝的证书",
        AuditKind::Destruction => "档案销毁",
        AuditKind::Backup => "备份",
        AuditKind::Restore => "恢复",
        AuditKind::PeerRefused => "拒绝的节点",
        AuditKind::SyncDiverged => "同步日志分歧",
        AuditKind::LicenceAction => "许可证事项办理",
        AuditKind::AuditChainBroken => "下级审计链被改写",
        AuditKind::Account => "账户管理",
        AuditKind::SecretDisclosed => "查阅或导出秘密字段（第36条）",
        AuditKind::Other(code) => code,
    }
}

/// What a verification finding means, in Chinese.
fn problem_label(problem: &str) -> &'static str {
    match problem {
        "altered" => "记录内容被改动（与其哈希不符）",
        "missing" => "记录被删除",
        "moved" => "记录被移动到别的编号",
        "chain_broken" => "哈希链在此断开（此条或前一条被改写）",
        "head_mismatch" => "最后一条记录与链头不符（末尾被删除或替换）",
        "change_without_entry" => "变更日志中的变更没有审计记录（其记录被删除）",
        "anchor_mismatch" => "与本节点签发给上级的锚点不符（锚定后被改写）",
        "backup_mismatch" => "与备份清单记录的链头不符",
        _ => "其他问题",
    }
}

/// A check's source or a check not made, in Chinese where the store's wording is known.
fn check_label(text: &str) -> String {
    match text {
        "the last anchor this node signed" => "本节点最近签发的锚点".to_string(),
        "this node has signed no anchor yet" => {
            "本节点还没有签发过锚点（尚未与上级完成同步）".to_string()
        }
        other => other.to_string(),
    }
}

fn filters(params: &Pairs) -> Markup {
    let kind = parameter(params, "kind");
    html! {
        form.filters method="get" action="/audit" {
            label { "类型"
                select name="kind" {
                    option value="" { "（全部）" }
                    @for choice in AuditKind::KNOWN {
                        option value=(choice.as_str()) selected[kind == choice.as_str()] { (kind_label(&choice)) }
                    }
                }
            }
            label { "用户" input type="text" name="user" value=(parameter(params, "user")); }
            label { "自（日期）" input type="date" name="from" value=(parameter(params, "from")); }
            label { "至（日期）" input type="date" name="until" value=(parameter(params, "until")); }
            label { "记录编号" input type="text" name="record" value=(parameter(params, "record")); }
            button type="submit" { "筛选" }
        }
    }
}

/// An entry's detail as one short line.
fn detail_line(entry: &AuditRecord) -> String {
    let text = match &entry.detail {
        serde_json::Value::String(text) => text.clone(),
        serde_json::Value::Null => String::new(),
        other => other.to_string(),
    };
    if text.chars().count() > DETAIL_CHARS {
        let cut: String = text.chars().take(DETAIL_CHARS).collect();
        format!("{cut}…")
    } else {
        text
    }
}

fn entries_table(entries: &[AuditRecord]) -> Markup {
    html! {
        div.table-scroll {
            table.list #audit-entries {
                thead { tr { th.number { "编号" } th { "时间" } th { "类型" } th { "用户" } th { "节点" } th { "记录" } th { "详情" } } }
                tbody {
                    @for entry in entries {
                        tr data-seq=(entry.seq) {
                            td.number { (entry.seq) }
                            td { (china_time(entry.at_ms)) }
                            td { (kind_label(&entry.kind)) }
                            td { (entry.user) }
                            td { (entry.node) }
                            td {
                                @if let Some(record_id) = &entry.record_id {
                                    a href={ "/records/" (record_id) } { (record_id) }
                                }
                            }
                            td.detail { (detail_line(entry)) }
                        }
                    }
                }
            }
        }
    }
}

async fn audit_log(
    State(state): State<AppState>,
    Extension(session): Extension<WebSession>,
    Query(params): Query<Pairs>,
) -> Result<Response, WebError> {
    require_audit_reader(&session.staff)?;
    // The web page shows a fixed number of entries: a `limit` in the address is not read.
    let params: Pairs = params
        .into_iter()
        .filter(|(name, _)| name != "limit")
        .collect();
    let search = crate::audit::audit_search_of(&params, PAGE_SIZE)?;
    let found = state.archive.audit_search(&search).await?;
    let body = html! {
        h1 { "审计日志" }
        p.basis { (BASIS) }
        p { a.button href="/audit/verify" { "校验审计链" } }
        (filters(&params))
        @if found.looked_from == 1 {
            p.empty { "本页查看了编号 " (found.looked_below - 1) " 及以前的记录，新的在前。" }
        } @else {
            p.empty {
                "本页查看了编号 " (found.looked_from) "—" (found.looked_below - 1)
                " 的记录（按日期查询时每页最多查看 " (AUDIT_SEARCH_WINDOW) " 条），新的在前。"
            }
        }
        @if found.entries.is_empty() {
            p.empty #no-entries { "这一段没有符合条件的记录。" }
        } @else {
            (entries_table(&found.entries))
        }
        @if let Some(before) = found.next_before_seq {
            p.pager { a #older href=(link_with("/audit", &params, "before", &before.to_string())) { "更早的记录 →" } }
        }
    };
    Ok(Html(page(&state.node, Some(&session), "审计日志", body).into_string()).into_response())
}

fn finding_rows(findings: &[AuditFinding]) -> Markup {
    html! {
        div.table-scroll {
            table.list #findings {
                thead { tr { th.number { "编号" } th { "问题" } th { "说明" } } }
                tbody {
                    @for finding in findings.iter().take(200) {
                        tr data-problem=(finding.problem) {
                            td.number {
                                (finding.seq)
                                @if finding.until_seq != finding.seq { "—" (finding.until_seq) }
                            }
                            td { (problem_label(finding.problem)) }
                            td { (finding.message) }
                        }
                    }
                }
            }
        }
        @if findings.len() > 200 {
            p { "……共 " (findings.len()) " 项，其余请用 licnode audit verify 查看。" }
        }
    }
}

fn verdict(check: &AuditCheck) -> Markup {
    let findings = check.findings();
    html! {
        @if check.is_clean() {
            section.verdict.verdict-intact #verdict data-intact="true" {
                h2 { "✔ 审计链完整" }
                p { "共校验 " (check.chain.entries) " 条记录，链头为第 " (check.chain.head_seq) " 条；变更日志中的 "
                    (check.change_log.changes) " 项变更都有审计记录。" }
            }
        } @else {
            section.verdict.verdict-broken #verdict data-intact="false" {
                h2 { "✘ 审计链不完整：发现 " (findings.len()) " 项问题" }
                @if let Some(first) = findings.first() {
                    p #first-finding {
                        "第一处：第 " strong { (first.seq) } " 条 — " (problem_label(first.problem))
                    }
                }
            }
            (finding_rows(&findings))
        }
    }
}

/// The parent's word on this node's anchors, as the sync link last heard it.
fn parent_standing(state: &AppState) -> Markup {
    let status = state.link.as_ref().map(|link| link.snapshot());
    html! {
        h2 { "上级节点保存的锚点" }
        @match status {
            None => p.empty { "本节点没有上级链路：没有上级保存它的锚点。" },
            Some(status) => {
                @match &status.audit_chain_broken {
                    Some(finding) => p.error #parent-standing { "上级节点报告本节点的审计链在锚定后被改写：" (finding) },
                    None => @match status.last_success_ms {
                        Some(when) => p #parent-standing { "最近一次同步（" (china_time(when)) "）结束时，上级节点接受了本节点签发的锚点。" },
                        None => p.empty #parent-standing { "尚未与上级完成同步：上级还没有本节点的锚点。" },
                    },
                }
            }
        }
    }
}

async fn children_anchors(state: &AppState) -> Result<Markup, WebError> {
    let held = state.archive.anchors_by_node().await?;
    let own = &state.node.code;
    Ok(html! {
        h2 { "本节点保存的下级审计锚点" }
        @if held.iter().all(|(anchor, _)| &anchor.node == own) {
            p.empty { "本节点没有下级的审计锚点。" }
        } @else {
            div.table-scroll {
                table.list #child-anchors {
                    thead { tr { th { "节点" } th.number { "锚定到第几条" } th { "签发时间" } th { "经由" } th.number { "未延续的锚点" } } }
                    tbody {
                        @for (anchor, broken) in held.iter().filter(|(anchor, _)| &anchor.node != own) {
                            tr.broken[*broken > 0] data-node=(anchor.node) {
                                td { (anchor.node) }
                                td.number { (anchor.audit_seq) }
                                td { (china_time(anchor.signed_at_ms)) }
                                td { (anchor.received_from) }
                                td.number { (broken) }
                            }
                        }
                    }
                }
            }
        }
    })
}

/// The last verification run from the web application, kept while the node runs.
#[derive(Default)]
pub struct LastAuditVerification(Mutex<Option<AuditVerification>>);

#[derive(Clone)]
struct AuditVerification {
    check: AuditCheck,
    finished_ms: i64,
    user: String,
    took_ms: u128,
}

impl LastAuditVerification {
    fn get(&self) -> Option<AuditVerification> {
        self.0.lock().map(|last| last.clone()).unwrap_or_default()
    }

    fn set(&self, verification: AuditVerification) {
        if let Ok(mut last) = self.0.lock() {
            *last = Some(verification);
        }
    }
}

/// Runs the whole verification now and keeps its result for the page.
async fn run_verification(
    State(state): State<AppState>,
    Extension(session): Extension<WebSession>,
) -> Result<Response, WebError> {
    require_audit_reader(&session.staff)?;
    let started = std::time::Instant::now();
    let check = state.archive.audit_check(&state.node.code).await?;
    state.audit_verification.set(AuditVerification {
        check,
        finished_ms: licnode_store::now_ms(),
        user: session.staff.user.name.clone(),
        took_ms: started.elapsed().as_millis(),
    });
    Ok(Redirect::to("/audit/verify").into_response())
}

async fn verification(
    State(state): State<AppState>,
    Extension(session): Extension<WebSession>,
) -> Result<Response, WebError> {
    require_audit_reader(&session.staff)?;
    let last = state.audit_verification.get();
    let children = children_anchors(&state).await?;
    let run_button = html! {
        form.inline method="post" action="/audit/verify" {
            input type="hidden" name=(super::session::CSRF_FIELD) value=(session.csrf_token);
            button #run-verification type="submit" { "立即校验" }
        }
    };
    let Some(last) = last else {
        let body = html! {
            h1 { "审计链校验" }
            p.basis { (BASIS) }
            p { a href="/audit" { "← 审计日志" } }
            p.empty #not-verified { "本节点启动以来尚未在此校验审计链。校验读取整条审计链，记录多时需要几秒。" }
            (run_button)
            (parent_standing(&state))
            (children)
        };
        return Ok(
            Html(page(&state.node, Some(&session), "审计链校验", body).into_string())
                .into_response(),
        );
    };
    let check = last.check;
    let body = html! {
        h1 { "审计链校验" }
        p.basis { (BASIS) }
        p { a href="/audit" { "← 审计日志" } }
        p #verified-at {
            "最近一次校验：" (china_time(last.finished_ms)) "，由 " (last.user) " 执行，用时 "
            (last.took_ms) " 毫秒。"
        }
        (run_button)
        (verdict(&check))
        h2 { "本节点自行核对的点" }
        ul {
            @for point in &check.points {
                li {
                    (check_label(&point.source)) "：第 " (point.audit_seq) " 条 — "
                    @match &point.finding { None => "一致", Some(finding) => (problem_label(finding.problem)) }
                }
            }
            @for skipped in &check.not_checked {
                li.empty { "未核对：" (check_label(skipped)) }
            }
        }
        (parent_standing(&state))
        (children)
    };
    Ok(Html(page(&state.node, Some(&session), "审计链校验", body).into_string()).into_response())
}
