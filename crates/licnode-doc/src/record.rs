//! One record as one automerge document: creation, updates, merges, projection, history and
//! conflicts.

use automerge::{AutoCommit, Change, ChangeHash, ROOT, ReadDoc, transaction::CommitOptions};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::{actor, convert, rules};

/// Errors from reading or changing a record document.
#[derive(Debug, thiserror::Error)]
pub enum DocError {
    #[error("automerge: {0}")]
    Automerge(#[from] automerge::AutomergeError),
    #[error("malformed change: {0}")]
    MalformedChange(#[from] automerge::LoadChangeError),
    #[error("the document has no {0} metadata")]
    MissingMeta(&'static str),
    /// automerge panicked while applying the changes (0.12 does on some hostile changes: one
    /// that names an actor with an empty id, found by fuzzing). The changes are refused and
    /// the document is emptied: nothing half-applied is ever read or stored.
    #[error("the change could not be applied: its contents are inconsistent")]
    ApplyPanicked,
    #[error("malformed change: its checksum does not match its contents")]
    BadChecksum,
    /// automerge panicked while reading the change's columns (0.12 does on some hostile
    /// changes whose checksum is right: an object id past `u32`, found by the fuzz soak).
    #[error("malformed change: its columns cannot be read")]
    DecodePanicked,
    /// The change's bytes are not the encoding automerge writes of its contents: encoded again
    /// they hash differently, so once a document holding it is compacted (saved), the saved
    /// document no longer loads — its stored heads name the received hash, its changes derive
    /// another (found by the store fuzz target on both backends, after thousands of edits of
    /// one record).
    #[error("malformed change: its bytes are not the canonical encoding of its contents")]
    NotCanonical,
    /// The change's operation ids are not its own: its operations do not start after those of
    /// the changes it depends on, or it does not follow its actor's previous change — so it
    /// can name ids other changes hold. automerge applies such a change, but a document saved
    /// with it no longer loads (an error, or a panic inside automerge): found by the store fuzz
    /// target on PostgreSQL, with a change whose header was altered under a correct checksum.
    #[error("malformed change: {0}")]
    OutOfOrder(&'static str),
    /// The change carries extra bytes after its operations — an author footer, or an extension
    /// — which no node writes. automerge asserts, when it loads a document, that a change with
    /// an author is its actor's first; a later one, stored by the readers that do not load the
    /// document, panicked every load of its record (found by the store fuzz target on
    /// PostgreSQL).
    #[error("malformed change: it carries extra bytes (an author or an extension) no node writes")]
    ExtraBytes,
}

/// The identity of a record, fixed at creation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordMeta {
    pub id: String,
    pub collection: String,
    /// GB/T 2260 division code the record belongs to; routing follows it (ARCHITECTURE.md, principle 4).
    pub jurisdiction: String,
}

/// Who makes a change: this process's actor (bound to the node), the staff user, and the time.
#[derive(Clone, Copy, Debug)]
pub struct Authoring<'a> {
    pub actor: &'a automerge::ActorId,
    pub user: &'a str,
    /// Milliseconds since the Unix epoch.
    pub time_ms: i64,
}

/// A change made locally, ready for the change log.
#[derive(Clone, Debug)]
pub struct LocalChange {
    pub hash: ChangeHash,
    pub bytes: Vec<u8>,
}

/// A change received from elsewhere, parsed and checked for shape.
#[derive(Clone, Debug)]
pub struct IncomingChange {
    pub change: Change,
    pub hash: ChangeHash,
    /// The change's operations, decoded once here (the canonical check needs them) for the
    /// readers that project a change without its document.
    pub decoded: automerge::ExpandedChange,
    /// The node the change's actor id is bound to, if it has our layout.
    pub author_node: Option<String>,
}

/// Parses the bytes of one change. Hostile or truncated bytes are an error, never a panic.
/// The chunk's checksum must be right: automerge's `Change::from_bytes` does not check it but
/// loading a document does, so a change stored with a wrong one would make its record's stored
/// document unreadable (found by fuzzing the store's `apply_remote`). automerge's own panics
/// on hostile columns are caught and refused the same way (`DecodePanicked`).
pub fn parse_change(bytes: &[u8]) -> Result<IncomingChange, DocError> {
    let change = std::panic::catch_unwind(|| Change::from_bytes(bytes.to_vec()))
        .map_err(|_| DocError::DecodePanicked)??;
    let hash = change.hash();
    // The header is the magic (4 bytes) then the checksum: the first 4 bytes of the hash.
    if bytes.get(4..8) != Some(&hash.0[..4]) {
        return Err(DocError::BadChecksum);
    }
    let decoded =
        std::panic::catch_unwind(|| change.decode()).map_err(|_| DocError::DecodePanicked)?;
    let canonical = std::panic::catch_unwind(|| Change::from(decoded.clone()).hash())
        .map_err(|_| DocError::DecodePanicked)?;
    if canonical != hash {
        return Err(DocError::NotCanonical);
    }
    if !change.extra_bytes().is_empty() {
        return Err(DocError::ExtraBytes);
    }
    let author_node = actor::node_of(change.actor_id());
    Ok(IncomingChange {
        change,
        hash,
        decoded,
        author_node,
    })
}

/// Fewest changes worth a second thread when parsing a batch.
const PARALLEL_PARSE_MIN_CHANGES: usize = 64;

/// Parses the bytes of many changes, as [`parse_change`] each, in order: on every core for a
/// large batch. A received batch's first changes cost about 77 µs each to parse and check
/// (docs/BENCHMARKS.md, "What reading a received change costs"): nearly 40 ms for a batch of
/// 500 on one core, while the other may be idle.
pub fn parse_changes<'a>(
    all: impl ExactSizeIterator<Item = &'a [u8]>,
) -> Vec<Result<IncomingChange, DocError>> {
    let all: Vec<&[u8]> = all.collect();
    let threads = std::thread::available_parallelism()
        .map(usize::from)
        .unwrap_or(1)
        .min(all.len() / PARALLEL_PARSE_MIN_CHANGES)
        .max(1);
    if threads == 1 {
        return all.into_iter().map(parse_change).collect();
    }
    let per_thread = all.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let handles: Vec<_> = all
            .chunks(per_thread)
            .map(|chunk| {
                scope.spawn(move || chunk.iter().map(|bytes| parse_change(bytes)).collect())
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|handle| -> Vec<Result<IncomingChange, DocError>> {
                // parse_change catches automerge's panics: a thread's panic is a bug here.
                handle.join().expect("parsing changes panicked")
            })
            .collect()
    })
}

