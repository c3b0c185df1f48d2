-- Roll back 0018: the funnels counted by user probe every step again (the
-- older checkout's sql/).
ALTER TABLE analytics.rollup_daily_totals DROP COLUMN paths_span;
DROP TABLE analytics.rollup_daily_user_paths;
