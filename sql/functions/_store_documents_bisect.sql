CREATE OR REPLACE FUNCTION analytics._store_documents_bisect(
  documents text[],
  batch_indexes integer[],
  source text,
  bound_project text
)
RETURNS jsonb
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $function$
/*
Contract: store a batch through analytics._store_documents(), and when a
  document still breaks the set-based statement (a value no pre-check
  catches, such as 2024-02-30 or malformed JSON text), split the batch in
  halves and retry each, until the offending documents stand alone; those are
  rejected with the code of the field at fault (_diagnose_document():
  invalid_json, invalid_event_id, invalid_occurred_at, invalid_value, or
  invalid_data) and PostgreSQL's own message in the reason.
  The common case is one statement; a batch with k bad documents costs about
  2 k log2(n) statements. A bad document never sinks the batch.
Parameters: as analytics._store_documents().
Returns: {"accepted", "duplicates", "rejected": [...]}, merged over the halves.
Errors: only those that are not data errors (class 22), e.g. lock timeouts.
Example: SELECT analytics._store_documents_bisect(ARRAY['{"session_id":"s","event_type":"click","occurred_at":"2024-02-30"}'], ARRAY[0], 'psql', NULL);
*/
DECLARE
  v_n      integer := coalesce(pg_catalog.cardinality(documents), 0);
  v_half   integer;
  v_left   jsonb;
  v_right  jsonb;
  v_reason text;
  v_diagnosis text[];
BEGIN
  IF v_n = 0 THEN
    RETURN '{"accepted": 0, "duplicates": 0, "rejected": []}'::jsonb;
  END IF;
  BEGIN
    RETURN analytics._store_documents(documents, batch_indexes, source, bound_project);
  EXCEPTION WHEN data_exception THEN
    v_reason := SQLERRM;
  END;
  IF v_n = 1 THEN
    v_diagnosis := analytics._diagnose_document(documents[1]);
    v_diagnosis[2] := coalesce(v_diagnosis[2], v_reason);
    INSERT INTO analytics.rejected_events (project_id, source, batch_index, code, reason, document)
    VALUES (coalesce(bound_project, 'default'), source, batch_indexes[1], v_diagnosis[1], v_diagnosis[2], documents[1]);
    RETURN pg_catalog.jsonb_build_object(
      'accepted', 0, 'duplicates', 0,
      'rejected', pg_catalog.jsonb_build_array(pg_catalog.jsonb_build_object(
        'index', batch_indexes[1], 'code', v_diagnosis[1], 'reason', v_diagnosis[2])));
  END IF;
  v_half := v_n / 2;
  v_left := analytics._store_documents_bisect(documents[1:v_half], batch_indexes[1:v_half], source, bound_project);
  v_right := analytics._store_documents_bisect(documents[v_half + 1:v_n], batch_indexes[v_half + 1:v_n], source, bound_project);
  RETURN pg_catalog.jsonb_build_object(
    'accepted', (v_left ->> 'accepted')::bigint + (v_right ->> 'accepted')::bigint,
    'duplicates', (v_left ->> 'duplicates')::bigint + (v_right ->> 'duplicates')::bigint,
    'rejected', (v_left -> 'rejected') || (v_right -> 'rejected'));
END
$function$;

COMMENT ON FUNCTION analytics._store_documents_bisect(text[], integer[], text, text) IS
  'Internal: _store_documents() that isolates documents failing a cast by bisection, so one bad event never sinks a batch.';
