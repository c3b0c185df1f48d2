CREATE OR REPLACE FUNCTION analytics.track_events(events json)
RETURNS jsonb
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $function$
/*
Contract: the RPC door for batches (POST /rpc/track_events {"events": [...]}).
  Stores the valid events in one set-based insert and records each invalid
  one in analytics.rejected_events with its reason: a bad event never sinks
  the batch. Duplicates are counted, not stored twice, within and across
  batches: an event is identified by (project_id, event_id, occurred_at),
  and a retry that omits occurred_at is recognised by its event_id among
  the last day's events.
  The parameter is json, not jsonb, on purpose: jsonb refuses a \u0000
  escape while parsing the whole argument, so one bad string would fail the
  call before this function could reject just that event.
Parameters:
  events  a JSON array of event objects with the keys of track_event():
          session_id, event_type (required), name, user_id, properties,
          occurred_at, event_id, experiment_id, variant_key, value, project_id
Returns: {"accepted": n, "duplicates": n, "rejected": [{"index": i, "code": "...", "reason": "..."}]},
  index counting from 0. Codes are listed in the README (Validation).
Errors:
  22023  events is not a JSON array
  54000  more events than the setting max_batch_size (default 10000)
Security: SECURITY DEFINER; EXECUTE for analytics_ingest.
Example: SELECT analytics.track_events('[{"session_id":"s1","event_type":"pageview","name":"/home"}]');
*/
DECLARE
  v_max integer := analytics._setting('max_batch_size')::integer;
  v_n   integer;
BEGIN
  IF events IS NULL OR pg_catalog.json_typeof(events) <> 'array' THEN
    RAISE EXCEPTION USING
      ERRCODE = '22023',
      MESSAGE = pg_catalog.format('events must be a JSON array of event objects, not %s',
                                  coalesce(pg_catalog.json_typeof(events), 'null')),
      HINT = 'POST /rpc/track_events with the body {"events": [{"session_id": "s1", "event_type": "pageview"}]}.';
  END IF;
  v_n := pg_catalog.json_array_length(events);
  IF v_n > v_max THEN
    RAISE EXCEPTION USING
      ERRCODE = '54000',
      MESSAGE = pg_catalog.format('a batch of %s events exceeds the limit of %s', v_n, v_max),
      HINT = 'Split the batch, or raise the setting max_batch_size in analytics.settings.';
  END IF;
  RETURN analytics._store_documents_bisect(
    ARRAY(SELECT e.value::text FROM pg_catalog.json_array_elements(events) WITH ORDINALITY AS e(value, ord) ORDER BY e.ord),
    ARRAY(SELECT pg_catalog.generate_series(0, v_n - 1)),
    'track_events',
    analytics._claimed_project_id());
END
$function$;

COMMENT ON FUNCTION analytics.track_events(json) IS
  'RPC: store a JSON array of events; returns {accepted, duplicates, rejected[{index, code, reason}]}. Bad events are rejected one by one, never the batch.';
