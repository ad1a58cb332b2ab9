
# Copyright (c) 2026, pg_background contributors

# Soak: many launch/result cycles, then many launch/detach cycles, all in ONE
# session (each phase is one plpgsql DO loop in one psql call), and
# measurements of what is left afterwards:
#
#   phase 1, launch/result: v2 launch + result, v1 launch + result, v2 with
#     several rows, and a worker error caught in an exception block;
#   phase 2, launch/detach: launch_v2 + wait_v2 + detach_v2,
#     submit_v2 + wait_v2 + detach_v2, launch_v2 + wait_v2_timeout + detach_v2,
#     and detaches of workers that are still running: a worker held on an
#     advisory lock of the caller's own (detached, then released), and a v1
#     launch detached at once.  Slots cannot run out: max_worker_processes is
#     8, and a detach of a running worker is only done while the session has
#     fewer than 4 workers active (otherwise that cycle waits for its worker);
#     any 53000/53400 would be counted and fail the test.
#
# Before and after each phase: DSM segments (pg_dynshmem, mmap), pg_background
# rows in pg_stat_activity, handles in list_v2, and the caller backend's
# memory: sum(total_bytes) of pg_backend_memory_contexts, and VmRSS / RssAnon
# from /proc/<pid>/status.  Bounds: no DSM segment and no worker left, memory
# contexts grow by less than 2 MB, RSS by less than 16 MB.  At the end every
# one of the 8 worker slots can be used at once and the postmaster never
# restarted.  The figures are printed with diag() so they show in prove's
# output.
#
# The memory of the caller is also sampled inside each loop (cycle N/10 and
# cycle N, in the loop's one transaction): that growth must stay below 2 MB
# too, so a per-cycle leak that the end of the transaction would hide shows.
#
# Cycles per phase: PGBG_SOAK_CYCLES (a multiple of 20), default 2000.  `make
# soak` runs 10,000 of each.  A cycle starts a worker process: a few ms each
# on an idle 2-core machine, up to about 30 ms when other clusters compete
# for the CPU.  Figures of a 10,000-cycle run: memory contexts +0 B, VmRSS
# +8 kB, DSM segments 2 before and after, inside each loop +29,696 B (the
# same from cycle 100 to 1000 as from 1000 to 10,000: no growth per cycle).

use strict;
use warnings FATAL => 'all';

use lib 't';
use PgBgTest;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);

my $cycles = $ENV{PGBG_SOAK_CYCLES} // 2000;
die "PGBG_SOAK_CYCLES must be a positive multiple of 20\n"
  unless $cycles =~ /^\d+$/ && $cycles > 0 && $cycles % 20 == 0;
my $warmup = 200;

my $node = PgBgTest::new_node(
	'soak',
	max_worker_processes => 8,
	dsm_type => 'mmap');

# one DO loop can run for many minutes
my $s = PgBgTest::session($node, timeout => 3 * 3600);

# The caller's memory contexts: pg_backend_memory_contexts is PostgreSQL 14+;
# on 13 pgbg_ctx_bytes() is NULL and only the RSS bounds apply.
$node->safe_psql(
	'postgres', q{
CREATE FUNCTION pgbg_ctx_bytes(pattern text DEFAULT '%') RETURNS int8
LANGUAGE plpgsql AS $$
BEGIN
  IF to_regclass('pg_catalog.pg_backend_memory_contexts') IS NULL THEN
    RETURN NULL;
  END IF;
  RETURN (SELECT coalesce(sum(total_bytes), 0)
            FROM pg_backend_memory_contexts WHERE name LIKE pattern);
END $$});
my $have_ctx = $node->safe_psql('postgres', 'SELECT pgbg_ctx_bytes() IS NOT NULL') eq 't';
my $no_ctx = 'pg_backend_memory_contexts is PostgreSQL 14+';
my $spid = PgBgTest::query_ok($s, 'SELECT pg_backend_pid()');

# ---------------------------------------------------------------------------
# the two loops
# ---------------------------------------------------------------------------

