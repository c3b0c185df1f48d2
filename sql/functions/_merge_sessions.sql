CREATE OR REPLACE FUNCTION analytics._merge_sessions(projects text[], session_ids text[])
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $function$
/*
Contract: rebuild the rows of analytics.sessions for the given sessions by
  merging their per-hour facts (analytics.session_hours): first and last
  event, event count, the user, the entry page (first pageview), exit
  page (last pageview) and path (its events' key characters in time order,
  for funnel()). A session with no facts left is removed. Then keep
  what depends on them current:
  - previous_first_seen, the link from each visit to its user's previous
    visit in (first_seen, session_id) order, for every user whose visits
    came, went, or changed user or start: relinked from the earliest such
    change on, so a late event months back relinks that user's later
    visits, and no one else's (a visit re-merged unchanged costs nothing);
  - analytics.rollup_hourly_visits, rollup_hourly_entry_exit_pages and
    rollup_hourly_paths, recomputed from analytics.sessions for every
    (project, UTC hour) where a touched or relinked visit started, or
    started before this call.
Parameters: projects[i], session_ids[i]: the i-th session. Duplicates are fine.
Returns: the number of sessions rebuilt.
Example: SELECT analytics._merge_sessions(ARRAY['default'], ARRAY['s1']);
*/
DECLARE
  v_rows            bigint;
  v_gone_projects   text[];
  v_gone_sessions   text[];
  -- Each touched visit's user and start before this call.
  v_old_projects    text[];
  v_old_sessions    text[];
  v_old_users       text[];
  v_old_starts      timestamptz[];
  -- Each rebuilt visit after the merge (and its link, not yet updated).
  v_new_projects    text[];
  v_new_sessions    text[];
  v_new_users       text[];
  v_new_starts      timestamptz[];
  v_new_previous    timestamptz[];
  -- The (project, UTC hour) rows of the visit rollups to recompute.
  v_hour_projects   text[];
  v_hours           timestamptz[];
