#!/usr/bin/env bash
# bench/run.sh -- pg_background's benchmark suite (also: make bench).
#
#   bash bench/run.sh                 # the full run (about 5 minutes on 2 idle cores)
#   bash bench/run.sh --quick         # a smoke run with small counts (about 1 minute)
#   bash bench/run.sh --rounds 5 --seconds 10
#
# Options (defaults of the full run; --quick first sets small ones, and options
# after it override them):
#   --rounds N       rounds of every workload, interleaved: round 1 of every
#                    workload, then round 2, ... (5); the table shows medians
#   --seconds S      length of each pgbench run, per round (4)
#   --iterations N   executions per round of the fan-out and streaming
#                    workloads, averaged (1)
#   --fanout N       tasks per fan-out (100)
#   --rows N         rows of ~100 B to stream (1000000)
#   --wide-rows N    rows of ~50 kB to stream (2000)
#   --cycles N       launch/result cycles of the memory workload (10000)
#   --port P         port of the throwaway server (54399; it listens on its
#                    own Unix socket directory only, no TCP)
#   --only LIST      run only these workloads, comma-separated: groups sel1
#                    (launch + result, with its references), detach, fanout,
#                    narrow, wide, stream (narrow and wide), memory, or single
#                    workload names as in the per-round values (default: all);
#                    the table shows the rows whose workloads ran
#   --keep           keep the scratch directory (server log, per-round values)
#
# What it does: copies the source tree and the PostgreSQL installation (the one
# scripts/common.sh picks: Debian's PostgreSQL $PG_MAJOR, default 15, or
# PGBG_PG_CONFIG) into a scratch directory under /tmp, builds the module and
# installs it into that private copy only (never into the system's server),
# starts a throwaway cluster from it (as the `postgres` OS user when run as
# root) with its own data directory, socket directory and port, creates
# pg_background and dblink, runs the workloads and prints a Markdown table of
# medians, each next to references measured in the same run: the same work in
# the session itself, through dblink with a new connection, and through dblink
# with a connection that stays open.  The server is stopped and the scratch
# directory removed on every exit path.  Progress goes to stderr, the report
# to stdout.
#
# Workloads (pg_background side; references in the same row of the report):
#   launch + result of SELECT 1 (pgbench, 1 and 2 clients; fresh worker, and
#   pooled once pg_background.pool_size exists); launch + detach of SELECT 1;
#   a fan-out of --fanout tasks collected with result_v2 and with wait_v2;
#   streaming --rows rows of ~100 B and --wide-rows rows of ~50 kB (out of
#   line) with the default queue and a 16 MB one; the caller's memory
#   (/proc/self/status, and pg_backend_memory_contexts on 14+) after
#   --cycles launch/result cycles, measured once after the rounds.
#
# A benchmark is not a test: the test command (scripts/run-tests.sh) neither
# runs nor times any of this, and nothing here asserts a figure.
set -uo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$SCRIPT_DIR/.." && pwd)
# shellcheck source-path=SCRIPTDIR source=../scripts/common.sh
. "$REPO_ROOT/scripts/common.sh"

usage() {
    sed -n '2,/^set -uo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//'
}

ROUNDS=5
SECS=4
ITERS=1
FANOUT=100
ROWS=1000000
WIDE_ROWS=2000
WIDE_BYTES=50000
CYCLES=10000
PORT=54399
KEEP=0
QUICK=0
ONLY=""
need_arg() { [ "$2" -ge 2 ] || { usage >&2; exit 2; }; }
posint() { [[ "$2" =~ ^[1-9][0-9]*$ ]] || { echo "$1 needs a positive integer, not '$2'" >&2; exit 2; }; }
while [ $# -gt 0 ]; do
    case $1 in
        --quick) QUICK=1; ROUNDS=2; SECS=1; ITERS=1; ROWS=100000; WIDE_ROWS=200; CYCLES=500; shift ;;
        --rounds) need_arg "$1" $#; posint "$1" "$2"; ROUNDS=$2; shift 2 ;;
        --seconds) need_arg "$1" $#; posint "$1" "$2"; SECS=$2; shift 2 ;;
        --iterations) need_arg "$1" $#; posint "$1" "$2"; ITERS=$2; shift 2 ;;
        --fanout) need_arg "$1" $#; posint "$1" "$2"; FANOUT=$2; shift 2 ;;
        --rows) need_arg "$1" $#; posint "$1" "$2"; ROWS=$2; shift 2 ;;
        --wide-rows) need_arg "$1" $#; posint "$1" "$2"; WIDE_ROWS=$2; shift 2 ;;
        --cycles) need_arg "$1" $#; posint "$1" "$2"; CYCLES=$2; shift 2 ;;
        --port) need_arg "$1" $#; posint "$1" "$2"; PORT=$2; shift 2 ;;
        --only) need_arg "$1" $#; ONLY=$2; shift 2 ;;
        --keep) KEEP=1; shift ;;
        -h|--help) usage; exit 0 ;;
        *) echo "unknown argument: $1" >&2; usage >&2; exit 2 ;;
    esac
