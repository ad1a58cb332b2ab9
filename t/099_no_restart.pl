
# Copyright (c) 2026, pg_background contributors

# Runs last.  A mix of everything risky on one server:
#   - cancel_v2_grace and cancel_v2 of sleeping workers,
#   - cancel of a worker blocked on a full queue (with grace, without grace
#     followed by result, without grace followed by detach),
#   - worker FATAL from pg_terminate_backend(pg_backend_pid()) inside the worker,
#     worker canceled with pg_cancel_backend, worker errors,
#   - caller's own wait interrupted by statement_timeout,
#   - caller terminated while its workers run,
#   - detach of running workers,
#   - 200 launch/result cycles (v1, v2, submit_v2 + wait, with worker errors).
# Then: no worker is left, and the postmaster never went through a
# crash-restart cycle (checkpointer's backend_start unchanged, postmaster pid
# unchanged, no crash or reinitialization line in the server log).

use strict;
use warnings FATAL => 'all';

use lib 't';
use PgBgTest;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PgBgTest::new_node('no_restart', max_worker_processes => 8);
my $postmaster_pid = $node->{_pid};
$node->safe_psql(
	'postgres', q{
CREATE TABLE t (tag text);
CREATE FUNCTION pgbg_gate() RETURNS text LANGUAGE plpgsql AS $$
BEGIN PERFORM pg_advisory_xact_lock_shared(42); RETURN 'passed'; END $$;
});

my $s = PgBgTest::session($node);
my $ctl = PgBgTest::session($node);

sub poll
{
	local $Test::Builder::Level = $Test::Builder::Level + 1;
	return PgBgTest::poll($node, @_);
}

sub launch_v2 { return PgBgTest::launch_v2(@_); }

sub result_state
{
	my ($pid, $cookie, $cols) = @_;
	$cols //= '(x text)';
	my ($out, $err) = PgBgTest::query($s,
		"SELECT count(*) FROM pg_background_result_v2($pid, $cookie) AS $cols");
	return PgBgTest::sqlstate($err) // 'ok';
}

sub worker_waiting
{
	my ($pid, $events) = @_;
	return qq{SELECT count(*) = 1 FROM pg_stat_activity
	          WHERE pid = $pid AND wait_event IN ($events)};
}
my $sleeping = q{'PgSleep'};
my $queue_full = q{'MessageQueueSend', 'MessageQueuePutMessage'};

# --------------------------------------------------------------------------
# cancel_v2_grace / cancel_v2 of sleepers
# --------------------------------------------------------------------------
{
	my @h = map { [ launch_v2($s, q{SELECT 'never'::text FROM pg_sleep(300)}) ] }
	  1 .. 3;
	poll(worker_waiting($_->[0], $sleeping), "sleeper $_->[0] running") for @h;
	for my $h (@h[ 0, 1 ])
	{
		PgBgTest::query_ok($s,
			"SELECT pg_background_cancel_v2_grace($h->[0], $h->[1], 60000)");
		is(result_state(@$h), '57014', 'sleeper canceled with grace: 57014');
	}
	PgBgTest::query_ok($s, "SELECT pg_background_cancel_v2($h[2][0], $h[2][1])");
	is(result_state(@{ $h[2] }), '57014',
		'sleeper canceled without grace, result read: 57014');
}

# --------------------------------------------------------------------------
# cancel of workers blocked on a full queue
# --------------------------------------------------------------------------
{
	my $big = q{SELECT g, repeat('x', 500) FROM generate_series(1, 100000) g};
	my @h = map { [ launch_v2($s, $big, 1024) ] } 1 .. 3;
	poll(worker_waiting($_->[0], $queue_full), "worker $_->[0] blocked on a full queue")
	  for @h;

	PgBgTest::query_ok($s,
		"SELECT pg_background_cancel_v2_grace($h[0][0], $h[0][1], 60000)");
	is(result_state(@{ $h[0] }, '(g int, x text)'),
		'57014', 'full queue, canceled with grace: 57014');

	PgBgTest::query_ok($s, "SELECT pg_background_cancel_v2($h[1][0], $h[1][1])");
	is(result_state(@{ $h[1] }, '(g int, x text)'),
		'57014', 'full queue, canceled without grace, result read: 57014');

	PgBgTest::query_ok($s,
		"SELECT pg_background_cancel_v2($h[2][0], $h[2][1]);\n"
		  . "SELECT pg_background_detach_v2($h[2][0], $h[2][1])");
	poll("SELECT count(*) = 0 FROM pg_stat_activity WHERE pid = $h[2][0]",
		'full queue, canceled without grace and detached: worker ended');
}

