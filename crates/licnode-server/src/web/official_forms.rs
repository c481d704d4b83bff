//! The official forms (Attachments 1–3) as HTML: each sheet laid out by the same layout as its
//! XLSX (`licnode_reports::files::layout`), so the page shows every printed string of the
//! original in the same cells and order, and prints on A4 in the original's orientation. Also
//! the print page and the downloads of Attachment 2 (a review plan) and Attachment 3 (an
//! inspection body's change filing), linked from their records' pages.

use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Response};
use licnode_reports::files::{CellStyle, PlacedCell, layout};
use licnode_reports::forms::Form;
use licnode_reports::{FormName, Orientation};
use licnode_store::StoredRecord;
use maud::{Markup, html};
use serde_json::Value;

use super::layout::{WebError, page};
use super::page_operation;
use super::session::WebSession;
use crate::reports::{FormChoice, fill_date_of, form_file};
use crate::routes::Routes;
use crate::{ApiError, AppState};

pub(crate) fn routes() -> Routes<AppState> {
    Routes::new()
        .get(
            "/forms/{form}/{record}/print",
            print_page,
            page_operation("An official form as the original prints it (attachment2 from a review plan, attachment3 from an inspection body's filing, `?filing_date=`)")
                .refuses_with_page(404, "an unknown form or no such record (`unknown_form`, `not_found`)"),
        )
        .get(
            "/forms/{form}/{record}/file",
            download,
            page_operation("An official form as a file (`?format=xlsx|csv&filing_date=&fill_date=`), the JSON API's bytes")
                .refuses_with_page(400, "an unknown format or fill_date (`bad_format`, `bad_fill_date`)")
                .refuses_with_page(404, "an unknown form or no such record (`unknown_form`, `not_found`)"),
        )
}

/// What a form's page or download asks for.
#[derive(serde::Deserialize, Default)]
pub(crate) struct FormParams {
    pub(crate) format: Option<String>,
    pub(crate) filing_date: Option<String>,
    pub(crate) fill_date: Option<String>,
}

impl FormParams {
    /// `xlsx` (the default) or `csv`.
    pub(crate) fn xlsx(&self) -> Result<bool, ApiError> {
        match self.format.as_deref().unwrap_or("xlsx") {
            "xlsx" => Ok(true),
            "csv" => Ok(false),
            other => Err(ApiError::BadFormat {
                format: other.to_string(),
            }),
        }
    }

    pub(crate) fn choice(&self) -> Result<FormChoice<'_>, ApiError> {
        Ok(FormChoice {
            filing_date: self.filing_date.as_deref(),
            fill_date: fill_date_of(self.fill_date.as_deref())?,
        })
    }
}

fn form_name(text: &str) -> Result<FormName, ApiError> {
    FormName::parse(text).ok_or_else(|| ApiError::UnknownForm {
        form: text.to_string(),
    })
}

/// The sheets of `form` made from the stored record `id`.
pub(crate) async fn sheets_of(
    state: &AppState,
    form: FormName,
    id: &str,
    choice: FormChoice<'_>,
) -> Result<(StoredRecord, Vec<Form>), ApiError> {
    Ok(state
        .archive
        .official_form(form, id, choice.filing_date, choice.fill_date)
        .await?)
}

async fn print_page(
    State(state): State<AppState>,
    Extension(session): Extension<WebSession>,
    Path((form, id)): Path<(String, String)>,
    Query(params): Query<FormParams>,
) -> Result<Response, WebError> {
    let form = form_name(&form)?;
    let (record, sheets) = sheets_of(&state, form, &id, params.choice()?).await?;
    let title = sheets.first().map_or("", Form::title).to_string();
    let body = print_body(&sheets, &format!("/records/{}", record.id), "返回记录");
    Ok(Html(page(&state.node, Some(&session), &title, body).into_string()).into_response())
}

async fn download(
    State(state): State<AppState>,
    Extension(_session): Extension<WebSession>,
    Path((form, id)): Path<(String, String)>,
    Query(params): Query<FormParams>,
) -> Result<Response, WebError> {
    let form = form_name(&form)?;
    Ok(form_file(&state, form, &id, params.xlsx()?, params.choice()?).await?)
}

/// A print page's body: how to print, the way back, and the form.
pub(crate) fn print_body(sheets: &[Form], back: &str, back_label: &str) -> Markup {
    html! {
        article.print-view {
            p.no-print { "请使用浏览器的打印功能（A4，纸张方向随表格）。" a href=(back) { (back_label) } }
            (form_html(sheets))
        }
    }
}

