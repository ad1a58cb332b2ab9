--
-- types: every class of data type comes back from the worker unchanged.
-- Each value is computed by the worker and compared with the same
-- expression computed here: value = the round-tripped value as text,
-- same = whether it equals the local one.
--
-- Nothing printed here may vary between runs: no PIDs, cookies, OIDs or
-- timestamps.  CONTEXT lines name the worker's PID, so psql never shows
-- them; pg_temp.try() prints SQLSTATE, message, detail, hint and context
-- with the PID masked.
--
\set SHOW_CONTEXT never
SET client_min_messages = warning;
DROP TABLE IF EXISTS types_dropped, types_acl_t;
DROP TYPE IF EXISTS types_nested, types_pair, types_mood, types_with_acl, types_acl_mix;
DROP DOMAIN IF EXISTS types_posint, types_notnull;
DROP ROLE IF EXISTS regress_pgbg_types_grantor;
RESET client_min_messages;

-- Output of the local side and the worker (which inherits these) is fixed.
SET DateStyle = 'ISO, YMD';
SET IntervalStyle = 'postgres';
SET TimeZone = 'UTC';
SET extra_float_digits = 1;
SET bytea_output = 'hex';
SET lc_monetary = 'C';

\i sql/include/try.sql

\i sql/include/round_trip.sql

--
-- Numbers
--
SELECT t.typ, r.value, r.same
  FROM (VALUES
    (1, 'int2', '32767'), (2, 'int2', '-32768'),
    (3, 'int4', '2147483647'), (4, 'int4', '-2147483648'),
    (5, 'int8', '9223372036854775807'), (6, 'int8', '-9223372036854775808'),
    (7, 'numeric', '0'), (8, 'numeric', '-1.50'),
    (9, 'numeric', $$'NaN'$$),
    (12, 'numeric', '12345678901234567890123456789.123456789012345678901234567890'),
    (13, 'numeric(10,2)', '12345678.9'), (14, 'numeric', '1e-30'),
    (15, 'float4', '3.14'), (16, 'float4', $$'Infinity'$$),
    (17, 'float4', $$'-Infinity'$$), (18, 'float4', $$'NaN'$$),
    (19, 'float4', $$'-0'$$), (20, 'float4', '1.4e-45'),
    (21, 'float8', $$'Infinity'$$), (22, 'float8', $$'-Infinity'$$),
    (23, 'float8', $$'NaN'$$), (24, 'float8', '1.7976931348623157e308'),
    (25, 'float8', '5e-324'), (26, 'float8', '0.1'),
    (27, 'oid', '4294967295'), (28, 'money', '-92233720368547758.08')
  ) AS t(n, typ, expr),
  LATERAL pg_temp.rt(t.typ, t.expr) AS r
 ORDER BY t.n;

-- the same values compared with = (NaN = NaN holds for numeric and float)
SELECT a = 32767::int2 AS int2, b = -2147483648 AS int4,
       c = 9223372036854775807 AS int8, d = 'NaN'::numeric AS numeric_nan,
       e = 12345678901234567890123456789.123456789012345678901234567890 AS numeric_big,
       f = 'NaN'::float4 AS float4_nan, g = 'Infinity'::float8 AS float8_inf,
       h = 0.1::float8 AS float8, i = 1.50::numeric(4,2) AS numeric_typmod
  FROM pg_background_result(pg_background_launch($$
    SELECT 32767::int2, (-2147483648)::int4, 9223372036854775807::int8,
           'NaN'::numeric, 12345678901234567890123456789.123456789012345678901234567890,
           'NaN'::float4, 'Infinity'::float8, 0.1::float8, 1.5::numeric(4,2)
  $$)) AS (a int2, b int4, c int8, d numeric, e numeric, f float4, g float8,
           h float8, i numeric(4,2));

