CREATE OR REPLACE FUNCTION analytics.funnel(
  steps text[],
  from_ts timestamptz,
  to_ts timestamptz,
  within interval DEFAULT '1 day',
  count_by text DEFAULT 'session',
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
SET enable_nestloop = off
AS $function$
/*
Contract: how many sessions (or users) reach each step of an ordered
  funnel in [from_ts, to_ts), and the conversion between steps.
  A step is an event type ('signup') or an event type and name
  ('pageview=/pricing'; the type ends at the first '=').
  An entity enters the funnel at its first step-1 event in the range; it
  reaches step k when it has a step-k event strictly after the event that
  reached step k-1 (the earliest such event is taken), at most `within`
  after its entry. Every event counted lies in the range. Read from raw
  events: the cost grows with the number of events in the range. It runs
  with enable_nestloop = off: the planner estimates the step CTEs at a few
  rows, and a nested loop over 48k x 15k rows took minutes where hash
  joins take milliseconds.
Parameters:
  steps       1 to 10 steps
  from_ts, to_ts  the range, from_ts < to_ts, at most 400 days
  within      the conversion window, more than 0 and at most 90 days
  count_by    'session' (session_id) or 'user' (user_id; events without a
              user_id are left out)
  project_id  NULL: the caller's JWT project
Returns: {"count_by", "within_s", "steps": [{"step", "event_type", "name", "count",
          "conversion_from_previous", "conversion_from_first"}], "conversion_rate"}
  Conversions are fractions between 0 and 1, null after a step nobody reached.
Errors: 22023 no steps, more than 10, a step without a valid event type, a
  bad window, count_by or range; 42501 another tenant or no project claim.
Security: SECURITY DEFINER; EXECUTE for analytics_reader and analytics_admin.
Example: SELECT analytics.funnel(ARRAY['pageview=/pricing', 'click=cta-signup', 'conversion'],
                                 now() - interval '7 days', now(), within => '1 hour');
*/
DECLARE
  v_project text := analytics._resolve_project(funnel.project_id);
  v_types   text[];
  v_names   text[];
  v_entity  text;
  v_sql     text;
  v_counts  bigint[];
  v_n       integer := coalesce(pg_catalog.cardinality(steps), 0);
BEGIN
  PERFORM analytics._check_time_range(from_ts, to_ts);
  IF v_n NOT BETWEEN 1 AND 10 THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = pg_catalog.format('a funnel has 1 to 10 steps, not %s', v_n),
      HINT = 'steps => ARRAY[''pageview=/pricing'', ''click=cta-signup'', ''conversion'']';
  END IF;
  SELECT pg_catalog.array_agg(pg_catalog.split_part(s.step, '=', 1) ORDER BY s.i),
         pg_catalog.array_agg(CASE WHEN pg_catalog.strpos(s.step, '=') > 0
                                   THEN pg_catalog.substr(s.step, pg_catalog.strpos(s.step, '=') + 1) END
                              ORDER BY s.i)
    INTO v_types, v_names
    FROM unnest(steps) WITH ORDINALITY AS s(step, i);
  IF EXISTS (SELECT 1 FROM unnest(v_types) t WHERE t IS NULL OR t !~ '^[a-z][a-z0-9_.:-]{0,63}$') THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = pg_catalog.format('invalid funnel step in %L', steps),
      HINT = 'A step is an event type (''signup'') or a type and a name (''pageview=/pricing'').';
  END IF;
  IF within IS NULL OR within <= interval '0' OR within > interval '90 days' THEN
    RAISE EXCEPTION USING ERRCODE = '22023',
      MESSAGE = pg_catalog.format('within must be more than 0 and at most 90 days, not %s', within);
  END IF;
  v_entity := CASE count_by WHEN 'session' THEN 'e.session_id' WHEN 'user' THEN 'e.user_id' END;
  IF v_entity IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = pg_catalog.format('unknown count_by %L', count_by),
      HINT = 'count_by is ''session'' or ''user''.';
  END IF;

  -- One CTE per step: step k joins the entities that reached step k-1 to
  -- their step-k events, keeping the earliest that qualifies.
  v_sql := pg_catalog.format($q$
    WITH ev AS MATERIALIZED (
      SELECT CASE WHEN $1 IS NULL THEN pg_catalog.length(e.project_id) || ':' || e.project_id ELSE '' END || %1$s AS entity,
             e.occurred_at AS at, s.i
        FROM unnest($2, $3) WITH ORDINALITY AS s(event_type, name, i)
        JOIN analytics.events e
          ON e.event_type = s.event_type AND (s.name IS NULL OR e.name = s.name)
       WHERE ($1 IS NULL OR e.project_id = $1) AND e.occurred_at >= $4 AND e.occurred_at < $5
         AND %1$s IS NOT NULL
    ), s1 AS (
      SELECT ev.entity, pg_catalog.min(ev.at) AS entered_at, pg_catalog.min(ev.at) AS at
        FROM ev WHERE ev.i = 1 GROUP BY ev.entity
    )$q$, v_entity);
  FOR k IN 2 .. v_n LOOP
    v_sql := v_sql || pg_catalog.format($q$, s%1$s AS (
      SELECT p.entity, p.entered_at, pg_catalog.min(ev.at) AS at
        FROM s%2$s p JOIN ev ON ev.entity = p.entity AND ev.i = %1$s AND ev.at > p.at AND ev.at <= p.entered_at + $6
       GROUP BY p.entity, p.entered_at
    )$q$, k, k - 1);
  END LOOP;
  SELECT v_sql || ' SELECT ARRAY[' || pg_catalog.string_agg(pg_catalog.format('(SELECT pg_catalog.count(*) FROM s%s)', k), ', ' ORDER BY k) || ']'
    INTO v_sql
    FROM pg_catalog.generate_series(1, v_n) AS k;
  EXECUTE v_sql INTO v_counts USING v_project, v_types, v_names, from_ts, to_ts, within;

  RETURN pg_catalog.jsonb_build_object(
    'count_by', count_by,
    'within_s', EXTRACT(epoch FROM within)::float8,
    'steps', (SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
                       'step', steps[k], 'event_type', v_types[k], 'name', v_names[k], 'count', v_counts[k],
                       'conversion_from_previous',
                         CASE WHEN k = 1 THEN NULL ELSE v_counts[k]::float8 / nullif(v_counts[k - 1], 0) END,
                       'conversion_from_first', v_counts[k]::float8 / nullif(v_counts[1], 0)) ORDER BY k)
                FROM pg_catalog.generate_series(1, v_n) AS k),
    'conversion_rate', v_counts[v_n]::float8 / nullif(v_counts[1], 0));
END
$function$;

COMMENT ON FUNCTION analytics.funnel(text[], timestamptz, timestamptz, interval, text, text) IS
  'RPC: ordered funnel: sessions or users reaching each step within a window, and the conversion between steps.';
