# Copyright (c) 2026, pg_background contributors

# pg_background_wait_any_v2 (1.10) is woken by the worker's exit, not by a
# timer: it returns within a few milliseconds of the exit of the first
# worker to end, and at its timeout exactly.
#
#   1. two workers, one ending after 0.8 s: wait_any (no timeout) returns
#      that one; the time from its last statement (a row it inserts just
#      before committing and exiting) to wait_any's return is under 400 ms.
#      A poller that sleeps 50, 100, 200, 400, 800 ms between looks (as the
#      published 1.10 does) would see the exit at 1.55 s, about 700 ms late.
#   2. a timeout of 300 ms with only a running worker: NULL after at least
#      300 ms and less than 300 + 400 ms.
#   3. the same wake-up when the caller waits with a timeout.
#
# The bounds are generous against a loaded machine; the values are printed.

use strict;
use warnings FATAL => 'all';

use lib 't';
use PgBgTest;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PgBgTest::new_node('wait_any', max_worker_processes => 8);
$node->safe_psql('postgres', 'CREATE TABLE exits (n int, t timestamptz)');

sub wake_lag
{
	my ($n, $timeout) = @_;
	my $out = $node->safe_psql(
		'postgres', qq{
SELECT pid AS a, cookie AS ac FROM pg_background_launch_v2('SELECT pg_sleep(600)') \\gset
SELECT pid AS b, cookie AS bc FROM pg_background_launch_v2(
    'SELECT pg_sleep(0.8); INSERT INTO exits SELECT $n, clock_timestamp()') \\gset
SELECT w.pid = :b AS first, clock_timestamp() AS returned_at
  FROM pg_background_wait_any_v2(ARRAY[(:a, :ac), (:b, :bc)]::pg_background_handle[], $timeout) w \\gset
SELECT pg_background_cancel_v2_grace(:a, :ac, 60000);
SELECT pg_background_detach_all_v2();
SELECT :'first' || ' ' || round(extract(epoch FROM (:'returned_at'::timestamptz - t)) * 1000)
  FROM exits WHERE n = $n;
});
	my @lines = split /\n/, $out;
	my ($first, $lag) = split / /, $lines[-1];
	return ($first, $lag);
}

# 1. no timeout
my ($first, $lag) = wake_lag(1, 0);
is($first, 't', 'wait_any returns the worker that ended');
note("wake-up lag after the worker's last statement: $lag ms");
cmp_ok($lag, '>=', 0, 'wait_any returned after the worker ended');
cmp_ok($lag, '<', 400, 'wait_any returned within 400 ms of the worker ending');

# 2. the timeout
my $out = $node->safe_psql(
	'postgres', q{
SELECT pid AS a, cookie AS ac FROM pg_background_launch_v2('SELECT pg_sleep(600)') \gset
SELECT clock_timestamp() AS t0 \gset
SELECT (pg_background_wait_any_v2(ARRAY[(:a, :ac)]::pg_background_handle[], 300) IS NULL)::text
       || ' ' || round(extract(epoch FROM clock_timestamp() - :'t0'::timestamptz) * 1000) AS r \gset
SELECT pg_background_cancel_v2_grace(:a, :ac, 60000);
SELECT pg_background_detach_all_v2();
SELECT :'r';
});
my ($null, $ms) = split / /, (split /\n/, $out)[-1];
is($null, 'true', 'wait_any returns NULL at its timeout');
note("wait_any with timeout 300 ms returned after $ms ms");
cmp_ok($ms, '>=', 300, 'not before the timeout');
cmp_ok($ms, '<', 700, 'not long after the timeout');

# 3. with a timeout, woken by the exit as well
($first, $lag) = wake_lag(2, 60000);
is($first, 't', 'wait_any with a timeout returns the worker that ended');
note("wake-up lag with a timeout: $lag ms");
cmp_ok($lag, '<', 400, 'within 400 ms of the worker ending');

PgBgTest::wait_for_no_workers($node);
$node->stop;
done_testing();