--
-- Booleans, strings, bytea
--
SELECT t.typ, r.value, r.same
  FROM (VALUES
    (1, 'bool', 'true'), (2, 'bool', 'false'),
    (3, 'text', $$'hello'$$), (4, 'text', $$''$$),
    (5, 'varchar(5)', $$'abc'$$), (6, 'char(5)', $$'ab'$$),
    (7, 'bpchar', $$'ab  '$$), (8, 'name', $$'a_name'$$),
    (9, '"char"', $$'x'$$),
    (10, 'bytea', $$'\x00ff00'$$), (11, 'bytea', $$'\x'$$),
    (12, 'bytea', $$'\x000000000a0d5c27'$$)
  ) AS t(n, typ, expr),
  LATERAL pg_temp.rt(t.typ, t.expr) AS r
 ORDER BY t.n;
-- control characters, quotes and backslashes survive
SELECT length(r.value), r.same
  FROM pg_temp.rt('text', $$E'tab\there\nnew line ''quoted'' \\backslash\\ "dq"'$$) AS r;
-- bytea made of zero bytes
SELECT length(v), v = decode(repeat('00', 1000), 'hex') AS same
  FROM pg_background_result(pg_background_launch(
    $$SELECT decode(repeat('00', 1000), 'hex')$$)) AS (v bytea);

--
-- Date and time
--
SELECT t.typ, r.value, r.same
  FROM (VALUES
    (1, 'date', $$'2024-02-29'$$), (2, 'date', $$'infinity'$$),
    (3, 'date', $$'-infinity'$$), (4, 'date', $$'4713-01-01 BC'$$),
    (5, 'time', $$'23:59:59.999999'$$), (6, 'time(2)', $$'12:34:56.789'$$),
    (7, 'timetz', $$'12:34:56+05:30'$$),
    (8, 'timestamp', $$'2000-01-01 00:00:00.000001'$$),
    (9, 'timestamp', $$'infinity'$$),
    (10, 'timestamptz', $$'2024-06-30 12:00:00+02'$$),
    (11, 'timestamptz', $$'294276-12-31 23:59:59.999999+00'$$),
    (12, 'interval', $$'1 year 2 mons 3 days 04:05:06.789'$$),
    (13, 'interval', $$'-178000000 years'$$),
    (14, 'interval day to second', $$'3 days 04:05:06'$$)
  ) AS t(n, typ, expr),
  LATERAL pg_temp.rt(t.typ, t.expr) AS r
 ORDER BY t.n;

--
-- Network, uuid, json, text search, geometry, ranges, bits, misc
-- (numeric infinity and multiranges, PostgreSQL 14+: types_pg14)
--
SELECT t.typ, r.value, r.same
  FROM (VALUES
    (1, 'uuid', $$'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'$$),
    (2, 'inet', $$'192.168.1.1/24'$$), (3, 'inet', $$'::1'$$),
    (4, 'cidr', $$'10.0.0.0/8'$$), (5, 'cidr', $$'2001:db8::/32'$$),
    (6, 'macaddr', $$'08:00:2b:01:02:03'$$),
    (7, 'macaddr8', $$'08:00:2b:01:02:03:04:05'$$),
    (8, 'json', $$'{"a": [1, 2, null],  "b" : "x"}'$$),
    (9, 'jsonb', $$'{"a": [1, 2, null],  "b" : "x"}'$$),
    (10, 'jsonpath', $$'$.a[*] ? (@ > 1)'$$),
    (11, 'tsvector', $$'a fat cat sat on a mat'$$),
    (12, 'tsquery', $$'fat & (rat | cat)'$$),
    (13, 'point', $$'(1.5,-2)'$$), (14, 'box', $$'(1,1),(0,0)'$$),
    (15, 'circle', $$'<(1,1),2>'$$), (16, 'polygon', $$'((0,0),(1,1),(1,0))'$$),
    (17, 'path', $$'[(0,0),(1,1)]'$$), (18, 'lseg', $$'[(0,0),(1,1)]'$$),
    (19, 'line', $$'{1,2,3}'$$),
    (20, 'int4range', $$'[1,10)'$$), (21, 'int4range', $$'empty'$$),
    (22, 'numrange', $$'(1.5,)'$$),
    (23, 'tstzrange', $$'[2024-01-01 00:00+00,2024-12-31 00:00+00)'$$),
    (25, 'bit(4)', $$B'1010'$$), (26, 'varbit', $$B'101'$$),
    (27, 'tid', $$'(0,1)'$$), (28, 'pg_lsn', $$'16/B374D848'$$),
    (29, 'regclass', $$'pg_class'$$), (30, 'regtype', $$'integer'$$),
    (31, 'int2vector', $$'1 2 3'$$), (32, 'oidvector', $$'1 2 3'$$),
    (33, 'txid_snapshot', $$'10:20:10,14,15'$$),
    (34, 'money', $$'12.34'$$)
  ) AS t(n, typ, expr),
  LATERAL pg_temp.rt(t.typ, t.expr) AS r
 ORDER BY t.n;