# --------------------------------------------------------------------------
# worker FATAL, worker query canceled, worker errors
# --------------------------------------------------------------------------
{
	my @h = launch_v2($s,
		q{INSERT INTO t VALUES ('fatal'); SELECT pg_terminate_backend(pg_backend_pid())::text}
	);
	is(result_state(@h), '57P01', 'worker FATAL: the caller gets 57P01 (as ERROR)');

	@h = launch_v2($s, q{SELECT pg_terminate_backend(pg_backend_pid())::text});
	PgBgTest::query_ok($s, "SELECT pg_background_wait_v2($h[0], $h[1])");
	is(result_state(@h), '57P01', 'worker FATAL, waited for first: 57P01');

	my $out = PgBgTest::query_ok($s,
		q{SELECT pid, cookie FROM pg_background_submit_v2('SELECT pg_terminate_backend(pg_backend_pid())')}
	);
	@h = split /\|/, $out;
	PgBgTest::query_ok($s, "SELECT pg_background_wait_v2($h[0], $h[1])");
	PgBgTest::query_ok($s, "SELECT pg_background_detach_v2($h[0], $h[1])");
	pass('submitted worker FATAL: waited and detached');

	@h = launch_v2($s, q{SELECT 'never'::text FROM pg_sleep(300)});
	poll(worker_waiting($h[0], $sleeping), 'sleeper to be canceled running');
	$node->safe_psql('postgres', "SELECT pg_cancel_backend($h[0])");
	is(result_state(@h), '57014', 'worker canceled with pg_cancel_backend: 57014');

	@h = launch_v2($s, q{SELECT (1/0)::text});
	is(result_state(@h), '22012', 'worker error: 22012');

	is($node->safe_psql('postgres', "SELECT count(*) FROM t WHERE tag = 'fatal'"),
		'0', 'worker FATAL: its INSERT did not commit');
}

# --------------------------------------------------------------------------
# the caller's own wait interrupted by its statement_timeout
# --------------------------------------------------------------------------
{
	my @h = launch_v2($s, q{SELECT 'never'::text FROM pg_sleep(300)});
	my ($out, $err) = PgBgTest::query($s,
		"SET statement_timeout = '100ms';\n"
		  . "SELECT pg_background_wait_v2($h[0], $h[1]);\n"
		  . "RESET statement_timeout");
	is(PgBgTest::sqlstate($err), '57014',
		'wait_v2 interrupted by the caller\'s statement_timeout');
	PgBgTest::query_ok($s,
		"SELECT pg_background_cancel_v2_grace($h[0], $h[1], 60000)");
	is(result_state(@h), '57014', 'then canceled: 57014');
}

# --------------------------------------------------------------------------
# caller terminated while its workers run (one blocked on a full queue)
# --------------------------------------------------------------------------
{
	PgBgTest::query_ok($ctl, 'SELECT pg_advisory_lock(42)');
	my $caller = PgBgTest::session($node);
	my $caller_pid = PgBgTest::query_ok($caller, 'SELECT pg_backend_pid()');
	my @g = launch_v2($caller,
		q{SELECT pgbg_gate(); INSERT INTO t VALUES ('orphan')});
	my @f = launch_v2($caller,
		q{SELECT g, repeat('x', 500) FROM generate_series(1, 20000) g}, 1024);
	PgBgTest::query_ok($caller,
		q{SELECT pg_background_submit_v2($$SELECT pgbg_gate(); INSERT INTO t VALUES ('orphan')$$)}
	);
	poll(worker_waiting($f[0], $queue_full), 'orphan-to-be blocked on a full queue');
	poll(
		q{SELECT count(*) = 2 FROM pg_stat_activity
		  WHERE backend_type = 'pg_background' AND wait_event = 'advisory'},
		'two orphans-to-be at the gate');
	ok(PgBgTest::terminate($node, $caller_pid), 'caller terminated');
	PgBgTest::close_session($caller);
	PgBgTest::query_ok($ctl, 'SELECT pg_advisory_unlock(42)');
	poll(q{SELECT count(*) = 2 FROM t WHERE tag = 'orphan'},
		'workers of the terminated caller committed');
}