BEGIN
  IF coalesce(pg_catalog.cardinality(projects), 0) = 0 THEN
    RETURN 0;
  END IF;
  SELECT pg_catalog.array_agg(s.project_id), pg_catalog.array_agg(s.session_id), pg_catalog.array_agg(s.user_id),
         pg_catalog.array_agg(s.first_seen)
    INTO v_old_projects, v_old_sessions, v_old_users, v_old_starts
    FROM (SELECT DISTINCT u.project_id, u.session_id
            FROM unnest(projects, session_ids) AS u(project_id, session_id)) k
   CROSS JOIN LATERAL (  -- one index probe per session
     SELECT x.project_id, x.session_id, x.user_id, x.first_seen FROM analytics.sessions x
      WHERE x.project_id = k.project_id AND x.session_id = k.session_id OFFSET 0
   ) s;
  WITH keys AS MATERIALIZED (
    SELECT DISTINCT u.project_id, u.session_id FROM unnest(projects, session_ids) AS u(project_id, session_id)
  ), merged AS (
    INSERT INTO analytics.sessions
           (project_id, session_id, user_id, first_seen, last_seen, event_count, entry_page, exit_page, path)
    SELECT h.project_id, h.session_id,
           (pg_catalog.array_agg(h.user_id ORDER BY h.last_at DESC) FILTER (WHERE h.user_id IS NOT NULL))[1],
           pg_catalog.min(h.first_at), pg_catalog.max(h.last_at), pg_catalog.sum(h.events),
           (pg_catalog.array_agg(h.entry_page ORDER BY h.entry_at) FILTER (WHERE h.entry_at IS NOT NULL))[1],
           (pg_catalog.array_agg(h.exit_page ORDER BY h.exit_at DESC) FILTER (WHERE h.exit_at IS NOT NULL))[1],
           CASE WHEN pg_catalog.bool_and(h.path IS NOT NULL) THEN pg_catalog.string_agg(h.path, '' ORDER BY h.bucket) END
      FROM keys k
     CROSS JOIN LATERAL (
       -- One index probe per session (OFFSET 0 keeps the planner from
       -- turning this into a scan of the whole table).
       SELECT x.* FROM analytics.session_hours x
        WHERE x.project_id = k.project_id AND x.session_id = k.session_id OFFSET 0
     ) h
     GROUP BY h.project_id, h.session_id
    ON CONFLICT (project_id, session_id) DO UPDATE
       SET user_id = excluded.user_id, first_seen = excluded.first_seen, last_seen = excluded.last_seen,
           event_count = excluded.event_count, entry_page = excluded.entry_page, exit_page = excluded.exit_page,
           path = excluded.path
    RETURNING project_id, session_id, user_id, first_seen, previous_first_seen
  )
  SELECT pg_catalog.count(*), pg_catalog.array_agg(m.project_id), pg_catalog.array_agg(m.session_id),
         pg_catalog.array_agg(m.user_id), pg_catalog.array_agg(m.first_seen), pg_catalog.array_agg(m.previous_first_seen)
    INTO v_rows, v_new_projects, v_new_sessions, v_new_users, v_new_starts, v_new_previous
    FROM merged m;
  -- Sessions whose every event is gone (a DELETE of raw events).
  SELECT pg_catalog.array_agg(k.project_id), pg_catalog.array_agg(k.session_id)
    INTO v_gone_projects, v_gone_sessions
    FROM (SELECT DISTINCT u.project_id, u.session_id
            FROM unnest(projects, session_ids) AS u(project_id, session_id)) k
   WHERE NOT EXISTS (SELECT 1 FROM analytics.session_hours h
                      WHERE h.project_id = k.project_id AND h.session_id = k.session_id);
  IF v_gone_projects IS NOT NULL THEN
    DELETE FROM analytics.sessions s USING unnest(v_gone_projects, v_gone_sessions) AS g(p, id)
     WHERE s.project_id = g.p AND s.session_id = g.id;
  END IF;

  -- Relink the visits of every user whose visits came, went, or changed
  -- user or start, from the earliest such change on (the chain is read from
  -- the visit just before it); a visit re-merged with the same user and
  -- start keeps its place. Unlink touched visits that have no user. Collect
  -- the hours to recompute: every hour where a touched visit starts or
  -- started (its events, duration or pages may have changed).
  WITH before AS (
    SELECT o.project_id, o.session_id, o.user_id, o.first_seen
      FROM unnest(v_old_projects, v_old_sessions, v_old_users, v_old_starts)
             AS o(project_id, session_id, user_id, first_seen)
  ), after AS (
    SELECT n.project_id, n.session_id, n.user_id, n.first_seen, n.previous_first_seen
      FROM unnest(v_new_projects, v_new_sessions, v_new_users, v_new_starts, v_new_previous)
             AS n(project_id, session_id, user_id, first_seen, previous_first_seen)
  ), moved AS (
    -- Old and new place of every visit that came, went or moved.
    SELECT x.project_id, x.user_id, x.first_seen
      FROM before b FULL JOIN after a ON a.project_id = b.project_id AND a.session_id = b.session_id
     CROSS JOIN LATERAL (VALUES (b.project_id, b.user_id, b.first_seen), (a.project_id, a.user_id, a.first_seen))
             AS x(project_id, user_id, first_seen)
     WHERE (a.session_id IS NULL OR b.session_id IS NULL
            OR a.user_id IS DISTINCT FROM b.user_id OR a.first_seen <> b.first_seen)
       AND x.user_id IS NOT NULL
  ), changed_users AS (
    SELECT m.project_id, m.user_id, pg_catalog.min(m.first_seen) AS since
      FROM moved m GROUP BY m.project_id, m.user_id
  ), chain AS (
    SELECT x.project_id, x.session_id, x.first_seen, u.since,
           pg_catalog.lag(x.first_seen) OVER (PARTITION BY x.project_id, x.user_id
                                              ORDER BY x.first_seen, x.session_id COLLATE "C") AS previous_first_seen
      FROM changed_users u
     CROSS JOIN LATERAL (
       SELECT y.project_id, y.user_id, y.session_id, y.first_seen FROM analytics.sessions y
        WHERE y.project_id = u.project_id AND y.user_id = u.user_id
          AND y.first_seen >= coalesce((SELECT pg_catalog.max(z.first_seen) FROM analytics.sessions z
                                         WHERE z.project_id = u.project_id AND z.user_id = u.user_id
                                           AND z.first_seen < u.since), '-infinity')
        OFFSET 0
     ) x
  ), relinked AS (
    UPDATE analytics.sessions s SET previous_first_seen = c.previous_first_seen
      FROM chain c
     WHERE s.project_id = c.project_id AND s.session_id = c.session_id AND c.first_seen >= c.since
       AND s.previous_first_seen IS DISTINCT FROM c.previous_first_seen
    RETURNING s.project_id, s.first_seen
  ), unlinked AS (
    UPDATE analytics.sessions s SET previous_first_seen = NULL
      FROM after a
     WHERE a.user_id IS NULL AND a.previous_first_seen IS NOT NULL
       AND s.project_id = a.project_id AND s.session_id = a.session_id
    RETURNING s.project_id, s.first_seen
  )
  SELECT pg_catalog.array_agg(h.project_id), pg_catalog.array_agg(h.hour)
    INTO v_hour_projects, v_hours
    FROM (SELECT DISTINCT w.project_id, pg_catalog.date_trunc('hour', w.first_seen, 'UTC') AS hour
            FROM (SELECT b.project_id, b.first_seen FROM before b
                  UNION ALL SELECT a.project_id, a.first_seen FROM after a
                  UNION ALL SELECT r.project_id, r.first_seen FROM relinked r
                  UNION ALL SELECT n.project_id, n.first_seen FROM unlinked n) w) h;

  IF v_hour_projects IS NOT NULL THEN
    DELETE FROM analytics.rollup_hourly_visits r USING unnest(v_hour_projects, v_hours) AS h(project_id, hour)
     WHERE r.project_id = h.project_id AND r.bucket = h.hour;
    DELETE FROM analytics.rollup_hourly_entry_exit_pages r
     USING unnest(v_hour_projects, v_hours) AS h(project_id, hour)
     WHERE r.project_id = h.project_id AND r.bucket = h.hour;
    DELETE FROM analytics.rollup_hourly_paths r
     USING unnest(v_hour_projects, v_hours) AS h(project_id, hour)
     WHERE r.project_id = h.project_id AND r.bucket = h.hour;
    -- The visits that start in those hours, read once for the three rollups.
    WITH s AS MATERIALIZED (
      SELECT h.project_id, h.hour, x.first_seen, x.last_seen, x.event_count, x.previous_first_seen,
             x.entry_page, x.exit_page, x.path
        FROM unnest(v_hour_projects, v_hours) AS h(project_id, hour)
       CROSS JOIN LATERAL (
         SELECT y.first_seen, y.last_seen, y.event_count, y.previous_first_seen, y.entry_page, y.exit_page, y.path
           FROM analytics.sessions y
          WHERE y.project_id = h.project_id AND y.first_seen >= h.hour AND y.first_seen < h.hour + interval '1 hour'
          OFFSET 0
       ) x
    ), visits AS (
      INSERT INTO analytics.rollup_hourly_visits
             (project_id, bucket, quarter, previous_bucket, visits, bounces, duration_s)
      SELECT s.project_id, s.hour, (EXTRACT(minute FROM s.first_seen AT TIME ZONE 'UTC')::integer / 15)::smallint,
             coalesce(pg_catalog.date_trunc('hour', s.previous_first_seen, 'UTC'), '-infinity'),
             pg_catalog.count(*), pg_catalog.count(*) FILTER (WHERE s.event_count = 1),
             pg_catalog.sum(EXTRACT(epoch FROM s.last_seen - s.first_seen))::double precision
        FROM s
       GROUP BY 1, 2, 3, 4
      RETURNING 1
    ), pages AS (
      INSERT INTO analytics.rollup_hourly_entry_exit_pages (project_id, bucket, page_role, page, visits)
      SELECT s.project_id, s.hour, p.page_role, p.page, pg_catalog.count(*)
        FROM s
       CROSS JOIN LATERAL (VALUES ('entry', s.entry_page), ('exit', s.exit_page)) AS p(page_role, page)
       WHERE p.page IS NOT NULL
       GROUP BY 1, 2, 3, 4
      RETURNING 1
    )
    INSERT INTO analytics.rollup_hourly_paths (project_id, bucket, path, duration_bound, sessions)
    SELECT s.project_id, s.hour, s.path, analytics._session_duration_bound(s.last_seen - s.first_seen),
           pg_catalog.count(*)
      FROM s
     GROUP BY 1, 2, 3, 4;
  END IF;
  RETURN v_rows;
END
$function$;

COMMENT ON FUNCTION analytics._merge_sessions(text[], text[]) IS
  'Internal: rebuild analytics.sessions rows from their per-hour facts.';
