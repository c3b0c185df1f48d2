CREATE OR REPLACE FUNCTION analytics._write_funnel_walks(
  project_id text,
  funnel_id text,
  events_sql text,
  session_ids text[] DEFAULT NULL,
  OUT sessions bigint,
  OUT hours timestamptz[]
)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $function$
/*
Contract: walk sessions through one saved funnel (analytics.funnels) and
  insert a row of analytics.funnel_sessions for each that reaches step 1.
  The caller has removed their old rows, and recomputes the rollup hours.
Parameters:
  project_id, funnel_id  the saved funnel
  events_sql  the candidate events, as for _funnel_sql(): (entity = the
              session_id, at, i); it may use $1 (project), $2 and $3 (the
              steps' event types and names) and $7 (session_ids)
  session_ids passed to events_sql as $7
Returns: sessions, the rows written; hours, their distinct UTC hours of entry.
Example: SELECT * FROM analytics._write_funnel_walks('default', 'signup',
           'SELECT e.session_id AS entity, e.occurred_at AS at, s.i FROM analytics.events e
              JOIN unnest($2::text[], $3::text[]) WITH ORDINALITY AS s(event_type, name, i) ON e.event_type = s.event_type
             WHERE e.project_id = $1 AND e.session_id = ANY ($7)', ARRAY['s1']);
  (once a funnel is saved: SELECT analytics.save_funnel('signup', ARRAY['signup'], project_id => 'default'))
*/
DECLARE
  v_funnel record;
BEGIN
  SELECT f.steps, f.within, st.event_types, st.names INTO STRICT v_funnel
    FROM analytics.funnels f CROSS JOIN LATERAL analytics._funnel_steps(f.steps) st
   WHERE f.project_id = _write_funnel_walks.project_id AND f.funnel_id = _write_funnel_walks.funnel_id;
  EXECUTE 'WITH paths AS (' || analytics._funnel_sql(pg_catalog.cardinality(v_funnel.steps), events_sql, 'paths') || $q$
    ), written AS (
      INSERT INTO analytics.funnel_sessions (project_id, funnel_id, session_id, entered_at, last_entry_at, reached_at)
      SELECT $1, $4, p.entity, p.entered_at, p.last_entry_at, p.array_remove FROM paths p
      RETURNING entered_at
    )
    SELECT pg_catalog.count(*), pg_catalog.array_agg(DISTINCT pg_catalog.date_trunc('hour', w.entered_at, 'UTC'))
      FROM written w$q$
    INTO sessions, hours
    USING _write_funnel_walks.project_id, v_funnel.event_types, v_funnel.names, _write_funnel_walks.funnel_id,
          NULL::timestamptz, v_funnel.within, session_ids;
  hours := coalesce(hours, '{}');
END
$function$;

COMMENT ON FUNCTION analytics._write_funnel_walks(text, text, text, text[]) IS
  'Internal: walk sessions through one saved funnel and insert their analytics.funnel_sessions rows.';
