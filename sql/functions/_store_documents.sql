CREATE OR REPLACE FUNCTION analytics._store_documents(
  documents text[],
  batch_indexes integer[],
  source text,
  bound_project text
)
RETURNS jsonb
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET TimeZone = 'UTC'
SET DateStyle = 'ISO, MDY'
AS $function$
/*
Contract: validate a batch of event documents (JSON object texts) and store
  it in one set-based statement: the valid events go to analytics.events
  (duplicates skipped), the invalid ones to analytics.rejected_events with a
  code and a reason, and the (project, hour) buckets of the stored events are
  marked in analytics.dirty_buckets. The one place where an event document
  is validated and stored; every ingest path ends here.
Parameters:
  documents      event documents, one JSON object per element (text: may
                 hold \u0000 escapes, which are rejected, not fatal)
  batch_indexes  the position of each document in the caller's batch,
                 reported back in "rejected"
  source         where the batch came from, recorded with rejections
  bound_project  the caller's project (analytics._claimed_project_id()), or
                 NULL; events of another project are rejected
Returns: {"accepted": n, "duplicates": n, "rejected": [{"index", "code", "reason"}]}
Errors: a value PostgreSQL refuses to cast (an event_id that is no UUID, a
  2024-02-30 date, a number beyond double precision, malformed JSON text)
  raises a data_exception (class 22); analytics._store_documents_bisect()
  isolates the event and analytics._diagnose_document() names the field.
Validation rules, in order (the first that fails is the reason):
  nul_character, not_an_object, unknown_key, invalid_project_id,
  project_forbidden, missing_session_id, invalid_session_id,
  missing_event_type, invalid_event_type (^[a-z][a-z0-9_.:-]{0,63}$ after
  lower-casing), invalid_user_id, invalid_name, invalid_experiment_id,
  invalid_variant_key, field_too_long (max_text_length), invalid_properties,
  properties_too_large (max_properties_bytes), invalid_value,
  invalid_event_id, invalid_occurred_at, occurred_at_in_future
  (max_clock_skew), occurred_at_too_old (raw_retention_days); and on the
  error path invalid_json, invalid_event_id, invalid_occurred_at,
  invalid_value, invalid_data.
Performance: each document is parsed once and its keys extracted in one
  pass; naming rules run once per distinct value. The insert, with its
  indexes, is the larger part of the cost.
Locks: row locks of the inserted keys, taken in key order so that
  concurrent batches cannot deadlock on a shared event_id.
Example: SELECT analytics._store_documents(ARRAY['{"session_id":"s1","event_type":"pageview"}'], ARRAY[0], 'psql', NULL);
*/
DECLARE
  v_now          timestamptz := pg_catalog.now();
  v_max_props    integer := analytics._setting('max_properties_bytes')::integer;
  v_max_text     integer := analytics._setting('max_text_length')::integer;
  v_skew         interval := analytics._setting('max_clock_skew')::interval;
  v_oldest       timestamptz := v_now - pg_catalog.make_interval(hours => 24 * analytics._setting('raw_retention_days')::integer);
  v_known_keys   text[] := ARRAY['project_id', 'event_id', 'occurred_at', 'session_id', 'user_id',
                                 'event_type', 'name', 'experiment_id', 'variant_key', 'value', 'properties'];
  v_result       jsonb;
