-- 0017: the per-user index of 0012 compares its text keys byte by byte
-- (COLLATE "C"), so that following users through it costs less.
-- depends: 0016_saved_user_funnels
-- sql-checksum: e392dfc9519d02309bacd1d3ab698f98e4f11526176223e5313eda3c6fc65f33
--
-- funnel(count_by => 'user') and the walks of funnels saved by user find
-- each user's first event of a step with one probe of this index
-- (_funnel_probe_users). Each probe compares user ids, event types and
-- names on its way down the B-tree; in the database's collation every
-- comparison of two different strings goes through strcoll(), in "C" it is
-- a memcmp(). The index is the same otherwise. On the 2-vCPU machine of
-- shared/BASELINE.md, 5,000 probes of one day's partition took 32 ms
-- through the old index and 19.5 ms through this one.
-- Equality is the same in every deterministic collation, so the answers do
-- not change; only queries that say COLLATE "C" on all four keys can use the
-- index, and those of sql/ that follow users do.
-- The functions it re-applies also take from the every-minute rollup job
-- four costs that grew with the history instead of with the new events
-- (10M events in 10 projects, three batches of 10k new events in the
-- refreshed hours: 3.5 s before, 2.3 s after):
--   - an experiment's variant totals are kept by difference (the touched
--     sessions before and after) instead of re-read from all of its
--     sessions (950 ms at 125k sessions an experiment);
--   - the daily rollups are deleted one project day at a time, an index
--     range each, instead of by a join read as a scan of the whole table
--     (310 ms for rollup_daily_users);
--   - the group rollup reads the day's users by index range, and their
--     traits by primary key (158 ms);
--   - the users whose traits changed are found through their partial
--     index, not by reading every user (124 ms at 31k users).
-- On an install with data, the index is built on every partition in this
-- transaction, blocking writes to analytics.events meanwhile (10 s for 10M
-- events on that machine). The README says how to build it concurrently
-- first, so that this migration only attaches it.

DROP INDEX analytics.events_project_user_key_time_idx;
CREATE INDEX events_project_user_key_time_c_idx
  ON analytics.events (project_id COLLATE "C", user_id COLLATE "C", event_type COLLATE "C", name COLLATE "C",
                       occurred_at)
  WHERE user_id IS NOT NULL;