# $n cycles of launch + result; leaves "ok, wrong, failed" in pgbg.soak
sub launch_result_loop
{
	my ($n) = @_;
	return PgBgTest::query_ok(
		$s, qq{
DO \$\$
DECLARE
  h pg_background_handle; p int; n int;
  ok int := 0; wrong int := 0; failed int := 0; m0 int8; m1 int8;
BEGIN
  FOR i IN 1..$n LOOP
    IF i = $n / 10 THEN
      m0 := pgbg_ctx_bytes();
    END IF;
    BEGIN
      CASE i % 4
      WHEN 0 THEN    -- v2
        h := pg_background_launch_v2(format('SELECT %s', i));
        SELECT x INTO n FROM pg_background_result_v2(h.pid, h.cookie) AS (x int);
      WHEN 1 THEN    -- v1
        p := pg_background_launch(format('SELECT %s', i));
        SELECT x INTO n FROM pg_background_result(p) AS (x int);
      WHEN 2 THEN    -- several rows (1..10 and i - 55: they add up to i)
        h := pg_background_launch_v2(
               format('SELECT g FROM generate_series(1, 10) g UNION ALL SELECT %s - 55', i));
        SELECT sum(x) INTO n FROM pg_background_result_v2(h.pid, h.cookie) AS (x int);
      ELSE           -- the worker fails; its error is caught here
        h := pg_background_launch_v2('SELECT 1/0');
        SELECT x INTO n FROM pg_background_result_v2(h.pid, h.cookie) AS (x int);
      END CASE;
      IF n = i THEN ok := ok + 1; ELSE wrong := wrong + 1; END IF;
    EXCEPTION WHEN division_by_zero THEN
      failed := failed + 1;
    END;
  END LOOP;
  m1 := pgbg_ctx_bytes();
  PERFORM set_config('pgbg.inloop', coalesce((m1 - m0)::text, ''), false);
  PERFORM set_config('pgbg.soak', format('%s ok, %s wrong, %s failed', ok, wrong, failed), false);
END \$\$;
SELECT current_setting('pgbg.soak')});
}

# $n cycles of launch + detach; leaves "detached running, skipped, errors" in
# pgbg.soak
sub launch_detach_loop
{
	my ($n) = @_;
	return PgBgTest::query_ok(
		$s, qq{
DO \$\$
DECLARE
  h pg_background_handle; p int; mode int;
  running int := 0; skipped int := 0; errors int := 0; m0 int8; m1 int8;
BEGIN
  FOR i IN 1..$n LOOP
    IF i = $n / 10 THEN
      m0 := pgbg_ctx_bytes();
    END IF;
    BEGIN
      mode := i % 10;
      -- detach a running worker only while few are active, so slots never run out
      IF mode IN (0, 8) AND (pg_background_stats_v2()).workers_active >= 4 THEN
        mode := 1;
        skipped := skipped + 1;
      END IF;
      CASE mode
      WHEN 0 THEN    -- detached while it waits for our own advisory lock
        PERFORM pg_advisory_lock(7);
        h := pg_background_launch_v2('SELECT pg_advisory_xact_lock_shared(7)');
        PERFORM pg_background_detach_v2(h.pid, h.cookie);
        PERFORM pg_advisory_unlock(7);
        running := running + 1;
      WHEN 8 THEN    -- v1, detached at once
        p := pg_background_launch('SELECT 1');
        PERFORM pg_background_detach(p);
      WHEN 6, 7 THEN -- submitted
        h := pg_background_submit_v2('SELECT 1');
        PERFORM pg_background_wait_v2(h.pid, h.cookie);
        PERFORM pg_background_detach_v2(h.pid, h.cookie);
      WHEN 9 THEN    -- wait with a timeout
        h := pg_background_launch_v2('SELECT 1');
        IF NOT pg_background_wait_v2_timeout(h.pid, h.cookie, 3600000) THEN
          RAISE EXCEPTION 'wait_v2_timeout gave up';
        END IF;
        PERFORM pg_background_detach_v2(h.pid, h.cookie);
      ELSE
        h := pg_background_launch_v2('SELECT 1');
        PERFORM pg_background_wait_v2(h.pid, h.cookie);
        PERFORM pg_background_detach_v2(h.pid, h.cookie);
      END CASE;
    EXCEPTION WHEN insufficient_resources OR configuration_limit_exceeded THEN
      errors := errors + 1;
    END;
  END LOOP;
  m1 := pgbg_ctx_bytes();
  PERFORM set_config('pgbg.inloop', coalesce((m1 - m0)::text, ''), false);
  PERFORM set_config('pgbg.soak', format('%s detached running, %s skipped, %s errors',
                                         running, skipped, errors), false);
END \$\$;
SELECT current_setting('pgbg.soak')});
}

