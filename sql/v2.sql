--
-- v2: handles (pid + cookie): launch_v2, submit_v2, result_v2, detach_v2,
-- cancel_v2, cancel_v2_grace, wait_v2, wait_v2_timeout, list_v2.
--
-- Nothing printed here may vary between runs: no PIDs, cookies, OIDs or
-- timestamps.  CONTEXT lines name the worker's PID, so psql never shows
-- them; errors whose message holds a PID go through pg_temp.try(), which
-- prints SQLSTATE, message, detail, hint and context with the PID masked.
--
\set SHOW_CONTEXT never
SET client_min_messages = warning;
DROP TABLE IF EXISTS v2_t;
DROP ROLE IF EXISTS regress_pgbg_v2_user;   -- left over from an interrupted run
RESET client_min_messages;

\i sql/include/try.sql

\i sql/include/wait_until.sql

-- Every handle this session tracks, with all nine columns.
CREATE TEMP VIEW v2_list AS
SELECT * FROM pg_background_list_v2()
    AS (pid int4, cookie int8, launched_at timestamptz, user_id oid,
        queue_size int4, state text, sql_preview text, last_error text,
        consumed bool);

CREATE TABLE v2_t (note text);

--
-- launch_v2 returns a handle; result_v2 reads its rows once.
--
SELECT * FROM pg_background_launch_v2(
    $$SELECT g, g * 2 FROM generate_series(1, 3) g$$) \gset
SELECT pid = :pid AS pid_ok, cookie = :cookie AS cookie_ok, cookie <> 0 AS has_cookie
  FROM pg_background_list_v2()
    AS (pid int4, cookie int8, launched_at timestamptz, user_id oid,
        queue_size int4, state text, sql_preview text, last_error text,
        consumed bool);
SELECT * FROM pg_background_result_v2(:pid, :cookie) AS (a int, b int);
-- once read, the handle is gone
SELECT count(*) FROM v2_list;
SELECT * FROM pg_temp.try(format(
    'SELECT * FROM pg_background_result_v2(%s, %s) AS (a int, b int)', :pid, :cookie));

--
-- submit_v2: fire and forget.  The worker sends no rows, so even with a
-- tiny queue and a big result it never blocks on output nobody reads: its
-- work commits while the caller does not read anything.
--
SELECT * FROM pg_background_submit_v2($$
    SELECT g FROM generate_series(1, 100000) g;
    INSERT INTO v2_t VALUES ('submitted');
    SELECT g FROM generate_series(1, 100000) g
$$, 1024) \gset
SELECT pg_temp.wait_until($$EXISTS (SELECT FROM v2_t WHERE note = 'submitted')$$);
SELECT pg_background_wait_v2(:pid, :cookie);
SELECT state, consumed, last_error, queue_size FROM v2_list;
-- there are no results to read
SELECT * FROM pg_temp.try(format(
    'SELECT * FROM pg_background_result_v2(%s, %s) AS (g int)', :pid, :cookie));
SELECT * FROM pg_temp.try(format(
    'SELECT * FROM pg_background_result(%s) AS (g int)', :pid));
SELECT pg_background_detach_v2(:pid, :cookie);
SELECT * FROM v2_t;

-- a submitted worker's error shows in list_v2
SELECT * FROM pg_background_submit_v2('SELECT 1/0') \gset
SELECT pg_background_wait_v2(:pid, :cookie);
SELECT state, consumed, last_error FROM v2_list;
SELECT pg_background_detach_v2(:pid, :cookie);

--
-- detach_v2: the handle is gone, the worker runs on and commits.
--
TRUNCATE v2_t;
SELECT * FROM pg_background_launch_v2($$
    SELECT pg_sleep(0.2);
    INSERT INTO v2_t VALUES ('committed after detach')
$$) \gset
SELECT pg_background_detach_v2(:pid, :cookie);
SELECT count(*) FROM v2_list;
SELECT * FROM pg_temp.try(format(
    'SELECT * FROM pg_background_result_v2(%s, %s) AS (t text)', :pid, :cookie));
SELECT * FROM pg_temp.try(format(
    'SELECT pg_background_detach_v2(%s, %s)', :pid, :cookie));
