//! A received edit read straight from its operations onto the record it edits, without loading
//! the record's document (issue 14 item 2: the changed round).
//!
//! A node that holds a record keeps, beside its document, the little a plain edit is checked
//! against — its [`EditState`]: the document's heads, its largest operation counter, each
//! actor's last sequence number and change, and the operation that holds each root key (only
//! for a record without concurrent values). An edit is *plain* when it was made on exactly
//! that document: its dependencies are the heads (and its actor's previous change, which
//! automerge names too when it is not a head), its sequence number and first operation follow
//! on, and each
//! of its operations puts a scalar at, or deletes, a root key other than the reserved `_` keys,
//! naming as its predecessor exactly the operation that holds the key now. Applied to the
//! document, such an edit leaves each key it touches with one value (none for a delete) and
//! every other key as it was — so the record's fields are the stored ones with those keys
//! replaced, and the new state follows from the change alone. Anything else (a dependency
//! elsewhere in the history, a concurrent value, a nested object, a counter, a second write to
//! one key) is not read here: the caller merges it into the document as for any other change.
//! `None` is never a verdict on the change.

use std::collections::BTreeMap;

use automerge::legacy::{Key, ObjectId, OpType};
use automerge::{ActorId, ChangeHash, ROOT, ReadDoc, ScalarValue};
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
    /// Every actor of the document with its last sequence number and that change's hash
    /// (automerge names it among a change's deps when it is not one of the heads).
    actors: BTreeMap<ActorId, (u64, ChangeHash)>,
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
            actors: BTreeMap::from([(actor, (change.seq(), incoming.hash))]),
            keys,
        }
    }

    /// The edit `incoming` makes, when it is a plain edit of the record in this state.
    pub fn read_edit(&self, incoming: &IncomingChange) -> Option<Edit> {
        let change = &incoming.change;
        let mut deps = change.deps().to_vec();
        deps.sort();
        let actor = change.actor_id();
        let known = self.actors.get(actor);
        let next_seq = known.map_or(0, |(seq, _)| *seq) + 1;
        // automerge's deps of a change made on this document: its heads, and the actor's own
        // previous change when that is not one of them.
        let mut expected = self.heads.clone();
        if let Some((_, previous)) = known
            && !expected.contains(previous)
        {
            expected.push(*previous);
            expected.sort();
        }
        if deps != expected
            || change.seq() != next_seq
            || change.start_op().get() != self.max_op + 1
            || change.is_empty()
        {
            return None;
        }
        let expanded = &incoming.decoded;
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
        actors.insert(actor.clone(), (change.seq(), incoming.hash));
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

    /// The stored form: a version byte, then the identity, creation time, heads, largest
    /// operation, actors with their last sequence numbers and change hashes, and each field as
    /// its position in the
    /// collection's model (or its name, for a key the model does not have) with the counter
    /// and actor of the operation holding it — LEB128 numbers, length-prefixed text. About 180
    /// bytes for a record of 25 fields, whose creating change is 700 to 1,600.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = vec![ENCODING];
        for text in [
            &self.meta.id,
            &self.meta.collection,
            &self.meta.jurisdiction,
        ] {
            put_text(&mut out, text);
        }
        match self.created_at_ms {
            Some(time) => {
                out.push(1);
                out.extend_from_slice(&time.to_le_bytes());
            }
            None => out.push(0),
        }
        put_number(&mut out, self.heads.len() as u64);
        for head in &self.heads {
            out.extend_from_slice(&head.0);
        }
        put_number(&mut out, self.max_op);
        let actors: Vec<&ActorId> = self.actors.keys().collect();
        put_number(&mut out, actors.len() as u64);
        for (actor, (seq, last)) in &self.actors {
            put_bytes(&mut out, actor.to_bytes());
            put_number(&mut out, *seq);
            out.extend_from_slice(&last.0);
        }
        let model = licnode_model::collection(&self.meta.collection);
        put_number(&mut out, self.keys.len() as u64);
        for (name, (counter, actor)) in &self.keys {
            let position = model.and_then(|model| {
                model
                    .fields
                    .iter()
                    .position(|field| field.name == name.as_str())
            });
            match position {
                Some(position) => put_number(&mut out, position as u64 + 1),
                None => {
                    put_number(&mut out, 0);
                    put_text(&mut out, name);
                }
            }
            put_number(&mut out, *counter);
            let index = actors.iter().position(|known| *known == actor);
            put_number(&mut out, index.map_or(u64::MAX, |index| index as u64));
        }
        out
    }

    /// The state stored as `bytes`; `None` when they are not one (the caller then merges).
    pub fn decode(bytes: &[u8]) -> Option<EditState> {
        let mut input = Reader { bytes, at: 0 };
        if input.byte()? != ENCODING {
            return None;
        }
        let meta = RecordMeta {
            id: input.text()?,
            collection: input.text()?,
            jurisdiction: input.text()?,
        };
        let created_at_ms = match input.byte()? {
            0 => None,
            1 => Some(i64::from_le_bytes(input.take(8)?.try_into().ok()?)),
            _ => return None,
        };
        let head_count = input.count()?;
        let mut heads = Vec::with_capacity(head_count);
        for _ in 0..head_count {
            let hash: [u8; 32] = input.take(32)?.try_into().ok()?;
            heads.push(ChangeHash(hash));
        }
        heads.sort();
        let max_op = input.number()?;
        let actor_count = input.count()?;
        let mut actors = Vec::with_capacity(actor_count);
        for _ in 0..actor_count {
            let actor = ActorId::from(input.bytes()?);
            let seq = input.number()?;
            let last: [u8; 32] = input.take(32)?.try_into().ok()?;
            actors.push((actor, (seq, ChangeHash(last))));
        }
        let model = licnode_model::collection(&meta.collection);
        let mut keys = BTreeMap::new();
        for _ in 0..input.count()? {
            let name = match input.number()? {
                0 => input.text()?,
                position => model?
                    .fields
                    .get(usize::try_from(position - 1).ok()?)?
                    .name
                    .to_string(),
            };
            let counter = input.number()?;
            let actor = actors
                .get(usize::try_from(input.number()?).ok()?)?
                .0
                .clone();
            keys.insert(name, (counter, actor));
        }
        if input.at != bytes.len() {
            return None;
        }
        Some(EditState {
            meta,
            created_at_ms,
            heads,
            max_op,
            actors: actors.into_iter().collect(),
            keys,
        })
    }
}

