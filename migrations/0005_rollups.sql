-- 0005: rollup tables, session and experiment facts, job runs, job settings.
-- depends: 0004_ingest_side_tables
-- sql-checksum: a811585889a4c156007fa280bedd88134272243a22a4d8652ded7d135dfa24b2
--
-- Every rollup is keyed by project_id first (Citus: distributed by tenant,
-- colocated with analytics.events). refresh_rollups() recomputes rows of the
-- (project, UTC hour) buckets marked in analytics.dirty_buckets, from the raw
-- events, so a rollup row is always exactly what a GROUP BY over the raw
-- events gives, late and duplicate events included.
--
-- Unique counts (sessions, users) cannot be summed across buckets, so
-- distinct counts over longer spans come from the tables of facts kept per
-- session (session_hours -> sessions) and per experiment session
-- (experiment_session_hours -> experiment_sessions), or from the daily
-- tables, recomputed per project day.

-- Per hour, event type and name: seed 000 rollups, top pages/tools by hour.
CREATE TABLE analytics.rollup_hourly (
  project_id  text             NOT NULL,
  bucket      timestamptz      NOT NULL,
  event_type  text             NOT NULL,
  name        text,
  events      bigint           NOT NULL,
  sessions    bigint           NOT NULL,
  users       bigint           NOT NULL,
  value_sum   double precision,
  value_count bigint           NOT NULL,
  CONSTRAINT rollup_hourly_key UNIQUE NULLS NOT DISTINCT (project_id, bucket, event_type, name)
);
COMMENT ON TABLE analytics.rollup_hourly IS
  'Per project, UTC hour, event type and name: events, unique sessions and users, sum and count of value.';

-- Per hour, all types together: unique sessions and users of the hour.
CREATE TABLE analytics.rollup_hourly_totals (
  project_id text        NOT NULL,
  bucket     timestamptz NOT NULL,
  events     bigint      NOT NULL,
  sessions   bigint      NOT NULL,
  users      bigint      NOT NULL,
  PRIMARY KEY (project_id, bucket)
);
COMMENT ON TABLE analytics.rollup_hourly_totals IS
  'Per project and UTC hour: events, unique sessions, unique users (all event types).';

-- Per hour, event type and property: breakdowns such as seed 000's risk mode.
-- Only scalar property values of at most 100 characters are counted.
CREATE TABLE analytics.rollup_hourly_properties (
  project_id text        NOT NULL,
  bucket     timestamptz NOT NULL,
  event_type text        NOT NULL,
  key        text        NOT NULL,
  value      text        NOT NULL,
  events     bigint      NOT NULL,
  PRIMARY KEY (project_id, bucket, event_type, key, value)
);
COMMENT ON TABLE analytics.rollup_hourly_properties IS
  'Per project, UTC hour, event type, property key and scalar value (<= 100 chars): events.';

-- Per day of the project's time zone (settings time_zone), type and name.
CREATE TABLE analytics.rollup_daily (
  project_id  text             NOT NULL,
  day         date             NOT NULL,
  event_type  text             NOT NULL,
  name        text,
  events      bigint           NOT NULL,
  sessions    bigint           NOT NULL,
  users       bigint           NOT NULL,
  value_sum   double precision,
  value_count bigint           NOT NULL,
  CONSTRAINT rollup_daily_key UNIQUE NULLS NOT DISTINCT (project_id, day, event_type, name)
);
COMMENT ON TABLE analytics.rollup_daily IS
  'Per project, local day (project time zone), event type and name: events, unique sessions and users, value.';

CREATE TABLE analytics.rollup_daily_totals (
  project_id text   NOT NULL,
  day        date   NOT NULL,
  events     bigint NOT NULL,
  sessions   bigint NOT NULL,
  users      bigint NOT NULL,
  PRIMARY KEY (project_id, day)
);
COMMENT ON TABLE analytics.rollup_daily_totals IS
  'Per project and local day: events, unique sessions, unique users (daily active users).';

-- Per day and user: seed 001 daily user stats.
CREATE TABLE analytics.rollup_daily_users (
  project_id text        NOT NULL,
  day        date        NOT NULL,
  user_id    text        NOT NULL,
  events     bigint      NOT NULL,
  sessions   bigint      NOT NULL,
  first_seen timestamptz NOT NULL,
  last_seen  timestamptz NOT NULL,
  PRIMARY KEY (project_id, day, user_id)
);
COMMENT ON TABLE analytics.rollup_daily_users IS
  'Per project, local day and user: events, sessions, first and last event.';

