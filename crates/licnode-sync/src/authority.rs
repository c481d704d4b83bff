//! Who may author what, for which jurisdictions, and where it may flow: the authority table
//! (`table.rs`, one row per collection citing its articles) and [`decide`], the one function
//! every replication path asks.
//!
//! ## The tree
//!
//! Bureaus are identified by GB/T 2260 division codes (national `100000`, province `330000`,
//! prefecture `330100`, county `330106`) and sit where the division tree puts them; a link joins
//! a division to one of its ancestors (normally its parent; an intermediate bureau that runs no
//! node may be skipped). Review departments and inspection bodies have codes of their own
//! (`RD0001`, `IB0001`: the prefix names the kind, see [`level_of_code`]), no territory, and
//! hang under the national node.
//!
//! ## Both questions are one
//!
//! A change crosses a link from a *sender* to a *receiver*. "May I send it this record?"
//! (`Flow::Send`: sender = this node) and "may this peer send me this change?"
//! (`Flow::Receive`: sender = the peer) are the same question asked at the two ends, so
//! `decide(a, b, link, Send, …)` equals `decide(b, a, link.reversed(), Receive, …)` for every
//! input: a node never sends what its neighbour would quarantine. The checks, in order:
//!
//! 1. the collection, the three nodes, the link and the jurisdiction are well formed
//!    (`unknown_collection`, `invalid_node`, `invalid_link`, `unknown_jurisdiction`);
//! 2. the collection leaves the node at all (`collection_is_local`) and flows this way along the
//!    link — up from child to parent, or down from parent to child (`wrong_direction`). An `Up`
//!    collection comes back down only to bureaus that may write it for their own territory, so
//!    that every node keeping a record receives every edit of it;
//! 3. the change's author lies on the sender's side of the link: the child's side is the child
//!    and its subtree, the parent's side everything else. A neighbour relays only what its side
//!    made, so a child cannot pass off another subtree's change, and nothing echoes back
//!    (`author_not_on_sender_side`);
//! 4. the author's level may write the collection (`author_not_allowed`) for this jurisdiction
//!    (`outside_jurisdiction`);
//! 5. the record concerns the receiver (`not_addressed_to_peer`): going up, the parent's
//!    territory holds the jurisdiction; going down, an `Up` collection reaches the nodes whose
//!    territory holds the record, a `Down` collection every node below
//!    its author, a `Both` collection only the nodes on the addressed division's path and in its
//!    subtree, no deeper than the row allows. A child never receives a sibling's records.

mod table;

use std::fmt;

use licnode_model::divisions::{self, NATIONAL_CODE};
use licnode_model::{Direction, Level};
use serde::{Deserialize, Serialize};

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

/// For which jurisdictions an author of a given level may write a collection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// The author's own division and everything below it: a county its own code, a prefecture
    /// or province its subtree, the national node everything.
    Territory,
    /// Any jurisdiction: review departments and inspection bodies serve enterprises anywhere
    /// for the products assigned to them (Art. 7–9, 21–23, 25).
    Nationwide,
}

/// Which way a collection's records replicate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Route {
    /// Reported towards the national node. Edits made above come back down only to the bureaus
    /// that keep the record: those whose territory holds it and whose level may write it.
    Up,
    /// Copied down to every node below its author; never sent up.
    Down,
    /// Up towards the national node, and down to the nodes on the path to the addressed division
    /// (the record's jurisdiction) and in its subtree — but not to nodes deeper than
    /// `deepest_receiver`, and never to a review department or inspection body.
    Both {
        /// The deepest level the record is sent down to.
        deepest_receiver: Level,
    },
    /// Never leaves the node.
    Local,
}

impl Route {
    /// The model's name for this route.
    pub fn direction(self) -> Direction {
        match self {
            Route::Up => Direction::Up,
            Route::Down => Direction::Down,
            Route::Both { .. } => Direction::Both,
            Route::Local => Direction::Local,
        }
    }

    fn flows(self, movement: Movement) -> bool {
        matches!(
            (self, movement),
            (Route::Up | Route::Both { .. }, Movement::Up)
                | (Route::Down | Route::Both { .. }, Movement::Down)
        )
    }
}

impl fmt::Display for Route {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Route::Up => formatter.write_str("up only"),
            Route::Down => formatter.write_str("down only"),
            Route::Both { deepest_receiver } => write!(
                formatter,
                "up, and down into the addressed division no deeper than {deepest_receiver}"
            ),
            Route::Local => formatter.write_str("nowhere"),
        }
    }
}

