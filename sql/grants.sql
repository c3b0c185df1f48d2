-- Privileges of pgpkg, declared once and re-applied after every install.
--
-- Functions are owned by the installing (login) role, never by the NOLOGIN
-- group roles: Citus connects to workers as a SECURITY DEFINER function's
-- owner. The group roles only receive grants. PUBLIC gets nothing.

REVOKE ALL ON ALL FUNCTIONS IN SCHEMA analytics FROM PUBLIC;
REVOKE ALL ON ALL TABLES IN SCHEMA analytics FROM PUBLIC;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA analytics FROM PUBLIC;
-- Start from nothing, so that this file is the whole truth.
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA analytics FROM analytics_ingest, analytics_reader, analytics_admin;
REVOKE ALL ON ALL TABLES IN SCHEMA analytics FROM analytics_ingest, analytics_reader, analytics_admin;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA analytics FROM analytics_ingest, analytics_reader, analytics_admin;

GRANT USAGE ON SCHEMA analytics TO analytics_ingest, analytics_reader, analytics_admin;

-- analytics_ingest: the ingest functions, and no table at all.
GRANT EXECUTE ON FUNCTION
  analytics.track_event(text, text, text, text, jsonb, timestamptz, uuid, text, text, double precision, text),
  analytics.track_events(json),
  analytics.ingest_documents(text[], text),
  analytics.identify(text, jsonb, text)
TO analytics_ingest;

-- analytics_admin: maintenance, settings, and reading everything.
GRANT EXECUTE ON FUNCTION
  analytics.maintain_partitions(integer),
  analytics.create_partitions(date, date),
  analytics.status()
TO analytics_admin;
GRANT SELECT ON ALL TABLES IN SCHEMA analytics TO analytics_admin;
GRANT UPDATE (value) ON analytics.settings TO analytics_admin;
GRANT INSERT, UPDATE, DELETE ON analytics.project_settings TO analytics_admin;
