//! The replication protocol's messages (JSON over mutual TLS; change bytes in base64).
//!
//! A child opens every session to its parent: it asks what the parent has acknowledged of its
//! log (`GET /sync/v1/cursor`), pushes its changes after that cursor (`POST /sync/v1/push`)
//! until caught up, then pulls the parent's changes after its own pull cursor
//! (`POST /sync/v1/pull`) until caught up. Each receiving side checks every change with
//! [`crate::decide`] and stores the batch and its cursor in one transaction.

use serde::de::DeserializeOwned;
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

/// One change of a change log: the one row type of a change, as the store logs it, as the
/// wire carries it and as a receiver applies it (issue 17, item 3).
///
/// `origin` — the node this change was received from, or this node's own code for a local
/// change — is the receiver's to set and never travels: it is skipped by serialisation, and a
/// received batch names its sender as the origin of every change in it
/// (`licnode_app::replication::ReceivedBatch`). Likewise a receiver trusts only the change's
/// actor id for its author, never `author_node`, and computes the hash from the bytes.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LoggedChange {
    /// Its sequence number in the sender's log (0 for a change not logged by the sender).
    pub seq: i64,
    pub hash: String,
    pub record_id: String,
    pub collection: String,
    pub jurisdiction: String,
    /// The node the sender's log names as author (the receiver trusts only the actor id).
    pub author_node: String,
    pub author_user: String,
    /// Who handed this change to the node that holds it: set by that node, never sent.
    #[serde(skip)]
    pub origin: String,
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
    pub changes: Vec<LoggedChange>,
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
    pub changes: Vec<LoggedChange>,
    /// The cursor to ask after next time.
    pub next: i64,
    /// The hash of the sender's change at `next`, to name with it next time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_hash: Option<String>,
    /// True when nothing more is waiting.
    pub caught_up: bool,
    /// What the parent has stored of the asking child's log (its push cursor), read with this
    /// answer, when the child sends it anything: a session pulls first and takes the cursor
    /// from here instead of asking for it in an exchange of its own, so a session with nothing
    /// to move is one exchange (issue 14). Absent from a parent that does not send it, from
    /// the answers of a long-poll (`wait_ms`) and from those of `recover`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acknowledged: Option<CursorResponse>,
}

/// Content type of a batch in the binary framing: the message's JSON without the change bytes,
/// then each change's bytes as they are — a third fewer bytes than base64 in JSON, and no
/// encoding on either side. Peers that do not ask for it get JSON.
pub const FRAMED_CONTENT_TYPE: &str = "application/x-licnode-batch";

/// The first bytes of a framed batch.
const FRAME_MAGIC: &[u8; 4] = b"LNB1";

/// A message that carries changes: push requests and pull answers.
pub trait CarriesChanges {
    fn changes_mut(&mut self) -> &mut Vec<LoggedChange>;
}

impl CarriesChanges for PushRequest {
    fn changes_mut(&mut self) -> &mut Vec<LoggedChange> {
        &mut self.changes
    }
}

impl CarriesChanges for PullResponse {
    fn changes_mut(&mut self) -> &mut Vec<LoggedChange> {
        &mut self.changes
    }
}

/// A framed batch that cannot be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unreadable framed batch: {0}")]
pub struct FrameError(pub String);

/// The message in the binary framing: `LNB1`, the length of the header (4 bytes, big-endian),
/// the header (the message as JSON, every change's bytes left empty), then for each change in
/// order its length (4 bytes, big-endian) and its bytes.
pub fn encode_framed<M: Serialize + CarriesChanges>(mut message: M) -> Result<Vec<u8>, FrameError> {
    let payloads: Vec<Vec<u8>> = message
        .changes_mut()
        .iter_mut()
        .map(|change| std::mem::take(&mut change.bytes))
        .collect();
    let header = serde_json::to_vec(&message).map_err(|error| FrameError(error.to_string()))?;
    let size = 8 + header.len() + payloads.iter().map(|p| 4 + p.len()).sum::<usize>();
    let mut out = Vec::with_capacity(size);
    out.extend_from_slice(FRAME_MAGIC);
    out.extend_from_slice(&frame_length(header.len())?);
    out.extend_from_slice(&header);
    for payload in &payloads {
        out.extend_from_slice(&frame_length(payload.len())?);
        out.extend_from_slice(payload);
    }
    Ok(out)
}

fn frame_length(length: usize) -> Result<[u8; 4], FrameError> {
    u32::try_from(length)
        .map(u32::to_be_bytes)
        .map_err(|_| FrameError(format!("a part of {length} bytes is too long to frame")))
}

/// Reads a message in the binary framing ([`encode_framed`]). Every length is checked against
/// what is left; a header whose changes carry bytes of their own, fewer or more frames than
/// changes, or bytes after the last frame are refused.
pub fn decode_framed<M: DeserializeOwned + CarriesChanges>(bytes: &[u8]) -> Result<M, FrameError> {
    let rest = bytes
        .strip_prefix(FRAME_MAGIC.as_slice())
        .ok_or_else(|| FrameError("it does not start with LNB1".into()))?;
    let (header, mut rest) = take_frame(rest)?;
    let mut message: M =
        serde_json::from_slice(header).map_err(|error| FrameError(format!("header: {error}")))?;
    for (index, change) in message.changes_mut().iter_mut().enumerate() {
        if !change.bytes.is_empty() {
            return Err(FrameError(format!(
                "change {index} carries bytes in the header"
            )));
        }
        let (payload, after) = take_frame(rest)
            .map_err(|FrameError(reason)| FrameError(format!("change {index}: {reason}")))?;
        change.bytes = payload.to_vec();
        rest = after;
    }
    if !rest.is_empty() {
        return Err(FrameError(format!(
            "{} bytes after the last change",
            rest.len()
        )));
    }
    Ok(message)
}

