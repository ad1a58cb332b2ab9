
# Copyright (c) 2026, pg_background contributors

# A worker whose procedure committed part of its work and that is then
# canceled must not be reported as "its transaction did not commit": the
# error's detail and list_v2's last_error say how many of its transactions
# had committed.  A worker canceled before any commit still says that its
# transaction did not commit.
#
# The worker is held on advisory lock 77 (held by a control session) after
# its COMMIT; the test waits for it to be waiting there, then cancels it.

use strict;
use warnings FATAL => 'all';

use lib 't';
use PgBgTest;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PgBgTest::new_node('partial_commit');
$node->safe_psql(
	'postgres', q{
CREATE TABLE pc (a int);
CREATE PROCEDURE pc_commit_then_wait() LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO pc VALUES (1);
    COMMIT;
    INSERT INTO pc VALUES (2);
    PERFORM pg_advisory_xact_lock(77);
END $$;
});

my $control = PgBgTest::session($node);
my $s = PgBgTest::session($node);
PgBgTest::query_ok($control, 'SELECT pg_advisory_lock(77)');

sub wait_for_lock_wait
{
	my ($pid) = @_;
	return $node->poll_query_until('postgres',
		"SELECT EXISTS (SELECT FROM pg_locks WHERE pid = $pid AND locktype = 'advisory' AND NOT granted)"
	);
}

# canceled after one commit
my ($pid, $cookie) = PgBgTest::launch_v2($s, 'CALL pc_commit_then_wait()');
ok(wait_for_lock_wait($pid), 'worker committed once and waits on the lock');
PgBgTest::query_ok($s, "SELECT pg_background_cancel_v2_grace($pid, $cookie, 60000)");
my ($out, $err) = PgBgTest::query($s,
	"SELECT state, last_error FROM pg_background_list_v2() $PgBgTest::LIST_COLS WHERE pid = $pid"
);
like(
	$out,
	qr/^stopped\|.*\(part of its work had already committed: 1 commit\)$/,
	'last_error says part of the work committed');
($out, $err) = PgBgTest::query($s,
	"SELECT * FROM pg_background_result_v2($pid, $cookie) AS (tag text)");
is(PgBgTest::sqlstate($err), '57014', 'reading the canceled worker is 57014');
like($err, qr/was canceled/, '... "was canceled"');
like(
	$err,
	qr/DETAIL:\s+Part of its work had already committed \(1 commit\) before it stopped\./,
	'... with a detail saying one commit had happened');
unlike($err, qr/did not commit/, '... and not that nothing committed');
is($node->safe_psql('postgres', 'SELECT array_agg(a) FROM pc'),
	'{1}', 'the committed row is there, the later one is not');

# canceled before any commit
($pid, $cookie) = PgBgTest::launch_v2($s,
	'INSERT INTO pc VALUES (3); SELECT pg_advisory_xact_lock(77)');
ok(wait_for_lock_wait($pid), 'second worker waits on the lock');
PgBgTest::query_ok($s, "SELECT pg_background_cancel_v2_grace($pid, $cookie, 60000)");
($out, $err) = PgBgTest::query($s,
	"SELECT last_error LIKE '%committed%' FROM pg_background_list_v2() $PgBgTest::LIST_COLS WHERE pid = $pid"
);
is($out, 'f', 'last_error of a worker that committed nothing has no note');
($out, $err) = PgBgTest::query($s,
	"SELECT * FROM pg_background_result_v2($pid, $cookie) AS (tag text)");
is(PgBgTest::sqlstate($err), '57014', 'reading it is 57014');
like($err, qr/DETAIL:\s+Its transaction did not commit\./,
	'... "Its transaction did not commit."');

# a submitted worker canceled after one commit: last_error says so
$out = PgBgTest::query_ok($s,
	q{SELECT pid, cookie FROM pg_background_submit_v2('CALL pc_commit_then_wait()')});
($pid, $cookie) = split /\|/, $out;
ok(wait_for_lock_wait($pid), 'submitted worker committed once and waits');
PgBgTest::query_ok($s, "SELECT pg_background_cancel_v2_grace($pid, $cookie, 60000)");
($out, $err) = PgBgTest::query($s,
	"SELECT state, last_error FROM pg_background_list_v2() $PgBgTest::LIST_COLS WHERE pid = $pid"
);
like(
	$out,
	qr/^stopped\|.*\(part of its work had already committed: 1 commit\)$/,
	'submitted worker: last_error says part of the work committed');
PgBgTest::query_ok($s, "SELECT pg_background_detach_v2($pid, $cookie)");

# stopped by pg_background.worker_timeout after one commit (the worker
# commits at once, then waits on the lock until the timeout stops it)
PgBgTest::query_ok($s, "SET pg_background.worker_timeout = '4s'");
($pid, $cookie) = PgBgTest::launch_v2($s, 'CALL pc_commit_then_wait()');
PgBgTest::query_ok($s, 'RESET pg_background.worker_timeout');
ok(wait_for_lock_wait($pid), 'timed worker committed once and waits');
PgBgTest::query_ok($s, "SELECT pg_background_wait_v2($pid, $cookie)");
($out, $err) = PgBgTest::query($s,
	"SELECT * FROM pg_background_result_v2($pid, $cookie) AS (tag text)");
is(PgBgTest::sqlstate($err), '57014', 'worker_timeout: 57014');
like(
	$err,
	qr/DETAIL:\s+It ran longer than 4000 ms; part of its work had already committed \(1 commit\) before it stopped\./,
	'worker_timeout: the detail says one commit had happened');

PgBgTest::query_ok($control, 'SELECT pg_advisory_unlock(77)');
is($node->safe_psql('postgres', 'SELECT array_agg(a ORDER BY a) FROM pc'),
	'{1,1,1}', 'only the committed rows are there');

$s->quit;
$control->quit;
PgBgTest::wait_for_no_workers($node);
PgBgTest::assert_no_restart($node);
$node->stop;
done_testing();
