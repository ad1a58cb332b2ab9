--
-- What a worker is told and what it tells:
--   1. statement_timeout is inherited from the caller, per statement; the
--      worker's own SET and SET LOCAL around the launch still work;
--   2. a worker that fails after part of its work committed says so, in the
--      error's detail and in list_v2's last_error; a commit that changed
--      nothing does not count;
--   3. a submitted worker never blocks on output nobody reads: not with a
--      SET client_min_messages in its SQL, not with INFO, not with rows of
--      EXPLAIN, SHOW or CALL, not with a huge error; it exits, without
--      anyone reading its queue.
--
\i sql/include/try.sql
\i sql/include/wait_until.sql

--
-- 1. statement_timeout
--
SET statement_timeout = '10min';
SELECT * FROM pg_background_result(pg_background_launch('SHOW statement_timeout'))
    AS (statement_timeout text);
RESET statement_timeout;

-- the caller's timeout stops a worker statement that runs longer (the
-- caller's own statements are short: the launch, then RESET)
SET statement_timeout = '1s';
SELECT * FROM pg_background_launch_v2('SELECT pg_sleep(60)::text') \gset h_
RESET statement_timeout;
SELECT * FROM pg_temp.try(format(
    'SELECT * FROM pg_background_result_v2(%s, %s) AS (x text)', :h_pid, :h_cookie));

-- per statement: each statement gets the whole timeout
SET statement_timeout = '3s';
SELECT * FROM pg_background_launch_v2(
    'SELECT pg_sleep(1.6); SELECT pg_sleep(1.6); SELECT ''both done''') \gset h_
RESET statement_timeout;
SELECT * FROM pg_background_result_v2(:h_pid, :h_cookie) AS (x text);

-- the worker's own SET wins, from the statement after it on
SET statement_timeout = '3s';
SELECT * FROM pg_background_launch_v2(
    'SET statement_timeout = 0; SELECT pg_sleep(3.5); SHOW statement_timeout') \gset h_
RESET statement_timeout;
SELECT * FROM pg_background_result_v2(:h_pid, :h_cookie) AS (x text);

-- SET LOCAL around the launch gives one job its own timeout
SET statement_timeout = '1s';
BEGIN;
SET LOCAL statement_timeout = '10min';
SELECT * FROM pg_background_launch_v2('SHOW statement_timeout') \gset h_
COMMIT;
RESET statement_timeout;
SELECT * FROM pg_background_result_v2(:h_pid, :h_cookie) AS (x text);

--
-- 2. part of the work committed before the error
--
CREATE TABLE outc_t (a int);
CREATE PROCEDURE outc_two_commits_then_fail() LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO outc_t VALUES (1);
    COMMIT;
    INSERT INTO outc_t VALUES (2);
    COMMIT;
    -- a commit that changed nothing is not counted
    PERFORM count(*) FROM outc_t;
    COMMIT;
    INSERT INTO outc_t VALUES (3);
    PERFORM 1 / 0;
END $$;
CREATE PROCEDURE outc_one_commit_then_fail() LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO outc_t VALUES (10);
    COMMIT;
    RAISE EXCEPTION 'failed after one commit' USING DETAIL = 'its own detail';
END $$;
CREATE PROCEDURE outc_readonly_commit_then_fail() LANGUAGE plpgsql AS $$
BEGIN
    PERFORM count(*) FROM outc_t;
    COMMIT;
    PERFORM 1 / 0;
END $$;

SELECT * FROM pg_background_launch_v2('CALL outc_two_commits_then_fail()') \gset h_
SELECT pg_background_wait_v2(:h_pid, :h_cookie);
SELECT state, last_error FROM pg_background_list_v2() AS (
       pid int4, cookie int8, launched_at timestamptz, user_id oid, queue_size int4,
       state text, sql_preview text, last_error text, consumed bool)
 WHERE pid = :h_pid;
SELECT * FROM pg_temp.try(format(
    'SELECT * FROM pg_background_result_v2(%s, %s) AS (x text)', :h_pid, :h_cookie));
SELECT * FROM outc_t ORDER BY a;

-- the worker's own detail is kept, the note follows it
SELECT * FROM pg_temp.try(
    $$SELECT * FROM pg_background_result(pg_background_launch('CALL outc_one_commit_then_fail()')) AS (x text)$$);

-- nothing committed: nothing to say
SELECT * FROM pg_temp.try(
    $$SELECT * FROM pg_background_result(pg_background_launch('CALL outc_readonly_commit_then_fail()')) AS (x text)$$);
SELECT * FROM pg_temp.try(
    $$SELECT * FROM pg_background_result(pg_background_launch('INSERT INTO outc_t VALUES (99); SELECT 1 / 0')) AS (x int)$$);

-- VACUUM commits the statements before it
SELECT * FROM pg_temp.try(
    $$SELECT * FROM pg_background_result(pg_background_launch('INSERT INTO outc_t VALUES (20); VACUUM outc_t; SELECT 1 / 0')) AS (x int)$$);
SELECT * FROM outc_t ORDER BY a;

-- a job that commits inside and then finishes is simply complete
SELECT * FROM pg_background_result(pg_background_launch(
    $q$DO $d$ BEGIN INSERT INTO outc_t VALUES (30); COMMIT; INSERT INTO outc_t VALUES (31); END $d$$q$))
    AS (tag text);
