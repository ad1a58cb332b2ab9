--
-- pool: the warm worker pool (pg_background.pool_size).
--
--   0. pool_size = 0 (the default) never reuses a worker;
--   1. a finished worker whose result was read serves the session's next
--      launch: same pid, a new cookie; the old handle is gone (42704);
--      list/wait/result, the 1.9/1.10 functions (labels, progress,
--      outcome, status, run_v2, run_query_v2) and each task's own queue
--      behave as for a fresh worker;
--   2. nothing a task leaves in its session reaches the next task on the
--      same worker: temporary tables, prepared statements, WITH HOLD
--      cursors, sequence state, session advisory locks, LISTEN, SET and
--      set_config values, SET ROLE, SET SESSION AUTHORIZATION, and beyond
--      what DISCARD ALL resets, random()'s seed, a replication origin
--      set up for the session and the task's own pg_background handles;
--      the next
--      task sees the caller's settings as they are at its launch,
--      including a setting the caller RESET to its default, and the
--      catalog as it is at its launch;
--   3. a task of another role (SET ROLE in the caller, or a SECURITY
--      DEFINER function) never gets a worker pooled for another role, nor
--      a task of the same user in another security context;
--   4. a failed task's worker is not reused: it exits;
--   5. a submitted and detached task's worker serves the next launch once
--      it finished;
--   6. lowering pool_size takes effect at the session's next pg_background
--      call: idle workers beyond it exit, and with 0 none is reused;
--   7. the pool empties when the session ends.
--
-- Every check of section 2 first asserts that both tasks ran in the same
-- process (same_worker), then shows what the second task saw.  Nothing
-- printed depends on pids or cookies.
--
\set SHOW_CONTEXT never
SET client_min_messages = warning;
DROP FUNCTION IF EXISTS pool_pair(text, text);
DROP FUNCTION IF EXISTS pool_try(text);
DROP FUNCTION IF EXISTS pool_pid();
DROP FUNCTION IF EXISTS pool_definer_pid();
DROP FUNCTION IF EXISTS pool_own_definer_pid();
DROP SEQUENCE IF EXISTS pool_seq;
DROP TABLE IF EXISTS pool_ddl;
DO $$                                     -- left by a failed run
BEGIN
    PERFORM pg_replication_origin_drop(roname) FROM pg_replication_origin
      WHERE roname = 'regress_pool_origin';
END
$$;
DO $$                                     -- left over from an interrupted run
BEGIN
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'regress_pgbg_pool_user') THEN
        DROP OWNED BY regress_pgbg_pool_user CASCADE;
        DROP ROLE regress_pgbg_pool_user;
    END IF;
END
$$;
RESET client_min_messages;

\i sql/include/try.sql
\i sql/include/wait_until.sql

CREATE ROLE regress_pgbg_pool_user;
GRANT pgbackground_role TO regress_pgbg_pool_user;
CREATE SEQUENCE pool_seq;
GRANT USAGE ON SEQUENCE pool_seq TO regress_pgbg_pool_user;

-- Run in a worker: 'ok', or the SQLSTATE of the error stmt raised.
CREATE FUNCTION pool_try(stmt text) RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE stmt;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE;
END
$$;

-- Launch setup, read its result, then launch probe (an expression) and read
-- what it gives; same_worker says whether both ran in the same process.
CREATE FUNCTION pool_pair(setup text, probe text,
                          OUT same_worker bool, OUT seen text)
LANGUAGE plpgsql AS $$
DECLARE
    h pg_background_handle;
    p1 int;
    p2 int;
BEGIN
    h := pg_background_launch_v2(setup || '; SELECT pg_backend_pid()');
    SELECT p INTO p1 FROM pg_background_result_v2(h.pid, h.cookie) AS (p int);
    IF p1 IS DISTINCT FROM h.pid THEN
        RAISE EXCEPTION 'setup ran in % but the handle says %', p1, h.pid;
    END IF;
    h := pg_background_launch_v2(
        format('SELECT pg_backend_pid(), (%s)::text', probe));
    SELECT p, v INTO p2, seen
      FROM pg_background_result_v2(h.pid, h.cookie) AS (p int, v text);
    same_worker := p1 = p2 AND p2 = h.pid;
END
$$;

-- The pid of a launch + result of SELECT pg_backend_pid().
CREATE FUNCTION pool_pid() RETURNS int
LANGUAGE sql AS $$
SELECT p FROM pg_background_result(
    pg_background_launch('SELECT pg_backend_pid()')) AS (p int)