done

pgbg_clean_env

# ---------------------------------------------------------------------------
# scratch dir, and the cleanup that runs on every exit path
# ---------------------------------------------------------------------------
SCRATCH=""
DATA=""
CHILD=""

cleanup() {
    local rc=$?
    trap - EXIT INT TERM HUP
    if [ -n "$CHILD" ]; then
        kill -TERM "$CHILD" 2>/dev/null
        wait "$CHILD" 2>/dev/null
    fi
    if [ -n "$DATA" ] && [ -f "$DATA/postmaster.pid" ]; then
        pgbg_as_pg "$PGBIN/pg_ctl" -D "$DATA" stop -m fast -w -t 60 >/dev/null 2>&1 ||
            pgbg_as_pg "$PGBIN/pg_ctl" -D "$DATA" stop -m immediate -w -t 60 >/dev/null 2>&1 || true
    fi
    if [ -n "$SCRATCH" ] && [ -d "$SCRATCH" ]; then
        if [ "$KEEP" -eq 1 ]; then
            echo "scratch dir kept: $SCRATCH" >&2
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

log() { printf '%s\n' "==> $*" >&2; }

# run OUT CMD...: run CMD in the background with stdout and stderr in OUT and
# wait for it, so that a signal to this script runs the cleanup at once.
run() {
    local out=$1 rc; shift
    "$@" >"$out" 2>&1 </dev/null &
    CHILD=$!
    wait "$CHILD"; rc=$?
    CHILD=""
    return "$rc"
}

pgbg_ensure_deps >&2
[ -x "$PG_CONFIG" ] || pgbg_die "$PG_CONFIG not found"
pgbg_is_root && { id postgres >/dev/null 2>&1 || pgbg_die "OS user postgres does not exist"; }
[ -f "$("$PG_CONFIG" --pkglibdir)/dblink.so" ] ||
    pgbg_die "dblink is not installed for $PG_CONFIG (Debian: it comes with postgresql-$PG_MAJOR; elsewhere postgresql-contrib)"
command -v awk >/dev/null || pgbg_die "awk is needed"

SCRATCH=$(mktemp -d /tmp/pg_background_bench.XXXXXX)
chmod 755 "$SCRATCH"
SRC=$SCRATCH/src
SOCK=$SCRATCH/sock
DATA=$SCRATCH/data
W=$SCRATCH/work           # pgbench scripts, outputs, per-round values
mkdir -p "$SOCK" "$W"
log "scratch dir: $SCRATCH"
pgbg_copy_tree "$REPO_ROOT" "$SRC"
pgbg_private_server "$SCRATCH/pg" || pgbg_die "could not copy the PostgreSQL installation"
if ! pgbg_build_install "$SRC" "$SCRATCH/build.log" >&2; then
    pgbg_die "the build failed (log above)"
fi
chown -R "$(pgbg_pg_owner)" "$SCRATCH"

# ---------------------------------------------------------------------------
# the throwaway cluster
# ---------------------------------------------------------------------------
log "initdb + start (port $PORT, socket $SOCK, no TCP)"
pgbg_as_pg "$PGBIN/initdb" -D "$DATA" -U postgres -A trust -E UTF8 --locale=C.UTF-8 \
    >"$SCRATCH/initdb.log" 2>&1 || { cat "$SCRATCH/initdb.log" >&2; pgbg_die "initdb failed"; }
# Room for a fan-out of FANOUT workers plus as many dblink connections; both
# sides single-process (no parallel query, no JIT), the tables in shared
# buffers; durability off (a throwaway cluster).
cat >>"$DATA/postgresql.conf" <<EOF

# --- pg_background bench/run.sh ---
port = $PORT
listen_addresses = ''
unix_socket_directories = '$SOCK'
max_connections = $((FANOUT + 50))
max_worker_processes = $((FANOUT + 40))
shared_buffers = 1GB
max_parallel_workers_per_gather = 0
jit = off
autovacuum = off
fsync = off
synchronous_commit = off
full_page_writes = off
log_min_messages = warning
EOF
pgbg_as_pg "$PGBIN/pg_ctl" -D "$DATA" -l "$SCRATCH/server.log" -w -t 120 start \
    >"$SCRATCH/pg_ctl.log" 2>&1 ||
    { cat "$SCRATCH/pg_ctl.log" >&2; tail -n 40 "$SCRATCH/server.log" >&2; pgbg_die "the server did not start"; }

DB=bench
CONN=(-h "$SOCK" -p "$PORT" -U postgres)
CONNSTR="dbname=$DB host=$SOCK port=$PORT user=postgres"
PSQL=("$PGBIN/psql" -X -q -A -t -v ON_ERROR_STOP=1 "${CONN[@]}")
PGBENCH=("$PGBIN/pgbench" -n "${CONN[@]}")

"${PSQL[@]}" -d postgres -c "CREATE DATABASE $DB" >&2 || pgbg_die "CREATE DATABASE failed"
"${PSQL[@]}" -d "$DB" >&2 <<EOF || pgbg_die "setting up the database failed"
CREATE EXTENSION pg_background;
CREATE EXTENSION dblink;
ALTER DATABASE $DB SET pg_background.max_workers = $((FANOUT + 20));
\i $SCRIPT_DIR/bench.sql
EOF
log "loading $ROWS rows of ~100 B and $WIDE_ROWS rows of ~$WIDE_BYTES B"
"${PSQL[@]}" -d "$DB" >&2 <<EOF || pgbg_die "loading the tables failed"
-- ~100 B a row: an int4 and 96 characters
CREATE TABLE narrow (g int4, t text);
INSERT INTO narrow SELECT g, repeat(md5(g::text), 3) FROM generate_series(1, $ROWS) g;
-- ~50 kB a row, stored out of line and uncompressed (a TOAST table read)
CREATE TABLE wide (g int4, t text);
ALTER TABLE wide ALTER COLUMN t SET STORAGE EXTERNAL;
INSERT INTO wide SELECT g, left(repeat(md5(g::text), ($WIDE_BYTES + 31) / 32), $WIDE_BYTES)
  FROM generate_series(1, $WIDE_ROWS) g;
VACUUM (FREEZE, ANALYZE) narrow, wide;
-- read them once into shared buffers
\o /dev/null
SELECT count(*), sum(length(t)) FROM narrow;
SELECT count(*), sum(length(t)) FROM wide;
\o
EOF

PGVERSION=$("${PSQL[@]}" -d "$DB" -c "SELECT version()")
EXTVERSION=$("${PSQL[@]}" -d "$DB" -c "SELECT extversion FROM pg_extension WHERE extname = 'pg_background'")

# ---------------------------------------------------------------------------
# workloads
# ---------------------------------------------------------------------------
# Each workload is one function that runs one round and prints one number:
# milliseconds per operation (lower is better).  Per-round values go to
# $W/values as "key round value" ("ERR" when a run failed).

# pgbench scripts: one transaction = one call
cat >"$W/sel1_session.sql" <<'EOF'
SELECT 1;
EOF
cat >"$W/sel1_bg.sql" <<'EOF'
SELECT r.x FROM pg_background_launch_v2('SELECT 1') AS h,
       pg_background_result_v2(h.pid, h.cookie) AS r(x int4);
EOF
cat >"$W/sel1_dbnew.sql" <<EOF
SELECT x FROM dblink('$CONNSTR', 'SELECT 1') AS t(x int4);
EOF
# The connection named k is opened by the first transaction of each pgbench
# client and used by all the later ones (the argument is 'k' once connected).
cat >"$W/sel1_dbkept.sql" <<EOF
SELECT x FROM dblink(CASE WHEN 'k' = ANY (coalesce(dblink_get_connections(), '{}')) THEN 'k'
                          ELSE 'k' || left(dblink_connect('k', '$CONNSTR'), 0) END,
                     'SELECT 1') AS t(x int4);
EOF
cat >"$W/detach_bg.sql" <<'EOF'
SELECT pg_background_detach_v2(h.pid, h.cookie) FROM pg_background_launch_v2('SELECT 1') AS h;
EOF

# pgb KEY SCRIPT CLIENTS: milliseconds per call and client (1000 * clients / tps)
# (PGOPTIONS, if set, goes to pgbench's sessions)
pgb() {
    local key=$1 script=$2 clients=$3 out=$W/$1.out tps
    if ! run "$out" env PGOPTIONS="${PGOPTIONS:-}" "${PGBENCH[@]}" -T "$SECS" -c "$clients" -j "$clients" \
            -f "$W/$script.sql" "$DB"; then
        { echo "pgbench for $key failed:"; tail -n 5 "$out"; } >&2
        VAL=ERR; return
    fi
    # PostgreSQL 14+ prints one tps line ("without initial connection time"),
    # 13 two: take the one that excludes connecting
    tps=$(awk -F'= ' '/^tps/ { split($2, a, " "); v = a[1]; if (!n++ || /without|excluding/) t = v }
                      END { print t }' "$out")
    VAL=$(awk -v t="$tps" -v c="$clients" 'BEGIN { if (t > 0) printf "%.4f\n", 1000 * c / t; else print "ERR" }')
}

# sqlt KEY PRELUDE QUERY N: milliseconds per execution of QUERY, executed N
# times in one session after PRELUDE (which loads the libraries and opens
# kept connections, untimed).
sqlt() {
    local key=$1 prelude=$2 q=$3 n=$4 out=$W/$1.out
    if ! run "$out" "${PSQL[@]}" -d "$DB" -c "$prelude" -c "SELECT bench_time(\$bench\$$q\$bench\$, $n)"; then
        { echo "$key failed:"; tail -n 5 "$out"; } >&2
        VAL=ERR; return
    fi
    VAL=$(awk 'NF { v = $0 } END { printf "%.4f\n", v }' "$out")
}

WARM_BG="SELECT * FROM pg_background_result(pg_background_launch('SELECT 1')) AS (x int4)"
WARM_DB="SELECT * FROM dblink('$CONNSTR', 'SELECT 1') AS t(x int4)"
KEEP_DB="SELECT dblink_connect('k', '$CONNSTR')"
Q_NARROW='SELECT g, t FROM narrow'
Q_WIDE='SELECT g, t FROM wide'
AGG='SELECT count(*), sum(length(r.t))'
QUEUE_16MB=$((16 * 1024 * 1024))

stream_bg() {   # stream_bg QUERY QUEUE_SIZE
    echo "$AGG FROM pg_background_launch_v2('$1', $2) AS h, pg_background_result_v2(h.pid, h.cookie) AS r(g int4, t text)"
}

WORKLOADS=(
    sel1_session_1 sel1_session_2 sel1_dbnew_1 sel1_dbnew_2 sel1_dbkept_1 sel1_dbkept_2
    sel1_bg_1 sel1_bg_2 detach_bg_1
    fan_session fan_dbnew fan_dbkept fan_bg_result fan_bg_wait
    narrow_session narrow_dbnew narrow_dbkept narrow_bg_default narrow_bg_16mb
    wide_session wide_dbnew wide_dbkept wide_bg_default wide_bg_16mb
)

# The warm worker pool (issue 10, item 3) is measured once the library has
# the setting pg_background.pool_size.
POOL=$("${PSQL[@]}" -d "$DB" -c "LOAD 'pg_background'" \
       -c "SELECT count(*) FROM pg_settings WHERE name = 'pg_background.pool_size'")
[ "$POOL" = 1 ] && WORKLOADS+=(sel1_pool_1 sel1_pool_2)
ALL_WORKLOADS=("${WORKLOADS[@]}")

# --only: keep the workloads of the groups (or the names) it lists
selected() {   # selected NAME: is this workload (or "memory") to run?
    local item
    [ -z "$ONLY" ] && return 0
    for item in ${ONLY//,/ }; do
        case $item in
            "$1") return 0 ;;
            sel1) [[ $1 == sel1_* ]] && return 0 ;;
            detach) [[ $1 == detach_* ]] && return 0 ;;
            fanout) [[ $1 == fan_* ]] && return 0 ;;
            narrow|wide) [[ $1 == "$item"_* ]] && return 0 ;;
            stream) [[ $1 == narrow_* || $1 == wide_* ]] && return 0 ;;
        esac
    done
    return 1
}
if [ -n "$ONLY" ]; then
    KEPT=()
    for w in "${WORKLOADS[@]}"; do selected "$w" && KEPT+=("$w"); done
    selected memory || [ ${#KEPT[@]} -gt 0 ] || pgbg_die "--only $ONLY: no such workload"
    WORKLOADS=("${KEPT[@]}")
fi

run_workload() {
    case $1 in
        sel1_session_[12]) pgb "$1" sel1_session "${1##*_}" ;;
        sel1_dbnew_[12])   pgb "$1" sel1_dbnew "${1##*_}" ;;
        sel1_dbkept_[12])  pgb "$1" sel1_dbkept "${1##*_}" ;;
        sel1_bg_[12])      pgb "$1" sel1_bg "${1##*_}" ;;
        sel1_pool_[12])    PGOPTIONS="-c pg_background.pool_size=2" pgb "$1" sel1_bg "${1##*_}" ;;
        detach_bg_1)       pgb "$1" detach_bg 1 ;;
        fan_session)   sqlt "$1" "SELECT 1" "SELECT fanout_session($FANOUT)" "$ITERS" ;;
        fan_dbnew)     sqlt "$1" "$WARM_DB" "SELECT fanout_dblink_new($FANOUT, '$CONNSTR')" "$ITERS" ;;
        fan_dbkept)    sqlt "$1" "SELECT dblink_open_kept($FANOUT, '$CONNSTR')" "SELECT fanout_dblink_kept($FANOUT)" "$ITERS" ;;
        fan_bg_result) sqlt "$1" "$WARM_BG" "SELECT fanout_bg_result($FANOUT)" "$ITERS" ;;
        fan_bg_wait)   sqlt "$1" "$WARM_BG" "SELECT fanout_bg_wait($FANOUT)" "$ITERS" ;;
        narrow_session)    sqlt "$1" "SELECT 1" "$AGG FROM ($Q_NARROW) AS r" "$ITERS" ;;
        narrow_dbnew)      sqlt "$1" "$WARM_DB" "$AGG FROM dblink('$CONNSTR', '$Q_NARROW') AS r(g int4, t text)" "$ITERS" ;;
        narrow_dbkept)     sqlt "$1" "$KEEP_DB" "$AGG FROM dblink('k', '$Q_NARROW') AS r(g int4, t text)" "$ITERS" ;;
        narrow_bg_default) sqlt "$1" "$WARM_BG" "$(stream_bg "$Q_NARROW" 65536)" "$ITERS" ;;
        narrow_bg_16mb)    sqlt "$1" "$WARM_BG" "$(stream_bg "$Q_NARROW" "$QUEUE_16MB")" "$ITERS" ;;
        wide_session)      sqlt "$1" "SELECT 1" "$AGG FROM ($Q_WIDE) AS r" "$ITERS" ;;
        wide_dbnew)        sqlt "$1" "$WARM_DB" "$AGG FROM dblink('$CONNSTR', '$Q_WIDE') AS r(g int4, t text)" "$ITERS" ;;
        wide_dbkept)       sqlt "$1" "$KEEP_DB" "$AGG FROM dblink('k', '$Q_WIDE') AS r(g int4, t text)" "$ITERS" ;;
        wide_bg_default)   sqlt "$1" "$WARM_BG" "$(stream_bg "$Q_WIDE" 65536)" "$ITERS" ;;
        wide_bg_16mb)      sqlt "$1" "$WARM_BG" "$(stream_bg "$Q_WIDE" "$QUEUE_16MB")" "$ITERS" ;;
        *) pgbg_die "unknown workload $1" ;;
    esac
}

