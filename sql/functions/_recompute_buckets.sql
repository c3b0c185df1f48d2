CREATE OR REPLACE FUNCTION analytics._recompute_buckets(projects text[], buckets timestamptz[])
RETURNS jsonb
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $function$
/*
Contract: make every rollup row of the given (project, UTC hour) buckets
  equal to a GROUP BY over the raw events of those buckets, and bring the
  facts that depend on them up to date: the sessions (with their paths, and
  their walks through funnels saved by session) and experiment sessions
  seen in those buckets (before or after), their experiments' variant
  totals, the walks through funnels saved by user of the users whose
  events there changed, and the project days (in each project's time
  zone) that the buckets overlap, and the first/last seen of their users (analytics.users,
  only ever widened), and the event keys seen (analytics.event_keys). Rows
  of a bucket whose events are all gone are removed.
  The marks of those buckets (analytics.dirty_buckets) are read before the
  recompute and exactly those are deleted after it: a mark written
  meanwhile stays for the next run. Every caller (refresh_rollups,
  aggregate_analytics_daily, backfill_aggregates, cleanup_old_raw_events)
  goes through here, so no caller handles marks itself.
  Cost grows with the events of the buckets (and of the days they touch),
  not with the size of analytics.events; other tenants are not touched.
  The caller serialises runs (refresh_rollups() holds an advisory lock).
Parameters: projects[i], buckets[i]: the i-th bucket; buckets are truncated
  to the hour (UTC). Duplicates are fine.
Returns: {"buckets", "hourly_rows", "sessions", "funnel_sessions" (walks through funnels saved by session), "funnel_users" (rows written for funnels saved by user), "experiment_sessions", "days": number of project days recomputed}
Example: SELECT analytics._recompute_buckets(ARRAY['default'], ARRAY[date_trunc('hour', now(), 'UTC')]);
*/
DECLARE
  v_hourly_rows  bigint;
  v_sessions     bigint;
  v_funnel_sessions bigint;
  v_funnel_users bigint;
  v_experiments  bigint;
  v_days         jsonb;
  v_projects     text[];
  v_buckets      timestamptz[];
  -- Sessions and experiment sessions whose facts changed, as parallel arrays.
  v_session_projects    text[] := '{}';
  v_session_ids         text[] := '{}';
  v_experiment_projects text[] := '{}';
  v_experiment_ids      text[] := '{}';
  v_experiment_sessions text[] := '{}';
  -- Users with events in the buckets, and the earliest and the latest
  -- such bucket (only in projects with a funnel saved by user).
  v_user_projects text[] := '{}';
  v_user_ids      text[] := '{}';
  v_user_buckets  timestamptz[] := '{}';
  v_day_projects text[];
  v_day_days     date[];
  v_mark_projects text[];
  v_mark_ids      bigint[];
  v_day          timestamptz;
  v_day_buckets  timestamptz[];
  v_lo           timestamptz;
  v_hi           timestamptz;
  -- Session paths are kept in a UTF-8 database (their characters are U+0800 and up).
  v_paths        boolean := pg_catalog.getdatabaseencoding() = 'UTF8';
