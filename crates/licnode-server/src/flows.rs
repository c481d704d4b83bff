//! The regulation's flows between records, over HTTP:
//!
//! - `GET /api/v1/applications/{id}/licence_file` — an enterprise's licence file assembled from
//!   its application, stage by stage (Art. 6);
//! - `GET /api/v1/records/{id}/linked` — a quality archive's notices, a notice's quality
//!   archives (Art. 24, 29);
//! - `GET /api/v1/quality_archives/awaiting_update` — the quality archives not changed since a
//!   notice naming their enterprise (Art. 29).

use crate::error::ErrorCode;
use axum::Json;
use axum::extract::{Path, State};
use serde_json::{Value, json};

use crate::records::record_json;
use crate::routes::{Operation, Routes};
use crate::{ApiError, AppState};

pub(crate) fn routes() -> Routes<AppState> {
    Routes::new()
        .get(
            "/applications/{id}/licence_file",
            licence_file,
            Operation::new("An enterprise's licence file (Art. 6), assembled from its application: the stages 申请, 受理, 现场审查, 产品检验, 许可审批, each with its date (null while it has not happened, as far as this node knows) and the records that make it (records name the application in their `application` field), then the licence's events and quality archives")
                .answers(200, "the application, its five stages in order, the licence events and quality archives")
                .refuses(404, &[ErrorCode::NotFound], "no application of that id at this node"),
        )
        .get(
            "/records/{id}/linked",
            linked,
            Operation::new("The records linked to a record through the enterprise they name (Art. 24, 29): a quality archive's notices, a notice's quality archives (by licence record, licence number or credit code); empty for other collections")
                .answers(200, "the record's id and collection and the linked records")
                .refuses(404, &[ErrorCode::NotFound], "no such record"),
        )
        .get(
            "/quality_archives/awaiting_update",
            awaiting_update,
            Operation::new("Quality archives of this node's territory not changed since a notice naming their enterprise was written and not yet handled (Art. 29: archives are updated from spot checks and review findings), each with those notices")
                .answers(200, "the archives waiting and their notices"),
        )
}

fn records_json(records: &[licnode_store::StoredRecord]) -> Vec<Value> {
    records.iter().map(record_json).collect()
}

/// `GET /api/v1/applications/{id}/licence_file`.
async fn licence_file(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let file = state.archive.licence_file(&id).await?;
    let stages: Vec<Value> = file
        .stages
        .iter()
        .map(|stage| {
            json!({
                "code": stage.code,
                "name": stage.name_zh,
                "date": stage.date,
                "records": records_json(&stage.records),
            })
        })
        .collect();
    Ok(Json(json!({
        "application": record_json(&file.application),
        "stages": stages,
        "licence_events": records_json(&file.licence_events),
        "quality_archives": records_json(&file.quality_archives),
    })))
}

/// `GET /api/v1/records/{id}/linked`.
async fn linked(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let (record, linked) = state.archive.linked_by_enterprise(&id).await?;
    Ok(Json(json!({
        "id": record.id,
        "collection": record.collection,
        "linked": records_json(&linked),
    })))
}

/// `GET /api/v1/quality_archives/awaiting_update`.
async fn awaiting_update(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let waiting = state.archive.archives_awaiting_update().await?;
    let items: Vec<Value> = waiting
        .iter()
        .map(|item| {
            json!({
                "archive": record_json(&item.archive),
                "notices": records_json(&item.notices),
            })
        })
        .collect();
    Ok(Json(json!({ "count": items.len(), "items": items })))
}
