
# Copyright (c) 2026, pg_background contributors

# Faults on the worker's side, and worker slots taken by others:
#
#   1. a worker terminated (pg_terminate_backend from a third session) in the
#      middle of its query, while its caller is idle, blocked reading its
#      result, or waiting for it, and a submitted worker terminated;
#   2. a worker terminated or canceled in the middle of its COMMIT: a large
#      INSERT whose deferred constraint trigger (fired at commit) waits for an
#      advisory lock held by the control session -- its rows must not commit;
#      released instead, the same commit goes through;
#   3. a worker terminated or canceled just AFTER its commit, while it is
#      blocked sending its last message ("ready") into a full queue: its work
#      is durable, so its caller must get its rows (README: "a worker that had
#      already committed when the cancel arrived counts as finished: its
#      results stay readable");
#   4. a worker terminated while blocked sending rows into a full queue;
#   5. a worker raising FATAL itself (pg_terminate_backend(pg_backend_pid())),
#      in a statement and inside its commit;
#   6. every worker slot taken by other users of max_worker_processes: another
#      session's pg_background workers, a parallel query's workers, and a mix:
#      a launch fails with a clear 53000, the session stays usable, and
#      launches work again once the slots are free.
#
# In every case the caller gets an ERROR, never FATAL; its session is the
# same backend and goes on working; nothing that should not commit commits;
# and at the end no worker, DSM segment or temporary file is left, every slot
# can be used, and the postmaster never went through a crash-restart.

use strict;
use warnings FATAL => 'all';

use lib 't';
use PgBgTest;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PgBgTest::new_node(
	'worker_faults',
	max_worker_processes => 4,
	dsm_type => 'mmap');

$node->safe_psql(
	'postgres', q{
CREATE TABLE t (tag text, n int);
-- blocks until the control session releases advisory lock 42
CREATE FUNCTION pgbg_gate() RETURNS bool LANGUAGE plpgsql AS $$
BEGIN PERFORM pg_advisory_xact_lock_shared(42); RETURN true; END $$;

-- rows of c are checked at commit by a deferred constraint trigger that
-- waits for advisory lock 43 (held by the control session)
CREATE TABLE c (tag text);
CREATE FUNCTION c_at_commit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_advisory_xact_lock_shared(43);
  IF NEW.tag = 'commit_fatal' THEN
    PERFORM pg_terminate_backend(pg_backend_pid());
  END IF;
  RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER c_at_commit AFTER INSERT ON c
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION c_at_commit();

-- for the parallel query that holds worker slots
CREATE TABLE big AS SELECT g FROM generate_series(1, 20000) g;
ALTER TABLE big SET (parallel_workers = 4);
ANALYZE big;
CREATE FUNCTION pgbg_pgate(g int) RETURNS bool LANGUAGE plpgsql PARALLEL SAFE AS $$
BEGIN PERFORM pg_advisory_xact_lock_shared(44); RETURN true; END $$;
});

# warm-up cycle, then the baseline of DSM segments
my $dsm_baseline = PgBgTest::warm_up($node);

my $ctl = PgBgTest::session($node);
my $s = PgBgTest::session($node);
my $spid = PgBgTest::query_ok($s, 'SELECT pg_backend_pid()');
PgBgTest::query_ok($ctl, 'SELECT pg_advisory_lock(42), pg_advisory_lock(43)');

sub poll
{
	local $Test::Builder::Level = $Test::Builder::Level + 1;
	return PgBgTest::poll($node, @_);
}

sub launch_v2 { return PgBgTest::launch_v2($s, @_); }

sub worker_waits { return PgBgTest::worker_waits(@_); }
my @full_queue = ('MessageQueueSend', 'MessageQueuePutMessage');

sub committed
{
	my ($table, $tag) = @_;
	return $node->safe_psql('postgres',
		"SELECT count(*) FROM $table WHERE tag = '$tag'");
}

