
# Copyright (c) 2026, pg_background contributors

# Attacks on the warm worker pool (pg_background.pool_size > 0).
#
#   A. An administrator terminates an idle kept worker: the session's next
#      launch simply gets a fresh worker (README, "When a kept worker
#      exits"); it must not be handed to the dying worker and fail.
#   B. A task launched by a task (nested) and never read belongs to the
#      task's "session": once the task ends and its worker is kept, the
#      next task on that worker must not see (or read) it, and the nested
#      worker must not stay blocked on a queue nobody will ever read
#      (holding its slot, its snapshot and its locks) for as long as the
#      outer worker is kept.
#   C. A kept worker's memory stays flat over many tasks handed over in a
#      new segment (a queue size that differs from the last task's):
#      RssAnon of the worker grows by less than 256 kB over 10,000 tasks.
#   D. A task that ended well but whose worker then fails to reset its
#      session (dropping the temporary tables a procedure created across
#      its COMMITs needs more locks than the lock table has) must not make
#      the session's next launch fail: that launch gets a worker that runs
#      it.
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
	'pool_attack',
	max_worker_processes => 6,
	dsm_type => 'mmap',
	# a small lock table, for D
	conf => "max_connections = 20\nmax_locks_per_transaction = 10\n");
my $dsm_baseline = PgBgTest::warm_up($node);

my $s = PgBgTest::session($node);
my $spid = PgBgTest::query_ok($s, 'SELECT pg_backend_pid()');
PgBgTest::query_ok($s, 'SET pg_background.pool_size = 1');
# a kept worker never gives up waiting by itself during this test
PgBgTest::query_ok($s, "SET pg_background.pool_idle_timeout = '1h'");

# launch + result of $sql (one text column) in one statement; returns
# (stdout, stderr)
sub run_task
{
	my ($sql) = @_;
	return PgBgTest::query($s,
		"SELECT * FROM pg_background_result(pg_background_launch(\$pgbg\$$sql\$pgbg\$)) AS (x text)"
	);
}

# --------------------------------------------------------------------------
# A. terminating an idle kept worker, then launching at once
# --------------------------------------------------------------------------
{
	my $l = 'A terminated kept worker';
	my $n = 20;
	my @failures;
	for my $i (1 .. $n)
	{
		my ($wpid, $err) = run_task('SELECT pg_backend_pid()::text');
		die "$l: first task failed: $err" if $err ne '';
		# the kept worker is idle now; the launcher itself terminates it
		PgBgTest::query_ok($s, "SELECT pg_terminate_backend($wpid)");
		my ($out, $err2) = run_task("SELECT 'ok $i'");
		push @failures, PgBgTest::sqlstate($err2) // $err2
		  if $out ne "ok $i";
	}
	is(scalar(@failures), 0,
		"$l: the next launch after terminating an idle kept worker gets a working worker ($n times)"
	) or diag "failed launches: @failures";
}

# --------------------------------------------------------------------------
# B. a nested task left unread by a task whose worker is kept
# --------------------------------------------------------------------------
{
	my $l = 'B nested task';
	my ($out, $err) = run_task(
		q{SELECT pg_background_launch('SELECT repeat(''x'', 1000) FROM generate_series(1, 100000)')::text || '/' || pg_backend_pid()}
	);
	is($err, '', "$l: the outer task ran");
	my ($nested, $outer) = split m{/}, $out;

	# the next task runs on the same kept worker
	my ($seen, $err2) = run_task(
		"SELECT pg_backend_pid() || ':' || count(*) FROM pg_background_list_v2() $PgBgTest::LIST_COLS"
	);
	is($err2, '', "$l: the next task ran");
	is($seen, "$outer:0",
		"$l: the next task on the kept worker tracks none of the last task's handles"
	);

	# nobody reads the nested task: like a worker whose session ended, it
	# must be able to finish rather than wait on its full queue
	ok( $node->poll_query_until(
			'postgres',
			"SELECT count(*) = 0 FROM pg_stat_activity WHERE pid = $nested"),
		"$l: the unread nested worker finishes while the outer worker is kept"
	);
}

# --------------------------------------------------------------------------
# C. a kept worker's memory over many handed-over tasks
# --------------------------------------------------------------------------
SKIP:
{
	my $l = 'C memory of a kept worker';
	skip "$l: needs /proc/<pid>/status (Linux)", 2
	  unless -r "/proc/$$/status";
	skip "$l: instrumented server (make sanitize)", 2
	  if ($ENV{PGBG_SANITIZE} // '') eq 'asan';

	my $loop = sub {
		my ($n) = @_;
		# alternating queue sizes: each task is handed over in a new segment
		PgBgTest::query_ok($s,
			"DO \$\$BEGIN FOR i IN 1..$n LOOP PERFORM * FROM pg_background_result(pg_background_launch('SELECT 1', 65536 + (i % 2) * 8192)) AS (x int); END LOOP; END\$\$"
		);
	};
	my $rss = sub {
		my ($pid) = @_;
		my $status = slurp_file("/proc/$pid/status");
		$status =~ /^RssAnon:\s+(\d+)\s+kB/m or die "no RssAnon for $pid";
		return $1;
	};
	my ($wpid) = run_task('SELECT pg_backend_pid()::text');
	$loop->(1000);
	my ($w1) = run_task('SELECT pg_backend_pid()::text');
	my $before = $rss->($w1);
	$loop->(10000);
	my ($w2) = run_task('SELECT pg_backend_pid()::text');
	is($w2, $w1, "$l: one kept worker served all the tasks");
	my $growth = $rss->($w2) - $before;
	cmp_ok($growth, '<', 256,
		"$l: its RssAnon grew by less than 256 kB over 10,000 handed-over tasks"
	) or diag "grew by $growth kB";
}

# --------------------------------------------------------------------------
# D. the worker of a task that ended well fails to reset its session
# --------------------------------------------------------------------------
{
	my $l = 'D reset fails';
	$node->safe_psql('postgres', q{
CREATE PROCEDURE pgbg_make_temps(n int) LANGUAGE plpgsql AS $$
BEGIN
  FOR i IN 1..n LOOP
    EXECUTE format('CREATE TEMP TABLE pgbg_tmp_%s (a int)', i);
    IF i % 20 = 0 THEN COMMIT; END IF;
  END LOOP;
END $$});
	my ($out, $err) = run_task('CALL pgbg_make_temps(3000)');
	is($out, 'CALL', "$l: the task that leaves 3,000 temporary tables succeeds")
	  or diag $err;
	($out, $err) = run_task("SELECT 'next task ran'");
	is($out, 'next task ran', "$l: the session's next launch runs its task")
	  or diag $err;
}

# --------------------------------------------------------------------------
# nothing leaked
# --------------------------------------------------------------------------
# lets the kept worker go at the next call (assert_caller_clean's list)
PgBgTest::query_ok($s, 'RESET pg_background.pool_size');
PgBgTest::assert_caller_clean($s, $spid);
$s->quit;
PgBgTest::assert_nothing_leaked($node, $dsm_baseline, 6);
$node->stop;
done_testing();
