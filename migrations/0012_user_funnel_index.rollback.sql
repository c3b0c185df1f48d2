-- Roll back 0012: the per-user index of 0003 comes back; the functions that
-- follow users through the new one go with it, and the older checkout's sql/
-- brings back the funnel() that does not call them.
DROP FUNCTION IF EXISTS analytics._funnel_from_user_steps(integer, text, text[], text[], timestamptz, timestamptz,
                                                          interval, text[]);
DROP FUNCTION IF EXISTS analytics._funnel_user_candidates(text, timestamptz, timestamptz);
DROP INDEX analytics.events_project_user_key_time_idx;
CREATE INDEX events_project_user_type_idx
  ON analytics.events (project_id, user_id, event_type)
  WHERE user_id IS NOT NULL;
