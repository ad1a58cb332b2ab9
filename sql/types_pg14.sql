--
-- types_pg14: values of types that PostgreSQL 14 added or extended, which
-- come back from the worker unchanged like those of the test types.  The
-- Makefile runs this test on PostgreSQL 14 and later only: 13 has neither
-- numeric infinity nor multiranges.
--
\set SHOW_CONTEXT never
SET extra_float_digits = 1;
SET DateStyle = 'ISO, YMD';
SET TimeZone = 'UTC';

\i sql/include/round_trip.sql

SELECT t.typ, r.value, r.same
  FROM (VALUES
    (1, 'numeric', $$'Infinity'$$), (2, 'numeric', $$'-Infinity'$$),
    (3, 'int4multirange', $$'{[1,3), [5,8)}'$$),
    (4, 'int4multirange', $$'{}'$$),
    (5, 'nummultirange', $$'{(1.5,2.5], [3,)}'$$),
    (6, 'tstzmultirange', $$'{[2024-01-01 00:00+00,2024-01-02 00:00+00)}'$$)
  ) AS t(n, typ, expr),
  LATERAL pg_temp.rt(t.typ, t.expr) AS r
 ORDER BY t.n;
-- numeric infinity compares equal to itself after the round trip
SELECT a = 'Infinity'::numeric AS pos, b = '-Infinity'::numeric AS neg
  FROM pg_background_result(pg_background_launch(
    $$SELECT 'Infinity'::numeric, '-Infinity'::numeric$$)) AS (a numeric, b numeric);
