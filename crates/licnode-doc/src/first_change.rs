//! A record's first change read straight from its operations, without building a document.
//!
//! A node that does not hold a record yet receives it as its creating change: one change with
//! no dependencies, by one actor, whose operations only put values and build new lists and maps.
//! No two values can compete for a key in such a change, so the record it creates has no
//! conflicts, and its metadata, fields and creation time can be read from the operations in
//! order. Anything else — a delete, an increment, a mark, text objects, an operation that
//! overwrites another, an insertion anywhere but at the end of its list, a dependency — is not
//! read here: the caller merges it into a document as for any other change.

use std::collections::{BTreeMap, HashMap};

use automerge::legacy::{ElementId, Key, ObjectId, Op, OpType};
use automerge::{ObjType, ScalarValue};
use serde_json::{Map, Value};

use crate::convert::json_of_scalar;
use crate::record::{IncomingChange, RecordMeta};

/// What the record created by a first change shows: the same as the document the change
/// creates would (`RecordDoc::meta`, `RecordDoc::fields`, `RecordDoc::created_at_ms`), with no
/// conflicts and a single identity.
#[derive(Clone, Debug, PartialEq)]
pub struct FirstChange {
    pub meta: RecordMeta,
    pub fields: Map<String, Value>,
    /// `_created_at` as a whole number, if it is one.
    pub created_at_ms: Option<i64>,
    /// The counter of the operation that wrote each root key (the change's actor wrote them
    /// all): what a later edit names as the value it overwrites ([`crate::EditState`]).
    pub root_ops: BTreeMap<String, u64>,
}

/// The record a received first change creates, read from its operations; `None` when the
/// change is not a first change of the plain shape described in this module's documentation,
/// or lacks a text `_id`, `_collection` or `_jurisdiction`. `None` is never a verdict on the
/// change: it only means the change must be merged into a document to be read.
pub fn first_change_fields(incoming: &IncomingChange) -> Option<FirstChange> {
    let change = &incoming.change;
    // The first change of a fresh document: sequence 1 of its actor, operations counted from 1.
    let plain_header = change.deps().is_empty()
        && change.other_actor_ids().is_empty()
        && change.seq() == 1
        && change.start_op().get() == 1;
    if !plain_header {
        return None;
    }
    // Decoded by `parse_change`, which refuses a change whose decoding panics (an operation
    // naming an actor index the change does not list).
    let expanded = &incoming.decoded;
    let mut objects = Objects::default();
    for (index, op) in expanded.operations.iter().enumerate() {
        let counter = change.start_op().get() + index as u64;
        objects.apply(counter, op, change.actor_id())?;
    }
    objects.into_first_change()
}

/// A value written by the change: a scalar, or an object the change made (by its counter).
enum Slot {
    Scalar(ScalarValue),
    Object(u64),
}

/// An object the change made.
enum Object {
    Map(BTreeMap<String, Slot>),
    /// The elements in order, and the counter of the last one (where the next insertion goes).
    List(Vec<Slot>, Option<u64>),
}

/// The objects built so far: the root map and every object made by the change.
#[derive(Default)]
struct Objects {
    root: BTreeMap<String, Slot>,
    /// The counter of the operation that put each root key.
    root_ops: BTreeMap<String, u64>,
    made: HashMap<u64, Object>,
}

impl Objects {
    /// Applies one operation, or `None` if it has a shape this reader does not take.
    fn apply(&mut self, counter: u64, op: &Op, actor: &automerge::ActorId) -> Option<()> {
        if !op.pred.is_empty() {
            return None;
        }
        let slot = match &op.action {
            // A counter's value is its initial value plus its increments: left to the document.
            OpType::Put(ScalarValue::Counter(_)) => return None,
            OpType::Put(scalar) => Slot::Scalar(scalar.clone()),
            OpType::Make(ObjType::Map) => {
                self.made.insert(counter, Object::Map(BTreeMap::new()));
                Slot::Object(counter)
            }
            OpType::Make(ObjType::List) => {
                self.made.insert(counter, Object::List(Vec::new(), None));
                Slot::Object(counter)
            }
            _ => return None,
        };
        let container = match &op.obj {
            ObjectId::Root => None,
            ObjectId::Id(id) if id.actor() == actor && id.counter() < counter => Some(id.counter()),
            ObjectId::Id(_) => return None,
        };
        match (container, &op.key, op.insert) {
            (None, Key::Map(name), false) => {
                self.root_ops.insert(name.to_string(), counter);
                put_new_key(&mut self.root, name, slot)
            }
            (Some(id), Key::Map(name), false) => match self.made.get_mut(&id)? {
                Object::Map(entries) => put_new_key(entries, name, slot),
                Object::List(..) => None,
            },
            (Some(id), Key::Seq(after), true) => match self.made.get_mut(&id)? {
                Object::List(items, last) => {
                    let at_end = match (after, *last) {
                        (ElementId::Head, None) => true,
                        (ElementId::Id(previous), Some(last_counter)) => {
                            previous.actor() == actor && previous.counter() == last_counter
                        }
                        _ => false,
                    };
                    if !at_end {
                        return None;
                    }
                    items.push(slot);
                    *last = Some(counter);
                    Some(())
                }
                Object::Map(_) => None,
            },
            _ => None,
        }
    }

    /// The record: its metadata (text, or `None`), its fields and its creation time.
    fn into_first_change(self) -> Option<FirstChange> {
        let text = |key: &str| match self.root.get(key) {
            Some(Slot::Scalar(ScalarValue::Str(text))) => Some(text.to_string()),
            _ => None,
        };
        let meta = RecordMeta {
            id: text("_id")?,
            collection: text("_collection")?,
            jurisdiction: text("_jurisdiction")?,
        };
        let created_at_ms = match self.root.get("_created_at") {
            Some(Slot::Scalar(scalar)) => scalar.as_i64(),
            _ => None,
        };
        let mut fields = Map::new();
        for (name, slot) in &self.root {
            if !name.starts_with('_') {
                fields.insert(name.clone(), self.json_of(slot, 0)?);
            }
        }
        let root_ops = self
            .root_ops
            .into_iter()
            .filter(|(name, _)| !name.starts_with('_'))
            .collect();
        Some(FirstChange {
            meta,
            fields,
            created_at_ms,
            root_ops,
        })
    }

    /// The JSON form of a value, as a hydrated document gives it. Objects nest at most
    /// [`MAX_DEPTH`] deep (a record's tables nest two).
    fn json_of(&self, slot: &Slot, depth: usize) -> Option<Value> {
        let id = match slot {
            Slot::Scalar(scalar) => return Some(json_of_scalar(scalar)),
            Slot::Object(_) if depth >= MAX_DEPTH => return None,
            Slot::Object(id) => id,
        };
        match self.made.get(id)? {
            Object::Map(entries) => {
                let mut map = Map::new();
                for (name, entry) in entries {
                    map.insert(name.clone(), self.json_of(entry, depth + 1)?);
                }
                Some(Value::Object(map))
            }
            Object::List(items, _) => items
                .iter()
                .map(|item| self.json_of(item, depth + 1))
                .collect::<Option<Vec<Value>>>()
                .map(Value::Array),
        }
    }
}

/// Deepest nesting of objects read; deeper changes are merged into a document instead.
const MAX_DEPTH: usize = 16;

/// Puts `slot` at a key not written before in this change (a second write would be a second,
/// concurrent value).
fn put_new_key(entries: &mut BTreeMap<String, Slot>, name: &str, slot: Slot) -> Option<()> {
    if entries.contains_key(name) {
        return None;
    }
    entries.insert(name.to_string(), slot);
    Some(())
}
