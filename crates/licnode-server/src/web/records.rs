//! A collection's list (the API's filters and search, newest first or oldest first, paging,
//! CSV and XLSX export of the current filter), a record's page (its fields with Chinese labels,
//! its history, its conflicts side by side with a button per value, the statutory time limits
//! it is part of, where it has travelled), and the create and edit forms generated from the
//! model. Writes go through `Archive::create`/`update` with the session's typed author; lists
//! through the same query readers as the JSON API.

mod export;
mod page_sections;

use crate::error::ErrorCode;
use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use licnode_app::{ArchiveError, Reader};
use licnode_model::{Collection, FieldType};
use licnode_store::{Page, StoreError, StoredRecord};
use maud::{Markup, html};
use serde_json::{Map, Value};

use super::form::{self, FormView, JURISDICTION_FIELD, Typed};
use super::home::may_author_collection;
use super::layout::{WebError, articles_label, page};
use super::messages;
use super::page_operation;
use super::session::{CSRF_FIELD, WebSession};
use crate::records::{authorise_write, collection_of, list_query, search_query, staff_reader};
use crate::routes::Routes;
use crate::{ApiError, AppState};

type Pairs = Vec<(String, String)>;

/// Columns a list shows besides the record's jurisdiction and time.
const LIST_COLUMNS: usize = 4;

pub(crate) fn routes() -> Routes<AppState> {
    let collections = || licnode_model::collections().iter();
    Routes::new()
        .get_each(
            "/collections/{collection}",
            list,
            collections().map(|collection| {
                (
                    format!("/collections/{}", collection.name),
                    page_operation(&format!(
                        "The records of {} with filters (jurisdiction, within, status, any field), search (q), order (newest first by default; `order=asc`), sorting by a date field (`sort=<date field>`, latest first unless `order=asc`; links in the date columns' headers) and paging",
                        collection.name
                    )),
                )
            }),
        )
        .get_each(
            "/collections/{collection}/new",
            new_record_form,
            collections().map(|collection| {
                (
                    format!("/collections/{}/new", collection.name),
                    page_operation(&format!("The form for a new record of {}", collection.name)),
                )
            }),
        )
        .post_each(
            "/collections/{collection}/new",
            create_record,
            collections().map(|collection| {
                (
                    format!("/collections/{}/new", collection.name),
                    page_operation(&format!("Create a record of {} from the form", collection.name))
                        .answers(303, "created: to the record's page")
                        .refuses_with_page(422, "a field failed validation: the form again, each problem next to its field"),
                )
            }),
        )
        .get(
            "/records/{id}",
            record_page,
            page_operation("A record: its fields (secret fields masked unless an approver or administrator asks `unmasked=1`, audited; Art. 36), its history, its conflicts"),
        )
        .get(
            "/records/{id}/edit",
            edit_record_form,
            page_operation("The form that edits a record"),
        )
        .post(
            "/records/{id}/edit",
            update_record,
            page_operation("Change a record from the form")
                .answers(303, "changed: to the record's page")
                .refuses_with_page(422, "a field failed validation: the form again, each problem next to its field"),
        )
        .merge(export::routes())
        .merge(page_sections::routes())
}

/// The fields a list shows: the name, licence number, credit code and state first, then the
/// first others, up to [`LIST_COLUMNS`].
fn list_fields(model: &'static Collection) -> Vec<&'static licnode_model::Field> {
    let mut chosen: Vec<&'static licnode_model::Field> = [
        model.enterprise_name_field,
        model.licence_number_field,
        model.credit_code_field,
        model.status_field,
    ]
    .into_iter()
    .flatten()
    .filter_map(|name| model.field(name))
    .collect();
    for field in model.fields {
        if chosen.len() >= LIST_COLUMNS {
            break;
        }
        let simple = !matches!(field.field_type, FieldType::Table(_) | FieldType::LongText);
        if simple && !chosen.iter().any(|known| known.name == field.name) {
            chosen.push(field);
        }
    }
    chosen.truncate(LIST_COLUMNS);
    chosen
}

