--
-- v19: what version 1.9 adds.
--   1. the objects, their signatures, and who may use them
--   2. labels: launch_v2/submit_v2(sql, queue_size, label), list_v2's tenth
--      column, the worker's application_name
--   3. pg_background_result_info_v2(): reads nothing away
--   4. pg_background_error_info_v2(): NULL without an error
--   5. pg_background_detach_all_v2() and pg_background_cancel_all_v2()
--
-- Nothing printed may vary between runs: no PIDs, cookies, OIDs, timestamps
-- or durations.  Workers are held at a known point by advisory locks this
-- session owns, never by timing.
--
\set SHOW_CONTEXT never

\i sql/include/try.sql

\i sql/include/wait_until.sql

CREATE TEMP VIEW v19_list AS
SELECT * FROM pg_background_list_v2()
    AS (pid int4, cookie int8, launched_at timestamptz, user_id oid,
        queue_size int4, state text, sql_preview text, last_error text,
        consumed bool, label text);

CREATE TABLE v19_t (x int);

CREATE ROLE regress_pgbg_v19_user;
CREATE ROLE regress_pgbg_v19_other;
GRANT pgbackground_role TO regress_pgbg_v19_user;
GRANT ALL ON v19_t TO regress_pgbg_v19_user;

--
-- 1. The objects of 1.9.
--
SELECT extversion FROM pg_extension WHERE extname = 'pg_background';
SELECT p.proname,
       pg_get_function_arguments(p.oid) AS arguments,
       pg_get_function_result(p.oid) AS result,
       p.proisstrict AS strict
  FROM pg_proc p
  JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid
  JOIN pg_extension e ON d.refclassid = 'pg_extension'::regclass
                     AND d.refobjid = e.oid AND d.deptype = 'e'
 WHERE e.extname = 'pg_background'
   AND p.proname IN ('pg_background_launch_v2', 'pg_background_submit_v2',
                     'pg_background_result_info_v2', 'pg_background_error_info_v2',
                     'pg_background_detach_all_v2', 'pg_background_cancel_all_v2')
 ORDER BY 1, 2;
SELECT t.typname,
       (SELECT string_agg(a.attname || ' ' || format_type(a.atttypid, a.atttypmod),
                          ', ' ORDER BY a.attnum)
          FROM pg_attribute a
         WHERE a.attrelid = t.typrelid AND a.attnum > 0) AS columns
  FROM pg_type t
 WHERE t.typname IN ('pg_background_result_info', 'pg_background_error')
 ORDER BY 1;

-- PUBLIC has nothing on them; pgbackground_role has everything.
SELECT o.name, a.privilege_type
  FROM (SELECT p.proname::text AS name, coalesce(p.proacl, acldefault('f', p.proowner)) AS acl
          FROM pg_proc p
         WHERE p.proname IN ('pg_background_launch_v2', 'pg_background_submit_v2',
                             'pg_background_result_info_v2', 'pg_background_error_info_v2',
                             'pg_background_detach_all_v2', 'pg_background_cancel_all_v2')
        UNION ALL
        SELECT t.typname, coalesce(t.typacl, acldefault('T', t.typowner))
          FROM pg_type t
         WHERE t.typname IN ('pg_background_result_info', 'pg_background_error')) o,
       aclexplode(o.acl) a
 WHERE a.grantee = 0;
SELECT p.oid::regprocedure AS function,
       has_function_privilege('pgbackground_role', p.oid, 'EXECUTE') AS role_exec,
       has_function_privilege('regress_pgbg_v19_other', p.oid, 'EXECUTE') AS other_exec
  FROM pg_proc p
 WHERE p.proname IN ('pg_background_launch_v2', 'pg_background_submit_v2',
                     'pg_background_result_info_v2', 'pg_background_error_info_v2',
                     'pg_background_detach_all_v2', 'pg_background_cancel_all_v2')
 ORDER BY p.oid::regprocedure::text;
