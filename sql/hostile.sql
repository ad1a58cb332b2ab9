--
-- hostile: what an adversarial or unlucky caller does to the 1.9/1.10
-- functions.  Workers are held at a known point by advisory locks this
-- session owns, never by timing.  Nothing printed varies between runs.
--
\set SHOW_CONTEXT never

\i sql/include/try.sql

CREATE TABLE hostile_t (x int);

--
-- 1. run_query_v2 without timeout_ms: when the call fails before the worker
--    ended, the worker (to which nobody holds a handle) is stopped, as it is
--    with a timeout_ms.  It must not go on and commit.  Its first rows fill
--    the queue, so its row description is seen while it still runs.
--
-- a column definition list that does not fit the rows
SELECT pg_advisory_lock(912001);
SELECT * FROM pg_temp.try($$SELECT * FROM pg_background_run_query_v2(
    'INSERT INTO hostile_t VALUES (1); SELECT g, g FROM generate_series(1, 10000) g UNION ALL SELECT 0, 0 FROM pg_advisory_xact_lock(912001)',
    0, 0, 'rq-mismatch') AS (a int)$$);
SELECT pg_advisory_unlock(912001);
SELECT pg_background_wait_v2(pid, cookie) FROM pg_background_list WHERE label = 'rq-mismatch';
SELECT o.state, o.completed, o.has_error, o.sqlstate
  FROM pg_background_list l, pg_background_outcome_v2(l.pid, l.cookie) o
 WHERE l.label = 'rq-mismatch';
-- this call canceled while it reads (the worker cancels its caller)
SELECT pg_advisory_lock(912001);
SELECT * FROM pg_temp.try(format($$SELECT * FROM pg_background_run_query_v2(
    'SELECT pg_cancel_backend(%s); INSERT INTO hostile_t VALUES (2); SELECT pg_advisory_xact_lock(912001)',
    0, 0, 'rq-canceled') AS (a text)$$, pg_backend_pid()));
SELECT pg_advisory_unlock(912001);
SELECT pg_background_wait_v2(pid, cookie) FROM pg_background_list WHERE label = 'rq-canceled';
SELECT o.state, o.completed, o.has_error, o.sqlstate
  FROM pg_background_list l, pg_background_outcome_v2(l.pid, l.cookie) o
 WHERE l.label = 'rq-canceled';
SELECT count(*) AS committed FROM hostile_t;
SELECT pg_background_purge_v2() AS purged;

--
-- 2. drain_v2 interrupted while it waits for a later handle: the earlier
--    handles, whose outcome rows are lost with the error, are not forgotten.
--
SELECT pg_advisory_lock(912002);
SELECT pid AS d1, cookie AS dc1 FROM pg_background_launch_v2('SELECT 1', 0, 'drain-done') \gset
SELECT pid AS d2, cookie AS dc2 FROM pg_background_launch_v2(
    'SELECT pg_advisory_xact_lock_shared(912002)', 0, 'drain-held') \gset
SELECT pg_background_wait_v2(:d1, :dc1);
SET statement_timeout = '100ms';
SELECT * FROM pg_temp.try(format(
    'SELECT * FROM pg_background_drain_v2(ARRAY[(%s, %s), (%s, %s)]::pg_background_handle[])',
    :d1, :dc1, :d2, :dc2));
RESET statement_timeout;
SELECT label, state FROM pg_background_list ORDER BY label;
SELECT pg_advisory_unlock(912002);
-- a handle given twice: two rows, detached once
SELECT label, state, completed, has_error
  FROM pg_background_drain_v2(ARRAY[(:d1, :dc1), (:d2, :dc2), (:d1, :dc1)]::pg_background_handle[]);
SELECT count(*) AS tracked FROM pg_background_list;

--
-- 3. run_v2 does not keep the rows it never returns: a large result neither
--    fills the disk nor fails on temp_file_limit; row_count is still right.
--
SET work_mem = '64kB';
SET temp_file_limit = '1MB';
SELECT * FROM pg_temp.try($$SELECT * FROM pg_background_run_v2(
    'SELECT repeat(''x'', 1000) FROM generate_series(1, 10000)')$$);
