--
-- encoding: a value comes back byte for byte what the same query returns in
-- the session, whatever the caller's client_encoding, including characters
-- the client encoding cannot represent (they stay in the database encoding
-- inside the server).  The database is UTF8.  Nothing non-ASCII is printed:
-- values are compared here, only the verdicts are shown.
--
\set SHOW_CONTEXT never
SET client_min_messages = warning;
DROP TABLE IF EXISTS enc_vals, enc_copy;
DROP TYPE IF EXISTS enc_pair, enc_mood, enc_textrange;
DROP DOMAIN IF EXISTS enc_checked;
DROP FUNCTION IF EXISTS enc_check(text);
RESET client_min_messages;

\i sql/include/try.sql

SELECT pg_encoding_to_char(encoding) AS database_encoding
  FROM pg_database WHERE datname = current_database();

-- e acute (in LATIN1 and WIN1252), euro sign (WIN1252 only), a kanji
-- (EUC_JP only), an emoji (in no single-byte encoding)
CREATE FUNCTION pg_temp.s() RETURNS text IMMUTABLE LANGUAGE sql
    AS $$SELECT 'a' || chr(233) || chr(8364) || chr(26085) || chr(128512) || 'z'$$;
SELECT octet_length(pg_temp.s()) AS octets, length(pg_temp.s()) AS chars;

-- a domain whose CHECK runs while the launcher decodes, and says so
CREATE FUNCTION enc_check(v text) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    RAISE NOTICE 'checking a value of % bytes', octet_length(v);
    RETURN octet_length(v) = 14;
END
$$;
CREATE DOMAIN enc_checked AS text CHECK (enc_check(VALUE));
CREATE TYPE enc_pair AS (t text, n int, ts timestamp);
CREATE TYPE enc_mood AS ENUM ('plain', U&'caf\00e9 \20ac\65e5');
CREATE TYPE enc_textrange AS RANGE (subtype = text);

CREATE TABLE enc_vals AS SELECT
    pg_temp.s() AS t,
    pg_temp.s()::varchar(20) AS vc,
    pg_temp.s()::char(8) AS bp,
    pg_temp.s()::name AS nm,
    chr(233)::"char" AS ch,
    to_json(pg_temp.s()) AS js,
    jsonb_build_object(pg_temp.s(), pg_temp.s()) AS jb,
    NULL::xml AS xm,
    to_tsvector('simple', pg_temp.s()) AS tsv,
    U&'caf\00e9 \20ac\65e5'::enc_mood AS en,
    ARRAY[pg_temp.s(), NULL, 'b'] AS arr,
    ROW(pg_temp.s(), 1, '2024-01-02 03:04:05')::enc_pair AS comp,
    ARRAY[ROW(pg_temp.s(), 2, NULL)::enc_pair] AS comparr,
    enc_textrange('a', pg_temp.s()) AS rng;
-- an xml value needs a server built with libxml; without it xm stays NULL
DO $$
BEGIN
    UPDATE enc_vals SET xm = xmlelement(name x, pg_temp.s());
EXCEPTION WHEN feature_not_supported THEN
    NULL;
END
$$;
-- what the worker runs; anonymous records cannot be stored in a table
CREATE FUNCTION pg_temp.q() RETURNS text IMMUTABLE LANGUAGE sql AS $$
    SELECT 'SELECT *, ROW(t, ROW(t, ARRAY[t]), en, NULL::text) AS rec,
                   ARRAY[ROW(t, 1), NULL, ROW(NULL, 2)] AS recarr,
                   t AS dom
              FROM enc_vals'
$$;

CREATE FUNCTION pg_temp.local_row() RETURNS SETOF record
LANGUAGE plpgsql AS $fn$
BEGIN
    RETURN QUERY EXECUTE pg_temp.q();
END
$fn$;

