--
-- errors: every error the caller can get, with its SQLSTATE; worker errors
-- forwarded with their fields; the session keeps working after each.
--
-- Nothing printed here may vary between runs: no PIDs, cookies, OIDs or
-- timestamps.  CONTEXT lines name the worker's PID, so psql never shows
-- them; pg_temp.try() prints SQLSTATE, message, detail, hint and context
-- with the PID masked.
--
\set SHOW_CONTEXT never
SET client_min_messages = warning;
DROP TABLE IF EXISTS errors_t;
DROP DOMAIN IF EXISTS errors_tag;
RESET client_min_messages;

\i sql/include/try.sql

\i sql/include/wait_until.sql

CREATE TEMP VIEW errors_list AS
SELECT * FROM pg_background_list_v2()
    AS (pid int4, cookie int8, launched_at timestamptz, user_id oid,
        queue_size int4, state text, sql_preview text, last_error text,
        consumed bool);

CREATE TABLE errors_t (a int PRIMARY KEY);

--
-- A worker's error reaches the caller when it reads the result, with its
-- SQLSTATE, message, detail and hint, and exactly one context line naming
-- the worker (after the worker's own context lines).
--
SELECT * FROM pg_background_result(pg_background_launch($$
    DO $d$BEGIN
        RAISE EXCEPTION 'custom failure %', 42
            USING DETAIL = 'the detail', HINT = 'the hint', ERRCODE = 'P0042';
    END$d$
$$)) AS (r text);
SELECT * FROM pg_temp.try($q$SELECT * FROM pg_background_result(pg_background_launch($$
    DO $d$BEGIN
        RAISE EXCEPTION 'custom failure %', 42
            USING DETAIL = 'the detail', HINT = 'the hint', ERRCODE = 'P0042';
    END$d$
$$)) AS (r text)$q$);
-- the same through the v2 API
SELECT * FROM pg_background_launch_v2($$
    DO $d$BEGIN
        RAISE EXCEPTION 'v2 failure' USING DETAIL = 'v2 detail', HINT = 'v2 hint',
            ERRCODE = 'invalid_parameter_value';
    END$d$
$$) \gset
SELECT * FROM pg_temp.try(format(
    'SELECT * FROM pg_background_result_v2(%s, %s) AS (r text)', :pid, :cookie));
-- built-in errors keep their SQLSTATE and detail
SELECT * FROM pg_temp.try($$SELECT * FROM pg_background_result(
    pg_background_launch('SELECT 1/0')) AS (r int)$$);
SELECT * FROM pg_temp.try($$SELECT * FROM pg_background_result(
    pg_background_launch('INSERT INTO errors_t VALUES (1), (1)')) AS (r text)$$);
-- an error in nested code: its context lines, then one line naming the worker
CREATE FUNCTION errors_inner(int) RETURNS int LANGUAGE plpgsql AS $$
BEGIN
    RETURN 1 / $1;
END$$;
CREATE FUNCTION errors_outer() RETURNS int LANGUAGE plpgsql AS $$
BEGIN
    RETURN errors_inner(0);
END$$;
SELECT * FROM pg_temp.try($$SELECT * FROM pg_background_result(
    pg_background_launch('SELECT errors_outer()')) AS (r int)$$);
SELECT count(*) AS worker_context_lines
  FROM pg_temp.try($$SELECT * FROM pg_background_result(
    pg_background_launch('SELECT errors_outer()')) AS (r int)$$) AS l
 WHERE l LIKE 'CONTEXT: pg_background worker with PID%';
DROP FUNCTION errors_outer(), errors_inner(int);

-- rows sent before the error are not returned: the error is the result
SELECT * FROM pg_temp.try($$SELECT * FROM pg_background_result(
    pg_background_launch('SELECT 1 / (3 - g) FROM generate_series(1, 3) g')) AS (r int)$$);
-- nothing after the failing statement runs and nothing before it commits
SELECT * FROM pg_temp.try($$SELECT * FROM pg_background_result(pg_background_launch(
    'INSERT INTO errors_t VALUES (10); SELECT 1/0; INSERT INTO errors_t VALUES (11)')) AS (r text)$$);
SELECT count(*) FROM errors_t;
-- notices sent before the error are passed on
SELECT * FROM pg_background_result(pg_background_launch($$
    DO $d$BEGIN RAISE NOTICE 'notice before the error'; END$d$;
    SELECT 1/0
$$)) AS (r int);

--
-- A worker's syntax or name error has its position in the worker's SQL:
-- it must not be shown against the caller's query (no LINE/cursor).
--
\set VERBOSITY default
SELECT * FROM pg_background_result(pg_background_launch('SELEC 1')) AS (r int);
SELECT * FROM pg_background_result(pg_background_launch('SELECT 1 +')) AS (r int);
SELECT * FROM pg_background_result(
    pg_background_launch('SELECT no_such_column FROM errors_t')) AS (r int);
SELECT * FROM pg_background_result(
    pg_background_launch('SELECT 1 FROM no_such_table')) AS (r int);
SELECT * FROM pg_temp.try($$SELECT * FROM pg_background_result(
    pg_background_launch('SELEC 1')) AS (r int)$$);
SELECT 'the session works' AS still;

--
-- Transaction control is refused (0A000), and nothing of that worker
-- commits.
--
SELECT * FROM pg_background_result(pg_background_launch('BEGIN')) AS (r text);
SELECT * FROM pg_background_result(pg_background_launch('START TRANSACTION')) AS (r text);
SELECT * FROM pg_background_result(pg_background_launch('COMMIT')) AS (r text);
SELECT * FROM pg_background_result(pg_background_launch('ROLLBACK')) AS (r text);
SELECT * FROM pg_background_result(pg_background_launch('SAVEPOINT s')) AS (r text);
SELECT * FROM pg_background_result(pg_background_launch('RELEASE SAVEPOINT s')) AS (r text);
SELECT * FROM pg_background_result(pg_background_launch($$PREPARE TRANSACTION 'x'$$)) AS (r text);
SELECT * FROM pg_temp.try($$SELECT * FROM pg_background_result(pg_background_launch(
    'INSERT INTO errors_t VALUES (20); COMMIT; INSERT INTO errors_t VALUES (21)')) AS (r text)$$);
SELECT count(*) FROM errors_t;

--
-- The COPY protocol is refused (0A000).
--
SELECT * FROM pg_background_result(pg_background_launch('COPY errors_t TO STDOUT')) AS (r text);
SELECT * FROM pg_background_result(pg_background_launch('COPY errors_t FROM STDIN')) AS (r text);
SELECT * FROM pg_temp.try($$SELECT * FROM pg_background_result(
    pg_background_launch('COPY (SELECT 1) TO STDOUT')) AS (r text)$$);

--
-- queue_size out of range: 22023 for every launch function.  From 1.8 on
-- (the version installed here) 0 or a negative size means
-- pg_background.default_queue_size; the 1.6 entry points still refuse them
-- (tested at the end of this file).
--
SELECT t FROM pg_temp.try($$SELECT pg_background_launch('SELECT 1', 10)$$) t
 WHERE t NOT LIKE 'DETAIL:%';
SELECT t FROM pg_temp.try($$SELECT pg_background_launch('SELECT 1', 1073741824)$$) t
 WHERE t NOT LIKE 'DETAIL:%';
SELECT t FROM pg_temp.try($$SELECT pg_background_launch('SELECT 1', 2147483647)$$) t
 WHERE t NOT LIKE 'DETAIL:%';
SELECT t FROM pg_temp.try($$SELECT pg_background_launch_v2('SELECT 1', 10)$$) t
 WHERE t NOT LIKE 'DETAIL:%';
SELECT t FROM pg_temp.try($$SELECT pg_background_submit_v2('SELECT 1', 10)$$) t
 WHERE t NOT LIKE 'DETAIL:%';
SELECT t FROM pg_temp.try($$SELECT pg_background_submit_v2('SELECT 1', 1073741824)$$) t
 WHERE t NOT LIKE 'DETAIL:%';
-- no worker was left behind by a refused launch
SELECT count(*) FROM errors_list;
-- 0 and negative sizes: the default queue size, for every launch function
SELECT pg_background_launch('SELECT 1', 0) AS pid0 \gset
SELECT pg_background_launch('SELECT 2', -1) AS pid1 \gset
SELECT pid AS pid2, cookie AS cookie2
  FROM pg_background_launch_v2('SELECT 3', -2147483648) \gset
SELECT pid AS pid3, cookie AS cookie3
  FROM pg_background_submit_v2('SELECT 4', 0) \gset
SELECT sql_preview, queue_size FROM errors_list ORDER BY sql_preview;
SELECT * FROM pg_background_result(:pid0) AS (x int);
SELECT * FROM pg_background_result(:pid1) AS (x int);
SELECT * FROM pg_background_result_v2(:pid2, :cookie2) AS (x int);
SELECT pg_background_wait_v2(:pid3, :cookie3);
SELECT pg_background_detach_v2(:pid3, :cookie3);
SELECT count(*) FROM errors_list;

--
-- Negative timeout_ms / grace_ms: 22023, and the handle stays usable.
--
SELECT * FROM pg_background_launch_v2('SELECT 1') \gset
SELECT * FROM pg_temp.try(format(
    'SELECT pg_background_wait_v2_timeout(%s, %s, -1)', :pid, :cookie));
SELECT * FROM pg_temp.try(format(
    'SELECT pg_background_cancel_v2_grace(%s, %s, -1)', :pid, :cookie));
SELECT * FROM pg_temp.try(format(
    'SELECT pg_background_cancel_v2_grace(%s, %s, -2147483648)', :pid, :cookie));
SELECT * FROM pg_background_result_v2(:pid, :cookie) AS (x int);

--
-- Unknown pid: 42704 for every function.
--
SELECT * FROM pg_temp.try('SELECT * FROM pg_background_result(0) AS (x int)');
SELECT * FROM pg_temp.try('SELECT pg_background_detach(0)');
SELECT * FROM pg_temp.try('SELECT * FROM pg_background_result_v2(0, 1) AS (x int)');
SELECT * FROM pg_temp.try('SELECT pg_background_detach_v2(0, 1)');
SELECT * FROM pg_temp.try('SELECT pg_background_cancel_v2(0, 1)');
SELECT * FROM pg_temp.try('SELECT pg_background_cancel_v2_grace(0, 1, 100)');
SELECT * FROM pg_temp.try('SELECT pg_background_wait_v2(0, 1)');
SELECT * FROM pg_temp.try('SELECT pg_background_wait_v2_timeout(0, 1, 100)');
-- the caller's own pid is not a worker of this session either
SELECT t = 'ERROR 42704: PID N is not attached to this session' AS unknown
  FROM pg_temp.try(format('SELECT pg_background_detach(%s)', pg_backend_pid())) t
 WHERE t LIKE 'ERROR%';

--
-- A column definition list that does not match the worker's row type:
-- 42804 before any row is consumed; the handle stays usable.
--
SELECT pg_background_launch(
    $$SELECT 1::int4, 'abc'::varchar(5), 1.50::numeric(10,2)$$) AS pid \gset
-- column count
SELECT * FROM pg_background_result(:pid) AS (a int4);
SELECT * FROM pg_background_result(:pid) AS (a int4, b varchar(5), c numeric(10,2), d int);
-- column type
SELECT * FROM pg_background_result(:pid) AS (a int8, b varchar(5), c numeric(10,2));
SELECT * FROM pg_background_result(:pid) AS (a int4, b text, c numeric(10,2));
-- type modifier
SELECT * FROM pg_background_result(:pid) AS (a int4, b varchar(6), c numeric(10,2));
SELECT * FROM pg_background_result(:pid) AS (a int4, b varchar(5), c numeric(10,3));
SELECT * FROM pg_temp.try(format(
    'SELECT * FROM pg_background_result(%s) AS (a int4)', :pid));
-- still usable, and nothing was consumed
SELECT consumed FROM errors_list WHERE pid = :pid;
SELECT * FROM pg_background_result(:pid) AS (a int4, b varchar(5), c numeric(10,2));

-- a list without a type modifier accepts any
SELECT * FROM pg_background_result(pg_background_launch(
    $$SELECT 'abc'::varchar(5), 1.50::numeric(10,2)$$)) AS (b varchar, c numeric);
-- a type modifier in the list must be the worker's, as for any function's
-- column definition list: checked before anything is consumed, not at the
-- first value too long for it
SELECT pg_background_launch(
    $$SELECT 'ab'::varchar UNION ALL SELECT 'abcd'$$) AS pid \gset
SELECT * FROM pg_temp.try(format(
    'SELECT * FROM pg_background_result(%s) AS (v varchar(3))', :pid));
SELECT consumed FROM errors_list WHERE pid = :pid;
SELECT * FROM pg_background_result(:pid) AS (v varchar);
SELECT pg_background_launch('SELECT 1.50::numeric') AS pid \gset
SELECT * FROM pg_temp.try(format(
    'SELECT * FROM pg_background_result(%s) AS (c numeric(10,2))', :pid));
SELECT pg_background_detach(:pid);

-- the same through the v2 API
SELECT * FROM pg_background_launch_v2($$SELECT 'x'::text$$) \gset
SELECT * FROM pg_temp.try(format(
    'SELECT * FROM pg_background_result_v2(%s, %s) AS (a int)', :pid, :cookie));
SELECT * FROM pg_background_result_v2(:pid, :cookie) AS (a text);

-- when the SQL returns no rows, the command tags are one text column
SELECT pg_background_launch('CREATE TEMP TABLE errors_tmp (a int)') AS pid \gset
SELECT * FROM pg_background_result(:pid) AS (tag int);
SELECT * FROM pg_background_result(:pid) AS (tag text, extra text);
SELECT * FROM pg_temp.try(format(
    'SELECT * FROM pg_background_result(%s) AS (tag varchar(3))', :pid));
SELECT * FROM pg_background_result(:pid) AS (tag text);
-- a domain over text applies its constraints to the tags
CREATE DOMAIN errors_tag AS text CHECK (VALUE LIKE 'CREATE%');
SELECT * FROM pg_background_result(pg_background_launch(
    'CREATE TEMP TABLE errors_tmp2 (a int)')) AS (tag errors_tag);
SELECT pg_background_launch(
    'CREATE TEMP TABLE errors_tmp3 (a int); DROP TABLE errors_tmp3') AS pid \gset
SELECT * FROM pg_temp.try(format(
    'SELECT * FROM pg_background_result(%s) AS (tag errors_tag)', :pid));
SELECT pg_background_detach(:pid);
DROP DOMAIN errors_tag;

--
-- No column definition list: an error, and the handle stays usable.
--
SELECT pg_background_launch('SELECT 5') AS pid \gset
SELECT * FROM pg_temp.try(format('SELECT * FROM pg_background_result(%s)', :pid));
SELECT * FROM pg_temp.try(format('SELECT pg_background_result(%s)', :pid));
SELECT * FROM pg_background_result(:pid) AS (x int);

--
-- list_v2 checks its column definition list: 42804, never a crash.
--
SELECT * FROM pg_background_launch_v2('SELECT 6') \gset
SELECT * FROM pg_background_list_v2() AS (pid int4);
SELECT * FROM pg_background_list_v2()
    AS (pid int4, cookie int8, launched_at timestamptz, user_id oid,
        queue_size int4, state text, sql_preview text, last_error text,
        consumed bool, extra int);
SELECT * FROM pg_background_list_v2()
    AS (pid int4, cookie int8, launched_at timestamptz, user_id oid,
        queue_size int8, state text, sql_preview text, last_error text,
        consumed bool);
SELECT * FROM pg_background_list_v2()
    AS (pid text, cookie text, launched_at text, user_id text,
        queue_size text, state text, sql_preview text, last_error text,
        consumed text);
SELECT * FROM pg_temp.try($$SELECT * FROM pg_background_list_v2()
    AS (pid int4, cookie int8, launched_at timestamptz, user_id oid,
        queue_size int4, state int, sql_preview text, last_error text,
        consumed bool)$$);
SELECT * FROM pg_background_list_v2();
SELECT pg_background_list_v2();
SELECT sql_preview, state IN ('running', 'stopped') AS known FROM errors_list;
SELECT * FROM pg_background_result_v2(:pid, :cookie) AS (x int);

--
-- NULL arguments: the functions are STRICT, they return NULL and launch
-- nothing.
--
SELECT pg_background_launch(NULL) IS NULL AS launch,
       pg_background_launch('SELECT 1', NULL) IS NULL AS launch_queue,
       pg_background_launch_v2(NULL) IS NULL AS launch_v2,
       pg_background_launch_v2('SELECT 1', NULL) IS NULL AS launch_v2_queue,
       pg_background_submit_v2(NULL) IS NULL AS submit_v2,
       pg_background_submit_v2('SELECT 1', NULL) IS NULL AS submit_v2_queue;
SELECT count(*) FROM errors_list;
SELECT count(*) FROM pg_background_result(NULL) AS (x int);
SELECT count(*) FROM pg_background_result_v2(NULL, NULL) AS (x int);
SELECT count(*) FROM pg_background_result_v2(0, NULL) AS (x int);
SELECT pg_background_detach(NULL) IS NULL AS detach,
       pg_background_detach_v2(NULL, 1) IS NULL AS detach_v2,
       pg_background_cancel_v2(1, NULL) IS NULL AS cancel_v2,
       pg_background_cancel_v2_grace(0, 1, NULL) IS NULL AS cancel_v2_grace,
       pg_background_wait_v2(NULL, NULL) IS NULL AS wait_v2,
       pg_background_wait_v2_timeout(0, 1, NULL) IS NULL AS wait_v2_timeout;

--
-- FATAL in the worker arrives as ERROR (with its SQLSTATE); the caller's
-- session survives.  (The message of a terminated worker is PostgreSQL's
-- and differs by version: 13 says "terminating connection", 14 and later
-- "terminating background worker"; the SQLSTATE is shown.)
--
\set VERBOSITY sqlstate
SELECT * FROM pg_background_result(pg_background_launch(
    'SELECT pg_terminate_backend(pg_backend_pid())')) AS (r bool);
\set VERBOSITY default
SELECT regexp_replace(t, '^(ERROR .....):.*', '\1') AS try FROM pg_temp.try($$SELECT * FROM pg_background_result(
    pg_background_launch('SELECT pg_terminate_backend(pg_backend_pid())')) AS (r bool)$$) t;
SELECT 'the session works' AS still;
-- a worker terminated by someone else (not canceled): its FATAL, as ERROR
SELECT * FROM pg_background_launch_v2('SELECT 1 FROM pg_sleep(600)') \gset
SELECT pg_temp.wait_until(format(
    $$EXISTS (SELECT FROM pg_stat_activity WHERE pid = %s AND wait_event = 'PgSleep')$$, :pid));
SELECT pg_terminate_backend(:pid);
SELECT pg_background_wait_v2(:pid, :cookie);
SELECT regexp_replace(t, '^(ERROR .....):.*', '\1') AS try FROM pg_temp.try(format(
    'SELECT * FROM pg_background_result_v2(%s, %s) AS (r int)', :pid, :cookie)) t;
SELECT count(*) FROM errors_list;

--
-- A worker error inside the caller's transaction block aborts it like
-- any error; a savepoint recovers.
--
BEGIN;
INSERT INTO errors_t VALUES (30);
SAVEPOINT before_worker;
SELECT * FROM pg_background_result(pg_background_launch('SELECT 1/0')) AS (r int);
SELECT 1;
ROLLBACK TO SAVEPOINT before_worker;
SELECT * FROM pg_background_result(pg_background_launch('SELECT 2')) AS (r int);
COMMIT;
SELECT a FROM errors_t ORDER BY a;

--
-- After all those errors, everything still works.
--
SELECT * FROM pg_background_result(
    pg_background_launch($$SELECT 'still working'$$)) AS (r text);
SELECT count(*) FROM errors_list;

DROP VIEW errors_list;

--
-- The 1.6 entry points refuse a queue_size of 0 or less (22023); updating
-- the installation to 1.8 makes the same calls use the default queue size.
--
DROP EXTENSION pg_background;
CREATE EXTENSION pg_background VERSION '1.6';
SELECT extversion FROM pg_extension WHERE extname = 'pg_background';
SELECT t FROM pg_temp.try($$SELECT pg_background_launch('SELECT 1', 0)$$) t
 WHERE t NOT LIKE 'DETAIL:%';
SELECT t FROM pg_temp.try($$SELECT pg_background_launch('SELECT 1', -1)$$) t
 WHERE t NOT LIKE 'DETAIL:%';
SELECT t FROM pg_temp.try($$SELECT pg_background_launch_v2('SELECT 1', 0)$$) t
 WHERE t NOT LIKE 'DETAIL:%';
SELECT t FROM pg_temp.try($$SELECT pg_background_launch_v2('SELECT 1', -2147483648)$$) t
 WHERE t NOT LIKE 'DETAIL:%';
SELECT t FROM pg_temp.try($$SELECT pg_background_submit_v2('SELECT 1', 0)$$) t
 WHERE t NOT LIKE 'DETAIL:%';
SELECT t FROM pg_temp.try($$SELECT pg_background_submit_v2('SELECT 1', -1)$$) t
 WHERE t NOT LIKE 'DETAIL:%';
-- pg_background.default_queue_size does not change that
SET pg_background.default_queue_size = '128kB';
SELECT t FROM pg_temp.try($$SELECT pg_background_launch_v2('SELECT 1', 0)$$) t
 WHERE t NOT LIKE 'DETAIL:%';
RESET pg_background.default_queue_size;
-- a positive size works as before
SELECT * FROM pg_background_result(pg_background_launch('SELECT 16', 1024)) AS (x int);
SELECT count(*) AS workers
  FROM pg_background_list_v2()
    AS (pid int4, cookie int8, launched_at timestamptz, user_id oid,
        queue_size int4, state text, sql_preview text, last_error text,
        consumed bool);
ALTER EXTENSION pg_background UPDATE;
SELECT extversion FROM pg_extension WHERE extname = 'pg_background';
SELECT pid, cookie FROM pg_background_launch_v2('SELECT 18', 0) \gset
SELECT queue_size
  FROM pg_background_list_v2()
    AS (pid int4, cookie int8, launched_at timestamptz, user_id oid,
        queue_size int4, state text, sql_preview text, last_error text,
        consumed bool);
SELECT * FROM pg_background_result_v2(:pid, :cookie) AS (x int);
SELECT * FROM pg_background_result(pg_background_launch('SELECT 19', -1)) AS (x int);
-- a fresh 1.8 installation for the tests that follow
DROP EXTENSION pg_background;
CREATE EXTENSION pg_background;
SELECT extversion FROM pg_extension WHERE extname = 'pg_background';

DROP TABLE errors_t;
