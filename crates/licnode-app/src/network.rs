//! The network as this node sees it (issue 12 items 4 and 7): the state of its own links and of
//! every link its subtree reported up with replication, and where a record has travelled —
//! which of this node's parent and children acknowledged its newest change.
//!
//! A child reports, every session, its link to its parent (as the session and its sync loop
//! know it) and its links to each of its children (as this end knows them: when each last
//! completed a session here, what it reported of its lag, what this node quarantined of it),
//! and relays what its subtree reported. The parent accepts a report only from a direct child
//! and only about links inside that child's subtree ([`Archive::receive_link_reports`]).

use std::collections::{BTreeMap, BTreeSet};

use licnode_model::divisions;
use licnode_store::SyncStream;
use licnode_store::link_reports::{HeldLinkReport, LinkDirection, LinkReport};
use licnode_store::{StoreError, StoredRecord};
use licnode_sync::authority::level_of_code;
use licnode_sync::protocol::author_ref;
use licnode_sync::{Flow, Link, NodeRef, decide, direct_child_problem};
use serde::Serialize;
use serde_json::Value;

use crate::records::Archive;

/// Most link reports one relay request carries.
pub const MAX_LINK_REPORT_BATCH: usize = 500;

/// A link that has not completed a session for this long is stale (sessions run every minute
/// by default, and shortly after every write).
pub const STALE_AFTER_MS: i64 = 60 * 60 * 1000;

/// Link reports shown per page.
pub const LINKS_PER_PAGE: i64 = 100;

/// Refusals of a relay of link reports, each with a stable code.
#[derive(Debug, thiserror::Error)]
pub enum LinkReportError {
    #[error("a relay carries at most {MAX_LINK_REPORT_BATCH} link reports, not {0}")]
    TooMany(usize),
    #[error("{0}")]
    OutsideSubtree(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl LinkReportError {
    pub fn code(&self) -> &'static str {
        match self {
            LinkReportError::TooMany(_) => "bad_batch",
            LinkReportError::OutsideSubtree(_) => "link_report_outside_subtree",
            LinkReportError::Store(_) => "internal",
        }
    }
}

/// What a session that reached its end knows of the link to the parent.
#[derive(Clone, Debug)]
pub struct SessionLink {
    /// The parent's code, as its certificate names it.
    pub parent: String,
    /// The last number of this node's log the parent acknowledged.
    pub acknowledged: i64,
    /// Changes pulled in this session.
    pub pulled_this_session: i64,
}

/// The links a page shows: this node's own, and a page of those reported from below, the
/// troubled first.
#[derive(Clone, Debug, Serialize)]
pub struct NetworkLinks {
    pub own: Vec<LinkReport>,
    pub reported: Vec<HeldLinkReport>,
    pub reported_total: i64,
    /// Links whose last success is before this are stale.
    pub stale_before_ms: i64,
    pub page: i64,
    pub per_page: i64,
}

/// Whether `report` needs attention: never succeeded, stale, or failing.
pub fn link_is_troubled(report: &LinkReport, stale_before_ms: i64) -> bool {
    report
        .last_success_ms
        .is_none_or(|success| success < stale_before_ms)
        || report.consecutive_failures.unwrap_or(0) > 0
}

/// How far a record's newest change got to one neighbour.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TravelState {
    /// The neighbour acknowledged it (its cursor is at or past the change).
    Acknowledged,
    /// It goes there and has not been acknowledged yet (or this node does not know yet).
    Pending,
    /// It came from that neighbour.
    CameFromThere,
    /// The authority table does not send it there.
    NotRouted,
}

/// One neighbour's standing for a record's newest change.
#[derive(Clone, Debug, Serialize)]
pub struct Travel {
    pub peer: String,
    pub direction: LinkDirection,
    pub state: TravelState,
}

fn node_of(code: &str) -> Option<NodeRef> {
    level_of_code(code).map(|level| NodeRef::new(code.to_string(), level))
}

fn number(state: &Value, field: &str) -> Option<i64> {
    state.get(field).and_then(Value::as_i64)
}

