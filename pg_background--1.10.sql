/* pg_background--1.10.sql: base script of version 1.10 */

-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION pg_background" to load this file. \quit

-- v1 API: a worker is addressed by its pid.

CREATE FUNCTION pg_background_launch(sql pg_catalog.text,
                                     queue_size pg_catalog.int4 DEFAULT 65536)
    RETURNS pg_catalog.int4 STRICT
    AS 'MODULE_PATHNAME', 'pg_background_launch_1_8' LANGUAGE C;

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
    AS 'MODULE_PATHNAME', 'pg_background_launch_v2_1_8' LANGUAGE C;

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
    AS 'MODULE_PATHNAME', 'pg_background_submit_v2_1_8' LANGUAGE C;

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
--    consumed bool, label text)
-- (from 1.9 on; the first nine columns alone still work).
CREATE FUNCTION pg_background_list_v2()
    RETURNS SETOF pg_catalog.record
    AS 'MODULE_PATHNAME', 'pg_background_list_v2' LANGUAGE C;

-- The 1.8 objects, then those of 1.9 and 1.10.  Everything from
-- "Administration helpers" on is identical in pg_background--1.10.sql and
-- pg_background--1.9--1.10.sql, except that the base script creates the
-- table and the administration functions with plain CREATE (a new
-- installation must fail rather than take over a function of the same
-- signature that already exists in the target schema), while the update
-- creates the table IF NOT EXISTS and replaces the functions of 1.9.

-- 1.8: this session's counters.
CREATE TYPE pg_background_stats AS (
    workers_launched  pg_catalog.int8,
    workers_completed pg_catalog.int8,
    workers_failed    pg_catalog.int8,
    workers_canceled  pg_catalog.int8,
    workers_active    pg_catalog.int4,
    avg_execution_ms  pg_catalog.float8,
    max_workers       pg_catalog.int4
);

CREATE FUNCTION pg_background_stats_v2()
    RETURNS pg_background_stats
    AS 'MODULE_PATHNAME', 'pg_background_stats_v2' LANGUAGE C;

-- 1.8: progress reported by the SQL a worker runs, read by its launcher.
CREATE TYPE pg_background_progress AS (
    progress_pct pg_catalog.int4,
    progress_msg pg_catalog.text
);

-- Not STRICT: msg may be NULL.
CREATE FUNCTION pg_background_progress(pct pg_catalog.int4,
                                       msg pg_catalog.text DEFAULT NULL)
    RETURNS pg_catalog.void
    AS 'MODULE_PATHNAME', 'pg_background_progress' LANGUAGE C;

CREATE FUNCTION pg_background_get_progress_v2(pid pg_catalog.int4,
                                              cookie pg_catalog.int8)
    RETURNS pg_background_progress STRICT
    AS 'MODULE_PATHNAME', 'pg_background_get_progress_v2' LANGUAGE C;

-- 1.9: what a worker's result looks like, read without consuming it.
CREATE TYPE pg_background_result_info AS (
    row_count   pg_catalog.int8,
    command_tag pg_catalog.text,
    completed   pg_catalog.bool,
    has_error   pg_catalog.bool
);

-- 1.9: the error a worker raised, field by field.
CREATE TYPE pg_background_error AS (
    sqlstate pg_catalog.text,
    message  pg_catalog.text,
    detail   pg_catalog.text,
    hint     pg_catalog.text,
    context  pg_catalog.text
);

-- 1.9: launch and submit with a label (at most 64 bytes), shown by
-- pg_background_list_v2() and in the worker's application_name.  Not STRICT:
-- the label may be NULL (no label), and so may queue_size (the default).
CREATE FUNCTION pg_background_launch_v2(sql pg_catalog.text,
                                        queue_size pg_catalog.int4,
                                        label pg_catalog.text)
    RETURNS pg_background_handle
    AS 'MODULE_PATHNAME', 'pg_background_launch_v2_1_9' LANGUAGE C;

CREATE FUNCTION pg_background_submit_v2(sql pg_catalog.text,
                                        queue_size pg_catalog.int4,
                                        label pg_catalog.text)
    RETURNS pg_background_handle
    AS 'MODULE_PATHNAME', 'pg_background_submit_v2_1_9' LANGUAGE C;