-- Partial facts of a session within one UTC hour; analytics.sessions is
-- their merge, recomputed for the sessions of each refreshed bucket.
CREATE TABLE analytics.session_hours (
  project_id   text        NOT NULL,
  session_id   text        NOT NULL,
  bucket       timestamptz NOT NULL,
  user_id      text,
  events       bigint      NOT NULL,
  first_at     timestamptz NOT NULL,
  last_at      timestamptz NOT NULL,
  entry_page   text,
  entry_at     timestamptz,
  exit_page    text,
  exit_at      timestamptz,
  PRIMARY KEY (project_id, session_id, bucket)
);
CREATE INDEX session_hours_bucket_idx ON analytics.session_hours (project_id, bucket);
COMMENT ON TABLE analytics.session_hours IS
  'Per session and UTC hour: events, first/last event, first/last pageview; merged into analytics.sessions.';

-- Partial experiment facts of a session within one UTC hour.
CREATE TABLE analytics.experiment_session_hours (
  project_id        text          NOT NULL,
  experiment_id     text          NOT NULL,
  session_id        text          NOT NULL,
  bucket            timestamptz   NOT NULL,
  first_exposure_at timestamptz,
  variant_key       text,
  exposures         bigint        NOT NULL,
  conversion_times  timestamptz[] NOT NULL,
  PRIMARY KEY (project_id, experiment_id, session_id, bucket)
);
CREATE INDEX experiment_session_hours_bucket_idx ON analytics.experiment_session_hours (project_id, bucket);
COMMENT ON TABLE analytics.experiment_session_hours IS
  'Per experiment, session and UTC hour: first exposure and its variant, exposures, times of conversions.';

-- Exposure-gated experiment facts: a session counts for the variant of its
-- first exposure, and only conversions after that exposure count.
CREATE TABLE analytics.experiment_sessions (
  project_id          text        NOT NULL,
  experiment_id       text        NOT NULL,
  session_id          text        NOT NULL,
  variant_key         text        NOT NULL,
  exposed_at          timestamptz NOT NULL,
  exposures           bigint      NOT NULL,
  conversions         bigint      NOT NULL,
  first_conversion_at timestamptz,
  PRIMARY KEY (project_id, experiment_id, session_id)
);
COMMENT ON TABLE analytics.experiment_sessions IS
  'Per experiment and exposed session: variant of the first exposure, exposures, conversions after it.';

CREATE TABLE analytics.rollup_experiments (
  project_id         text   NOT NULL,
  experiment_id      text   NOT NULL,
  variant_key        text   NOT NULL,
  exposed_sessions   bigint NOT NULL,
  exposures          bigint NOT NULL,
  converted_sessions bigint NOT NULL,
  conversions        bigint NOT NULL,
  PRIMARY KEY (project_id, experiment_id, variant_key)
);
COMMENT ON TABLE analytics.rollup_experiments IS
  'Per experiment and variant: exposed sessions, exposures, converted sessions, conversions after exposure.';

-- One row per job run, written by analytics.run_job().
CREATE TABLE analytics.job_runs (
  run_id      bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  job_name    text        NOT NULL,
  started_at  timestamptz NOT NULL,
  finished_at timestamptz,
  status      text        NOT NULL CHECK (status IN ('succeeded', 'failed', 'skipped')),
  rows        bigint,
  result      jsonb,
  error       text
);
CREATE INDEX job_runs_job_started_idx ON analytics.job_runs (job_name, started_at);
COMMENT ON TABLE analytics.job_runs IS
  'Every run of a pgpkg job through analytics.run_job(): when, outcome, rows, result or error.';

INSERT INTO analytics.settings (key, value, description) VALUES
  ('schedule.analytics-rollup', '* * * * *',
   'pg_cron schedule of refresh_rollups() (job analytics-rollup).'),
  ('schedule.aggregate-analytics-daily', '0 2 * * *',
   'pg_cron schedule of aggregate_analytics_daily() (job aggregate-analytics-daily, 02:00 UTC as in the seed).'),
  ('schedule.analytics-refresh-views', '*/5 * * * *',
   'pg_cron schedule of refresh_views() (job analytics-refresh-views).'),
  ('schedule.analytics-maintain-partitions', '17 * * * *',
   'pg_cron schedule of maintain_partitions() (job analytics-maintain-partitions).'),
  ('schedule.analytics-cleanup', '43 3 * * *',
   'pg_cron schedule of cleanup() (job analytics-cleanup).'),
  ('rollup_max_buckets', '500',
   'Buckets one refresh_rollups() call recomputes at most when max_buckets is not given; the rest waits for the next run.');
