--
-- v18: what version 1.8 adds.
--   1. GUCs pg_background.max_workers, .default_queue_size, .worker_timeout
--      (the reserved prefix pg_background.: test guc_prefix)
--   2. pg_background_stats_v2(): this session's counters
--   3. queue_size 0 or negative means pg_background.default_queue_size
--   4. pg_background.worker_timeout stops a worker (57014)
--   5. pg_background.max_workers limits this session's running workers (53400)
--   6. pg_background_progress() / pg_background_get_progress_v2()
--   7. CREATE EXTENSION ... SCHEMA app: a complete extension in any schema
--
-- Nothing printed may vary between runs: no PIDs, cookies, OIDs, timestamps
-- or durations.  Errors go through pg_temp.try(), which prints SQLSTATE,
-- message, detail, hint and context with PIDs masked.  Workers are held at a
-- known point by advisory locks this session owns, never by timing.
--
\set SHOW_CONTEXT never

--
-- 1. GUCs.
--
-- Until the library is loaded in a session, PostgreSQL keeps any
-- pg_background.* setting as a placeholder; loading the library checks them:
-- an out-of-range value is reported and the default used.
SET pg_background.max_workers = 1001;
LOAD 'pg_background';
SHOW pg_background.max_workers;

\i sql/include/try.sql

\i sql/include/wait_until.sql

CREATE TEMP VIEW v18_list AS
SELECT * FROM pg_background_list_v2()
    AS (pid int4, cookie int8, launched_at timestamptz, user_id oid,
        queue_size int4, state text, sql_preview text, last_error text,
        consumed bool);

-- The three settings: defaults, units, ranges; every user may set them.
SELECT name, setting, unit, vartype, min_val, max_val, boot_val, context
  FROM pg_settings WHERE name LIKE 'pg_background.%' ORDER BY name;
SHOW pg_background.max_workers;
SHOW pg_background.default_queue_size;
SHOW pg_background.worker_timeout;

-- out of range: 22023 (PostgreSQL 18 added units to the range in the
-- message of the last three: the SQLSTATE only)
SELECT * FROM pg_temp.try('SET pg_background.max_workers = 0');
SELECT * FROM pg_temp.try('SET pg_background.max_workers = 1001');
SELECT * FROM pg_temp.try('SET pg_background.max_workers = -1');
SELECT * FROM pg_temp.try($$SET pg_background.max_workers = 'many'$$);
SELECT left(t, 11) AS try FROM pg_temp.try('SET pg_background.default_queue_size = 1023') t;
SELECT left(t, 11) AS try FROM pg_temp.try($$SET pg_background.default_queue_size = '1GB'$$) t;
SELECT left(t, 11) AS try FROM pg_temp.try('SET pg_background.worker_timeout = -1') t;
SHOW pg_background.max_workers;
-- the limits themselves are accepted, and units work
SET pg_background.max_workers = 1;
SHOW pg_background.max_workers;
SET pg_background.max_workers = 1000;
SHOW pg_background.max_workers;
SET pg_background.default_queue_size = '128kB';
SHOW pg_background.default_queue_size;
SET pg_background.default_queue_size = 1024;
SHOW pg_background.default_queue_size;
SET pg_background.worker_timeout = '2s';
SELECT setting FROM pg_settings WHERE name = 'pg_background.worker_timeout';
SET pg_background.worker_timeout = '1min';
SELECT setting FROM pg_settings WHERE name = 'pg_background.worker_timeout';
RESET pg_background.max_workers;
RESET pg_background.default_queue_size;
RESET pg_background.worker_timeout;
-- per session and transactional like any setting
BEGIN;
SET LOCAL pg_background.max_workers = 3;
SELECT (pg_background_stats_v2()).max_workers AS in_transaction;
COMMIT;
SELECT (pg_background_stats_v2()).max_workers AS after_commit;

SELECT count(*) AS pg_background_settings
  FROM pg_settings WHERE name LIKE 'pg_background.%';

