//! The national view (issue 12 item 7; Art. 18–20): which bureaus below have submitted each
//! recent month's and year's report, who is late and by how many days against the statutory
//! due dates, the totals; and the state of every link of the tree that has reported up with
//! replication, the stale and failing first. At the national node it covers the provinces and
//! the whole network; at a province, its own children.

use axum::Extension;
use axum::extract::{Query, State};
use axum::response::{Html, IntoResponse, Response};
use licnode_app::network::{NetworkLinks, link_is_troubled};
use licnode_app::overview::{ReportMatrix, ReportStanding};
use licnode_app::{ReportSettings, Reports};
use licnode_reports::ReportKind;
use licnode_store::link_reports::{LinkDirection, LinkReport};
use maud::{Markup, html};
use serde::Deserialize;

use super::layout::{WebError, page};
use super::page_operation;
use super::session::WebSession;
use crate::AppState;
use crate::routes::Routes;

/// Where the national view is served.
pub(crate) const NATIONAL_PATH: &str = "/national";
/// Recent months and years shown.
const MONTHS_SHOWN: usize = 6;
const YEARS_SHOWN: usize = 3;

pub(crate) fn routes() -> Routes<AppState> {
    Routes::new().get(
        NATIONAL_PATH,
        national_view,
        page_operation(
            "The national view: who below submitted each recent month's and year's report, who is late and by how many days, totals; and every link of the tree that reported up (Art. 18–20)",
        ),
    )
}

#[derive(Deserialize)]
struct ViewQuery {
    /// The page of reported links.
    page: Option<i64>,
}

/// A division code with its name, as the tables show it.
pub(crate) fn node_label(code: &str) -> String {
    if code == licnode_model::divisions::NATIONAL_CODE {
        return format!("{code} 全国");
    }
    licnode_model::divisions::lookup(code).map_or_else(
        || code.to_string(),
        |division| format!("{code} {}", division.name),
    )
}

async fn national_view(
    State(state): State<AppState>,
    Extension(session): Extension<WebSession>,
    Query(query): Query<ViewQuery>,
) -> Result<Response, WebError> {
    let reports = Reports::new(
        state.archive.clone(),
        state.clock.clone(),
        ReportSettings {
            unit_name: state.node.name.clone(),
            auto_submit: false,
        },
    );
    let monthly = reports
        .matrix(ReportKind::Monthly, MONTHS_SHOWN)
        .await
        .map_err(crate::ApiError::from)?;
    let yearly = reports
        .matrix(ReportKind::Yearly, YEARS_SHOWN)
        .await
        .map_err(crate::ApiError::from)?;
    let links = state
        .archive
        .network_links(state.clock.now_ms(), query.page.unwrap_or(1))
        .await?;
    let national = state.node.code == licnode_model::divisions::NATIONAL_CODE;
    let title = if national {
        "全国汇总"
    } else {
        "下级报送与链路"
    };
    let body = html! {
        h1 { (title) }
        p.basis { "依据：第18—20条（信息报送：每月初报送上月许可信息，每年10月报送本年度监督检查情况）" }
        section #monthly {
            h2 { "月报（第18、19条）" }
            (matrix_table(&monthly, "本节点不接收月报：月报由各省级局报送全国许可证办公室。"))
        }
        section #yearly {
            h2 { "年报（第20条）" }
            (matrix_table(&yearly, "本节点没有应报送年报的下级。"))
        }
        (links_section(&links))
    };
    Ok(Html(page(&state.node, Some(&session), title, body).into_string()).into_response())
}

fn standing_cell(period: &str, standing: &ReportStanding) -> Markup {
    match standing {
        ReportStanding::Submitted { date, days_late } if *days_late > 0 => html! {
            td.late data-period=(period) data-state="submitted_late" { "迟报" (days_late) "天" br; small { (date) } }
        },
        ReportStanding::Submitted { date, .. } => html! {
            td.submitted data-period=(period) data-state="submitted" { "已报送" br; small { (date) } }
        },
        ReportStanding::Missing { days_late, draft } => html! {
            td.missing data-period=(period) data-state="missing" {
                "未报送" br; small { "逾期" (days_late) "天" @if *draft { "（有草稿）" } }
            }
        },
        ReportStanding::NotDue { draft } => html! {
            td.not-due data-period=(period) data-state="not_due" { "未到期" @if *draft { br; small { "（有草稿）" } } }
        },
    }
}

