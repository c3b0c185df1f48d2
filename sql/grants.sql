-- Privileges of pgpkg, declared once and re-applied after every install.
--
-- Functions are owned by the installing (login) role, never by the NOLOGIN
-- group roles: Citus connects to workers as a SECURITY DEFINER function's
-- owner. The group roles only receive grants. PUBLIC gets nothing.

-- Start from nothing, so that this file is the whole truth. Partitions of
-- analytics.events are left alone: privileges are checked on the parent.
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA analytics
  FROM PUBLIC, analytics_ingest, analytics_reader, analytics_admin;
DO $revoke$
DECLARE
  v_relation regclass;
BEGIN
  FOR v_relation IN
    SELECT c.oid::regclass FROM pg_catalog.pg_class c
     WHERE c.relnamespace = 'analytics'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm', 'S')
       AND NOT c.relispartition AND c.relacl IS NOT NULL
  LOOP
    EXECUTE pg_catalog.format('REVOKE ALL ON %s FROM PUBLIC, analytics_ingest, analytics_reader, analytics_admin',
                              v_relation);
  END LOOP;
END
$revoke$;

GRANT USAGE ON SCHEMA analytics TO analytics_ingest, analytics_reader, analytics_admin;

-- analytics_ingest: the ingest functions, and no table at all.
GRANT EXECUTE ON FUNCTION
  analytics.track_event(text, text, text, text, jsonb, timestamptz, uuid, text, text, double precision, text),
  analytics.track_events(json),
  analytics.ingest_documents(text[], text),
  analytics.identify(text, jsonb, text)
TO analytics_ingest;

-- analytics_reader: the read functions and the views over rollups.
-- Each resolves the caller's tenant itself (analytics._resolve_project).
GRANT EXECUTE ON FUNCTION
  analytics.hourly_rollups(integer, text, text),
  analytics.experiment_results(text, text, text, jsonb),
  analytics.recent_events(integer, integer, text, text, text, text),
  analytics.top(text, timestamptz, timestamptz, integer, text),
  analytics.metrics(timestamptz, timestamptz, text, text, text),
  analytics.funnel(text[], timestamptz, timestamptz, interval, text, text),
  analytics.realtime(integer, text),
  analytics.user_stats(date, date, text, integer, text),
  analytics.group_stats(date, date, text, text),
  analytics.daily_stats(date, date, text, text, integer, text)
TO analytics_reader, analytics_admin;
-- The views span every tenant (a view cannot resolve a JWT claim), so they
-- are for the admin only: summary, table_sizes, job_status and
-- experiment_variant_stats (readers use experiment_results()).

-- analytics_admin: maintenance, jobs, settings, and reading everything.
GRANT EXECUTE ON FUNCTION
  analytics.maintain_partitions(integer),
  analytics.create_partitions(date, date),
  analytics.status(),
  analytics.health(),
  analytics.refresh_rollups(integer),
  analytics.aggregate_analytics_daily(date),
  analytics.backfill_aggregates(date, date),
  analytics.save_funnel(text, text[], interval, text, text),
  analytics.drop_funnel(text, text),
  analytics.save_trait_rollup(text, text),
  analytics.drop_trait_rollup(text, text),
  analytics.cleanup_old_raw_events(integer),
  analytics.cleanup(),
  analytics.refresh_views(),
  analytics.run_job(text),
  analytics.schedule_jobs(),
  analytics.unschedule_jobs()
TO analytics_admin;
DO $admin_reads$
DECLARE
  v_relation regclass;
BEGIN
  FOR v_relation IN
    SELECT c.oid::regclass FROM pg_catalog.pg_class c
     WHERE c.relnamespace = 'analytics'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm')
       AND NOT c.relispartition
  LOOP
    EXECUTE pg_catalog.format('GRANT SELECT ON %s TO analytics_admin', v_relation);
  END LOOP;
END
$admin_reads$;
GRANT UPDATE (value) ON analytics.settings TO analytics_admin;
GRANT INSERT, UPDATE, DELETE ON analytics.project_settings TO analytics_admin;
