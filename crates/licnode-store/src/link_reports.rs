//! The state of the network's links as the nodes below report it (issue 12 item 7; migration
//! 0012): each node hands its parent the state of its own links with every session, together
//! with what its own subtree reported, so the national node holds the newest report of every
//! link of the tree. One row per (node, peer), keeping the newest report; `report_key` orders
//! arrival and is what a node relays after.

use serde::{Deserialize, Serialize};
use sqlx::Row;

use crate::dialect::{with_reader, with_writer};
use crate::{Store, StoreError};

/// Which end of the link the peer is, seen from the reporting node.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LinkDirection {
    /// The peer is the reporting node's parent.
    Parent,
    /// The peer is one of the reporting node's children.
    Child,
}

impl LinkDirection {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            LinkDirection::Parent => "parent",
            LinkDirection::Child => "child",
        }
    }

    fn parse(text: &str) -> LinkDirection {
        if text == "parent" {
            LinkDirection::Parent
        } else {
            LinkDirection::Child
        }
    }
}

/// One link as one of its ends saw it when it reported. Counts are `None` where that end
/// cannot know them (a parent does not see its child's failed sessions).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkReport {
    /// The node whose link this is.
    pub node: String,
    /// The node at the other end.
    pub peer: String,
    pub direction: LinkDirection,
    /// When the last session over the link succeeded.
    pub last_success_ms: Option<i64>,
    /// Changes of the child's log its parent had not acknowledged.
    pub lag_up: Option<i64>,
    /// Changes of the parent's log not yet at the child (for a parent link: pulled in the last
    /// session, as `GET /api/v1/sync/status` counts it).
    pub lag_down: Option<i64>,
    /// Failed sessions in a row, as the child's sync loop last counted them.
    pub consecutive_failures: Option<i64>,
    /// Changes received over the link and quarantined by the reporting node.
    pub quarantined: Option<i64>,
    /// Parent link: the last number of the node's log the parent acknowledged.
    pub acknowledged: Option<i64>,
    /// Parent link: the last number of the parent's log the node stored (its pull cursor).
    pub pulled: Option<i64>,
    /// When the reporting node made the report (its clock).
    pub reported_at_ms: i64,
}

/// A report as this node holds it: who handed it here and when.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeldLinkReport {
    #[serde(flatten)]
    pub report: LinkReport,
    /// The child that handed it to this node.
    pub received_from: String,
    pub received_at_ms: i64,
    /// Arrival order here: the relay cursor.
    pub report_key: i64,
}

const COLUMNS: &str = "node, peer, direction, last_success_ms, lag_up, lag_down, \
     consecutive_failures, quarantined, acknowledged, pulled, reported_at_ms, received_from, \
     received_at_ms, report_key";

fn held_report<R: Row>(row: &R) -> Result<HeldLinkReport, StoreError>
where
    usize: sqlx::ColumnIndex<R>,
    i64: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    Option<i64>: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    String: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    let direction: String = row.try_get(2)?;
    Ok(HeldLinkReport {
        report: LinkReport {
            node: row.try_get(0)?,
            peer: row.try_get(1)?,
            direction: LinkDirection::parse(&direction),
            last_success_ms: row.try_get(3)?,
            lag_up: row.try_get(4)?,
            lag_down: row.try_get(5)?,
            consecutive_failures: row.try_get(6)?,
            quarantined: row.try_get(7)?,
            acknowledged: row.try_get(8)?,
            pulled: row.try_get(9)?,
            reported_at_ms: row.try_get(10)?,
        },
        received_from: row.try_get(11)?,
        received_at_ms: row.try_get(12)?,
        report_key: row.try_get(13)?,
    })
}

/// Storing reports inside one write transaction, on either database.
trait LinkReportTx {
    /// Takes `count` arrival numbers; returns the first.
    async fn take_report_keys(&mut self, count: i64) -> Result<i64, StoreError>;
    /// Keeps `report` unless a newer report of the same link is held; true when stored.
    async fn keep_newest(
        &mut self,
        report: &LinkReport,
        received_from: &str,
        received_at_ms: i64,
        report_key: i64,
    ) -> Result<bool, StoreError>;
}

