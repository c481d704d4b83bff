//! Storing a received batch: every change parsed once, checked on arrival, the allowed ones
//! applied, every refused one quarantined with its reason, and the stream's cursor moved — in
//! one transaction of the store's [`licnode_store::ReplicationTx`].

use std::collections::HashMap;

use licnode_store::sync_state::{QuarantineReason, REASON_MALFORMED, malformed_id};
use licnode_store::{
    ApplyOutcome, CursorMove, LoggedChange, QuarantineEntry, Refusal, Store, StoreError, SyncStream,
};
use licnode_sync::protocol::author_ref;
use licnode_sync::{Flow, Link, NodeRef, decide};

/// A batch of changes received from `peer` on `stream`, to be stored with the stream's new
/// cursor.
#[derive(Clone, Debug)]
pub struct ReceivedBatch {
    pub peer: String,
    pub stream: SyncStream,
    /// The cursor once the batch is stored: the last sequence number of the sender's log it
    /// covers.
    pub cursor: i64,
    /// How the cursor moves: with the hash of the sender's change there; backwards only on a
    /// restart.
    pub cursor_move: CursorMove,
    pub changes: Vec<LoggedChange>,
}

impl ReceivedBatch {
    /// A batch of wire changes from `peer`, moving its `stream` cursor to `cursor`.
    pub fn from_wire(
        peer: &str,
        stream: SyncStream,
        cursor: i64,
        changes: Vec<LoggedChange>,
    ) -> ReceivedBatch {
        ReceivedBatch {
            peer: peer.to_owned(),
            stream,
            cursor,
            cursor_move: CursorMove::default(),
            changes: received_from(changes, peer),
        }
    }
}

/// Received changes as the store keeps them: `origin` names the node they came from, whatever
/// they carried.
pub fn received_from(mut changes: Vec<LoggedChange>, origin: &str) -> Vec<LoggedChange> {
    for change in &mut changes {
        change.origin = origin.to_owned();
    }
    changes
}

/// Stores a received batch: `check` decides, for each change and the node its actor id is
/// bound to, whether it may be applied. Allowed changes are applied; refused ones (by `check`,
/// malformed, refused by their document or the model, or missing a dependency) are
/// quarantined; the cursor moves as the batch says — in one transaction. Changes waiting for a
/// dependency are tried again after a batch that applied something.
pub async fn store_batch(
    store: &Store,
    batch: ReceivedBatch,
    mut check: impl FnMut(&LoggedChange, Option<&str>) -> Result<(), Refusal>,
) -> Result<ApplyOutcome, StoreError> {
    let now = licnode_store::now_ms();
    let entry =
        |change: &LoggedChange, hash: String, author: &str, refusal: Refusal| QuarantineEntry {
            peer: batch.peer.clone(),
            hash,
            record_id: change.record_id.clone(),
            collection: change.collection.clone(),
            jurisdiction: change.jurisdiction.clone(),
            author_node: author.to_owned(),
            reason: refusal.code,
            message: refusal.message,
            bytes: change.bytes.clone(),
            received_at_ms: now,
        };
    let mut allowed = Vec::new();
    let mut denied = Vec::new();
    // Every change offered for applying, by hash, in case its document refuses it.
    let mut offered: HashMap<String, (&LoggedChange, String)> = HashMap::new();
    // Every change parsed once, on every core for a large batch.
    let all_parsed =
        licnode_doc::parse_changes(batch.changes.iter().map(|change| change.bytes.as_slice()));
    for (change, parsed) in batch.changes.iter().zip(all_parsed) {
        // Claims no backend can store (a NUL in their text) are malformed like bad bytes.
        let parsed = match licnode_store::unstorable_claims(change) {
            Some(problem) => Err(problem),
            None => parsed.map_err(|error| error.to_string()),
        };
        match parsed {
            Err(error) => denied.push(entry(
                change,
                malformed_id(&change.bytes),
                "",
                Refusal {
                    code: REASON_MALFORMED.into(),
                    message: format!("malformed change: {error}"),
                },
            )),
            Ok(incoming) => {
                let hash = incoming.hash.to_string();
                let author = incoming.author_node.clone().unwrap_or_default();
                match check(change, incoming.author_node.as_deref()) {
                    Ok(()) => {
                        offered.insert(hash, (change, author));
                        allowed.push((change, incoming));
                    }
                    Err(refusal) => denied.push(entry(change, hash, &author, refusal)),
                }
            }
        }
    }
    // The refusals decided before applying count as refused too.
    let early: Vec<(String, String)> = denied
        .iter()
        .map(|row| (row.hash.clone(), row.reason.clone()))
        .collect();
    let mut tx = store.begin_replication().await?;
    let mut outcome = tx.apply(allowed).await?;
    let mut rows = denied;
    let mut from_outcome = |hash: &str, reason: QuarantineReason, message: &str| {
        if let Some((change, author)) = offered.get(hash) {
            rows.push(entry(
                change,
                hash.to_owned(),
                author,
                Refusal {
                    code: reason.as_str().to_owned(),
                    message: message.to_owned(),
                },
            ));
        }
    };
    for (hash, message) in &outcome.refused {
        let reason = outcome
            .refusal_codes
            .get(hash)
            .copied()
            .unwrap_or(QuarantineReason::RefusedByDocument);
        from_outcome(hash, reason, message);
    }
    for hash in &outcome.pending {
        from_outcome(
            hash,
            QuarantineReason::MissingDependency,
            "the change depends on changes this node does not have",
        );
    }
    tx.quarantine(&rows).await?;
    tx.advance_cursor(&batch.peer, batch.stream, batch.cursor, &batch.cursor_move)
        .await?;
    tx.commit().await?;
    outcome.refused.extend(early);
    if !outcome.applied.is_empty() {
        let retried = store.retry_waiting().await?;
        outcome.applied.extend(retried);
    }
    Ok(outcome)
}

/// The check on arrival of one change from `peer`, authored (by its actor id) by `author`: the
/// one authority function decides.
pub fn check_arrival(
    local: &NodeRef,
    peer: &NodeRef,
    link: Link,
    change: &LoggedChange,
    author: Option<&str>,
) -> Result<(), Refusal> {
    let Some(code) = author else {
        return Err(Refusal {
            code: "unbound_author".into(),
            message: "the change's actor id is not bound to a node".into(),
        });
    };
    let Some(author) = author_ref(code, local, peer) else {
        return Err(Refusal {
            code: "unknown_author".into(),
            message: format!("the change's author {code:?} is not a node this link knows"),
        });
    };
    let decision = decide(
        local,
        peer,
        link,
        Flow::Receive,
        &change.collection,
        &change.jurisdiction,
        &author,
    );
    match decision.reason() {
        None => Ok(()),
        Some(reason) => Err(Refusal {
            code: decision.code().unwrap_or("denied").to_owned(),
            message: reason.to_string(),
        }),
    }
}
