
# Copyright (c) 2026, pg_background contributors

# Security:
#
#   1. Other sessions: user A (alice) cannot read, wait on, cancel, detach,
#      get the progress of, or list the workers of user B (bob) -- not even
#      with B's pid and cookie passed through a table, and not even a
#      superuser: every function is 42704, list_v2 shows nothing, B's workers
#      are untouched.  Plain PostgreSQL rules hold for the workers too: A sees
#      no query text of B's worker in pg_stat_activity and cannot signal it.
#   2. The same session after SET ROLE (superuser session and a non-superuser
#      member of the other role) and after SET SESSION AUTHORIZATION: every
#      function is 42501, list_v2 hides the handles, nothing takes effect; the
#      launching role (and a superuser) can still use them.
#   3. A non-superuser holding EXECUTE on the grant and revoke helpers cannot
#      escalate: the helpers never hand out the administration functions or a
#      grant option; role names carrying SQL (x; ALTER ROLE me SUPERUSER, ...)
#      return false and change nothing; a role whose real name contains such
#      text is granted correctly, as a quoted identifier.
#   4. The worker runs as its caller: not superuser, cannot SET ROLE or SET
#      SESSION AUTHORIZATION to anyone it could not become in the caller, no
#      superuser-only function; launched inside a SECURITY DEFINER function it
#      runs as the function's owner inside a security-definer context (so it
#      cannot SET ROLE back), and the caller's own launches afterwards run as
#      the caller again; the handle belongs to the owner.
#   5. Shadowing: the attacker creates, in pg_temp and in its own schema,
#      functions, operators, views and types (domains) named like what the
#      SECURITY DEFINER helpers use (format, quote_ident, current_setting,
#      aclexplode, acldefault, unnest, oidvectortypes, =, <>, ||, >=, pg_roles, pg_extension,
#      pg_depend, pg_proc, pg_type, pg_namespace, pg_init_privs, text, oid,
#      name, bool, ...), each of which records its use in a trap table, and puts
#      them first in search_path.  Controls show those objects do capture
#      ordinary queries.  Then grant, revoke and drop_executor_role are called
#      -- by the attacker (EXECUTE granted) and by a superuser with the
#      attacker's schema first: the trap table stays empty and each helper
#      does exactly its job.
#   6. Cookie randomness over 100,000 launches is t/009_cookies.pl.

use strict;
use warnings FATAL => 'all';

use lib 't';
use PgBgTest;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PgBgTest::new_node('security', max_worker_processes => 8);

$node->safe_psql(
	'postgres', q{
CREATE ROLE alice LOGIN;
CREATE ROLE bob LOGIN;
CREATE ROLE carol LOGIN;       -- a member of alice
CREATE ROLE mallory LOGIN;     -- the attacker
CREATE ROLE victim NOLOGIN;    -- target of the helpers
GRANT pgbackground_role TO alice, bob, carol;
GRANT alice TO carol;
-- handles passed between sessions
CREATE TABLE handles (owner text, api text, pid int, cookie int8);
GRANT ALL ON handles TO PUBLIC;
-- blocks until the control session releases advisory lock 42
CREATE FUNCTION pgbg_gate() RETURNS bool LANGUAGE plpgsql AS $$
BEGIN PERFORM pg_advisory_xact_lock_shared(42); RETURN true; END $$;
-- the attacker's objects record their use here
CREATE TABLE trap (what text, by_user name);
GRANT ALL ON trap TO PUBLIC;
CREATE SCHEMA mallory AUTHORIZATION mallory;
});

my $ctl = PgBgTest::session($node);
PgBgTest::query_ok($ctl, 'SELECT pg_advisory_lock(42)');

sub poll
{
	local $Test::Builder::Level = $Test::Builder::Level + 1;
	return PgBgTest::poll($node, @_);
}

sub sqlstate_of { return scalar PgBgTest::sqlstate_of(@_); }

