
# Copyright (c) 2026, pg_background contributors

# The warm worker pool (pg_background.pool_size) across sessions, slots and
# faults:
#
#   A. the pool empties when the session ends: a session that quits, and one
#      that is terminated, leave no pooled worker behind;
#   B. pg_background.pool_idle_timeout: an idle pooled worker exits by
#      itself (the value at launch counts), and the session's next launch
#      gets a fresh worker;
#   C. another session never gets a session's pooled worker: 20 launches of
#      a second session (same user, a pool of its own) never run in it, and
#      the first session gets it back afterwards;
#   D. idle workers never make a launch fail (max_worker_processes = 4):
#      D1 another session's idle pooled workers hold every slot: a launch
#         succeeds, and so do four launches held running at once;
#      D2 this session's own idle pooled workers hold every slot and the
#         launch cannot use them (another role): it succeeds;
#      D3 this session's finished workers whose results are not read yet
#         (waiting to be pooled) hold every slot: a launch succeeds and
#         every result is still read in full;
#      D4 the same workers of another session: its results too;
#   F. a canceled task's worker (cancel_v2_grace and cancel_v2, while
#      pg_sleep runs) and a task stopped by pg_background.worker_timeout
#      never go back to the pool: the next launch gets a new worker and the
#      old one exits; a task that finished within its worker_timeout leaves
#      no timer behind in the pooled worker;
#   G. an administrator's pg_terminate_backend of an idle pooled worker:
#      the next launch still succeeds (a fresh worker), also when the
#      worker is terminated right after its result was read (while it may
#      still reset its session) and the launch comes right after
#      pg_terminate_backend() returned;
#   H. a worker that serves 5000 tasks from the pool leaves no DSM segment
#      behind, and its memory does not grow with them (PostgreSQL 14+);
#   E. no crash restart across the file, nothing leaked, every slot usable.
#
# Nothing sleeps to wait: the waits poll pg_stat_activity, and workers are
# held by locks the control session owns.

use strict;
use warnings FATAL => 'all';

use lib 't';
use PgBgTest;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Carp;

my $node = PgBgTest::new_node(
	'pool',
	max_worker_processes => 4,
	dsm_type => 'mmap');
$node->safe_psql('postgres', $PgBgTest::GATE_FUNCTION);
$node->safe_psql(
	'postgres', q{
CREATE ROLE regress_pool_other;
GRANT pgbackground_role TO regress_pool_other;
CREATE TABLE pool_pids (sess text, p int);
GRANT ALL ON pool_pids TO PUBLIC;
});
my $dsm_baseline = PgBgTest::warm_up($node);

my $LIST = $PgBgTest::LIST_COLS;
my $ctl = PgBgTest::session($node);

sub poll
{
	local $Test::Builder::Level = $Test::Builder::Level + 1;
	return PgBgTest::poll($node, @_);
}

# a session with a pool of $size whose idle workers never time out during
# this test (so that every exit seen here has another cause)
sub pool_session
{
	my ($size) = @_;
	my $s = PgBgTest::session($node);
	PgBgTest::query_ok($s,
		"SET pg_background.pool_size = $size; SET pg_background.pool_idle_timeout = '1h'"
	);
	return $s;
}

# launch + result of SELECT pg_backend_pid() in $s: the worker's pid
sub run_pid
{
	my ($s) = @_;
	return PgBgTest::query_ok($s,
		q{SELECT p FROM pg_background_result(pg_background_launch('SELECT pg_backend_pid()')) AS (p int)}
	);
}

# SQL: $pid is an idle pooled worker
sub idle_pooled
{
	my ($pid) = @_;
	return qq{SELECT count(*) = 1 FROM pg_stat_activity
	          WHERE pid = $pid AND backend_type = 'pg_background'
	            AND state = 'idle' AND wait_event_type = 'Extension'};
}

# SQL: $pid is gone
sub gone
{
	my ($pid) = @_;
	return "SELECT count(*) = 0 FROM pg_stat_activity WHERE pid = $pid";
}

# SQL: $n idle pooled workers
sub n_idle
{
	my ($n) = @_;
	return qq{SELECT count(*) = $n FROM pg_stat_activity
	          WHERE backend_type = 'pg_background' AND state = 'idle'
	            AND wait_event_type = 'Extension'};
}