/// Why `report`, handed up by `child`, is about a link outside `child`'s subtree, if it is.
/// A report names a node of the child's subtree (the child itself or a node below it) and a
/// link of the tree (`licnode_sync::tree`): its parent end is this node (the child's own link
/// up) or a node of the child's subtree.
fn outside_subtree(local: &NodeRef, child: &NodeRef, report: &LinkReport) -> Option<String> {
    let in_subtree = |code: &str| {
        code == child.code
            || (child.level.is_territorial() && divisions::is_within(code, &child.code))
    };
    let (Some(node), Some(peer)) = (node_of(&report.node), node_of(&report.peer)) else {
        return Some(format!(
            "{} — {} names no node of the tree",
            report.node, report.peer
        ));
    };
    if !in_subtree(&node.code) {
        return Some(format!("{} does not lie in {}'s subtree", node.code, child));
    }
    let (upper, lower) = match report.direction {
        LinkDirection::Parent => (&peer, &node),
        LinkDirection::Child => (&node, &peer),
    };
    if let Some(problem) = direct_child_problem(upper, lower, &[]) {
        return Some(format!(
            "{} — {} is no link of the tree: {problem}",
            upper, lower
        ));
    }
    let own_link_up = upper.code == local.code && lower.code == child.code;
    if !own_link_up && !in_subtree(&upper.code) {
        return Some(format!(
            "the link {upper} — {lower} does not lie in {child}'s subtree"
        ));
    }
    None
}

impl Archive {
    /// The links this node hands its parent at the end of a session: its link up, as `session`
    /// and the sync loop's saved state know it, and its links to each child.
    pub async fn own_link_reports(
        &self,
        session: &SessionLink,
        now_ms: i64,
    ) -> Result<Vec<LinkReport>, StoreError> {
        let (saved, quarantined, pulled) = self.store.parent_link_figures(&session.parent).await?;
        let mut reports = vec![LinkReport {
            node: self.scope.node_code.clone(),
            peer: session.parent.clone(),
            direction: LinkDirection::Parent,
            last_success_ms: Some(now_ms),
            // A session reaches its end only once a read of the log found nothing more to push.
            lag_up: Some(0),
            lag_down: Some(session.pulled_this_session),
            // The failures before this session, as the sync loop counted them.
            consecutive_failures: Some(
                saved
                    .as_ref()
                    .and_then(|state| number(state, "consecutive_failures"))
                    .unwrap_or(0),
            ),
            quarantined: Some(quarantined),
            acknowledged: Some(session.acknowledged),
            pulled: Some(pulled),
            reported_at_ms: now_ms,
        }];
        reports.extend(self.child_link_reports(now_ms).await?);
        Ok(reports)
    }

    /// The sync loop's saved state of the link to the parent, if it has one.
    async fn saved_parent_state(&self) -> Result<Option<Value>, StoreError> {
        Ok(self
            .store
            .link_states()
            .await?
            .into_iter()
            .find(|(peer, _)| peer == "parent")
            .map(|(_, state)| state))
    }

    /// Changes of this node's log that go up and its parent has not acknowledged, counted now
    /// (at most [`crate::replication::child::LAG_COUNTED`]); `None` until the first session with
    /// the parent ended (the cursor it stores names the parent).
    pub async fn lag_up(&self) -> Result<Option<i64>, StoreError> {
        let acknowledged = self.store.sync_cursors_of_stream(SyncStream::Acked).await?;
        let Some((code, seq)) = acknowledged.into_iter().next() else {
            return Ok(None);
        };
        let Some(parent) = node_of(&code) else {
            return Ok(None);
        };
        crate::replication::child::lag_up(&self.store, &self.scope.node_ref(), &parent, seq)
            .await
            .map(Some)
    }

    /// The link to the parent as this node's sync loop last saved it, if it has a parent.
    pub async fn parent_link_report(&self) -> Result<Option<LinkReport>, StoreError> {
        let Some(state) = self.saved_parent_state().await? else {
            return Ok(None);
        };
        let acknowledged = self.store.sync_cursors_of_stream(SyncStream::Acked).await?;
        let Some((parent, _)) = acknowledged.into_iter().next() else {
            return Ok(None);
        };
        let acknowledged = number(&state, "acknowledged").unwrap_or(0);
        Ok(Some(LinkReport {
            node: self.scope.node_code.clone(),
            peer: parent.clone(),
            direction: LinkDirection::Parent,
            last_success_ms: number(&state, "last_success_ms"),
            lag_up: self.lag_up().await?,
            lag_down: number(&state, "pulled_last_session"),
            consecutive_failures: number(&state, "consecutive_failures"),
            quarantined: Some(self.store.quarantine_count_from(&parent).await?),
            acknowledged: Some(acknowledged),
            pulled: Some(self.store.sync_cursor(&parent, SyncStream::Pull).await?),
            reported_at_ms: licnode_store::now_ms(),
        }))
    }

