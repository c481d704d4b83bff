//! The replication protocol's messages (JSON over mutual TLS; change bytes in base64).
//!
//! A child opens every session to its parent: it asks what the parent has acknowledged of its
//! log (`GET /sync/v1/cursor`), pushes its changes after that cursor (`POST /sync/v1/push`)
//! until caught up, then pulls the parent's changes after its own pull cursor
//! (`POST /sync/v1/pull`) until caught up. Each receiving side checks every change with
//! [`crate::decide`] and stores the batch and its cursor in one transaction.

use serde::{Deserialize, Serialize};

use crate::authority::NodeRef;

/// Path of the cursor endpoint.
pub const CURSOR_PATH: &str = "/sync/v1/cursor";
/// Path of the push endpoint.
pub const PUSH_PATH: &str = "/sync/v1/push";
/// Path of the pull endpoint.
pub const PULL_PATH: &str = "/sync/v1/pull";
/// Path of the endpoint that gives a child back the changes it sent (after a restore).
pub const RECOVER_PATH: &str = "/sync/v1/recover";
/// Path of the hello endpoint: who the peer is and who this node is.
pub const HELLO_PATH: &str = "/sync/v1/hello";
/// Most changes in one batch.
pub const MAX_BATCH: i64 = 500;
/// A batch stops growing once its change bytes reach this size (at least one change is sent),
/// so that its JSON stays well under [`MAX_BATCH_BODY_BYTES`].
pub const MAX_BATCH_CHANGE_BYTES: usize = 8 * 1024 * 1024;
/// Largest request body the replication endpoints accept.
pub const MAX_BATCH_BODY_BYTES: usize = 16 * 1024 * 1024;
/// Longest a pull waits for the parent's log to move when nothing is waiting for the child
/// (the long-poll; [`PullRequest::wait_ms`]).
pub const MAX_WAIT_MS: u64 = 25_000;

/// How many of `sizes` (the change bytes of the rows, in order) go in one batch: all of them,
/// or as many as fit in [`MAX_BATCH_CHANGE_BYTES`], and never none when there are some.
pub fn batch_len(sizes: impl IntoIterator<Item = usize>) -> usize {
    let mut total = 0;
    let mut count = 0;
    for size in sizes {
        if count > 0 && total + size > MAX_BATCH_CHANGE_BYTES {
            break;
        }
        total += size;
        count += 1;
    }
    count
}

/// One change-log row on the wire.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WireChange {
    /// Its sequence number in the sender's log.
    pub seq: i64,
    pub hash: String,
    pub record_id: String,
    pub collection: String,
    pub jurisdiction: String,
    /// The node the sender's log names as author (the receiver trusts only the actor id).
    pub author_node: String,
    pub author_user: String,
    pub at_ms: i64,
    #[serde(with = "base64_bytes")]
    pub bytes: Vec<u8>,
}

/// What the parent has stored of the child's log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CursorResponse {
    pub acknowledged: i64,
    /// The hash of the child's change at `acknowledged`, as the child named it when it pushed:
    /// the child checks that its own log still holds that change there (issue 11 item 4).
    /// Absent for a cursor stored before hashes were kept, and at 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acknowledged_hash: Option<String>,
}

/// A batch of the child's changes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PushRequest {
    /// The cursor the batch follows (what the parent acknowledged).
    pub after: i64,
    /// The last sequence number of the child's log the batch covers (changes that do not go
    /// to the parent are skipped, so it may be past the last change's).
    pub up_to: i64,
    /// The hash of the child's change at `up_to` (carried or not): stored with the cursor, so
    /// that the child can tell later whether its log still holds it. Required when `up_to` > 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub up_to_hash: Option<String>,
    /// The child found that its log and the parent's cursor diverged and pushes its log again
    /// from the start: the parent's cursor for it moves to this batch's `up_to`, even backwards.
    /// Only with `after` = 0.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub restart: bool,
    pub changes: Vec<WireChange>,
}

/// What the parent did with a pushed batch.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushResponse {
    /// The parent's cursor for this child once the batch is stored.
    pub acknowledged: i64,
    pub applied: usize,
    pub duplicates: usize,
    pub quarantined: usize,
}