/// The form links of a record's page: Attachment 2 of a review plan, Attachment 3 of each of
/// an inspection body's change filings. Nothing for other records.
pub(crate) fn record_form_links(record: &StoredRecord) -> Markup {
    let links: Vec<(String, String)> = match record.collection.as_str() {
        "review_plans" => vec![(String::new(), "附件2 实地核查计划".to_string())],
        "inspection_bodies" => {
            let mut dates: Vec<String> = record
                .data
                .get("change_filings")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|row| row.get("filing_date").and_then(Value::as_str))
                .map(str::to_string)
                .collect();
            dates.sort_unstable();
            dates.dedup();
            dates
                .into_iter()
                .rev()
                .map(|date| {
                    (
                        format!("?filing_date={date}"),
                        format!("附件3 信息变更备案登记表（{date}）"),
                    )
                })
                .collect()
        }
        // A change filing the body made from its own node (Art. 26).
        "inspection_body_filings" if licnode_app::official_forms::is_body_filing(record) => {
            vec![(String::new(), "附件3 信息变更备案登记表".to_string())]
        }
        _ => Vec::new(),
    };
    let form = if record.collection == "review_plans" {
        FormName::Attachment2
    } else {
        FormName::Attachment3
    };
    let base = format!("/forms/{}/{}", form.as_str(), record.id);
    let joiner = |query: &str| if query.is_empty() { "?" } else { "&" };
    html! {
        @if !links.is_empty() {
            section #official-forms {
                h2 { "正式表格" }
                @for (query, label) in &links {
                    p.action-links {
                        (label) " "
                        a.button.print-form href={ (base) "/print" (query) } { "打印视图" }
                        a.button.download-form href={ (base) "/file" (query) (joiner(query)) "format=xlsx" } { "XLSX" }
                        a.button href={ (base) "/file" (query) (joiner(query)) "format=csv" } { "CSV" }
                    }
                }
            }
        }
    }
}

fn class_of(style: CellStyle) -> &'static str {
    match style {
        CellStyle::AttachmentLabel => "form-label",
        CellStyle::Title => "form-title",
        CellStyle::LineLeft => "form-line form-line-left",
        CellStyle::LineCentre => "form-line form-line-centre",
        CellStyle::LineRight => "form-line form-line-right",
        CellStyle::Heading => "form-heading",
        CellStyle::Body => "form-cell",
        CellStyle::Note => "form-note",
    }
}

/// The cells starting in each row, left to right, with an empty cell wherever no cell covers
/// a position (so the columns stay aligned).
fn rows_of_cells(cells: &[PlacedCell], width: u16) -> Vec<Vec<Option<&PlacedCell>>> {
    let rows = cells
        .iter()
        .map(|cell| cell.last_row + 1)
        .max()
        .unwrap_or(0) as usize;
    let mut covered = vec![vec![false; usize::from(width)]; rows];
    let mut starting: Vec<Vec<Option<&PlacedCell>>> = vec![vec![None; usize::from(width)]; rows];
    for cell in cells {
        for row in cell.first_row..=cell.last_row {
            for col in cell.first_col..=cell.last_col {
                if let Some(slot) = covered
                    .get_mut(row as usize)
                    .and_then(|line| line.get_mut(usize::from(col)))
                {
                    *slot = true;
                }
            }
        }
        if let Some(slot) = starting
            .get_mut(cell.first_row as usize)
            .and_then(|line| line.get_mut(usize::from(cell.first_col)))
        {
            *slot = Some(cell);
        }
    }
    starting
        .into_iter()
        .zip(covered)
        .map(|(line, covered)| {
            line.into_iter()
                .zip(covered)
                .filter(|(cell, covered)| cell.is_some() || !covered)
                .map(|(cell, _)| cell)
                .collect()
        })
        .collect()
}

/// One sheet of an official form as the original prints it.
pub(crate) fn sheet_html(form: &Form) -> Markup {
    let placed = layout(form);
    let orientation = match form.orientation {
        Orientation::Landscape => "official-form landscape",
        Orientation::Portrait => "official-form portrait",
    };
    let widths: Vec<u16> = (0..placed.width)
        .map(|col| {
            form.column_widths
                .get(usize::from(col))
                .copied()
                .unwrap_or(14)
        })
        .collect();
    let total: u32 = widths
        .iter()
        .map(|width| u32::from(*width))
        .sum::<u32>()
        .max(1);
    html! {
        section class=(orientation) data-sheet=(form.sheet_name) {
            table.official-sheet {
                colgroup {
                    @for width in &widths {
                        col style={ "width:" (u32::from(*width) * 100 / total) "%" };
                    }
                }
                tbody {
                    @for row in rows_of_cells(&placed.cells, placed.width) {
                        tr {
                            @for cell in row {
                                @if let Some(cell) = cell {
                                    td class=(class_of(cell.style))
                                        rowspan=(cell.last_row - cell.first_row + 1)
                                        colspan=(cell.last_col - cell.first_col + 1) { (cell.text) }
                                } @else {
                                    td {}
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The sheets of a form one after another, each its own printed page.
pub(crate) fn form_html(forms: &[Form]) -> Markup {
    html! {
        div.official-forms {
            @for form in forms { (sheet_html(form)) }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_merged_cell_hides_the_positions_it_covers() {
        let cells = vec![
            PlacedCell {
                first_row: 0,
                first_col: 0,
                last_row: 1,
                last_col: 0,
                text: "审".into(),
                style: CellStyle::Heading,
            },
            PlacedCell {
                first_row: 0,
                first_col: 1,
                last_row: 0,
                last_col: 1,
                text: "姓 名".into(),
                style: CellStyle::Heading,
            },
        ];
        let rows = rows_of_cells(&cells, 2);
        assert_eq!(rows[0].len(), 2);
        // The second row: the label's column is covered, the other is an empty cell.
        assert_eq!(rows[1], vec![None]);
    }
}
