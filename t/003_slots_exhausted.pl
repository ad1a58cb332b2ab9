
# Copyright (c) 2026, pg_background contributors

# Every background worker slot is in use (max_worker_processes = 4, nothing
# else uses a slot): the next launch -- v2, submit_v2 or v1, from any
# session -- fails with 53000 and a hint about max_worker_processes, leaks no
# DSM segment and no handle, and leaves the session usable (also inside a
# transaction block).  Once a worker is canceled (cancel_v2_grace returned and
# its result was read), a new launch gets its slot; once all end, all four
# slots can be used again.

use strict;
use warnings FATAL => 'all';

use lib 't';
use PgBgTest;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PgBgTest::new_node(
	'slots_exhausted',
	max_worker_processes => 4,
	dsm_type => 'mmap');
$node->safe_psql(
	'postgres', q{
CREATE TABLE t (tag text);
-- blocks until the control session releases advisory lock 42
CREATE FUNCTION pgbg_gate() RETURNS text LANGUAGE plpgsql AS $$
BEGIN PERFORM pg_advisory_xact_lock_shared(42); RETURN 'passed'; END $$;
});

my $list_cols =
  'AS (pid int4, cookie int8, launched_at timestamptz, user_id oid, queue_size int4, '
  . 'state text, sql_preview text, last_error text, consumed bool)';

sub poll
{
	local $Test::Builder::Level = $Test::Builder::Level + 1;
	return PgBgTest::poll($node, @_);
}

sub gated_workers
{
	my ($n) = @_;
	return qq{SELECT count(*) = $n FROM pg_stat_activity
	          WHERE backend_type = 'pg_background' AND wait_event = 'advisory'};
}

# launch a gated v2 worker in session $s; returns (pid, cookie)
sub launch_gated
{
	my ($s, $tag) = @_;
	my $out = PgBgTest::query_ok($s,
		"SELECT pid, cookie FROM pg_background_launch_v2(\$\$SELECT pgbg_gate(); INSERT INTO t VALUES ('$tag')\$\$, 65536)"
	);
	my ($pid, $cookie) = split /\|/, $out;
	die "launch_v2 returned '$out'" unless defined $cookie;
	return ($pid, $cookie);
}

# a launch that must fail because every slot is busy
sub check_exhausted
{
	my ($s, $label, $sql) = @_;
	local $Test::Builder::Level = $Test::Builder::Level + 1;
	my ($out, $err) = PgBgTest::query($s, $sql);
	PgBgTest::assert_53000($err, $label);
}

my $ctl = PgBgTest::session($node);
PgBgTest::query_ok($ctl, 'SELECT pg_advisory_lock(42)');
my $dsm_idle = PgBgTest::dsm_count($node);

# --------------------------------------------------------------------------
# fill every slot: 3 workers from s1, 1 from s2
# --------------------------------------------------------------------------
my $s1 = PgBgTest::session($node);
my $s2 = PgBgTest::session($node);
my $s1_pid = PgBgTest::query_ok($s1, 'SELECT pg_backend_pid()');
my @h1 = map { [ launch_gated($s1, "s1_$_") ] } 1 .. 3;
my @h2 = ([ launch_gated($s2, 's2_1') ]);
poll(gated_workers(4), 'all 4 slots hold a running worker');
my $dsm_full = PgBgTest::dsm_count($node);

# --------------------------------------------------------------------------
# every kind of launch, from every session, fails cleanly
# --------------------------------------------------------------------------
check_exhausted($s1, 's1 launch_v2',
	q{SELECT pg_background_launch_v2('SELECT 1')});
check_exhausted($s1, 's1 submit_v2',
	q{SELECT pg_background_submit_v2('SELECT 1')});
check_exhausted($s1, 's1 v1 launch', q{SELECT pg_background_launch('SELECT 1')});
check_exhausted($s2, 's2 launch_v2',
	q{SELECT pg_background_launch_v2('SELECT 1', 1024)});
{
	my ($rc, $out, $err) =
	  PgBgTest::psql_err($node, q{SELECT pg_background_launch_v2('SELECT 1')});
	is(PgBgTest::sqlstate($err), '53000', 'a new session: SQLSTATE 53000');
}

# the failing session stays usable, also in a transaction block
{
	my ($out, $err) = PgBgTest::query($s1, 'SELECT pg_backend_pid()');
	is($out, $s1_pid, 's1: same backend after the failed launches');
	is($err, '', 's1: next query works');

	PgBgTest::query_ok($s1, 'BEGIN');
	check_exhausted($s1, 's1 in a transaction block',
		q{SELECT pg_background_launch_v2('SELECT 1')});
	($out, $err) = PgBgTest::query($s1, 'ROLLBACK');
	is($err, '', 's1: ROLLBACK after the failed launch works');

	is( PgBgTest::query_ok(
			$s1,
			"SELECT string_agg(state, ',' ORDER BY pid) FROM pg_background_list_v2() $list_cols"
		),
		'running,running,running',
		's1: list_v2 shows only its 3 running workers (no handle for a failed launch)'
	);
}

