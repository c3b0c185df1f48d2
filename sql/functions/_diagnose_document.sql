CREATE OR REPLACE FUNCTION analytics._diagnose_document(document text)
RETURNS text[]
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
SET TimeZone = 'UTC'
SET DateStyle = 'ISO, MDY'
AS $function$
/*
Contract: for one event document that made the set-based insert of
  analytics._store_documents() raise a data error, tell which field is at
  fault: returns ARRAY[code, reason], code one of invalid_json,
  invalid_event_id, invalid_occurred_at, invalid_value, or invalid_data when
  no single field explains it; the reason carries PostgreSQL's message.
  Called only on the error path, once per offending document.
Example: SELECT analytics._diagnose_document('{"session_id":"s","event_type":"x","event_id":"nope"}');
*/
DECLARE
  v_doc jsonb;
  v_ignored text;
BEGIN
  BEGIN
    v_doc := document::jsonb;
  EXCEPTION WHEN data_exception THEN
    RETURN ARRAY['invalid_json', 'the event is not valid JSON: ' || SQLERRM];
  END;
  BEGIN
    v_ignored := (v_doc ->> 'event_id')::uuid::text;
  EXCEPTION WHEN data_exception THEN
    RETURN ARRAY['invalid_event_id', 'event_id must be a UUID: ' || SQLERRM];
  END;
  BEGIN
    v_ignored := (v_doc ->> 'occurred_at')::timestamptz::text;
  EXCEPTION WHEN data_exception THEN
    RETURN ARRAY['invalid_occurred_at', 'occurred_at is not a valid timestamp: ' || SQLERRM];
  END;
  BEGIN
    v_ignored := (v_doc -> 'value')::double precision::text;
  EXCEPTION WHEN data_exception THEN
    RETURN ARRAY['invalid_value', 'value is not a double precision number: ' || SQLERRM];
  END;
  RETURN ARRAY['invalid_data', NULL];
END
$function$;

COMMENT ON FUNCTION analytics._diagnose_document(text) IS
  'Internal: which field of an event document PostgreSQL refused (error path of _store_documents_bisect).';
