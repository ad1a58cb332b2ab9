# Copyright (c) 2026, pg_background contributors

# Upgrade chains: every installable version, updated along every path the
# extension offers, must leave exactly the catalog of a fresh installation of
# the version it reached: the same objects, signatures (argument names and
# defaults included), result types, strictness, volatility, SECURITY DEFINER,
# settings, sources, ACLs, initial privileges, the schema's ACL and what
# pgbackground_role may do.
#
#   1. every older version V, in database db_V: CREATE EXTENSION ... VERSION V,
#      then a plain ALTER EXTENSION pg_background UPDATE (to the default
#      version), compared with a fresh installation of the default version;
#   2. every pair V < W with an update path: V updated to W, compared with a
#      fresh W;
#   3. CREATE EXTENSION ... SCHEMA app VERSION '1.6' + UPDATE, compared with a
#      fresh default installation in schema app (and nothing refers to public);
#   4. a control: a changed privilege does show up in the comparison;
#   5. what the grant helper recorded survives pg_dump + restore, and the
#      revoke helper takes back only that (a role's own USAGE on the schema
#      stays), after an update and after the restore.
#
# Every comparison is one is() on the difference (empty) plus one positive
# count of the facts compared, so that no comparison can pass vacuously.

use strict;
use warnings FATAL => 'all';

use lib 't';
use PgBgTest;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PgBgTest::new_node('upgrade_chains', max_worker_processes => 2);