# ---------------------------------------------------------------------------
# measurements
# ---------------------------------------------------------------------------

sub proc_status_kb
{
	my ($field) = @_;
	open(my $fh, '<', "/proc/$spid/status") or return undef;
	while (my $line = <$fh>)
	{
		return $1 if $line =~ /^\Q$field\E:\s+(\d+)\s+kB/;
	}
	return undef;
}

sub measure
{
	my ($label) = @_;
	PgBgTest::wait_for_no_workers($node, "$label: no worker left");
	my %m;
	($m{ctx}, $m{pgbg_ctx}) = split /\|/,
	  PgBgTest::query_ok($s,
		q{SELECT coalesce(pgbg_ctx_bytes(), 0), coalesce(pgbg_ctx_bytes('pg_background%'), 0)});
	$m{rss} = proc_status_kb('VmRSS');
	$m{anon} = proc_status_kb('RssAnon');
	# (list_v2 also lets the session forget detached workers that have ended,
	# and unmap their segments)
	$m{handles} = PgBgTest::query_ok($s,
		"SELECT count(*) FROM pg_background_list_v2() $PgBgTest::LIST_COLS");
	$m{dsm} = PgBgTest::dsm_count($node);
	$m{workers} = PgBgTest::worker_count($node);
	$m{pid} = PgBgTest::query_ok($s, 'SELECT pg_backend_pid()');
	diag sprintf(
		"%-22s contexts %9d B (pg_background %7d B)  VmRSS %7s kB  RssAnon %7s kB  DSM %d  workers %s  handles %s",
		$label, $m{ctx}, $m{pgbg_ctx}, $m{rss} // '?', $m{anon} // '?',
		$m{dsm}, $m{workers}, $m{handles});
	return \%m;
}