# Every function of the API on a v2 handle and on a v1 worker, each expected
# to fail with $state in session $sess.
sub check_all_refused
{
	my ($label, $sess, $state, $v2, $v1) = @_;
	local $Test::Builder::Level = $Test::Builder::Level + 1;
	my ($p, $c) = @$v2;
	my ($p1, $c1) = @$v1;
	my @calls = (
		"SELECT * FROM pg_background_result_v2($p, $c) AS (x bool)",
		"SELECT pg_background_wait_v2($p, $c)",
		"SELECT pg_background_wait_v2_timeout($p, $c, 0)",
		"SELECT pg_background_cancel_v2($p, $c)",
		"SELECT pg_background_cancel_v2_grace($p, $c, 1000)",
		"SELECT pg_background_detach_v2($p, $c)",
		"SELECT * FROM pg_background_get_progress_v2($p, $c)",
		"SELECT * FROM pg_background_result($p1) AS (x bool)",
		"SELECT pg_background_detach($p1)",
		"SELECT pg_background_cancel_v2($p1, $c1)",
		"SELECT * FROM pg_background_result_v2($p1, $c1) AS (x bool)",);
	for my $sql (@calls)
	{
		(my $f = $sql) =~ s/^SELECT (?:\* FROM )?(\w+).*/$1/;
		is(sqlstate_of($sess, $sql), $state, "$label: $f is $state");
	}
	is( PgBgTest::query_ok($sess,
			"SELECT count(*) FROM pg_background_list_v2() $PgBgTest::LIST_COLS WHERE pid IN ($p, $p1)"
		),
		'0',
		"$label: list_v2 does not show them");
}

# launch a gated v2 worker (reporting progress) and a gated v1 worker in
# $sess; returns ([pid, cookie], [pid, cookie])
sub launch_pair
{
	my ($sess) = @_;
	my @v2 = PgBgTest::launch_v2($sess,
		q{SELECT pg_background_progress(50, 'secret'); SELECT pgbg_gate()});
	my $p1 = PgBgTest::query_ok($sess,
		q{SELECT pg_background_launch('SELECT pgbg_gate()')});
	my $c1 = PgBgTest::query_ok($sess,
		"SELECT cookie FROM pg_background_list_v2() $PgBgTest::LIST_COLS WHERE pid = $p1");
	return (\@v2, [ $p1, $c1 ]);
}

# the owner can still use both, and they were not canceled or detached
sub check_owner_reads
{
	my ($label, $sess, $v2, $v1) = @_;
	local $Test::Builder::Level = $Test::Builder::Level + 1;
	is( PgBgTest::query_ok($sess,
			"SELECT progress_pct || ',' || progress_msg FROM pg_background_get_progress_v2($v2->[0], $v2->[1])"
		),
		'50,secret',
		"$label: the owner reads the progress");
	is( PgBgTest::query_ok($sess,
			"SELECT * FROM pg_background_result_v2($v2->[0], $v2->[1]) AS (x bool)"),
		't', "$label: the owner reads the v2 result (it was neither canceled nor detached)");
	is( PgBgTest::query_ok($sess,
			"SELECT * FROM pg_background_result($v1->[0]) AS (x bool)"),
		't', "$label: the owner reads the v1 result");
}

# --------------------------------------------------------------------------
# 1. other sessions
# --------------------------------------------------------------------------
{
	my $bob = PgBgTest::session($node, user => 'bob');
	my $alice = PgBgTest::session($node, user => 'alice');
	my ($v2, $v1) = launch_pair($bob);
	PgBgTest::query_ok($bob,
		"INSERT INTO handles VALUES ('bob', 'v2', $v2->[0], $v2->[1]), ('bob', 'v1', $v1->[0], $v1->[1])"
	);
	poll(
		q{SELECT count(*) = 2 FROM pg_stat_activity
		  WHERE backend_type = 'pg_background' AND wait_event = 'advisory'},
		"other session: bob's two workers run");

	# alice takes the handles from the table
	my ($ap, $ac) = split /\|/,
	  PgBgTest::query_ok($alice, "SELECT pid, cookie FROM handles WHERE api = 'v2'");
	my ($ap1, $ac1) = split /\|/,
	  PgBgTest::query_ok($alice, "SELECT pid, cookie FROM handles WHERE api = 'v1'");
	check_all_refused("alice's session, bob's handles", $alice, '42704',
		[ $ap, $ac ], [ $ap1, $ac1 ]);
	is(PgBgTest::query_ok($alice,
			"SELECT count(*) FROM pg_background_list_v2() $PgBgTest::LIST_COLS"),
		'0', "alice's session: list_v2 is empty");

	# plain PostgreSQL rules for the worker backends
	is( PgBgTest::query_ok($alice,
			"SELECT query FROM pg_stat_activity WHERE pid = $ap"),
		'<insufficient privilege>',
		"alice cannot see the query text of bob's worker in pg_stat_activity");
	is(sqlstate_of($alice, "SELECT pg_cancel_backend($ap)"),
		'42501', "alice cannot signal bob's worker (pg_cancel_backend is 42501)");
	is(sqlstate_of($alice, "SELECT pg_terminate_backend($ap)"),
		'42501', "alice cannot terminate bob's worker (42501)");

	# not even a superuser, from another session
	check_all_refused("a superuser's session, bob's handles", $ctl, '42704',
		$v2, $v1);

	PgBgTest::query_ok($ctl, 'SELECT pg_advisory_unlock(42)');
	check_owner_reads("other session", $bob, $v2, $v1);
	PgBgTest::query_ok($ctl, 'SELECT pg_advisory_lock(42)');
	$bob->quit;
	$alice->quit;
	PgBgTest::wait_for_no_workers($node, 'other session: no worker left');
}

