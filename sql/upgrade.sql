--
-- upgrade: every path from an earlier version into 1.6, 1.7, 1.8, 1.9 and
-- 1.10 (the default) must leave the same catalog as a fresh CREATE EXTENSION of
-- that version; plus the administration helpers and the executor role.
--
-- The harness created the extension; this test creates and drops it itself.
DROP EXTENSION pg_background;

-- Test scaffolding lives in its own schema.
CREATE SCHEMA pgbg_upgrade_test;
CREATE SCHEMA pgbg_upgrade_elsewhere;
CREATE TABLE pgbg_upgrade_test.snap (label text, item text);

-- The extension's member functions and types, with their effective ACLs.
CREATE VIEW pgbg_upgrade_test.ext_objects AS
SELECT 'function'::text AS kind, p.oid, p.proname::text AS name,
       coalesce(p.proacl, acldefault('f', p.proowner)) AS acl
  FROM pg_extension e
  JOIN pg_depend d ON d.refclassid = 'pg_extension'::regclass
                  AND d.refobjid = e.oid AND d.deptype = 'e'
  JOIN pg_proc p ON d.classid = 'pg_proc'::regclass AND p.oid = d.objid
 WHERE e.extname = 'pg_background'
UNION ALL
SELECT 'type', t.oid, t.typname::text,
       coalesce(t.typacl, acldefault('T', t.typowner))
  FROM pg_extension e
  JOIN pg_depend d ON d.refclassid = 'pg_extension'::regclass
                  AND d.refobjid = e.oid AND d.deptype = 'e'
  JOIN pg_type t ON d.classid = 'pg_type'::regclass AND t.oid = d.objid
 WHERE e.extname = 'pg_background'
   -- not the array types of our types: members from PostgreSQL 18 on, but
   -- their privileges are their element type's (see privileges.sql)
   AND NOT EXISTS (SELECT FROM pg_type el WHERE el.typarray = t.oid)
   -- nor the row types of our table and views (members from 18 on too)
   AND NOT EXISTS (SELECT FROM pg_class c WHERE c.oid = t.typrelid AND c.relkind <> 'c');

-- What the grant helper recorded (pg_background_helper_grants, from 1.3 on),
-- one line per row; nothing when the installed version has no such table.
CREATE FUNCTION pgbg_upgrade_test.recorded_grants() RETURNS SETOF text
LANGUAGE plpgsql AS $fn$
DECLARE
    tbl regclass;
BEGIN
    SELECT c.oid INTO tbl
      FROM pg_depend d
      JOIN pg_extension e ON e.oid = d.refobjid
      JOIN pg_class c ON c.oid = d.objid
     WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
       AND d.classid = 'pg_class'::regclass AND e.extname = 'pg_background'
       AND c.relname = 'pg_background_helper_grants';
    IF tbl IS NULL THEN
        RETURN;
    END IF;
    RETURN QUERY EXECUTE format(
        'SELECT format(''recorded grant: %%s %%s on %%s %%s'', g.grantee, g.privilege, '
        'g.object_kind, g.object_name) FROM %s g '
        -- not what the helpers of 1.8 and 1.9 recorded on PostgreSQL 18 for
        -- the row type of their table (a member there), taken for one of
        -- our types; the update to 1.10 forgets it
        'WHERE NOT (g.object_kind = ''TYPE'' AND EXISTS (SELECT FROM pg_class c '
        '  WHERE c.relname = g.object_name AND c.relkind <> ''c'' '
        '    AND c.relnamespace = (SELECT extnamespace FROM pg_extension '
        '                           WHERE extname = ''pg_background'')))', tbl);
END;
$fn$;

-- One row of text per catalog fact about the installed extension.  No OIDs:
-- objects are named, ACLs compared as text (they hold role names only).
CREATE FUNCTION pgbg_upgrade_test.take_snapshot(p_label text)
RETURNS bigint LANGUAGE sql AS $snap$
WITH ext AS (
    SELECT e.oid, e.extversion, e.extrelocatable, e.extnamespace
      FROM pg_extension e WHERE e.extname = 'pg_background'),
members AS (
    SELECT d.classid, d.objid
      FROM pg_depend d JOIN ext ON d.refobjid = ext.oid
     WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
       -- the array types of our types (members from 18 on) follow them
       AND NOT (d.classid = 'pg_type'::regclass AND
                EXISTS (SELECT FROM pg_type el WHERE el.typarray = d.objid))
       -- and so do the row types of our table and views (also from 18 on)
       AND NOT (d.classid = 'pg_type'::regclass AND
                EXISTS (SELECT FROM pg_type t JOIN pg_class c ON c.oid = t.typrelid
                         WHERE t.oid = d.objid AND c.relkind <> 'c'))),
funcs AS (
    SELECT p.oid AS poid, p.*
      FROM pg_proc p
      JOIN members m ON m.classid = 'pg_proc'::regclass AND m.objid = p.oid),
types AS (
    SELECT t.oid AS toid, t.*
      FROM pg_type t
      JOIN members m ON m.classid = 'pg_type'::regclass AND m.objid = t.oid),
role AS (
    SELECT * FROM pg_roles WHERE rolname = 'pgbackground_role'),