# Detached workers finish on their own: let them go before the next workload.
drain() {
    local left
    left=$("${PSQL[@]}" -d "$DB" -c "SELECT bench_drain()" 2>&1)
    [ "$left" = 0 ] || pgbg_warn "pg_background workers still running after 120 s: $left"
}

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
START=$(date -u '+%Y-%m-%d %H:%M UTC')
T0=$SECONDS
: >"$W/values"
for ((r = 1; r <= ROUNDS; r++)); do
    for w in "${WORKLOADS[@]}"; do
        log "round $r/$ROUNDS: $w"
        run_workload "$w"
        echo "$w $r $VAL" >>"$W/values"
        drain
    done
done

# ---------------------------------------------------------------------------
# the caller's memory after CYCLES launch/result cycles (once, after the rounds)
# ---------------------------------------------------------------------------
MEM_RUN=0
selected memory && MEM_RUN=1
[ "$MEM_RUN" -eq 1 ] && log "memory: $CYCLES launch/result cycles in one session"
{
    echo '\o /dev/null'
    for ((i = 0; i < 20; i++)); do echo "$WARM_BG;"; done
    echo '\o'
    echo "SELECT 'before', * FROM bench_mem();"
    echo '\o /dev/null'
    # one statement (and transaction) per cycle, as a client would send them
    yes "SELECT r.x FROM pg_background_launch_v2('SELECT 1') AS h, pg_background_result_v2(h.pid, h.cookie) AS r(x int4);" |
        head -n "$CYCLES"
    echo '\o'
    echo "SELECT 'after', * FROM bench_mem();"
} >"$W/memory.sql"
MEM_OK=1
MT0=$SECONDS
if [ "$MEM_RUN" -eq 1 ] && ! run "$W/memory.out" "${PSQL[@]}" -F ' ' -d "$DB" -f "$W/memory.sql"; then
    { echo "memory workload failed:"; tail -n 5 "$W/memory.out"; } >&2
    MEM_OK=0