--
-- 2. pg_background_stats_v2(): this session's counters.  They start from
--    zero (this session has launched no worker yet); launched = completed +
--    failed + canceled + active at every moment; avg_execution_ms is over
--    finished workers (NULL before any finished).
--
CREATE FUNCTION pg_temp.stats() RETURNS TABLE (launched int8, completed int8,
    failed int8, canceled int8, active int4, invariant bool, avg text,
    max_workers int4)
LANGUAGE sql AS $$
SELECT s.workers_launched, s.workers_completed, s.workers_failed,
       s.workers_canceled, s.workers_active,
       s.workers_launched = s.workers_completed + s.workers_failed
                            + s.workers_canceled + s.workers_active,
       CASE WHEN s.avg_execution_ms IS NULL THEN 'null'
            WHEN s.avg_execution_ms > 0 THEN '> 0'
            ELSE 'wrong: ' || s.avg_execution_ms END,
       s.max_workers
  FROM pg_background_stats_v2() s;
$$;
-- the type, as a whole
SELECT * FROM pg_background_stats_v2();
SELECT * FROM pg_temp.stats();
SELECT pg_advisory_lock(1808);
-- completed (results not read yet: it counts as soon as it has ended)
SELECT pid AS ok_pid, cookie AS ok_cookie FROM pg_background_launch_v2('SELECT 1') \gset
SELECT pg_background_wait_v2(:ok_pid, :ok_cookie);
SELECT * FROM pg_temp.stats();
-- reading the result changes nothing
SELECT * FROM pg_background_result_v2(:ok_pid, :ok_cookie) AS (x int);
SELECT * FROM pg_temp.stats();
-- failed
SELECT pid AS f_pid, cookie AS f_cookie FROM pg_background_launch_v2('SELECT 1/0') \gset
SELECT pg_background_wait_v2(:f_pid, :f_cookie);
SELECT * FROM pg_temp.stats();
SELECT count(*) FROM pg_temp.try(format(
    'SELECT * FROM pg_background_result_v2(%s, %s) AS (x int)', :f_pid, :f_cookie));
-- canceled
SELECT pid AS x_pid, cookie AS x_cookie
  FROM pg_background_launch_v2('SELECT 1 FROM pg_advisory_xact_lock_shared(1808)') \gset
SELECT * FROM pg_temp.stats();
SELECT pg_background_cancel_v2_grace(:x_pid, :x_cookie, 60000);
SELECT * FROM pg_temp.stats();
SELECT * FROM pg_temp.try(format(
    'SELECT * FROM pg_background_result_v2(%s, %s) AS (x int)', :x_pid, :x_cookie));
-- timed out: failed
SET pg_background.worker_timeout = '100ms';
SELECT pid AS t_pid, cookie AS t_cookie
  FROM pg_background_launch_v2('SELECT 1 FROM pg_advisory_xact_lock_shared(1808)') \gset
RESET pg_background.worker_timeout;
SELECT pg_background_wait_v2(:t_pid, :t_cookie);
SELECT * FROM pg_temp.stats();
SELECT * FROM pg_temp.try(format(
    'SELECT * FROM pg_background_result_v2(%s, %s) AS (x int)', :t_pid, :t_cookie));
-- submitted, and v1: completed like any other
SELECT pid AS s_pid, cookie AS s_cookie FROM pg_background_submit_v2('SELECT 1') \gset
SELECT pg_background_wait_v2(:s_pid, :s_cookie);
SELECT * FROM pg_background_result(pg_background_launch('SELECT 1')) AS (x int);
SELECT * FROM pg_temp.stats();
-- detached while running: active until it exits, then counted by how it
-- ended (one commits, one fails)
SELECT pid AS d1_pid, cookie AS d1_cookie
  FROM pg_background_launch_v2('SELECT 1 FROM pg_advisory_xact_lock_shared(1808)') \gset
SELECT pid AS d2_pid, cookie AS d2_cookie
  FROM pg_background_launch_v2('SELECT 1 FROM pg_advisory_xact_lock_shared(1808); SELECT 1/0') \gset
SELECT pid AS r_pid, cookie AS r_cookie
  FROM pg_background_launch_v2('SELECT 1 FROM pg_advisory_xact_lock_shared(1808)') \gset