# --------------------------------------------------------------------------
# 2. the same session after SET ROLE / SET SESSION AUTHORIZATION
# --------------------------------------------------------------------------
{
	my $su = PgBgTest::session($node);

	PgBgTest::query_ok($su, 'SET ROLE bob');
	my ($v2, $v1) = launch_pair($su);
	PgBgTest::query_ok($su, 'SET ROLE alice');
	check_all_refused('SET ROLE bob -> alice', $su, '42501', $v2, $v1);
	my ($out, $err) = PgBgTest::query($su,
		"SELECT * FROM pg_background_result_v2($v2->[0], $v2->[1]) AS (x bool)");
	unlike($err, qr/bob/,
		'SET ROLE: the error does not name the launching role');
	PgBgTest::query_ok($su, 'RESET ROLE');
	is( PgBgTest::query_ok($su,
			"SELECT count(*) FROM pg_background_list_v2() $PgBgTest::LIST_COLS"),
		'2', 'SET ROLE: back as superuser, list_v2 shows both');
	PgBgTest::query_ok($ctl, 'SELECT pg_advisory_unlock(42)');
	PgBgTest::query_ok($su, 'SET ROLE bob');
	check_owner_reads('SET ROLE', $su, $v2, $v1);
	PgBgTest::query_ok($su, 'RESET ROLE');
	PgBgTest::query_ok($ctl, 'SELECT pg_advisory_lock(42)');

	PgBgTest::query_ok($su, 'SET SESSION AUTHORIZATION bob');
	($v2, $v1) = launch_pair($su);
	PgBgTest::query_ok($su, 'SET SESSION AUTHORIZATION alice');
	check_all_refused('SET SESSION AUTHORIZATION bob -> alice',
		$su, '42501', $v2, $v1);
	PgBgTest::query_ok($su, 'SET SESSION AUTHORIZATION bob');
	PgBgTest::query_ok($ctl, 'SELECT pg_advisory_unlock(42)');
	check_owner_reads('SET SESSION AUTHORIZATION', $su, $v2, $v1);
	PgBgTest::query_ok($su, 'RESET SESSION AUTHORIZATION');
	PgBgTest::query_ok($ctl, 'SELECT pg_advisory_lock(42)');
	$su->quit;

	# a non-superuser (carol, a member of alice) switching to alice
	my $carol = PgBgTest::session($node, user => 'carol');
	($v2, $v1) = launch_pair($carol);
	PgBgTest::query_ok($carol, 'SET ROLE alice');
	check_all_refused('carol, SET ROLE alice', $carol, '42501', $v2, $v1);
	PgBgTest::query_ok($carol, 'RESET ROLE');
	PgBgTest::query_ok($ctl, 'SELECT pg_advisory_unlock(42)');
	check_owner_reads('carol after RESET ROLE', $carol, $v2, $v1);
	PgBgTest::query_ok($ctl, 'SELECT pg_advisory_lock(42)');
	$carol->quit;
	PgBgTest::wait_for_no_workers($node, 'same session: no worker left');
}

# --------------------------------------------------------------------------
# 3. no escalation through the helpers
# --------------------------------------------------------------------------
my @api = split /\n/, $node->safe_psql(
	'postgres', q{
SELECT p.oid::regprocedure FROM pg_depend d JOIN pg_proc p ON p.oid = d.objid
 WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
   AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'pg_background')
   AND d.classid = 'pg_proc'::regclass
   AND p.proname NOT IN ('grant_pg_background_privileges', 'revoke_pg_background_privileges',
                         'pg_background_drop_executor_role')
 ORDER BY 1});
