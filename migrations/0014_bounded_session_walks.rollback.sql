-- Roll back 0014: the functions it added go; the older checkout's sql/
-- brings back the _funnel_walk_sessions(), _funnel_from_session_paths(),
-- funnels by user and group_stats() that do not call them.
DROP FUNCTION IF EXISTS analytics._users_written_since_refresh(text, timestamptz, timestamptz);
DROP FUNCTION IF EXISTS analytics._hours_written_since_refresh(text, timestamptz, timestamptz);
