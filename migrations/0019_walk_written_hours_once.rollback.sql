-- Roll back 0019: group_stats() goes, so that the older checkout's sql/ can
-- create it again with its jsonb result; the other functions come back as
-- they were with that checkout's sql/ too.
DROP FUNCTION IF EXISTS analytics.group_stats(date, date, text, text);
