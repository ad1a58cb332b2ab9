
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
#      session (dropping its temporary table waits for a lock another
#      session holds, and is canceled) must not make the session's next
#      launch fail: that launch gets a worker that runs it.
#   E. temp_buffers cannot change in a process once it has used temporary
#      tables: a task that used one must not make the next launch fail
#      because the caller's temp_buffers differs from what the worker ran
#      with (set, or reset to its default).
#
# They run in the order A, C, E, B, D: B and D leave a worker busy when
# they fail.  At the end: no worker, segment or slot leaked, no crash
# restart.

use strict;
use warnings FATAL => 'all';

use lib 't';
use PgBgTest;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);

my $node = PgBgTest::new_node(
	'pool_attack',
	max_worker_processes => 6,
	dsm_type => 'mmap');
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
# E. temp_buffers after a task that used a temporary table
# --------------------------------------------------------------------------
{
	my $l = 'E temp_buffers';
	my $temp_task = 'CREATE TEMP TABLE pgbg_tb (a int); INSERT INTO pgbg_tb VALUES (1); SELECT 1::text';

	my ($out, $err) = run_task($temp_task);
	is($out, '1', "$l: a task uses a temporary table") or diag $err;
	PgBgTest::query_ok($s, "SET temp_buffers = '16MB'");
	($out, $err) = run_task("SELECT current_setting('temp_buffers')");
	is($out, '16MB',
		"$l: the next task, with the caller's temp_buffers raised, runs with it"
	) or diag $err;

	($out, $err) = run_task($temp_task);
	is($out, '1', "$l: another task uses a temporary table, with 16MB")
	  or diag $err;
	PgBgTest::query_ok($s, 'RESET temp_buffers');
	($out, $err) = run_task("SELECT current_setting('temp_buffers')");
	is($out, '8MB',
		"$l: the next task, with the caller's temp_buffers reset, runs with the default"
	) or diag $err;
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
	# (at most 30 seconds: it takes milliseconds once its queue is let go;
	# a kept worker waits an hour here)
	my $gone = 0;
	for (1 .. 600)
	{
		$gone = $node->safe_psql('postgres',
			"SELECT count(*) = 0 FROM pg_stat_activity WHERE pid = $nested") eq 't';
		last if $gone;
		usleep(50_000);
	}
	ok($gone,
		"$l: the unread nested worker finishes while the outer worker is kept");
}

# --------------------------------------------------------------------------
# D. the worker of a task that ended well fails to reset its session
# --------------------------------------------------------------------------
{
	my $l = 'D reset fails';
	my $ctl = PgBgTest::session($node);
	$node->safe_psql('postgres', q{
CREATE PROCEDURE pgbg_temp_then_wait() LANGUAGE plpgsql AS $$
BEGIN
  CREATE TEMP TABLE pgbg_reset_t (a int);
  COMMIT;
  PERFORM pg_advisory_lock_shared(4242);
  PERFORM pg_advisory_unlock_shared(4242);
END $$});
	PgBgTest::query_ok($ctl, 'SELECT pg_advisory_lock(4242)');

	# the task makes a temporary table, commits, then waits for $ctl
	PgBgTest::send_query($s,
		q{SELECT * FROM pg_background_result(pg_background_launch('CALL pgbg_temp_then_wait()')) AS (x text)}
	);
	my $wpid = '';
	ok( PgBgTest::wait_until(
			sub {
				$wpid = PgBgTest::query_ok($ctl,
					"SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND objid = 4242"
				);
				return $wpid ne '';
			}),
		"$l: the task waits for the control session");
	my $tbl = PgBgTest::query_ok($ctl,
		"SELECT quote_ident(n.nspname) || '.pgbg_reset_t' FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relname = 'pgbg_reset_t'"
	);
	# $ctl takes a lock on the worker's temporary table, then lets the task end
	PgBgTest::query_ok($ctl,
		"BEGIN; LOCK TABLE $tbl IN ACCESS SHARE MODE; SELECT pg_advisory_unlock(4242)");
	my ($out, $err) = PgBgTest::finish_query($s);
	is($out, 'CALL', "$l: the task succeeded") or diag $err;

	# its worker resets its session: dropping the table waits for $ctl
	ok( PgBgTest::wait_until(
			sub {
				PgBgTest::query_ok($ctl,
					"SELECT count(*) FROM pg_locks WHERE pid = $wpid AND locktype = 'relation' AND NOT granted"
				) eq '1';
			}),
		"$l: the worker's reset waits for a lock on its temporary table");

	# the next launch; once it has returned, the reset fails (an
	# administrator cancels the worker that is still resetting)
	PgBgTest::send_query($s,
		q{SELECT * FROM pg_background_result(pg_background_launch($$SELECT 'next task ran'$$)) AS (x text)}
	);
	ok( PgBgTest::wait_until(
			sub {
				$node->safe_psql('postgres',
					"SELECT count(*) FROM pg_stat_activity WHERE pid = $spid AND query LIKE '%next task ran%' AND (state = 'idle' OR wait_event_type IN ('Extension', 'IPC'))"
				) eq '1';
			}),
		"$l: the next launch returned");
	PgBgTest::query_ok($ctl, "SELECT pg_cancel_backend($wpid)");
	# (the canceled worker drops its temporary table again as it exits:
	# that, too, waits for $ctl)
	PgBgTest::query_ok($ctl, 'COMMIT');
	($out, $err) = PgBgTest::finish_query($s);
	is($out, 'next task ran',
		"$l: the next launch ran its task, unharmed by the failed reset")
	  or diag $err;
	$ctl->quit;
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