/// One entry of a record's history.
#[derive(Clone, Debug, Serialize)]
pub struct HistoryEntry {
    pub hash: String,
    pub actor: String,
    /// The node the actor id is bound to.
    pub node: Option<String>,
    pub user: Option<String>,
    /// Milliseconds since the Unix epoch, as the author's clock said.
    pub time_ms: i64,
    pub kind: Option<String>,
    /// Fields this change wrote or cleared.
    pub fields: Vec<String>,
    pub deps: Vec<String>,
}

/// A field that holds concurrent values after a merge.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Conflict {
    pub field: String,
    /// The value the projection shows.
    pub shown: Value,
    /// Every concurrent value, the shown one included.
    pub values: Vec<Value>,
}

/// The reserved keys that name a record, fixed at creation.
pub const IDENTITY_KEYS: [&str; 3] = ["_id", "_collection", "_jurisdiction"];

#[derive(Serialize, Deserialize)]
struct ChangeMessage<'a> {
    #[serde(borrow)]
    user: std::borrow::Cow<'a, str>,
    #[serde(borrow)]
    kind: std::borrow::Cow<'a, str>,
}

/// A record document.
pub struct RecordDoc {
    pub(crate) doc: AutoCommit,
}

impl RecordDoc {
    /// Creates a record with its metadata and first values in one change.
    pub fn create(
        meta: &RecordMeta,
        values: &Map<String, Value>,
        who: Authoring<'_>,
    ) -> Result<(RecordDoc, LocalChange), DocError> {
        use automerge::transaction::Transactable;
        let mut doc = AutoCommit::new().with_actor(who.actor.clone());
        // All keys in one splice: much cheaper than one put per field.
        let mut root = convert::hydrate_map(values.iter());
        for (key, value) in [
            ("_id", automerge::ScalarValue::Str(meta.id.as_str().into())),
            (
                "_collection",
                automerge::ScalarValue::Str(meta.collection.as_str().into()),
            ),
            (
                "_jurisdiction",
                automerge::ScalarValue::Str(meta.jurisdiction.as_str().into()),
            ),
            ("_created_at", automerge::ScalarValue::Int(who.time_ms)),
        ] {
            root.insert(
                key.to_string(),
                automerge::hydrate::MapValue {
                    value: automerge::hydrate::Value::Scalar(value),
                    conflict: false,
                },
            );
        }
        doc.init_root_from_hydrate(&root)?;
        let mut record = RecordDoc { doc };
        let change = record
            .commit(who, "create")
            .ok_or(DocError::MissingMeta("_id"))?;
        Ok((record, change))
    }

