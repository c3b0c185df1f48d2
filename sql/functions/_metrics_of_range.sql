CREATE OR REPLACE FUNCTION analytics._metrics_of_range(
  project_id text,
  from_ts timestamptz,
  to_ts timestamptz,
  granularity text,
  tz text
)
RETURNS TABLE (
  bucket            timestamptz,
  events            bigint,
  pageviews         bigint,
  visitors          bigint,
  visits            bigint,
  bounces           bigint,
  visit_duration_s  numeric
)
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
SET plan_cache_mode = force_custom_plan
AS $function$
/*
Contract: the raw counts behind analytics.metrics() for [from_ts, to_ts):
  one row per bucket of `granularity` in zone `tz` that has data, plus one
  row with bucket NULL for the whole range. Arguments are trusted: the
  caller (metrics) has validated them and resolved the tenant.
  - events, pageviews: by event time. Whole UTC hours that fall inside one
    bucket come from rollup_hourly_totals and rollup_hourly; an hour cut by
    a bucket boundary (zones with :30 or :45 offsets) or by the ends of the
    range is counted from raw events, so every zone is exact.
  - visits, bounces, visit_duration_s (sum), visitors: from analytics.sessions,
    by the time of the visit's first event; visitors are distinct
    (user_id where known, else the session) within the bucket, and within
    the whole range on the NULL row.
Parameters: project_id NULL = all projects (admins); granularity NULL = the
  range as one bucket (only the NULL row is returned).
Example: SELECT * FROM analytics._metrics_of_range('default', now() - interval '7 days', now(), 'day', 'UTC');
*/
DECLARE
  v_lo   timestamptz := pg_catalog.date_trunc('hour', from_ts, 'UTC');  -- first whole hour
  v_hi   timestamptz := pg_catalog.date_trunc('hour', to_ts, 'UTC');    -- end of the last whole hour
  v_cut  timestamptz[];
BEGIN
  IF v_lo < from_ts THEN
    v_lo := v_lo + interval '1 hour';
  END IF;
  v_hi := greatest(v_lo, v_hi);
  -- Whole UTC hours that a bucket boundary cuts in two.
  IF granularity IS NOT NULL THEN
    SELECT coalesce(pg_catalog.array_agg(h.h), '{}') INTO v_cut
      FROM pg_catalog.generate_series(v_lo, v_hi - interval '1 hour', interval '1 hour') AS h(h)
     WHERE pg_catalog.date_trunc(granularity, h.h, tz)
           <> pg_catalog.date_trunc(granularity, h.h + interval '1 hour' - interval '1 microsecond', tz);
  ELSE
    v_cut := '{}';
  END IF;

  RETURN QUERY
  WITH counted AS (
    SELECT t.bucket AS at, t.events, 0::bigint AS pageviews
      FROM analytics.rollup_hourly_totals t
     WHERE (_metrics_of_range.project_id IS NULL OR t.project_id = _metrics_of_range.project_id)
       AND t.bucket >= v_lo AND t.bucket < v_hi AND t.bucket <> ALL (v_cut)
    UNION ALL
    SELECT r.bucket, 0, r.events
      FROM analytics.rollup_hourly r
     WHERE (_metrics_of_range.project_id IS NULL OR r.project_id = _metrics_of_range.project_id)
       AND r.bucket >= v_lo AND r.bucket < v_hi AND r.bucket <> ALL (v_cut) AND r.event_type = 'pageview'
    UNION ALL
    -- The partial hours at both ends of the range.
    SELECT e.occurred_at, 1, (e.event_type = 'pageview')::integer
      FROM analytics.events e
     WHERE (_metrics_of_range.project_id IS NULL OR e.project_id = _metrics_of_range.project_id)
       AND ((e.occurred_at >= from_ts AND e.occurred_at < least(v_lo, to_ts))
            OR (e.occurred_at >= greatest(v_hi, from_ts) AND e.occurred_at < to_ts))
    UNION ALL
    -- Hours cut by a bucket boundary.
    SELECT e.occurred_at, 1, (e.event_type = 'pageview')::integer
      FROM unnest(v_cut) AS c(h)
      JOIN analytics.events e
        ON e.occurred_at >= c.h AND e.occurred_at < c.h + interval '1 hour'
       AND (_metrics_of_range.project_id IS NULL OR e.project_id = _metrics_of_range.project_id)
  ), event_counts AS (
    SELECT GROUPING(b.b) = 1 AS is_total, b.b AS bucket,
           pg_catalog.sum(c.events)::bigint AS events, pg_catalog.sum(c.pageviews)::bigint AS pageviews
      FROM counted c
     CROSS JOIN LATERAL (SELECT pg_catalog.date_trunc(granularity, c.at, tz) AS b) b
     GROUP BY GROUPING SETS ((b.b), ())
  ), visit_counts AS (
    SELECT GROUPING(b.b) = 1 AS is_total, b.b AS bucket,
           pg_catalog.count(DISTINCT
             CASE WHEN _metrics_of_range.project_id IS NULL
                  THEN pg_catalog.length(s.project_id) || ':' || s.project_id ELSE '' END
             || coalesce('u:' || s.user_id, 's:' || s.session_id)) AS visitors,
           pg_catalog.count(*) AS visits,
           pg_catalog.count(*) FILTER (WHERE s.event_count = 1) AS bounces,
           pg_catalog.sum(EXTRACT(epoch FROM s.last_seen - s.first_seen)) AS visit_duration_s
      FROM analytics.sessions s
     CROSS JOIN LATERAL (SELECT pg_catalog.date_trunc(granularity, s.first_seen, tz) AS b) b
     WHERE (_metrics_of_range.project_id IS NULL OR s.project_id = _metrics_of_range.project_id)
       AND s.first_seen >= from_ts AND s.first_seen < to_ts
     GROUP BY GROUPING SETS ((b.b), ())
  )
  SELECT CASE WHEN NOT x.is_total THEN x.bucket END,
         coalesce(ec.events, 0), coalesce(ec.pageviews, 0),
         coalesce(vc.visitors, 0), coalesce(vc.visits, 0), coalesce(vc.bounces, 0),
         coalesce(vc.visit_duration_s, 0)
    FROM (SELECT ec0.is_total, ec0.bucket FROM event_counts ec0
          UNION SELECT vc0.is_total, vc0.bucket FROM visit_counts vc0) x
    LEFT JOIN event_counts ec ON ec.is_total = x.is_total AND ec.bucket IS NOT DISTINCT FROM x.bucket
    LEFT JOIN visit_counts vc ON vc.is_total = x.is_total AND vc.bucket IS NOT DISTINCT FROM x.bucket
   WHERE x.is_total OR granularity IS NOT NULL;
END
$function$;

COMMENT ON FUNCTION analytics._metrics_of_range(text, timestamptz, timestamptz, text, text) IS
  'Internal: per-bucket and whole-range counts behind analytics.metrics().';
