#!/usr/bin/env bash
# run-tests.sh -- build pg_background and run its tests against PostgreSQL 15.
#
# This is THE test command: README and CI (.ci/run) run exactly it. The whole suite
# takes a few minutes on two cores (5 minutes measured under a load average of 9).
#
#   bash scripts/run-tests.sh                 # everything: regress, isolation, tap, machine
#   bash scripts/run-tests.sh --suite tap     # one suite (repeatable, or comma-separated)
#   bash scripts/run-tests.sh --keep          # keep the scratch dir (logs, diffs, data dirs)
#   bash scripts/run-tests.sh --only upgrade,t/010_crash.pl
#                                             # only these tests (regress/isolation names,
#                                             # TAP files as t/NAME.pl or NAME)
#   make soak                                 # t/007_soak.pl with 10,000 cycles of each kind
#   make cookies                              # t/009_cookies.pl with 100,000 launches
#   bash scripts/run-tests.sh --pg 13         # against PostgreSQL 13 built from Debian's
#                                             # source package (scripts/build-server.sh;
#                                             # built on first use, then reused)
#
# What it does, on Debian 12 (as root, or as a user that owns the packages it needs):
#   1. installs missing Debian packages (root only; no apt-get when nothing is missing);
#   2. copies the source tree and the PostgreSQL installation into a scratch dir under
#      /tmp (owned by the `postgres` user, so it works from any checkout path), builds
#      the module there (-Werror comes from the Makefile) and installs it into that
#      private copy of the server only: the system's PostgreSQL, and any pg_background
#      installed in it, is not modified;
#   3. as `postgres`: initdb + start a throwaway cluster (port 54321, socket in the scratch
#      dir, no TCP), run REGRESS with pg_regress and ISOLATION with pg_isolation_regress
#      through PGXS `make installcheck`, stop that cluster; then run t/*.pl with prove the
#      way PGXS's prove_installcheck does (each TAP test makes its own clusters, on
#      private sockets);
#   4. suite machine: scripts/test-machine-untouched.sh makes sure a cluster runs on the
#      default port 5432 (one of its own, unless a Debian cluster is online there), runs
#      this script again on a subset, and checks that cluster kept its postmaster and
#      that no cluster, start.conf, unit or installed pg_background changed (skipped
#      when something else holds port 5432; with --only, only when `machine` is named);
#   5. prints per-suite counts and a last line `N passed, N failed`; exits non-zero on any
#      failure or when no test ran. Servers it started are stopped and the scratch dir is
#      removed on every exit path.
# It never stops, starts, reconfigures or disables a cluster it did not create (Debian's
# 15/main, say, and its start.conf): its servers use their own ports and sockets and run
# next to whatever runs here.
#
# Counting: pg_regress and isolation count one per test file (a file not reported "ok",
# including ones never reached because the driver died, is a failure); TAP counts one per
# assertion, and a test file that dies, exits non-zero, or misses its plan counts as at
# least one failure.
#
# Environment knobs (optional):
#   PGBG_TIMEOUT_REGRESS, PGBG_TIMEOUT_ISOLATION  seconds per suite (default 900 each)
#   PGBG_TIMEOUT_TAP        seconds for the whole TAP suite (default 3600)
#   PGBG_TIMEOUT_TAP_FILE   seconds per TAP file (default 1800)
#   PGBG_SOAK_CYCLES        cycles of each kind in t/007_soak.pl (default 2000;
#                           `make soak`: 10000)
#   PGBG_COOKIE_LAUNCHES    launches of t/009_cookies.pl (default 2000;
#                           `make cookies`: 100000)
#   PROVE_TESTS             TAP files to run instead of the Makefile's/t/*.pl
#   PROVE_FLAGS             extra flags for prove
#   PG_MAJOR                server major version to install and test (default 15)
#   PGBG_EXTRA_CONF         lines added to every test cluster's
#                           postgresql.conf (e.g. 'pg_background.pool_size = 4'
#                           runs those suites with the warm worker pool on)
#   PGBG_PG_CONFIG          pg_config of another PostgreSQL installation to build
#                           and test against (default: Debian's, from PG_MAJOR); it
#                           is copied like Debian's, never modified
#   PGBG_SANITIZE=asan      with PGBG_PG_CONFIG pointing at a server built with
#                           AddressSanitizer + UBSan (scripts/build-asan-server.sh):
#                           build the module the same way and fail the run on any
#                           sanitizer report in any log (`make sanitize`)
#   PGBG_SANITIZE=1         build the module with UBSan only (runtime linked in) for
#                           Debian's own server and fail the run on any "runtime
#                           error:" in a server log (`make sanitize-ubsan`)
set -uo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$SCRIPT_DIR/.." && pwd)
# shellcheck source=scripts/common.sh
. "$SCRIPT_DIR/common.sh"

