-- Roll back 0015: traits are rolled up only when an admin saves them. The
-- automatic rollups go with their rows; the older checkout's sql/ brings
-- back the rollup job that does not weigh new keys.
DELETE FROM analytics.rollup_daily_groups g
 USING analytics.trait_rollups r
 WHERE r.automatic AND g.project_id = r.project_id AND g.trait = r.trait;
DELETE FROM analytics.trait_rollups WHERE automatic;
DROP FUNCTION IF EXISTS analytics._roll_up_new_traits(text[], text[]);
DROP TABLE analytics.trait_keys;
ALTER TABLE analytics.trait_rollups DROP COLUMN automatic;
DELETE FROM analytics.settings WHERE key = 'trait_rollup_max_values';
