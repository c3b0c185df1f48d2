CREATE OR REPLACE FUNCTION analytics._merge_funnel_users(
  projects text[],
  buckets timestamptz[],
  user_projects text[],
  user_ids text[],
  user_buckets timestamptz[]
)
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET jit = off
SET plan_cache_mode = force_custom_plan
AS $function$
/*
Contract: keep the funnels saved by user (analytics.funnels, count_by
  'user') current after the rollup job recomputed some (project, UTC hour)
  buckets. A user's walks change only if one of their events in those
  hours was written or deleted; such a user has an event there now (given
  by the caller, from the raw events it read), or a row of
  analytics.funnel_users that entered or reached a step there (found
  here: it entered at most the window before the hour). Each such user is
  walked again (_write_funnel_user_walks()) from the earliest of those
  hours minus the window (the earliest entry whose walk may reach it) to
  the end of the latest: entries after it walk over later events alone.
  The caller holds the refresh_rollups advisory lock.
Parameters:
  projects[i], buckets[i]  the recomputed buckets (UTC hours)
  user_projects[i], user_ids[i], user_buckets[i]  a user with raw events
                           in a recomputed bucket, and that bucket (at
                           least the earliest and the latest of several);
                           duplicates are fine
Returns: the rows of analytics.funnel_users written.
Example: SELECT analytics._merge_funnel_users(ARRAY['default'], ARRAY[date_trunc('hour', now(), 'UTC')],
                                              ARRAY['default'], ARRAY['u1'], ARRAY[date_trunc('hour', now(), 'UTC')]);
*/
DECLARE
  v_funnel record;
  v_users  text[];
  v_since  timestamptz[];
  v_until  timestamptz[];
  v_rows   bigint := 0;
BEGIN
  FOR v_funnel IN
    SELECT f.project_id, f.funnel_id, f.within FROM analytics.funnels f
     WHERE f.count_by = 'user' AND f.project_id IN (SELECT DISTINCT p FROM unnest(projects) AS p)
  LOOP
    SELECT pg_catalog.array_agg(t.user_id),
           pg_catalog.array_agg(pg_catalog.date_trunc('hour', t.first_bucket - v_funnel.within, 'UTC')),
           pg_catalog.array_agg(t.last_bucket + interval '1 hour')
      INTO v_users, v_since, v_until
      FROM (
        SELECT c.user_id, pg_catalog.min(c.bucket) AS first_bucket, pg_catalog.max(c.bucket) AS last_bucket
          FROM (
            SELECT u.user_id, u.bucket FROM unnest(user_projects, user_ids, user_buckets) AS u(project_id, user_id, bucket)
             WHERE u.project_id = v_funnel.project_id
            UNION ALL
            -- Rows that entered (reached_at[1]) or reached a step in a
            -- recomputed hour; their last step-1 event is in the hour
            -- they entered.
            SELECT fu.user_id, b.h
              FROM (SELECT DISTINCT b.h FROM unnest(projects, buckets) AS b(p, h) WHERE b.p = v_funnel.project_id) b
             CROSS JOIN LATERAL (
               SELECT fu.user_id, fu.reached_at FROM analytics.funnel_users fu
                WHERE fu.project_id = v_funnel.project_id AND fu.funnel_id = v_funnel.funnel_id
                  AND fu.entered_at >= b.h - v_funnel.within AND fu.entered_at < b.h + interval '1 hour'
               OFFSET 0  -- an index range per hour
             ) fu
             WHERE EXISTS (SELECT FROM unnest(fu.reached_at) AS r(at)
                            WHERE r.at >= b.h AND r.at < b.h + interval '1 hour')
          ) c
         GROUP BY c.user_id
      ) t;
    IF v_users IS NOT NULL THEN
      v_rows := v_rows + analytics._write_funnel_user_walks(v_funnel.project_id, v_funnel.funnel_id, v_users, v_since,
                                                            v_until);
    END IF;
  END LOOP;
  RETURN v_rows;
END
$function$;

COMMENT ON FUNCTION analytics._merge_funnel_users(text[], timestamptz[], text[], text[], timestamptz[]) IS
  'Internal: walk again, through every funnel saved by user, the users whose events changed in recomputed hours.';
