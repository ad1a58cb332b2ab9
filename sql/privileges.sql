--
-- privileges: who may use pg_background, what the executor role and the
-- administration helpers do, and as whom a worker runs.
--
-- Runs as a superuser; the harness created the extension.  The roles this
-- test creates are all named regress_pgbg_priv_*; they are dropped at the
-- start (left over from an interrupted run) and at the end.  Nothing printed
-- depends on pids, cookies, OIDs or the superuser's name: errors go through
-- pgbg_priv_try(), which prints SQLSTATE and message with digits masked.
--
\set VERBOSITY terse
SELECT current_user AS pgbg_super \gset

-- Left over from an interrupted run?
DO $$
DECLARE r name;
BEGIN
    FOR r IN SELECT rolname FROM pg_roles
              WHERE rolname LIKE 'regress\_pgbg\_priv%' ORDER BY rolname LOOP
        EXECUTE format('DROP OWNED BY %I CASCADE', r);
        EXECUTE format('DROP ROLE %I', r);
    END LOOP;
END;
$$;

-- Run a statement; 'ok', or its SQLSTATE and message with numbers masked.
-- Not SECURITY DEFINER: it runs as whoever calls it.
CREATE FUNCTION pgbg_priv_try(p_sql text) RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE p_sql;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || regexp_replace(SQLERRM, '\m[0-9]+\M', 'N', 'g');
END;
$$;

-- The extension's functions and types (members via pg_depend) with their
-- effective ACLs.  The array types of our composite types are left out:
-- PostgreSQL never reads an array type's own ACL, its privileges are its
-- element type's (section 2 shows it).  From PostgreSQL 18 on those array
-- types are extension members too, each with the default ACL, which names
-- PUBLIC.
CREATE VIEW pgbg_priv_objects AS
SELECT 'function'::text AS kind, p.oid,
       p.oid::regprocedure::text AS name,
       coalesce(p.proacl, acldefault('f', p.proowner)) AS acl
  FROM pg_extension e
  JOIN pg_depend d ON d.refclassid = 'pg_extension'::regclass
                  AND d.refobjid = e.oid AND d.deptype = 'e'
  JOIN pg_proc p ON d.classid = 'pg_proc'::regclass AND p.oid = d.objid
 WHERE e.extname = 'pg_background'
UNION ALL
SELECT 'type', t.oid, t.oid::regtype::text,
       coalesce(t.typacl, acldefault('T', t.typowner))
  FROM pg_extension e
  JOIN pg_depend d ON d.refclassid = 'pg_extension'::regclass
                  AND d.refobjid = e.oid AND d.deptype = 'e'
  JOIN pg_type t ON d.classid = 'pg_type'::regclass AND t.oid = d.objid
 WHERE e.extname = 'pg_background'
   AND NOT EXISTS (SELECT FROM pg_type el WHERE el.typarray = t.oid)
   -- nor the row types of our table and views (members from 18 on too)
   AND NOT EXISTS (SELECT FROM pg_class c WHERE c.oid = t.typrelid AND c.relkind <> 'c');

-- Privileges a role holds on the extension's objects (directly or through
-- membership), one row per object.
CREATE FUNCTION pgbg_priv_of(p_role name)
RETURNS TABLE (object text, privilege boolean)
LANGUAGE sql AS $$
SELECT o.kind || ' ' || o.name,
       CASE o.kind
           WHEN 'function' THEN has_function_privilege(p_role, o.oid, 'EXECUTE')
           ELSE has_type_privilege(p_role, o.oid, 'USAGE')
       END
  FROM pgbg_priv_objects o
 ORDER BY (o.kind || ' ' || o.name) COLLATE "C";
$$;

-- The API: what pgbackground_role and grant_pg_background_privileges hand
-- out.  Everything else of the extension is administration.
CREATE VIEW pgbg_priv_api AS
SELECT o.* FROM pgbg_priv_objects o
 WHERE o.kind = 'type'
    OR o.name NOT IN ('grant_pg_background_privileges(text,boolean)',
                      'revoke_pg_background_privileges(text,boolean)',
                      'pg_background_drop_executor_role()');

-- Summary of a role's privileges on the extension: API objects it can use,
-- out of how many; administration functions it can execute.
CREATE FUNCTION pgbg_priv_summary(p_role name,
                                  OUT api_usable bigint, OUT api_total bigint,
                                  OUT admin_usable bigint)
LANGUAGE sql AS $$
SELECT count(*) FILTER (WHERE p.privilege AND a.oid IS NOT NULL),
       count(a.oid),
       count(*) FILTER (WHERE p.privilege AND a.oid IS NULL)
  FROM pgbg_priv_objects o
  JOIN pgbg_priv_of(p_role) p ON p.object = o.kind || ' ' || o.name
  LEFT JOIN pgbg_priv_api a ON a.oid = o.oid;
$$;

