-- 0006: row-level security on every tenant table, as a second line of defence.
-- depends: 0005_rollups
-- sql-checksum: e58bca84c869374e1f38c24fc81047ff48c71c753f331fd2c5a3c9947af75986
--
-- The first line is in the functions: every read function resolves the
-- caller's project itself (analytics._resolve_project) and passes it into its
-- queries as a value, which also holds on Citus, where settings do not reach
-- the workers. The group roles get no table privileges except
-- analytics_admin's SELECT. Should a DBA grant a reader SELECT on a table
-- anyway, these policies still show it only its own project's rows: the
-- project of its JWT claim (request.jwt.claims ->> 'project_id') or of the
-- setting analytics.project_id. The functions run as the tables' owner and
-- are not subject to the policies.

DO $policies$
DECLARE
  v_table   text;
  -- The caller's project, as analytics._claimed_project_id() reads it
  -- (spelled out: policies are created before the functions).
  v_claimed text := $$coalesce(nullif(pg_catalog.current_setting('request.jwt.claims', true), '')::jsonb ->> 'project_id',
                                 nullif(pg_catalog.current_setting('analytics.project_id', true), ''))$$;
BEGIN
  FOREACH v_table IN ARRAY ARRAY[
    'events', 'rejected_events', 'users', 'sessions', 'dirty_buckets', 'project_settings',
    'rollup_hourly', 'rollup_hourly_totals', 'rollup_hourly_properties', 'rollup_daily', 'rollup_daily_totals',
    'rollup_daily_users', 'session_hours', 'experiment_session_hours', 'experiment_sessions', 'rollup_experiments']
  LOOP
    EXECUTE pg_catalog.format('ALTER TABLE analytics.%I ENABLE ROW LEVEL SECURITY', v_table);
    EXECUTE pg_catalog.format(
      'CREATE POLICY tenant_isolation ON analytics.%I TO analytics_reader, analytics_ingest '
      'USING (project_id = %s) WITH CHECK (project_id = %s)', v_table, v_claimed, v_claimed);
    EXECUTE pg_catalog.format('CREATE POLICY admin_all ON analytics.%I TO analytics_admin USING (true) WITH CHECK (true)',
                              v_table);
  END LOOP;
END
$policies$;