    /// Loads a document from saved bytes (a saved document, optionally followed by changes).
    pub fn load(bytes: &[u8]) -> Result<RecordDoc, DocError> {
        Ok(RecordDoc {
            doc: AutoCommit::load(bytes)?,
        })
    }

    /// The automerge document itself, for reading.
    pub(crate) fn automerge(&self) -> &AutoCommit {
        &self.doc
    }

    /// An empty document, into which received changes are applied.
    pub fn empty() -> RecordDoc {
        RecordDoc {
            doc: AutoCommit::new(),
        }
    }

    /// The record's metadata.
    pub fn meta(&self) -> Result<RecordMeta, DocError> {
        Ok(RecordMeta {
            id: self.meta_text("_id")?,
            collection: self.meta_text("_collection")?,
            jurisdiction: self.meta_text("_jurisdiction")?,
        })
    }

    /// Why the record's identity is not single, if it is not: each identity key
    /// ([`IDENTITY_KEYS`]) must hold exactly one text value. A merge that gave one of them a
    /// second value — even a losing concurrent one — would give the record a second id,
    /// collection or jurisdiction (issue 11 item 6).
    pub fn identity_problem(&self) -> Option<String> {
        IDENTITY_KEYS.iter().find_map(|key| {
            let values = match self.doc.get_all(ROOT, *key) {
                Ok(values) => values,
                Err(error) => return Some(format!("{key} cannot be read: {error}")),
            };
            let texts = values
                .iter()
                .filter(|(value, _)| {
                    matches!(value, automerge::Value::Scalar(scalar)
                        if matches!(scalar.as_ref(), automerge::ScalarValue::Str(_)))
                })
                .count();
            match (values.len(), texts) {
                (1, 1) => None,
                (0, _) => Some(format!("{key} is missing")),
                (1, _) => Some(format!("{key} is not text")),
                (count, _) => Some(format!("{key} holds {count} concurrent values")),
            }
        })
    }

    fn meta_text(&self, key: &'static str) -> Result<String, DocError> {
        match self.doc.get(ROOT, key)? {
            Some((automerge::Value::Scalar(scalar), _)) => match scalar.as_ref() {
                automerge::ScalarValue::Str(text) => Ok(text.to_string()),
                _ => Err(DocError::MissingMeta(key)),
            },
            _ => Err(DocError::MissingMeta(key)),
        }
    }

