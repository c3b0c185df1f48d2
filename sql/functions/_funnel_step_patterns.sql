CREATE OR REPLACE FUNCTION analytics._funnel_step_patterns(
  project_id text,
  event_types text[],
  names text[],
  OUT operator text,
  OUT patterns text[]
)
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $function$
/*
Contract: the patterns that tell, from a session's path (sessions.path),
  whether it reaches each step of an ordered funnel: pattern k matches the
  paths that hold a character of step 1, then one of step 2, ..., then one
  of step k. A step 'type=name' is the character of its key
  (_event_key_char); a step 'type' is any character of that type's keys seen
  in the project (analytics.event_keys). A step with no key seen is a
  character no path holds.
  The characters are a hash: when another key of the project shares a
  step's character, a path cannot tell them apart, and there are no patterns.
Parameters: project_id (resolved by the caller); event_types, names: the
  steps, as _funnel_steps() parses them.
Returns: operator '~~' (LIKE: '%a%b%') when each step is one character,
  else '~' (a regular expression: '[ab].*[c]'); patterns[k] for the first k
  steps. Both NULL when a character is shared, or the database is not UTF-8.
Example: SELECT * FROM analytics._funnel_step_patterns('default', ARRAY['pageview', 'click'], ARRAY['/pricing', NULL]);
*/
DECLARE
  v_classes text[] := '{}';
  v_class   text;
  v_shared  boolean;
  v_never   constant text := pg_catalog.chr(1);  -- in no path: paths hold U+0800 and up
BEGIN
  IF pg_catalog.getdatabaseencoding() <> 'UTF8' THEN
    RETURN;
  END IF;
  FOR k IN 1 .. pg_catalog.cardinality(event_types) LOOP
    IF names[k] IS NOT NULL THEN
      v_class := analytics._event_key_char(event_types[k], names[k]);
      SELECT EXISTS (SELECT 1 FROM analytics.event_keys e
                      WHERE e.project_id = _funnel_step_patterns.project_id AND e.code = v_class
                        AND (e.event_type <> event_types[k] OR e.name IS DISTINCT FROM names[k]))
        INTO v_shared;
    ELSE
      SELECT pg_catalog.string_agg(DISTINCT e.code, '') INTO v_class
        FROM analytics.event_keys e
       WHERE e.project_id = _funnel_step_patterns.project_id AND e.event_type = event_types[k];
      SELECT EXISTS (SELECT 1 FROM analytics.event_keys e
                      WHERE e.project_id = _funnel_step_patterns.project_id
                        AND e.code = ANY (pg_catalog.string_to_array(v_class, NULL))
                        AND e.event_type <> event_types[k])
        INTO v_shared;
    END IF;
    IF v_shared THEN
      RETURN;
    END IF;
    v_classes := v_classes || coalesce(v_class, v_never);
  END LOOP;
  IF (SELECT pg_catalog.bool_and(pg_catalog.length(c) = 1) FROM unnest(v_classes) AS c) THEN
    operator := '~~';
    SELECT pg_catalog.array_agg('%' || pg_catalog.array_to_string(v_classes[1:k], '%') || '%' ORDER BY k)
      INTO patterns FROM pg_catalog.generate_series(1, pg_catalog.cardinality(v_classes)) AS k;
  ELSE
    operator := '~';
    SELECT pg_catalog.array_agg(
             (SELECT pg_catalog.string_agg('[' || c || ']', '.*' ORDER BY i) FROM unnest(v_classes[1:k]) WITH ORDINALITY AS u(c, i))
             ORDER BY k)
      INTO patterns FROM pg_catalog.generate_series(1, pg_catalog.cardinality(v_classes)) AS k;
  END IF;
END
$function$;

COMMENT ON FUNCTION analytics._funnel_step_patterns(text, text[], text[]) IS
  'Internal: LIKE or regular-expression patterns over session paths for each prefix of a funnel''s steps.';
