
# Copyright (c) 2026, pg_background contributors

# The calling session is terminated (pg_terminate_backend from another
# session) while it
#   1. is idle and its worker is blocked on a full queue,
#   2. is reading the results of a worker that was blocked on a full queue,
#   3. is waiting in pg_background_wait_v2() with a buffer spilled to disk,
#   4. has just launched workers (v2, submit_v2 and v1),
#   5. is launching workers in a loop (most likely while it waits for a new
#      worker to attach).
# Ending the session is a detach: every worker runs to the end and commits.
# Afterwards: no worker is left, no DSM segment or temporary file leaked, every
# worker slot can be used again, launching keeps working, and the postmaster
# never went through a crash-restart cycle.
#
# Workers are held at a known point by an advisory lock the control session
# owns (pgbg_gate), never by timing.

use strict;
use warnings FATAL => 'all';

use lib 't';
use PgBgTest;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

# mmap puts this node's DSM segments in $PGDATA/pg_dynshmem, where they can be
# counted without seeing other clusters' segments in /dev/shm.
my $node = PgBgTest::new_node(
	'caller_terminated',
	max_worker_processes => 4,
	dsm_type => 'mmap');

$node->safe_psql(
	'postgres', q{
CREATE TABLE t (tag text, pid int);
});
$node->safe_psql('postgres', $PgBgTest::GATE_FUNCTION);

# warm-up cycle, then the baseline of DSM segments
my $dsm_baseline = PgBgTest::warm_up($node);

my $ctl = PgBgTest::session($node);

# launch a v2 worker in session $s; returns (pid, cookie)
sub launch_v2 { return PgBgTest::launch_v2(@_); }

sub new_caller
{
	my $s = PgBgTest::session($node);
	my $pid = PgBgTest::query_ok($s, 'SELECT pg_backend_pid()');
	return ($s, $pid);
}

sub poll
{
	local $Test::Builder::Level = $Test::Builder::Level + 1;
	return PgBgTest::poll($node, @_);
}

sub committed
{
	my ($tag, $n, $what) = @_;
	local $Test::Builder::Level = $Test::Builder::Level + 1;
	poll("SELECT count(*) = $n FROM t WHERE tag = '$tag'", $what);
}

my $worker_on_full_queue =
  q{SELECT count(*) = 1 FROM pg_stat_activity
    WHERE backend_type = 'pg_background' AND wait_event IN ('MessageQueueSend', 'MessageQueuePutMessage')};
my $worker_at_gate =
  q{SELECT count(*) = 1 FROM pg_stat_activity
    WHERE backend_type = 'pg_background' AND wait_event = 'advisory'};

PgBgTest::query_ok($ctl, 'SELECT pg_advisory_lock(42)');

# --------------------------------------------------------------------------
# 1. caller idle, its worker blocked on a full queue
# --------------------------------------------------------------------------
{
	my ($caller, $caller_pid) = new_caller();
	my ($wpid) = launch_v2(
		$caller,
		q{INSERT INTO t VALUES ('fullq', pg_backend_pid());
		  SELECT g, repeat('x', 1000) FROM generate_series(1, 2000) g},
		8192);
	poll($worker_on_full_queue, 'idle caller: worker blocked on a full queue');

	ok(PgBgTest::terminate($node, $caller_pid), 'idle caller terminated');
	PgBgTest::close_session($caller);

	committed('fullq', 1,
		'idle caller terminated: the worker unblocked, finished and committed');
	PgBgTest::wait_for_no_workers($node, 'idle caller terminated: worker gone');
}

# --------------------------------------------------------------------------
# 2. caller inside pg_background_result_v2() of a worker that filled its
#    queue; the worker then stops at the gate with more output to come
# --------------------------------------------------------------------------
{
	my ($caller, $caller_pid) = new_caller();
	my ($wpid, $cookie) = launch_v2(
		$caller,
		q{INSERT INTO t VALUES ('reading', pg_backend_pid());
		  SELECT g, repeat('x', 1000) FROM generate_series(1, 2000) g
		  WHERE pgbg_gate(g, 1000)},
		8192);
	poll($worker_on_full_queue, 'reading caller: worker blocked on a full queue');

	PgBgTest::send_query($caller,
		"SELECT count(*) FROM pg_background_result_v2($wpid, $cookie) AS (g int, x text)"
	);
	poll(
		qq{SELECT count(*) = 1 FROM pg_stat_activity
		   WHERE pid = $caller_pid AND wait_event = 'MessageQueueReceive'
		   AND EXISTS (SELECT FROM pg_stat_activity
		               WHERE pid = $wpid AND wait_event = 'advisory')},
		'reading caller: caller waiting inside result_v2, worker at the gate');

	ok(PgBgTest::terminate($node, $caller_pid),
		'caller terminated while reading results');
	my $err = PgBgTest::close_session($caller);
	is(PgBgTest::sqlstate($err), '57P01',
		'reading caller: its own session got the termination (57P01)');

	PgBgTest::query_ok($ctl, 'SELECT pg_advisory_unlock(42)');
	committed('reading', 1,
		'reading caller terminated: the worker sent the rest into a detached queue and committed'
	);
	PgBgTest::wait_for_no_workers($node, 'reading caller terminated: worker gone');
	PgBgTest::query_ok($ctl, 'SELECT pg_advisory_lock(42)');
}

