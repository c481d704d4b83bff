//! Notices and the quality archives they concern (Art. 24, 29): a notice of a failed spot check
//! (or of a problem found in a review, Art. 25) names an enterprise; the quality archives of
//! that enterprise are linked from it and to it, and an archive not changed since such a notice
//! was written waits for its update ("及时更新", Art. 29) on the bureau's board.
//!
//! A notice names an enterprise by the licence record, the licence number or the unified social
//! credit code; an archive is linked when it shares any of the three.

use std::collections::BTreeMap;

use licnode_store::{ListQuery, SearchQuery, StoreError, StoredRecord};
use serde::Serialize;
use serde_json::Value;

use crate::records::{Archive, ArchiveError};

/// The fields a notice and a quality archive share to name one enterprise.
const NAMING_FIELDS: [&str; 3] = ["licence", "licence_number", "credit_code"];

/// Records read per page when the notices are walked.
const PAGE: i64 = 500;

/// The newest notices the board looks at: a bureau's notices of the last years, not every one
/// ever received (each costs up to three indexed queries).
const MOST_NOTICES_EXAMINED: usize = 2_000;

/// The most linked records listed for one record.
const MOST_LINKED: i64 = 200;

/// A quality archive waiting for its update after a notice (Art. 29).
#[derive(Clone, Debug, Serialize)]
pub struct ArchiveAwaitingUpdate {
    pub archive: StoredRecord,
    /// The notices written after the archive's last change, oldest first.
    pub notices: Vec<StoredRecord>,
}

fn text<'a>(record: &'a StoredRecord, field: &str) -> Option<&'a str> {
    record
        .data
        .get(field)
        .and_then(Value::as_str)
        .filter(|value| !value.trim().is_empty())
}

impl Archive {
    /// The records of `collection` that share a naming field's value with `record`, by id.
    async fn sharing_an_enterprise(
        &self,
        record: &StoredRecord,
        collection: &str,
    ) -> Result<Vec<StoredRecord>, StoreError> {
        let mut found = BTreeMap::new();
        for field in NAMING_FIELDS {
            let Some(value) = text(record, field) else {
                continue;
            };
            // Licence number and credit code are the projection's indexed columns (a licence
            // number matched with or without its province's abbreviation); the licence record
            // is a field of the document.
            let page = match field {
                "licence_number" | "credit_code" => {
                    let mut query = SearchQuery {
                        collection: Some(collection.to_string()),
                        limit: MOST_LINKED,
                        ..SearchQuery::default()
                    };
                    if field == "licence_number" {
                        query.licence_number = Some(value.to_string());
                    } else {
                        query.credit_code = Some(value.to_string());
                    }
                    self.store.search(&query).await?
                }
                _ => {
                    let query = ListQuery {
                        collection: collection.to_string(),
                        fields: vec![(field.to_string(), value.to_string())],
                        limit: MOST_LINKED,
                        ..ListQuery::default()
                    };
                    self.store.list(&query).await?
                }
            };
            for linked in page.items {
                found.insert((linked.key, linked.id.clone()), linked);
            }
        }
        Ok(found.into_values().collect())
    }

    /// The records linked to `id`: a quality archive's notices, a notice's quality archives;
    /// nothing for a record of another collection (Art. 24, 29).
    pub async fn linked_by_enterprise(
        &self,
        id: &str,
    ) -> Result<(StoredRecord, Vec<StoredRecord>), ArchiveError> {
        let record = self.get(id).await?;
        let linked = match record.collection.as_str() {
            "quality_archives" => self.sharing_an_enterprise(&record, "notices").await?,
            "notices" => {
                self.sharing_an_enterprise(&record, "quality_archives")
                    .await?
            }
            _ => Vec::new(),
        };
        // Art. 36: an overview offers no unmasked reading; its secret values are masked.
        use crate::records::secrecy::{masked_record, masked_records};
        Ok((masked_record(record), masked_records(linked)))
    }

    /// The quality archives of this node's territory not changed since a notice naming their
    /// enterprise was written (Art. 29: the archive is updated from spot checks and review
    /// findings), each with those notices; a notice handled (办理状态 已处理) no longer asks.
    /// The newest [`MOST_NOTICES_EXAMINED`] notices are looked at.
    pub async fn archives_awaiting_update(&self) -> Result<Vec<ArchiveAwaitingUpdate>, StoreError> {
        let mut waiting: BTreeMap<String, ArchiveAwaitingUpdate> = BTreeMap::new();
        let mut after = None;
        let mut examined = 0;
        loop {
            let query = ListQuery {
                collection: "notices".to_string(),
                after,
                limit: PAGE,
                descending: true,
                ..ListQuery::default()
            };
            let page = self.store.list(&query).await?;
            for notice in &page.items {
                examined += 1;
                if text(notice, "status") == Some("handled") {
                    continue;
                }
                for archive in self
                    .sharing_an_enterprise(notice, "quality_archives")
                    .await?
                {
                    let territorial = self.scope.covers(&archive.jurisdiction)
                        || !self.scope.level.is_territorial();
                    if !territorial || archive.updated_at_ms >= notice.created_at_ms {
                        continue;
                    }
                    waiting
                        .entry(archive.id.clone())
                        .or_insert_with(|| ArchiveAwaitingUpdate {
                            archive,
                            notices: Vec::new(),
                        })
                        .notices
                        .push(notice.clone());
                }
            }
            match (page.next, page.items.last()) {
                (Some(_), Some(last)) if examined < MOST_NOTICES_EXAMINED => after = Some(last.key),
                _ => break,
            }
        }
        // Each archive's notices, oldest first.
        for item in waiting.values_mut() {
            item.notices.sort_by_key(|notice| notice.created_at_ms);
        }
        // Art. 36: an overview offers no unmasked reading; its secret values are masked.
        use crate::records::secrecy::{masked_record, masked_records};
        Ok(waiting
            .into_values()
            .map(|item| ArchiveAwaitingUpdate {
                archive: masked_record(item.archive),
                notices: masked_records(item.notices),
            })
            .collect())
    }
}