SELECT has_type_privilege('pgbackground_role', 'pg_background_result_info', 'USAGE') AS result_info,
       has_type_privilege('pgbackground_role', 'pg_background_error', 'USAGE') AS error;

-- The helpers cover them: grant, then revoke, what the grant added.
SELECT grant_pg_background_privileges('regress_pgbg_v19_other');
SELECT has_function_privilege('regress_pgbg_v19_other', 'pg_background_launch_v2(text, int4, text)', 'EXECUTE') AS launch,
       has_function_privilege('regress_pgbg_v19_other', 'pg_background_cancel_all_v2()', 'EXECUTE') AS cancel_all,
       has_type_privilege('regress_pgbg_v19_other', 'pg_background_error', 'USAGE') AS error_type;
SELECT count(*) AS recorded_1_9_objects
  FROM pg_background_helper_grants
 WHERE grantee = 'regress_pgbg_v19_other'::regrole
   AND object_name IN ('pg_background_launch_v2(text, integer, text)',
                       'pg_background_submit_v2(text, integer, text)',
                       'pg_background_result_info_v2(integer, bigint)',
                       'pg_background_error_info_v2(integer, bigint)',
                       'pg_background_detach_all_v2()', 'pg_background_cancel_all_v2()',
                       'pg_background_result_info', 'pg_background_error');
SELECT revoke_pg_background_privileges('regress_pgbg_v19_other');
SELECT has_function_privilege('regress_pgbg_v19_other', 'pg_background_launch_v2(text, int4, text)', 'EXECUTE') AS launch,
       has_function_privilege('regress_pgbg_v19_other', 'pg_background_cancel_all_v2()', 'EXECUTE') AS cancel_all,
       has_type_privilege('regress_pgbg_v19_other', 'pg_background_error', 'USAGE') AS error_type;

--
-- 2. Labels.
--
SELECT pid AS p1, cookie AS c1 FROM pg_background_launch_v2('SELECT 1', 0, 'nightly load') \gset
SELECT pid AS p2, cookie AS c2 FROM pg_background_submit_v2('SELECT 2', 0, 'fire and forget') \gset
SELECT pid AS p3, cookie AS c3 FROM pg_background_launch_v2('SELECT 3', 0, NULL) \gset
SELECT pid AS p4, cookie AS c4 FROM pg_background_launch_v2('SELECT 4', 0, '') \gset
SELECT pid AS p5, cookie AS c5 FROM pg_background_launch_v2('SELECT 5') \gset
-- NULL queue_size: pg_background.default_queue_size
SELECT pid AS p6, cookie AS c6 FROM pg_background_launch_v2('SELECT 6', NULL, repeat('x', 64)) \gset
SELECT sql_preview, label, queue_size FROM v19_list ORDER BY sql_preview;
-- the nine columns of 1.8 still work
SELECT sql_preview FROM pg_background_list_v2()
    AS (pid int4, cookie int8, launched_at timestamptz, user_id oid,
        queue_size int4, state text, sql_preview text, last_error text,
        consumed bool)
 ORDER BY 1;
-- other column lists: 42804
SELECT * FROM pg_temp.try($$SELECT * FROM pg_background_list_v2()
    AS (pid int4, cookie int8, launched_at timestamptz, user_id oid,
        queue_size int4, state text, sql_preview text, last_error text,
        consumed bool, label text, extra text)$$);
SELECT * FROM pg_temp.try($$SELECT * FROM pg_background_list_v2()
    AS (pid int4, cookie int8, launched_at timestamptz, user_id oid,
        queue_size int4, state text, sql_preview text, last_error text,
        consumed bool, label int4)$$);
SELECT * FROM pg_background_result_v2(:p1, :c1) AS (x int);
SELECT pg_background_wait_v2(:p2, :c2);
SELECT pg_background_detach_v2(:p2, :c2);
SELECT * FROM pg_background_result_v2(:p3, :c3) AS (x int);
SELECT * FROM pg_background_result_v2(:p4, :c4) AS (x int);
SELECT * FROM pg_background_result_v2(:p5, :c5) AS (x int);
SELECT * FROM pg_background_result_v2(:p6, :c6) AS (x int);

