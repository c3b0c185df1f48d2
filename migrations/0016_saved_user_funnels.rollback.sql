-- Roll back 0016: funnels are saved by session only. Funnels saved by user
-- go with their walks; the older checkout's sql/ brings back save_funnel()
-- without count_by.
DROP FUNCTION IF EXISTS analytics.save_funnel(text, text[], interval, text, text);
DROP FUNCTION IF EXISTS analytics._funnel_from_saved_users(integer, text, text, text[], text[], timestamptz, timestamptz, interval);
DROP FUNCTION IF EXISTS analytics._merge_funnel_users(text[], timestamptz[], text[], text[], timestamptz[]);
DROP FUNCTION IF EXISTS analytics._write_funnel_user_walks(text, text, text[], timestamptz[], timestamptz[]);
DROP FUNCTION IF EXISTS analytics._funnel_follow_users(integer, text, text[], text[], timestamptz, interval, text[], timestamptz[]);
DROP FUNCTION IF EXISTS analytics._check_count_by(text);
DROP FUNCTION IF EXISTS analytics._funnel_probe_users(text, text, text, timestamptz, timestamptz, integer[], text[], timestamptz[], timestamptz[]);
DROP TABLE analytics.funnel_users;
DELETE FROM analytics.funnels WHERE count_by = 'user';
ALTER TABLE analytics.funnels
  DROP CONSTRAINT funnels_project_id_steps_within_count_by_key,
  ADD CONSTRAINT funnels_project_id_steps_within_key UNIQUE (project_id, steps, within),
  DROP COLUMN count_by;