CREATE FUNCTION pg_background_result_info_v2(pid pg_catalog.int4,
                                             cookie pg_catalog.int8)
    RETURNS pg_background_result_info STRICT
    AS 'MODULE_PATHNAME', 'pg_background_result_info_v2' LANGUAGE C;

-- NULL when the worker raised no error.
CREATE FUNCTION pg_background_error_info_v2(pid pg_catalog.int4,
                                            cookie pg_catalog.int8)
    RETURNS pg_background_error STRICT
    AS 'MODULE_PATHNAME', 'pg_background_error_info_v2' LANGUAGE C;

-- Both return how many of this session's handles they acted on.
CREATE FUNCTION pg_background_detach_all_v2()
    RETURNS pg_catalog.int4
    AS 'MODULE_PATHNAME', 'pg_background_detach_all_v2' LANGUAGE C;

CREATE FUNCTION pg_background_cancel_all_v2()
    RETURNS pg_catalog.int4
    AS 'MODULE_PATHNAME', 'pg_background_cancel_all_v2' LANGUAGE C;

-- 1.10: the list without a column definition list, and joined with
-- pg_stat_activity.  Each shows the current user's workers of this session,
-- as pg_background_list_v2() does.
CREATE VIEW pg_background_list AS
SELECT l.pid, l.cookie, l.launched_at, l.user_id, l.queue_size, l.state,
       l.sql_preview, l.last_error, l.consumed, l.label
  FROM pg_background_list_v2()
       AS l(pid pg_catalog.int4, cookie pg_catalog.int8,
            launched_at pg_catalog.timestamptz, user_id pg_catalog.oid,
            queue_size pg_catalog.int4, state pg_catalog.text,
            sql_preview pg_catalog.text, last_error pg_catalog.text,
            consumed pg_catalog.bool, label pg_catalog.text);

CREATE VIEW pg_background_activity AS
SELECT l.pid, l.cookie, l.launched_at, l.user_id, l.queue_size,
       l.state AS pgbg_state, l.sql_preview, l.last_error, l.consumed, l.label,
       s.state AS backend_state, s.wait_event_type, s.wait_event,
       s.xact_start, s.query_start, s.backend_start, s.query
  FROM pg_background_list l
  LEFT JOIN pg_catalog.pg_stat_activity s ON s.pid OPERATOR(pg_catalog.=) l.pid;

-- 1.10: a handle's state, result information and error in one row.
CREATE TYPE pg_background_outcome AS (
    pid           pg_catalog.int4,
    cookie        pg_catalog.int8,
    state         pg_catalog.text,
    consumed      pg_catalog.bool,
    completed     pg_catalog.bool,
    has_error     pg_catalog.bool,
    row_count     pg_catalog.int8,
    command_tag   pg_catalog.text,
    sqlstate      pg_catalog.text,
    error_message pg_catalog.text,
    label         pg_catalog.text,
    launched_at   pg_catalog.timestamptz
);

-- 1.10: what pg_background_run_v2 returns.
CREATE TYPE pg_background_run_result AS (
    pid           pg_catalog.int4,
    completed     pg_catalog.bool,
    timed_out     pg_catalog.bool,
    has_error     pg_catalog.bool,
    row_count     pg_catalog.int8,
    command_tag   pg_catalog.text,
    sqlstate      pg_catalog.text,
    error_message pg_catalog.text,
    elapsed_ms    pg_catalog.int8
);

-- Never raises for a bad handle: its columns other than pid and cookie are NULL.
CREATE FUNCTION pg_background_outcome_v2(p_pid pg_catalog.int4,
                                         p_cookie pg_catalog.int8)
    RETURNS pg_background_outcome
    AS 'MODULE_PATHNAME', 'pg_background_outcome_v2' LANGUAGE C;

-- Launch, wait (timeout_ms 0: no limit), collect the outcome, detach.
CREATE FUNCTION pg_background_run_v2(sql pg_catalog.text,
                                     queue_size pg_catalog.int4 DEFAULT 0,
                                     timeout_ms pg_catalog.int4 DEFAULT 0,
                                     label pg_catalog.text DEFAULT NULL)
    RETURNS pg_background_run_result
    AS 'MODULE_PATHNAME', 'pg_background_run_v2' LANGUAGE C;

