CREATE OR REPLACE FUNCTION analytics._recompute_user_paths(
  projects text[],
  days date[],
  day_starts timestamptz[],
  day_ends timestamptz[],
  hour_projects text[],
  hours timestamptz[]
)
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET jit = off
SET plan_cache_mode = force_custom_plan
AS $function$
/*
Contract: make the per-user paths (rollup_daily_user_paths: each user's
  events of a local day, key numbers and times in time order, ties by key
  number) of the given project days equal to the raw events now.
  - hours NULL: every user of each day is rewritten, from one read of the
    day's events (a day recomputed whole, or whose paths were not cut as
    [day_start, day_end)).
  - hours given (per project, the UTC hours written, changed or deleted
    since the paths were last written, which were then right): only the
    users who may have changed are rewritten: those with an event in one of
    the hours now, and those whose path has one there (it may be gone).
    Their events are read through the per-user index, so the every-minute
    refresh of a busy day rewrites the users of its last hour, not the
    whole day.
  The caller records each day's span (rollup_daily_totals.paths_span).
Parameters:
  projects[i], days[i], day_starts[i], day_ends[i]: a project's local day
                        and its instants in the project's zone
  hour_projects[j], hours[j]: see above
Returns: the rows written.
Example: SELECT analytics._recompute_user_paths(ARRAY['default'], ARRAY[current_date],
           ARRAY[current_date::timestamptz], ARRAY[current_date::timestamptz + interval '1 day'], NULL, NULL);
*/
DECLARE
  v_rows    bigint := 0;
  v_n       bigint;
  v_lo      timestamptz;
  v_hi      timestamptz;
  v_changed record;  -- (pairs, users): users of the hours, by ordinal of their project day
  v_users   text[];
  v_project text;
  v_day     date;
BEGIN
  IF coalesce(pg_catalog.cardinality(projects), 0) = 0 THEN
    RETURN 0;
  END IF;
  IF hours IS NULL THEN
    FOR i IN 1 .. pg_catalog.cardinality(projects) LOOP
      DELETE FROM analytics.rollup_daily_user_paths r WHERE r.project_id = projects[i] AND r.day = days[i];
      INSERT INTO analytics.rollup_daily_user_paths (project_id, day, user_id, first_seen, last_seen, keys, times)
      SELECT projects[i], days[i], k.user_id, pg_catalog.min(k.occurred_at), pg_catalog.max(k.occurred_at),
             pg_catalog.array_agg(k.code ORDER BY k.occurred_at, k.code),
             pg_catalog.array_agg(k.occurred_at ORDER BY k.occurred_at, k.code)
        FROM (SELECT e.user_id, e.occurred_at, analytics._event_key_code(e.event_type, e.name) AS code
                FROM analytics.events e
               WHERE e.project_id = projects[i] AND e.user_id IS NOT NULL
                 AND e.occurred_at >= day_starts[i] AND e.occurred_at < day_ends[i]) k
       GROUP BY k.user_id;
      GET DIAGNOSTICS v_n = ROW_COUNT;
      v_rows := v_rows + v_n;
    END LOOP;
    RETURN v_rows;
  END IF;

  -- The users with an event in the hours now, per project day, in one
  -- statement: the hours' span is given as values, so that the read of
  -- their events is planned for the partitions it covers alone.
  SELECT pg_catalog.min(h), pg_catalog.max(h) + interval '1 hour' INTO v_lo, v_hi FROM unnest(hours) AS h;
  WITH dirty AS (
    SELECT DISTINCT h.project_id, h.hour FROM unnest(hour_projects, hours) AS h(project_id, hour)
  ),
  written AS MATERIALIZED (
    SELECT DISTINCT e.project_id, e.user_id, pg_catalog.date_trunc('hour', e.occurred_at, 'UTC') AS hour
      FROM analytics.events e
     WHERE e.occurred_at >= v_lo AND e.occurred_at < v_hi AND e.user_id IS NOT NULL
       AND e.project_id IN (SELECT h.project_id FROM dirty h)
  )
  SELECT pg_catalog.array_agg(d.i) AS pairs, pg_catalog.array_agg(w.user_id) AS users
    INTO v_changed
    FROM written w
    JOIN dirty h ON h.project_id = w.project_id AND h.hour = w.hour
    JOIN unnest(projects, day_starts, day_ends) WITH ORDINALITY AS d(project_id, day_start, day_end, i)
      ON d.project_id = w.project_id AND w.hour < d.day_end AND w.hour + interval '1 hour' > d.day_start;

  -- Then one project day at a time, with its bounds as values: each user's
  -- events of the day through the per-user index (its text keys are in the
  -- "C" collation, 0017), one probe per user.
  FOR i IN 1 .. pg_catalog.cardinality(projects) LOOP
    -- Those users, and those whose path of the day has an event in one of
    -- the hours (it may be gone): the day's paths by index range.
    SELECT coalesce(pg_catalog.array_agg(DISTINCT c.user_id), '{}') INTO v_users
      FROM (SELECT c.user_id FROM unnest(v_changed.pairs, v_changed.users) AS c(pair, user_id) WHERE c.pair = i
            UNION ALL
            SELECT r.user_id FROM analytics.rollup_daily_user_paths r
             WHERE r.project_id = projects[i] AND r.day = days[i]
               AND EXISTS (SELECT FROM unnest(hour_projects, hours) AS h(project_id, hour)
                            WHERE h.project_id = projects[i]
                              AND pg_catalog.width_bucket(h.hour + interval '1 hour' - interval '1 microsecond', r.times)
                                  > pg_catalog.width_bucket(h.hour - interval '1 microsecond', r.times))) c;
    CONTINUE WHEN pg_catalog.cardinality(v_users) = 0;
    DELETE FROM analytics.rollup_daily_user_paths r
     WHERE r.project_id = projects[i] AND r.day = days[i] AND r.user_id = ANY (v_users);
    v_project := projects[i];
    v_day := days[i];
    v_lo := day_starts[i];
    v_hi := day_ends[i];
    INSERT INTO analytics.rollup_daily_user_paths (project_id, day, user_id, first_seen, last_seen, keys, times)
    SELECT v_project, v_day, c.user_id, pg_catalog.min(k.occurred_at), pg_catalog.max(k.occurred_at),
           pg_catalog.array_agg(k.code ORDER BY k.occurred_at, k.code),
           pg_catalog.array_agg(k.occurred_at ORDER BY k.occurred_at, k.code)
      FROM unnest(v_users) AS c(user_id)
     CROSS JOIN LATERAL (
       SELECT e.occurred_at, analytics._event_key_code(e.event_type, e.name) AS code
         FROM analytics.events e
        WHERE e.project_id = v_project COLLATE "C" AND e.user_id = c.user_id COLLATE "C"
          AND e.occurred_at >= v_lo AND e.occurred_at < v_hi) k
     GROUP BY c.user_id;
    GET DIAGNOSTICS v_n = ROW_COUNT;
    v_rows := v_rows + v_n;
  END LOOP;
  RETURN v_rows;
END
$function$;

COMMENT ON FUNCTION analytics._recompute_user_paths(text[], date[], timestamptz[], timestamptz[], text[], timestamptz[]) IS
  'Internal: rewrite project days'' per-user paths, every user''s or those of the hours written since.';
