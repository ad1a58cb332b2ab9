
# Copyright (c) 2026, pg_background contributors

# The calling session's own statement is interrupted -- by its
# statement_timeout and by pg_cancel_backend() from another session -- while
# it blocks in each of the blocking calls:
#
#   A. pg_background_result_v2(), worker held on a lock before it sent
#      anything (nothing consumed: the read can simply be repeated);
#   B. pg_background_result_v2(), worker in a long pg_sleep after it sent its
#      row description and two rows (the read had begun: 55000 afterwards,
#      cancel and detach still work);
#   C. pg_background_result() (v1), worker held on a lock, and worker in a
#      long pg_sleep (then canceled through the v2 functions);
#   D. pg_background_wait_v2(), while it drains a worker with far more output
#      than its queue into a buffer spilled to disk -- once outside and once
#      inside a transaction block that is then rolled back: nothing is lost,
#      every row comes back afterwards;
#   E. pg_background_wait_v2(), worker in a long pg_sleep;
#   F. pg_background_wait_v2_timeout() with a one-hour timeout;
#   G. pg_background_cancel_v2_grace() with a one-hour grace, on a worker that
#      takes long to exit after its SIGTERM: it created a temporary table, and
#      the control session holds a lock on that table, so the worker's exit
#      (which drops its temporary tables) waits for the lock;
#   H. and a launch when every worker slot is busy does not block: it fails at
#      once with 53000, even with a long statement_timeout.
#
# After each interruption: the caller got 57014 (an ERROR), its session is the
# same backend and works, the handle is still there and usable (read again,
# wait again, cancel, detach), and once it is done with no worker is left.
# At the end: no DSM segment or temporary file leaked, all 4 worker slots can
# be used at once, and the postmaster never went through a crash-restart.
#
# Workers are held at known points by locks the control session owns, never by
# timing.  The only durations are the statement_timeout values, which bound
# calls that would otherwise block for good.

use strict;
use warnings FATAL => 'all';

use lib 't';
use PgBgTest;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PgBgTest::new_node(
	'caller_interrupts',
	max_worker_processes => 4,
	dsm_type => 'mmap');

$node->safe_psql(
	'postgres', q{
CREATE TABLE t (tag text, g int);
-- sleeps for an hour at row number "at" (the worker is canceled long before)
CREATE FUNCTION pgbg_sleep_at(g int, at int) RETURNS bool LANGUAGE plpgsql AS $$
BEGIN
  IF g = at THEN PERFORM pg_sleep(3600); END IF;
  RETURN true;
END $$;
});
$node->safe_psql('postgres', $PgBgTest::GATE_FUNCTION);

# warm-up cycle, then the baseline of DSM segments
my $dsm_baseline = PgBgTest::warm_up($node);

my $ctl = PgBgTest::session($node);
my $s = PgBgTest::session($node);
my $spid = PgBgTest::query_ok($s, 'SELECT pg_backend_pid()');
PgBgTest::query_ok($ctl, 'SELECT pg_advisory_lock(42)');

my @methods = ('statement_timeout', 'pg_cancel_backend');

sub poll
{
	local $Test::Builder::Level = $Test::Builder::Level + 1;
	return PgBgTest::poll($node, @_);
}

sub launch_v2 { return PgBgTest::launch_v2($s, @_); }

sub worker_waits { return PgBgTest::worker_waits(@_); }

# the caller is blocked inside its call ($event: its wait_event, or
# 'Extension' for the wait type of the extension's own latch waits), and
# the worker is where it should be
sub caller_blocked
{
	my ($event, $worker_cond) = @_;
	my $c =
	  $event eq 'Extension'
	  ? "wait_event_type = 'Extension'"
	  : "wait_event = '$event'";
	return qq{SELECT count(*) = 1 FROM pg_stat_activity
	          WHERE pid = $spid AND state = 'active' AND $c
	          AND ($worker_cond)};
}

