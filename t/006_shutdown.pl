
# Copyright (c) 2026, pg_background contributors

# The server is shut down -- first in fast mode, then in immediate mode --
# while pg_background workers run in every interesting state:
#
#   - two sleepers (one of them waited for by its caller in wait_v2),
#   - a worker in the middle of a large INSERT (49,999 rows inserted, held on
#     a lock before the rest),
#   - a worker inside its COMMIT (a deferred trigger waits for a lock),
#   - a worker blocked on a full queue after an INSERT,
#   - a detached worker held on a lock after an INSERT,
#   - and, already done, workers that committed (read, and submitted+waited).
#
# Each time: the stop succeeds; up to the shutdown request the server log
# shows no crash of any process (no "terminated by signal", no
# reinitialization; after a fast stop none during the shutdown either); the
# server starts again (after the immediate stop: crash recovery runs and
# completes); the extension works; every committed row is there and no row of
# an unfinished worker is (no half-committed INSERT or commit), and amcheck
# finds the table and its index consistent; no worker is left, DSM segments
# are back to a fresh server's count, and every worker slot can be used.
#
# The no-restart check of the other tests cannot span these intended
# restarts; it is applied to what happens after the last start.

use strict;
use warnings FATAL => 'all';

use lib 't';
use PgBgTest;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PgBgTest::new_node(
	'shutdown',
	max_worker_processes => 8,
	dsm_type => 'mmap');

$node->safe_psql(
	'postgres', q{
CREATE EXTENSION amcheck;
CREATE TABLE t (id bigserial PRIMARY KEY, tag text NOT NULL, g int);
-- rows of c are checked at commit by a deferred trigger waiting for lock 43
CREATE TABLE c (tag text);
CREATE FUNCTION c_at_commit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN PERFORM pg_advisory_xact_lock_shared(43); RETURN NULL; END $$;
CREATE CONSTRAINT TRIGGER c_at_commit AFTER INSERT ON c
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION c_at_commit();
});
$node->safe_psql('postgres', $PgBgTest::GATE_FUNCTION);

# warm-up cycle, then the baseline of DSM segments
my $dsm_fresh = PgBgTest::warm_up($node);
note "DSM segments of an idle server: $dsm_fresh";

sub poll
{
	local $Test::Builder::Level = $Test::Builder::Level + 1;
	return PgBgTest::poll($node, @_);
}

sub count_tag
{
	my ($table, $tag) = @_;
	return $node->safe_psql('postgres',
		"SELECT count(*) FROM $table WHERE tag = '$tag'");
}

