//! The administration service: what administrators and auditors read about the node itself —
//! the audit log searched, the quarantine paged, the links to the children, the database's
//! size — and the API tokens of an account, listed (revoked in the accounts service). Which role may do each is
//! decided by the door (the JSON API's and the web application's one guard per rule), as for
//! the other account operations.

use licnode_store::administration::{
    ApiTokenInfo, AuditSearch, AuditSearchPage, ChildLink, QuarantinedChange,
};
use licnode_store::{AccountError, StoreError};

use crate::records::Archive;

impl Archive {
    /// The audit entries `search` selects, newest first, within a bounded window of numbers.
    pub async fn audit_search(&self, search: &AuditSearch) -> Result<AuditSearchPage, StoreError> {
        self.store.audit_search(search).await
    }

    /// Quarantined changes below `before_id`, newest first.
    pub async fn quarantine_page(
        &self,
        before_id: Option<i64>,
        limit: i64,
    ) -> Result<Vec<QuarantinedChange>, StoreError> {
        self.store.quarantine_page(before_id, limit).await
    }

    /// The neighbours that pushed to this node, with their cursors and quarantined changes.
    pub async fn child_links(&self) -> Result<Vec<ChildLink>, StoreError> {
        self.store.child_links().await
    }

    /// The bytes the database occupies.
    pub async fn database_size_bytes(&self) -> Result<i64, StoreError> {
        self.store.size_bytes().await
    }

    /// The API tokens of `user`, newest first.
    pub async fn api_tokens(&self, user: &str) -> Result<Vec<ApiTokenInfo>, AccountError> {
        self.store.api_tokens(user).await
    }
}
