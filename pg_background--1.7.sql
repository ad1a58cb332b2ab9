/* pg_background--1.7.sql: base script of version 1.7 (the same objects as 1.6) */

-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION pg_background" to load this file. \quit

-- v1 API: a worker is addressed by its pid.

CREATE FUNCTION pg_background_launch(sql pg_catalog.text,
                                     queue_size pg_catalog.int4 DEFAULT 65536)
    RETURNS pg_catalog.int4 STRICT
    AS 'MODULE_PATHNAME' LANGUAGE C;

CREATE FUNCTION pg_background_result(pid pg_catalog.int4)
    RETURNS SETOF pg_catalog.record STRICT
    AS 'MODULE_PATHNAME' LANGUAGE C;

CREATE FUNCTION pg_background_detach(pid pg_catalog.int4)
    RETURNS pg_catalog.void STRICT
    AS 'MODULE_PATHNAME' LANGUAGE C;

-- v2 API: a worker is addressed by a handle (pid + cookie).

-- A v2 handle: the worker's pid plus a cookie that defends against pid reuse.
CREATE TYPE pg_background_handle AS (
    pid    pg_catalog.int4,
    cookie pg_catalog.int8
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

-- Fire-and-forget: the worker sends no rows, so it can never block on output.
CREATE FUNCTION pg_background_submit_v2(sql pg_catalog.text,
                                        queue_size pg_catalog.int4 DEFAULT 65536)
    RETURNS pg_background_handle STRICT
    AS 'MODULE_PATHNAME', 'pg_background_submit_v2' LANGUAGE C;

CREATE FUNCTION pg_background_cancel_v2(pid pg_catalog.int4,
                                        cookie pg_catalog.int8)
    RETURNS pg_catalog.void STRICT
    AS 'MODULE_PATHNAME', 'pg_background_cancel_v2' LANGUAGE C;

CREATE FUNCTION pg_background_cancel_v2_grace(pid pg_catalog.int4,
                                              cookie pg_catalog.int8,
                                              grace_ms pg_catalog.int4)
    RETURNS pg_catalog.void STRICT
    AS 'MODULE_PATHNAME', 'pg_background_cancel_v2_grace' LANGUAGE C;

CREATE FUNCTION pg_background_wait_v2(pid pg_catalog.int4,
                                      cookie pg_catalog.int8)
    RETURNS pg_catalog.void STRICT
    AS 'MODULE_PATHNAME', 'pg_background_wait_v2' LANGUAGE C;

CREATE FUNCTION pg_background_wait_v2_timeout(pid pg_catalog.int4,
                                              cookie pg_catalog.int8,
                                              timeout_ms pg_catalog.int4)
    RETURNS pg_catalog.bool STRICT
    AS 'MODULE_PATHNAME', 'pg_background_wait_v2_timeout' LANGUAGE C;

-- Not STRICT. Call with the column list
--   (pid int4, cookie int8, launched_at timestamptz, user_id oid,
--    queue_size int4, state text, sql_preview text, last_error text,
--    consumed bool)
CREATE FUNCTION pg_background_list_v2()
    RETURNS SETOF pg_catalog.record
    AS 'MODULE_PATHNAME', 'pg_background_list_v2' LANGUAGE C;

-- Everything below this line is identical in pg_background--1.6.sql,
-- pg_background--1.4--1.6.sql, pg_background--1.5--1.6.sql and
-- pg_background--1.7.sql.

-- Administration helpers.  They run as the extension's owner (SECURITY
-- DEFINER) with a pinned search_path; every reference is schema-qualified and
-- the extension's schema is looked up at run time, so they keep working after
-- ALTER EXTENSION pg_background SET SCHEMA.  They never raise: on failure they
-- report the reason in a NOTICE and return false.  The privileges they manage
-- are EXECUTE on every API function and USAGE on the handle type; the three
-- administration functions themselves are never handed out.

CREATE FUNCTION grant_pg_background_privileges(role_name pg_catalog.text,
                                               print_commands pg_catalog.bool DEFAULT false)
    RETURNS pg_catalog.bool
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $function$
DECLARE
    ext_schema  pg_catalog.name;
    func        pg_catalog.text;
    cmd         pg_catalog.text;
