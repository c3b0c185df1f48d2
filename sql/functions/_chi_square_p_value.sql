CREATE OR REPLACE FUNCTION analytics._chi_square_p_value(statistic double precision, degrees integer)
RETURNS double precision
LANGUAGE plpgsql
IMMUTABLE
STRICT
PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $function$
/*
Contract: the upper tail P(X >= statistic) of a chi-square distribution with
  `degrees` degrees of freedom: the regularized upper incomplete gamma
  Q(k/2, x/2), by its series below a+1 and its continued fraction above
  (Numerical Recipes gser/gcf), with ln Γ by Lanczos. Relative error ~1e-10.
Errors: 22023 when degrees < 1.
Example: SELECT analytics._chi_square_p_value(3.841459, 1);  -- 0.05
*/
DECLARE
  a     double precision := degrees / 2.0;
  x     double precision := statistic / 2.0;
  gln   double precision;
  total double precision;
  term  double precision;
  ap    double precision;
  b     double precision;
  c     double precision;
  d     double precision;
  h     double precision;
  an    double precision;
  delta double precision;
  i     integer;
BEGIN
  IF degrees < 1 THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'degrees of freedom must be at least 1';
  END IF;
  IF x <= 0 THEN
    RETURN 1;
  END IF;
  -- ln Γ(a), Lanczos (g = 5, n = 6).
  gln := (a + 0.5) * ln(a + 5.5) - (a + 5.5)
         + ln(2.5066282746310005 * (1.000000000190015 + 76.18009172947146 / (a + 1) - 86.50532032941677 / (a + 2)
              + 24.01409824083091 / (a + 3) - 1.231739572450155 / (a + 4) + 0.1208650973866179e-2 / (a + 5)
              - 0.5395239384953e-5 / (a + 6)) / a);
  IF x < a + 1 THEN
    ap := a; term := 1 / a; total := term;
    FOR i IN 1..500 LOOP
      ap := ap + 1; term := term * x / ap; total := total + term;
      EXIT WHEN abs(term) < abs(total) * 1e-15;
    END LOOP;
    RETURN greatest(0, 1 - total * exp(-x + a * ln(x) - gln));
  END IF;
  b := x + 1 - a; c := 1e300; d := 1 / b; h := d;
  FOR i IN 1..500 LOOP
    an := -i * (i - a); b := b + 2;
    d := an * d + b; IF abs(d) < 1e-300 THEN d := 1e-300; END IF;
    c := b + an / c; IF abs(c) < 1e-300 THEN c := 1e-300; END IF;
    d := 1 / d; delta := d * c; h := h * delta;
    EXIT WHEN abs(delta - 1) < 1e-15;
  END LOOP;
  RETURN least(1, exp(-x + a * ln(x) - gln) * h);
END
$function$;

COMMENT ON FUNCTION analytics._chi_square_p_value(double precision, integer) IS
  'Internal: upper-tail p-value of a chi-square statistic (sample ratio mismatch check).';
