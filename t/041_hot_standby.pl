
# Copyright (c) 2026, pg_background contributors

# Workers on a hot standby.  A worker restores its caller's settings inside a
# transaction, and on a standby every transaction starts read-only: restoring
# transaction_read_only used to fail every launch with "failed to initialize
# transaction_read_only to 0".  Now read-only SQL runs in a worker on the
# standby, a write fails with PostgreSQL's own read-only error (25006), and
# submit_v2 + wait_v2 work too; the standby never crash-restarts.

use strict;
use warnings FATAL => 'all';

use lib 't';
use PgBgTest;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $primary =
  PgBgTest::new_node('primary', init => { allows_streaming => 1 });
$primary->safe_psql(
	'postgres', q{
CREATE TABLE hs (a int);
INSERT INTO hs SELECT g FROM generate_series(1, 10) g;
});

$primary->backup('b');
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'b', has_streaming => 1);
$standby->start;
$primary->wait_for_catchup($standby);
PgBgTest::rebaseline($standby);

is($standby->safe_psql('postgres', 'SELECT pg_is_in_recovery()'),
	't', 'the standby is in recovery');

my $s = PgBgTest::session($standby);

# read-only SQL runs in a worker and its rows come back
my ($out, $err) = PgBgTest::query($s,
	q{SELECT * FROM pg_background_result(pg_background_launch(
	    'SELECT count(*), sum(a), pg_is_in_recovery() FROM hs')) AS (n bigint, s bigint, r bool)}
);
is($out, '10|55|t', 'v1 launch/result of a SELECT on the standby');
is($err, '', 'no error');

my ($pid, $cookie) = PgBgTest::launch_v2($s,
	q{SELECT current_setting('transaction_read_only'), a FROM hs ORDER BY a LIMIT 2});
($out, $err) = PgBgTest::query($s,
	"SELECT * FROM pg_background_result_v2($pid, $cookie) AS (ro text, a int)");
is($out, "on|1\non|2", 'launch_v2/result_v2 on the standby; the worker is read-only');
is($err, '', 'no error');

# a write gets PostgreSQL's own read-only error
($pid, $cookie) = PgBgTest::launch_v2($s, 'INSERT INTO hs VALUES (11)');
($out, $err) = PgBgTest::query($s,
	"SELECT * FROM pg_background_result_v2($pid, $cookie) AS (tag text)");
is(PgBgTest::sqlstate($err), '25006', 'a write in a worker on the standby is 25006');
like($err, qr/read-only transaction/, '... with PostgreSQL\'s message');

# a caller that asked for a read-write transaction cannot get one here, but
# its settings are still restored: the worker runs read-only
($out, $err) = PgBgTest::query($s,
	q{SET default_transaction_read_only = off;
	  SELECT * FROM pg_background_result(pg_background_launch(
	    'SHOW transaction_read_only')) AS (ro text);
	  RESET default_transaction_read_only});
is($out, 'on', 'default_transaction_read_only = off: still read-only on the standby');
is($err, '', 'no error');

# submit_v2 + wait_v2, with success and with a write
my $out2 = PgBgTest::query_ok($s,
	q{SELECT pid, cookie FROM pg_background_submit_v2('SELECT count(*) FROM hs')});
($pid, $cookie) = split /\|/, $out2;
PgBgTest::query_ok($s, "SELECT pg_background_wait_v2($pid, $cookie)");
($out, $err) = PgBgTest::query($s,
	"SELECT state, last_error IS NULL FROM pg_background_list_v2() $PgBgTest::LIST_COLS WHERE pid = $pid"
);
is($out, 'stopped|t', 'submitted SELECT on the standby finished without error');
PgBgTest::query_ok($s, "SELECT pg_background_detach_v2($pid, $cookie)");

$out2 = PgBgTest::query_ok($s,
	q{SELECT pid, cookie FROM pg_background_submit_v2('DELETE FROM hs')});
($pid, $cookie) = split /\|/, $out2;
PgBgTest::query_ok($s, "SELECT pg_background_wait_v2($pid, $cookie)");
($out, $err) = PgBgTest::query($s,
	"SELECT state, last_error FROM pg_background_list_v2() $PgBgTest::LIST_COLS WHERE pid = $pid"
);
is( $out,
	'stopped|cannot execute DELETE in a read-only transaction',
	'submitted write on the standby: its error in last_error');
PgBgTest::query_ok($s, "SELECT pg_background_detach_v2($pid, $cookie)");

$s->quit;

is($primary->safe_psql('postgres', 'SELECT count(*) FROM hs'),
	'10', 'nothing was written on the primary');
PgBgTest::wait_for_no_workers($standby);
PgBgTest::assert_no_restart($standby, 'standby');

$standby->stop;
$primary->stop;
done_testing();