SELECT pg_background_detach_v2(:d1_pid, :d1_cookie);
SELECT pg_background_detach_v2(:d2_pid, :d2_cookie);
SELECT * FROM pg_temp.stats();
SELECT pg_advisory_unlock(1808);
SELECT pg_background_wait_v2(:r_pid, :r_cookie);
SELECT pg_temp.wait_until('(pg_background_stats_v2()).workers_active = 0');
SELECT * FROM pg_temp.stats();
SELECT * FROM pg_background_result_v2(:r_pid, :r_cookie) AS (x int);
SELECT pg_background_detach_v2(:s_pid, :s_cookie);
SELECT * FROM pg_temp.stats();
SELECT count(*) AS workers_left FROM v18_list;
-- the limits are not counters: max_workers is the setting in force
SET pg_background.max_workers = 5;
SELECT max_workers FROM pg_background_stats_v2();
RESET pg_background.max_workers;

-- The worker runs with the caller's settings, these included.
SET pg_background.max_workers = 7;
SELECT * FROM pg_background_result(pg_background_launch(
    $$SELECT current_setting('pg_background.max_workers')$$)) AS (x text);
RESET pg_background.max_workers;

--
-- 3. queue_size 0 or negative: pg_background.default_queue_size, read at
--    launch.  An omitted queue_size is the declared DEFAULT 65536, not the
--    setting.
--
SELECT pid AS p1, cookie AS c1 FROM pg_background_launch_v2('SELECT 1', 0) \gset
SELECT pid AS p2, cookie AS c2 FROM pg_background_launch_v2('SELECT 2', -1) \gset
SET pg_background.default_queue_size = '128kB';
SELECT pid AS p3, cookie AS c3 FROM pg_background_launch_v2('SELECT 3', 0) \gset
SELECT pid AS p4, cookie AS c4 FROM pg_background_submit_v2('SELECT 4', -2147483648) \gset
SELECT pg_background_launch('SELECT 5', -5) AS p5 \gset
SELECT pid AS p6, cookie AS c6 FROM pg_background_launch_v2('SELECT 6') \gset
SELECT pid AS p7, cookie AS c7 FROM pg_background_launch_v2('SELECT 7', 2048) \gset
RESET pg_background.default_queue_size;
SELECT sql_preview, queue_size FROM v18_list ORDER BY sql_preview;
SELECT * FROM pg_background_result_v2(:p1, :c1) AS (x int);
SELECT * FROM pg_background_result_v2(:p2, :c2) AS (x int);
SELECT * FROM pg_background_result_v2(:p3, :c3) AS (x int);
SELECT pg_background_wait_v2(:p4, :c4);
SELECT pg_background_detach_v2(:p4, :c4);
SELECT * FROM pg_background_result(:p5) AS (x int);
SELECT * FROM pg_background_result_v2(:p6, :c6) AS (x int);
SELECT * FROM pg_background_result_v2(:p7, :c7) AS (x int);
-- a positive size below the minimum is still refused
SELECT t FROM pg_temp.try($$SELECT pg_background_launch_v2('SELECT 1', 10)$$) t
 WHERE t NOT LIKE 'DETAIL:%';
-- a worker with more output than a small default queue still delivers it all
SET pg_background.default_queue_size = 1024;
SELECT pid, cookie FROM pg_background_launch_v2(
    $$SELECT g, repeat('x', 100) FROM generate_series(1, 2000) g$$, 0) \gset
RESET pg_background.default_queue_size;
SELECT queue_size FROM v18_list;
SELECT count(*), sum(g), min(length(x)) FROM pg_background_result_v2(:pid, :cookie) AS (g int, x text);
SELECT count(*) AS workers_left FROM v18_list;

--
-- 4. pg_background.worker_timeout: a worker running longer is stopped; its
--    result is 57014 and nothing it did commits.  The value in force at
--    launch applies.
--
CREATE TABLE v18_t (a int);
SET pg_background.worker_timeout = '200ms';
SELECT pid, cookie FROM pg_background_launch_v2(
    'INSERT INTO v18_t VALUES (1); SELECT 1 FROM pg_sleep(60)') \gset
