
# Copyright (c) 2026, pg_background contributors

=pod

=head1 NAME

PgBgTest - shared helpers for the pg_background TAP tests

=head1 SYNOPSIS

  use lib 't';
  use PgBgTest;

  my $node = PgBgTest::new_node('main', max_worker_processes => 4);
  my $s = PgBgTest::session($node);            # background psql, errors don't stop it
  my ($out, $err) = PgBgTest::query($s, 'SELECT 1');
  is(PgBgTest::sqlstate($err), undef);
  PgBgTest::wait_for_no_workers($node);
  PgBgTest::assert_no_restart($node);

=head1 DESCRIPTION

Every node made here:

=over

=item * has a predictable number of background worker slots: parallel query and
logical replication are off, so all of max_worker_processes is for pg_background
(in PostgreSQL 15 the autovacuum launcher is not a background worker, and the
logical replication launcher is only registered when max_logical_replication_workers
is not 0);

=item * logs with the process type in the line prefix;

=item * has the extension created in database C<postgres>;

=item * remembers the checkpointer's backend_start, so assert_no_restart can tell
whether the postmaster went through a crash-restart cycle (which restarts the
checkpointer but not the postmaster, so pg_postmaster_start_time() would not
show it).

=back

Nothing here sleeps to wait for a condition: waits are poll loops on the
condition itself (pg_stat_activity, /proc), bounded by timeout_default.

=cut

package PgBgTest;

use strict;
use warnings FATAL => 'all';

use Carp;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);

# node name => checkpointer backend_start recorded at creation (or at the
# last rebaseline())
my %checkpointer_start;

# node name => offset in the server log from which assert_no_restart looks
# (0 unless rebaseline() was called after an intended restart)
my %log_offset;

# The message of a worker terminated by pg_terminate_backend(): PostgreSQL
# 14 and later name the background worker, 13 says "terminating
# connection".
our $TERMINATED_RE =
  qr/terminating (?:background worker "pg_background"|connection) due to administrator command/;

# Lines that only appear when a child crashed and the postmaster
# reinitialized shared memory (or would have).
our $CRASH_RE = qr/terminating any other active server processes
	|was\ terminated\ by\ signal
	|all\ server\ processes\ terminated;\ reinitializing
	|database\ system\ was\ interrupted
	|PANIC:
	|TRAP:
	|exited\ with\ exit\ code\ [2-9]/x;

=pod

=head1 FUNCTIONS

=over

=item new_node($name, %opts)