BEGIN
  SELECT pg_catalog.array_agg(b.p), pg_catalog.array_agg(b.h)
    INTO v_projects, v_buckets
    FROM (SELECT DISTINCT t.p, pg_catalog.date_trunc('hour', t.h, 'UTC') AS h
            FROM unnest(projects, buckets) AS t(p, h)
           WHERE t.p IS NOT NULL AND t.h IS NOT NULL) b;
  IF v_projects IS NULL THEN
    RETURN '{"buckets": 0, "hourly_rows": 0, "sessions": 0, "experiment_sessions": 0, "days": 0}'::jsonb;
  END IF;

  -- 0. The marks to clear, read before the recompute: a mark read here was
  --    committed with its events, which the recompute below will see.
  SELECT pg_catalog.array_agg(d.project_id), pg_catalog.array_agg(d.mark_id)
    INTO v_mark_projects, v_mark_ids
    FROM analytics.dirty_buckets d
    JOIN unnest(v_projects, v_buckets) AS b(p, h) ON d.project_id = b.p AND d.bucket = b.h;

  -- 1. Clear the buckets. Remember which sessions and experiment sessions
  --    had facts there: they must be re-merged even if no event remains.
  DELETE FROM analytics.rollup_hourly r USING unnest(v_projects, v_buckets) AS b(p, h)
   WHERE r.project_id = b.p AND r.bucket = b.h;
  DELETE FROM analytics.rollup_hourly_totals r USING unnest(v_projects, v_buckets) AS b(p, h)
   WHERE r.project_id = b.p AND r.bucket = b.h;
  DELETE FROM analytics.rollup_hourly_properties r USING unnest(v_projects, v_buckets) AS b(p, h)
   WHERE r.project_id = b.p AND r.bucket = b.h;
  WITH gone AS (
    DELETE FROM analytics.session_hours s USING unnest(v_projects, v_buckets) AS b(p, h)
     WHERE s.project_id = b.p AND s.bucket = b.h
    RETURNING s.project_id, s.session_id
  )
  SELECT coalesce(pg_catalog.array_agg(g.project_id), '{}'), coalesce(pg_catalog.array_agg(g.session_id), '{}')
    INTO v_session_projects, v_session_ids FROM gone g;
  WITH gone AS (
    DELETE FROM analytics.experiment_session_hours s USING unnest(v_projects, v_buckets) AS b(p, h)
     WHERE s.project_id = b.p AND s.bucket = b.h
    RETURNING s.project_id, s.experiment_id, s.session_id
  )
  SELECT coalesce(pg_catalog.array_agg(g.project_id), '{}'), coalesce(pg_catalog.array_agg(g.experiment_id), '{}'),
         coalesce(pg_catalog.array_agg(g.session_id), '{}')
    INTO v_experiment_projects, v_experiment_ids, v_experiment_sessions FROM gone g;

  -- 2. Recompute the buckets from their raw events, read once, one UTC day
  --    at a time: each statement reads one partition, only the span from
  --    the day's first to its last marked hour (BRIN on occurred_at), and
  --    keeps the events of the marked (project, hour) pairs.
  v_hourly_rows := 0;
  FOR v_day IN
    SELECT DISTINCT pg_catalog.date_trunc('day', b.h, 'UTC') FROM unnest(v_buckets) AS b(h) ORDER BY 1
  LOOP
  SELECT pg_catalog.array_agg(b.p), pg_catalog.array_agg(b.h), pg_catalog.min(b.h), pg_catalog.max(b.h) + interval '1 hour'
    INTO v_day_projects, v_day_buckets, v_lo, v_hi
    FROM unnest(v_projects, v_buckets) AS b(p, h)
   WHERE b.h >= v_day AND b.h < v_day + interval '24 hours';  -- a UTC day in every session time zone
  WITH ev AS MATERIALIZED (
    SELECT e.project_id, b.h AS bucket, e.event_id, e.occurred_at, e.session_id, e.user_id, e.event_type,
           e.name, e.experiment_id, e.variant_key, e.value, e.properties
      FROM analytics.events e
      JOIN unnest(v_day_projects, v_day_buckets) AS b(p, h)
        ON e.project_id = b.p AND pg_catalog.date_trunc('hour', e.occurred_at, 'UTC') = b.h
     WHERE e.occurred_at >= v_lo AND e.occurred_at < v_hi
  ),
  hourly AS (
    INSERT INTO analytics.rollup_hourly
           (project_id, bucket, event_type, name, events, sessions, users, value_sum, value_count)
    SELECT ev.project_id, ev.bucket, ev.event_type, ev.name, pg_catalog.count(*),
           pg_catalog.count(DISTINCT ev.session_id), pg_catalog.count(DISTINCT ev.user_id),
           pg_catalog.sum(ev.value), pg_catalog.count(ev.value)
      FROM ev GROUP BY ev.project_id, ev.bucket, ev.event_type, ev.name
    RETURNING project_id, event_type, name
  ),
  keys AS (
    -- Every key seen, with its character in session paths (see session_facts).
    INSERT INTO analytics.event_keys (project_id, event_type, name, code)
    SELECT DISTINCT h.project_id, h.event_type, h.name, analytics._event_key_char(h.event_type, h.name)
      FROM hourly h WHERE v_paths
    ON CONFLICT DO NOTHING
  ),
  totals AS (
    INSERT INTO analytics.rollup_hourly_totals
           (project_id, bucket, events, sessions, users, quarter_events, quarter_pageviews)
    SELECT ev.project_id, ev.bucket, pg_catalog.count(*), pg_catalog.count(DISTINCT ev.session_id),
           pg_catalog.count(DISTINCT ev.user_id),
           ARRAY[pg_catalog.count(*) FILTER (WHERE ev.occurred_at < ev.bucket + interval '15 minutes'),
                 pg_catalog.count(*) FILTER (WHERE ev.occurred_at >= ev.bucket + interval '15 minutes'
                                               AND ev.occurred_at < ev.bucket + interval '30 minutes'),
                 pg_catalog.count(*) FILTER (WHERE ev.occurred_at >= ev.bucket + interval '30 minutes'
                                               AND ev.occurred_at < ev.bucket + interval '45 minutes'),
                 pg_catalog.count(*) FILTER (WHERE ev.occurred_at >= ev.bucket + interval '45 minutes')],
           ARRAY[pg_catalog.count(*) FILTER (WHERE ev.event_type = 'pageview'
                                               AND ev.occurred_at < ev.bucket + interval '15 minutes'),
                 pg_catalog.count(*) FILTER (WHERE ev.event_type = 'pageview'
                                               AND ev.occurred_at >= ev.bucket + interval '15 minutes'
                                               AND ev.occurred_at < ev.bucket + interval '30 minutes'),
                 pg_catalog.count(*) FILTER (WHERE ev.event_type = 'pageview'
                                               AND ev.occurred_at >= ev.bucket + interval '30 minutes'
                                               AND ev.occurred_at < ev.bucket + interval '45 minutes'),
                 pg_catalog.count(*) FILTER (WHERE ev.event_type = 'pageview'
                                               AND ev.occurred_at >= ev.bucket + interval '45 minutes')]
      FROM ev GROUP BY ev.project_id, ev.bucket
    RETURNING 1
  ),
  properties AS (
    INSERT INTO analytics.rollup_hourly_properties (project_id, bucket, event_type, key, value, events)
    SELECT ev.project_id, ev.bucket, ev.event_type, p.key, p.value #>> '{}', pg_catalog.count(*)
      FROM ev CROSS JOIN LATERAL pg_catalog.jsonb_each(ev.properties) AS p(key, value)
     WHERE pg_catalog.jsonb_typeof(p.value) IN ('string', 'number', 'boolean')
       AND pg_catalog.length(p.value #>> '{}') <= 100
     GROUP BY ev.project_id, ev.bucket, ev.event_type, p.key, p.value #>> '{}'
    RETURNING 1
  ),
  session_facts AS (
    INSERT INTO analytics.session_hours
           (project_id, session_id, bucket, user_id, events, first_at, last_at, entry_page, entry_at, exit_page, exit_at,
            path)
    SELECT ev.project_id, ev.session_id, ev.bucket,
           (pg_catalog.array_agg(ev.user_id ORDER BY ev.occurred_at DESC, ev.event_id DESC)
              FILTER (WHERE ev.user_id IS NOT NULL))[1],
           pg_catalog.count(*), pg_catalog.min(ev.occurred_at), pg_catalog.max(ev.occurred_at),
           (pg_catalog.array_agg(ev.name ORDER BY ev.occurred_at, ev.event_id) FILTER (WHERE ev.event_type = 'pageview'))[1],
           pg_catalog.min(ev.occurred_at) FILTER (WHERE ev.event_type = 'pageview'),
           (pg_catalog.array_agg(ev.name ORDER BY ev.occurred_at DESC, ev.event_id DESC)
              FILTER (WHERE ev.event_type = 'pageview'))[1],
           pg_catalog.max(ev.occurred_at) FILTER (WHERE ev.event_type = 'pageview'),
           -- The path: one character per event in time order; none when two
           -- events share a timestamp (their order is not defined).
           CASE WHEN v_paths AND pg_catalog.count(*) = pg_catalog.count(DISTINCT ev.occurred_at) THEN
             pg_catalog.string_agg(analytics._event_key_char(ev.event_type, ev.name), '' ORDER BY ev.occurred_at) END
      FROM ev GROUP BY ev.project_id, ev.session_id, ev.bucket
    RETURNING project_id, session_id
  ),
  experiment_facts AS (
    INSERT INTO analytics.experiment_session_hours
           (project_id, experiment_id, session_id, bucket, first_exposure_at, variant_key, exposures, conversion_times)
    SELECT ev.project_id, ev.experiment_id, ev.session_id, ev.bucket,
           pg_catalog.min(ev.occurred_at) FILTER (WHERE ev.event_type = 'exposure' AND ev.variant_key IS NOT NULL),
           (pg_catalog.array_agg(ev.variant_key ORDER BY ev.occurred_at, ev.event_id)
              FILTER (WHERE ev.event_type = 'exposure' AND ev.variant_key IS NOT NULL))[1],
           pg_catalog.count(*) FILTER (WHERE ev.event_type = 'exposure' AND ev.variant_key IS NOT NULL),
           coalesce(pg_catalog.array_agg(ev.occurred_at ORDER BY ev.occurred_at)
                      FILTER (WHERE ev.event_type = 'conversion'), '{}')
      FROM ev
     WHERE ev.experiment_id IS NOT NULL AND ev.event_type IN ('exposure', 'conversion')
     GROUP BY ev.project_id, ev.experiment_id, ev.session_id, ev.bucket
    RETURNING project_id, experiment_id, session_id
  ),
  seen_users AS (
    -- Users are widened by what their events show, never narrowed (a
    -- deleted event does not move first_seen back); identify() adds traits.
    INSERT INTO analytics.users AS u (project_id, user_id, first_seen, last_seen)
    SELECT ev.project_id, ev.user_id, pg_catalog.min(ev.occurred_at), pg_catalog.max(ev.occurred_at)
      FROM ev WHERE ev.user_id IS NOT NULL
     GROUP BY ev.project_id, ev.user_id
     ORDER BY ev.project_id, ev.user_id
    ON CONFLICT (project_id, user_id) DO UPDATE
       SET first_seen = least(u.first_seen, excluded.first_seen),
           last_seen = greatest(u.last_seen, excluded.last_seen)
    RETURNING 1
  ),
  touched_users AS (
    -- Users with events in the buckets, at their earliest and latest:
    -- walked again through the funnels saved by user.
    SELECT coalesce(pg_catalog.array_agg(t.project_id), '{}') AS projects,
           coalesce(pg_catalog.array_agg(t.user_id), '{}') AS ids,
           coalesce(pg_catalog.array_agg(b.bucket), '{}') AS buckets
      FROM (SELECT ev.project_id, ev.user_id, pg_catalog.min(ev.bucket) AS first_bucket,
                   pg_catalog.max(ev.bucket) AS last_bucket
              FROM ev WHERE ev.user_id IS NOT NULL
               AND ev.project_id IN (SELECT f.project_id FROM analytics.funnels f WHERE f.count_by = 'user')
             GROUP BY ev.project_id, ev.user_id) t
     CROSS JOIN LATERAL (VALUES (t.first_bucket), (t.last_bucket)) AS b(bucket)
  ),
  touched_sessions AS (
    SELECT coalesce(pg_catalog.array_agg(s.project_id), '{}') AS projects,
           coalesce(pg_catalog.array_agg(s.session_id), '{}') AS ids
      FROM session_facts s
  ),
  touched_experiments AS (
    SELECT coalesce(pg_catalog.array_agg(x.project_id), '{}') AS projects,
           coalesce(pg_catalog.array_agg(x.experiment_id), '{}') AS experiments,
           coalesce(pg_catalog.array_agg(x.session_id), '{}') AS sessions
      FROM experiment_facts x
  )
  SELECT v_hourly_rows + (SELECT pg_catalog.count(*) FROM hourly),
         v_session_projects || ts.projects, v_session_ids || ts.ids,
         v_experiment_projects || te.projects, v_experiment_ids || te.experiments,
         v_experiment_sessions || te.sessions,
         v_user_projects || tu.projects, v_user_ids || tu.ids, v_user_buckets || tu.buckets
    INTO v_hourly_rows, v_session_projects, v_session_ids, v_experiment_projects, v_experiment_ids,
         v_experiment_sessions, v_user_projects, v_user_ids, v_user_buckets
    FROM touched_sessions ts, touched_experiments te, touched_users tu;
  -- (totals and properties run to completion although nothing reads them.)
  END LOOP;

  -- 3. Sessions: merge the hourly facts of every session seen in the buckets.
  v_sessions := analytics._merge_sessions(v_session_projects, v_session_ids);
  -- 3b. Saved funnels: walk the same sessions through them again.
  v_funnel_sessions := analytics._merge_funnel_sessions(v_session_projects, v_session_ids);
  -- 3c. Funnels saved by user: walk again the users whose events changed.
  v_funnel_users := analytics._merge_funnel_users(v_projects, v_buckets, v_user_projects, v_user_ids, v_user_buckets);
  -- 4. Experiments: merge the experiment sessions, then their variant totals.
  v_experiments := analytics._merge_experiment_sessions(v_experiment_projects, v_experiment_ids,
                                                        v_experiment_sessions);
  -- 5. Days: every project day the buckets overlap, in the project's zone.
  SELECT pg_catalog.array_agg(d.project_id), pg_catalog.array_agg(d.day)
    INTO v_day_projects, v_day_days
    FROM analytics._days_of_buckets(v_projects, v_buckets) d;
  v_days := analytics._recompute_days(v_day_projects, v_day_days, v_projects, v_buckets);

  DELETE FROM analytics.dirty_buckets d USING unnest(v_mark_projects, v_mark_ids) AS c(project_id, mark_id)
   WHERE d.project_id = c.project_id AND d.mark_id = c.mark_id;

  RETURN pg_catalog.jsonb_build_object(
    'buckets', pg_catalog.cardinality(v_projects),
    'hourly_rows', v_hourly_rows,
    'sessions', v_sessions,
    'funnel_sessions', v_funnel_sessions,
    'funnel_users', v_funnel_users,
    'experiment_sessions', v_experiments,
    'days', pg_catalog.jsonb_array_length(v_days -> 'days'));
END
$function$;

COMMENT ON FUNCTION analytics._recompute_buckets(text[], timestamptz[]) IS
  'Internal: recompute hourly rollups, session and experiment facts and the daily rollups of the given (project, hour) buckets.';
