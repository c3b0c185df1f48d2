-- 0003: analytics.events, the raw event store, partitioned by day.
-- depends: 0002_settings
--
-- One partition per UTC day (analytics.events_pYYYYMMDD), created ahead by
-- maintain_partitions(), plus a default partition so that no event is ever
-- refused for lack of a partition; maintain_partitions() later moves such rows
-- into their proper partition. Retention drops whole partitions (cleanup()),
-- never DELETEs rows.
--
-- Keys carry project_id first so that the table can be distributed by tenant
-- on Citus. The primary key must contain the partition key, hence
-- (project_id, event_id, occurred_at): a retry that resends an event with its
-- event_id and occurred_at is recognised as a duplicate.

CREATE TABLE analytics.events (
  project_id    text             NOT NULL DEFAULT 'default',
  event_id      uuid             NOT NULL DEFAULT gen_random_uuid(),
  occurred_at   timestamptz      NOT NULL,
  received_at   timestamptz      NOT NULL DEFAULT now(),
  session_id    text             NOT NULL,
  user_id       text,
  event_type    text             NOT NULL,
  name          text,
  experiment_id text,
  variant_key   text,
  value         double precision,
  properties    jsonb            NOT NULL DEFAULT '{}',
  PRIMARY KEY (project_id, event_id, occurred_at)
) PARTITION BY RANGE (occurred_at);

COMMENT ON TABLE analytics.events IS
  'Raw events, one partition per UTC day plus events_default. Written by track_event(s), ingest_documents() and pgpkg ingest.';
COMMENT ON COLUMN analytics.events.event_type IS
  'Lower case, matching ^[a-z][a-z0-9_.:-]{0,63}$: pageview, click, exposure, conversion, tool_used, api_call, error, or a custom name.';
COMMENT ON COLUMN analytics.events.name IS
  'The subject of the event: page path, click target, tool, solution.';
COMMENT ON COLUMN analytics.events.value IS
  'A measure carried by the event: duration in ms, tokens, cost.';

CREATE TABLE analytics.events_default PARTITION OF analytics.events DEFAULT;

-- Indexes, each paid for by a query of the seeds or of the rollup jobs.
-- Every extra index costs ingest throughput (shared/BASELINE.md: 63.5k/s with
-- these against 189k/s with none), so none is here without a reader.
--
-- Per type and time: "events of type X in the last N hours" (seed 000 GET
-- /track, seed 002 groupBy eventType), recent_events() with a type filter.
CREATE INDEX events_project_type_time_idx
  ON analytics.events (project_id, event_type, occurred_at);
-- Per session: session facts (entry/exit page, duration), funnels, and the
-- seed 004 exposure-to-conversion join, all walk one session's events in order.
CREATE INDEX events_project_session_time_idx
  ON analytics.events (project_id, session_id, occurred_at);
-- Per user and type: seed 000/003 getUserEvents, seed 002 daily active users.
-- Partial: anonymous events (no user_id) are not indexed.
CREATE INDEX events_project_user_type_idx
  ON analytics.events (project_id, user_id, event_type)
  WHERE user_id IS NOT NULL;
-- Per experiment and variant: seed 004 variant analytics. Partial, so it only
-- costs for the events that carry an experiment.
CREATE INDEX events_project_experiment_variant_idx
  ON analytics.events (project_id, experiment_id, variant_key, event_type)
  WHERE experiment_id IS NOT NULL;
-- Time: the rollup job recomputes one hour of one day partition; BRIN finds
-- that hour in a few pages and costs almost nothing to maintain, as events
-- arrive roughly in time order.
CREATE INDEX events_occurred_at_brin
  ON analytics.events USING brin (occurred_at);
-- No GIN index on properties: no seed query filters by containment, and GIN
-- costs about a quarter of the ingest rate (BASELINE: 63.5k/s -> 48.8k/s).
-- Property breakdowns are served by the rollups.
