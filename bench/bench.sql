-- bench/bench.sql -- server-side helpers of bench/run.sh (loaded into the
-- benchmark's own throwaway database; never into a real one).
--
-- Every timing is taken with clock_timestamp() inside the server, so it
-- covers the work of the statement only, not psql's start-up.

-- bench_time(q, n): milliseconds per execution of q, executed n times in
-- this session (results are discarded).
CREATE FUNCTION bench_time(q text, n int) RETURNS float8
LANGUAGE plpgsql AS $$
DECLARE
    t0 timestamptz;
BEGIN
    t0 := clock_timestamp();
    FOR i IN 1..n LOOP
        EXECUTE q;
    END LOOP;
    RETURN extract(epoch FROM clock_timestamp() - t0) * 1000 / n;
END
$$;

-- Fan-out: launch n workers running SELECT 1, then collect them all.
CREATE FUNCTION fanout_bg_result(n int) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    hs pg_background_handle[] := '{}';
    h pg_background_handle;
    total bigint := 0;
    x int;
BEGIN
    FOR i IN 1..n LOOP
        hs := hs || pg_background_launch_v2('SELECT 1');
    END LOOP;
    FOREACH h IN ARRAY hs LOOP
        SELECT r.x INTO STRICT x FROM pg_background_result_v2(h.pid, h.cookie) AS r(x int);
        total := total + x;
    END LOOP;
    RETURN total;
END
$$;

-- The same, collected with wait_v2 (then detach_v2 to release the handle).
CREATE FUNCTION fanout_bg_wait(n int) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    hs pg_background_handle[] := '{}';
    h pg_background_handle;
BEGIN
    FOR i IN 1..n LOOP
        hs := hs || pg_background_launch_v2('SELECT 1');
    END LOOP;
    FOREACH h IN ARRAY hs LOOP
        PERFORM pg_background_wait_v2(h.pid, h.cookie);
        PERFORM pg_background_detach_v2(h.pid, h.cookie);
    END LOOP;
    RETURN n;
END
$$;

-- Reference: the n queries run one after the other in the session.
CREATE FUNCTION fanout_session(n int) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    total bigint := 0;
    x int;
BEGIN
    FOR i IN 1..n LOOP
        EXECUTE 'SELECT 1' INTO x;
        total := total + x;
    END LOOP;
    RETURN total;
END
$$;

-- Reference: n dblink connections opened, each sent the query
-- asynchronously, then all results collected and the connections closed.
CREATE FUNCTION fanout_dblink_new(n int, connstr text) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    total bigint := 0;
    x int;
BEGIN
    FOR i IN 1..n LOOP
        PERFORM dblink_connect('f' || i, connstr);
        PERFORM dblink_send_query('f' || i, 'SELECT 1');
    END LOOP;
    FOR i IN 1..n LOOP
        SELECT r.x INTO STRICT x FROM dblink_get_result('f' || i) AS r(x int);
        total := total + x;
        PERFORM dblink_disconnect('f' || i);
    END LOOP;
    RETURN total;
END
$$;

-- Reference: the same over n connections that stay open (dblink_open_kept
-- opens them once per session, outside the timing).
CREATE FUNCTION dblink_open_kept(n int, connstr text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    FOR i IN 1..n LOOP
        IF NOT ('k' || i) = ANY (coalesce(dblink_get_connections(), '{}')) THEN
            PERFORM dblink_connect('k' || i, connstr);
        END IF;
    END LOOP;
END
$$;

CREATE FUNCTION fanout_dblink_kept(n int) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    total bigint := 0;
    x int;
BEGIN
    FOR i IN 1..n LOOP
        PERFORM dblink_send_query('k' || i, 'SELECT 1');
    END LOOP;
    FOR i IN 1..n LOOP
        SELECT r.x INTO STRICT x FROM dblink_get_result('k' || i) AS r(x int);
        total := total + x;
        -- the empty result that ends each asynchronous query
        PERFORM * FROM dblink_get_result('k' || i) AS r(x int);
    END LOOP;
    RETURN total;
END
$$;

-- This backend's memory: from /proc (Linux) and, on 14+, the total of its
-- memory contexts.
CREATE FUNCTION bench_mem(OUT vmrss_kb bigint, OUT rssanon_kb bigint,
                          OUT vmhwm_kb bigint, OUT contexts_bytes bigint)
LANGUAGE plpgsql AS $$
DECLARE
    s text;
BEGIN
    s := pg_read_file('/proc/self/status', 0, 65536);
    vmrss_kb := substring(s FROM 'VmRSS:\s+(\d+)')::bigint;
    rssanon_kb := substring(s FROM 'RssAnon:\s+(\d+)')::bigint;
    vmhwm_kb := substring(s FROM 'VmHWM:\s+(\d+)')::bigint;
    IF current_setting('server_version_num')::int >= 140000 THEN
        EXECUTE 'SELECT sum(total_bytes) FROM pg_backend_memory_contexts'
            INTO contexts_bytes;
    END IF;
END
$$;

-- Wait until no pg_background worker is left (detached ones finish on their
-- own), so that one workload does not run into the next.  Gives up after
-- timeout_s seconds.
CREATE FUNCTION bench_drain(timeout_s int DEFAULT 120) RETURNS int
LANGUAGE plpgsql AS $$
DECLARE
    t0 timestamptz := clock_timestamp();
    n int;
BEGIN
    LOOP
        PERFORM pg_stat_clear_snapshot();
        SELECT count(*) INTO n FROM pg_stat_activity
         WHERE backend_type = 'pg_background';
        EXIT WHEN n = 0 OR clock_timestamp() - t0 > make_interval(secs => timeout_s);
        PERFORM pg_sleep(0.02);
    END LOOP;
    RETURN n;
END
$$;
