--
-- reentrancy: code run while a result is read (here a domain's check) that
-- calls back into pg_background for the worker being read gets 55006
-- (object_in_use) and changes nothing; the handle stays usable.
--
\set SHOW_CONTEXT never
\i sql/include/try.sql

CREATE TEMP TABLE reent_target (pid int4, cookie int8);
CREATE FUNCTION pg_temp.reent_check(v int) RETURNS bool
LANGUAGE plpgsql AS $$
DECLARE t record;
BEGIN
    IF v = 2 THEN
        SELECT * INTO t FROM reent_target;
        PERFORM pg_background_detach_v2(t.pid, t.cookie);
    END IF;
    RETURN true;
END $$;
CREATE DOMAIN pg_temp.reent_int AS int CHECK (pg_temp.reent_check(VALUE));

INSERT INTO reent_target
SELECT pid, cookie FROM pg_background_launch_v2('SELECT g FROM generate_series(1, 3) g');
SELECT t FROM reent_target,
       pg_temp.try(format('SELECT * FROM pg_background_result_v2(%s, %s) AS (x pg_temp.reent_int)',
                          pid, cookie)) t
 WHERE t NOT LIKE 'CONTEXT:%';
-- the handle is still there, its read begun, and detach works now
SELECT l.consumed
  FROM reent_target r,
       pg_background_list_v2()
         AS l(pid int4, cookie int8, launched_at timestamptz, user_id oid,
              queue_size int4, state text, sql_preview text, last_error text,
              consumed bool)
 WHERE l.pid = r.pid AND l.cookie = r.cookie;
SELECT pg_background_detach_v2(pid, cookie) FROM reent_target;
SELECT count(*) AS handles_left
  FROM pg_background_list_v2()
    AS (pid int4, cookie int8, launched_at timestamptz, user_id oid,
        queue_size int4, state text, sql_preview text, last_error text,
        consumed bool);
