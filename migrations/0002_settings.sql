-- 0002: settings, the package's knobs, with their documented defaults.
-- depends: 0001_schema_and_roles
--
-- analytics.settings holds one row per knob; analytics.project_settings
-- overrides a knob for one tenant (the time zone of a project's days, its
-- retention). Values are text and are cast by analytics._setting(); each row
-- carries its own description, so `SELECT * FROM analytics.settings` is the
-- documentation. Change a value with UPDATE (analytics_admin may).

CREATE TABLE analytics.settings (
  key         text PRIMARY KEY,
  value       text NOT NULL,
  description text NOT NULL
);

COMMENT ON TABLE analytics.settings IS
  'Package-wide knobs (key, value, description). analytics.project_settings overrides per project.';

INSERT INTO analytics.settings (key, value, description) VALUES
  ('raw_retention_days', '90',
   'Days of raw events kept. Events older than this are rejected at ingest; cleanup() drops whole partitions past it.'),
  ('rollup_retention_days', '90',
   'Days of hourly rollups kept by cleanup(). Daily tables are kept forever.'),
  ('rejected_retention_days', '30',
   'Days of analytics.rejected_events kept by cleanup().'),
  ('job_runs_retention_days', '30',
   'Days of analytics.job_runs (and cron.job_run_details) kept by cleanup().'),
  ('partition_premake_days', '7',
   'Daily partitions of analytics.events that maintain_partitions() keeps ready past today (UTC).'),
  ('max_batch_size', '10000',
   'Largest number of events one track_events()/ingest_documents() call accepts (SQLSTATE 54000 beyond).'),
  ('max_properties_bytes', '65536',
   'Largest properties object, in bytes of its JSON text; larger events are rejected (properties_too_large).'),
  ('max_clock_skew', '5 minutes',
   'How far in the future occurred_at may lie (client clocks drift); later events are rejected (occurred_at_in_future).'),
  ('max_text_length', '1024',
   'Longest session_id, user_id, name, experiment_id or variant_key, in characters (field_too_long).'),
  ('time_zone', 'UTC',
   'IANA time zone in which a project''s days are cut (daily rollups). Override per project in project_settings.');

CREATE TABLE analytics.project_settings (
  project_id text NOT NULL,
  key        text NOT NULL REFERENCES analytics.settings (key) ON DELETE CASCADE,
  value      text NOT NULL,
  PRIMARY KEY (project_id, key)
);

COMMENT ON TABLE analytics.project_settings IS
  'Per-project overrides of analytics.settings, e.g. (''shop'', ''time_zone'', ''Europe/Berlin'').';
