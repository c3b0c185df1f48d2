CREATE OR REPLACE FUNCTION analytics._claimed_project_id()
RETURNS text
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $function$
/*
Contract: the project the caller is bound to, or NULL when it is not bound.
  Read from the PostgREST JWT claims (request.jwt.claims, claim "project_id"),
  else from the session setting analytics.project_id (SET LOCAL
  analytics.project_id = 'shop' for callers that do not come through
  PostgREST). Resolved on the coordinator, inside the calling function, and
  passed on as a value: on Citus, settings do not reach the workers.
Errors: 22023 when request.jwt.claims is set but is not a JSON object.
Example: SELECT analytics._claimed_project_id();
*/
DECLARE
  v_claims  text := pg_catalog.current_setting('request.jwt.claims', true);
  v_project text;
BEGIN
  IF coalesce(v_claims, '') <> '' THEN
    BEGIN
      v_project := v_claims::jsonb ->> 'project_id';
    EXCEPTION WHEN data_exception THEN
      RAISE EXCEPTION USING
        ERRCODE = '22023',
        MESSAGE = 'request.jwt.claims is not valid JSON',
        HINT = 'The JWT claims must be a JSON object such as {"role": "...", "project_id": "..."}.';
    END;
  END IF;
  RETURN coalesce(v_project, nullif(pg_catalog.current_setting('analytics.project_id', true), ''));
END
$function$;

COMMENT ON FUNCTION analytics._claimed_project_id() IS
  'Internal: the caller''s project from request.jwt.claims (claim project_id) or the setting analytics.project_id; NULL if unbound.';