    /// This node's links to its children, as this end knows them: when each child last
    /// completed a session here (its last report) or last pushed, the lag up it reported, the
    /// changes of this node's log after its pull cursor, what this node quarantined of it.
    pub async fn child_link_reports(&self, now_ms: i64) -> Result<Vec<LinkReport>, StoreError> {
        if !licnode_sync::may_have_children(self.scope.level) {
            // A leaf has no links below it: nothing to read at the end of every session.
            return Ok(Vec::new());
        }
        let store = &self.store;
        let own = &self.scope.node_code;
        let last_seq = store.last_seq().await?;
        let reported: BTreeMap<String, HeldLinkReport> = store
            .link_reports_of_children(own)
            .await?
            .into_iter()
            .map(|held| (held.report.node.clone(), held))
            .collect();
        let pushed: BTreeMap<String, i64> = store
            .pushing_children()
            .await?
            .into_iter()
            .map(|(child, _, updated_at_ms)| (child, updated_at_ms))
            .collect();
        let quarantined: BTreeMap<String, i64> = store
            .quarantine_counts_by_peer()
            .await?
            .into_iter()
            .collect();
        let children: BTreeSet<&String> = reported.keys().chain(pushed.keys()).collect();
        Ok(children
            .into_iter()
            .map(|child| {
                let report = reported.get(child);
                let last_success_ms = report
                    .map(|held| held.received_at_ms)
                    .or_else(|| pushed.get(child).copied());
                LinkReport {
                    node: own.clone(),
                    peer: child.clone(),
                    direction: LinkDirection::Child,
                    last_success_ms,
                    lag_up: report.and_then(|held| held.report.lag_up),
                    lag_down: report
                        .and_then(|held| held.report.pulled)
                        .map(|pulled| (last_seq - pulled).max(0)),
                    consecutive_failures: None,
                    quarantined: Some(quarantined.get(child).copied().unwrap_or(0)),
                    acknowledged: None,
                    pulled: None,
                    reported_at_ms: now_ms,
                }
            })
            .collect())
    }

    /// Keeps the link reports `child` handed up (its own and its subtree's), the newest of each
    /// link. Refused whole when it carries more than [`MAX_LINK_REPORT_BATCH`] or any report
    /// about a link outside the child's subtree. The caller has checked that `child` is a
    /// direct child of this node (`not_a_child` otherwise).
    pub async fn receive_link_reports(
        &self,
        child: &NodeRef,
        reports: &[LinkReport],
        now_ms: i64,
    ) -> Result<usize, LinkReportError> {
        if reports.len() > MAX_LINK_REPORT_BATCH {
            return Err(LinkReportError::TooMany(reports.len()));
        }
        let local = self.scope.node_ref();
        if let Some(problem) = reports
            .iter()
            .find_map(|report| outside_subtree(&local, child, report))
        {
            return Err(LinkReportError::OutsideSubtree(problem));
        }
        Ok(self
            .store
            .record_link_reports(reports, &child.code, now_ms)
            .await?)
    }

    /// Up to `limit` reports that arrived after what was last relayed to `parent`, in arrival
    /// order: what this node relays up. A leaf holds none (they come only from children).
    pub async fn link_reports_to_relay(
        &self,
        parent: &str,
        limit: i64,
    ) -> Result<Vec<HeldLinkReport>, StoreError> {
        if !licnode_sync::may_have_children(self.scope.level) {
            return Ok(Vec::new());
        }
        let cursor = self
            .store
            .sync_cursor(parent, SyncStream::LinksRelayed)
            .await?;
        self.store.link_reports_after(cursor, limit).await
    }

    /// This node's own links and page `page` (from 1) of those reported from below, the
    /// troubled first.
    pub async fn network_links(&self, now_ms: i64, page: i64) -> Result<NetworkLinks, StoreError> {
        let page = page.max(1);
        let stale_before_ms = now_ms - STALE_AFTER_MS;
        let mut own: Vec<LinkReport> = self.parent_link_report().await?.into_iter().collect();
        own.extend(self.child_link_reports(now_ms).await?);
        own.sort_by_key(|report| !link_is_troubled(report, stale_before_ms));
        let reported = self
            .store
            .link_reports_troubled_first(
                stale_before_ms,
                LINKS_PER_PAGE,
                (page - 1) * LINKS_PER_PAGE,
            )
            .await?;
        Ok(NetworkLinks {
            own,
            reported,
            reported_total: self.store.link_report_count().await?,
            stale_before_ms,
            page,
            per_page: LINKS_PER_PAGE,
        })
    }