sub listed
{
	my ($wpid) = @_;
	return PgBgTest::query_ok($s,
		"SELECT state, last_error FROM pg_background_list_v2() $PgBgTest::LIST_COLS WHERE pid = $wpid"
	);
}

# An ERROR (never FATAL) with one of @$states; its context names the worker.
sub check_error
{
	local $Test::Builder::Level = $Test::Builder::Level + 1;
	PgBgTest::assert_worker_error(@_);
}

# the caller is the same backend, works, and no longer tracks the worker
sub check_caller
{
	my ($label, $wpid) = @_;
	local $Test::Builder::Level = $Test::Builder::Level + 1;
	my ($out, $err) = PgBgTest::query($s, 'SELECT pg_backend_pid()');
	is($out, $spid, "$label: same caller backend, next query works");
	is($err, '', "$label: no error on the next query");
	is(listed($wpid), '', "$label: the handle is released");
}

sub read_result
{
	my ($wpid, $cookie, $cols) = @_;
	$cols //= '(x text)';
	return PgBgTest::query($s,
		"SELECT * FROM pg_background_result_v2($wpid, $cookie) AS $cols");
}

# --------------------------------------------------------------------------
# 1. worker terminated in the middle of its query
# --------------------------------------------------------------------------
for my $how ('idle', 'reading', 'waiting')
{
	my $l = "terminated mid-query, caller $how";
	my $tag = "midq_$how";
	my ($wpid, $cookie) = launch_v2(
		qq{INSERT INTO t VALUES ('$tag'); SELECT pgbg_gate()::text});
	poll(worker_waits($wpid, 'advisory'), "$l: worker busy");
	my ($out, $err);
	if ($how eq 'idle')
	{
		ok(PgBgTest::terminate($node, $wpid), "$l: worker terminated");
		($out, $err) = read_result($wpid, $cookie);
	}
	elsif ($how eq 'reading')
	{
		PgBgTest::send_query($s,
			"SELECT * FROM pg_background_result_v2($wpid, $cookie) AS (x text)");
		poll(
			qq{SELECT count(*) = 1 FROM pg_stat_activity
			   WHERE pid = $spid AND wait_event = 'MessageQueueReceive'},
			"$l: caller blocked in result_v2");
		ok(PgBgTest::terminate($node, $wpid), "$l: worker terminated");
		($out, $err) = PgBgTest::finish_query($s);
	}
	else
	{
		PgBgTest::send_query($s, "SELECT pg_background_wait_v2($wpid, $cookie)");
		poll(
			qq{SELECT count(*) = 1 FROM pg_stat_activity
			   WHERE pid = $spid AND wait_event_type = 'Extension'},
			"$l: caller blocked in wait_v2");
		ok(PgBgTest::terminate($node, $wpid), "$l: worker terminated");
		($out, $err) = PgBgTest::finish_query($s);
		is($err, '', "$l: wait_v2 returns normally");
		like(listed($wpid), qr/^stopped\|$PgBgTest::TERMINATED_RE/,
			"$l: list_v2 shows it stopped with its error");
		($out, $err) = read_result($wpid, $cookie);
	}
	check_error($l, $err, $wpid, ['57P01']);
	check_caller($l, $wpid);
	is(committed('t', $tag), '0', "$l: its INSERT did not commit");
}
{
	my $l = 'submitted worker terminated mid-query';
	my $out = PgBgTest::query_ok($s,
		q{SELECT pid, cookie FROM pg_background_submit_v2($$INSERT INTO t VALUES ('midq_submit'); SELECT pgbg_gate()$$)}
	);
	my ($wpid, $cookie) = split /\|/, $out;
	poll(worker_waits($wpid, 'advisory'), "$l: worker busy");
	ok(PgBgTest::terminate($node, $wpid), "$l: worker terminated");
	my ($o, $err) =
	  PgBgTest::query($s, "SELECT pg_background_wait_v2($wpid, $cookie)");
	is($err, '', "$l: wait_v2 returns normally");
	like(listed($wpid), qr/^stopped\|$PgBgTest::TERMINATED_RE/,
		"$l: list_v2 shows it stopped with its error");
	($o, $err) =
	  PgBgTest::query($s, "SELECT pg_background_detach_v2($wpid, $cookie)");
	is($err, '', "$l: detach works");
	check_caller($l, $wpid);
	is(committed('t', 'midq_submit'), '0', "$l: its INSERT did not commit");
}
PgBgTest::wait_for_no_workers($node, '1: no worker left');