/// One level or kind that may author a collection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Author {
    /// The author's level or kind.
    pub level: Level,
    /// For which jurisdictions.
    pub scope: Scope,
    /// The articles that give it this authority.
    pub articles: &'static [u16],
}

/// One row of the authority table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Rule {
    /// The collection's name, as in `licnode_model::collections()`.
    pub collection: &'static str,
    /// Who may author it, and for which jurisdictions.
    pub authors: &'static [Author],
    /// Which way it replicates.
    pub route: Route,
    /// The articles the route comes from.
    pub route_articles: &'static [u16],
}

impl Rule {
    /// The authority of `level` over this collection, if it has any.
    pub fn author(&self, level: Level) -> Option<&'static Author> {
        self.authors.iter().find(|author| author.level == level)
    }
}

/// The whole authority table, one row per collection, in the model's order.
pub fn rules() -> &'static [Rule] {
    &table::RULES
}

/// The row of the collection called `collection`.
pub fn rule(collection: &str) -> Option<&'static Rule> {
    table::RULES
        .iter()
        .find(|rule| rule.collection == collection)
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

/// The answer of [`decide`].
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

// ---------------------------------------------------------------------------------------------
// The tree.

/// Depth of a bureau level in the tree; `None` for review departments and inspection bodies.
fn depth(level: Level) -> Option<u8> {
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
fn node_problem(node: &NodeRef) -> Option<String> {
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

fn check_node(node: &NodeRef, role: NodeRole) -> Result<(), DenyReason> {
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
fn link_problem(parent: &NodeRef, child: &NodeRef) -> Option<&'static str> {
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
fn on_child_side(author: &NodeRef, child: &NodeRef) -> bool {
    if child.level.is_territorial() {
        author.level.is_territorial() && divisions::is_within(&author.code, &child.code)
    } else {
        author == child
    }
}

/// Whether `node` lies within `territory_holder`'s division (review departments and inspection
/// bodies lie only within the national node's).
fn lies_within(node: &NodeRef, territory_holder: &NodeRef) -> bool {
    if !territory_holder.level.is_territorial() {
        return false;
    }
    if node.level.is_territorial() {
        divisions::is_within(&node.code, &territory_holder.code)
    } else {
        territory_holder.level == Level::National
    }
}

// ---------------------------------------------------------------------------------------------
// The questions.

/// May `author` write a record of `collection` for `jurisdiction`? The table's answer, used by
/// [`decide`] for every change that crosses a link, and fit for the local write path.
pub fn may_author(author: &NodeRef, collection: &str, jurisdiction: &str) -> Decision {
    let result = rule(collection)
        .ok_or_else(|| DenyReason::UnknownCollection {
            collection: collection.to_owned(),
        })
        .and_then(|rule| {
            check_node(author, NodeRole::Author)?;
            check_jurisdiction(jurisdiction)?;
            check_authority(rule, author, jurisdiction)
        });
    into_decision(result)
}

fn check_jurisdiction(jurisdiction: &str) -> Result<(), DenyReason> {
    match divisions::lookup(jurisdiction) {
        Some(_) => Ok(()),
        None => Err(DenyReason::UnknownJurisdiction {
            jurisdiction: jurisdiction.to_owned(),
        }),
    }
}

fn check_authority(rule: &Rule, author: &NodeRef, jurisdiction: &str) -> Result<(), DenyReason> {
    let Some(authority) = rule.author(author.level) else {
        return Err(DenyReason::AuthorNotAllowed {
            collection: rule.collection.to_owned(),
            author: author.code.clone(),
            author_level: author.level,
        });
    };
    let covered = match authority.scope {
        Scope::Territory => divisions::is_within(jurisdiction, &author.code),
        Scope::Nationwide => true,
    };
    if covered {
        Ok(())
    } else {
        Err(DenyReason::OutsideJurisdiction {
            collection: rule.collection.to_owned(),
            author: author.code.clone(),
            author_level: author.level,
            jurisdiction: jurisdiction.to_owned(),
        })
    }
}

fn into_decision(result: Result<(), DenyReason>) -> Decision {
    match result {
        Ok(()) => Decision::Allow,
        Err(reason) => Decision::Deny { reason },
    }
}

/// The two ends of a link, oriented.
struct Edge<'a> {
    parent: &'a NodeRef,
    child: &'a NodeRef,
    sender: &'a NodeRef,
    receiver: &'a NodeRef,
    movement: Movement,
}

/// Orients the link between two valid nodes, or says why they cannot be parent and child.
fn edge<'a>(
    local: &'a NodeRef,
    peer: &'a NodeRef,
    link: Link,
    flow: Flow,
) -> Result<Edge<'a>, DenyReason> {
    let (parent, child) = match link {
        Link::Parent => (peer, local),
        Link::Child => (local, peer),
    };
    if let Some(problem) = link_problem(parent, child) {
        return Err(DenyReason::InvalidLink {
            parent: parent.to_string(),
            child: child.to_string(),
            problem: problem.to_owned(),
        });
    }
    let (sender, receiver) = match flow {
        Flow::Send => (local, peer),
        Flow::Receive => (peer, local),
    };
    let movement = if sender == child {
        Movement::Up
    } else {
        Movement::Down
    };
    Ok(Edge {
        parent,
        child,
        sender,
        receiver,
        movement,
    })
}