fi
MEM_SECS=$((SECONDS - MT0))
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
ELAPSED=$((SECONDS - T0))

# ---------------------------------------------------------------------------
# report
# ---------------------------------------------------------------------------
median() {   # median KEY: median over the rounds, or ERR if any round failed
    awk -v k="$1" '$1 == k { if ($3 == "ERR") err = 1; else v[++n] = $3 }
        END {
            if (err || n == 0) { print "ERR"; exit }
            for (i = 2; i <= n; i++) { x = v[i]; for (j = i - 1; j > 0 && v[j] > x; j--) v[j + 1] = v[j]; v[j + 1] = x }
            if (n % 2) print v[(n + 1) / 2]; else printf "%.4f\n", (v[n / 2] + v[n / 2 + 1]) / 2
        }' "$W/values"
}
fmt_ms() {   # a duration in ms, with 3 significant digits or so
    awk -v v="$1" 'BEGIN {
        if (v == "SKIP") { print "–"; exit }
        if (v == "ERR" || v == "") { print "failed"; exit }
        if (v >= 10000) printf "%.1f s\n", v / 1000;
        else if (v >= 1000) printf "%.2f s\n", v / 1000;
        else if (v >= 100) printf "%.0f ms\n", v;
        else if (v >= 10) printf "%.1f ms\n", v;
        else if (v >= 1) printf "%.2f ms\n", v;
        else printf "%.3f ms\n", v }'
}
ratio() {   # ratio A B: A / B
    awk -v a="$1" -v b="$2" 'BEGIN {
        if (a == "ERR" || b == "ERR" || a == "" || b == "" || b <= 0) { print "–"; exit }
        x = a / b; if (x >= 100) printf "%.0f×\n", x; else if (x >= 10) printf "%.1f×\n", x; else printf "%.2f×\n", x }'
}
per_s() { awk -v v="$1" 'BEGIN { if (v == "ERR" || v <= 0) print "–"; else printf "%.0f/s\n", 1000 / v }'; }