/// The newest period's standing in one line: who has not submitted it, and how late.
fn newest_period_summary(matrix: &ReportMatrix) -> Markup {
    let Some(newest) = matrix.periods.first() else {
        return html! {};
    };
    let missing: Vec<&str> = matrix
        .rows
        .iter()
        .filter(|row| matches!(row.cells.first(), Some(ReportStanding::Missing { .. })))
        .map(|row| row.name.as_str())
        .collect();
    html! {
        p.summary data-period=(newest.period) {
            strong { (newest.period) } "：已报送" (newest.submitted) "个，未报送" (newest.missing) "个"
            @if !missing.is_empty() {
                "；已逾期未报送：" span.flag { (missing.join("、")) }
            }
        }
    }
}

fn matrix_table(matrix: &ReportMatrix, nobody: &str) -> Markup {
    if matrix.rows.is_empty() {
        return html! { p.empty { (nobody) } };
    }
    html! {
        (newest_period_summary(matrix))
        div.table-scroll { table.list.matrix data-kind=(matrix.kind.as_str()) {
            thead {
                tr {
                    th { "报送单位" }
                    @for period in &matrix.periods {
                        th data-period=(period.period) { (period.period) br; small { "应于" (period.due_date) "前" } }
                    }
                }
            }
            tbody {
                @for row in &matrix.rows {
                    tr data-reporter=(row.division) {
                        th { (row.division) " " (row.name) }
                        @for (period, cell) in matrix.periods.iter().zip(&row.cells) {
                            (standing_cell(&period.period, cell))
                        }
                    }
                }
            }
            tfoot {
                tr.counts {
                    th { "已报送 / 未报送" }
                    @for period in &matrix.periods {
                        td { (period.submitted) " / " (period.missing) }
                    }
                }
                tr.totals {
                    th { "合计（申请 / 准予 / 不予 / 变更 / 注销等）" }
                    @for period in &matrix.periods {
                        td { (period.totals.map(|count| count.to_string()).join(" / ")) }
                    }
                }
            }
        } }
    }
}

fn direction_label(direction: LinkDirection) -> &'static str {
    match direction {
        LinkDirection::Parent => "上级",
        LinkDirection::Child => "下级",
    }
}

fn count(value: Option<i64>) -> String {
    value.map_or_else(|| "—".to_string(), |value| value.to_string())
}

fn link_row(report: &LinkReport, stale_before_ms: i64) -> Markup {
    let troubled = link_is_troubled(report, stale_before_ms);
    html! {
        tr.troubled[troubled] data-node=(report.node) data-peer=(report.peer) {
            td { (node_label(&report.node)) }
            td { (direction_label(report.direction)) " " (node_label(&report.peer)) }
            td {
                @match report.last_success_ms {
                    Some(millis) => { (super::display::china_time(millis)) }
                    None => { "从未成功" }
                }
                @if troubled { " " span.flag { "异常" } }
            }
            td.number { (count(report.lag_up)) " / " (count(report.lag_down)) }
            td.number { (count(report.consecutive_failures)) }
            td.number { (count(report.quarantined)) }
            td { (super::display::china_time(report.reported_at_ms)) }
        }
    }
}

fn links_head() -> Markup {
    html! {
        thead { tr {
            th { "节点" } th { "对端" } th { "最近成功同步" } th { "积压（上行 / 下行）" }
            th { "连续失败" } th { "隔离的变更" } th { "报告时间" }
        } }
    }
}

fn links_section(links: &NetworkLinks) -> Markup {
    let pages = (links.reported_total + links.per_page - 1) / links.per_page;
    html! {
        section #links {
            h2 { "链路状态" }
            p.basis { "各节点每次同步时向上级报告本节点与上级、下级之间的链路状态，并转报其下级的报告。超过1小时未成功同步或有连续失败的链路标为“异常”，排在前面。" }
            h3 { "本节点的链路" }
            @if links.own.is_empty() {
                p.empty { "本节点尚未与上级或下级同步。" }
            } @else {
                div.table-scroll { table.list.links #own-links {
                    (links_head())
                    tbody { @for report in &links.own { (link_row(report, links.stale_before_ms)) } }
                } }
            }
            h3 { "下级报告的链路（共" (links.reported_total) "条）" }
            @if links.reported.is_empty() {
                p.empty { "尚未收到下级的链路报告。" }
            } @else {
                div.table-scroll { table.list.links #reported-links {
                    (links_head())
                    tbody { @for held in &links.reported { (link_row(&held.report, links.stale_before_ms)) } }
                } }
                @if pages > 1 {
                    p.pager {
                        @if links.page > 1 { a href={ (NATIONAL_PATH) "?page=" (links.page - 1) } { "上一页" } " " }
                        "第" (links.page) "页，共" (pages) "页"
                        @if links.page < pages { " " a href={ (NATIONAL_PATH) "?page=" (links.page + 1) } { "下一页" } }
                    }
                }
            }
        }
    }
}
