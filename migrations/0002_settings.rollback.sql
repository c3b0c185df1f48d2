DROP TABLE analytics.project_settings;
DROP TABLE analytics.settings;
