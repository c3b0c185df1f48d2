CREATE OR REPLACE FUNCTION analytics._metrics_of_range(
  project_id text,
  from_ts timestamptz,
  to_ts timestamptz,
  bucket_starts timestamptz[]
)
RETURNS TABLE (
  bucket            timestamptz,
  events            bigint,
  pageviews         bigint,
  visitors          bigint,
  visits            bigint,
  bounces           bigint,
  visit_duration_s  double precision
)
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
SET plan_cache_mode = force_custom_plan
SET max_parallel_workers_per_gather = 0
AS $function$
/*
Contract: the raw counts behind analytics.metrics() for [from_ts, to_ts):
  one row per bucket that has data, plus one row with bucket NULL for the
  whole range. Arguments are trusted: the caller (metrics) has validated
  them and resolved the tenant.
  - events, pageviews: by event time. A whole UTC hour inside one bucket
    comes from rollup_hourly_totals and rollup_hourly. An hour that a bucket
    boundary cuts (zones with :30 or :45 offsets) is split by its quarter
    hour counts (rollup_hourly_totals.quarter_*), else read from raw events;
    so are the partial hours at the range's ends, where only the minutes
    before the first and after the last whole quarter hour are read from raw
    events. So every zone and every range is exact.
  - visits, bounces, visit_duration_s (sum), by the time of the visit's
    first event: whole hours from rollup_hourly_visits, by quarter hour; the
    partial hours at the ends and hours cut off a quarter hour one by one
    from analytics.sessions.
  - visitors: distinct (user_id where known, else the session) within the
    bucket, and within the whole range on the NULL row, counted without
    DISTINCT: a visitor's first visit in a span starting at s is the one
    whose previous visit (sessions.previous_first_seen) started before s.
    Rolled-up visits know their previous visit's hour; where s falls inside
    that hour, those visits are read one by one by their previous visit.
  Rows go to buckets by width_bucket() over the sorted bucket starts, never
  by per-row time-zone arithmetic.
Parameters: project_id NULL = all projects (admins); bucket_starts: the
  sorted bucket starts, the first at or before from_ts; NULL = the range as
  one bucket (only the NULL row is returned).
Example: SELECT * FROM analytics._metrics_of_range('default', now() - interval '2 days', now(),
                                                    ARRAY[current_date - 2, current_date - 1, current_date]::timestamptz[]);
*/
DECLARE
  v_starts        timestamptz[] := coalesce(bucket_starts, ARRAY[from_ts]);
  v_lo            timestamptz;  -- first whole hour
  v_hi            timestamptz;  -- end of the last whole hour
  v_cut           timestamptz[];  -- whole hours that a bucket start cuts
  v_by_quarters   timestamptz[];  -- ... of which every cut falls on a quarter hour
  v_raw_cut       timestamptz[];  -- ... whose events must be read from raw events
  v_visits_cut    timestamptz[];  -- ... whose visits must be read one by one (cut off a quarter hour)
  -- The partial hours at the ends: their whole quarter hours come from the
  -- quarter counts where the hour has them and no bucket start cuts it off a
  -- quarter hour; raw events are read for [from_ts, v_raw_head_end) and
  -- [v_raw_tail_start, to_ts) only.
  v_first_hour      timestamptz := pg_catalog.date_trunc('hour', from_ts, 'UTC');
  v_last_hour       timestamptz := pg_catalog.date_trunc('hour', to_ts, 'UTC');
  v_quarters_head   boolean;
  v_quarters_tail   boolean;
  v_raw_head_end    timestamptz;
  v_raw_tail_start  timestamptz;