items(item) AS (
    SELECT format('extension version=%s relocatable=%s schema=%s',
                  extversion, extrelocatable, extnamespace::regnamespace)
      FROM ext
    UNION ALL
    SELECT 'member ' || pg_describe_object(classid, objid, 0) FROM members
    UNION ALL
    SELECT format('function %s(%s) args=[%s] returns=%s strict=%s volatile=%s '
                  'parallel=%s secdef=%s leakproof=%s config=%s lang=%s owner=%s '
                  'src=%s bin=%s acl=%s',
                  f.proname, pg_get_function_identity_arguments(f.poid),
                  pg_get_function_arguments(f.poid), pg_get_function_result(f.poid),
                  f.proisstrict, f.provolatile, f.proparallel, f.prosecdef,
                  f.proleakproof, f.proconfig, l.lanname,
                  pg_get_userbyid(f.proowner), md5(f.prosrc), f.probin, f.proacl)
      FROM funcs f JOIN pg_language l ON l.oid = f.prolang
    UNION ALL
    SELECT format('type %s kind=%s owner=%s acl=%s columns=[%s]',
                  t.typname, t.typtype, pg_get_userbyid(t.typowner), t.typacl,
                  (SELECT string_agg(a.attname || ' ' || format_type(a.atttypid, a.atttypmod),
                                     ', ' ORDER BY a.attnum)
                     FROM pg_attribute a
                    WHERE a.attrelid = t.typrelid AND a.attnum > 0
                      AND NOT a.attisdropped))
      FROM types t
    UNION ALL
    SELECT format('role %s login=%s super=%s inherit=%s createrole=%s '
                  'createdb=%s replication=%s bypassrls=%s connlimit=%s',
                  rolname, rolcanlogin, rolsuper, rolinherit, rolcreaterole,
                  rolcreatedb, rolreplication, rolbypassrls, rolconnlimit)
      FROM role
    UNION ALL
    SELECT format('pgbackground_role EXECUTE on %s(%s): %s',
                  f.proname, pg_get_function_identity_arguments(f.poid),
                  has_function_privilege('pgbackground_role', f.poid, 'EXECUTE'))
      FROM funcs f, role
    UNION ALL
    SELECT format('pgbackground_role USAGE on type %s: %s',
                  t.typname, has_type_privilege('pgbackground_role', t.toid, 'USAGE'))
      FROM types t, role
    UNION ALL
    SELECT format('PUBLIC has %s on function %s', a.privilege_type, f.proname)
      FROM funcs f, aclexplode(coalesce(f.proacl, acldefault('f', f.proowner))) a
     WHERE a.grantee = 0
    UNION ALL
    SELECT format('PUBLIC has %s on type %s', a.privilege_type, t.typname)
      FROM types t, aclexplode(coalesce(t.typacl, acldefault('T', t.typowner))) a
     WHERE a.grantee = 0
    UNION ALL
    -- relations (1.10: views): ACL, definition, what the role may do
    SELECT format('relation %s kind=%s acl=%s definition=%s', c.relname, c.relkind,
                  c.relacl, md5(coalesce(pg_get_viewdef(c.oid), '')))
      FROM pg_class c
      JOIN members m ON m.classid = 'pg_class'::regclass AND m.objid = c.oid
    UNION ALL
    SELECT format('pgbackground_role SELECT on %s: %s', c.relname,
                  has_table_privilege('pgbackground_role', c.oid, 'SELECT'))
      FROM pg_class c
      JOIN members m ON m.classid = 'pg_class'::regclass AND m.objid = c.oid, role
    UNION ALL
    SELECT format('PUBLIC has %s on relation %s', a.privilege_type, c.relname)
      FROM pg_class c
      JOIN members m ON m.classid = 'pg_class'::regclass AND m.objid = c.oid,
           aclexplode(coalesce(c.relacl, acldefault('r', c.relowner))) a
     WHERE a.grantee = 0
    UNION ALL
    SELECT format('initial privileges of %s: %s %s',
                  pg_describe_object(ip.classoid, ip.objoid, ip.objsubid),
                  ip.privtype, ip.initprivs)
      FROM pg_init_privs ip
      JOIN members m ON m.classid = ip.classoid AND m.objid = ip.objoid
    UNION ALL
    -- the extension's schema: its ACL, its initial privileges, and whether
    -- the executor role can use it (1.8 grants USAGE when PUBLIC lacks it)
    SELECT format('schema %s acl=%s', n.nspname, n.nspacl)
      FROM ext JOIN pg_namespace n ON n.oid = ext.extnamespace
    UNION ALL
    SELECT format('initial privileges of schema %s: %s %s',
                  n.nspname, ip.privtype, ip.initprivs)
      FROM ext JOIN pg_namespace n ON n.oid = ext.extnamespace
      JOIN pg_init_privs ip ON ip.classoid = 'pg_namespace'::regclass
                           AND ip.objoid = n.oid
    UNION ALL
    SELECT format('pgbackground_role USAGE on schema %s: %s',
                  n.nspname, has_schema_privilege('pgbackground_role', n.oid, 'USAGE'))
      FROM ext JOIN pg_namespace n ON n.oid = ext.extnamespace, role
    UNION ALL
    -- the configuration tables pg_dump dumps, and what the helpers recorded
    SELECT format('config table %s %s', c.relname, x.cond)
      FROM pg_extension e, unnest(e.extconfig, e.extcondition) AS x(tbl, cond)
      JOIN pg_class c ON c.oid = x.tbl
     WHERE e.extname = 'pg_background'
    UNION ALL
    SELECT r FROM pgbg_upgrade_test.recorded_grants() r)
, ins AS (
    INSERT INTO pgbg_upgrade_test.snap SELECT p_label, item FROM items RETURNING 1)
SELECT count(*) FROM ins;
$snap$;

-- Drop the executor role (through the extension's own function) and then the
-- extension, so that the next install starts without the role.  The role
-- cannot be dropped while an installation in another database of this
-- cluster (say, left behind by an earlier test run) still holds privileges;
-- only then is it kept, with nothing granted in this database.
CREATE FUNCTION pgbg_upgrade_test.drop_role_and_extension(p_drop_extension bool)
RETURNS void LANGUAGE plpgsql AS $fn$
DECLARE
    -- the extension's schema: it need not be in the search_path
    ext_schema name := (SELECT n.nspname
                          FROM pg_extension e
                          JOIN pg_namespace n ON n.oid = e.extnamespace
                         WHERE e.extname = 'pg_background');
    revoked bool;
BEGIN
    BEGIN
        EXECUTE format('SELECT %I.pg_background_drop_executor_role()', ext_schema);
    EXCEPTION WHEN dependent_objects_still_exist THEN
        IF NOT EXISTS (
            SELECT 1 FROM pg_shdepend d
             WHERE d.refclassid = 'pg_authid'::regclass
               AND d.refobjid = (SELECT oid FROM pg_roles
                                  WHERE rolname = 'pgbackground_role')
               AND d.dbid <> (SELECT oid FROM pg_database
                               WHERE datname = current_database()))
        THEN
            RAISE;
        END IF;
        EXECUTE format('SELECT %I.revoke_pg_background_privileges($1)', ext_schema)
           INTO revoked USING 'pgbackground_role'::text;
        IF NOT revoked THEN
            RAISE EXCEPTION 'could not revoke privileges of pgbackground_role';
        END IF;
    END;
    IF p_drop_extension THEN
        DROP EXTENSION pg_background;
    END IF;
END;
$fn$;

-- Gone, or kept only for another database; never holding anything here.
CREATE FUNCTION pgbg_upgrade_test.role_state(OUT role_gone_or_used_elsewhere bool,
                                             OUT privileges_here bigint)
LANGUAGE sql AS $fn$
SELECT NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'pgbackground_role')
       OR EXISTS (SELECT 1 FROM pg_shdepend d JOIN pg_roles r ON r.oid = d.refobjid
                   WHERE d.refclassid = 'pg_authid'::regclass
                     AND r.rolname = 'pgbackground_role'
                     AND d.dbid <> (SELECT oid FROM pg_database
                                     WHERE datname = current_database())),
       (SELECT count(*) FROM pg_shdepend d JOIN pg_roles r ON r.oid = d.refobjid
         WHERE d.refclassid = 'pg_authid'::regclass
           AND r.rolname = 'pgbackground_role'
           AND d.dbid = (SELECT oid FROM pg_database
                          WHERE datname = current_database()));
