CREATE OR REPLACE FUNCTION analytics._merge_funnel_sessions(projects text[], session_ids text[])
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $function$
/*
Contract: keep the funnels saved by session (analytics.funnels) of the
  given sessions current. For every saved funnel of their projects, walk each session
  through the funnel again over all of its raw events (analytics.events,
  read between the session's first and last event, so one index probe per
  partition it spans), replace its row of analytics.funnel_sessions (none
  if it never reaches step 1), and recompute the rows of
  analytics.rollup_hourly_funnel_steps for every UTC hour where one of these
  sessions entered the funnel, before or after. Runs after
  _merge_sessions(), which it reads for each session's first and last
  event. The caller holds the refresh_rollups advisory lock.
  Runs with jit = off: a walk of 437 sessions is estimated above
  jit_above_cost (one probe per session and partition), and compiling it
  took 145 ms of a 152 ms walk, for every saved funnel on every refresh.
Parameters: projects[i], session_ids[i]: the i-th session. Duplicates are fine.
Returns: the number of funnel sessions written.
Example: SELECT analytics._merge_funnel_sessions(ARRAY['default'], ARRAY['s1']);
*/
DECLARE
  v_funnel   record;
  v_keys     text[];
  v_hours    timestamptz[];
  v_written  record;
  v_rows     bigint := 0;
BEGIN
  FOR v_funnel IN
    SELECT f.project_id, f.funnel_id FROM analytics.funnels f
     WHERE f.count_by = 'session' AND f.project_id IN (SELECT DISTINCT p FROM unnest(projects) AS p)
  LOOP
    SELECT pg_catalog.array_agg(DISTINCT u.session_id) INTO v_keys
      FROM unnest(projects, session_ids) AS u(project_id, session_id)
     WHERE u.project_id = v_funnel.project_id;

    WITH old AS (  -- probes of the primary key, whatever the statistics say
      DELETE FROM analytics.funnel_sessions fs
       WHERE fs.project_id = v_funnel.project_id AND fs.funnel_id = v_funnel.funnel_id AND fs.session_id = ANY (v_keys)
      RETURNING fs.entered_at
    )
    SELECT pg_catalog.array_agg(DISTINCT pg_catalog.date_trunc('hour', old.entered_at, 'UTC')) INTO v_hours FROM old;

    v_written := analytics._write_funnel_walks(v_funnel.project_id, v_funnel.funnel_id, $q$
        SELECT k.session_id AS entity, e.occurred_at AS at, st.i
          FROM unnest($7::text[]) AS k(session_id)
          JOIN analytics.sessions ss ON ss.project_id = $1 AND ss.session_id = k.session_id
         CROSS JOIN LATERAL (
           SELECT x.occurred_at, x.event_type, x.name FROM analytics.events x
            WHERE x.project_id = $1 AND x.session_id = k.session_id
              AND x.occurred_at >= ss.first_seen AND x.occurred_at <= ss.last_seen
            OFFSET 0  -- one index probe per session and partition, never a join over all events
         ) e
          JOIN unnest($2::text[], $3::text[]) WITH ORDINALITY AS st(event_type, name, i)
            ON e.event_type = st.event_type AND (st.name IS NULL OR e.name = st.name)$q$, v_keys);
    v_rows := v_rows + v_written.sessions;

    PERFORM analytics._recompute_funnel_hours(v_funnel.project_id, v_funnel.funnel_id,
                                              coalesce(v_hours, '{}') || v_written.hours);
  END LOOP;
  RETURN v_rows;
END
$function$;

COMMENT ON FUNCTION analytics._merge_funnel_sessions(text[], text[]) IS
  'Internal: walk the given sessions through every saved funnel of their project again, and recompute the funnel rollup hours they touch.';
