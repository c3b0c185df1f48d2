CREATE OR REPLACE FUNCTION analytics._admin_project(requested text, action text)
RETURNS text
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $function$
/*
Contract: the one project an admin function acts on: the caller's
  project as _resolve_project() resolves it, which must not be "all
  projects" (an admin bound to none must name one).
Parameters: requested: the project_id argument; action: the function's
  name, for the message.
Returns: the project_id.
Errors: 22023 no project; 42501 as _resolve_project().
Example: SELECT analytics._admin_project('acme', 'save_funnel');
*/
DECLARE
  v_project text := analytics._resolve_project(requested);
BEGIN
  IF v_project IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = pg_catalog.format('%s needs a project', action),
      HINT = 'project_id => ''acme''';
  END IF;
  RETURN v_project;
END
$function$;

COMMENT ON FUNCTION analytics._admin_project(text, text) IS
  'Internal: the single project an admin function acts on; 22023 when none is named.';