-- 64 bytes is the limit; longer is 22001, and nothing is launched.
SELECT * FROM pg_temp.try($$SELECT pg_background_launch_v2('SELECT 1', 0, repeat('x', 65))$$);
SELECT * FROM pg_temp.try($$SELECT pg_background_submit_v2('SELECT 1', 0, repeat('y', 1000))$$);
SELECT count(*) AS tracked FROM v19_list;
SELECT workers_launched FROM pg_background_stats_v2() \gset
-- NULL sql: NULL, as from the STRICT two-argument forms
SELECT pg_background_launch_v2(NULL, 0, 'x') IS NULL AS launch_null,
       pg_background_submit_v2(NULL, NULL, NULL) IS NULL AS submit_null;
SELECT workers_launched - :workers_launched AS launched_since FROM pg_background_stats_v2();
-- the queue size is checked as before
SELECT * FROM pg_temp.try($$SELECT pg_background_launch_v2('SELECT 1', 10, 'small')$$) t
 WHERE t NOT LIKE 'DETAIL:%';

-- application_name: pg_background:<label>:<pid>, or pg_background:<pid>.
-- Each worker waits for an advisory lock this session holds.
SELECT pg_advisory_lock(91901);
SELECT pid AS a1, cookie AS ac1
  FROM pg_background_launch_v2('SELECT pg_advisory_xact_lock_shared(91901)', 0, 'app label') \gset
SELECT pid AS a2, cookie AS ac2
  FROM pg_background_launch_v2('SELECT pg_advisory_xact_lock_shared(91901)') \gset
SELECT pid AS a3, cookie AS ac3
  FROM pg_background_submit_v2('SELECT pg_advisory_xact_lock_shared(91901)', 0, repeat('z', 64)) \gset
SELECT pid AS a4, cookie AS ac4
  FROM pg_background_launch_v2('SELECT pg_advisory_xact_lock_shared(91901)', 0, E'tab\there') \gset
SELECT pg_temp.wait_until(format(
    $$(SELECT count(*) FROM pg_stat_activity WHERE pid IN (%s, %s, %s, %s)
        AND wait_event_type = 'Lock') = 4$$, :a1, :a2, :a3, :a4));
SELECT application_name = 'pg_background:app label:' || :a1 AS labeled,
       backend_type
  FROM pg_stat_activity WHERE pid = :a1;
SELECT application_name = 'pg_background:' || :a2 AS unlabeled
  FROM pg_stat_activity WHERE pid = :a2;
-- pg_stat_activity keeps 63 bytes: the label is shortened, the pid kept
SELECT application_name = 'pg_background:' || repeat('z', 63 - 15 - length(:'a3')) || ':' || :a3 AS shortened,
       length(application_name) AS len
  FROM pg_stat_activity WHERE pid = :a3;
-- bytes outside printable ASCII show as '?'
SELECT application_name = 'pg_background:tab?here:' || :a4 AS cleaned
  FROM pg_stat_activity WHERE pid = :a4;
SELECT pg_advisory_unlock(91901);
SELECT pg_background_wait_v2(:a1, :ac1);
SELECT pg_background_wait_v2(:a2, :ac2);
SELECT pg_background_wait_v2(:a3, :ac3);
SELECT pg_background_wait_v2(:a4, :ac4);
SELECT pg_background_detach_all_v2() AS detached;

--
-- 3. pg_background_result_info_v2: row count and tag of the last statement
--    finished so far, completed, has_error; the results stay to be read.
--
SELECT pg_advisory_lock(91902);
SELECT pid AS r1, cookie AS rc1
  FROM pg_background_launch_v2('SELECT pg_advisory_xact_lock_shared(91902); SELECT g FROM generate_series(1, 3) g') \gset
