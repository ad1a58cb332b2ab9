--
-- bad_input: the bad-input table of issue #4.  Every bad argument gives the
-- documented error (or is a documented no-op), and the session keeps
-- working after each.  Messages are printed with their SQLSTATE and with
-- numbers masked, so no PID or cookie shows.
--
CREATE FUNCTION pg_temp.try(sql text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    st text;
    msg text;
BEGIN
    EXECUTE sql;
    RETURN 'ok';
EXCEPTION WHEN OTHERS OR query_canceled THEN
    GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT;
    RETURN st || ': ' || regexp_replace(msg, '-?[0-9]+', 'N', 'g');
END;
$$;

-- NULL SQL: the launch functions are STRICT; nothing is launched
SELECT pg_background_launch(NULL) IS NULL AS v1,
       pg_background_launch_v2(NULL) IS NULL AS v2,
       pg_background_submit_v2(NULL) IS NULL AS submit;
SELECT count(*) AS tracked FROM pg_background_list_v2()
  AS (pid int4, cookie int8, launched_at timestamptz, user_id oid,
      queue_size int4, state text, sql_preview text, last_error text,
      consumed bool);

-- empty SQL, and SQL with nothing but blanks, semicolons or a comment: no rows
SELECT count(*) FROM pg_background_result(pg_background_launch('')) AS (r text);
SELECT count(*) FROM pg_background_result(pg_background_launch(' ; ;')) AS (r text);
SELECT count(*) FROM pg_background_result(pg_background_launch('-- nothing')) AS (r text);

-- 100 MB of SQL: it travels in the segment and runs
SELECT * FROM pg_background_result(pg_background_launch(
    'SELECT 42 AS answer -- ' || repeat('x', 100 * 1024 * 1024))) AS (answer int);
-- and 10 MB in a literal comes back whole
SELECT length(r) FROM pg_background_result(pg_background_launch(
    'SELECT ''' || repeat('y', 10 * 1024 * 1024) || '''::text')) AS (r text);

-- syntax errors are the worker's error, with its SQLSTATE
SELECT pg_temp.try($$SELECT * FROM pg_background_result(pg_background_launch('SELEC 1')) AS (r int)$$);
SELECT pg_temp.try($$SELECT * FROM pg_background_result(pg_background_launch('SELECT (')) AS (r int)$$);

-- queue sizes: below the minimum or above 1 GB is 22023; 0 or negative is
-- the default queue size from 1.8 on
SELECT pg_temp.try($$SELECT pg_background_launch('SELECT 1', 63)$$);
SELECT pg_temp.try($$SELECT pg_background_launch_v2('SELECT 1', 1073741824)$$);
SELECT pg_temp.try($$SELECT pg_background_submit_v2('SELECT 1', 2147483647)$$);
SELECT * FROM pg_background_result(pg_background_launch('SELECT 1', 0)) AS (r int);
SELECT * FROM pg_background_result(pg_background_launch('SELECT 2', -2147483648)) AS (r int);

-- a finished worker to use below
SELECT pid, cookie FROM pg_background_launch_v2('SELECT 7') \gset
SELECT pg_background_wait_v2(:pid, :cookie);

-- timeouts and grace: negative is 22023; huge ones are fine (a finished
-- worker returns at once; grace is capped at an hour with a NOTICE)
SELECT pg_temp.try(format('SELECT pg_background_wait_v2_timeout(%s, %s, -1)', :pid, :cookie));
SELECT pg_temp.try(format('SELECT pg_background_cancel_v2_grace(%s, %s, -1)', :pid, :cookie));
SELECT pg_temp.try(format('SELECT pg_background_wait_v2_timeout(%s, %s, -2147483648)', :pid, :cookie));
SELECT pg_background_wait_v2_timeout(:pid, :cookie, 2147483647) AS ended;
SELECT pg_background_cancel_v2_grace(:pid, :cookie, 2147483647);

-- cancel after the worker ended is a no-op: its result is still there
SELECT pg_background_cancel_v2(:pid, :cookie);
SELECT * FROM pg_background_result_v2(:pid, :cookie) AS (r int);

-- after the result: the handle is gone, every use is 42704
SELECT pg_temp.try(format('SELECT pg_background_cancel_v2(%s, %s)', :pid, :cookie));
SELECT pg_temp.try(format('SELECT pg_background_detach_v2(%s, %s)', :pid, :cookie));
SELECT pg_temp.try(format('SELECT * FROM pg_background_result_v2(%s, %s) AS (r int)', :pid, :cookie));

-- unknown pids: 42704 from every function
SELECT pg_temp.try('SELECT * FROM pg_background_result(0) AS (r int)');
SELECT pg_temp.try('SELECT pg_background_detach(-1)');
SELECT pg_temp.try('SELECT pg_background_detach(2147483647)');
SELECT pg_temp.try('SELECT pg_background_wait_v2(0, 0)');
SELECT pg_temp.try('SELECT pg_background_cancel_v2(-1, 1)');

-- the pid of a process that is not a pg_background worker: 42704
SELECT pg_temp.try(format('SELECT pg_background_detach(%s)', pid))
  FROM pg_stat_activity WHERE backend_type = 'checkpointer';
SELECT pg_temp.try(format('SELECT pg_background_wait_v2(%s, 1)', pid))
  FROM pg_stat_activity WHERE backend_type = 'checkpointer';
SELECT pg_temp.try(format('SELECT pg_background_detach(%s)', pg_backend_pid()));

-- wrong and guessed cookies: 42704, the same as an unknown pid, and the
-- handle keeps working with the right cookie
SELECT pid, cookie FROM pg_background_launch_v2('SELECT 8') \gset
SELECT pg_temp.try(format('SELECT pg_background_wait_v2(%s, %s)', :pid, c))
  FROM unnest(ARRAY[0, 1, -1, :pid, :cookie + 1, :cookie - 1, -(:cookie)]::int8[]) AS c
 WHERE c <> :cookie;
SELECT pg_temp.try(format('SELECT pg_background_detach_v2(%s, %s)', :pid, 0));
SELECT * FROM pg_background_result_v2(:pid, :cookie) AS (r int);

-- a submitted worker has no result to read: 55000
SELECT pid, cookie FROM pg_background_submit_v2('SELECT 9') \gset
SELECT pg_temp.try(format('SELECT * FROM pg_background_result_v2(%s, %s) AS (r int)', :pid, :cookie));
SELECT pg_temp.try(format('SELECT * FROM pg_background_result(%s) AS (r int)', :pid));
SELECT pg_background_wait_v2(:pid, :cookie);

-- double detach: the second one is 42704
SELECT pg_background_detach_v2(:pid, :cookie);
SELECT pg_temp.try(format('SELECT pg_background_detach_v2(%s, %s)', :pid, :cookie));
SELECT pid AS v1pid FROM pg_background_launch('SELECT 10') AS pid \gset
SELECT pg_background_detach(:v1pid);
SELECT pg_temp.try(format('SELECT pg_background_detach(%s)', :v1pid));

-- column definition lists that do not match: 42804, nothing consumed
SELECT pid, cookie FROM pg_background_launch_v2('SELECT 1::int, ''a''::varchar(3)') \gset
SELECT pg_temp.try(format('SELECT * FROM pg_background_result_v2(%s, %s) AS (a int)', :pid, :cookie));
SELECT pg_temp.try(format('SELECT * FROM pg_background_result_v2(%s, %s) AS (a int8, b varchar(3))', :pid, :cookie));
SELECT pg_temp.try(format('SELECT * FROM pg_background_result_v2(%s, %s) AS (a int, b varchar(2))', :pid, :cookie));
SELECT * FROM pg_background_result_v2(:pid, :cookie) AS (a int, b varchar(3));

-- the session still works, and nothing is left behind
SELECT count(*) AS tracked FROM pg_background_list_v2()
  AS (pid int4, cookie int8, launched_at timestamptz, user_id oid,
      queue_size int4, state text, sql_preview text, last_error text,
      consumed bool);
SELECT 1 AS still_fine;
