-- Roll back 0011: funnels nobody saved walk raw events again. The functions
-- that read what 0011 added go with it; the older checkout's sql/ brings
-- back the funnel() that does not call them.
DROP FUNCTION IF EXISTS analytics._funnel_from_session_paths(integer, text, text[], text[], timestamptz, timestamptz,
                                                             interval, text, text[]);
DROP FUNCTION IF EXISTS analytics._funnel_step_patterns(text, text[], text[]);
DROP FUNCTION IF EXISTS analytics._event_key_char(text, text);
DROP INDEX analytics.sessions_open_idx;
ALTER TABLE analytics.sessions DROP COLUMN path;
ALTER TABLE analytics.session_hours DROP COLUMN path;
DROP TABLE analytics.event_keys;
