--
-- v1: pg_background_launch / pg_background_result / pg_background_detach
--
-- Nothing printed here may vary between runs: no PIDs, cookies, OIDs or
-- timestamps.  CONTEXT lines name the worker's PID, so psql never shows
-- them; errors whose message holds a PID go through pg_temp.try(), which
-- prints SQLSTATE, message, detail, hint and context with the PID masked.
--
\set SHOW_CONTEXT never
SET client_min_messages = warning;
DROP TABLE IF EXISTS v1_t, v1_detach, v1_big, v1_maint;
DROP SCHEMA IF EXISTS v1_schema CASCADE;
DO $$BEGIN
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'regress_pgbg_v1_user') THEN
        DROP OWNED BY regress_pgbg_v1_user;
        DROP ROLE regress_pgbg_v1_user;
    END IF;
END$$;
RESET client_min_messages;

\i sql/include/try.sql

\i sql/include/wait_until.sql

CREATE TABLE v1_t (id int, note text);

--
-- Rows come back with the caller's column definition list.
--
SELECT * FROM pg_background_result(
    pg_background_launch($$SELECT g, 'row ' || g FROM generate_series(1, 3) g$$))
    AS (id int, label text);

-- A statement that returns no rows in a row-returning form still gives a
-- row type: zero rows, not command tags.
SELECT * FROM pg_background_result(
    pg_background_launch('SELECT 1 WHERE false')) AS (x int);

-- INSERT ... RETURNING as the last statement returns its rows.
SELECT * FROM pg_background_result(
    pg_background_launch($$INSERT INTO v1_t VALUES (1, 'returning') RETURNING id, note$$))
    AS (id int, note text);

-- Utility statements that return rows (SHOW, EXPLAIN) return them too.
SELECT * FROM pg_background_result(
    pg_background_launch($$SET work_mem = '3MB'; SHOW work_mem$$)) AS (setting text);
SELECT * FROM pg_background_result(
    pg_background_launch('EXPLAIN (COSTS OFF) SELECT 1')) AS (plan text);

--
-- Several statements: they run in order, each sees the effects of those
-- before it, and only the last statement's rows come back.
--
SELECT * FROM pg_background_result(pg_background_launch($$
    CREATE TABLE v1_multi (a int);
    INSERT INTO v1_multi VALUES (1), (2);
    UPDATE v1_multi SET a = a * 10;
    SELECT 'not returned';
    SELECT a, (SELECT count(*) FROM v1_multi) FROM v1_multi ORDER BY a
$$)) AS (a int, total bigint);
-- and all of it committed
SELECT a FROM v1_multi ORDER BY a;
DROP TABLE v1_multi;

-- Only the last statement's rows, whatever the row types before it.
SELECT * FROM pg_background_result(
    pg_background_launch($$SELECT 'x', 'y'; SELECT 1, now(); SELECT 42$$))
    AS (answer int);

--
-- When the last statement returns no rows: one text row per statement
-- with its command tag.
--
SELECT * FROM pg_background_result(pg_background_launch($$
    CREATE TABLE v1_tags (a int);
    INSERT INTO v1_tags VALUES (1), (2);
    UPDATE v1_tags SET a = 3 WHERE a = 1;
    SELECT * FROM v1_tags;
    DELETE FROM v1_tags;
    DROP TABLE v1_tags
$$)) AS (tag text);

SELECT * FROM pg_background_result(
    pg_background_launch($$SELECT 1 FROM generate_series(1, 5); DO $d$BEGIN END$d$ $$))
    AS (tag text);

--
-- Empty SQL, or only whitespace, semicolons and comments: no rows.
--
SELECT * FROM pg_background_result(pg_background_launch('')) AS (tag text);
SELECT * FROM pg_background_result(pg_background_launch(' ;  ; ')) AS (tag text);
SELECT * FROM pg_background_result(pg_background_launch('-- nothing')) AS (tag text);

--
-- Queue sizes: the default, an explicit one, a tiny one, and a result far
-- bigger than the queue (many rows; one row bigger than the queue).
--
SELECT * FROM pg_background_result(pg_background_launch('SELECT 1')) AS (x int);
SELECT * FROM pg_background_result(pg_background_launch('SELECT 2', 65536)) AS (x int);
SELECT * FROM pg_background_result(pg_background_launch('SELECT 3', 1024)) AS (x int);
SELECT x, length(y) FROM pg_background_result(
    pg_background_launch($$SELECT 4, repeat('y', 300)$$, 64)) AS (x int, y text);