RESET pg_background.worker_timeout;
SELECT pg_background_wait_v2(:pid, :cookie);
SELECT state FROM v18_list WHERE pid = :pid;
SELECT * FROM pg_temp.try(format(
    'SELECT * FROM pg_background_result_v2(%s, %s) AS (x int)', :pid, :cookie));
SELECT count(*) AS committed_rows FROM v18_t;
-- the handle is gone after that, like after any error
SELECT * FROM pg_temp.try(format('SELECT pg_background_wait_v2(%s, %s)', :pid, :cookie));
-- an exception block in the worker's SQL cannot catch it
SET pg_background.worker_timeout = 200;
SELECT pid, cookie FROM pg_background_launch_v2($q$
    DO $d$BEGIN
        PERFORM pg_sleep(60);
    EXCEPTION WHEN OTHERS OR query_canceled THEN
        INSERT INTO v18_t VALUES (2);
    END$d$$q$) \gset
RESET pg_background.worker_timeout;
SELECT * FROM pg_temp.try(format(
    'SELECT * FROM pg_background_result_v2(%s, %s) AS (x text)', :pid, :cookie));
SELECT count(*) AS committed_rows FROM v18_t;
-- the v1 API too
SET pg_background.worker_timeout = '200ms';
SELECT pg_background_launch('SELECT 1 FROM pg_sleep(60)') AS pid \gset
RESET pg_background.worker_timeout;
SELECT * FROM pg_temp.try(format(
    'SELECT * FROM pg_background_result(%s) AS (x int)', :pid));
-- a worker that finishes in time is not affected
SET pg_background.worker_timeout = '1min';
SELECT * FROM pg_background_result(pg_background_launch(
    'INSERT INTO v18_t VALUES (3); SELECT 42')) AS (x int);
RESET pg_background.worker_timeout;
SELECT a FROM v18_t ORDER BY a;
SELECT count(*) AS workers_left FROM v18_list;

--
-- 5. pg_background.max_workers: at most that many running workers per
--    session, detached ones included; the next launch is 53400 with a hint.
--    The workers wait for advisory lock 1808, which this session holds.
--
SELECT pg_advisory_lock(1808);
SET pg_background.max_workers = 2;
SELECT pid AS a_pid, cookie AS a_cookie
  FROM pg_background_launch_v2('SELECT 1 FROM pg_advisory_xact_lock_shared(1808)') \gset
SELECT pid AS b_pid, cookie AS b_cookie
  FROM pg_background_submit_v2('SELECT 1 FROM pg_advisory_xact_lock_shared(1808)') \gset
SELECT * FROM pg_temp.try($$SELECT pg_background_launch_v2('SELECT 1')$$);
SELECT * FROM pg_temp.try($$SELECT pg_background_submit_v2('SELECT 1')$$);
SELECT * FROM pg_temp.try($$SELECT pg_background_launch('SELECT 1')$$);
SELECT workers_active, max_workers FROM pg_background_stats_v2();
-- the refused launches left nothing behind
SELECT count(*) AS tracked FROM v18_list;
-- a canceled worker frees its place once it has ended
SELECT pg_background_cancel_v2_grace(:a_pid, :a_cookie, 60000);
SELECT workers_active FROM pg_background_stats_v2();
SELECT pid AS c_pid, cookie AS c_cookie
  FROM pg_background_launch_v2('SELECT 1 FROM pg_advisory_xact_lock_shared(1808)') \gset
SELECT * FROM pg_temp.try($$SELECT pg_background_launch_v2('SELECT 1')$$) t
 WHERE t LIKE 'ERROR%';
-- a detached worker still counts while it runs
SELECT pg_background_detach_v2(:b_pid, :b_cookie);
SELECT workers_active FROM pg_background_stats_v2();
SELECT * FROM pg_temp.try($$SELECT pg_background_launch_v2('SELECT 1')$$) t
 WHERE t LIKE 'ERROR%';
