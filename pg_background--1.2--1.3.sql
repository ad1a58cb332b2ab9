/* pg_background--1.2--1.3.sql */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION pg_background UPDATE TO '1.3'" to load this file. \quit

-- Version 1.3 adds two helpers that grant or revoke EXECUTE on the v1
-- functions.  Their argument is named user_name, as published; 1.6 renames
-- it to role_name.  Unlike the published scripts they pin search_path and
-- look the extension's schema up at run time.

CREATE FUNCTION grant_pg_background_privileges(user_name pg_catalog.text,
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
        'pg_background_detach(pg_catalog.int4)'
    ]::pg_catalog.text[]
    LOOP
        cmd := pg_catalog.format('GRANT EXECUTE ON FUNCTION %I.%s TO %I',
                                 ext_schema, obj, user_name);
        EXECUTE cmd;
        IF print_commands THEN
            RAISE INFO 'Executed command: %', cmd;
        END IF;
    END LOOP;

    FOREACH obj IN ARRAY ARRAY[]::pg_catalog.text[]
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

CREATE FUNCTION revoke_pg_background_privileges(user_name pg_catalog.text,
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
        'pg_background_detach(pg_catalog.int4)'
    ]::pg_catalog.text[]
    LOOP
        cmd := pg_catalog.format('REVOKE EXECUTE ON FUNCTION %I.%s FROM %I',
                                 ext_schema, obj, user_name);
        EXECUTE cmd;
        IF print_commands THEN
            RAISE INFO 'Executed command: %', cmd;
        END IF;
    END LOOP;

    FOREACH obj IN ARRAY ARRAY[]::pg_catalog.text[]
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
