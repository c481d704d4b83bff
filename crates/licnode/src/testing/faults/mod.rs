//! The fault harness on real processes: a tree of `licnode serve` processes whose children dial
//! their parents through fault proxies (`tree`), clients that log every acknowledged write and
//! the checker that judges the tree against that log (`checker`), and the campaign that mixes
//! faults under a budget (`campaign`).

pub mod campaign;
pub mod checker;
pub mod tree;

pub use campaign::{Budget, CampaignReport, FaultKind, run_campaign};
pub use checker::{Verdict, WriteLog, check, converge_and_check, spawn_writers};
pub use tree::{FaultTree, TreeNode, TreeOptions};
