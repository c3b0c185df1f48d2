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
    matches patterns[k], provided none of its events share a timestamp and
    it lasts no longer than the window (which then never cuts it);
  - whole hours of the range are counted from analytics.rollup_hourly_paths
    (sessions by hour of their start, path and duration class): a LIKE per
    row, not per session. An hour with a row that cannot answer (a NULL
    path, a duration class beyond the window) is read session by session,
    as are the partial hours at the range's ends;
  - every other session that may count is walked over its raw events in
    the range (_funnel_walk_sessions): those that start in the range but
    fail the above, those open at from_ts or at to_ts (they straddle an
    end), and those with events in an hour written since the last
    refresh_rollups() (their raw events now, and their facts as of that
    refresh: a session whose events there were deleted is one too). The
    walked ones that the rollup or the scan counted are counted again over
    their own rows and taken off.
Parameters:
  steps                 the number of steps
  project_id            the tenant (resolved by funnel())
  event_types, names    the steps, as _funnel_steps() parses them
  from_ts, to_ts        the range, within the raw and the hourly retention
  within                the window, in seconds (_funnel_window())
  operator, patterns    from _funnel_step_patterns() ('~~' or '~', one per step)
Returns: the sessions reaching each step.
Example: SELECT analytics._funnel_from_session_paths(2, 'default', ARRAY['signup', 'conversion'], ARRAY[NULL, NULL],
           now() - interval '1 day', now(), '1 day', p.operator, p.patterns)
           FROM analytics._funnel_step_patterns('default', ARRAY['signup', 'conversion'], ARRAY[NULL, NULL]) p;
*/
DECLARE
  v_first         timestamptz;  -- the first whole hour of the range
  v_last          timestamptz;  -- the end of its last whole hour
  v_matches       text;         -- per step, the count of the rows whose path matches (r: rollup or sessions)
  v_walk          text[];       -- sessions that straddle an end or changed since the last refresh
  v_unanswered    text[];       -- sessions starting in the range that their path cannot answer
  v_read          timestamptz[];  -- hours read session by session: their starts ...
  v_read_end      timestamptz[];  -- ... and ends
  v_count_sql     text;         -- the count over sessions' paths, FROM left open
  v_counts        bigint[];
  v_rolled_counts bigint[];     -- the count over the rollup's whole hours
  v_walked_counts bigint[];     -- what the count gives for the sessions in v_walk
  v_walk_counts   bigint[];     -- the walk over raw events of the sessions in v_walk and v_unanswered
  v_dirty         timestamptz[];  -- the hours of the range written since the last refresh, in order
