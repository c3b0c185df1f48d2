CREATE OR REPLACE FUNCTION analytics._resolve_project(requested text)
RETURNS text
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $function$
/*
Contract: the project a read function may show to its caller, resolved
  inside the function (on Citus: on the coordinator) and then passed into
  queries as a plain value. The caller is the role PostgREST switched to
  (SET ROLE), else the session user.
  - A caller bound to a project (JWT claim project_id, or the setting
    analytics.project_id) sees that project: `requested` NULL means it,
    another project is refused, unless the caller is an admin.
  - analytics_admin members, superusers and the schema owner may name any
    project; NULL means all projects.
  - Anyone else without a project claim is refused.
Returns: the project_id, or NULL for "all projects" (admins only).
Errors: 42501 for another tenant's project, or a reader without a project claim.
Example: SELECT analytics._resolve_project(NULL);
*/
DECLARE
  v_caller text := coalesce(nullif(pg_catalog.current_setting('role', true), 'none'), session_user::text);
  v_bound  text := analytics._claimed_project_id();
  v_admin  boolean;
BEGIN
  SELECT r.rolsuper
         OR pg_catalog.pg_has_role(r.oid, 'analytics_admin', 'MEMBER')
         OR r.oid = (SELECT n.nspowner FROM pg_catalog.pg_namespace n WHERE n.nspname = 'analytics')
    INTO v_admin
    FROM pg_catalog.pg_roles r WHERE r.rolname = v_caller;
  IF coalesce(v_admin, false) THEN
    RETURN coalesce(requested, v_bound);
  END IF;
  IF v_bound IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = '42501',
      MESSAGE = 'no project: the caller is not bound to a project',
      HINT = 'Put a project_id claim in the JWT (PostgREST), or SET LOCAL analytics.project_id = ''...''.';
  END IF;
  IF requested IS NOT NULL AND requested <> v_bound THEN
    RAISE EXCEPTION USING ERRCODE = '42501',
      MESSAGE = pg_catalog.format('project %s is not the caller''s project', requested),
      HINT = 'Omit project_id to read the project of your JWT claim.';
  END IF;
  RETURN v_bound;
END
$function$;

COMMENT ON FUNCTION analytics._resolve_project(text) IS
  'Internal: the tenant a read function may show: the JWT project for readers (42501 otherwise), any for admins.';