# Run $sql in the caller and interrupt it with $method.  With
# pg_cancel_backend the cancel is sent once $blocked (a query) is true, so it
# hits the call where it blocks.  With statement_timeout the timeout bounds a
# call that would otherwise block for good.  In a transaction block
# ($in_xact) the timeout is set with SET LOCAL.  Checks the error; returns
# stderr.
sub interrupt
{
	my ($label, $method, $sql, $blocked, $in_xact) = @_;
	local $Test::Builder::Level = $Test::Builder::Level + 1;
	my ($out, $err);

	if ($method eq 'statement_timeout')
	{
		my $set = $in_xact ? 'SET LOCAL' : 'SET';
		($out, $err) = PgBgTest::query($s,
			"$set statement_timeout = '500ms';\n$sql;\n"
			  . ($in_xact ? 'SELECT 1' : 'RESET statement_timeout'));
	}
	else
	{
		PgBgTest::send_query($s, $sql);
		poll($blocked, "$label: the caller is blocked in its call");
		$node->safe_psql('postgres', "SELECT pg_cancel_backend($spid)");
		($out, $err) = PgBgTest::finish_query($s);
	}
	is(PgBgTest::sqlstate($err), '57014', "$label: the caller gets 57014")
	  or diag $err;
	is(PgBgTest::severity($err), 'ERROR', "$label: as an ERROR");
	my $why =
	  $method eq 'statement_timeout'
	  ? qr/canceling statement due to statement timeout/
	  : qr/canceling statement due to user request/;
	like($err, $why, "$label: the message says why");
	return $err;
}

# the caller's session is the same backend and works
sub session_usable
{
	my ($label) = @_;
	local $Test::Builder::Level = $Test::Builder::Level + 1;
	my ($out, $err) = PgBgTest::query($s, 'SELECT pg_backend_pid()');
	is($out, $spid, "$label: same caller backend, next query works");
	is($err, '', "$label: no error on the next query");
}

# state and consumed of the handle in list_v2 ('' if not listed)
sub listed
{
	my ($wpid) = @_;
	return PgBgTest::query_ok($s,
		"SELECT state, consumed FROM pg_background_list_v2() $PgBgTest::LIST_COLS WHERE pid = $wpid"
	);
}

sub sqlstate_of { return PgBgTest::sqlstate_of($s, @_); }

sub release_gate
{
	PgBgTest::query_ok($ctl, 'SELECT pg_advisory_unlock(42)');
}

sub hold_gate
{
	PgBgTest::query_ok($ctl, 'SELECT pg_advisory_lock(42)');
}

# --------------------------------------------------------------------------
# A. result_v2, worker held on a lock before it sent anything
# --------------------------------------------------------------------------
for my $m (@methods)
{
	my $l = "A result_v2/lock/$m";
	my ($wpid, $cookie) = launch_v2(
		q{SELECT pgbg_gate(1, 1); SELECT g FROM generate_series(1, 3) g});
	poll(worker_waits($wpid, 'advisory'), "$l: worker at the gate");
	interrupt($l, $m,
		"SELECT sum(g) FROM pg_background_result_v2($wpid, $cookie) AS (g int)",
		caller_blocked('MessageQueueReceive', worker_waits($wpid, 'advisory')));
	session_usable($l);
	is(listed($wpid), 'running|f',
		"$l: the handle is still listed, running, nothing consumed");
	release_gate();
	is(PgBgTest::query_ok($s,
			"SELECT sum(g) FROM pg_background_result_v2($wpid, $cookie) AS (g int)"),
		'6', "$l: reading again returns every row");
	is(listed($wpid), '', "$l: the handle is released after the read");
	hold_gate();
	PgBgTest::wait_for_no_workers($node, "$l: no worker left");
}

# --------------------------------------------------------------------------
# B. result_v2, worker sleeping after it sent its row description and two
#    rows: the read had begun, so the handle stays consumed
# --------------------------------------------------------------------------
for my $m (@methods)
{
	my $l = "B result_v2/pg_sleep/$m";
	my ($wpid, $cookie) = launch_v2(
		q{SELECT g FROM generate_series(1, 3) g WHERE pgbg_sleep_at(g, 3)});
	poll(worker_waits($wpid, 'PgSleep'), "$l: worker sleeping after two rows");
	interrupt($l, $m,
		"SELECT sum(g) FROM pg_background_result_v2($wpid, $cookie) AS (g int)",
		caller_blocked('MessageQueueReceive', worker_waits($wpid, 'PgSleep')));
	session_usable($l);
	is(listed($wpid), 'running|t',
		"$l: the handle is still listed, running, consumed");
	my ($st) = sqlstate_of(
		"SELECT * FROM pg_background_result_v2($wpid, $cookie) AS (g int)");
	is($st, '55000', "$l: reading again is 55000 (already read)");
	is(PgBgTest::query_ok($s,
			"SELECT pg_background_wait_v2_timeout($wpid, $cookie, 0)"),
		'f', "$l: wait_v2_timeout still works on the handle (worker running)");
	PgBgTest::query_ok($s,
		"SELECT pg_background_cancel_v2_grace($wpid, $cookie, 3600000)");
	poll("SELECT count(*) = 0 FROM pg_stat_activity WHERE pid = $wpid",
		"$l: cancel_v2_grace on the handle stopped the worker");
	is(listed($wpid), 'stopped|t', "$l: listed as stopped");
	($st) = sqlstate_of("SELECT pg_background_detach_v2($wpid, $cookie)");
	is($st, 'ok', "$l: detach works");
	is(listed($wpid), '', "$l: the handle is gone after detach");
	PgBgTest::wait_for_no_workers($node, "$l: no worker left");
}

