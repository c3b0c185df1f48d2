-- Roll back 0010: only the trait "group" is rolled up again, from users.rolled_group.
DROP FUNCTION IF EXISTS analytics.save_trait_rollup(text, text);
DROP FUNCTION IF EXISTS analytics.drop_trait_rollup(text, text);
ALTER TABLE analytics.users ADD COLUMN rolled_group text;
UPDATE analytics.users SET rolled_group = rolled_traits ->> 'group' WHERE rolled_traits ? 'group';
DROP INDEX analytics.users_traits_changed_idx;
ALTER TABLE analytics.users DROP COLUMN rolled_traits;
CREATE INDEX users_group_changed_idx ON analytics.users (project_id)
  WHERE (traits ->> 'group') IS DISTINCT FROM rolled_group;
DELETE FROM analytics.rollup_daily_groups WHERE trait <> 'group';
ALTER TABLE analytics.rollup_daily_groups DROP CONSTRAINT rollup_daily_groups_key;
ALTER TABLE analytics.rollup_daily_groups DROP COLUMN trait;
ALTER TABLE analytics.rollup_daily_groups
  ADD CONSTRAINT rollup_daily_groups_key UNIQUE NULLS NOT DISTINCT (project_id, day, group_value);
DROP TABLE analytics.trait_rollups;
