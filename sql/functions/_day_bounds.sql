CREATE OR REPLACE FUNCTION analytics._day_bounds(projects text[], days date[])
RETURNS TABLE (project_id text, day date, day_start timestamptz, day_end timestamptz)
LANGUAGE sql
STABLE
SET search_path = pg_catalog, pg_temp
AS $function$
/*
Contract: the distinct (project, local day) pairs given, each with the
  instants its day starts and ends in the project's time zone (setting
  time_zone): a 23- or 25-hour day on a daylight-saving change. Never uses
  the session's time zone.
Example: SELECT * FROM analytics._day_bounds(ARRAY['default'], ARRAY[current_date]);
*/
  SELECT d.p, d.day, d.day::timestamp AT TIME ZONE z.tz, (d.day + 1)::timestamp AT TIME ZONE z.tz
    FROM (SELECT DISTINCT t.p, t.day FROM unnest(projects, days) AS t(p, day)
           WHERE t.p IS NOT NULL AND t.day IS NOT NULL) d
    JOIN (SELECT u.p, analytics._setting('time_zone', u.p) AS tz
            FROM (SELECT DISTINCT x.p FROM unnest(projects) AS x(p) WHERE x.p IS NOT NULL) u) z ON z.p = d.p
$function$;

COMMENT ON FUNCTION analytics._day_bounds(text[], date[]) IS
  'Internal: start and end instants of (project, local day) pairs in each project''s time zone.';
