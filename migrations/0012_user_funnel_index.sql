-- 0012: funnels counted by user follow each user through an index, step by
-- step, instead of joining every step event of the range.
-- depends: 0011_session_paths
-- sql-checksum: b1d96e5dd8fca7761474b70f1a97e149db36b5e751ab98cc079ecc1075e74843
--
-- The per-user index of 0003, (project_id, user_id, event_type), gains the
-- event name and the time. Its readers (a user's events, daily active users)
-- use it as before, and funnel(count_by => 'user') finds a user's first event
-- of a step in a range with one probe (_funnel_from_user_steps): a month of
-- 10M events by 5,000 users took 3.1 s over the step events and takes about
-- 0.1 s this way.
-- The functions it re-applies also cut the rollup job's UTC days as 24
-- hours in every session time zone: with the server's zone on a day its
-- clocks moved, the job recomputed one hour twice (and failed on a duplicate
-- key) or an hour never (and its rollups missed it).
-- On an install with data, the index is built on every partition in this
-- transaction, blocking writes to analytics.events meanwhile (16 s for 10M
-- events on the 2-vCPU machine of shared/BASELINE.md); run it when ingest
-- can wait, as for any migration that adds an index.

DROP INDEX analytics.events_project_user_type_idx;
CREATE INDEX events_project_user_key_time_idx
  ON analytics.events (project_id, user_id, event_type, name, occurred_at)
  WHERE user_id IS NOT NULL;