/// The version of [`EditState::encode`]'s form; a state of another version is not read.
/// 2 since each actor's last change is kept (a state stored as 1 is not read: that record's
/// next edit is merged, and stores a state of the new form).
const ENCODING: u8 = 2;

fn put_number(out: &mut Vec<u8>, mut value: u64) {
    loop {
        let low = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(low);
            return;
        }
        out.push(low | 0x80);
    }
}

fn put_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    put_number(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

fn put_text(out: &mut Vec<u8>, text: &str) {
    put_bytes(out, text.as_bytes());
}

/// Reads [`EditState::encode`]'s form; every read is `None` past the end or on a malformed
/// number.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn byte(&mut self) -> Option<u8> {
        let byte = *self.bytes.get(self.at)?;
        self.at += 1;
        Some(byte)
    }

    fn take(&mut self, count: usize) -> Option<&'a [u8]> {
        let end = self.at.checked_add(count)?;
        let taken = self.bytes.get(self.at..end)?;
        self.at = end;
        Some(taken)
    }

    fn number(&mut self) -> Option<u64> {
        let mut value = 0_u64;
        for shift in (0..64).step_by(7) {
            let byte = self.byte()?;
            value |= u64::from(byte & 0x7f).checked_shl(shift)?;
            if byte & 0x80 == 0 {
                return Some(value);
            }
        }
        None
    }

    /// A count of items that follow, each at least a byte: never more than the bytes left.
    fn count(&mut self) -> Option<usize> {
        let count = usize::try_from(self.number()?).ok()?;
        (count <= self.bytes.len() - self.at).then_some(count)
    }

    fn bytes(&mut self) -> Option<&'a [u8]> {
        let length = usize::try_from(self.number()?).ok()?;
        self.take(length)
    }

    fn text(&mut self) -> Option<String> {
        String::from_utf8(self.bytes()?.to_vec()).ok()
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
        let mut actors: BTreeMap<ActorId, (u64, ChangeHash)> = BTreeMap::new();
        let mut max_op = 0;
        // The changes' metadata only: building every change whole (`changes`) re-encodes its
        // operations, and a local write computes this state on every edit.
        for change in self.doc.get_changes_meta(&[]) {
            let last = actors
                .entry(change.actor.clone().into_owned())
                .or_insert((0, change.hash));
            if change.seq >= last.0 {
                *last = (change.seq, change.hash);
            }
            // An empty change's last operation is the one before its first.
            if change.max_op >= change.start_op {
                max_op = max_op.max(change.max_op);
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
