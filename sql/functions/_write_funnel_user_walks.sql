CREATE OR REPLACE FUNCTION analytics._write_funnel_user_walks(
  project_id text,
  funnel_id text,
  user_ids text[],
  since timestamptz[],
  until timestamptz[]
)
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET jit = off
SET plan_cache_mode = force_custom_plan
AS $function$
/*
Contract: rewrite the rows of analytics.funnel_users of a funnel saved
  by user, for the given users and span of UTC hours [since, until), from
  their raw events: one row per user and UTC hour with a step-1 event,
  entering there at the hour's first step-1 event (entered_at), with the
  hour's last one (last_entry_at), the user's last step-1 event before
  the hour (prev_entry_at) and the walk from that entry through the later
  steps over all later events (reached_at, _funnel_follow_users()). The
  span's rows are deleted first; the first row kept after it gets its
  prev_entry_at again. So the span must hold every row that may change:
  from the earliest hour changed minus the window to the end of the
  latest (_merge_funnel_users()), or everything (save_funnel()).
  Runs with plan_cache_mode = force_custom_plan: a generic plan of the
  entries' query cannot use the step's name in the index and read every
  event of the step's type, 0.5 ms per user instead of a few us. The
  entries' query says COLLATE "C" on the index's text keys (0017): no
  other index of analytics.events can then serve its user, whatever the
  statistics of a partition not yet analyzed.
Parameters:
  project_id, funnel_id  a funnel saved with count_by 'user'
  user_ids[i], since[i], until[i]  the i-th user and its span: UTC hours,
                         or '-infinity' and 'infinity'; each user once
Returns: the rows written.
Example: SELECT analytics._write_funnel_user_walks('default', 'signup', ARRAY['u1'], ARRAY['-infinity']::timestamptz[],
                                                   ARRAY['infinity']::timestamptz[]);
  (once a funnel is saved: SELECT analytics.save_funnel('signup', ARRAY['signup'], count_by => 'user', project_id => 'default'))
*/
DECLARE
  v_funnel   record;
  v_users    text[];
  v_entered  timestamptz[];
  v_last     timestamptz[];
  v_prev     timestamptz[];
  v_rows     bigint;
BEGIN
  SELECT f.steps, f.within, st.event_types, st.names INTO STRICT v_funnel
    FROM analytics.funnels f CROSS JOIN LATERAL analytics._funnel_steps(f.steps) st
   WHERE f.project_id = _write_funnel_user_walks.project_id AND f.funnel_id = _write_funnel_user_walks.funnel_id
     AND f.count_by = 'user';

  DELETE FROM analytics.funnel_users fu USING unnest(user_ids, since, until) AS u(user_id, since, until)
   WHERE fu.project_id = _write_funnel_user_walks.project_id AND fu.funnel_id = _write_funnel_user_walks.funnel_id
     AND fu.user_id = u.user_id AND fu.entered_at >= u.since AND fu.entered_at < u.until;

  -- The entries: per user and UTC hour of the span, the first and last
  -- step-1 event (one index range per user); before the first, the last
  -- step-1 event of the rows kept before the span.
  SELECT pg_catalog.array_agg(h.user_id ORDER BY h.user_id, h.entered_at),
         pg_catalog.array_agg(h.entered_at ORDER BY h.user_id, h.entered_at),
         pg_catalog.array_agg(h.last_entry_at ORDER BY h.user_id, h.entered_at),
         pg_catalog.array_agg(h.prev_entry_at ORDER BY h.user_id, h.entered_at)
    INTO v_users, v_entered, v_last, v_prev
    FROM (
      SELECT g.user_id, g.entered_at, g.last_entry_at,
             coalesce(pg_catalog.lag(g.last_entry_at) OVER (PARTITION BY g.user_id ORDER BY g.entered_at),
                      (SELECT fu.last_entry_at FROM analytics.funnel_users fu
                        WHERE fu.project_id = _write_funnel_user_walks.project_id
                          AND fu.funnel_id = _write_funnel_user_walks.funnel_id
                          AND fu.user_id = g.user_id AND fu.entered_at < g.since
                        ORDER BY fu.entered_at DESC LIMIT 1)) AS prev_entry_at
        FROM (
          SELECT u.user_id, u.since, pg_catalog.min(e.occurred_at) AS entered_at,
                 pg_catalog.max(e.occurred_at) AS last_entry_at
            FROM unnest(user_ids, since, until) AS u(user_id, since, until)
           CROSS JOIN LATERAL (
             SELECT x.occurred_at FROM analytics.events x
              WHERE x.project_id = _write_funnel_user_walks.project_id COLLATE "C"
                AND x.user_id = u.user_id COLLATE "C"
                AND x.event_type = v_funnel.event_types[1] COLLATE "C"
                AND (v_funnel.names[1] IS NULL OR x.name = v_funnel.names[1] COLLATE "C")
                AND x.occurred_at >= u.since AND x.occurred_at < u.until
             OFFSET 0  -- an index range per user, never a join over all events
           ) e
           GROUP BY u.user_id, u.since, pg_catalog.date_trunc('hour', e.occurred_at, 'UTC')
        ) g
    ) h;

  INSERT INTO analytics.funnel_users (project_id, funnel_id, user_id, entered_at, last_entry_at, prev_entry_at, reached_at)
  SELECT _write_funnel_user_walks.project_id, _write_funnel_user_walks.funnel_id, x.user_id, x.entered_at,
         x.last_entry_at, x.prev_entry_at, w.reached_at
    FROM unnest(v_users, v_entered, v_last, v_prev) WITH ORDINALITY AS x(user_id, entered_at, last_entry_at, prev_entry_at, o)
    JOIN (SELECT r.entry, pg_catalog.array_agg(r.at ORDER BY f.step) AS reached_at
            FROM analytics._funnel_follow_users(pg_catalog.cardinality(v_funnel.steps), _write_funnel_user_walks.project_id,
                                                v_funnel.event_types, v_funnel.names, 'infinity', v_funnel.within,
                                                v_users, v_entered) f
           CROSS JOIN LATERAL unnest(f.entries, f.reached_at) AS r(entry, at)
           GROUP BY r.entry) w ON w.entry = x.o;
  GET DIAGNOSTICS v_rows = ROW_COUNT;

  -- The first row after each span: its user's last step-1 event before it
  -- may have changed (or gone).
  UPDATE analytics.funnel_users fu
     SET prev_entry_at = (SELECT l.last_entry_at FROM analytics.funnel_users l
                           WHERE l.project_id = fu.project_id AND l.funnel_id = fu.funnel_id
                             AND l.user_id = fu.user_id AND l.entered_at < fu.entered_at
                           ORDER BY l.entered_at DESC LIMIT 1)
    FROM unnest(user_ids, until) AS u(user_id, until)
   CROSS JOIN LATERAL (
     SELECT n.entered_at FROM analytics.funnel_users n
      WHERE n.project_id = _write_funnel_user_walks.project_id AND n.funnel_id = _write_funnel_user_walks.funnel_id
        AND n.user_id = u.user_id AND n.entered_at >= u.until
      ORDER BY n.entered_at LIMIT 1) nx
   WHERE fu.project_id = _write_funnel_user_walks.project_id AND fu.funnel_id = _write_funnel_user_walks.funnel_id
     AND fu.user_id = u.user_id AND fu.entered_at = nx.entered_at;
  RETURN v_rows;
END
$function$;

COMMENT ON FUNCTION analytics._write_funnel_user_walks(text, text, text[], timestamptz[], timestamptz[]) IS
  'Internal: rewrite the per-user, per-hour entries of a funnel saved by user, and their walks, over a span of hours.';
