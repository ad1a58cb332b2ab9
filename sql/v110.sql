--
-- v110: what version 1.10 adds.
--   1. the objects, their signatures, and who may use them
--   2. views pg_background_list and pg_background_activity
--   3. pg_background_outcome_v2() and pg_background_status_v2(): never raise
--   4. pg_background_run_v2() and pg_background_run_query_v2()
--   5. pg_background_drain_v2(): one budget for all handles
--   6. pg_background_wait_any_v2() (its wake-up time: t/051_wait_any.pl)
--   7. pg_background_cancel_by_label_v2() and pg_background_purge_v2()
--   8. pg_background_full_sql_v2()
--
-- Nothing printed may vary between runs: no PIDs, cookies, OIDs, timestamps
-- or durations.  Workers are held at a known point by advisory locks this
-- session owns, never by timing.
--
\set SHOW_CONTEXT never

\i sql/include/try.sql

\i sql/include/wait_until.sql

CREATE ROLE regress_pgbg_v110_user;
CREATE ROLE regress_pgbg_v110_other;
GRANT pgbackground_role TO regress_pgbg_v110_user;

--
-- 1. The objects of 1.10.
--
SELECT extversion FROM pg_extension WHERE extname = 'pg_background';
SELECT p.proname,
       pg_get_function_arguments(p.oid) AS arguments,
       pg_get_function_result(p.oid) AS result,
       p.proisstrict AS strict, p.proretset AS set
  FROM pg_proc p
  JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid
  JOIN pg_extension e ON d.refclassid = 'pg_extension'::regclass
                     AND d.refobjid = e.oid AND d.deptype = 'e'
 WHERE e.extname = 'pg_background'
   AND p.proname IN ('pg_background_outcome_v2', 'pg_background_run_v2',
                     'pg_background_run_query_v2', 'pg_background_drain_v2',
                     'pg_background_wait_any_v2', 'pg_background_cancel_by_label_v2',
                     'pg_background_status_v2', 'pg_background_purge_v2',
                     'pg_background_full_sql_v2')
 ORDER BY 1, 2;
SELECT c.relname, c.relkind,
       (SELECT string_agg(a.attname || ' ' || format_type(a.atttypid, a.atttypmod),
                          ', ' ORDER BY a.attnum)
          FROM pg_attribute a
         WHERE a.attrelid = c.oid AND a.attnum > 0) AS columns
  FROM pg_class c
 WHERE c.relname IN ('pg_background_outcome', 'pg_background_run_result',
                     'pg_background_list', 'pg_background_activity')
 ORDER BY 1;

-- PUBLIC has nothing on them; pgbackground_role has everything.
SELECT count(*) AS public_privileges
  FROM (SELECT coalesce(p.proacl, acldefault('f', p.proowner)) AS acl
          FROM pg_proc p
         WHERE p.proname IN ('pg_background_outcome_v2', 'pg_background_run_v2',
                             'pg_background_run_query_v2', 'pg_background_drain_v2',
                             'pg_background_wait_any_v2', 'pg_background_cancel_by_label_v2',
                             'pg_background_status_v2', 'pg_background_purge_v2',
                             'pg_background_full_sql_v2')
        UNION ALL
        SELECT coalesce(t.typacl, acldefault('T', t.typowner))
          FROM pg_type t
         WHERE t.typname IN ('pg_background_outcome', 'pg_background_run_result')
        UNION ALL
        SELECT coalesce(c.relacl, acldefault('r', c.relowner))
          FROM pg_class c
         WHERE c.relname IN ('pg_background_list', 'pg_background_activity')) o,
       aclexplode(o.acl) a
 WHERE a.grantee = 0;
SELECT p.proname,
       bool_and(has_function_privilege('pgbackground_role', p.oid, 'EXECUTE')) AS role_exec,
       bool_or(has_function_privilege('regress_pgbg_v110_other', p.oid, 'EXECUTE')) AS other_exec
  FROM pg_proc p
 WHERE p.proname IN ('pg_background_outcome_v2', 'pg_background_run_v2',
                     'pg_background_run_query_v2', 'pg_background_drain_v2',
                     'pg_background_wait_any_v2', 'pg_background_cancel_by_label_v2',
                     'pg_background_status_v2', 'pg_background_purge_v2',
                     'pg_background_full_sql_v2')
 GROUP BY 1 ORDER BY 1;
