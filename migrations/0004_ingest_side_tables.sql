-- 0004: the tables beside the event store: rejected events, users, sessions,
-- and the log of touched rollup buckets.
-- depends: 0003_events
-- sql-checksum: e5bbf941cb7216712aca5137db3c0c9f77b78e4651ad6625ff4dc8b59ba51d85

-- Every submitted event is either stored in analytics.events or recorded here
-- with the reason, never silently dropped. The raw input is kept as text:
-- jsonb cannot hold a \u0000 escape, and such input must be kept too.
CREATE TABLE analytics.rejected_events (
  project_id  text        NOT NULL,
  rejected_id bigint      GENERATED ALWAYS AS IDENTITY,
  rejected_at timestamptz NOT NULL DEFAULT now(),
  source      text        NOT NULL,
  batch_index integer,
  code        text        NOT NULL,
  reason      text        NOT NULL,
  document    text,
  PRIMARY KEY (project_id, rejected_id)
);

CREATE INDEX rejected_events_rejected_at_idx ON analytics.rejected_events (rejected_at);

COMMENT ON TABLE analytics.rejected_events IS
  'Events refused at ingest: the raw document, a stable code (e.g. missing_session_id) and a readable reason.';

-- Users: traits merged by identify(); first/last seen maintained from events.
CREATE TABLE analytics.users (
  project_id text        NOT NULL,
  user_id    text        NOT NULL,
  traits     jsonb       NOT NULL DEFAULT '{}',
  first_seen timestamptz NOT NULL DEFAULT now(),
  last_seen  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (project_id, user_id)
);

COMMENT ON TABLE analytics.users IS
  'One row per identified user: traits merged by identify(), first and last seen.';

-- Sessions (visits): facts maintained by the rollup job from the raw events.
CREATE TABLE analytics.sessions (
  project_id  text        NOT NULL,
  session_id  text        NOT NULL,
  user_id     text,
  first_seen  timestamptz NOT NULL,
  last_seen   timestamptz NOT NULL,
  event_count bigint      NOT NULL,
  entry_page  text,
  exit_page   text,
  PRIMARY KEY (project_id, session_id)
);

CREATE INDEX sessions_project_first_seen_idx ON analytics.sessions (project_id, first_seen);

COMMENT ON TABLE analytics.sessions IS
  'One row per session (visit): first and last event, event count, entry and exit page (first and last pageview name).';

-- Buckets touched by writes and not yet rolled up. An append-only log, not a
-- set with a unique key: concurrent ingest transactions never wait on each
-- other to mark the same hour. Each write statement appends one row per
-- (project, UTC hour) it touched; refresh_rollups() recomputes the distinct
-- buckets and deletes exactly the marks it has read.
CREATE TABLE analytics.dirty_buckets (
  project_id text        NOT NULL,
  mark_id    bigint      GENERATED ALWAYS AS IDENTITY,
  bucket     timestamptz NOT NULL,
  marked_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (project_id, mark_id)
);

CREATE INDEX dirty_buckets_bucket_idx ON analytics.dirty_buckets (project_id, bucket);

COMMENT ON TABLE analytics.dirty_buckets IS
  'Log of (project, UTC hour) buckets written since the last refresh_rollups(); one row per write statement and bucket.';