# many failed launches leak no DSM segment
{
	is( PgBgTest::query_ok(
			$s1, q{
DO $$
DECLARE n int := 0;
BEGIN
  FOR i IN 1..50 LOOP
    BEGIN
      PERFORM pg_background_launch_v2('SELECT 1', 1024 * 1024);
    EXCEPTION WHEN insufficient_resources THEN
      n := n + 1;
    END;
  END LOOP;
  PERFORM set_config('pgbg.failed', n::text, false);
END $$;
SELECT current_setting('pgbg.failed');
}),
		'50',
		'50 more launches all fail with 53000');
	is(PgBgTest::dsm_count($node),
		$dsm_full, 'failed launches leave no DSM segment behind');
}

# Launch a gated worker in s1.  Returns (whether the first attempt got a
# slot, pid, cookie).  If the first attempt fails with 53000 it keeps trying
# until a slot is free, so the rest of the test still runs.
sub relaunch
{
	my ($tag) = @_;
	my $sql =
	  "SELECT pid, cookie FROM pg_background_launch_v2(\$\$SELECT pgbg_gate(); INSERT INTO t VALUES ('$tag')\$\$)";
	my ($out, $err) = PgBgTest::query($s1, $sql);
	my $first = $err eq '';
	if (!$first)
	{
		die "unexpected error: $err" unless PgBgTest::sqlstate($err) eq '53000';
		PgBgTest::wait_until(
			sub { ($out, $err) = PgBgTest::query($s1, $sql); $err eq '' })
		  or die "no slot became free: $err";
	}
	my ($pid, $cookie) = split /\|/, $out;
	return ($first, $pid, $cookie);
}

# --------------------------------------------------------------------------
# cancel one worker: once cancel_v2_grace has returned (the worker ended) and
# its result was read, its slot can be used right away
# --------------------------------------------------------------------------
{
	my ($pid, $cookie) = @{ shift @h1 };
	PgBgTest::query_ok($s1,
		"SELECT pg_background_cancel_v2_grace($pid, $cookie, 60000)");
	my ($out, $err) = PgBgTest::query($s1,
		"SELECT * FROM pg_background_result_v2($pid, $cookie) AS (x text)");
	is(PgBgTest::sqlstate($err), '57014',
		'canceled worker: its result read says canceled (57014)');

	my ($first, $npid, $ncookie) = relaunch('s1_new');
	ok($first,
		'after cancel_v2_grace returned, a new launch gets the slot at once'
	);
	push @h1, [ $npid, $ncookie ];
	poll(gated_workers(4), 'the new worker took the freed slot');
	check_exhausted($s2, 'full again', q{SELECT pg_background_launch_v2('SELECT 1')});
}

# --------------------------------------------------------------------------
# cancel and relaunch again and again at full capacity
# --------------------------------------------------------------------------
{
	my $late = 0;
	for my $i (1 .. 10)
	{
		my ($pid, $cookie) = @{ shift @h1 };
		PgBgTest::query_ok($s1,
			"SELECT pg_background_cancel_v2_grace($pid, $cookie, 60000);\n"
			  . "SELECT pg_background_detach_v2($pid, $cookie)");
		my ($first, $npid, $ncookie) = relaunch('s1_loop');
		$late++ unless $first;
		push @h1, [ $npid, $ncookie ];
	}
	is($late, 0,
		'10 cancel_v2_grace + detach + launch cycles at full capacity: every launch got the slot at once'
	);
	poll(gated_workers(4), 'still 4 workers after the cycles');
}

# --------------------------------------------------------------------------
# let everything finish; all four slots are free again
# --------------------------------------------------------------------------
PgBgTest::query_ok($ctl, 'SELECT pg_advisory_unlock(42)');
for my $h (@h1)
{
	is( PgBgTest::query_ok($s1,
			"SELECT * FROM pg_background_result_v2($h->[0], $h->[1]) AS (x text)"),
		"SELECT 1\nINSERT 0 1",
		"s1 worker $h->[0] finished");
}
for my $h (@h2)
{
	is( PgBgTest::query_ok($s2,
			"SELECT * FROM pg_background_result_v2($h->[0], $h->[1]) AS (x text)"),
		"SELECT 1\nINSERT 0 1",
		"s2 worker $h->[0] finished");
}
is($node->safe_psql('postgres', "SELECT count(*) FROM t WHERE tag = 's1_1'"),
	'0', 'the canceled worker did not commit');
PgBgTest::wait_for_no_workers($node);
is(PgBgTest::dsm_count($node), $dsm_idle, 'no DSM segment leaked');

PgBgTest::query_ok($ctl, 'SELECT pg_advisory_lock(42)');
my @h3 = map { [ launch_gated($s2, "again_$_") ] } 1 .. 4;
poll(gated_workers(4), 'all 4 slots can be used again');
check_exhausted($s1, 'full again at the end',
	q{SELECT pg_background_launch_v2('SELECT 1')});
PgBgTest::query_ok($ctl, 'SELECT pg_advisory_unlock(42)');
for my $h (@h3)
{
	PgBgTest::query_ok($s2,
		"SELECT * FROM pg_background_result_v2($h->[0], $h->[1]) AS (x text)");
}

$_->quit for ($s1, $s2, $ctl);
PgBgTest::wait_for_no_workers($node);
PgBgTest::assert_no_restart($node);
$node->stop;
done_testing();