my @admin = (
	'grant_pg_background_privileges(text,boolean)',
	'revoke_pg_background_privileges(text,boolean)',
	'pg_background_drop_executor_role()');
my @types = ('pg_background_handle', 'pg_background_stats', 'pg_background_progress');
cmp_ok(scalar(@api), '>=', 15, 'the extension has its API functions (' . scalar(@api) . ')');

# "api,types,admin": how many API functions and types $role may use, and
# how many admin functions it may execute
sub privileges_of
{
	my ($role) = @_;
	my $api = join(', ', map { "('$_')" } @api);
	my $adm = join(', ', map { "('$_')" } @admin);
	my $typ = join(', ', map { "('$_')" } @types);
	$role =~ s/'/''/g;
	return $node->safe_psql(
		'postgres', qq{
SELECT (SELECT count(*) FROM (VALUES $api) v(f) WHERE has_function_privilege('$role', f, 'EXECUTE'))
       || ',' ||
       (SELECT count(*) FROM (VALUES $typ) v(t) WHERE has_type_privilege('$role', t, 'USAGE'))
       || ',' ||
       (SELECT count(*) FROM (VALUES $adm) v(f) WHERE has_function_privilege('$role', f, 'EXECUTE'))});
}
my $all = scalar(@api) . ',3,0';

sub trap_rows
{
	return $node->safe_psql('postgres',
		q{SELECT count(*) || coalesce(': ' || string_agg(what || ' as ' || by_user, ', '), '') FROM trap}
	);
}