SELECT count(*), sum(g), min(length(pad)), max(length(pad))
  FROM pg_background_result(pg_background_launch(
    $$SELECT g, repeat('p', 100) FROM generate_series(1, 20000) g$$, 1024))
    AS (g int, pad text);
SELECT length(v), v = repeat('abc', 100000) AS same
  FROM pg_background_result(pg_background_launch(
    $$SELECT repeat('abc', 100000)$$, 1024)) AS (v text);

--
-- Results are read once: a second read is an error.
--
SELECT pg_background_launch('SELECT 7') AS pid \gset
SELECT * FROM pg_background_result(:pid) AS (x int);
SELECT * FROM pg_temp.try(format('SELECT * FROM pg_background_result(%s) AS (x int)', :pid));

--
-- Notices and warnings of the worker are passed on.
--
SELECT * FROM pg_background_result(pg_background_launch($$
    DO $d$BEGIN
        RAISE NOTICE 'notice from the worker';
        RAISE WARNING 'warning from the worker';
    END$d$;
    SELECT 'after the notices'
$$)) AS (r text);

--
-- Autonomous transaction: the worker commits on its own, its work
-- survives the caller's rollback, and it does not see the caller's
-- uncommitted rows.
--
TRUNCATE v1_t;
BEGIN;
INSERT INTO v1_t VALUES (1, 'caller, rolled back');
SELECT * FROM pg_background_result(pg_background_launch($$
    INSERT INTO v1_t VALUES (2, 'worker, committed');
    SELECT count(*), string_agg(note, ', ' ORDER BY id) FROM v1_t
$$)) AS (rows_seen bigint, notes text);
ROLLBACK;
SELECT * FROM v1_t ORDER BY id;

-- rows the caller has committed are visible to a later worker
INSERT INTO v1_t VALUES (3, 'caller, committed');
SELECT * FROM pg_background_result(
    pg_background_launch('SELECT id, note FROM v1_t ORDER BY id')) AS (id int, note text);

--
-- Detach is not cancel: a detached worker runs to the end and commits.
--
CREATE TABLE v1_detach (note text);
SELECT pg_background_launch($$
    SELECT pg_sleep(0.2);
    INSERT INTO v1_detach VALUES ('committed after detach')
$$) AS pid \gset
SELECT pg_background_detach(:pid);
-- the handle is gone
SELECT * FROM pg_temp.try(format('SELECT * FROM pg_background_result(%s) AS (x text)', :pid));
SELECT * FROM pg_temp.try(format('SELECT pg_background_detach(%s)', :pid));
-- and the worker still commits
SELECT pg_temp.wait_until('EXISTS (SELECT FROM v1_detach)');
SELECT * FROM v1_detach;

--
-- VACUUM and CREATE INDEX CONCURRENTLY, which cannot run in a transaction
-- block, work in a worker (alone and after other statements).
--
CREATE TABLE v1_maint (a int);
INSERT INTO v1_maint SELECT g FROM generate_series(1, 100) g;
SELECT * FROM pg_background_result(pg_background_launch('VACUUM v1_maint')) AS (tag text);
SELECT * FROM pg_background_result(pg_background_launch(
    'DELETE FROM v1_maint WHERE a > 50; VACUUM (ANALYZE) v1_maint; SELECT count(*) FROM v1_maint'))
    AS (n bigint);
SELECT * FROM pg_background_result(pg_background_launch('ANALYZE v1_maint')) AS (tag text);
-- CREATE INDEX CONCURRENTLY waits for every transaction older than its
-- snapshot, the caller's waiting statement included: the caller must not
-- hold a snapshot while it waits, so it waits in a procedure that commits
-- between short waits.
CREATE PROCEDURE pg_temp.await(p int4, c int8) LANGUAGE plpgsql AS $fn$
BEGIN
    FOR i IN 1..6000 LOOP
        EXIT WHEN pg_background_wait_v2_timeout(p, c, 10);
        COMMIT;
    END LOOP;
END
$fn$;
SELECT * FROM pg_background_launch_v2(
    'CREATE INDEX CONCURRENTLY v1_maint_a ON v1_maint (a)') \gset
