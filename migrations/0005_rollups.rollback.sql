-- Jobs first: pg_cron must not go on calling functions that are about to go.
DO $unschedule$
BEGIN
  IF pg_catalog.to_regprocedure('analytics.unschedule_jobs()') IS NOT NULL THEN
    PERFORM analytics.unschedule_jobs();
  END IF;
END
$unschedule$;
-- Views over these tables are repeatable objects (sql/views/); they go first.
DROP VIEW IF EXISTS analytics.job_status;
DROP VIEW IF EXISTS analytics.summary;
DROP VIEW IF EXISTS analytics.table_sizes;
DROP MATERIALIZED VIEW IF EXISTS analytics.experiment_variant_stats;
DELETE FROM analytics.settings WHERE key LIKE 'schedule.%' OR key = 'rollup_max_buckets';
DROP TABLE analytics.job_runs;
DROP TABLE analytics.rollup_experiments CASCADE;
DROP TABLE analytics.experiment_sessions;
DROP TABLE analytics.experiment_session_hours;
DROP TABLE analytics.session_hours;
DROP TABLE analytics.rollup_daily_users;
DROP TABLE analytics.rollup_daily_totals;
DROP TABLE analytics.rollup_daily;
DROP TABLE analytics.rollup_hourly_properties;
DROP TABLE analytics.rollup_hourly_totals;
DROP TABLE analytics.rollup_hourly;