-- still running: nothing known yet
SELECT * FROM pg_background_result_info_v2(:r1, :rc1);
SELECT pg_advisory_unlock(91902);
SELECT pg_background_wait_v2(:r1, :rc1);
SELECT * FROM pg_background_result_info_v2(:r1, :rc1);
SELECT * FROM pg_background_result_info_v2(:r1, :rc1);
SELECT * FROM pg_background_result_v2(:r1, :rc1) AS (g int);
-- once read, the handle is gone: 42704
SELECT * FROM pg_temp.try(format('SELECT pg_background_result_info_v2(%s, %s)', :r1, :rc1));

-- DML: the rows it changed; a command without a count: 0
SELECT pid AS r2, cookie AS rc2
  FROM pg_background_launch_v2('INSERT INTO v19_t SELECT generate_series(1, 5)') \gset
SELECT pg_background_wait_v2(:r2, :rc2);
SELECT pid AS r3, cookie AS rc3
  FROM pg_background_launch_v2('UPDATE v19_t SET x = x WHERE x > 0; CREATE TEMP TABLE v19_tmp (y int)') \gset
SELECT pg_background_wait_v2(:r3, :rc3);
SELECT * FROM pg_background_result_info_v2(:r2, :rc2);
SELECT * FROM pg_background_result_info_v2(:r3, :rc3);
SELECT * FROM pg_background_result_v2(:r3, :rc3) AS (tag text);
SELECT pg_background_detach_v2(:r2, :rc2);

-- a failed worker: has_error, not completed; the tag of what did finish
SELECT pid AS r4, cookie AS rc4
  FROM pg_background_launch_v2('SELECT 1; SELECT 1/0') \gset
SELECT pg_background_wait_v2(:r4, :rc4);
SELECT * FROM pg_background_result_info_v2(:r4, :rc4);

-- a submitted worker sends no tags
SELECT pid AS r5, cookie AS rc5 FROM pg_background_submit_v2('SELECT 1', 0, 'sub') \gset
SELECT pg_background_wait_v2(:r5, :rc5);
SELECT * FROM pg_background_result_info_v2(:r5, :rc5);

-- unknown handle or wrong cookie: 42704 (as everywhere in 1.6-1.8); NULLs: NULL
SELECT * FROM pg_temp.try('SELECT pg_background_result_info_v2(0, 1)');
SELECT * FROM pg_temp.try(format('SELECT pg_background_result_info_v2(%s, %s)', :r5, :rc5 + 1));
SELECT pg_background_result_info_v2(NULL, 1) IS NULL AS null_pid,
       pg_background_result_info_v2(:r5, NULL) IS NULL AS null_cookie;
SELECT pg_background_detach_v2(:r5, :rc5);

--
-- 4. pg_background_error_info_v2: NULL without an error; the worker's error
--    field by field otherwise, and result_v2 still raises it.
--
SELECT pg_background_error_info_v2(:r4, :rc4) IS NULL AS no_error;
SELECT sqlstate, message, detail, hint,
       regexp_replace(context, 'PID \d+', 'PID N') AS context
  FROM pg_background_error_info_v2(:r4, :rc4);
SELECT * FROM pg_temp.try(format('SELECT * FROM pg_background_result_v2(%s, %s) AS (x int)', :r4, :rc4));

SELECT pid AS e1, cookie AS ec1 FROM pg_background_launch_v2(
    $sql$DO $do$ BEGIN RAISE EXCEPTION 'custom failure' USING ERRCODE = 'P0042',
        DETAIL = 'the detail', HINT = 'the hint'; END $do$$sql$) \gset
SELECT pg_background_wait_v2(:e1, :ec1);
SELECT sqlstate, message, detail, hint,
       regexp_replace(context, 'PID \d+', 'PID N', 'g') AS context
  FROM pg_background_error_info_v2(:e1, :ec1);
SELECT (pg_background_result_info_v2(:e1, :ec1)).has_error;
SELECT * FROM pg_temp.try(format('SELECT * FROM pg_background_result_v2(%s, %s) AS (x text)', :e1, :ec1));

-- no error: NULL, before and after the worker ends
SELECT pg_advisory_lock(91903);
SELECT pid AS e2, cookie AS ec2
  FROM pg_background_launch_v2('SELECT pg_advisory_xact_lock_shared(91903)') \gset