SELECT completed, timed_out, has_error, row_count, command_tag, sqlstate
  FROM pg_background_run_v2('SELECT repeat(''x'', 1000) FROM generate_series(1, 10000)');
RESET temp_file_limit;
RESET work_mem;
SELECT count(*) AS tracked FROM pg_background_list;

--
-- 4. error_info_v2 is the error a result read would raise: it says too when
--    part of the work had committed before the error or the cancel.
--
\i sql/include/wait_until.sql
CREATE PROCEDURE hostile_commit_then(lock bool) LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO hostile_t VALUES (4);
    COMMIT;
    IF lock THEN
        PERFORM pg_advisory_xact_lock(912004);
    END IF;
    PERFORM 1 / 0;
END
$$;
SELECT pid AS e1, cookie AS ec1 FROM pg_background_launch_v2('CALL hostile_commit_then(false)') \gset
SELECT pg_background_wait_v2(:e1, :ec1);
SELECT sqlstate, message, detail FROM pg_background_error_info_v2(:e1, :ec1);
SELECT * FROM pg_temp.try(format('SELECT * FROM pg_background_result_v2(%s, %s) AS (x text)', :e1, :ec1));
SELECT pg_advisory_lock(912004);
SELECT pid AS e2, cookie AS ec2 FROM pg_background_launch_v2('CALL hostile_commit_then(true)') \gset
SELECT pg_temp.wait_until(format(
    $$EXISTS (SELECT FROM pg_stat_activity WHERE pid = %s AND wait_event_type = 'Lock')$$, :e2));
SELECT pg_background_cancel_v2_grace(:e2, :ec2, 60000);
SELECT sqlstate, message ~ 'was canceled' AS canceled, detail FROM pg_background_error_info_v2(:e2, :ec2);
SELECT * FROM pg_temp.try(format('SELECT * FROM pg_background_result_v2(%s, %s) AS (x text)', :e2, :ec2));
SELECT pg_advisory_unlock(912004);
SELECT count(*) AS committed FROM hostile_t WHERE x = 4;
DROP PROCEDURE hostile_commit_then(bool);

--
-- 5. run_query_v2 where it cannot return rows (in a SELECT list) is refused
--    before anything is launched.
--
SELECT workers_launched AS launched_before FROM pg_background_stats_v2() \gset
SELECT * FROM pg_temp.try($$SELECT pg_background_run_query_v2('INSERT INTO hostile_t VALUES (5); SELECT 1')$$);
SELECT workers_launched - :launched_before AS launched FROM pg_background_stats_v2();
SELECT count(*) AS tracked FROM pg_background_list;
SELECT count(*) AS committed FROM hostile_t WHERE x = 5;

--
-- 6. run_query_v2 on timeout says whether part of the work had committed
--    (checked against the table, whether or not the worker got that far).
--
CREATE PROCEDURE hostile_commit_wait() LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO hostile_t VALUES (6);
    COMMIT;
    PERFORM pg_advisory_xact_lock(912006);
END
$$;
SELECT pg_advisory_lock(912006);
CREATE FUNCTION pg_temp.run_timeout_detail() RETURNS text LANGUAGE plpgsql AS $fn$
DECLARE
    det text;
BEGIN
    PERFORM * FROM pg_background_run_query_v2('CALL hostile_commit_wait()', 0, 2000)
        AS (x text);
    RETURN 'no error';
EXCEPTION WHEN query_canceled THEN
    GET STACKED DIAGNOSTICS det = PG_EXCEPTION_DETAIL;
    RETURN det;
END
$fn$;
SELECT pg_temp.run_timeout_detail() AS detail \gset
SELECT :'detail' ~ 'part of its work had already committed \(1 commit\)'
       = EXISTS (SELECT FROM hostile_t WHERE x = 6) AS truthful;
SELECT pg_advisory_unlock(912006);
DROP PROCEDURE hostile_commit_wait();

DROP TABLE hostile_t;
