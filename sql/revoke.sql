--
-- revoke: revoke_pg_background_privileges takes back only what
-- grant_pg_background_privileges granted (it records that in the
-- extension's table pg_background_helper_grants); and the base scripts
-- create their objects with plain CREATE, so that CREATE EXTENSION fails
-- instead of taking over a function of the same signature that is already
-- in the target schema.
--
-- Runs as a superuser after the other tests; it drops the extension, works
-- with it in its own schema, and leaves it installed in public at 1.8.
-- Errors are shown as SQLSTATEs only (the wording varies across versions).
--
\set VERBOSITY terse
DROP EXTENSION pg_background;

-- Left over from an interrupted run?
DO $$
DECLARE r name;
BEGIN
    FOR r IN SELECT rolname FROM pg_roles
              WHERE rolname LIKE 'regress\_pgbg\_rv%' ORDER BY rolname LOOP
        EXECUTE format('DROP OWNED BY %I CASCADE', r);
        EXECUTE format('DROP ROLE %I', r);
    END LOOP;
END;
$$;

-- A statement's SQLSTATE, or 'ok'.
CREATE FUNCTION pg_temp.sqlstate_of(stmt text) RETURNS text
LANGUAGE plpgsql AS $fn$
BEGIN
    EXECUTE stmt;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE;
END
$fn$;

--
-- Base scripts use plain CREATE.  A schema already holds a function with the
-- name and signature of one the extension creates: CREATE EXTENSION fails
-- with 42723 (duplicate_function) and leaves that function alone, for every
-- version that has a base script.
--
CREATE SCHEMA pgbg_rv_taken;
-- For each version and function: only that decoy in the schema, then
-- CREATE EXTENSION there; its SQLSTATE, and whether the decoy is unchanged
-- (same source, not SECURITY DEFINER, not an extension member).
CREATE FUNCTION pg_temp.taken(p_version text, p_name text,
                              OUT create_extension text, OUT decoy_untouched bool,
                              OUT installed bigint)
LANGUAGE plpgsql AS $fn$
DECLARE
    args text := CASE WHEN p_name = 'pg_background_drop_executor_role' THEN ''
                      ELSE 'role_name text, print_commands bool DEFAULT false' END;
    ret text := CASE WHEN p_name = 'pg_background_drop_executor_role' THEN 'void'
                     ELSE 'bool' END;
    body text := CASE WHEN p_name = 'pg_background_drop_executor_role' THEN 'SELECT'
                      ELSE 'SELECT false' END;
BEGIN
    EXECUTE format('CREATE FUNCTION pgbg_rv_taken.%I(%s) RETURNS %s LANGUAGE sql AS %L',
                   p_name, args, ret, body);
    create_extension := pg_temp.sqlstate_of(format(
        'CREATE EXTENSION pg_background SCHEMA pgbg_rv_taken VERSION %L', p_version));
    SELECT p.prosrc = body AND NOT p.prosecdef
           AND NOT EXISTS (SELECT 1 FROM pg_depend d
                            WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid
                              AND d.deptype = 'e')
      INTO decoy_untouched
      FROM pg_proc p
     WHERE p.pronamespace = 'pgbg_rv_taken'::regnamespace AND p.proname = p_name;
    SELECT count(*) INTO installed FROM pg_extension WHERE extname = 'pg_background';
    IF installed > 0 THEN
        DROP EXTENSION pg_background;
    END IF;
    EXECUTE format('DROP FUNCTION pgbg_rv_taken.%I', p_name);
END
$fn$;
SELECT v.version, f.name, t.*
  FROM (VALUES ('1.6'), ('1.7'), ('1.8')) AS v(version),
       (VALUES ('grant_pg_background_privileges'),
               ('revoke_pg_background_privileges'),
               ('pg_background_drop_executor_role')) AS f(name),
       LATERAL pg_temp.taken(v.version, f.name) AS t
 ORDER BY 1, 2;
-- and with nothing in the way it installs there
SELECT pg_temp.sqlstate_of('CREATE EXTENSION pg_background SCHEMA pgbg_rv_taken') AS create_extension;
DROP EXTENSION pg_background;
DROP SCHEMA pgbg_rv_taken;

--
-- The extension in schema pgbg_rv_app, where PUBLIC has no USAGE: the grant
-- helper grants USAGE on the schema too.
--
CREATE SCHEMA pgbg_rv_app;
CREATE ROLE regress_pgbg_rv_alice;
CREATE ROLE regress_pgbg_rv_bob;
CREATE ROLE regress_pgbg_rv_carol;
CREATE ROLE "regress_pgbg_rv Odd ""Name""";
-- alice and the odd role use the schema already, for their own objects
GRANT USAGE ON SCHEMA pgbg_rv_app TO regress_pgbg_rv_alice, "regress_pgbg_rv Odd ""Name""";
CREATE EXTENSION pg_background SCHEMA pgbg_rv_app;
-- and alice was granted one function of the extension by hand
GRANT EXECUTE ON FUNCTION pgbg_rv_app.pg_background_list_v2() TO regress_pgbg_rv_alice;

-- What a role may use: the schema, how many API functions and types, and
-- how many ACL entries name it directly on the schema and the extension's
-- objects.
CREATE FUNCTION pg_temp.privs(r text, OUT schema_usage bool, OUT functions bigint,
                              OUT types bigint, OUT direct bigint)
LANGUAGE sql AS $fn$
WITH m AS (
    SELECT d.classid, d.objid
      FROM pg_depend d JOIN pg_extension e ON e.oid = d.refobjid
     WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
       AND e.extname = 'pg_background'
       -- not the row types of our table and views (members from 18 on)
       AND NOT (d.classid = 'pg_type'::regclass AND
                EXISTS (SELECT FROM pg_type t JOIN pg_class c ON c.oid = t.typrelid
                         WHERE t.oid = d.objid AND c.relkind <> 'c'))),
acls AS (
    SELECT p.proacl AS acl FROM m JOIN pg_proc p ON m.classid = 'pg_proc'::regclass AND p.oid = m.objid
    UNION ALL
    SELECT t.typacl FROM m JOIN pg_type t ON m.classid = 'pg_type'::regclass AND t.oid = m.objid
     WHERE t.typtype = 'c'
    UNION ALL
    SELECT nspacl FROM pg_namespace WHERE nspname = 'pgbg_rv_app')
SELECT has_schema_privilege(r, 'pgbg_rv_app', 'USAGE'),
       (SELECT count(*) FROM m JOIN pg_proc p ON m.classid = 'pg_proc'::regclass AND p.oid = m.objid
         WHERE p.proname NOT IN ('grant_pg_background_privileges',
                                 'revoke_pg_background_privileges',
                                 'pg_background_drop_executor_role')
           AND has_function_privilege(r, p.oid, 'EXECUTE')),
       (SELECT count(*) FROM m JOIN pg_type t ON m.classid = 'pg_type'::regclass AND t.oid = m.objid
         WHERE t.typtype = 'c' AND has_type_privilege(r, t.oid, 'USAGE')),
       (SELECT count(*) FROM acls, aclexplode(acls.acl) a
         WHERE a.grantee = (SELECT oid FROM pg_roles WHERE rolname = r));
$fn$;

-- The issue's case: alice's own USAGE on the schema (and her EXECUTE on
-- list_v2) survive grant + revoke.
SELECT * FROM pg_temp.privs('regress_pgbg_rv_alice');
SELECT pgbg_rv_app.grant_pg_background_privileges('regress_pgbg_rv_alice');
SELECT * FROM pg_temp.privs('regress_pgbg_rv_alice');
SELECT pgbg_rv_app.revoke_pg_background_privileges('regress_pgbg_rv_alice');
SELECT * FROM pg_temp.privs('regress_pgbg_rv_alice');
SELECT has_function_privilege('regress_pgbg_rv_alice',
         'pgbg_rv_app.pg_background_list_v2()', 'EXECUTE') AS alice_list_v2;

-- bob had nothing: grant twice (the second grants nothing, prints nothing),
-- revoke once takes everything back, the schema's USAGE included.
SELECT pgbg_rv_app.grant_pg_background_privileges('regress_pgbg_rv_bob');
SELECT pgbg_rv_app.grant_pg_background_privileges('regress_pgbg_rv_bob', true);
SELECT * FROM pg_temp.privs('regress_pgbg_rv_bob');
-- a privilege revoked by hand meanwhile is simply skipped
REVOKE EXECUTE ON FUNCTION pgbg_rv_app.pg_background_launch(text, int4) FROM regress_pgbg_rv_bob;
SELECT pgbg_rv_app.revoke_pg_background_privileges('regress_pgbg_rv_bob');
SELECT * FROM pg_temp.privs('regress_pgbg_rv_bob');
-- a second revoke has nothing left to do
SELECT pgbg_rv_app.revoke_pg_background_privileges('regress_pgbg_rv_bob', true);

-- carol is a member of pgbackground_role: the helpers grant and revoke her
-- direct privileges only; her membership, and what it gives, stay.
GRANT pgbackground_role TO regress_pgbg_rv_carol;
SELECT * FROM pg_temp.privs('regress_pgbg_rv_carol');
SELECT pgbg_rv_app.grant_pg_background_privileges('regress_pgbg_rv_carol');
SELECT * FROM pg_temp.privs('regress_pgbg_rv_carol');
SELECT pgbg_rv_app.revoke_pg_background_privileges('regress_pgbg_rv_carol');
SELECT * FROM pg_temp.privs('regress_pgbg_rv_carol');
SELECT pg_has_role('regress_pgbg_rv_carol', 'pgbackground_role', 'MEMBER') AS carol_member;

-- A role name that needs quoting; its own USAGE on the schema survives too.
SELECT pgbg_rv_app.grant_pg_background_privileges('regress_pgbg_rv Odd "Name"', true);
SELECT pgbg_rv_app.revoke_pg_background_privileges('regress_pgbg_rv Odd "Name"', true);
SELECT * FROM pg_temp.privs('regress_pgbg_rv Odd "Name"');

-- The record: a member of the extension, dumped by pg_dump except for the
-- rows of pgbackground_role (CREATE EXTENSION records those again), and
-- nobody but its owner may read or change it.
SELECT pg_describe_object(d.classid, d.objid, 0) AS member
  FROM pg_depend d JOIN pg_extension e ON e.oid = d.refobjid
 WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
   AND d.classid = 'pg_class'::regclass AND e.extname = 'pg_background'
 ORDER BY 1;
SELECT c.relname, x.cond
  FROM pg_extension e, unnest(e.extconfig, e.extcondition) AS x(tbl, cond)
  JOIN pg_class c ON c.oid = x.tbl
 WHERE e.extname = 'pg_background';
SELECT r.rolname, p.privilege,
       has_table_privilege(r.rolname, 'pgbg_rv_app.pg_background_helper_grants', p.privilege) AS has_it
  FROM (VALUES ('pgbackground_role'), ('regress_pgbg_rv_carol')) AS r(rolname),
       (VALUES ('SELECT'), ('INSERT'), ('UPDATE'), ('DELETE')) AS p(privilege)
 ORDER BY 1, 2;
SELECT count(*) AS public_entries
  FROM pg_class c, aclexplode(coalesce(c.relacl, acldefault('r', c.relowner))) a
 WHERE c.oid = 'pgbg_rv_app.pg_background_helper_grants'::regclass AND a.grantee = 0;
SET ROLE regress_pgbg_rv_carol;
SELECT pg_temp.sqlstate_of($$INSERT INTO pgbg_rv_app.pg_background_helper_grants
    VALUES ('regress_pgbg_rv_alice', 'SCHEMA', 'pgbg_rv_app', 'USAGE')$$) AS member_insert;
SELECT pg_temp.sqlstate_of('DELETE FROM pgbg_rv_app.pg_background_helper_grants') AS member_delete;
RESET ROLE;
-- what is recorded now: the executor role's grants only
SELECT grantee, count(*) FROM pgbg_rv_app.pg_background_helper_grants GROUP BY 1 ORDER BY 1;

-- A role dropped after DROP OWNED leaves rows; the next helper call forgets
-- them.
CREATE ROLE regress_pgbg_rv_dave;
SELECT pgbg_rv_app.grant_pg_background_privileges('regress_pgbg_rv_dave');
DROP OWNED BY regress_pgbg_rv_dave;
DROP ROLE regress_pgbg_rv_dave;
SELECT count(*) > 0 AS rows_of_dropped_role
  FROM pgbg_rv_app.pg_background_helper_grants g
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles r WHERE r.oid = g.grantee);
SELECT pgbg_rv_app.revoke_pg_background_privileges('regress_pgbg_rv_bob');
SELECT count(*) AS rows_of_dropped_role
  FROM pgbg_rv_app.pg_background_helper_grants g
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles r WHERE r.oid = g.grantee);