fn jurisdiction_label(code: &str) -> String {
    licnode_model::divisions::lookup(code).map_or_else(
        || code.to_string(),
        |division| format!("{code} {}", division.name),
    )
}

fn parameter<'a>(params: &'a Pairs, name: &str) -> &'a str {
    params
        .iter()
        .find(|(known, _)| known == name)
        .map(|(_, value)| value.as_str())
        .unwrap_or_default()
}

/// A link to `path` with the same filters, without the page cursor, plus `extra`.
fn link_with(path: &str, params: &Pairs, extra: &[(&str, &str)]) -> String {
    let mut kept: Pairs = params
        .iter()
        .filter(|(name, value)| {
            name != "after" && !value.is_empty() && !extra.iter().any(|(known, _)| known == name)
        })
        .cloned()
        .collect();
    kept.extend(
        extra
            .iter()
            .map(|(name, value)| (name.to_string(), value.to_string())),
    );
    let query = serde_urlencoded::to_string(&kept).unwrap_or_default();
    format!("{path}?{query}")
}

/// The link to the next page: the same filters, after `next`.
fn next_page_link(collection: &str, params: &Pairs, next: &str) -> String {
    link_with(
        &format!("/collections/{collection}"),
        params,
        &[("after", next)],
    )
}

/// The page of `model`'s records that `params` asks for — a search when `q` is given (in the
/// order the name index keeps), a filtered list otherwise (newest first unless `order=asc`) —
/// through the same query readers as the JSON API, with secret fields as `reader` may see them
/// (Art. 36). The outer error is the store's; the inner, a refusal of the parameters.
pub(super) async fn find_page(
    state: &AppState,
    model: &'static Collection,
    params: &Pairs,
    reader: &Reader,
) -> Result<Result<Page, ApiError>, StoreError> {
    let searching = parameter(params, "q");
    if searching.is_empty() {
        let mut list_params = params.clone();
        if parameter(params, "order").is_empty() {
            list_params.push(("order".to_string(), "desc".to_string()));
        }
        return match list_query(model, &list_params) {
            Ok(query) => released(state.archive.list_as(&query, reader).await),
            Err(refusal) => Ok(Err(refusal)),
        };
    }
    let search: Pairs = params
        .iter()
        .filter(|(name, _)| matches!(name.as_str(), "q" | "after" | "limit"))
        .cloned()
        .chain([("collection".to_string(), model.name.to_string())])
        .collect();
    match search_query(&search) {
        Ok(query) => released(state.archive.search_as(&query, reader).await),
        Err(refusal) => Ok(Err(refusal)),
    }
}

/// A page read through the records service: the store's failure outside, a refusal inside.
fn released(page: Result<Page, ArchiveError>) -> Result<Result<Page, ApiError>, StoreError> {
    match page {
        Ok(page) => Ok(Ok(page)),
        Err(ArchiveError::Store(error)) => Err(error),
        Err(refusal) => Ok(Err(ApiError::from(refusal))),
    }
}

/// The link that sorts the list by the date field `field`: latest first, or earliest first when
/// the list is already sorted by it latest first. The same filters; paging starts again.
fn date_sort_link(model: &Collection, params: &Pairs, field: &str) -> String {
    let sorted_latest_first =
        parameter(params, "sort") == field && parameter(params, "order") != "asc";
    let order = if sorted_latest_first { "asc" } else { "desc" };
    link_with(
        &format!("/collections/{}", model.name),
        params,
        &[("sort", field), ("order", order)],
    )
}

/// The arrow after a date field's name: which way the list is sorted by it, if it is.
fn date_sort_arrow(params: &Pairs, field: &str) -> &'static str {
    match (
        parameter(params, "sort") == field,
        parameter(params, "order"),
    ) {
        (false, _) => "",
        (true, "asc") => " ↑",
        (true, _) => " ↓",
    }
}