SELECT has_type_privilege('pgbackground_role', 'pg_background_outcome', 'USAGE') AS outcome,
       has_type_privilege('pgbackground_role', 'pg_background_run_result', 'USAGE') AS run_result,
       has_table_privilege('pgbackground_role', 'pg_background_list', 'SELECT') AS list,
       has_table_privilege('pgbackground_role', 'pg_background_activity', 'SELECT') AS activity,
       has_table_privilege('pgbackground_role', 'pg_background_list', 'INSERT') AS list_insert;

-- The helpers cover the views too: grant, record, revoke.
SELECT grant_pg_background_privileges('regress_pgbg_v110_other');
SELECT has_table_privilege('regress_pgbg_v110_other', 'pg_background_list', 'SELECT') AS list,
       has_table_privilege('regress_pgbg_v110_other', 'pg_background_activity', 'SELECT') AS activity,
       has_function_privilege('regress_pgbg_v110_other', 'pg_background_wait_any_v2(pg_background_handle[], int4)', 'EXECUTE') AS wait_any;
SELECT object_kind, object_name, privilege
  FROM pg_background_helper_grants
 WHERE grantee = 'regress_pgbg_v110_other'::regrole AND object_kind = 'VIEW'
 ORDER BY 2;
-- functions taking the extension's own types are recorded without its schema
SELECT object_name FROM pg_background_helper_grants
 WHERE grantee = 'regress_pgbg_v110_other'::regrole
   AND object_name LIKE '%pg_background_handle[]%'
 ORDER BY 1;
SELECT count(*) AS qualified_names FROM pg_background_helper_grants WHERE object_name LIKE '%.%';
SELECT revoke_pg_background_privileges('regress_pgbg_v110_other');
SELECT has_table_privilege('regress_pgbg_v110_other', 'pg_background_list', 'SELECT') AS list,
       has_table_privilege('regress_pgbg_v110_other', 'pg_background_activity', 'SELECT') AS activity,
       has_function_privilege('regress_pgbg_v110_other', 'pg_background_drain_v2(pg_background_handle[], int4)', 'EXECUTE') AS drain;
-- and after the extension moved to another schema too
CREATE SCHEMA v110_elsewhere;
SELECT grant_pg_background_privileges('regress_pgbg_v110_other');
ALTER EXTENSION pg_background SET SCHEMA v110_elsewhere;
SELECT v110_elsewhere.revoke_pg_background_privileges('regress_pgbg_v110_other');
SELECT has_table_privilege('regress_pgbg_v110_other', 'v110_elsewhere.pg_background_list', 'SELECT') AS list,
       has_function_privilege('regress_pgbg_v110_other',
           'v110_elsewhere.pg_background_wait_any_v2(v110_elsewhere.pg_background_handle[], int4)',
           'EXECUTE') AS wait_any,
       (SELECT count(*) FROM v110_elsewhere.pg_background_helper_grants
         WHERE grantee = 'regress_pgbg_v110_other'::regrole) AS recorded;
ALTER EXTENSION pg_background SET SCHEMA public;
DROP SCHEMA v110_elsewhere;

--
-- 2. The views.
--
SELECT pg_advisory_lock(911001);
SELECT pid AS h1, cookie AS hc1 FROM pg_background_launch_v2(
    'SELECT pg_advisory_xact_lock_shared(911001)', 0, 'view test') \gset
SELECT pg_temp.wait_until(format(
    $$EXISTS (SELECT FROM pg_stat_activity WHERE pid = %s AND wait_event_type = 'Lock')$$, :h1));
SELECT state, sql_preview, label, consumed, last_error FROM pg_background_list;
SELECT pgbg_state, label, backend_state, wait_event_type, wait_event,
       query = sql_preview AS query_is_the_sql, backend_start IS NOT NULL AS started
  FROM pg_background_activity;
