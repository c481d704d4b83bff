//! A received edit read straight from its operations onto the record it edits, without loading
//! the record's document (issue 14 item 2: the changed round).
//!
//! A node that holds a record keeps, beside its document, the little a plain edit is checked
//! against — its [`EditState`]: the document's heads, its largest operation counter, each
//! actor's last sequence number, and the operation that holds each root key (only for a record
//! without concurrent values). An edit is *plain* when it was made on exactly that document:
//! its dependencies are the heads, its sequence number and first operation follow on, and each
//! of its operations puts a scalar at, or deletes, a root key other than the reserved `_` keys,
//! naming as its predecessor exactly the operation that holds the key now. Applied to the
//! document, such an edit leaves each key it touches with one value (none for a delete) and
//! every other key as it was — so the record's fields are the stored ones with those keys
//! replaced, and the new state follows from the change alone. Anything else (a dependency
//! elsewhere in the history, a concurrent value, a nested object, a counter, a second write to
//! one key) is not read here: the caller merges it into the document as for any other change.
//! `None` is never a verdict on the change.

use std::collections::BTreeMap;
use std::panic::AssertUnwindSafe;

use automerge::legacy::{Key, ObjectId, OpType};
use automerge::{ActorId, ChangeHash, ROOT, ReadDoc, ScalarValue};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::FirstChange;
use crate::convert::json_of_scalar;
use crate::record::{IncomingChange, RecordDoc, RecordMeta};

/// What a plain edit of a record is checked against, and what it changes; see the module's
/// documentation. Stored beside the record's document ([`EditState::encode`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EditState {
    pub meta: RecordMeta,
    /// `_created_at` as a whole number, if it is one.
    pub created_at_ms: Option<i64>,
    /// The document's heads, sorted.
    heads: Vec<ChangeHash>,
    /// The largest operation counter in the document.
    max_op: u64,
    /// Every actor of the document with its last sequence number.
    actors: BTreeMap<ActorId, u64>,
    /// The operation (counter, actor) holding each root field key: exactly one per key.
    keys: BTreeMap<String, (u64, ActorId)>,
}

/// What a plain edit does to the record: the fields it sets (`None`: cleared) and the state it
/// leaves.
#[derive(Clone, Debug, PartialEq)]
pub struct Edit {
    pub fields: Vec<(String, Option<Value>)>,
    pub state: EditState,
}

/// The stored form: hexadecimal hashes and actors, one object.
#[derive(Serialize, Deserialize)]
struct Stored {
    id: String,
    collection: String,
    jurisdiction: String,
    created_at_ms: Option<i64>,
    heads: Vec<String>,
    max_op: u64,
    actors: Vec<(String, u64)>,
    /// Field, counter, index into `actors`.
    keys: Vec<(String, u64, usize)>,
}

impl EditState {
    /// The state of the record a first change creates, read as
    /// [`crate::first_change_fields`] read it.
    pub fn of_first_change(incoming: &IncomingChange, first: &FirstChange) -> EditState {
        let change = &incoming.change;
        let actor = change.actor_id().clone();
        let keys = first
            .root_ops
            .iter()
            .map(|(name, counter)| (name.clone(), (*counter, actor.clone())))
            .collect();
        EditState {
            meta: first.meta.clone(),
            created_at_ms: first.created_at_ms,
            heads: vec![incoming.hash],
            max_op: last_op(change),
            actors: BTreeMap::from([(actor, change.seq())]),
            keys,
        }
    }

    /// The edit `incoming` makes, when it is a plain edit of the record in this state.
    pub fn read_edit(&self, incoming: &IncomingChange) -> Option<Edit> {
        let change = &incoming.change;
        let mut deps = change.deps().to_vec();
        deps.sort();
        let actor = change.actor_id();
        let next_seq = self.actors.get(actor).copied().unwrap_or(0) + 1;
        if deps != self.heads
            || change.seq() != next_seq
            || change.start_op().get() != self.max_op + 1
            || change.is_empty()
        {
            return None;
        }
        let expanded = std::panic::catch_unwind(AssertUnwindSafe(|| change.decode())).ok()?;
        if expanded.operations.len() != change.len() {
            return None;
        }
        let mut keys = self.keys.clone();
        let mut fields: Vec<(String, Option<Value>)> = Vec::new();
        for (index, op) in expanded.operations.iter().enumerate() {
            let counter = change.start_op().get() + index as u64;
            let (ObjectId::Root, Key::Map(name), false) = (&op.obj, &op.key, op.insert) else {
                return None;
            };
            if name.starts_with('_') || fields.iter().any(|(done, _)| done == name.as_str()) {
                return None;
            }
            // The predecessor must be exactly the value held now: anything else leaves two
            // values (or revives one), which only the document can show.
            let held = self.keys.get(name.as_str());
            let preds: Vec<(u64, &ActorId)> = op
                .pred
                .iter()
                .map(|id| (id.counter(), id.actor()))
                .collect();
            match held {
                Some((held_counter, held_actor)) if preds == [(*held_counter, held_actor)] => {}
                None if preds.is_empty() => {}
                _ => return None,
            }
            match &op.action {
                // A counter's value is its initial value plus its increments.
                OpType::Put(ScalarValue::Counter(_)) => return None,
                OpType::Put(scalar) => {
                    keys.insert(name.to_string(), (counter, actor.clone()));
                    fields.push((name.to_string(), Some(json_of_scalar(scalar))));
                }
                OpType::Delete if held.is_some() => {
                    keys.remove(name.as_str());
                    fields.push((name.to_string(), None));
                }
                _ => return None,
            }
        }
        let mut actors = self.actors.clone();
        actors.insert(actor.clone(), change.seq());
        Some(Edit {
            fields,
            state: EditState {
                meta: self.meta.clone(),
                created_at_ms: self.created_at_ms,
                heads: vec![incoming.hash],
                max_op: last_op(change),
                actors,
                keys,
            },
        })
    }