-- The same, returning the rows (call it with a column definition list).
CREATE FUNCTION pg_background_run_query_v2(sql pg_catalog.text,
                                           queue_size pg_catalog.int4 DEFAULT 0,
                                           timeout_ms pg_catalog.int4 DEFAULT 0,
                                           label pg_catalog.text DEFAULT NULL,
                                           col_def pg_catalog.text DEFAULT NULL)
    RETURNS SETOF pg_catalog.record
    AS 'MODULE_PATHNAME', 'pg_background_run_query_v2' LANGUAGE C;

-- One outcome per handle, one time budget for all of them.
CREATE FUNCTION pg_background_drain_v2(handles pg_background_handle[],
                                       timeout_ms pg_catalog.int4 DEFAULT 0)
    RETURNS SETOF pg_background_outcome
    AS 'MODULE_PATHNAME', 'pg_background_drain_v2' LANGUAGE C;

-- The first handle whose worker ends, or NULL at the timeout.
CREATE FUNCTION pg_background_wait_any_v2(handles pg_background_handle[],
                                          timeout_ms pg_catalog.int4 DEFAULT 0)
    RETURNS pg_background_handle
    AS 'MODULE_PATHNAME', 'pg_background_wait_any_v2' LANGUAGE C;

CREATE FUNCTION pg_background_cancel_by_label_v2(pattern pg_catalog.text,
                                                 grace_ms pg_catalog.int4 DEFAULT 0)
    RETURNS pg_catalog.int4
    AS 'MODULE_PATHNAME', 'pg_background_cancel_by_label_v2' LANGUAGE C;

CREATE FUNCTION pg_background_status_v2(p_pid pg_catalog.int4,
                                        p_cookie pg_catalog.int8)
    RETURNS pg_catalog.jsonb
    AS 'MODULE_PATHNAME', 'pg_background_status_v2_1_10' LANGUAGE C;

CREATE FUNCTION pg_background_purge_v2()
    RETURNS pg_catalog.int4
    AS 'MODULE_PATHNAME', 'pg_background_purge_v2' LANGUAGE C;

CREATE FUNCTION pg_background_full_sql_v2(pid pg_catalog.int4,
                                          cookie pg_catalog.int8)
    RETURNS pg_catalog.text STRICT
    AS 'MODULE_PATHNAME', 'pg_background_full_sql_v2' LANGUAGE C;