SELECT * FROM pg_temp.try(format(
    'SELECT pg_background_wait_v2(%s, %s)', :pid, :cookie));
SELECT pg_temp.wait_until('EXISTS (SELECT FROM v2_t)');
SELECT * FROM v2_t;

--
-- cancel_v2: the worker stops; reading its result is 57014 and nothing
-- it did commits (not the statement before the one it was canceled in,
-- not the ones after).
--
TRUNCATE v2_t;
SELECT * FROM pg_background_launch_v2($$
    INSERT INTO v2_t VALUES ('before the sleep');
    SELECT pg_sleep(600);
    INSERT INTO v2_t VALUES ('after the sleep')
$$) \gset
SELECT pg_temp.wait_until(format(
    $$EXISTS (SELECT FROM pg_stat_activity WHERE pid = %s AND wait_event = 'PgSleep')$$, :pid));
SELECT pg_background_cancel_v2(:pid, :cookie);
SELECT pg_background_wait_v2(:pid, :cookie);
SELECT state, consumed FROM v2_list;
SELECT * FROM pg_temp.try(format(
    'SELECT * FROM pg_background_result_v2(%s, %s) AS (t text)', :pid, :cookie));
SELECT count(*) FROM v2_list;
SELECT * FROM v2_t;

--
-- cancel_v2_grace
--
-- grace 0: ask and return at once
SELECT * FROM pg_background_launch_v2('SELECT pg_sleep(600)') \gset
SELECT pg_background_cancel_v2_grace(:pid, :cookie, 0);
SELECT pg_background_wait_v2(:pid, :cookie);
SELECT * FROM pg_temp.try(format(
    'SELECT * FROM pg_background_result_v2(%s, %s) AS (t text)', :pid, :cookie));

-- a normal grace: returns once the worker has stopped
SELECT * FROM pg_background_launch_v2($$
    INSERT INTO v2_t VALUES ('canceled with grace');
    SELECT pg_sleep(600)
$$) \gset
SELECT pg_background_cancel_v2_grace(:pid, :cookie, 60000);
SELECT state FROM v2_list;
SELECT * FROM pg_temp.try(format(
    'SELECT * FROM pg_background_result_v2(%s, %s) AS (t text)', :pid, :cookie));
SELECT * FROM v2_t;

-- a grace above 3600000 ms is capped (with a notice), not an error
SELECT * FROM pg_background_launch_v2('SELECT pg_sleep(600)') \gset
SELECT pg_background_cancel_v2_grace(:pid, :cookie, 3600001);
SELECT state FROM v2_list;
SELECT * FROM pg_temp.try(format(
    'SELECT * FROM pg_background_result_v2(%s, %s) AS (t text)', :pid, :cookie));
SELECT * FROM pg_background_launch_v2('SELECT pg_sleep(600)') \gset
SELECT pg_background_cancel_v2_grace(:pid, :cookie, 2147483647);
SELECT state FROM v2_list;
SELECT * FROM pg_temp.try(format(
    'SELECT * FROM pg_background_result_v2(%s, %s) AS (t text)', :pid, :cookie));

-- cancel of a worker that already finished is a no-op: it keeps its
-- results
SELECT * FROM pg_background_launch_v2($$INSERT INTO v2_t VALUES ('finished'); SELECT 42$$) \gset
SELECT pg_background_wait_v2(:pid, :cookie);
SELECT pg_background_cancel_v2(:pid, :cookie);
SELECT pg_background_cancel_v2_grace(:pid, :cookie, 1000);
SELECT state, last_error FROM v2_list;
SELECT * FROM pg_background_result_v2(:pid, :cookie) AS (answer int);
SELECT * FROM v2_t;

--
-- wait_v2 and wait_v2_timeout
--
SELECT * FROM pg_background_launch_v2('SELECT 43') \gset
SELECT pg_background_wait_v2_timeout(:pid, :cookie, 60000);
-- waiting again on a finished worker returns at once
SELECT pg_background_wait_v2(:pid, :cookie);
SELECT pg_background_wait_v2_timeout(:pid, :cookie, 60000);
SELECT * FROM pg_background_result_v2(:pid, :cookie) AS (answer int);