    /// The stored form.
    pub fn encode(&self) -> Vec<u8> {
        let actors: Vec<&ActorId> = self.actors.keys().collect();
        let stored = Stored {
            id: self.meta.id.clone(),
            collection: self.meta.collection.clone(),
            jurisdiction: self.meta.jurisdiction.clone(),
            created_at_ms: self.created_at_ms,
            heads: self.heads.iter().map(|hash| hash.to_string()).collect(),
            max_op: self.max_op,
            actors: self
                .actors
                .iter()
                .map(|(actor, seq)| (actor.to_hex_string(), *seq))
                .collect(),
            keys: self
                .keys
                .iter()
                .map(|(name, (counter, actor))| {
                    let index = actors.iter().position(|known| *known == actor);
                    (name.clone(), *counter, index.unwrap_or(usize::MAX))
                })
                .collect(),
        };
        serde_json::to_vec(&stored).unwrap_or_default()
    }

    /// The state stored as `bytes`; `None` when they are not one (the caller then merges).
    pub fn decode(bytes: &[u8]) -> Option<EditState> {
        let stored: Stored = serde_json::from_slice(bytes).ok()?;
        let actors: Vec<(ActorId, u64)> = stored
            .actors
            .iter()
            .map(|(hex, seq)| Some((ActorId::from(hex::decode(hex).ok()?), *seq)))
            .collect::<Option<_>>()?;
        let mut heads = stored
            .heads
            .iter()
            .map(|hex| hex.parse::<ChangeHash>().ok())
            .collect::<Option<Vec<_>>>()?;
        heads.sort();
        let keys = stored
            .keys
            .into_iter()
            .map(|(name, counter, index)| Some((name, (counter, actors.get(index)?.0.clone()))))
            .collect::<Option<_>>()?;
        Some(EditState {
            meta: RecordMeta {
                id: stored.id,
                collection: stored.collection,
                jurisdiction: stored.jurisdiction,
            },
            created_at_ms: stored.created_at_ms,
            heads,
            max_op: stored.max_op,
            actors: actors.into_iter().collect(),
            keys,
        })
    }
}

/// The counter of a change's last operation.
fn last_op(change: &automerge::Change) -> u64 {
    change.start_op().get() + change.len() as u64 - 1
}

impl RecordDoc {
    /// The document's [`EditState`]; `None` when a root key holds concurrent values, a change
    /// waits for a missing dependency, or the metadata is unreadable (edits are then merged).
    pub fn edit_state(&mut self) -> Option<EditState> {
        if !self.missing_deps().is_empty() {
            return None;
        }
        let meta = self.meta().ok()?;
        let created_at_ms = self.created_at_ms();
        let doc = self.automerge();
        let mut keys = BTreeMap::new();
        for name in doc.keys(ROOT) {
            if name.starts_with('_') {
                continue;
            }
            let all = doc.get_all(ROOT, name.as_str()).ok()?;
            let [(_, automerge::ObjId::Id(counter, actor, _))] = all.as_slice() else {
                return None;
            };
            keys.insert(name, (*counter, actor.clone()));
        }
        let mut heads = self.heads();
        heads.sort();
        let mut actors: BTreeMap<ActorId, u64> = BTreeMap::new();
        let mut max_op = 0;
        for change in self.changes() {
            let seq = actors.entry(change.actor_id().clone()).or_insert(0);
            *seq = (*seq).max(change.seq());
            if !change.is_empty() {
                max_op = max_op.max(last_op(&change));
            }
        }
        Some(EditState {
            meta,
            created_at_ms,
            heads,
            max_op,
            actors,
            keys,
        })
    }
}
