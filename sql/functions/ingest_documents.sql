CREATE OR REPLACE FUNCTION analytics.ingest_documents(documents text[], source text DEFAULT 'ingest')
RETURNS jsonb
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $function$
/*
Contract: store a batch of event documents given as JSON texts, one object
  per element: the bulk door used by `pgpkg ingest` (NDJSON lines staged
  with COPY) and by track_events(). Every document is either stored in
  analytics.events or recorded in analytics.rejected_events with its reason;
  duplicates (same project_id, event_id and occurred_at, or a retry without
  occurred_at within a day) are counted and not stored twice.
Parameters:
  documents  event objects as JSON text; keys as in track_event()
  source     a label recorded with rejections (e.g. 'ingest:events.ndjson')
Returns: {"accepted": n, "duplicates": n, "rejected": [{"index": i, "code": "...", "reason": "..."}]},
  index counting from 0.
Errors:
  22004  documents is NULL
  54000  more documents than the setting max_batch_size (default 10000)
Security: SECURITY DEFINER; EXECUTE for analytics_ingest. A caller bound to
  a project (JWT claim project_id) may only write that project.
Example: SELECT analytics.ingest_documents(ARRAY['{"session_id":"s1","event_type":"pageview","name":"/"}']);
*/
DECLARE
  v_max integer := analytics._setting('max_batch_size')::integer;
  v_n   integer := coalesce(pg_catalog.cardinality(documents), 0);
BEGIN
  IF documents IS NULL THEN
    RAISE EXCEPTION USING
      ERRCODE = '22004',
      MESSAGE = 'documents must not be null',
      HINT = 'Pass an array of JSON object texts, e.g. ARRAY[''{"session_id":"s1","event_type":"pageview"}''].';
  END IF;
  IF v_n > v_max THEN
    RAISE EXCEPTION USING
      ERRCODE = '54000',
      MESSAGE = pg_catalog.format('a batch of %s events exceeds the limit of %s', v_n, v_max),
      HINT = 'Split the batch, or raise the setting max_batch_size in analytics.settings.';
  END IF;
  RETURN analytics._store_documents_bisect(
    documents,
    ARRAY(SELECT pg_catalog.generate_series(0, v_n - 1)),
    coalesce(source, 'ingest'),
    analytics._claimed_project_id());
END
$function$;

COMMENT ON FUNCTION analytics.ingest_documents(text[], text) IS
  'Store a batch of event documents (JSON texts); returns {accepted, duplicates, rejected[]}. Used by pgpkg ingest.';