BEGIN
  SELECT w.first_hour, w.end_hour INTO v_lo, v_hi FROM analytics._whole_hours(from_ts, to_ts) w;
  SELECT coalesce(pg_catalog.array_agg(DISTINCT c.h), '{}'),
         coalesce(pg_catalog.array_agg(DISTINCT c.h) FILTER (WHERE c.all_on_quarters), '{}')
    INTO v_cut, v_by_quarters
    FROM (SELECT pg_catalog.date_trunc('hour', s.s, 'UTC') AS h,
                 pg_catalog.bool_and(EXTRACT(epoch FROM s.s)::numeric % 900 = 0)
                   OVER (PARTITION BY pg_catalog.date_trunc('hour', s.s, 'UTC')) AS all_on_quarters
            FROM unnest(v_starts) AS s(s)
           WHERE s.s > from_ts AND s.s >= v_lo AND s.s < v_hi
             AND s.s <> pg_catalog.date_trunc('hour', s.s, 'UTC')) c;
  SELECT coalesce(pg_catalog.array_agg(c.h), '{}') INTO v_raw_cut
    FROM unnest(v_cut) AS c(h)
   WHERE c.h <> ALL (v_by_quarters)
      OR EXISTS (SELECT 1 FROM analytics.rollup_hourly_totals t
                  WHERE (_metrics_of_range.project_id IS NULL OR t.project_id = _metrics_of_range.project_id)
                    AND t.bucket = c.h AND t.quarter_events IS NULL);
  SELECT coalesce(pg_catalog.array_agg(c.h), '{}') INTO v_visits_cut
    FROM unnest(v_cut) AS c(h)
   WHERE c.h <> ALL (v_by_quarters);
  SELECT pg_catalog.bool_and(h.usable) FILTER (WHERE h.h = v_first_hour),
         pg_catalog.bool_and(h.usable) FILTER (WHERE h.h = v_last_hour)
    INTO v_quarters_head, v_quarters_tail
    FROM (SELECT x.h,
                 NOT EXISTS (SELECT 1 FROM analytics.rollup_hourly_totals t
                              WHERE (_metrics_of_range.project_id IS NULL OR t.project_id = _metrics_of_range.project_id)
                                AND t.bucket = x.h AND t.quarter_events IS NULL)
                 AND NOT EXISTS (SELECT 1 FROM unnest(v_starts) AS s(s)
                                  WHERE s.s > from_ts AND s.s < to_ts
                                    AND pg_catalog.date_trunc('hour', s.s, 'UTC') = x.h
                                    AND EXTRACT(epoch FROM s.s)::numeric % 900 <> 0) AS usable
            FROM (VALUES (v_first_hour), (v_last_hour)) AS x(h)) h;
  v_raw_head_end := CASE WHEN v_quarters_head
                         THEN least(pg_catalog.to_timestamp(pg_catalog.ceil(EXTRACT(epoch FROM from_ts) / 900) * 900), to_ts)
                         ELSE least(v_lo, to_ts) END;
  v_raw_tail_start := greatest(CASE WHEN v_quarters_tail
                                    THEN pg_catalog.to_timestamp(pg_catalog.floor(EXTRACT(epoch FROM to_ts) / 900) * 900)
                                    ELSE v_hi END,
                               v_raw_head_end);

  RETURN QUERY
  WITH counted AS (
    -- Whole hours inside one bucket, from the rollups.
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
    -- Cut hours, by their quarter hours.
    SELECT t.bucket + (q.q - 1) * interval '15 minutes', t.quarter_events[q.q], t.quarter_pageviews[q.q]
      FROM analytics.rollup_hourly_totals t
     CROSS JOIN pg_catalog.generate_series(1, 4) AS q(q)
     WHERE (_metrics_of_range.project_id IS NULL OR t.project_id = _metrics_of_range.project_id)
       AND t.bucket = ANY (v_by_quarters) AND t.quarter_events IS NOT NULL
    UNION ALL
    -- The whole quarter hours of the partial hours at both ends.
    SELECT q.at, t.quarter_events[q.q], t.quarter_pageviews[q.q]
      FROM analytics.rollup_hourly_totals t
     CROSS JOIN LATERAL (SELECT g.q, t.bucket + (g.q - 1) * interval '15 minutes' AS at
                           FROM pg_catalog.generate_series(1, 4) AS g(q)) q
     WHERE (_metrics_of_range.project_id IS NULL OR t.project_id = _metrics_of_range.project_id)
       AND ((v_quarters_head AND t.bucket = v_first_hour
             AND q.at >= v_raw_head_end AND q.at < least(v_lo, v_raw_tail_start))
            OR (v_quarters_tail AND t.bucket = v_last_hour
                AND q.at >= greatest(v_hi, v_raw_head_end) AND q.at < v_raw_tail_start))
    UNION ALL
    -- Raw events: what is left of the partial hours at both ends, and cut
    -- hours that have no quarter hour counts (rolled up before 0007, or cut
    -- off a quarter).
    SELECT e.occurred_at, 1, (e.event_type = 'pageview')::integer
      FROM analytics.events e
     WHERE (_metrics_of_range.project_id IS NULL OR e.project_id = _metrics_of_range.project_id)
       AND ((e.occurred_at >= from_ts AND e.occurred_at < v_raw_head_end)
            OR (e.occurred_at >= v_raw_tail_start AND e.occurred_at < to_ts))
    UNION ALL
    SELECT e.occurred_at, 1, (e.event_type = 'pageview')::integer
      FROM unnest(v_raw_cut) AS c(h)
      JOIN analytics.events e
        ON e.occurred_at >= c.h AND e.occurred_at < c.h + interval '1 hour'
       AND (_metrics_of_range.project_id IS NULL OR e.project_id = _metrics_of_range.project_id)
     WHERE NOT EXISTS (SELECT 1 FROM analytics.rollup_hourly_totals t
                        WHERE t.project_id = e.project_id AND t.bucket = c.h
                          AND t.bucket = ANY (v_by_quarters) AND t.quarter_events IS NOT NULL)
  ), event_counts AS (
    SELECT GROUPING(b.i) = 1 AS is_total, b.i,
           pg_catalog.sum(c.events)::bigint AS events, pg_catalog.sum(c.pageviews)::bigint AS pageviews
      FROM counted c
     CROSS JOIN LATERAL (SELECT pg_catalog.width_bucket(c.at, v_starts) AS i) b
     GROUP BY GROUPING SETS ((b.i), ())
  ), visit_rows AS (
    -- Visits that start in a whole hour, from the rollup by quarter hour
    -- (a cut on a quarter hour splits it exactly): their previous visit is
    -- known to the hour (rolled = true).
    SELECT r.bucket + r.quarter * interval '15 minutes' AS at, r.previous_bucket AS previous_at, true AS rolled,
           r.visits, r.bounces, r.duration_s
      FROM analytics.rollup_hourly_visits r
     WHERE (_metrics_of_range.project_id IS NULL OR r.project_id = _metrics_of_range.project_id)
       AND r.bucket >= v_lo AND r.bucket < v_hi AND r.bucket <> ALL (v_visits_cut)
    UNION ALL
    -- The other visits one by one: the partial hours at both ends, then the
    -- hours cut off a quarter hour (separate branches, each an index range
    -- scan).
    SELECT s.first_seen, coalesce(s.previous_first_seen, '-infinity'), false,
           1, (s.event_count = 1)::integer, EXTRACT(epoch FROM s.last_seen - s.first_seen)::double precision
      FROM analytics.sessions s
     WHERE (_metrics_of_range.project_id IS NULL OR s.project_id = _metrics_of_range.project_id)
       AND ((s.first_seen >= from_ts AND s.first_seen < least(v_lo, to_ts))
            OR (s.first_seen >= greatest(v_hi, from_ts) AND s.first_seen < to_ts))
    UNION ALL
    SELECT s.first_seen, coalesce(s.previous_first_seen, '-infinity'), false,
           1, (s.event_count = 1)::integer, EXTRACT(epoch FROM s.last_seen - s.first_seen)::double precision
      FROM unnest(v_visits_cut) AS c(h)
      JOIN analytics.sessions s
        ON s.first_seen >= c.h AND s.first_seen < c.h + interval '1 hour'
       AND (_metrics_of_range.project_id IS NULL OR s.project_id = _metrics_of_range.project_id)
  ), visit_counts AS (
    -- A visit is its visitor's first in a span starting at s when its
    -- previous visit started before s: those visits count the visitors.
    -- For rolled-up rows "before s" is known when the previous visit's hour
    -- ends by s; the hour that contains s is settled by visitor_corrections.
    SELECT GROUPING(b.i) = 1 AS is_total, b.i,
           pg_catalog.sum(v.visits)::bigint AS visits,
           pg_catalog.sum(v.bounces)::bigint AS bounces,
           pg_catalog.sum(v.duration_s) AS visit_duration_s,
           CASE WHEN GROUPING(b.i) = 1
                THEN pg_catalog.sum(v.visits) FILTER (WHERE CASE WHEN v.rolled
                                                             THEN v.previous_at + interval '1 hour' <= from_ts
                                                             ELSE v.previous_at < from_ts END)
                ELSE pg_catalog.sum(v.visits) FILTER (WHERE CASE WHEN v.rolled
                                                             THEN v.previous_at + interval '1 hour' <= b.s
                                                             ELSE v.previous_at < b.s END)
           END::bigint AS visitors
      FROM visit_rows v
     CROSS JOIN LATERAL (SELECT pg_catalog.width_bucket(v.at, v_starts) AS i) w
     CROSS JOIN LATERAL (SELECT w.i, greatest(v_starts[w.i], from_ts) AS s) b
     GROUP BY GROUPING SETS ((b.i, b.s), ())
  ), visitor_corrections AS (
    -- Rolled-up visits whose previous visit started in the hour that holds
    -- a span's start s, before s: read one by one, by their previous visit.
    SELECT c.i IS NULL AS is_total, c.i, pg_catalog.count(*) AS visitors
      FROM (SELECT o.i::integer AS i, greatest(o.s, from_ts) AS s
              FROM unnest(v_starts) WITH ORDINALITY AS o(s, i)
            UNION ALL
            SELECT NULL, from_ts) c
     CROSS JOIN LATERAL (
       SELECT x.first_seen FROM analytics.sessions x
        WHERE (_metrics_of_range.project_id IS NULL OR x.project_id = _metrics_of_range.project_id)
          AND x.previous_first_seen >= pg_catalog.date_trunc('hour', c.s, 'UTC') AND x.previous_first_seen < c.s
          AND x.first_seen >= v_lo AND x.first_seen < v_hi
        OFFSET 0
     ) x
     WHERE c.s <> pg_catalog.date_trunc('hour', c.s, 'UTC')
       AND pg_catalog.date_trunc('hour', x.first_seen, 'UTC') <> ALL (v_visits_cut)
       AND (c.i IS NULL OR pg_catalog.width_bucket(x.first_seen, v_starts) = c.i)
     GROUP BY c.i
  )
  SELECT CASE WHEN NOT x.is_total THEN v_starts[x.i] END,
         coalesce(ec.events, 0), coalesce(ec.pageviews, 0),
         coalesce(vc.visitors, 0) + coalesce(cv.visitors, 0), coalesce(vc.visits, 0), coalesce(vc.bounces, 0),
         coalesce(vc.visit_duration_s, 0)
    FROM (SELECT ec0.is_total, ec0.i FROM event_counts ec0
          UNION SELECT vc0.is_total, vc0.i FROM visit_counts vc0) x
    LEFT JOIN event_counts ec ON ec.is_total = x.is_total AND ec.i IS NOT DISTINCT FROM x.i
    LEFT JOIN visit_counts vc ON vc.is_total = x.is_total AND vc.i IS NOT DISTINCT FROM x.i
    LEFT JOIN visitor_corrections cv ON cv.is_total = x.is_total AND cv.i IS NOT DISTINCT FROM x.i
   WHERE x.is_total OR bucket_starts IS NOT NULL;
END
$function$;

COMMENT ON FUNCTION analytics._metrics_of_range(text, timestamptz, timestamptz, timestamptz[]) IS
  'Internal: per-bucket and whole-range counts behind analytics.metrics().';