$fn$;

-- What a snapshot has that its reference lacks, and the reverse.  An update
-- to version V (label 'X -> V') is compared with the snapshot 'fresh V'.
CREATE FUNCTION pgbg_upgrade_test.reference(p_label text) RETURNS text
LANGUAGE sql AS $fn$
SELECT CASE WHEN p_label LIKE '% -> %'
            THEN 'fresh ' || substring(p_label FROM ' -> (.*)$')
            ELSE p_label END;
$fn$;
CREATE FUNCTION pgbg_upgrade_test.diff(p_label text, p_reference text,
                                       OUT side text, OUT item text)
RETURNS SETOF record LANGUAGE sql AS $fn$
(SELECT 'only in ' || p_reference, s.item FROM pgbg_upgrade_test.snap s
  WHERE s.label = p_reference
 EXCEPT ALL
 SELECT 'only in ' || p_reference, s.item FROM pgbg_upgrade_test.snap s
  WHERE s.label = p_label)
UNION ALL
(SELECT 'only in ' || p_label, s.item FROM pgbg_upgrade_test.snap s
  WHERE s.label = p_label
 EXCEPT ALL
 SELECT 'only in ' || p_label, s.item FROM pgbg_upgrade_test.snap s
  WHERE s.label = p_reference);
$fn$;

--
-- Every old version has a path to 1.6, to 1.7, to 1.8, to 1.9 and to 1.10;
-- 1.10 is the default.  (Versions compare as numbers: 1.9 < 1.10.)
--
SELECT default_version FROM pg_available_extensions WHERE name = 'pg_background';
SELECT version, superuser, relocatable, schema, requires
  FROM pg_available_extension_versions
 WHERE name = 'pg_background'
 ORDER BY version;
SELECT target, source, path
  FROM pg_extension_update_paths('pg_background')
 WHERE target IN ('1.6', '1.7', '1.8', '1.9', '1.10')
   AND string_to_array(source, '.')::int[] < string_to_array(target, '.')::int[]
 ORDER BY string_to_array(target, '.')::int[], string_to_array(source, '.')::int[];

--
-- A fresh 1.6 installation: the reference for the updates to 1.6.
--
CREATE EXTENSION pg_background VERSION '1.6';

SELECT extversion FROM pg_extension WHERE extname = 'pg_background';

-- The contract, readably.
SELECT p.proname,
       pg_get_function_arguments(p.oid) AS arguments,
       pg_get_function_result(p.oid) AS result,
       p.proisstrict AS strict, p.provolatile AS vol, p.proparallel AS par,
       p.prosecdef AS secdef, p.proconfig AS config,
       has_function_privilege('pgbackground_role', p.oid, 'EXECUTE') AS role_exec
  FROM pg_proc p
  JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid
  JOIN pg_extension e ON d.refclassid = 'pg_extension'::regclass
                     AND d.refobjid = e.oid AND d.deptype = 'e'
 WHERE e.extname = 'pg_background'
 ORDER BY p.proname, arguments;

SELECT t.typname,
       has_type_privilege('pgbackground_role', t.oid, 'USAGE') AS role_usage,
       (SELECT string_agg(a.attname || ' ' || format_type(a.atttypid, a.atttypmod),
                          ', ' ORDER BY a.attnum)
          FROM pg_attribute a
         WHERE a.attrelid = t.typrelid AND a.attnum > 0) AS columns
  FROM pg_type t
  JOIN pg_depend d ON d.classid = 'pg_type'::regclass AND d.objid = t.oid
  JOIN pg_extension e ON d.refclassid = 'pg_extension'::regclass
                     AND d.refobjid = e.oid AND d.deptype = 'e'
 WHERE e.extname = 'pg_background'
   AND NOT EXISTS (SELECT FROM pg_type el WHERE el.typarray = t.oid)
   AND NOT EXISTS (SELECT FROM pg_class c WHERE c.oid = t.typrelid AND c.relkind <> 'c')
 ORDER BY t.typname;

SELECT rolname, rolcanlogin FROM pg_roles WHERE rolname = 'pgbackground_role';

SELECT pgbg_upgrade_test.take_snapshot('fresh 1.6') > 0 AS snapshot_taken;
SELECT pgbg_upgrade_test.drop_role_and_extension(true);

--
-- A fresh 1.7 installation: the same objects as 1.6 (only the version
-- differs, shown below).
--
CREATE EXTENSION pg_background VERSION '1.7';
SELECT pgbg_upgrade_test.take_snapshot('fresh 1.7') > 0 AS snapshot_taken;
SELECT pgbg_upgrade_test.drop_role_and_extension(true);
SELECT * FROM pgbg_upgrade_test.diff('fresh 1.7', 'fresh 1.6') ORDER BY 1, 2;

--
-- A fresh 1.8 installation: the reference for the updates to 1.8.
--
CREATE EXTENSION pg_background VERSION '1.8';
SELECT extversion FROM pg_extension WHERE extname = 'pg_background';

SELECT p.proname,
       pg_get_function_arguments(p.oid) AS arguments,
       pg_get_function_result(p.oid) AS result,
       p.proisstrict AS strict, p.provolatile AS vol, p.proparallel AS par,
       p.prosecdef AS secdef, p.proconfig AS config,
       has_function_privilege('pgbackground_role', p.oid, 'EXECUTE') AS role_exec
  FROM pg_proc p
  JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid
  JOIN pg_extension e ON d.refclassid = 'pg_extension'::regclass
                     AND d.refobjid = e.oid AND d.deptype = 'e'
 WHERE e.extname = 'pg_background'
 ORDER BY p.proname, arguments;