# --------------------------------------------------------------------------
# 2. worker stopped in the middle of its COMMIT: the deferred trigger of its
#    1000 rows runs at commit and waits for advisory lock 43
# --------------------------------------------------------------------------
my $at_commit_sql = q{INSERT INTO c SELECT '%s' FROM generate_series(1, 1000)};
for my $how ('terminate, caller idle', 'terminate, caller reading', 'cancel_v2')
{
	my $l = "stopped mid-commit ($how)";
	(my $tag = "commit_$how") =~ s/\W+/_/g;
	my ($wpid, $cookie) = launch_v2(sprintf($at_commit_sql, $tag));
	poll(worker_waits($wpid, 'advisory'),
		"$l: worker inside its commit, at the deferred trigger");
	my ($out, $err);
	if ($how eq 'terminate, caller idle')
	{
		ok(PgBgTest::terminate($node, $wpid), "$l: worker terminated");
		($out, $err) = read_result($wpid, $cookie);
		check_error($l, $err, $wpid, ['57P01']);
	}
	elsif ($how eq 'terminate, caller reading')
	{
		PgBgTest::send_query($s,
			"SELECT * FROM pg_background_result_v2($wpid, $cookie) AS (x text)");
		poll(
			qq{SELECT count(*) = 1 FROM pg_stat_activity
			   WHERE pid = $spid AND wait_event = 'MessageQueueReceive'},
			"$l: caller blocked in result_v2");
		ok(PgBgTest::terminate($node, $wpid), "$l: worker terminated");
		($out, $err) = PgBgTest::finish_query($s);
		check_error($l, $err, $wpid, ['57P01']);
	}
	else
	{
		PgBgTest::query_ok($s, "SELECT pg_background_cancel_v2($wpid, $cookie)");
		poll("SELECT count(*) = 0 FROM pg_stat_activity WHERE pid = $wpid",
			"$l: worker ended");
		($out, $err) = read_result($wpid, $cookie);
		check_error($l, $err, $wpid, ['57014']);
		like($err, qr/was canceled/, "$l: the caller is told it was canceled");
	}
	check_caller($l, $wpid);
	is(committed('c', $tag), '0', "$l: none of its rows committed");
}
{
	my $l = 'mid-commit, released (control)';
	my ($wpid, $cookie) = launch_v2(sprintf($at_commit_sql, 'commit_released'));
	poll(worker_waits($wpid, 'advisory'), "$l: worker inside its commit");
	is(committed('c', 'commit_released'), '0', "$l: nothing visible before the commit ends");
	PgBgTest::query_ok($ctl, 'SELECT pg_advisory_unlock(43)');
	my ($out, $err) = read_result($wpid, $cookie);
	is($out, 'INSERT 0 1000', "$l: the result is its command tag");
	is(committed('c', 'commit_released'), '1000', "$l: all 1000 rows committed");
	PgBgTest::query_ok($ctl, 'SELECT pg_advisory_lock(43)');
}
PgBgTest::wait_for_no_workers($node, '2: no worker left');

# --------------------------------------------------------------------------
# 3. worker stopped just after its commit, blocked sending its last message.
#    Output sizes are found by probing, not computed: a worker runs
#    "INSERT; SELECT repeat('x', n)" with a 1024-byte queue and an idle
#    caller.  For small n it finishes; for large n it blocks on the full queue
#    before its commit; in between (a window of about 16 bytes) everything but
#    its final message fits, so it blocks after its commit.
# --------------------------------------------------------------------------
my $probe_no = 0;

