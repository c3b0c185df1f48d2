CREATE OR REPLACE FUNCTION analytics._funnel_probe_users(
  project_id text,
  event_type text,
  name text,
  from_ts timestamptz,
  to_ts timestamptz,
  entries integer[],
  user_ids text[],
  after timestamptz[],
  until timestamptz[],
  OUT found_entries integer[],
  OUT found_users text[],
  OUT found_until timestamptz[],
  OUT found_at timestamptz[]
)
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $function$
/*
Contract: for each entry (a user and a span of time), the user's first
  event of one funnel step strictly after `after` and at most `until`,
  within [from_ts, to_ts): one index probe per entry through
  (project_id, user_id, event_type, name, occurred_at), whose text keys
  are in the "C" collation (0017): the probe says COLLATE "C" on each of
  them, or it could not use the index at all. The bounds of the
  scan are passed as values of their own, so that each call is planned
  for the partitions they cover alone. Shared by the funnels counted by
  user: _funnel_from_user_steps() (over a range) and
  _write_funnel_user_walks() (a saved funnel, over all events).
Parameters:
  project_id        the tenant (resolved by the caller)
  event_type, name  the step (name NULL: any name)
  from_ts, to_ts    the events that may count; the narrower, the fewer
                    partitions each probe reads
  entries           an id per entry, returned for those found
  user_ids, after, until  per entry: the user, and the span (after, until]
Returns: the entries with such an event, in input order: found_entries
  (their ids), found_users and found_until (their users and `until`,
  carried over for the next step) and found_at (the event's time); NULL
  arrays if none.
Example: SELECT * FROM analytics._funnel_probe_users('default', 'signup', NULL, now() - interval '1 day', now(),
           ARRAY[1], ARRAY['u1'], ARRAY['-infinity']::timestamptz[], ARRAY['infinity']::timestamptz[]);
*/
BEGIN
  EXECUTE $q$
      SELECT pg_catalog.array_agg(p.entry), pg_catalog.array_agg(p.user_id), pg_catalog.array_agg(p.until),
             pg_catalog.array_agg(x.at)
        FROM unnest($6::integer[], $7::text[], $8::timestamptz[], $9::timestamptz[]) AS p(entry, user_id, after, until)
       CROSS JOIN LATERAL (
         SELECT pg_catalog.min(e.occurred_at) AS at FROM analytics.events e
          WHERE e.project_id = $1 COLLATE "C" AND e.user_id = p.user_id COLLATE "C"
            AND e.event_type = $2 COLLATE "C" AND ($3::text IS NULL OR e.name = $3 COLLATE "C")
            AND e.occurred_at >= $4 AND e.occurred_at < $5
            AND e.occurred_at > p.after AND e.occurred_at <= p.until) x
       WHERE x.at IS NOT NULL$q$
    INTO found_entries, found_users, found_until, found_at
    USING project_id, event_type, name, from_ts, to_ts, entries, user_ids, after, until;
END
$function$;

COMMENT ON FUNCTION analytics._funnel_probe_users(text, text, text, timestamptz, timestamptz, integer[], text[], timestamptz[], timestamptz[]) IS
  'Internal: per user and span, the first event of a funnel step, one index probe each.';