# row LABEL BG SESSION DBNEW DBKEPT (medians in ms, "" for none)
row() {
    local label=$1 bg=$2 s=$3 n=$4 k=$5 cells=() v
    [ "$bg" = SKIP ] && return
    [ "$s" = SKIP ] && s=""
    [ "$n" = SKIP ] && n=""
    [ "$k" = SKIP ] && k=""
    cells+=("$(fmt_ms "$bg")")
    for v in "$s" "$n" "$k"; do
        if [ -n "$v" ]; then cells+=("$(fmt_ms "$v")"); else cells+=("–"); fi
    done
    for v in "$s" "$n" "$k"; do
        if [ -n "$v" ]; then cells+=("$(ratio "$bg" "$v")"); else cells+=("–"); fi
    done
    printf '| %s |' "$label"; printf ' %s |' "${cells[@]}"; printf '\n'
}
na_row() { selected sel1_bg_1 || return 0; printf '| %s | n/a | %s | %s | %s | – | – | – |\n' "$1" "$(fmt_ms "$2")" "$(fmt_ms "$3")" "$(fmt_ms "$4")"; }

declare -A M
for w in "${ALL_WORKLOADS[@]}"; do M[$w]=SKIP; done
for w in "${WORKLOADS[@]}"; do M[$w]=$(median "$w"); done