# --------------------------------------------------------------------------
# 3. caller inside pg_background_wait_v2(), having drained more output than
#    work_mem into a buffer that spilled to a temporary file
# --------------------------------------------------------------------------
{
	my ($caller, $caller_pid) = new_caller();
	PgBgTest::query_ok($caller, "SET work_mem = '64kB'");
	my ($wpid, $cookie) = launch_v2(
		$caller,
		q{INSERT INTO t VALUES ('waiting', pg_backend_pid());
		  SELECT g, repeat('x', 1000) FROM generate_series(1, 2000) g
		  WHERE pgbg_gate(g, 1500)});

	PgBgTest::send_query($caller,
		"SELECT pg_background_wait_v2($wpid, $cookie)");
	poll(
		qq{SELECT count(*) = 1 FROM pg_stat_activity
		   WHERE pid = $caller_pid AND wait_event_type = 'Extension'
		   AND EXISTS (SELECT FROM pg_stat_activity
		               WHERE pid = $wpid AND wait_event = 'advisory')
		   AND EXISTS (SELECT FROM pg_ls_tmpdir()
		               WHERE name LIKE 'pgsql_tmp$caller_pid.%')},
		'waiting caller: caller in wait_v2 with a spilled buffer, worker at the gate'
	);

	ok(PgBgTest::terminate($node, $caller_pid),
		'caller terminated while waiting in wait_v2');
	my $err = PgBgTest::close_session($caller);
	is(PgBgTest::sqlstate($err), '57P01',
		'waiting caller: its own session got the termination (57P01)');
	poll(
		qq{SELECT count(*) = 0 FROM pg_ls_tmpdir()
		   WHERE name LIKE 'pgsql_tmp$caller_pid.%'},
		'waiting caller terminated: its spilled buffer file was removed');

	PgBgTest::query_ok($ctl, 'SELECT pg_advisory_unlock(42)');
	committed('waiting', 1, 'waiting caller terminated: the worker committed');
	PgBgTest::wait_for_no_workers($node, 'waiting caller terminated: worker gone');
	PgBgTest::query_ok($ctl, 'SELECT pg_advisory_lock(42)');
}

# --------------------------------------------------------------------------
# 4. caller terminated right after (or while) launching: a burst of launches
#    is sent, and the caller is terminated as soon as the first worker shows
# --------------------------------------------------------------------------
{
	my ($caller, $caller_pid) = new_caller();
	my $w = q{SELECT pgbg_gate(1, 1); INSERT INTO t VALUES ('launch', pg_backend_pid())};
	PgBgTest::send_query(
		$caller, qq{
SELECT pg_background_launch_v2(\$pgbg\$$w\$pgbg\$);
SELECT pg_background_submit_v2(\$pgbg\$$w\$pgbg\$);
SELECT pg_background_launch(\$pgbg\$$w\$pgbg\$);
SELECT pg_background_launch_v2(\$pgbg\$$w\$pgbg\$, 1024);
});
	poll(
		q{SELECT count(*) >= 1 FROM pg_stat_activity
		  WHERE backend_type = 'pg_background'},
		'launching caller: a first worker started');
	ok(PgBgTest::terminate($node, $caller_pid),
		'caller terminated right after launching');
	PgBgTest::close_session($caller);

	# every worker that exists now is held at the gate
	my $seen = $node->safe_psql('postgres',
		q{SELECT string_agg(pid::text, ',') FROM pg_stat_activity
		  WHERE backend_type = 'pg_background'});
	my $nseen = scalar(split /,/, $seen);
	cmp_ok($nseen, '>=', 1, "launching caller: $nseen worker(s) were running");

	PgBgTest::query_ok($ctl, 'SELECT pg_advisory_unlock(42)');
	PgBgTest::wait_for_no_workers($node,
		'launching caller terminated: every worker ended');
	is( $node->safe_psql(
			'postgres',
			"SELECT count(*) FROM t WHERE tag = 'launch' AND pid IN ($seen)"),
		$nseen,
		'launching caller terminated: every worker that started committed');
	cmp_ok(
		$node->safe_psql('postgres',
			"SELECT count(*) FROM t WHERE tag = 'launch'"),
		'<=', 4,
		'launching caller terminated: no worker ran twice');
	PgBgTest::query_ok($ctl, 'SELECT pg_advisory_lock(42)');
}

