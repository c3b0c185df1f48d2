CREATE OR REPLACE FUNCTION analytics._funnel_steps(steps text[], OUT event_types text[], OUT names text[])
LANGUAGE plpgsql
IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $function$
/*
Contract: split and check the steps of a funnel. A step is an event type
  ('signup') or an event type and a name ('pageview=/pricing'; the type ends
  at the first '=').
Parameters: steps, 1 to 10 of them.
Returns: event_types[k] and names[k] (NULL: any name) of step k.
Errors: 22023 no steps, more than 10, or a step without a valid event type.
Example: SELECT * FROM analytics._funnel_steps(ARRAY['pageview=/pricing', 'signup']);
*/
DECLARE
  v_n integer := coalesce(pg_catalog.cardinality(steps), 0);
BEGIN
  IF v_n NOT BETWEEN 1 AND 10 THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = pg_catalog.format('a funnel has 1 to 10 steps, not %s', v_n),
      HINT = 'steps => ARRAY[''pageview=/pricing'', ''click=cta-signup'', ''conversion'']';
  END IF;
  SELECT pg_catalog.array_agg(pg_catalog.split_part(s.step, '=', 1) ORDER BY s.i),
         pg_catalog.array_agg(CASE WHEN pg_catalog.strpos(s.step, '=') > 0
                                   THEN pg_catalog.substr(s.step, pg_catalog.strpos(s.step, '=') + 1) END
                              ORDER BY s.i)
    INTO event_types, names
    FROM unnest(steps) WITH ORDINALITY AS s(step, i);
  IF EXISTS (SELECT 1 FROM unnest(event_types) t WHERE t IS NULL OR t !~ '^[a-z][a-z0-9_.:-]{0,63}$') THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = pg_catalog.format('invalid funnel step in %L', steps),
      HINT = 'A step is an event type (''signup'') or a type and a name (''pageview=/pricing'').';
  END IF;
END
$function$;

COMMENT ON FUNCTION analytics._funnel_steps(text[]) IS
  'Internal: split funnel steps into event types and names; 22023 for a bad step list.';