-- another role sees only its own workers, as with pg_background_list_v2()
SET ROLE regress_pgbg_v110_user;
SELECT count(*) AS user_sees FROM pg_background_list;
SELECT count(*) AS user_sees FROM pg_background_activity;
RESET ROLE;
-- without a grant: no SELECT
SET ROLE regress_pgbg_v110_other;
SELECT * FROM pg_temp.try('SELECT * FROM pg_background_list');
RESET ROLE;

--
-- 3. outcome_v2 and status_v2 never raise for a bad handle.
--
SELECT pid = :h1 AS pid, state, consumed, completed, has_error, row_count,
       command_tag, sqlstate, error_message, label, launched_at IS NOT NULL AS launched
  FROM pg_background_outcome_v2(:h1, :hc1);
SELECT * FROM pg_background_outcome_v2(0, 42);
SELECT (pg_background_outcome_v2(:h1, :hc1 + 1)).state IS NULL AS wrong_cookie;
SELECT * FROM pg_background_outcome_v2(NULL, NULL);
SELECT pg_background_status_v2(:h1, :hc1) - 'pid' - 'cookie' - 'launched_at' AS status;
SELECT jsonb_typeof(pg_background_status_v2(:h1, :hc1) -> 'launched_at') AS launched_at,
       (pg_background_status_v2(:h1, :hc1) ->> 'pid')::int = :h1 AS pid;
SELECT pg_background_status_v2(0, 42);
-- another user's handle is unknown to them
SET ROLE regress_pgbg_v110_user;
SELECT (pg_background_outcome_v2(:h1, :hc1)).state IS NULL AS not_theirs;
RESET ROLE;
SELECT pg_advisory_unlock(911001);
SELECT pg_background_wait_v2(:h1, :hc1);
SELECT state, consumed, completed, has_error, row_count, command_tag, sqlstate
  FROM pg_background_outcome_v2(:h1, :hc1);
SELECT * FROM pg_background_result_v2(:h1, :hc1) AS (x void);
-- an error
SELECT pid AS h2, cookie AS hc2 FROM pg_background_launch_v2('SELECT 1/0') \gset
SELECT pg_background_wait_v2(:h2, :hc2);
SELECT state, completed, has_error, row_count, command_tag, sqlstate, error_message
  FROM pg_background_outcome_v2(:h2, :hc2);
SELECT pg_background_status_v2(:h2, :hc2) ->> 'sqlstate' AS sqlstate;
SELECT pg_background_detach_v2(:h2, :hc2);

--
-- 4. run_v2 and run_query_v2.
--
SELECT completed, timed_out, has_error, row_count, command_tag, sqlstate,
       error_message, elapsed_ms >= 0 AS elapsed
  FROM pg_background_run_v2('SELECT g FROM generate_series(1, 3) g');
SELECT completed, timed_out, has_error, row_count, command_tag, sqlstate, error_message
  FROM pg_background_run_v2('SELECT 1/0', 0, 0, 'failing');
-- on timeout the worker is canceled: timed_out, not completed, 57014
CREATE TABLE v110_t (x int);
SELECT pid AS rp, completed, timed_out, has_error, sqlstate
  FROM pg_background_run_v2('SELECT pg_sleep(600); INSERT INTO v110_t VALUES (1)', 0, 50) \gset
SELECT :'completed' AS completed, :'timed_out' AS timed_out, :'has_error' AS has_error,
       :'sqlstate' AS sqlstate;
SELECT pg_temp.wait_until(format('NOT EXISTS (SELECT FROM pg_stat_activity WHERE pid = %s)', :rp));
SELECT count(*) AS committed FROM v110_t;
-- nothing left behind
SELECT count(*) AS tracked FROM pg_background_list;
-- arguments: NULL sql gives NULL; a bad label or timeout is refused
SELECT pg_background_run_v2(NULL) IS NULL AS null_sql;
SELECT * FROM pg_temp.try($$SELECT pg_background_run_v2('SELECT 1', 0, 0, repeat('x', 65))$$);
SELECT * FROM pg_temp.try($$SELECT pg_background_run_v2('SELECT 1', 0, -1)$$);
SELECT count(*) AS tracked FROM pg_background_list;

