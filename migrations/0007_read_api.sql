-- 0007: the read API's metrics() and funnel() (sql/functions), and the index
-- that serves visit metrics.
-- depends: 0006_row_level_security
-- sql-checksum: 906ee2e2d9b09c4bc945cd1259e3239ad1f7040cef0367bc39728a5439425a99
--
-- metrics() reads visits (analytics.sessions) by project and time of first
-- event, and needs only these columns: with them in the index the read is an
-- index-only scan, never a visit to the table's pages. It replaces the plain
-- (project_id, first_seen) index of 0004.

CREATE INDEX sessions_project_first_seen_visits_idx ON analytics.sessions (project_id, first_seen)
  INCLUDE (last_seen, event_count, user_id, session_id);
DROP INDEX analytics.sessions_project_first_seen_idx;