# --------------------------------------------------------------------------
# A. the pool empties when the session ends
# --------------------------------------------------------------------------
{
	my $l = 'A session end';
	my $s = pool_session(2);
	my $p = run_pid($s);
	poll(idle_pooled($p), "$l: the worker waits in the pool");
	is(run_pid($s), $p, "$l: and serves the next launch");
	poll(idle_pooled($p), "$l: then waits again");
	$s->quit;
	poll(gone($p), "$l: once the session quit, the pooled worker exits");

	# the caller terminated
	$s = pool_session(2);
	my $spid = PgBgTest::query_ok($s, 'SELECT pg_backend_pid()');
	$p = run_pid($s);
	poll(idle_pooled($p), "$l: terminated caller: its worker waits in the pool");
	ok(PgBgTest::terminate($node, $spid), "$l: the caller is terminated");
	PgBgTest::close_session($s);
	poll(gone($p), "$l: terminated caller: the pooled worker exits");
	PgBgTest::wait_for_no_workers($node, "$l: no worker left");
}

# --------------------------------------------------------------------------
# B. pool_idle_timeout
# --------------------------------------------------------------------------
{
	my $l = 'B idle timeout';
	my $s = pool_session(2);
	PgBgTest::query_ok($s, 'SET pg_background.pool_idle_timeout = 300');
	my $p = run_pid($s);
	# the value at launch counts: raising it now changes nothing
	PgBgTest::query_ok($s, "SET pg_background.pool_idle_timeout = '1h'");
	poll(gone($p), "$l: the idle worker exits after 300 ms");
	my $q = run_pid($s);
	isnt($q, $p, "$l: the next launch gets a fresh worker");
	poll(idle_pooled($q), "$l: which is pooled in turn (1 h timeout)");
	is(run_pid($s), $q, "$l: and serves the next launch");
	$s->quit;
	PgBgTest::wait_for_no_workers($node, "$l: no worker left");
}

# --------------------------------------------------------------------------
# C. another session never gets this session's pooled worker
# --------------------------------------------------------------------------
{
	my $l = 'C other session';
	my $a = pool_session(2);
	my $b = pool_session(2);
	my $p = run_pid($a);
	poll(idle_pooled($p), "$l: A's worker waits in A's pool");
	PgBgTest::query_ok($b, q{
DO $$
DECLARE x int;
BEGIN
  FOR i IN 1..20 LOOP
    SELECT p INTO x FROM pg_background_result(
        pg_background_launch('SELECT pg_backend_pid()')) AS (p int);
    INSERT INTO pool_pids VALUES ('B', x);
  END LOOP;
END $$});
	is( PgBgTest::query_ok($b,
			"SELECT count(*), count(*) FILTER (WHERE p = $p), count(DISTINCT p) FROM pool_pids WHERE sess = 'B'"
		),
		'20|0|1',
		"$l: B's 20 launches never ran in A's worker (all in B's own pooled one)");
	poll(idle_pooled($p), "$l: A's worker still waits");
	is(run_pid($a), $p, "$l: A gets its worker back");
	$a->quit;
	$b->quit;
	PgBgTest::wait_for_no_workers($node, "$l: no worker left");
}

# --------------------------------------------------------------------------
# D. idle pooled workers never make a launch fail
# --------------------------------------------------------------------------

# In $s (pool_size >= 4), launch four workers held at the gate (advisory lock
# 42, taken by $ctl here), then release them and read the results: four idle
# pooled workers hold every slot.  Returns their pids.
sub fill_pool
{
	my ($l, $s) = @_;
	PgBgTest::query_ok($ctl, 'SELECT pg_advisory_lock(42)');
	my @h = map { [ PgBgTest::launch_v2($s, 'SELECT pgbg_gate(1, 1)') ] } 1 .. 4;
	poll(
		q{SELECT count(*) = 4 FROM pg_stat_activity
		  WHERE backend_type = 'pg_background' AND wait_event = 'advisory'},
		"$l: four workers run at once");
	PgBgTest::query_ok($ctl, 'SELECT pg_advisory_unlock(42)');
	PgBgTest::query_ok($s,
		"SELECT * FROM pg_background_result_v2($_->[0], $_->[1]) AS (x bool)")
	  for @h;
	poll(n_idle(4), "$l: four idle pooled workers hold every slot");
	return map { $_->[0] } @h;
}