SELECT t.typname,
       has_type_privilege('pgbackground_role', t.oid, 'USAGE') AS role_usage,
       (SELECT string_agg(a.attname || ' ' || format_type(a.atttypid, a.atttypmod),
                          ', ' ORDER BY a.attnum)
          FROM pg_attribute a
         WHERE a.attrelid = t.typrelid AND a.attnum > 0) AS columns
  FROM pg_type t
  JOIN pg_depend d ON d.classid = 'pg_type'::regclass AND d.objid = t.oid
  JOIN pg_extension e ON d.refclassid = 'pg_extension'::regclass
                     AND d.refobjid = e.oid AND d.deptype = 'e'
 WHERE e.extname = 'pg_background'
   AND NOT EXISTS (SELECT FROM pg_type el WHERE el.typarray = t.oid)
   AND NOT EXISTS (SELECT FROM pg_class c WHERE c.oid = t.typrelid AND c.relkind <> 'c')
 ORDER BY t.typname;

-- What 1.8 has that 1.6 does not, and the reverse (functions and types; the
-- three launch functions point at their 1.8 entry points).
SELECT pgbg_upgrade_test.take_snapshot('fresh 1.8') > 0 AS snapshot_taken;
SELECT pgbg_upgrade_test.drop_role_and_extension(true);
SELECT side, regexp_replace(item, ' (args|src|kind)=.*$', '') AS item
  FROM pgbg_upgrade_test.diff('fresh 1.8', 'fresh 1.6')
 WHERE item ~ '^(function|type|extension) '
 ORDER BY 1, 2;

--
-- A fresh 1.9 installation: the reference for the updates to 1.9.  What it
-- has that 1.8 does not, and the reverse: only the objects of 1.9 and what
-- comes with them (privileges, records).
--
CREATE EXTENSION pg_background VERSION '1.9';
SELECT extversion FROM pg_extension WHERE extname = 'pg_background';
SELECT pgbg_upgrade_test.take_snapshot('fresh 1.9') > 0 AS snapshot_taken;
SELECT pgbg_upgrade_test.drop_role_and_extension(true);
SELECT side, regexp_replace(item, ' (args|src|kind|bin|acl)=.*$', '') AS item
  FROM pgbg_upgrade_test.diff('fresh 1.9', 'fresh 1.8')
 WHERE item !~ '^initial privileges '
 ORDER BY 1, 2;
SELECT side, count(*) AS initial_privileges
  FROM pgbg_upgrade_test.diff('fresh 1.9', 'fresh 1.8')
 WHERE item ~ '^initial privileges '
 GROUP BY 1 ORDER BY 1;

--
-- A fresh 1.10 installation (the default version): the reference for the
-- updates to 1.10.  What it has that 1.9 does not, and the reverse: the
-- objects of 1.10, what comes with them, and the helpers (which now also
-- grant SELECT on the views).
--
CREATE EXTENSION pg_background;
SELECT extversion FROM pg_extension WHERE extname = 'pg_background';
SELECT pgbg_upgrade_test.take_snapshot('fresh 1.10') > 0 AS snapshot_taken;
SELECT pgbg_upgrade_test.drop_role_and_extension(true);
SELECT side, regexp_replace(item, ' (args|src|kind|bin|acl)=.*$', '') AS item
  FROM pgbg_upgrade_test.diff('fresh 1.10', 'fresh 1.9')
 WHERE item !~ '^initial privileges '
 ORDER BY 1, 2;
SELECT side, count(*) AS initial_privileges
  FROM pgbg_upgrade_test.diff('fresh 1.10', 'fresh 1.9')
 WHERE item ~ '^initial privileges '
 GROUP BY 1 ORDER BY 1;

--
-- Each published starting point, updated to 1.6.  The executor role is
-- dropped before each one, so the update has to create it.
--
CREATE EXTENSION pg_background VERSION '1.0';
ALTER EXTENSION pg_background UPDATE TO '1.6';
SELECT pgbg_upgrade_test.take_snapshot('1.0 -> 1.6') > 0 AS snapshot_taken;
SELECT pgbg_upgrade_test.drop_role_and_extension(true);

CREATE EXTENSION pg_background VERSION '1.1';
ALTER EXTENSION pg_background UPDATE TO '1.6';
SELECT pgbg_upgrade_test.take_snapshot('1.1 -> 1.6') > 0 AS snapshot_taken;
SELECT pgbg_upgrade_test.drop_role_and_extension(true);

CREATE EXTENSION pg_background VERSION '1.2';
ALTER EXTENSION pg_background UPDATE TO '1.6';
SELECT pgbg_upgrade_test.take_snapshot('1.2 -> 1.6') > 0 AS snapshot_taken;
SELECT pgbg_upgrade_test.drop_role_and_extension(true);

CREATE EXTENSION pg_background VERSION '1.3';
ALTER EXTENSION pg_background UPDATE TO '1.6';
SELECT pgbg_upgrade_test.take_snapshot('1.3 -> 1.6') > 0 AS snapshot_taken;
SELECT pgbg_upgrade_test.drop_role_and_extension(true);

CREATE EXTENSION pg_background VERSION '1.4';
ALTER EXTENSION pg_background UPDATE TO '1.6';
SELECT pgbg_upgrade_test.take_snapshot('1.4 -> 1.6') > 0 AS snapshot_taken;
SELECT pgbg_upgrade_test.drop_role_and_extension(true);

-- 1.5 goes through pg_background--1.5--1.6.sql, the others through 1.4--1.6.
CREATE EXTENSION pg_background VERSION '1.5';
ALTER EXTENSION pg_background UPDATE TO '1.6';
SELECT pgbg_upgrade_test.take_snapshot('1.5 -> 1.6') > 0 AS snapshot_taken;
SELECT pgbg_upgrade_test.drop_role_and_extension(true);

-- The role may exist already, holding the v1 functions (as the published
-- 1.3 script left it).
CREATE EXTENSION pg_background VERSION '1.4';
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'pgbackground_role') THEN
        CREATE ROLE pgbackground_role;
    END IF;
