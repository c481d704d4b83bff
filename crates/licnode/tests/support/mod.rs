//! Test support shared by the multi-node tests: the harness of `licnode::testing` (running the
//! `licnode` binary, issuing a tree's certificates with the CLI exactly as the README does,
//! nodes in-process or as processes), under the names these tests have always used.

pub use licnode::testing::*;
