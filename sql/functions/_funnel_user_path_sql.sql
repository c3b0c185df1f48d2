CREATE OR REPLACE FUNCTION analytics._funnel_user_path_sql(steps integer)
RETURNS text
LANGUAGE plpgsql
IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $function$
/*
Contract: the query that walks each user's path of one local day
  (rollup_daily_user_paths) through an ordered funnel of `steps` steps, as
  _funnel_sql() walks raw events: the entry is the first step-1 event at or
  after from_ts and before to_ts; step k the first step-k event strictly
  later than step k-1's, at most the window after the entry and before
  to_ts. Step k's time is
    times[array_position(keys, code_k, width_bucket(time_{k-1}, times) + 1)]
  (the next event of that key after the first event later than the step
  before), all in C over the row's arrays, where a PL/pgSQL walk per row
  cost twice as much and a recursive query more. Each step is a LATERAL
  subquery with OFFSET 0, so that it is computed once: pulled up, each
  step's expression would be copied into every later one. A row that does
  not enter goes no further than step 1.
  Times only grow from step to step, so the steps within the window and the
  range are a prefix of the funnel.
Parameters: steps, 1 to 10.
The query takes $1 project, $2 the day, $3 the users written since the
  refresh (text[]) and $4 the hours written since (timestamptz[]): a row of
  either is stale, not walked, and returned to be probed; $5 the steps' key
  numbers (integer[]), $6 from_ts, $7 to_ts, $8 the window, $9 the day's
  end, $10 the users not to walk (text[]: those who entered on an earlier
  day), $11 the only users to walk (text[]; NULL: any, for a path that
  enters the range is of a user with an event in it).
It returns one row: stale (the users of stale rows, to probe), entered (the
  users walked in), counts (per step, the users walked to it), and the users
  whose next step is not in the row while the window and the range go on
  past the day's end (it may come on a later day), to be followed by
  probes: spilled_users, their next step, the time of the step they
  reached, and the end of their window (entry + window).
Example: SELECT analytics._funnel_user_path_sql(3);
  (in PL/pgSQL: EXECUTE analytics._funnel_user_path_sql(3) INTO ... USING ...)
*/
DECLARE
  v_sql     text;
  v_valid   text[];  -- per step k, whether the row reached it
  v_next    text := ' WHEN false THEN NULL::integer';      -- no next for one step
  v_at      text := ' WHEN false THEN NULL::timestamptz';
BEGIN
  IF steps IS NULL OR steps < 1 OR steps > 10 THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = pg_catalog.format('a funnel has 1 to 10 steps, not %s', steps);
  END IF;
  -- Step 1, and the end of the window; rows not entered go no further.
  v_sql := $q$
    FROM (SELECT u.user_id, u.keys, u.times,
                 (u.user_id = ANY ($3)
                  OR pg_catalog.cardinality($4) > 0
                     AND EXISTS (SELECT FROM unnest($4) AS h(hour)  -- an event of the path in the hour
                                  WHERE pg_catalog.width_bucket(h.hour + interval '1 hour' - interval '1 microsecond', u.times)
                                        > pg_catalog.width_bucket(h.hour - interval '1 microsecond', u.times))) AS stale
            FROM analytics.rollup_daily_user_paths u
           WHERE u.project_id = $1 AND u.day = $2
             -- an anti-join, not "<> ALL": the planner would estimate the
             -- selectivity of each of thousands of constants
             AND NOT EXISTS (SELECT FROM unnest($10) AS x(user_id) WHERE x.user_id = u.user_id)
             AND ($11::text[] IS NULL OR u.user_id IN (SELECT l.user_id FROM unnest($11) AS l(user_id)))
          OFFSET 0) r
   CROSS JOIN LATERAL (
     SELECT CASE WHEN NOT r.stale
                 THEN r.times[pg_catalog.array_position(r.keys, $5[1],
                                pg_catalog.width_bucket($6 - interval '1 microsecond', r.times) + 1)] END AS t
     OFFSET 0) s1
   CROSS JOIN LATERAL (SELECT CASE WHEN s1.t < $7 THEN s1.t + $8 END AS until OFFSET 0) e$q$;
  v_valid := ARRAY['e.until IS NOT NULL'];
  FOR k IN 2 .. steps LOOP
    v_sql := v_sql || pg_catalog.format($q$
   CROSS JOIN LATERAL (
     SELECT CASE WHEN s%2$s.t IS NOT NULL
                 THEN r.times[pg_catalog.array_position(r.keys, $5[%1$s],
                                pg_catalog.width_bucket(s%2$s.t, r.times) + 1)] END AS t
     OFFSET 0) s%1$s$q$, k, k - 1);
    v_valid := v_valid || pg_catalog.format('(s%1$s.t <= e.until AND s%1$s.t < $7)', k);
  END LOOP;
  -- The last step reached is the first valid from the end (the times only
  -- grow); its next is missing from the row when that step's time is NULL.
  FOR k IN REVERSE steps - 1 .. 1 LOOP
    v_next := v_next || pg_catalog.format(' WHEN %1$s THEN %2$s', v_valid[k], k + 1);
    v_at := v_at || pg_catalog.format(' WHEN %1$s THEN s%2$s.t', v_valid[k], k);
  END LOOP;
  RETURN pg_catalog.format($q$
  SELECT coalesce(pg_catalog.array_agg(r.user_id) FILTER (WHERE r.stale), '{}'),
         coalesce(pg_catalog.array_agg(r.user_id) FILTER (WHERE e.until IS NOT NULL), '{}'),
         ARRAY[%2$s],
         coalesce(pg_catalog.array_agg(r.user_id) FILTER (WHERE %3$s), '{}'),
         coalesce(pg_catalog.array_agg(CASE%4$s END) FILTER (WHERE %3$s), '{}'),
         coalesce(pg_catalog.array_agg(CASE%5$s END) FILTER (WHERE %3$s), '{}'),
         coalesce(pg_catalog.array_agg(e.until) FILTER (WHERE %3$s), '{}')%1$s
   WHERE r.stale OR e.until IS NOT NULL$q$,
    v_sql,
    (SELECT pg_catalog.string_agg(pg_catalog.format('pg_catalog.count(*) FILTER (WHERE %s)', c), ', ' ORDER BY k)
       FROM unnest(v_valid) WITH ORDINALITY AS v(c, k)),
    -- spilled: a step reached whose next is not in the row, while the
    -- window and the range go on past the day's end
    CASE WHEN steps = 1 THEN 'false'
         ELSE '(' || (SELECT pg_catalog.string_agg(pg_catalog.format('%s AND s%s.t IS NULL', v_valid[k], k + 1), ' OR ')
                        FROM pg_catalog.generate_series(1, steps - 1) AS k)
              || ') AND e.until >= $9 AND $7 > $9' END,
    v_next, v_at);
END
$function$;

COMMENT ON FUNCTION analytics._funnel_user_path_sql(integer) IS
  'Internal: the query that walks each user''s path of a day (rollup_daily_user_paths) through a funnel''s steps.';
