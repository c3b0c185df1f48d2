CREATE OR REPLACE FUNCTION analytics._merge_experiment_sessions(
  projects text[],
  experiment_ids text[],
  session_ids text[]
)
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $function$
/*
Contract: rebuild analytics.experiment_sessions for the given experiment
  sessions from their per-hour facts, with exposure-gated semantics: the
  session belongs to the variant of its first exposure, and only
  conversions at or after that exposure count (conversions carry the
  experiment_id, or experimentId in properties). Then bring the variant
  totals (analytics.rollup_experiments) up to date by difference: the
  touched sessions' rows before this call are taken off, their rows after
  it added; so the cost grows with the sessions touched, never with the
  experiment (rebuilding the totals from every session of the experiment
  took 950 ms of an every-minute refresh at 125k sessions per
  experiment). And rebuild the hourly exposure counts
  (analytics.rollup_hourly_exposures) of every (project, UTC hour) where
  a touched session was first exposed, before or after this call.
  The caller holds the refresh_rollups advisory lock: no other writer.
  Runs with jit = off, as the rest of the every-minute job.
Parameters: projects[i], experiment_ids[i], session_ids[i]: the i-th
  experiment session. Duplicates are fine.
Returns: the number of experiment sessions rebuilt.
Example: SELECT analytics._merge_experiment_sessions(ARRAY['default'], ARRAY['checkout-button'], ARRAY['s1']);
*/
DECLARE
  v_rows               bigint;
  v_gone_projects      text[];
  v_gone_experiments   text[];
  v_gone_sessions      text[];
  -- The touched sessions' rows before this call, taken off the totals.
  v_old_projects       text[];
  v_old_experiments    text[];
  v_old_variants       text[];
  v_old_exposures      bigint[];
  v_old_conversions    bigint[];
  -- Their rows after it: those written (the sessions left without an
  -- exposure are deleted, and add nothing).
  v_new_projects       text[];
  v_new_experiments    text[];
  v_new_variants       text[];
  v_new_exposures      bigint[];
  v_new_conversions    bigint[];
  -- The (project, UTC hour) rows of rollup_hourly_exposures to recompute.
  v_hour_projects      text[];
  v_hours              timestamptz[];