-- xml, when the server was built with libxml
CREATE FUNCTION pg_temp.xml_supported() RETURNS boolean
LANGUAGE plpgsql AS $fn$
BEGIN
    PERFORM '<a/>'::xml;
    RETURN true;
EXCEPTION WHEN feature_not_supported THEN
    RETURN false;
END
$fn$;
SELECT CASE WHEN pg_temp.xml_supported()
            THEN (SELECT same FROM pg_temp.rt('xml', $$'<a x="1">t<b/></a>'$$))
            ELSE true END AS xml_same;

--
-- Arrays (the literals are quoted by quote_literal)
--
SELECT t.typ, r.value, r.same
  FROM (VALUES
    (1, 'int4[]', $${1,2,3}$$), (2, 'int4[]', $${{1,2},{3,4}}$$),
    (3, 'int4[]', $${1,NULL,3}$$), (4, 'int4[]', $${NULL}$$),
    (5, 'int4[]', $${}$$), (6, 'int4[]', $$[0:1]={1,2}$$),
    (7, 'int4[]', $${{{1}},{{2}}}$$),
    (8, 'text[]', $${"a b","c,d","e\"f",NULL,"","{}"}$$),
    (9, 'text[]', $${{a,b},{NULL,d}}$$),
    (10, 'numeric[]', $${1.5,NaN,NULL}$$),
    (11, 'bytea[]', $${"\\x00",NULL}$$),
    (12, 'timestamptz[]', $${"2024-01-01 00:00:00+00",infinity}$$),
    (13, 'jsonb[]', $${"{\"a\": 1}",null}$$),
    (14, 'int4range[]', $${"[1,2)",empty}$$)
  ) AS t(n, typ, lit),
  LATERAL pg_temp.rt(t.typ, quote_literal(t.lit)) AS r
 ORDER BY t.n;

--
-- Enums and domains you create; arrays of them
--
CREATE TYPE types_mood AS ENUM ('sad', 'ok', 'happy');
CREATE DOMAIN types_posint AS int CHECK (VALUE > 0);
CREATE DOMAIN types_notnull AS int NOT NULL;
SELECT t.typ, r.value, r.same
  FROM (VALUES
    (1, 'types_mood', $$'happy'$$), (2, 'types_mood[]', $$'{sad,NULL,ok}'$$),
    (3, 'types_posint', '42'), (4, 'types_posint[]', $$'{1,2}'$$),
    (5, 'types_posint', 'NULL')
  ) AS t(n, typ, expr),
  LATERAL pg_temp.rt(t.typ, t.expr) AS r
 ORDER BY t.n;
-- a domain column can be read as its base type or as the domain
SELECT v, pg_typeof(v) FROM pg_background_result(
    pg_background_launch('SELECT 7::types_posint')) AS (v int);
SELECT v, pg_typeof(v) FROM pg_background_result(
    pg_background_launch('SELECT 7::types_posint')) AS (v types_posint);
