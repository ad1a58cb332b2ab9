
# Copyright (c) 2026, pg_background contributors

# A launch that raises never runs its SQL: the worker waits for the launcher's
# go, given only once the task is tracked in the session.
#
#   A. statement_timeout fires while the launch waits for its worker to start
#      (v2, submit_v2 and v1): the worker, started afterwards, exits without
#      running the SQL and says so in the server log;
#   B. the same with pg_cancel_backend() from another session;
#   C. the launching session is terminated while it waits: the worker sees
#      the session gone and exits without running the SQL;
#   D. a run of launches, each under a statement_timeout of a few
#      milliseconds: exactly the workers of the launches this session tracks
#      (list_v2) ran their SQL, every launch that returned among them.
#
# To hold a launch in its start-up wait deterministically, the postmaster is
# stopped (SIGSTOP) before the launch, so it cannot start the worker, and
# continued (SIGCONT) once the launch has failed.  Meanwhile only sessions
# opened beforehand are used (a new connection needs the postmaster).
#
# At the end: no worker, segment or slot leaked, no crash restart.

use strict;
use warnings FATAL => 'all';

use lib 't';
use PgBgTest;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PgBgTest::new_node(
	'failed_launch',
	max_worker_processes => 4,
	dsm_type => 'mmap');
$node->safe_psql('postgres', 'CREATE TABLE t (i int)');
my $dsm_baseline = PgBgTest::warm_up($node);

my $pm_pid = $node->{_pid};
my $pm_stopped = 0;

sub stop_postmaster
{
	kill 'STOP', $pm_pid or die "cannot stop the postmaster: $!";
	$pm_stopped = 1;
}

sub continue_postmaster
{
	kill 'CONT', $pm_pid or die "cannot continue the postmaster: $!";
	$pm_stopped = 0;
}

# never leave a stopped postmaster behind, whatever happens
END { kill 'CONT', $pm_pid if $pm_stopped; }

my $ctl = PgBgTest::session($node);
my $s = PgBgTest::session($node);
my $spid = PgBgTest::query_ok($s, 'SELECT pg_backend_pid()');

sub rows_in_t
{
	my ($where) = @_;
	return PgBgTest::query_ok($ctl, "SELECT count(*) FROM t WHERE $where");
}

# wait (polling through $ctl, no new connection) until backend $pid waits in
# pg_background's start-up wait
sub wait_in_launch
{
	my ($pid, $label) = @_;
	local $Test::Builder::Level = $Test::Builder::Level + 1;
	ok( PgBgTest::wait_until(
			sub {
				PgBgTest::query_ok($ctl,
					"SELECT wait_event = 'Extension' FROM pg_stat_activity WHERE pid = $pid"
				) eq 't';
			}),
		"$label: the launch waits for its worker to start");
}

# wait until the server log, from $offset on, has $n lines of a worker that
# exited without running its SQL whose DETAIL matches $detail_re; returns
# the text of those lines
sub abandoned_lines
{
	my ($offset, $n, $detail_re, $label) = @_;
	local $Test::Builder::Level = $Test::Builder::Level + 1;
	my $re = qr/LOG:  pg_background worker with PID \d+ exits without running its SQL\n[^\n]*DETAIL:  $detail_re/;
	my @found;
	my $ok = PgBgTest::wait_until(
		sub {
			@found = (PgBgTest::log_since($node, $offset) =~ /$re/g);
			return @found >= $n;
		});
	ok($ok, "$label: the server log says $n worker(s) exited without running their SQL")
	  or diag 'found ' . scalar(@found);
	return scalar(@found);
}

sub tracked
{
	return PgBgTest::query_ok($s,
		"SELECT count(*) FROM pg_background_list_v2() $PgBgTest::LIST_COLS");
}

# --------------------------------------------------------------------------
# A. statement_timeout during the start-up wait
# --------------------------------------------------------------------------
{
	my $l = 'A statement_timeout';
	my $off = PgBgTest::log_position($node);
	my $launched = PgBgTest::query_ok($s,
		"SELECT (pg_background_stats_v2()).workers_launched"
	);
	stop_postmaster();
	PgBgTest::query_ok($s, "SET statement_timeout = '100ms'");
	for my $f (
		q{pg_background_launch_v2('INSERT INTO t VALUES (1)')},
		q{pg_background_submit_v2('INSERT INTO t VALUES (1)')},
		q{pg_background_launch('INSERT INTO t VALUES (1)')})
	{
		my ($out, $err) = PgBgTest::query($s, "SELECT $f");
		is(PgBgTest::sqlstate($err), '57014', "$l: $f fails with 57014")
		  or diag $err;
		like($err, qr/canceling statement due to statement timeout/,
			"$l: $f: because of the statement timeout");
	}
	PgBgTest::query_ok($s, 'RESET statement_timeout');
	continue_postmaster();

	abandoned_lines($off, 3, qr/Its launch failed in the session with PID $spid\./, $l);
	PgBgTest::wait_for_no_workers($node, "$l: the three workers exited");
	is(rows_in_t('i = 1'), '0', "$l: none of them ran its SQL");
	is(tracked(), '0', "$l: the session tracks none of them");
	is( PgBgTest::query_ok($s,
			"SELECT (pg_background_stats_v2()).workers_launched"
		),
		$launched,
		"$l: none was counted as launched");
	my ($wpid, $cookie) = PgBgTest::launch_v2($s, 'INSERT INTO t VALUES (1) RETURNING i');
	is(PgBgTest::query_ok($s,
			"SELECT * FROM pg_background_result_v2($wpid, $cookie) AS (i int)"),
		'1', "$l: the next launch runs its SQL");
	is(rows_in_t('i = 1'), '1', "$l: exactly once");
}