Create, start and return a node with the extension.  Options:
C<max_worker_processes> (default 8), C<dsm_type> (dynamic_shared_memory_type;
C<mmap> puts every DSM segment in $PGDATA/pg_dynshmem, so dsm_count() can
count this node's segments even when other clusters run at the same time),
C<conf> (extra postgresql.conf text), C<init> (a hash of arguments for
PostgreSQL::Test::Cluster::init, e.g. C<< { allows_streaming => 1 } >>).

=cut

sub new_node
{
	my ($name, %opts) = @_;
	my $mwp = $opts{max_worker_processes} // 8;

	my $node = PostgreSQL::Test::Cluster->new($name);
	$node->init(%{ $opts{init} // {} });
	$node->append_conf(
		'postgresql.conf', qq{
max_worker_processes = $mwp
max_parallel_workers = 0
max_parallel_workers_per_gather = 0
max_parallel_maintenance_workers = 0
max_logical_replication_workers = 0
max_sync_workers_per_subscription = 0
restart_after_crash = on
log_line_prefix = '%m [%p] %b '
log_min_messages = warning
log_error_verbosity = default
});
	$node->append_conf('postgresql.conf',
		"dynamic_shared_memory_type = $opts{dsm_type}\n")
	  if defined $opts{dsm_type};
	# scripts/run-tests.sh: PGBG_EXTRA_CONF runs every suite with, say, the
	# warm worker pool on
	$node->append_conf('postgresql.conf', "$ENV{PGBG_EXTRA_CONF}\n")
	  if $ENV{PGBG_EXTRA_CONF};
	$node->append_conf('postgresql.conf', $opts{conf})
	  if defined $opts{conf};
	$node->start;
	$node->safe_psql('postgres', 'CREATE EXTENSION pg_background');

	my $start = checkpointer_start($node);
	croak "no checkpointer in pg_stat_activity" if $start eq '';
	$checkpointer_start{ $node->name } = $start;
	return $node;
}

=pod

=item checkpointer_start($node)

The checkpointer's backend_start (text, empty if none).

=cut

sub checkpointer_start
{
	my ($node) = @_;
	return $node->safe_psql('postgres',
		"SELECT backend_start FROM pg_stat_activity WHERE backend_type = 'checkpointer'"
	);
}

=pod

=item assert_no_restart($node, $label)

Three assertions: the checkpointer's backend_start is the one recorded when
the node was made; the server log has no line of a crash or of a
crash-restart cycle; and it has no leak warning (DSM segment, resource owner,
temporary file) either.

=cut

sub assert_no_restart
{
	my ($node, $label) = @_;
	local $Test::Builder::Level = $Test::Builder::Level + 1;
	$label //= 'end';

	is(checkpointer_start($node),
		$checkpointer_start{ $node->name },
		"$label: checkpointer not restarted (no crash-restart cycle)");

	my @lines = split /\n/, log_since($node, $log_offset{ $node->name } // 0);
	my @bad = grep { /$CRASH_RE/ } @lines;
	ok(!@bad, "$label: server log has no crash or reinitialization lines")
	  or diag join("\n", @bad);

	# resource owner / DSM / temporary file leak warnings at transaction or
	# process end
	my @leaks = grep { /WARNING:.*(?:leak|not closed|still referenced)/i } @lines;
	ok(!@leaks, "$label: server log has no leak warnings")
	  or diag join("\n", @leaks);
}

=pod

=item rebaseline($node)

After an intended stop and start of $node: record the new checkpointer's
backend_start and the current end of the server log, so that a later
assert_no_restart() checks only what happened from now on.

=cut

sub rebaseline
{
	my ($node) = @_;
	my $start = checkpointer_start($node);
	croak "no checkpointer in pg_stat_activity" if $start eq '';
	$checkpointer_start{ $node->name } = $start;
	$log_offset{ $node->name } = log_position($node);
	return;
}

=pod

=item log_position($node), log_since($node, $offset [, $end])

The current size of the server log, and its text from byte $offset (up to
$end, if given).

=cut

sub log_position
{
	my ($node) = @_;
	return -s $node->logfile // 0;
}

sub log_since
{
	my ($node, $offset, $end) = @_;
	my $text = slurp_file($node->logfile);
	$end //= length $text;
	return '' if $offset >= $end;
	return substr($text, $offset, $end - $offset);
}

=pod

=item crash_lines($text)

The lines of server log text that tell of a crash or a crash-restart cycle.

=cut

sub crash_lines
{
	my ($text) = @_;
	return grep { /$CRASH_RE/ } split /\n/, $text;
}

=pod

=item wait_for_no_workers($node)

Wait until no pg_background worker is left: none in pg_stat_activity, and the
postmaster has reaped every exited child (none of its children is a zombie or
still titled as a pg_background worker).  The second part matters because a
worker's pg_stat_activity row goes away a little before the postmaster frees
its background worker slot, which it does when it reaps the process.
Returns true on success (one assertion).

=cut

sub wait_for_no_workers
{
	my ($node, $label) = @_;
	local $Test::Builder::Level = $Test::Builder::Level + 1;
	$label //= 'no pg_background worker left';

	my $ok = $node->poll_query_until('postgres',
		"SELECT count(*) = 0 FROM pg_stat_activity WHERE backend_type = 'pg_background'"
	);
	$ok &&= wait_until(sub { postmaster_has_no_worker_children($node) });
	return ok($ok, $label);
}

=pod

=item wait_until($coderef)

Poll $coderef every 50 ms until it returns true or timeout_default passes.
Returns whether it became true.

=cut

sub wait_until
{
	my ($cond) = @_;
	my $tries = 20 * $PostgreSQL::Test::Utils::timeout_default;
	for (1 .. $tries)
	{
		return 1 if $cond->();
		usleep(50_000);
	}
	return 0;
}

# True when no child of the postmaster is a zombie (exited, not yet reaped) or
# a pg_background worker.
sub postmaster_has_no_worker_children
{
	my ($node) = @_;
	my $pm = $node->{_pid};
	croak "node has no postmaster pid" unless $pm;

	opendir(my $dh, '/proc') or croak "cannot read /proc: $!";
	my @pids = grep { /^\d+$/ } readdir $dh;
	closedir $dh;
	foreach my $pid (@pids)
	{
		open(my $fh, '<', "/proc/$pid/stat") or next;
		my $stat = <$fh>;
		close $fh;
		next unless defined $stat;
		# pid (comm) state ppid ...; comm may hold spaces and parentheses
		next unless $stat =~ /\)\s+(\S)\s+(\d+)/;
		my ($state, $ppid) = ($1, $2);
		next unless $ppid == $pm;
		return 0 if $state eq 'Z';
		if (open(my $ch, '<', "/proc/$pid/cmdline"))
		{
			local $/;
			my $cmd = <$ch> // '';
			close $ch;
			return 0 if $cmd =~ /pg_background/;
		}
	}
	return 1;
}

=pod

=item session($node [, timeout => $seconds] [, user => $role])

A background psql session on database postgres that keeps going after
errors, with VERBOSITY verbose so every error carries its SQLSTATE.  Each
query may take up to timeout_default seconds, or $seconds if given.  It logs
in as the OS user's role, or as $role if given.

=cut

sub session
{
	my ($node, %opts) = @_;
	my $s = $node->background_psql(
		'postgres',
		on_error_stop => 0,
		(defined $opts{timeout} ? (timeout => $opts{timeout}) : ()),
		extra_params => [
			'-v', 'VERBOSITY=verbose',
			(defined $opts{user} ? ('-U', $opts{user}) : ())
		]);
	# the timeout applies to each query, not to the whole session
	$s->set_query_timer_restart();
	return $s;
}

=pod

=item query($session, $sql)

Run $sql in the session and wait for it; returns (stdout, stderr) of just
this query (BackgroundPsql itself keeps stderr across queries).

=cut

sub query
{
	my ($s, $sql) = @_;
	# send_query() + finish_query(), not BackgroundPsql::query(): the copy
	# that PostgreSQL 13 installs waits for stdout only (stderr may arrive
	# later) and leaves its separator in an empty result.
	send_query($s, $sql);
	return finish_query($s);
}

=pod

=item query_ok($session, $sql)

Run $sql and die (with its stderr) if it wrote anything to stderr; returns
stdout.

=cut

sub query_ok
{
	my ($s, $sql) = @_;
	my ($out, $err) = query($s, $sql);
	croak "query failed: $sql\n$err" if $err ne '';
	return $out;
}

=pod

=item send_query($session, $sql)

Send $sql to the session without waiting for it to finish (for a query that
is expected to block).  Collect its outcome later with finish_query() or, if
the session's backend gets terminated, close_session().

=cut

sub send_query
{
	my ($s, $sql) = @_;
	$s->{stderr} = '';
	$s->{stdout} = '';
	$s->{pgbg_pending} = $s->{query_cnt}++;
	$s->{timeout}->start();
	my $banner = "pgbg_done $s->{pgbg_pending}";
	$s->{stdin} .= "$sql\n;\n\\echo '$banner'\n\\warn '$banner'\n";
	$s->{run}->pump_nb();
	return;
}

=pod

=item finish_query($session)

Wait for the query sent with send_query() to finish; returns (stdout,
stderr).

=cut

sub finish_query
{
	my ($s) = @_;
	my $banner = "pgbg_done $s->{pgbg_pending}";
	my $re = qr/\Q$banner\E\r?\n/;
	$s->{run}->pump()
	  until ($s->{stdout} =~ $re && $s->{stderr} =~ $re)
	  || $s->{timeout}->is_expired;
	croak "psql query timed out" if $s->{timeout}->is_expired;
	my ($out, $err) = ($s->{stdout}, $s->{stderr});
	s/\r?\n?\Q$banner\E\r?\n// for ($out, $err);
	$s->{stdout} = '';
	$s->{stderr} = '';
	return ($out, $err);
}

=pod

=item close_session($session)

End a session whose psql may already have exited (its backend terminated):
returns everything it wrote to stderr since the last query.

=cut

sub close_session
{
	my ($s) = @_;
	eval { $s->{run}->pump_nb(); };
	if ($s->{run}->pumpable())
	{
		$s->{stdin} .= "\\q\n";
	}
	eval { $s->{run}->finish; };
	return $s->{stderr};
}

=pod

=item sqlstate($stderr), severity($stderr)

The SQLSTATE (or severity) of the first ERROR/FATAL/PANIC in psql's stderr
with VERBOSITY verbose (C<ERROR:  42704: message>); undef if none.

=cut

sub sqlstate
{
	my ($err) = @_;
	return undef unless defined $err;
	return $err =~ /\b(?:ERROR|FATAL|PANIC):\s+([0-9A-Z]{5}):/ ? $1 : undef;
}

sub severity
{
	my ($err) = @_;
	return undef unless defined $err;
	return $err =~ /\b(ERROR|FATAL|PANIC):\s+[0-9A-Z]{5}:/ ? $1 : undef;
}

=pod

=item sqlstate_of($session, $sql)

Run $sql in the session: its outcome as 'ok' (nothing on stderr), the
SQLSTATE of its error, or "other: <stderr>" when stderr has no SQLSTATE.  In
list context also returns stdout.

=cut

sub sqlstate_of
{
	my ($s, $sql) = @_;
	my ($out, $err) = query($s, $sql);
	my $st = sqlstate($err) // ($err eq '' ? 'ok' : "other: $err");
	return wantarray ? ($st, $out) : $st;
}

=pod

=item poll($node, $sql, $what)

One assertion: $sql (a query returning a boolean) becomes true on $node
within timeout_default.  Returns whether it did.

=cut

sub poll
{
	my ($node, $sql, $what) = @_;
	local $Test::Builder::Level = $Test::Builder::Level + 1;
	return ok($node->poll_query_until('postgres', $sql), $what);
}

=pod

=item worker_waits($pid, @events)

SQL that is true when backend $pid waits on one of the wait events @events.

=cut

sub worker_waits
{
	my ($pid, @events) = @_;
	my $in = join(', ', map { "'$_'" } @events);
	return qq{SELECT count(*) = 1 FROM pg_stat_activity
	          WHERE pid = $pid AND wait_event IN ($in)};
}

=pod

=item assert_worker_error($label, $err, $wpid, \@states [, one_context => 1])

Four assertions on psql's stderr (VERBOSITY verbose) after a read of worker
$wpid's result failed: an ERROR, nothing FATAL, its SQLSTATE one of @states,
and the worker named: in a CONTEXT line that is the only one (one_context),
or anywhere in the error.

=cut

sub assert_worker_error
{
	my ($label, $err, $wpid, $states, %opts) = @_;
	local $Test::Builder::Level = $Test::Builder::Level + 1;
	my $st = sqlstate($err) // 'none';
	is(severity($err), 'ERROR', "$label: the caller gets an ERROR")
	  or diag $err;
	unlike($err, qr/FATAL/, "$label: nothing FATAL reaches the caller");
	ok((grep { $_ eq $st } @$states), "$label: SQLSTATE $st is one of @$states")
	  or diag $err;
	if ($opts{one_context})
	{
		my @ctx = ($err =~ /^CONTEXT:\s+(.*)$/mg);
		is_deeply(\@ctx, ["pg_background worker with PID $wpid"],
			"$label: one context line naming the worker");
	}
	else
	{
		like($err, qr/pg_background worker with PID $wpid/,
			"$label: the error names the worker");
	}
	return;
}

=pod

=item assert_53000($err, $label)

Three assertions on the stderr of a launch that found no free worker slot:
SQLSTATE 53000, the message says it could not register a background process,
the hint names max_worker_processes.

=cut

sub assert_53000
{
	my ($err, $label) = @_;
	local $Test::Builder::Level = $Test::Builder::Level + 1;
	is(sqlstate($err), '53000', "$label: SQLSTATE 53000") or diag $err;
	like($err, qr/ERROR:.*could not register background process/,
		"$label: says it could not register a background process");
	like($err, qr/^HINT:.*max_worker_processes/m,
		"$label: hint names max_worker_processes");
	return;
}

=pod

=item psql_err($node, $sql)

One-shot psql with VERBOSITY verbose; returns (exit code, stdout, stderr).

=cut

sub psql_err
{
	my ($node, $sql) = @_;
	my ($out, $err);
	my $rc = $node->psql(
		'postgres', $sql,
		stdout => \$out,
		stderr => \$err,
		extra_params => [ '-v', 'VERBOSITY=verbose' ]);
	return ($rc, $out, $err);
}

=pod

=item worker_count($node, $where)

Number of pg_background workers in pg_stat_activity (optionally with an
extra condition on its columns).

=cut

sub worker_count
{
	my ($node, $where) = @_;
	$where = defined $where ? "AND ($where)" : '';
	return $node->safe_psql('postgres',
		"SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'pg_background' $where"
	);
}

=pod

=item dsm_count($node)

Number of DSM segments of a node made with dsm_type => 'mmap' (files in
$PGDATA/pg_dynshmem, including the control segment).

=cut

sub dsm_count
{
	my ($node) = @_;
	my $dir = $node->data_dir . '/pg_dynshmem';
	opendir(my $dh, $dir) or croak "cannot read $dir: $!";
	my @f = grep { /^mmap\./ } readdir $dh;
	closedir $dh;
	return scalar @f;
}

=pod

=item terminate($node, $pid)

pg_terminate_backend($pid) from a fresh session, then wait until $pid is
gone from pg_stat_activity.  Returns whether it went away.

=cut

sub terminate
{
	my ($node, $pid) = @_;
	$node->safe_psql('postgres', "SELECT pg_terminate_backend($pid)");
	return $node->poll_query_until('postgres',
		"SELECT count(*) = 0 FROM pg_stat_activity WHERE pid = $pid");
}

=pod

=item launch_v2($session, $sql [, $queue_size])

pg_background_launch_v2($sql) in the session (die on error); returns (pid,
cookie).

=cut

sub launch_v2
{
	my ($s, $sql, $queue_size) = @_;
	$queue_size //= 65536;
	my $out = query_ok($s,
		"SELECT pid, cookie FROM pg_background_launch_v2(\$pgbg\$$sql\$pgbg\$, $queue_size)"
	);
	my ($pid, $cookie) = split /\|/, $out;
	croak "launch_v2 returned '$out'" unless defined $cookie;
	return ($pid, $cookie);
}

=pod

=item $LIST_COLS

The column definition list of pg_background_list_v2().

=cut

# SQL creating pgbg_gate(g, at): blocks once, at row number "at", until the
# control session releases advisory lock 42 (held until the worker's
# transaction ends).  Tests put it into their setup SQL.
our $GATE_FUNCTION = q{
CREATE FUNCTION pgbg_gate(g int, at int) RETURNS bool LANGUAGE plpgsql AS $$
BEGIN
  IF g = at THEN PERFORM pg_advisory_xact_lock_shared(42); END IF;
  RETURN true;
END $$;
};

# One launch/result cycle (loads the library, creates what a first launch
# creates), then wait until its worker is gone; returns the number of DSM
# segments at that point, the baseline for leak checks.
sub warm_up
{
	my ($node) = @_;
	local $Test::Builder::Level = $Test::Builder::Level + 1;
	is( $node->safe_psql(
			'postgres',
			q{SELECT * FROM pg_background_result(pg_background_launch('SELECT 1')) AS (x int)}
		),
		'1',
		'warm-up launch/result cycle');
	wait_for_no_workers($node, 'warm-up: no worker left');
	return dsm_count($node);
}

# The end of a fault test: no worker left (pg_stat_activity and the
# postmaster's children), DSM segments back to $dsm_baseline, no temporary
# file, all $slots worker slots usable at once, and no crash restart.
sub assert_nothing_leaked
{
	my ($node, $dsm_baseline, $slots, $label) = @_;
	local $Test::Builder::Level = $Test::Builder::Level + 1;
	$label //= 'end';

	wait_for_no_workers($node, "$label: no worker left");
	is(worker_count($node), '0', "$label: no pg_background row in pg_stat_activity");
	ok( wait_until(sub { dsm_count($node) == $dsm_baseline }),
		"$label: no DSM segment leaked (pg_dynshmem back to its baseline)")
	  or diag 'DSM segments: ' . dsm_count($node) . ", baseline $dsm_baseline";
	is($node->safe_psql('postgres', 'SELECT count(*) FROM pg_ls_tmpdir()'),
		'0', "$label: no temporary file left");
	assert_slots_usable($node, $slots, "$label: slots");
	assert_no_restart($node);
	return;
}

our $LIST_COLS =
  'AS (pid int4, cookie int8, launched_at timestamptz, user_id oid, queue_size int4, '
  . 'state text, sql_preview text, last_error text, consumed bool)';

# The end of a test's calling session: it tracks no handle and is still the
# backend $spid it was at the start (two assertions).
sub assert_caller_clean
{
	my ($s, $spid, $label) = @_;
	local $Test::Builder::Level = $Test::Builder::Level + 1;
	$label //= 'end';
	is(query_ok($s, "SELECT count(*) FROM pg_background_list_v2() $LIST_COLS"),
		'0', "$label: the caller tracks no handle");
	is(query_ok($s, 'SELECT pg_backend_pid()'),
		$spid, "$label: the caller is still the same backend");
	return;
}

=pod

=item assert_slots_usable($node, $n, $label)

Every one of the $n background worker slots can be used at once: from a new
session, launch $n workers that wait for an advisory lock held by another new
session, see all $n run at the same time, see one more launch fail with 53000,
then release them, read each result and wait until no worker is left.  Needs
nothing else using a slot, and pg_background.max_workers >= $n (the default
is 16).  Uses advisory lock key 774411.  Five assertions, each made whatever
the others gave (a launch that fails with 53000 because a slot leaked fails
the first); returns whether all of them passed.

=cut

sub assert_slots_usable
{
	my ($node, $n, $label) = @_;
	local $Test::Builder::Level = $Test::Builder::Level + 1;
	$label //= 'slots';
	my $key = 774411;
	my @failed_launch;

	my $ctl = session($node);
	my $s = session($node);
	query_ok($ctl, "SELECT pg_advisory_lock($key)");
	my @h;
	for my $i (1 .. $n)
	{
		my ($out, $err) = query($s,
			"SELECT pid, cookie FROM pg_background_launch_v2('SELECT true FROM pg_advisory_xact_lock_shared($key)')"
		);
		if ($err ne '')
		{
			@failed_launch = ($i, $err);
			last;
		}
		push @h, [ split /\|/, $out ];
	}
	# Every step is an assertion of its own, made whatever the steps before
	# it gave, so a leaked slot fails the test.
	my @ok;
	push @ok, ok(scalar(@h) == $n, "$label: $n workers launched at once");
	diag "$label: launch $failed_launch[0] of $n failed: $failed_launch[1]"
	  if @failed_launch;
	push @ok,
	  ok( $node->poll_query_until(
			'postgres',
			"SELECT count(*) = " . scalar(@h)
			  . " FROM pg_stat_activity WHERE backend_type = 'pg_background' AND wait_event = 'advisory'"
		),
		"$label: all of them run at the same time");
	my ($out, $err) = query($s, q{SELECT pg_background_launch_v2('SELECT 1')});
	push @ok, is(sqlstate($err), '53000', "$label: one more launch is 53000");
	query_ok($ctl, "SELECT pg_advisory_unlock($key)");
	my $read = 0;
	for my $h (@h)
	{
		my ($o, $e) = query($s,
			"SELECT count(*) FROM pg_background_result_v2($h->[0], $h->[1]) AS (x bool)"
		);
		$read++ if $e eq '' && $o eq '1';
	}
	push @ok, is($read, scalar(@h), "$label: every one of them finished");
	$s->quit;
	$ctl->quit;
	push @ok, wait_for_no_workers($node, "$label: no worker left afterwards");
	return !grep { !$_ } @ok;
}

=pod

=back

=cut

1;