BEGIN
    IF role_name IS NULL THEN
        RAISE NOTICE 'grant_pg_background_privileges: role name must not be NULL';
        RETURN false;
    END IF;

    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles r
                    WHERE r.rolname OPERATOR(pg_catalog.=) role_name) THEN
        RAISE NOTICE 'grant_pg_background_privileges: role "%" does not exist', role_name;
        RETURN false;
    END IF;

    SELECT n.nspname INTO ext_schema
      FROM pg_catalog.pg_extension e
      JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) e.extnamespace
     WHERE e.extname OPERATOR(pg_catalog.=) 'pg_background';
    IF NOT FOUND THEN
        RAISE NOTICE 'grant_pg_background_privileges: extension "pg_background" is not installed';
        RETURN false;
    END IF;

    FOREACH func IN ARRAY ARRAY[
        'pg_background_launch(pg_catalog.text, pg_catalog.int4)',
        'pg_background_result(pg_catalog.int4)',
        'pg_background_detach(pg_catalog.int4)',
        'pg_background_launch_v2(pg_catalog.text, pg_catalog.int4)',
        'pg_background_submit_v2(pg_catalog.text, pg_catalog.int4)',
        'pg_background_result_v2(pg_catalog.int4, pg_catalog.int8)',
        'pg_background_detach_v2(pg_catalog.int4, pg_catalog.int8)',
        'pg_background_cancel_v2(pg_catalog.int4, pg_catalog.int8)',
        'pg_background_cancel_v2_grace(pg_catalog.int4, pg_catalog.int8, pg_catalog.int4)',
        'pg_background_wait_v2(pg_catalog.int4, pg_catalog.int8)',
        'pg_background_wait_v2_timeout(pg_catalog.int4, pg_catalog.int8, pg_catalog.int4)',
        'pg_background_list_v2()'
    ]::pg_catalog.text[]
    LOOP
        cmd := pg_catalog.format('GRANT EXECUTE ON FUNCTION %I.%s TO %I',
                                 ext_schema, func, role_name);
        IF print_commands THEN
            RAISE INFO '%', cmd;
        END IF;
        EXECUTE cmd;
    END LOOP;

    cmd := pg_catalog.format('GRANT USAGE ON TYPE %I.pg_background_handle TO %I',
                             ext_schema, role_name);
    IF print_commands THEN
        RAISE INFO '%', cmd;
    END IF;
    EXECUTE cmd;

    RETURN true;
EXCEPTION WHEN OTHERS THEN
    RAISE NOTICE 'grant_pg_background_privileges: could not grant privileges to role "%": %',
                 role_name, SQLERRM;
    RETURN false;
END;
$function$;

CREATE FUNCTION revoke_pg_background_privileges(role_name pg_catalog.text,
                                                print_commands pg_catalog.bool DEFAULT false)
    RETURNS pg_catalog.bool
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $function$
DECLARE
    ext_schema  pg_catalog.name;
    func        pg_catalog.text;
    cmd         pg_catalog.text;
BEGIN
    IF role_name IS NULL THEN
        RAISE NOTICE 'revoke_pg_background_privileges: role name must not be NULL';
        RETURN false;
    END IF;

    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles r
                    WHERE r.rolname OPERATOR(pg_catalog.=) role_name) THEN
        RAISE NOTICE 'revoke_pg_background_privileges: role "%" does not exist', role_name;
        RETURN false;
    END IF;

    SELECT n.nspname INTO ext_schema
      FROM pg_catalog.pg_extension e
      JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) e.extnamespace
     WHERE e.extname OPERATOR(pg_catalog.=) 'pg_background';
    IF NOT FOUND THEN
        RAISE NOTICE 'revoke_pg_background_privileges: extension "pg_background" is not installed';
        RETURN false;
    END IF;

    FOREACH func IN ARRAY ARRAY[
        'pg_background_launch(pg_catalog.text, pg_catalog.int4)',
        'pg_background_result(pg_catalog.int4)',
        'pg_background_detach(pg_catalog.int4)',
        'pg_background_launch_v2(pg_catalog.text, pg_catalog.int4)',
        'pg_background_submit_v2(pg_catalog.text, pg_catalog.int4)',
        'pg_background_result_v2(pg_catalog.int4, pg_catalog.int8)',
        'pg_background_detach_v2(pg_catalog.int4, pg_catalog.int8)',
        'pg_background_cancel_v2(pg_catalog.int4, pg_catalog.int8)',
        'pg_background_cancel_v2_grace(pg_catalog.int4, pg_catalog.int8, pg_catalog.int4)',
        'pg_background_wait_v2(pg_catalog.int4, pg_catalog.int8)',
        'pg_background_wait_v2_timeout(pg_catalog.int4, pg_catalog.int8, pg_catalog.int4)',
        'pg_background_list_v2()'
    ]::pg_catalog.text[]
    LOOP
        cmd := pg_catalog.format('REVOKE EXECUTE ON FUNCTION %I.%s FROM %I',
                                 ext_schema, func, role_name);
        IF print_commands THEN
            RAISE INFO '%', cmd;
        END IF;
        EXECUTE cmd;
    END LOOP;

    cmd := pg_catalog.format('REVOKE USAGE ON TYPE %I.pg_background_handle FROM %I',
                             ext_schema, role_name);
    IF print_commands THEN
        RAISE INFO '%', cmd;
    END IF;
    EXECUTE cmd;

    RETURN true;
