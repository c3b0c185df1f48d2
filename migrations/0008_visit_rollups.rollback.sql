-- Roll back 0008: the visit, entry and exit page, exposure and group rollups and the links
-- between visits go; 0007's index returns.
DROP TABLE analytics.rollup_hourly_exposures;
DROP TABLE analytics.rollup_hourly_entry_exit_pages;
DROP TABLE analytics.rollup_daily_groups;
DROP INDEX analytics.rollup_daily_users_project_user_idx;
ALTER TABLE analytics.users DROP COLUMN rolled_group;
DROP INDEX analytics.experiment_sessions_project_exposed_at_idx;
DROP TABLE analytics.rollup_hourly_visits;
CREATE INDEX sessions_project_first_seen_visits_idx ON analytics.sessions (project_id, first_seen)
  INCLUDE (last_seen, event_count, user_id, session_id);
DROP INDEX analytics.sessions_project_first_seen_linked_idx;
DROP INDEX analytics.sessions_project_previous_first_seen_idx;
DROP INDEX analytics.sessions_project_user_first_seen_idx;
ALTER TABLE analytics.sessions DROP COLUMN previous_first_seen;