human_rows() { awk -v n="$1" 'BEGIN { s = sprintf("%d", n); o = ""; while (length(s) > 3) { o = "," substr(s, length(s) - 2) o; s = substr(s, 1, length(s) - 3) } print s o }'; }
cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
mem=$(awk '/^MemTotal/ { printf "%.0f GB", $2 / 1048576 }' /proc/meminfo)

echo "pg_background benchmark, $START"
[ "$QUICK" -eq 1 ] && echo "(--quick: a smoke run with small counts; do not quote these figures)"
echo
echo "- machine: $(nproc) CPUs ($cpu), $mem RAM; $(uname -sr)"
echo "- server: ${PGVERSION}"
if rev=$(git -C "$REPO_ROOT" rev-parse --short HEAD 2>/dev/null); then
    [ -n "$(git -C "$REPO_ROOT" status --porcelain --untracked-files=no 2>/dev/null)" ] && rev+=" with local changes"
    echo "- pg_background: commit $rev, extension version $EXTVERSION"
else
    echo "- pg_background: extension version $EXTVERSION"
fi
echo "- $ROUNDS interleaved rounds, medians; pgbench runs of $SECS s; fan-out and streaming: $ITERS execution(s) per round, averaged; $(( ELAPSED / 60 )) min $(( ELAPSED % 60 )) s in all"
echo "- load average (1, 5, 15 min) before: $LOAD_BEFORE, after: $LOAD_AFTER"
echo
echo "Milliseconds or seconds per operation, lower is better; the ratio columns divide the pg_background figure by each reference."
echo
echo "| workload | pg_background | in the session | dblink, new connection | dblink, kept connection | ÷ session | ÷ dblink new | ÷ dblink kept |"
echo "|---|---|---|---|---|---|---|---|"
row "launch + result \`SELECT 1\`, 1 client, fresh worker" "${M[sel1_bg_1]}" "${M[sel1_session_1]}" "${M[sel1_dbnew_1]}" "${M[sel1_dbkept_1]}"
row "the same, 2 clients (per call)" "${M[sel1_bg_2]}" "${M[sel1_session_2]}" "${M[sel1_dbnew_2]}" "${M[sel1_dbkept_2]}"
if [ "$POOL" = 1 ]; then
    row "launch + result \`SELECT 1\`, 1 client, pooled worker ¹" "${M[sel1_pool_1]}" "${M[sel1_session_1]}" "${M[sel1_dbnew_1]}" "${M[sel1_dbkept_1]}"
    row "the same, 2 clients, pooled worker ¹" "${M[sel1_pool_2]}" "${M[sel1_session_2]}" "${M[sel1_dbnew_2]}" "${M[sel1_dbkept_2]}"
