CREATE OR REPLACE FUNCTION analytics._setting(setting_key text, project text DEFAULT NULL)
RETURNS text
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $function$
/*
Contract: the value of one knob of analytics.settings, as text, with the
  override of analytics.project_settings for `project` when there is one.
Parameters:
  setting_key  a key of analytics.settings, e.g. 'raw_retention_days'
  project      a project_id, or NULL for the package-wide value
Errors: 22023 when setting_key is not a known setting.
Example: SELECT analytics._setting('time_zone', 'shop');
*/
DECLARE
  v_value text;
BEGIN
  SELECT coalesce(ps.value, s.value)
    INTO v_value
    FROM analytics.settings s
    LEFT JOIN analytics.project_settings ps
      ON ps.key = s.key AND ps.project_id = project
   WHERE s.key = setting_key;
  IF NOT FOUND THEN
    RAISE EXCEPTION USING
      ERRCODE = '22023',
      MESSAGE = pg_catalog.format('unknown setting %L', setting_key),
      HINT = 'SELECT key, value, description FROM analytics.settings lists the settings.';
  END IF;
  RETURN v_value;
END
$function$;

COMMENT ON FUNCTION analytics._setting(text, text) IS
  'Internal: value of a setting, with the per-project override. Raises 22023 for an unknown key.';