END;
$$;
GRANT EXECUTE ON FUNCTION pg_background_launch(text, int4) TO pgbackground_role;
GRANT EXECUTE ON FUNCTION pg_background_result(int4) TO pgbackground_role;
GRANT EXECUTE ON FUNCTION pg_background_detach(int4) TO pgbackground_role;
ALTER EXTENSION pg_background UPDATE TO '1.6';
SELECT pgbg_upgrade_test.take_snapshot('1.4 with role -> 1.6') > 0 AS snapshot_taken;
SELECT pgbg_upgrade_test.drop_role_and_extension(true);

-- Step by step through every version, 1.5 included.
CREATE EXTENSION pg_background VERSION '1.0';
ALTER EXTENSION pg_background UPDATE TO '1.1';
ALTER EXTENSION pg_background UPDATE TO '1.2';
ALTER EXTENSION pg_background UPDATE TO '1.3';
ALTER EXTENSION pg_background UPDATE TO '1.4';
ALTER EXTENSION pg_background UPDATE TO '1.5';
ALTER EXTENSION pg_background UPDATE TO '1.6';
SELECT pgbg_upgrade_test.take_snapshot('1.0 step by step -> 1.6') > 0 AS snapshot_taken;
SELECT pgbg_upgrade_test.drop_role_and_extension(true);

--
-- 1.6 updated to 1.7.
--
CREATE EXTENSION pg_background VERSION '1.6';
ALTER EXTENSION pg_background UPDATE TO '1.7';
SELECT pgbg_upgrade_test.take_snapshot('1.6 -> 1.7') > 0 AS snapshot_taken;
SELECT pgbg_upgrade_test.drop_role_and_extension(true);

--
-- 1.7 updated to 1.8.
--
CREATE EXTENSION pg_background VERSION '1.7';
ALTER EXTENSION pg_background UPDATE TO '1.8';
SELECT pgbg_upgrade_test.take_snapshot('1.7 -> 1.8') > 0 AS snapshot_taken;
SELECT pgbg_upgrade_test.drop_role_and_extension(true);

--
-- Every older version updated to the default version, 1.10, with a plain
-- ALTER EXTENSION ... UPDATE.
--
CREATE EXTENSION pg_background VERSION '1.0';
ALTER EXTENSION pg_background UPDATE;
SELECT extversion FROM pg_extension WHERE extname = 'pg_background';
SELECT pgbg_upgrade_test.take_snapshot('1.0 -> 1.10') > 0 AS snapshot_taken;
SELECT pgbg_upgrade_test.drop_role_and_extension(true);

CREATE EXTENSION pg_background VERSION '1.1';
ALTER EXTENSION pg_background UPDATE;
SELECT pgbg_upgrade_test.take_snapshot('1.1 -> 1.10') > 0 AS snapshot_taken;
SELECT pgbg_upgrade_test.drop_role_and_extension(true);

CREATE EXTENSION pg_background VERSION '1.2';
ALTER EXTENSION pg_background UPDATE;
SELECT pgbg_upgrade_test.take_snapshot('1.2 -> 1.10') > 0 AS snapshot_taken;
SELECT pgbg_upgrade_test.drop_role_and_extension(true);

CREATE EXTENSION pg_background VERSION '1.3';
ALTER EXTENSION pg_background UPDATE;
SELECT pgbg_upgrade_test.take_snapshot('1.3 -> 1.10') > 0 AS snapshot_taken;
SELECT pgbg_upgrade_test.drop_role_and_extension(true);

CREATE EXTENSION pg_background VERSION '1.4';
ALTER EXTENSION pg_background UPDATE;
SELECT pgbg_upgrade_test.take_snapshot('1.4 -> 1.10') > 0 AS snapshot_taken;
SELECT pgbg_upgrade_test.drop_role_and_extension(true);

CREATE EXTENSION pg_background VERSION '1.5';
ALTER EXTENSION pg_background UPDATE;
SELECT pgbg_upgrade_test.take_snapshot('1.5 -> 1.10') > 0 AS snapshot_taken;
SELECT pgbg_upgrade_test.drop_role_and_extension(true);

-- The issue's own test: 1.6, then ALTER EXTENSION ... UPDATE.
CREATE EXTENSION pg_background VERSION '1.6';
ALTER EXTENSION pg_background UPDATE;
SELECT extversion FROM pg_extension WHERE extname = 'pg_background';
SELECT pgbg_upgrade_test.take_snapshot('1.6 -> 1.10') > 0 AS snapshot_taken;
SELECT pgbg_upgrade_test.drop_role_and_extension(true);

CREATE EXTENSION pg_background VERSION '1.7';
ALTER EXTENSION pg_background UPDATE;
SELECT pgbg_upgrade_test.take_snapshot('1.7 -> 1.10') > 0 AS snapshot_taken;
SELECT pgbg_upgrade_test.drop_role_and_extension(true);

-- 1.8, then ALTER EXTENSION ... UPDATE.
CREATE EXTENSION pg_background VERSION '1.8';
ALTER EXTENSION pg_background UPDATE;
SELECT extversion FROM pg_extension WHERE extname = 'pg_background';
SELECT pgbg_upgrade_test.take_snapshot('1.8 -> 1.10') > 0 AS snapshot_taken;
SELECT pgbg_upgrade_test.drop_role_and_extension(true);

-- The 1.8 -> 1.9 script alone, and the 1.9 -> 1.10 script alone.
CREATE EXTENSION pg_background VERSION '1.8';
ALTER EXTENSION pg_background UPDATE TO '1.9';
SELECT pgbg_upgrade_test.take_snapshot('1.8 -> 1.9') > 0 AS snapshot_taken;
SELECT pgbg_upgrade_test.drop_role_and_extension(true);
CREATE EXTENSION pg_background VERSION '1.9';
ALTER EXTENSION pg_background UPDATE;
SELECT extversion FROM pg_extension WHERE extname = 'pg_background';
SELECT pgbg_upgrade_test.take_snapshot('1.9 -> 1.10') > 0 AS snapshot_taken;
SELECT pgbg_upgrade_test.drop_role_and_extension(true);

-- The role existing already, holding only the v1 functions.
CREATE EXTENSION pg_background VERSION '1.4';
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'pgbackground_role') THEN
        CREATE ROLE pgbackground_role;
    END IF;