$$;

CREATE TEMP VIEW pool_list AS
SELECT * FROM pg_background_list_v2()
    AS (pid int4, cookie int8, launched_at timestamptz, user_id oid,
        queue_size int4, state text, sql_preview text, last_error text,
        consumed bool);

--
-- 0. off by default: every launch gets a fresh worker; a worker launched
--    with pool_size = 0 is never pooled, so it exits after its task
--
SELECT * FROM pg_background_launch_v2('SELECT pg_backend_pid()') \gset z1_
SHOW pg_background.pool_size;
SHOW pg_background.pool_idle_timeout;
SELECT pg_background_wait_v2(:z1_pid, :z1_cookie);
SELECT p = :z1_pid AS ran FROM pg_background_result_v2(:z1_pid, :z1_cookie) AS (p int);
SELECT pg_temp.wait_until(format(
    'NOT EXISTS (SELECT FROM pg_stat_activity WHERE pid = %s)', :z1_pid));
SELECT pool_pid() <> :z1_pid AS fresh_worker;

--
-- 1. the pooled worker serves the next launch
--
SET pg_background.pool_size = 2;
-- no idle worker times out during this test: each exit seen here has
-- another cause
SET pg_background.pool_idle_timeout = '1h';

SELECT * FROM pg_background_launch_v2('SELECT pg_backend_pid()') \gset a_
SELECT p = :a_pid AS ran_in_a FROM pg_background_result_v2(:a_pid, :a_cookie) AS (p int);
-- the idle worker is listed in pg_stat_activity as an idle pg_background
-- that waits (once it has reset its session)
SELECT pg_temp.wait_until(format(
    $$EXISTS (SELECT FROM pg_stat_activity
               WHERE pid = %s AND state = 'idle' AND wait_event_type = 'Extension')$$,
    :a_pid));
SELECT backend_type, state, wait_event_type,
       application_name = 'pg_background:' || pid AS appname_ok
  FROM pg_stat_activity WHERE pid = :a_pid;
SELECT * FROM pg_background_launch_v2('SELECT pg_backend_pid()') \gset b_
SELECT :b_pid = :a_pid AS same_pid, :b_cookie <> :a_cookie AS new_cookie;
-- the old handle is gone, the new one works
SELECT * FROM pg_temp.try(format(
    'SELECT * FROM pg_background_result_v2(%s, %s) AS (p int)', :a_pid, :a_cookie));
SELECT * FROM pg_temp.try(format(
    'SELECT pg_background_detach_v2(%s, %s)', :a_pid, :a_cookie));
SELECT count(*) AS handles FROM pool_list;
SELECT p = :b_pid AS ran_in_b FROM pg_background_result_v2(:b_pid, :b_cookie) AS (p int);

-- wait_v2 and list_v2 on a pooled worker's task: 'stopped' once it ended,
-- though its process goes on
SELECT * FROM pg_background_launch_v2('SELECT 7') \gset c_
SELECT :c_pid = :a_pid AS same_pid;
SELECT pg_background_wait_v2(:c_pid, :c_cookie);
SELECT state, consumed, last_error FROM pool_list WHERE pid = :c_pid;
SELECT * FROM pg_background_result_v2(:c_pid, :c_cookie) AS (x int);
-- the v1 functions (pid only) too
SELECT pool_pid() = :a_pid AS v1_same_pid;
SELECT * FROM pg_background_launch_v2('SELECT 8') \gset d_
SELECT :d_pid = :a_pid AS same_pid;
SELECT * FROM pg_background_result(:d_pid) AS (x int);

-- the 1.9 and 1.10 functions too: a label shows in the worker's
-- application_name for its task only; progress, outcome and status are the
-- task's own; run_v2 and run_query_v2 hand their worker back
SELECT * FROM pg_background_launch_v2(
    $$SELECT pg_background_progress(50, 'half');
      SELECT pg_backend_pid(), application_name FROM pg_stat_activity WHERE pid = pg_backend_pid()$$,
    NULL, 'pool_label') \gset g_
SELECT :g_pid = :a_pid AS same_pid;
SELECT pg_background_wait_v2_timeout(:g_pid, :g_cookie, 600000) AS ended;
SELECT * FROM pg_background_get_progress_v2(:g_pid, :g_cookie);
SELECT state, completed, has_error, row_count, label FROM pg_background_outcome_v2(:g_pid, :g_cookie);
SELECT pg_background_status_v2(:g_pid, :g_cookie) ->> 'state' AS status;
SELECT app = 'pg_background:pool_label:' || p AS labeled
  FROM pg_background_result_v2(:g_pid, :g_cookie) AS (p int, app text);
