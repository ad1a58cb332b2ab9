-- pg_temp.rt(typ, expr): round trip.  The worker computes (expr)::typ; it
-- is read back with the column definition list (v typ) and compared with
-- the local (expr)::typ.  Included by the regress tests types and
-- types_pg14.
CREATE FUNCTION pg_temp.rt(typ text, expr text, queue_size int DEFAULT 65536,
                           OUT value text, OUT same boolean)
LANGUAGE plpgsql AS $fn$
BEGIN
    EXECUTE format(
        'SELECT r.v::text, r.v::text IS NOT DISTINCT FROM (%s)::%s::text
           FROM pg_background_result(pg_background_launch(%L, %s)) AS r(v %s)',
        expr, typ, format('SELECT (%s)::%s', expr, typ), queue_size, typ)
    INTO value, same;
END
$fn$;
