/* pg_background--1.4--1.5.sql */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION pg_background UPDATE TO '1.5'" to load this file. \quit

-- The early v2 API of the published 1.5.  No published release installed
-- 1.5 by default; this script exists for hand-made 1.5 installations, and
-- pg_background--1.5--1.6.sql replaces what 1.6 changed.  (The default
-- path from 1.4 goes straight to 1.6.)

-- A v2 handle: the worker's pid plus a cookie that defends against pid reuse.
CREATE TYPE pg_background_handle AS (
    pid    pg_catalog.int4,
    cookie pg_catalog.int8
);

-- Status snapshot returned by pg_background_status_v2 (1.5 only).
CREATE TYPE pg_background_status AS (
    pid         pg_catalog.int4,
    state       pg_catalog.text,
    started_at  pg_catalog.timestamptz,
    last_msg_at pg_catalog.timestamptz
);

CREATE FUNCTION pg_background_launch_v2(sql pg_catalog.text,
                                        queue_size pg_catalog.int4 DEFAULT 65536)
    RETURNS pg_background_handle STRICT
    AS 'MODULE_PATHNAME', 'pg_background_launch_v2' LANGUAGE C;

CREATE FUNCTION pg_background_result_v2(pid pg_catalog.int4,
                                        cookie pg_catalog.int8)
    RETURNS SETOF pg_catalog.record STRICT
    AS 'MODULE_PATHNAME', 'pg_background_result_v2' LANGUAGE C;

CREATE FUNCTION pg_background_detach_v2(pid pg_catalog.int4,
                                        cookie pg_catalog.int8)
    RETURNS pg_catalog.void STRICT
    AS 'MODULE_PATHNAME', 'pg_background_detach_v2' LANGUAGE C;

CREATE FUNCTION pg_background_wait_v2(pid pg_catalog.int4,
                                      cookie pg_catalog.int8,
                                      timeout_ms pg_catalog.int4 DEFAULT NULL)
    RETURNS pg_catalog.bool STRICT
    AS 'MODULE_PATHNAME', 'pg_background_wait_v2' LANGUAGE C;

CREATE FUNCTION pg_background_status_v2(pid pg_catalog.int4,
                                        cookie pg_catalog.int8)
    RETURNS pg_background_status STRICT
    AS 'MODULE_PATHNAME', 'pg_background_status_v2' LANGUAGE C;

CREATE FUNCTION pg_background_cancel(pid pg_catalog.int4,
                                     grace_ms pg_catalog.int4 DEFAULT 1000)
    RETURNS pg_catalog.void STRICT
    AS 'MODULE_PATHNAME', 'pg_background_cancel' LANGUAGE C;

CREATE FUNCTION pg_background_cancel_v2(pid pg_catalog.int4,
                                        cookie pg_catalog.int8,
                                        grace_ms pg_catalog.int4 DEFAULT 1000)
    RETURNS pg_catalog.void STRICT
    AS 'MODULE_PATHNAME', 'pg_background_cancel_v2' LANGUAGE C;

-- The helpers now also cover the v2 objects.

CREATE OR REPLACE FUNCTION grant_pg_background_privileges(user_name pg_catalog.text,
                                               print_commands pg_catalog.bool DEFAULT false)
    RETURNS pg_catalog.bool
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = pg_catalog
AS $function$
DECLARE
    ext_schema  pg_catalog.name;
    obj         pg_catalog.text;
    cmd         pg_catalog.text;
BEGIN
    SELECT n.nspname INTO STRICT ext_schema
      FROM pg_catalog.pg_extension e
      JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) e.extnamespace
     WHERE e.extname OPERATOR(pg_catalog.=) 'pg_background';

    FOREACH obj IN ARRAY ARRAY[
        'pg_background_launch(pg_catalog.text, pg_catalog.int4)',
        'pg_background_result(pg_catalog.int4)',
        'pg_background_detach(pg_catalog.int4)',
        'pg_background_launch_v2(pg_catalog.text, pg_catalog.int4)',
        'pg_background_result_v2(pg_catalog.int4, pg_catalog.int8)',
        'pg_background_detach_v2(pg_catalog.int4, pg_catalog.int8)',
        'pg_background_wait_v2(pg_catalog.int4, pg_catalog.int8, pg_catalog.int4)',
        'pg_background_status_v2(pg_catalog.int4, pg_catalog.int8)',
        'pg_background_cancel(pg_catalog.int4, pg_catalog.int4)',
        'pg_background_cancel_v2(pg_catalog.int4, pg_catalog.int8, pg_catalog.int4)'
    ]::pg_catalog.text[]
    LOOP
        cmd := pg_catalog.format('GRANT EXECUTE ON FUNCTION %I.%s TO %I',
                                 ext_schema, obj, user_name);
        EXECUTE cmd;
        IF print_commands THEN
            RAISE INFO 'Executed command: %', cmd;
        END IF;
    END LOOP;

    FOREACH obj IN ARRAY ARRAY['pg_background_handle', 'pg_background_status']::pg_catalog.text[]
    LOOP
        cmd := pg_catalog.format('GRANT USAGE ON TYPE %I.%I TO %I',
                                 ext_schema, obj, user_name);
        EXECUTE cmd;
        IF print_commands THEN
            RAISE INFO 'Executed command: %', cmd;
        END IF;
    END LOOP;

    RETURN true;