-- After ALTER EXTENSION ... SET SCHEMA the record still matches: bob,
-- granted while the extension was in pgbg_rv_app, loses USAGE on that
-- schema and the functions in their new schema; alice keeps her USAGE.
SELECT pgbg_rv_app.grant_pg_background_privileges('regress_pgbg_rv_bob');
ALTER EXTENSION pg_background SET SCHEMA public;
SELECT revoke_pg_background_privileges('regress_pgbg_rv_bob', true);
SELECT has_schema_privilege('regress_pgbg_rv_bob', 'pgbg_rv_app', 'USAGE') AS bob_usage,
       has_schema_privilege('regress_pgbg_rv_alice', 'pgbg_rv_app', 'USAGE') AS alice_usage,
       has_function_privilege('regress_pgbg_rv_bob', 'pg_background_launch_v2(text, int4)',
                              'EXECUTE') AS bob_launch_v2;
SELECT grantee, count(*) FROM pg_background_helper_grants GROUP BY 1 ORDER BY 1;

-- Cleanup: the extension stays, in public, as the harness installed it.
DROP EXTENSION pg_background;
DROP SCHEMA pgbg_rv_app;
DROP ROLE regress_pgbg_rv_alice, regress_pgbg_rv_bob, regress_pgbg_rv_carol,
          "regress_pgbg_rv Odd ""Name""";
CREATE EXTENSION pg_background;
SELECT extversion FROM pg_extension WHERE extname = 'pg_background';
