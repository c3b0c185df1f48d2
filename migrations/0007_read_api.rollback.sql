-- Roll back 0007: the plain index of 0004 returns, the quarter hour counts go.
ALTER TABLE analytics.rollup_hourly_totals DROP COLUMN quarter_events, DROP COLUMN quarter_pageviews;
CREATE INDEX sessions_project_first_seen_idx ON analytics.sessions (project_id, first_seen);
DROP INDEX analytics.sessions_project_first_seen_visits_idx;
