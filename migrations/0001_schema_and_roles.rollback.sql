-- Roll back 0001: drop the schema with everything in it, then the roles,
-- but only those that no database of the cluster still references
-- (pg_shdepend records grants and ownership in every database).

DROP SCHEMA IF EXISTS analytics CASCADE;

DO $roles$
DECLARE
  v_role text;
BEGIN
  FOREACH v_role IN ARRAY ARRAY['analytics_ingest', 'analytics_reader', 'analytics_admin'] LOOP
    IF EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = v_role)
       AND NOT EXISTS (
         SELECT 1
         FROM pg_catalog.pg_shdepend d
         JOIN pg_catalog.pg_roles r ON r.oid = d.refobjid
         WHERE d.refclassid = 'pg_catalog.pg_authid'::pg_catalog.regclass
           AND r.rolname = v_role)
    THEN
      EXECUTE pg_catalog.format('DROP ROLE %I', v_role);
    END IF;
  END LOOP;
END
$roles$;
