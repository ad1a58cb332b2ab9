
# Copyright (c) 2026, pg_background contributors

# User code run while a task is read calls back into the extension for the
# same task, and reads or detaches that go wrong part-way leave the registry
# consistent (DESIGN.md: Re-entrancy, Memory lifetimes, Errors at any line).
#
#   A. A domain over int whose CHECK calls a plpgsql function is the column
#      type of a result read; at row 3 the function calls, on the task being
#      read, each of: detach, detach_v2, wait_v2, wait_v2_timeout, result,
#      result_v2, cancel_v2_grace.  Each gets 55006 (object in use); the
#      task is untouched (listed, its read begun), can then be canceled and
#      detached.  cancel_v2 (no grace) is allowed: the read then reports the
#      cancel (57014).  list_v2, stats_v2, a launch and read of another
#      worker, and a detach whose 55006 is caught, all from the domain
#      check, leave the read intact: it returns every row.  The same 55006 caught by an exception
#      block leaves nothing busy: the same block then cancels and detaches.
#   B. A read from a local buffer that spilled to disk (work_mem 64kB) fails
#      part-way on a domain check; the later detach frees the buffer cleanly
#      (before the fix the buffer's slot held a tuple in the failed query's
#      memory and detach freed it again) and its temporary file is gone.
#   B2. temp_file_limit interrupts storing a message in that buffer: a
#      later read is refused (55000) instead of returning what is left.
#   C. Detaching a worker that has exited with a queue full of notices does
#      not read the queue: no notice reaches the caller, and whatever
#      interrupts the detach, a handle that is gone is no longer counted
#      (pg_background.max_workers = 1 still allows the next launch).
#
# At the end: no worker, DSM segment or temporary file left, all 4 worker
# slots usable, and the postmaster never went through a crash-restart.

use strict;
use warnings FATAL => 'all';

use lib 't';
use PgBgTest;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PgBgTest::new_node(
	'reentrancy',
	max_worker_processes => 4,
	dsm_type => 'mmap');

my $LIST = $PgBgTest::LIST_COLS;

$node->safe_psql('postgres', $PgBgTest::GATE_FUNCTION);
$node->safe_psql(
	'postgres', qq{
CREATE TABLE pgbg_target (pid int, cookie bigint);
CREATE TABLE pgbg_seen (state text, consumed bool);
CREATE FUNCTION pgbg_reenter(v int) RETURNS bool LANGUAGE plpgsql AS \$\$
DECLARE t record;
BEGIN
  IF v <> 3 THEN RETURN true; END IF;
  SELECT * INTO t FROM pgbg_target;
  CASE current_setting('pgbg.mode')
    WHEN 'detach' THEN PERFORM pg_background_detach(t.pid);
    WHEN 'detach_v2' THEN PERFORM pg_background_detach_v2(t.pid, t.cookie);
    WHEN 'wait_v2' THEN PERFORM pg_background_wait_v2(t.pid, t.cookie);
    WHEN 'wait_v2_timeout' THEN
      PERFORM pg_background_wait_v2_timeout(t.pid, t.cookie, 60000);
    WHEN 'result' THEN
      PERFORM * FROM pg_background_result(t.pid) AS (x int, y bool);
    WHEN 'result_v2' THEN
      PERFORM * FROM pg_background_result_v2(t.pid, t.cookie) AS (x int, y bool);
    WHEN 'cancel_v2_grace' THEN
      PERFORM pg_background_cancel_v2_grace(t.pid, t.cookie, 60000);
    WHEN 'cancel_v2' THEN PERFORM pg_background_cancel_v2(t.pid, t.cookie);
    WHEN 'list_v2' THEN
      INSERT INTO pgbg_seen
      SELECT state, consumed FROM pg_background_list_v2() $LIST
       WHERE pid = t.pid;
    WHEN 'stats_v2' THEN PERFORM * FROM pg_background_stats_v2();
    WHEN 'nested' THEN
      PERFORM * FROM pg_background_result(pg_background_launch('SELECT 1')) AS (x int);
    WHEN 'caught' THEN
      BEGIN
        PERFORM pg_background_detach_v2(t.pid, t.cookie);
      EXCEPTION WHEN object_in_use THEN
        NULL;
      END;
  END CASE;
  RETURN true;
END \$\$;
CREATE DOMAIN pgbg_reentrant AS int CHECK (pgbg_reenter(VALUE));
CREATE DOMAIN pgbg_below_300 AS int CHECK (VALUE < 300);
});

my $dsm_baseline = PgBgTest::warm_up($node);

my $ctl = PgBgTest::session($node);
my $s = PgBgTest::session($node);
PgBgTest::query_ok($ctl, 'SELECT pg_advisory_lock(42)');

# the worker sends rows 1 to 3, then waits at row 4 for the gate (lock 42,
# held by $ctl), so it is alive while the domain check of row 3 runs
my $GATED = 'SELECT g, pgbg_gate(g, 4) FROM generate_series(1, 5) g';
my $FREE = 'SELECT g, true FROM generate_series(1, 5) g';