END;
$$;
GRANT EXECUTE ON FUNCTION pg_background_launch(text, int4) TO pgbackground_role;
GRANT EXECUTE ON FUNCTION pg_background_result(int4) TO pgbackground_role;
GRANT EXECUTE ON FUNCTION pg_background_detach(int4) TO pgbackground_role;
ALTER EXTENSION pg_background UPDATE;
SELECT pgbg_upgrade_test.take_snapshot('1.4 with role -> 1.10') > 0 AS snapshot_taken;
SELECT pgbg_upgrade_test.drop_role_and_extension(true);

-- Installations without the record pg_background_helper_grants (made with
-- the published 1.3-1.5 scripts, or with 1.6/1.7 scripts that predate it):
-- the update creates it, records what pgbackground_role holds, and ends up
-- like a fresh installation.
CREATE FUNCTION pgbg_upgrade_test.forget_record() RETURNS void
LANGUAGE plpgsql AS $fn$
DECLARE
    ext_schema name := (SELECT n.nspname
                          FROM pg_extension e
                          JOIN pg_namespace n ON n.oid = e.extnamespace
                         WHERE e.extname = 'pg_background');
BEGIN
    EXECUTE format('ALTER EXTENSION pg_background DROP TABLE %I.pg_background_helper_grants',
                   ext_schema);
    EXECUTE format('DROP TABLE %I.pg_background_helper_grants', ext_schema);
END;
$fn$;
CREATE EXTENSION pg_background VERSION '1.4';
SELECT pgbg_upgrade_test.forget_record();
ALTER EXTENSION pg_background UPDATE;
SELECT pgbg_upgrade_test.take_snapshot('1.4 without record -> 1.10') > 0 AS snapshot_taken;
SELECT pgbg_upgrade_test.drop_role_and_extension(true);
CREATE EXTENSION pg_background VERSION '1.5';
SELECT pgbg_upgrade_test.forget_record();
ALTER EXTENSION pg_background UPDATE TO '1.6';
SELECT pgbg_upgrade_test.take_snapshot('1.5 without record -> 1.6') > 0 AS snapshot_taken;
SELECT pgbg_upgrade_test.drop_role_and_extension(true);
CREATE EXTENSION pg_background VERSION '1.7';
SELECT pgbg_upgrade_test.forget_record();
ALTER EXTENSION pg_background UPDATE;
SELECT pgbg_upgrade_test.take_snapshot('1.7 without record -> 1.10') > 0 AS snapshot_taken;
SELECT pgbg_upgrade_test.drop_role_and_extension(true);
-- 1.8 and 1.9 without the record (as the published scripts left them): the
-- 1.8 -> 1.9 and 1.9 -> 1.10 scripts create it too.
CREATE EXTENSION pg_background VERSION '1.8';
SELECT pgbg_upgrade_test.forget_record();
ALTER EXTENSION pg_background UPDATE;
SELECT pgbg_upgrade_test.take_snapshot('1.8 without record -> 1.10') > 0 AS snapshot_taken;
SELECT pgbg_upgrade_test.drop_role_and_extension(true);
CREATE EXTENSION pg_background VERSION '1.9';
SELECT pgbg_upgrade_test.forget_record();
ALTER EXTENSION pg_background UPDATE;
SELECT pgbg_upgrade_test.take_snapshot('1.9 without record -> 1.10') > 0 AS snapshot_taken;
SELECT pgbg_upgrade_test.drop_role_and_extension(true);

-- Step by step through every version.
CREATE EXTENSION pg_background VERSION '1.0';
ALTER EXTENSION pg_background UPDATE TO '1.1';
ALTER EXTENSION pg_background UPDATE TO '1.2';
ALTER EXTENSION pg_background UPDATE TO '1.3';
ALTER EXTENSION pg_background UPDATE TO '1.4';
ALTER EXTENSION pg_background UPDATE TO '1.5';
ALTER EXTENSION pg_background UPDATE TO '1.6';
ALTER EXTENSION pg_background UPDATE TO '1.7';
ALTER EXTENSION pg_background UPDATE TO '1.8';
ALTER EXTENSION pg_background UPDATE TO '1.9';
ALTER EXTENSION pg_background UPDATE TO '1.10';
SELECT pgbg_upgrade_test.take_snapshot('1.0 step by step -> 1.10') > 0 AS snapshot_taken;
SELECT pgbg_upgrade_test.drop_role_and_extension(true);

--
-- In another schema (where PUBLIC has no USAGE, so 1.8 grants USAGE on the
-- schema to the executor role): 1.6 updated to 1.10 equals a fresh 1.10 there.
--
CREATE EXTENSION pg_background SCHEMA pgbg_upgrade_elsewhere;
SELECT pgbg_upgrade_test.take_snapshot('fresh 1.10 elsewhere') > 0 AS snapshot_taken;
SELECT pgbg_upgrade_test.drop_role_and_extension(true);
CREATE EXTENSION pg_background VERSION '1.6' SCHEMA pgbg_upgrade_elsewhere;
ALTER EXTENSION pg_background UPDATE;
SELECT pgbg_upgrade_test.take_snapshot('1.6 -> 1.10 elsewhere') > 0 AS snapshot_taken;
SELECT pgbg_upgrade_test.drop_role_and_extension(true);

-- How many facts each snapshot holds (the comparison below is not vacuous).
SELECT label, count(*) AS facts,
       count(*) FILTER (WHERE item LIKE 'function %') AS functions,
       count(*) FILTER (WHERE item LIKE 'type %') AS types,
       count(*) FILTER (WHERE item LIKE 'role %') AS role,
       count(*) FILTER (WHERE item LIKE 'pgbackground_role %: t') AS role_grants,
       count(*) FILTER (WHERE item LIKE 'initial privileges %') AS init_privs,
       count(*) FILTER (WHERE item LIKE 'PUBLIC %') AS public_grants,
       count(*) FILTER (WHERE item LIKE 'schema %') AS schema,
       count(*) FILTER (WHERE item LIKE 'recorded grant: %') AS recorded
  FROM pgbg_upgrade_test.snap
 GROUP BY label
 ORDER BY label;

-- Each update compared with the fresh installation of the same version.
SELECT label, pgbg_upgrade_test.reference(label) AS compared_with
  FROM (SELECT DISTINCT label FROM pgbg_upgrade_test.snap) l
 WHERE label LIKE '% -> %'
 ORDER BY 1;

