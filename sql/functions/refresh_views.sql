CREATE OR REPLACE FUNCTION analytics.refresh_views()
RETURNS jsonb
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $function$
/*
Contract: refresh every materialized view of the analytics schema,
  CONCURRENTLY (readers are never blocked; each view has a unique index),
  views that read other views after them. The views are defined over the
  rollup tables, never over raw events, so a refresh costs milliseconds
  whatever the size of analytics.events.
Returns: {"views": [{"view", "seconds"}], "rows": number of views refreshed}
Security: SECURITY DEFINER; EXECUTE for analytics_admin.
Example: SELECT analytics.refresh_views();  -- pg_cron: every 5 minutes (analytics-refresh-views)
*/
DECLARE
  v_view    record;
  v_started timestamptz;
  v_report  jsonb := '[]';
BEGIN
  FOR v_view IN
    WITH RECURSIVE views AS (
      SELECT c.oid FROM pg_catalog.pg_class c
       WHERE c.relnamespace = 'analytics'::pg_catalog.regnamespace AND c.relkind = 'm'
    ), reads AS (
      SELECT DISTINCT r.ev_class AS view_oid, d.refobjid AS read_oid
        FROM pg_catalog.pg_rewrite r
        JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_rewrite'::pg_catalog.regclass AND d.objid = r.oid
       WHERE r.ev_class IN (SELECT oid FROM views) AND d.refobjid IN (SELECT oid FROM views)
         AND d.refobjid <> r.ev_class
    ), depth AS (
      SELECT v.oid, 0 AS level FROM views v
      UNION ALL
      SELECT rd.view_oid, depth.level + 1 FROM reads rd JOIN depth ON rd.read_oid = depth.oid
    )
    SELECT depth.oid::pg_catalog.regclass AS view_name
      FROM depth GROUP BY depth.oid ORDER BY pg_catalog.max(depth.level), depth.oid::pg_catalog.regclass::text
  LOOP
    v_started := pg_catalog.clock_timestamp();
    EXECUTE pg_catalog.format('REFRESH MATERIALIZED VIEW CONCURRENTLY %s', v_view.view_name);
    v_report := v_report || pg_catalog.jsonb_build_object(
      'view', v_view.view_name::text,
      'seconds', pg_catalog.round(extract(epoch FROM pg_catalog.clock_timestamp() - v_started)::numeric, 3));
  END LOOP;
  RETURN pg_catalog.jsonb_build_object('views', v_report, 'rows', pg_catalog.jsonb_array_length(v_report));
END
$function$;

COMMENT ON FUNCTION analytics.refresh_views() IS
  'Refresh every materialized view CONCURRENTLY, in dependency order.';
