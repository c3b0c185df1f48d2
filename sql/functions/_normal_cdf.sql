CREATE OR REPLACE FUNCTION analytics._normal_cdf(x double precision)
RETURNS double precision
LANGUAGE sql
IMMUTABLE
STRICT
PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $function$
/*
Contract: the standard normal cumulative distribution Φ(x), from
  erfc(|x|/√2) by the Numerical Recipes Chebyshev fit (erfcc), absolute error
  below 1.2e-7 everywhere: enough for p-values and confidence intervals.
  PostgreSQL 15 has no erf().
Example: SELECT analytics._normal_cdf(1.959964);  -- 0.975
*/
  SELECT CASE WHEN x >= 0 THEN 1 - 0.5 * erfc ELSE 0.5 * erfc END
    FROM (SELECT t * exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418
                 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587
                 + t * (-0.82215223 + t * 0.17087277))))))))) AS erfc
            FROM (SELECT z, 1 / (1 + 0.5 * z) AS t FROM (SELECT abs(x) / sqrt(2.0::double precision) AS z) a) b) c
$function$;

COMMENT ON FUNCTION analytics._normal_cdf(double precision) IS
  'Internal: standard normal CDF (error < 1.2e-7), for experiment statistics.';
