//! The nodes of the tree of agencies: who a node is (its code and level), how two nodes are
//! linked, which codes name which level, and where a jurisdiction lies relative to a node.

use std::fmt;

use licnode_model::Level;
use licnode_model::divisions::{self, NATIONAL_CODE};
use serde::{Deserialize, Serialize};

#[cfg(doc)]
use super::Scope;
use super::{DenyReason, NodeRole};

/// The longest code a review department or inspection body may carry. The rule for such codes
/// is the one certificates are issued under (`licnode_pki::names::check_node`).
const NON_DIVISION_CODE_MAX_CHARS: usize = 32;

/// A node as its certificate names it: its code and its level or kind.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct NodeRef {
    /// A GB/T 2260 division code for bureaus (`330106`; national `100000`), the registration code
    /// for review departments and inspection bodies (`RD0001`, `IB0001`).
    pub code: String,
    /// Its level or kind.
    pub level: Level,
}

impl NodeRef {
    /// The node called `code` at `level`.
    pub fn new(code: impl Into<String>, level: Level) -> NodeRef {
        NodeRef {
            code: code.into(),
            level,
        }
    }

    /// The national node, `100000`.
    pub fn national() -> NodeRef {
        NodeRef::new(NATIONAL_CODE, Level::National)
    }
}

impl fmt::Display for NodeRef {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{} ({})", self.code, self.level)
    }
}

/// Where a record's jurisdiction lies relative to a node.
///
/// For a bureau, from the division tree. A review department or inspection body has no
/// territory: every jurisdiction is `Unrelated` to it, and what it may author comes from its
/// articles ([`Scope::Nationwide`]), not from a relation. An unknown code is `Unrelated` to
/// every node.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Relation {
    /// The node's own division (`330106` to `330106`).
    Own,
    /// Strictly below the node's division (`330106` to `330000`; everything but `100000` to the
    /// national node).
    Descendant,
    /// Strictly above the node's division (`330000` and `100000` to `330106`).
    Ancestor,
    /// Another division with the same parent (`330108` to `330106`; `320000` to `330000`).
    Sibling,
    /// Anything else: another branch of the tree (`320102` to `330106`), any jurisdiction to a
    /// review department or inspection body, an unknown code.
    Unrelated,
}

/// Which side of the tree edge the peer is on, seen from this node.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Link {
    /// The peer is this node's parent.
    Parent,
    /// The peer is one of this node's children.
    Child,
}

impl Link {
    /// The same edge seen from the peer.
    pub fn reversed(self) -> Link {
        match self {
            Link::Parent => Link::Child,
            Link::Child => Link::Parent,
        }
    }
}

/// Depth of a bureau level in the tree; `None` for review departments and inspection bodies.
pub(super) fn depth(level: Level) -> Option<u8> {
    match level {
        Level::National => Some(0),
        Level::Province => Some(1),
        Level::Prefecture => Some(2),
        Level::County => Some(3),
        Level::ReviewDepartment | Level::InspectionBody => None,
    }
}

/// The prefix of every review department's code (`RD0001`).
pub const REVIEW_DEPARTMENT_PREFIX: &str = "RD";
/// The prefix of every inspection body's code (`IB0001`).
pub const INSPECTION_BODY_PREFIX: &str = "IB";

/// The level a node code names: a bureau's by its division, a review department's or
/// inspection body's by its prefix. This is how a node that receives a relayed change learns
/// its author's level (the actor id carries only the code); certificates are issued only to
/// codes that name their level this way (`licnode_pki::names::check_node`).
pub fn level_of_code(code: &str) -> Option<Level> {
    if let Some(division) = divisions::lookup(code) {
        return Some(Level::for_division(division.level));
    }
    let level = if code.starts_with(REVIEW_DEPARTMENT_PREFIX) {
        Level::ReviewDepartment
    } else if code.starts_with(INSPECTION_BODY_PREFIX) {
        Level::InspectionBody
    } else {
        return None;
    };
    let node = NodeRef::new(code, level);
    node_problem(&node).is_none().then_some(level)
}

