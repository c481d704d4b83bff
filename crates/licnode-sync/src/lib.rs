//! Routing and authority across the tree of agencies (ARCHITECTURE.md, principles 4 and 5).
//!
//! [`authority`] holds the one table of who may author each collection, for which
//! jurisdictions, and which way it flows, and the one function, [`authority::decide`], that every
//! replication path asks: "may this peer send me this change?" and "may I send it this record?".
//! It does no IO. The replication protocol and peer sessions will live beside it.

pub mod authority;
pub mod protocol;
pub mod tree;

pub use authority::{
    Author, Decision, DenyReason, Flow, Link, Movement, NodeRef, NodeRole, Relation, Route, Rule,
    Scope, addressed_body, collections_for, decide, edit_reaches_creator, level_of_code,
    may_author, relation, rule, rules,
};
pub use tree::{child_prefectures_problem, direct_child_problem, may_have_children};