SELECT v, pg_typeof(v) FROM pg_background_result(
    pg_background_launch('SELECT 7')) AS (v types_posint);
-- read as the domain, the domain's constraints apply
SELECT * FROM pg_temp.try($$SELECT * FROM pg_background_result(
    pg_background_launch('SELECT -1')) AS (v types_posint)$$);
SELECT * FROM pg_temp.try($$SELECT * FROM pg_background_result(
    pg_background_launch('SELECT NULL::int')) AS (v types_notnull)$$);
-- an enum must be read as itself
SELECT * FROM pg_temp.try($$SELECT * FROM pg_background_result(
    pg_background_launch('SELECT ''ok''::types_mood')) AS (v text)$$);

--
-- Composite types you create (named), with NULL fields, nested, in arrays;
-- a table's row type with a dropped column
--
CREATE TYPE types_pair AS (a int, b text);
CREATE TYPE types_nested AS (p types_pair, tags text[], m types_mood, d types_posint);
CREATE TABLE types_dropped (a int, gone int, c text);
ALTER TABLE types_dropped DROP COLUMN gone;
INSERT INTO types_dropped VALUES (1, 'kept');
SELECT t.typ, r.value, r.same
  FROM (VALUES
    (1, 'types_pair', $$ROW(1, 'x')$$), (2, 'types_pair', $$ROW(NULL, NULL)$$),
    (3, 'types_pair', 'NULL'),
    (4, 'types_nested', $$ROW(ROW(2, 'y'), '{a,NULL}', 'ok', 3)$$),
    (5, 'types_nested', $$ROW(NULL, NULL, NULL, NULL)$$),
    (6, 'types_pair[]', $$ARRAY[ROW(1, 'a')::types_pair, NULL, ROW(NULL, 'c')]$$),
    (7, 'types_dropped', '(SELECT d FROM types_dropped d)')
  ) AS t(n, typ, expr),
  LATERAL pg_temp.rt(t.typ, t.expr) AS r
 ORDER BY t.n;
-- fields come back typed
SELECT (v).a + 1 AS a_plus_one, upper((v).b) AS b_upper
  FROM pg_background_result(pg_background_launch(
    $$SELECT ROW(41, 'x')::types_pair$$)) AS (v types_pair);

--
-- Anonymous records: ROW(...) read with AS (r record)
--
SELECT t.n, r.value, r.same
  FROM (VALUES
    (1, $$ROW(1, 'a', NULL)$$),
    (2, $$ROW(ROW(1, 'inner'), 2)$$),
    (3, $$ROW(1.5::numeric, 'happy'::types_mood, ROW(2, 'x')::types_pair,
             ARRAY[1, 2], NULL::text, 3::types_posint, '\x00'::bytea)$$),
    (4, $$ROW()$$),
    (5, 'NULL::record')
  ) AS t(n, expr),
  LATERAL pg_temp.rt('record', t.expr) AS r
 ORDER BY t.n;
SELECT * FROM pg_background_result(pg_background_launch(
    $$SELECT ROW(1, 'a'), 'between', ROW(2.5, ROW(true))$$))
    AS (r record, t text, s record);
-- an array of anonymous records
SELECT * FROM pg_temp.rt('record[]', $$ARRAY[ROW(1, 'a'), ROW(2, NULL)]$$);

--
-- NULLs in every position
--
SELECT * FROM pg_background_result(pg_background_launch($$
    VALUES (NULL::int, 2::bigint, 'c'::text, '\x01'::bytea, 1.5::numeric),
           (1, NULL, 'c', '\x01', 1.5),
           (1, 2, NULL, '\x01', 1.5),
           (1, 2, 'c', NULL, 1.5),
           (1, 2, 'c', '\x01', NULL),
           (NULL, NULL, NULL, NULL, NULL)
$$)) AS (a int, b bigint, c text, d bytea, e numeric);
SELECT t.typ, r.value IS NULL AS is_null, r.same
  FROM (VALUES (1, 'bool'), (2, 'float8'), (3, 'date'), (4, 'timestamptz'),
               (5, 'interval'), (6, 'uuid'), (7, 'inet'), (8, 'jsonb'),
               (9, 'int4[]'), (10, 'types_mood'), (11, 'types_pair'),
               (12, 'int4range'), (13, 'aclitem'), (14, 'name'), (15, 'char(3)')
  ) AS t(n, typ),
  LATERAL pg_temp.rt(t.typ, 'NULL') AS r
 ORDER BY t.n;

