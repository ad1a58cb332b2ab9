-- pg_temp.wait_until(cond): polls until the SQL condition holds (a bounded
-- wait for something another process does; only its success is printed).
-- Included by the regress tests.
CREATE FUNCTION pg_temp.wait_until(cond text) RETURNS text
LANGUAGE plpgsql AS $fn$
DECLARE
    ok boolean;
BEGIN
    FOR i IN 1..6000 LOOP
        PERFORM pg_stat_clear_snapshot();
        EXECUTE 'SELECT ' || cond INTO ok;
        IF ok THEN
            RETURN 'done';
        END IF;
        PERFORM pg_sleep(0.01);
    END LOOP;
    RETURN 'timed out waiting for: ' || cond;
END
$fn$;
