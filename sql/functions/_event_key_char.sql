CREATE OR REPLACE FUNCTION analytics._event_key_char(event_type text, name text)
RETURNS text
LANGUAGE sql
IMMUTABLE
PARALLEL SAFE
AS $function$
/*
Contract: the one character that stands for an event key (event type and
  name) in a session's path (analytics.session_hours.path, sessions.path):
  a hash of the key onto the 53,248 characters U+0800 to U+D7FF (chr() of
  _event_key_code()), each three bytes in UTF-8, none of them special in
  LIKE or in a regular expression.
  Two keys may share a character: analytics.event_keys records the
  character of every key seen, and funnel() reads paths only for steps whose
  characters no other key of the project shares.
Parameters: event_type, name (NULL is a key of its own, not ''). The key
  is hashed as 'type=name' or 'type': an event type holds no '='.
Returns: a one-character text.
Example: SELECT analytics._event_key_char('pageview', '/pricing');
No SET clause: the rollup job calls this once per event, and only a SQL
  function without one, naming each parameter once, is inlined into the
  calling query. Every name in the body is schema-qualified instead.
*/
SELECT pg_catalog.chr(analytics._event_key_code(event_type, name))
$function$;

COMMENT ON FUNCTION analytics._event_key_char(text, text) IS
  'Internal: the character of an event key (type, name) in session paths; a hash, so checked against analytics.event_keys.';