/// The order toggle and the date fields to sort by (lists, not searches), and the export links
/// of the current filter and order.
fn list_tools(model: &Collection, params: &Pairs) -> Markup {
    let searching = parameter(params, "q");
    let ascending = parameter(params, "order") == "asc";
    let sorted_by_date = !parameter(params, "sort").is_empty();
    let list_path = format!("/collections/{}", model.name);
    let export_path = format!("/collections/{}/export", model.name);
    let storage_order: Pairs = params
        .iter()
        .filter(|(name, _)| name != "sort" && name != "order")
        .cloned()
        .collect();
    html! {
        p.list-tools {
            @if searching.is_empty() {
                "排序："
                @if sorted_by_date {
                    a #storage-order href=(link_with(&list_path, &storage_order, &[])) { "按本节点收录先后" }
                } @else {
                    "按本节点收录先后 "
                    @if ascending {
                        a #order-toggle href=(link_with(&list_path, params, &[("order", "desc")])) { "最早在前 ↑（改为最新在前）" }
                    } @else {
                        a #order-toggle href=(link_with(&list_path, params, &[("order", "asc")])) { "最新在前 ↓（改为最早在前）" }
                    }
                }
                @for field in licnode_store::sortable_date_fields(model.name) {
                    @let label = model.field(field).map_or(field, |known| known.label_zh);
                    " "
                    a #{ "sort-" (field) } href=(date_sort_link(model, params, field)) data-sort=(field) {
                        "按" (label) (date_sort_arrow(params, field))
                    }
                }
                " · "
            }
            "导出当前筛选结果（最多" (export::EXPORT_LIMIT) "条）："
            a #export-csv href=(link_with(&export_path, params, &[("format", "csv")])) { "CSV" }
            " "
            a #export-xlsx href=(link_with(&export_path, params, &[("format", "xlsx")])) { "XLSX" }
        }
    }
}

/// A column's header: for a date field of a list (not a search), a link that sorts by it.
fn column_header(model: &Collection, params: &Pairs, field: &licnode_model::Field) -> Markup {
    let sortable = parameter(params, "q").is_empty() && field.field_type == FieldType::Date;
    html! {
        th {
            @if sortable {
                a.date-sort data-sort=(field.name) href=(date_sort_link(model, params, field.name)) {
                    (field.label_zh) (date_sort_arrow(params, field.name))
                }
            } @else {
                (field.label_zh)
            }
        }
    }
}

