
# Copyright (c) 2026, pg_background contributors

# A worker is terminated with pg_terminate_backend(worker pid) in the middle of
# its SQL.  Its FATAL reaches the caller as an ERROR (never FATAL) when the
# caller reads the result -- whether the caller was idle, already blocked in
# pg_background_result_v2(), or waiting in pg_background_wait_v2(), and also
# when the worker was blocked on a full queue.  The caller's session stays
# usable (same backend, next query works, also after an error inside a
# transaction block), and the worker's write never commits.

use strict;
use warnings FATAL => 'all';

use lib 't';
use PgBgTest;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PgBgTest::new_node('worker_terminated', max_worker_processes => 4);
$node->safe_psql('postgres', 'CREATE TABLE t (tag text)');

my $caller = PgBgTest::session($node);
my $caller_pid = PgBgTest::query_ok($caller, 'SELECT pg_backend_pid()');

sub poll
{
	local $Test::Builder::Level = $Test::Builder::Level + 1;
	return PgBgTest::poll($node, @_);
}

# launch a v2 worker in the caller session; returns (pid, cookie)
sub launch_v2 { return PgBgTest::launch_v2($caller, @_); }

sub worker_sleeping { return PgBgTest::worker_waits($_[0], 'PgSleep'); }

# The error a caller got for a terminated worker: an ERROR with the worker's
# SQLSTATE and one context line naming the worker.
sub check_error
{
	my ($label, $err, $wpid, $states) = @_;
	local $Test::Builder::Level = $Test::Builder::Level + 1;
	PgBgTest::assert_worker_error($label, $err, $wpid, $states // [qw(57P01)],
		one_context => 1);
}

# The caller's session is the same backend and still works, its handle is
# gone, and the worker's INSERT did not commit.
sub check_after
{
	my ($label, $tag) = @_;
	local $Test::Builder::Level = $Test::Builder::Level + 1;
	my ($out, $err) = PgBgTest::query($caller, 'SELECT pg_backend_pid()');
	is($out, $caller_pid, "$label: same caller backend, next query works");
	is($err, '', "$label: next query has no error");
	is( PgBgTest::query_ok(
			$caller,
			'SELECT count(*) FROM pg_background_list_v2() AS (pid int4, cookie int8, '
			  . 'launched_at timestamptz, user_id oid, queue_size int4, state text, '
			  . 'sql_preview text, last_error text, consumed bool)'),
		'0',
		"$label: the handle is gone after its error was raised");
	is($node->safe_psql('postgres', "SELECT count(*) FROM t WHERE tag = '$tag'"),
		'0', "$label: the worker's INSERT did not commit");
}

# --------------------------------------------------------------------------
# 1. caller idle while its worker is terminated; result read afterwards
# --------------------------------------------------------------------------
{
	my ($wpid, $cookie) =
	  launch_v2(q{INSERT INTO t VALUES ('idle'); SELECT 'never'::text FROM pg_sleep(300)});
	poll(worker_sleeping($wpid), 'idle caller: worker busy');
	ok(PgBgTest::terminate($node, $wpid), 'idle caller: worker terminated');

	my ($out, $err) = PgBgTest::query($caller,
		"SELECT * FROM pg_background_result_v2($wpid, $cookie) AS (x text)");
	check_error('idle caller', $err, $wpid);
	like($err, $PgBgTest::TERMINATED_RE,
		'idle caller: the worker\'s own message is passed on');
	check_after('idle caller', 'idle');
}

# --------------------------------------------------------------------------
# 2. caller already blocked in pg_background_result_v2()
# --------------------------------------------------------------------------
{
	my ($wpid, $cookie) =
	  launch_v2(q{INSERT INTO t VALUES ('reading'); SELECT 'never'::text FROM pg_sleep(300)});
	PgBgTest::send_query($caller,
		"SELECT * FROM pg_background_result_v2($wpid, $cookie) AS (x text)");
	poll(
		qq{SELECT count(*) = 1 FROM pg_stat_activity
		   WHERE pid = $caller_pid AND wait_event = 'MessageQueueReceive'
		   AND EXISTS (SELECT FROM pg_stat_activity
		               WHERE pid = $wpid AND wait_event = 'PgSleep')},
		'reading caller: caller blocked in result_v2, worker busy');
	ok(PgBgTest::terminate($node, $wpid), 'reading caller: worker terminated');

	my ($out, $err) = PgBgTest::finish_query($caller);
	check_error('reading caller', $err, $wpid);
	check_after('reading caller', 'reading');
}