EXCEPTION WHEN OTHERS THEN
    RAISE NOTICE 'revoke_pg_background_privileges: could not revoke privileges from role "%": %',
                 role_name, SQLERRM;
    RETURN false;
END;
$function$;

-- DROP EXTENSION cannot drop a role (roles are shared by all databases), so
-- the executor role is dropped on request.  What the extension granted it is
-- revoked first so that the DROP ROLE does not fail on those dependencies.
-- Unlike the two helpers above this one does raise: the caller asked for a
-- DROP ROLE and must learn when it did not happen (for example because the
-- role still holds privileges in another database).
CREATE FUNCTION pg_background_drop_executor_role()
    RETURNS pg_catalog.void
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $function$
DECLARE
    role_oid    pg_catalog.oid;
    ext_oid     pg_catalog.oid;
    ext_schema  pg_catalog.name;
    revoked     pg_catalog.bool;
BEGIN
    SELECT r.oid INTO role_oid
      FROM pg_catalog.pg_roles r
     WHERE r.rolname OPERATOR(pg_catalog.=) 'pgbackground_role';
    IF NOT FOUND THEN
        RAISE NOTICE 'role "pgbackground_role" does not exist, skipping';
        RETURN;
    END IF;

    SELECT e.oid, n.nspname INTO STRICT ext_oid, ext_schema
      FROM pg_catalog.pg_extension e
      JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) e.extnamespace
     WHERE e.extname OPERATOR(pg_catalog.=) 'pg_background';

    EXECUTE pg_catalog.format('SELECT %I.revoke_pg_background_privileges($1, false)',
                              ext_schema)
       INTO revoked
      USING 'pgbackground_role'::pg_catalog.text;
    IF revoked IS DISTINCT FROM true THEN
        RAISE EXCEPTION 'could not revoke the pg_background privileges of role "pgbackground_role"';
    END IF;

    -- The grants made by the installation script are also recorded as the
    -- extension's initial privileges (pg_init_privs).  From PostgreSQL 17 on
    -- those entries are tied to the role and DROP OWNED removes them; before
    -- 17 they are not, and left there they would make pg_dump emit
    -- REVOKE ... FROM a role that no longer exists, so remove the role from
    -- the initial privileges of this extension's objects by hand.
    IF pg_catalog.current_setting('server_version_num')::pg_catalog.int4
       OPERATOR(pg_catalog.>=) 170000 THEN
        DROP OWNED BY pgbackground_role;
    ELSE
    UPDATE pg_catalog.pg_init_privs ip
       SET initprivs = ARRAY(
               SELECT item
                 FROM pg_catalog.unnest(ip.initprivs) AS item
                WHERE NOT EXISTS (
                      SELECT 1
                        FROM pg_catalog.aclexplode(ARRAY[item]) AS x
                       WHERE x.grantee OPERATOR(pg_catalog.=) role_oid))
     WHERE ip.privtype OPERATOR(pg_catalog.=) 'e'
       AND EXISTS (SELECT 1
                     FROM pg_catalog.pg_depend d
                    WHERE d.classid OPERATOR(pg_catalog.=) ip.classoid
                      AND d.objid OPERATOR(pg_catalog.=) ip.objoid
                      AND d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_extension'::pg_catalog.regclass
                      AND d.refobjid OPERATOR(pg_catalog.=) ext_oid
                      AND d.deptype OPERATOR(pg_catalog.=) 'e')
       AND EXISTS (SELECT 1
                     FROM pg_catalog.aclexplode(ip.initprivs) AS x
                    WHERE x.grantee OPERATOR(pg_catalog.=) role_oid);
    END IF;

    DROP ROLE pgbackground_role;
END;
$function$;

