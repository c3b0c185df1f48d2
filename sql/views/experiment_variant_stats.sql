-- analytics.experiment_variant_stats: the seed 004 view (per experiment,
-- variant and event type: unique sessions and events), defined over the
-- experiment rollup, not over raw events, so that a refresh costs
-- milliseconds whatever the raw size. Exposure-gated: a session counts for
-- the variant of its first exposure; conversions count from that exposure.
-- Re-created on every install (a materialized view has no CREATE OR REPLACE);
-- the unique index lets refresh_views() refresh it CONCURRENTLY.
DROP MATERIALIZED VIEW IF EXISTS analytics.experiment_variant_stats;

CREATE MATERIALIZED VIEW analytics.experiment_variant_stats AS
SELECT r.project_id, r.experiment_id, r.variant_key, 'exposure'::text AS event_type,
       r.exposed_sessions AS unique_sessions, r.exposures AS events
  FROM analytics.rollup_experiments r
UNION ALL
SELECT r.project_id, r.experiment_id, r.variant_key, 'conversion'::text,
       r.converted_sessions, r.conversions
  FROM analytics.rollup_experiments r;

CREATE UNIQUE INDEX experiment_variant_stats_key
  ON analytics.experiment_variant_stats (project_id, experiment_id, variant_key, event_type);

COMMENT ON MATERIALIZED VIEW analytics.experiment_variant_stats IS
  'Seed 004 view over rollup_experiments: per experiment, variant and event type, unique sessions and events.';
