CREATE OR REPLACE FUNCTION analytics._funnel_sql(steps integer, events_sql text, result text)
RETURNS text
LANGUAGE plpgsql
IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $function$
/*
Contract: the query that walks entities through an ordered funnel, shared
  by funnel() (from raw events), save_funnel() and the rollup job (per
  session). An entity enters at its first step-1 event; it reaches step k
  at the earliest step-k event strictly after the event that reached step
  k-1, at most the window after its entry.
Parameters:
  steps       the number of steps, 1 to 10
  events_sql  a query of the candidate events: (entity text, at timestamptz,
              i bigint, the step the event matches); it may use the
              parameters below
  result      'counts': one row, an array of the entities reaching each step;
              'paths': per entity (entity, entered_at, last_entry_at (its
              last step-1 event), reached_at (the time of each step reached))
The query takes $6, the window (interval); $1 to $5 and $7 are free for
  events_sql (funnel() uses project, event types, names, from, to, sessions).
Example: SELECT analytics._funnel_sql(2, 'SELECT e.session_id AS entity, e.occurred_at AS at, 1::bigint AS i
                                        FROM analytics.events e', 'counts');
  (in PL/pgSQL: EXECUTE analytics._funnel_sql(...) INTO v_counts USING ...)
*/
DECLARE
  v_sql text;
BEGIN
  v_sql := 'WITH ev AS MATERIALIZED (' || events_sql || $q$
    ), s1 AS (
      SELECT ev.entity, pg_catalog.min(ev.at) AS entered_at, pg_catalog.min(ev.at) AS at,
             pg_catalog.max(ev.at) AS last_entry_at
        FROM ev WHERE ev.i = 1 GROUP BY ev.entity
    )$q$;
  -- One CTE per step: step k joins the entities that reached step k-1 to
  -- their step-k events, keeping the earliest that qualifies.
  FOR k IN 2 .. steps LOOP
    v_sql := v_sql || pg_catalog.format($q$, s%1$s AS (
      SELECT p.entity, p.entered_at, pg_catalog.min(ev.at) AS at
        FROM s%2$s p JOIN ev ON ev.entity = p.entity AND ev.i = %1$s AND ev.at > p.at AND ev.at <= p.entered_at + $6
       GROUP BY p.entity, p.entered_at
    )$q$, k, k - 1);
  END LOOP;
  IF result = 'counts' THEN
    RETURN v_sql || ' SELECT ARRAY['
      || (SELECT pg_catalog.string_agg(pg_catalog.format('(SELECT pg_catalog.count(*) FROM s%s)', k), ', ' ORDER BY k)
            FROM pg_catalog.generate_series(1, steps) AS k)
      || ']';
  ELSIF result = 'paths' THEN
    RETURN v_sql || ' SELECT s1.entity, s1.entered_at, s1.last_entry_at, pg_catalog.array_remove(ARRAY['
      || (SELECT pg_catalog.string_agg(pg_catalog.format('s%s.at', k), ', ' ORDER BY k)
            FROM pg_catalog.generate_series(1, steps) AS k)
      || ']::timestamptz[], NULL) FROM s1'
      || coalesce((SELECT pg_catalog.string_agg(pg_catalog.format(' LEFT JOIN s%1$s ON s%1$s.entity = s1.entity', k), '' ORDER BY k)
                     FROM pg_catalog.generate_series(2, steps) AS k), '');
  END IF;
  RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = pg_catalog.format('unknown funnel result %L', result);
END
$function$;

COMMENT ON FUNCTION analytics._funnel_sql(integer, text, text) IS
  'Internal: the ordered-funnel query over a set of candidate events, as counts per step or as one path per entity.';