crate::dialect::impl_for_each_transaction!(LinkReportTx {
    async fn take_report_keys(&mut self, count: i64) -> Result<i64, StoreError> {
        let last: i64 = sqlx::query_scalar(
            "UPDATE node_counters SET value = value + $1 WHERE name = 'link_report_key' \
             RETURNING value",
        )
        .bind(count)
        .fetch_one(&mut **self)
        .await?;
        Ok(last - count + 1)
    }

    async fn keep_newest(
        &mut self,
        report: &LinkReport,
        received_from: &str,
        received_at_ms: i64,
        report_key: i64,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "INSERT INTO link_reports (node, peer, direction, last_success_ms, lag_up, lag_down, \
               consecutive_failures, quarantined, acknowledged, pulled, reported_at_ms, \
               received_from, received_at_ms, report_key) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) \
             ON CONFLICT (node, peer) DO UPDATE SET direction = excluded.direction, \
               last_success_ms = excluded.last_success_ms, lag_up = excluded.lag_up, \
               lag_down = excluded.lag_down, consecutive_failures = excluded.consecutive_failures, \
               quarantined = excluded.quarantined, acknowledged = excluded.acknowledged, \
               pulled = excluded.pulled, reported_at_ms = excluded.reported_at_ms, \
               received_from = excluded.received_from, received_at_ms = excluded.received_at_ms, \
               report_key = excluded.report_key \
             WHERE link_reports.reported_at_ms <= excluded.reported_at_ms",
        )
        .bind(&report.node)
        .bind(&report.peer)
        .bind(report.direction.as_str())
        .bind(report.last_success_ms)
        .bind(report.lag_up)
        .bind(report.lag_down)
        .bind(report.consecutive_failures)
        .bind(report.quarantined)
        .bind(report.acknowledged)
        .bind(report.pulled)
        .bind(report.reported_at_ms)
        .bind(received_from)
        .bind(received_at_ms)
        .bind(report_key)
        .execute(&mut **self)
        .await?;
        Ok(done.rows_affected() > 0)
    }
});

impl Store {
    /// Keeps each of `reports` (handed here by `received_from` at `received_at_ms`) unless a
    /// newer report of the same link is held, in one transaction; returns how many were kept.
    pub async fn record_link_reports(
        &self,
        reports: &[LinkReport],
        received_from: &str,
        received_at_ms: i64,
    ) -> Result<usize, StoreError> {
        if reports.is_empty() {
            return Ok(0);
        }
        let count = i64::try_from(reports.len()).unwrap_or(i64::MAX);
        with_writer!(&self.db, |pool| {
            let mut tx = pool.begin().await?;
            let first = tx.take_report_keys(count).await?;
            let mut kept = 0;
            for (offset, report) in (0_i64..).zip(reports) {
                if tx
                    .keep_newest(report, received_from, received_at_ms, first + offset)
                    .await?
                {
                    kept += 1;
                }
            }
            tx.commit().await?;
            Ok(kept)
        })
    }

