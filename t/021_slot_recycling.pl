
# Copyright (c) 2026, pg_background contributors

# A launch does not fail because of this session's workers that have
# finished but not yet exited (a result read returns when the output ends, a
# moment before the process is gone and its worker slot free):
#
#   A. max_worker_processes = 4 and two sessions each run 300 cycles of
#      launch + result (v2 in one, v1 in the other), never more than one
#      live worker each: every launch succeeds;
#   B. every slot is taken -- three by another session's running workers,
#      one by this session's worker whose result was read but whose exit is
#      held up (its temporary table's drop waits for a lock): a launch waits
#      for that worker to exit (a cancel ends the wait with 57014), then
#      succeeds;
#   C. the same, with the exit held up for good: the launch gives up after
#      its bounded wait with 53000, and the session stays usable.
#
# Workers are held by locks the control session owns, never by timing.

use strict;
use warnings FATAL => 'all';

use lib 't';
use PgBgTest;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PgBgTest::new_node(
	'slot_recycling',
	max_worker_processes => 4,
	dsm_type => 'mmap');
$node->safe_psql('postgres', $PgBgTest::GATE_FUNCTION);
$node->safe_psql('postgres', 'CREATE TABLE cycles (sess int, n int)');
my $dsm_baseline = PgBgTest::warm_up($node);

# --------------------------------------------------------------------------
# A. two sessions, 300 launch + result cycles each
# --------------------------------------------------------------------------
{
	my $l = 'A two launch/result loops';
	my $cycles = 300;
	my %loop = (
		1 => qq{
DO \$\$
DECLARE h pg_background_handle; x int;
BEGIN
  FOR i IN 1..$cycles LOOP
    h := pg_background_launch_v2(format('SELECT %s', i));
    SELECT * INTO x FROM pg_background_result_v2(h.pid, h.cookie) AS (x int);
    INSERT INTO cycles VALUES (1, x);
  END LOOP;
END \$\$},
		2 => qq{
DO \$\$
DECLARE x int;
BEGIN
  FOR i IN 1..$cycles LOOP
    SELECT * INTO x FROM pg_background_result(pg_background_launch(format('SELECT %s', i))) AS (x int);
    INSERT INTO cycles VALUES (2, x);
  END LOOP;
END \$\$});
	my @sessions;
	for my $k (1, 2)
	{
		my $sess = PgBgTest::session($node, timeout => 3600);
		PgBgTest::send_query($sess, $loop{$k});
		push @sessions, $sess;
	}
	for my $k (1, 2)
	{
		my ($out, $err) = PgBgTest::finish_query($sessions[ $k - 1 ]);
		is($err, '', "$l: session $k: all $cycles launches succeeded")
		  or diag $err;
		$sessions[ $k - 1 ]->quit;
	}
	is( $node->safe_psql(
			'postgres',
			'SELECT sess, count(*), sum(n) FROM cycles GROUP BY sess ORDER BY sess'),
		"1|$cycles|" . ($cycles * ($cycles + 1) / 2) . "\n"
		  . "2|$cycles|" . ($cycles * ($cycles + 1) / 2),
		"$l: every cycle returned its row");
	PgBgTest::wait_for_no_workers($node, "$l: no worker left");
}

# --------------------------------------------------------------------------
# B and C. every slot taken, one by this session's worker that is exiting
# --------------------------------------------------------------------------
my $ctl = PgBgTest::session($node);
my $other = PgBgTest::session($node);
my $s = PgBgTest::session($node);
my $spid = PgBgTest::query_ok($s, 'SELECT pg_backend_pid()');
PgBgTest::query_ok($s, "SET statement_timeout = '10min'");

sub poll
{
	local $Test::Builder::Level = $Test::Builder::Level + 1;
	return PgBgTest::poll($node, @_);
}

