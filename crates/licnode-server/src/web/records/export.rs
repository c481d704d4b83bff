//! A list's current filter exported as CSV or XLSX (issue 12 item 3): every matching row, read
//! page by page through the same query readers as the list, up to [`EXPORT_LIMIT`] rows — a
//! larger result is refused with a clear message (`export_too_large`) rather than cut short.
//! Every export leaves an `export` entry in the audit log (Art. 37).

use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use licnode_model::{Collection, FieldType};
use licnode_store::{AuditEntry, StoredRecord};
use serde_json::json;

use super::{Pairs, find_page, jurisdiction_label, parameter};
use crate::ApiError;
use crate::AppState;
use crate::records::{collection_of, millis_text};
use crate::routes::Routes;
use crate::web::form;
use crate::web::layout::WebError;
use crate::web::page_operation;
use crate::web::session::WebSession;

/// Most rows one export carries.
pub(crate) const EXPORT_LIMIT: usize = 10_000;
/// Rows read per query while exporting.
const EXPORT_PAGE: &str = "500";

pub(super) fn routes() -> Routes<AppState> {
    Routes::new().get_each(
        "/collections/{collection}/export",
        export,
        licnode_model::collections().iter().map(|collection| {
            (
                format!("/collections/{}/export", collection.name),
                page_operation(&format!(
                    "The records of {} matching the list's filter, as CSV or XLSX (`format=csv|xlsx`), at most {EXPORT_LIMIT} rows",
                    collection.name
                ))
                .answers_content(200, "the file", "text/csv", json!({ "type": "string" }))
                .refuses_with_page(400, "an unknown format (`bad_format`) or filter")
                .refuses_with_page(422, "more rows match than one export carries (`export_too_large`)"),
            )
        }),
    )
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    Csv,
    Xlsx,
}

/// The header and the cells of the exported rows: every field (tables as JSON text), then the
/// jurisdiction, the id and the times.
fn table(model: &Collection, records: &[StoredRecord]) -> (Vec<String>, Vec<Vec<String>>) {
    let mut header: Vec<String> = model
        .fields
        .iter()
        .map(|field| field.label_zh.to_string())
        .collect();
    header.extend(["辖区", "记录编号", "创建时间", "更新时间"].map(str::to_string));
    let rows = records
        .iter()
        .map(|record| {
            let mut cells: Vec<String> = model
                .fields
                .iter()
                .map(
                    |field| match (field.field_type, record.data.get(field.name)) {
                        (_, None) => String::new(),
                        (FieldType::Table(_), Some(value)) => value.to_string(),
                        (_, Some(value)) => form::display_text(field, value),
                    },
                )
                .collect();
            cells.push(jurisdiction_label(&record.jurisdiction));
            cells.push(record.id.clone());
            cells.push(millis_text(record.created_at_ms));
            cells.push(millis_text(record.updated_at_ms));
            cells
        })
        .collect();
    (header, rows)
}

fn internal(error: impl std::fmt::Display) -> WebError {
    tracing::error!(%error, "an export could not be written");
    WebError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal",
        "节点暂时无法完成请求，错误已记入日志",
    )
}

fn csv_bytes(header: &[String], rows: &[Vec<String>]) -> Result<Vec<u8>, WebError> {
    // A byte-order mark, so that spreadsheet programs read the Chinese text as UTF-8.
    let mut writer = csv::Writer::from_writer("\u{feff}".as_bytes().to_vec());
    writer.write_record(header).map_err(internal)?;
    for row in rows {
        writer.write_record(row).map_err(internal)?;
    }
    writer.into_inner().map_err(internal)
}

fn xlsx_bytes(
    sheet_name: &str,
    header: &[String],
    rows: &[Vec<String>],
) -> Result<Vec<u8>, WebError> {
    let mut workbook = rust_xlsxwriter::Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.set_name(sheet_name).map_err(internal)?;
    for (row_index, row) in std::iter::once(header)
        .chain(rows.iter().map(Vec::as_slice))
        .enumerate()
    {
        let row_number = u32::try_from(row_index).map_err(internal)?;
        for (column, text) in row.iter().enumerate() {
            let column = u16::try_from(column).map_err(internal)?;
            sheet
                .write_string(row_number, column, text.as_str())
                .map_err(internal)?;
        }
    }
    workbook.save_to_buffer().map_err(internal)
}

/// Every record the filter `filters` matches, page by page; refused when more than
/// [`EXPORT_LIMIT`] do.
async fn matching(
    state: &AppState,
    model: &'static Collection,
    filters: &Pairs,
) -> Result<Vec<StoredRecord>, WebError> {
    let mut records = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let mut params = filters.clone();
        params.push(("limit".to_string(), EXPORT_PAGE.to_string()));
        if let Some(after) = &after {
            params.push(("after".to_string(), after.clone()));
        }
        let page = find_page(state, model, &params)
            .await?
            .map_err(WebError::from)?;
        records.extend(page.items);
        if records.len() > EXPORT_LIMIT {
            return Err(WebError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "export_too_large",
                format!(
                    "符合条件的记录超过{EXPORT_LIMIT}条，一次最多导出{EXPORT_LIMIT}条：请缩小筛选范围（如按辖区或状态）后分批导出"
                ),
            ));
        }
        match page.next {
            Some(next) => after = Some(next),
            None => return Ok(records),
        }
    }
}

async fn export(
    State(state): State<AppState>,
    Extension(session): Extension<WebSession>,
    Path(collection): Path<String>,
    Query(params): Query<Pairs>,
) -> Result<Response, WebError> {
    let model = collection_of(&collection)?;
    let format = match parameter(&params, "format") {
        "csv" => Format::Csv,
        "xlsx" => Format::Xlsx,
        other => {
            return Err(WebError::from(ApiError::BadFormat {
                format: other.to_string(),
            }));
        }
    };
    let filters: Pairs = params
        .into_iter()
        .filter(|(name, value)| {
            !value.trim().is_empty() && !matches!(name.as_str(), "format" | "after" | "limit")
        })
        .collect();
    let records = matching(&state, model, &filters).await?;
    let (header, rows) = table(model, &records);
    let (bytes, content_type, extension) = match format {
        Format::Csv => (csv_bytes(&header, &rows)?, "text/csv; charset=utf-8", "csv"),
        Format::Xlsx => (
            xlsx_bytes(model.label_zh, &header, &rows)?,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "xlsx",
        ),
    };
    // Records leaving the node leave a trace in its audit log (Art. 37).
    let entry = AuditEntry::new(
        licnode_store::audit::kinds::EXPORT,
        &state.node.code,
        &session.staff.user.name,
        state.clock.now_ms(),
    )
    .detail(json!({
        "via": "web",
        "collection": model.name,
        "format": extension,
        "rows": records.len(),
        "filter": filters,
    }));
    state.archive.audit(entry).await?;
    let file_name = format!(
        "{}-{}.{extension}",
        model.name,
        state.clock.today().format("%Y%m%d")
    );
    Ok((
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file_name}\""),
            ),
        ],
        bytes,
    )
        .into_response())
}