# --------------------------------------------------------------------------
# 5. caller terminated in the middle of a launch loop (launch_v2/submit_v2 +
#    detach as fast as it can, retrying when all slots are busy), so the
#    termination most likely hits it while it waits for a new worker to attach
# --------------------------------------------------------------------------
{
	my ($caller, $caller_pid) = new_caller();
	PgBgTest::send_query(
		$caller, q{
DO $$
DECLARE h pg_background_handle;
BEGIN
  FOR i IN 1..1000000 LOOP
    BEGIN
      IF i % 2 = 0 THEN
        h := pg_background_launch_v2($w$INSERT INTO t VALUES ('burst', pg_backend_pid())$w$);
      ELSE
        h := pg_background_submit_v2($w$INSERT INTO t VALUES ('burst', pg_backend_pid())$w$);
      END IF;
      PERFORM pg_background_detach_v2(h.pid, h.cookie);
    EXCEPTION WHEN insufficient_resources OR configuration_limit_exceeded THEN
      NULL;  -- every slot busy (or per-session limit reached): try again
    END;
  END LOOP;
END $$});
	poll(q{SELECT count(*) >= 20 FROM t WHERE tag = 'burst'},
		'launch loop: 20 workers committed');
	ok(PgBgTest::terminate($node, $caller_pid),
		'caller terminated in the middle of its launch loop');
	my $err = PgBgTest::close_session($caller);
	is(PgBgTest::sqlstate($err), '57P01',
		'launch loop: its own session got the termination (57P01)');
	PgBgTest::wait_for_no_workers($node,
		'launch loop caller terminated: every worker ended');
}

# --------------------------------------------------------------------------
# nothing leaked
# --------------------------------------------------------------------------
PgBgTest::wait_for_no_workers($node, 'after all terminations: no worker left');
# (a wait, not a snapshot: a worker registered by a caller that died just
# after registering may start a moment later; it drops the segment's pin)
ok( PgBgTest::wait_until(sub { PgBgTest::dsm_count($node) == $dsm_baseline }),
	'no DSM segment leaked (pg_dynshmem back to its baseline)')
  or diag 'DSM segments: ' . PgBgTest::dsm_count($node) . ", baseline $dsm_baseline";
is($node->safe_psql('postgres', 'SELECT count(*) FROM pg_ls_tmpdir()'),
	'0', 'no temporary file left');

# every one of the 4 worker slots can be used at once (workers held at the gate)
{
	my ($s) = new_caller();
	my @h;
	for my $i (1 .. 4)
	{
		my ($out, $err) = PgBgTest::query($s,
			q{SELECT pid, cookie FROM pg_background_launch_v2('SELECT pgbg_gate(1, 1)')}
		);
		is($err, '', "slot $i of 4 can be used again");
		push @h, [ split /\|/, $out ] if $err eq '';
	}
	poll(
		q{SELECT count(*) = 4 FROM pg_stat_activity
		  WHERE backend_type = 'pg_background' AND wait_event = 'advisory'},
		'all 4 relaunched workers run at the same time');
	PgBgTest::query_ok($ctl, 'SELECT pg_advisory_unlock(42)');
	for my $h (@h)
	{
		is( PgBgTest::query_ok($s,
				"SELECT * FROM pg_background_result_v2($h->[0], $h->[1]) AS (x bool)"
			),
			't',
			"relaunched worker $h->[0] finished");
	}
	$s->quit;
}

# launching keeps working: 30 launch/result cycles in one session
is( $node->safe_psql(
		'postgres', q{
DO $$
DECLARE h pg_background_handle; n int; total int := 0;
BEGIN
  FOR i IN 1..30 LOOP
    SELECT * INTO h FROM pg_background_launch_v2(format('SELECT %s', i));
    SELECT x INTO n FROM pg_background_result_v2(h.pid, h.cookie) AS (x int);
    total := total + n;
  END LOOP;
  PERFORM set_config('pgbg.total', total::text, false);
END $$;
SELECT current_setting('pgbg.total');
}),
	'465',
	'30 launch/result cycles after the terminations');

PgBgTest::wait_for_no_workers($node, 'end: no worker left');
ok( PgBgTest::wait_until(sub { PgBgTest::dsm_count($node) == $dsm_baseline }),
	'end: no DSM segment leaked')
  or diag 'DSM segments: ' . PgBgTest::dsm_count($node) . ", baseline $dsm_baseline";

$ctl->quit;
PgBgTest::assert_no_restart($node);
$node->stop;
done_testing();