/// May a change of `collection`, made by `author` on a record of `record_jurisdiction`, cross
/// the link between this node (`local`) and `peer`?
///
/// `link` says which side of the edge the peer is on; `flow` whether the peer sends to this node
/// (`Receive`: check it on arrival, quarantine it when denied) or this node sends to the peer
/// (`Send`: what to ship). Sending and receiving are the same question asked at the two ends
/// (see the module documentation for the checks and their order).
pub fn decide(
    local: &NodeRef,
    peer: &NodeRef,
    link: Link,
    flow: Flow,
    collection: &str,
    record_jurisdiction: &str,
    author: &NodeRef,
) -> Decision {
    into_decision(check(
        local,
        peer,
        link,
        flow,
        collection,
        record_jurisdiction,
        author,
    ))
}

fn check(
    local: &NodeRef,
    peer: &NodeRef,
    link: Link,
    flow: Flow,
    collection: &str,
    jurisdiction: &str,
    author: &NodeRef,
) -> Result<(), DenyReason> {
    let rule = rule(collection).ok_or_else(|| DenyReason::UnknownCollection {
        collection: collection.to_owned(),
    })?;
    let (sender, receiver) = match flow {
        Flow::Send => (local, peer),
        Flow::Receive => (peer, local),
    };
    check_node(sender, NodeRole::Sender)?;
    check_node(receiver, NodeRole::Receiver)?;
    check_node(author, NodeRole::Author)?;
    let edge = edge(local, peer, link, flow)?;
    check_jurisdiction(jurisdiction)?;

    if rule.route == Route::Local {
        return Err(DenyReason::CollectionIsLocal {
            collection: rule.collection.to_owned(),
        });
    }
    if !flows(rule, &edge) {
        return Err(DenyReason::WrongDirection {
            collection: rule.collection.to_owned(),
            route: rule.route.to_string(),
            movement: edge.movement,
            sender: edge.sender.to_string(),
            receiver: edge.receiver.to_string(),
        });
    }

    let author_on_child_side = on_child_side(author, edge.child);
    let author_on_sender_side = match edge.movement {
        Movement::Up => author_on_child_side,
        Movement::Down => !author_on_child_side,
    };
    if !author_on_sender_side {
        return Err(DenyReason::AuthorNotOnSenderSide {
            author: author.to_string(),
            sender: edge.sender.to_string(),
            receiver: edge.receiver.to_string(),
        });
    }

    check_authority(rule, author, jurisdiction)?;

    match addressing_problem(rule, &edge, author, jurisdiction) {
        None => Ok(()),
        Some(problem) => Err(DenyReason::NotAddressedToPeer {
            collection: rule.collection.to_owned(),
            jurisdiction: jurisdiction.to_owned(),
            receiver: edge.receiver.to_string(),
            rule: problem,
        }),
    }
}

/// Whether `rule`'s collection flows along `edge` at all. An up-going collection comes back down
/// only to the nodes that may write it themselves (for their own territory): the nodes on the
/// way up keep one record together, so an edit a province makes to a county's application
/// reaches that county and the two copies converge (ARCHITECTURE.md, principle 4). Whether this record
/// concerns this receiver is the addressing check's question.
fn flows(rule: &Rule, edge: &Edge<'_>) -> bool {
    match (rule.route, edge.movement) {
        (Route::Up, Movement::Down) => keeps_up_records(rule, edge.receiver),
        (route, movement) => route.flows(movement),
    }
}

/// Whether `receiver` keeps records of an up-going collection that nodes above it edit: a
/// bureau whose level may author the collection for its own territory.
fn keeps_up_records(rule: &Rule, receiver: &NodeRef) -> bool {
    receiver.level.is_territorial()
        && rule
            .author(receiver.level)
            .is_some_and(|author| author.scope == Scope::Territory)
}

