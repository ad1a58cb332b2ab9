
# Copyright (c) 2026, pg_background contributors

# The caller's memory stays flat however many rows or notices go by
# (DESIGN.md: Memory lifetimes): reading 100,000 rows of 1 kB, and waiting
# on a worker that raises 100,000 notices of 1 kB, each grow the peak
# resident memory (VmHWM in /proc/<pid>/status) of the caller's backend by
# less than 48 MB -- work_mem (4 MB here) for the result, the same for the
# local buffer, and a constant.  Without a per-message memory context each
# takes over 100 MB.  Linux only (/proc).

use strict;
use warnings FATAL => 'all';

use lib 't';
use PgBgTest;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

plan skip_all => 'needs /proc/<pid>/status (Linux)'
  unless -r "/proc/$$/status";
# AddressSanitizer keeps freed memory in its quarantine: RSS says nothing
plan skip_all => 'instrumented server (make sanitize): RSS includes the ASan quarantine'
  if ($ENV{PGBG_SANITIZE} // '') eq 'asan';

my $node = PgBgTest::new_node(
	'memory',
	max_worker_processes => 4,
	conf => "work_mem = '4MB'\n");

my $LIMIT_KB = 48 * 1024;

# Each measurement in a backend of its own: VmHWM is a peak, so one taken
# after another would hide it.
sub session_with_warm_up
{
	my $s = PgBgTest::session($node);
	my $spid = PgBgTest::query_ok($s, 'SELECT pg_backend_pid()');

	# the library, the catalog caches, a result read and a wait
	PgBgTest::query_ok($s,
		q{SELECT count(*) FROM pg_background_result(pg_background_launch('SELECT repeat(''x'', 1000) FROM generate_series(1, 1000)')) AS (x text)}
	);
	my ($pid, $cookie) = PgBgTest::launch_v2($s,
		q{DO $$BEGIN FOR i IN 1..1000 LOOP RAISE NOTICE '%', repeat('x', 1000); END LOOP; END$$}
	);
	PgBgTest::query_ok($s,
		"SET client_min_messages = warning; SELECT pg_background_wait_v2($pid, $cookie); SELECT pg_background_detach_v2($pid, $cookie); RESET client_min_messages"
	);
	return ($s, $spid);
}

sub hwm_kb
{
	my ($spid) = @_;
	my $status = slurp_file("/proc/$spid/status");
	$status =~ /^VmHWM:\s+(\d+)\s+kB/m or die "no VmHWM for $spid";
	return $1;
}

# rows
{
	my ($s, $spid) = session_with_warm_up();
	my $before = hwm_kb($spid);
	my ($pid, $cookie) = PgBgTest::launch_v2($s,
		q{SELECT repeat('x', 1000) FROM generate_series(1, 100000)});
	is( PgBgTest::query_ok($s,
			"SELECT count(*), sum(length(x)) FROM pg_background_result_v2($pid, $cookie) AS (x text)"
		),
		'100000|100000000',
		'100,000 rows of 1 kB read');
	my $grown = hwm_kb($spid) - $before;
	ok($grown < $LIMIT_KB,
		"reading 100,000 rows of 1 kB: peak memory grew by less than 48 MB")
	  or diag "VmHWM grew by $grown kB";
	note "VmHWM grew by $grown kB";
	$s->quit;
}

# notices: the caller passes each on (client_min_messages only keeps them
# from the client; the caller still reads and decodes every one)
{
	my ($s, $spid) = session_with_warm_up();
	my $before = hwm_kb($spid);
	my ($pid, $cookie) = PgBgTest::launch_v2($s,
		q{DO $$BEGIN FOR i IN 1..100000 LOOP RAISE NOTICE '%', repeat('x', 1000); END LOOP; END$$}
	);
	PgBgTest::query_ok($s,
		"SET client_min_messages = warning; SELECT pg_background_wait_v2($pid, $cookie); RESET client_min_messages"
	);
	my $grown = hwm_kb($spid) - $before;
	ok($grown < $LIMIT_KB,
		"waiting on 100,000 notices of 1 kB: peak memory grew by less than 48 MB")
	  or diag "VmHWM grew by $grown kB";
	note "VmHWM grew by $grown kB";
	PgBgTest::query_ok($s, "SELECT pg_background_detach_v2($pid, $cookie)");
	$s->quit;
}

PgBgTest::wait_for_no_workers($node);
PgBgTest::assert_no_restart($node);

done_testing();