-- Privileges.  PUBLIC gets nothing on any object of the extension.
REVOKE ALL ON FUNCTION pg_background_launch(pg_catalog.text, pg_catalog.int4) FROM PUBLIC;
REVOKE ALL ON FUNCTION pg_background_result(pg_catalog.int4) FROM PUBLIC;
REVOKE ALL ON FUNCTION pg_background_detach(pg_catalog.int4) FROM PUBLIC;
REVOKE ALL ON FUNCTION pg_background_launch_v2(pg_catalog.text, pg_catalog.int4) FROM PUBLIC;
REVOKE ALL ON FUNCTION pg_background_submit_v2(pg_catalog.text, pg_catalog.int4) FROM PUBLIC;
REVOKE ALL ON FUNCTION pg_background_result_v2(pg_catalog.int4, pg_catalog.int8) FROM PUBLIC;
REVOKE ALL ON FUNCTION pg_background_detach_v2(pg_catalog.int4, pg_catalog.int8) FROM PUBLIC;
REVOKE ALL ON FUNCTION pg_background_cancel_v2(pg_catalog.int4, pg_catalog.int8) FROM PUBLIC;
REVOKE ALL ON FUNCTION pg_background_cancel_v2_grace(pg_catalog.int4, pg_catalog.int8, pg_catalog.int4) FROM PUBLIC;
REVOKE ALL ON FUNCTION pg_background_wait_v2(pg_catalog.int4, pg_catalog.int8) FROM PUBLIC;
REVOKE ALL ON FUNCTION pg_background_wait_v2_timeout(pg_catalog.int4, pg_catalog.int8, pg_catalog.int4) FROM PUBLIC;
REVOKE ALL ON FUNCTION pg_background_list_v2() FROM PUBLIC;
REVOKE ALL ON FUNCTION grant_pg_background_privileges(pg_catalog.text, pg_catalog.bool) FROM PUBLIC;
REVOKE ALL ON FUNCTION revoke_pg_background_privileges(pg_catalog.text, pg_catalog.bool) FROM PUBLIC;
REVOKE ALL ON FUNCTION pg_background_drop_executor_role() FROM PUBLIC;
REVOKE ALL ON TYPE pg_background_handle FROM PUBLIC;

-- The executor role: a NOLOGIN role holding every API privilege (never the
-- administration functions).  Grant it to the users who may run background
-- workers.  It is left alone if it exists already.
DO $do$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles r
                    WHERE r.rolname OPERATOR(pg_catalog.=) 'pgbackground_role') THEN
        CREATE ROLE pgbackground_role NOLOGIN;
    END IF;
END;
$do$;

-- The same privileges grant_pg_background_privileges('pgbackground_role') gives.
GRANT EXECUTE ON FUNCTION pg_background_launch(pg_catalog.text, pg_catalog.int4) TO pgbackground_role;
GRANT EXECUTE ON FUNCTION pg_background_result(pg_catalog.int4) TO pgbackground_role;
GRANT EXECUTE ON FUNCTION pg_background_detach(pg_catalog.int4) TO pgbackground_role;
GRANT EXECUTE ON FUNCTION pg_background_launch_v2(pg_catalog.text, pg_catalog.int4) TO pgbackground_role;
GRANT EXECUTE ON FUNCTION pg_background_submit_v2(pg_catalog.text, pg_catalog.int4) TO pgbackground_role;
GRANT EXECUTE ON FUNCTION pg_background_result_v2(pg_catalog.int4, pg_catalog.int8) TO pgbackground_role;
GRANT EXECUTE ON FUNCTION pg_background_detach_v2(pg_catalog.int4, pg_catalog.int8) TO pgbackground_role;
GRANT EXECUTE ON FUNCTION pg_background_cancel_v2(pg_catalog.int4, pg_catalog.int8) TO pgbackground_role;
GRANT EXECUTE ON FUNCTION pg_background_cancel_v2_grace(pg_catalog.int4, pg_catalog.int8, pg_catalog.int4) TO pgbackground_role;
GRANT EXECUTE ON FUNCTION pg_background_wait_v2(pg_catalog.int4, pg_catalog.int8) TO pgbackground_role;
GRANT EXECUTE ON FUNCTION pg_background_wait_v2_timeout(pg_catalog.int4, pg_catalog.int8, pg_catalog.int4) TO pgbackground_role;
GRANT EXECUTE ON FUNCTION pg_background_list_v2() TO pgbackground_role;
GRANT USAGE ON TYPE pg_background_handle TO pgbackground_role;
