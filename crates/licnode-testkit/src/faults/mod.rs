//! Faults for tests on real processes: the network between a child and its parent
//! ([`proxy::FaultProxy`]), and signals to a node's process ([`signals`]).

pub mod proxy;
pub mod signals;

pub use proxy::{Direction, FaultProxy, ProxyStatistics, TriggerAction};
