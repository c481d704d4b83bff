//! The deadline board (issue 12, item 5): the statutory time limits this node keeps or misses
//! today (Art. 18–20, 23, 27, 28, 30, 31; the rules are `licnode_model::deadlines`), late ones
//! first, counted by rule and — at the national centre — by province, filterable by rule,
//! state and province; each item links to its record. The items are the ones `GET
//! /api/v1/deadlines` answers, from the same service (`Archive::deadline_query`,
//! `Archive::deadlines`).

use axum::Extension;
use axum::extract::{Query, State};
use axum::response::{Html, IntoResponse, Response};
use licnode_model::Level;
use licnode_model::deadlines::{DeadlineItem, DeadlineState, RULES, roll_up};
use maud::{Markup, html};

use super::display::{link_with, parameter};
use super::layout::{WebError, page};
use super::page_operation;
use super::session::WebSession;
use crate::routes::Routes;
use crate::{ApiError, AppState};

type Pairs = Vec<(String, String)>;

/// Items on one page.
const PAGE_SIZE: usize = 50;

pub(crate) fn routes() -> Routes<AppState> {
    Routes::new().get(
        "/deadlines",
        deadline_board,
        page_operation("The deadline board: statutory limits due and late today, late first, counted by rule and by province, filtered by rule, state and province (page)")
            .refuses_with_page(400, "an unknown rule, state or province, or a malformed page (`unknown_rule`, `bad_state`, `bad_province`, `bad_query`)"),
    )
}

fn articles_text(articles: &[u32]) -> String {
    let numbers: Vec<String> = articles.iter().map(u32::to_string).collect();
    format!("第{}条", numbers.join("、"))
}

fn rule_label(code: &str) -> String {
    licnode_model::deadlines::rule(code)
        .map_or_else(|| code.to_string(), |rule| rule.label_zh.to_string())
}

fn division_label(code: &str) -> String {
    licnode_model::divisions::lookup(code).map_or_else(
        || code.to_string(),
        |division| format!("{code} {}", division.name),
    )
}

/// What the board shows: the filters given, checked.
struct Filters {
    rule: Option<&'static str>,
    state: Option<DeadlineState>,
    province: Option<String>,
    page: usize,
}

fn filters_of(params: &Pairs) -> Result<Filters, WebError> {
    let rule = match parameter(params, "rule") {
        "" => None,
        code => Some(
            licnode_model::deadlines::rule(code)
                .ok_or_else(|| ApiError::UnknownRule {
                    rule: code.to_string(),
                    known: RULES
                        .iter()
                        .map(|rule| rule.code)
                        .collect::<Vec<_>>()
                        .join(", "),
                })?
                .code,
        ),
    };
    let state = match parameter(params, "state") {
        "" => None,
        text => Some(DeadlineState::parse(text).ok_or(ApiError::BadState)?),
    };
    let province = match parameter(params, "province") {
        "" => None,
        code => {
            let division =
                licnode_model::divisions::lookup(code).ok_or_else(|| ApiError::BadProvince {
                    value: code.to_string(),
                })?;
            Some(licnode_model::deadlines::province_code(&division.code))
        }
    };
    let page = match parameter(params, "page") {
        "" => 1,
        text => text
            .parse::<usize>()
            .ok()
            .filter(|page| *page >= 1)
            .ok_or_else(|| ApiError::BadQuery {
                reason: "page must be a whole number from 1".to_string(),
            })?,
    };
    Ok(Filters {
        rule,
        state,
        province,
        page,
    })
}

fn filter_form(params: &Pairs, items: &[DeadlineItem], national: bool) -> Markup {
    let provinces = roll_up(items);
    html! {
        form.filters method="get" action="/deadlines" {
            label { "规则"
                select name="rule" {
                    option value="" { "（全部）" }
                    @for rule in RULES {
                        option value=(rule.code) selected[parameter(params, "rule") == rule.code] { (rule.label_zh) }
                    }
                }
            }
            label { "状态"
                select name="state" {
                    option value="" { "（全部）" }
                    option value="late" selected[parameter(params, "state") == "late"] { "已逾期" }
                    option value="due" selected[parameter(params, "state") == "due"] { "未到期" }
                }
            }
            @if national {
                label { "省份"
                    select name="province" {
                        option value="" { "（全部）" }
                        @for province in &provinces {
                            option value=(province.province) selected[parameter(params, "province") == province.province] { (division_label(&province.province)) }
                        }
                    }
                }
            }
            button type="submit" { "筛选" }
        }
    }
}

