-- Roll back 0017: the per-user index of 0012 comes back in the database's
-- collation; the older checkout's sql/ brings back the probes that use it.
DROP INDEX analytics.events_project_user_key_time_c_idx;
CREATE INDEX events_project_user_key_time_idx
  ON analytics.events (project_id, user_id, event_type, name, occurred_at)
  WHERE user_id IS NOT NULL;
