//! The licence file (Art. 6): an enterprise's whole file assembled from its application — each
//! stage (申请, 受理, 现场审查, 产品检验, 许可审批) with its date and the records that make it —
//! from what this node holds. Records join the file by naming the application in their
//! `application` field; a licence's events and the quality archives naming the licence follow
//! it (Art. 12, 13).

use licnode_store::{ListQuery, StoreError, StoredRecord};
use serde::Serialize;
use serde_json::Value;

use crate::records::{Archive, ArchiveError};

/// The most records of one collection a file lists; a file is one enterprise's application, so
/// more than this means the references are wrong, not that the file is long.
pub const MOST_RECORDS_PER_COLLECTION: i64 = 200;

/// The five stages of Art. 6, in order: (code, Chinese name).
pub const STAGES: [(&str, &str); 5] = [
    ("application", "申请"),
    ("acceptance", "受理"),
    ("site_review", "现场审查"),
    ("product_inspection", "产品检验"),
    ("approval", "许可审批"),
];

/// One stage of the file: its date (absent while the stage has not happened, as far as this
/// node knows) and the records that make it.
#[derive(Clone, Debug, Serialize)]
pub struct Stage {
    pub code: &'static str,
    pub name_zh: &'static str,
    pub date: Option<String>,
    pub records: Vec<StoredRecord>,
}

/// An enterprise's licence file: the application, its stages, and what followed the licence.
#[derive(Clone, Debug, Serialize)]
pub struct LicenceFile {
    pub application: StoredRecord,
    pub stages: Vec<Stage>,
    /// Changes, withdrawals, revocations and cancellations of the licences granted (Art. 13).
    pub licence_events: Vec<StoredRecord>,
    /// The quality archives kept of the licences granted (Art. 12).
    pub quality_archives: Vec<StoredRecord>,
}

fn text<'a>(record: &'a StoredRecord, field: &str) -> Option<&'a str> {
    record
        .data
        .get(field)
        .and_then(Value::as_str)
        .filter(|value| !value.is_empty())
}

/// The latest of the `field` dates of `records` (dates are `YYYY-MM-DD`, so text order is
/// date order).
fn latest_date(records: &[StoredRecord], field: &str) -> Option<String> {
    records
        .iter()
        .filter_map(|record| text(record, field))
        .max()
        .map(str::to_string)
}

impl Archive {
    /// The records of `collection` whose `field` names `id`, oldest first.
    async fn naming(
        &self,
        collection: &str,
        field: &str,
        id: &str,
    ) -> Result<Vec<StoredRecord>, StoreError> {
        let query = ListQuery {
            collection: collection.to_string(),
            fields: vec![(field.to_string(), id.to_string())],
            limit: MOST_RECORDS_PER_COLLECTION,
            ..ListQuery::default()
        };
        Ok(self.store.list(&query).await?.items)
    }

    /// The licence file of the application `application_id` (Art. 6); `not_found` when the
    /// node holds no application of that id.
    pub async fn licence_file(&self, application_id: &str) -> Result<LicenceFile, ArchiveError> {
        let application = self
            .find(application_id)
            .await?
            .filter(|record| record.collection == "applications")
            .ok_or_else(|| ArchiveError::NotFound(application_id.to_string()))?;
        let id = application.id.as_str();
        let review_plans = self.naming("review_plans", "application", id).await?;
        let site_verifications = self.naming("site_verifications", "application", id).await?;
        let inspections = self.naming("inspections", "application", id).await?;
        let licences = self.naming("licences", "application", id).await?;
        let refusals = self.naming("refusals", "application", id).await?;
        let mut licence_events = Vec::new();
        let mut quality_archives = Vec::new();
        for licence in &licences {
            licence_events.extend(
                self.naming("licence_events", "licence", &licence.id)
                    .await?,
            );
            quality_archives.extend(
                self.naming("quality_archives", "licence", &licence.id)
                    .await?,
            );
        }
        // 现场审查: the verification's date; the plan's date while only a plan exists.
        let site_review_date = latest_date(&site_verifications, "verification_date")
            .or_else(|| latest_date(&review_plans, "planned_review_date"));
        // 许可审批: the application's approval date (Art. 27), else the licence's or refusal's.
        let approval_date = text(&application, "approval_date")
            .map(str::to_string)
            .or_else(|| latest_date(&licences, "approval_date"))
            .or_else(|| latest_date(&refusals, "refusal_date"));
        let mut site_review = review_plans;
        site_review.extend(site_verifications);
        let mut approval = licences;
        approval.extend(refusals);
        let dates_and_records = [
            (
                text(&application, "application_date").map(str::to_string),
                vec![application.clone()],
            ),
            // 受理 is written into the application itself (受理单位, 受理编号, 受理日期).
            (
                text(&application, "acceptance_date").map(str::to_string),
                if text(&application, "acceptance_date").is_some() {
                    vec![application.clone()]
                } else {
                    Vec::new()
                },
            ),
            (site_review_date, site_review),
            (latest_date(&inspections, "completion_date"), inspections),
            (approval_date, approval),
        ];
        let stages: Vec<Stage> = STAGES
            .iter()
            .zip(dates_and_records)
            .map(|((code, name_zh), (date, records))| Stage {
                code,
                name_zh,
                date,
                records,
            })
            .collect();
        // Art. 36: an overview offers no unmasked reading; its secret values are masked.
        use crate::records::secrecy::{masked_record, masked_records};
        Ok(LicenceFile {
            application: masked_record(application),
            stages: stages
                .into_iter()
                .map(|stage| Stage {
                    records: masked_records(stage.records),
                    ..stage
                })
                .collect(),
            licence_events: masked_records(licence_events),
            quality_archives: masked_records(quality_archives),
        })
    }
}