/// Due and late per rule, each linking to the board filtered by it.
fn by_rule(params: &Pairs, items: &[DeadlineItem]) -> Markup {
    html! {
        h2 { "按规则" }
        div.table-scroll {
            table.list #by-rule {
                thead { tr { th { "规则" } th { "依据" } th.number { "已逾期" } th.number { "未到期" } } }
                tbody {
                    @for rule in RULES {
                        @let late = items.iter().filter(|item| item.rule == rule.code && item.state == DeadlineState::Late).count();
                        @let due = items.iter().filter(|item| item.rule == rule.code && item.state == DeadlineState::Due).count();
                        @if late + due > 0 {
                            tr.late[late > 0] data-rule=(rule.code) {
                                td { a href=(link_with("/deadlines", params, "rule", rule.code)) { (rule.label_zh) } }
                                td { (articles_text(rule.articles)) }
                                td.number { (late) }
                                td.number { (due) }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Due and late per province (the national centre's view).
fn by_province(params: &Pairs, items: &[DeadlineItem]) -> Markup {
    let provinces = roll_up(items);
    html! {
        h2 { "按省份" }
        div.table-scroll {
            table.list #by-province {
                thead { tr { th { "省份" } th.number { "已逾期" } th.number { "最多逾期天数" } th.number { "未到期" } th { "未报送的报表" } } }
                tbody {
                    @for province in &provinces {
                        tr.late[province.late > 0] data-province=(province.province) {
                            td { a href=(link_with("/deadlines", params, "province", &province.province)) { (division_label(&province.province)) } }
                            td.number { (province.late) }
                            td.number { (province.max_days_late) }
                            td.number { (province.due) }
                            td { (province.missing_reports.join("、")) }
                        }
                    }
                }
            }
        }
    }
}

fn items_table(items: &[&DeadlineItem]) -> Markup {
    html! {
        div.table-scroll {
            table.list #deadline-items {
                thead { tr { th { "状态" } th { "规则" } th { "辖区" } th { "事项" } th { "起算日" } th { "期限" } th { "记录" } } }
                tbody {
                    @for item in items {
                        tr.late[item.state == DeadlineState::Late] data-rule=(item.rule) {
                            td {
                                @if item.state == DeadlineState::Late { strong { "逾期 " (item.days_late) " 天" } }
                                @else { "还剩 " (item.days_left) " 天" }
                            }
                            td { (rule_label(item.rule)) " (" (articles_text(item.articles)) ")" }
                            td { (division_label(&item.jurisdiction)) }
                            td { (item.subject) }
                            td { (item.started) }
                            td { (item.due_date) }
                            td {
                                @if let Some(record_id) = &item.record_id {
                                    a href={ "/records/" (record_id) } { "查看记录" }
                                } @else {
                                    "尚未收到"
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

async fn deadline_board(
    State(state): State<AppState>,
    Extension(session): Extension<WebSession>,
    Query(params): Query<Pairs>,
) -> Result<Response, WebError> {
    let filters = filters_of(&params)?;
    let mut query = state.archive.deadline_query(&*state.clock);
    query.province = filters.province.clone();
    // One evaluation for the counts and the list: rule and state narrow the list only.
    let all = crate::deadlines::board_items(&state, &query).await?;
    let national = state.archive.scope.level == Level::National;
    let shown: Vec<&DeadlineItem> = all
        .iter()
        .filter(|item| filters.rule.is_none_or(|rule| item.rule == rule))
        .filter(|item| filters.state.is_none_or(|wanted| item.state == wanted))
        .collect();
    let late = all
        .iter()
        .filter(|item| item.state == DeadlineState::Late)
        .count();
    let awaiting_update = super::flows::awaiting_update_section(&state).await?;
    let first = (filters.page - 1) * PAGE_SIZE;
    let page_items: Vec<&DeadlineItem> =
        shown.iter().skip(first).take(PAGE_SIZE).copied().collect();
    let body = html! {
        h1 { "期限" }
        p.basis { "依据：第18—20、23、27、28、30、31条（按日历日计算，“日内”含当日）" }
        p #deadline-summary { "截至 " (query.today) "：" strong { "已逾期 " (late) " 项" } "，未到期 " (all.len() - late) " 项。" }
        (filter_form(&params, &all, national))
        @if !all.is_empty() {
            (by_rule(&params, &all))
            @if national { (by_province(&params, &all)) }
        }
        h2 { "事项（逾期的在前）" }
        @if page_items.is_empty() {
            p.empty #no-deadlines { "没有符合条件的事项。" }
        } @else {
            (items_table(&page_items))
        }
        p.pager {
            @if filters.page > 1 {
                a href=(link_with("/deadlines", &params, "page", &(filters.page - 1).to_string())) { "← 上一页" } " "
            }
            @if first + PAGE_SIZE < shown.len() {
                a #next-page href=(link_with("/deadlines", &params, "page", &(filters.page + 1).to_string())) { "下一页 →" }
            }
        }
        (awaiting_update)
    };
    Ok(Html(page(&state.node, Some(&session), "期限", body).into_string()).into_response())
}