-- a 10-minute sleeper does not end within a short timeout
SELECT * FROM pg_background_launch_v2('SELECT pg_sleep(600)') \gset
SELECT pg_background_wait_v2_timeout(:pid, :cookie, 100);
SELECT state FROM v2_list;
SELECT pg_background_cancel_v2(:pid, :cookie);
SELECT pg_background_wait_v2_timeout(:pid, :cookie, 60000);
SELECT * FROM pg_temp.try(format(
    'SELECT * FROM pg_background_result_v2(%s, %s) AS (t text)', :pid, :cookie));

--
-- Waiting drains the queue: a worker with far more output than its queue
-- finishes while the caller waits, and result_v2 then returns everything
-- (the local buffer spills to disk beyond work_mem).  Notices arrive
-- during the wait, once.
--
SET work_mem = '64kB';
SELECT * FROM pg_background_launch_v2($$
    DO $d$BEGIN RAISE NOTICE 'big result coming'; END$d$;
    SELECT g, repeat('z', 10) FROM generate_series(1, 100000) g
$$, 1024) \gset
SELECT pg_background_wait_v2(:pid, :cookie);
SELECT state, queue_size FROM v2_list;
SELECT count(*), sum(g), count(DISTINCT z)
  FROM pg_background_result_v2(:pid, :cookie) AS (g int, z text);

-- the same with wait_v2_timeout
SELECT * FROM pg_background_launch_v2(
    'SELECT g FROM generate_series(1, 100000) g', 1024) \gset
SELECT pg_background_wait_v2_timeout(:pid, :cookie, 600000);
SELECT count(*), sum(g) FROM pg_background_result_v2(:pid, :cookie) AS (g int);

-- an error after many rows: seen while waiting, shown in last_error, and
-- raised when the result is read
SELECT * FROM pg_background_launch_v2(
    'SELECT 1 / (50000 - g) FROM generate_series(1, 50000) g', 1024) \gset
SELECT pg_background_wait_v2(:pid, :cookie);
SELECT state, last_error FROM v2_list;
SELECT * FROM pg_temp.try(format(
    'SELECT * FROM pg_background_result_v2(%s, %s) AS (x int)', :pid, :cookie));
RESET work_mem;

--
-- list_v2: one row per tracked handle, all nine columns.
--
SELECT * FROM pg_background_launch_v2(
    'SELECT pg_sleep(600) /* ' || repeat('long sql ', 30) || '*/', 2048) \gset sleeper_
SELECT * FROM pg_background_launch_v2('SELECT 1/0') \gset failed_
SELECT * FROM pg_background_launch_v2(
    format('DO $d$BEGIN RAISE EXCEPTION %L; END$d$', repeat('long error ', 100))) \gset long_error_
SELECT * FROM pg_background_launch_v2('SELECT 1') \gset done_
SELECT pg_background_wait_v2(:failed_pid, :failed_cookie);
SELECT pg_background_wait_v2(:long_error_pid, :long_error_cookie);
SELECT pg_background_wait_v2(:done_pid, :done_cookie);
SELECT CASE pid WHEN :sleeper_pid THEN 'sleeper' WHEN :failed_pid THEN 'failed'
                WHEN :long_error_pid THEN 'long error' WHEN :done_pid THEN 'done' END AS worker,
       cookie = CASE pid WHEN :sleeper_pid THEN :sleeper_cookie
                         WHEN :failed_pid THEN :failed_cookie
                         WHEN :long_error_pid THEN :long_error_cookie
                         WHEN :done_pid THEN :done_cookie END AS cookie_ok,
       launched_at BETWEEN now() - interval '1 hour' AND clock_timestamp() AS launched_ok,
       user_id = (SELECT oid FROM pg_roles WHERE rolname = current_user) AS user_ok,
       queue_size, state, consumed
  FROM v2_list ORDER BY worker;
SELECT CASE pid WHEN :sleeper_pid THEN 'sleeper' WHEN :failed_pid THEN 'failed'
                WHEN :long_error_pid THEN 'long error' WHEN :done_pid THEN 'done' END AS worker,
       length(sql_preview) AS preview_length, left(sql_preview, 40) AS preview_start,
       octet_length(last_error) AS error_length, left(last_error, 22) AS error_start,
       right(last_error, 5) AS error_end
  FROM v2_list ORDER BY worker;
