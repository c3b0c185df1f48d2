CREATE OR REPLACE FUNCTION analytics._funnel_from_session_paths(
  steps integer,
  project_id text,
  event_types text[],
  names text[],
  from_ts timestamptz,
  to_ts timestamptz,
  within interval,
  operator text,
  patterns text[]
)
RETURNS bigint[]
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $function$
/*
Contract: funnel()'s counts per step for a funnel counted by session, from
  the session paths (analytics.sessions.path) instead of raw events, with
  the counts of the raw events at the time of the call:
  - a session that starts in [from_ts, to_ts) reaches step k when its path
    matches patterns[k], provided all its events lie in the range, none
    share a timestamp, and it lasts no longer than the window (which then
    never cuts it);
  - every other session that may count is walked over its raw events in
    the range (_funnel_walk_sessions): those that start before from_ts and
    end at or after it, those that start in the range but fail the above,
    and those with events in an hour written since the last
    refresh_rollups() (their raw events now, and their facts as of that
    refresh: a session whose events there were deleted is one too).
  One scan of the range's sessions; the walked ones are counted again over
  their own rows and taken off.
Parameters:
  steps                 the number of steps
  project_id            the tenant (resolved by funnel())
  event_types, names    the steps, as _funnel_steps() parses them
  from_ts, to_ts        the range, within the raw retention
  within                the window, in seconds (_funnel_window())
  operator, patterns    from _funnel_step_patterns() ('~~' or '~', one per step)
Returns: the sessions reaching each step.
Example: SELECT analytics._funnel_from_session_paths(2, 'default', ARRAY['signup', 'conversion'], ARRAY[NULL, NULL],
           now() - interval '1 day', now(), '1 day', p.operator, p.patterns)
           FROM analytics._funnel_step_patterns('default', ARRAY['signup', 'conversion'], ARRAY[NULL, NULL]) p;
*/
DECLARE
  v_walk          text[];    -- sessions that straddle from_ts or changed since the last refresh
  v_unanswered    text[];    -- sessions starting in the range that their path cannot answer
  v_count_sql     text;      -- the count over session paths, FROM left open
  v_counts        bigint[];
  v_walked_counts bigint[];  -- what that count gives for the sessions in v_walk
BEGIN
  -- Sessions whose path cannot answer: walked over their raw events.
  -- First those open at from_ts (found by the GiST index alone, in every
  -- tenant, then filtered), and those with events in an hour written since
  -- the last refresh_rollups() (their raw events now, and their facts as of
  -- that refresh: a session whose events there were deleted is one too).
  WITH open AS MATERIALIZED (
    SELECT s.project_id, s.session_id, s.first_seen FROM analytics.sessions s
     WHERE pg_catalog.tstzrange(s.first_seen, s.last_seen, '[]') @> from_ts AND s.last_seen > s.first_seen
  ), dirty AS MATERIALIZED (
    SELECT DISTINCT d.bucket FROM analytics.dirty_buckets d
     WHERE d.project_id = _funnel_from_session_paths.project_id
       AND d.bucket > from_ts - interval '1 hour' AND d.bucket < to_ts
  )
  SELECT pg_catalog.array_agg(DISTINCT w.session_id) INTO v_walk
    FROM (SELECT o.session_id FROM open o
           WHERE o.project_id = _funnel_from_session_paths.project_id AND o.first_seen < from_ts
          UNION ALL
          SELECT e.session_id FROM dirty d
           CROSS JOIN LATERAL (
             SELECT x.session_id FROM analytics.events x
              WHERE x.project_id = _funnel_from_session_paths.project_id
                AND x.occurred_at >= d.bucket AND x.occurred_at < d.bucket + interval '1 hour'
                AND x.session_id IS NOT NULL
             OFFSET 0) e
          UNION ALL
          SELECT h.session_id FROM dirty d
           CROSS JOIN LATERAL (  -- one index probe per hour, as above
             SELECT y.session_id FROM analytics.session_hours y
              WHERE y.project_id = _funnel_from_session_paths.project_id AND y.bucket = d.bucket
             OFFSET 0) h) w;
  -- Every session that starts in the range: its path answers when all its
  -- events lie in the range, none share a timestamp, and its duration is
  -- within the window (which then never cuts it); the rest are walked too.
  -- One scan counts them all, and the sessions to walk, counted by the
  -- same query over their rows alone, are taken off again: cheaper than
  -- leaving them out of the scan (a hash of every session id).
  v_count_sql := pg_catalog.format($q$
      SELECT ARRAY[%s], pg_catalog.array_agg(s.session_id) FILTER (WHERE NOT s.answers)
        FROM (SELECT x.session_id, x.path,
                     (x.last_seen < $3 AND x.path IS NOT NULL AND x.last_seen - x.first_seen <= $4) AS answers
                FROM %%s
               WHERE x.project_id = $1 AND x.first_seen >= $2 AND x.first_seen < $3) s$q$,
      (SELECT pg_catalog.string_agg(
                pg_catalog.format('pg_catalog.count(*) FILTER (WHERE s.answers AND s.path COLLATE "C" %s $6[%s])',
                                  operator, k), ', ' ORDER BY k)
         FROM pg_catalog.generate_series(1, _funnel_from_session_paths.steps) AS k));
  EXECUTE pg_catalog.format(v_count_sql, 'analytics.sessions x')
    INTO v_counts, v_unanswered USING project_id, from_ts, to_ts, within, NULL, patterns;
  EXECUTE pg_catalog.format(v_count_sql, $q$(SELECT DISTINCT w.session_id FROM unnest($5::text[]) AS w(session_id)) w
                   CROSS JOIN LATERAL (SELECT y.* FROM analytics.sessions y  -- one probe per session
                                        WHERE y.project_id = $1 AND y.session_id = w.session_id OFFSET 0) x$q$)
    INTO v_walked_counts USING project_id, from_ts, to_ts, within, coalesce(v_walk, '{}'), patterns;
  SELECT pg_catalog.array_agg(c.n - p.n + w.n ORDER BY c.k) INTO v_counts
    FROM unnest(v_counts) WITH ORDINALITY AS c(n, k)
    JOIN unnest(v_walked_counts) WITH ORDINALITY AS p(n, k) ON p.k = c.k
    JOIN unnest(analytics._funnel_walk_sessions(steps, project_id, event_types, names, from_ts, to_ts,
                                                within, coalesce(v_walk, '{}') || coalesce(v_unanswered, '{}')))
           WITH ORDINALITY AS w(n, k) ON w.k = c.k;
  RETURN v_counts;
END
$function$;

COMMENT ON FUNCTION analytics._funnel_from_session_paths(integer, text, text[], text[], timestamptz, timestamptz, interval, text, text[]) IS
  'Internal: funnel() counts per step from session paths, walking over raw events the sessions a path cannot answer.';