-- Differences from the fresh installation: none expected.
SELECT l.label AS updated, d.side, d.item
  FROM (SELECT DISTINCT label FROM pgbg_upgrade_test.snap
         WHERE label LIKE '% -> %') l,
       pgbg_upgrade_test.diff(l.label, pgbg_upgrade_test.reference(l.label)) d
 ORDER BY 1, 2, 3;

-- The comparison does see a difference: a fresh installation where PUBLIC
-- was granted one function.
CREATE EXTENSION pg_background;
GRANT EXECUTE ON FUNCTION pg_background_list_v2() TO PUBLIC;
SELECT pgbg_upgrade_test.take_snapshot('control') > 0 AS snapshot_taken;
SELECT count(*) AS differences,
       count(*) FILTER (WHERE item LIKE 'function pg_background_list_v2()%') AS acl_lines
  FROM pgbg_upgrade_test.diff('control', 'fresh 1.10');
SELECT side, item FROM pgbg_upgrade_test.diff('control', 'fresh 1.10')
 WHERE item LIKE 'PUBLIC %' ORDER BY 1, 2;
REVOKE EXECUTE ON FUNCTION pg_background_list_v2() FROM PUBLIC;
DELETE FROM pgbg_upgrade_test.snap WHERE label = 'control';
SELECT pgbg_upgrade_test.drop_role_and_extension(true);

--
-- A role the published helpers (argument user_name) had granted to keeps its
-- privileges across the update, and the new helpers take role_name.
--
CREATE ROLE regress_pgbg_upgrade_user;
CREATE EXTENSION pg_background VERSION '1.4';
SELECT grant_pg_background_privileges(user_name => 'regress_pgbg_upgrade_user');
ALTER EXTENSION pg_background UPDATE TO '1.6';
SELECT o.name,
       has_function_privilege('regress_pgbg_upgrade_user', o.oid, 'EXECUTE') AS user_exec
  FROM pgbg_upgrade_test.ext_objects o
 WHERE o.name IN ('pg_background_launch', 'pg_background_result',
                  'pg_background_detach', 'pg_background_launch_v2')
 ORDER BY o.name;
-- what the 1.4 helper granted was recorded, so the 1.6 helper takes it back
SELECT revoke_pg_background_privileges(role_name => 'regress_pgbg_upgrade_user');
SELECT count(*) AS user_privileges_left
  FROM pgbg_upgrade_test.ext_objects o
 WHERE CASE o.kind
       WHEN 'function' THEN has_function_privilege('regress_pgbg_upgrade_user', o.oid, 'EXECUTE')
       ELSE has_type_privilege('regress_pgbg_upgrade_user', o.oid, 'USAGE') END;
SELECT pgbg_upgrade_test.drop_role_and_extension(true);

--
-- No hard-coded schema: install an old version elsewhere, update, and use
-- the helpers there; then move the extension and use them again.  (The 1.6
-- helpers do not print their commands here: on PostgreSQL 18 they also name
-- the row type of their table.)
--
CREATE EXTENSION pg_background VERSION '1.3' SCHEMA pgbg_upgrade_elsewhere;
ALTER EXTENSION pg_background UPDATE TO '1.5';
ALTER EXTENSION pg_background UPDATE TO '1.6';
SELECT count(*) AS functions_elsewhere
  FROM pg_proc WHERE pronamespace = 'pgbg_upgrade_elsewhere'::regnamespace;
SELECT pgbg_upgrade_elsewhere.grant_pg_background_privileges('regress_pgbg_upgrade_user');
SELECT has_function_privilege('regress_pgbg_upgrade_user',
         'pgbg_upgrade_elsewhere.pg_background_submit_v2(text, int4)', 'EXECUTE') AS user_exec;
SELECT count(*) AS user_functions
  FROM pg_proc p WHERE p.pronamespace = 'pgbg_upgrade_elsewhere'::regnamespace
   AND has_function_privilege('regress_pgbg_upgrade_user', p.oid, 'EXECUTE');
ALTER EXTENSION pg_background SET SCHEMA public;
SELECT revoke_pg_background_privileges('regress_pgbg_upgrade_user');
SELECT count(*) AS user_functions
  FROM pg_proc p
  JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
  JOIN pg_extension e ON d.refclassid = 'pg_extension'::regclass AND d.refobjid = e.oid
 WHERE e.extname = 'pg_background'
   AND has_function_privilege('regress_pgbg_upgrade_user', p.oid, 'EXECUTE');
SELECT has_function_privilege('regress_pgbg_upgrade_user',
         'pg_background_submit_v2(text, int4)', 'EXECUTE') AS user_exec;
SELECT pgbg_upgrade_test.drop_role_and_extension(true);

-- 1.8 in a schema where PUBLIC has no USAGE: the helpers grant and revoke
-- USAGE on the schema too, and pg_background_drop_executor_role() leaves no
-- trace of the role in the schema's ACL or initial privileges.
SELECT count(*) AS public_usage
  FROM pg_namespace n, aclexplode(coalesce(n.nspacl, acldefault('n', n.nspowner))) a
 WHERE n.nspname = 'pgbg_upgrade_elsewhere' AND a.grantee = 0;
CREATE EXTENSION pg_background VERSION '1.3' SCHEMA pgbg_upgrade_elsewhere;
ALTER EXTENSION pg_background UPDATE;
SELECT has_schema_privilege('pgbackground_role', 'pgbg_upgrade_elsewhere', 'USAGE') AS role_usage,
       has_schema_privilege('regress_pgbg_upgrade_user', 'pgbg_upgrade_elsewhere', 'USAGE') AS user_usage;
SELECT pgbg_upgrade_elsewhere.grant_pg_background_privileges('regress_pgbg_upgrade_user', true);
SELECT has_schema_privilege('regress_pgbg_upgrade_user', 'pgbg_upgrade_elsewhere', 'USAGE') AS user_usage,
       has_function_privilege('regress_pgbg_upgrade_user',
         'pgbg_upgrade_elsewhere.pg_background_stats_v2()', 'EXECUTE') AS user_exec;
