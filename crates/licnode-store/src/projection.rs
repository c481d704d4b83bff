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

/// The collections whose names PostgreSQL's public name table holds, in the order of their
/// numbers in its codes (1 first): `public_name_gram_code` of migration 0025 spells the same
/// list. The numbers are stored: fixed for good, a new public collection takes the next.
pub(crate) const PUBLIC_NAME_COLLECTIONS: [&str; 6] = [
    "licences",
    "licence_events",
    "reviewers",
    "review_departments",
    "inspection_bodies",
    "publications",
];

/// Bits of a code above the gram's two characters: the collection's number.
const GRAM_COLLECTION_SHIFT: u32 = 42;

/// A gram's two characters as one number (the first << 21 | the second, 0 for a gram of one
/// character): a character is its Unicode scalar value, at most 21 bits.
pub(crate) fn gram_bits(gram: &str) -> i64 {
    let mut characters = gram
        .chars()
        .map(|character| i64::from(u32::from(character)));
    let first = characters.next().unwrap_or(0);
    let second = characters.next().unwrap_or(0);
    (first << 21) | second
}

/// The number that stands for the collection `collection` in the public name table's codes,
/// or `None` if that table does not hold its names.
pub(crate) fn public_name_collection_number(collection: &str) -> Option<i64> {
    PUBLIC_NAME_COLLECTIONS
        .iter()
        .position(|public| *public == collection)
        .map(|index| index as i64 + 1)
}

/// The code of `gram` of a name of `collection` in PostgreSQL's public name table (migration
/// 0025): the collection's number << 42 | [`gram_bits`]. `None` for a collection the table
/// does not hold.
pub(crate) fn public_name_gram_code(collection: &str, gram: &str) -> Option<i64> {
    public_name_collection_number(collection)
        .map(|number| (number << GRAM_COLLECTION_SHIFT) | gram_bits(gram))
}

/// [`public_name_gram_code`] from a collection's number and a gram's [`gram_bits`], as SQL
/// (both are integers the caller computed, never input text).
pub(crate) fn sql_gram_code(number: i64, bits: &str) -> String {
    format!("(({number}::bigint << {GRAM_COLLECTION_SHIFT}) | {bits})")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gram_codes_keep_collection_and_characters_apart() {
        let code = |collection, gram| public_name_gram_code(collection, gram).expect("public");
        assert_eq!(
            code("licences", "恒远"),
            (1 << 42) | (0x6052 << 21) | 0x8fdc
        );
        assert_eq!(code("publications", "a"), (6 << 42) | (0x61 << 21));
        // A character outside the basic plane keeps its 21 bits.
        assert_eq!(code("licences", "𠀀1"), (1 << 42) | (0x20000 << 21) | 0x31);
        assert_ne!(code("licences", "恒远"), code("licence_events", "恒远"));
        assert_ne!(code("licences", "恒远"), code("licences", "远恒"));
        assert_eq!(public_name_gram_code("applications", "恒远"), None);
        // The largest scalar value in both places stays below the collection's bits.
        assert!(gram_bits("\u{10ffff}\u{10ffff}") < 1 << 42);
    }

    #[test]
    fn the_migrations_numbers_are_the_writers() {
        let migration =
            include_str!("../../../migrations/postgres/0025_public_name_gram_codes.sql");
        for (index, collection) in PUBLIC_NAME_COLLECTIONS.iter().enumerate() {
            let case = format!("WHEN '{collection}' THEN {}", index + 1);
            assert!(migration.contains(&case), "{case}");
        }
        assert_eq!(
            migration.matches(" WHEN '").count(),
            PUBLIC_NAME_COLLECTIONS.len()
        );
    }

    #[test]
    fn the_numbered_collections_are_the_models_public_ones() {
        for model in licnode_model::collections() {
            assert_eq!(
                public_name_collection_number(model.name).is_some(),
                model.public,
                "{}: public in the model, and numbered in the public name table, must agree",
                model.name
            );
        }
    }

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
