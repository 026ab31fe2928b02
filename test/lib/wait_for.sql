-- wait_for(query, timeout_s): poll a boolean query every 100 ms until it is true or the
-- timeout passes; the suites' only way to wait for the worker (never a bare sleep).
CREATE FUNCTION wait_for(q text, timeout_s int DEFAULT 60) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
  ok boolean;
BEGIN
  FOR i IN 1 .. timeout_s * 10 LOOP
    PERFORM pg_stat_clear_snapshot();
    EXECUTE q INTO ok;
    IF ok THEN
      RETURN true;
    END IF;
    PERFORM pg_sleep(0.1);
  END LOOP;
  RETURN false;
END $$;