sub compare
{
	my ($label, $before, $after) = @_;
	local $Test::Builder::Level = $Test::Builder::Level + 1;
	is($after->{pid}, $spid, "$label: same caller backend");
	is($after->{dsm}, $before->{dsm}, "$label: no DSM segment left behind");
	is($after->{workers}, '0', "$label: no pg_background row in pg_stat_activity");
	is($after->{handles}, '0', "$label: the session tracks no handle");
	my $ctx_growth = $after->{ctx} - $before->{ctx};
	my $rss_growth = ($after->{rss} // 0) - ($before->{rss} // 0);
	my $anon_growth = ($after->{anon} // 0) - ($before->{anon} // 0);
	diag sprintf(
		"%s: memory contexts %+d B, pg_background contexts %+d B, VmRSS %+d kB, RssAnon %+d kB",
		$label, $ctx_growth, $after->{pgbg_ctx} - $before->{pgbg_ctx},
		$rss_growth, $anon_growth);
  SKIP:
	{
		skip $no_ctx, 1 unless $have_ctx;
		cmp_ok($ctx_growth, '<', 2 * 1024 * 1024,
			"$label: the caller's memory contexts grew by less than 2 MB");
	}
  SKIP:
	{
		skip 'no /proc/<pid>/status', 1 unless defined $after->{rss};
		# AddressSanitizer keeps freed memory in its quarantine (256 MB by
		# default) instead of reusing it, so the RSS of an instrumented
		# backend grows without a leak; the memory contexts above still count
		skip 'instrumented server (make sanitize): RSS includes the ASan quarantine', 1
		  if ($ENV{PGBG_SANITIZE} // '') eq 'asan';
		cmp_ok($rss_growth, '<', 16 * 1024,
			"$label: the caller's VmRSS grew by less than 16 MB");
	}
}

# ---------------------------------------------------------------------------
# warm-up (same code paths, so caches and contexts reach their working size),
# then the two phases
# ---------------------------------------------------------------------------
is(launch_result_loop($warmup), sprintf('%d ok, 0 wrong, %d failed', $warmup * 3 / 4, $warmup / 4),
	"warm-up: $warmup launch/result cycles");
like(launch_detach_loop($warmup), qr/^\d+ detached running, \d+ skipped, 0 errors$/,
	"warm-up: $warmup launch/detach cycles");
my $m0 = measure('baseline');
diag "soak: $cycles launch/result cycles, then $cycles launch/detach cycles, in session $spid";

my $t0 = time;
is(launch_result_loop($cycles),
	sprintf('%d ok, 0 wrong, %d failed', $cycles * 3 / 4, $cycles / 4),
	"$cycles launch/result cycles: every result right, every worker error caught");
my $t1 = time;
diag sprintf('launch/result: %d cycles in %.1f s (%.1f ms a cycle)',
	$cycles, $t1 - $t0, 1000 * ($t1 - $t0) / $cycles);
my $inloop1 = PgBgTest::query_ok($s, "SELECT current_setting('pgbg.inloop')");
diag "launch/result: memory contexts grew by $inloop1 B inside the loop (cycle "
  . ($cycles / 10) . " to $cycles, all in one transaction)";
SKIP:
{
	skip $no_ctx, 1 unless $have_ctx;
	cmp_ok($inloop1, '<', 2 * 1024 * 1024,
		'launch/result: inside the loop (one transaction) memory contexts grew by less than 2 MB');
}
my $m1 = measure('after launch/result');
compare('launch/result', $m0, $m1);

$t0 = time;
my $detach = launch_detach_loop($cycles);
$t1 = time;
diag sprintf('launch/detach: %d cycles in %.1f s (%.1f ms a cycle): %s',
	$cycles, $t1 - $t0, 1000 * ($t1 - $t0) / $cycles, $detach);
like($detach, qr/, 0 errors$/,
	"$cycles launch/detach cycles: no launch ever failed for want of a slot");
my ($running) = $detach =~ /^(\d+) detached running/;
cmp_ok($running, '>=', $cycles / 20,
	'launch/detach: at least half of the planned detaches of running workers happened');
my $inloop2 = PgBgTest::query_ok($s, "SELECT current_setting('pgbg.inloop')");
diag "launch/detach: memory contexts grew by $inloop2 B inside the loop (cycle "
  . ($cycles / 10) . " to $cycles, all in one transaction)";
SKIP:
{
	skip $no_ctx, 1 unless $have_ctx;
	cmp_ok($inloop2, '<', 2 * 1024 * 1024,
		'launch/detach: inside the loop (one transaction) memory contexts grew by less than 2 MB');
}
my $m2 = measure('after launch/detach');
compare('launch/detach', $m1, $m2);
compare('both phases', $m0, $m2);

# the session's own counters agree: everything it launched has ended
my $launched = 2 * ($warmup + $cycles);
is( PgBgTest::query_ok(
		$s, q{SELECT workers_launched || ',' || workers_active || ',' ||
		             (workers_completed + workers_failed + workers_canceled = workers_launched)
		        FROM pg_background_stats_v2()}),
	"$launched,0,true",
	"stats_v2: $launched launched, none active, every one counted once");
is(PgBgTest::query_ok($s, 'SELECT pg_backend_pid()'), $spid,
	'the caller is still the same backend');
$s->quit;

PgBgTest::wait_for_no_workers($node, 'end: no worker left');
is($node->safe_psql('postgres', 'SELECT count(*) FROM pg_ls_tmpdir()'),
	'0', 'end: no temporary file left');
PgBgTest::assert_slots_usable($node, 8, 'end: slots');
PgBgTest::assert_no_restart($node);
$node->stop;
done_testing();
