CREATE OR REPLACE FUNCTION analytics.daily_stats(
  from_day date,
  to_day date,
  event_type text DEFAULT NULL,
  name text DEFAULT NULL,
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
Contract: per day (in the project's time zone), event type and name:
  events, distinct sessions and distinct users of that day, from the daily
  rollup (analytics.rollup_daily), newest day first, then most events.
  Seed 001's daily page stats (event_type => 'pageview') and click-target
  stats (event_type => 'click'); seed 002's daily active users per solution
  (event_type => 'message_sent', the solution as the event's name).
Parameters: from_day <= to_day (at most 400 days); event_type, name: one of
  each, or all; lim 1..10000 rows; project_id NULL: the caller's JWT project.
Returns: [{"day", "event_type", "name", "events", "sessions", "users"}]
Errors: 22023 reversed or too long range, lim out of range; 42501 another tenant.
Security: SECURITY DEFINER; EXECUTE for analytics_reader and analytics_admin.
Example: SELECT analytics.daily_stats(current_date - 7, current_date, event_type => 'pageview');
*/
DECLARE
  v_project text := analytics._resolve_project(daily_stats.project_id);
  v_type    text := daily_stats.event_type;
  v_name    text := daily_stats.name;
  v_result  jsonb;
BEGIN
  PERFORM analytics._check_day_range(from_day, to_day);
  PERFORM analytics._check_lim(lim, 10000);
  SELECT coalesce(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
           'day', d.day, 'event_type', d.event_type, 'name', d.name, 'events', d.events,
           'sessions', d.sessions, 'users', d.users)
           ORDER BY d.day DESC, d.events DESC, d.event_type, d.name NULLS FIRST), '[]')
    INTO v_result
    FROM (SELECT r.day, r.event_type, r.name, r.events, r.sessions, r.users
            FROM analytics.rollup_daily r
           WHERE (v_project IS NULL OR r.project_id = v_project)
             AND r.day BETWEEN from_day AND to_day
             AND (v_type IS NULL OR r.event_type = v_type)
             AND (v_name IS NULL OR r.name = v_name)
           ORDER BY r.day DESC, r.events DESC, r.event_type, r.name NULLS FIRST
           LIMIT lim) d;
  RETURN v_result;
END
$function$;

COMMENT ON FUNCTION analytics.daily_stats(date, date, text, text, integer, text) IS
  'RPC: per day, event type and name: events, sessions and users (seed 001 page and click-target stats, seed 002 daily active users per solution).';
