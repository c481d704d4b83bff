//! Receiving plain edits of a record this node holds (the changed round, issue 14 item 2): the
//! stored `licnode_doc::EditState` says what each edit may overwrite, the edit's operations are
//! read onto the stored projection, and the change joins the record's document by being in
//! the change log (migration 0024) — the document is not loaded. Everything a merge checks is
//! checked the same way, with the same outcome; an edit of any other shape, a record without a
//! stored state, or a document due for compaction is merged as before.

use licnode_doc::EditState;
use serde_json::{Map, Value};

use super::first_change::meta_agrees;
use super::transaction::LoadedDocument;
use super::{
    ApplyOutcome, LoggedChange, MAX_APPENDED_CHUNKS, QuarantineReason, RemotePlan, received_rows,
    refuse_all_as, validate_changed,
};
use crate::projection::Projection;

/// The plan for received changes that are all plain edits of the stored record `stored`, one
/// after the other, or `None` when they must be merged into its document. `Some(None)` is a
/// refusal, recorded in `outcome` exactly as the merge would record it. The plan's `existing`
/// is left for the caller to fill.
pub(super) fn plan_edits(
    stored: &LoadedDocument,
    fresh: &[(&LoggedChange, licnode_doc::IncomingChange)],
    outcome: &mut ApplyOutcome,
) -> Option<Option<RemotePlan>> {
    // The merge saves (compacts) the document once it has this many chunks: left to it.
    let chunk_count = stored.chunk_count + fresh.len() as i64;
    if fresh.is_empty() || chunk_count > MAX_APPENDED_CHUNKS {
        return None;
    }
    let mut state = EditState::decode(stored.edit_state.as_deref()?)?;
    let mut fields: Map<String, Value> = serde_json::from_str(stored.old_data.as_deref()?).ok()?;
    // Each field the edits write, with the value it held before the first of them.
    let mut before: Vec<(String, Option<Value>)> = Vec::new();
    for (_, incoming) in fresh {
        let edit = state.read_edit(incoming)?;
        for (name, value) in edit.fields {
            if !before.iter().any(|(written, _)| *written == name) {
                before.push((name.clone(), fields.get(&name).cloned()));
            }
            match value {
                Some(value) => fields.insert(name, value),
                None => fields.remove(&name),
            };
        }
        state = edit.state;
    }
    // Each edit follows the one before: every change applies, none waits.
    let applied: Vec<(&LoggedChange, &licnode_doc::IncomingChange)> = fresh
        .iter()
        .map(|(remote, change)| (*remote, change))
        .collect();
    let meta = state.meta.clone();
    // A plain edit writes no `_` key, so the identity is the stored one; the senders' claims
    // are checked against it as the merge checks them.
    if let Err(reason) = meta_agrees(&meta, None, &applied) {
        for (_, change) in fresh {
            outcome
                .refused
                .push((change.hash.to_string(), reason.to_string()));
        }
        return Some(None);
    }
    let at_ms = applied.iter().map(|(r, _)| r.at_ms).max().unwrap_or(0);
    // No concurrent values: the stored state exists only for a record without them, and a
    // plain edit overwrites exactly the value held.
    let created_at_ms = state.created_at_ms.unwrap_or(at_ms);
    let projection = Projection::from_fields(meta.clone(), fields, 0, created_at_ms, at_ms);
    // What the merge validates: every field whose value the edits changed, in its order (the
    // fields held, then those cleared, each by name), so that a refusal reads the same.
    let null = Value::Null;
    let mut changed: Vec<(&str, Option<&Value>)> = before
        .iter()
        .map(|(name, old)| (name.as_str(), old.as_ref(), projection.data.get(name)))
        .filter(|(_, old, now)| old != now)
        .map(|(name, _, now)| (name, now))
        .collect();
    changed.sort_by_key(|(name, now)| (now.is_none(), *name));
    let changed = changed
        .into_iter()
        .map(|(name, now)| (name, now.unwrap_or(&null)))
        .collect();
    if let Err(problem) = validate_changed(&meta.collection, changed) {
        refuse_all_as(fresh, QuarantineReason::InvalidRecord, problem, outcome);
        return Some(None);
    }
    outcome.read_without_document += fresh.len();
    Some(Some(RemotePlan {
        existing: None,
        projection,
        saved: None,
        chunk_count,
        rows: received_rows(&applied, &meta),
        edit_state: Some(state.encode()),
    }))
}