    /// When the record was created, in milliseconds since the epoch, by its creator's clock.
    pub fn created_at_ms(&self) -> Option<i64> {
        match self.doc.get(ROOT, "_created_at").ok()?? {
            (automerge::Value::Scalar(scalar), _) => scalar.as_i64(),
            _ => None,
        }
    }

    /// Writes the given (validated) values. Values equal to what the projection already shows
    /// are not written again, unless the field is in conflict (writing it resolves the
    /// conflict). Returns `None` when nothing changed.
    pub fn update(
        &mut self,
        values: &Map<String, Value>,
        who: Authoring<'_>,
    ) -> Result<Option<LocalChange>, DocError> {
        self.doc.set_actor(who.actor.clone());
        let (current, conflicts) = self.fields_and_conflicts();
        let conflicted: Vec<String> = conflicts.into_iter().map(|c| c.field).collect();
        for (name, value) in values {
            let unchanged = match current.get(name) {
                Some(existing) => existing == value,
                None => value.is_null(),
            };
            if unchanged && !conflicted.iter().any(|field| field == name) {
                continue;
            }
            convert::put_json(&mut self.doc, &ROOT, name, value)?;
        }
        Ok(self.commit(who, "update"))
    }

    fn commit(&mut self, who: Authoring<'_>, kind: &str) -> Option<LocalChange> {
        let message = ChangeMessage {
            user: who.user.into(),
            kind: kind.into(),
        };
        let message = serde_json::to_string(&message).unwrap_or_default();
        let hash = self.doc.commit_with(
            CommitOptions::default()
                .with_message(message)
                .with_time(who.time_ms),
        )?;
        let change = self.doc.get_change_by_hash(&hash)?;
        Some(LocalChange {
            hash,
            bytes: change.raw_bytes().to_vec(),
        })
    }

