CREATE OR REPLACE FUNCTION analytics.top(
  dimension text,
  from_ts timestamptz,
  to_ts timestamptz,
  lim integer DEFAULT 10,
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
Contract: the most frequent values of a dimension in [from_ts, to_ts), by
  events, most first (ties by value): top pages, event types, tools, click
  targets, names, experiments, or any property key. Whole hours come from
  the hourly rollups; only the partial hours at the two ends of the range
  are read from raw events, so the answer is exact (as of the last
  refresh_rollups()) and costs milliseconds over any range.
Parameters:
  dimension  'page' (pageview names), 'event_type', 'tool' (tool_used names),
             'click_target' (click names), 'name' (names of any type),
             'experiment' (sessions first exposed in the range, by experiment),
             'entry_page', 'exit_page' (visits starting in the range, by
             their first or last pageview's name; visits without one are
             left out),
             or 'property:<key>' (scalar values up to 100 characters)
  from_ts, to_ts  the range, from_ts < to_ts, at most 400 days
  lim        1..1000
  project_id NULL: the caller's JWT project
Returns: [{"value": "...", "events": n}] (for 'experiment': exposed sessions;
  for 'entry_page' and 'exit_page': visits).
Errors: 22023 unknown dimension, reversed or too long range, a range starting
  before the hourly rollups kept (rollup_retention_days), lim out of range;
  42501 another tenant or no project claim.
Security: SECURITY DEFINER; EXECUTE for analytics_reader and analytics_admin.
Example: SELECT analytics.top('page', now() - interval '30 days', now());
*/
DECLARE
  v_project text := analytics._resolve_project(top.project_id);
  v_type    text;
  v_key     text;
  v_lo      timestamptz;  -- first whole hour
  v_hi      timestamptz;  -- end of the last whole hour
  v_result  jsonb;
BEGIN
  PERFORM analytics._check_time_range(from_ts, to_ts);
  PERFORM analytics._check_hourly_retention(from_ts);
  PERFORM analytics._check_lim(lim, 1000);
  v_type := CASE dimension WHEN 'page' THEN 'pageview' WHEN 'tool' THEN 'tool_used' WHEN 'click_target' THEN 'click' END;
  IF dimension LIKE 'property:%' THEN
    v_key := pg_catalog.substr(dimension, 10);
  ELSIF v_type IS NULL AND dimension NOT IN ('event_type', 'name', 'experiment', 'entry_page', 'exit_page')
        OR dimension IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = pg_catalog.format('unknown dimension %L', dimension),
      HINT = 'Dimensions: page, entry_page, exit_page, event_type, tool, click_target, name, experiment, property:<key>.';
  END IF;

  SELECT w.first_hour, w.end_hour INTO v_lo, v_hi FROM analytics._whole_hours(from_ts, to_ts) w;

  IF dimension = 'experiment' THEN
    -- Whole hours from the hourly exposure counts, the partial hours at both
    -- ends from the experiment sessions themselves.
    SELECT coalesce(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object('value', t.value, 'events', t.events)
                                         ORDER BY t.events DESC, t.value), '[]')
      INTO v_result
      FROM (SELECT c.value, pg_catalog.sum(c.sessions)::bigint AS events
              FROM (SELECT r.experiment_id AS value, r.sessions
                      FROM analytics.rollup_hourly_exposures r
                     WHERE (v_project IS NULL OR r.project_id = v_project)
                       AND r.bucket >= v_lo AND r.bucket < v_hi
                    UNION ALL
                    SELECT s.experiment_id, 1
                      FROM analytics.experiment_sessions s
                     WHERE (v_project IS NULL OR s.project_id = v_project)
                       AND s.exposed_at >= from_ts AND s.exposed_at < to_ts
                       AND (s.exposed_at < v_lo OR s.exposed_at >= v_hi)) c
             GROUP BY c.value ORDER BY 2 DESC, 1 LIMIT lim) t;
    RETURN v_result;
  END IF;

  IF dimension IN ('entry_page', 'exit_page') THEN
    -- Visits that start in the range, by entry or exit page: whole hours
    -- from the hourly rollup, the partial hours at both ends from the visits.
    SELECT coalesce(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object('value', t.value, 'events', t.events)
                                         ORDER BY t.events DESC, t.value), '[]')
      INTO v_result
      FROM (SELECT c.value, pg_catalog.sum(c.visits)::bigint AS events
              FROM (SELECT r.page AS value, r.visits
                      FROM analytics.rollup_hourly_entry_exit_pages r
                     WHERE (v_project IS NULL OR r.project_id = v_project)
                       AND r.bucket >= v_lo AND r.bucket < v_hi
                       AND r.page_role = pg_catalog.split_part(dimension, '_', 1)
                    UNION ALL
                    SELECT CASE WHEN dimension = 'entry_page' THEN s.entry_page ELSE s.exit_page END, 1
                      FROM analytics.sessions s
                     WHERE (v_project IS NULL OR s.project_id = v_project)
                       AND s.first_seen >= from_ts AND s.first_seen < least(v_lo, to_ts)
                    UNION ALL
                    SELECT CASE WHEN dimension = 'entry_page' THEN s.entry_page ELSE s.exit_page END, 1
                      FROM analytics.sessions s
                     WHERE (v_project IS NULL OR s.project_id = v_project)
                       AND s.first_seen >= greatest(v_hi, from_ts) AND s.first_seen < to_ts) c
             WHERE c.value IS NOT NULL
             GROUP BY c.value ORDER BY 2 DESC, 1 LIMIT lim) t;
    RETURN v_result;
  END IF;

  WITH counted AS (
    -- Whole hours, from the rollups.
    SELECT CASE WHEN dimension = 'event_type' THEN h.event_type ELSE h.name END AS value, h.events
      FROM analytics.rollup_hourly h
     WHERE v_key IS NULL AND (v_project IS NULL OR h.project_id = v_project)
       AND h.bucket >= v_lo AND h.bucket < v_hi
       AND (v_type IS NULL OR h.event_type = v_type)
    UNION ALL
    SELECT p.value, p.events
      FROM analytics.rollup_hourly_properties p
     WHERE v_key IS NOT NULL AND (v_project IS NULL OR p.project_id = v_project)
       AND p.bucket >= v_lo AND p.bucket < v_hi AND p.key = v_key
    UNION ALL
    -- The partial hours at both ends, from raw events.
    SELECT CASE WHEN v_key IS NOT NULL THEN e.properties ->> v_key
                WHEN dimension = 'event_type' THEN e.event_type ELSE e.name END, 1
      FROM analytics.events e
     WHERE (v_project IS NULL OR e.project_id = v_project)
       AND ((e.occurred_at >= from_ts AND e.occurred_at < least(v_lo, to_ts))
            OR (e.occurred_at >= greatest(v_hi, from_ts) AND e.occurred_at < to_ts))
       AND (v_type IS NULL OR e.event_type = v_type)
       AND (v_key IS NULL OR (pg_catalog.jsonb_typeof(e.properties -> v_key) IN ('string', 'number', 'boolean')
                              AND pg_catalog.length(e.properties ->> v_key) <= 100))
  )
  SELECT coalesce(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object('value', t.value, 'events', t.events)
                                       ORDER BY t.events DESC, t.value), '[]')
    INTO v_result
    FROM (SELECT c.value, pg_catalog.sum(c.events)::bigint AS events
            FROM counted c WHERE c.value IS NOT NULL
           GROUP BY c.value ORDER BY 2 DESC, 1 LIMIT lim) t;
  RETURN v_result;
END
$function$;

COMMENT ON FUNCTION analytics.top(text, timestamptz, timestamptz, integer, text) IS
  'RPC: top values of a dimension (page, entry_page, exit_page, event_type, tool, click_target, name, experiment, property:<key>) in a time range, exact, from rollups.';
