//! What carries the protocol's messages between a child and its parent. A transport moves a
//! message and its answer and nothing else: the engine decides what to send and what an answer
//! means. The node's transport is mutual-TLS HTTP (`licnode-server` answers, the binary
//! dials); [`InMemory`] calls a parent in the same process, for tests and simulations.

use std::future::Future;

use licnode_sync::NodeRef;
use licnode_sync::protocol::{
    CURSOR_PATH, CursorResponse, HELLO_PATH, PULL_PATH, PUSH_PATH, PullRequest, PullResponse,
    PushRequest, PushResponse, RECOVER_PATH,
};

use super::{SyncError, TransportError, parent};
use crate::Archive;

/// The messages a child sends its parent, each with its answer.
pub trait Transport: Send {
    /// Who the parent is, as the transport verified it (a certificate, for HTTP).
    fn hello(&mut self) -> impl Future<Output = Result<NodeRef, TransportError>> + Send;
    /// What the parent stored of the child's log ([`parent::cursor`]).
    fn cursor(&mut self) -> impl Future<Output = Result<CursorResponse, TransportError>> + Send;
    /// A batch of the child's changes ([`parent::push`]).
    fn push(
        &mut self,
        request: &PushRequest,
    ) -> impl Future<Output = Result<PushResponse, TransportError>> + Send;
    /// The parent's changes after a cursor, perhaps waiting for some ([`parent::pull`]).
    fn pull(
        &mut self,
        request: &PullRequest,
    ) -> impl Future<Output = Result<PullResponse, TransportError>> + Send;
    /// The changes the parent stored from the child ([`parent::recover`]).
    fn recover(
        &mut self,
        request: &PullRequest,
    ) -> impl Future<Output = Result<PullResponse, TransportError>> + Send;
}

/// A parent in the same process: each message is answered by the parent's half of the engine
/// directly, after the same admission check the HTTP endpoints make, and refusals come back as
/// their stable codes — exactly as over HTTP.
#[derive(Clone)]
pub struct InMemory {
    pub parent: Archive,
    /// The child, as its certificate would name it.
    pub child: NodeRef,
}

impl InMemory {
    async fn admitted<R>(
        &self,
        doing: &str,
        answer: impl Future<Output = Result<R, SyncError>>,
    ) -> Result<R, TransportError> {
        parent::admit_child(&self.parent, &self.child, doing)
            .await
            .map_err(SyncError::into_transport)?;
        answer.await.map_err(SyncError::into_transport)
    }
}

impl Transport for InMemory {
    async fn hello(&mut self) -> Result<NodeRef, TransportError> {
        self.admitted(HELLO_PATH, async { Ok(self.parent.scope.node_ref()) })
            .await
    }

    async fn cursor(&mut self) -> Result<CursorResponse, TransportError> {
        self.admitted(CURSOR_PATH, parent::cursor(&self.parent, &self.child))
            .await
    }

    async fn push(&mut self, request: &PushRequest) -> Result<PushResponse, TransportError> {
        self.admitted(
            PUSH_PATH,
            parent::push(&self.parent, &self.child, request.clone()),
        )
        .await
    }

    async fn pull(&mut self, request: &PullRequest) -> Result<PullResponse, TransportError> {
        self.admitted(
            PULL_PATH,
            parent::pull(&self.parent, &self.child, request.clone()),
        )
        .await
    }

    async fn recover(&mut self, request: &PullRequest) -> Result<PullResponse, TransportError> {
        self.admitted(
            RECOVER_PATH,
            parent::recover(&self.parent, &self.child, request.clone()),
        )
        .await
    }
}