# 'fits', 'after_commit' or 'before_commit'; leaves no tracked handle
sub probe
{
	my ($n) = @_;
	my $tag = 'probe_' . ++$probe_no;
	my ($wpid, $cookie) = launch_v2(
		qq{INSERT INTO t VALUES ('$tag', $n); SELECT repeat('x', $n)}, 1024);
	$node->poll_query_until(
		'postgres', qq{SELECT NOT EXISTS (SELECT FROM pg_stat_activity WHERE pid = $wpid)
		               OR EXISTS (SELECT FROM pg_stat_activity WHERE pid = $wpid
		                          AND wait_event IN ('MessageQueueSend', 'MessageQueuePutMessage'))}
	) or die "probe $n: worker neither ended nor blocked";
	my $gone = $node->safe_psql('postgres',
		"SELECT count(*) = 0 FROM pg_stat_activity WHERE pid = $wpid");
	my $done = committed('t', $tag);
	PgBgTest::query_ok($s, "SELECT pg_background_detach_v2($wpid, $cookie)");
	# a detached worker finishes on its own; let it exit (and its slot be
	# freed) before the next probe, so that probes never run out of slots
	$node->poll_query_until('postgres',
		"SELECT count(*) = 0 FROM pg_stat_activity WHERE pid = $wpid")
	  && PgBgTest::wait_until(sub { PgBgTest::postmaster_has_no_worker_children($node) })
	  or die "probe $n: detached worker did not exit";
	return 'fits' if $gone eq 't';
	return $done ? 'after_commit' : 'before_commit';
}

my ($lo, $hi) = (100, 4000);
my $after_commit_n;
if (probe($lo) eq 'fits' && probe($hi) eq 'before_commit')
{
	# smallest n that does not fit
	while ($hi - $lo > 1)
	{
		my $mid = int(($lo + $hi) / 2);
		if (probe($mid) eq 'fits') { $lo = $mid; }
		else { $hi = $mid; }
	}
	for my $n ($hi .. $hi + 16)
	{
		if (probe($n) eq 'after_commit') { $after_commit_n = $n; last; }
	}
}
ok(defined $after_commit_n,
	'found an output size that blocks the worker after its commit')
  or diag "boundary near $hi";
note "worker blocks after its commit with repeat('x', $after_commit_n) and a 1024-byte queue"
  if defined $after_commit_n;
PgBgTest::wait_for_no_workers($node, '3: probes ended');

SKIP:
{
	skip 'no output size blocks after the commit', 2 * 9
	  unless defined $after_commit_n;
	my $n = $after_commit_n;
	for my $how ('pg_terminate_backend', 'cancel_v2_grace')
	{
		my $l = "stopped after its commit ($how)";
		my $tag = "after_$how";
		my ($wpid, $cookie) = launch_v2(
			qq{INSERT INTO t VALUES ('$tag', $n); SELECT repeat('x', $n)}, 1024);
		poll(worker_waits($wpid, @full_queue), "$l: worker blocked on its last message");
		is(committed('t', $tag), '1', "$l: its INSERT has committed");
		if ($how eq 'pg_terminate_backend')
		{
			ok(PgBgTest::terminate($node, $wpid), "$l: worker terminated");
		}
		else
		{
			PgBgTest::query_ok($s,
				"SELECT pg_background_cancel_v2_grace($wpid, $cookie, 3600000)");
			pass("$l: cancel_v2_grace returned");
		}
		my ($out, $err) = read_result($wpid, $cookie, '(x text)');
		is($err, '', "$l: reading its result is no error (it committed)")
		  or diag "$l: got $err";
		is(length($out), $n, "$l: its row comes back");
		unlike($err, qr/FATAL/, "$l: nothing FATAL reaches the caller");
		my ($o2, $e2) = PgBgTest::query($s, 'SELECT pg_backend_pid()');
		is($o2, $spid, "$l: same caller backend, next query works");
		is(listed($wpid), '', "$l: the handle is released");
		is(committed('t', $tag), '1', "$l: its INSERT stays committed");
	}
}
PgBgTest::wait_for_no_workers($node, '3: no worker left');

