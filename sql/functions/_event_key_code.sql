CREATE OR REPLACE FUNCTION analytics._event_key_code(event_type text, name text)
RETURNS integer
LANGUAGE sql
IMMUTABLE
PARALLEL SAFE
AS $function$
/*
Contract: the number that stands for an event key (event type and name):
  a hash of the key onto 2,048 to 55,295, the code points U+0800 to U+D7FF
  of _event_key_char() (its character is chr() of this number). The
  per-user paths of a day (rollup_daily_user_paths.keys) hold these
  numbers, which need no UTF-8 database. Two keys may share a number:
  analytics.event_keys records the character of every key seen.
Parameters: event_type, name (NULL is a key of its own, not ''). The key
  is hashed as 'type=name' or 'type': an event type holds no '='.
Returns: an integer in [2048, 55295].
Example: SELECT analytics._event_key_code('pageview', '/pricing');
No SET clause, and each parameter named once: the rollup job calls this
  once per event, and only such a SQL function is inlined into the calling
  query. Every name in the body is schema-qualified instead.
*/
SELECT (2048 + ((pg_catalog.hashtextextended(event_type || coalesce('=' || name, ''), 0) % 53248) + 53248) % 53248)::integer
$function$;

COMMENT ON FUNCTION analytics._event_key_code(text, text) IS
  'Internal: the number of an event key (type, name) in per-user paths; the code point of its _event_key_char().';