# One line of text per catalog fact about the installed extension, sorted.
# No OIDs: objects are named, ACLs are text holding role names.
my $snapshot_sql = q{
WITH ext AS (
    SELECT e.oid, e.extversion, e.extrelocatable, e.extnamespace
      FROM pg_extension e WHERE e.extname = 'pg_background'),
members AS (
    SELECT d.classid, d.objid
      FROM pg_depend d JOIN ext ON d.refobjid = ext.oid
     WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
       -- not the row type of our table (or a view), nor its array type:
       -- members from PostgreSQL 18 on, where the helpers of 1.3 to 1.9
       -- took it for one of our types (the update to 1.10 takes their
       -- grants back, but not their revoking PUBLIC's USAGE)
       AND NOT (d.classid = 'pg_type'::regclass AND
                EXISTS (SELECT FROM pg_type t JOIN pg_class c ON c.oid = t.typrelid
                         WHERE c.relkind <> 'c'
                           AND (t.oid = d.objid OR t.typarray = d.objid)))),
funcs AS (
    SELECT p.oid AS poid, p.*
      FROM pg_proc p
      JOIN members m ON m.classid = 'pg_proc'::regclass AND m.objid = p.oid),
types AS (
    SELECT t.oid AS toid, t.*
      FROM pg_type t
      JOIN members m ON m.classid = 'pg_type'::regclass AND m.objid = t.oid),
nsp AS (
    SELECT n.* FROM pg_namespace n JOIN ext ON n.oid = ext.extnamespace),
role AS (
    SELECT * FROM pg_roles WHERE rolname = 'pgbackground_role'),
items(item) AS (
    SELECT format('extension version=%s relocatable=%s schema=%s',
                  extversion, extrelocatable, extnamespace::regnamespace)
      FROM ext
    UNION ALL
    SELECT 'member ' || pg_describe_object(classid, objid, 0) FROM members
    UNION ALL
    SELECT format('function %s.%s(%s) args=[%s] returns=%s kind=%s retset=%s '
                  'strict=%s volatile=%s parallel=%s secdef=%s leakproof=%s '
                  'cost=%s rows=%s config=%s lang=%s owner=%s src=%s bin=%s acl=%s',
                  f.pronamespace::regnamespace, f.proname,
                  pg_get_function_identity_arguments(f.poid),
                  pg_get_function_arguments(f.poid), pg_get_function_result(f.poid),
                  f.prokind, f.proretset, f.proisstrict, f.provolatile, f.proparallel,
                  f.prosecdef, f.proleakproof, f.procost, f.prorows, f.proconfig,
                  l.lanname, pg_get_userbyid(f.proowner), md5(f.prosrc), f.probin,
                  f.proacl)
      FROM funcs f JOIN pg_language l ON l.oid = f.prolang
    UNION ALL
    SELECT format('type %s.%s kind=%s owner=%s acl=%s columns=[%s]',
                  t.typnamespace::regnamespace, t.typname, t.typtype,
                  pg_get_userbyid(t.typowner), t.typacl,
                  (SELECT string_agg(a.attname || ' ' || format_type(a.atttypid, a.atttypmod),
                                     ', ' ORDER BY a.attnum)
                     FROM pg_attribute a
                    WHERE a.attrelid = t.typrelid AND a.attnum > 0
                      AND NOT a.attisdropped))
      FROM types t
    UNION ALL
    SELECT format('comment on %s: %s',
                  pg_describe_object(m.classid, m.objid, 0), ds.description)
      FROM members m
      JOIN pg_description ds ON ds.classoid = m.classid AND ds.objoid = m.objid
    UNION ALL
    SELECT format('schema %s owner=%s acl=%s', n.nspname,
                  pg_get_userbyid(n.nspowner), n.nspacl)
      FROM nsp n
    UNION ALL
    SELECT format('initial privileges of %s: %s %s',
                  pg_describe_object(ip.classoid, ip.objoid, ip.objsubid),
                  ip.privtype, ip.initprivs)
      FROM pg_init_privs ip
      JOIN members m ON m.classid = ip.classoid AND m.objid = ip.objoid
    UNION ALL
    SELECT format('initial privileges of schema %s: %s %s',
                  n.nspname, ip.privtype, ip.initprivs)
      FROM nsp n
      JOIN pg_init_privs ip ON ip.classoid = 'pg_namespace'::regclass
                           AND ip.objoid = n.oid
    UNION ALL
    SELECT format('role %s login=%s super=%s inherit=%s createrole=%s '
                  'createdb=%s replication=%s bypassrls=%s connlimit=%s',
                  rolname, rolcanlogin, rolsuper, rolinherit, rolcreaterole,
                  rolcreatedb, rolreplication, rolbypassrls, rolconnlimit)
      FROM role
    UNION ALL
    SELECT format('pgbackground_role EXECUTE on %s(%s): %s',
                  f.proname, pg_get_function_identity_arguments(f.poid),
                  has_function_privilege('pgbackground_role', f.poid, 'EXECUTE'))
      FROM funcs f, role
    UNION ALL
    SELECT format('pgbackground_role USAGE on type %s: %s',
                  t.typname, has_type_privilege('pgbackground_role', t.toid, 'USAGE'))
      FROM types t, role
    UNION ALL
    SELECT format('pgbackground_role USAGE on schema %s: %s',
                  n.nspname, has_schema_privilege('pgbackground_role', n.oid, 'USAGE'))
      FROM nsp n, role
    UNION ALL
    SELECT format('PUBLIC has %s on function %s', a.privilege_type, f.proname)
      FROM funcs f, aclexplode(coalesce(f.proacl, acldefault('f', f.proowner))) a
     WHERE a.grantee = 0
    UNION ALL
    SELECT format('PUBLIC has %s on type %s', a.privilege_type, t.typname)
      FROM types t, aclexplode(coalesce(t.typacl, acldefault('T', t.typowner))) a
     WHERE a.grantee = 0
    UNION ALL
    -- relations (1.10: views): ACL, definition, what the role may do
    SELECT format('relation %s.%s kind=%s owner=%s acl=%s definition=%s',
                  c.relnamespace::regnamespace, c.relname, c.relkind,
                  pg_get_userbyid(c.relowner), c.relacl,
                  md5(coalesce(pg_get_viewdef(c.oid), '')))
      FROM pg_class c
      JOIN members m ON m.classid = 'pg_class'::regclass AND m.objid = c.oid
    UNION ALL
    SELECT format('pgbackground_role SELECT on %s: %s', c.relname,
                  has_table_privilege('pgbackground_role', c.oid, 'SELECT'))
      FROM pg_class c
      JOIN members m ON m.classid = 'pg_class'::regclass AND m.objid = c.oid, role
    UNION ALL
    SELECT format('PUBLIC has %s on relation %s', a.privilege_type, c.relname)
      FROM pg_class c
      JOIN members m ON m.classid = 'pg_class'::regclass AND m.objid = c.oid,
           aclexplode(coalesce(c.relacl, acldefault('r', c.relowner))) a
     WHERE a.grantee = 0
    UNION ALL
    -- a role's privileges on a relation's row type (granted on PostgreSQL
    -- 18 by the helpers of 1.3 to 1.9; the update to 1.10 revokes them)
    SELECT format('%s has %s on the row type of relation %s',
                  a.grantee::regrole, a.privilege_type, c.relname)
      FROM pg_class c
      JOIN members m ON m.classid = 'pg_class'::regclass AND m.objid = c.oid
      JOIN pg_type t ON t.oid = c.reltype,
           aclexplode(t.typacl) a
     WHERE a.grantee <> 0 AND a.grantee <> t.typowner)
SELECT item FROM items ORDER BY item COLLATE "C";
};

# What the grant helper recorded (the table exists from 1.3 on), and the
# configuration tables pg_dump dumps.
my $recorded_sql = q{
SELECT 'recorded grant: ' || g.grantee || ' ' || g.privilege || ' on '
       || g.object_kind || ' ' || g.object_name
  FROM pg_background_helper_grants g
UNION ALL
SELECT format('config table %s %s', c.relname, x.cond)
  FROM pg_extension e, unnest(e.extconfig, e.extcondition) AS x(tbl, cond)
  JOIN pg_class c ON c.oid = x.tbl
 WHERE e.extname = 'pg_background'
};

# The facts of the extension installed in $db, as a list of lines.
sub snapshot
{
	my ($db) = @_;
	my @facts = split /\n/, $node->safe_psql($db, $snapshot_sql);
	my $table = $node->safe_psql(
		$db, q{
SELECT n.nspname FROM pg_extension e
  JOIN pg_namespace n ON n.oid = e.extnamespace
 WHERE e.extname = 'pg_background'
   AND EXISTS (SELECT 1 FROM pg_class c
                WHERE c.relnamespace = n.oid
                  AND c.relname = 'pg_background_helper_grants')});
	if ($table ne '')
	{
		push @facts, split /\n/,
		  $node->safe_psql($db, qq{SET search_path = "$table"; $recorded_sql});
	}
	return @facts;
}

# What one list has that the other lacks (as multisets), as text; empty when
# they are equal.
sub diff_lines
{
	my ($got, $want, $got_label, $want_label) = @_;
	my (%g, %w);
	$g{$_}++ for @$got;
	$w{$_}++ for @$want;
	my @out;
	for my $l (sort keys %w)
	{
		my $n = $w{$l} - ($g{$l} // 0);
		push @out, "only in $want_label: $l" for 1 .. $n;
	}
	for my $l (sort keys %g)
	{
		my $n = $g{$l} - ($w{$l} // 0);
		push @out, "only in $got_label: $l" for 1 .. $n;
	}
	return join("\n", @out);
}

# Two assertions: nothing differs, and there was something to compare.
sub same_catalog
{
	my ($got, $want, $got_label, $want_label) = @_;
	local $Test::Builder::Level = $Test::Builder::Level + 1;
	is(diff_lines($got, $want, $got_label, $want_label),
		'', "$got_label: same catalog and privileges as $want_label");
	my $functions = grep { /^function / } @$got;
	my $grants = grep { /^pgbackground_role .*: t$/ } @$got;
	ok($functions >= 3 && @$got >= 3 * $functions,
		"$got_label: compared "
		  . scalar(@$got)
		  . " facts ($functions functions, $grants grants to pgbackground_role)");
}

my $dbno = 0;

# A new database; returns its name.
sub new_db
{
	my ($label) = @_;
	(my $name = "db_$label") =~ s/[^a-zA-Z0-9_]/_/g;
	$name .= '_' . ++$dbno;
	$node->safe_psql('postgres', qq{CREATE DATABASE "$name"});
	return $name;
}

# Versions in update order (1.2 < 1.10).
sub vcmp
{
	my ($x, $y) = @_;
	my @x = split /\./, $x;
	my @y = split /\./, $y;
	while (@x || @y)
	{
		my $c = (shift(@x) // 0) <=> (shift(@y) // 0);
		return $c if $c;
	}
	return 0;
}

my $default = $node->safe_psql('postgres',
	q{SELECT default_version FROM pg_available_extensions WHERE name = 'pg_background'});
is($default, '1.10', 'the default version is 1.10');

my @versions = sort { vcmp($a, $b) } split /\n/,
  $node->safe_psql('postgres',
	q{SELECT version FROM pg_available_extension_versions WHERE name = 'pg_background'});
is(join(' ', @versions), '1.0 1.1 1.2 1.3 1.4 1.5 1.6 1.7 1.8 1.9 1.10',
	'installable versions');

# source => [targets] with an update path
my %paths;
for my $row (
	split /\n/,
	$node->safe_psql(
		'postgres',
		q{SELECT source || ' ' || target FROM pg_extension_update_paths('pg_background')
		   WHERE path IS NOT NULL}))
{
	my ($s, $t) = split / /, $row;
	push @{ $paths{$s} }, $t if vcmp($s, $t) < 0;
}
my @older = grep { vcmp($_, $default) < 0 } @versions;
for my $v (@older)
{
	ok((grep { $_ eq $default } @{ $paths{$v} // [] }),
		"$v has an update path to $default");
}

# Fresh installations: the references.
my %fresh;
for my $w (@versions)
{
	my $db = new_db("fresh_$w");
	$node->safe_psql($db, "CREATE EXTENSION pg_background VERSION '$w'");
	$fresh{$w} = [ snapshot($db) ];
	is((grep { $_ eq "extension version=$w relocatable=t schema=public" }
		  @{ $fresh{$w} }),
		1, "fresh $w installed");
}

# the comparisons include what the grant helper recorded: not vacuous
cmp_ok(
	scalar(grep { /^recorded grant: pgbackground_role / } @{ $fresh{$default} }),
	'>=', 15, "fresh $default records what it granted pgbackground_role");

# --------------------------------------------------------------------------
# 1. every older version, then a plain ALTER EXTENSION ... UPDATE
# --------------------------------------------------------------------------
for my $v (@older)
{
	my $db = new_db("v$v");
	my $version = $node->safe_psql(
		$db, qq{
CREATE EXTENSION pg_background VERSION '$v';
ALTER EXTENSION pg_background UPDATE;
SELECT extversion FROM pg_extension WHERE extname = 'pg_background';
});
	is($version, $default, "$v updated with ALTER EXTENSION UPDATE is at $default");
	same_catalog([ snapshot($db) ], $fresh{$default},
		"$v -> $default (UPDATE)", "fresh $default");
}

# --------------------------------------------------------------------------
# 2. every pair V < W with an update path
# --------------------------------------------------------------------------
my $pairs = 0;
for my $v (@versions)
{
	for my $w (sort { vcmp($a, $b) } @{ $paths{$v} // [] })
	{
		my $db = new_db("v${v}_to_$w");
		$node->safe_psql(
			$db, qq{
CREATE EXTENSION pg_background VERSION '$v';
ALTER EXTENSION pg_background UPDATE TO '$w';
});
		same_catalog([ snapshot($db) ], $fresh{$w}, "$v -> $w", "fresh $w");
		$pairs++;
	}
}
cmp_ok($pairs, '>=', scalar(@older), "compared $pairs update paths");

# --------------------------------------------------------------------------
# 3. in schema app (no USAGE for PUBLIC there): 1.6 + UPDATE = fresh default
# --------------------------------------------------------------------------
{
	my $fresh_db = new_db('app_fresh');
	$node->safe_psql($fresh_db,
		'CREATE SCHEMA app; CREATE EXTENSION pg_background SCHEMA app');
	my @fresh_app = snapshot($fresh_db);

	my $db = new_db('app_from_1_6');
	$node->safe_psql(
		$db, q{
CREATE SCHEMA app;
CREATE EXTENSION pg_background SCHEMA app VERSION '1.6';
ALTER EXTENSION pg_background UPDATE;
});
	my @app = snapshot($db);
	same_catalog(\@app, \@fresh_app, "1.6 -> $default in schema app",
		"fresh $default in schema app");

	is((grep { $_ eq "extension version=$default relocatable=t schema=app" } @app),
		1, 'the extension is in schema app');
	is((grep { $_ eq 'pgbackground_role USAGE on schema app: t' } @app),
		1, 'pgbackground_role may use schema app');
	is(join("\n", grep { /\bpublic\b/ } @app),
		'', 'no catalog fact about the extension in app mentions public');
	is( $node->safe_psql(
			$db, q{
SELECT count(*) FROM pg_depend d JOIN pg_extension e ON e.oid = d.refobjid
 WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
   AND d.classid = 'pg_proc'::regclass
   AND pg_get_functiondef(d.objid) ~* '\mpublic\M'}),
		'0',
		'no function definition mentions public');
	is( $node->safe_psql(
			$db,
			q{SELECT count(*) FROM pg_proc WHERE pronamespace = 'public'::regnamespace}),
		'0',
		'nothing was created in public');

	# the updated installation works there, for a member of the role that
	# does not have app in its search_path
	$node->safe_psql(
		$db, q{
CREATE ROLE regress_pgbg_chain_member LOGIN;
GRANT pgbackground_role TO regress_pgbg_chain_member;
});
	my ($ret, $out, $err) = $node->psql(
		$db, q{
SET search_path = public;
SELECT x FROM app.pg_background_result(app.pg_background_launch('SELECT 42', 0)) AS (x int);
SELECT workers_completed FROM app.pg_background_stats_v2();
},
		extra_params => [ '-U', 'regress_pgbg_chain_member' ]);
	is($ret, 0, 'a member uses the updated extension in app') or diag $err;
	is($out, "42\n1", 'its worker ran and was counted');
}

# --------------------------------------------------------------------------
# 4. control: the comparison does see a changed privilege
# --------------------------------------------------------------------------
{
	my $db = new_db('control');
	$node->safe_psql(
		$db, q{
CREATE EXTENSION pg_background;
GRANT EXECUTE ON FUNCTION pg_background_list_v2() TO PUBLIC;
});
	my $diff = diff_lines([ snapshot($db) ], $fresh{$default},
		'control', "fresh $default");
	like(
		$diff,
		qr/^only in control: PUBLIC has EXECUTE on function pg_background_list_v2$/m,
		'control: a grant to PUBLIC shows in the comparison');
}

# --------------------------------------------------------------------------
# 5. what the grant helper records survives pg_dump + restore, and after an
#    update the revoke helper takes back only that (issue 8, item 6): a role's
#    own, earlier USAGE on the extension's schema stays
# --------------------------------------------------------------------------
{
	my $db = new_db('dump_source');
	$node->safe_psql(
		$db, q{
CREATE ROLE regress_pgbg_dump_alice;
CREATE ROLE regress_pgbg_dump_bob;
CREATE SCHEMA app;
CREATE EXTENSION pg_background SCHEMA app VERSION '1.6';
ALTER EXTENSION pg_background UPDATE;
-- (granted after the update: a grant made before it would be part of the
-- schema's initial privileges, which pg_dump does not dump)
GRANT USAGE ON SCHEMA app TO regress_pgbg_dump_alice;
SELECT app.grant_pg_background_privileges('regress_pgbg_dump_alice');
SELECT app.grant_pg_background_privileges('regress_pgbg_dump_bob');
});
	my $recorded = q{
SELECT grantee || ' ' || count(*) || ' ' || count(*) FILTER (WHERE object_kind = 'SCHEMA')
  FROM app.pg_background_helper_grants GROUP BY grantee ORDER BY 1};
	my $before = $node->safe_psql($db, $recorded);
	is( $before,
		"pgbackground_role 40 1
regress_pgbg_dump_alice 39 0
regress_pgbg_dump_bob 40 1",
		'recorded: everything for bob and the executor role, all but the schema for alice');

	my $dump = $node->basedir . '/helper_grants_dump.sql';
	$node->command_ok([ 'pg_dump', '-d', $node->connstr($db), '-f', $dump ],
		'pg_dump of an installation with recorded grants');
	my $restored = new_db('dump_restored');
	$node->command_ok(
		[
			'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1',
			'-d', $node->connstr($restored), '-f', $dump
		],
		'restored without error (no duplicate rows for the executor role)');
	is($node->safe_psql($restored, $recorded), $before, 'the record is the same after the restore');

	for my $d ($db, $restored)
	{
		is( $node->safe_psql(
				$d, q{
SELECT app.revoke_pg_background_privileges('regress_pgbg_dump_alice')
   AND app.revoke_pg_background_privileges('regress_pgbg_dump_bob');
SELECT has_schema_privilege('regress_pgbg_dump_alice', 'app', 'USAGE'),
       has_schema_privilege('regress_pgbg_dump_bob', 'app', 'USAGE'),
       has_function_privilege('regress_pgbg_dump_alice', 'app.pg_background_launch_v2(text, int4)', 'EXECUTE'),
       has_function_privilege('regress_pgbg_dump_bob', 'app.pg_background_launch_v2(text, int4)', 'EXECUTE');
}),
			"t
t|f|f|f",
			"$d: revoke leaves alice her own USAGE on app and takes the rest back");
	}
}

PgBgTest::assert_no_restart($node);
$node->stop;
done_testing();