SELECT * FROM pg_background_launch_v2(
    $$SELECT pg_backend_pid(), application_name FROM pg_stat_activity WHERE pid = pg_backend_pid()$$) \gset g_
SELECT :g_pid = :a_pid AS same_pid;
SELECT pg_background_wait_v2(:g_pid, :g_cookie);
SELECT * FROM pg_background_get_progress_v2(:g_pid, :g_cookie);
SELECT app = 'pg_background:' || p AS unlabeled
  FROM pg_background_result_v2(:g_pid, :g_cookie) AS (p int, app text);
SELECT pid = :a_pid AS same_pid, completed, has_error, row_count
  FROM pg_background_run_v2('SELECT 1');
SELECT p = :a_pid AS same_pid FROM pg_background_run_query_v2('SELECT pg_backend_pid()') AS (p int);
SELECT pool_pid() = :a_pid AS same_pid;
-- each task has its own queue: a small one, with rows that need many turns
SELECT * FROM pg_background_launch_v2(
    'SELECT g, repeat(''x'', 100) FROM generate_series(1, 2000) g', 1024) \gset g_
SELECT :g_pid = :a_pid AS same_pid;
SELECT queue_size FROM pool_list;
SELECT count(*), sum(g), min(length(x))
  FROM pg_background_result_v2(:g_pid, :g_cookie) AS (g int, x text);
SELECT * FROM pg_background_launch_v2('SELECT 9') \gset g_
SELECT :g_pid = :a_pid AS same_pid;
SELECT queue_size FROM pool_list;
SELECT * FROM pg_background_result_v2(:g_pid, :g_cookie) AS (x int);

--
-- 2. nothing leaks from one task to the next on the same worker
--
-- temporary objects: a temporary table, a temporary view;
-- a worker whose task used a temporary table's data is not kept at all
-- (its temp_buffers can no longer change)
SELECT * FROM pool_pair(
    'CREATE TEMP TABLE pool_tmp (a int); INSERT INTO pool_tmp VALUES (1)',
    $$to_regclass('pg_temp.pool_tmp') IS NULL$$);
SELECT * FROM pool_pair(
    'CREATE TEMP TABLE pool_tmp2 (a int); CREATE TEMP VIEW pool_tmpv AS SELECT 1 AS x',
    $$to_regclass('pg_temp.pool_tmp2') IS NULL AND to_regclass('pg_temp.pool_tmpv') IS NULL$$);
-- prepared statements
SELECT * FROM pool_pair(
    'PREPARE pool_prep AS SELECT 1',
    '(SELECT count(*) FROM pg_prepared_statements)');