--
-- 1. Catalog: PUBLIC has nothing; pgbackground_role has the API.
--
-- Every member object; grants held by PUBLIC and by roles other than the
-- owner (the owner's own privileges are implicit and not shown).
SELECT o.kind, o.name,
       coalesce(string_agg(x.privilege_type, ',') FILTER (WHERE x.grantee = 0),
                '-') AS public_privs,
       coalesce(string_agg(pg_get_userbyid(x.grantee) || '=' || x.privilege_type,
                           ',' ORDER BY pg_get_userbyid(x.grantee) COLLATE "C")
                FILTER (WHERE x.grantee <> 0 AND x.grantee <> x.grantor), '-')
           AS other_grants
  FROM pgbg_priv_objects o
  LEFT JOIN LATERAL aclexplode(o.acl) x ON true
 GROUP BY o.kind, o.name
 ORDER BY o.kind, o.name COLLATE "C";

-- The same, as one count: no ACL entry of any member object names PUBLIC.
SELECT count(*) AS public_acl_entries
  FROM pgbg_priv_objects o, aclexplode(o.acl) x
 WHERE x.grantee = 0;

-- The executor role: NOLOGIN, nothing special.
SELECT rolname, rolcanlogin, rolsuper, rolinherit, rolcreaterole, rolcreatedb,
       rolreplication, rolbypassrls
  FROM pg_roles WHERE rolname = 'pgbackground_role';

-- It can use every API object and no administration function.
SELECT * FROM pgbg_priv_of('pgbackground_role');
SELECT * FROM pgbg_priv_summary('pgbackground_role');

-- The administration helpers: SECURITY DEFINER, search_path pinned, owned
-- by a superuser; not STRICT (a NULL role name is a NOTICE, not NULL).
SELECT p.proname, p.prosecdef, p.proconfig, p.proisstrict,
       r.rolsuper AS owner_is_superuser,
       pg_get_function_arguments(p.oid) AS arguments,
       pg_get_function_result(p.oid) AS result
  FROM pgbg_priv_objects o
  JOIN pg_proc p ON p.oid = o.oid
  JOIN pg_roles r ON r.oid = p.proowner
 WHERE o.kind = 'function' AND o.oid NOT IN (SELECT oid FROM pgbg_priv_api)
 ORDER BY p.proname COLLATE "C";

--
-- 2. A fresh role has no access; membership in pgbackground_role gives it.
--
CREATE ROLE regress_pgbg_priv_user LOGIN;
SELECT * FROM pgbg_priv_summary('regress_pgbg_priv_user');
-- The array types of the extension's types follow their element type,
-- whatever their own ACL says (on 18, PUBLIC=U): no USAGE for the fresh
-- role, USAGE for pgbackground_role.
SELECT el.typname AS element, ar.typname AS array_type,
       ar.typacl IS NULL AS default_acl,
       has_type_privilege('regress_pgbg_priv_user', ar.oid, 'USAGE') AS user_array,
       has_type_privilege('regress_pgbg_priv_user', el.oid, 'USAGE') AS user_element,
       has_type_privilege('pgbackground_role', ar.oid, 'USAGE') AS role_array,
       has_type_privilege('pgbackground_role', el.oid, 'USAGE') AS role_element
  FROM pgbg_priv_objects o
  JOIN pg_type el ON el.oid = o.oid
  JOIN pg_type ar ON ar.oid = el.typarray
 ORDER BY 1;

\c - regress_pgbg_priv_user
\set VERBOSITY terse
SELECT current_user, rolsuper FROM pg_roles WHERE rolname = current_user;
SELECT pgbg_priv_try($$SELECT pg_background_launch_v2('SELECT 1')$$) AS launch_v2;
SELECT pgbg_priv_try($$SELECT pg_background_submit_v2('SELECT 1')$$) AS submit_v2;
SELECT pgbg_priv_try($$SELECT pg_background_launch('SELECT 1')$$) AS launch_v1;
SELECT pgbg_priv_try($$SELECT * FROM pg_background_list_v2()
    AS (pid int4, cookie int8, launched_at timestamptz, user_id oid, queue_size int4,
        state text, sql_preview text, last_error text, consumed bool)$$) AS list_v2;
SELECT pgbg_priv_try($$SELECT * FROM pg_background_result_v2(1, 1) AS (x int)$$) AS result_v2;
SELECT pgbg_priv_try($$SELECT pg_background_wait_v2(1, 1)$$) AS wait_v2;
SELECT pgbg_priv_try($$SELECT pg_background_cancel_v2(1, 1)$$) AS cancel_v2;
SELECT pgbg_priv_try($$SELECT pg_background_detach_v2(1, 1)$$) AS detach_v2;
-- no USAGE on the handle type
SELECT pgbg_priv_try($$CREATE TEMP TABLE h (h pg_background_handle)$$) AS use_type;
-- nor any administration function
SELECT pgbg_priv_try($$SELECT grant_pg_background_privileges('regress_pgbg_priv_user')$$) AS grant_helper;
SELECT pgbg_priv_try($$SELECT revoke_pg_background_privileges('regress_pgbg_priv_user')$$) AS revoke_helper;
SELECT pgbg_priv_try($$SELECT pg_background_drop_executor_role()$$) AS drop_role;

\c - :pgbg_super
\set VERBOSITY terse
GRANT pgbackground_role TO regress_pgbg_priv_user;
SELECT * FROM pgbg_priv_summary('regress_pgbg_priv_user');

\c - regress_pgbg_priv_user
\set VERBOSITY terse
-- launch, list, read
CREATE TEMP TABLE h AS
SELECT * FROM pg_background_launch_v2('SELECT current_user::text, session_user::text');
SELECT count(*) AS workers,
       bool_and(l.user_id = 'regress_pgbg_priv_user'::regrole) AS mine,
       bool_and(l.pid = h.pid AND l.cookie = h.cookie) AS same_handle,
       min(l.sql_preview) AS sql_preview
  FROM pg_background_list_v2()
       AS l(pid int4, cookie int8, launched_at timestamptz, user_id oid, queue_size int4,
            state text, sql_preview text, last_error text, consumed bool),
       h;
SELECT r.* FROM h, pg_background_result_v2(h.pid, h.cookie) AS r(cur text, sess text);
-- the handle type is usable now
CREATE TEMP TABLE h2 (h pg_background_handle);
INSERT INTO h2 SELECT pg_background_submit_v2('SELECT 1');
SELECT pg_background_wait_v2((h).pid, (h).cookie) FROM h2;
SELECT pg_background_detach_v2((h).pid, (h).cookie) FROM h2;
-- v1 API as well
SELECT pg_background_launch('SELECT 42') AS pid \gset
SELECT * FROM pg_background_result(:pid) AS (x int);
-- and still no administration function
SELECT pgbg_priv_try($$SELECT grant_pg_background_privileges('regress_pgbg_priv_user')$$) AS grant_helper;
SELECT pgbg_priv_try($$SELECT pg_background_drop_executor_role()$$) AS drop_role;

--
-- 3. The worker runs as the calling user, with that user's privileges.
--
-- read once: the handle is gone now
SELECT pgbg_priv_try(format('SELECT * FROM pg_background_result_v2(%s, %s) AS (cur text, sess text)',
                            pid, cookie)) AS read_again FROM h;
DROP TABLE h;
CREATE TEMP TABLE h AS
SELECT * FROM pg_background_launch_v2($$
    SELECT current_user::text, session_user::text,
           (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)$$);
SELECT r.* FROM h, pg_background_result_v2(h.pid, h.cookie)
    AS r(cur text, sess text, super bool);
DROP TABLE h;
-- superuser-only things fail inside the worker, with the worker's SQLSTATE
CREATE FUNCTION pg_temp.run_in_worker(p_sql text) RETURNS SETOF text
LANGUAGE plpgsql AS $$
DECLARE h pg_background_handle;
BEGIN
    h := pg_background_launch_v2(p_sql);
    RETURN QUERY SELECT * FROM pg_background_result_v2(h.pid, h.cookie) AS (x text);
END;
$$;
SELECT pgbg_priv_try($$SELECT pg_temp.run_in_worker('SELECT rolname::text FROM pg_authid')$$) AS read_pg_authid;
-- (PostgreSQL 16 reworded the role-privilege messages: their SQLSTATE only)
SELECT split_part(pgbg_priv_try($$SELECT pg_temp.run_in_worker('ALTER ROLE regress_pgbg_priv_user SUPERUSER')$$), ':', 1) AS alter_role;
SELECT pgbg_priv_try($$SELECT pg_temp.run_in_worker('RESET SESSION AUTHORIZATION; SELECT rolname::text FROM pg_authid')$$) AS reset_session_auth;
SELECT split_part(pgbg_priv_try($$SELECT pg_temp.run_in_worker('CREATE ROLE regress_pgbg_priv_evil SUPERUSER')$$), ':', 1) AS create_role;
-- nothing changed for the caller
SELECT current_user, rolsuper FROM pg_roles WHERE rolname = current_user;
SELECT pgbg_priv_try('SELECT rolname FROM pg_authid') AS read_pg_authid_here;
SELECT count(*) AS evil_roles FROM pg_roles WHERE rolname = 'regress_pgbg_priv_evil';

\c - :pgbg_super
\set VERBOSITY terse

-- The same under SET ROLE from a superuser session: the worker has the
-- role's privileges, not the session user's.
SET ROLE regress_pgbg_priv_user;
CREATE TEMP TABLE h AS
SELECT * FROM pg_background_launch_v2($$
    SELECT current_user::text,
           (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)$$);
SELECT r.* FROM h, pg_background_result_v2(h.pid, h.cookie) AS r(cur text, super bool);
DROP TABLE h;
CREATE FUNCTION pg_temp.run_in_worker(p_sql text) RETURNS SETOF text
LANGUAGE plpgsql AS $$
DECLARE h pg_background_handle;
BEGIN
    h := pg_background_launch_v2(p_sql);
    RETURN QUERY SELECT * FROM pg_background_result_v2(h.pid, h.cookie) AS (x text);
END;
$$;
SELECT pgbg_priv_try($$SELECT pg_temp.run_in_worker('SELECT rolname::text FROM pg_authid')$$) AS read_pg_authid;
RESET ROLE;
-- and under SET SESSION AUTHORIZATION: session and current user are the role
SET SESSION AUTHORIZATION regress_pgbg_priv_user;
SELECT pid AS s_pid, cookie AS s_cookie FROM pg_background_launch_v2($$
    SELECT current_user::text, session_user::text, current_setting('is_superuser'),
           (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)$$) \gset
SELECT * FROM pg_background_result_v2(:s_pid, :s_cookie)
    AS (cur text, sess text, is_superuser text, super bool);
SELECT pgbg_priv_try($$SELECT pg_temp.run_in_worker('SELECT rolname::text FROM pg_authid')$$) AS read_pg_authid;
RESET SESSION AUTHORIZATION;

--
-- 4. SECURITY DEFINER: the worker runs as the definer; the caller gains
--    nothing.
--
CREATE ROLE regress_pgbg_priv_definer;
CREATE ROLE regress_pgbg_priv_caller LOGIN;
GRANT pgbackground_role TO regress_pgbg_priv_definer;
CREATE TABLE pgbg_priv_definer_only (secret text);
INSERT INTO pgbg_priv_definer_only VALUES ('definer data');
ALTER TABLE pgbg_priv_definer_only OWNER TO regress_pgbg_priv_definer;
CREATE TABLE pgbg_priv_caller_only (secret text);
INSERT INTO pgbg_priv_caller_only VALUES ('caller data');
ALTER TABLE pgbg_priv_caller_only OWNER TO regress_pgbg_priv_caller;

-- Runs p_sql in a worker and returns its one text column.
CREATE FUNCTION pgbg_priv_definer_run(p_sql text) RETURNS SETOF text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE h pg_background_handle;
BEGIN
    h := pg_background_launch_v2(p_sql);
    RETURN QUERY SELECT * FROM pg_background_result_v2(h.pid, h.cookie) AS (x text);
END;
$$;
ALTER FUNCTION pgbg_priv_definer_run(text) OWNER TO regress_pgbg_priv_definer;
-- Launches and returns the handle without reading it.
CREATE FUNCTION pgbg_priv_definer_launch(p_sql text) RETURNS pg_background_handle
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    RETURN pg_background_launch_v2(p_sql);
END;
$$;
ALTER FUNCTION pgbg_priv_definer_launch(text) OWNER TO regress_pgbg_priv_definer;
-- Reads the result of a handle, as the definer.
CREATE FUNCTION pgbg_priv_definer_result(p_pid int4, p_cookie int8) RETURNS SETOF text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    RETURN QUERY SELECT * FROM pg_background_result_v2(p_pid, p_cookie) AS (x text);
END;
$$;
ALTER FUNCTION pgbg_priv_definer_result(int4, int8) OWNER TO regress_pgbg_priv_definer;
REVOKE ALL ON FUNCTION pgbg_priv_definer_run(text), pgbg_priv_definer_launch(text),
                       pgbg_priv_definer_result(int4, int8) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgbg_priv_definer_run(text), pgbg_priv_definer_launch(text),
                          pgbg_priv_definer_result(int4, int8)
    TO regress_pgbg_priv_caller;

-- Called by a superuser: the worker is the (non-superuser) definer and
-- cannot get the superuser back.
SELECT * FROM pgbg_priv_definer_run($$SELECT current_user::text$$);
SELECT * FROM pgbg_priv_definer_run($$SELECT secret FROM pgbg_priv_definer_only$$);
SELECT pgbg_priv_try($$SELECT pgbg_priv_definer_run('SELECT rolname::text FROM pg_authid')$$) AS read_pg_authid;
SELECT pgbg_priv_try($$SELECT pgbg_priv_definer_run('RESET ROLE; SELECT rolname::text FROM pg_authid')$$) AS reset_role;
SELECT pgbg_priv_try($$SELECT pgbg_priv_definer_run('SET SESSION AUTHORIZATION DEFAULT; SELECT rolname::text FROM pg_authid')$$) AS session_auth;
SELECT pgbg_priv_try($$SELECT pgbg_priv_definer_run('RESET ALL; SELECT rolname::text FROM pg_authid')$$) AS reset_all;
SELECT pgbg_priv_try($$SELECT pgbg_priv_definer_run('DISCARD ALL; SELECT rolname::text FROM pg_authid')$$) AS discard_all;
-- As inside the function itself, what cannot run in a function is refused
-- (nothing commits while the definer's security context is on).
SELECT pgbg_priv_try($$SELECT pgbg_priv_definer_run('VACUUM pgbg_priv_definer_only; SELECT ''vacuumed''')$$) AS vacuum;
SELECT pgbg_priv_try($$SELECT pgbg_priv_definer_run('CREATE INDEX CONCURRENTLY ON pgbg_priv_definer_only (secret); SELECT ''indexed''')$$) AS cic;
SELECT pgbg_priv_try($$SELECT pgbg_priv_definer_run('SELECT set_config(''role'', ''none'', false); SELECT rolname::text FROM pg_authid')$$) AS set_config_role;
SELECT current_user = :'pgbg_super' AS still_superuser;

\c - regress_pgbg_priv_caller
\set VERBOSITY terse
-- The caller has no pg_background privilege of its own ...
SELECT pgbg_priv_try($$SELECT pg_background_launch_v2('SELECT 1')$$) AS launch_v2;
-- ... but the definer's function works, and its worker is the definer
-- (session_user stays the caller, as in the function itself).
SELECT * FROM pgbg_priv_definer_run($$SELECT current_user || '/' || session_user$$);
SELECT * FROM pgbg_priv_definer_run($$SELECT secret FROM pgbg_priv_definer_only$$);
-- the caller's own table is not readable by the definer's worker
SELECT pgbg_priv_try($$SELECT pgbg_priv_definer_run('SELECT secret FROM pgbg_priv_caller_only')$$) AS caller_table;
-- the worker cannot switch back to the session user
SELECT pgbg_priv_try($$SELECT pgbg_priv_definer_run('SET ROLE regress_pgbg_priv_caller; SELECT secret FROM pgbg_priv_caller_only')$$) AS set_role;
-- afterwards the caller is itself again, with exactly its old privileges
SELECT current_user, session_user;
SELECT pgbg_priv_try($$SELECT pg_background_launch_v2('SELECT 1')$$) AS launch_v2_after;
SELECT pgbg_priv_try('SELECT secret FROM pgbg_priv_definer_only') AS definer_table_after;
SELECT secret FROM pgbg_priv_caller_only;

\c - :pgbg_super
\set VERBOSITY terse
-- A handle launched by the definer belongs to the definer: the caller
-- cannot use it even with EXECUTE on result_v2 ...
GRANT pgbackground_role TO regress_pgbg_priv_caller;
SET ROLE regress_pgbg_priv_caller;
CREATE TEMP TABLE h AS
SELECT * FROM pgbg_priv_definer_launch($$SELECT secret FROM pgbg_priv_definer_only$$);
SELECT pgbg_priv_try(format('SELECT * FROM pg_background_result_v2(%s, %s) AS (x text)',
                            pid, cookie)) AS result_by_caller FROM h;
SELECT pgbg_priv_try(format('SELECT pg_background_detach_v2(%s, %s)',
                            pid, cookie)) AS detach_by_caller FROM h;
-- ... and the error does not tell the caller which role launched it
DO $$
DECLARE d text; h record;
BEGIN
    SELECT * INTO h FROM h;
    PERFORM pg_background_detach_v2(h.pid, h.cookie);
EXCEPTION WHEN insufficient_privilege THEN
    GET STACKED DIAGNOSTICS d = PG_EXCEPTION_DETAIL;
    RAISE NOTICE 'detail names the launching role: %',
        strpos(d, 'regress_pgbg_priv_definer') > 0;
END $$;
SELECT count(*) AS listed_for_caller
  FROM pg_background_list_v2()
       AS l(pid int4, cookie int8, launched_at timestamptz, user_id oid, queue_size int4,
            state text, sql_preview text, last_error text, consumed bool);
-- ... while the definer still can
SELECT r.* FROM h, pgbg_priv_definer_result(h.pid, h.cookie) AS r;
DROP TABLE h;
RESET ROLE;
REVOKE pgbackground_role FROM regress_pgbg_priv_caller;

--
-- 5. Handles are checked against the current user on every use.
--
CREATE ROLE regress_pgbg_priv_a;
CREATE ROLE regress_pgbg_priv_b;
GRANT pgbackground_role TO regress_pgbg_priv_a, regress_pgbg_priv_b;
SET ROLE regress_pgbg_priv_a;
SELECT pid AS a_pid, cookie AS a_cookie
  FROM pg_background_launch_v2('SELECT current_user::text') \gset
SELECT pg_background_launch('SELECT current_user::text') AS a_v1_pid \gset
SELECT count(*) AS a_sees
  FROM pg_background_list_v2()
       AS l(pid int4, cookie int8, launched_at timestamptz, user_id oid, queue_size int4,
            state text, sql_preview text, last_error text, consumed bool);
SET ROLE regress_pgbg_priv_b;
SELECT pgbg_priv_try(format('SELECT * FROM pg_background_result_v2(%s, %s) AS (x text)', :a_pid, :a_cookie)) AS result_v2;
SELECT pgbg_priv_try(format('SELECT pg_background_wait_v2(%s, %s)', :a_pid, :a_cookie)) AS wait_v2;
SELECT pgbg_priv_try(format('SELECT pg_background_wait_v2_timeout(%s, %s, 10)', :a_pid, :a_cookie)) AS wait_v2_timeout;
SELECT pgbg_priv_try(format('SELECT pg_background_cancel_v2(%s, %s)', :a_pid, :a_cookie)) AS cancel_v2;
SELECT pgbg_priv_try(format('SELECT pg_background_cancel_v2_grace(%s, %s, 10)', :a_pid, :a_cookie)) AS cancel_v2_grace;
SELECT pgbg_priv_try(format('SELECT pg_background_detach_v2(%s, %s)', :a_pid, :a_cookie)) AS detach_v2;
SELECT pgbg_priv_try(format('SELECT * FROM pg_background_result(%s) AS (x text)', :a_v1_pid)) AS result_v1;
SELECT pgbg_priv_try(format('SELECT pg_background_detach(%s)', :a_v1_pid)) AS detach_v1;
-- a wrong cookie is "unknown", whoever asks
SELECT pgbg_priv_try(format('SELECT pg_background_wait_v2(%s, %s)', :a_pid, :a_cookie::int8 # 1)) AS wrong_cookie;
SELECT count(*) AS b_sees
  FROM pg_background_list_v2()
       AS l(pid int4, cookie int8, launched_at timestamptz, user_id oid, queue_size int4,
            state text, sql_preview text, last_error text, consumed bool);
-- back to A: the handles are intact
SET ROLE regress_pgbg_priv_a;
SELECT * FROM pg_background_result_v2(:a_pid, :a_cookie) AS (x text);
SELECT * FROM pg_background_result(:a_v1_pid) AS (x text);
-- a superuser may use any handle of its session
SELECT pid AS a_pid, cookie AS a_cookie
  FROM pg_background_launch_v2('SELECT current_user::text') \gset
RESET ROLE;
SELECT count(*) AS superuser_sees, bool_and(user_id = 'regress_pgbg_priv_a'::regrole) AS launched_by_a
  FROM pg_background_list_v2()
       AS l(pid int4, cookie int8, launched_at timestamptz, user_id oid, queue_size int4,
            state text, sql_preview text, last_error text, consumed bool);
SELECT * FROM pg_background_result_v2(:a_pid, :a_cookie) AS (x text);
-- a superuser's handle is not usable after SET ROLE to a non-superuser
SELECT pid AS s_pid, cookie AS s_cookie
  FROM pg_background_launch_v2('SELECT current_user = session_user') \gset
SET ROLE regress_pgbg_priv_a;
SELECT pgbg_priv_try(format('SELECT * FROM pg_background_result_v2(%s, %s) AS (x bool)', :s_pid, :s_cookie)) AS result_v2;
SELECT pgbg_priv_try(format('SELECT pg_background_cancel_v2(%s, %s)', :s_pid, :s_cookie)) AS cancel_v2;
SELECT count(*) AS a_sees
  FROM pg_background_list_v2()
       AS l(pid int4, cookie int8, launched_at timestamptz, user_id oid, queue_size int4,
            state text, sql_preview text, last_error text, consumed bool);
RESET ROLE;
SELECT * FROM pg_background_result_v2(:s_pid, :s_cookie) AS (x bool);

--
-- 6. grant_pg_background_privileges / revoke_pg_background_privileges.
--
CREATE ROLE regress_pgbg_priv_direct;
SELECT * FROM pgbg_priv_summary('regress_pgbg_priv_direct');
SELECT grant_pg_background_privileges('regress_pgbg_priv_direct', true);
SELECT * FROM pgbg_priv_summary('regress_pgbg_priv_direct');
SELECT count(*) AS not_granted FROM pgbg_priv_of('regress_pgbg_priv_direct') p
 JOIN pgbg_priv_objects o ON o.kind || ' ' || o.name = p.object
 WHERE o.oid IN (SELECT oid FROM pgbg_priv_api) AND NOT p.privilege;
-- the role itself can now launch
SET ROLE regress_pgbg_priv_direct;
SELECT pid AS d_pid, cookie AS d_cookie FROM pg_background_launch_v2('SELECT 7') \gset
SELECT * FROM pg_background_result_v2(:d_pid, :d_cookie) AS (x int);
RESET ROLE;
-- again: idempotent, default print_commands is false (no INFO)
SELECT grant_pg_background_privileges('regress_pgbg_priv_direct');
SELECT grant_pg_background_privileges(role_name => 'regress_pgbg_priv_direct',
                                      print_commands => false);
SELECT revoke_pg_background_privileges('regress_pgbg_priv_direct', true);
SELECT * FROM pgbg_priv_summary('regress_pgbg_priv_direct');
SELECT revoke_pg_background_privileges('regress_pgbg_priv_direct');
SET ROLE regress_pgbg_priv_direct;
SELECT pgbg_priv_try($$SELECT pg_background_launch_v2('SELECT 1')$$) AS launch_v2;
RESET ROLE;
-- revoking from a role leaves pgbackground_role alone
SELECT * FROM pgbg_priv_summary('pgbackground_role');

-- A role name that needs quoting.
CREATE ROLE "regress_pgbg_priv ""quoted"" Role";
SELECT grant_pg_background_privileges('regress_pgbg_priv "quoted" Role', true);
SELECT * FROM pgbg_priv_summary('regress_pgbg_priv "quoted" Role');
SELECT revoke_pg_background_privileges('regress_pgbg_priv "quoted" Role');
SELECT * FROM pgbg_priv_summary('regress_pgbg_priv "quoted" Role');

-- Failures: a NOTICE and false, never an error.
SELECT grant_pg_background_privileges('regress_pgbg_priv_nosuchrole', true);
SELECT revoke_pg_background_privileges('regress_pgbg_priv_nosuchrole', true);
SELECT grant_pg_background_privileges(NULL);
SELECT revoke_pg_background_privileges(NULL, true);
-- PUBLIC is not a role: the helpers cannot open the extension to everyone
SELECT grant_pg_background_privileges('public');
SELECT grant_pg_background_privileges('PUBLIC');
-- nor can the role name inject SQL
SELECT grant_pg_background_privileges('regress_pgbg_priv_direct TO PUBLIC; --');
SELECT count(*) AS public_acl_entries
  FROM pgbg_priv_objects o, aclexplode(o.acl) x
 WHERE x.grantee = 0;
-- inside a transaction, a failed call leaves the transaction usable
BEGIN;
SELECT grant_pg_background_privileges('regress_pgbg_priv_nosuchrole');
SELECT 1 AS still_in_transaction;
COMMIT;

--
-- 7. Shadowing: a non-superuser allowed to run the helpers plants objects
--    named like what they use; the helpers (running as the superuser who
--    owns them) must use none of them.
--
CREATE ROLE regress_pgbg_priv_attacker LOGIN;
CREATE ROLE regress_pgbg_priv_target;
CREATE SCHEMA regress_pgbg_priv_atk AUTHORIZATION regress_pgbg_priv_attacker;
GRANT EXECUTE ON FUNCTION grant_pg_background_privileges(text, boolean),
                          revoke_pg_background_privileges(text, boolean)
    TO regress_pgbg_priv_attacker;

\c - regress_pgbg_priv_attacker
\set VERBOSITY terse
SET search_path = regress_pgbg_priv_atk, pg_temp, public, pg_catalog;
CREATE TABLE trap_log (who name, what text);
GRANT INSERT, SELECT ON trap_log TO PUBLIC;
-- Logs who called it, then tries to make the attacker a superuser (which
-- works only when run by a superuser).
CREATE FUNCTION trap(p_what text) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO regress_pgbg_priv_atk.trap_log VALUES (current_user, p_what);
    BEGIN
        EXECUTE 'ALTER ROLE regress_pgbg_priv_attacker SUPERUSER';
    EXCEPTION WHEN OTHERS THEN NULL;
    END;
    RETURN true;
END;
$$;
GRANT EXECUTE ON FUNCTION trap(text) TO PUBLIC;
CREATE FUNCTION format(text, name, text, text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN PERFORM regress_pgbg_priv_atk.trap('format/4'); RETURN 'SELECT 1'; END; $$;
CREATE FUNCTION format(text, name, text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN PERFORM regress_pgbg_priv_atk.trap('format/3'); RETURN 'SELECT 1'; END; $$;
CREATE FUNCTION format(text, text, text, text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN PERFORM regress_pgbg_priv_atk.trap('format/4t'); RETURN 'SELECT 1'; END; $$;
CREATE FUNCTION quote_ident(text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN PERFORM regress_pgbg_priv_atk.trap('quote_ident'); RETURN $1; END; $$;
CREATE FUNCTION textcat(text, text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN PERFORM regress_pgbg_priv_atk.trap('textcat'); RETURN $1 || $2; END; $$;
CREATE FUNCTION trap_eq(name, text) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN PERFORM regress_pgbg_priv_atk.trap('='); RETURN true; END; $$;
CREATE OPERATOR = (LEFTARG = name, RIGHTARG = text, FUNCTION = trap_eq);
CREATE FUNCTION trap_eq_name(name, name) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN PERFORM regress_pgbg_priv_atk.trap('=name'); RETURN true; END; $$;
CREATE OPERATOR = (LEFTARG = name, RIGHTARG = name, FUNCTION = trap_eq_name);
-- fake catalogs: every role "exists", the extension "lives" in our schema
CREATE VIEW pg_roles AS
    SELECT 'regress_pgbg_priv_ghost'::name AS rolname, 0::oid AS oid
     WHERE regress_pgbg_priv_atk.trap('pg_roles');
CREATE VIEW pg_extension AS
    SELECT 0::oid AS oid, 'pg_background'::name AS extname,
           'regress_pgbg_priv_atk'::regnamespace::oid AS extnamespace
     WHERE regress_pgbg_priv_atk.trap('pg_extension');
CREATE TEMP TABLE pg_namespace (oid oid, nspname name);
INSERT INTO pg_namespace VALUES ('regress_pgbg_priv_atk'::regnamespace, 'regress_pgbg_priv_atk');
-- a fake handle type, and fake API functions, in the attacker's schemas
CREATE TYPE pg_temp.pg_background_handle AS (pid int4, cookie int8);
CREATE TYPE pg_background_handle AS (pid int4, cookie int8);
CREATE FUNCTION pg_background_launch_v2(sql text, queue_size int4 DEFAULT 65536)
RETURNS pg_background_handle LANGUAGE sql AS $$ SELECT NULL::pg_background_handle $$;
-- The planted objects do shadow the real ones for the attacker's own
-- queries (operator "=" on name and text, format()):
SELECT 'x'::name = 'y'::text AS shadowed_eq;
SELECT format('%s', 'x'::name, 'y'::text, 'z'::text) AS shadowed_format;
SELECT who, what FROM trap_log ORDER BY what COLLATE "C";
DELETE FROM trap_log;
-- Now call the helpers.
SELECT public.grant_pg_background_privileges('regress_pgbg_priv_target', true);
SELECT public.grant_pg_background_privileges('regress_pgbg_priv_ghost', true);
SELECT public.revoke_pg_background_privileges('regress_pgbg_priv_ghost');
RESET search_path;
-- nothing of ours ran
SELECT count(*) AS trap_calls FROM regress_pgbg_priv_atk.trap_log;
SELECT rolsuper FROM pg_roles WHERE rolname = current_user;
-- and the attacker still has no API privilege, nor the administration one
SELECT public.pgbg_priv_try($$SELECT public.pg_background_launch_v2('SELECT 1')$$) AS launch_v2;
SELECT public.pgbg_priv_try('SELECT public.pg_background_drop_executor_role()') AS drop_role;

\c - :pgbg_super
\set VERBOSITY terse
-- The target got the real privileges; the attacker's objects got none.
SELECT * FROM pgbg_priv_summary('regress_pgbg_priv_target');
SELECT count(*) AS trap_calls FROM regress_pgbg_priv_atk.trap_log;
SELECT rolsuper FROM pg_roles WHERE rolname = 'regress_pgbg_priv_attacker';
SELECT count(*) AS grants_on_attacker_objects
  FROM pg_proc p, aclexplode(p.proacl) x
 WHERE p.pronamespace = 'regress_pgbg_priv_atk'::regnamespace
   AND x.grantee = 'regress_pgbg_priv_target'::regrole;
SELECT count(*) AS grants_on_attacker_types
  FROM pg_type t, aclexplode(t.typacl) x
 WHERE t.typnamespace = 'regress_pgbg_priv_atk'::regnamespace
   AND x.grantee = 'regress_pgbg_priv_target'::regrole;
-- revoke through the attacker's session too
\c - regress_pgbg_priv_attacker
\set VERBOSITY terse
SET search_path = regress_pgbg_priv_atk, pg_temp, public, pg_catalog;
SELECT public.revoke_pg_background_privileges('regress_pgbg_priv_target');
RESET search_path;
SELECT count(*) AS trap_calls FROM regress_pgbg_priv_atk.trap_log;
\c - :pgbg_super
\set VERBOSITY terse
SELECT * FROM pgbg_priv_summary('regress_pgbg_priv_target');

--
-- 8. pg_background_drop_executor_role(): drops the role; CREATE EXTENSION
--    creates it again.
--
-- (The definer's functions use the handle type: drop them first, or DROP
-- EXTENSION below would refuse.)
DROP FUNCTION pgbg_priv_definer_run(text);
DROP FUNCTION pgbg_priv_definer_launch(text);
DROP FUNCTION pgbg_priv_definer_result(int4, int8);
SELECT oid AS role_oid FROM pg_roles WHERE rolname = 'pgbackground_role' \gset
-- The function drops the role unless an installation in another database of
-- this cluster still holds privileges granted to it; it then raises 2BP01 and
-- changes nothing.  The suites run in one database (the Makefile points the
-- isolation specs at the regress database, which pg_regress creates afresh),
-- so here the role must go; on a server where another database has the
-- extension, the state printed below says so.
CREATE FUNCTION pgbg_priv_role_used_elsewhere() RETURNS boolean
LANGUAGE sql AS $$
SELECT EXISTS (SELECT 1 FROM pg_shdepend d JOIN pg_roles r ON r.oid = d.refobjid
                WHERE d.refclassid = 'pg_authid'::regclass
                  AND r.rolname = 'pgbackground_role'
                  AND d.dbid <> (SELECT oid FROM pg_database
                                  WHERE datname = current_database()));
$$;
SELECT pgbg_priv_try('SELECT pg_background_drop_executor_role()') AS drop_executor_role;
-- what the catalog says: the role is gone, or why it stays
SELECT CASE
         WHEN NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'pgbackground_role')
           THEN 'dropped'
         WHEN pgbg_priv_role_used_elsewhere()
           THEN 'kept: another database holds privileges granted to it'
         ELSE 'kept'
       END AS executor_role;
-- its members lost the privileges with it
SET ROLE regress_pgbg_priv_user;
SELECT pgbg_priv_try($$SELECT pg_background_launch_v2('SELECT 1')$$) AS member_launch;
RESET ROLE;
-- no ACL and no initial privilege of the extension's objects names it
SELECT count(*) AS acl_entries_left
  FROM pgbg_priv_objects o, aclexplode(o.acl) x
 WHERE x.grantee = :role_oid;
SELECT count(*) AS init_privs_left
  FROM pg_init_privs ip, aclexplode(ip.initprivs) x
 WHERE ip.objoid IN (SELECT oid FROM pgbg_priv_objects)
   AND x.grantee = :role_oid;
-- again: no error, a NOTICE that the role does not exist
SELECT pgbg_priv_try('SELECT pg_background_drop_executor_role()') AS drop_again;
-- the administration functions kept their privileges: PUBLIC has none
SELECT count(*) AS public_acl_entries
  FROM pgbg_priv_objects o, aclexplode(o.acl) x
 WHERE x.grantee = 0;
DROP EXTENSION pg_background;
CREATE EXTENSION pg_background;
SELECT rolname, rolcanlogin, rolsuper FROM pg_roles WHERE rolname = 'pgbackground_role';
SELECT * FROM pgbg_priv_summary('pgbackground_role');
SELECT count(*) AS public_acl_entries
  FROM pgbg_priv_objects o, aclexplode(o.acl) x
 WHERE x.grantee = 0;
-- a member can use it again (the membership survived if the role did)
SET client_min_messages = warning;
GRANT pgbackground_role TO regress_pgbg_priv_user;
RESET client_min_messages;
SET ROLE regress_pgbg_priv_user;
SELECT pid AS u_pid, cookie AS u_cookie FROM pg_background_launch_v2('SELECT current_user::text') \gset
SELECT * FROM pg_background_result_v2(:u_pid, :u_cookie) AS (x text);
RESET ROLE;

--
-- Clean up.
--
DROP FUNCTION pgbg_priv_role_used_elsewhere();
DROP TABLE pgbg_priv_definer_only, pgbg_priv_caller_only;
DROP FUNCTION pgbg_priv_summary(name);
DROP VIEW pgbg_priv_api;
DROP FUNCTION pgbg_priv_of(name);
DROP VIEW pgbg_priv_objects;
SET client_min_messages = warning;
DROP SCHEMA regress_pgbg_priv_atk CASCADE;
RESET client_min_messages;
DO $$
DECLARE r name;
BEGIN
    FOR r IN SELECT rolname FROM pg_roles
              WHERE rolname LIKE 'regress\_pgbg\_priv%' ORDER BY rolname LOOP
        EXECUTE format('DROP OWNED BY %I CASCADE', r);
        EXECUTE format('DROP ROLE %I', r);
    END LOOP;
END;
$$;
SELECT count(*) AS roles_left FROM pg_roles WHERE rolname LIKE 'regress\_pgbg\_priv%';
DROP FUNCTION pgbg_priv_try(text);
SELECT extname, extversion FROM pg_extension WHERE extname = 'pg_background';