SELECT pg_background_error_info_v2(:e2, :ec2) IS NULL AS no_error_yet;
SELECT pg_advisory_unlock(91903);
SELECT pg_background_wait_v2(:e2, :ec2);
SELECT pg_background_error_info_v2(:e2, :ec2) IS NULL AS no_error;
SELECT pg_background_detach_v2(:e2, :ec2);

-- a submitted worker's error is known too
SELECT pid AS e3, cookie AS ec3 FROM pg_background_submit_v2('SELECT 1/0') \gset
SELECT pg_background_wait_v2(:e3, :ec3);
SELECT sqlstate, message FROM pg_background_error_info_v2(:e3, :ec3);
SELECT pg_background_detach_v2(:e3, :ec3);

-- canceled, or stopped by pg_background.worker_timeout: 57014, as result_v2
SELECT pid AS e4, cookie AS ec4 FROM pg_background_launch_v2('SELECT pg_sleep(600)') \gset
SELECT pg_background_cancel_v2_grace(:e4, :ec4, 60000);
SELECT sqlstate, regexp_replace(message, 'PID \d+', 'PID N') AS message, detail
  FROM pg_background_error_info_v2(:e4, :ec4);
SELECT * FROM pg_temp.try(format('SELECT * FROM pg_background_result_v2(%s, %s) AS (x text)', :e4, :ec4));
SET pg_background.worker_timeout = 10;
SELECT pid AS e5, cookie AS ec5 FROM pg_background_launch_v2('SELECT pg_sleep(600)') \gset
RESET pg_background.worker_timeout;
SELECT pg_background_wait_v2(:e5, :ec5);
SELECT sqlstate, regexp_replace(message, 'PID \d+', 'PID N') AS message, detail
  FROM pg_background_error_info_v2(:e5, :ec5);
SELECT pg_background_detach_v2(:e5, :ec5);

SELECT * FROM pg_temp.try('SELECT pg_background_error_info_v2(0, 1)');
SELECT pg_background_error_info_v2(NULL, NULL) IS NULL AS null_args;

--
-- 5. detach_all_v2 and cancel_all_v2: every handle of this session the
--    current user may use; each returns how many it acted on.
--
SELECT pg_background_detach_all_v2() AS nothing_to_detach,
       pg_background_cancel_all_v2() AS nothing_to_cancel;

-- Detach is not cancel: a detached worker still commits.
TRUNCATE v19_t;
SELECT pg_advisory_lock(91904);
SELECT pid AS d1, cookie AS dc1 FROM pg_background_launch_v2(
    'SELECT pg_advisory_xact_lock_shared(91904); INSERT INTO v19_t VALUES (1)', 0, 'd1') \gset
SELECT pid AS d2, cookie AS dc2 FROM pg_background_launch_v2('SELECT 2', 0, 'd2') \gset
SELECT pid AS d3, cookie AS dc3 FROM pg_background_submit_v2('SELECT 3') \gset
SELECT pg_background_wait_v2(:d2, :dc2);
SELECT pg_background_detach_all_v2() AS detached;
SELECT count(*) AS tracked FROM v19_list;
SELECT * FROM pg_temp.try(format('SELECT pg_background_detach_v2(%s, %s)', :d1, :dc1));
SELECT pg_advisory_unlock(91904);
SELECT pg_temp.wait_until('(SELECT count(*) FROM v19_t) = 1');
SELECT pg_temp.wait_until('(pg_background_stats_v2()).workers_active = 0');

-- Cancel: the running workers only; the handles stay.
SELECT pg_advisory_lock(91905);
SELECT pid AS k1, cookie AS kc1 FROM pg_background_launch_v2(
    'SELECT pg_advisory_xact_lock_shared(91905); INSERT INTO v19_t VALUES (2)') \gset
