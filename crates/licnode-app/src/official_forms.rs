//! The official forms of a stored record (Attachments 1–3), for every door: the API, the pages
//! and the console ask here which record makes which form. Attachment 3 prints from an
//! inspection body's registry entry (its change filings as the centre entered them) or from a
//! change filing the body made from its own node (`inspection_body_filings`, Art. 26), with the
//! province's opinion once it has come.

use std::borrow::Cow;

use licnode_reports::forms::fields_of_filing;
use licnode_reports::{FillDate, Form, FormName};
use licnode_store::{ListQuery, StoreError, StoredRecord};

use crate::records::Archive;

/// Why no form could be made.
#[derive(Debug, thiserror::Error)]
pub enum OfficialFormError {
    /// No record of that id makes that form here.
    #[error("no {collection} record {id:?}")]
    NotFound {
        collection: &'static str,
        id: String,
    },
    /// The record is of the form's collection but not of its kind (Attachment 1 from a yearly
    /// report).
    #[error("{0} is not a monthly report")]
    WrongKind(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Archive {
    /// The sheets of `form` made from the record `id` (Attachment 3 from a registry entry's
    /// filing of `filing_date`, the latest when `None`; Attachment 1 with its 填报日期 as
    /// `fill_date` says).
    pub async fn official_form(
        &self,
        form: FormName,
        id: &str,
        filing_date: Option<&str>,
        fill_date: FillDate,
    ) -> Result<(StoredRecord, Vec<Form>), OfficialFormError> {
        let not_found = || OfficialFormError::NotFound {
            collection: form.collection(),
            id: id.to_owned(),
        };
        let record = self.store.get(id).await?.ok_or_else(not_found)?;
        let (fields, filing_date) = if form == FormName::Attachment3 && is_body_filing(&record) {
            let opinion = self.opinion_on(&record.id).await?;
            let fields = fields_of_filing(&record.data, opinion.as_ref().map(|o| &o.data));
            (Cow::Owned(fields), None)
        } else if record.collection == form.collection() {
            (Cow::Borrowed(&record.data), filing_date)
        } else {
            return Err(not_found());
        };
        let sheets = form
            .build(&fields, filing_date, fill_date)
            .ok_or_else(|| OfficialFormError::WrongKind(id.to_owned()))?;
        Ok((record, sheets))
    }

    /// The province's answer to the body's filing `filing`, when it has come.
    async fn opinion_on(&self, filing: &str) -> Result<Option<StoredRecord>, StoreError> {
        let query = ListQuery {
            collection: "inspection_body_filings".to_string(),
            fields: vec![("filing".to_string(), filing.to_string())],
            limit: 1,
            descending: true,
            ..ListQuery::default()
        };
        Ok(self.store.list(&query).await?.items.into_iter().next())
    }
}

/// Whether `record` is a change filing an inspection body made (not the province's answer).
pub fn is_body_filing(record: &StoredRecord) -> bool {
    record.collection == "inspection_body_filings" && record.data.contains_key("changes")
}
