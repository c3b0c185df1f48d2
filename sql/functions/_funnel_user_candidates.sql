CREATE OR REPLACE FUNCTION analytics._funnel_user_candidates(
  project_id text,
  from_ts timestamptz,
  to_ts timestamptz,
  written text[] DEFAULT NULL
)
RETURNS text[]
LANGUAGE sql
STABLE
SET search_path = pg_catalog, pg_temp
AS $function$
/*
Contract: every user of a project who may have an event in [from_ts,
  to_ts), and maybe a few more: _funnel_from_user_steps() follows only
  these users, so none may be missing.
  - users whose first and last event, as of the last refresh_rollups(),
    span part of the range (analytics.users: the job widens them with every
    event it sees and never narrows them, so a deleted event leaves a user
    in, never out);
  - users of the raw events, now, in the hours written since that refresh
    (_users_written_since_refresh): a new user, or a user's new event.
Parameters: project_id (resolved by the caller); from_ts, to_ts the range;
  written: the users of the hours written since, when the caller has them
  already (NULL: read here).
Returns: the user ids, each once (an empty array for none).
Example: SELECT pg_catalog.cardinality(analytics._funnel_user_candidates('default', now() - interval '1 day', now()));
*/
  -- The users of analytics.users are unique: only those written since
  -- that it lacks are added (no sort of every user for a DISTINCT).
  SELECT coalesce(pg_catalog.array_agg(u.user_id), '{}')
         || coalesce((SELECT pg_catalog.array_agg(w.user_id)
                        FROM unnest(coalesce(written,
                                             analytics._users_written_since_refresh(_funnel_user_candidates.project_id,
                                                                                    from_ts, to_ts))) AS w(user_id)
                       WHERE NOT EXISTS (SELECT FROM analytics.users x
                                          WHERE x.project_id = _funnel_user_candidates.project_id
                                            AND x.user_id = w.user_id
                                            AND x.last_seen >= from_ts AND x.first_seen < to_ts)), '{}')
    FROM analytics.users u
   WHERE u.project_id = _funnel_user_candidates.project_id
     AND u.last_seen >= from_ts AND u.first_seen < to_ts
$function$;

COMMENT ON FUNCTION analytics._funnel_user_candidates(text, timestamptz, timestamptz, text[]) IS
  'Internal: the users of a project who may have events in a range (analytics.users, and the hours written since the last refresh).';
