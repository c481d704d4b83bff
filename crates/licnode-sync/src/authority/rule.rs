//! What a row of the authority table says: who may author a collection ([`Author`], [`Scope`])
//! and which way its records replicate ([`Route`]).

use std::fmt;

use licnode_model::{Direction, Level};
use serde::Serialize;

use super::{Movement, table};

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
    /// The national division only: what a review department or inspection body keeps about
    /// itself under the national node, such as its requests to destroy archives (Art. 37, 38).
    /// Records of this scope also come back down from the national node to the bodies that may
    /// write them, so that the national node's decision reaches the requester.
    NationalDivision,
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
    /// `deepest_receiver`; to a review department or inspection body only what is addressed to
    /// it (`Rule::addressees`) and its own national-division records (`Scope::NationalDivision`).
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

    pub(super) fn flows(self, movement: Movement) -> bool {
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
    /// The kinds of body (review department, inspection body) a record of this collection may
    /// be addressed to instead of a division: its jurisdiction is then the body's code, it goes
    /// up to the national node and down to that body only (Art. 22: a province's site
    /// verification to the review department that summarises it; Art. 23: an inspection result
    /// to the review department that organised a national review). Empty for most collections.
    pub addressees: &'static [Level],
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
