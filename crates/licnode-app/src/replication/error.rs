//! The engine's errors: what a parent refuses (each with the stable code the transports carry),
//! what a child finds wrong with its parent's answers, and the failures below.

use licnode_store::StoreError;

/// A failed exchange with the other end.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TransportError {
    /// The other end answered with a refusal and its stable code.
    #[error("{code}: {message}")]
    Refused { code: String, message: String },
    /// The other end could not be reached, did not answer in time, or answered something
    /// unreadable.
    #[error("{0}")]
    Failed(String),
}

/// Why a replication step failed.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// The peer is not a direct child of this node, or may exchange nothing with it (403).
    #[error("{reason}")]
    NotAChild {
        reason: String,
        /// The refused peer's code and level, when it presented a certificate.
        peer: Option<(String, String)>,
    },
    /// A batch that contradicts itself (400).
    #[error("{reason}")]
    BadBatch { reason: String },
    /// A push that starts past what this node stored of the child's log (409).
    #[error(
        "the batch follows {after}, but this node has stored the child's log up to {acknowledged}"
    )]
    CursorGap { after: i64, acknowledged: i64 },
    /// A pull whose cursor names a change this node's log does not hold there (409): the child
    /// pulls again from the start.
    #[error(
        "this node's log does not hold, at {after}, the change the cursor names (it ends at {last_seq})"
    )]
    PullCursorDiverged { after: i64, last_seq: i64 },
    /// The parent answered something the protocol does not allow.
    #[error("the parent broke the protocol: {0}")]
    Protocol(String),
    #[error(transparent)]
    Transport(#[from] TransportError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl SyncError {
    /// The stable code of a refusal a parent sends (the transports carry it), `None` for
    /// failures that are not the peer's doing.
    pub fn code(&self) -> Option<&'static str> {
        match self {
            SyncError::NotAChild { .. } => Some("not_a_child"),
            SyncError::BadBatch { .. } => Some("bad_batch"),
            SyncError::CursorGap { .. } => Some("cursor_gap"),
            SyncError::PullCursorDiverged { .. } => Some("pull_cursor_diverged"),
            SyncError::Protocol(_) | SyncError::Transport(_) | SyncError::Store(_) => None,
        }
    }

    /// The error as the other end of a transport receives it.
    pub fn into_transport(self) -> TransportError {
        match self.code() {
            Some(code) => TransportError::Refused {
                code: code.to_owned(),
                message: self.to_string(),
            },
            None => TransportError::Failed(self.to_string()),
        }
    }
}