--
-- Large values: 1 MB, and 10 MB through a 1024-byte queue
--
SELECT length(v), md5(v) = md5(repeat('0123456789abcdef', 65536)) AS same
  FROM pg_background_result(pg_background_launch(
    $$SELECT repeat('0123456789abcdef', 65536)$$)) AS (v text);
SELECT length(v), md5(v) = md5(repeat('x', 10 * 1024 * 1024)) AS same
  FROM pg_background_result(pg_background_launch(
    $$SELECT repeat('x', 10 * 1024 * 1024)$$, 1024)) AS (v text);
SELECT length(v), md5(v) = md5(decode(repeat('00ff', 1024 * 1024), 'hex')) AS same
  FROM pg_background_result(pg_background_launch(
    $$SELECT decode(repeat('00ff', 1024 * 1024), 'hex')$$, 1024)) AS (v bytea);
SELECT count(*), sum(length(v)) FROM pg_background_result(pg_background_launch(
    $$SELECT repeat('y', 100000) FROM generate_series(1, 20)$$, 1024)) AS (v text);

--
-- A type without binary send/receive functions comes back through text
-- I/O: aclitem (typsend = 0)
--
SELECT typname, typsend = 0 AS no_send, typreceive = 0 AS no_receive
  FROM pg_type WHERE typname = 'aclitem';
CREATE ROLE regress_pgbg_types_grantor;
SELECT * FROM pg_temp.rt('aclitem', $$'=r/regress_pgbg_types_grantor'$$);
SELECT * FROM pg_temp.rt('aclitem',
    $$'regress_pgbg_types_grantor=arwdDxt*/regress_pgbg_types_grantor'$$);
-- mixed with binary columns in the same row
SELECT * FROM pg_background_result(pg_background_launch($$
    SELECT 1, '=r/regress_pgbg_types_grantor'::aclitem, 'x'::text, NULL::aclitem
$$)) AS (a int, b aclitem, c text, d aclitem);
-- inside arrays, anonymous records and composite types
SELECT * FROM pg_temp.rt('aclitem[]', $$'{=r/regress_pgbg_types_grantor,NULL}'$$);
-- an anonymous record's fields without binary I/O travel as text, each
-- with its type: at any depth, in arrays of records, NULL or not
SELECT * FROM pg_temp.rt('record', $$ROW('=r/regress_pgbg_types_grantor'::aclitem, 1)$$);
CREATE TYPE types_with_acl AS (acl aclitem, n int);
SELECT * FROM pg_temp.rt('types_with_acl', $$ROW('=r/regress_pgbg_types_grantor', 1)$$);
SELECT t.n, r.value, r.same
  FROM (VALUES
    (1, 'record', $$ROW(NULL::aclitem, '{=r/regress_pgbg_types_grantor}'::aclitem[])$$),
    (2, 'record', $$ROW(ROW(1, '=r/regress_pgbg_types_grantor'::aclitem), 'x')$$),
    (3, 'record', $$ROW(ROW('=r/regress_pgbg_types_grantor', 2)::types_with_acl)$$),
    (4, 'record', $$ROW(ARRAY[ROW('=r/regress_pgbg_types_grantor'::aclitem)])$$),
    (5, 'record[]', $$ARRAY[ROW(1, '=r/regress_pgbg_types_grantor'::aclitem), NULL,
                            ROW(2, NULL::aclitem)]$$),
    (6, 'record[]', $$'{}'::record[]$$)
  ) AS t(n, typ, expr),
  LATERAL pg_temp.rt(t.typ, t.expr) AS r
 ORDER BY t.n;
