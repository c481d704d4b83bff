//! Records as automerge documents: every write goes through a document, and the queryable row
//! is a projection rebuilt from it (ARCHITECTURE.md, principle 1). This crate does no IO.
//!
//! Layout of a record document: the root map holds one key per field of the collection
//! (scalars as automerge scalars, tables as a list of maps), plus reserved metadata keys that
//! start with `_` (`_id`, `_collection`, `_jurisdiction`, `_created_at`, `_created_by`). Field
//! names never start with `_` (the model refuses them).

#![forbid(unsafe_code)]

pub mod actor;
mod convert;
mod edit;
mod first_change;
mod record;
pub mod rules;

pub use automerge::{ActorId, Change, ChangeHash};
pub use edit::{Edit, EditState};
pub use first_change::{FirstChange, first_change_fields};
pub use record::{
    Authoring, Conflict, DocError, HistoryEntry, IDENTITY_KEYS, IncomingChange, LocalChange,
    RecordDoc, RecordMeta, parse_change, parse_changes,
};