# --------------------------------------------------------------------------
# C. pg_background_result (v1): worker held on a lock, then a sleeping worker
#    canceled through the v2 functions (v1 workers are listed with a cookie)
# --------------------------------------------------------------------------
for my $m (@methods)
{
	my $l = "C v1 result/lock/$m";
	my $wpid = PgBgTest::query_ok($s,
		q{SELECT pg_background_launch('SELECT pgbg_gate(1, 1); SELECT 42')});
	poll(worker_waits($wpid, 'advisory'), "$l: worker at the gate");
	interrupt($l, $m, "SELECT * FROM pg_background_result($wpid) AS (x int)",
		caller_blocked('MessageQueueReceive', worker_waits($wpid, 'advisory')));
	session_usable($l);
	is(listed($wpid), 'running|f', "$l: the worker is still listed, running");
	release_gate();
	is(PgBgTest::query_ok($s, "SELECT * FROM pg_background_result($wpid) AS (x int)"),
		'42', "$l: reading again returns the result");
	hold_gate();
	PgBgTest::wait_for_no_workers($node, "$l: no worker left");

	$l = "C v1 result/pg_sleep/$m";
	$wpid = PgBgTest::query_ok($s,
		q{SELECT pg_background_launch('SELECT pgbg_sleep_at(1, 1); SELECT 42')});
	poll(worker_waits($wpid, 'PgSleep'), "$l: worker sleeping");
	interrupt($l, $m, "SELECT * FROM pg_background_result($wpid) AS (x int)",
		caller_blocked('MessageQueueReceive', worker_waits($wpid, 'PgSleep')));
	session_usable($l);
	my $cookie = PgBgTest::query_ok($s,
		"SELECT cookie FROM pg_background_list_v2() $PgBgTest::LIST_COLS WHERE pid = $wpid"
	);
	like($cookie, qr/^-?\d+$/, "$l: the v1 worker is listed with a cookie");
	PgBgTest::query_ok($s,
		"SELECT pg_background_cancel_v2_grace($wpid, $cookie, 3600000)");
	my ($st) =
	  sqlstate_of("SELECT * FROM pg_background_result($wpid) AS (x int)");
	is($st, '57014', "$l: after cancel_v2_grace the v1 read says canceled (57014)");
	is(listed($wpid), '', "$l: the worker is forgotten after that read");
	PgBgTest::wait_for_no_workers($node, "$l: no worker left");
}

# --------------------------------------------------------------------------
# D. wait_v2 while it drains a worker with far more output than its queue
#    (spilled to a temporary file); the worker stops at the gate at row 15000
# --------------------------------------------------------------------------
PgBgTest::query_ok($s, "SET work_mem = '64kB'");
for my $m (@methods)
{
	for my $in_xact (0, 1)
	{
		my $l = "D wait_v2/draining/$m" . ($in_xact ? '/in a transaction block' : '');
		my ($wpid, $cookie) = launch_v2(
			q{SELECT g, repeat('x', 200) AS x FROM generate_series(1, 20000) g
			  WHERE pgbg_gate(g, 15000)}, 1024);
		PgBgTest::query_ok($s, 'BEGIN') if $in_xact;
		interrupt(
			$l, $m,
			"SELECT pg_background_wait_v2($wpid, $cookie)",
			caller_blocked(
				'Extension', worker_waits($wpid, 'advisory') . qq{
				  AND EXISTS (SELECT FROM pg_ls_tmpdir()
				              WHERE name LIKE 'pgsql_tmp$spid.%')}),
			$in_xact);
		if ($in_xact)
		{
			my ($out, $err) = PgBgTest::query($s, 'ROLLBACK');
			is($err, '', "$l: ROLLBACK works");
		}
		session_usable($l);
		is(listed($wpid), 'running|f', "$l: the handle is still listed, running");
		release_gate();
		my ($st) = sqlstate_of("SELECT pg_background_wait_v2($wpid, $cookie)");
		is($st, 'ok', "$l: waiting again works");
		is( PgBgTest::query_ok(
				$s,
				"SELECT count(*) || ',' || sum(g) || ',' || min(length(x)) FROM pg_background_result_v2($wpid, $cookie) AS (g int, x text)"
			),
			'20000,200010000,200',
			"$l: every row comes back, none lost or duplicated");
		hold_gate();
		PgBgTest::wait_for_no_workers($node, "$l: no worker left");
		poll(
			qq{SELECT count(*) = 0 FROM pg_ls_tmpdir()
			   WHERE name LIKE 'pgsql_tmp$spid.%'},
			"$l: the spilled buffer's temporary file is gone");
	}
}
PgBgTest::query_ok($s, 'RESET work_mem');