# In $s, launch $n tasks SELECT <i> and wait until each has finished
# (wait_v2), without reading them: their workers wait to be pooled.
sub fill_unread
{
	my ($l, $s, $n) = @_;
	my @h;
	for my $i (1 .. $n)
	{
		my ($pid, $cookie) = PgBgTest::launch_v2($s, "SELECT $i");
		PgBgTest::query_ok($s, "SELECT pg_background_wait_v2($pid, $cookie)");
		push @h, [ $pid, $cookie, $i ];
	}
	return @h;
}

sub read_all
{
	my ($l, $s, @h) = @_;
	my $ok = 0;
	for my $h (@h)
	{
		my ($out, $err) = PgBgTest::query($s,
			"SELECT * FROM pg_background_result_v2($h->[0], $h->[1]) AS (x int)");
		if ($err eq '' && $out eq $h->[2]) { $ok++ }
		else { diag "$l: result of task $h->[2]: '$out' $err" }
	}
	is($ok, scalar @h, "$l: every unread result is read in full afterwards");
}

{
	my $l = 'D1 other session\'s idle workers';
	my $a = pool_session(4);
	my @p = fill_pool($l, $a);
	my $b = pool_session(0);
	my ($out, $err) = PgBgTest::query($b,
		q{SELECT * FROM pg_background_result(pg_background_launch('SELECT 11')) AS (x int)});
	is($err, '', "$l: B's launch succeeds") or diag $err;
	is($out, '11', "$l: and its worker ran");

	# every slot, right away
	PgBgTest::query_ok($ctl, 'SELECT pg_advisory_lock(42)');
	my @h;
	my @errs;
	for (1 .. 4)
	{
		my ($o, $e) = PgBgTest::query($b,
			q{SELECT pid, cookie FROM pg_background_launch_v2('SELECT pgbg_gate(1, 1)')});
		if ($e eq '') { push @h, [ split /\|/, $o ] }
		else { push @errs, $e }
	}
	is(scalar @h, 4, "$l: B then launches four workers held at once")
	  or diag join("\n", @errs);
	PgBgTest::query_ok($ctl, 'SELECT pg_advisory_unlock(42)');
	PgBgTest::query_ok($b,
		"SELECT * FROM pg_background_result_v2($_->[0], $_->[1]) AS (x bool)")
	  for @h;
	poll(gone($_), "$l: A's idle worker $_ is gone") for @p;
	# A's pool holds workers that are gone: its next launch still works
	is(PgBgTest::query_ok($a,
			q{SELECT * FROM pg_background_result(pg_background_launch('SELECT 12')) AS (x int)}),
		'12', "$l: A's next launch works");
	$a->quit;
	$b->quit;
	PgBgTest::wait_for_no_workers($node, "$l: no worker left");
}

{
	my $l = 'D2 own idle workers';
	my $a = pool_session(4);
	my @p = fill_pool($l, $a);
	PgBgTest::query_ok($a, 'SET ROLE regress_pool_other');
	my ($out, $err) = PgBgTest::query($a,
		q{SELECT * FROM pg_background_result(pg_background_launch('SELECT current_user::text')) AS (x text)});
	is($err, '', "$l: a launch as another role succeeds") or diag $err;
	is($out, 'regress_pool_other', "$l: and its worker ran as that role");
	PgBgTest::query_ok($a, 'RESET ROLE');
	$a->quit;
	PgBgTest::wait_for_no_workers($node, "$l: no worker left");
}

{
	my $l = 'D3 own unread workers';
	my $a = pool_session(4);
	my @h = fill_unread($l, $a, 4);
	poll(n_idle(4), "$l: four finished workers wait to be pooled");
	my ($out, $err) = PgBgTest::query($a,
		q{SELECT * FROM pg_background_result(pg_background_launch('SELECT 5')) AS (x int)});
	is($err, '', "$l: a fifth launch succeeds") or diag $err;
	is($out, '5', "$l: and its worker ran");
	read_all($l, $a, @h);
	$a->quit;
	PgBgTest::wait_for_no_workers($node, "$l: no worker left");
}

