//! A list's current filter exported as CSV or XLSX (issue 12 item 3), through the same export
//! as the JSON API (`crate::export`): every matching row, in the list's order, up to
//! [`EXPORT_LIMIT`] — a larger result is refused with a clear message (`export_too_large`)
//! rather than cut short — audited (Art. 37).

use crate::error::ErrorCode;
use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::json;

use super::{Pairs, parameter};
use crate::export::{ExportFormat, Selection, download};
use crate::records::{collection_of, list_query, search_query, staff_reader};
use crate::routes::Routes;
use crate::web::layout::WebError;
use crate::web::page_operation;
use crate::web::session::WebSession;
use crate::{ApiError, AppState};

pub(crate) use crate::export::EXPORT_LIMIT;

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
                .refuses_with_page(403, "`unmasked=1` from a clerk or an auditor (`secret_not_for_role`, Art. 36)")
                .refuses_with_page(422, "more rows match than one export carries (`export_too_large`)"),
            )
        }),
    )
}

/// A refusal of the export in Chinese.
fn refused(error: ApiError) -> WebError {
    match error {
        ApiError::BadFormat { .. } => WebError::new(
            StatusCode::BAD_REQUEST,
            ErrorCode::BadFormat,
            "导出格式须为 CSV 或 XLSX",
        ),
        ApiError::ExportTooLarge { limit } => WebError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::ExportTooLarge,
            format!(
                "符合条件的记录超过{limit}条，一次最多导出{limit}条：请缩小筛选范围（如按辖区或状态）后分批导出"
            ),
        ),
        other => WebError::from(other),
    }
}

async fn export(
    State(state): State<AppState>,
    Extension(session): Extension<WebSession>,
    Path(collection): Path<String>,
    Query(mut params): Query<Pairs>,
) -> Result<Response, WebError> {
    let model = collection_of(&collection)?;
    // Secret fields masked unless an approver or administrator asked (Art. 36).
    let reader = staff_reader(&session.staff, &mut params, "web export")?;
    let format = ExportFormat::parse(parameter(&params, "format")).map_err(refused)?;
    let filters: Pairs = params
        .into_iter()
        .filter(|(name, value)| {
            !value.trim().is_empty() && !matches!(name.as_str(), "format" | "after" | "limit")
        })
        .collect();
    // The list's order: newest first unless the list was turned round.
    let selection = if parameter(&filters, "q").is_empty() {
        let mut list = filters.clone();
        if parameter(&filters, "order").is_empty() {
            list.push(("order".to_string(), "desc".to_string()));
        }
        Selection::List(list_query(model, &list).map_err(refused)?)
    } else {
        let search: Pairs = filters
            .iter()
            .filter(|(name, _)| name == "q")
            .cloned()
            .chain([("collection".to_string(), model.name.to_string())])
            .collect();
        Selection::Search(search_query(&search).map_err(refused)?)
    };
    download(&state, model, selection, format, &reader, "web", &filters)
        .await
        .map_err(refused)
}
