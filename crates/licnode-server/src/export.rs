//! Records leaving the node as a file (issue 12 item 3): every record a list's filter or a
//! search matches, read page by page through the store's query readers, up to
//! [`EXPORT_LIMIT`] — a larger result is refused (`export_too_large`) rather than cut short —
//! as CSV or XLSX, with an `export` entry in the audit log (Art. 37). The JSON API
//! (`GET /api/v1/{collection}/records/export`) and the web application's lists both export
//! through here.

use crate::error::ErrorCode;
use axum::Extension;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use licnode_model::{Collection, FieldType};
use licnode_store::{AuditEntry, DateCursor, ListQuery, SearchQuery, StoredRecord};
use serde_json::{Value, json};

use crate::auth::Staff;
use crate::records::{
    collection_of, list_query, millis_text, search_query, staff_reader, unmasked_parameter,
};
use crate::routes::{Operation, Routes};
use crate::{ApiError, AppState};
use licnode_app::Reader;

/// Most rows one export carries.
pub(crate) const EXPORT_LIMIT: usize = 10_000;
/// Rows read per query while exporting.
const EXPORT_PAGE: i64 = 500;

/// `GET /api/v1/{collection}/records/export` (staff, behind the login).
pub(crate) fn routes() -> Routes<AppState> {
    Routes::new()
        .get_each(
            "/{collection}/records/export",
            export,
            licnode_model::collections().iter().map(|collection| {
                let operation = Operation::new(format!(
                    "Export the records of {} matching a filter (the list's parameters, or `q` as in /search) as CSV or XLSX",
                    collection.name
                ))
                .parameters(json!([
                    { "name": "format", "in": "query", "required": true, "schema": { "type": "string", "enum": ["csv", "xlsx"] } },
                    { "name": "q", "in": "query", "schema": { "type": "string" }, "description": "a search instead of a filter" }
                ]))
                .parameters(unmasked_parameter())
                .answers_content(200, "the file (UTF-8 CSV with a byte-order mark, or XLSX)", "text/csv", json!({ "type": "string" }))
                .refuses(400, &[ErrorCode::BadFormat, ErrorCode::UnknownFilter, ErrorCode::BadQuery, ErrorCode::QueryTooShort], "an unknown format or filter")
                .refuses(403, &[ErrorCode::SecretNotForRole], "`unmasked=true`, or a filter on a secret field, from a clerk or an auditor (Art. 36)")
                .refuses(422, &[ErrorCode::ExportTooLarge], "more records match than one export carries (10,000)");
                (format!("/{}/records/export", collection.name), operation)
            }),
        )
}

/// Every record of the collection a filter (the list's parameters) or a search (`q`)
/// matches, as a CSV or XLSX download (`format`); audited.
async fn export(
    State(state): State<AppState>,
    Extension(staff): Extension<Staff>,
    Path(collection): Path<String>,
    params: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Response, ApiError> {
    let model = collection_of(&collection)?;
    let Query(mut params) = params?;
    let reader = staff_reader(&staff, &mut params, "api export")?;
    let mut format = None;
    let mut filters: Vec<(String, String)> = Vec::new();
    for (name, value) in params {
        match name.as_str() {
            "format" => format = Some(ExportFormat::parse(&value)?),
            "after" | "limit" => {}
            _ => filters.push((name, value)),
        }
    }
    let format = format.ok_or_else(|| ApiError::BadFormat {
        format: String::new(),
    })?;
    let searching = filters.iter().any(|(name, _)| name == "q");
    let selection = if searching {
        let mut search = filters.clone();
        search.push(("collection".to_string(), model.name.to_string()));
        Selection::Search(search_query(&search)?)
    } else {
        Selection::List(list_query(model, &filters)?)
    };
    download(&state, model, selection, format, &reader, "api", &filters).await
}

/// The file formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ExportFormat {
    Csv,
    Xlsx,
}

impl ExportFormat {
    /// `csv` or `xlsx`; `bad_format` otherwise.
    pub(crate) fn parse(text: &str) -> Result<ExportFormat, ApiError> {
        match text {
            "csv" => Ok(ExportFormat::Csv),
            "xlsx" => Ok(ExportFormat::Xlsx),
            other => Err(ApiError::BadFormat {
                format: other.to_string(),
            }),
        }
    }

    fn extension(self) -> &'static str {
        match self {
            ExportFormat::Csv => "csv",
            ExportFormat::Xlsx => "xlsx",
        }
    }

    fn content_type(self) -> &'static str {
        match self {
            ExportFormat::Csv => "text/csv; charset=utf-8",
            ExportFormat::Xlsx => {
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            }
        }
    }
}

/// What to export: a filtered list or a search, from its first page.
pub(crate) enum Selection {
    List(ListQuery),
    Search(SearchQuery),
}

/// Every record `selection` matches; `export_too_large` when more than [`EXPORT_LIMIT`] do.
pub(crate) async fn matching(
    state: &AppState,
    selection: Selection,
) -> Result<Vec<StoredRecord>, ApiError> {
    let mut records = Vec::new();
    // The `next` of the page before: a storage key, or a `DateCursor` for a list sorted by a date.
    let mut after: Option<String> = None;
    loop {
        let page = match &selection {
            Selection::List(query) => {
                let mut query = ListQuery {
                    limit: EXPORT_PAGE,
                    ..query.clone()
                };
                if query.sort_by.is_some() {
                    query.after_date = after.as_deref().map(date_cursor).transpose()?;
                } else {
                    query.after = after.as_deref().map(key_cursor).transpose()?;
                }
                state.archive.list(&query).await?
            }
            Selection::Search(query) => {
                let query = SearchQuery {
                    after: after.as_deref().map(key_cursor).transpose()?,
                    limit: EXPORT_PAGE,
                    ..query.clone()
                };
                state.archive.search(&query).await?
            }
        };
        records.extend(page.items);
        if records.len() > EXPORT_LIMIT {
            return Err(ApiError::ExportTooLarge {
                limit: EXPORT_LIMIT,
            });
        }
        match page.next {
            Some(next) => after = Some(next),
            None => return Ok(records),
        }
    }
}

