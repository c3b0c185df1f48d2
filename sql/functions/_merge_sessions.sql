CREATE OR REPLACE FUNCTION analytics._merge_sessions(projects text[], session_ids text[])
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $function$
/*
Contract: rebuild the rows of analytics.sessions for the given sessions by
  merging their per-hour facts (analytics.session_hours): first and last
  event, event count, the user, the entry page (first pageview) and exit
  page (last pageview). A session with no facts left is removed.
Parameters: projects[i], session_ids[i]: the i-th session. Duplicates are fine.
Returns: the number of sessions rebuilt.
Example: SELECT analytics._merge_sessions(ARRAY['default'], ARRAY['s1']);
*/
DECLARE
  v_rows            bigint;
  v_gone_projects   text[];
  v_gone_sessions   text[];
BEGIN
  IF coalesce(pg_catalog.cardinality(projects), 0) = 0 THEN
    RETURN 0;
  END IF;
  WITH keys AS MATERIALIZED (
    SELECT DISTINCT u.project_id, u.session_id FROM unnest(projects, session_ids) AS u(project_id, session_id)
  ), merged AS (
    INSERT INTO analytics.sessions
           (project_id, session_id, user_id, first_seen, last_seen, event_count, entry_page, exit_page)
    SELECT h.project_id, h.session_id,
           (pg_catalog.array_agg(h.user_id ORDER BY h.last_at DESC) FILTER (WHERE h.user_id IS NOT NULL))[1],
           pg_catalog.min(h.first_at), pg_catalog.max(h.last_at), pg_catalog.sum(h.events),
           (pg_catalog.array_agg(h.entry_page ORDER BY h.entry_at) FILTER (WHERE h.entry_at IS NOT NULL))[1],
           (pg_catalog.array_agg(h.exit_page ORDER BY h.exit_at DESC) FILTER (WHERE h.exit_at IS NOT NULL))[1]
      FROM keys k
     CROSS JOIN LATERAL (
       -- One index probe per session (OFFSET 0 keeps the planner from
       -- turning this into a scan of the whole table).
       SELECT x.* FROM analytics.session_hours x
        WHERE x.project_id = k.project_id AND x.session_id = k.session_id OFFSET 0
     ) h
     GROUP BY h.project_id, h.session_id
    ON CONFLICT (project_id, session_id) DO UPDATE
       SET user_id = excluded.user_id, first_seen = excluded.first_seen, last_seen = excluded.last_seen,
           event_count = excluded.event_count, entry_page = excluded.entry_page, exit_page = excluded.exit_page
    RETURNING 1
  )
  SELECT pg_catalog.count(*) INTO v_rows FROM merged;
  -- Sessions whose every event is gone (a DELETE of raw events).
  SELECT pg_catalog.array_agg(k.project_id), pg_catalog.array_agg(k.session_id)
    INTO v_gone_projects, v_gone_sessions
    FROM (SELECT DISTINCT u.project_id, u.session_id
            FROM unnest(projects, session_ids) AS u(project_id, session_id)) k
   WHERE NOT EXISTS (SELECT 1 FROM analytics.session_hours h
                      WHERE h.project_id = k.project_id AND h.session_id = k.session_id);
  IF v_gone_projects IS NOT NULL THEN
    DELETE FROM analytics.sessions s USING unnest(v_gone_projects, v_gone_sessions) AS g(p, id)
     WHERE s.project_id = g.p AND s.session_id = g.id;
  END IF;
  RETURN v_rows;
END
$function$;

COMMENT ON FUNCTION analytics._merge_sessions(text[], text[]) IS
  'Internal: rebuild analytics.sessions rows from their per-hour facts.';
