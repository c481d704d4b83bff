//! Conversion between JSON values (as the model validates them) and automerge values.

use automerge::transaction::Transactable;
use automerge::{AutoCommit, ObjId, ObjType, ReadDoc, ScalarValue, Value};
use serde_json::{Map, Number, Value as Json};

use crate::record::DocError;

/// Writes `value` at `key` of the map `obj`. `Null` deletes the key.
pub(crate) fn put_json(
    doc: &mut AutoCommit,
    obj: &ObjId,
    key: &str,
    value: &Json,
) -> Result<(), DocError> {
    match value {
        Json::Null => {
            if doc.get(obj, key)?.is_some() {
                doc.delete(obj, key)?;
            }
        }
        Json::Array(items) => {
            let list = doc.put_object(obj, key, ObjType::List)?;
            for (index, item) in items.iter().enumerate() {
                insert_json(doc, &list, index, item)?;
            }
        }
        Json::Object(fields) => {
            let map = doc.put_object(obj, key, ObjType::Map)?;
            for (name, item) in fields {
                put_json(doc, &map, name, item)?;
            }
        }
        scalar => doc.put(obj, key, scalar_of(scalar))?,
    }
    Ok(())
}

fn insert_json(
    doc: &mut AutoCommit,
    list: &ObjId,
    index: usize,
    value: &Json,
) -> Result<(), DocError> {
    match value {
        Json::Array(items) => {
            let inner = doc.insert_object(list, index, ObjType::List)?;
            for (position, item) in items.iter().enumerate() {
                insert_json(doc, &inner, position, item)?;
            }
        }
        Json::Object(fields) => {
            let map = doc.insert_object(list, index, ObjType::Map)?;
            for (name, item) in fields {
                put_json(doc, &map, name, item)?;
            }
        }
        scalar => doc.insert(list, index, scalar_of(scalar))?,
    }
    Ok(())
}

fn scalar_of(value: &Json) -> ScalarValue {
    match value {
        Json::Bool(flag) => ScalarValue::Boolean(*flag),
        Json::Number(number) => match number.as_i64() {
            Some(integer) => ScalarValue::Int(integer),
            None => ScalarValue::F64(number.as_f64().unwrap_or(0.0)),
        },
        Json::String(text) => ScalarValue::Str(text.as_str().into()),
        Json::Null | Json::Array(_) | Json::Object(_) => ScalarValue::Null,
    }
}

/// The JSON form of one value read from the document.
pub(crate) fn read_value(doc: &AutoCommit, value: &Value<'_>, id: &ObjId) -> Json {
    match value {
        Value::Scalar(scalar) => json_of_scalar(scalar),
        Value::Object(ObjType::Map | ObjType::Table) => Json::Object(read_map(doc, id)),
        Value::Object(ObjType::List) => {
            let length = doc.length(id);
            let mut items = Vec::with_capacity(length);
            for index in 0..length {
                if let Ok(Some((item, item_id))) = doc.get(id, index) {
                    items.push(read_value(doc, &item, &item_id));
                }
            }
            Json::Array(items)
        }
        Value::Object(ObjType::Text) => Json::String(doc.text(id).unwrap_or_default()),
    }
}

/// Every key of the map `obj`, with its winning value.
pub(crate) fn read_map(doc: &AutoCommit, obj: &ObjId) -> Map<String, Json> {
    let mut fields = Map::new();
    for key in doc.keys(obj) {
        if let Ok(Some((value, id))) = doc.get(obj, key.as_str()) {
            fields.insert(key, read_value(doc, &value, &id));
        }
    }
    fields
}

pub(crate) fn json_of_scalar(scalar: &ScalarValue) -> Json {
    match scalar {
        ScalarValue::Str(text) => Json::String(text.to_string()),
        ScalarValue::Int(integer) => Json::Number((*integer).into()),
        ScalarValue::Uint(integer) => Json::Number((*integer).into()),
        ScalarValue::F64(float) => Number::from_f64(*float).map_or(Json::Null, Json::Number),
        ScalarValue::Counter(counter) => Json::Number(i64::from(counter).into()),
        ScalarValue::Timestamp(millis) => Json::Number((*millis).into()),
        ScalarValue::Boolean(flag) => Json::Bool(*flag),
        ScalarValue::Bytes(_) | ScalarValue::Unknown { .. } | ScalarValue::Null => Json::Null,
    }
}

/// The hydrate form of a JSON value, for initialising a new document in one splice.
pub(crate) fn hydrate_of(value: &Json) -> automerge::hydrate::Value {
    use automerge::hydrate;
    match value {
        Json::Array(items) => {
            hydrate::Value::List(items.iter().map(hydrate_of).collect::<Vec<_>>().into())
        }
        Json::Object(fields) => hydrate::Value::Map(hydrate_map(fields.iter())),
        scalar => hydrate::Value::Scalar(scalar_of(scalar)),
    }
}

/// A hydrate map of the given entries (`null` entries left out).
pub(crate) fn hydrate_map<'a>(
    entries: impl Iterator<Item = (&'a String, &'a Json)>,
) -> automerge::hydrate::Map {
    entries
        .filter(|(_, value)| !value.is_null())
        .map(|(name, value)| (name.clone(), hydrate_of(value)))
        .collect::<std::collections::HashMap<String, automerge::hydrate::Value>>()
        .into()
}

/// The JSON form of a hydrated value.
pub(crate) fn json_of_hydrate(value: &automerge::hydrate::Value) -> Json {
    use automerge::hydrate;
    match value {
        hydrate::Value::Scalar(scalar) => json_of_scalar(scalar),
        hydrate::Value::Map(map) => Json::Object(
            map.iter()
                .map(|(key, entry)| (key.clone(), json_of_hydrate(&entry.value)))
                .collect(),
        ),
        hydrate::Value::List(list) => Json::Array(
            list.iter()
                .map(|item| json_of_hydrate(&item.value))
                .collect(),
        ),
        hydrate::Value::Text(text) => Json::String(text.to_string()),
    }
}