-- Every column read back in the background, compared with the table's own
-- value through its jsonb form (which holds each value's characters as
-- they are); dom runs the domain's CHECK on the launcher side, here
-- with the notice its function raises.
CREATE FUNCTION pg_temp.compare() RETURNS TABLE (col text, same boolean)
LANGUAGE sql AS $fn$
    SELECT l.key, l.value = r.value
      FROM (SELECT to_jsonb(v) AS j
              FROM pg_temp.local_row() AS v(t text, vc varchar(20), bp char(8),
                     nm name, ch "char", js json, jb jsonb, xm xml,
                     tsv tsvector, en enc_mood, arr text[], comp enc_pair,
                     comparr enc_pair[], rng enc_textrange, rec record,
                     recarr record[], dom text)) AS v,
           (SELECT to_jsonb(w) AS j
              FROM pg_background_result(pg_background_launch(pg_temp.q()))
                AS w(t text, vc varchar(20), bp char(8), nm name, ch "char",
                     js json, jb jsonb, xm xml, tsv tsvector, en enc_mood,
                     arr text[], comp enc_pair, comparr enc_pair[],
                     rng enc_textrange, rec record, recarr record[],
                     dom enc_checked)) AS w,
           LATERAL jsonb_each(v.j) AS l
           JOIN LATERAL jsonb_each(w.j) AS r USING (key)
     ORDER BY l.key
$fn$;

-- the verdicts, and the bytes of plain text through INSERT ... SELECT
CREATE TABLE enc_copy (t text, arr text[], comp enc_pair);
CREATE FUNCTION pg_temp.run() RETURNS TABLE (client text, col text, same boolean)
LANGUAGE plpgsql AS $fn$
BEGIN
    RETURN QUERY SELECT pg_client_encoding()::text, c.col, c.same
                   FROM pg_temp.compare() AS c;
    TRUNCATE enc_copy;
    INSERT INTO enc_copy
        SELECT * FROM pg_background_result(pg_background_launch(
            'SELECT t, arr, comp FROM enc_vals')) AS (t text, arr text[], comp enc_pair);
    RETURN QUERY SELECT pg_client_encoding()::text, 'insert_select'::text,
        (SELECT convert_to(c.t, 'UTF8') = convert_to(v.t, 'UTF8')
                AND c.arr = v.arr AND c.comp = v.comp
           FROM enc_copy c, enc_vals v);
END
$fn$;

SET client_encoding = 'LATIN1';
SELECT * FROM pg_temp.run();
SET client_encoding = 'WIN1252';
SELECT * FROM pg_temp.run() WHERE NOT same;
SET client_encoding = 'EUC_JP';
SELECT * FROM pg_temp.run() WHERE NOT same;
SET client_encoding = 'SQL_ASCII';
SELECT * FROM pg_temp.run() WHERE NOT same;
SET client_encoding = 'UTF8';
SELECT * FROM pg_temp.run() WHERE NOT same;

-- The worker's own SET client_encoding (pg_dump's scripts begin with one)
-- changes nothing on the way back.
SELECT convert_to(w.t, 'UTF8') = convert_to(v.t, 'UTF8') AS same
  FROM pg_background_result(pg_background_launch(
         'SET client_encoding = ''LATIN1''; SELECT t FROM enc_vals')) AS w(t text),
       enc_vals v;
SELECT convert_to(w.t, 'UTF8') = convert_to(v.t, 'UTF8') AS same
  FROM pg_background_result(pg_background_launch(
         'SELECT t FROM enc_vals
           WHERE set_config(''client_encoding'', ''EUC_JP'', false) IS NOT NULL'))
         AS w(t text),
       enc_vals v;

-- An error raised while decoding (here the domain's CHECK, after its
-- notice) leaves the client encoding as it was.
SET client_encoding = 'LATIN1';
SELECT * FROM pg_temp.try($$
    SELECT * FROM pg_background_result(pg_background_launch(
        'SELECT ''x''::text')) AS (v enc_checked)$$);
SELECT pg_client_encoding();
SHOW client_encoding;
-- notices of user code run while decoding still arrive, in order
SELECT octet_length(v) FROM pg_background_result(pg_background_launch(
    'SELECT t FROM enc_vals'))
    AS (v enc_checked);
SELECT pg_client_encoding();
RESET client_encoding;

DROP TABLE enc_vals, enc_copy;
DROP TYPE enc_pair, enc_mood, enc_textrange;
DROP DOMAIN enc_checked;
DROP FUNCTION enc_check(text);
