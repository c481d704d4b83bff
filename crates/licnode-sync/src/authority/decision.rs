//! The question's direction ([`Flow`], [`Movement`]) and the answer of
//! [`decide`](super::decide): allow, or deny with a reason that has a stable machine code.

use std::fmt;

use licnode_model::Level;
use serde::{Deserialize, Serialize};

/// Which question is asked: may the peer send this to me, or may I send it to the peer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Flow {
    /// The peer sends, this node receives.
    Receive,
    /// This node sends, the peer receives.
    Send,
}

/// Which way a change moves along a tree edge.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Movement {
    /// From a child to its parent.
    Up,
    /// From a parent to a child.
    Down,
}

impl fmt::Display for Movement {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(match self {
            Movement::Up => "up",
            Movement::Down => "down",
        })
    }
}

/// Which of the three nodes of a question was malformed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NodeRole {
    /// The end of the link the change leaves from.
    Sender,
    /// The end of the link the change arrives at.
    Receiver,
    /// The change's author.
    Author,
}

impl fmt::Display for NodeRole {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(match self {
            NodeRole::Sender => "the sender",
            NodeRole::Receiver => "the receiver",
            NodeRole::Author => "the author",
        })
    }
}

/// The answer of [`decide`](super::decide).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
#[must_use]
pub enum Decision {
    /// The change may cross the link.
    Allow,
    /// It may not, for this reason.
    Deny {
        /// Why, with a stable machine code ([`DenyReason::code`]).
        reason: DenyReason,
    },
}

impl Decision {
    /// Whether the change may cross the link.
    pub fn is_allowed(&self) -> bool {
        matches!(self, Decision::Allow)
    }

    /// The deny reason's machine code; `None` when allowed.
    pub fn code(&self) -> Option<&'static str> {
        match self {
            Decision::Allow => None,
            Decision::Deny { reason } => Some(reason.code()),
        }
    }

    /// The deny reason, if denied.
    pub fn reason(&self) -> Option<&DenyReason> {
        match self {
            Decision::Allow => None,
            Decision::Deny { reason } => Some(reason),
        }
    }
}

/// Why a change may not cross a link. Serialises with its machine code in `code`; `Display` is
/// the message for people.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum DenyReason {
    /// `unknown_collection`: no such collection.
    #[error("unknown collection {collection:?}")]
    UnknownCollection { collection: String },

    /// `invalid_node`: a node's code does not fit its level (a bureau's code must be a GB/T 2260
    /// division of that level; a review department's or inspection body's must not be one).
    #[error("{role} {node:?} is not a valid {level} node: {problem}")]
    InvalidNode {
        role: NodeRole,
        node: String,
        level: Level,
        problem: String,
    },

    /// `invalid_link`: the two ends are not parent and child in the tree of agencies.
    #[error("{parent} cannot be the parent of {child}: {problem}")]
    InvalidLink {
        parent: String,
        child: String,
        problem: String,
    },

    /// `unknown_jurisdiction`: the record's jurisdiction is not a GB/T 2260 division code.
    #[error("jurisdiction {jurisdiction:?} is not a GB/T 2260 division code")]
    UnknownJurisdiction { jurisdiction: String },

    /// `collection_is_local`: the collection never leaves the node that keeps it.
    #[error("{collection} never leaves the node that keeps it")]
    CollectionIsLocal { collection: String },

    /// `wrong_direction`: the collection does not flow this way along the link.
    #[error("{collection} flows {route}; it is not sent {movement} from {sender} to {receiver}")]
    WrongDirection {
        collection: String,
        route: String,
        movement: Movement,
        sender: String,
        receiver: String,
    },

    /// `author_not_on_sender_side`: the change was made on the receiver's side of the link, or
    /// in another subtree; a neighbour relays only what its own side made.
    #[error(
        "the change's author {author} is not on {sender}'s side of the link to {receiver}: \
         a neighbour relays only changes made on its side of the tree"
    )]
    AuthorNotOnSenderSide {
        author: String,
        sender: String,
        receiver: String,
    },

    /// `author_not_allowed`: the author's level or kind may not write the collection.
    #[error("a {author_level} node ({author}) may not author {collection}")]
    AuthorNotAllowed {
        collection: String,
        author: String,
        author_level: Level,
    },

    /// `outside_jurisdiction`: the author may write the collection, but not for this
    /// jurisdiction.
    #[error(
        "{author} ({author_level}) may author {collection} only within its own territory, \
         and {jurisdiction} is outside it"
    )]
    OutsideJurisdiction {
        collection: String,
        author: String,
        author_level: Level,
        jurisdiction: String,
    },

    /// `not_addressed_to_peer`: the record does not concern the receiving end of the link.
    #[error("{collection} record of {jurisdiction} is not for {receiver}: {rule}")]
    NotAddressedToPeer {
        collection: String,
        jurisdiction: String,
        receiver: String,
        rule: String,
    },
}

impl DenyReason {
    /// The stable machine code: `unknown_collection`, `invalid_node`, `invalid_link`,
    /// `unknown_jurisdiction`, `collection_is_local`, `wrong_direction`,
    /// `author_not_on_sender_side`, `author_not_allowed`, `outside_jurisdiction`,
    /// `not_addressed_to_peer`.
    pub fn code(&self) -> &'static str {
        match self {
            DenyReason::UnknownCollection { .. } => "unknown_collection",
            DenyReason::InvalidNode { .. } => "invalid_node",
            DenyReason::InvalidLink { .. } => "invalid_link",
            DenyReason::UnknownJurisdiction { .. } => "unknown_jurisdiction",
            DenyReason::CollectionIsLocal { .. } => "collection_is_local",
            DenyReason::WrongDirection { .. } => "wrong_direction",
            DenyReason::AuthorNotOnSenderSide { .. } => "author_not_on_sender_side",
            DenyReason::AuthorNotAllowed { .. } => "author_not_allowed",
            DenyReason::OutsideJurisdiction { .. } => "outside_jurisdiction",
            DenyReason::NotAddressedToPeer { .. } => "not_addressed_to_peer",
        }
    }

    /// Every machine code, in the order the checks run.
    pub const CODES: [&'static str; 10] = [
        "unknown_collection",
        "invalid_node",
        "invalid_link",
        "unknown_jurisdiction",
        "collection_is_local",
        "wrong_direction",
        "author_not_on_sender_side",
        "author_not_allowed",
        "outside_jurisdiction",
        "not_addressed_to_peer",
    ];
}
