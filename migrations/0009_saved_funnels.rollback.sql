-- Roll back 0009: saved funnels and their rollups go; funnel() reads raw events again.
DROP FUNCTION IF EXISTS analytics.save_funnel(text, text[], interval, text);
DROP FUNCTION IF EXISTS analytics.drop_funnel(text, text);
DROP FUNCTION IF EXISTS analytics._merge_funnel_sessions(text[], text[]);
DROP FUNCTION IF EXISTS analytics._write_funnel_walks(text, text, text, text[]);
DROP FUNCTION IF EXISTS analytics._recompute_funnel_hours(text, text, timestamptz[]);
DROP TABLE analytics.rollup_hourly_funnel_steps;
DROP TABLE analytics.funnel_sessions;
DROP TABLE analytics.funnels;