else
    na_row "launch + result \`SELECT 1\`, 1 client, pooled worker ¹" "${M[sel1_session_1]}" "${M[sel1_dbnew_1]}" "${M[sel1_dbkept_1]}"
    na_row "the same, 2 clients, pooled worker ¹" "${M[sel1_session_2]}" "${M[sel1_dbnew_2]}" "${M[sel1_dbkept_2]}"
fi
row "launch + detach \`SELECT 1\`, 1 client ($(per_s "${M[detach_bg_1]}")) ²" "${M[detach_bg_1]}" "${M[sel1_session_1]}" "${M[sel1_dbnew_1]}" "${M[sel1_dbkept_1]}"
row "fan-out of $FANOUT \`SELECT 1\` tasks, collected with result ³" "${M[fan_bg_result]}" "${M[fan_session]}" "${M[fan_dbnew]}" "${M[fan_dbkept]}"
row "the same, collected with wait ³" "${M[fan_bg_wait]}" "${M[fan_session]}" "${M[fan_dbnew]}" "${M[fan_dbkept]}"
row "stream $(human_rows "$ROWS") rows × ~100 B, default queue (64 kB) ⁴" "${M[narrow_bg_default]}" "${M[narrow_session]}" "${M[narrow_dbnew]}" "${M[narrow_dbkept]}"
row "the same, 16 MB queue ⁴" "${M[narrow_bg_16mb]}" "${M[narrow_session]}" "${M[narrow_dbnew]}" "${M[narrow_dbkept]}"
row "stream $(human_rows "$WIDE_ROWS") rows × ~$((WIDE_BYTES / 1000)) kB, default queue (64 kB) ⁴" "${M[wide_bg_default]}" "${M[wide_session]}" "${M[wide_dbnew]}" "${M[wide_dbkept]}"
row "the same, 16 MB queue ⁴" "${M[wide_bg_16mb]}" "${M[wide_session]}" "${M[wide_dbnew]}" "${M[wide_dbkept]}"
echo
if [ "$MEM_RUN" -eq 0 ]; then
    :
