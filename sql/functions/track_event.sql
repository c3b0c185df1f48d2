CREATE OR REPLACE FUNCTION analytics.track_event(
  session_id    text,
  event_type    text,
  name          text DEFAULT NULL,
  user_id       text DEFAULT NULL,
  properties    jsonb DEFAULT '{}',
  occurred_at   timestamptz DEFAULT now(),
  event_id      uuid DEFAULT NULL,
  experiment_id text DEFAULT NULL,
  variant_key   text DEFAULT NULL,
  value         double precision DEFAULT NULL,
  project_id    text DEFAULT 'default'
)
RETURNS uuid
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $function$
/*
Contract: the RPC door for one event (POST /rpc/track_event with named
  parameters). Validates it by the same rules as track_events() and stores
  it; returns its event_id (the given one, or a new one). Calling it again
  with the same event_id and occurred_at stores nothing and returns the same
  id, so a client may retry freely.
  Unlike track_events(), an invalid event raises an error (the caller is
  told at once), so nothing is written to rejected_events.
Parameters: see the README (Ingest). experimentId/variantKey inside
  properties are promoted to experiment_id/variant_key. project_id defaults
  to the caller's JWT project when bound, else 'default'.
Returns: the event_id.
Errors:
  22023  the event is invalid; DETAIL carries the rejection code
         (missing_session_id, invalid_event_type, ...), MESSAGE the reason
  42501  project_id is not the caller's project (JWT claim project_id)
Security: SECURITY DEFINER; EXECUTE for analytics_ingest.
Example: SELECT analytics.track_event(session_id => 's1', event_type => 'pageview', name => '/home');
*/
DECLARE
  v_project  text := analytics._claimed_project_id();
  v_event_id uuid := coalesce(track_event.event_id, pg_catalog.gen_random_uuid());
  v_document jsonb;
  v_result   jsonb;
  v_rejected jsonb;
BEGIN
  v_document := pg_catalog.jsonb_build_object(
    'session_id', track_event.session_id,
    'event_type', track_event.event_type,
    'name', track_event.name,
    'user_id', track_event.user_id,
    'properties', track_event.properties,
    'occurred_at', coalesce(track_event.occurred_at, pg_catalog.now()),
    'event_id', v_event_id,
    'experiment_id', track_event.experiment_id,
    'variant_key', track_event.variant_key,
    'value', CASE WHEN track_event.value IS NULL THEN NULL
                  WHEN track_event.value::text IN ('NaN', 'Infinity', '-Infinity') THEN pg_catalog.to_jsonb(track_event.value::text)
                  ELSE pg_catalog.to_jsonb(track_event.value) END,
    -- The default 'default' yields to the caller's bound project.
    'project_id', CASE WHEN v_project IS NOT NULL AND track_event.project_id = 'default' THEN NULL
                       ELSE track_event.project_id END);
  -- Absent and null mean the same; drop top-level nulls (not those inside properties).
  v_document := (SELECT pg_catalog.jsonb_object_agg(d.key, d.value)
                   FROM pg_catalog.jsonb_each(v_document) d
                  WHERE d.value <> 'null'::jsonb);

  v_result := analytics._store_documents_bisect(ARRAY[v_document::text], ARRAY[0], 'track_event', v_project);
  v_rejected := v_result -> 'rejected' -> 0;
  IF v_rejected IS NOT NULL THEN
    RAISE EXCEPTION USING
      ERRCODE = CASE WHEN v_rejected ->> 'code' = 'project_forbidden' THEN '42501' ELSE '22023' END,
      MESSAGE = v_rejected ->> 'reason',
      DETAIL = 'rejection code: ' || (v_rejected ->> 'code'),
      HINT = 'See the README section Validation for the rules of each field.';
  END IF;
  RETURN v_event_id;
END
$function$;

COMMENT ON FUNCTION analytics.track_event(text, text, text, text, jsonb, timestamptz, uuid, text, text, double precision, text) IS
  'RPC: store one event; returns its event_id. Raises 22023 (DETAIL: rejection code) for an invalid event.';
