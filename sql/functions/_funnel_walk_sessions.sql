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
  Each session is read only where its events can lie, so that a walk
  over a month reads one or two daily partitions per session, not 30:
  - between its first and last event as of the last refresh_rollups()
    (analytics.sessions, merged from its per-hour facts);
  - in the hours written since (_hours_written_since_refresh): a new
    event, or a new session;
  - before the oldest per-hour facts of the project (cleanup() trims
    session_hours with the raw events; a session merged again after that
    may have events there that its first_seen no longer covers).
  These spans are merged (range_agg), cut to the range, and each is one
  index probe on the partitions it covers.
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
  v_dirty  timestamptz[];  -- the hours of the range written since the last refresh
  v_facts  timestamptz;    -- the oldest per-hour facts kept: before it, read the range whole
BEGIN
  v_dirty := analytics._hours_written_since_refresh(project_id, from_ts, to_ts);
  SELECT coalesce(pg_catalog.min(h.bucket), to_ts) INTO v_facts
    FROM analytics.session_hours h WHERE h.project_id = _funnel_walk_sessions.project_id;
  EXECUTE analytics._funnel_sql(steps, $q$
      SELECT k.session_id AS entity, e.occurred_at AS at, s.i
        FROM (SELECT DISTINCT u.session_id FROM unnest($7::text[]) AS u(session_id)) k
        LEFT JOIN LATERAL (  -- one index probe per session
          SELECT f.first_seen, f.last_seen FROM analytics.sessions f
           WHERE f.project_id = $1 AND f.session_id = k.session_id OFFSET 0) f ON true
       CROSS JOIN LATERAL pg_catalog.unnest(
         (SELECT pg_catalog.range_agg(r.span) FROM (
             -- [first_seen, last_seen], as [first_seen, last_seen + 1 us): times are whole microseconds
             SELECT pg_catalog.tstzrange(f.first_seen, f.last_seen + interval '1 microsecond') AS span
              WHERE f.first_seen IS NOT NULL
             UNION ALL
             SELECT pg_catalog.tstzrange(d.bucket, d.bucket + interval '1 hour') FROM unnest($8::timestamptz[]) AS d(bucket)
             UNION ALL
             SELECT pg_catalog.tstzrange($4, greatest($4, $9))) r)
         * pg_catalog.tstzmultirange(pg_catalog.tstzrange($4, $5))) AS w(span)
       CROSS JOIN LATERAL (
         SELECT x.occurred_at, x.event_type, x.name FROM analytics.events x
          WHERE x.project_id = $1 AND x.session_id = k.session_id
            AND x.occurred_at >= pg_catalog.lower(w.span) AND x.occurred_at < pg_catalog.upper(w.span)
          OFFSET 0  -- one index probe per span and partition it covers, never a join over the range
       ) e
        JOIN unnest($2::text[], $3::text[]) WITH ORDINALITY AS s(event_type, name, i)
          ON e.event_type = s.event_type AND (s.name IS NULL OR e.name = s.name)$q$, 'counts')
    INTO v_counts
    USING project_id, event_types, names, from_ts, to_ts, within, coalesce(session_ids, '{}'), v_dirty, v_facts;
  RETURN v_counts;
END
$function$;

COMMENT ON FUNCTION analytics._funnel_walk_sessions(integer, text, text[], text[], timestamptz, timestamptz, interval, text[]) IS
  'Internal: walk the given sessions through a funnel over their raw events in a range; counts per step.';