-- raising the limit lets one more start; lowering it below the number
-- running stops nothing, only new launches
SET pg_background.max_workers = 3;
SELECT pid AS d_pid, cookie AS d_cookie
  FROM pg_background_launch_v2('SELECT 1 FROM pg_advisory_xact_lock_shared(1808)') \gset
SET pg_background.max_workers = 1;
SELECT workers_active, max_workers FROM pg_background_stats_v2();
SELECT * FROM pg_temp.try($$SELECT pg_background_launch_v2('SELECT 1')$$) t
 WHERE t LIKE 'ERROR%';
-- let them all finish: the detached one frees its place when it exits
SELECT pg_advisory_unlock(1808);
SELECT pg_background_wait_v2(:c_pid, :c_cookie);
SELECT pg_background_wait_v2(:d_pid, :d_cookie);
SELECT pg_temp.wait_until('(pg_background_stats_v2()).workers_active = 0');
SELECT pid AS e_pid, cookie AS e_cookie FROM pg_background_launch_v2('SELECT 1') \gset
SELECT * FROM pg_background_result_v2(:e_pid, :e_cookie) AS (x int);
RESET pg_background.max_workers;
SELECT * FROM pg_temp.try(format(
    'SELECT * FROM pg_background_result_v2(%s, %s) AS (x int)', :a_pid, :a_cookie));
SELECT pg_background_detach_v2(:c_pid, :c_cookie);
SELECT pg_background_detach_v2(:d_pid, :d_cookie);
SELECT count(*) AS workers_left FROM v18_list;

--
-- 6. Progress: the worker's SQL calls pg_background_progress(pct, msg), the
--    caller reads the last report with pg_background_get_progress_v2()
--    (NULL until the first one).  Locks 1809 and 1810 hold the worker
--    before its first report and after its second.
--
SELECT pg_advisory_lock(1809);
SELECT pg_advisory_lock(1810);
SELECT pid, cookie FROM pg_background_launch_v2($$
    SELECT pg_advisory_xact_lock_shared(1809);
    SELECT pg_background_progress(0);
    SELECT pg_background_progress(50, 'half');
    SELECT pg_advisory_xact_lock_shared(1810);
    SELECT pg_background_progress(100);
    SELECT 'done'::text$$) \gset
SELECT pg_background_get_progress_v2(:pid, :cookie) IS NULL AS no_report_yet;
SELECT * FROM pg_background_get_progress_v2(:pid, :cookie);
SELECT pg_advisory_unlock(1809);
SELECT pg_temp.wait_until(format(
    '(pg_background_get_progress_v2(%s, %s)).progress_pct = 50', :pid, :cookie));
SELECT * FROM pg_background_get_progress_v2(:pid, :cookie);
SELECT pg_advisory_unlock(1810);
SELECT pg_background_wait_v2(:pid, :cookie);
-- the last report: 100 with no message
SELECT progress_pct, progress_msg IS NULL AS no_msg
  FROM pg_background_get_progress_v2(:pid, :cookie);
SELECT * FROM pg_background_result_v2(:pid, :cookie) AS (x text);
-- the handle is gone with its results
SELECT * FROM pg_temp.try(format(
    'SELECT pg_background_get_progress_v2(%s, %s)', :pid, :cookie));
-- a worker that never reports: NULL, also after it ended
SELECT pid, cookie FROM pg_background_launch_v2('SELECT 1') \gset
SELECT pg_background_wait_v2(:pid, :cookie);
SELECT pg_background_get_progress_v2(:pid, :cookie) IS NULL AS never_reported;
SELECT * FROM pg_background_result_v2(:pid, :cookie) AS (x int);
-- NULL message, named arguments, a message replaced by none
SELECT pid, cookie FROM pg_background_launch_v2($$
    SELECT pg_background_progress(10, 'ten');
    SELECT pg_background_progress(20, NULL);
    SELECT pg_background_progress(msg => 'thirty', pct => 30);
    SELECT pg_background_progress(pct => 40)$$) \gset