# --------------------------------------------------------------------------
# E. wait_v2, worker in a long pg_sleep
# --------------------------------------------------------------------------
for my $m (@methods)
{
	my $l = "E wait_v2/pg_sleep/$m";
	my ($wpid, $cookie) = launch_v2(
		q{INSERT INTO t VALUES ('E', 1); SELECT pgbg_sleep_at(1, 1)});
	poll(worker_waits($wpid, 'PgSleep'), "$l: worker sleeping");
	interrupt($l, $m, "SELECT pg_background_wait_v2($wpid, $cookie)",
		caller_blocked('Extension', worker_waits($wpid, 'PgSleep')));
	session_usable($l);
	is(listed($wpid), 'running|f', "$l: the handle is still listed, running");
	PgBgTest::query_ok($s,
		"SELECT pg_background_cancel_v2_grace($wpid, $cookie, 3600000)");
	my ($st) = sqlstate_of(
		"SELECT * FROM pg_background_result_v2($wpid, $cookie) AS (x bool)");
	is($st, '57014', "$l: then canceled, its read says canceled (57014)");
	PgBgTest::wait_for_no_workers($node, "$l: no worker left");
}
is($node->safe_psql('postgres', "SELECT count(*) FROM t WHERE tag = 'E'"),
	'0', 'E: the canceled sleepers committed nothing');

# --------------------------------------------------------------------------
# F. wait_v2_timeout with a one-hour timeout, worker held on a lock
# --------------------------------------------------------------------------
for my $m (@methods)
{
	my $l = "F wait_v2_timeout/lock/$m";
	my ($wpid, $cookie) = launch_v2(
		qq{SELECT pgbg_gate(1, 1); INSERT INTO t VALUES ('F', $spid) RETURNING tag});
	poll(worker_waits($wpid, 'advisory'), "$l: worker at the gate");
	interrupt($l, $m,
		"SELECT pg_background_wait_v2_timeout($wpid, $cookie, 3600000)",
		caller_blocked('Extension', worker_waits($wpid, 'advisory')));
	session_usable($l);
	is(PgBgTest::query_ok($s,
			"SELECT pg_background_wait_v2_timeout($wpid, $cookie, 0)"),
		'f', "$l: wait_v2_timeout(0) on the handle: still running");
	release_gate();
	is(PgBgTest::query_ok($s,
			"SELECT pg_background_wait_v2_timeout($wpid, $cookie, 3600000)"),
		't', "$l: waiting again returns true once the gate opens");
	is(PgBgTest::query_ok($s,
			"SELECT * FROM pg_background_result_v2($wpid, $cookie) AS (tag text)"),
		'F', "$l: the result is there");
	hold_gate();
	PgBgTest::wait_for_no_workers($node, "$l: no worker left");
}
is($node->safe_psql('postgres', "SELECT count(*) FROM t WHERE tag = 'F'"),
	'2', 'F: both workers committed');

