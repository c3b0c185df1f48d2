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
  The hours written since are read once for all the sessions (one range
  scan per hour: most walked sessions have their events there). The other
  spans are merged (range_agg), cut to the range, with those hours taken
  out, and each is one index probe on the partitions it covers. They are
  computed first and probed in two groups (near those hours; the others,
  mostly sessions open at from_ts), each planned over the partitions of its
  own hull: over a month, 2 partitions planned instead of 31.
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
  v_counts   bigint[];
  v_dirty    timestamptz[];  -- the hours of the range written since the last refresh, in order
  v_facts    timestamptz;    -- the oldest per-hour facts kept: before it, read the range whole
  v_near     timestamptz;    -- spans starting from here (a day before those hours) are probed as one group
  v_sessions text[];         -- the spans to probe: their session ...
  v_lo       timestamptz[];  -- ... start ...
  v_hi       timestamptz[];  -- ... and end
  v_bounds   timestamptz[];  -- the hull of each group's spans: near start and end, far start and end
  v_probe_sql text;          -- the probes of both groups
BEGIN
  v_dirty := analytics._hours_written_since_refresh(project_id, from_ts, to_ts);
  SELECT coalesce(pg_catalog.min(h.bucket), to_ts) INTO v_facts
    FROM analytics.session_hours h WHERE h.project_id = _funnel_walk_sessions.project_id;
  -- Each session's spans outside the hours written since (read apart, for
  -- all the sessions at once), from its facts: one index probe per session.
  SELECT coalesce(pg_catalog.array_agg(k.session_id), '{}'), coalesce(pg_catalog.array_agg(pg_catalog.lower(w.span)), '{}'),
         coalesce(pg_catalog.array_agg(pg_catalog.upper(w.span)), '{}')
    INTO v_sessions, v_lo, v_hi
    FROM (SELECT DISTINCT u.session_id FROM unnest(session_ids) AS u(session_id)) k
    LEFT JOIN LATERAL (
      SELECT f.first_seen, f.last_seen FROM analytics.sessions f
       WHERE f.project_id = _funnel_walk_sessions.project_id AND f.session_id = k.session_id OFFSET 0) f ON true
   CROSS JOIN LATERAL unnest(
     (SELECT pg_catalog.range_agg(r.span) FROM (
         -- [first_seen, last_seen], as [first_seen, last_seen + 1 us): times are whole microseconds
         SELECT pg_catalog.tstzrange(f.first_seen, f.last_seen + interval '1 microsecond') AS span
          WHERE f.first_seen IS NOT NULL
         UNION ALL
         SELECT pg_catalog.tstzrange(from_ts, greatest(from_ts, v_facts))) r)
     * pg_catalog.tstzmultirange(pg_catalog.tstzrange(from_ts, to_ts))
     - (SELECT coalesce(pg_catalog.range_agg(pg_catalog.tstzrange(d.bucket, d.bucket + interval '1 hour')), '{}')
          FROM unnest(v_dirty) AS d(bucket))) AS w(span);
  -- Two groups of spans, each planned over the partitions of its own hull:
  -- those near the hours written since (sessions that run into them), and
  -- the others (sessions open at from_ts, mostly). One hull over both
  -- would plan every partition of a month (4 ms more).
  v_near := coalesce(v_dirty[1], to_ts) - interval '1 day';
  SELECT ARRAY[pg_catalog.min(s.lo) FILTER (WHERE s.lo >= v_near), pg_catalog.max(s.hi) FILTER (WHERE s.lo >= v_near),
               pg_catalog.min(s.lo) FILTER (WHERE s.lo < v_near), pg_catalog.max(s.hi) FILTER (WHERE s.lo < v_near)]
    INTO v_bounds FROM unnest(v_lo, v_hi) AS s(lo, hi);
  -- Every bound that the partitions can be pruned by is a value ($4, $5,
  -- $12), not a column of a lateral row: the planner then opens only the
  -- partitions they reach (an empty group's NULL bounds reach none).
  SELECT pg_catalog.string_agg(pg_catalog.format($g$
          SELECT p.session_id, x.occurred_at, x.event_type, x.name
            FROM unnest($9::text[], $10::timestamptz[], $11::timestamptz[]) AS p(session_id, lo, hi)
           CROSS JOIN LATERAL (  -- one index probe per span and partition it covers
             SELECT y.occurred_at, y.event_type, y.name FROM analytics.events y
              WHERE y.project_id = $1 AND y.session_id = p.session_id
                AND y.occurred_at >= $12[%s] AND y.occurred_at < $12[%s]
                AND y.occurred_at >= p.lo AND y.occurred_at < p.hi
             OFFSET 0) x
           WHERE p.lo %s $13$g$, g.lo, g.hi, g.op), ' UNION ALL ' ORDER BY g.lo)
    INTO v_probe_sql FROM (VALUES (1, 2, '>='), (3, 4, '<')) AS g(lo, hi, op);
  EXECUTE analytics._funnel_sql(steps, pg_catalog.format($q$
      SELECT e.session_id AS entity, e.occurred_at AS at, s.i
        FROM (
          -- The hours written since the last refresh, each read once for all
          -- the sessions: most walked sessions are there.
          SELECT x.session_id, x.occurred_at, x.event_type, x.name
            FROM unnest($8::timestamptz[]) AS d(bucket)
           CROSS JOIN LATERAL (
             SELECT y.session_id, y.occurred_at, y.event_type, y.name FROM analytics.events y
              WHERE y.project_id = $1 AND y.session_id IS NOT NULL
                AND y.event_type = ANY ($2::text[])  -- only the steps' types (the project_id, event_type index)
                AND y.occurred_at >= $4 AND y.occurred_at < $5
                AND y.occurred_at >= d.bucket AND y.occurred_at < d.bucket + interval '1 hour'
             OFFSET 0) x
           WHERE x.session_id IN (SELECT u.session_id FROM unnest($7::text[]) AS u(session_id))
          UNION ALL
          -- Elsewhere, each session's spans: near the hours written since,
          -- then the others.
          %s) e
        JOIN unnest($2::text[], $3::text[]) WITH ORDINALITY AS s(event_type, name, i)
          ON e.event_type = s.event_type AND (s.name IS NULL OR e.name = s.name)$q$, v_probe_sql), 'counts')
    INTO v_counts
    USING project_id, event_types, names,
          -- the written hours' span, cut to the range ($6 is the window, for _funnel_sql)
          greatest(v_dirty[1], from_ts), least(v_dirty[pg_catalog.cardinality(v_dirty)] + interval '1 hour', to_ts),
          within, coalesce(session_ids, '{}'), v_dirty, v_sessions, v_lo, v_hi, v_bounds, v_near;
  RETURN v_counts;
END
$function$;

COMMENT ON FUNCTION analytics._funnel_walk_sessions(integer, text, text[], text[], timestamptz, timestamptz, interval, text[]) IS
  'Internal: walk the given sessions through a funnel over their raw events in a range; counts per step.';
