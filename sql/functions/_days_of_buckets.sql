CREATE OR REPLACE FUNCTION analytics._days_of_buckets(projects text[], buckets timestamptz[])
RETURNS TABLE (project_id text, day date)
LANGUAGE sql
STABLE
SET search_path = pg_catalog, pg_temp
AS $function$
/*
Contract: the days, in each project's time zone (setting time_zone), that
  the given UTC hour buckets overlap: one or two per bucket (an hour of a
  zone with a half-hour offset, such as Asia/Kolkata, straddles midnight).
Example: SELECT * FROM analytics._days_of_buckets(ARRAY['default'], ARRAY[now()]);
*/
  WITH zones AS (
    SELECT p.project_id, analytics._setting('time_zone', p.project_id) AS tz
      FROM (SELECT DISTINCT u.p AS project_id FROM unnest(projects) AS u(p)) p
  )
  SELECT DISTINCT b.p, d.day
    FROM unnest(projects, buckets) AS b(p, h)
    JOIN zones z ON z.project_id = b.p
   CROSS JOIN LATERAL (
     VALUES ((pg_catalog.date_trunc('hour', b.h, 'UTC') AT TIME ZONE z.tz)::date),
            (((pg_catalog.date_trunc('hour', b.h, 'UTC') + interval '1 hour' - interval '1 microsecond') AT TIME ZONE z.tz)::date)
   ) AS d(day)
   ORDER BY 1, 2
$function$;

COMMENT ON FUNCTION analytics._days_of_buckets(text[], timestamptz[]) IS
  'Internal: the (project, local day) pairs that UTC hour buckets overlap, in each project''s time zone.';