/// Why `node` cannot be a node of its level, if it cannot.
pub(super) fn node_problem(node: &NodeRef) -> Option<String> {
    if node.level.is_territorial() {
        let Some(division) = divisions::lookup(&node.code) else {
            return Some("not a GB/T 2260 division code".to_owned());
        };
        let division_level = Level::for_division(division.level);
        (division_level != node.level).then(|| format!("{} is a {division_level}", division.name))
    } else if node.code.is_empty()
        || node.code.len() > NON_DIVISION_CODE_MAX_CHARS
        || !node
            .code
            .bytes()
            .all(|byte| byte.is_ascii_uppercase() || byte.is_ascii_digit() || byte == b'-')
        || node.code.bytes().all(|byte| byte.is_ascii_digit())
    {
        Some(format!(
            "its code must be 1 to {NON_DIVISION_CODE_MAX_CHARS} ASCII capital letters, digits \
             or '-', not all digits like a division code (e.g. RD0001)"
        ))
    } else {
        let prefix = match node.level {
            Level::ReviewDepartment => REVIEW_DEPARTMENT_PREFIX,
            _ => INSPECTION_BODY_PREFIX,
        };
        (!node.code.starts_with(prefix))
            .then(|| format!("a {}'s code starts with {prefix}", node.level))
    }
}

pub(super) fn check_node(node: &NodeRef, role: NodeRole) -> Result<(), DenyReason> {
    match node_problem(node) {
        None => Ok(()),
        Some(problem) => Err(DenyReason::InvalidNode {
            role,
            node: node.code.clone(),
            level: node.level,
            problem,
        }),
    }
}

/// Why `parent` cannot be the parent of `child`, if it cannot. Both are valid nodes.
pub(super) fn link_problem(parent: &NodeRef, child: &NodeRef) -> Option<&'static str> {
    if depth(parent.level).is_none() {
        return Some("review departments and inspection bodies have no children");
    }
    if depth(child.level).is_none() {
        return (parent.level != Level::National).then_some(
            "review departments and inspection bodies are registered with the national node",
        );
    }
    let strictly_within =
        child.code != parent.code && divisions::is_within(&child.code, &parent.code);
    (!strictly_within).then_some("a child's division must lie within its parent's")
}

/// Where `jurisdiction` lies relative to `node` (see [`Relation`]).
pub fn relation(node: &NodeRef, jurisdiction: &str) -> Relation {
    if !node.level.is_territorial()
        || divisions::lookup(&node.code).is_none()
        || divisions::lookup(jurisdiction).is_none()
    {
        return Relation::Unrelated;
    }
    if jurisdiction == node.code {
        Relation::Own
    } else if divisions::is_within(jurisdiction, &node.code) {
        Relation::Descendant
    } else if divisions::is_within(&node.code, jurisdiction) {
        Relation::Ancestor
    } else {
        let parent_code = |code: &str| divisions::parent(code).map(|parent| parent.code.as_str());
        if parent_code(jurisdiction) == parent_code(&node.code) {
            Relation::Sibling
        } else {
            Relation::Unrelated
        }
    }
}

/// Whether `author` lies on the child's side of the edge above `child`: `child` itself or, for a
/// bureau, any node within its division.
pub(super) fn on_child_side(author: &NodeRef, child: &NodeRef) -> bool {
    if child.level.is_territorial() {
        author.level.is_territorial() && divisions::is_within(&author.code, &child.code)
    } else {
        author == child
    }
}

/// Whether `node` lies within `territory_holder`'s division (review departments and inspection
/// bodies lie only within the national node's).
pub(super) fn lies_within(node: &NodeRef, territory_holder: &NodeRef) -> bool {
    if !territory_holder.level.is_territorial() {
        return false;
    }
    if node.level.is_territorial() {
        divisions::is_within(&node.code, &territory_holder.code)
    } else {
        territory_holder.level == Level::National
    }
}