/// One length-prefixed part and what follows it.
fn take_frame(bytes: &[u8]) -> Result<(&[u8], &[u8]), FrameError> {
    let (length, rest) = bytes
        .split_first_chunk::<4>()
        .ok_or_else(|| FrameError("a length is cut off".into()))?;
    let length = u32::from_be_bytes(*length) as usize;
    if length > rest.len() {
        return Err(FrameError(format!(
            "a part of {length} bytes, but only {} are left",
            rest.len()
        )));
    }
    Ok(rest.split_at(length))
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
    fn change_bytes_travel_as_base64_and_the_origin_stays_home() {
        let change = LoggedChange {
            seq: 7,
            hash: "ab".into(),
            record_id: "r".into(),
            collection: "licences".into(),
            jurisdiction: "330106".into(),
            author_node: "330106".into(),
            author_user: "u".into(),
            origin: "330100".into(),
            at_ms: 1,
            bytes: vec![0, 1, 2, 255],
        };
        let text = serde_json::to_string(&change).expect("json");
        assert!(text.contains("\"AAEC/w==\""), "{text}");
        // Who handed a change over is the receiver's to say: it never travels.
        assert!(
            !text.contains("origin") && !text.contains("330100"),
            "{text}"
        );
        assert_eq!(
            serde_json::from_str::<LoggedChange>(&text).expect("back"),
            LoggedChange {
                origin: String::new(),
                ..change
            }
        );
    }

    fn sample_push() -> PushRequest {
        let change = |seq: i64, bytes: Vec<u8>| LoggedChange {
            seq,
            hash: format!("h{seq}"),
            record_id: "r".into(),
            collection: "quality_archives".into(),
            jurisdiction: "330106".into(),
            author_node: "330106".into(),
            author_user: "用户".into(),
            origin: String::new(),
            at_ms: seq,
            bytes,
        };
        PushRequest {
            after: 0,
            up_to: 3,
            up_to_hash: Some("h3".into()),
            restart: false,
            changes: vec![
                change(1, vec![0, 1, 2]),
                change(2, Vec::new()),
                change(3, vec![255; 300]),
            ],
        }
    }

    #[test]
    fn a_framed_batch_reads_back_as_the_message_it_was() {
        let push = sample_push();
        let framed = encode_framed(push.clone()).expect("framed");
        assert_eq!(decode_framed::<PushRequest>(&framed).expect("read"), push);
        let json = serde_json::to_vec(&push).expect("json");
        assert!(
            framed.len() < json.len(),
            "{} vs {}",
            framed.len(),
            json.len()
        );
    }

    #[test]
    fn a_framed_batch_cut_short_padded_or_with_bytes_in_its_header_is_refused() {
        let framed = encode_framed(sample_push()).expect("framed");
        for cut in [0, 3, 4, 7, 20, framed.len() - 1] {
            assert!(
                decode_framed::<PushRequest>(&framed[..cut]).is_err(),
                "cut at {cut}"
            );
        }
        let mut padded = framed.clone();
        padded.push(0);
        assert!(decode_framed::<PushRequest>(&padded).is_err());
        // A header whose change carries its own bytes (base64 in the JSON) is refused.
        let json = serde_json::to_vec(&sample_push()).expect("json");
        let mut forged = FRAME_MAGIC.to_vec();
        forged.extend_from_slice(&(json.len() as u32).to_be_bytes());
        forged.extend_from_slice(&json);
        assert!(decode_framed::<PushRequest>(&forged).is_err());
        // A length that claims more than there is.
        let mut huge = FRAME_MAGIC.to_vec();
        huge.extend_from_slice(&u32::MAX.to_be_bytes());
        assert!(decode_framed::<PushRequest>(&huge).is_err());
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(fuzz_cases()))]

        /// Issue 16 item 4: any bytes at all, and any single-byte change or cut of a valid
        /// frame, are read or refused — never a panic.
        #[test]
        fn any_bytes_given_as_a_framed_batch_are_read_or_refused_without_panicking(
            bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..512),
            position in proptest::prelude::any::<usize>(),
            value in proptest::prelude::any::<u8>(),
            cut in proptest::prelude::any::<usize>(),
        ) {
            let _ = decode_framed::<PushRequest>(&bytes);
            let _ = decode_framed::<PullResponse>(&bytes);
            let mut framed = encode_framed(sample_push()).expect("framed");
            let at = position % framed.len();
            framed[at] = value;
            let _ = decode_framed::<PushRequest>(&framed);
            let _ = decode_framed::<PushRequest>(&framed[..cut % (framed.len() + 1)]);
        }
    }

    /// Cases per fuzz target: `LICNODE_FUZZ_CASES`, else 256 (a soak sets millions).
    fn fuzz_cases() -> u32 {
        std::env::var("LICNODE_FUZZ_CASES")
            .ok()
            .and_then(|cases| cases.parse().ok())
            .unwrap_or(256)
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