BEGIN
  SELECT w.first_hour, w.end_hour INTO v_first, v_last FROM analytics._whole_hours(from_ts, to_ts) w;
  SELECT pg_catalog.string_agg(
           pg_catalog.format('coalesce(pg_catalog.sum(r.n) FILTER (WHERE r.answers AND r.path COLLATE "C" %s $6[%s]), 0)',
                             operator, k), ', ' ORDER BY k)
    INTO v_matches FROM pg_catalog.generate_series(1, _funnel_from_session_paths.steps) AS k;

  -- Sessions whose path cannot answer: walked over their raw events.
  -- First those open at from_ts or at to_ts (found by the GiST index alone,
  -- in every tenant, then filtered), and those with events in an hour
  -- written since the last refresh_rollups() (their raw events now, and
  -- their facts as of that refresh: a session whose events there were
  -- deleted is one too).
  v_dirty := analytics._hours_written_since_refresh(project_id, from_ts, to_ts);
  WITH open AS MATERIALIZED (
    SELECT s.project_id, s.session_id, s.first_seen FROM analytics.sessions s
     WHERE (pg_catalog.tstzrange(s.first_seen, s.last_seen, '[]') @> from_ts
            OR pg_catalog.tstzrange(s.first_seen, s.last_seen, '[]') @> to_ts)
       AND s.last_seen > s.first_seen
  )
  SELECT pg_catalog.array_agg(w.session_id) INTO v_walk
    FROM (SELECT o.session_id FROM open o
           WHERE o.project_id = _funnel_from_session_paths.project_id AND o.first_seen < to_ts
          UNION  -- each once; a hash of them, not a sort
          SELECT e.session_id FROM unnest(v_dirty) AS d(bucket)
           CROSS JOIN LATERAL (
             SELECT x.session_id FROM analytics.events x
              WHERE x.project_id = _funnel_from_session_paths.project_id
                -- the partitions to open, bounded by values (not by d.bucket, which prunes none)
                AND x.occurred_at >= v_dirty[1] AND x.occurred_at < v_dirty[pg_catalog.cardinality(v_dirty)] + interval '1 hour'
                AND x.occurred_at >= d.bucket AND x.occurred_at < d.bucket + interval '1 hour'
                AND x.session_id IS NOT NULL
             OFFSET 0) e
          UNION
          SELECT h.session_id FROM unnest(v_dirty) AS d(bucket)
           CROSS JOIN LATERAL (  -- one index probe per hour, as above
             SELECT y.session_id FROM analytics.session_hours y
              WHERE y.project_id = _funnel_from_session_paths.project_id AND y.bucket = d.bucket
             OFFSET 0) h) w;

  -- Whole hours from the rollup, a row per (hour, path, duration class):
  -- it answers when its path is known and its class is within the window.
  -- Hours with a row that does not answer are read session by session.
  EXECUTE pg_catalog.format($q$
      WITH r AS MATERIALIZED (
        SELECT p.bucket, p.path, p.sessions AS n, coalesce(p.path IS NOT NULL AND p.duration_bound <= $4, false) AS answers
          FROM analytics.rollup_hourly_paths p
         WHERE p.project_id = $1 AND p.bucket >= $2 AND p.bucket < $3
      ), unanswered AS (
        SELECT DISTINCT r.bucket FROM r WHERE NOT r.answers
      )
      SELECT ARRAY[%s], (SELECT pg_catalog.array_agg(u.bucket) FROM unanswered u)
        FROM r WHERE r.bucket NOT IN (SELECT u.bucket FROM unanswered u)$q$, v_matches)
    INTO v_rolled_counts, v_read USING project_id, v_first, v_last, within, NULL, patterns;
  v_read_end := ARRAY(SELECT h + interval '1 hour' FROM unnest(coalesce(v_read, '{}')) AS h);
  -- The partial hours at both ends.
  v_read := coalesce(v_read, '{}') || ARRAY[from_ts, v_last];
  v_read_end := v_read_end || ARRAY[least(v_first, to_ts), to_ts];

  -- Sessions read one by one: a session answers when its path is known and
  -- it lasts no longer than the window (all its events then lie in the
  -- range, unless it is open at to_ts: walked, and taken off below).
  v_count_sql := pg_catalog.format($q$
      SELECT ARRAY[%s], pg_catalog.array_agg(r.session_id) FILTER (WHERE NOT r.answers)
        FROM (SELECT x.session_id, x.path, 1 AS n,
                     (x.path IS NOT NULL AND x.last_seen - x.first_seen <= $4) AS answers
                FROM %%s
               WHERE x.project_id = $1 AND x.first_seen >= $2 AND x.first_seen < $3) r$q$, v_matches);
  EXECUTE pg_catalog.format(v_count_sql, $q$unnest($7::timestamptz[], $8::timestamptz[]) AS w(lo, hi)
                   CROSS JOIN LATERAL (SELECT y.* FROM analytics.sessions y  -- one index range per span
                                        WHERE y.project_id = $1 AND y.first_seen >= w.lo AND y.first_seen < w.hi
                                       OFFSET 0) x$q$)
    INTO v_counts, v_unanswered USING project_id, from_ts, to_ts, within, NULL, patterns, v_read, v_read_end;
  EXECUTE pg_catalog.format(v_count_sql, $q$(SELECT DISTINCT w.session_id FROM unnest($5::text[]) AS w(session_id)) w
                   CROSS JOIN LATERAL (SELECT y.* FROM analytics.sessions y  -- one probe per session
                                        WHERE y.project_id = $1 AND y.session_id = w.session_id OFFSET 0) x$q$)
    INTO v_walked_counts USING project_id, from_ts, to_ts, within, coalesce(v_walk, '{}'), patterns;
  -- The walk in a statement of its own: in the join below, the planner
  -- evaluated the function twice.
  v_walk_counts := analytics._funnel_walk_sessions(steps, project_id, event_types, names, from_ts, to_ts,
                                                   within, coalesce(v_walk, '{}') || coalesce(v_unanswered, '{}'));
  SELECT pg_catalog.array_agg(c.n + r.n - p.n + w.n ORDER BY c.k) INTO v_counts
    FROM unnest(v_counts) WITH ORDINALITY AS c(n, k)
    JOIN unnest(v_rolled_counts) WITH ORDINALITY AS r(n, k) ON r.k = c.k
    JOIN unnest(v_walked_counts) WITH ORDINALITY AS p(n, k) ON p.k = c.k
    JOIN unnest(v_walk_counts) WITH ORDINALITY AS w(n, k) ON w.k = c.k;
  RETURN v_counts;
END
$function$;

COMMENT ON FUNCTION analytics._funnel_from_session_paths(integer, text, text[], text[], timestamptz, timestamptz, interval, text, text[]) IS
  'Internal: funnel() counts per step from session paths, walking over raw events the sessions a path cannot answer.';
