DO $policies$
DECLARE
  v_table text;
BEGIN
  FOREACH v_table IN ARRAY ARRAY[
    'events', 'rejected_events', 'users', 'sessions', 'dirty_buckets', 'project_settings',
    'rollup_hourly', 'rollup_hourly_totals', 'rollup_hourly_properties', 'rollup_daily', 'rollup_daily_totals',
    'rollup_daily_users', 'session_hours', 'experiment_session_hours', 'experiment_sessions', 'rollup_experiments']
  LOOP
    EXECUTE pg_catalog.format('DROP POLICY IF EXISTS tenant_isolation ON analytics.%I', v_table);
    EXECUTE pg_catalog.format('DROP POLICY IF EXISTS admin_all ON analytics.%I', v_table);
    EXECUTE pg_catalog.format('ALTER TABLE analytics.%I DISABLE ROW LEVEL SECURITY', v_table);
  END LOOP;
END
$policies$;