async fn list(
    State(state): State<AppState>,
    Extension(session): Extension<WebSession>,
    Path(collection): Path<String>,
    Query(mut params): Query<Pairs>,
) -> Result<Response, WebError> {
    let model = collection_of(&collection)?;
    let reader = staff_reader(&session.staff, &mut params, "web")?;
    // Empty inputs of the filter form mean "any".
    let params: Pairs = params
        .into_iter()
        .filter(|(_, value)| !value.trim().is_empty())
        .collect();
    let searching = parameter(&params, "q");
    let page_result = find_page(&state, model, &params, &reader).await?;
    let ascending = parameter(&params, "order") == "asc";
    let columns = list_fields(model);
    let status_values = model
        .status_field
        .and_then(|name| model.field(name))
        .and_then(|field| match field.field_type {
            FieldType::Enum(values) => Some(values),
            _ => None,
        });
    let status_refused = page_result.as_ref().err().map(|refusal| refusal.status());
    let body = html! {
        h1 { (model.label_zh) }
        p.basis { "依据：" (articles_label(model.articles)) }
        @if may_author_collection(&state, model.name) && authorise_write(&session.staff, model).is_ok() {
            p { a.button href={ "/collections/" (model.name) "/new" } { "新建" } }
        }
        form.filters method="get" action={ "/collections/" (model.name) } {
            label { "名称、证书编号或信用代码" input type="search" name="q" value=(searching) minlength="2"; }
            label { "辖区代码" input type="text" name="jurisdiction" value=(parameter(&params, "jurisdiction")) inputmode="numeric"; }
            label { "所辖范围" input type="text" name="within" value=(parameter(&params, "within")) inputmode="numeric"; }
            @if let Some(values) = status_values {
                label { "状态"
                    select name="status" {
                        option value="" { "（全部）" }
                        @for known in values.iter() {
                            option value=(known.value) selected[parameter(&params, "status") == known.value] { (known.label_zh) }
                        }
                    }
                }
            }
            @if ascending { input type="hidden" name="order" value="asc"; }
            @if !parameter(&params, "sort").is_empty() { input type="hidden" name="sort" value=(parameter(&params, "sort")); }
            button type="submit" { "查询" }
        }
        (list_tools(model, &params))
        @match &page_result {
            Err(refusal) => {
                p.error role="alert" data-error-code=(refusal.code()) { (messages::refusal(refusal.code(), &refusal.message())) }
            }
            Ok(found) => {
                @if found.items.is_empty() {
                    p.empty { "没有符合条件的记录。" }
                } @else {
                    div.table-scroll {
                        table.list {
                            thead { tr {
                                @for field in &columns { (column_header(model, &params, field)) }
                                th { "辖区" } th { "创建时间" } th { "更新时间" }
                            } }
                            tbody {
                                @for record in &found.items {
                                    tr {
                                        @for (index, field) in columns.iter().enumerate() {
                                            td {
                                                @let text = record.data.get(field.name).map(|value| form::display_text(field, value)).unwrap_or_default();
                                                @if index == 0 {
                                                    a href={ "/records/" (record.id) } { @if text.is_empty() { (record.id) } @else { (text) } }
                                                } @else { (text) }
                                            }
                                        }
                                        td { (jurisdiction_label(&record.jurisdiction)) }
                                        td { (super::display::china_time(record.created_at_ms)) }
                                        td { (super::display::china_time(record.updated_at_ms)) }
                                    }
                                }
                            }
                        }
                    }
                    @if let Some(next) = &found.next {
                        p.pager { a href=(next_page_link(model.name, &params, next)) { "下一页" } }
                    }
                }
            }
        }
    };
    let status = status_refused.unwrap_or(StatusCode::OK);
    Ok((
        status,
        Html(page(&state.node, Some(&session), model.label_zh, body).into_string()),
    )
        .into_response())
}

/// A create or edit form page.
struct FormPage<'a> {
    model: &'static Collection,
    action: String,
    title: String,
    typed: &'a Typed,
    problems: &'a HashMap<String, Vec<String>>,
    /// A refusal that is not about one field.
    refusal: Option<(ErrorCode, String)>,
    creating: bool,
}

async fn form_page(state: &AppState, session: &WebSession, form_page: FormPage<'_>) -> Markup {
    let territory = form::territory(&state.archive.scope);
    let licence_choices = form::licence_choices(&state.archive, form_page.model).await;
    let jurisdictions = form_page
        .creating
        .then(|| form::authorable_jurisdictions(&state.archive.scope, form_page.model));
    let view = FormView {
        model: form_page.model,
        typed: form_page.typed,
        problems: form_page.problems,
        territory: &territory,
        jurisdictions: jurisdictions.as_deref(),
        creating: form_page.creating,
        licence_choices: &licence_choices,
    };
    let body = html! {
        h1 { (form_page.title) }
        p.basis { (form_page.model.label_zh) " · 依据：" (articles_label(form_page.model.articles)) " · " span.required { "*" } " 为必填项" }
        @if let Some((code, message)) = &form_page.refusal {
            p.error role="alert" data-error-code=(code) { (message) " （错误代码：" (code) "）" }
        }
        @if !form_page.problems.is_empty() {
            p.error role="alert" data-error-code="validation_failed" { (messages::refusal(ErrorCode::ValidationFailed, "")) }
        }
        form.record method="post" action=(form_page.action) {
            input type="hidden" name=(CSRF_FIELD) value=(session.csrf_token);
            (form::fields(&view))
            div.actions { button type="submit" { "保存" } }
        }
    };
    page(&state.node, Some(session), &form_page.title, body)
}

