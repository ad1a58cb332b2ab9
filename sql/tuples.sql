--
-- tuples: a result whose columns hold no anonymous record comes back from
-- the worker as tuples, not as protocol messages.  Every value must come
-- back exactly: each result read in the background is compared with the
-- same query run here (same = the rows' text forms are equal, in order).
-- Values stored out of line or compressed (TOAST) must survive the end of
-- the worker's transaction and the removal of the rows they came from.
--
\set SHOW_CONTEXT never
SET client_min_messages = warning;
DROP TABLE IF EXISTS tuples_toast, tuples_toast_md5;
DROP DOMAIN IF EXISTS tuples_dpair, tuples_posint;
DROP TYPE IF EXISTS tuples_pair, tuples_mood;
RESET client_min_messages;

\i sql/include/try.sql

CREATE TYPE tuples_mood AS ENUM ('sad', 'ok', 'happy');
CREATE TYPE tuples_pair AS (a int, b text, m tuples_mood);
CREATE DOMAIN tuples_dpair AS tuples_pair CHECK ((VALUE).a > 0);
CREATE DOMAIN tuples_posint AS int CHECK (VALUE > 0);

-- pg_temp.same_rows(sql, coldefs): the rows of sql read from a worker with
-- the column definition list coldefs, and whether they equal sql's here.
CREATE FUNCTION pg_temp.same_rows(sql text, coldefs text,
                                  OUT nrows bigint, OUT same boolean)
LANGUAGE plpgsql AS $fn$
DECLARE
    h record;
    bg text[];
    loc text[];
BEGIN
    SELECT * INTO h FROM pg_background_launch_v2(sql);
    EXECUTE format('SELECT array_agg(r::text) FROM pg_background_result_v2(%s, %s) AS r(%s)',
                   h.pid, h.cookie, coldefs) INTO bg;
    EXECUTE format('SELECT array_agg(r::text) FROM (%s) AS r', sql) INTO loc;
    nrows := cardinality(bg);
    same := bg IS NOT DISTINCT FROM loc;
END
$fn$;

-- enums, composites, arrays of composites, domains over composites,
-- ranges, NULLs in every position (and a row of NULLs only); enough rows
-- for several batches, and a row larger than a batch
CREATE TEMP VIEW tuples_mix_sql(sql) AS SELECT $$
SELECT g AS id,
       CASE WHEN g % 7 <> 1 THEN (ARRAY['sad', 'ok', 'happy'])[g % 3 + 1]::tuples_mood END AS m,
       CASE WHEN g % 7 <> 2 THEN ROW(g, repeat('b', g % 50), 'ok')::tuples_pair END AS p,
       CASE WHEN g % 7 <> 3 THEN ARRAY[ROW(g, NULL, 'sad')::tuples_pair, NULL,
                                       ROW(-g, 'x', NULL)::tuples_pair] END AS ap,
       CASE WHEN g % 7 <> 4 THEN ROW(g, 'd', 'happy')::tuples_dpair END AS dp,
       CASE WHEN g % 7 <> 5 THEN int4range(g, g + 10) END AS r,
       CASE WHEN g % 7 <> 6 THEN ARRAY[numrange(NULL, g), 'empty', NULL] END AS ar,
       CASE WHEN g % 7 <> 0 THEN CASE WHEN g = 77 THEN repeat(md5('x'), 10000)
                                      ELSE md5(g::text) END END AS t
  FROM generate_series(1, 3000) g
UNION ALL
SELECT NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
 ORDER BY 1 NULLS LAST
$$;
SELECT r.* FROM tuples_mix_sql, LATERAL pg_temp.same_rows(sql,
    'id int, m tuples_mood, p tuples_pair, ap tuples_pair[], dp tuples_pair,
     r int4range, ar numrange[], t text') AS r;
-- the same, read with the domain over the composite in the list: its
-- values are converted, and its check applies
SELECT r.* FROM tuples_mix_sql, LATERAL pg_temp.same_rows(sql,
    'id int, m tuples_mood, p tuples_pair, ap tuples_pair[], dp tuples_dpair,
     r int4range, ar numrange[], t text') AS r;
SELECT * FROM pg_temp.try($$SELECT * FROM pg_background_result(
    pg_background_launch('SELECT 1, ROW(-1, ''a'', ''ok'')::tuples_pair'))
    AS (a int, v tuples_dpair)$$);
-- a domain over int in the list: values converted, NULLs and checks too
SELECT r.* FROM pg_temp.same_rows(
    'SELECT g, NULLIF(g, 2) FROM generate_series(1, 5) g ORDER BY g',
    'a int, b tuples_posint') AS r;
SELECT * FROM pg_temp.try($$SELECT * FROM pg_background_result(
    pg_background_launch('SELECT 1, 0')) AS (a int, v tuples_posint)$$);

-- rows around the size of a batch (16 kB: larger rows go in parts), with
-- 8-byte aligned columns after text of every length; read from queues of
-- several sizes, straight from the queue or after the worker has finished
-- (from the local buffer, where the tuples are not aligned)
CREATE FUNCTION pg_temp.same_rows_q(sql text, coldefs text, qsize int,
                                    wait_first boolean,
                                    OUT nrows bigint, OUT same boolean)
LANGUAGE plpgsql AS $fn$
DECLARE
    h record;
    bg text[];
    loc text[];
BEGIN
    SELECT * INTO h FROM pg_background_launch_v2(sql, qsize);
    IF wait_first THEN
        PERFORM pg_background_wait_v2(h.pid, h.cookie);
    END IF;
    EXECUTE format('SELECT array_agg(r::text) FROM pg_background_result_v2(%s, %s) AS r(%s)',
                   h.pid, h.cookie, coldefs) INTO bg;
    EXECUTE format('SELECT array_agg(r::text) FROM (%s) AS r', sql) INTO loc;
    nrows := cardinality(bg);
    same := bg IS NOT DISTINCT FROM loc;
END
$fn$;
CREATE TEMP VIEW tuples_sizes_sql(sql) AS SELECT $$
SELECT g, left(repeat(md5(g::text), 600), n) AS t, g * 1000003::int8 AS i8,
       g / 7.0::float8 AS f8, CASE WHEN g % 3 = 0 THEN 'x' END AS s,
       timestamptz '2020-01-01 00:00+00' + g * interval '1 s' AS ts
  FROM generate_series(1, 400) g,
       LATERAL (SELECT CASE WHEN g % 2 = 0 THEN 16300 + g / 2 ELSE g * 7 END) AS l(n)
 ORDER BY g
$$;
SELECT q, w, r.*
  FROM tuples_sizes_sql, (VALUES (1024), (65536), (16777216)) AS qs(q),
       (VALUES (false), (true)) AS ws(w),
       LATERAL pg_temp.same_rows_q(sql,
           'g int, t text, i8 int8, f8 float8, s text, ts timestamptz', q, w) AS r
 ORDER BY q, w;

-- a column definition list that does not fit is refused before any row
-- is read, and the handle can still be read
SELECT * FROM pg_background_launch_v2(
    'SELECT g, ROW(g, ''x'', ''ok'')::tuples_pair FROM generate_series(1, 3) g') \gset
SELECT * FROM pg_temp.try(format($$SELECT * FROM pg_background_result_v2(%s, %s)
    AS (a int, p text)$$, :pid, :cookie));
SELECT * FROM pg_background_result_v2(:pid, :cookie) AS (a int, p tuples_pair);

-- an anonymous record among other columns still comes back
SELECT r.* FROM pg_temp.same_rows(
    $$SELECT g, ROW(g, 'r'), ROW(g, 'x', 'ok')::tuples_pair FROM generate_series(1, 3) g$$,
    'a int, rec record, p tuples_pair') AS r;

-- TOAST: ext is stored out of line uncompressed, cmp compressed inline,
-- big out of line and compressed
CREATE TABLE tuples_toast (id int, ext text, cmp text, big text);
ALTER TABLE tuples_toast ALTER ext SET STORAGE EXTERNAL;
INSERT INTO tuples_toast
SELECT g, (SELECT string_agg(md5((i * g)::text), '') FROM generate_series(1, 200) i),
       repeat('abc', 10000) || g,
       (SELECT string_agg(md5((i + g)::text) || repeat('z', 32), '') FROM generate_series(1, 20000) i)
  FROM generate_series(1, 3) g;
INSERT INTO tuples_toast VALUES (4, NULL, NULL, NULL);
SELECT id, pg_column_size(ext) < length(ext) AS ext_compressed,
       pg_column_size(cmp) < length(cmp) AS cmp_compressed,
       pg_column_size(big) < length(big) AS big_compressed
  FROM tuples_toast ORDER BY id;
CREATE TABLE tuples_toast_md5 AS
SELECT id, md5(ext) AS ext, md5(cmp) AS cmp, md5(big) AS big,
       length(ext) AS lext, length(big) AS lbig
  FROM tuples_toast;
SELECT r.* FROM pg_temp.same_rows('SELECT * FROM tuples_toast ORDER BY id',
    'id int, ext text, cmp text, big text') AS r;
-- the worker ends before its rows are read; the rows and their TOAST go
SELECT * FROM pg_background_launch_v2('SELECT * FROM tuples_toast ORDER BY id') \gset
SELECT pg_background_wait_v2(:pid, :cookie);
UPDATE tuples_toast SET ext = 'gone', cmp = 'gone', big = 'gone';
DELETE FROM tuples_toast;
VACUUM tuples_toast;
TRUNCATE tuples_toast;
SELECT r.id, md5(r.ext) = m.ext AS ext, md5(r.cmp) = m.cmp AS cmp,
       md5(r.big) = m.big AS big, length(r.ext) = m.lext AS lext,
       length(r.big) = m.lbig AS lbig
  FROM pg_background_result_v2(:pid, :cookie)
       AS r(id int, ext text, cmp text, big text)
  JOIN tuples_toast_md5 m USING (id)
 ORDER BY r.id;

DROP TABLE tuples_toast, tuples_toast_md5;
DROP VIEW tuples_mix_sql, tuples_sizes_sql;
DROP DOMAIN tuples_dpair, tuples_posint;
DROP TYPE tuples_pair, tuples_mood;