# Start every kind of worker for round $r; returns the sessions to close
# after the stop.
sub start_workers
{
	my ($r) = @_;
	my $ctl = PgBgTest::session($node);
	PgBgTest::query_ok($ctl, 'SELECT pg_advisory_lock(42), pg_advisory_lock(43)');
	my $s = PgBgTest::session($node);
	my $w = PgBgTest::session($node);

	# WAL replay must restore what follows
	$node->safe_psql('postgres', 'CHECKPOINT');

	# committed before the stop: read, and submitted + waited
	my ($pid, $cookie) = PgBgTest::launch_v2($s,
		"INSERT INTO t (tag, g) SELECT 'committed_$r', g FROM generate_series(1, 100) g");
	is(PgBgTest::query_ok($s,
			"SELECT * FROM pg_background_result_v2($pid, $cookie) AS (x text)"),
		'INSERT 0 100', "$r: a worker committed 100 rows");
	my $out = PgBgTest::query_ok($s,
		"SELECT pid, cookie FROM pg_background_submit_v2(\$\$INSERT INTO t (tag) VALUES ('submitted_$r')\$\$)"
	);
	($pid, $cookie) = split /\|/, $out;
	PgBgTest::query_ok($s, "SELECT pg_background_wait_v2($pid, $cookie)");

	# sleepers; $w waits for the second one
	PgBgTest::launch_v2($s, 'SELECT pg_sleep(3600)');
	my ($spid, $scookie) = PgBgTest::launch_v2($w, 'SELECT pg_sleep(3600)');
	PgBgTest::send_query($w, "SELECT pg_background_wait_v2($spid, $scookie)");

	# in the middle of a large INSERT
	PgBgTest::launch_v2($s,
		"INSERT INTO t (tag, g) SELECT 'midinsert_$r', g FROM generate_series(1, 100000) g WHERE pgbg_gate(g, 50000)"
	);
	# inside its commit
	PgBgTest::launch_v2($s,
		"INSERT INTO c SELECT 'atcommit_$r' FROM generate_series(1, 1000)");
	# blocked on a full queue
	PgBgTest::launch_v2($s,
		"INSERT INTO t (tag) VALUES ('fullq_$r'); SELECT g, repeat('x', 500) FROM generate_series(1, 100000) g",
		1024);
	# detached, held at the gate
	($pid, $cookie) = PgBgTest::launch_v2($s,
		"INSERT INTO t (tag) VALUES ('detached_$r'); SELECT pgbg_gate(1, 1)");
	PgBgTest::query_ok($s, "SELECT pg_background_detach_v2($pid, $cookie)");

	poll(
		q{SELECT count(*) = 2 FROM pg_stat_activity
		  WHERE backend_type = 'pg_background' AND wait_event = 'PgSleep'},
		"$r: two sleepers");
	poll(
		q{SELECT count(*) = 3 FROM pg_stat_activity
		  WHERE backend_type = 'pg_background' AND wait_event = 'advisory'},
		"$r: mid-INSERT, at-commit and detached workers held on their locks");
	poll(
		q{SELECT count(*) = 1 FROM pg_stat_activity
		  WHERE backend_type = 'pg_background'
		  AND wait_event IN ('MessageQueueSend', 'MessageQueuePutMessage')},
		"$r: one worker blocked on a full queue");
	poll(
		q{SELECT count(*) = 1 FROM pg_stat_activity
		  WHERE backend_type <> 'pg_background' AND wait_event_type = 'Extension'},
		"$r: a caller blocked in wait_v2");
	is(PgBgTest::worker_count($node), '6', "$r: 6 workers running at the stop");
	return ($ctl, $s, $w);
}

# After the restart: data, workers, segments, slots.
sub check_after_restart
{
	my ($r) = @_;
	is( $node->safe_psql(
			'postgres',
			q{SELECT * FROM pg_background_result(pg_background_launch('SELECT 42')) AS (x int)}
		),
		'42',
		"$r: after the restart the extension works");
	is(count_tag('t', "committed_$r"), '100', "$r: the committed INSERT is there");
	is(count_tag('t', "submitted_$r"), '1', "$r: the submitted worker's INSERT is there");
	is(count_tag('t', "midinsert_$r"), '0', "$r: nothing of the half-done INSERT");
	is(count_tag('c', "atcommit_$r"), '0', "$r: nothing of the worker stopped inside its commit");
	is(count_tag('t', "fullq_$r"), '0', "$r: nothing of the worker blocked on a full queue");
	is(count_tag('t', "detached_$r"), '0', "$r: nothing of the detached, unfinished worker");
	SKIP:
	{
		# verify_heapam() came with amcheck 1.3 in PostgreSQL 14
		skip "$r: verify_heapam() is PostgreSQL 14+", 1
		  if $node->safe_psql('postgres',
			"SELECT to_regproc('verify_heapam') IS NULL") eq 't';
		is( $node->safe_psql(
				'postgres', q{
SELECT (SELECT count(*) FROM verify_heapam('t')) || ',' ||
       (SELECT count(*) FROM verify_heapam('c'))}),
			'0,0',
			"$r: amcheck finds no corruption in the heap");
	}
	my ($rc, $out, $err) =
	  PgBgTest::psql_err($node, q{SELECT bt_index_check('t_pkey', true)});
	is($err, '', "$r: amcheck finds the primary key index consistent with the heap");
	is($node->safe_psql('postgres', 'SELECT count(*) = count(DISTINCT id) FROM t'),
		't', "$r: no duplicate key");
	PgBgTest::wait_for_no_workers($node, "$r: no worker left after the restart");
	ok( PgBgTest::wait_until(sub { PgBgTest::dsm_count($node) == $dsm_fresh }),
		"$r: DSM segments back to an idle server's count")
	  or diag 'DSM segments: ' . PgBgTest::dsm_count($node) . ", idle $dsm_fresh";
	PgBgTest::assert_slots_usable($node, 8, "$r: slots");
	my $n = $node->safe_psql(
		'postgres', q{
DO $$
DECLARE h pg_background_handle; s int := 0; n int;
BEGIN
  FOR i IN 1..20 LOOP
    h := pg_background_launch_v2(format('INSERT INTO t (tag, g) VALUES (''after'', %s) RETURNING g', i));
    SELECT x INTO n FROM pg_background_result_v2(h.pid, h.cookie) AS (x int);
    s := s + n;
  END LOOP;
  PERFORM set_config('pgbg.sum', s::text, false);
END $$;
SELECT current_setting('pgbg.sum')});
	is($n, '210', "$r: 20 launch/result cycles after the restart");
}

