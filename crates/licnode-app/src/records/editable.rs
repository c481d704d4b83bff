//! Whether a node may edit a record it holds: the same authority as for creating it, and no
//! edit of a copy whose author would never receive the edit (Art. 25, 32) or of a submitted
//! report (Art. 18–20).

use licnode_model::Collection;
use serde_json::{Map, Value};

use super::author::is_submitted_report;
use super::{Archive, ArchiveError, StoredRecord};

impl Archive {
    /// The same authority as for creating a record: a node edits only what it may write, for
    /// jurisdictions it may write for.
    pub(crate) fn require_authority_over(
        &self,
        current: &StoredRecord,
    ) -> Result<(), ArchiveError> {
        let decision = licnode_sync::may_author(
            &self.scope.node_ref(),
            &current.collection,
            &current.jurisdiction,
        );
        match decision {
            licnode_sync::Decision::Allow => Ok(()),
            licnode_sync::Decision::Deny { reason } => Err(ArchiveError::NotAuthorised(reason)),
        }
    }

    /// Refuses an edit of a copy of a record another node authors and that flows down
    /// (Art. 32), of a review department's or inspection body's record that the edit would
    /// never reach (`licnode_sync::edit_reaches_creator`: a department's notice, Art. 25), and
    /// of a submitted report, frozen for every role (Art. 18–20).
    pub(crate) fn require_editable(
        &self,
        model: &Collection,
        id: &str,
        jurisdiction: &str,
        creator: Option<String>,
        stored: &Map<String, Value>,
    ) -> Result<(), ArchiveError> {
        let flows_down = licnode_sync::rule(model.name)
            .is_some_and(|rule| rule.route == licnode_sync::authority::Route::Down);
        let unreachable_creator = creator.as_deref().is_some_and(|creator| {
            licnode_sync::level_of_code(creator).is_some_and(|level| {
                !licnode_sync::edit_reaches_creator(
                    &self.scope.node_ref(),
                    &licnode_sync::NodeRef::new(creator, level),
                    model.name,
                    jurisdiction,
                )
            })
        });
        let read_only = flows_down || unreachable_creator;
        if read_only
            && let Some(creator) = creator
            && creator != self.scope.node_code
        {
            return Err(ArchiveError::ReadOnlyCopy {
                id: id.to_string(),
                collection: model.name.to_string(),
                creator,
            });
        }
        if is_submitted_report(model.name, stored) {
            return Err(ArchiveError::ReportSubmitted(id.to_string()));
        }
        Ok(())
    }
}