/// A refusal of the records service, on the form it came from: field problems next to their
/// fields, any other refusal above the form, with what was typed kept.
async fn refused_form(
    state: &AppState,
    session: &WebSession,
    error: ArchiveError,
    page_of: FormPage<'_>,
) -> Response {
    match error {
        ArchiveError::Invalid(errors) => {
            let mut problems = form::problems_by_input(&errors.0);
            if let Some(jurisdiction_problems) = problems.remove("_jurisdiction") {
                problems.insert(JURISDICTION_FIELD.to_string(), jurisdiction_problems);
            }
            let markup = form_page(
                state,
                session,
                FormPage {
                    problems: &problems,
                    ..page_of
                },
            )
            .await;
            (StatusCode::UNPROCESSABLE_ENTITY, Html(markup.into_string())).into_response()
        }
        ArchiveError::Store(_) | ArchiveError::Document(_) => {
            WebError::from(error).page(&state.node, Some(session))
        }
        other => {
            let refusal = WebError::from(other);
            let markup = form_page(
                state,
                session,
                FormPage {
                    refusal: Some((refusal.code, refusal.message.clone())),
                    ..page_of
                },
            )
            .await;
            (refusal.status, Html(markup.into_string())).into_response()
        }
    }
}

async fn new_record_form(
    State(state): State<AppState>,
    Extension(session): Extension<WebSession>,
    Path(collection): Path<String>,
) -> Result<Response, WebError> {
    let model = collection_of(&collection)?;
    authorise_write(&session.staff, model)?;
    if !may_author_collection(&state, model.name) {
        return Err(not_authored_here(model));
    }
    let mut typed = Typed::new();
    typed.insert(
        JURISDICTION_FIELD.to_string(),
        state.archive.scope.node_code.clone(),
    );
    let markup = form_page(
        &state,
        &session,
        FormPage {
            model,
            action: format!("/collections/{}/new", model.name),
            title: format!("新建：{}", model.label_zh),
            typed: &typed,
            problems: &HashMap::new(),
            refusal: None,
            creating: true,
        },
    )
    .await;
    Ok(Html(markup.into_string()).into_response())
}

/// The page of a collection this node's level does not author (Art. 18–23, 27, 28, 32 as the
/// authority table gives them): no form is offered.
fn not_authored_here(model: &Collection) -> WebError {
    WebError::new(
        StatusCode::FORBIDDEN,
        ErrorCode::AuthorNotAllowed,
        format!(
            "按许可权限表，本节点不录入“{}”（{}）",
            model.label_zh,
            articles_label(model.articles)
        ),
    )
}

async fn create_record(
    State(state): State<AppState>,
    Extension(session): Extension<WebSession>,
    Path(collection): Path<String>,
    Form(pairs): Form<Pairs>,
) -> Result<Response, WebError> {
    let model = collection_of(&collection)?;
    authorise_write(&session.staff, model)?;
    let (input, typed) = form::input_from_form(model, &pairs, None);
    let mut input = input;
    input.remove(JURISDICTION_FIELD);
    let jurisdiction = typed
        .get(JURISDICTION_FIELD)
        .map(String::as_str)
        .filter(|code| !code.is_empty());
    match state
        .archive
        .create(model.name, jurisdiction, &input, &session.staff.author())
        .await
    {
        Ok(created) => {
            state.metrics.increment("licnode_records_created_total", 1);
            Ok(Redirect::to(&format!("/records/{}", created.record.id)).into_response())
        }
        Err(error) => Ok(refused_form(
            &state,
            &session,
            error,
            FormPage {
                model,
                action: format!("/collections/{}/new", model.name),
                title: format!("新建：{}", model.label_zh),
                typed: &typed,
                problems: &HashMap::new(),
                refusal: None,
                creating: true,
            },
        )
        .await),
    }
}