BEGIN
  IF coalesce(pg_catalog.cardinality(projects), 0) = 0 THEN
    RETURN 0;
  END IF;
  -- The touched sessions' rows before this call: the hours where they were
  -- first exposed, and what they added to the variant totals.
  SELECT pg_catalog.array_agg(s.project_id), pg_catalog.array_agg(s.exposed_at),
         pg_catalog.array_agg(s.experiment_id), pg_catalog.array_agg(s.variant_key),
         pg_catalog.array_agg(s.exposures), pg_catalog.array_agg(s.conversions)
    INTO v_hour_projects, v_hours, v_old_experiments, v_old_variants, v_old_exposures, v_old_conversions
    FROM (SELECT DISTINCT u.project_id, u.experiment_id, u.session_id
            FROM unnest(projects, experiment_ids, session_ids) AS u(project_id, experiment_id, session_id)) k
   CROSS JOIN LATERAL (  -- one index probe per experiment session
     SELECT x.project_id, x.experiment_id, x.variant_key, x.exposed_at, x.exposures, x.conversions
       FROM analytics.experiment_sessions x
      WHERE x.project_id = k.project_id AND x.experiment_id = k.experiment_id AND x.session_id = k.session_id
     OFFSET 0
   ) s;
  v_old_projects := v_hour_projects;
  WITH keys AS MATERIALIZED (
    SELECT DISTINCT u.project_id, u.experiment_id, u.session_id
      FROM unnest(projects, experiment_ids, session_ids) AS u(project_id, experiment_id, session_id)
  ), facts AS MATERIALIZED (
    -- One index probe per experiment session (OFFSET 0: no whole-table scan).
    SELECT h.* FROM keys k
     CROSS JOIN LATERAL (
       SELECT x.* FROM analytics.experiment_session_hours x
        WHERE x.project_id = k.project_id AND x.experiment_id = k.experiment_id AND x.session_id = k.session_id
       OFFSET 0
     ) h
  ), timeline AS (
    -- Exposures and conversions of each experiment session as one list, so
    -- that the merge is a sort and a single GROUP BY, with no join whose
    -- size the planner could misjudge.
    SELECT f.project_id, f.experiment_id, f.session_id, f.first_exposure_at AS exposure_at, f.variant_key,
           f.exposures, NULL::timestamptz AS conversion_at
      FROM facts f WHERE f.first_exposure_at IS NOT NULL
    UNION ALL
    SELECT f.project_id, f.experiment_id, f.session_id, NULL, NULL, 0, t.at
      FROM facts f CROSS JOIN LATERAL unnest(f.conversion_times) AS t(at)
  ), gated AS (
    SELECT l.*, pg_catalog.min(l.exposure_at) OVER (PARTITION BY l.project_id, l.experiment_id, l.session_id)
             AS exposed_at
      FROM timeline l
  ), merged AS (
    SELECT g.project_id, g.experiment_id, g.session_id,
           (pg_catalog.array_agg(g.variant_key ORDER BY g.exposure_at) FILTER (WHERE g.exposure_at IS NOT NULL))[1]
             AS variant_key,
           pg_catalog.min(g.exposed_at) AS exposed_at,
           pg_catalog.sum(g.exposures) AS exposures,
           pg_catalog.count(*) FILTER (WHERE g.conversion_at >= g.exposed_at) AS conversions,
           pg_catalog.min(g.conversion_at) FILTER (WHERE g.conversion_at >= g.exposed_at) AS first_conversion_at
      FROM gated g
     GROUP BY g.project_id, g.experiment_id, g.session_id
    HAVING pg_catalog.min(g.exposed_at) IS NOT NULL
  ), upserted AS (
    INSERT INTO analytics.experiment_sessions
           (project_id, experiment_id, session_id, variant_key, exposed_at, exposures, conversions, first_conversion_at)
    SELECT m.project_id, m.experiment_id, m.session_id, m.variant_key, m.exposed_at, m.exposures,
           coalesce(m.conversions, 0), m.first_conversion_at
      FROM merged m
    ON CONFLICT (project_id, experiment_id, session_id) DO UPDATE
       SET variant_key = excluded.variant_key, exposed_at = excluded.exposed_at, exposures = excluded.exposures,
           conversions = excluded.conversions, first_conversion_at = excluded.first_conversion_at
    RETURNING project_id, experiment_id, variant_key, exposed_at, exposures, conversions
  )
  -- ... and after it (sessions left without an exposure are among the former).
  SELECT pg_catalog.count(*), v_hour_projects || pg_catalog.array_agg(u.project_id),
         v_hours || pg_catalog.array_agg(u.exposed_at),
         pg_catalog.array_agg(u.project_id), pg_catalog.array_agg(u.experiment_id), pg_catalog.array_agg(u.variant_key),
         pg_catalog.array_agg(u.exposures), pg_catalog.array_agg(u.conversions)
    INTO v_rows, v_hour_projects, v_hours,
         v_new_projects, v_new_experiments, v_new_variants, v_new_exposures, v_new_conversions
    FROM upserted u;

  -- Experiment sessions left without any exposure.
  SELECT pg_catalog.array_agg(k.project_id), pg_catalog.array_agg(k.experiment_id), pg_catalog.array_agg(k.session_id)
    INTO v_gone_projects, v_gone_experiments, v_gone_sessions
    FROM (SELECT DISTINCT u.project_id, u.experiment_id, u.session_id
            FROM unnest(projects, experiment_ids, session_ids) AS u(project_id, experiment_id, session_id)) k
   WHERE NOT EXISTS (SELECT 1 FROM analytics.experiment_session_hours h
                      WHERE h.project_id = k.project_id AND h.experiment_id = k.experiment_id
                        AND h.session_id = k.session_id AND h.first_exposure_at IS NOT NULL);
  IF v_gone_projects IS NOT NULL THEN
    DELETE FROM analytics.experiment_sessions s
     USING unnest(v_gone_projects, v_gone_experiments, v_gone_sessions) AS g(p, e, id)
     WHERE s.project_id = g.p AND s.experiment_id = g.e AND s.session_id = g.id;
  END IF;

  -- Variant totals, by difference: the touched sessions' rows now, minus
  -- their rows before.
  INSERT INTO analytics.rollup_experiments AS r
         (project_id, experiment_id, variant_key, exposed_sessions, exposures, converted_sessions, conversions)
  SELECT c.project_id, c.experiment_id, c.variant_key, pg_catalog.sum(c.sessions), pg_catalog.sum(c.exposures),
         pg_catalog.sum(c.converted), pg_catalog.sum(c.conversions)
    FROM (
      SELECT o.project_id, o.experiment_id, o.variant_key, -1 AS sessions, -o.exposures AS exposures,
             -(o.conversions > 0)::integer AS converted, -o.conversions AS conversions
        FROM unnest(v_old_projects, v_old_experiments, v_old_variants, v_old_exposures, v_old_conversions)
             AS o(project_id, experiment_id, variant_key, exposures, conversions)
      UNION ALL
      SELECT n.project_id, n.experiment_id, n.variant_key, 1, n.exposures, (n.conversions > 0)::integer, n.conversions
        FROM unnest(v_new_projects, v_new_experiments, v_new_variants, v_new_exposures, v_new_conversions)
             AS n(project_id, experiment_id, variant_key, exposures, conversions)
    ) c
   GROUP BY c.project_id, c.experiment_id, c.variant_key
  HAVING pg_catalog.sum(c.sessions) <> 0 OR pg_catalog.sum(c.exposures) <> 0 OR pg_catalog.sum(c.converted) <> 0
      OR pg_catalog.sum(c.conversions) <> 0
  ON CONFLICT (project_id, experiment_id, variant_key) DO UPDATE
     SET exposed_sessions = r.exposed_sessions + excluded.exposed_sessions,
         exposures = r.exposures + excluded.exposures,
         converted_sessions = r.converted_sessions + excluded.converted_sessions,
         conversions = r.conversions + excluded.conversions;
  -- A variant whose last session moved to another variant, or went.
  DELETE FROM analytics.rollup_experiments r
   USING (SELECT DISTINCT u.project_id, u.experiment_id
            FROM unnest(projects, experiment_ids) AS u(project_id, experiment_id)) k
   WHERE r.project_id = k.project_id AND r.experiment_id = k.experiment_id AND r.exposed_sessions = 0;
  -- Hourly exposure counts, where the touched sessions were first exposed
  -- before or after this call.
  SELECT pg_catalog.array_agg(h.project_id), pg_catalog.array_agg(h.hour)
    INTO v_hour_projects, v_hours
    FROM (SELECT DISTINCT a.project_id, pg_catalog.date_trunc('hour', a.exposed_at, 'UTC') AS hour
            FROM unnest(v_hour_projects, v_hours) AS a(project_id, exposed_at)) h;
  IF v_hour_projects IS NOT NULL THEN
    DELETE FROM analytics.rollup_hourly_exposures r USING unnest(v_hour_projects, v_hours) AS h(project_id, hour)
     WHERE r.project_id = h.project_id AND r.bucket = h.hour;
    INSERT INTO analytics.rollup_hourly_exposures (project_id, bucket, experiment_id, sessions)
    SELECT h.project_id, h.hour, s.experiment_id, pg_catalog.count(*)
      FROM unnest(v_hour_projects, v_hours) AS h(project_id, hour)
     CROSS JOIN LATERAL (
       SELECT x.experiment_id FROM analytics.experiment_sessions x
        WHERE x.project_id = h.project_id AND x.exposed_at >= h.hour AND x.exposed_at < h.hour + interval '1 hour'
        OFFSET 0
     ) s
     GROUP BY 1, 2, 3;
  END IF;
  RETURN v_rows;
END
$function$;

COMMENT ON FUNCTION analytics._merge_experiment_sessions(text[], text[], text[]) IS
  'Internal: rebuild exposure-gated experiment sessions and variant totals from their per-hour facts.';
