-- analytics.job_status: one row per pgpkg job, from its schedule setting and
-- the runs recorded by analytics.run_job().
CREATE OR REPLACE VIEW analytics.job_status AS
WITH jobs AS (
  SELECT pg_catalog.substr(s.key, 10) AS job_name, s.value AS schedule
    FROM analytics.settings s
   WHERE s.key LIKE 'schedule.%'
)
SELECT j.job_name,
       j.schedule,
       last_run.started_at  AS last_run_at,
       last_run.status      AS last_status,
       last_ok.finished_at  AS last_success_at,
       last_failed.started_at AS last_error_at,
       last_failed.error    AS last_error,
       coalesce(day.runs, 0)     AS runs_24h,
       coalesce(day.failures, 0) AS failures_24h
  FROM jobs j
  LEFT JOIN LATERAL (
    SELECT r.started_at, r.status FROM analytics.job_runs r
     WHERE r.job_name = j.job_name ORDER BY r.started_at DESC LIMIT 1) last_run ON true
  LEFT JOIN LATERAL (
    SELECT r.finished_at FROM analytics.job_runs r
     WHERE r.job_name = j.job_name AND r.status = 'succeeded' ORDER BY r.started_at DESC LIMIT 1) last_ok ON true
  LEFT JOIN LATERAL (
    SELECT r.started_at, r.error FROM analytics.job_runs r
     WHERE r.job_name = j.job_name AND r.status = 'failed' ORDER BY r.started_at DESC LIMIT 1) last_failed ON true
  LEFT JOIN LATERAL (
    SELECT pg_catalog.count(*) AS runs, pg_catalog.count(*) FILTER (WHERE r.status = 'failed') AS failures
      FROM analytics.job_runs r
     WHERE r.job_name = j.job_name AND r.started_at > pg_catalog.now() - interval '24 hours') day ON true;

COMMENT ON VIEW analytics.job_status IS
  'Per pgpkg job: schedule, last run and its status, last success, last error, runs and failures in the last 24 hours.';