-- fields come back typed: aclitem, not text
CREATE FUNCTION pg_temp.f2(r record, OUT typ text, OUT same boolean)
LANGUAGE plpgsql AS $fn$
BEGIN
    typ := pg_typeof(r.f2)::text;
    same := r.f2::text = '=r/regress_pgbg_types_grantor';
END
$fn$;
SELECT (pg_temp.f2(r)).*
  FROM pg_background_result(pg_background_launch(
    $$SELECT ROW(1, '=r/regress_pgbg_types_grantor'::aclitem)$$)) AS (r record);
-- a column sent as text (its composite holds an aclitem) does not depend
-- on settings the worker's SQL changes: the worker writes and the caller
-- reads its text with the same DateStyle, IntervalStyle and float digits,
-- while the worker's own expressions keep the worker's settings
CREATE TYPE types_acl_mix AS (acl aclitem, d date, f float8, i interval);
SELECT w.v::text = ROW('=r/regress_pgbg_types_grantor', make_date(2024, 1, 2),
                       0.1::float8 + 0.2::float8,
                       make_interval(days => -1, hours => 2))::types_acl_mix::text AS same,
       w.arr::text = ARRAY[ROW(NULL, make_date(2024, 12, 1), 1e-300::float8,
                               NULL)::types_acl_mix]::text AS same_array,
       w.worker_style
  FROM pg_background_result(pg_background_launch($$
    SET DateStyle = 'SQL, DMY';
    SET IntervalStyle = 'sql_standard';
    SET extra_float_digits = -10;
    SELECT ROW('=r/regress_pgbg_types_grantor', make_date(2024, 1, 2),
               0.1::float8 + 0.2::float8,
               make_interval(days => -1, hours => 2))::types_acl_mix,
           ARRAY[ROW(NULL, make_date(2024, 12, 1), 1e-300::float8,
                     NULL)::types_acl_mix],
           make_date(2024, 1, 2)::text
  $$)) AS w(v types_acl_mix, arr types_acl_mix[], worker_style text);
-- the same inside an anonymous record, whose field goes as text
SELECT w.r::text = ROW(ROW(NULL, make_date(2024, 1, 2), 0.1::float8 + 0.2::float8,
                           NULL)::types_acl_mix)::text AS same
  FROM pg_background_result(pg_background_launch($$
    SET DateStyle = 'SQL, DMY';
    SET extra_float_digits = -10;
    SELECT ROW(ROW(NULL, make_date(2024, 1, 2), 0.1::float8 + 0.2::float8,
                   NULL)::types_acl_mix)
  $$)) AS w(r record);

-- the everyday case: a catalog's ACL column
CREATE TABLE types_acl_t (a int);
GRANT SELECT ON types_acl_t TO regress_pgbg_types_grantor;
SELECT w.relacl = c.relacl AS same
  FROM pg_background_result(pg_background_launch(
    $$SELECT relacl FROM pg_class WHERE relname = 'types_acl_t'$$)) AS w(relacl aclitem[]),
       pg_class c
 WHERE c.relname = 'types_acl_t';
SELECT w.r::text = c.r::text AS same
  FROM pg_background_result(pg_background_launch(
    $$SELECT ROW(relname, relacl) FROM pg_class WHERE relname = 'types_acl_t'$$)) AS w(r record),
       (SELECT ROW(relname, relacl) FROM pg_class WHERE relname = 'types_acl_t') AS c(r);

--
-- Clean up.
--
DROP TABLE types_dropped, types_acl_t;
DROP TYPE types_nested, types_pair, types_mood, types_with_acl, types_acl_mix;
DROP DOMAIN types_posint, types_notnull;
DROP ROLE regress_pgbg_types_grantor;
