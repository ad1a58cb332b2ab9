
# Copyright (c) 2026, pg_background contributors

# Cookies are unpredictable.  Over PGBG_COOKIE_LAUNCHES launches (default
# 2,000; `make cookies` runs 100,000), split over two sessions that launch at
# the same time:
#
#   - no cookie repeats, in a session or across the two;
#   - none is 0 or its worker's pid, and a pid that the operating system
#     handed out again (pid_max is often 32768) got a new cookie each time;
#   - they are not monotonic in launch order: increases and decreases between
#     consecutive launches of a session are balanced, so they do not follow
#     a clock or a counter;
#   - each of the 64 bits is set in 35%..65% of them;
#   - no two consecutive cookies of a session are closer than 2^32 (a clock
#     or counter in any part of the value would make some steps small).
#
# Each session reads a result before its next launch, so it has at most one
# worker running and a few still exiting; a launch waits for the session's
# own exiting workers when every slot is taken (t/021_slot_recycling.pl), so
# the two sessions do not run out of the node's 8 slots.
#
# Each launch starts a process (a few ms on an idle 2-core machine, about
# 25 ms when other clusters compete for the CPU; two sessions gain little
# when the CPU is the limit).  PGBG_COOKIE_LAUNCHES is at least 100.

use strict;
use warnings FATAL => 'all';

use lib 't';
use PgBgTest;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);

my $launches = $ENV{PGBG_COOKIE_LAUNCHES} // 2000;
die "PGBG_COOKIE_LAUNCHES must be at least 100\n"
  unless $launches =~ /^\d+$/ && $launches >= 100;
my $nsessions = 2;

my $node = PgBgTest::new_node('cookies', max_worker_processes => 8);
$node->safe_psql(
	'postgres', q{
CREATE TABLE cookies (sess int, n int, pid int, cookie int8, PRIMARY KEY (sess, n));
});

# --------------------------------------------------------------------------
# collect: each session launches its share, reading every result
# --------------------------------------------------------------------------
my @sessions;
my $t0 = time;
for my $s (1 .. $nsessions)
{
	my $share = int($launches / $nsessions) + ($s <= $launches % $nsessions ? 1 : 0);
	my $sess = PgBgTest::session($node, timeout => 4 * 3600);
	PgBgTest::send_query(
		$sess, qq{
DO \$\$
DECLARE h pg_background_handle;
BEGIN
  FOR i IN 1..$share LOOP
    h := pg_background_launch_v2('SELECT 1');
    INSERT INTO cookies VALUES ($s, i, h.pid, h.cookie);
    PERFORM * FROM pg_background_result_v2(h.pid, h.cookie) AS (x int);
  END LOOP;
END \$\$});
	push @sessions, $sess;
}
diag "collecting the cookies of $launches launches in $nsessions sessions";
for my $sess (@sessions)
{
	my ($out, $err) = PgBgTest::finish_query($sess);
	is($err, '', 'a launching session finished without an error')
	  or diag $err;
	$sess->quit;
}
my $t1 = time;
diag sprintf('%d launches in %.1f s (%.1f ms each)',
	$launches, $t1 - $t0, 1000 * ($t1 - $t0) / $launches);

is($node->safe_psql('postgres', 'SELECT count(*) FROM cookies'),
	$launches, "$launches launches recorded");

# --------------------------------------------------------------------------
# uniqueness
# --------------------------------------------------------------------------
is($node->safe_psql('postgres', 'SELECT count(DISTINCT cookie) FROM cookies'),
	$launches, "$launches launches, $launches different cookies");
is( $node->safe_psql(
		'postgres', 'SELECT count(*) FROM cookies WHERE cookie = 0 OR cookie = pid'),
	'0',
	'no cookie is 0 or its worker\'s pid');
my ($reused_pids, $their_launches, $their_cookies) = split /\|/,
  $node->safe_psql(
	'postgres', q{
SELECT count(DISTINCT pid), count(*), count(DISTINCT cookie)
  FROM cookies WHERE pid IN (SELECT pid FROM cookies GROUP BY pid HAVING count(*) > 1)});
diag "$reused_pids worker pids were used more than once ($their_launches launches)";
is($their_cookies, $their_launches,
	'a pid used again got a different cookie every time');

# --------------------------------------------------------------------------
# no order, no clock
# --------------------------------------------------------------------------
my $steps_sql = q{
SELECT cookie::numeric - lag(cookie::numeric) OVER (PARTITION BY sess ORDER BY n) AS d
  FROM cookies};
my ($up, $down) = split /\|/, $node->safe_psql(
	'postgres', qq{
SELECT count(*) FILTER (WHERE d > 0), count(*) FILTER (WHERE d < 0)
  FROM ($steps_sql) s});
my $steps = $launches - $nsessions;
diag sprintf('consecutive cookies: %d increases, %d decreases (%.1f%% up)',
	$up, $down, 100 * $up / $steps);
ok($up > 0 && $down > 0, 'cookies are not monotonic in launch order');
my $tol = 6 * 0.5 / sqrt($steps);    # six standard deviations
$tol = 0.10 if $tol < 0.10;
ok( abs($up / $steps - 0.5) < $tol,
	sprintf(
		'increases and decreases are balanced (%.1f%% up, within 50%% +- %.0f%%)',
		100 * $up / $steps, 100 * $tol));

my @bits = split /\|/, $node->safe_psql(
	'postgres', q{
SELECT string_agg(f::text, '|' ORDER BY b)
  FROM (SELECT b, avg(((cookie >> b) & 1)::float8) AS f
          FROM cookies, generate_series(0, 63) b GROUP BY b) s});
is(scalar(@bits), 64, 'every one of the 64 bits measured');
# 35%..65%; for a small PGBG_COOKIE_LAUNCHES the bound widens to six
# standard deviations, so that 64 bits do not make a random failure
my $btol = 6 * 0.5 / sqrt($launches);
$btol = 0.15 if $btol < 0.15;
my ($blo, $bhi) = (0.5 - $btol, 0.5 + $btol);
my @off = grep { $bits[$_] < $blo || $bits[$_] > $bhi } 0 .. $#bits;
my ($min, $max) = (1, 0);
for (@bits) { $min = $_ if $_ < $min; $max = $_ if $_ > $max; }
diag sprintf('bit frequencies: min %.3f, max %.3f', $min, $max);
ok(!@off,
	sprintf('each of the 64 bits is set in %.0f%%..%.0f%% of the cookies',
		100 * $blo, 100 * $bhi))
  or diag 'bits outside: ' . join(', ', map { "$_ ($bits[$_])" } @off);

my $min_gap = $node->safe_psql('postgres',
	"SELECT min(abs(d)) FROM ($steps_sql) s");
diag "smallest difference between consecutive cookies: $min_gap";
cmp_ok($min_gap, '>=', 2**32,
	'no two consecutive cookies differ by less than 2^32');

PgBgTest::wait_for_no_workers($node, 'end: no worker left');
PgBgTest::assert_no_restart($node);
$node->stop;
done_testing();
