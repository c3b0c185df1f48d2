CREATE OR REPLACE FUNCTION analytics._funnel_follow_users(
  steps integer,
  project_id text,
  event_types text[],
  names text[],
  to_ts timestamptz,
  within interval,
  user_ids text[],
  entered_at timestamptz[]
)
RETURNS TABLE (step integer, entries integer[], reached_at timestamptz[])
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $function$
/*
Contract: follow users who entered a funnel (step 1) through its steps 2
  to n, as _funnel_sql() walks them: step k is the user's first step-k
  event strictly after the event that reached step k-1, at most `within`
  after the entry, and before to_ts. One index probe per entry and step
  (_funnel_probe_users()), so the cost grows with the entries and never
  with the events. Shared by _funnel_from_user_steps() and
  _write_funnel_user_walks().
Parameters:
  steps                 the number of steps
  project_id            the tenant (resolved by the caller)
  event_types, names    the steps, as _funnel_steps() parses them
  to_ts                 events from it on do not count ('infinity': all)
  within                the window, in seconds (_funnel_window())
  user_ids, entered_at  the entries: the i-th entered at entered_at[i]
                        (a user may have several entries)
Returns: a row per step (1 is the entry itself) that any entry reached:
  the entries that reached it (ordinals in user_ids) and when.
Example: SELECT * FROM analytics._funnel_follow_users(2, 'default', ARRAY['signup', 'conversion'], ARRAY[NULL, NULL],
           'infinity', '1 day', ARRAY['u1'], ARRAY[now() - interval '1 hour']);
*/
DECLARE
  v_ids      integer[];
  v_users    text[] := coalesce(user_ids, '{}');
  v_at       timestamptz[] := coalesce(entered_at, '{}');  -- when each entry reached the step before
  v_until    timestamptz[];                                -- its entry plus the window
BEGIN
  SELECT coalesce(pg_catalog.array_agg(u.o::integer ORDER BY u.o), '{}'), pg_catalog.array_agg(u.at + within ORDER BY u.o)
    INTO v_ids, v_until
    FROM unnest(v_at) WITH ORDINALITY AS u(at, o);
  IF pg_catalog.cardinality(v_ids) > 0 THEN
    RETURN QUERY SELECT 1, v_ids, v_at;
  END IF;
  FOR k IN 2 .. steps LOOP
    EXIT WHEN pg_catalog.cardinality(v_ids) = 0;
    SELECT p.found_entries, p.found_users, p.found_until, p.found_at INTO v_ids, v_users, v_until, v_at
      FROM analytics._funnel_probe_users(project_id, event_types[k], names[k],
             (SELECT pg_catalog.min(a) FROM unnest(v_at) AS a),
             least(to_ts, (SELECT pg_catalog.max(a) FROM unnest(v_until) AS a) + interval '1 microsecond'),
             v_ids, v_users, v_at, v_until) p;
    EXIT WHEN v_ids IS NULL;
    RETURN QUERY SELECT k, v_ids, v_at;
  END LOOP;
END
$function$;

COMMENT ON FUNCTION analytics._funnel_follow_users(integer, text, text[], text[], timestamptz, interval, text[], timestamptz[]) IS
  'Internal: follow users who entered a funnel through its steps 2 to n, one index probe per entry and step.';