    /// The reports that arrived after `after_key`, in arrival order, at most `limit`: what a
    /// node relays to its parent.
    pub async fn link_reports_after(
        &self,
        after_key: i64,
        limit: i64,
    ) -> Result<Vec<HeldLinkReport>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM link_reports WHERE report_key > $1 ORDER BY report_key{}",
            crate::dialect::limit(limit)
        );
        with_reader!(&self.db, |pool| {
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(after_key)
                .fetch_all(pool)
                .await?;
            rows.iter().map(held_report).collect()
        })
    }

    /// What this node's children reported of their link to it (`node` = the child, `peer` =
    /// `this_node`).
    pub async fn link_reports_of_children(
        &self,
        this_node: &str,
    ) -> Result<Vec<HeldLinkReport>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM link_reports WHERE peer = $1 AND direction = 'parent' \
             ORDER BY node"
        );
        with_reader!(&self.db, |pool| {
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(this_node)
                .fetch_all(pool)
                .await?;
            rows.iter().map(held_report).collect()
        })
    }

    /// A page of every report held, the links in trouble first: never succeeded or not since
    /// `stale_before_ms`, then with failures, then the oldest success first.
    pub async fn link_reports_troubled_first(
        &self,
        stale_before_ms: i64,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<HeldLinkReport>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM link_reports ORDER BY \
             CASE WHEN last_success_ms IS NULL OR last_success_ms < $1 THEN 0 ELSE 1 END, \
             CASE WHEN COALESCE(consecutive_failures, 0) > 0 THEN 0 ELSE 1 END, \
             last_success_ms, node, peer LIMIT $2 OFFSET $3"
        );
        with_reader!(&self.db, |pool| {
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(stale_before_ms)
                .bind(limit)
                .bind(offset)
                .fetch_all(pool)
                .await?;
            rows.iter().map(held_report).collect()
        })
    }

    /// How many link reports this node holds.
    pub async fn link_report_count(&self) -> Result<i64, StoreError> {
        Ok(with_reader!(&self.db, |pool| sqlx::query_scalar(
            "SELECT COUNT(*) FROM link_reports"
        )
        .fetch_one(pool)
        .await?))
    }

    /// The children whose changes this node stored, with the position of their log it holds
    /// and when that last moved: (child, seq, updated_at_ms).
    pub async fn pushing_children(&self) -> Result<Vec<(String, i64, i64)>, StoreError> {
        Ok(with_reader!(&self.db, |pool| sqlx::query_as(
            "SELECT peer, seq, updated_at_ms FROM sync_cursors WHERE stream = $1 ORDER BY peer"
        )
        .bind(crate::SyncStream::Push.as_str())
        .fetch_all(pool)
        .await?))
    }

    /// How many received changes sit in quarantine, per neighbour they came from.
    pub async fn quarantine_counts_by_peer(&self) -> Result<Vec<(String, i64)>, StoreError> {
        Ok(with_reader!(&self.db, |pool| sqlx::query_as(
            "SELECT peer, COUNT(*) FROM quarantine GROUP BY peer ORDER BY peer"
        )
        .fetch_all(pool)
        .await?))
    }

    /// Every cursor of `stream`, by peer: (peer, seq).
    pub async fn sync_cursors_of_stream(
        &self,
        stream: crate::SyncStream,
    ) -> Result<Vec<(String, i64)>, StoreError> {
        Ok(with_reader!(&self.db, |pool| sqlx::query_as(
            "SELECT peer, seq FROM sync_cursors WHERE stream = $1 ORDER BY peer"
        )
        .bind(stream.as_str())
        .fetch_all(pool)
        .await?))
    }

    /// What this node's report of its link to `parent` carries, read in one statement (every
    /// session's end asks it): the sync loop's saved state of the link (`None` before it saved
    /// one), the changes received from `parent` that sit in quarantine, and this node's pull
    /// cursor of `parent`'s log.
    pub async fn parent_link_figures(
        &self,
        parent: &str,
    ) -> Result<(Option<serde_json::Value>, i64, i64), StoreError> {
        let sql = "SELECT (SELECT state FROM link_state WHERE peer = 'parent'), \
                   (SELECT COUNT(*) FROM quarantine WHERE peer = $1), \
                   COALESCE((SELECT seq FROM sync_cursors WHERE peer = $1 AND stream = $2), 0)";
        let (state, quarantined, pulled): (Option<String>, i64, i64) =
            with_reader!(&self.db, |pool| sqlx::query_as(sql)
                .bind(parent)
                .bind(crate::SyncStream::Pull.as_str())
                .fetch_one(pool)
                .await?);
        let state =
            state.map(|state| serde_json::from_str(&state).unwrap_or(serde_json::Value::Null));
        Ok((state, quarantined, pulled))
    }

    /// How many changes received from `peer` sit in quarantine.
    pub async fn quarantine_count_from(&self, peer: &str) -> Result<i64, StoreError> {
        Ok(with_reader!(&self.db, |pool| sqlx::query_scalar(
            "SELECT COUNT(*) FROM quarantine WHERE peer = $1"
        )
        .bind(peer)
        .fetch_one(pool)
        .await?))
    }
}