SELECT pg_background_wait_v2(:pid, :cookie);
SELECT progress_pct, progress_msg IS NULL AS no_msg
  FROM pg_background_get_progress_v2(:pid, :cookie);
SELECT pg_background_detach_v2(:pid, :cookie);
-- a long message is cut to 255 bytes (never inside a character)
SELECT pid, cookie FROM pg_background_launch_v2($$
    SELECT pg_background_progress(60, repeat('x', 300))$$) \gset
SELECT pg_background_wait_v2(:pid, :cookie);
SELECT progress_pct, octet_length(progress_msg), progress_msg = repeat('x', 255) AS prefix
  FROM pg_background_get_progress_v2(:pid, :cookie);
SELECT pg_background_detach_v2(:pid, :cookie);
SELECT pid, cookie FROM pg_background_launch_v2($$
    SELECT pg_background_progress(61, repeat('x', 255))$$) \gset
SELECT pg_background_wait_v2(:pid, :cookie);
SELECT octet_length(progress_msg) FROM pg_background_get_progress_v2(:pid, :cookie);
SELECT pg_background_detach_v2(:pid, :cookie);
SELECT pid, cookie FROM pg_background_launch_v2($$
    SELECT pg_background_progress(62, 'a' || repeat(U&'\00e9', 200))$$) \gset
SELECT pg_background_wait_v2(:pid, :cookie);
SELECT octet_length(progress_msg), length(progress_msg),
       progress_msg = 'a' || repeat(U&'\00e9', 127) AS prefix
  FROM pg_background_get_progress_v2(:pid, :cookie);
SELECT pg_background_detach_v2(:pid, :cookie);
-- a submitted (fire-and-forget) worker reports progress too
SELECT pid, cookie FROM pg_background_submit_v2($$
    SELECT pg_background_progress(75, 'submitted')$$) \gset
SELECT pg_background_wait_v2(:pid, :cookie);
SELECT * FROM pg_background_get_progress_v2(:pid, :cookie);
SELECT pg_background_detach_v2(:pid, :cookie);
-- pct outside 0..100: 22023 in the worker, forwarded to the caller; the
-- report before it stays
SELECT pid, cookie FROM pg_background_launch_v2($$
    SELECT pg_background_progress(5, 'ok');
    SELECT 1 FROM pg_background_progress(101)$$) \gset
SELECT pg_background_wait_v2(:pid, :cookie);
SELECT * FROM pg_background_get_progress_v2(:pid, :cookie);
SELECT * FROM pg_temp.try(format(
    'SELECT * FROM pg_background_result_v2(%s, %s) AS (x int)', :pid, :cookie));
SELECT * FROM pg_temp.try($$SELECT * FROM pg_background_result(
    pg_background_launch('SELECT 1 FROM pg_background_progress(-1)')) AS (x int)$$);
SELECT * FROM pg_temp.try($$SELECT * FROM pg_background_result(
    pg_background_launch('SELECT 1 FROM pg_background_progress(NULL)')) AS (x int)$$);
