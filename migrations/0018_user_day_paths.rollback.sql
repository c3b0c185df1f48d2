-- Roll back 0018: the funnels counted by user probe every step again (the
-- older checkout's sql/).
DROP FUNCTION IF EXISTS analytics._recompute_days(text[], date[], text[], timestamptz[]);
DROP FUNCTION IF EXISTS analytics._recompute_user_paths(text[], date[], timestamptz[], timestamptz[], text[], timestamptz[]);
DROP FUNCTION IF EXISTS analytics._funnel_user_path_sql(integer);
DROP FUNCTION IF EXISTS analytics._funnel_user_candidates(text, timestamptz, timestamptz, text[]);
DROP FUNCTION IF EXISTS analytics._funnel_from_user_steps(integer, text, text[], text[], timestamptz, timestamptz, interval, text[], boolean);
ALTER TABLE analytics.rollup_daily_totals DROP COLUMN paths_span;
DROP TABLE analytics.rollup_daily_user_paths;