CALL pg_temp.await(:pid, :cookie);
SELECT * FROM pg_background_result_v2(:pid, :cookie) AS (tag text);
SELECT indexrelid::regclass AS index, indisvalid, indisready
  FROM pg_index WHERE indrelid = 'v1_maint'::regclass;
SELECT * FROM pg_background_launch_v2(
    'DROP INDEX CONCURRENTLY v1_maint_a; CREATE INDEX CONCURRENTLY v1_maint_b ON v1_maint (a)') \gset
CALL pg_temp.await(:pid, :cookie);
SELECT * FROM pg_background_result_v2(:pid, :cookie) AS (tag text);
SELECT indexrelid::regclass AS index, indisvalid, indisready
  FROM pg_index WHERE indrelid = 'v1_maint'::regclass;

--
-- The worker runs as the caller, in the caller's database.
--
SELECT cu = current_user AS same_current_user,
       su = session_user AS same_session_user,
       db = current_database() AS same_database
  FROM pg_background_result(pg_background_launch(
    'SELECT current_user, session_user, current_database()'))
    AS (cu name, su name, db name);

CREATE ROLE regress_pgbg_v1_user;
GRANT EXECUTE ON FUNCTION pg_background_launch(text, int4),
                          pg_background_result(int4)
    TO regress_pgbg_v1_user;
GRANT ALL ON TABLE v1_t TO regress_pgbg_v1_user;

-- after SET ROLE: current user is the role, session user unchanged
SET ROLE regress_pgbg_v1_user;
SELECT cu, su = session_user AS same_session_user
  FROM pg_background_result(pg_background_launch('SELECT current_user, session_user'))
    AS (cu name, su name);
-- and the worker has the role's privileges, not more
SELECT * FROM pg_temp.try($$SELECT * FROM pg_background_result(
    pg_background_launch('SELECT count(*) FROM v1_detach')) AS (n bigint)$$);
RESET ROLE;

-- inside a SECURITY DEFINER function the worker's current user is the
-- function's owner
CREATE FUNCTION v1_definer_launch() RETURNS TABLE (cu name, su name)
LANGUAGE sql SECURITY DEFINER AS $fn$
    SELECT * FROM pg_background_result(
        pg_background_launch('SELECT current_user, session_user'))
        AS (cu name, su name)
$fn$;
ALTER FUNCTION v1_definer_launch() OWNER TO regress_pgbg_v1_user;
SELECT cu, su = session_user AS same_session_user FROM v1_definer_launch();
DROP FUNCTION v1_definer_launch();

--
-- The worker has the caller's GUC settings, statement_timeout included.
--
CREATE SCHEMA v1_schema;
CREATE TABLE v1_schema.v1_t (source text);
INSERT INTO v1_schema.v1_t VALUES ('v1_schema.v1_t');
SET search_path = v1_schema, public;
SET myapp.x = 'y';
SET work_mem = '7MB';
SET TimeZone = 'Asia/Tokyo';
SET statement_timeout = '10min';
SELECT * FROM pg_background_result(pg_background_launch($$
    SELECT current_setting('search_path'), current_setting('myapp.x'),
           current_setting('work_mem'), current_setting('TimeZone'),
           current_setting('statement_timeout'),
           (SELECT source FROM v1_t)
$$)) AS (search_path text, myapp_x text, work_mem text, timezone text,
         statement_timeout text, unqualified_table text);
RESET statement_timeout;
RESET TimeZone;
RESET work_mem;
RESET myapp.x;
RESET search_path;

--
-- Workers show in pg_stat_activity: backend_type pg_background, the SQL as
-- their query, the caller's database and user.
--
SELECT * FROM pg_background_launch_v2('SELECT pg_sleep(600) /* v1 activity */') \gset
SELECT pg_temp.wait_until(format(
    $$EXISTS (SELECT FROM pg_stat_activity WHERE pid = %s AND state = 'active')$$, :pid));
SELECT backend_type, query, application_name = 'pg_background:' || :pid AS application_name,
       datname = current_database() AS same_database,
       usename = current_user AS same_user
  FROM pg_stat_activity WHERE pid = :pid;
SELECT pg_background_cancel_v2_grace(:pid, :cookie, 60000);
SELECT pg_background_detach_v2(:pid, :cookie);

--
-- Clean up.
--
DROP SCHEMA v1_schema CASCADE;
DROP TABLE v1_t, v1_detach, v1_maint;
DROP OWNED BY regress_pgbg_v1_user;
DROP ROLE regress_pgbg_v1_user;