# --------------------------------------------------------------------------
# 4. worker terminated while blocked sending rows into a full queue.  Its
#    FATAL may not fit in the full queue; then the caller sees the worker go
#    away without a report (08006).  Either way an ERROR, nothing committed.
# --------------------------------------------------------------------------
for my $then ('result', 'wait, then result')
{
	my $l = "terminated on a full queue ($then)";
	(my $tag = "fullq_$then") =~ s/\W+/_/g;
	my ($wpid, $cookie) = launch_v2(
		qq{INSERT INTO t VALUES ('$tag');
		   SELECT g, repeat('x', 500) FROM generate_series(1, 5000) g}, 1024);
	poll(worker_waits($wpid, @full_queue), "$l: worker blocked on the full queue");
	ok(PgBgTest::terminate($node, $wpid), "$l: worker terminated");
	if ($then ne 'result')
	{
		my ($o, $e) =
		  PgBgTest::query($s, "SELECT pg_background_wait_v2($wpid, $cookie)");
		is($e, '', "$l: wait_v2 returns normally");
	}
	my ($out, $err) = read_result($wpid, $cookie, '(g int, x text)');
	check_error($l, $err, $wpid, [ '57P01', '08006' ]);
	note "$l: caller got: $err";
	check_caller($l, $wpid);
	is(committed('t', $tag), '0', "$l: its INSERT did not commit");
}
PgBgTest::wait_for_no_workers($node, '4: no worker left');

# --------------------------------------------------------------------------
# 5. worker raising FATAL itself
# --------------------------------------------------------------------------
my $self_fatal =
  q{INSERT INTO t VALUES ('%s'); SELECT pg_terminate_backend(pg_backend_pid())::text};
{
	my $l = 'worker FATAL, result_v2';
	my ($wpid, $cookie) = launch_v2(sprintf($self_fatal, 'fatal_v2'));
	my ($out, $err) = read_result($wpid, $cookie);
	check_error($l, $err, $wpid, ['57P01']);
	check_caller($l, $wpid);

	$l = 'worker FATAL, wait_v2 then result_v2';
	($wpid, $cookie) = launch_v2(sprintf($self_fatal, 'fatal_wait'));
	PgBgTest::query_ok($s, "SELECT pg_background_wait_v2($wpid, $cookie)");
	like(listed($wpid), qr/^stopped\|$PgBgTest::TERMINATED_RE/,
		"$l: list_v2 shows it stopped with its error");
	($out, $err) = read_result($wpid, $cookie);
	check_error($l, $err, $wpid, ['57P01']);
	check_caller($l, $wpid);

	$l = 'worker FATAL, v1 result';
	$wpid = PgBgTest::query_ok($s,
		'SELECT pg_background_launch($pgbg$' . sprintf($self_fatal, 'fatal_v1') . '$pgbg$)');
	($out, $err) =
	  PgBgTest::query($s, "SELECT * FROM pg_background_result($wpid) AS (x text)");
	check_error($l, $err, $wpid, ['57P01']);
	check_caller($l, $wpid);

	$l = 'worker FATAL, result read in a transaction block';
	($wpid, $cookie) = launch_v2(sprintf($self_fatal, 'fatal_xact'));
	PgBgTest::query_ok($s, 'BEGIN');
	($out, $err) = read_result($wpid, $cookie);
	check_error($l, $err, $wpid, ['57P01']);
	($out, $err) = PgBgTest::query($s, 'ROLLBACK');
	is($err, '', "$l: ROLLBACK works");
	check_caller($l, $wpid);

	$l = 'worker FATAL inside its commit (deferred trigger)';
	PgBgTest::query_ok($ctl, 'SELECT pg_advisory_unlock(43)');
	($wpid, $cookie) = launch_v2(
		q{INSERT INTO c SELECT 'x' FROM generate_series(1, 10);
		  INSERT INTO c VALUES ('commit_fatal')});
	($out, $err) = read_result($wpid, $cookie);
	check_error($l, $err, $wpid, ['57P01']);
	check_caller($l, $wpid);
	PgBgTest::query_ok($ctl, 'SELECT pg_advisory_lock(43)');
	is($node->safe_psql('postgres',
			"SELECT count(*) FROM c WHERE tag IN ('x', 'commit_fatal')"),
		'0', "$l: none of its rows committed");

	$l = 'submitted worker FATAL';
	my $o = PgBgTest::query_ok($s,
		'SELECT pid, cookie FROM pg_background_submit_v2($pgbg$'
		  . sprintf($self_fatal, 'fatal_submit') . '$pgbg$)');
	($wpid, $cookie) = split /\|/, $o;
	PgBgTest::query_ok($s, "SELECT pg_background_wait_v2($wpid, $cookie)");
	like(listed($wpid), qr/^stopped\|$PgBgTest::TERMINATED_RE/,
		"$l: list_v2 shows it stopped with its error");
	($o, $err) =
	  PgBgTest::query($s, "SELECT pg_background_detach_v2($wpid, $cookie)");
	is($err, '', "$l: detach works");
	check_caller($l, $wpid);

	is( $node->safe_psql('postgres',
			"SELECT count(*) FROM t WHERE tag LIKE 'fatal%'"),
		'0',
		'worker FATAL: none of the INSERTs before it committed');
}
PgBgTest::wait_for_no_workers($node, '5: no worker left');

