//! References from one record to another (`FieldType::RecordRef`): a reference names a record
//! this node holds, of the collection the field declares, and a quality archive written from a
//! licence takes that licence's particulars instead of having them retyped (Art. 12, 29).
//!
//! "Holds" is the whole rule: a record's id is made where the record is written, so a node
//! cannot know an id it has not received, and everything a bureau may name reaches it first —
//! a licence and its events come down to every bureau whose territory holds the enterprise
//! (authority route `Both` to county), applications go up to the province that decides them,
//! notices come down to the divisions they address. A licence that has not arrived yet is
//! named by its licence number (the archive's `licence_number`); `licence` is added once it
//! has. Received changes are not judged here: a county's copy of a licence names an
//! application only the province holds.

use licnode_model::{Collection, FieldType};
use serde_json::{Map, Value};

use super::{Archive, ArchiveError};

/// The fields of a quality archive taken from the licence it names (Art. 12: the archive of a
/// licensed enterprise; the names are the same in both collections).
pub const FIELDS_TAKEN_FROM_LICENCE: [&str; 7] = [
    "licence_number",
    "enterprise_name",
    "credit_code",
    "division_code",
    "product_category",
    "product_name",
    "valid_until",
];

/// One reference a record makes: the field (`table.column` inside a table), the collection it
/// names and the id it gives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reference {
    pub field: String,
    pub collection: &'static str,
    pub id: String,
}

/// Every reference in `values` (validated values of `model`), top-level fields and table
/// columns alike; an empty or cleared (`null`) reference names nothing.
pub fn references_in(model: &Collection, values: &Map<String, Value>) -> Vec<Reference> {
    let mut found = Vec::new();
    for field in model.fields {
        match (field.field_type, values.get(field.name)) {
            (FieldType::RecordRef(collection), Some(Value::String(id))) if !id.is_empty() => {
                found.push(Reference {
                    field: field.name.to_string(),
                    collection,
                    id: id.clone(),
                });
            }
            (FieldType::Table(columns), Some(Value::Array(rows))) => {
                for row in rows.iter().filter_map(Value::as_object) {
                    for column in columns {
                        if let (FieldType::RecordRef(collection), Some(Value::String(id))) =
                            (column.field_type, row.get(column.name))
                            && !id.is_empty()
                        {
                            found.push(Reference {
                                field: format!("{}.{}", field.name, column.name),
                                collection,
                                id: id.clone(),
                            });
                        }
                    }
                }
            }
            _ => {}
        }
    }
    found
}

impl Archive {
    /// Refuses `values` when one of its references names no record this node holds, or a
    /// record of another collection (`unknown_reference`); decided on the validated values,
    /// before anything is written.
    pub(crate) async fn refuse_unknown_references(
        &self,
        model: &Collection,
        values: &Map<String, Value>,
    ) -> Result<(), ArchiveError> {
        for reference in references_in(model, values) {
            let held = self.store.get(&reference.id).await?;
            let names_its_collection =
                held.is_some_and(|record| record.collection == reference.collection);
            if !names_its_collection {
                return Err(ArchiveError::UnknownReference {
                    field: reference.field,
                    collection: reference.collection.to_string(),
                    id: reference.id,
                });
            }
        }
        Ok(())
    }

    /// A quality archive's input with the particulars of the licence it names filled in where
    /// the input leaves them out (Art. 12, 29: the county picks the licence from those it
    /// holds). A particular given that differs from the licence is refused
    /// (`reference_mismatch`); other collections' input is returned as it is.
    pub(crate) async fn with_particulars_of_licence(
        &self,
        collection: &str,
        input: &Map<String, Value>,
    ) -> Result<Map<String, Value>, ArchiveError> {
        let licence_id = match input.get("licence") {
            Some(Value::String(id))
                if collection == "quality_archives" && !id.trim().is_empty() =>
            {
                id.trim()
            }
            _ => return Ok(input.clone()),
        };
        let Some(licence) = self
            .store
            .get(licence_id)
            .await?
            .filter(|record| record.collection == "licences")
        else {
            return Err(ArchiveError::UnknownReference {
                field: "licence".to_string(),
                collection: "licences".to_string(),
                id: licence_id.to_string(),
            });
        };
        let mut filled = input.clone();
        for field in FIELDS_TAKEN_FROM_LICENCE {
            let Some(from_licence) = licence.data.get(field) else {
                continue;
            };
            match input.get(field) {
                None | Some(Value::Null) => {
                    filled.insert(field.to_string(), from_licence.clone());
                }
                Some(Value::String(given)) if given.trim().is_empty() => {
                    filled.insert(field.to_string(), from_licence.clone());
                }
                Some(given) if same_particular(given, from_licence) => {}
                Some(given) => {
                    return Err(ArchiveError::ReferenceMismatch {
                        field: field.to_string(),
                        given: given.to_string(),
                        licence: from_licence.to_string(),
                    });
                }
            }
        }
        Ok(filled)
    }
}

/// Whether a typed particular says what the licence says: compared after trimming, and for a
/// licence number after the validator's normalisation (`（苏）` and `(苏)` are one number).
fn same_particular(given: &Value, from_licence: &Value) -> bool {
    match (given.as_str(), from_licence.as_str()) {
        (Some(given), Some(from_licence)) => {
            let normalise = |text: &str| {
                text.trim()
                    .replace('（', "(")
                    .replace('）', ")")
                    .to_uppercase()
            };
            normalise(given) == normalise(from_licence)
        }
        _ => given == from_licence,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_quality_archive_names_its_licence_and_a_cleared_reference_names_nothing() {
        let model = licnode_model::collection("quality_archives").expect("model");
        let mut values = Map::new();
        values.insert(
            "licence".into(),
            json!("0192f0c4-0000-7000-8000-000000000001"),
        );
        assert_eq!(
            references_in(model, &values),
            vec![Reference {
                field: "licence".into(),
                collection: "licences",
                id: "0192f0c4-0000-7000-8000-000000000001".into(),
            }]
        );
        values.insert("licence".into(), Value::Null);
        assert!(references_in(model, &values).is_empty());
    }

    #[test]
    fn a_licence_names_its_application() {
        let model = licnode_model::collection("licences").expect("model");
        let mut values = Map::new();
        values.insert("application".into(), json!("a-1"));
        let found = references_in(model, &values);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].collection, "applications");
    }

    #[test]
    fn every_field_a_quality_archive_takes_from_its_licence_exists_in_both() {
        let archive = licnode_model::collection("quality_archives").expect("archive");
        let licence = licnode_model::collection("licences").expect("licence");
        for field in FIELDS_TAKEN_FROM_LICENCE {
            let in_archive = archive.field(field).map(|field| field.field_type);
            let in_licence = licence.field(field).map(|field| field.field_type);
            assert!(in_archive.is_some(), "{field}");
            assert_eq!(in_archive, in_licence, "{field}");
        }
    }

    #[test]
    fn a_licence_number_in_full_width_brackets_is_the_same_particular() {
        assert!(same_particular(
            &json!("（浙）XK13-006-00032"),
            &json!("(浙)XK13-006-00032")
        ));
        assert!(!same_particular(
            &json!("(浙)XK13-006-00033"),
            &json!("(浙)XK13-006-00032")
        ));
    }
}