SELECT * FROM pg_background_run_query_v2('SELECT g, g * 2 FROM generate_series(1, 3) g')
    AS (g int, twice int);
SELECT * FROM pg_background_run_query_v2('SELECT 42', 0, 60000, 'rq', 'x int') AS (x int);
SELECT * FROM pg_temp.try($$SELECT * FROM pg_background_run_query_v2('SELECT 1/0') AS (x int)$$);
SELECT * FROM pg_temp.try($$SELECT * FROM pg_background_run_query_v2(
    'SELECT pg_sleep(600); INSERT INTO v110_t VALUES (2)', 0, 50) AS (x text)$$);
SELECT count(*) AS committed FROM v110_t;
SELECT count(*) AS tracked FROM pg_background_list;
SELECT pg_temp.wait_until('(pg_background_stats_v2()).workers_active = 0');

--
-- 5. drain_v2: one outcome per handle, in order; one budget for all.
--
SELECT pg_advisory_lock(911005);
SELECT pid AS d1, cookie AS dc1 FROM pg_background_launch_v2('SELECT 1', 0, 'd1') \gset
SELECT pid AS d2, cookie AS dc2 FROM pg_background_launch_v2('SELECT 1/0', 0, 'd2') \gset
SELECT pid AS d3, cookie AS dc3 FROM pg_background_launch_v2(
    'SELECT pg_advisory_xact_lock_shared(911005)', 0, 'd3') \gset
SELECT pg_background_wait_v2(:d1, :dc1);
SELECT pg_background_wait_v2(:d2, :dc2);
SELECT label, state, completed, has_error, sqlstate, row_count
  FROM pg_background_drain_v2(ARRAY[(:d1, :dc1), NULL, (:d2, :dc2), (:d3, :dc3),
                                    (0, 1)]::pg_background_handle[], 100);
-- the ended ones are detached, the running one kept
SELECT label, state FROM pg_background_list;
SELECT pg_advisory_unlock(911005);
SELECT label, state, completed, has_error
  FROM pg_background_drain_v2(ARRAY[(:d3, :dc3)]::pg_background_handle[]);
SELECT count(*) AS tracked FROM pg_background_list;
SELECT count(*) AS no_rows FROM pg_background_drain_v2(NULL);
SELECT count(*) AS no_rows FROM pg_background_drain_v2('{}');
SELECT * FROM pg_temp.try($$SELECT * FROM pg_background_drain_v2('{}', -1)$$);

--
-- 6. wait_any_v2: the first handle whose worker ended, NULL at the timeout.
--
SELECT pg_advisory_lock(911006);
SELECT pid AS w1, cookie AS wc1 FROM pg_background_launch_v2(
    'SELECT pg_advisory_xact_lock_shared(911006)') \gset
SELECT pid AS w2, cookie AS wc2 FROM pg_background_launch_v2('SELECT 2') \gset
SELECT (h).pid = :w2 AS second_first, (h).cookie = :wc2 AS cookie
  FROM pg_background_wait_any_v2(ARRAY[(:w1, :wc1), (:w2, :wc2)]::pg_background_handle[]) h;
SELECT * FROM pg_background_result_v2(:w2, :wc2) AS (x int);
-- only a running one: NULL at the timeout; bad handles are ignored
SELECT pg_background_wait_any_v2(ARRAY[(:w1, :wc1), (0, 1), NULL]::pg_background_handle[], 50) IS NULL
       AS timed_out;
-- no valid handle at all: 42704, never an endless wait
SELECT * FROM pg_temp.try($$SELECT pg_background_wait_any_v2(ARRAY[(0, 1)]::pg_background_handle[])$$);
SELECT * FROM pg_temp.try($$SELECT pg_background_wait_any_v2('{}')$$);
SELECT * FROM pg_temp.try(format('SELECT pg_background_wait_any_v2(ARRAY[(%s, %s)]::pg_background_handle[])',
                                 :w2, :wc2));
SELECT * FROM pg_temp.try(format('SELECT pg_background_wait_any_v2(ARRAY[(%s, %s)]::pg_background_handle[], -5)',
                                 :w1, :wc1));