{
	my $l = 'D4 other session\'s unread workers';
	my $a = pool_session(4);
	my $b = pool_session(4);
	my @h = fill_unread($l, $a, 4);
	poll(n_idle(4), "$l: four finished workers of A wait to be pooled");
	my ($out, $err) = PgBgTest::query($b,
		q{SELECT * FROM pg_background_result(pg_background_launch('SELECT 5')) AS (x int)});
	is($err, '', "$l: B's launch succeeds") or diag $err;
	is($out, '5', "$l: and its worker ran");
	read_all($l, $a, @h);
	$a->quit;
	$b->quit;
	PgBgTest::wait_for_no_workers($node, "$l: no worker left");
}

# --------------------------------------------------------------------------
# F. canceled and timed-out tasks' workers are not reused
# --------------------------------------------------------------------------
{
	my $l = 'F';
	my $s = pool_session(2);
	for my $how ('cancel_v2_grace', 'cancel_v2', 'worker_timeout')
	{
		my $p = run_pid($s);
		poll(idle_pooled($p), "$l $how: a worker waits in the pool");
		PgBgTest::query_ok($s, "SET pg_background.worker_timeout = '1s'")
		  if $how eq 'worker_timeout';
		my ($pid, $cookie) = PgBgTest::launch_v2($s, 'SELECT pg_sleep(600)::text');
		PgBgTest::query_ok($s, 'RESET pg_background.worker_timeout');
		is($pid, $p, "$l $how: the sleeping task runs in the pooled worker");
		poll(PgBgTest::worker_waits($pid, 'PgSleep'), "$l $how: it sleeps")
		  unless $how eq 'worker_timeout';
		if ($how eq 'cancel_v2_grace')
		{
			PgBgTest::query_ok($s,
				"SELECT pg_background_cancel_v2_grace($pid, $cookie, 60000)");
		}
		elsif ($how eq 'cancel_v2')
		{
			PgBgTest::query_ok($s, "SELECT pg_background_cancel_v2($pid, $cookie)");
		}
		else
		{
			PgBgTest::query_ok($s, "SELECT pg_background_wait_v2($pid, $cookie)");
		}
		my ($out, $err) = PgBgTest::query($s,
			"SELECT * FROM pg_background_result_v2($pid, $cookie) AS (x text)");
		is(PgBgTest::sqlstate($err), '57014', "$l $how: reading it is 57014")
		  or diag $err;
		isnt(run_pid($s), $p, "$l $how: the next launch gets another worker");
		poll(gone($p), "$l $how: the stopped worker exits");
	}

	# a task that finished within its worker_timeout: the timer does not
	# follow the worker into its next task (which has no limit)
	PgBgTest::query_ok($s, "SET pg_background.worker_timeout = '500ms'");
	my $p = run_pid($s);
	PgBgTest::query_ok($s, 'RESET pg_background.worker_timeout');
	my ($out, $err) = PgBgTest::query($s,
		q{SELECT * FROM pg_background_result(pg_background_launch(
		    'SELECT pg_sleep(1.5); SELECT pg_backend_pid()')) AS (p int)});
	is($err, '', "$l timer: the next task, longer than the last one's worker_timeout, finishes")
	  or diag $err;
	is($out, $p, "$l timer: in the same worker");
	$s->quit;
	PgBgTest::wait_for_no_workers($node, "$l: no worker left");
}

