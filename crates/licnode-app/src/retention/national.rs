//! Destruction at the national node (Art. 38): it has no superior, so its own requests are
//! decided by a second approver designated for that (`[retention] national_approvers`), never
//! by the staff member who made the request. The decision is recorded the same way as a
//! superior's: signed with the node key into the request's `approval`, with `approving_node`
//! and `approver`, and checked again before anything is destroyed.

use licnode_model::Level;
use licnode_store::StoredRecord;

use super::RetentionError;
use crate::records::Archive;

impl Archive {
    /// This archive with the staff designated to approve the national node's own destructions.
    pub fn with_destruction_approvers(mut self, approvers: Vec<String>) -> Archive {
        self.scope.destruction_approvers = approvers;
        self
    }

    /// True when `request` is this national node's own request (it asks no superior).
    pub(super) fn is_own_national_request(&self, request: &StoredRecord) -> bool {
        self.scope.level == Level::National
            && request.jurisdiction == self.scope.node_code
            && request.data.get("requesting_node").and_then(|v| v.as_str())
                == Some(self.scope.node_code.as_str())
    }

    /// Refuses an approver who is not designated, or who made the request (`requester`: the
    /// user of the request's first change).
    pub(super) fn require_second_approver(
        &self,
        approver: &str,
        requester: Option<&str>,
    ) -> Result<(), RetentionError> {
        if !self
            .scope
            .destruction_approvers
            .iter()
            .any(|designated| designated == approver)
        {
            return Err(RetentionError::NotADesignatedApprover {
                user: approver.to_owned(),
            });
        }
        if requester == Some(approver) {
            return Err(RetentionError::ApproverIsRequester {
                user: approver.to_owned(),
            });
        }
        Ok(())
    }
}
