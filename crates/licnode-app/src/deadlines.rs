//! The deadlines service: the statutory time limits (`licnode_model::deadlines`) as they stand
//! at this node today, over the store's deadline queries. The rules are the model's; this is
//! the one door the API, the CLI and the metrics read them through.

use licnode_model::deadlines::DeadlineItem;
use licnode_store::{DeadlineQuery, StoreError};

use crate::clock::Clock;
use crate::records::Archive;

impl Archive {
    /// The query for every time limit that concerns this node as of `clock`'s today, with no
    /// filter yet.
    pub fn deadline_query(&self, clock: &dyn Clock) -> DeadlineQuery {
        DeadlineQuery::new(clock.today(), &self.scope.node_code, self.scope.level)
    }

    /// The time limits that `query` selects, as they stand on its `today`.
    pub async fn deadlines(&self, query: &DeadlineQuery) -> Result<Vec<DeadlineItem>, StoreError> {
        self.store.deadlines(query).await
    }
}