SELECT pg_background_wait_any_v2(NULL) IS NULL AS null_array;
-- another user's handle is not valid for them
SET ROLE regress_pgbg_v110_user;
SELECT * FROM pg_temp.try(format('SELECT pg_background_wait_any_v2(ARRAY[(%s, %s)]::pg_background_handle[])',
                                 :w1, :wc1));
RESET ROLE;
SELECT pg_advisory_unlock(911006);
SELECT (pg_background_wait_any_v2(ARRAY[(:w1, :wc1)]::pg_background_handle[], 600000)).pid = :w1 AS ended;
SELECT pg_background_detach_v2(:w1, :wc1);

--
-- 7. cancel_by_label_v2 and purge_v2.
--
SELECT pg_advisory_lock(911007);
SELECT pid AS c1, cookie AS cc1 FROM pg_background_launch_v2(
    'SELECT pg_advisory_xact_lock_shared(911007); INSERT INTO v110_t VALUES (71)', 0, 'etl-1') \gset
SELECT pid AS c2, cookie AS cc2 FROM pg_background_submit_v2(
    'SELECT pg_advisory_xact_lock_shared(911007); INSERT INTO v110_t VALUES (72)', 0, 'etl-2') \gset
SELECT pid AS c3, cookie AS cc3 FROM pg_background_launch_v2(
    'SELECT pg_advisory_xact_lock_shared(911007); INSERT INTO v110_t VALUES (73)', 0, 'other') \gset
SELECT pid AS c4, cookie AS cc4 FROM pg_background_launch_v2('SELECT 4', 0, 'etl-done') \gset
SELECT pg_background_wait_v2(:c4, :cc4);
SELECT pg_background_cancel_by_label_v2('etl-%', 60000) AS canceled;
SELECT label, state FROM pg_background_list ORDER BY label;
SELECT label, sqlstate FROM pg_background_drain_v2(
    ARRAY[(:c1, :cc1), (:c2, :cc2)]::pg_background_handle[]) ORDER BY label;
SELECT pg_background_cancel_by_label_v2(NULL) AS null_pattern,
       pg_background_cancel_by_label_v2('nothing%') AS no_match;
SELECT * FROM pg_temp.try($$SELECT pg_background_cancel_by_label_v2('x', -1)$$);
-- purge: forgets the ended one (etl-done), keeps the running one (other)
SELECT pg_background_purge_v2() AS purged;
SELECT label, state FROM pg_background_list ORDER BY label;
SELECT pg_advisory_unlock(911007);
SELECT pg_background_wait_v2(:c3, :cc3);
SELECT pg_background_purge_v2() AS purged;
SELECT count(*) AS tracked FROM pg_background_list;
SELECT x FROM v110_t ORDER BY x;

--
-- 8. full_sql_v2: the whole SQL, up to 64 KiB, then [...].
--
SELECT pid AS f1, cookie AS fc1 FROM pg_background_launch_v2('SELECT 1 /* short */') \gset
SELECT pg_background_full_sql_v2(:f1, :fc1);
SELECT pid AS f2, cookie AS fc2 FROM pg_background_launch_v2(
    'SELECT 1 /* ' || repeat('x', 70000) || ' */') \gset
SELECT length(s) AS len, right(s, 5) AS marker, left(s, 12) AS head
  FROM pg_background_full_sql_v2(:f2, :fc2) s;
SELECT pid AS f3, cookie AS fc3 FROM pg_background_launch_v2(
    'SELECT 1 /* ' || repeat('y', 65536 - 15) || ' */') \gset
SELECT length(s) AS len, right(s, 3) AS tail FROM pg_background_full_sql_v2(:f3, :fc3) s;
SELECT * FROM pg_temp.try('SELECT pg_background_full_sql_v2(0, 1)');
SELECT pg_background_full_sql_v2(NULL, 1) IS NULL AS null_arg;
SELECT pg_background_detach_all_v2() AS detached;
SELECT pg_temp.wait_until('(pg_background_stats_v2()).workers_active = 0');

--
-- Clean up.
--
DROP TABLE v110_t;
DROP ROLE regress_pgbg_v110_user;
DROP ROLE regress_pgbg_v110_other;
