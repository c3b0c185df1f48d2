-- Roll back 0007: the plain index of 0004 returns.
CREATE INDEX sessions_project_first_seen_idx ON analytics.sessions (project_id, first_seen);
DROP INDEX analytics.sessions_project_first_seen_visits_idx;