-- outside a worker: 55000, whatever the arguments
SELECT * FROM pg_temp.try('SELECT pg_background_progress(50)');
SELECT * FROM pg_temp.try($$SELECT pg_background_progress(50, 'msg')$$);
SELECT * FROM pg_temp.try('SELECT pg_background_progress(101)');
-- unknown handles: 42704; NULL arguments: NULL (STRICT)
SELECT * FROM pg_temp.try('SELECT pg_background_get_progress_v2(0, 1)');
SELECT pid, cookie FROM pg_background_launch_v2('SELECT 1') \gset
SELECT * FROM pg_temp.try(format(
    'SELECT pg_background_get_progress_v2(%s, %s)', :pid, :cookie::int8 # 1));
SELECT pg_background_get_progress_v2(NULL, 1) IS NULL AS null_pid,
       pg_background_get_progress_v2(:pid, NULL) IS NULL AS null_cookie;
SELECT * FROM pg_background_result_v2(:pid, :cookie) AS (x int);
SELECT count(*) AS workers_left FROM pg_background_list_v2()
    AS (pid int4, cookie int8, launched_at timestamptz, user_id oid,
        queue_size int4, state text, sql_preview text, last_error text,
        consumed bool);

--
-- 7. Any schema: CREATE EXTENSION pg_background SCHEMA app gives a working
--    extension that refers to nothing in public, and a member of
--    pgbackground_role can use it with qualified names, without app in its
--    search_path.
--
DROP TABLE v18_t;
DROP VIEW v18_list;
SET client_min_messages = warning;
DROP ROLE IF EXISTS regress_pgbg_v18_member;
DROP ROLE IF EXISTS regress_pgbg_v18_direct;
RESET client_min_messages;
CREATE SCHEMA app;
DROP EXTENSION pg_background;
CREATE EXTENSION pg_background SCHEMA app;
SELECT e.extversion, n.nspname
  FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
 WHERE e.extname = 'pg_background';
-- every object is in app; nothing named pg_background* is left in public
SELECT CASE d.classid WHEN 'pg_proc'::regclass THEN 'function' ELSE 'type' END AS kind,
       n.nspname, count(*)
  FROM pg_depend d
  JOIN pg_extension e ON e.oid = d.refobjid
  LEFT JOIN pg_proc p ON d.classid = 'pg_proc'::regclass AND p.oid = d.objid
  LEFT JOIN pg_type t ON d.classid = 'pg_type'::regclass AND t.oid = d.objid
  JOIN pg_namespace n ON n.oid = coalesce(p.pronamespace, t.typnamespace)
 WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
   AND e.extname = 'pg_background'
   -- not the array types of our types (members from PostgreSQL 18 on)
   AND NOT EXISTS (SELECT FROM pg_type el WHERE el.typarray = t.oid)
   -- nor the row types of our table and views (members from 18 on too)
   AND NOT EXISTS (SELECT FROM pg_class c WHERE c.oid = t.typrelid AND c.relkind <> 'c')
 GROUP BY 1, 2 ORDER BY 1, 2;
SELECT count(*) AS left_in_public
  FROM pg_proc WHERE pronamespace = 'public'::regnamespace AND proname LIKE 'pg\_background%';
-- no definition mentions public (result types, bodies, settings)
SELECT count(*) AS definitions_mentioning_public
  FROM pg_depend d JOIN pg_extension e ON e.oid = d.refobjid
 WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
   AND e.extname = 'pg_background' AND d.classid = 'pg_proc'::regclass
   AND pg_get_functiondef(d.objid) ~* '\mpublic\M';
SELECT p.proname, pg_get_function_result(p.oid) AS result
  FROM pg_proc p
 WHERE p.pronamespace = 'app'::regnamespace
   AND pg_get_function_result(p.oid) LIKE '%pg_background%'
 ORDER BY 1;
-- PUBLIC has no USAGE on app, so the installation granted it to the
-- executor role; PUBLIC has nothing on any object
SELECT has_schema_privilege('pgbackground_role', 'app', 'USAGE') AS role_usage,
       (SELECT count(*) FROM pg_namespace n,
               aclexplode(coalesce(n.nspacl, acldefault('n', n.nspowner))) a
         WHERE n.nspname = 'app' AND a.grantee = 0) AS public_schema_privileges;
SELECT count(*) AS public_privileges
  FROM pg_depend d JOIN pg_extension e ON e.oid = d.refobjid
  LEFT JOIN pg_proc p ON d.classid = 'pg_proc'::regclass AND p.oid = d.objid
  LEFT JOIN pg_type t ON d.classid = 'pg_type'::regclass AND t.oid = d.objid,
       aclexplode(coalesce(p.proacl, t.typacl)) a
 WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
   AND e.extname = 'pg_background' AND a.grantee = 0;
SELECT p.proname, has_function_privilege('pgbackground_role', p.oid, 'EXECUTE') AS role_exec
  FROM pg_proc p WHERE p.pronamespace = 'app'::regnamespace ORDER BY 1;
SELECT t.typname, has_type_privilege('pgbackground_role', t.oid, 'USAGE') AS role_usage
  FROM pg_type t WHERE t.typnamespace = 'app'::regnamespace AND t.typtype = 'c'
   AND (SELECT c.relkind FROM pg_class c WHERE c.oid = t.typrelid) = 'c'  -- not a table's
 ORDER BY 1;

-- A member of pgbackground_role, app not in its search_path.
CREATE ROLE regress_pgbg_v18_member;
GRANT pgbackground_role TO regress_pgbg_v18_member;
SET ROLE regress_pgbg_v18_member;
SET search_path = public;
SELECT * FROM pg_temp.try($$SELECT pg_background_launch_v2('SELECT 1')$$) t
 WHERE t LIKE 'ERROR%';
SELECT pid, cookie FROM app.pg_background_launch_v2(
    'SELECT app.pg_background_progress(40, ''forty''); SELECT current_user::text') \gset
SELECT app.pg_background_wait_v2(:pid, :cookie);
SELECT * FROM app.pg_background_get_progress_v2(:pid, :cookie);
SELECT * FROM app.pg_background_result_v2(:pid, :cookie) AS (who text);
SELECT pid, cookie FROM app.pg_background_submit_v2('SELECT 1', 0) \gset
SELECT queue_size FROM app.pg_background_list_v2()
    AS (pid int4, cookie int8, launched_at timestamptz, user_id oid,
        queue_size int4, state text, sql_preview text, last_error text,
        consumed bool);
SELECT app.pg_background_wait_v2_timeout(:pid, :cookie, 60000);
SELECT app.pg_background_detach_v2(:pid, :cookie);
SELECT * FROM app.pg_background_result(app.pg_background_launch('SELECT 8', 0)) AS (x int);
SELECT workers_launched > 0 AS counted, workers_active,
       workers_launched = workers_completed + workers_failed + workers_canceled
                          + workers_active AS invariant
  FROM app.pg_background_stats_v2();
-- the types are usable
CREATE TEMP TABLE v18_handles (h app.pg_background_handle,
                               s app.pg_background_stats,
                               p app.pg_background_progress);
DROP TABLE v18_handles;
-- and the administration functions are not
SELECT * FROM pg_temp.try($$SELECT app.grant_pg_background_privileges('regress_pgbg_v18_member')$$);
RESET search_path;
RESET ROLE;

-- The helpers in app: they grant USAGE on the schema too (PUBLIC lacks it)
CREATE ROLE regress_pgbg_v18_direct;
SELECT app.grant_pg_background_privileges('regress_pgbg_v18_direct', true);
SET ROLE regress_pgbg_v18_direct;
SELECT * FROM app.pg_background_result(app.pg_background_launch('SELECT 9')) AS (x int);
SELECT workers_active FROM app.pg_background_stats_v2();
RESET ROLE;
SELECT app.revoke_pg_background_privileges('regress_pgbg_v18_direct', true);
SELECT has_schema_privilege('regress_pgbg_v18_direct', 'app', 'USAGE') AS schema_usage,
       count(*) FILTER (WHERE has_function_privilege('regress_pgbg_v18_direct', p.oid, 'EXECUTE')) AS functions
  FROM pg_proc p WHERE p.pronamespace = 'app'::regnamespace;
-- when PUBLIC may use the schema, the helpers leave the schema alone
GRANT USAGE ON SCHEMA app TO PUBLIC;
SELECT app.grant_pg_background_privileges('regress_pgbg_v18_direct', true);
SELECT app.revoke_pg_background_privileges('regress_pgbg_v18_direct');
REVOKE USAGE ON SCHEMA app FROM PUBLIC;

-- Back to public for the tests that follow.  (The schema is not the
-- extension's: dropping the extension leaves it, with its grant to the
-- executor role; dropping the schema removes both.)
DROP ROLE regress_pgbg_v18_direct;
DROP EXTENSION pg_background;
SELECT has_schema_privilege('pgbackground_role', 'app', 'USAGE') AS role_usage_left;
DROP SCHEMA app;
DROP ROLE regress_pgbg_v18_member;
CREATE EXTENSION pg_background;
SELECT e.extversion, n.nspname
  FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
 WHERE e.extname = 'pg_background';
