CREATE OR REPLACE FUNCTION analytics.metrics(
  from_ts timestamptz,
  to_ts timestamptz,
  granularity text DEFAULT 'day',
  tz text DEFAULT 'UTC',
  project_id text DEFAULT NULL
)
RETURNS jsonb
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET jit = off
SET plan_cache_mode = force_custom_plan
SET max_parallel_workers_per_gather = 0
AS $function$
/*
Contract: the dashboard's headline numbers for [from_ts, to_ts): a series
  by hour, day, week (ISO, from Monday) or month of zone `tz`, the totals
  of the range, and the totals of the period of the same length just
  before it. Exact in every IANA zone, as of the last refresh_rollups()
  (the minutes before the first and after the last whole quarter hour come
  from raw events and are current).
  Definitions:
  - events: events whose time is in the bucket; pageviews: those of type
    'pageview'.
  - visit: a session_id. It belongs to the bucket of its first event, and
    counts whole (its duration and events may reach past the bucket).
  - visitors: distinct visitors among the bucket's visits; a visitor is the
    session's user_id where known, else the anonymous session. In totals,
    distinct over the whole range (not a sum of the buckets).
  - views_per_visit: pageviews / visits; bounce_rate: the fraction of
    visits with exactly one event; avg_visit_duration_s: mean of last event
    time minus first event time, in seconds. All three are null when there
    are no visits.
Parameters:
  from_ts, to_ts  the range, from_ts < to_ts, at most 400 days
  granularity     'hour', 'day', 'week' or 'month'; at most 5,000 buckets
  tz              an IANA zone name, e.g. 'Europe/Berlin', 'Asia/Kolkata'
  project_id      NULL: the caller's JWT project
Returns: {"granularity", "tz", "from_ts", "to_ts",
          "series": [{"bucket": "2026-03-02T00:00:00+05:30", "events", "pageviews", "visitors",
                      "visits", "views_per_visit", "bounce_rate", "avg_visit_duration_s"}],
          "totals": {the same keys but bucket}, "previous": {the same, for the period before}}
  The series lists every bucket that overlaps the range, empty ones too.
  "previous" is null when the period before starts before the hourly
  rollups kept (rollup_retention_days).
Errors: 22023 reversed, missing or too long range, a range starting before
  the hourly rollups kept, unknown granularity, unknown time zone, too many
  buckets; 42501 another tenant or no project claim.
Security: SECURITY DEFINER; EXECUTE for analytics_reader and analytics_admin.
Example: SELECT analytics.metrics(now() - interval '7 days', now(), 'day', 'Europe/Berlin');
*/
DECLARE
  v_project  text := analytics._resolve_project(metrics.project_id);
  v_step     interval;
  v_buckets  timestamptz[];
  v_zone_ok  boolean;
  v_result   jsonb;
BEGIN
  PERFORM analytics._check_time_range(from_ts, to_ts);
  PERFORM analytics._check_hourly_retention(from_ts);
  IF granularity IS NULL OR granularity NOT IN ('hour', 'day', 'week', 'month') THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = pg_catalog.format('unknown granularity %L', granularity),
      HINT = 'Granularities: hour, day, week, month.';
  END IF;
  BEGIN
    PERFORM pg_catalog.now() AT TIME ZONE tz;
    v_zone_ok := tz IS NOT NULL;
  EXCEPTION WHEN invalid_parameter_value THEN
    v_zone_ok := false;
  END;
  IF NOT v_zone_ok THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = pg_catalog.format('unknown time zone %L', metrics.tz),
      HINT = 'Use an IANA zone name such as ''UTC'', ''Europe/Berlin'' or ''Asia/Kolkata'' (see pg_timezone_names).';
  END IF;
  v_step := ('1 ' || granularity)::interval;

  -- The buckets overlapping the range: each next bucket start is found from
  -- local time, so DST days of 23 or 25 hours stay one bucket.
  WITH RECURSIVE b(start_at, n) AS (
    SELECT pg_catalog.date_trunc(granularity, from_ts, tz), 1
    UNION ALL
    SELECT CASE WHEN granularity = 'hour'
                THEN pg_catalog.date_trunc('hour', b.start_at + interval '1 hour', tz)
                ELSE pg_catalog.date_trunc(granularity, ((b.start_at AT TIME ZONE tz) + v_step + interval '12 hours')
                                                        AT TIME ZONE tz, tz) END,
           b.n + 1
      FROM b
     WHERE b.n <= 5000 AND b.start_at < to_ts
  )
  SELECT pg_catalog.array_agg(b.start_at ORDER BY b.start_at) INTO v_buckets FROM b WHERE b.start_at < to_ts;
  IF pg_catalog.cardinality(v_buckets) > 5000 THEN
    RAISE EXCEPTION USING ERRCODE = '22023',
      MESSAGE = pg_catalog.format('too many buckets: more than 5000 %ss in the range', granularity),
      HINT = 'Use a coarser granularity or a shorter range.';
  END IF;

  WITH counts AS (
    SELECT 'range' AS part, c.* FROM analytics._metrics_of_range(v_project, from_ts, to_ts, v_buckets) c
    UNION ALL
    SELECT 'previous', p.* FROM analytics._metrics_of_range(v_project, from_ts - (to_ts - from_ts), from_ts, NULL) p
     WHERE analytics._check_hourly_retention(from_ts - (to_ts - from_ts), false)
  ), shaped AS (
    SELECT c.part, c.bucket,
           pg_catalog.jsonb_build_object(
             'events', c.events, 'pageviews', c.pageviews, 'visitors', c.visitors, 'visits', c.visits,
             'views_per_visit', c.pageviews::float8 / nullif(c.visits, 0),
             'bounce_rate', c.bounces::float8 / nullif(c.visits, 0),
             'avg_visit_duration_s', c.visit_duration_s::float8 / nullif(c.visits, 0)) AS numbers
      FROM counts c
  )
  SELECT pg_catalog.jsonb_build_object(
           'granularity', granularity,
           'tz', tz,
           'from_ts', analytics._iso_in_zone(from_ts, tz),
           'to_ts', analytics._iso_in_zone(to_ts, tz),
           'series', (SELECT pg_catalog.jsonb_agg(
                               pg_catalog.jsonb_build_object('bucket', analytics._iso_in_zone(u.start_at, tz))
                               || coalesce(s.numbers, pg_catalog.jsonb_build_object(
                                    'events', 0, 'pageviews', 0, 'visitors', 0, 'visits', 0,
                                    'views_per_visit', NULL, 'bounce_rate', NULL, 'avg_visit_duration_s', NULL))
                               ORDER BY u.start_at)
                        FROM unnest(v_buckets) AS u(start_at)
                        LEFT JOIN shaped s ON s.part = 'range' AND s.bucket = u.start_at),
           'totals', (SELECT s.numbers FROM shaped s WHERE s.part = 'range' AND s.bucket IS NULL),
           'previous', (SELECT s.numbers FROM shaped s WHERE s.part = 'previous' AND s.bucket IS NULL))
    INTO v_result;
  RETURN v_result;
END
$function$;

COMMENT ON FUNCTION analytics.metrics(timestamptz, timestamptz, text, text, text) IS
  'RPC: events, pageviews, visitors, visits, views per visit, bounce rate and visit duration, by hour/day/week/month in any time zone, with totals and the previous period.';