# --------------------------------------------------------------------------
# B. pg_cancel_backend() during the start-up wait
# --------------------------------------------------------------------------
{
	my $l = 'B pg_cancel_backend';
	my $off = PgBgTest::log_position($node);
	stop_postmaster();
	PgBgTest::send_query($s,
		q{SELECT pg_background_launch_v2('INSERT INTO t VALUES (2)')});
	wait_in_launch($spid, $l);
	PgBgTest::query_ok($ctl, "SELECT pg_cancel_backend($spid)");
	my ($out, $err) = PgBgTest::finish_query($s);
	is(PgBgTest::sqlstate($err), '57014', "$l: the launch fails with 57014")
	  or diag $err;
	like($err, qr/canceling statement due to user request/,
		"$l: because of the cancel");
	continue_postmaster();

	abandoned_lines($off, 1, qr/Its launch failed in the session with PID $spid\./, $l);
	PgBgTest::wait_for_no_workers($node, "$l: the worker exited");
	is(rows_in_t('i = 2'), '0', "$l: it did not run its SQL");
	is(tracked(), '0', "$l: the session tracks nothing");
	is(PgBgTest::query_ok($s, 'SELECT pg_backend_pid()'),
		$spid, "$l: the session is the same and usable");
}

# --------------------------------------------------------------------------
# C. the launching session is terminated during the start-up wait
# --------------------------------------------------------------------------
{
	my $l = 'C caller terminated';
	my $off = PgBgTest::log_position($node);
	my $c = PgBgTest::session($node);
	my $cpid = PgBgTest::query_ok($c, 'SELECT pg_backend_pid()');
	stop_postmaster();
	PgBgTest::send_query($c,
		q{SELECT pg_background_launch_v2('INSERT INTO t VALUES (3)')});
	wait_in_launch($cpid, $l);
	PgBgTest::query_ok($ctl, "SELECT pg_terminate_backend($cpid)");
	continue_postmaster();
	PgBgTest::close_session($c);

	abandoned_lines($off, 1,
		qr/The session with PID $cpid ended before its launch completed\./, $l);
	PgBgTest::wait_for_no_workers($node, "$l: the worker exited");
	is(rows_in_t('i = 3'), '0', "$l: it did not run its SQL");
}

# --------------------------------------------------------------------------
# D. many launches under a tiny statement_timeout: every worker that ran its
#    SQL is tracked by the session, and every launch that returned is among
#    them.  (A statement can still fail after its launch returned -- the
#    timeout may fire between the launch and the output -- but then the task
#    is tracked like any other.)
# --------------------------------------------------------------------------
{
	my $l = 'D launches under a tiny statement_timeout';
	my $n = 200;
	my $script = '';
	for my $i (1 .. $n)
	{
		my $ms = 1 + $i % 8;
		my $v = 1000 + $i;
		$script .=
		  "SET statement_timeout = '${ms}ms';\n"
		  . "SELECT 'launched $v' FROM pg_background_submit_v2('INSERT INTO t VALUES ($v)');\n";
	}
	$script .= "RESET statement_timeout;\n";
	my ($out, $err) = PgBgTest::query($s, $script);
	PgBgTest::query_ok($s, 'RESET statement_timeout');
	my @returned = sort { $a <=> $b } ($out =~ /launched (\d+)/g);
	my $failed = () = $err =~ /\b57014:/g;
	diag sprintf('%d launches: %d returned, %d statements timed out',
		$n, scalar(@returned), $failed);
	cmp_ok($failed, '>', 0, "$l: some launches timed out");

	# the session tracks the submitted tasks until it reads or detaches them
	PgBgTest::wait_for_no_workers($node, "$l: every worker ended");
	my %listed = map { $_ => 1 } split /\n/,
	  PgBgTest::query_ok($s,
		"SELECT substring(sql_preview FROM '\\d+') FROM pg_background_list_v2() $PgBgTest::LIST_COLS"
	  );
	my @ran = split /\n/,
	  PgBgTest::query_ok($ctl, 'SELECT i FROM t WHERE i > 1000 ORDER BY i');
	is( join(',', @ran),
		join(',', sort { $a <=> $b } keys %listed),
		"$l: the workers that ran their SQL are exactly the tracked ones");
	my @missing = grep { !$listed{$_} } @returned;
	ok(!@missing, "$l: every launch that returned is tracked")
	  or diag "not tracked: @missing";
	PgBgTest::query_ok($s,
		"SELECT pg_background_detach_v2(pid, cookie) FROM pg_background_list_v2() $PgBgTest::LIST_COLS"
	);
	is(tracked(), '0', "$l: all detached");
}

# --------------------------------------------------------------------------
# nothing leaked
# --------------------------------------------------------------------------
is(PgBgTest::query_ok($s, 'SELECT pg_backend_pid()'),
	$spid, 'end: the caller is still the same backend');
$s->quit;
$ctl->quit;
PgBgTest::assert_nothing_leaked($node, $dsm_baseline, 4);
$node->stop;
done_testing();
