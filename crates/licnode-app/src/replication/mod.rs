//! The replication engine: the one place where the protocol between a child and its parent
//! lives — hello, cursors, push, pull, long-poll, arrival checks, quarantine, acknowledgement,
//! recovery — written once, for every transport (ARCHITECTURE.md, "Replication").
//!
//! In the spirit of automerge's sync state machine, the engine never moves bytes itself. The
//! parent's half ([`parent`]) answers each message of a child; the child's half ([`child`])
//! drives a session through a [`Transport`], which carries each message to the parent and its
//! answer back: mutual-TLS HTTP in the node (`licnode-server` serves, the binary dials), the
//! offline bundle (a file carried by hand), and [`transport::InMemory`] for tests and
//! simulations. No transport contains protocol logic.
//!
//! Invariants, each kept in one function here:
//! - **A cursor never passes what was stored**: a batch's changes, its quarantined changes and
//!   the cursor it moves are written in one transaction ([`receive::store_batch`]); a batch
//!   that was not committed left nothing behind, and a child moves its pull cursor only with
//!   the batch it names.
//! - **A change is applied at most once**: changes held already are skipped by hash, so a
//!   repeated, late or re-ordered batch is harmless; a cursor moves backwards only on an
//!   explicit restart after a divergence.
//! - **A refused change is always quarantined**, with its reason and an audit entry (Art. 37),
//!   never applied and never dropped silently: refused by the authority rules on arrival
//!   ([`receive::check_arrival`]), malformed, refused by its document or the model, or waiting
//!   for a dependency (applied later by [`licnode_store::Store::retry_waiting`]).
//! - **A parent serves only its direct children**, and sends a child only what the authority
//!   table sends it, never what came from it ([`parent::admit_child`], [`parent::pull`]).

pub mod child;
pub mod error;
pub mod parent;
pub mod receive;
mod state;
pub mod transport;

pub use child::{SessionReport, Watched, run_session, watch_parent};
pub use error::{SyncError, TransportError};
pub use receive::{ReceivedBatch, check_arrival, store_batch};
pub use transport::Transport;