# --------------------------------------------------------------------------
# G. an idle pooled worker terminated by an administrator
# --------------------------------------------------------------------------
{
	my $l = 'G terminate';
	my $s = pool_session(2);
	my $p = run_pid($s);
	poll(idle_pooled($p), "$l: a worker waits in the pool");
	ok(PgBgTest::terminate($node, $p), "$l: it is terminated");
	my ($out, $err) = PgBgTest::query($s,
		q{SELECT * FROM pg_background_result(pg_background_launch('SELECT pg_backend_pid()')) AS (p int)});
	is($err, '', "$l: the next launch succeeds") or diag $err;
	isnt($out, $p, "$l: in a fresh worker");

	# pg_terminate_backend() right after the result read, while the worker
	# may still be resetting its session, and the next launch right after
	# it: the same session sends the three statements at once (and does not
	# log them, which would give the worker time to exit first)
	PgBgTest::query_ok($s, "SET log_statement = 'none'");
	my @failed;
	my $same = 0;
	for my $i (1 .. 20)
	{
		my ($o, $e) = PgBgTest::query($s,
			"SELECT p FROM pg_background_result(pg_background_launch('SELECT pg_backend_pid()')) AS (p int) \\gset\n"
			  . "SELECT pg_terminate_backend(:p) AS terminated \\gset\n"
			  . "SELECT :p AS old, x AS new FROM pg_background_result(pg_background_launch('SELECT pg_backend_pid()')) AS (x int)");
		my ($old, $new) = split /\|/, $o;
		push @failed, "$i: '$o' $e" if $e ne '' || !defined $new;
		# a worker terminated just as it was handed the task runs the task,
		# then exits instead of waiting for another (README)
		$same++ if defined $new && $new eq $old;
		poll(gone($old), "$l $i: the terminated worker is gone") if defined $old && $old ne '';
	}
	is(scalar @failed, 0,
		"$l: a launch right after the terminate always succeeds")
	  or diag join("\n", @failed);
	note "$l: $same of 20 tasks ran in the worker terminated as they were handed to it";

	$s->quit;
	PgBgTest::wait_for_no_workers($node, "$l: no worker left");
}

# --------------------------------------------------------------------------
# H. a pooled worker that serves many tasks
# --------------------------------------------------------------------------

# The memory used by all of backend $pid's memory contexts ("Grand total" of
# pg_log_backend_memory_contexts in the server log); undef before
# PostgreSQL 14.
sub worker_memory_used
{
	my ($pid) = @_;
	return undef
	  if $node->safe_psql('postgres', 'SHOW server_version_num') < 140000;
	my $offset = PgBgTest::log_position($node);
	$node->safe_psql('postgres', "SELECT pg_log_backend_memory_contexts($pid)");
	my $used;
	PgBgTest::wait_until(
		sub {
			return 0
			  unless PgBgTest::log_since($node, $offset) =~
			  /\[$pid\][^\n]*Grand total: \d+ bytes in \d+ blocks; \d+ free \(\d+ chunks\); (\d+) used/;
			$used = $1;
			return 1;
		});
	croak "no memory context report from $pid" unless defined $used;
	return $used;
}

{
	my $l = 'H many tasks';
	my $s = pool_session(1);
	my $p = run_pid($s);
	my $cycles = q{
DO $$
DECLARE x int;
BEGIN
  FOR i IN 1..%d LOOP
    SELECT * INTO x FROM pg_background_result(pg_background_launch(
        $q$SET work_mem = '8MB'; CREATE TEMP TABLE t (a int); PREPARE p AS SELECT 1; SELECT 1$q$)) AS (x int);
  END LOOP;
END $$};
	PgBgTest::query_ok($s, sprintf($cycles, 200));
	is(run_pid($s), $p, "$l: 200 tasks ran in the same worker");
	my $dsm = PgBgTest::dsm_count($node);
	my $mem = worker_memory_used($p);
	PgBgTest::query_ok($s, sprintf($cycles, 5000));
	is(run_pid($s), $p, "$l: 5000 more tasks ran in the same worker");
	is(PgBgTest::dsm_count($node), $dsm, "$l: no DSM segment left behind by them");
  SKIP:
	{
		skip 'pg_log_backend_memory_contexts() is PostgreSQL 14+', 1
		  unless defined $mem;
		my $grown = worker_memory_used($p) - $mem;
		cmp_ok($grown, '<', 128 * 1024,
			"$l: the worker's memory grew by less than 128 kB over 5000 tasks")
		  or diag "grew by $grown bytes, " . int($grown / 5000) . ' bytes a task';
	}
	$s->quit;
	PgBgTest::wait_for_no_workers($node, "$l: no worker left");
}

# --------------------------------------------------------------------------
# E. the end
# --------------------------------------------------------------------------
$ctl->quit;
$node->safe_psql('postgres', 'DROP TABLE pool_pids; DROP ROLE regress_pool_other');
PgBgTest::assert_nothing_leaked($node, $dsm_baseline, 4);
$node->stop;
done_testing();