fn history_fields(model: &Collection, names: &[String]) -> String {
    names
        .iter()
        .filter(|name| !name.starts_with('_'))
        .map(|name| {
            model
                .field(name)
                .map_or(name.as_str(), |field| field.label_zh)
        })
        .collect::<Vec<_>>()
        .join("、")
}

async fn record_page(
    State(state): State<AppState>,
    Extension(session): Extension<WebSession>,
    Path(id): Path<String>,
    Query(mut params): Query<Pairs>,
) -> Result<Response, WebError> {
    // Secret fields masked unless an approver or administrator asked (Art. 36; audited).
    let reader = staff_reader(&session.staff, &mut params, "web")?;
    let record = state.archive.read_as(&id, &reader).await?;
    let model = collection_of(&record.collection)?;
    let history = state.archive.history(&id).await?;
    let conflicts = state.archive.conflicts_as(&id, &reader).await?;
    let refusal = state
        .archive
        .edit_refusal(&id, &session.staff.author())
        .await?;
    let editable = refusal.is_none() && authorise_write(&session.staff, model).is_ok();
    let deadlines = page_sections::deadlines_section(&state, &record).await?;
    let travel = page_sections::travel_section(&state, &record).await?;
    let linked = super::flows::linked_section(&state, &record).await?;
    let body = html! {
        h1 { (record_title(model, &record)) }
        p.basis {
            (model.label_zh) " · 依据：" (articles_label(model.articles))
            " · 辖区：" (jurisdiction_label(&record.jurisdiction))
        }
        @if editable {
            p { a.button #edit href={ "/records/" (record.id) "/edit" } { "修改" } }
        } @else if let Some(refusal) = &refusal {
            p.read-only data-error-code=(refusal.code()) { "只读：" (messages::refusal(crate::error::service_code(refusal.code()), "")) }
        }
        (page_sections::secrecy_notice(model, &record, &session, &reader))
        dl.fields {
            @for field in model.fields {
                @if let Some(value) = record.data.get(field.name) {
                    dt { (field.label_zh) }
                    dd { (field_markup(field, value)) }
                }
            }
        }
        @if model.name == "licences" { (super::licence_actions::licence_panel(&state, &record, &session)) }
        @if !conflicts.is_empty() {
            section #conflicts {
                h2 { "并发修改的字段" }
                p.basis {
                    "以下字段在不同节点被同时修改；页面显示其中一个值。"
                    @if editable { "点击“采用此值”即以普通修改确定取值（审批规则同样适用）。" }
                }
                div.table-scroll { table.list {
                    thead { tr { th { "字段" } th { "显示的值" } th { "并存的值" } } }
                    tbody {
                        @for conflict in &conflicts {
                            @let field = model.field(&conflict.field);
                            tr {
                                td { (field.map_or(conflict.field.as_str(), |field| field.label_zh)) }
                                td { (shown_value(field, &conflict.shown)) }
                                td { (page_sections::conflict_values(
                                    &record.id,
                                    &conflict.field,
                                    &conflict.values.iter().map(|value| (value.clone(), shown_value(field, value))).collect::<Vec<_>>(),
                                    &session,
                                    editable && conflict.shown.as_str() != Some(licnode_model::MASKED_SECRET),
                                )) }
                            }
                        }
                    }
                } }
            }
        }
        (super::official_forms::record_form_links(&record))
        (linked)
        (deadlines)
        (travel)
        section #history {
            h2 { "修改记录" }
            div.table-scroll { table.list {
                thead { tr { th { "时间" } th { "节点" } th { "用户" } th { "修改的字段" } } }
                tbody {
                    @for entry in history.iter().rev() {
                        tr {
                            td { (super::display::china_time(entry.time_ms)) }
                            td { (entry.node.as_deref().unwrap_or("—")) }
                            td { (entry.user.as_deref().unwrap_or("—")) }
                            td { (history_fields(model, &entry.fields)) }
                        }
                    }
                }
            } }
        }
    };
    let title = record_title(model, &record);
    Ok(Html(page(&state.node, Some(&session), &title, body).into_string()).into_response())
}