# --------------------------------------------------------------------------
# 6. every slot taken by other users of max_worker_processes
# --------------------------------------------------------------------------

sub check_exhausted
{
	my ($label) = @_;
	local $Test::Builder::Level = $Test::Builder::Level + 1;
	for my $f (
		q{pg_background_launch_v2('SELECT 1')},
		q{pg_background_submit_v2('SELECT 1')},
		q{pg_background_launch('SELECT 1')})
	{
		my ($out, $err) = PgBgTest::query($s, "SELECT $f");
		PgBgTest::assert_53000($err, "$label: $f");
	}
	my ($out, $err) = PgBgTest::query($s, 'SELECT pg_backend_pid()');
	is($out, $spid, "$label: same caller backend, next query works");
	is(PgBgTest::query_ok($s,
			"SELECT count(*) FROM pg_background_list_v2() $PgBgTest::LIST_COLS"),
		'0', "$label: no handle left behind");
}

sub check_launch_works
{
	my ($label) = @_;
	local $Test::Builder::Level = $Test::Builder::Level + 1;
	my ($wpid, $cookie) = launch_v2('SELECT 5');
	my ($out, $err) = read_result($wpid, $cookie, '(x int)');
	is($out, '5', "$label: a launch works again");
	PgBgTest::wait_for_no_workers($node, "$label: that worker ended");
}

# a parallel query in session $par whose workers wait for advisory lock 44;
# returns the session
sub start_parallel_query
{
	my ($nworkers) = @_;
	my $par = PgBgTest::session($node);
	PgBgTest::query_ok(
		$par, qq{
SET max_parallel_workers = $nworkers;
SET max_parallel_workers_per_gather = $nworkers;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET parallel_leader_participation = off});
	PgBgTest::send_query($par, 'SELECT count(*) FROM big WHERE pgbg_pgate(g)');
	return $par;
}

sub parallel_workers_waiting
{
	my ($n) = @_;
	return qq{SELECT count(*) = $n FROM pg_stat_activity
	          WHERE backend_type = 'parallel worker' AND wait_event = 'advisory'};
}

PgBgTest::query_ok($ctl, 'SELECT pg_advisory_lock(44)');