sub prepare
{
	my ($sql, $mode) = @_;
	my ($pid, $cookie) = PgBgTest::launch_v2($s, $sql);
	PgBgTest::query_ok($s,
		"TRUNCATE pgbg_target, pgbg_seen; INSERT INTO pgbg_target VALUES ($pid, $cookie); SET pgbg.mode = '$mode'"
	);
	return ($pid, $cookie);
}

sub read_reentrant
{
	my ($pid, $cookie) = @_;
	return PgBgTest::query($s,
		"SELECT x, y FROM pg_background_result_v2($pid, $cookie) AS (x pgbg_reentrant, y bool)"
	);
}

# ---------------------------------------------------------------------------
# A. calls that would free or consume the task being read: 55006
# ---------------------------------------------------------------------------
for my $mode (
	qw(detach detach_v2 wait_v2 wait_v2_timeout result result_v2 cancel_v2_grace)
  )
{
	my ($pid, $cookie) = prepare($GATED, $mode);
	my ($out, $err) = read_reentrant($pid, $cookie);
	is(PgBgTest::sqlstate($err), '55006', "A $mode: re-entrant call is 55006")
	  or diag $err;
	is( PgBgTest::query_ok($s,
			"SELECT state, consumed FROM pg_background_list_v2() $LIST WHERE pid = $pid AND cookie = $cookie"
		),
		'running|t',
		"A $mode: the task is untouched (running, its read begun)");
	is( PgBgTest::query_ok($s,
			"SELECT pg_background_cancel_v2_grace($pid, $cookie, 600000)"),
		'',
		"A $mode: cancel with grace works afterwards");
	PgBgTest::query_ok($s, "SELECT pg_background_detach_v2($pid, $cookie)");
	is(PgBgTest::query_ok($s, "SELECT 1"), '1', "A $mode: session usable");
}

# cancel_v2 without grace reads nothing: allowed, and the read reports it
{
	my ($pid, $cookie) = prepare($GATED, 'cancel_v2');
	my ($out, $err) = read_reentrant($pid, $cookie);
	is(PgBgTest::sqlstate($err), '57014',
		'A cancel_v2: allowed, the read reports the cancel')
	  or diag $err;
	is( PgBgTest::query_ok($s,
			"SELECT count(*) FROM pg_background_list_v2() $LIST WHERE pid = $pid"),
		'0',
		'A cancel_v2: the handle is gone after the read');
}

# read-only calls from the domain check, a launch and read of another
# worker, and a 55006 caught there: the read returns every row
for my $mode (qw(list_v2 stats_v2 nested caught))
{
	my ($pid, $cookie) = prepare($FREE, $mode);
	my ($out, $err) = read_reentrant($pid, $cookie);
	is($err, '', "A $mode: no error");
	is($out, join("\n", map { "$_|t" } 1 .. 5), "A $mode: every row read");
	is( PgBgTest::query_ok($s,
			'SELECT count(*), bool_and(consumed) FROM pgbg_seen'),
		'1|t', 'A list_v2: the task being read is listed, its read begun')
	  if $mode eq 'list_v2';
}

# 55006 caught by an exception block leaves nothing busy
{
	my ($pid, $cookie) = prepare($GATED, 'detach_v2');
	my ($out, $err) = PgBgTest::query(
		$s, qq{
DO \$\$
DECLARE t record;
BEGIN
  SELECT * INTO t FROM pgbg_target;
  BEGIN
    PERFORM * FROM pg_background_result_v2(t.pid, t.cookie) AS (x pgbg_reentrant, y bool);
  EXCEPTION WHEN object_in_use THEN
    RAISE NOTICE 'caught %', SQLSTATE;
  END;
  PERFORM pg_background_cancel_v2_grace(t.pid, t.cookie, 600000);
  PERFORM pg_background_detach_v2(t.pid, t.cookie);
END \$\$});
	like($err, qr/caught 55006/, 'A exception block: 55006 caught');
	unlike($err, qr/ERROR/, 'A exception block: then cancel and detach work')
	  or diag $err;
	is( PgBgTest::query_ok($s,
			"SELECT count(*) FROM pg_background_list_v2() $LIST WHERE pid = $pid"),
		'0',
		'A exception block: the handle is gone');
}

# ---------------------------------------------------------------------------
# B. a failed read from a buffer spilled to disk, then detach
# ---------------------------------------------------------------------------
{
	PgBgTest::query_ok($s, "SET work_mem = '64kB'");
	my ($pid, $cookie) = PgBgTest::launch_v2($s,
		"SELECT g, repeat('x', 10000) FROM generate_series(1, 400) g");
	# everything goes into the local buffer, which spills (4 MB > 64 kB);
	# each message is larger than an allocator chunk, so a tuple read back
	# in per-query memory gets a block of its own, freed with the query
	PgBgTest::query_ok($s, "SELECT pg_background_wait_v2($pid, $cookie)");
	ok( $node->safe_psql('postgres', 'SELECT count(*) > 0 FROM pg_ls_tmpdir()'
		) eq 't',
		'B: the local buffer spilled to a temporary file');
	my ($out, $err) = PgBgTest::query($s,
		"SELECT count(*) FROM pg_background_result_v2($pid, $cookie) AS (x pgbg_below_300, y text)"
	);
	is(PgBgTest::sqlstate($err), '23514', 'B: the read fails part-way (23514)');
	($out, $err) = PgBgTest::query($s,
		"SELECT pg_background_detach_v2($pid, $cookie)");
	is($err, '', 'B: detach after the failed read works');
	is($node->safe_psql('postgres', 'SELECT count(*) FROM pg_ls_tmpdir()'),
		'0', 'B: the temporary file is gone');
	PgBgTest::query_ok($s, 'RESET work_mem');
	is(PgBgTest::query_ok($s, 'SELECT 1'), '1', 'B: session usable');
}

