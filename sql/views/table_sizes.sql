-- analytics.table_sizes: seed 001's monitoring view: the disk size of every
-- table of the schema, indexes included, partitions summed into their parent.
CREATE OR REPLACE VIEW analytics.table_sizes AS
SELECT c.relname::text AS table_name,
       s.bytes,
       pg_catalog.pg_size_pretty(s.bytes) AS size
  FROM pg_catalog.pg_class c
 CROSS JOIN LATERAL (
   SELECT CASE WHEN c.relkind = 'p'
               THEN (SELECT coalesce(pg_catalog.sum(pg_catalog.pg_total_relation_size(i.inhrelid)), 0)
                       FROM pg_catalog.pg_inherits i WHERE i.inhparent = c.oid)
               ELSE pg_catalog.pg_total_relation_size(c.oid) END::bigint AS bytes
 ) s
 WHERE c.relnamespace = 'analytics'::pg_catalog.regnamespace
   AND c.relkind IN ('r', 'p', 'm') AND NOT c.relispartition;

COMMENT ON VIEW analytics.table_sizes IS
  'Disk size of every analytics table with its indexes; partitions of events summed into events.';
