/* pg_background--1.2--1.3.sql */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION pg_background UPDATE TO '1.3'" to load this file. \quit

-- Version 1.3 adds two helpers that grant or revoke EXECUTE on the v1
-- functions.  Their argument is named user_name, as published; 1.6 renames
-- it to role_name.  Unlike the published scripts they pin search_path, look
-- the extension's schema up at run time, and revoke only what they granted
-- (recorded in the table pg_background_helper_grants, created here).

-- What the grant helper granted.  grant_pg_background_privileges grants a
-- role only the privileges it does not hold yet, and records each one it
-- adds here; revoke_pg_background_privileges takes back only what is
-- recorded for the role, so a privilege the role held before (say USAGE on
-- the extension's schema, granted by its owner) survives grant + revoke.
-- Objects are named without their schema (a function by name and argument
-- types), a role by regrole, so that the rows survive ALTER EXTENSION ... SET
-- SCHEMA, pg_dump and pg_upgrade.  Only the extension's owner may read or
-- write it (the helpers run as that owner).  pg_dump dumps its rows, except
-- those of pgbackground_role, which CREATE EXTENSION records again.
CREATE TABLE pg_background_helper_grants (
    grantee     pg_catalog.regrole NOT NULL,
    object_kind pg_catalog.text NOT NULL,   -- SCHEMA, FUNCTION or TYPE
    object_name pg_catalog.text NOT NULL,   -- schema name, name(argument types) or type name
    privilege   pg_catalog.text NOT NULL,   -- USAGE or EXECUTE
    PRIMARY KEY (grantee, object_kind, object_name, privilege)
);
SELECT pg_catalog.pg_extension_config_dump('pg_background_helper_grants',
    'WHERE grantee::pg_catalog.text OPERATOR(pg_catalog.<>) ''pgbackground_role''');

CREATE FUNCTION grant_pg_background_privileges(user_name pg_catalog.text,
                                               print_commands pg_catalog.bool DEFAULT false)
    RETURNS pg_catalog.bool
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $function$
DECLARE
    role_name   pg_catalog.text := user_name;
    role_oid    pg_catalog.oid;
    ext_oid     pg_catalog.oid;
    grants      pg_catalog.text;
    obj         record;
    cmd         pg_catalog.text;
BEGIN
    SELECT r.oid INTO role_oid
      FROM pg_catalog.pg_roles r
     WHERE r.rolname = role_name;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'role "%" does not exist', role_name
              USING ERRCODE = 'undefined_object';
    END IF;

    SELECT e.oid, pg_catalog.format('%I.pg_background_helper_grants', n.nspname)
      INTO STRICT ext_oid, grants
      FROM pg_catalog.pg_extension e
      JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace
     WHERE e.extname = 'pg_background';

    -- Forget the roles dropped since (DROP OWNED BY + DROP ROLE).
    EXECUTE pg_catalog.format('DELETE FROM %s g WHERE NOT EXISTS '
                              '(SELECT 1 FROM pg_catalog.pg_roles r WHERE r.oid = g.grantee)',
                              grants);

    -- Only what the role does not hold yet (directly, from any grantor),
    -- and record each privilege added.
    FOR obj IN
        SELECT o.kind, o.name, o.privilege, o.target
          FROM (SELECT 2 AS ord, 'FUNCTION'::pg_catalog.text AS kind,
                       p.proname::pg_catalog.text OPERATOR(pg_catalog.||) '(' OPERATOR(pg_catalog.||)
                       pg_catalog.oidvectortypes(p.proargtypes) OPERATOR(pg_catalog.||) ')' AS name,
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
                   AND t.typtype = 'c') AS o
         WHERE NOT EXISTS (SELECT 1
                             FROM pg_catalog.aclexplode(o.acl) a
                            WHERE a.grantee = role_oid
                              AND a.privilege_type = o.privilege)
         ORDER BY o.ord, o.name
    LOOP
        cmd := pg_catalog.format('GRANT %s ON %s TO %I',
                                 obj.privilege, obj.target, role_name);
        EXECUTE cmd;
        IF print_commands THEN
            RAISE INFO 'Executed command: %', cmd;
        END IF;
        EXECUTE pg_catalog.format('INSERT INTO %s (grantee, object_kind, object_name, privilege) '
                                  'VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING', grants)
          USING role_oid::pg_catalog.regrole, obj.kind, obj.name, obj.privilege;
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
    SET search_path = pg_catalog, pg_temp
AS $function$
DECLARE
    role_name   pg_catalog.text := user_name;
    role_oid    pg_catalog.oid;
    ext_oid     pg_catalog.oid;
    grants      pg_catalog.text;
    rec_kind    pg_catalog.text[];
    rec_name    pg_catalog.text[];
    rec_priv    pg_catalog.text[];
    obj         record;
    cmd         pg_catalog.text;
BEGIN
    SELECT r.oid INTO role_oid
      FROM pg_catalog.pg_roles r
     WHERE r.rolname = role_name;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'role "%" does not exist', role_name
              USING ERRCODE = 'undefined_object';
    END IF;

    SELECT e.oid, pg_catalog.format('%I.pg_background_helper_grants', n.nspname)
      INTO STRICT ext_oid, grants
      FROM pg_catalog.pg_extension e
      JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace
     WHERE e.extname = 'pg_background';

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
                       pg_catalog.oidvectortypes(p.proargtypes) OPERATOR(pg_catalog.||) ')' AS name,
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
                   AND t.typtype = 'c') AS o
            ON o.kind = g.kind AND o.name = g.name AND o.privilege = g.privilege
         WHERE EXISTS (SELECT 1
                         FROM pg_catalog.aclexplode(o.acl) a
                        WHERE a.grantee = role_oid
                          AND a.privilege_type = o.privilege)
         ORDER BY o.ord DESC, o.name DESC
    LOOP
        cmd := pg_catalog.format('REVOKE %s ON %s FROM %I',
                                 obj.privilege, obj.target, role_name);
        EXECUTE cmd;
        IF print_commands THEN
            RAISE INFO 'Executed command: %', cmd;
        END IF;
    END LOOP;

    EXECUTE pg_catalog.format('DELETE FROM %s g WHERE g.grantee = $1', grants)
      USING role_oid;

    RETURN true;
EXCEPTION WHEN OTHERS THEN
    RAISE NOTICE 'Error revoking pg_background privileges from %: %', user_name, SQLERRM;
    RETURN false;
END;
$function$;

REVOKE ALL ON FUNCTION grant_pg_background_privileges(pg_catalog.text, pg_catalog.bool) FROM PUBLIC;
REVOKE ALL ON FUNCTION revoke_pg_background_privileges(pg_catalog.text, pg_catalog.bool) FROM PUBLIC;
