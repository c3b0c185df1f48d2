-- Roll back 0013: funnel() scans the range's sessions again. The function
-- that classes durations goes with the table; the older checkout's sql/
-- brings back the funnel() and rollup job that do not use them.
DROP FUNCTION IF EXISTS analytics._session_duration_bound(interval);
DROP TABLE analytics.rollup_hourly_paths;
