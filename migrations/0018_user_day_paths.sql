-- 0018: each user's events of a day, as key codes and times in time order,
-- so that funnel(count_by => 'user') reads a user's day once instead of
-- probing the per-user index once per step.
-- depends: 0017_user_index_in_c_collation
-- sql-checksum: 10abe4119127c09cea23ac68681a48dafbe7fc5bc3d74e981f4bc1ebfd45e40b
--
-- A funnel counted by user, not saved, walks each user from their first
-- step-1 event through the later steps. Up to 0017 each step of each user
-- was one probe of the per-user index (_funnel_probe_users), about 5 us on
-- the machine of shared/BASELINE.md, whatever the data: 5,000 users over a
-- month took about 120 ms. rollup_daily_user_paths holds, per project, local
-- day and user, the number of each event's key (_event_key_code(), the code
-- point of its character in session paths) and its time, in time order;
-- the walk of a user within a day is then array_position() and
-- width_bucket() over one row (_funnel_user_path_sql).
-- The rollup job writes the rows with the other daily rollups, for the days
-- it recomputes (_recompute_days): every user's of a day at first, then only
-- those of the users of the hours it refreshes (_recompute_user_paths), and
-- records on rollup_daily_totals the span of the day it cut (paths_span). A
-- day whose span is not today's cut of it in the project's zone (never
-- written, or written before a change of time_zone) is followed by probes,
-- as before. So this migration writes no row: days recomputed from now on
-- get theirs, and aggregate_analytics_daily(day) writes an older day's (the
-- README says how).
-- cleanup() deletes the rows with the raw events they mirror.
-- Size: about 12 bytes per event with a user_id (93 MB for 6M such events).

CREATE TABLE analytics.rollup_daily_user_paths (
  project_id text          NOT NULL,
  day        date          NOT NULL,
  user_id    text          NOT NULL,
  first_seen timestamptz   NOT NULL,
  last_seen  timestamptz   NOT NULL,
  keys       integer[]     NOT NULL,
  times      timestamptz[] NOT NULL,
  PRIMARY KEY (project_id, day, user_id)
);
COMMENT ON TABLE analytics.rollup_daily_user_paths IS
  'Per project, local day and user: each event''s key number (_event_key_code()) and time, in time order '
  '(ties by code); read by funnel() counted by user. Days listed with a paths_span in rollup_daily_totals only.';
COMMENT ON COLUMN analytics.rollup_daily_user_paths.keys IS
  '_event_key_code(event_type, name) of each event (the code point of its session-path character), in the order of times.';
COMMENT ON COLUMN analytics.rollup_daily_user_paths.times IS
  'occurred_at of each event, ascending.';

ALTER TABLE analytics.rollup_daily_totals ADD COLUMN paths_span tstzrange;
COMMENT ON COLUMN analytics.rollup_daily_totals.paths_span IS
  'The instants of the day whose events rollup_daily_user_paths holds, as the rollup job cut the day; NULL: none.';

-- _recompute_days() takes the hours recomputed, to rewrite only their users'
-- paths; _funnel_from_user_steps() whether its users are every user;
-- _funnel_user_candidates() the users written since, when funnel() has them.
DROP FUNCTION IF EXISTS analytics._recompute_days(text[], date[]);
DROP FUNCTION IF EXISTS analytics._funnel_user_candidates(text, timestamptz, timestamptz);
DROP FUNCTION IF EXISTS analytics._funnel_from_user_steps(integer, text, text[], text[], timestamptz, timestamptz, interval, text[]);

ALTER TABLE analytics.rollup_daily_user_paths ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON analytics.rollup_daily_user_paths TO analytics_reader, analytics_ingest
  USING (project_id = coalesce(nullif(pg_catalog.current_setting('request.jwt.claims', true), '')::jsonb ->> 'project_id',
                               nullif(pg_catalog.current_setting('analytics.project_id', true), '')))
  WITH CHECK (project_id = coalesce(nullif(pg_catalog.current_setting('request.jwt.claims', true), '')::jsonb ->> 'project_id',
                                    nullif(pg_catalog.current_setting('analytics.project_id', true), '')));
CREATE POLICY admin_all ON analytics.rollup_daily_user_paths TO analytics_admin USING (true) WITH CHECK (true);
