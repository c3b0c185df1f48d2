CREATE OR REPLACE FUNCTION analytics.recent_events(
  hours integer DEFAULT 1,
  lim integer DEFAULT 1000,
  event_type text DEFAULT NULL,
  user_id text DEFAULT NULL,
  session_id text DEFAULT NULL,
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
AS $function$
/*
Contract: the raw events of the last `hours` hours, newest first, never more
  than `lim` rows (seed 000's GET /api/analytics/track?hours=1), optionally
  only of one event type, user or session. The one read function that reads
  raw events: the time bound keeps it to the newest partitions.
Parameters: hours 1..2160; lim 1..10000; event_type (case is ignored),
  user_id, session_id: filters; project_id: NULL means the caller's JWT project.
Returns: a JSON array of events, newest first: [{"event_id", "occurred_at",
  "received_at", "session_id", "user_id", "event_type", "name",
  "experiment_id", "variant_key", "value", "properties"}].
Errors: 22023 hours or lim out of range; 42501 another tenant or no project claim.
Security: SECURITY DEFINER; EXECUTE for analytics_reader and analytics_admin.
Example: SELECT analytics.recent_events(hours => 1, lim => 100, event_type => 'tool_used');
*/
DECLARE
  v_project text := analytics._resolve_project(recent_events.project_id);
  v_type    text := pg_catalog.lower(recent_events.event_type);
  v_user    text := recent_events.user_id;
  v_session text := recent_events.session_id;
  v_since   timestamptz;
  v_result  jsonb;
BEGIN
  IF hours IS NULL OR hours NOT BETWEEN 1 AND 2160 THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = pg_catalog.format('hours must be between 1 and 2160, not %s', hours);
  END IF;
  IF lim IS NULL OR lim NOT BETWEEN 1 AND 10000 THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = pg_catalog.format('lim must be between 1 and 10000, not %s', lim),
      HINT = 'Page through older events with a smaller hours window.';
  END IF;
  v_since := pg_catalog.now() - pg_catalog.make_interval(hours => hours);
  SELECT coalesce(pg_catalog.jsonb_agg(pg_catalog.to_jsonb(r) ORDER BY r.occurred_at DESC, r.event_id DESC), '[]')
    INTO v_result
    FROM (SELECT e.event_id, e.occurred_at, e.received_at, e.session_id, e.user_id, e.event_type, e.name,
                 e.experiment_id, e.variant_key, e.value, e.properties
            FROM analytics.events e
           WHERE e.occurred_at >= v_since
             AND (v_project IS NULL OR e.project_id = v_project)
             AND (v_type IS NULL OR e.event_type = v_type)
             AND (v_user IS NULL OR e.user_id = v_user)
             AND (v_session IS NULL OR e.session_id = v_session)
           ORDER BY e.occurred_at DESC, e.event_id DESC
           LIMIT lim) r;
  RETURN v_result;
END
$function$;

COMMENT ON FUNCTION analytics.recent_events(integer, integer, text, text, text, text) IS
  'RPC: raw events of the last N hours, newest first, at most lim rows, filtered by type, user or session.';
