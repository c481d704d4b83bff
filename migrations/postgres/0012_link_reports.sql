-- The state of the network's links as the nodes below report it (issue 12 item 7).
-- Migrations are never edited once landed: add a new file.

-- Every replication session, a child hands its parent the state of its own links — to its
-- parent and to each of its children — together with the reports it received from its own
-- subtree, so that the national node sees every link of the tree. One row per (node, peer):
-- the newest report of that link, as `node` saw it. `direction` says which end `peer` is
-- (`parent`: the node's parent; `child`: one of its children). Counts are NULL where the
-- reporting node cannot know them. `report_key` orders arrival and is the relay cursor.
CREATE TABLE link_reports (
    node                 TEXT NOT NULL,
    peer                 TEXT NOT NULL,
    direction            TEXT NOT NULL,
    last_success_ms      BIGINT,
    lag_up               BIGINT,
    lag_down             BIGINT,
    consecutive_failures BIGINT,
    quarantined          BIGINT,
    acknowledged         BIGINT,
    pulled               BIGINT,
    reported_at_ms       BIGINT NOT NULL,
    received_from        TEXT NOT NULL,
    received_at_ms       BIGINT NOT NULL,
    report_key           BIGINT NOT NULL,
    PRIMARY KEY (node, peer)
);
CREATE INDEX link_reports_by_key ON link_reports (report_key);
CREATE INDEX link_reports_by_peer ON link_reports (peer, direction);
CREATE INDEX link_reports_by_success ON link_reports (last_success_ms);

INSERT INTO node_counters (name, value) VALUES ('link_report_key', 0);