/// Why the record does not concern the receiver, if it does not.
fn addressing_problem(
    rule: &Rule,
    edge: &Edge<'_>,
    author: &NodeRef,
    jurisdiction: &str,
) -> Option<String> {
    let receiver = edge.receiver;
    match (edge.movement, rule.route) {
        // Up: the parent holds what lies in its territory (the national node: everything).
        (Movement::Up, _) => {
            let held = edge.parent.level == Level::National
                || divisions::is_within(jurisdiction, &edge.parent.code);
            (!held).then(|| format!("it lies outside {}'s territory", edge.parent.code))
        }
        // Down: every node below the author (Art. 32).
        (Movement::Down, Route::Down) => (!lies_within(receiver, author)).then(|| {
            format!(
                "it goes down only to the nodes below its author {}",
                author.code
            )
        }),
        // Both: the path to the addressed division and its subtree, down to a depth.
        (Movement::Down, Route::Both { deepest_receiver }) => {
            let addressed = matches!(
                relation(receiver, jurisdiction),
                Relation::Own | Relation::Descendant | Relation::Ancestor
            );
            if !addressed {
                return Some(format!(
                    "it goes down only towards and into the addressed division {jurisdiction}"
                ));
            }
            let too_deep = match (depth(receiver.level), depth(deepest_receiver)) {
                (Some(receiver_depth), Some(deepest)) => receiver_depth > deepest,
                _ => true,
            };
            too_deep.then(|| {
                format!(
                    "{} goes down no further than {deepest_receiver} level",
                    rule.collection
                )
            })
        }
        // Up, coming back down: only a bureau's edit (a review department's or inspection
        // body's files go to the national node only, Art. 21–23), and only into the node whose
        // territory holds the record.
        (Movement::Down, Route::Up) => {
            let addressed =
                author.level.is_territorial() && divisions::is_within(jurisdiction, &receiver.code);
            (!addressed).then(|| {
                format!(
                    "{} comes down only from a bureau above, to the nodes whose territory holds it",
                    rule.collection
                )
            })
        }
        (Movement::Down, Route::Local) => Some(format!("{} does not go down", rule.collection)),
    }
}

/// The collections whose changes may cross this link in this flow: what a change-log query for
/// the link should ask for. Every change [`decide`] allows on the link is of one of these; a
/// change of one of these may still be denied for its jurisdiction or author. Empty when the
/// nodes or the link are malformed.
pub fn collections_for(
    local: &NodeRef,
    peer: &NodeRef,
    link: Link,
    flow: Flow,
) -> Vec<&'static str> {
    if node_problem(local).is_some() || node_problem(peer).is_some() {
        return Vec::new();
    }
    let Ok(edge) = edge(local, peer, link, flow) else {
        return Vec::new();
    };
    rules()
        .iter()
        .filter(|rule| could_cross(rule, &edge))
        .map(|rule| rule.collection)
        .collect()
}

/// Whether some change of `rule`'s collection could cross `edge`: the route flows that way, some
/// author level could stand on the sender's side, and the receiver could be addressed.
fn could_cross(rule: &Rule, edge: &Edge<'_>) -> bool {
    if !flows(rule, edge) {
        return false;
    }
    match edge.movement {
        // Up: an author within the child's side: the child's level or, for a bureau, deeper.
        Movement::Up => {
            rule.authors.iter().any(
                |author| match (depth(edge.child.level), depth(author.level)) {
                    (Some(child_depth), Some(author_depth)) => author_depth >= child_depth,
                    (None, _) => author.level == edge.child.level,
                    (Some(_), None) => false,
                },
            )
        }
        // Down: an author above the receiver (an ancestor, for a review department or inspection
        // body the national node), or for `Both` one with no territory that addresses it.
        Movement::Down => {
            let receiver_depth = depth(edge.receiver.level);
            let above_receiver = |author: &Author| match depth(author.level) {
                Some(author_depth) => author_depth < receiver_depth.unwrap_or(1),
                None => false,
            };
            match rule.route {
                Route::Down => rule.authors.iter().any(above_receiver),
                Route::Both { deepest_receiver } => {
                    let deep_enough = match (receiver_depth, depth(deepest_receiver)) {
                        (Some(receiver_depth), Some(deepest)) => receiver_depth <= deepest,
                        _ => false,
                    };
                    deep_enough
                        && rule.authors.iter().any(|author| {
                            above_receiver(author) || author.scope == Scope::Nationwide
                        })
                }
                Route::Up => rule.authors.iter().any(above_receiver),
                Route::Local => false,
            }
        }
    }
}

#[cfg(test)]
mod tests;
