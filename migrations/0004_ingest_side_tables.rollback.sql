DROP TABLE analytics.dirty_buckets;
DROP TABLE analytics.sessions;
DROP TABLE analytics.users;
DROP TABLE analytics.rejected_events;
