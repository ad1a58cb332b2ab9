
# Copyright (c) 2026, pg_background contributors

# Bytes in, bytes out, seen from the client: with a UTF8 database and a
# LATIN1 client, a value read from a worker arrives as the same bytes as
# the same value selected in the session, and a notice or error raised by
# user code while the launcher decodes a row (a domain's CHECK) arrives in
# the client's encoding, as it would in the session.  The regress test
# `encoding` compares the values inside the server; this test looks at the
# bytes psql receives, which a regress expected file (ASCII only) cannot.

use strict;
use warnings FATAL => 'all';

use lib 't';
use PgBgTest;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PgBgTest::new_node('encoding_messages', max_worker_processes => 4);
$node->safe_psql('postgres',
	q{CREATE DATABASE enc ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0});
$node->safe_psql(
	'enc', q{
CREATE EXTENSION pg_background;
CREATE FUNCTION enc_note(v text) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    RAISE NOTICE 'note caf% %', chr(233), v;
    IF v LIKE 'bad%' THEN
        RAISE EXCEPTION 'refused caf% %', chr(233), v;
    END IF;
    RETURN true;
END $$;
CREATE DOMAIN enc_noted AS text CHECK (enc_note(VALUE));
});

# psql's raw output, as bytes
sub run_latin1
{
	my ($sql) = @_;
	my ($out, $err) = ('', '');
	$node->psql(
		'enc', "SET client_encoding = 'LATIN1';\n$sql",
		stdout => \$out,
		stderr => \$err,
		on_error_stop => 0);
	return ($out, $err);
}

my $value = q{chr(233) || 'x'};

# the value itself: in the session, then from a worker
my ($local) = run_latin1("SELECT $value;");
my ($remote) = run_latin1(
	"SELECT v FROM pg_background_result(pg_background_launch(\$q\$SELECT $value\$q\$)) AS (v text);"
);
is($local, "\xE9x", 'in the session, e acute arrives as one LATIN1 byte');
is($remote, $local, 'from a worker, the same bytes');

# a notice raised by the domain's CHECK while the row is decoded
my ($out, $err) = run_latin1(
	"SELECT v FROM pg_background_result(pg_background_launch(\$q\$SELECT $value\$q\$)) AS (v enc_noted);"
);
like($err, qr/note caf\xE9 \xE9x/, 'notice raised while decoding is in LATIN1');
unlike($err, qr/\xC3\xA9/, 'no UTF8 bytes in the notice');
is($out, "\xE9x", 'the value too');

# the same domain in the session, for comparison
my ($lout, $lerr) = run_latin1("SELECT ($value)::enc_noted;");
like($lerr, qr/note caf\xE9 \xE9x/, 'the session sends the same notice');

# an error raised while decoding, after a notice
($out, $err) = run_latin1(
	"SELECT v FROM pg_background_result(pg_background_launch(\$q\$SELECT 'bad' || $value\$q\$)) AS (v enc_noted);"
);
like($err, qr/note caf\xE9 bad\xE9x/, 'notice before the error is in LATIN1');
like($err, qr/refused caf\xE9 bad\xE9x/, 'the error is in LATIN1');
unlike($err, qr/\xC3\xA9/, 'no UTF8 bytes anywhere');

# a worker whose SQL sets its own client_encoding sends the same bytes
($out, $err) = run_latin1(
	"SELECT v FROM pg_background_result(pg_background_launch(\$q\$SET client_encoding = 'LATIN1'; "
	  . "DO \$x\$ BEGIN RAISE NOTICE 'worker caf%', chr(233); END \$x\$; SELECT $value\$q\$)) AS (v text);"
);
is($out, "\xE9x", 'value from a worker that SET client_encoding');
like($err, qr/worker caf\xE9/, "that worker's notice is in LATIN1");
unlike($err, qr/\xC3\xA9/, 'no UTF8 bytes in it');

# the client encoding is the caller's again after each of those
($out, $err) = run_latin1(
	"SELECT v FROM pg_background_result(pg_background_launch(\$q\$SELECT 'bad' || $value\$q\$)) AS (v enc_noted);\n"
	  . "SELECT pg_client_encoding(), $value;");
is($out, "LATIN1|\xE9x", 'after a failed read the session converts as before');

PgBgTest::assert_no_restart($node);
$node->stop;
done_testing();
