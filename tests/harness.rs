//! Harness for end-to-end tests: real nodes (their own directory, configuration and database)
//! serving real HTTP on loopback port 0. It is `licnode::testing`, re-exported here under the
//! names these tests use.

pub use licnode::testing::{BACKENDS, Backend, TestNode, spawn_node};