BEGIN
  WITH input AS (
    SELECT t.batch_index, t.document
      FROM unnest(batch_indexes, documents) AS t(batch_index, document)
  ),
  parsed AS MATERIALIZED (
    -- A \u0000 escape (not preceded by an escaping backslash) makes the jsonb
    -- cast fail; find it first, in the raw text. MATERIALIZED: parse each
    -- document once, not once per field that reads it.
    SELECT i.batch_index, i.document, n.has_nul,
           CASE WHEN i.document IS NOT NULL AND NOT n.has_nul THEN i.document::jsonb END AS doc
      FROM input i
     CROSS JOIN LATERAL (
       SELECT coalesce(pg_catalog.strpos(i.document, '\u0000') > 0
                       AND i.document ~ '(^|[^\\])(\\\\)*\\u0000', false) AS has_nul
     ) n
  ),
  fields AS MATERIALIZED (
    -- Every key in one pass (jsonb_to_record), as jsonb, so that each value's
    -- JSON type can be checked; MATERIALIZED so that it is done once.
    SELECT p.batch_index, p.document, p.has_nul, p.doc,
           pg_catalog.jsonb_typeof(p.doc) AS doc_type,
           nullif(pg_catalog.jsonb_typeof(r.project_id), 'null')    AS project_type,
           nullif(pg_catalog.jsonb_typeof(r.session_id), 'null')    AS session_type,
           nullif(pg_catalog.jsonb_typeof(r.event_type), 'null')    AS event_type_type,
           nullif(pg_catalog.jsonb_typeof(r.user_id), 'null')       AS user_type,
           nullif(pg_catalog.jsonb_typeof(r.name), 'null')          AS name_type,
           nullif(pg_catalog.jsonb_typeof(r.experiment_id), 'null') AS experiment_type,
           nullif(pg_catalog.jsonb_typeof(r.variant_key), 'null')   AS variant_type,
           nullif(pg_catalog.jsonb_typeof(r.properties), 'null')    AS properties_type,
           nullif(pg_catalog.jsonb_typeof(r.value), 'null')         AS value_type,
           nullif(pg_catalog.jsonb_typeof(r.event_id), 'null')      AS event_id_type,
           nullif(pg_catalog.jsonb_typeof(r.occurred_at), 'null')   AS occurred_type,
           r.project_id #>> '{}'             AS project_text,
           r.session_id #>> '{}'             AS session_text,
           pg_catalog.lower(r.event_type #>> '{}') AS event_type_text,
           r.user_id #>> '{}'                AS user_text,
           r.name #>> '{}'                   AS name_text,
           r.experiment_id #>> '{}'          AS experiment_text,
           r.variant_key #>> '{}'            AS variant_text,
           r.event_id #>> '{}'               AS event_id_text,
           r.occurred_at #>> '{}'            AS occurred_text,
           r.occurred_at                     AS occurred_json,
           r.value                           AS value_json,
           r.properties                      AS properties_json
      FROM parsed p
      LEFT JOIN LATERAL pg_catalog.jsonb_to_record(
             CASE WHEN pg_catalog.jsonb_typeof(p.doc) = 'object' THEN p.doc END
           ) AS r(project_id jsonb, event_id jsonb, occurred_at jsonb, session_id jsonb, user_id jsonb,
                  event_type jsonb, name jsonb, experiment_id jsonb, variant_key jsonb, value jsonb,
                  properties jsonb) ON true
  ),
  patterns AS MATERIALIZED (
    -- The naming rules are checked once per distinct value, not once per
    -- event: a batch has few event types and projects, and a regular
    -- expression costs microseconds.
    SELECT DISTINCT 'event_type' AS field, f.event_type_text AS text FROM fields f
    UNION
    SELECT DISTINCT 'project_id', f.project_text FROM fields f
  ),
  invalid_names AS (
    SELECT p.field, p.text FROM patterns p
     WHERE p.text IS NOT NULL
       AND p.text !~ CASE p.field WHEN 'event_type' THEN '^[a-z][a-z0-9_.:-]{0,63}$'
                                  ELSE '^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$' END
  ),
  typed AS (
    -- Casts straight from the text: a value PostgreSQL refuses raises a data
    -- error, and _store_documents_bisect() isolates and diagnoses its event.
    -- The function runs with TimeZone = UTC, so a timestamp without an
    -- offset means UTC whatever the caller's session zone, and with
    -- DateStyle = 'ISO, MDY', so that a form other than ISO 8601 ('11/02/2026')
    -- reads the same whatever the caller's DateStyle; the first
    -- character must be a digit, which keeps out 'now', 'yesterday' and
    -- 'infinity'.
    SELECT f.*,
           coalesce(f.project_text, bound_project, 'default') AS project_id,
           f.occurred_type IS NULL AS occurred_defaulted,
           CASE
             WHEN f.occurred_type IS NULL THEN v_now
             WHEN f.occurred_type = 'string' AND pg_catalog.ascii(f.occurred_text) BETWEEN 48 AND 57
               THEN f.occurred_text::timestamptz
             WHEN f.occurred_type = 'number'
                  AND f.occurred_json::numeric BETWEEN 0 AND 32503680000
               THEN pg_catalog.to_timestamp(f.occurred_json::double precision)
           END AS occurred_at,
           CASE WHEN f.event_id_type = 'string' THEN f.event_id_text::uuid END AS given_event_id,
           CASE WHEN f.value_type = 'number' THEN f.value_json::double precision END AS value,
           EXISTS (SELECT 1 FROM invalid_names n WHERE n.field = 'event_type' AND n.text = f.event_type_text)
             AS event_type_invalid,
           EXISTS (SELECT 1 FROM invalid_names n WHERE n.field = 'project_id' AND n.text = f.project_text)
             AS project_invalid
      FROM fields f
  ),
  identified AS (
    SELECT t.*, coalesce(t.given_event_id, pg_catalog.gen_random_uuid()) AS event_id
      FROM typed t
  ),
  checked AS (
    SELECT t.*,
           CASE
             WHEN t.has_nul THEN 'nul_character'
             WHEN t.doc_type IS DISTINCT FROM 'object' THEN 'not_an_object'
             WHEN t.doc - v_known_keys <> '{}'::jsonb THEN 'unknown_key'
             WHEN t.project_type IS NOT NULL AND (t.project_type <> 'string' OR t.project_invalid)
               THEN 'invalid_project_id'
             WHEN bound_project IS NOT NULL AND t.project_id <> bound_project THEN 'project_forbidden'
             WHEN t.session_type IS NULL OR (t.session_type = 'string' AND pg_catalog.btrim(t.session_text) = '')
               THEN 'missing_session_id'
             WHEN t.session_type NOT IN ('string', 'number') THEN 'invalid_session_id'
             WHEN t.event_type_type IS NULL OR (t.event_type_type = 'string' AND pg_catalog.btrim(t.event_type_text) = '')
               THEN 'missing_event_type'
             WHEN t.event_type_type <> 'string' OR t.event_type_invalid THEN 'invalid_event_type'
             WHEN t.user_type NOT IN ('string', 'number') THEN 'invalid_user_id'
             WHEN t.name_type <> 'string' THEN 'invalid_name'
             WHEN t.experiment_type <> 'string' THEN 'invalid_experiment_id'
             WHEN t.variant_type <> 'string' THEN 'invalid_variant_key'
             WHEN greatest(pg_catalog.length(t.session_text), pg_catalog.length(t.user_text),
                           pg_catalog.length(t.name_text), pg_catalog.length(t.experiment_text),
                           pg_catalog.length(t.variant_text)) > v_max_text
               THEN 'field_too_long'
             WHEN t.properties_type IS NOT NULL AND t.properties_type <> 'object' THEN 'invalid_properties'
             WHEN t.properties_type = 'object' AND pg_catalog.octet_length(t.properties_json::text) > v_max_props
               THEN 'properties_too_large'
             WHEN t.value_type IS NOT NULL AND t.value_type <> 'number' THEN 'invalid_value'
             WHEN t.event_id_type IS NOT NULL AND t.given_event_id IS NULL THEN 'invalid_event_id'
             WHEN t.occurred_at IS NULL THEN 'invalid_occurred_at'
             WHEN t.occurred_at > v_now + v_skew THEN 'occurred_at_in_future'
             WHEN t.occurred_at < v_oldest THEN 'occurred_at_too_old'
           END AS code
      FROM identified t
  ),
  rejections AS (
    SELECT c.batch_index, c.code, c.document,
           CASE WHEN c.project_type = 'string' AND c.code NOT IN ('invalid_project_id', 'project_forbidden')
                THEN c.project_id ELSE coalesce(bound_project, 'default') END AS project_id,
           CASE c.code
             WHEN 'nul_character' THEN 'the event contains a NUL character (\u0000), which PostgreSQL text cannot store'
             WHEN 'not_an_object' THEN 'an event must be a JSON object'
             WHEN 'unknown_key' THEN pg_catalog.format('unknown key(s) %s; allowed keys: %s',
                  (SELECT pg_catalog.string_agg(k, ', ' ORDER BY k) FROM pg_catalog.jsonb_object_keys(c.doc - v_known_keys) k),
                  pg_catalog.array_to_string(v_known_keys, ', '))
             WHEN 'invalid_project_id' THEN 'project_id must be a string of 1 to 64 letters, digits or _ . : - starting with a letter or digit'
             WHEN 'project_forbidden' THEN pg_catalog.format('project_id %s is not the caller''s project %s', c.project_id, bound_project)
             WHEN 'missing_session_id' THEN 'session_id is required and must not be empty'
             WHEN 'invalid_session_id' THEN 'session_id must be a string or a number'
             WHEN 'missing_event_type' THEN 'event_type is required and must not be empty'
             WHEN 'invalid_event_type' THEN pg_catalog.format(
                  'event_type %s does not match ^[a-z][a-z0-9_.:-]{0,63}$ (case is ignored)', c.doc -> 'event_type')
             WHEN 'invalid_user_id' THEN 'user_id must be a string or a number'
             WHEN 'invalid_name' THEN 'name must be a string'
             WHEN 'invalid_experiment_id' THEN 'experiment_id must be a string'
             WHEN 'invalid_variant_key' THEN 'variant_key must be a string'
             WHEN 'field_too_long' THEN pg_catalog.format(
                  'session_id, user_id, name, experiment_id and variant_key are limited to %s characters (setting max_text_length)', v_max_text)
             WHEN 'invalid_properties' THEN 'properties must be a JSON object'
             WHEN 'properties_too_large' THEN pg_catalog.format(
                  'properties take %s bytes, more than the limit of %s (setting max_properties_bytes)',
                  pg_catalog.octet_length(c.properties_json::text), v_max_props)
             WHEN 'invalid_value' THEN 'value must be a JSON number'
             WHEN 'invalid_event_id' THEN 'event_id must be a UUID string such as 0b6f1a7e-3c1d-4f7a-9d55-2a8f1e4c9b10'
             WHEN 'invalid_occurred_at' THEN
                  'occurred_at must be an ISO 8601 timestamp (2026-11-22T10:15:00Z; no offset means UTC) or a number of seconds since 1970-01-01 UTC'
             WHEN 'occurred_at_in_future' THEN pg_catalog.format(
                  'occurred_at %s is more than %s in the future (setting max_clock_skew)', c.occurred_at, v_skew)
             WHEN 'occurred_at_too_old' THEN pg_catalog.format(
                  'occurred_at %s is older than the retention window of %s days (setting raw_retention_days)',
                  c.occurred_at, analytics._setting('raw_retention_days'))
           END AS reason
      FROM checked c
     WHERE c.code IS NOT NULL
  ),
  logged_rejections AS (
    INSERT INTO analytics.rejected_events (project_id, source, batch_index, code, reason, document)
    SELECT r.project_id, source, r.batch_index, r.code, r.reason, r.document
      FROM rejections r
    RETURNING 1
  ),
  valid AS (
    -- An event is identified by (project_id, event_id, occurred_at), the
    -- primary key: the first occurrence in the batch wins, later ones are
    -- duplicates, exactly as across batches.
    SELECT DISTINCT ON (c.project_id, c.event_id, c.occurred_at)
           c.batch_index, c.project_id, c.event_id, c.occurred_at, c.occurred_defaulted, c.given_event_id,
           c.session_text AS session_id, c.user_text AS user_id, c.event_type_text AS event_type,
           c.name_text AS name, c.value, coalesce(c.properties_json, '{}'::jsonb) AS properties,
           coalesce(c.experiment_text, c.properties_json ->> 'experimentId') AS experiment_id,
           coalesce(c.variant_text, c.properties_json ->> 'variantKey') AS variant_key
      FROM checked c
     WHERE c.code IS NULL
     ORDER BY c.project_id, c.event_id, c.occurred_at, c.batch_index
  ),
  valid_count AS (
    SELECT pg_catalog.count(*) AS n FROM checked c WHERE c.code IS NULL
  ),
  inserted AS (
    INSERT INTO analytics.events AS e
           (project_id, event_id, occurred_at, session_id, user_id, event_type, name,
            experiment_id, variant_key, value, properties)
    SELECT v.project_id, v.event_id, v.occurred_at,
           v.session_id, v.user_id, v.event_type, v.name, v.experiment_id, v.variant_key, v.value, v.properties
      FROM valid v
     WHERE NOT (
       -- A retry that omits occurred_at gets a new server time; recognise it
       -- by its event_id among the last day's events.
       v.occurred_defaulted AND v.given_event_id IS NOT NULL
       AND EXISTS (SELECT 1 FROM analytics.events x
                    WHERE x.project_id = v.project_id AND x.event_id = v.given_event_id
                      AND x.occurred_at >= v_now - interval '24 hours'))
     ORDER BY 1, 2, 3
    ON CONFLICT (project_id, event_id, occurred_at) DO NOTHING
    RETURNING e.project_id, e.occurred_at
  ),
  marked AS (
    INSERT INTO analytics.dirty_buckets (project_id, bucket)
    SELECT DISTINCT i.project_id, pg_catalog.date_trunc('hour', i.occurred_at, 'UTC')
      FROM inserted i
    RETURNING 1
  )
  SELECT pg_catalog.jsonb_build_object(
           'accepted', (SELECT pg_catalog.count(*) FROM inserted),
           'duplicates', (SELECT n FROM valid_count) - (SELECT pg_catalog.count(*) FROM inserted),
           'rejected', coalesce((SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
                                          'index', r.batch_index, 'code', r.code, 'reason', r.reason)
                                        ORDER BY r.batch_index)
                                   FROM rejections r), '[]'::jsonb))
    INTO v_result;
  -- logged_rejections and marked run to completion although nothing reads
  -- them: data-modifying WITH queries always do.
  RETURN v_result;
END
$function$;

COMMENT ON FUNCTION analytics._store_documents(text[], integer[], text, text) IS
  'Internal: validate and store a batch of event documents in one statement; rejections to rejected_events, touched buckets marked.';