/// A page's `next` read back as a storage key.
fn key_cursor(next: &str) -> Result<i64, ApiError> {
    next.parse().map_err(|_| ApiError::BadCursor)
}

/// A page's `next` read back as the cursor of a list sorted by a date.
fn date_cursor(next: &str) -> Result<DateCursor, ApiError> {
    DateCursor::parse(next).ok_or(ApiError::BadCursor)
}

/// A stored value as a cell: an enumeration by its Chinese label, a year and month as `YYYY-MM`
/// (also an older record's full date), a table as JSON text.
fn cell_text(field: &licnode_model::Field, value: &Value) -> String {
    match (field.field_type, value) {
        (FieldType::Enum(values), Value::String(stored)) => values
            .iter()
            .find(|known| known.value == stored)
            .map_or_else(|| stored.clone(), |known| known.label_zh.to_string()),
        (FieldType::YearMonth, Value::String(stored)) => licnode_model::year_month::shown(stored),
        (_, Value::String(text)) => text.clone(),
        (_, Value::Null) => String::new(),
        (_, Value::Bool(true)) => "是".to_string(),
        (_, Value::Bool(false)) => "否".to_string(),
        (_, other) => other.to_string(),
    }
}

/// The header and rows: every field, then the jurisdiction, the id and the times.
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
                .map(|field| {
                    record
                        .data
                        .get(field.name)
                        .map(|value| cell_text(field, value))
                        .unwrap_or_default()
                })
                .collect();
            cells.push(record.jurisdiction.clone());
            cells.push(record.id.clone());
            cells.push(millis_text(record.created_at_ms));
            cells.push(millis_text(record.updated_at_ms));
            cells
        })
        .collect();
    (header, rows)
}

fn write_failed(error: impl std::fmt::Display) -> ApiError {
    tracing::error!(%error, "an export could not be written");
    ApiError::Internal
}

fn csv_bytes(header: &[String], rows: &[Vec<String>]) -> Result<Vec<u8>, ApiError> {
    // A byte-order mark, so that spreadsheet programs read the Chinese text as UTF-8.
    let mut writer = csv::Writer::from_writer("\u{feff}".as_bytes().to_vec());
    writer.write_record(header).map_err(write_failed)?;
    for row in rows {
        writer.write_record(row).map_err(write_failed)?;
    }
    writer.into_inner().map_err(write_failed)
}

fn xlsx_bytes(
    sheet_name: &str,
    header: &[String],
    rows: &[Vec<String>],
) -> Result<Vec<u8>, ApiError> {
    let mut workbook = rust_xlsxwriter::Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.set_name(sheet_name).map_err(write_failed)?;
    let lines = std::iter::once(header).chain(rows.iter().map(Vec::as_slice));
    for (row_index, row) in lines.enumerate() {
        let row_number = u32::try_from(row_index).map_err(write_failed)?;
        for (column, text) in row.iter().enumerate() {
            let column = u16::try_from(column).map_err(write_failed)?;
            sheet
                .write_string(row_number, column, text.as_str())
                .map_err(write_failed)?;
        }
    }
    workbook.save_to_buffer().map_err(write_failed)
}

/// The export of `selection` as a download in `format`, audited as done by `reader` through
/// `via` with `filters` (the parameters as given). Secret fields are masked unless the reader
/// asked for them unmasked, which the records service audits (Art. 36).
pub(crate) async fn download(
    state: &AppState,
    model: &'static Collection,
    selection: Selection,
    format: ExportFormat,
    reader: &Reader,
    via: &str,
    filters: &[(String, String)],
) -> Result<Response, ApiError> {
    let filtered_on = match &selection {
        Selection::List(query) => licnode_app::records::secrecy::secret_filters(query, reader)?,
        Selection::Search(_) => Vec::new(),
    };
    let mut records = matching(state, selection).await?;
    state
        .archive
        .release(reader, &mut records, &filtered_on)
        .await?;
    let user = reader.author().user();
    let (header, rows) = table(model, &records);
    let bytes = match format {
        ExportFormat::Csv => csv_bytes(&header, &rows)?,
        ExportFormat::Xlsx => xlsx_bytes(model.label_zh, &header, &rows)?,
    };
    // Records leaving the node leave a trace in its audit log (Art. 37).
    let entry = AuditEntry::new(
        licnode_store::AuditKind::Export,
        &state.node.code,
        user,
        state.clock.now_ms(),
    )
    .detail(json!({
        "via": via,
        "collection": model.name,
        "format": format.extension(),
        "rows": records.len(),
        "filter": filters,
        "unmasked": reader.secrets() == licnode_app::SecretFields::Unmasked,
    }));
    state.archive.audit(entry).await?;
    let file_name = format!(
        "{}-{}.{}",
        model.name,
        state.clock.today().format("%Y%m%d"),
        format.extension()
    );
    Ok((
        [
            (header::CONTENT_TYPE, format.content_type().to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file_name}\""),
            ),
        ],
        bytes,
    )
        .into_response())
}