REGRESS_PORT=54321
TAP_PGPORT=65432           # what prove_installcheck exports ('6$(DEF_PGPORT)')
T_REGRESS=${PGBG_TIMEOUT_REGRESS:-900}
T_ISOLATION=${PGBG_TIMEOUT_ISOLATION:-900}
T_TAP=${PGBG_TIMEOUT_TAP:-3600}
T_TAP_FILE=${PGBG_TIMEOUT_TAP_FILE:-1800}

usage() {
    sed -n '2,/^set -uo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//'
}

KEEP=0
PG_BUILD=""
ONLY=""
SUITES=()
while [ $# -gt 0 ]; do
    case $1 in
        --suite) [ $# -ge 2 ] || { usage >&2; exit 2; }; IFS=, read -r -a _s <<<"$2"; SUITES+=("${_s[@]}"); shift 2 ;;
        --suite=*) IFS=, read -r -a _s <<<"${1#--suite=}"; SUITES+=("${_s[@]}"); shift ;;
        --keep) KEEP=1; shift ;;
        --pg) [ $# -ge 2 ] || { usage >&2; exit 2; }; PG_BUILD=$2; shift 2 ;;
        --pg=*) PG_BUILD=${1#--pg=}; shift ;;
        --only) [ $# -ge 2 ] || { usage >&2; exit 2; }; ONLY+=" ${2//,/ }"; shift 2 ;;
        --only=*) _o=${1#--only=}; ONLY+=" ${_o//,/ }"; shift ;;
        -h|--help) usage; exit 0 ;;
        *) echo "unknown argument: $1" >&2; usage >&2; exit 2 ;;
    esac
done
[ ${#SUITES[@]} -eq 0 ] && SUITES=(regress isolation tap machine)
for s in "${SUITES[@]}"; do
    case $s in regress|isolation|tap|machine) ;; all) SUITES=(regress isolation tap machine); break ;;
        *) echo "unknown suite: $s (regress|isolation|tap|machine)" >&2; exit 2 ;; esac
done
# The machine suite (scripts/test-machine-untouched.sh) runs this script again on a
# subset: never from inside itself, and with --only only when named there.
if [ -n "${PGBG_MACHINE_TEST_INNER:-}" ]; then
    _s=(); for s in "${SUITES[@]}"; do [ "$s" = machine ] || _s+=("$s"); done; SUITES=("${_s[@]}")
elif [ -n "$ONLY" ] && ! [[ " $ONLY " == *" machine "* ]]; then
    _s=(); for s in "${SUITES[@]}"; do [ "$s" = machine ] || _s+=("$s"); done; SUITES=("${_s[@]}")
fi
want() { local s; for s in "${SUITES[@]}"; do [ "$s" = "$1" ] && return 0; done; return 1; }

pgbg_clean_env

if [ "${PGBG_SANITIZE:-0}" = asan ]; then
    [ -n "${PGBG_PG_CONFIG:-}" ] ||
        pgbg_die "PGBG_SANITIZE=asan needs PGBG_PG_CONFIG (a server built by scripts/build-asan-server.sh); use make sanitize"
fi

if [ -n "$PG_BUILD" ]; then
    # --pg NN: a server built from source by scripts/build-server.sh
    [[ "$PG_BUILD" =~ ^[0-9]+$ ]] || pgbg_die "--pg wants a major version number, e.g. --pg 13"
    [ -z "${PGBG_PG_CONFIG:-}" ] || pgbg_die "--pg and PGBG_PG_CONFIG exclude each other"
    PGBG_PG_CONFIG=$(bash "$SCRIPT_DIR/build-server.sh" "$PG_BUILD" | tail -n 1) &&
        [ -x "$PGBG_PG_CONFIG" ] || pgbg_die "scripts/build-server.sh $PG_BUILD failed"
    export PGBG_PG_CONFIG
    # shellcheck source=scripts/common.sh
    . "$SCRIPT_DIR/common.sh"      # PG_CONFIG, PGBIN, PGXS_DIR from it