elif [ "$MEM_OK" -eq 1 ]; then
    # memory.out: "before vmrss rssanon vmhwm contexts" and "after ..."
    read -r _ b_rss b_anon b_hwm b_ctx < <(grep '^before ' "$W/memory.out")
    read -r _ a_rss a_anon a_hwm a_ctx < <(grep '^after ' "$W/memory.out")
    ctx="n/a (PostgreSQL 13)"
    [ -n "${b_ctx:-}" ] && [ -n "${a_ctx:-}" ] &&
        ctx="$(awk -v a="$a_ctx" -v b="$b_ctx" 'BEGIN { printf "%+.1f kB (%.0f → %.0f kB)", (a - b) / 1024, b / 1024, a / 1024 }')"
    echo "The caller's memory after $(human_rows "$CYCLES") launch/result cycles in one session (${MEM_SECS} s, one statement each), against after 20 warm-up cycles:"
    echo
    echo "| measure | before | after | change |"
    echo "|---|---|---|---|"
    printf '| VmRSS | %s kB | %s kB | %+d kB |\n' "$b_rss" "$a_rss" $((a_rss - b_rss))
    printf '| RssAnon (private memory) | %s kB | %s kB | %+d kB |\n' "$b_anon" "$a_anon" $((a_anon - b_anon))
    printf '| VmHWM (peak RSS) | %s kB | %s kB | %+d kB |\n' "$b_hwm" "$a_hwm" $((a_hwm - b_hwm))
    printf '| memory contexts (pg_backend_memory_contexts) | | | %s |\n' "$ctx"
else
    echo "The memory workload failed (see above)."
fi
echo
if [ "$POOL" = 1 ]; then
    echo "1. With \`pg_background.pool_size = 2\` in each pgbench session (the warm worker pool)."
else
    echo "1. n/a: this build has no warm worker pool yet (\`pg_background.pool_size\`, issue 10, item 3); it is measured once it exists."
fi
cat <<EOF
2. Launch returns once the worker has attached; the call then detaches it, and the worker finishes on its own. The references are those of the first row.
3. All $FANOUT tasks launched, then collected one by one (\`pg_background_result_v2\`, or \`pg_background_wait_v2\` then \`pg_background_detach_v2\`). References: the $FANOUT queries one after the other in the session; $FANOUT dblink connections opened (\`dblink_connect\`, one after the other), each sent the query with \`dblink_send_query\`, then collected with \`dblink_get_result\` and closed; the same over $FANOUT connections opened beforehand.
4. \`SELECT count(*), sum(length(t))\` over the rows read back (\`pg_background_result_v2\`, \`dblink\`), against the same aggregate over the table scanned in the session. The ~50 kB values are stored out of line, uncompressed. Both tables are in shared buffers; no parallel query, no JIT; \`work_mem\` is the default (4 MB), so the caller's tuplestore spills to a temporary file.
EOF

# per-round values, for the spread
echo
echo "<details><summary>Per-round values (ms)</summary>"
echo
echo '```'
for w in "${WORKLOADS[@]}"; do
    printf '%-18s' "$w"
    awk -v k="$w" '$1 == k { printf " %s", $3 } END { printf "\n" }' "$W/values"
done
echo '```'
echo
echo "</details>"

# a failed workload (shown as "failed" above) fails the run
if grep -q ' ERR$' "$W/values" || [ "$MEM_OK" -eq 0 ]; then
    echo "some workloads failed (see the messages above)" >&2
    exit 1
fi