# --------------------------------------------------------------------------
# 1. fast shutdown
# --------------------------------------------------------------------------
{
	my $r = 'fast';
	my @sessions = start_workers($r);
	my $before = PgBgTest::log_position($node);
	my @bad = PgBgTest::crash_lines(PgBgTest::log_since($node, 0, $before));
	ok(!@bad, "$r: no crash in the server log before the shutdown request")
	  or diag join("\n", @bad);

	ok($node->stop('fast', fail_ok => 1), "$r: pg_ctl stop -m fast succeeds");
	PgBgTest::close_session($_) for @sessions;
	my $log = PgBgTest::log_since($node, $before);
	like($log, qr/received fast shutdown request/, "$r: the postmaster got the request");
	like($log, qr/database system is shut down/, "$r: the server shut down completely");
	@bad = PgBgTest::crash_lines($log);
	ok(!@bad, "$r: no process crashed during the shutdown") or diag join("\n", @bad);
	unlike($log, qr/background worker "pg_background".*terminated by signal/,
		"$r: no pg_background worker was killed by a signal");

	my $restart = PgBgTest::log_position($node);
	$node->start;
	$log = PgBgTest::log_since($node, $restart);
	unlike($log, qr/not properly shut down|automatic recovery/,
		"$r: the restart needs no recovery");
	check_after_restart($r);
}

# --------------------------------------------------------------------------
# 2. immediate shutdown
# --------------------------------------------------------------------------
{
	my $r = 'immediate';
	my @sessions = start_workers($r);
	my $before = PgBgTest::log_position($node);
	my @bad = PgBgTest::crash_lines(PgBgTest::log_since($node, 0, $before));
	ok(!@bad, "$r: no crash in the server log before the shutdown request")
	  or diag join("\n", @bad);

	ok($node->stop('immediate', fail_ok => 1),
		"$r: pg_ctl stop -m immediate succeeds");
	PgBgTest::close_session($_) for @sessions;
	like(PgBgTest::log_since($node, $before), qr/received immediate shutdown request/,
		"$r: the postmaster got the request");

	my $restart = PgBgTest::log_position($node);
	$node->start;
	my $log = PgBgTest::log_since($node, $restart);
	like($log, qr/database system was (?:interrupted|not properly shut down)/,
		"$r: the restart runs crash recovery");
	like($log, qr/redo done at/, "$r: recovery replays the WAL to the end");
	like($log, qr/database system is ready to accept connections/,
		"$r: recovery completes and the server accepts connections");

	# from here on, nothing may crash
	PgBgTest::rebaseline($node);
	check_after_restart($r);
}

is($node->safe_psql('postgres', "SELECT count(*) FROM t WHERE tag = 'after'"),
	'40', 'the rows written after both restarts are there');
PgBgTest::assert_no_restart($node, 'after the last start');
$node->stop;
done_testing();