fi

# ---------------------------------------------------------------------------
# scratch dir + cleanup that always runs
# ---------------------------------------------------------------------------
SCRATCH=""
CHILD=""        # pid of the suite command running in the background, if any
TAILPID=""
TAP_FAILED_FILES=()

# run_logged LOG CMD...: run CMD in the background with its output in LOG, streaming LOG
# to our stdout. Running it in the background and `wait`ing lets a signal to this script
# (Ctrl-C, CI's TERM) run the cleanup trap at once instead of after the suite ends.
run_logged() {
    local log=$1 rc; shift
    : >"$log"
    "$@" >"$log" 2>&1 </dev/null &
    CHILD=$!
    tail -n +1 -f --pid="$CHILD" "$log" &
    TAILPID=$!
    wait "$CHILD"; rc=$?
    wait "$TAILPID" 2>/dev/null
    CHILD=""; TAILPID=""
    return "$rc"
}

cleanup() {
    local rc=$?
    trap - EXIT INT TERM HUP
    if [ -n "$CHILD" ]; then
        # runuser forwards TERM to `timeout`, which signals the suite's process group.
        kill -TERM "$CHILD" 2>/dev/null
        wait "$CHILD" 2>/dev/null
    fi
    [ -n "$TAILPID" ] && kill "$TAILPID" 2>/dev/null
    if [ -n "$SCRATCH" ] && [ -d "$SCRATCH" ]; then
        # Stop every server whose data dir lives in the scratch dir: ours, and any a TAP
        # test left behind (a test killed by its timeout never runs its END block).
        local pidfile datadir pid
        while IFS= read -r pidfile; do
            datadir=$(dirname "$pidfile")
            pid=$(head -n 1 "$pidfile" 2>/dev/null)
            # only a live postmaster of that very data dir (never a reused pid)
            [[ "$pid" =~ ^[0-9]+$ ]] || continue
            tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$datadir" || continue
            pgbg_as_pg "$PGBIN/pg_ctl" -D "$datadir" stop -m immediate -w -t 60 >/dev/null 2>&1 || true
        done < <(find "$SCRATCH" -name postmaster.pid -type f 2>/dev/null)
        if [ "$KEEP" -eq 1 ]; then
            echo "scratch dir kept: $SCRATCH"
        else
            rm -rf "$SCRATCH"
        fi
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

pgbg_ensure_deps
[ -x "$PG_CONFIG" ] || pgbg_die "$PG_CONFIG not found"
pgbg_is_root && { id postgres >/dev/null 2>&1 || pgbg_die "OS user postgres does not exist"; }

SCRATCH=$(mktemp -d /tmp/pg_background_test.XXXXXX)
chmod 755 "$SCRATCH"
SRC=$SCRATCH/src
TOOLS=$SCRATCH/tools
mkdir -p "$TOOLS" "$SCRATCH/sock"
pgbg_log "scratch dir: $SCRATCH"
pgbg_copy_tree "$REPO_ROOT" "$SRC"
# The module is installed into a private copy of the server, never into the
# system's PostgreSQL.
pgbg_private_server "$SCRATCH/pg" || pgbg_die "could not copy the PostgreSQL installation"
pgbg_log "private server copy: $PGBIN"

# ---------------------------------------------------------------------------
# build + install (as root)
# ---------------------------------------------------------------------------
if ! pgbg_build_install "$SRC" "$SCRATCH/build.log"; then
    echo
    echo "================ pg_background test summary ================"
    echo "build: FAILED (no test ran)"
    echo "0 passed, 1 failed"
    exit 1
fi
chown -R "$(pgbg_pg_owner)" "$SCRATCH"


# Makefile variables, read through PGXS itself so the lists live only in the Makefile.
cat >"$TOOLS/print.mk" <<'EOF'
print-%:
	@echo '$($*)'
EOF
mkvar() {
    make -s --no-print-directory -C "$SRC" -f Makefile -f "$TOOLS/print.mk" \
        PG_CONFIG="$PG_CONFIG" "print-$1"
}
REGRESS_LIST=$(mkvar REGRESS)
ISOLATION_LIST=$(mkvar ISOLATION)
TAP_ENABLED=$(mkvar TAP_TESTS)
MK_PROVE_TESTS=$(mkvar PROVE_TESTS)

# --only: keep the listed names (order of the Makefile lists preserved).
only_filter() {
    local item o out=""
    for item in $1; do
        for o in $ONLY; do
            if [ "$item" = "$o" ] || [ "$item" = "t/$o" ] || [ "$item" = "t/$o.pl" ]; then
                out+="$item "; break
            fi
        done
    done
    echo "${out% }"
}
if [ -n "$ONLY" ]; then
    REGRESS_LIST=$(only_filter "$REGRESS_LIST")
    ISOLATION_LIST=$(only_filter "$ISOLATION_LIST")
fi

# per-suite results: name passed failed skipped note
declare -A R_PASS R_FAIL R_SKIP R_NOTE R_RAN
FAILED_DETAILS=()

# ---------------------------------------------------------------------------
# pg_regress / isolation against one throwaway cluster
# ---------------------------------------------------------------------------
DATA=$SCRATCH/data
SERVER_LOG=$SCRATCH/server.log

start_cluster() {
    pgbg_log "initdb + start throwaway cluster (port $REGRESS_PORT, socket $SCRATCH/sock)"
    if ! pgbg_as_pg "$PGBIN/initdb" -D "$DATA" -A trust -E UTF8 --locale=C.UTF-8 \
            >"$SCRATCH/initdb.log" 2>&1; then
        cat "$SCRATCH/initdb.log"
        return 1
    fi
    cat >>"$DATA/postgresql.conf" <<EOF

# --- pg_background run-tests.sh ---
port = $REGRESS_PORT
listen_addresses = ''
unix_socket_directories = '$SCRATCH/sock'
max_worker_processes = 32
shared_preload_libraries = ''
fsync = off
synchronous_commit = off
full_page_writes = off
log_line_prefix = '%m [%p] %b %q%a '
log_min_messages = warning
log_autovacuum_min_duration = -1
${PGBG_EXTRA_CONF:-}
EOF
    if ! pgbg_as_pg "$PGBIN/pg_ctl" -D "$DATA" -l "$SERVER_LOG" -w -t 120 start \
            >"$SCRATCH/pg_ctl.log" 2>&1; then
        cat "$SCRATCH/pg_ctl.log"; tail -n 40 "$SERVER_LOG" 2>/dev/null
        return 1
    fi
}

stop_cluster() {
    [ -f "$DATA/postmaster.pid" ] || return 0
    pgbg_as_pg "$PGBIN/pg_ctl" -D "$DATA" stop -m fast -w -t 120 >/dev/null 2>&1 ||
        pgbg_as_pg "$PGBIN/pg_ctl" -D "$DATA" stop -m immediate -w -t 60 >/dev/null 2>&1 || true
}

# run_pg_regress_suite NAME TESTS OUTDIR MAKEVARS...
run_pg_regress_suite() {
    local name=$1 tests=$2 outdir=$3 tmo=$4; shift 4
    local log=$SCRATCH/$name.out total passed rc t
    total=$(wc -w <<<"$tests")
    echo
    pgbg_log "suite $name: $total test file(s): $tests"
    run_logged "$log" "${PGBG_AS_PG[@]}" env -C "$SRC" timeout -k 30 "$tmo" \
        make -s --no-print-directory installcheck PG_CONFIG="$PG_CONFIG" "$@" \
        EXTRA_REGRESS_OPTS="--host=$SCRATCH/sock --port=$REGRESS_PORT"
    rc=$?
    # pg_regress prints "test NAME ... ok" per passing file up to PG 15,
    # "ok N - NAME" (TAP style) from PG 16 on.
    passed=0
    for t in $tests; do
        if grep -Eq "^(test +| +)${t} +\.\.\. ok( |$)|^ok +[0-9]+ +[-+] +${t}( |$)" "$log"; then
            passed=$((passed + 1))
        else
            R_NOTE[$name]+=" $t"
        fi
    done
    R_RAN[$name]=1
    R_PASS[$name]=$passed
    R_FAIL[$name]=$((total - passed))
    R_SKIP[$name]=0
    if [ "$rc" -ne 0 ] && [ "${R_FAIL[$name]}" -eq 0 ]; then
        R_FAIL[$name]=1          # driver failed although every file said ok
        R_NOTE[$name]+=" (driver exit $rc)"
    fi
    [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ] && R_NOTE[$name]+=" (timed out after ${tmo}s)"
    if [ "${R_FAIL[$name]}" -gt 0 ]; then
        FAILED_DETAILS+=("$name")
        if [ -s "$outdir/regression.diffs" ]; then
            cp "$outdir/regression.diffs" "$SCRATCH/$name.diffs"
        fi
    fi
}

if { want regress && [ -n "$REGRESS_LIST" ]; } || { want isolation && [ -n "$ISOLATION_LIST" ]; }; then
    if start_cluster; then
        if want regress && [ -n "$REGRESS_LIST" ]; then
            run_pg_regress_suite regress "$REGRESS_LIST" "$SRC" "$T_REGRESS" \
                ISOLATION= TAP_TESTS= REGRESS="$REGRESS_LIST"
        fi
        if want isolation && [ -n "$ISOLATION_LIST" ]; then
            run_pg_regress_suite isolation "$ISOLATION_LIST" "$SRC/output_iso" "$T_ISOLATION" \
                REGRESS= TAP_TESTS= ISOLATION="$ISOLATION_LIST"
        fi
    else
        for s in regress isolation; do
            want $s || continue
            [ $s = regress ] && l=$REGRESS_LIST || l=$ISOLATION_LIST
            [ -n "$l" ] || continue
            R_RAN[$s]=1; R_PASS[$s]=0; R_FAIL[$s]=$(wc -w <<<"$l"); R_SKIP[$s]=0
            R_NOTE[$s]=" (cluster did not start)"
            FAILED_DETAILS+=("$s")
        done
    fi
    stop_cluster
fi

# ---------------------------------------------------------------------------
# TAP: prove, as PGXS prove_installcheck runs it
# ---------------------------------------------------------------------------
# A prove --harness subclass that records per-file counts as each file finishes,
# so a suite killed by its timeout still reports the files it completed.
cat >"$TOOLS/PgbgTapHarness.pm" <<'EOF'
package PgbgTapHarness;
use strict;
use warnings;
use parent 'TAP::Harness';

sub new {
    my ($class, @args) = @_;
    my $self = $class->SUPER::new(@args);
    my $out  = $ENV{PGBG_TAP_RESULTS} or die "PGBG_TAP_RESULTS not set";
    $self->callback(after_test => sub {
        my ($job, $parser) = @_;
        my $file    = ref($job) eq 'ARRAY' ? $job->[0] : $job->filename;
        my $skipped = () = $parser->skipped;
        my $passed  = (() = $parser->passed) - $skipped;   # passed() includes skips
        my $failed  = () = $parser->failed;
        my $planned = $parser->tests_planned;
        my $run     = $parser->tests_run;
        my @why;
        if (defined $planned && $planned > $run) {
            $failed += $planned - $run;
            push @why, "planned $planned, ran $run";
        }
        my $exit = $parser->exit // 0;
        push @why, ($exit == 124 || $exit == 137) ? "timed out" : "exit $exit" if $exit;
        push @why, "wait status " . $parser->wait if $parser->wait && !$exit;
        push @why, "parse errors" if $parser->parse_errors;
        push @why, "bad plan" if !$parser->skip_all && !$parser->is_good_plan && !@why;
        push @why, "no tests ran" if !$run && !$parser->skip_all;
        $failed = 1 if !$failed && @why;
        open my $fh, '>>', $out or die "$out: $!";
        print $fh join("\t", $file, $passed, $failed, $skipped, join('; ', @why)), "\n";
        close $fh;
    });
    return $self;
}
1;
EOF

if want tap && [ -n "$TAP_ENABLED" ]; then
    echo
    tapfiles=${PROVE_TESTS:-$MK_PROVE_TESTS}
    if [ -z "$tapfiles" ]; then
        tapfiles=$(cd "$SRC" && for f in t/*.pl; do [ -f "$f" ] && echo "$f"; done | sort | tr '\n' ' ')
    fi
    tapfiles=${tapfiles% }
    [ -n "$ONLY" ] && tapfiles=$(only_filter "$tapfiles")
    if [ -z "$tapfiles" ]; then
        pgbg_log "suite tap: no t/*.pl files"
    else
        pgbg_log "suite tap: $(wc -w <<<"$tapfiles") file(s): $tapfiles"
        TAP_RESULTS=$SCRATCH/tap-results.tsv
        : >"$TAP_RESULTS"
        chown "$(pgbg_pg_owner)" "$TAP_RESULTS"
        pgbg_as_pg rm -rf "$SRC/tmp_check"
        pgbg_as_pg mkdir -p "$SRC/tmp_check"
        perl_bin=$(command -v perl)
        # shellcheck disable=SC2086
        run_logged "$SCRATCH/tap.out" "${PGBG_AS_PG[@]}" env -C "$SRC" \
            TESTDIR="$SRC" PATH="$PGBIN:$SRC:$PATH" PGPORT="$TAP_PGPORT" \
            PG_REGRESS="$PGXS_DIR/src/test/regress/pg_regress" \
            PERL5LIB="$TOOLS:$PGXS_DIR/src/test/perl:$SRC:$SRC/t${PERL5LIB:+:$PERL5LIB}" \
            PGBG_TAP_RESULTS="$TAP_RESULTS" \
            timeout -k 30 "$T_TAP" \
            prove --harness=PgbgTapHarness \
                --exec "timeout --foreground -k 30 $T_TAP_FILE $perl_bin" \
                -I "$PGXS_DIR/src/test/perl/" -I . -I t ${PROVE_FLAGS:-} $tapfiles
        rc=$?
        p=0; f=0; sk=0
        declare -A seen=()
        while IFS=$'\t' read -r file tp tf ts why; do
            [ -n "$file" ] || continue
            seen[$file]=1
            p=$((p + tp)); f=$((f + tf)); sk=$((sk + ts))
            if [ "$tf" -gt 0 ]; then
                R_NOTE[tap]+=" $file${why:+ ($why)}"
                TAP_FAILED_FILES+=("$file")
            fi
        done <"$TAP_RESULTS"
        for file in $tapfiles; do
            if [ -z "${seen[$file]:-}" ]; then     # never finished (suite killed)
                f=$((f + 1)); R_NOTE[tap]+=" $file (did not finish)"
                TAP_FAILED_FILES+=("$file")
            fi
        done
        if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
            f=1; R_NOTE[tap]+=" (prove exit $rc)"
        fi
        R_RAN[tap]=1; R_PASS[tap]=$p; R_FAIL[tap]=$f; R_SKIP[tap]=$sk
        [ "$f" -gt 0 ] && FAILED_DETAILS+=(tap)
    fi
fi

# ---------------------------------------------------------------------------
# machine: the command leaves the machine alone
# ---------------------------------------------------------------------------
if want machine; then
    echo
    pgbg_log "suite machine: scripts/test-machine-untouched.sh (a cluster on port 5432 survives this command on a subset)"
    run_logged "$SCRATCH/machine.out" env PGBG_MACHINE_TEST_INNER=1 \
        PGBG_TIMEOUT_TAP_FILE="$T_TAP_FILE" PGBG_TIMEOUT_TAP="$T_TAP" \
        bash "$SCRIPT_DIR/test-machine-untouched.sh"
    rc=$?
    R_RAN[machine]=1; R_SKIP[machine]=0
    if [ "$rc" -eq 77 ]; then
        R_PASS[machine]=0; R_FAIL[machine]=0; R_SKIP[machine]=1
    elif last=$(tail -n 1 "$SCRATCH/machine.out") &&
         [[ "$last" =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
        R_PASS[machine]=${BASH_REMATCH[1]}; R_FAIL[machine]=${BASH_REMATCH[2]}
        [ "$rc" -ne 0 ] && [ "${R_FAIL[machine]}" -eq 0 ] && R_FAIL[machine]=1
    else
        R_PASS[machine]=0; R_FAIL[machine]=1; R_NOTE[machine]+=" (exit $rc, no summary)"
    fi
    if [ "${R_FAIL[machine]}" -gt 0 ]; then
        R_NOTE[machine]+=" $(grep '^not ok' "$SCRATCH/machine.out" | tr '\n' ';')"
    fi
fi

# ---------------------------------------------------------------------------
# failure details + summary
# ---------------------------------------------------------------------------
for s in "${FAILED_DETAILS[@]}"; do
    case $s in
        regress|isolation)
            echo
            if [ -s "$SCRATCH/$s.diffs" ]; then
                echo "================ $s: regression.diffs (first 20000 bytes) ================"
                head -c 20000 "$SCRATCH/$s.diffs"; echo
            else
                echo "================ $s: no regression.diffs; last lines of its output ================"
                tail -n 30 "$SCRATCH/$s.out" 2>/dev/null
                echo "================ server log tail ================"
                tail -n 40 "$SERVER_LOG" 2>/dev/null
            fi
            ;;
        tap)
            for file in "${TAP_FAILED_FILES[@]}"; do
                base=$(basename "$file" .pl)
                echo
                echo "================ tap: $file: tail of tmp_check/log/regress_log_$base ================"
                tail -n 80 "$SRC/tmp_check/log/regress_log_$base" 2>/dev/null || echo "(no log)"
                for nl in "$SRC/tmp_check/log/${base}"_*.log; do
                    [ -f "$nl" ] || continue
                    echo "---------------- server log $(basename "$nl") (tail) ----------------"
                    tail -n 30 "$nl"
                done
            done
            ;;
    esac
done

TOTAL_P=0; TOTAL_F=0
SAN_REPORTS=0
if [ "${PGBG_SANITIZE:-0}" != 0 ]; then
    # Reports land in the server logs (regress cluster and TAP nodes), the TAP
    # logs (client programs) and pg_regress outputs; one count per file.
    SAN_PATTERN='runtime error:|ERROR: AddressSanitizer'
    SAN_REPORTS=$(grep -rlE --include='*.log' --include='*.out' "$SAN_PATTERN" "$SCRATCH" 2>/dev/null | wc -l)
    if [ "$SAN_REPORTS" -gt 0 ]; then
        echo "================ sanitizer reports ================"
        grep -rE --include='*.log' --include='*.out' -A12 "$SAN_PATTERN" "$SCRATCH" | head -c 30000
    else
        echo "sanitizers ($PGBG_SANITIZE): no report in any log"
    fi
fi
echo
echo "================ pg_background test summary ================"
for s in regress isolation tap machine; do
    want "$s" || continue
    if [ -z "${R_RAN[$s]:-}" ]; then
        printf '%-10s no tests\n' "$s"
        continue
    fi
    TOTAL_P=$((TOTAL_P + R_PASS[$s])); TOTAL_F=$((TOTAL_F + R_FAIL[$s]))
    line=$(printf '%-10s %4d passed, %4d failed' "$s" "${R_PASS[$s]}" "${R_FAIL[$s]}")
    [ "${R_SKIP[$s]}" -gt 0 ] && line+=", ${R_SKIP[$s]} skipped"
    [ "${R_FAIL[$s]}" -gt 0 ] && line+="   failing:${R_NOTE[$s]:-}"
    echo "$line"
done
if [ "$SAN_REPORTS" -gt 0 ]; then
    echo "sanitizers: $SAN_REPORTS report(s)"
    TOTAL_F=$((TOTAL_F + SAN_REPORTS))
fi
[ "$KEEP" -eq 0 ] && [ "$TOTAL_F" -gt 0 ] && echo "(re-run with --keep to inspect $SCRATCH afterwards)"
if [ $((TOTAL_P + TOTAL_F)) -eq 0 ]; then
    echo "no test ran: counting that as a failure"
    echo "0 passed, 1 failed"
    exit 1
fi
echo "$TOTAL_P passed, $TOTAL_F failed"
[ "$TOTAL_F" -eq 0 ]