SELECT pgbg_upgrade_elsewhere.revoke_pg_background_privileges('regress_pgbg_upgrade_user');
SELECT has_schema_privilege('regress_pgbg_upgrade_user', 'pgbg_upgrade_elsewhere', 'USAGE') AS user_usage,
       has_function_privilege('regress_pgbg_upgrade_user',
         'pgbg_upgrade_elsewhere.pg_background_stats_v2()', 'EXECUTE') AS user_exec;
SELECT pgbg_upgrade_test.drop_role_and_extension(true);
SELECT * FROM pgbg_upgrade_test.role_state();
SELECT count(*) AS grants_on_schema
  FROM pg_namespace n, aclexplode(n.nspacl) a
 WHERE n.nspname = 'pgbg_upgrade_elsewhere' AND a.grantee <> n.nspowner;
SELECT count(*) AS dangling_initial_privileges
  FROM pg_init_privs ip, aclexplode(ip.initprivs) x
 WHERE x.grantee <> 0
   AND NOT EXISTS (SELECT 1 FROM pg_roles r WHERE r.oid = x.grantee);

--
-- The helpers on a fresh installation.
--
CREATE EXTENSION pg_background;

-- An existing role: true, and the role can use every API function and the
-- handle type, but none of the administration functions.
SELECT grant_pg_background_privileges('regress_pgbg_upgrade_user');
SELECT o.name NOT IN ('grant_pg_background_privileges',
                      'revoke_pg_background_privileges',
                      'pg_background_drop_executor_role') AS api,
       has_function_privilege('regress_pgbg_upgrade_user', o.oid, 'EXECUTE') AS user_exec,
       count(*)
  FROM pgbg_upgrade_test.ext_objects o
 WHERE o.kind = 'function'
 GROUP BY 1, 2
 ORDER BY 1, 2;
SELECT has_type_privilege('regress_pgbg_upgrade_user', 'pg_background_handle', 'USAGE') AS user_usage;

-- Granting twice is harmless.
SELECT grant_pg_background_privileges('regress_pgbg_upgrade_user');

-- Missing roles, NULL, and PUBLIC (not a role): a notice and false.
SELECT grant_pg_background_privileges('regress_pgbg_no_such_role');
SELECT revoke_pg_background_privileges('regress_pgbg_no_such_role', true);
SELECT grant_pg_background_privileges(NULL);
SELECT grant_pg_background_privileges('public');
SELECT revoke_pg_background_privileges('PUBLIC');

-- print_commands shows each command.
SELECT revoke_pg_background_privileges('regress_pgbg_upgrade_user', true);
SELECT count(*) AS user_privileges_left
  FROM pgbg_upgrade_test.ext_objects o
 WHERE CASE o.kind
       WHEN 'function' THEN has_function_privilege('regress_pgbg_upgrade_user', o.oid, 'EXECUTE')
       ELSE has_type_privilege('regress_pgbg_upgrade_user', o.oid, 'USAGE') END;
SELECT grant_pg_background_privileges('regress_pgbg_upgrade_user', print_commands => true);

-- Nobody but the owner may call the administration functions.
SET ROLE regress_pgbg_upgrade_user;
SELECT grant_pg_background_privileges('regress_pgbg_upgrade_user');
SELECT revoke_pg_background_privileges('regress_pgbg_upgrade_user');
SELECT pg_background_drop_executor_role();
RESET ROLE;
SELECT revoke_pg_background_privileges('regress_pgbg_upgrade_user');

-- Membership in pgbackground_role is how users are meant to get the API.
GRANT pgbackground_role TO regress_pgbg_upgrade_user;
SET ROLE regress_pgbg_upgrade_user;
SELECT has_function_privilege('pg_background_launch_v2(text, int4)', 'EXECUTE') AS member_exec,
       has_function_privilege('grant_pg_background_privileges(text, bool)', 'EXECUTE') AS member_admin;
RESET ROLE;

-- PUBLIC has no privilege on any object of the extension.
SELECT o.kind, o.name, a.privilege_type
  FROM pgbg_upgrade_test.ext_objects o, aclexplode(o.acl) a
 WHERE a.grantee = 0
 ORDER BY 1, 2, 3;
-- (looked at this many objects)
SELECT kind, count(*) FROM pgbg_upgrade_test.ext_objects GROUP BY kind ORDER BY kind;

--
-- pg_background_drop_executor_role: the role goes, its grants first; then
-- the extension can be dropped and created again, which creates the role.
--
SELECT pgbg_upgrade_test.drop_role_and_extension(false);
SELECT * FROM pgbg_upgrade_test.role_state();
-- The extension's initial privileges (pg_init_privs, what pg_dump compares
-- with) name no role that does not exist any more.
SELECT count(*) AS dangling_initial_privileges
  FROM pgbg_upgrade_test.ext_objects o
  JOIN pg_init_privs ip ON ip.objoid = o.oid
       AND ip.classoid = CASE o.kind WHEN 'function' THEN 'pg_proc'::regclass
                                     ELSE 'pg_type'::regclass END
 CROSS JOIN LATERAL aclexplode(ip.initprivs) x
 WHERE x.grantee <> 0
   AND NOT EXISTS (SELECT 1 FROM pg_roles r WHERE r.oid = x.grantee);
SELECT count(*) AS objects_with_initial_privileges
  FROM pgbg_upgrade_test.ext_objects o
  JOIN pg_init_privs ip ON ip.objoid = o.oid
       AND ip.classoid = CASE o.kind WHEN 'function' THEN 'pg_proc'::regclass
                                     ELSE 'pg_type'::regclass END;
DROP EXTENSION pg_background;
CREATE EXTENSION pg_background;
SELECT rolname, rolcanlogin FROM pg_roles WHERE rolname = 'pgbackground_role';
SELECT o.kind,
       CASE o.kind
       WHEN 'function' THEN has_function_privilege('pgbackground_role', o.oid, 'EXECUTE')
       ELSE has_type_privilege('pgbackground_role', o.oid, 'USAGE') END AS role_has_it,
       count(*)
  FROM pgbg_upgrade_test.ext_objects o
 GROUP BY 1, 2
 ORDER BY 1, 2;

-- Cleanup; the extension stays installed at 1.10.
DROP ROLE regress_pgbg_upgrade_user;
SET client_min_messages = warning;
DROP SCHEMA pgbg_upgrade_test CASCADE;
DROP SCHEMA pgbg_upgrade_elsewhere;
RESET client_min_messages;
SELECT extversion FROM pg_extension WHERE extname = 'pg_background';