$node->safe_psql(
	'postgres', q{
GRANT EXECUTE ON FUNCTION grant_pg_background_privileges(text, boolean),
                          revoke_pg_background_privileges(text, boolean) TO mallory;
});
{
	my $m = PgBgTest::session($node, user => 'mallory');
	is(privileges_of('mallory'), '0,0,2', 'mallory starts with only the two helpers');
	is(PgBgTest::query_ok($m, q{SELECT grant_pg_background_privileges('mallory')}),
		't', 'mallory grants herself the API with the helper');
	is(privileges_of('mallory'), scalar(@api) . ',3,2',
		'she gets the API functions and types, and no administration function more');
	is( $node->safe_psql(
			'postgres', q{
SELECT count(*) FROM pg_proc p, aclexplode(p.proacl) a
 WHERE a.grantee = 'mallory'::regrole AND a.is_grantable}),
		'0',
		'she holds no grant option on anything');
	is( sqlstate_of(
			$m,
			'GRANT EXECUTE ON FUNCTION pg_background_drop_executor_role() TO mallory'),
		'42501',
		'she cannot grant herself the drop-role helper (42501)');
	is(sqlstate_of($m, 'SELECT pg_background_drop_executor_role()'),
		'42501', 'she cannot run the drop-role helper (42501)');

	for my $evil (
		q{x; ALTER ROLE mallory SUPERUSER},
		q{mallory; ALTER ROLE mallory SUPERUSER},
		q{mallory; ALTER ROLE mallory SUPERUSER; --},
		q{mallory"; ALTER ROLE mallory SUPERUSER; --},
		q{"mallory"; ALTER ROLE mallory SUPERUSER},
		q{mallory'; ALTER ROLE mallory SUPERUSER; --},
		q{mallory WITH GRANT OPTION},
		q{public},
		q{mallory, victim})
	{
		(my $lit = $evil) =~ s/'/''/g;
		for my $helper ('grant', 'revoke')
		{
			my ($out, $err) = PgBgTest::query($m,
				"SELECT ${helper}_pg_background_privileges('$lit')");
			is($out, 'f', "$helper helper with role name <$evil>: false");
			like($err, qr/NOTICE:.*does not exist/, "$helper helper with role name <$evil>: says no such role");
		}
	}
	is( $node->safe_psql(
			'postgres',
			q{SELECT string_agg(rolname, ',' ORDER BY rolname) FROM pg_roles WHERE rolsuper}),
		$node->safe_psql('postgres', 'SELECT current_user'),
		'after the injection attempts, the only superuser is still the bootstrap user');
	is(privileges_of('victim'), '0,0,0', 'victim got nothing from them');
	is(privileges_of('mallory'), scalar(@api) . ',3,2', 'mallory has nothing more');
	is( $node->safe_psql(
			'postgres', q{
SELECT count(*) FROM pg_proc p, aclexplode(p.proacl) a
 WHERE a.grantee = 'mallory'::regrole AND a.is_grantable}),
		'0',
		'mallory holds no grant option after them');

	# a role whose real name is an injection attempt is just a name
	my $weird = q{evil"; ALTER ROLE mallory SUPERUSER; --};
	(my $weird_ident = $weird) =~ s/"/""/g;
	$node->safe_psql('postgres', qq{CREATE ROLE "$weird_ident" NOLOGIN});
	(my $weird_lit = $weird) =~ s/'/''/g;
	is(PgBgTest::query_ok($m, "SELECT grant_pg_background_privileges('$weird_lit')"),
		't', 'a role named <' . $weird . '> is granted the API');
	is(privileges_of($weird), $all, 'that role has exactly the API');
	is($node->safe_psql('postgres', q{SELECT rolsuper FROM pg_roles WHERE rolname = 'mallory'}),
		'f', 'mallory is still no superuser');
	is(PgBgTest::query_ok($m, "SELECT revoke_pg_background_privileges('$weird_lit')"),
		't', 'and revoked');
	is(privileges_of($weird), '0,0,0', 'that role has nothing left');
	$node->safe_psql('postgres', qq{DROP ROLE "$weird_ident"});
	is(trap_rows(), '0', 'no trap fired');
	$m->quit;
}

# --------------------------------------------------------------------------
# 4. the worker runs as its caller
# --------------------------------------------------------------------------
{
	my $m = PgBgTest::session($node, user => 'mallory');

	sub worker_says
	{
		my ($sess, $sql, $cols) = @_;
		my ($p, $c) = PgBgTest::launch_v2($sess, $sql);
		return PgBgTest::query($sess,
			"SELECT * FROM pg_background_result_v2($p, $c) AS $cols");
	}

	my ($out, $err) = worker_says($m,
		q{SELECT current_user::text, session_user::text, current_setting('is_superuser')},
		'(c text, s text, su text)');
	is($out, 'mallory|mallory|off', "mallory's worker runs as mallory, not superuser");
	for my $attempt (
		'ALTER ROLE mallory SUPERUSER',
		'SET ROLE postgres',
		'SET SESSION AUTHORIZATION postgres',
		q{SELECT pg_read_file('postgresql.conf')},
		q{COPY (SELECT 1) TO PROGRAM 'true'},
		'CREATE ROLE mallory2 SUPERUSER')
	{
		($out, $err) = worker_says($m, $attempt, '(x text)');
		is(PgBgTest::sqlstate($err), '42501', "mallory's worker: <$attempt> is 42501");
	}
	is($node->safe_psql('postgres', q{SELECT count(*) FROM pg_roles WHERE rolsuper}),
		'1', 'still one superuser');

	# a superuser session that became mallory: its worker is not superuser
	my $su = PgBgTest::session($node);
	PgBgTest::query_ok($su, 'SET SESSION AUTHORIZATION mallory');
	($out, $err) = worker_says($su,
		q{SELECT current_user::text, session_user::text, current_setting('is_superuser')},
		'(c text, s text, su text)');
	is($out, 'mallory|mallory|off',
		'after SET SESSION AUTHORIZATION mallory, the worker is mallory, not superuser');
	($out, $err) = worker_says($su, 'ALTER ROLE mallory SUPERUSER', '(x text)');
	is(PgBgTest::sqlstate($err), '42501', 'and cannot ALTER ROLE ... SUPERUSER (42501)');
	PgBgTest::query_ok($su, 'RESET SESSION AUTHORIZATION');
	PgBgTest::query_ok($su, 'SET ROLE alice');
	($out, $err) = worker_says($su,
		q{SELECT current_user::text, current_setting('is_superuser')}, '(c text, su text)');
	is($out, 'alice|off', 'after SET ROLE alice, the worker is alice, not superuser');
	$su->quit;

	# SECURITY DEFINER functions owned by bob, callable by mallory
	$node->safe_psql(
		'postgres', q{
CREATE FUNCTION bob_launch(sql text) RETURNS pg_background_handle
  LANGUAGE sql SECURITY DEFINER AS 'SELECT pg_background_launch_v2(sql)';
CREATE FUNCTION bob_result(p int, c int8) RETURNS text
  LANGUAGE sql SECURITY DEFINER
  AS 'SELECT string_agg(x, ''|'') FROM pg_background_result_v2(p, c) AS (x text)';
ALTER FUNCTION bob_launch(text) OWNER TO bob;
ALTER FUNCTION bob_result(int, int8) OWNER TO bob;
REVOKE ALL ON FUNCTION bob_launch(text), bob_result(int, int8) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION bob_launch(text), bob_result(int, int8) TO mallory;
});
	my ($p, $c) = split /\|/, PgBgTest::query_ok($m,
		q{SELECT pid, cookie FROM bob_launch($$SELECT current_user || ',' || session_user || ',' || current_setting('is_superuser')$$)}
	);
	is(sqlstate_of($m, "SELECT * FROM pg_background_result_v2($p, $c) AS (x text)"),
		'42501', 'a handle launched inside bob\'s SECURITY DEFINER function is bob\'s (42501 for mallory)');
	is(PgBgTest::query_ok($m, "SELECT bob_result($p, $c)"),
		'bob,mallory,off',
		'that worker runs as bob (the owner), session user mallory, not superuser');
	for my $attempt ('SET ROLE mallory', 'RESET ROLE', 'SET SESSION AUTHORIZATION mallory')
	{
		($p, $c) = split /\|/, PgBgTest::query_ok($m,
			"SELECT pid, cookie FROM bob_launch(\$\$$attempt; SELECT current_user::text\$\$)");
		my $st = sqlstate_of($m, "SELECT bob_result($p, $c)");
		is($st, '42501',
			"inside the SECURITY DEFINER context the worker cannot <$attempt> (42501)");
	}
	($out, $err) = worker_says($m, q{SELECT current_user::text}, '(c text)');
	is($out, 'mallory', 'after the function returned, mallory\'s own launches run as mallory');
	is(PgBgTest::query_ok($m, 'SELECT current_user'), 'mallory',
		'and her session is mallory again');
	$m->quit;
	PgBgTest::wait_for_no_workers($node, 'worker identity: no worker left');
}

# --------------------------------------------------------------------------
# 5. search_path and pg_temp shadowing of the SECURITY DEFINER helpers
# --------------------------------------------------------------------------

# the attacker's objects, created in schema $sch (mallory or pg_temp); every
# one calls mallory.trap() and then behaves like the real thing
sub trap_objects
{
	my ($sch) = @_;
	my $sql = '';
	# functions
	for my $f (
		[ 'format', 'f text', 'pg_catalog.format(f)', 'text' ],
		[ 'format', 'f text, a text', 'pg_catalog.format(f, a)', 'text' ],
		[ 'format', 'f text, a name', 'pg_catalog.format(f, a)', 'text' ],
		[ 'format', 'f text, a text, b text', 'pg_catalog.format(f, a, b)', 'text' ],
		[ 'format', 'f text, a name, b text', 'pg_catalog.format(f, a, b)', 'text' ],
		[ 'quote_ident', 'a text', 'pg_catalog.quote_ident(a)', 'text' ],
		[ 'quote_literal', 'a text', 'pg_catalog.quote_literal(a)', 'text' ],
		[ 'quote_nullable', 'a text', 'pg_catalog.quote_nullable(a)', 'text' ],
		[ 'current_setting', 'a text', 'pg_catalog.current_setting(a)', 'text' ],
		[ 'current_setting', 'a text, b bool', 'pg_catalog.current_setting(a, b)', 'text' ],
		[ 'acldefault', 'a "char", b oid', 'pg_catalog.acldefault(a, b)', 'aclitem[]' ],
		[ 'textcat', 'a text, b text', 'pg_catalog.textcat(a, b)', 'text' ],
		[ 'concat', 'a text, b text', 'pg_catalog.concat(a, b)', 'text' ],
		[ 'lower', 'a text', 'pg_catalog.lower(a)', 'text' ],
		[ 'oidvectortypes', 'a oidvector', 'pg_catalog.oidvectortypes(a)', 'text' ])
	{
		my ($name, $args, $body, $ret) = @$f;
		$sql .= qq{
CREATE FUNCTION $sch.$name($args) RETURNS pg_catalog.$ret LANGUAGE plpgsql AS \$f\$
BEGIN PERFORM mallory.trap('$sch.$name($args)'); RETURN $body; END \$f\$;};
	}
	$sql .= qq{
CREATE FUNCTION $sch.aclexplode(a pg_catalog.aclitem[])
  RETURNS TABLE (grantor pg_catalog.oid, grantee pg_catalog.oid, privilege_type pg_catalog.text, is_grantable pg_catalog.bool)
  LANGUAGE plpgsql AS \$f\$
BEGIN PERFORM mallory.trap('$sch.aclexplode');
  RETURN QUERY SELECT * FROM pg_catalog.aclexplode(a); END \$f\$;
CREATE FUNCTION $sch.unnest(a pg_catalog.aclitem[]) RETURNS SETOF pg_catalog.aclitem
  LANGUAGE plpgsql AS \$f\$
BEGIN PERFORM mallory.trap('$sch.unnest');
  RETURN QUERY SELECT * FROM pg_catalog.unnest(a); END \$f\$;
CREATE FUNCTION $sch.unnest(a pg_catalog.text[]) RETURNS SETOF pg_catalog.text
  LANGUAGE plpgsql AS \$f\$
BEGIN PERFORM mallory.trap('$sch.unnest(text[])');
  RETURN QUERY SELECT * FROM pg_catalog.unnest(a); END \$f\$;};

	# operators
	my $n = 0;
	for my $o (
		[ '=', 'name', 'text', 'pg_catalog.nameeqtext(a, b)' ],
		[ '=', 'text', 'text', 'pg_catalog.texteq(a, b)' ],
		[ '=', 'name', 'name', 'pg_catalog.nameeq(a, b)' ],
		[ '=', 'oid', 'oid', 'pg_catalog.oideq(a, b)' ],
		[ '=', '"char"', '"char"', 'pg_catalog.chareq(a, b)' ],
		[ '=', 'pg_catalog.regclass', 'pg_catalog.regclass', 'a::pg_catalog.oid OPERATOR(pg_catalog.=) b::pg_catalog.oid' ],
		[ '<>', 'name', 'text', 'pg_catalog.namenetext(a, b)' ],
		[ '<>', 'oid', 'oid', 'pg_catalog.oidne(a, b)' ],
		[ '||', 'text', 'text', 'pg_catalog.textcat(a, b)', 'text' ],
		[ '>=', 'int4', 'int4', 'pg_catalog.int4ge(a, b)' ])
	{
		my ($op, $l, $r, $body, $ret) = @$o;
		$ret //= 'bool';
		$n++;
		my $lt = $l =~ /\./ ? $l : "pg_catalog.$l";
		my $rt = $r =~ /\./ ? $r : "pg_catalog.$r";
		$sql .= qq{
CREATE FUNCTION $sch.op_$n(a $lt, b $rt) RETURNS pg_catalog.$ret LANGUAGE plpgsql AS \$f\$
BEGIN PERFORM mallory.trap('$sch.$op($l, $r)'); RETURN $body; END \$f\$;
CREATE OPERATOR $sch.$op (LEFTARG = $lt, RIGHTARG = $rt, FUNCTION = $sch.op_$n);};
	}

	# catalog look-alikes: views over the real catalogs that fire the trap
	my $temp = $sch eq 'pg_temp' ? 'TEMP ' : '';
	my $vsch = $sch eq 'pg_temp' ? '' : "$sch.";
	for my $cat (qw(pg_roles pg_authid pg_extension pg_depend pg_proc pg_type
		pg_namespace pg_init_privs pg_class))
	{
		$sql .= qq{
CREATE ${temp}VIEW $vsch$cat AS
  SELECT * FROM pg_catalog.$cat WHERE mallory.trap('$sch.$cat view');};
	}

	# types: domains named like the types the helpers use
	for my $t (qw(text oid name bool int4 regclass regprocedure regtype regrole aclitem))
	{
		$sql .= qq{
CREATE DOMAIN $sch.$t AS pg_catalog.$t CHECK (mallory.trap('$sch.$t domain'));};
	}
	return $sql;
}

$node->safe_psql(
	'postgres', q{
GRANT EXECUTE ON FUNCTION pg_background_drop_executor_role() TO mallory;
SET ROLE mallory;
SET search_path = pg_catalog;
CREATE FUNCTION mallory.trap(what text) RETURNS bool LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO public.trap VALUES (what, current_user);
  RETURN true;
END $$;
} . trap_objects('mallory'));

{
	my $m = PgBgTest::session($node, user => 'mallory');
	PgBgTest::query_ok($m, 'SET search_path = pg_catalog');
	PgBgTest::query_ok($m, trap_objects('pg_temp'));
	PgBgTest::query_ok($m, 'SET search_path = pg_temp, mallory, pg_catalog, public');

	# controls: the attacker's objects do capture ordinary queries
	for my $ctl_sql (
		[ q{SELECT count(*) > 0 FROM pg_roles}, 'pg_temp.pg_roles view' ],
		[ q{SELECT count(*) > 0 FROM pg_extension}, 'pg_temp.pg_extension view' ],
		[ q{SELECT format('%s', 'x'::text)}, 'mallory.format(f text, a text)' ],
		[ q{SELECT quote_ident('x')}, 'mallory.quote_ident(a text)' ],
		[ q{SELECT 'a'::pg_catalog.name = 'a'::pg_catalog.text}, 'mallory.=(name, text)' ],
		[ q{SELECT 'a'::pg_catalog.text || 'b'::pg_catalog.text}, 'mallory.||(text, text)' ],
		[ q{SELECT 'x'::text}, 'pg_temp.text domain' ])
	{
		my ($sql, $what) = @$ctl_sql;
		$node->safe_psql('postgres', 'TRUNCATE trap');
		PgBgTest::query($m, $sql);
		like(trap_rows(), qr/\Q$what\E/, "control: <$sql> is captured by $what");
	}
	$node->safe_psql('postgres', 'TRUNCATE trap');

	# the helpers, called by the attacker with its objects first
	my ($out, $err) = PgBgTest::query($m,
		q{SELECT public.grant_pg_background_privileges('victim', true)});
	is($out, 't', 'shadowed, called by mallory: grant returns true');
	is(trap_rows(), '0', 'grant: none of the attacker\'s objects ran');
	is(privileges_of('victim'), $all, 'grant: victim has exactly the API functions and types');

	($out, $err) = PgBgTest::query($m,
		q{SELECT public.revoke_pg_background_privileges('victim', true)});
	is($out, 't', 'shadowed, called by mallory: revoke returns true');
	is(trap_rows(), '0', 'revoke: none of the attacker\'s objects ran');
	is(privileges_of('victim'), '0,0,0', 'revoke: victim has nothing left');

	# a superuser with the attacker's schema first
	my $su = PgBgTest::session($node);
	PgBgTest::query_ok($su, 'SET search_path = mallory, pg_catalog, public');
	($out, $err) = PgBgTest::query($su,
		q{SELECT public.grant_pg_background_privileges('victim', true)});
	is($out, 't', 'shadowed, called by a superuser: grant returns true');
	is(trap_rows(), '0', 'superuser grant: none of the attacker\'s objects ran');
	is(privileges_of('victim'), $all, 'superuser grant: victim has exactly the API');
	($out, $err) = PgBgTest::query($su,
		q{SELECT public.revoke_pg_background_privileges('victim', true)});
	is($out, 't', 'shadowed, called by a superuser: revoke returns true');
	is(trap_rows(), '0', 'superuser revoke: none of the attacker\'s objects ran');
	is(privileges_of('victim'), '0,0,0', 'superuser revoke: victim has nothing left');
	$su->quit;

	# last: drop the executor role, called by the attacker (a careless admin
	# granted it EXECUTE)
	PgBgTest::wait_for_no_workers($node, 'before dropping the role: no worker');
	is($node->safe_psql('postgres',
			q{SELECT count(*) FROM pg_roles WHERE rolname = 'pgbackground_role'}),
		'1', 'pgbackground_role exists before');
	($out, $err) = PgBgTest::query($m,
		q{SELECT public.pg_background_drop_executor_role()});
	is(PgBgTest::sqlstate($err), undef, 'shadowed, called by mallory: drop_executor_role works')
	  or diag $err;
	is(trap_rows(), '0', 'drop_executor_role: none of the attacker\'s objects ran');
	is($node->safe_psql('postgres',
			q{SELECT count(*) FROM pg_roles WHERE rolname = 'pgbackground_role'}),
		'0', 'drop_executor_role: the role is gone');
	is( $node->safe_psql(
			'postgres', q{
SELECT count(*) FROM pg_init_privs ip, aclexplode(ip.initprivs) a
 WHERE a.grantee <> 0 AND NOT EXISTS (SELECT FROM pg_roles r WHERE r.oid = a.grantee)}),
		'0',
		'drop_executor_role: no initial privilege names a dropped role');
	is($node->safe_psql('postgres', q{SELECT rolsuper FROM pg_roles WHERE rolname = 'mallory'}),
		'f', 'mallory is still no superuser');
	$m->quit;
}

$ctl->quit;
PgBgTest::wait_for_no_workers($node, 'end: no worker left');
PgBgTest::assert_no_restart($node);
$node->stop;
done_testing();
