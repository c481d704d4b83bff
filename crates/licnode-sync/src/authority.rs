//! Who may author what, for which jurisdictions, and where it may flow: the authority table
//! (`table.rs`, one row per collection citing its articles) and [`decide`], the one function
//! every replication path asks.
//! The nodes it speaks of are in `nodes.rs`, what a row says in `rule.rs`, and the answers
//! with their deny reasons in `decision.rs`.
//!
//! ## The tree
//!
//! Bureaus are identified by GB/T 2260 division codes (national `100000`, province `330000`,
//! prefecture `330100`, county `330106`) and sit where the division tree puts them; a link joins
//! a division to one of its ancestors (normally its parent; an intermediate bureau that runs no
//! node may be skipped). Review departments and inspection bodies have codes of their own
//! (`RD0001`, `IB0001`: the prefix names the kind, see [`level_of_code`]), no territory, and
//! hang under the national node (they are registered with it, Art. 16, 17, 31).
//!
//! ## What reaches a review department or inspection body
//!
//! A body sends its files up to the national node (Art. 21–23, 25). What comes back down to it:
//! the registries and publications (`Route::Down`, Art. 32); the national node's decision on its
//! destruction requests (`Scope::NationalDivision`, Art. 38); and a record *addressed* to it —
//! whose jurisdiction is the body's code instead of a division — of a collection that lists the
//! body's kind in [`Rule::addressees`]: a province's site-verification results for the review
//! department that summarises them (Art. 22), an inspection body's results for the review
//! department that organised a national review (Art. 23). Nothing else reaches a body, so a
//! record a body made that goes down to bureaus (a review department's notice, Art. 25; an
//! inspection result for a provincial review, Art. 23) is edited only by that body:
//! [`edit_reaches_creator`] says so to the write path, and every node that holds a record
//! receives every later edit of it.
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
//!    (`unknown_collection`, `invalid_node`, `invalid_link`, `unknown_jurisdiction`: a division
//!    code, or a body's code where the collection may be addressed to such a body);
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
//!    subtree, no deeper than the row allows; a record addressed to a body only that body. A
//!    child never receives a sibling's records.

mod decision;
mod nodes;
mod rule;
mod table;

use licnode_model::Level;
use licnode_model::divisions;

pub use decision::{Decision, DenyReason, Flow, Movement, NodeRole};
pub use nodes::{
    INSPECTION_BODY_PREFIX, Link, NodeRef, REVIEW_DEPARTMENT_PREFIX, Relation, level_of_code,
    relation,
};
pub use rule::{Author, Route, Rule, Scope, rule, rules};

use nodes::{check_node, depth, lies_within, link_problem, node_problem, on_child_side};

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
            check_jurisdiction(rule, jurisdiction)?;
            check_authority(rule, author, jurisdiction)
        });
    into_decision(result)
}

/// The kind of body `jurisdiction` names when it is a review department's or inspection body's
/// code rather than a division: the record is addressed to that body (see [`Rule::addressees`]).
pub fn addressed_body(jurisdiction: &str) -> Option<Level> {
    level_of_code(jurisdiction).filter(|level| !level.is_territorial())
}