    /// Applies received changes. Changes the document already has are ignored, so duplicated
    /// and re-ordered deliveries are harmless; a change whose dependencies are missing waits
    /// inside the document until they arrive.
    pub fn apply(&mut self, changes: Vec<Change>) -> Result<(), DocError> {
        self.check_order(&changes)?;
        let doc = &mut self.doc;
        let applied =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| doc.apply_changes(changes)));
        match applied {
            Ok(result) => Ok(result?),
            Err(_) => {
                self.doc = AutoCommit::new();
                Err(DocError::ApplyPanicked)
            }
        }
    }

    /// Refuses received changes whose operation ids are not their own (see
    /// [`DocError::OutOfOrder`]), before any is applied. Every change automerge makes passes:
    /// it numbers a change's operations from one past the document's largest, and its deps
    /// are the document's heads, which descend from its actor's previous change. A change
    /// whose dependencies have not all arrived is left to wait; it is checked when they come.
    fn check_order(&mut self, changes: &[Change]) -> Result<(), DocError> {
        let mut headers = Headers {
            doc: &mut self.doc,
            batch: changes
                .iter()
                .map(|change| {
                    let header = Header {
                        actor: change.actor_id().clone(),
                        seq: change.seq(),
                        max_op: change.max_op(),
                        deps: change.deps().to_vec(),
                    };
                    (change.hash(), header)
                })
                .collect(),
        };
        for change in changes {
            // Held already: the merge ignores it.
            if headers.held(&change.hash()) {
                continue;
            }
            // Its dependencies' operations come first.
            let mut deps_max_op = Some(0);
            for dep in change.deps() {
                deps_max_op = match (deps_max_op, headers.get(dep)) {
                    (Some(max_op), Some(dep)) => Some(max_op.max(dep.max_op)),
                    // A dependency has not arrived: the change waits, checked when it comes.
                    _ => None,
                };
            }
            let Some(deps_max_op) = deps_max_op else {
                continue;
            };
            if change.start_op().get() <= deps_max_op {
                return Err(DocError::OutOfOrder(
                    "its operations do not start after those of the changes it depends on",
                ));
            }
            // And its actor's previous change is among its ancestors.
            if change.seq() > 1
                && headers.follows(change.deps(), change.actor_id(), change.seq() - 1)
                    == Some(false)
            {
                return Err(DocError::OutOfOrder(
                    "it does not follow its actor's previous change",
                ));
            }
        }
        Ok(())
    }

    /// Whether the document already holds the change `hash`.
    pub fn has_change(&mut self, hash: &ChangeHash) -> bool {
        self.doc.get_change_by_hash(hash).is_some()
    }

    /// Hashes of changes applied to the document's history but waiting for missing deps.
    pub fn missing_deps(&mut self) -> Vec<ChangeHash> {
        self.doc.get_missing_deps(&[])
    }

    /// The record's fields as the projection shows them, domain rules applied.
    pub fn fields(&self) -> Map<String, Value> {
        self.fields_and_conflicts().0
    }

    /// Fields that hold concurrent values (ARCHITECTURE.md, principle 1: the loser is kept and shown).
    pub fn conflicts(&self) -> Vec<Conflict> {
        self.fields_and_conflicts().1
    }

    /// The projection's fields and the conflicts, read in one pass over the document (only
    /// keys flagged as conflicted are read again for all their values).
    pub fn fields_and_conflicts(&self) -> (Map<String, Value>, Vec<Conflict>) {
        let collection = self.meta_text("_collection").unwrap_or_default();
        let mut fields = Map::new();
        let mut conflicts = Vec::new();
        let Ok(automerge::hydrate::Value::Map(root)) = self.doc.hydrate(ROOT, None) else {
            return (fields, conflicts);
        };
        for (key, entry) in root.iter() {
            if key.starts_with('_') {
                continue;
            }
            if !entry.conflict {
                fields.insert(key.clone(), convert::json_of_hydrate(&entry.value));
                continue;
            }
            let Ok(all) = self.doc.get_all(ROOT, key.as_str()) else {
                continue;
            };
            let values: Vec<Value> = all
                .iter()
                .map(|(value, id)| convert::read_value(&self.doc, value, id))
                .collect();
            if values.is_empty() {
                continue;
            }
            let index = rules::preferred_value(&collection, key, &values);
            let shown = values[index].clone();
            if values.len() > 1 {
                conflicts.push(Conflict {
                    field: key.clone(),
                    shown: shown.clone(),
                    values,
                });
            }
            fields.insert(key.clone(), shown);
        }
        // The same order on every node (the hydrated map iterates in no fixed order).
        conflicts.sort_by(|a, b| a.field.cmp(&b.field));
        (fields, conflicts)
    }

    /// Every change of the record, oldest first (causal order), with author node, user and time.
    pub fn history(&mut self) -> Vec<HistoryEntry> {
        let changes = self.doc.get_changes(&[]);
        changes
            .iter()
            .map(|change| {
                let message = change
                    .message()
                    .and_then(|text| serde_json::from_str::<ChangeMessage<'_>>(text).ok());
                let decoded = change.decode();
                let mut fields: Vec<String> = decoded
                    .operations
                    .iter()
                    .filter(|op| matches!(op.obj, automerge::legacy::ObjectId::Root))
                    .filter_map(|op| match &op.key {
                        automerge::legacy::Key::Map(name) if !name.starts_with('_') => {
                            Some(name.to_string())
                        }
                        _ => None,
                    })
                    .collect();
                fields.sort();
                fields.dedup();
                HistoryEntry {
                    hash: change.hash().to_string(),
                    actor: change.actor_id().to_string(),
                    node: actor::node_of(change.actor_id()),
                    user: message.as_ref().map(|m| m.user.to_string()),
                    time_ms: change.timestamp(),
                    kind: message.as_ref().map(|m| m.kind.to_string()),
                    fields,
                    deps: change.deps().iter().map(ToString::to_string).collect(),
                }
            })
            .collect()
    }

    /// The node that created the record: the author of its first change.
    pub fn creator_node(&mut self) -> Option<String> {
        let heads_of_nothing: &[ChangeHash] = &[];
        let first = self.doc.get_changes(heads_of_nothing).into_iter().next()?;
        actor::node_of(first.actor_id())
    }

    /// The whole document in its compact form.
    pub fn save(&mut self) -> Vec<u8> {
        self.doc.save()
    }

    /// The document's current heads.
    pub fn heads(&mut self) -> Vec<ChangeHash> {
        self.doc.get_heads()
    }

    /// Every change of the document, in causal order.
    pub fn changes(&mut self) -> Vec<Change> {
        self.doc.get_changes(&[])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta() -> RecordMeta {
        RecordMeta {
            id: "0190-test".into(),
            collection: "quality_archives".into(),
            jurisdiction: "330106".into(),
        }
    }

    #[test]
    fn a_document_loads_from_its_change_chunks_alone() {
        // The receiving side stores a new record's document as the change bytes it received
        // (no save): loading them must give the same record.
        let actor = crate::actor::fresh("330106");
        let who = |time_ms| Authoring {
            actor: &actor,
            user: "clerk",
            time_ms,
        };
        let mut values = Map::new();
        values.insert(
            "enterprise_name".into(),
            Value::from("杭州某某电器有限公司"),
        );
        values.insert("remarks".into(), Value::from("初次"));
        let (mut doc, created) = RecordDoc::create(&meta(), &values, who(1)).expect("create");
        let mut patch = Map::new();
        patch.insert("remarks".into(), Value::from("复查"));
        let edited = doc
            .update(&patch, who(2))
            .expect("update")
            .expect("a change");
        let mut bytes = created.bytes.clone();
        bytes.extend_from_slice(&edited.bytes);
        let mut loaded = RecordDoc::load(&bytes).expect("load from changes");
        assert_eq!(loaded.meta().expect("meta"), meta());
        assert_eq!(loaded.fields(), doc.fields());
        assert_eq!(loaded.heads(), doc.heads());
    }
}

/// What [`RecordDoc::check_order`] reads of a change.
#[derive(Clone)]
struct Header {
    actor: automerge::ActorId,
    seq: u64,
    max_op: u64,
    deps: Vec<ChangeHash>,
}

/// The headers of a batch of received changes and of the changes a document holds.
struct Headers<'a> {
    doc: &'a mut AutoCommit,
    batch: std::collections::HashMap<ChangeHash, Header>,
}

