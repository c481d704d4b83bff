//! The queryable row of a record, computed from its document and nothing else.

use licnode_doc::{RecordDoc, RecordMeta};
use licnode_model::Collection;
use serde_json::{Map, Value};

use crate::StoreError;

/// The projection of one record: what the `records` table holds for it.
#[derive(Clone, Debug, PartialEq)]
pub struct Projection {
    pub id: String,
    pub collection: String,
    pub jurisdiction: String,
    pub data: Map<String, Value>,
    pub enterprise_name: Option<String>,
    pub licence_number: Option<String>,
    pub licence_number_bare: Option<String>,
    pub credit_code: Option<String>,
    pub status: Option<String>,
    pub conflict_count: i64,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
}

impl Projection {
    /// Rebuilds the projection of `doc`. `updated_at_ms` is the time of the write that led here.
    pub fn of(doc: &RecordDoc, updated_at_ms: i64) -> Result<Projection, StoreError> {
        let meta = doc.meta().map_err(|source| StoreError::CorruptDocument {
            id: String::new(),
            source: Box::new(source),
        })?;
        let (data, conflicts) = doc.fields_and_conflicts();
        let created_at_ms = doc.created_at_ms().unwrap_or(updated_at_ms);
        Ok(Projection::from_fields(
            meta,
            data,
            conflicts.len() as i64,
            created_at_ms,
            updated_at_ms,
        ))
    }

    /// The projection of a record created by the first change `first`, read from the change's
    /// operations: what [`Projection::of`] gives for the document that change creates.
    pub fn of_first_change(first: licnode_doc::FirstChange, updated_at_ms: i64) -> Projection {
        let created_at_ms = first.created_at_ms.unwrap_or(updated_at_ms);
        // A single first change cannot hold concurrent values: no conflicts.
        Projection::from_fields(first.meta, first.fields, 0, created_at_ms, updated_at_ms)
    }

    /// The projection of a record with the identity `meta` showing the fields `data`: the
    /// collection's enterprise name, licence number, credit code and status are read from them.
    pub fn from_fields(
        meta: RecordMeta,
        data: Map<String, Value>,
        conflict_count: i64,
        created_at_ms: i64,
        updated_at_ms: i64,
    ) -> Projection {
        let collection = licnode_model::collection(&meta.collection);
        let text_of = |field: Option<&'static str>| -> Option<String> {
            let name = field?;
            data.get(name)?.as_str().map(str::to_string)
        };
        let enterprise_name = text_of(collection.and_then(|c| c.enterprise_name_field));
        let licence_number = text_of(collection.and_then(|c| c.licence_number_field));
        let licence_number_bare = licence_number.as_deref().map(bare_licence_number);
        let credit_code = text_of(collection.and_then(|c| c.credit_code_field));
        let status = text_of(collection.and_then(|c: &Collection| c.status_field));
        Projection {
            conflict_count,
            created_at_ms,
            updated_at_ms,
            id: meta.id,
            collection: meta.collection,
            jurisdiction: meta.jurisdiction,
            data,
            enterprise_name,
            licence_number,
            licence_number_bare,
            credit_code,
            status,
        }
    }

    /// The gram index terms of the enterprise name.
    pub fn grams(&self) -> Vec<String> {
        self.enterprise_name
            .as_deref()
            .map(name_grams)
            .unwrap_or_default()
    }
}

/// The licence number without its provincial prefix, as searched.
pub(crate) fn bare_licence_number(number: &str) -> String {
    match licnode_model::licence_number::normalise(number) {
        Ok(parsed) => parsed.bare(),
        Err(_) => number.trim().to_uppercase(),
    }
}

/// Overlapping two-character grams of a name (letters and digits only, lower-cased), in order,
/// with repeats kept so that consecutive grams stand for a substring. A name of one character
/// yields that character.
pub fn name_grams(name: &str) -> Vec<String> {
    let characters: Vec<char> = name
        .chars()
        .filter(|character| character.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect();
    if characters.len() < 2 {
        return characters.iter().map(|c| c.to_string()).collect();
    }
    characters
        .windows(2)
        .map(|pair| pair.iter().collect())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grams_overlap_and_skip_punctuation() {
        assert_eq!(
            name_grams("恒远(杭州)"),
            vec!["恒远", "远杭", "杭州"]
                .into_iter()
                .map(String::from)
                .collect::<Vec<_>>()
        );
    }

    #[test]
    fn grams_lowercase_latin_letters() {
        assert_eq!(name_grams("AB"), vec!["ab".to_string()]);
    }
}