# 6a. another session's pg_background workers
{
	my $l = "slots held by another session's workers";
	my $other = PgBgTest::session($node);
	my @h = map { [ PgBgTest::launch_v2($other, 'SELECT pgbg_gate()') ] } 1 .. 4;
	poll(
		q{SELECT count(*) = 4 FROM pg_stat_activity
		  WHERE backend_type = 'pg_background' AND wait_event = 'advisory'},
		"$l: 4 workers of another session hold every slot");
	check_exhausted($l);
	PgBgTest::query_ok($ctl, 'SELECT pg_advisory_unlock(42)');
	PgBgTest::query_ok($other,
		"SELECT * FROM pg_background_result_v2($_->[0], $_->[1]) AS (x bool)")
	  for @h;
	$other->quit;
	PgBgTest::wait_for_no_workers($node, "$l: they ended");
	check_launch_works($l);
	PgBgTest::query_ok($ctl, 'SELECT pg_advisory_lock(42)');
}

# 6b. a parallel query's workers
{
	my $l = 'slots held by parallel workers';
	my $par = start_parallel_query(4);
	poll(parallel_workers_waiting(4), "$l: 4 parallel workers hold every slot");
	check_exhausted($l);
	PgBgTest::query_ok($ctl, 'SELECT pg_advisory_unlock(44)');
	my ($out, $err) = PgBgTest::finish_query($par);
	is($out, '20000', "$l: the parallel query finishes with the right answer");
	$par->quit;
	poll(
		q{SELECT count(*) = 0 FROM pg_stat_activity WHERE backend_type = 'parallel worker'},
		"$l: the parallel workers ended");
	check_launch_works($l);
	PgBgTest::query_ok($ctl, 'SELECT pg_advisory_lock(44)');
}

# 6c. a mix: 2 parallel workers and 2 workers of another session
{
	my $l = 'slots held by 2 parallel workers and 2 pg_background workers';
	my $par = start_parallel_query(2);
	poll(parallel_workers_waiting(2), "$l: 2 parallel workers running");
	my $other = PgBgTest::session($node);
	my @h = map { [ PgBgTest::launch_v2($other, 'SELECT pgbg_gate()') ] } 1 .. 2;
	poll(
		q{SELECT count(*) = 2 FROM pg_stat_activity
		  WHERE backend_type = 'pg_background' AND wait_event = 'advisory'},
		"$l: 2 pg_background workers of another session running");
	check_exhausted($l);

	# the parallel workers go first: two slots free up
	PgBgTest::query_ok($ctl, 'SELECT pg_advisory_unlock(44)');
	my ($out, $err) = PgBgTest::finish_query($par);
	is($out, '20000', "$l: the parallel query finishes with the right answer");
	$par->quit;
	poll(
		q{SELECT count(*) = 0 FROM pg_stat_activity WHERE backend_type = 'parallel worker'},
		"$l: the parallel workers ended");
	my @mine = map { [ launch_v2('SELECT pgbg_gate()') ] } 1 .. 2;
	pass("$l: two launches get the two freed slots");
	($out, $err) = PgBgTest::query($s, q{SELECT pg_background_launch_v2('SELECT 1')});
	is(PgBgTest::sqlstate($err), '53000', "$l: and the next one is 53000 again");

	PgBgTest::query_ok($ctl, 'SELECT pg_advisory_unlock(42)');
	PgBgTest::query_ok($other,
		"SELECT * FROM pg_background_result_v2($_->[0], $_->[1]) AS (x bool)")
	  for @h;
	$other->quit;
	for my $h (@mine)
	{
		($out, $err) = read_result(@$h, '(x bool)');
		is($out, 't', "$l: worker $h->[0] finished");
	}
	PgBgTest::wait_for_no_workers($node, "$l: every worker ended");
	check_launch_works($l);
}

# --------------------------------------------------------------------------
# nothing lost, nothing leaked
# --------------------------------------------------------------------------
PgBgTest::assert_caller_clean($s, $spid);
$s->quit;
$ctl->quit;
PgBgTest::assert_nothing_leaked($node, $dsm_baseline, 4);
$node->stop;
done_testing();