fn shown_value(field: Option<&licnode_model::Field>, value: &Value) -> String {
    match field {
        Some(field) => form::display_text(field, value),
        None => form::value_text(value),
    }
}

fn record_title(model: &Collection, record: &StoredRecord) -> String {
    model
        .enterprise_name_field
        .and_then(|name| record.data.get(name))
        .and_then(Value::as_str)
        .map_or_else(
            || format!("{} {}", model.label_zh, record.id),
            str::to_string,
        )
}

fn field_markup(field: &licnode_model::Field, value: &Value) -> Markup {
    match (field.field_type, value) {
        (FieldType::Table(columns), Value::Array(rows)) => html! {
            div.table-scroll { table.list {
                thead { tr { @for column in columns { th { (column.label_zh) } } } }
                tbody { @for row in rows { tr {
                    @for column in columns {
                        td { (row.get(column.name).map(|cell| form::display_text(column, cell)).unwrap_or_default()) }
                    }
                } } }
            } }
        },
        (FieldType::RecordRef(_), Value::String(id)) => {
            html! { a href={ "/records/" (id) } { (id) } }
        }
        (FieldType::DivisionCode, Value::String(code)) => html! { (jurisdiction_label(code)) },
        _ => html! { (form::display_text(field, value)) },
    }
}

async fn edit_record_form(
    State(state): State<AppState>,
    Extension(session): Extension<WebSession>,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    // The form shows secret fields masked; an unchanged mask is left out of the edit.
    let reader = Reader::masked(&session.staff.author(), "web");
    let record = state.archive.read_as(&id, &reader).await?;
    let model = collection_of(&record.collection)?;
    authorise_write(&session.staff, model)?;
    if let Some(refusal) = state
        .archive
        .edit_refusal(&id, &session.staff.author())
        .await?
    {
        return Err(WebError::from(refusal));
    }
    let typed = form::typed_from_record(model, &record.data);
    let markup = form_page(
        &state,
        &session,
        FormPage {
            model,
            action: format!("/records/{id}/edit"),
            title: format!("修改：{}", record_title(model, &record)),
            typed: &typed,
            problems: &HashMap::new(),
            refusal: None,
            creating: false,
        },
    )
    .await;
    Ok(Html(markup.into_string()).into_response())
}

async fn update_record(
    State(state): State<AppState>,
    Extension(session): Extension<WebSession>,
    Path(id): Path<String>,
    Form(pairs): Form<Pairs>,
) -> Result<Response, WebError> {
    // Compared with the record as the form showed it: a secret field still showing its mask
    // is unchanged and stays out of the patch (Art. 36).
    let reader = Reader::masked(&session.staff.author(), "web");
    let record = state.archive.read_as(&id, &reader).await?;
    let model = collection_of(&record.collection)?;
    authorise_write(&session.staff, model)?;
    let (input, typed) = form::input_from_form(model, &pairs, Some(&record.data));
    let mut patch: Map<String, Value> = input;
    patch.remove(JURISDICTION_FIELD);
    match state
        .archive
        .update(&id, &patch, &session.staff.author())
        .await
    {
        Ok(updated) => {
            if updated.changed {
                state.metrics.increment("licnode_records_updated_total", 1);
            }
            Ok(Redirect::to(&format!("/records/{id}")).into_response())
        }
        Err(error) => Ok(refused_form(
            &state,
            &session,
            error,
            FormPage {
                model,
                action: format!("/records/{id}/edit"),
                title: format!("修改：{}", record_title(model, &record)),
                typed: &typed,
                problems: &HashMap::new(),
                refusal: None,
                creating: false,
            },
        )
        .await),
    }
}