# --------------------------------------------------------------------------
# G. cancel_v2_grace with a one-hour grace.  A sleeping worker ends at once:
#    the call just returns.  To make it block, the worker creates a temporary
#    table (committed by the VACUUM after it) and the control session locks
#    that table: after the SIGTERM, the worker's exit drops its temporary
#    tables and waits for the lock, so cancel_v2_grace waits too.
# --------------------------------------------------------------------------
{
	my $l = 'G cancel_v2_grace of a sleeper';
	my ($wpid, $cookie) = launch_v2(q{SELECT pgbg_sleep_at(1, 1)});
	poll(worker_waits($wpid, 'PgSleep'), "$l: worker sleeping");
	my ($st) = sqlstate_of(
		"SELECT pg_background_cancel_v2_grace($wpid, $cookie, 3600000)");
	is($st, 'ok', "$l: returns");
	($st) = sqlstate_of(
		"SELECT * FROM pg_background_result_v2($wpid, $cookie) AS (x bool)");
	is($st, '57014', "$l: its read says canceled (57014)");
	PgBgTest::wait_for_no_workers($node, "$l: no worker left");
}
for my $m (@methods)
{
	my $l = "G cancel_v2_grace/slow exit/$m";
	my $tab = "hold_" . ($m eq 'statement_timeout' ? 'st' : 'cb');
	my ($wpid, $cookie) = launch_v2(
		qq{CREATE TEMP TABLE $tab (a int); VACUUM $tab;
		   INSERT INTO t VALUES ('G', 1); SELECT pgbg_gate(1, 1)});
	poll(worker_waits($wpid, 'advisory'), "$l: worker at the gate");
	my $nsp = $node->safe_psql('postgres',
		"SELECT relnamespace::regnamespace FROM pg_class WHERE relname = '$tab'");
	PgBgTest::query_ok($ctl, "BEGIN; LOCK TABLE $nsp.$tab IN ACCESS SHARE MODE");
	interrupt($l, $m,
		"SELECT pg_background_cancel_v2_grace($wpid, $cookie, 3600000)",
		caller_blocked('Extension', worker_waits($wpid, 'relation')));
	session_usable($l);
	ok( $node->poll_query_until('postgres', worker_waits($wpid, 'relation')),
		"$l: the worker is still exiting (waits for the table lock)");
	is(PgBgTest::query_ok($s,
			"SELECT pg_background_wait_v2_timeout($wpid, $cookie, 0)"),
		'f', "$l: wait_v2_timeout(0) on the handle: not ended yet");
	PgBgTest::query_ok($ctl, 'COMMIT');
	my ($st) = sqlstate_of("SELECT pg_background_wait_v2($wpid, $cookie)");
	is($st, 'ok', "$l: waiting again returns once the worker could exit");
	($st) = sqlstate_of(
		"SELECT * FROM pg_background_result_v2($wpid, $cookie) AS (x bool)");
	is($st, '57014', "$l: its read says canceled (57014)");
	PgBgTest::wait_for_no_workers($node, "$l: no worker left");
}
is($node->safe_psql('postgres', "SELECT count(*) FROM t WHERE tag = 'G'"),
	'0', 'G: the canceled workers committed nothing');

# --------------------------------------------------------------------------
# H. every slot busy: a launch fails at once with 53000, it does not wait for
#    a slot (with a 10-minute statement_timeout it would otherwise be 57014
#    or hang until the test's own timeout)
# --------------------------------------------------------------------------
{
	my $l = 'H launch with every slot busy';
	my $other = PgBgTest::session($node);
	my @h = map { [ PgBgTest::launch_v2($other, 'SELECT pgbg_gate(1, 1)') ] } 1 .. 4;
	poll(
		q{SELECT count(*) = 4 FROM pg_stat_activity
		  WHERE backend_type = 'pg_background' AND wait_event = 'advisory'},
		"$l: 4 workers of another session hold every slot");
	PgBgTest::query_ok($s, "SET statement_timeout = '10min'");
	for my $f (
		q{pg_background_launch_v2('SELECT 1')},
		q{pg_background_submit_v2('SELECT 1')},
		q{pg_background_launch('SELECT 1')})
	{
		my ($st) = sqlstate_of("SELECT $f");
		is($st, '53000', "$l: $f fails with 53000");
	}
	PgBgTest::query_ok($s, 'RESET statement_timeout');
	session_usable($l);
	is(PgBgTest::query_ok($s,
			"SELECT count(*) FROM pg_background_list_v2() $PgBgTest::LIST_COLS"),
		'0', "$l: no handle left behind by the failed launches");
	release_gate();
	PgBgTest::query_ok($other,
		"SELECT * FROM pg_background_result_v2($_->[0], $_->[1]) AS (x bool)")
	  for @h;
	$other->quit;
	PgBgTest::wait_for_no_workers($node, "$l: the other session's workers ended");
	my ($wpid, $cookie) = launch_v2('SELECT 7');
	is(PgBgTest::query_ok($s,
			"SELECT * FROM pg_background_result_v2($wpid, $cookie) AS (x int)"),
		'7', "$l: once slots are free a launch works");
	hold_gate();
}

# --------------------------------------------------------------------------
# nothing lost, nothing leaked
# --------------------------------------------------------------------------
release_gate();
PgBgTest::assert_caller_clean($s, $spid);
$s->quit;
$ctl->quit;
PgBgTest::assert_nothing_leaked($node, $dsm_baseline, 4);
$node->stop;
done_testing();
