CREATE OR REPLACE FUNCTION analytics.experiment_results(
  experiment_id text,
  project_id text DEFAULT NULL,
  control text DEFAULT NULL,
  weights jsonb DEFAULT NULL
)
RETURNS jsonb
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET jit = off
SET plan_cache_mode = force_custom_plan
SET max_parallel_workers_per_gather = 0
AS $function$
/*
Contract: is the experiment's result real? From the exposure-gated
  experiment rollup (never raw events): a session counts for the variant of
  its first exposure, and only its conversions at or after that exposure
  count (the seed 004 query also counted conversions before exposure).
  Per variant: exposed and converted sessions, conversion rate, lift over the
  control, a two-proportion z-test p-value (pooled) and a 95 % confidence
  interval for the difference of rates from the control (unpooled, Wald);
  and a sample-ratio-mismatch check: the chi-square p-value of the exposed
  sessions against an even split, or against `weights`.
Parameters:
  experiment_id  the experiment
  project_id     the tenant; NULL: the caller's JWT project
  control        the control variant; NULL: the first variant in sort order
  weights        expected split, e.g. {"control": 0.5, "treatment": 0.5}; NULL: even
Returns: {"experiment_id", "control", "srm_p_value", "variants": [{"variant_key",
  "exposed_sessions", "converted_sessions", "conversion_rate", "lift", "p_value",
  "ci_low", "ci_high"}]}; control's lift, p_value and interval are null, as are
  statistics that are undefined (a control rate of 0, no variance).
  Figures are exact as of the last refresh_rollups().
Errors: 22023 for an unknown control or bad weights; 42501 for another tenant.
Security: SECURITY DEFINER; EXECUTE for analytics_reader and analytics_admin.
Example: SELECT analytics.experiment_results(experiment_id => 'checkout-button');
*/
DECLARE
  v_project  text := analytics._resolve_project(experiment_results.project_id);
  v_control  text;
  v_n_c      double precision;
  v_x_c      double precision;
  v_variants jsonb;
  v_srm      double precision;
  v_k        integer;
  v_keys     text[];
  v_ns       double precision[];
  v_xs       double precision[];
BEGIN
  IF weights IS NOT NULL AND (pg_catalog.jsonb_typeof(weights) <> 'object' OR EXISTS (
        SELECT 1 FROM pg_catalog.jsonb_each(weights) w
         WHERE pg_catalog.jsonb_typeof(w.value) <> 'number' OR (w.value)::double precision <= 0)) THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'weights must be an object of positive numbers by variant',
      HINT = 'For example {"control": 0.5, "treatment": 0.5}.';
  END IF;
  SELECT pg_catalog.array_agg(t.variant_key ORDER BY t.variant_key), pg_catalog.array_agg(t.n ORDER BY t.variant_key),
         pg_catalog.array_agg(t.x ORDER BY t.variant_key), pg_catalog.count(*)
    INTO v_keys, v_ns, v_xs, v_k
    FROM (SELECT r.variant_key, pg_catalog.sum(r.exposed_sessions)::double precision AS n,
                 pg_catalog.sum(r.converted_sessions)::double precision AS x
            FROM analytics.rollup_experiments r
           WHERE r.experiment_id = experiment_results.experiment_id
             AND (v_project IS NULL OR r.project_id = v_project)
           GROUP BY r.variant_key) t;
  IF v_k = 0 THEN
    RETURN pg_catalog.jsonb_build_object('experiment_id', experiment_id, 'control', control,
                                         'srm_p_value', NULL, 'variants', '[]'::jsonb);
  END IF;
  v_control := coalesce(control, (SELECT min(v.variant_key) FROM unnest(v_keys, v_ns, v_xs) AS v(variant_key, n, x)));
  SELECT v.n, v.x INTO v_n_c, v_x_c FROM unnest(v_keys, v_ns, v_xs) AS v(variant_key, n, x) WHERE v.variant_key = v_control;
  IF NOT FOUND THEN
    RAISE EXCEPTION USING ERRCODE = '22023',
      MESSAGE = pg_catalog.format('control %L is not a variant of experiment %L', v_control, experiment_id),
      HINT = 'Omit control to use the first variant in sort order.';
  END IF;

  SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
           'variant_key', s.variant_key, 'exposed_sessions', s.n::bigint, 'converted_sessions', s.x::bigint,
           'conversion_rate', s.rate,
           'lift', CASE WHEN s.variant_key = v_control OR v_x_c = 0 THEN NULL ELSE s.rate / (v_x_c / v_n_c) - 1 END,
           'p_value', CASE WHEN s.variant_key = v_control OR s.pooled_se = 0 THEN NULL
                           ELSE least(1.0, 2 * (1 - analytics._normal_cdf(abs(s.rate - v_x_c / v_n_c) / s.pooled_se))) END,
           'ci_low', CASE WHEN s.variant_key = v_control THEN NULL ELSE (s.rate - v_x_c / v_n_c) - 1.959963984540054 * s.se END,
           'ci_high', CASE WHEN s.variant_key = v_control THEN NULL ELSE (s.rate - v_x_c / v_n_c) + 1.959963984540054 * s.se END)
           ORDER BY s.variant_key)
    INTO v_variants
    FROM (SELECT v.variant_key, v.n, v.x, v.x / v.n AS rate,
                 pg_catalog.sqrt(((v.x + v_x_c) / (v.n + v_n_c)) * (1 - (v.x + v_x_c) / (v.n + v_n_c))
                                 * (1 / v.n + 1 / v_n_c)) AS pooled_se,
                 pg_catalog.sqrt((v.x / v.n) * (1 - v.x / v.n) / v.n
                                 + (v_x_c / v_n_c) * (1 - v_x_c / v_n_c) / v_n_c) AS se
            FROM unnest(v_keys, v_ns, v_xs) AS v(variant_key, n, x)) s;

  IF weights IS NOT NULL AND EXISTS (SELECT 1 FROM unnest(v_keys) AS k(variant_key) WHERE NOT weights ? k.variant_key) THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'weights must give a weight for every variant',
      DETAIL = pg_catalog.format('variants: %s', pg_catalog.array_to_string(v_keys, ', '));
  END IF;
  IF v_k > 1 THEN
    SELECT analytics._chi_square_p_value(pg_catalog.sum((v.n - e.expected) ^ 2 / e.expected), v_k - 1)
      INTO v_srm
      FROM unnest(v_keys, v_ns, v_xs) AS v(variant_key, n, x)
      JOIN (SELECT w.variant_key,
                   (SELECT pg_catalog.sum(n) FROM unnest(v_ns) AS t(n)) * w.weight / pg_catalog.sum(w.weight) OVER () AS expected
              FROM (SELECT v2.variant_key,
                           coalesce((weights ->> v2.variant_key)::double precision,
                                    CASE WHEN weights IS NULL THEN 1 END) AS weight
                      FROM unnest(v_keys) AS v2(variant_key)) w) e ON e.variant_key = v.variant_key
     WHERE e.expected > 0;
  END IF;
  RETURN pg_catalog.jsonb_build_object('experiment_id', experiment_id, 'control', v_control, 'srm_p_value', v_srm,
                                       'variants', v_variants);
END
$function$;

COMMENT ON FUNCTION analytics.experiment_results(text, text, text, jsonb) IS
  'RPC: exposure-gated experiment results per variant: rates, lift, z-test p-value, 95% CI, sample ratio mismatch.';