# Three workers of another session held at the gate (advisory lock 42), and
# one worker of $s that has sent its whole result but whose exit waits: it
# made a temporary table (committed by the VACUUM), and $ctl holds a lock on
# that table in an open transaction.  Returns that worker's pid.
sub fill_slots
{
	my ($l, $tab) = @_;
	PgBgTest::query_ok($ctl, 'SELECT pg_advisory_lock(42), pg_advisory_lock(43)');
	my @h = map { [ PgBgTest::launch_v2($other, 'SELECT pgbg_gate(1, 1)') ] } 1 .. 3;
	my ($wpid, $cookie) = PgBgTest::launch_v2($s,
		"CREATE TEMP TABLE $tab (a int); VACUUM $tab; SELECT pg_advisory_xact_lock_shared(43); SELECT 7"
	);
	poll(
		q{SELECT count(*) = 4 FROM pg_stat_activity
		  WHERE backend_type = 'pg_background' AND wait_event = 'advisory'},
		"$l: four workers hold every slot");
	my $nsp = $node->safe_psql('postgres',
		"SELECT relnamespace::regnamespace FROM pg_class WHERE relname = '$tab'");
	PgBgTest::query_ok($ctl,
		"BEGIN; LOCK TABLE $nsp.$tab IN ACCESS SHARE MODE; SELECT pg_advisory_unlock(43)");
	is(PgBgTest::query_ok($s,
			"SELECT * FROM pg_background_result_v2($wpid, $cookie) AS (x int)"),
		'7', "$l: this session's worker sent its result");
	poll(
		qq{SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = $wpid},
		"$l: its exit waits for the table lock");
	return \@h;
}

sub free_slots
{
	my ($h) = @_;
	PgBgTest::query_ok($ctl, 'SELECT pg_advisory_unlock(42)');
	PgBgTest::query_ok($other,
		"SELECT * FROM pg_background_result_v2($_->[0], $_->[1]) AS (x bool)")
	  for @$h;
}

{
	my $l = 'B launch waits for an exiting worker';
	my $h = fill_slots($l, 'hold_b');

	# the wait can be canceled, and leaves nothing behind
	PgBgTest::send_query($s, q{SELECT pg_background_launch_v2('SELECT 0')});
	poll(
		qq{SELECT wait_event = 'Extension' FROM pg_stat_activity WHERE pid = $spid},
		"$l: the launch waits");
	PgBgTest::query_ok($ctl, "SELECT pg_cancel_backend($spid)");
	my ($cout, $cerr) = PgBgTest::finish_query($s);
	is(PgBgTest::sqlstate($cerr), '57014', "$l: a cancel ends the wait (57014)")
	  or diag $cerr;

	PgBgTest::send_query($s,
		q{SELECT * FROM pg_background_result(pg_background_launch('SELECT 8')) AS (x int)});
	poll(
		qq{SELECT wait_event = 'Extension' FROM pg_stat_activity WHERE pid = $spid},
		"$l: the launch waits");
	is($node->safe_psql('postgres',
			"SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'pg_background'"),
		'4', "$l: no fifth worker meanwhile");
	PgBgTest::query_ok($ctl, 'COMMIT');
	my ($out, $err) = PgBgTest::finish_query($s);
	is($err, '', "$l: once the worker exited, the launch succeeded")
	  or diag $err;
	is($out, '8', "$l: and its worker ran");
	free_slots($h);
	PgBgTest::wait_for_no_workers($node, "$l: no worker left");
}

{
	my $l = 'C launch gives up on a worker that does not exit';
	my $h = fill_slots($l, 'hold_c');
	my ($out, $err) = PgBgTest::query($s, q{SELECT pg_background_launch_v2('SELECT 9')});
	is(PgBgTest::sqlstate($err), '53000', "$l: 53000 after the bounded wait")
	  or diag $err;
	is(PgBgTest::query_ok($s, 'SELECT pg_backend_pid()'),
		$spid, "$l: the session is the same and usable");
	PgBgTest::query_ok($ctl, 'COMMIT');
	free_slots($h);
	PgBgTest::wait_for_no_workers($node, "$l: no worker left");
	is(PgBgTest::query_ok($s,
			q{SELECT * FROM pg_background_result(pg_background_launch('SELECT 10')) AS (x int)}),
		'10', "$l: then launches work again");
}

$s->quit;
$other->quit;
$ctl->quit;
PgBgTest::assert_nothing_leaked($node, $dsm_baseline, 4);
$node->stop;
done_testing();