-- Administration helpers.  They run as the extension's owner (SECURITY
-- DEFINER) with a pinned search_path; every reference is schema-qualified.
-- From 1.8 on they find what to manage in the catalog: EXECUTE on every
-- function that belongs to the extension except the three administration
-- functions, USAGE on every composite type of the extension, SELECT on every
-- view of the extension (1.10), and USAGE on the extension's schema unless
-- PUBLIC has it already.  So they cover every
-- object, in whatever schema the extension was installed.  The grant helper
-- grants only what the role does not hold yet and records it in
-- pg_background_helper_grants; the revoke helper takes back only what is
-- recorded there (issue: it used to strip a role's own, earlier USAGE on the
-- extension's schema).  They never raise: on failure they report the reason
-- in a NOTICE and return false.

-- What the grant helper granted.  grant_pg_background_privileges grants a
-- role only the privileges it does not hold yet, and records each one it
-- adds here; revoke_pg_background_privileges takes back only what is
-- recorded for the role, so a privilege the role held before (say USAGE on
-- the extension's schema, granted by its owner) survives grant + revoke.
-- Objects are named without their schema (a function by name and argument
-- types, the extension's own types among these unqualified too, 1.10), a
-- role by regrole, so that the rows survive ALTER EXTENSION ... SET
-- SCHEMA, pg_dump and pg_upgrade.  Only the extension's owner may read or
-- write it (the helpers run as that owner).  pg_dump dumps its rows, except
-- those of pgbackground_role, which CREATE EXTENSION records again.
CREATE TABLE pg_background_helper_grants (
    grantee     pg_catalog.regrole NOT NULL,
    object_kind pg_catalog.text NOT NULL,   -- SCHEMA, FUNCTION, TYPE or VIEW
    object_name pg_catalog.text NOT NULL,   -- schema name, name(argument types) or type name
    privilege   pg_catalog.text NOT NULL,   -- USAGE, EXECUTE or SELECT
    PRIMARY KEY (grantee, object_kind, object_name, privilege)
);
SELECT pg_catalog.pg_extension_config_dump('pg_background_helper_grants',
    'WHERE grantee::pg_catalog.text OPERATOR(pg_catalog.<>) ''pgbackground_role''');

CREATE FUNCTION grant_pg_background_privileges(role_name pg_catalog.text,
                                               print_commands pg_catalog.bool DEFAULT false)
    RETURNS pg_catalog.bool
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $function$
DECLARE
    role_oid    pg_catalog.oid;
    ext_oid     pg_catalog.oid;
    ext_schema  pg_catalog.oid;
    ext_nspname pg_catalog.name;
    grants      pg_catalog.text;
    obj         record;
    cmd         pg_catalog.text;
BEGIN
    IF role_name IS NULL THEN
        RAISE NOTICE 'grant_pg_background_privileges: role name must not be NULL';
        RETURN false;
    END IF;

    SELECT r.oid INTO role_oid
      FROM pg_catalog.pg_roles r
     WHERE r.rolname = role_name;
    IF NOT FOUND THEN
        RAISE NOTICE 'grant_pg_background_privileges: role "%" does not exist', role_name;
        RETURN false;
    END IF;

    SELECT e.oid, e.extnamespace, n.nspname,
           pg_catalog.format('%I.pg_background_helper_grants', n.nspname)
      INTO ext_oid, ext_schema, ext_nspname, grants
      FROM pg_catalog.pg_extension e
      JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace
     WHERE e.extname = 'pg_background';
    IF NOT FOUND THEN
        RAISE NOTICE 'grant_pg_background_privileges: extension "pg_background" is not installed';
        RETURN false;
    END IF;

    -- Forget the roles dropped since (DROP OWNED BY + DROP ROLE).
    EXECUTE pg_catalog.format('DELETE FROM %s g WHERE NOT EXISTS '
                              '(SELECT 1 FROM pg_catalog.pg_roles r WHERE r.oid = g.grantee)',
                              grants);

    -- Only what the role does not hold yet (directly, from any grantor),
    -- and record each privilege added.
    FOR obj IN
        SELECT o.kind, o.name, o.privilege, o.target
          FROM (SELECT 1 AS ord, 'SCHEMA'::pg_catalog.text AS kind,
                       n.nspname::pg_catalog.text AS name,
                       'USAGE'::pg_catalog.text AS privilege,
                       pg_catalog.format('SCHEMA %I', n.nspname) AS target,
                       COALESCE(n.nspacl, pg_catalog.acldefault('n', n.nspowner)) AS acl
                  FROM pg_catalog.pg_namespace n
                 WHERE n.oid = ext_schema
                   AND NOT EXISTS (SELECT 1
                                     FROM pg_catalog.aclexplode(COALESCE(
                                              n.nspacl,
                                              pg_catalog.acldefault('n', n.nspowner))) a
                                    WHERE a.grantee = 0
                                      AND a.privilege_type = 'USAGE')
                UNION ALL
                SELECT 2 AS ord, 'FUNCTION'::pg_catalog.text AS kind,
                       p.proname::pg_catalog.text OPERATOR(pg_catalog.||) '(' OPERATOR(pg_catalog.||)
                       pg_catalog.replace(pg_catalog.oidvectortypes(p.proargtypes),
                                          pg_catalog.quote_ident(ext_nspname) OPERATOR(pg_catalog.||) '.',
                                          '') OPERATOR(pg_catalog.||) ')' AS name,
                       'EXECUTE'::pg_catalog.text AS privilege,
                       'FUNCTION ' OPERATOR(pg_catalog.||)
                       p.oid::pg_catalog.regprocedure::pg_catalog.text AS target,
                       COALESCE(p.proacl, pg_catalog.acldefault('f', p.proowner)) AS acl
                  FROM pg_catalog.pg_depend d
                  JOIN pg_catalog.pg_proc p ON p.oid = d.objid
                 WHERE d.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass
                   AND d.refclassid = 'pg_catalog.pg_extension'::pg_catalog.regclass
                   AND d.refobjid = ext_oid
                   AND d.deptype = 'e'
                   AND p.proname NOT IN ('grant_pg_background_privileges',
                                         'revoke_pg_background_privileges',
                                         'pg_background_drop_executor_role')
                UNION ALL
                SELECT 3, 'TYPE', t.typname::pg_catalog.text, 'USAGE',
                       'TYPE ' OPERATOR(pg_catalog.||)
                       t.oid::pg_catalog.regtype::pg_catalog.text,
                       COALESCE(t.typacl, pg_catalog.acldefault('T', t.typowner))
                  FROM pg_catalog.pg_depend d
                  JOIN pg_catalog.pg_type t ON t.oid = d.objid
                 WHERE d.classid = 'pg_catalog.pg_type'::pg_catalog.regclass
                   AND d.refclassid = 'pg_catalog.pg_extension'::pg_catalog.regclass
                   AND d.refobjid = ext_oid
                   AND d.deptype = 'e'
                   AND t.typtype = 'c'
                   -- not a table's or view's row type (members on PG 18)
                   AND (SELECT c.relkind FROM pg_catalog.pg_class c
                         WHERE c.oid = t.typrelid) = 'c'
                UNION ALL
                SELECT 4, 'VIEW', c.relname::pg_catalog.text, 'SELECT',
                       'TABLE ' OPERATOR(pg_catalog.||)
                       c.oid::pg_catalog.regclass::pg_catalog.text,
                       COALESCE(c.relacl, pg_catalog.acldefault('r', c.relowner))
                  FROM pg_catalog.pg_depend d
                  JOIN pg_catalog.pg_class c ON c.oid = d.objid
                 WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
                   AND d.refclassid = 'pg_catalog.pg_extension'::pg_catalog.regclass
                   AND d.refobjid = ext_oid
                   AND d.deptype = 'e'
                   AND c.relkind = 'v') AS o
         WHERE NOT EXISTS (SELECT 1
                             FROM pg_catalog.aclexplode(o.acl) a
                            WHERE a.grantee = role_oid
                              AND a.privilege_type = o.privilege)
         ORDER BY o.ord, o.name
    LOOP
        cmd := pg_catalog.format('GRANT %s ON %s TO %I',
                                 obj.privilege, obj.target, role_name);
        IF print_commands THEN
            RAISE INFO '%', cmd;
        END IF;
        EXECUTE cmd;
        EXECUTE pg_catalog.format('INSERT INTO %s (grantee, object_kind, object_name, privilege) '
                                  'VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING', grants)
          USING role_oid::pg_catalog.regrole, obj.kind, obj.name, obj.privilege;
    END LOOP;

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
    role_oid    pg_catalog.oid;
    ext_oid     pg_catalog.oid;
    ext_schema  pg_catalog.oid;
    ext_nspname pg_catalog.name;
    grants      pg_catalog.text;
    rec_kind    pg_catalog.text[];
    rec_name    pg_catalog.text[];
    rec_priv    pg_catalog.text[];
    obj         record;
    cmd         pg_catalog.text;
BEGIN
    IF role_name IS NULL THEN
        RAISE NOTICE 'revoke_pg_background_privileges: role name must not be NULL';
        RETURN false;
    END IF;

    SELECT r.oid INTO role_oid
      FROM pg_catalog.pg_roles r
     WHERE r.rolname = role_name;
    IF NOT FOUND THEN
        RAISE NOTICE 'revoke_pg_background_privileges: role "%" does not exist', role_name;
        RETURN false;
    END IF;

    SELECT e.oid, e.extnamespace, n.nspname,
           pg_catalog.format('%I.pg_background_helper_grants', n.nspname)
      INTO ext_oid, ext_schema, ext_nspname, grants
      FROM pg_catalog.pg_extension e
      JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace
     WHERE e.extname = 'pg_background';
    IF NOT FOUND THEN
        RAISE NOTICE 'revoke_pg_background_privileges: extension "pg_background" is not installed';
        RETURN false;
    END IF;

    -- Forget the roles dropped since (DROP OWNED BY + DROP ROLE).
    EXECUTE pg_catalog.format('DELETE FROM %s g WHERE NOT EXISTS '
                              '(SELECT 1 FROM pg_catalog.pg_roles r WHERE r.oid = g.grantee)',
                              grants);

    -- What grant_pg_background_privileges recorded for the role, and nothing
    -- else; a privilege the role no longer holds is skipped.
    EXECUTE pg_catalog.format('SELECT pg_catalog.array_agg(g.object_kind), '
                              'pg_catalog.array_agg(g.object_name), '
                              'pg_catalog.array_agg(g.privilege) '
                              'FROM %s g WHERE g.grantee = $1', grants)
       INTO rec_kind, rec_name, rec_priv
      USING role_oid;

    FOR obj IN
        SELECT o.privilege, o.target
          FROM ROWS FROM (pg_catalog.unnest(rec_kind), pg_catalog.unnest(rec_name),
                         pg_catalog.unnest(rec_priv)) AS g(kind, name, privilege)
          JOIN (SELECT 1 AS ord, 'SCHEMA'::pg_catalog.text AS kind,
                       n.nspname::pg_catalog.text AS name,
                       'USAGE'::pg_catalog.text AS privilege,
                       pg_catalog.format('SCHEMA %I', n.nspname) AS target,
                       COALESCE(n.nspacl, pg_catalog.acldefault('n', n.nspowner)) AS acl
                  FROM pg_catalog.pg_namespace n
                UNION ALL
                SELECT 2 AS ord, 'FUNCTION'::pg_catalog.text AS kind,
                       p.proname::pg_catalog.text OPERATOR(pg_catalog.||) '(' OPERATOR(pg_catalog.||)
                       pg_catalog.replace(pg_catalog.oidvectortypes(p.proargtypes),
                                          pg_catalog.quote_ident(ext_nspname) OPERATOR(pg_catalog.||) '.',
                                          '') OPERATOR(pg_catalog.||) ')' AS name,
                       'EXECUTE'::pg_catalog.text AS privilege,
                       'FUNCTION ' OPERATOR(pg_catalog.||)
                       p.oid::pg_catalog.regprocedure::pg_catalog.text AS target,
                       COALESCE(p.proacl, pg_catalog.acldefault('f', p.proowner)) AS acl
                  FROM pg_catalog.pg_depend d
                  JOIN pg_catalog.pg_proc p ON p.oid = d.objid
                 WHERE d.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass
                   AND d.refclassid = 'pg_catalog.pg_extension'::pg_catalog.regclass
                   AND d.refobjid = ext_oid
                   AND d.deptype = 'e'
                   AND p.proname NOT IN ('grant_pg_background_privileges',
                                         'revoke_pg_background_privileges',
                                         'pg_background_drop_executor_role')
                UNION ALL
                SELECT 3, 'TYPE', t.typname::pg_catalog.text, 'USAGE',
                       'TYPE ' OPERATOR(pg_catalog.||)
                       t.oid::pg_catalog.regtype::pg_catalog.text,
                       COALESCE(t.typacl, pg_catalog.acldefault('T', t.typowner))
                  FROM pg_catalog.pg_depend d
                  JOIN pg_catalog.pg_type t ON t.oid = d.objid
                 WHERE d.classid = 'pg_catalog.pg_type'::pg_catalog.regclass
                   AND d.refclassid = 'pg_catalog.pg_extension'::pg_catalog.regclass
                   AND d.refobjid = ext_oid
                   AND d.deptype = 'e'
                   AND t.typtype = 'c'
                   -- not a table's or view's row type (members on PG 18)
                   AND (SELECT c.relkind FROM pg_catalog.pg_class c
                         WHERE c.oid = t.typrelid) = 'c'
                UNION ALL
                SELECT 4, 'VIEW', c.relname::pg_catalog.text, 'SELECT',
                       'TABLE ' OPERATOR(pg_catalog.||)
                       c.oid::pg_catalog.regclass::pg_catalog.text,
                       COALESCE(c.relacl, pg_catalog.acldefault('r', c.relowner))
                  FROM pg_catalog.pg_depend d
                  JOIN pg_catalog.pg_class c ON c.oid = d.objid
                 WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
                   AND d.refclassid = 'pg_catalog.pg_extension'::pg_catalog.regclass
                   AND d.refobjid = ext_oid
                   AND d.deptype = 'e'
                   AND c.relkind = 'v') AS o
            ON o.kind = g.kind AND o.name = g.name AND o.privilege = g.privilege
         WHERE EXISTS (SELECT 1
                         FROM pg_catalog.aclexplode(o.acl) a
                        WHERE a.grantee = role_oid
                          AND a.privilege_type = o.privilege)
         ORDER BY o.ord DESC, o.name DESC
    LOOP
        cmd := pg_catalog.format('REVOKE %s ON %s FROM %I',
                                 obj.privilege, obj.target, role_name);
        IF print_commands THEN
            RAISE INFO '%', cmd;
        END IF;
        EXECUTE cmd;
    END LOOP;

    EXECUTE pg_catalog.format('DELETE FROM %s g WHERE g.grantee = $1', grants)
      USING role_oid;

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
    ext_nsp     pg_catalog.oid;
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

    SELECT e.oid, n.oid, n.nspname INTO STRICT ext_oid, ext_nsp, ext_schema
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
    -- the initial privileges of this extension's objects by hand.  The same
    -- goes for the extension's schema: unless everyone may use it, the
    -- installation script granted USAGE on it to the role, and PostgreSQL
    -- before 17 records that grant as an initial privilege of the schema too.
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
       AND (EXISTS (SELECT 1
                      FROM pg_catalog.pg_depend d
                     WHERE d.classid OPERATOR(pg_catalog.=) ip.classoid
                       AND d.objid OPERATOR(pg_catalog.=) ip.objoid
                       AND d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_extension'::pg_catalog.regclass
                       AND d.refobjid OPERATOR(pg_catalog.=) ext_oid
                       AND d.deptype OPERATOR(pg_catalog.=) 'e')
            OR (ip.classoid OPERATOR(pg_catalog.=) 'pg_catalog.pg_namespace'::pg_catalog.regclass
                AND ip.objoid OPERATOR(pg_catalog.=) ext_nsp))
       AND EXISTS (SELECT 1
                     FROM pg_catalog.aclexplode(ip.initprivs) AS x
                    WHERE x.grantee OPERATOR(pg_catalog.=) role_oid);
    END IF;

    DROP ROLE pgbackground_role;
END;
$function$;

-- Privileges.  PUBLIC gets nothing on any object of the extension.
DO $do$
DECLARE
    cmd pg_catalog.text;
BEGIN
    FOR cmd IN
        SELECT CASE WHEN d.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass
                    THEN 'REVOKE ALL ON FUNCTION ' OPERATOR(pg_catalog.||)
                         d.objid::pg_catalog.regprocedure::pg_catalog.text OPERATOR(pg_catalog.||)
                         ' FROM PUBLIC'
                    WHEN d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
                    THEN 'REVOKE ALL ON TABLE ' OPERATOR(pg_catalog.||)
                         d.objid::pg_catalog.regclass::pg_catalog.text OPERATOR(pg_catalog.||)
                         ' FROM PUBLIC'
                    ELSE 'REVOKE ALL ON TYPE ' OPERATOR(pg_catalog.||)
                         d.objid::pg_catalog.regtype::pg_catalog.text OPERATOR(pg_catalog.||)
                         ' FROM PUBLIC'
               END
          FROM pg_catalog.pg_depend d
          JOIN pg_catalog.pg_extension e ON e.oid = d.refobjid
         WHERE d.refclassid = 'pg_catalog.pg_extension'::pg_catalog.regclass
           AND d.deptype = 'e'
           AND e.extname = 'pg_background'
           AND (d.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass
                OR (d.classid = 'pg_catalog.pg_type'::pg_catalog.regclass
                    AND EXISTS (SELECT 1 FROM pg_catalog.pg_type t
                                 WHERE t.oid = d.objid AND t.typtype = 'c'
                                   AND (SELECT c.relkind FROM pg_catalog.pg_class c
                                         WHERE c.oid = t.typrelid) = 'c'))
                OR (d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
                    AND EXISTS (SELECT 1 FROM pg_catalog.pg_class c
                                 WHERE c.oid = d.objid AND c.relkind = 'v')))
         ORDER BY 1
    LOOP
        EXECUTE cmd;
    END LOOP;
END;
$do$;

-- The executor role: a NOLOGIN role holding every API privilege (never the
-- administration functions).  Grant it to the users who may run background
-- workers.  It is left alone if it exists already.
DO $do$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles r
                    WHERE r.rolname OPERATOR(pg_catalog.=) 'pgbackground_role') THEN
        CREATE ROLE pgbackground_role NOLOGIN;
    END IF;
    IF NOT grant_pg_background_privileges('pgbackground_role') THEN
        RAISE EXCEPTION 'could not grant the pg_background privileges to role "pgbackground_role"';
    END IF;
END;
$do$;

-- pgbackground_role is the extension's own role: every privilege it holds on
-- the extension's functions, types and views was granted by an installation or
-- update script (earlier versions granted them without recording), so record
-- them all; revoke_pg_background_privileges('pgbackground_role') and
-- pg_background_drop_executor_role() then take them back.
INSERT INTO pg_background_helper_grants (grantee, object_kind, object_name, privilege)
SELECT a.grantee::pg_catalog.regrole, o.kind, o.name, a.privilege_type
  FROM (SELECT 'FUNCTION'::pg_catalog.text AS kind,
               p.proname::pg_catalog.text OPERATOR(pg_catalog.||) '(' OPERATOR(pg_catalog.||)
               pg_catalog.replace(pg_catalog.oidvectortypes(p.proargtypes),
                                  pg_catalog.quote_ident(n.nspname) OPERATOR(pg_catalog.||) '.',
                                  '') OPERATOR(pg_catalog.||) ')' AS name,
               p.proacl AS acl
          FROM pg_catalog.pg_depend d
          JOIN pg_catalog.pg_extension e ON e.oid OPERATOR(pg_catalog.=) d.refobjid
          JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) e.extnamespace
          JOIN pg_catalog.pg_proc p ON p.oid OPERATOR(pg_catalog.=) d.objid
         WHERE d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_proc'::pg_catalog.regclass
           AND d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_extension'::pg_catalog.regclass
           AND d.deptype OPERATOR(pg_catalog.=) 'e'
           AND e.extname OPERATOR(pg_catalog.=) 'pg_background'
        UNION ALL
        SELECT 'TYPE', t.typname::pg_catalog.text, t.typacl
          FROM pg_catalog.pg_depend d
          JOIN pg_catalog.pg_extension e ON e.oid OPERATOR(pg_catalog.=) d.refobjid
          JOIN pg_catalog.pg_type t ON t.oid OPERATOR(pg_catalog.=) d.objid
         WHERE d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_type'::pg_catalog.regclass
           AND d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_extension'::pg_catalog.regclass
           AND d.deptype OPERATOR(pg_catalog.=) 'e'
           AND e.extname OPERATOR(pg_catalog.=) 'pg_background'
           AND t.typtype OPERATOR(pg_catalog.=) 'c'
           AND (SELECT c.relkind FROM pg_catalog.pg_class c
                 WHERE c.oid OPERATOR(pg_catalog.=) t.typrelid) OPERATOR(pg_catalog.=) 'c'
        UNION ALL
        SELECT 'VIEW', c.relname::pg_catalog.text, c.relacl
          FROM pg_catalog.pg_depend d
          JOIN pg_catalog.pg_extension e ON e.oid OPERATOR(pg_catalog.=) d.refobjid
          JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) d.objid
         WHERE d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass
           AND d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_extension'::pg_catalog.regclass
           AND d.deptype OPERATOR(pg_catalog.=) 'e'
           AND e.extname OPERATOR(pg_catalog.=) 'pg_background'
           AND c.relkind OPERATOR(pg_catalog.=) 'v') AS o,
       pg_catalog.aclexplode(o.acl) a
 WHERE a.grantee OPERATOR(pg_catalog.=) (SELECT r.oid FROM pg_catalog.pg_roles r
                                          WHERE r.rolname OPERATOR(pg_catalog.=) 'pgbackground_role')
   AND a.privilege_type OPERATOR(pg_catalog.=) ANY (ARRAY['EXECUTE', 'USAGE', 'SELECT'])
ON CONFLICT DO NOTHING;
