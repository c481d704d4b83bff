//! Receiving a record this node does not hold yet from its first change alone: the projection
//! is read from the change's operations (`licnode_doc::first_change_fields`) instead of merging
//! the change into a new document and reading that back; the change, kept in the change log, is
//! the record's document (migration 0024), read into a document on first use. Everything a merge checks is
//! checked the same way, with the same outcome; every change of another shape is merged.

use super::{
    ApplyOutcome, LoggedChange, QuarantineReason, RemotePlan, received_rows, refuse_all_as,
    validate_received,
};
use crate::projection::Projection;

/// The plan for a record received as nothing but its first change, or `None` when the changes
/// must be merged into a document instead: more than one change, or one
/// `licnode_doc::first_change_fields` does not read. `Some(None)` is a refusal, recorded in
/// `outcome` exactly as the merge would record it.
pub(super) fn plan_first_change(
    fresh: &[(&LoggedChange, licnode_doc::IncomingChange)],
    outcome: &mut ApplyOutcome,
) -> Option<Option<RemotePlan>> {
    let [(remote, incoming)] = fresh else {
        return None;
    };
    let first = licnode_doc::first_change_fields(incoming)?;
    // A change without dependencies always applies: it is never pending.
    let applied = [(*remote, incoming)];
    let meta = first.meta.clone();
    if let Err(reason) = meta_agrees(&meta, None, &applied) {
        outcome
            .refused
            .push((incoming.hash.to_string(), reason.to_string()));
        return Some(None);
    }
    // The identity is single: first_change_fields reads only changes that write each identity
    // key once, as text (issue 11 item 6).
    let edit_state = licnode_doc::EditState::of_first_change(incoming, &first).encode();
    let projection = Projection::of_first_change(first, remote.at_ms);
    if let Err(problem) = validate_received(&meta.collection, None, &projection) {
        refuse_all_as(fresh, QuarantineReason::InvalidRecord, problem, outcome);
        return Some(None);
    }
    outcome.read_without_document += 1;
    Some(Some(RemotePlan {
        existing: None,
        projection,
        // The document is the change, in the log, as for any new record.
        saved: None,
        chunk_count: 1,
        rows: received_rows(&applied, &meta),
        edit_state: Some(edit_state),
    }))
}

/// Whether the record's metadata `meta` after a merge agrees with what it was `before` and
/// with what the senders of `applied` claimed; otherwise why not.
pub(super) fn meta_agrees(
    meta: &licnode_doc::RecordMeta,
    before: Option<&licnode_doc::RecordMeta>,
    applied: &[(&LoggedChange, &licnode_doc::IncomingChange)],
) -> Result<(), &'static str> {
    if before.is_some_and(|before| before != meta) {
        return Err("the change rewrites the record's identity");
    }
    let contradicted = applied.iter().any(|(remote, _)| {
        remote.record_id != meta.id
            || remote.collection != meta.collection
            || remote.jurisdiction != meta.jurisdiction
    });
    if contradicted {
        return Err("the change's metadata contradicts the record's document");
    }
    Ok(())
}

#[cfg(test)]
mod tests;
