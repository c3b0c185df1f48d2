CREATE OR REPLACE FUNCTION analytics._mark_dirty_buckets_on_write()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $function$
/*
Contract: statement-level trigger on analytics.events that marks the
  (project, UTC hour) buckets touched by a direct INSERT, COPY, UPDATE or
  DELETE, once per statement and bucket, from the transition tables. It
  covers writes that bypass the package (a DBA's COPY, a fix-up UPDATE).
  The package's own write paths mark their buckets themselves, because Citus
  does not run triggers on distributed tables: there, drop these triggers
  and write through the package. A bucket marked twice costs nothing more
  than one recompute.
Example: INSERT INTO analytics.events (session_id, event_type, occurred_at) VALUES ('s', 'click', now());
*/
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO analytics.dirty_buckets (project_id, bucket)
    SELECT DISTINCT n.project_id, pg_catalog.date_trunc('hour', n.occurred_at, 'UTC') FROM new_rows n;
  ELSIF TG_OP = 'UPDATE' THEN
    INSERT INTO analytics.dirty_buckets (project_id, bucket)
    SELECT n.project_id, pg_catalog.date_trunc('hour', n.occurred_at, 'UTC') FROM new_rows n
    UNION
    SELECT o.project_id, pg_catalog.date_trunc('hour', o.occurred_at, 'UTC') FROM old_rows o;
  ELSE
    INSERT INTO analytics.dirty_buckets (project_id, bucket)
    SELECT DISTINCT o.project_id, pg_catalog.date_trunc('hour', o.occurred_at, 'UTC') FROM old_rows o;
  END IF;
  RETURN NULL;
END
$function$;

COMMENT ON FUNCTION analytics._mark_dirty_buckets_on_write() IS
  'Internal trigger: mark the buckets touched by a direct write to analytics.events, once per statement.';

-- The triggers belong with their function: both are re-created on every
-- install. A trigger with transition tables takes one event each.
CREATE OR REPLACE TRIGGER events_mark_dirty_on_insert
  AFTER INSERT ON analytics.events
  REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION analytics._mark_dirty_buckets_on_write();
CREATE OR REPLACE TRIGGER events_mark_dirty_on_update
  AFTER UPDATE ON analytics.events
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION analytics._mark_dirty_buckets_on_write();
CREATE OR REPLACE TRIGGER events_mark_dirty_on_delete
  AFTER DELETE ON analytics.events
  REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION analytics._mark_dirty_buckets_on_write();
