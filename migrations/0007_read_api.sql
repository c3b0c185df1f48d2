-- 0007: the read API's metrics() and funnel() (sql/functions), and the index
-- that serves visit metrics.
-- depends: 0006_row_level_security
-- sql-checksum: 15a0466a0e810b96d23d4de203feb7beed0ea92a3f910cc5097f9656d3f4c471
--
-- metrics() reads visits (analytics.sessions) by project and time of first
-- event, and needs only these columns: with them in the index the read is an
-- index-only scan, never a visit to the table's pages. It replaces the plain
-- (project_id, first_seen) index of 0004.

CREATE INDEX sessions_project_first_seen_visits_idx ON analytics.sessions (project_id, first_seen)
  INCLUDE (last_seen, event_count, user_id, session_id);
DROP INDEX analytics.sessions_project_first_seen_idx;