impl Headers<'_> {
    fn held(&mut self, hash: &ChangeHash) -> bool {
        self.doc.get_change_meta_by_hash(hash).is_some()
    }

    fn get(&mut self, hash: &ChangeHash) -> Option<Header> {
        if let Some(header) = self.batch.get(hash) {
            return Some(header.clone());
        }
        self.doc.get_change_meta_by_hash(hash).map(|meta| Header {
            actor: meta.actor.into_owned(),
            seq: meta.seq,
            max_op: meta.max_op,
            deps: meta.deps,
        })
    }

    /// Whether change `seq` of `actor` is an ancestor of a change depending on `deps`; `None`
    /// while an ancestor has not arrived.
    fn follows(
        &mut self,
        deps: &[ChangeHash],
        actor: &automerge::ActorId,
        seq: u64,
    ) -> Option<bool> {
        // Breadth first: an actor's previous change is usually among the first few looked at.
        let mut queue: std::collections::VecDeque<ChangeHash> = deps.iter().copied().collect();
        let mut seen = std::collections::HashSet::new();
        while let Some(hash) = queue.pop_front() {
            if !seen.insert(hash) {
                continue;
            }
            let ancestor = self.get(&hash)?;
            if &ancestor.actor == actor && ancestor.seq == seq {
                return Some(true);
            }
            queue.extend(ancestor.deps);
        }
        Some(false)
    }
}
