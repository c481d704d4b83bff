//! The one mechanism that decides what of a record the public may see (Art. 36; ARCHITECTURE.md,
//! principle 8): [`public_view`] keeps the fields the model classifies public, in a collection
//! the model marks public, and nothing else. Every public response, HTML or JSON, is rendered
//! from a [`PublicRecord`], and a `PublicRecord` can only be made here.

use licnode_model::validity::LicenceValidity;
use licnode_model::{Classification, Collection, Field, FieldType};
use serde_json::{Map, Value};

/// The publishable part of one record.
#[derive(Clone, Debug, PartialEq)]
pub struct PublicRecord {
    collection: &'static Collection,
    fields: Map<String, Value>,
}

impl PublicRecord {
    /// The collection the record belongs to.
    pub fn collection(&self) -> &'static Collection {
        self.collection
    }

    /// The public fields that have a value, by name.
    pub fn fields(&self) -> &Map<String, Value> {
        &self.fields
    }

    /// The public fields that have a value, with their model, in the collection's order.
    pub fn entries(&self) -> impl Iterator<Item = (&'static Field, &Value)> + '_ {
        self.collection
            .public_fields()
            .filter_map(|field| Some((field, self.fields.get(field.name)?)))
    }
}

/// What of `data` (a record of `collection`, every field as stored) may be published: the
/// public fields of a public collection (`Collection::public_fields`), and within a table
/// field only its public columns. A collection that is not public yields nothing.
pub fn public_view(collection: &'static Collection, data: &Map<String, Value>) -> PublicRecord {
    let fields = collection
        .public_fields()
        .filter_map(|field| {
            let value = data.get(field.name)?;
            if value.is_null() {
                return None;
            }
            Some((field.name.to_string(), public_value(field, value)))
        })
        .collect();
    PublicRecord { collection, fields }
}

/// The class of validity of a licence's public view on `today` and its label (Art. 27): read
/// from its public status and validity only.
pub fn validity_of(record: &PublicRecord, today: &str) -> (LicenceValidity, &'static str) {
    let status = record.fields().get("status").and_then(Value::as_str);
    let valid_until = record
        .fields()
        .get("valid_until")
        .and_then(Value::as_str)
        .unwrap_or_default();
    (
        LicenceValidity::of(status, valid_until, today),
        LicenceValidity::label_of(status, valid_until, today),
    )
}

/// A public field's value; a table keeps only its public columns (rows are objects).
fn public_value(field: &Field, value: &Value) -> Value {
    let FieldType::Table(columns) = field.field_type else {
        return value.clone();
    };
    let Value::Array(rows) = value else {
        return Value::Array(Vec::new());
    };
    let rows = rows
        .iter()
        .map(|row| {
            let Value::Object(row) = row else {
                return Value::Object(Map::new());
            };
            let kept = columns
                .iter()
                .filter(|column| column.classification == Classification::Public)
                .filter_map(|column| Some((column.name.to_string(), row.get(column.name)?.clone())))
                .collect();
            Value::Object(kept)
        })
        .collect();
    Value::Array(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collection(name: &str) -> &'static Collection {
        licnode_model::collection(name).expect("collection")
    }

    #[test]
    fn every_field_not_classified_public_is_dropped_in_every_collection() {
        for collection in licnode_model::collections() {
            let data: Map<String, Value> = collection
                .fields
                .iter()
                .map(|field| (field.name.to_string(), Value::String("x".into())))
                .collect();
            let view = public_view(collection, &data);
            for name in view.fields().keys() {
                assert!(
                    collection.is_public_field(name),
                    "{}.{name} is not public",
                    collection.name
                );
            }
            let expected = collection.public_fields().count();
            assert_eq!(view.fields().len(), expected, "{}", collection.name);
        }
    }

    #[test]
    fn a_collection_that_is_not_public_yields_nothing() {
        let applications = collection("applications");
        let data: Map<String, Value> = applications
            .fields
            .iter()
            .map(|field| (field.name.to_string(), Value::String("x".into())))
            .collect();
        assert!(public_view(applications, &data).fields().is_empty());
    }

    #[test]
    fn unknown_and_system_keys_never_pass() {
        let licences = collection("licences");
        let mut data = Map::new();
        data.insert("enterprise_name".into(), Value::String("恒远".into()));
        data.insert("_secret".into(), Value::String("x".into()));
        data.insert("made_up".into(), Value::String("y".into()));
        let view = public_view(licences, &data);
        assert_eq!(view.fields().len(), 1);
        assert_eq!(view.entries().count(), 1);
    }
}