EXCEPTION WHEN OTHERS THEN
    RAISE NOTICE 'Error granting pg_background privileges to %: %', user_name, SQLERRM;
    RETURN false;
END;
$function$;

CREATE OR REPLACE FUNCTION revoke_pg_background_privileges(user_name pg_catalog.text,
                                                print_commands pg_catalog.bool DEFAULT false)
    RETURNS pg_catalog.bool
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = pg_catalog
AS $function$
DECLARE
    ext_schema  pg_catalog.name;
    obj         pg_catalog.text;
    cmd         pg_catalog.text;
BEGIN
    SELECT n.nspname INTO STRICT ext_schema
      FROM pg_catalog.pg_extension e
      JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) e.extnamespace
     WHERE e.extname OPERATOR(pg_catalog.=) 'pg_background';

    FOREACH obj IN ARRAY ARRAY[
        'pg_background_launch(pg_catalog.text, pg_catalog.int4)',
        'pg_background_result(pg_catalog.int4)',
        'pg_background_detach(pg_catalog.int4)',
        'pg_background_launch_v2(pg_catalog.text, pg_catalog.int4)',
        'pg_background_result_v2(pg_catalog.int4, pg_catalog.int8)',
        'pg_background_detach_v2(pg_catalog.int4, pg_catalog.int8)',
        'pg_background_wait_v2(pg_catalog.int4, pg_catalog.int8, pg_catalog.int4)',
        'pg_background_status_v2(pg_catalog.int4, pg_catalog.int8)',
        'pg_background_cancel(pg_catalog.int4, pg_catalog.int4)',
        'pg_background_cancel_v2(pg_catalog.int4, pg_catalog.int8, pg_catalog.int4)'
    ]::pg_catalog.text[]
    LOOP
        cmd := pg_catalog.format('REVOKE EXECUTE ON FUNCTION %I.%s FROM %I',
                                 ext_schema, obj, user_name);
        EXECUTE cmd;
        IF print_commands THEN
            RAISE INFO 'Executed command: %', cmd;
        END IF;
    END LOOP;

    FOREACH obj IN ARRAY ARRAY['pg_background_handle', 'pg_background_status']::pg_catalog.text[]
    LOOP
        cmd := pg_catalog.format('REVOKE USAGE ON TYPE %I.%I FROM %I',
                                 ext_schema, obj, user_name);
        EXECUTE cmd;
        IF print_commands THEN
            RAISE INFO 'Executed command: %', cmd;
        END IF;
    END LOOP;

    RETURN true;
EXCEPTION WHEN OTHERS THEN
    RAISE NOTICE 'Error revoking pg_background privileges from %: %', user_name, SQLERRM;
    RETURN false;
END;
$function$;

REVOKE ALL ON FUNCTION grant_pg_background_privileges(pg_catalog.text, pg_catalog.bool) FROM PUBLIC;
REVOKE ALL ON FUNCTION revoke_pg_background_privileges(pg_catalog.text, pg_catalog.bool) FROM PUBLIC;

-- PUBLIC gets nothing on the new objects.
REVOKE ALL ON FUNCTION pg_background_launch_v2(pg_catalog.text, pg_catalog.int4) FROM PUBLIC;
REVOKE ALL ON FUNCTION pg_background_result_v2(pg_catalog.int4, pg_catalog.int8) FROM PUBLIC;
REVOKE ALL ON FUNCTION pg_background_detach_v2(pg_catalog.int4, pg_catalog.int8) FROM PUBLIC;
REVOKE ALL ON FUNCTION pg_background_wait_v2(pg_catalog.int4, pg_catalog.int8, pg_catalog.int4) FROM PUBLIC;
REVOKE ALL ON FUNCTION pg_background_status_v2(pg_catalog.int4, pg_catalog.int8) FROM PUBLIC;
REVOKE ALL ON FUNCTION pg_background_cancel(pg_catalog.int4, pg_catalog.int4) FROM PUBLIC;
REVOKE ALL ON FUNCTION pg_background_cancel_v2(pg_catalog.int4, pg_catalog.int8, pg_catalog.int4) FROM PUBLIC;
REVOKE ALL ON TYPE pg_background_handle FROM PUBLIC;
REVOKE ALL ON TYPE pg_background_status FROM PUBLIC;