SELECT count(*) FROM outc_t WHERE a IN (30, 31);

--
-- 3. submitted workers send nothing that could fill their queue
--
CREATE PROCEDURE outc_inout(INOUT x int) LANGUAGE plpgsql AS $$
BEGIN x := x + 1; RAISE NOTICE 'inout %', x; END $$;
CREATE FUNCTION outc_trg() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE NOTICE 'trigger on %', NEW.a; RAISE INFO 'trigger info'; RETURN NEW; END $$;
CREATE TABLE outc_trg_t (a int);
CREATE TRIGGER outc_trg BEFORE INSERT ON outc_trg_t
    FOR EACH ROW EXECUTE FUNCTION outc_trg();

-- Each worker first sets outc_seq (which no rollback undoes) to its number:
-- the caller waits for that and for the worker's exit, so it never reads the
-- queue before the worker has exited.
CREATE SEQUENCE outc_seq;

-- nobody reads this 1 kB queue until the worker has exited
SELECT * FROM pg_background_submit_v2($sql$
    SELECT setval('outc_seq', 11);
    SET client_min_messages = debug1;
    DO $d$ BEGIN
        SET LOCAL client_min_messages = notice;
        PERFORM set_config('client_min_messages', 'notice', false);
        FOR i IN 1..500 LOOP
            RAISE NOTICE 'notice %', i;
            RAISE INFO 'info %', i;
            RAISE WARNING 'warning %', i;
        END LOOP;
    END $d$;
    EXPLAIN SELECT * FROM generate_series(1, 10);
    SHOW work_mem;
    CALL outc_inout(1);
    INSERT INTO outc_trg_t SELECT g FROM generate_series(1, 200) g;
    VACUUM VERBOSE outc_trg_t;
    SELECT g, repeat('x', 100) FROM generate_series(1, 1000) g
$sql$, 1024) \gset s_
\set s_n 11
SELECT pg_temp.wait_until(format(
    '(SELECT last_value FROM outc_seq) = %s AND NOT EXISTS (SELECT FROM pg_stat_activity WHERE pid = %s)',
    :s_n, :s_pid));
SELECT count(*) FROM outc_trg_t;
SELECT pg_background_wait_v2(:s_pid, :s_cookie);
SELECT state, last_error FROM pg_background_list_v2() AS (
       pid int4, cookie int8, launched_at timestamptz, user_id oid, queue_size int4,
       state text, sql_preview text, last_error text, consumed bool)
 WHERE pid = :s_pid;
SELECT pg_background_detach_v2(:s_pid, :s_cookie);

-- a 200 kB error is cut down: the worker exits without anyone reading, and
-- last_error still has the start of the message
SELECT * FROM pg_background_submit_v2($sql$
    SELECT setval('outc_seq', 12);
    DO $d$ BEGIN
        RAISE EXCEPTION 'big %', repeat('x', 100000)
            USING DETAIL = repeat('d', 200000), HINT = repeat('h', 200000);
    END $d$
$sql$, 16384) \gset s_
\set s_n 12
SELECT pg_temp.wait_until(format(
    '(SELECT last_value FROM outc_seq) = %s AND NOT EXISTS (SELECT FROM pg_stat_activity WHERE pid = %s)',
    :s_n, :s_pid));
SELECT pg_background_wait_v2(:s_pid, :s_cookie);
SELECT state, octet_length(last_error) <= 512 AS fits,
       last_error LIKE 'big xxxx%...' AS starts_and_ends_right
  FROM pg_background_list_v2() AS (
       pid int4, cookie int8, launched_at timestamptz, user_id oid, queue_size int4,
       state text, sql_preview text, last_error text, consumed bool)
 WHERE pid = :s_pid;
SELECT pg_background_detach_v2(:s_pid, :s_cookie);

-- with the smallest queue even a short error may not fit: it is dropped,
-- the worker still exits
SELECT * FROM pg_background_submit_v2(
    $$SELECT setval('outc_seq', 13); SELECT 1 / 0 AS a_somewhat_longer_statement_than_the_queue_holds$$,
    64) \gset s_
\set s_n 13
SELECT pg_temp.wait_until(format(
    '(SELECT last_value FROM outc_seq) = %s AND NOT EXISTS (SELECT FROM pg_stat_activity WHERE pid = %s)',
    :s_n, :s_pid));
SELECT pg_background_wait_v2(:s_pid, :s_cookie);
SELECT pg_background_detach_v2(:s_pid, :s_cookie);

-- a submitted worker that fails after part of its work committed
SELECT * FROM pg_background_submit_v2('CALL outc_two_commits_then_fail()') \gset s_
SELECT pg_background_wait_v2(:s_pid, :s_cookie);
SELECT state, last_error FROM pg_background_list_v2() AS (
       pid int4, cookie int8, launched_at timestamptz, user_id oid, queue_size int4,
       state text, sql_preview text, last_error text, consumed bool)
 WHERE pid = :s_pid;
SELECT pg_background_detach_v2(:s_pid, :s_cookie);

DROP TABLE outc_t, outc_trg_t;
DROP SEQUENCE outc_seq;
DROP FUNCTION outc_trg();
DROP PROCEDURE outc_inout(int), outc_two_commits_then_fail(),
    outc_one_commit_then_fail(), outc_readonly_commit_then_fail();