/// A jurisdiction is a division, or a body a record of `rule`'s collection may be addressed to.
fn check_jurisdiction(rule: &Rule, jurisdiction: &str) -> Result<(), DenyReason> {
    let addressable =
        addressed_body(jurisdiction).is_some_and(|level| rule.addressees.contains(&level));
    if divisions::lookup(jurisdiction).is_some() || addressable {
        Ok(())
    } else {
        Err(DenyReason::UnknownJurisdiction {
            jurisdiction: jurisdiction.to_owned(),
        })
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
    let covered = match (addressed_body(jurisdiction), authority.scope) {
        // Addressed to a body (the collection allows it: `check_jurisdiction`): any author that
        // writes for divisions may address it, but no body addresses a body of its own kind.
        (Some(level), Scope::Territory | Scope::Nationwide) => level != author.level,
        (Some(_), Scope::NationalDivision) => false,
        (None, Scope::Territory) => divisions::is_within(jurisdiction, &author.code),
        (None, Scope::Nationwide) => true,
        (None, Scope::NationalDivision) => jurisdiction == divisions::NATIONAL_CODE,
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
    check_jurisdiction(rule, jurisdiction)?;

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
        (Route::Up, Movement::Down) => {
            keeps_up_records(rule, edge.receiver) || rule.addressees.contains(&edge.receiver.level)
        }
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

/// Whether `receiver` (a review department or inspection body) writes records of `rule`'s
/// collection for the national division: such records come back down to it.
fn keeps_national_division_records(rule: &Rule, receiver: &NodeRef) -> bool {
    rule.author(receiver.level)
        .is_some_and(|author| author.scope == Scope::NationalDivision)
}

/// Why the record does not concern the receiver, if it does not.
fn addressing_problem(
    rule: &Rule,
    edge: &Edge<'_>,
    author: &NodeRef,
    jurisdiction: &str,
) -> Option<String> {
    let receiver = edge.receiver;
    // Addressed to a body (Art. 22, 23): up to the national node, then down to that body only.
    if edge.movement == Movement::Down && addressed_body(jurisdiction).is_some() {
        return (receiver.code != jurisdiction)
            .then(|| format!("it is addressed to {jurisdiction} and goes down to it only"));
    }
    match (edge.movement, rule.route) {
        // Up: the parent holds what lies in its territory (the national node: everything; a
        // record addressed to a body lies in no other node's territory).
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
        // Both, to a review department or inspection body: only the records of the national
        // division of a collection it writes for that division (its own destruction requests
        // coming back decided, Art. 38).
        (Movement::Down, Route::Both { .. }) if !receiver.level.is_territorial() => {
            let addressed = jurisdiction == divisions::NATIONAL_CODE
                && keeps_national_division_records(rule, receiver);
            (!addressed).then(|| {
                format!(
                    "{} goes down to {} only for the national division, when it writes them",
                    rule.collection, receiver.level
                )
            })
        }
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
            if rule.addressees.contains(&edge.receiver.level) {
                return true;
            }
            let receiver_depth = depth(edge.receiver.level);
            let above_receiver = |author: &Author| match depth(author.level) {
                Some(author_depth) => author_depth < receiver_depth.unwrap_or(1),
                None => false,
            };
            match rule.route {
                Route::Down => rule.authors.iter().any(above_receiver),
                Route::Both { .. } if !edge.receiver.level.is_territorial() => {
                    keeps_national_division_records(rule, edge.receiver)
                }
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

/// Whether an edit by `editor` of a record of `collection` for `jurisdiction` that `creator`
/// made reaches `creator`. A body hangs under the national node and receives only what the
/// table addresses to it, so an edit made elsewhere of a body's record reaches it only when the
/// national node would send it there; an edit that would not is refused by the write path
/// (`read_only_copy`), so the body's copy and every other copy stay equal: a review
/// department's notice (Art. 25) and an inspection body's results for a provincial review
/// (Art. 23) are edited by their author only, while the national node's decision on a body's
/// destruction request (Art. 38) is written into the request and goes back to the body. A
/// bureau's record reaches every bureau that may edit it (`Route::Up` comes back down to them,
/// `Route::Both` goes down into the addressed division), so for bureaus this is always true.
pub fn edit_reaches_creator(
    editor: &NodeRef,
    creator: &NodeRef,
    collection: &str,
    jurisdiction: &str,
) -> bool {
    if creator.level.is_territorial() || creator == editor {
        return true;
    }
    decide(
        &NodeRef::national(),
        creator,
        Link::Child,
        Flow::Send,
        collection,
        jurisdiction,
        editor,
    )
    .is_allowed()
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod bodies_tests;