-- cursors, WITH HOLD ones too (they outlive the statement's transaction)
SELECT * FROM pool_pair(
    'DECLARE pool_cur CURSOR WITH HOLD FOR SELECT g FROM generate_series(1, 10) g',
    '(SELECT count(*) FROM pg_cursors)');
-- sequence state: currval is not known in a new session (55000)
SELECT * FROM pool_pair(
    $$SELECT nextval('pool_seq')$$,
    $$pool_try('SELECT currval(''pool_seq'')')$$);
SELECT * FROM pool_pair(
    $$SELECT nextval('pool_seq')$$,
    $$pool_try('SELECT lastval()')$$);
-- session advisory locks, shared and exclusive
SELECT * FROM pool_pair(
    'SELECT pg_advisory_lock(774501), pg_advisory_lock_shared(774502)',
    $$(SELECT count(*) FROM pg_locks
        WHERE locktype = 'advisory' AND pid = pg_backend_pid())$$);
-- and another session can take them
SELECT pg_try_advisory_lock(774501) AS got_lock, pg_advisory_unlock(774501);
-- LISTEN (refused in a background process from PostgreSQL 14 on)
SELECT * FROM pool_pair(
    $$SELECT pool_try('LISTEN pool_channel')$$,
    '(SELECT count(*) FROM pg_listening_channels())');
-- SET, set_config(..., false) and SET search_path in a task: the next task
-- has the caller's values
SET work_mem = '5MB';
SET pool.custom = 'caller';
SELECT * FROM pool_pair(
    'SET work_mem = ''7MB''',
    $$current_setting('work_mem')$$);
SELECT * FROM pool_pair(
    $$SELECT set_config('pool.custom', 'leaked', false),
             set_config('lock_timeout', '77s', false)$$,
    $$current_setting('pool.custom') || ' ' || current_setting('lock_timeout')$$);
SELECT * FROM pool_pair(
    'SET search_path = pg_catalog',
    $$current_setting('search_path')$$);
SELECT * FROM pool_pair(
    'SET session_replication_role = replica',
    $$current_setting('session_replication_role')$$);
-- a setting only a task made (the caller has none by that name)
SELECT * FROM pool_pair(
    $$SELECT set_config('pool.task_only', 'leaked', false)$$,
    $$coalesce(nullif(current_setting('pool.task_only', true), ''), 'unset')$$);
RESET pool.custom;
-- SET ROLE in a task
SELECT same_worker, seen = current_user::text AS callers
  FROM pool_pair('SET ROLE regress_pgbg_pool_user', 'current_user');
-- SET SESSION AUTHORIZATION in a task (the caller is a superuser)
SELECT same_worker, seen = session_user || ' ' || current_user || ' on' AS callers
  FROM pool_pair(
    'SET SESSION AUTHORIZATION regress_pgbg_pool_user',
    $$session_user || ' ' || current_user || ' ' || current_setting('is_superuser')$$);
-- and with SET ROLE after it
SELECT same_worker, seen = session_user || ' ' || current_user AS callers
  FROM pool_pair(
    'SET SESSION AUTHORIZATION regress_pgbg_pool_user; SET ROLE NONE',
    $$session_user || ' ' || current_user$$);

-- settings the caller changes between launches: each task sees them as
-- they are at its launch, back to the default after RESET
SELECT pool_pid() AS w \gset
SET work_mem = '9MB';
SET lock_timeout = '3s';
SELECT * FROM pg_background_launch_v2(
    $$SELECT pg_backend_pid(), current_setting('work_mem'), current_setting('lock_timeout')$$) \gset e_
SELECT :e_pid = :w AS same_pid;
SELECT m, t FROM pg_background_result_v2(:e_pid, :e_cookie) AS (p int, m text, t text);
RESET work_mem;
RESET lock_timeout;
SELECT * FROM pg_background_launch_v2(
    $$SELECT pg_backend_pid(), current_setting('work_mem'), current_setting('lock_timeout')$$) \gset e_
SELECT :e_pid = :w AS same_pid;
SELECT m = current_setting('work_mem') AS work_mem_default,
       t = current_setting('lock_timeout') AS lock_timeout_default, m, t
  FROM pg_background_result_v2(:e_pid, :e_cookie) AS (p int, m text, t text);

-- session state beyond what DISCARD ALL resets: the seed of random()
SELECT setseed(0.25);
SELECT random() AS seeded_first \gset
SELECT same_worker, seen::float8 <> :seeded_first AS not_seeded
  FROM pool_pair('SELECT setseed(0.25)', 'random()');
-- and a replication origin set up for the session (it would mark the next
-- task's commits as replicated from that origin)
SELECT pg_replication_origin_create('regress_pool_origin') IS NOT NULL AS created;
SELECT * FROM pool_pair(
    $$SELECT pg_replication_origin_session_setup('regress_pool_origin')$$,
    'pg_replication_origin_session_is_setup()');
-- no idle worker holds it: it can be dropped
SELECT pool_try($$SELECT pg_replication_origin_drop('regress_pool_origin')$$) AS dropped;

-- and the task's own pg_background handles: a worker launched by the task
-- and never read is not the next task's to see (nor to read), and exits
SELECT * FROM pg_background_launch_v2(
    $$SELECT (pg_background_launch_v2('SELECT 42')).pid, pg_backend_pid()$$) \gset n_
SELECT sub, p = :n_pid AS same_pid
  FROM pg_background_result_v2(:n_pid, :n_cookie) AS (sub int, p int) \gset n_
SELECT :'n_same_pid' AS ran;
SELECT * FROM pg_background_launch_v2(
    $$SELECT count(*)::int, pg_backend_pid() FROM pg_background_list_v2()
        AS (pid int4, cookie int8, launched_at timestamptz, user_id oid, queue_size int4,
            state text, sql_preview text, last_error text, consumed bool)$$) \gset m_
SELECT :m_pid = :n_pid AS same_pid;
SELECT n AS handles_seen FROM pg_background_result_v2(:m_pid, :m_cookie) AS (n int, p int);
SELECT pg_temp.wait_until(format(
    'NOT EXISTS (SELECT FROM pg_stat_activity WHERE pid = %s)', :n_sub));

-- the catalog as it is now: a table changed between two tasks
CREATE TABLE pool_ddl (a int);
INSERT INTO pool_ddl VALUES (1);
SELECT * FROM pg_background_launch_v2(
    'SELECT pg_backend_pid(), row_to_json(t)::text FROM pool_ddl t') \gset e_
SELECT :e_pid = :w AS same_pid;
SELECT r FROM pg_background_result_v2(:e_pid, :e_cookie) AS (p int, r text);
ALTER TABLE pool_ddl ADD COLUMN b text DEFAULT 'x';
SELECT * FROM pg_background_launch_v2(
    'SELECT pg_backend_pid(), row_to_json(t)::text FROM pool_ddl t') \gset e_
SELECT :e_pid = :w AS same_pid;
SELECT r FROM pg_background_result_v2(:e_pid, :e_cookie) AS (p int, r text);
DROP TABLE pool_ddl;

--
-- 3. a task of another role never gets a worker pooled for another one
--
SET pg_background.pool_size = 3;
SELECT pool_pid() AS su \gset
SET ROLE regress_pgbg_pool_user;
SELECT pool_pid() AS ru \gset
SELECT :ru <> :su AS other_worker;
SELECT pool_pid() = :ru AS role_reuses_its_own;
SELECT u, p = :ru AS same_pid
  FROM pg_background_result(pg_background_launch('SELECT pg_backend_pid(), current_user::text'))
    AS (p int, u text);
RESET ROLE;
SELECT pool_pid() = :su AS superuser_reuses_its_own;
-- a SECURITY DEFINER function runs as its owner: another worker again
CREATE FUNCTION pool_definer_pid(OUT p int, OUT u text)
LANGUAGE sql SECURITY DEFINER AS $$
SELECT * FROM pg_background_result(
    pg_background_launch('SELECT pg_backend_pid(), current_user::text')) AS (p int, u text)
$$;
ALTER FUNCTION pool_definer_pid() OWNER TO regress_pgbg_pool_user;
SELECT p, u, p <> :su AS not_the_superusers, p <> :ru AS not_the_set_roles
  FROM pool_definer_pid() \gset df_
SELECT :'df_u' AS u, :'df_not_the_superusers' AS not_the_superusers,
       :'df_not_the_set_roles' AS not_the_set_roles;
-- and once the superuser's and the definer's are pooled, each gets its own
SELECT pool_pid() = :su AS superuser_reuses_its_own;
SELECT u, p = :df_p AS definer_reuses_its_own FROM pool_definer_pid();
-- the same user in another security context: a SECURITY DEFINER function
-- the caller owns itself
CREATE FUNCTION pool_own_definer_pid() RETURNS int
LANGUAGE sql SECURITY DEFINER AS $$
SELECT p FROM pg_background_result(
    pg_background_launch('SELECT pg_backend_pid()')) AS (p int)
$$;
SELECT pool_own_definer_pid() AS od \gset
SELECT :od <> :su AS not_the_superusers, :od <> :df_p AS not_the_definers;
SELECT pool_own_definer_pid() = :od AS own_definer_reuses_its_own;
SELECT pool_pid() = :su AS superuser_reuses_its_own;

--
-- 4. a failed task's worker is not reused: it exits
--
SET pg_background.pool_size = 1;
SELECT pool_pid() AS w \gset
SELECT * FROM pg_background_launch_v2('SELECT 1 / 0') \gset f_
SELECT :f_pid = :w AS failed_in_pooled_worker;
SELECT * FROM pg_temp.try(format(
    'SELECT * FROM pg_background_result_v2(%s, %s) AS (x int)', :f_pid, :f_cookie));
SELECT pool_pid() <> :w AS new_worker;
SELECT pg_temp.wait_until(format(
    'NOT EXISTS (SELECT FROM pg_stat_activity WHERE pid = %s)', :w));
-- an error the task caught itself is no failure
SELECT pool_pid() AS w \gset
SELECT * FROM pg_background_result(pg_background_launch(
    $$DO $d$ BEGIN PERFORM 1 / 0; EXCEPTION WHEN division_by_zero THEN NULL; END $d$;
      SELECT pg_backend_pid()$$)) AS (p int) \gset caught_
SELECT :caught_p = :w AS same_pid, pool_pid() = :w AS reused;

--
-- 5. a submitted and detached task's worker serves the next launch once it
--    finished
--
SET pg_background.pool_size = 2;
SELECT pool_pid() AS w \gset
SELECT * FROM pg_background_submit_v2(
    $$SELECT pg_backend_pid(); SELECT setval('pool_seq', 100)$$) \gset s_
SELECT :s_pid = :w AS submitted_to_pooled_worker;
SELECT pg_background_wait_v2(:s_pid, :s_cookie);
SELECT pg_background_detach_v2(:s_pid, :s_cookie);
SELECT pool_pid() = :w AS reused_after_detach;
-- detached while it still runs: it waits for a lock the caller holds
SELECT pg_advisory_lock(774503);
SELECT * FROM pg_background_submit_v2(
    'SELECT pg_advisory_xact_lock_shared(774503)') \gset s_
SELECT :s_pid = :w AS submitted_to_pooled_worker;
SELECT pg_temp.wait_until(format(
    $$EXISTS (SELECT FROM pg_stat_activity WHERE pid = %s AND wait_event_type = 'Lock')$$, :s_pid));
SELECT pg_background_detach_v2(:s_pid, :s_cookie);
SELECT pg_advisory_unlock(774503);
SELECT pg_temp.wait_until(format(
    $$EXISTS (SELECT FROM pg_stat_activity WHERE pid = %s AND state = 'idle' AND wait_event_type = 'Extension')$$, :s_pid));
SELECT pool_pid() = :w AS reused_after_detach;

--
-- 6. lowering pool_size takes effect at the next pg_background call
--
SET pg_background.pool_size = 2;
SELECT * FROM pg_background_launch_v2('SELECT 1') \gset l1_
SELECT * FROM pg_background_launch_v2('SELECT 2') \gset l2_
SELECT :l1_pid <> :l2_pid AS two_workers;
SELECT * FROM pg_background_result_v2(:l1_pid, :l1_cookie) AS (x int);
SELECT * FROM pg_background_result_v2(:l2_pid, :l2_cookie) AS (x int);
SELECT pg_temp.wait_until(format(
    $$(SELECT count(*) FROM pg_stat_activity
        WHERE pid IN (%s, %s) AND state = 'idle' AND wait_event_type = 'Extension') = 2$$,
    :l1_pid, :l2_pid));
-- 2 -> 1: one of them exits
SET pg_background.pool_size = 1;
SELECT count(*) AS handles FROM pool_list;
SELECT pg_temp.wait_until(format(
    '(SELECT count(*) FROM pg_stat_activity WHERE pid IN (%s, %s)) = 1',
    :l1_pid, :l2_pid));
-- 1 -> 0: the other one too
SET pg_background.pool_size = 0;
SELECT count(*) AS handles FROM pool_list;
SELECT pg_temp.wait_until(format(
    'NOT EXISTS (SELECT FROM pg_stat_activity WHERE pid IN (%s, %s))',
    :l1_pid, :l2_pid));
-- and the next launch gets a fresh worker
SELECT pool_pid() NOT IN (:l1_pid, :l2_pid) AS fresh_worker;

--
-- 7. the pool empties when the session ends
--
SET pg_background.pool_size = 1;
SELECT pool_pid() AS kept_pid \gset
SELECT count(*) AS handles FROM pool_list;
SELECT pg_temp.wait_until(format(
    $$(SELECT count(*) FROM pg_stat_activity
        WHERE pid = %s AND state = 'idle' AND wait_event_type = 'Extension') = 1$$,
    :kept_pid));
SELECT count(*) > 0 AS pooled_workers
  FROM pg_stat_activity WHERE backend_type = 'pg_background';
\c
\set SHOW_CONTEXT never
\i sql/include/wait_until.sql
SELECT pg_temp.wait_until(
    $$NOT EXISTS (SELECT FROM pg_stat_activity WHERE backend_type = 'pg_background')$$);

DROP FUNCTION pool_pair(text, text), pool_try(text), pool_pid(), pool_definer_pid(),
    pool_own_definer_pid();
DROP SEQUENCE pool_seq;
DROP ROLE regress_pgbg_pool_user;
DO $$                                     -- left by a failed run
BEGIN
    PERFORM pg_replication_origin_drop(roname) FROM pg_replication_origin
      WHERE roname = 'regress_pool_origin';
END
$$;
