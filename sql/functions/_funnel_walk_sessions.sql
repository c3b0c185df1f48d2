CREATE OR REPLACE FUNCTION analytics._funnel_walk_sessions(
  steps integer,
  project_id text,
  event_types text[],
  names text[],
  from_ts timestamptz,
  to_ts timestamptz,
  within interval,
  session_ids text[]
)
RETURNS bigint[]
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
SET enable_nestloop = off
AS $function$
/*
Contract: walk the given sessions of a project through an ordered funnel
  over their raw events in [from_ts, to_ts), as funnel() does over raw
  events (_funnel_sql), and count the sessions reaching each step. funnel()
  calls it for the few sessions its rollups cannot answer: those that
  straddle the range, or changed since the last refresh_rollups().
  One index probe per session and partition, never a scan of the range.
  Runs with enable_nestloop = off, as funnel() over raw events: the step
  joins are estimated at a few rows, and a nested loop over them is slow.
Parameters:
  steps                 the number of steps
  project_id            the tenant (resolved by the caller)
  event_types, names    the steps, as _funnel_steps() parses them
  from_ts, to_ts        the range
  within                the window, in seconds (_funnel_window())
  session_ids           the sessions to walk; duplicates are fine
Returns: the sessions reaching each step (zeros for no sessions).
Example: SELECT analytics._funnel_walk_sessions(2, 'default', ARRAY['signup', 'conversion'], ARRAY[NULL, NULL],
                                               now() - interval '1 day', now(), '1 day', ARRAY['s1']);
*/
DECLARE
  v_counts bigint[];
BEGIN
  EXECUTE analytics._funnel_sql(steps, $q$
      SELECT k.session_id AS entity, e.occurred_at AS at, s.i
        FROM (SELECT DISTINCT u.session_id FROM unnest($7::text[]) AS u(session_id)) k
       CROSS JOIN LATERAL (
         SELECT x.occurred_at, x.event_type, x.name FROM analytics.events x
          WHERE x.project_id = $1 AND x.session_id = k.session_id AND x.occurred_at >= $4 AND x.occurred_at < $5
          OFFSET 0  -- one index probe per session and partition, never a join over the range
       ) e
        JOIN unnest($2::text[], $3::text[]) WITH ORDINALITY AS s(event_type, name, i)
          ON e.event_type = s.event_type AND (s.name IS NULL OR e.name = s.name)$q$, 'counts')
    INTO v_counts USING project_id, event_types, names, from_ts, to_ts, within, coalesce(session_ids, '{}');
  RETURN v_counts;
END
$function$;

COMMENT ON FUNCTION analytics._funnel_walk_sessions(integer, text, text[], text[], timestamptz, timestamptz, interval, text[]) IS
  'Internal: walk the given sessions through a funnel over their raw events in a range; counts per step.';