SELECT pid AS k2, cookie AS kc2 FROM pg_background_submit_v2(
    'SELECT pg_advisory_xact_lock_shared(91905); INSERT INTO v19_t VALUES (3)', 0, 'k2') \gset
SELECT pid AS k3, cookie AS kc3 FROM pg_background_launch_v2('SELECT 42') \gset
SELECT pg_background_wait_v2(:k3, :kc3);
SELECT pg_temp.wait_until(format(
    $$(SELECT count(*) FROM pg_stat_activity WHERE pid IN (%s, %s)
        AND wait_event_type = 'Lock') = 2$$, :k1, :k2));
SELECT pg_background_cancel_all_v2() AS canceled;
SELECT pg_background_wait_v2(:k1, :kc1);
SELECT pg_background_wait_v2(:k2, :kc2);
SELECT pg_advisory_unlock(91905);
SELECT count(*) AS tracked FROM v19_list;
SELECT sqlstate FROM pg_background_error_info_v2(:k1, :kc1);
SELECT sqlstate FROM pg_background_error_info_v2(:k2, :kc2);
SELECT pg_background_error_info_v2(:k3, :kc3) IS NULL AS k3_no_error;
SELECT * FROM pg_background_result_v2(:k3, :kc3) AS (x int);
-- nothing of the canceled workers committed
SELECT x FROM v19_t ORDER BY x;
-- all ended now: nothing to cancel, two to detach
SELECT pg_background_cancel_all_v2() AS canceled;
SELECT pg_background_detach_all_v2() AS detached;

-- Only the current user's handles (a superuser's: all of them).
SELECT pid AS u1, cookie AS uc1 FROM pg_background_launch_v2('SELECT 1', 0, 'superuser') \gset
SET ROLE regress_pgbg_v19_user;
SELECT pid AS u2, cookie AS uc2 FROM pg_background_launch_v2('SELECT 2', 0, 'user') \gset
SELECT pid AS u3, cookie AS uc3 FROM pg_background_launch_v2('SELECT 3', 0, 'user') \gset
-- (the temporary view belongs to the superuser)
SELECT label FROM pg_background_list_v2()
    AS (pid int4, cookie int8, launched_at timestamptz, user_id oid,
        queue_size int4, state text, sql_preview text, last_error text,
        consumed bool, label text)
 ORDER BY 1;
SELECT pg_background_wait_v2(:u2, :uc2);
SELECT pg_background_detach_all_v2() AS detached_by_user;
SELECT count(*) AS user_sees FROM pg_background_list_v2()
    AS (pid int4, cookie int8, launched_at timestamptz, user_id oid,
        queue_size int4, state text, sql_preview text, last_error text,
        consumed bool, label text);
RESET ROLE;
SELECT label FROM v19_list ORDER BY 1;
SET ROLE regress_pgbg_v19_user;
SELECT pid AS u4, cookie AS uc4 FROM pg_background_launch_v2('SELECT 4', 0, 'user') \gset
RESET ROLE;
SELECT pg_background_wait_v2(:u4, :uc4);
SELECT pg_background_detach_all_v2() AS detached_by_superuser;
SELECT count(*) AS tracked FROM v19_list;
SELECT pg_temp.wait_until('(pg_background_stats_v2()).workers_active = 0');

-- A role holding only pgbackground_role may call all of 1.9.
SET ROLE regress_pgbg_v19_user;
SELECT pid AS m1, cookie AS mc1 FROM pg_background_submit_v2('SELECT 1/0', NULL, 'member') \gset
SELECT pg_background_wait_v2(:m1, :mc1);
SELECT completed, has_error FROM pg_background_result_info_v2(:m1, :mc1);
SELECT sqlstate FROM pg_background_error_info_v2(:m1, :mc1);
SELECT pg_background_cancel_all_v2() AS canceled, pg_background_detach_all_v2() AS detached;
RESET ROLE;

--
-- Clean up.
--
DROP TABLE v19_t;
DROP OWNED BY regress_pgbg_v19_user;
DROP ROLE regress_pgbg_v19_user;
DROP ROLE regress_pgbg_v19_other;
