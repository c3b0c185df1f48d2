DROP TABLE analytics.events CASCADE;
