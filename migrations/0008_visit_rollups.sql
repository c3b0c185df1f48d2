-- 0008: visits rolled up by hour, linked to each visitor's previous visit, so
-- that metrics() counts exact distinct visitors over any range from rollups;
-- visits by entry and exit page, and experiment exposures, rolled up by hour
-- for top('entry_page'), top('exit_page') and top('experiment'); and daily
-- totals per user group (the trait "group") for group_stats().
-- depends: 0007_read_api
-- sql-checksum: bcb5b42e000212c18dd0013976bcc5333cf2c03d1a19bda6339600cc0a1a3d90
--
-- Distinct visitors over a range [A, B) are the visits that start in [A, B)
-- and whose visitor's previous visit started before A (or who has none): one
-- such visit per visitor, the visitor's first in the range. With each visit's
-- previous start stored (sessions.previous_first_seen), that count needs no
-- DISTINCT, and it adds up: rollup_hourly_visits keeps, per quarter hour of
-- the visits' start and hour of their previous visit's start, the visits,
-- their bounces and their summed duration (quarter hours, so that the hours
-- that a :30 or :45 zone's midnight cuts need no visit read one by one). metrics() reads a few thousand such rows
-- for a month instead of every visit, and reads visits one by one only where
-- a range or bucket boundary falls inside an hour.

ALTER TABLE analytics.sessions ADD COLUMN previous_first_seen timestamptz;
COMMENT ON COLUMN analytics.sessions.previous_first_seen IS
  'first_seen of the same user''s previous session, in (first_seen, session_id COLLATE "C") order; NULL: the user''s first, or an anonymous session.';

-- Backfill the links. Anonymous sessions are their own visitor: no link.
UPDATE analytics.sessions s
   SET previous_first_seen = c.previous_first_seen
  FROM (SELECT x.project_id, x.session_id,
               pg_catalog.lag(x.first_seen) OVER (PARTITION BY x.project_id, x.user_id
                                                  ORDER BY x.first_seen, x.session_id COLLATE "C") AS previous_first_seen
          FROM analytics.sessions x
         WHERE x.user_id IS NOT NULL) c
 WHERE s.project_id = c.project_id AND s.session_id = c.session_id AND c.previous_first_seen IS NOT NULL;

-- Walks one user's chain of visits when the rollup job relinks it, in the
-- links' order (session_id in code point order, whatever the collation).
CREATE INDEX sessions_project_user_first_seen_idx ON analytics.sessions (project_id, user_id, first_seen, session_id COLLATE "C")
  WHERE user_id IS NOT NULL;
-- Visits whose previous visit started in a given window: metrics() reads
-- these where a boundary falls inside an hour.
CREATE INDEX sessions_project_previous_first_seen_idx ON analytics.sessions (project_id, previous_first_seen)
  INCLUDE (first_seen) WHERE previous_first_seen IS NOT NULL;
-- The visits metrics() reads one by one, index-only.
CREATE INDEX sessions_project_first_seen_linked_idx ON analytics.sessions (project_id, first_seen)
  INCLUDE (last_seen, event_count, previous_first_seen, user_id, session_id);
DROP INDEX analytics.sessions_project_first_seen_visits_idx;

CREATE TABLE analytics.rollup_hourly_visits (
  project_id      text             NOT NULL,
  bucket          timestamptz      NOT NULL,
  quarter         smallint         NOT NULL CHECK (quarter BETWEEN 0 AND 3),
  previous_bucket timestamptz      NOT NULL,
  visits          bigint           NOT NULL,
  bounces         bigint           NOT NULL,
  duration_s      double precision NOT NULL,
  PRIMARY KEY (project_id, bucket, quarter, previous_bucket)
);
COMMENT ON TABLE analytics.rollup_hourly_visits IS
  'Visits (sessions) by UTC hour (bucket) and quarter hour (0: minutes 0-14, ... 3: 45-59) of their first event '
  'and UTC hour of the visitor''s previous visit (previous_bucket; -infinity: none): count, bounces (one '
  'event) and summed duration in seconds.';

INSERT INTO analytics.rollup_hourly_visits (project_id, bucket, quarter, previous_bucket, visits, bounces, duration_s)
SELECT s.project_id, pg_catalog.date_trunc('hour', s.first_seen, 'UTC'),
       (EXTRACT(minute FROM s.first_seen AT TIME ZONE 'UTC')::integer / 15)::smallint,
       coalesce(pg_catalog.date_trunc('hour', s.previous_first_seen, 'UTC'), '-infinity'),
       pg_catalog.count(*), pg_catalog.count(*) FILTER (WHERE s.event_count = 1),
       pg_catalog.sum(EXTRACT(epoch FROM s.last_seen - s.first_seen))::double precision
  FROM analytics.sessions s
 GROUP BY 1, 2, 3, 4;


-- Sessions first exposed to each experiment, by UTC hour of that exposure:
-- top('experiment') reads whole hours here and the partial hours at a
-- range's ends from experiment_sessions, by the index below.
CREATE INDEX experiment_sessions_project_exposed_at_idx ON analytics.experiment_sessions (project_id, exposed_at)
  INCLUDE (experiment_id);

CREATE TABLE analytics.rollup_hourly_exposures (
  project_id    text        NOT NULL,
  bucket        timestamptz NOT NULL,
  experiment_id text        NOT NULL,
  sessions      bigint      NOT NULL,
  PRIMARY KEY (project_id, bucket, experiment_id)
);
COMMENT ON TABLE analytics.rollup_hourly_exposures IS
  'Sessions first exposed to an experiment, by UTC hour of their first exposure (experiment_sessions.exposed_at).';

INSERT INTO analytics.rollup_hourly_exposures (project_id, bucket, experiment_id, sessions)
SELECT s.project_id, pg_catalog.date_trunc('hour', s.exposed_at, 'UTC'), s.experiment_id, pg_catalog.count(*)
  FROM analytics.experiment_sessions s
 GROUP BY 1, 2, 3;

-- Visits by UTC hour of their first event and their entry page (first
-- pageview) or exit page (last pageview): top('entry_page') and
-- top('exit_page') read whole hours here.
CREATE TABLE analytics.rollup_hourly_entry_exit_pages (
  project_id text        NOT NULL,
  bucket     timestamptz NOT NULL,
  page_role  text        NOT NULL CHECK (page_role IN ('entry', 'exit')),
  page       text        NOT NULL,
  visits     bigint      NOT NULL,
  PRIMARY KEY (project_id, bucket, page_role, page)
);
COMMENT ON TABLE analytics.rollup_hourly_entry_exit_pages IS
  'Visits by UTC hour of their first event and entry page (page_role entry: first pageview) or exit page '
  '(exit: last pageview). Visits without a pageview have neither.';

INSERT INTO analytics.rollup_hourly_entry_exit_pages (project_id, bucket, page_role, page, visits)
SELECT s.project_id, pg_catalog.date_trunc('hour', s.first_seen, 'UTC'), r.page_role, r.page, pg_catalog.count(*)
  FROM analytics.sessions s
 CROSS JOIN LATERAL (VALUES ('entry', s.entry_page), ('exit', s.exit_page)) AS r(page_role, page)
 WHERE r.page IS NOT NULL
 GROUP BY 1, 2, 3, 4;

-- Daily totals per group: the trait "group" that identify() sets, as the
-- rollup job last saw it (users.rolled_group). The job moves a user whose
-- trait changed (users_group_changed_idx finds them) by recomputing the
-- days that user was active.
ALTER TABLE analytics.users ADD COLUMN rolled_group text;
COMMENT ON COLUMN analytics.users.rolled_group IS
  'traits ->> ''group'' as of the last refresh_rollups(): the group rollup_daily_groups counts the user in.';
UPDATE analytics.users SET rolled_group = traits ->> 'group' WHERE traits ? 'group';
CREATE INDEX users_group_changed_idx ON analytics.users (project_id)
  WHERE (traits ->> 'group') IS DISTINCT FROM rolled_group;
-- A user's days: which group rows a change of group touches; user_stats(user_id => ...).
CREATE INDEX rollup_daily_users_project_user_idx ON analytics.rollup_daily_users (project_id, user_id);

CREATE TABLE analytics.rollup_daily_groups (
  project_id  text   NOT NULL,
  day         date   NOT NULL,
  group_value text,
  users       bigint NOT NULL,
  events      bigint NOT NULL,
  sessions    bigint NOT NULL,
  CONSTRAINT rollup_daily_groups_key UNIQUE NULLS NOT DISTINCT (project_id, day, group_value)
);
COMMENT ON TABLE analytics.rollup_daily_groups IS
  'Per project, local day and user group (users.rolled_group; NULL: no group): active users, their events and '
  'sessions (sums over rollup_daily_users).';

INSERT INTO analytics.rollup_daily_groups (project_id, day, group_value, users, events, sessions)
SELECT d.project_id, d.day, u.rolled_group, pg_catalog.count(*), pg_catalog.sum(d.events), pg_catalog.sum(d.sessions)
  FROM analytics.rollup_daily_users d
  LEFT JOIN analytics.users u ON u.project_id = d.project_id AND u.user_id = d.user_id
 GROUP BY 1, 2, 3;

-- Row-level security on the new tables, with the policies of 0006.
DO $policies$
DECLARE
  v_table   text;
  v_claimed text := $$coalesce(nullif(pg_catalog.current_setting('request.jwt.claims', true), '')::jsonb ->> 'project_id',
                                 nullif(pg_catalog.current_setting('analytics.project_id', true), ''))$$;
BEGIN
  FOREACH v_table IN ARRAY ARRAY['rollup_hourly_visits', 'rollup_hourly_exposures', 'rollup_hourly_entry_exit_pages',
                                 'rollup_daily_groups']
  LOOP
    EXECUTE pg_catalog.format('ALTER TABLE analytics.%I ENABLE ROW LEVEL SECURITY', v_table);
    EXECUTE pg_catalog.format(
      'CREATE POLICY tenant_isolation ON analytics.%I TO analytics_reader, analytics_ingest '
      'USING (project_id = %s) WITH CHECK (project_id = %s)', v_table, v_claimed, v_claimed);
    EXECUTE pg_catalog.format('CREATE POLICY admin_all ON analytics.%I TO analytics_admin USING (true) WITH CHECK (true)',
                              v_table);
  END LOOP;
END
$policies$;
