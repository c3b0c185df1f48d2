CREATE OR REPLACE FUNCTION analytics.save_funnel(
  funnel_id text,
  steps text[],
  within interval DEFAULT '1 day',
  count_by text DEFAULT 'session',
  project_id text DEFAULT NULL
)
RETURNS jsonb
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $function$
/*
Contract: save a funnel of one project, so that funnel() with the same
  steps, window and count_by answers from rollups kept by the rollup job,
  in milliseconds, instead of reading raw events.
  - By session: walks every session of the project through the funnel
    now, from all raw events kept (analytics.funnel_sessions), and sums
    them per hour (analytics.rollup_hourly_funnel_steps); from then on the
    rollup job walks each session it touches again.
  - By user: walks every user of the project (analytics.users) from each
    UTC hour where they have a step-1 event, over all raw events kept
    (analytics.funnel_users); from then on the rollup job walks again each
    user whose events changed, from the hour changed minus the window.
  Saving under a name already saved replaces that funnel.
  Costs the rollup job: one more walk per touched session or user;
  drop_funnel() when a dashboard no longer shows it.
Parameters:
  funnel_id   a name: lower case letters, digits and _ . : -, at most 64
  steps, within, count_by  as for funnel()
  project_id  the project; required for an admin who is bound to none
Returns: {"project_id", "funnel_id", "steps", "within_s", "count_by",
  "sessions"}: the sessions that entered it; by user, "users" (the users
  who entered it) and "entries" (the rows written, one per user and hour
  of entry) instead of "sessions".
Errors: 22023 a bad name, steps, window or count_by, or no project;
  23505 the same steps, window and count_by are already saved under
  another name.
Locks: the refresh_rollups advisory lock (waits for a running refresh).
Security: SECURITY DEFINER; EXECUTE for analytics_admin.
Example: SELECT analytics.save_funnel('signup', ARRAY['pageview=/pricing', 'click=cta-signup', 'conversion'],
                                      within => '1 hour', project_id => 'acme');
*/
DECLARE
  v_project text := analytics._admin_project(save_funnel.project_id, 'save_funnel');
  v_within  interval := analytics._funnel_window(within);
  v_written record;
  v_entries bigint;
  v_users   text[];   -- by user: every user of the project
BEGIN
  PERFORM analytics._funnel_steps(steps);  -- 22023 for bad steps
  PERFORM analytics._check_count_by(count_by);
  IF funnel_id IS NULL OR funnel_id !~ '^[a-z0-9][a-z0-9_.:-]{0,63}$' THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = pg_catalog.format('invalid funnel name %L', funnel_id),
      HINT = 'Lower case letters, digits and _ . : -, at most 64 characters, e.g. ''pricing-to-signup''.';
  END IF;
  PERFORM pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('analytics.refresh_rollups'));

  DELETE FROM analytics.funnels f WHERE f.project_id = v_project AND f.funnel_id = save_funnel.funnel_id;
  INSERT INTO analytics.funnels (project_id, funnel_id, steps, within, count_by)
  VALUES (v_project, save_funnel.funnel_id, save_funnel.steps, v_within, save_funnel.count_by);

  IF count_by = 'user' THEN
    SELECT coalesce(pg_catalog.array_agg(u.user_id), '{}') INTO v_users
      FROM analytics.users u WHERE u.project_id = v_project;
    v_entries := analytics._write_funnel_user_walks(v_project, save_funnel.funnel_id, v_users,
      pg_catalog.array_fill('-infinity'::timestamptz, ARRAY[pg_catalog.cardinality(v_users)]),
      pg_catalog.array_fill('infinity'::timestamptz, ARRAY[pg_catalog.cardinality(v_users)]));
    ANALYZE analytics.funnel_users;
    RETURN pg_catalog.jsonb_build_object(
      'project_id', v_project, 'funnel_id', save_funnel.funnel_id, 'steps', steps,
      'within_s', EXTRACT(epoch FROM v_within)::float8, 'count_by', count_by,
      'users', (SELECT pg_catalog.count(DISTINCT fu.user_id) FROM analytics.funnel_users fu
                 WHERE fu.project_id = v_project AND fu.funnel_id = save_funnel.funnel_id),
      'entries', v_entries);
  END IF;

  v_written := analytics._write_funnel_walks(v_project, save_funnel.funnel_id, $q$
      SELECT e.session_id AS entity, e.occurred_at AS at, st.i
        FROM unnest($2::text[], $3::text[]) WITH ORDINALITY AS st(event_type, name, i)
        JOIN analytics.events e ON e.event_type = st.event_type AND (st.name IS NULL OR e.name = st.name)
       WHERE e.project_id = $1 AND e.session_id IS NOT NULL$q$);
  PERFORM analytics._recompute_funnel_hours(v_project, save_funnel.funnel_id, v_written.hours);
  -- The rows just written change the table's size by orders of magnitude:
  -- plan the rollup job's next walks with statistics that know them.
  ANALYZE analytics.funnel_sessions;

  RETURN pg_catalog.jsonb_build_object('project_id', v_project, 'funnel_id', save_funnel.funnel_id, 'steps', steps,
                                       'within_s', EXTRACT(epoch FROM v_within)::float8, 'count_by', count_by,
                                       'sessions', v_written.sessions);
END
$function$;

COMMENT ON FUNCTION analytics.save_funnel(text, text[], interval, text, text) IS
  'Admin: save a funnel so that funnel() answers it from an hourly rollup kept by the rollup job.';
