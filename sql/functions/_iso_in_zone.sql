CREATE OR REPLACE FUNCTION analytics._iso_in_zone(at timestamptz, tz text)
RETURNS text
LANGUAGE sql
STABLE
SET search_path = pg_catalog, pg_temp
AS $function$
/*
Contract: `at` as ISO 8601 local time in zone `tz` with that zone's UTC
  offset at that instant, independent of the session's TimeZone (which on
  Citus does not reach the workers). Unambiguous across DST changes.
Example: SELECT analytics._iso_in_zone('2026-03-01 18:30+00', 'Asia/Kolkata');  -- 2026-03-02T00:00:00+05:30
*/
SELECT pg_catalog.to_char(at AT TIME ZONE tz, 'YYYY-MM-DD"T"HH24:MI:SS')
       || CASE WHEN o.offset_ < interval '0' THEN '-' ELSE '+' END
       || pg_catalog.to_char(CASE WHEN o.offset_ < interval '0' THEN -o.offset_ ELSE o.offset_ END, 'HH24:MI')
  FROM (SELECT (at AT TIME ZONE tz) - (at AT TIME ZONE 'UTC') AS offset_) o
$function$;

COMMENT ON FUNCTION analytics._iso_in_zone(timestamptz, text) IS
  'Internal: ISO 8601 local time with the zone''s offset, e.g. 2026-03-02T00:00:00+05:30.';