    /// Which of this node's parent and children acknowledged `record`'s newest change: from
    /// the change log (where it came from, whether the authority table sends it there) and
    /// the stored cursors (what the parent acknowledged of this log; how far each child's pull
    /// cursor stood at its last report).
    pub async fn travel(&self, record: &StoredRecord) -> Result<Vec<Travel>, StoreError> {
        let store = &self.store;
        let newest = store
            .changes_after(record.last_seq - 1, None, 1)
            .await?
            .into_iter()
            .find(|row| row.seq == record.last_seq);
        let Some(change) = newest else {
            return Ok(Vec::new());
        };
        let local = self.scope.node_ref();
        let standing = |peer: &NodeRef, link: Link, cursor: Option<i64>| {
            if change.origin == peer.code {
                return TravelState::CameFromThere;
            }
            let routed = author_ref(&change.author_node, &local, peer).is_some_and(|author| {
                decide(
                    &local,
                    peer,
                    link,
                    Flow::Send,
                    &change.collection,
                    &change.jurisdiction,
                    &author,
                )
                .is_allowed()
            });
            match cursor {
                _ if !routed => TravelState::NotRouted,
                Some(cursor) if cursor >= change.seq => TravelState::Acknowledged,
                _ => TravelState::Pending,
            }
        };
        let mut travels = Vec::new();
        for (parent, acknowledged) in store.sync_cursors_of_stream(SyncStream::Acked).await? {
            if let Some(parent_ref) = node_of(&parent) {
                travels.push(Travel {
                    state: standing(&parent_ref, Link::Parent, Some(acknowledged)),
                    peer: parent,
                    direction: LinkDirection::Parent,
                });
            }
        }
        let pulled_by_child: BTreeMap<String, Option<i64>> = store
            .link_reports_of_children(&local.code)
            .await?
            .into_iter()
            .map(|held| (held.report.node, held.report.pulled))
            .collect();
        for child in self.child_link_reports(licnode_store::now_ms()).await? {
            let pulled = pulled_by_child.get(&child.peer).copied().flatten();
            if let Some(child_ref) = node_of(&child.peer) {
                travels.push(Travel {
                    state: standing(&child_ref, Link::Child, pulled),
                    peer: child.peer,
                    direction: LinkDirection::Child,
                });
            }
        }
        Ok(travels)
    }
}

#[cfg(test)]
mod tests {
    use licnode_model::Level;

    use super::*;

    fn report(node: &str, peer: &str, direction: LinkDirection) -> LinkReport {
        LinkReport {
            node: node.into(),
            peer: peer.into(),
            direction,
            last_success_ms: Some(1),
            lag_up: Some(0),
            lag_down: Some(0),
            consecutive_failures: Some(0),
            quarantined: Some(0),
            acknowledged: None,
            pulled: None,
            reported_at_ms: 1,
        }
    }

    #[test]
    fn a_province_reports_its_own_links_and_its_countys_but_no_other_provinces() {
        let national = NodeRef::national();
        let zhejiang = NodeRef::new("330000", Level::Province);
        let inside = [
            report("330000", "100000", LinkDirection::Parent),
            report("330000", "330106", LinkDirection::Child),
            report("330106", "330000", LinkDirection::Parent),
            report("330106", "330100", LinkDirection::Parent),
        ];
        for report in &inside {
            assert_eq!(outside_subtree(&national, &zhejiang, report), None);
        }
        let outside = [
            // Another province's links, and a link that is none of the tree's.
            report("320000", "100000", LinkDirection::Parent),
            report("320106", "320000", LinkDirection::Parent),
            report("330106", "100000", LinkDirection::Parent),
            report("330000", "320000", LinkDirection::Child),
            report("100000", "330000", LinkDirection::Child),
        ];
        for report in &outside {
            assert!(
                outside_subtree(&national, &zhejiang, report).is_some(),
                "{report:?}"
            );
        }
    }

    #[test]
    fn a_link_without_a_recent_success_or_with_failures_is_troubled() {
        let mut link = report("330106", "330000", LinkDirection::Parent);
        link.last_success_ms = Some(10_000);
        assert!(!link_is_troubled(&link, 5_000));
        assert!(link_is_troubled(&link, 20_000));
        link.consecutive_failures = Some(2);
        assert!(link_is_troubled(&link, 5_000));
        link.last_success_ms = None;
        link.consecutive_failures = None;
        assert!(link_is_troubled(&link, 5_000));
    }
}
