-- 0001: the analytics schema and the three group roles.
--
-- Roles are cluster-wide while installs are per database, so creating a role
-- tolerates that it exists already (another database's install, or a second
-- installer racing this one). The roles are NOLOGIN groups: a DBA grants them
-- to PostgREST's anon/authenticated roles or to application users.
--   analytics_ingest  may only call the ingest functions (track_*, identify)
--   analytics_reader  may call the read functions and read the views
--   analytics_admin   runs jobs, maintenance and changes settings
-- Grants themselves are declared once, in sql/grants.sql.

CREATE SCHEMA analytics;

COMMENT ON SCHEMA analytics IS
  'pgpkg event analytics: raw events, rollups, read and ingest functions. See README.md.';

REVOKE ALL ON SCHEMA analytics FROM PUBLIC;

DO $roles$
DECLARE
  v_role text;
BEGIN
  FOREACH v_role IN ARRAY ARRAY['analytics_ingest', 'analytics_reader', 'analytics_admin'] LOOP
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = v_role) THEN
      BEGIN
        EXECUTE pg_catalog.format('CREATE ROLE %I NOLOGIN', v_role);
      EXCEPTION WHEN duplicate_object OR unique_violation THEN
        NULL;  -- created concurrently by an install in another database
      END;
    END IF;
  END LOOP;
END
$roles$;
