CREATE OR REPLACE FUNCTION analytics.identify(user_id text, traits jsonb, project_id text DEFAULT 'default')
RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $function$
/*
Contract: record who a user is (POST /rpc/identify). Creates the user of
  analytics.users if new, and merges `traits` into the stored traits (keys
  given replace the stored ones; keys not given stay). Updates last_seen.
Parameters:
  user_id     the user's id in the application; not empty
  traits      a JSON object, e.g. {"plan": "pro", "group": "acme"}; NULL means {}
  project_id  the tenant; defaults to the caller's JWT project when bound
Errors:
  22023  user_id is empty, or traits is not a JSON object
  42501  project_id is not the caller's project
Security: SECURITY DEFINER; EXECUTE for analytics_ingest.
Example: SELECT analytics.identify(user_id => 'u42', traits => '{"plan": "pro"}');
*/
DECLARE
  v_bound   text := analytics._claimed_project_id();
  v_project text := CASE WHEN v_bound IS NOT NULL AND identify.project_id = 'default' THEN v_bound
                         ELSE identify.project_id END;
BEGIN
  IF coalesce(pg_catalog.btrim(identify.user_id), '') = '' THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'user_id is required and must not be empty',
      HINT = 'POST /rpc/identify with {"user_id": "u42", "traits": {"plan": "pro"}}.';
  END IF;
  IF identify.traits IS NOT NULL AND pg_catalog.jsonb_typeof(identify.traits) <> 'object' THEN
    RAISE EXCEPTION USING ERRCODE = '22023',
      MESSAGE = pg_catalog.format('traits must be a JSON object, not %s', pg_catalog.jsonb_typeof(identify.traits)),
      HINT = 'Pass traits as an object, e.g. {"plan": "pro"}.';
  END IF;
  IF coalesce(v_project, '') !~ '^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$' THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'project_id must be a string of 1 to 64 letters, digits or _ . : -';
  END IF;
  IF v_bound IS NOT NULL AND v_project <> v_bound THEN
    RAISE EXCEPTION USING ERRCODE = '42501',
      MESSAGE = pg_catalog.format('project_id %s is not the caller''s project %s', v_project, v_bound);
  END IF;

  INSERT INTO analytics.users AS u (project_id, user_id, traits)
  VALUES (v_project, identify.user_id, coalesce(identify.traits, '{}'::jsonb))
  ON CONFLICT ON CONSTRAINT users_pkey DO UPDATE
     SET traits = u.traits || excluded.traits,
         last_seen = greatest(u.last_seen, excluded.last_seen);
END
$function$;

COMMENT ON FUNCTION analytics.identify(text, jsonb, text) IS
  'RPC: create or update a user and merge its traits.';