# --------------------------------------------------------------------------
# 3. caller blocked in pg_background_wait_v2(): the wait ends normally, the
#    worker shows as stopped with its error, and reading the result raises it
# --------------------------------------------------------------------------
{
	my ($wpid, $cookie) =
	  launch_v2(q{INSERT INTO t VALUES ('waiting'); SELECT 'never'::text FROM pg_sleep(300)});
	PgBgTest::send_query($caller,
		"SELECT pg_background_wait_v2($wpid, $cookie)");
	poll(
		qq{SELECT count(*) = 1 FROM pg_stat_activity
		   WHERE pid = $caller_pid AND wait_event_type = 'Extension'
		   AND EXISTS (SELECT FROM pg_stat_activity
		               WHERE pid = $wpid AND wait_event = 'PgSleep')},
		'waiting caller: caller blocked in wait_v2, worker busy');
	ok(PgBgTest::terminate($node, $wpid), 'waiting caller: worker terminated');

	my ($out, $err) = PgBgTest::finish_query($caller);
	is($err, '', 'waiting caller: wait_v2 returns without error');
	like(
		PgBgTest::query_ok(
			$caller,
			'SELECT state, last_error FROM pg_background_list_v2() AS (pid int4, cookie int8, '
			  . 'launched_at timestamptz, user_id oid, queue_size int4, state text, '
			  . "sql_preview text, last_error text, consumed bool) WHERE pid = $wpid"
		),
		qr/^stopped\|${PgBgTest::TERMINATED_RE}\z/,
		'waiting caller: list_v2 shows the worker stopped, with its error');

	($out, $err) = PgBgTest::query($caller,
		"SELECT * FROM pg_background_result_v2($wpid, $cookie) AS (x text)");
	check_error('waiting caller', $err, $wpid);
	check_after('waiting caller', 'waiting');
}

# --------------------------------------------------------------------------
# 4. worker blocked on a full queue when it is terminated.  Its FATAL may not
#    fit in the full queue; then the caller sees the worker go away without an
#    error report (08006).  Either way: an ERROR, after the rows already sent.
# --------------------------------------------------------------------------
{
	my ($wpid, $cookie) = launch_v2(
		q{INSERT INTO t VALUES ('fullq');
		  SELECT g, repeat('x', 1000) FROM generate_series(1, 5000) g},
		8192);
	poll(
		qq{SELECT count(*) = 1 FROM pg_stat_activity WHERE pid = $wpid
		   AND wait_event IN ('MessageQueueSend', 'MessageQueuePutMessage')},
		'full queue: worker blocked on its queue');
	ok(PgBgTest::terminate($node, $wpid), 'full queue: worker terminated');

	my ($out, $err) = PgBgTest::query($caller,
		"SELECT count(*) FROM pg_background_result_v2($wpid, $cookie) AS (g int, x text)"
	);
	my $st = PgBgTest::sqlstate($err) // 'none';
	is(PgBgTest::severity($err), 'ERROR', 'full queue: the caller gets an ERROR')
	  or diag $err;
	unlike($err, qr/FATAL/, 'full queue: nothing FATAL reaches the caller');
	ok($st eq '57P01' || $st eq '08006',
		"full queue: SQLSTATE $st is 57P01 (worker's error) or 08006 (lost worker)");
	like($err, qr/pg_background worker with PID $wpid/,
		'full queue: the error names the worker');
	note "full queue: caller got: $err";
	check_after('full queue', 'fullq');
}

# --------------------------------------------------------------------------
# 5. v1 API, result read inside a transaction block: the error aborts only
#    the caller's transaction
# --------------------------------------------------------------------------
{
	my $wpid = PgBgTest::query_ok($caller,
		q{SELECT pg_background_launch($$INSERT INTO t VALUES ('v1'); SELECT 'never'::text FROM pg_sleep(300)$$)}
	);
	poll(worker_sleeping($wpid), 'v1: worker busy');
	ok(PgBgTest::terminate($node, $wpid), 'v1: worker terminated');

	PgBgTest::query_ok($caller, 'BEGIN');
	my ($out, $err) = PgBgTest::query($caller,
		"SELECT * FROM pg_background_result($wpid) AS (x text)");
	check_error('v1 in a transaction', $err, $wpid);
	($out, $err) = PgBgTest::query($caller, 'ROLLBACK');
	is($err, '', 'v1 in a transaction: ROLLBACK works');
	($out, $err) = PgBgTest::query($caller,
		"SELECT * FROM pg_background_result($wpid) AS (x text)");
	is(PgBgTest::sqlstate($err), '42704',
		'v1 in a transaction: the pid is unknown afterwards (42704)');
	check_after('v1 in a transaction', 'v1');
}

# a new worker in the same session works normally and commits
{
	my ($wpid, $cookie) =
	  launch_v2(q{INSERT INTO t VALUES ('after') RETURNING tag});
	is( PgBgTest::query_ok($caller,
			"SELECT * FROM pg_background_result_v2($wpid, $cookie) AS (x text)"),
		'after',
		'same session: a new worker runs normally');
	is($node->safe_psql('postgres', "SELECT count(*) FROM t WHERE tag = 'after'"),
		'1', 'same session: the new worker committed');
}

$caller->quit;
PgBgTest::wait_for_no_workers($node);
PgBgTest::assert_no_restart($node);
$node->stop;
done_testing();