-- the user_id is the current user at launch
CREATE ROLE regress_pgbg_v2_user;
GRANT EXECUTE ON FUNCTION pg_background_launch_v2(text, int4),
                          pg_background_detach_v2(int4, int8),
                          pg_background_list_v2()
    TO regress_pgbg_v2_user;
SET ROLE regress_pgbg_v2_user;
SELECT * FROM pg_background_launch_v2('SELECT 2') \gset role_
SELECT u.rolname, l.state IN ('running', 'stopped') AS known_state
  FROM pg_background_list_v2()
    AS l(pid int4, cookie int8, launched_at timestamptz, user_id oid,
         queue_size int4, state text, sql_preview text, last_error text,
         consumed bool)
  JOIN pg_roles u ON u.oid = l.user_id
 WHERE l.pid = :role_pid;
SELECT pg_background_detach_v2(:role_pid, :role_cookie);
RESET ROLE;
DROP OWNED BY regress_pgbg_v2_user;
DROP ROLE regress_pgbg_v2_user;
-- clean up the list
SELECT pg_background_cancel_v2_grace(:sleeper_pid, :sleeper_cookie, 60000);
SELECT pg_background_detach_v2(:sleeper_pid, :sleeper_cookie);
SELECT pg_background_detach_v2(:failed_pid, :failed_cookie);
SELECT pg_background_detach_v2(:long_error_pid, :long_error_cookie);
SELECT pg_background_detach_v2(:done_pid, :done_cookie);
SELECT count(*) FROM v2_list;

-- consumed: a read that failed midway (the second row fails the domain's
-- CHECK) leaves the handle consumed; reading again is 55000 until it is
-- detached
CREATE DOMAIN v2_small AS numeric CHECK (VALUE < 100);
SELECT * FROM pg_background_launch_v2(
    'VALUES (1.5::numeric), (12345.6)') \gset
SELECT pg_background_wait_v2(:pid, :cookie);
SELECT * FROM pg_temp.try(format(
    'SELECT * FROM pg_background_result_v2(%s, %s) AS (v v2_small)', :pid, :cookie));
DROP DOMAIN v2_small;
SELECT state, consumed FROM v2_list;
SELECT * FROM pg_temp.try(format(
    'SELECT * FROM pg_background_result_v2(%s, %s) AS (v numeric)', :pid, :cookie));
SELECT pg_background_detach_v2(:pid, :cookie);
SELECT count(*) FROM v2_list;

--
-- A wrong cookie is an unknown handle (42704) for every function, and
-- does not disturb the real handle.
--
SELECT * FROM pg_background_launch_v2('SELECT 44') \gset
SELECT * FROM pg_temp.try(format(
    'SELECT * FROM pg_background_result_v2(%s, %s) AS (x int)', :pid, (:cookie)::int8 # 1));
SELECT * FROM pg_temp.try(format(
    'SELECT * FROM pg_background_result_v2(%s, 0) AS (x int)', :pid));
SELECT * FROM pg_temp.try(format(
    'SELECT pg_background_detach_v2(%s, %s)', :pid, (:cookie)::int8 # 1));
SELECT * FROM pg_temp.try(format(
    'SELECT pg_background_cancel_v2(%s, %s)', :pid, (:cookie)::int8 # 1));
SELECT * FROM pg_temp.try(format(
    'SELECT pg_background_cancel_v2_grace(%s, %s, 10)', :pid, (:cookie)::int8 # 1));
SELECT * FROM pg_temp.try(format(
    'SELECT pg_background_wait_v2(%s, %s)', :pid, (:cookie)::int8 # 1));
SELECT * FROM pg_temp.try(format(
    'SELECT pg_background_wait_v2_timeout(%s, %s, 10)', :pid, (:cookie)::int8 # 1));
SELECT * FROM pg_background_result_v2(:pid, :cookie) AS (x int);

--
-- Clean up.
--
SELECT count(*) FROM v2_list;
DROP VIEW v2_list;
DROP TABLE v2_t;