# ---------------------------------------------------------------------------
# B2. an ERROR while the local buffer stores a message (temp_file_limit
# while it writes its file): the message has left the queue, so a later
# read refuses (55000) rather than return an incomplete result
# ---------------------------------------------------------------------------
{
	PgBgTest::query_ok($s, "SET work_mem = '64kB'; SET temp_file_limit = '256kB'");
	my ($pid, $cookie) = PgBgTest::launch_v2($s,
		"SELECT g, repeat('x', 1000) FROM generate_series(1, 2000) g");
	my ($out, $err) = PgBgTest::query($s,
		"SELECT pg_background_wait_v2($pid, $cookie)");
	is(PgBgTest::sqlstate($err), '53400',
		'B2: temp_file_limit interrupts buffering (53400)');
	PgBgTest::query_ok($s, 'RESET temp_file_limit; RESET work_mem');
	($out, $err) = PgBgTest::query($s,
		"SELECT count(*) FROM pg_background_result_v2($pid, $cookie) AS (x int, y text)"
	);
	is(PgBgTest::sqlstate($err), '55000',
		'B2: the read refuses an incomplete result (55000)')
	  or diag "read returned '$out', $err";
	($out, $err) = PgBgTest::query($s,
		"SELECT pg_background_detach_v2($pid, $cookie)");
	is($err, '', 'B2: detach works');
	# the detached worker (its function scan spilled under the inherited
	# work_mem) carries on to its end: its file goes when it exits
	PgBgTest::wait_for_no_workers($node, 'B2: the detached worker has exited');
	is($node->safe_psql('postgres', 'SELECT count(*) FROM pg_ls_tmpdir()'),
		'0', 'B2: no temporary file left');
}

# ---------------------------------------------------------------------------
# C. detach does not read the queue of an exited worker
# ---------------------------------------------------------------------------
{
	PgBgTest::query_ok($s, 'SET pg_background.max_workers = 1');
	my $notices = q{DO $$BEGIN FOR i IN 1..20000 LOOP RAISE NOTICE 'flood %', i; END LOOP; END$$};

	# plain detach: nothing of the queue reaches the caller
	my ($pid, $cookie) = PgBgTest::launch_v2($s, $notices, 16 * 1024 * 1024);
	PgBgTest::wait_for_no_workers($node, 'C: the worker has exited');
	my ($out, $err) = PgBgTest::query($s,
		"SELECT pg_background_detach_v2($pid, $cookie)");
	unlike($err, qr/flood/, 'C: detach passes on none of the discarded notices');
	is($err, '', 'C: detach works');

	# an interrupted detach (statement_timeout of 1 ms) leaves a consistent
	# registry: either the handle is still there, or it is gone and no
	# longer counted
	($pid, $cookie) = PgBgTest::launch_v2($s, $notices, 16 * 1024 * 1024);
	PgBgTest::wait_for_no_workers($node, 'C: the second worker has exited');
	($out, $err) = PgBgTest::query($s,
		"SET statement_timeout = '1ms'; SELECT pg_background_detach_v2($pid, $cookie); RESET statement_timeout"
	);
	# if the handle survived, list_v2 passes its notices on: keep them
	# from the client
	PgBgTest::query_ok($s,
		'RESET statement_timeout; SET client_min_messages = warning');
	my $left = PgBgTest::query_ok($s,
		"SELECT count(*) FROM pg_background_list_v2() $LIST WHERE pid = $pid");
	PgBgTest::query_ok($s, "SELECT pg_background_detach_v2($pid, $cookie)")
	  if $left eq '1';
	PgBgTest::query_ok($s, 'RESET client_min_messages');
	is(PgBgTest::query_ok($s, 'SELECT workers_active FROM pg_background_stats_v2()'),
		'0', 'C: once the handle is gone, the worker is not counted as active');
	($out, $err) = PgBgTest::query($s,
		q{SELECT * FROM pg_background_result(pg_background_launch('SELECT 7')) AS (x int)}
	);
	is($out, '7', 'C: max_workers = 1 still allows the next launch')
	  or diag $err;
	PgBgTest::query_ok($s, 'RESET pg_background.max_workers');
}

PgBgTest::query_ok($ctl, 'SELECT pg_advisory_unlock(42)');
$s->quit;
$ctl->quit;

PgBgTest::assert_nothing_leaked($node, $dsm_baseline, 4);

done_testing();
