CREATE OR REPLACE FUNCTION analytics.user_stats(
  from_day date,
  to_day date,
  user_id text DEFAULT NULL,
  lim integer DEFAULT 1000,
  project_id text DEFAULT NULL
)
RETURNS jsonb
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET jit = off
SET plan_cache_mode = force_custom_plan
SET max_parallel_workers_per_gather = 0
AS $function$
/*
Contract: seed 001's daily user stats (analytics_daily_user_stats): per day
  (in the project's time zone) and user, events, sessions, first and last
  event, from the daily per-user rollup, newest day first, then most events.
Parameters: from_day <= to_day (at most 400 days); user_id: one user, or all;
  lim 1..10000 rows; project_id NULL: the caller's JWT project.
Returns: [{"day", "user_id", "events", "sessions", "first_seen", "last_seen"}]
Errors: 22023 reversed or too long range, lim out of range; 42501 another tenant.
Security: SECURITY DEFINER; EXECUTE for analytics_reader and analytics_admin.
Example: SELECT analytics.user_stats(current_date - 30, current_date, user_id => 'myclik');
*/
DECLARE
  v_project text := analytics._resolve_project(user_stats.project_id);
  v_user    text := user_stats.user_id;
  v_result  jsonb;
BEGIN
  PERFORM analytics._check_day_range(from_day, to_day);
  PERFORM analytics._check_lim(lim, 10000);
  SELECT coalesce(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
           'day', u.day, 'user_id', u.user_id, 'events', u.events, 'sessions', u.sessions,
           'first_seen', u.first_seen, 'last_seen', u.last_seen) ORDER BY u.day DESC, u.events DESC, u.user_id), '[]')
    INTO v_result
    FROM (SELECT d.* FROM analytics.rollup_daily_users d
           WHERE (v_project IS NULL OR d.project_id = v_project)
             AND d.day BETWEEN from_day AND to_day
             AND (v_user IS NULL OR d.user_id = v_user)
           ORDER BY d.day DESC, d.events DESC, d.user_id
           LIMIT lim) u;
  RETURN v_result;
END
$function$;

COMMENT ON FUNCTION analytics.user_stats(date, date, text, integer, text) IS
  'RPC: seed 001 daily user stats (events, sessions, first and last seen per user and day), from the daily rollup.';
