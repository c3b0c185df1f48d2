-- analytics.summary: seed 001's "check data volume": per table, rows and the
-- span of days it covers. Row counts are the planner's estimates
-- (pg_class.reltuples, fresh after ANALYZE): counting millions of raw events
-- on every look would cost seconds. Spans come from the daily tables.
CREATE OR REPLACE VIEW analytics.summary AS
SELECT c.relname::text AS table_name,
       CASE WHEN c.relkind = 'p'
            THEN (SELECT pg_catalog.sum(greatest(p.reltuples, 0))::bigint
                    FROM pg_catalog.pg_inherits i JOIN pg_catalog.pg_class p ON p.oid = i.inhrelid
                   WHERE i.inhparent = c.oid)
            ELSE greatest(c.reltuples, 0)::bigint END AS estimated_rows,
       CASE c.relname
         WHEN 'events' THEN (SELECT pg_catalog.min(t.day) FROM analytics.rollup_daily_totals t)
         WHEN 'rollup_daily' THEN (SELECT pg_catalog.min(t.day) FROM analytics.rollup_daily_totals t)
         WHEN 'rollup_daily_totals' THEN (SELECT pg_catalog.min(t.day) FROM analytics.rollup_daily_totals t)
       END AS first_day,
       CASE c.relname
         WHEN 'events' THEN (SELECT pg_catalog.max(t.day) FROM analytics.rollup_daily_totals t)
         WHEN 'rollup_daily' THEN (SELECT pg_catalog.max(t.day) FROM analytics.rollup_daily_totals t)
         WHEN 'rollup_daily_totals' THEN (SELECT pg_catalog.max(t.day) FROM analytics.rollup_daily_totals t)
       END AS last_day
  FROM pg_catalog.pg_class c
 WHERE c.relnamespace = 'analytics'::pg_catalog.regnamespace
   AND c.relkind IN ('r', 'p') AND NOT c.relispartition;

COMMENT ON VIEW analytics.summary IS
  'Per table: estimated rows (pg_class.reltuples) and, for events and daily tables, the first and last day.';
