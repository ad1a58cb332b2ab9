-- pg_temp.try(stmt): runs stmt and returns 'ok', or the error it raised as
-- lines (SQLSTATE and message, detail, hint, context), with worker PIDs
-- masked so that the output never varies.  Included by the regress tests.
CREATE FUNCTION pg_temp.try(stmt text) RETURNS SETOF text
LANGUAGE plpgsql AS $fn$
DECLARE
    st text; msg text; det text; hnt text; ctx text; line text;
    ours text := 'SQL statement "' || stmt || '"';
BEGIN
    EXECUTE stmt;
    RETURN NEXT 'ok';
EXCEPTION WHEN OTHERS OR query_canceled THEN  -- OTHERS alone misses 57014
    GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT,
        det = PG_EXCEPTION_DETAIL, hnt = PG_EXCEPTION_HINT,
        ctx = PG_EXCEPTION_CONTEXT;
    RETURN NEXT 'ERROR ' || st || ': ' || regexp_replace(msg, 'PID \d+', 'PID N', 'g');
    IF det <> '' THEN
        RETURN NEXT 'DETAIL: ' || regexp_replace(det, 'PID \d+', 'PID N', 'g');
    END IF;
    IF hnt <> '' THEN
        RETURN NEXT 'HINT: ' || hnt;
    END IF;
    -- the context lines of the error, without the ones this function adds
    IF position(ours IN ctx) > 0 THEN
        ctx := left(ctx, position(ours IN ctx) - 1);
    END IF;
    FOREACH line IN ARRAY string_to_array(ctx, E'\n') LOOP
        CONTINUE WHEN line = '' OR line ~ '^PL/pgSQL function pg_temp(_\d+)?\.try\(text\)';
        RETURN NEXT 'CONTEXT: ' || regexp_replace(line, 'PID \d+', 'PID N', 'g');
    END LOOP;
END
$fn$;