/// A request for the parent's changes after `after`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PullRequest {
    pub after: i64,
    /// The hash of the parent's change at `after`, as the parent named it (`next_hash`): the
    /// parent refuses the pull (`pull_cursor_diverged`) when its log no longer holds that change
    /// there — it was restored from a backup — and the child pulls again from the start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after_hash: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<i64>,
    /// When nothing is waiting for the child, how long the parent may hold the answer until
    /// something is (a long-poll, at most [`MAX_WAIT_MS`]): a parent's new change reaches its
    /// children within moments instead of at their next interval.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wait_ms: Option<u64>,
}

/// A batch of the parent's changes for the child.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PullResponse {
    pub changes: Vec<WireChange>,
    /// The cursor to ask after next time.
    pub next: i64,
    /// The hash of the sender's change at `next`, to name with it next time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_hash: Option<String>,
    /// True when nothing more is waiting.
    pub caught_up: bool,
}

/// The node an author code names, as seen from a link between `local` and `peer`: one of the
/// two ends, or a node whose level follows from its code (a bureau's division, a review
/// department's `RD…` or an inspection body's `IB…`), so that a change relayed from a review
/// department or inspection body is judged by its author's level. `None` for any other code.
pub fn author_ref(code: &str, local: &NodeRef, peer: &NodeRef) -> Option<NodeRef> {
    if code == peer.code {
        return Some(peer.clone());
    }
    if code == local.code {
        return Some(local.clone());
    }
    crate::level_of_code(code).map(|level| NodeRef::new(code, level))
}

mod base64_bytes {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&STANDARD.encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(deserializer)?;
        STANDARD.decode(text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use licnode_model::Level;

    #[test]
    fn a_relayed_authors_level_follows_from_its_code() {
        let province = NodeRef::new("330000", Level::Province);
        let national = NodeRef::national();
        let author = |code: &str| author_ref(code, &province, &national).map(|node| node.level);
        assert_eq!(author("IB0001"), Some(Level::InspectionBody));
        assert_eq!(author("RD0001"), Some(Level::ReviewDepartment));
        assert_eq!(author("330106"), Some(Level::County));
        assert_eq!(author("XX0001"), None);
        assert_eq!(author("999999"), None);
        // An inspection body's result, relayed by the national node, is accepted at the
        // enterprise's province (Art. 23) — not refused as an unknown author.
        let decision = crate::decide(
            &province,
            &national,
            crate::Link::Parent,
            crate::Flow::Receive,
            "inspections",
            "330106",
            &author_ref("IB0001", &province, &national).expect("known"),
        );
        assert!(decision.is_allowed(), "{decision:?}");
    }

    #[test]
    fn change_bytes_travel_as_base64() {
        let change = WireChange {
            seq: 7,
            hash: "ab".into(),
            record_id: "r".into(),
            collection: "licences".into(),
            jurisdiction: "330106".into(),
            author_node: "330106".into(),
            author_user: "u".into(),
            at_ms: 1,
            bytes: vec![0, 1, 2, 255],
        };
        let text = serde_json::to_string(&change).expect("json");
        assert!(text.contains("\"AAEC/w==\""), "{text}");
        assert_eq!(
            serde_json::from_str::<WireChange>(&text).expect("back"),
            change
        );
    }

    #[test]
    fn batches_are_cut_by_size_but_never_empty() {
        assert_eq!(batch_len([10, 20, 30]), 3);
        assert_eq!(batch_len([MAX_BATCH_CHANGE_BYTES + 1, 1]), 1);
        assert_eq!(batch_len([MAX_BATCH_CHANGE_BYTES / 2; 5]), 2);
        assert_eq!(batch_len([]), 0);
    }

    #[test]
    fn authors_are_the_link_ends_or_nodes_whose_code_names_their_level() {
        let county = NodeRef::new("330106", Level::County);
        let province = NodeRef::new("330000", Level::Province);
        assert_eq!(
            author_ref("330106", &province, &county),
            Some(county.clone())
        );
        assert_eq!(
            author_ref("100000", &province, &county),
            Some(NodeRef::national())
        );
        assert_eq!(
            author_ref("RD0001", &province, &county),
            Some(NodeRef::new("RD0001", Level::ReviewDepartment))
        );
        assert_eq!(author_ref("ZZ0001", &province, &county), None);
    }
}
