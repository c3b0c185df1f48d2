-- 0007: the read API's metrics() and funnel() (sql/functions), the index
-- that serves visit metrics, and quarter hour event counts.
-- depends: 0006_row_level_security
-- sql-checksum: 9f43a05d7e787fb1258b787103e1efe204741b3be4d10fe9e1cdfe3bf8d74d95
--
-- metrics() reads visits (analytics.sessions) by project and time of first
-- event, and needs only these columns: with them in the index the read is an
-- index-only scan, never a visit to the table's pages. It replaces the plain
-- (project_id, first_seen) index of 0004.

CREATE INDEX sessions_project_first_seen_visits_idx ON analytics.sessions (project_id, first_seen)
  INCLUDE (last_seen, event_count, user_id, session_id);
DROP INDEX analytics.sessions_project_first_seen_idx;

-- Events and pageviews per quarter of each rolled-up hour. Every time zone
-- in use today is offset from UTC by a multiple of 15 minutes, so a day or
-- hour of any zone (India: +05:30, Nepal: +05:45) starts on a quarter hour:
-- metrics() splits the UTC hours that a local boundary cuts with these
-- counts instead of reading their raw events. Rows rolled up before 0007 have
-- NULL here until their hour is recomputed; metrics() reads raw events for them.
ALTER TABLE analytics.rollup_hourly_totals
  ADD COLUMN quarter_events bigint[],
  ADD COLUMN quarter_pageviews bigint[];
COMMENT ON COLUMN analytics.rollup_hourly_totals.quarter_events IS
  'Events in minutes 0-14, 15-29, 30-44 and 45-59 of the hour (NULL: rolled up before 0007).';
COMMENT ON COLUMN analytics.rollup_hourly_totals.quarter_pageviews IS
  'Pageviews in minutes 0-14, 15-29, 30-44 and 45-59 of the hour (NULL: rolled up before 0007).';