# --------------------------------------------------------------------------
# detach of running workers
# --------------------------------------------------------------------------
{
	PgBgTest::query_ok($ctl, 'SELECT pg_advisory_lock(42)');
	my @h = map {
		[ launch_v2($s, q{SELECT pgbg_gate(); INSERT INTO t VALUES ('detached')}) ]
	} 1 .. 3;
	PgBgTest::query_ok($s, "SELECT pg_background_detach_v2($_->[0], $_->[1])")
	  for @h;
	my $v1 = PgBgTest::query_ok($s,
		q{SELECT pg_background_launch($$SELECT pgbg_gate(); INSERT INTO t VALUES ('detached')$$)}
	);
	PgBgTest::query_ok($s, "SELECT pg_background_detach($v1)");
	PgBgTest::query_ok($ctl, 'SELECT pg_advisory_unlock(42)');
	poll(q{SELECT count(*) = 4 FROM t WHERE tag = 'detached'},
		'detached running workers ran to the end and committed');
}

# --------------------------------------------------------------------------
# 200 launch/result cycles
# --------------------------------------------------------------------------
is( PgBgTest::query_ok(
		$s, q{
DO $$
DECLARE
  h pg_background_handle; p int; n int; ok int := 0; failed int := 0;
BEGIN
  FOR i IN 1..200 LOOP
    BEGIN
      CASE i % 5
      WHEN 0 THEN    -- v1
        p := pg_background_launch(format('SELECT %s', i));
        SELECT x INTO n FROM pg_background_result(p) AS (x int);
      WHEN 1 THEN    -- v2
        h := pg_background_launch_v2(format('SELECT %s', i));
        SELECT x INTO n FROM pg_background_result_v2(h.pid, h.cookie) AS (x int);
      WHEN 2 THEN    -- submit + wait
        h := pg_background_submit_v2(format('SELECT %s', i));
        PERFORM pg_background_wait_v2(h.pid, h.cookie);
        PERFORM pg_background_detach_v2(h.pid, h.cookie);
        n := i;
      WHEN 3 THEN    -- worker error
        h := pg_background_launch_v2('SELECT 1/0');
        SELECT x INTO n FROM pg_background_result_v2(h.pid, h.cookie) AS (x int);
      ELSE           -- several statements, wait then read
        h := pg_background_launch_v2(format('SELECT 1; SELECT %s', i), 1024);
        PERFORM pg_background_wait_v2(h.pid, h.cookie);
        SELECT x INTO n FROM pg_background_result_v2(h.pid, h.cookie) AS (x int);
      END CASE;
      IF n = i THEN ok := ok + 1; END IF;
    EXCEPTION WHEN division_by_zero THEN
      failed := failed + 1;
    END;
  END LOOP;
  PERFORM set_config('pgbg.cycles', ok || ' ok, ' || failed || ' failed', false);
END $$;
SELECT current_setting('pgbg.cycles');
}),
	'160 ok, 40 failed',
	'200 launch/result cycles: 160 results right, 40 worker errors caught');

$s->quit;
$ctl->quit;
PgBgTest::wait_for_no_workers($node);
is($node->safe_psql('postgres', 'SELECT 1'), '1', 'server still answers');
is($node->{_pid}, $postmaster_pid, 'same postmaster');
PgBgTest::assert_no_restart($node);
$node->stop;
done_testing();
