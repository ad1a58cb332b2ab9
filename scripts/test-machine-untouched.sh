#!/usr/bin/env bash
# test-machine-untouched.sh -- prove that the test command leaves the machine alone.
#
#   bash scripts/test-machine-untouched.sh                  # wraps the default command
#   bash scripts/test-machine-untouched.sh -- CMD [ARG...]  # wraps CMD instead
#
# The default command is the README's test command on a small subset that starts every
# kind of server the suite starts (the regress/isolation cluster and a TAP test's own):
#   bash scripts/run-tests.sh --only v1,handles,t/099_no_restart.pl
#
# Before the command, it makes sure a PostgreSQL cluster runs on the default port 5432:
#   - if one of Debian's clusters (pg_lsclusters) is online on 5432, that one, which it
#     only observes;
#   - else, if nothing listens on port 5432 (TCP or a Unix socket in /var/run/postgresql
#     or /tmp), a throwaway cluster of its own (initdb in a directory under /tmp,
#     127.0.0.1:5432, its socket in that directory), started with the system's
#     PostgreSQL binaries as the `postgres` OS user;
#   - else (port 5432 taken by something it cannot identify) it skips, saying so.
# Debian's clusters that are down stay down: it never starts, stops or edits them.
#
# It records, before and after the command:
#   - that cluster's postmaster pid and its process's start time, and that it answers
#     a query;
#   - pg_lsclusters' list (every cluster's status) and a checksum of every
#     /etc/postgresql/*/*/start.conf, postgresql.conf and pg_hba.conf, and where
#     systemd runs, whether each postgresql@ unit is enabled;
#   - checksums of the system's installed pg_background (library and extension files;
#     "absent" counts as a state);
#   - when no required package was missing beforehand, /var/lib/dpkg/status (no
#     apt-get ran).
# Then it checks that each is the same, that the command itself passed, and prints one
# line per check and a last line `N passed, N failed`; exit 0 only if all passed (77 when
# skipped). It stops only the cluster it started, and removes its directory.
set -uo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$SCRIPT_DIR/.." && pwd)
# shellcheck source=scripts/common.sh
. "$SCRIPT_DIR/common.sh"

CMD=(bash "$SCRIPT_DIR/run-tests.sh" --only "v1,handles,t/099_no_restart.pl")
case ${1:-} in
    -h|--help) sed -n '2,/^set -uo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0 ;;
    --) shift; [ $# -gt 0 ] && CMD=("$@") ;;
    "") ;;
    *) echo "usage: bash scripts/test-machine-untouched.sh [-- CMD [ARG...]]" >&2; exit 2 ;;
esac

PORT=5432
SYS_PGBIN=$PGBIN               # the system's binaries (common.sh), used read-only
SENTINEL_DIR=""
SENTINEL_DATA=""
SENTINEL_SOCK=""
PASS=0
FAIL=0

check() {                      # check LABEL CONDITION-RESULT(0/1) [DETAIL]
    local label=$1 rc=$2 detail=${3:-}
    if [ "$rc" -eq 0 ]; then
        PASS=$((PASS + 1)); echo "ok - $label"
    else
        FAIL=$((FAIL + 1)); echo "not ok - $label${detail:+ ($detail)}"
    fi
}

cleanup() {
    local rc=$?
    trap - EXIT INT TERM HUP
    # only a server of the data directory this test made (never the observed one)
    if [ -n "$SENTINEL_DIR" ] && [ -f "$SENTINEL_DATA/postmaster.pid" ]; then
        pgbg_as_pg "$SYS_PGBIN/pg_ctl" -D "$SENTINEL_DATA" stop -m fast -w -t 60 >/dev/null 2>&1 ||
            pgbg_as_pg "$SYS_PGBIN/pg_ctl" -D "$SENTINEL_DATA" stop -m immediate -w -t 60 >/dev/null 2>&1
    fi
    [ -n "$SENTINEL_DIR" ] && rm -rf "$SENTINEL_DIR"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# Is anything listening on port 5432, over TCP or a Unix socket in the usual places?
port_taken() {
    local s
    if command -v ss >/dev/null 2>&1 && [ -n "$(ss -Hltn "sport = :$PORT" 2>/dev/null)" ]; then
        return 0
    fi
    for s in /var/run/postgresql/.s.PGSQL.$PORT /tmp/.s.PGSQL.$PORT; do
        [ -S "$s" ] && return 0
    done
    return 1
}

# The Debian cluster online on port 5432, as "version name datadir", if any.
debian_online_cluster() {
    command -v pg_lsclusters >/dev/null 2>&1 || return 1
    pg_lsclusters -h 2>/dev/null | awk -v p="$PORT" '$3 == p && $4 ~ /^online/ { print $1, $2, $6; exit }'
}

postmaster_pid() { head -n 1 "$1/postmaster.pid" 2>/dev/null; }

# A live process's start time (clock ticks since boot): with the pid, it names one
# process, even if the pid were reused; nothing for a zombie.
proc_start() { sed -e 's/^.*) //' "/proc/$1/stat" 2>/dev/null | awk '$1 != "Z" { print $20 }'; }

# Everything about the machine that the command must not change, one line each.
machine_state() {
    local f u pkglib ext
    if command -v pg_lsclusters >/dev/null 2>&1; then
        pg_lsclusters -h 2>/dev/null | awk '{ print "cluster", $1, $2, $3, $4 }'
    fi
    for f in /etc/postgresql/*/*/start.conf /etc/postgresql/*/*/postgresql.conf \
             /etc/postgresql/*/*/pg_hba.conf; do
        [ -f "$f" ] && echo "file $f $(sha256sum <"$f" | cut -c1-64)"
    done
    if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
        for u in $(systemctl list-unit-files 'postgresql*' --no-legend 2>/dev/null | awk '{print $1}'); do
            echo "unit $u $(systemctl is-enabled "$u" 2>/dev/null)"
        done
    fi
    pkglib=$("$PG_CONFIG" --pkglibdir)
    ext=$("$PG_CONFIG" --sharedir)/extension
    for f in "$pkglib"/pg_background.so "$ext"/pg_background.control "$ext"/pg_background--*.sql; do
        if [ -f "$f" ]; then
            echo "installed $f $(sha256sum <"$f" | cut -c1-64)"
        else
            echo "installed $f absent"
        fi
    done
}

first_diff() { diff <(printf '%s\n' "$1") <(printf '%s\n' "$2") | grep '^[<>]' | head -n 3 | tr '\n' ' '; }

# ---------------------------------------------------------------------------
# the cluster on the default port
# ---------------------------------------------------------------------------
if online=$(debian_online_cluster) && [ -n "$online" ]; then
    read -r _ver _name SENTINEL_DATA <<<"$online"
    SENTINEL_SOCK=$(pg_conftool "$_ver" "$_name" show -s unix_socket_directories 2>/dev/null | cut -d, -f1)
    SENTINEL_SOCK=${SENTINEL_SOCK:-/var/run/postgresql}
    pgbg_log "observing Debian's cluster $_ver/$_name, online on port $PORT (never touched)"
elif port_taken; then
    echo "SKIP: port $PORT is taken by something that is not an online Debian cluster;"
    echo "      this test neither touches it nor can observe it"
    exit 77
else
    pgbg_is_root && { id postgres >/dev/null 2>&1 || pgbg_die "OS user postgres does not exist"; }
    [ -x "$SYS_PGBIN/initdb" ] || pgbg_die "$SYS_PGBIN/initdb not found"
    SENTINEL_DIR=$(mktemp -d /tmp/pg_background_sentinel.XXXXXX)
    chmod 755 "$SENTINEL_DIR"
    chown "$(pgbg_pg_owner)" "$SENTINEL_DIR"
    SENTINEL_DATA=$SENTINEL_DIR/data
    SENTINEL_SOCK=$SENTINEL_DIR
    pgbg_log "starting a cluster of this test's own on 127.0.0.1:$PORT (data $SENTINEL_DATA)"
    pgbg_as_pg "$SYS_PGBIN/initdb" -D "$SENTINEL_DATA" -A trust -E UTF8 --locale=C.UTF-8 \
        >"$SENTINEL_DIR/initdb.log" 2>&1 || { cat "$SENTINEL_DIR/initdb.log"; pgbg_die "initdb failed"; }
    cat >>"$SENTINEL_DATA/postgresql.conf" <<EOF

# --- pg_background test-machine-untouched.sh ---
port = $PORT
listen_addresses = '127.0.0.1'
unix_socket_directories = '$SENTINEL_DIR'
EOF
    if ! pgbg_as_pg "$SYS_PGBIN/pg_ctl" -D "$SENTINEL_DATA" -l "$SENTINEL_DIR/server.log" -w -t 60 start \
            >/dev/null 2>&1; then
        if port_taken; then     # another run took the port between the check and the start
            echo "SKIP: port $PORT was taken while this test started its cluster"
            exit 77
        fi
        tail -n 20 "$SENTINEL_DIR/server.log"
        pgbg_die "the cluster on port $PORT did not start"
    fi
fi

answers() {
    pgbg_as_pg "$SYS_PGBIN/psql" -X -A -t -h "$SENTINEL_SOCK" -p "$PORT" -d postgres \
        -c 'SELECT 1' 2>/dev/null | grep -qx 1
}

PID_BEFORE=$(postmaster_pid "$SENTINEL_DATA")
START_BEFORE=$(proc_start "$PID_BEFORE")
answers; check "before: the cluster on port $PORT (postmaster $PID_BEFORE) answers" $?
STATE_BEFORE=$(machine_state)
MISSING_BEFORE=$(pgbg_missing_packages | tr '\n' ' ')
DPKG_BEFORE=$(stat -c %Y /var/lib/dpkg/status 2>/dev/null)

# ---------------------------------------------------------------------------
# the command
# ---------------------------------------------------------------------------
pgbg_log "running: ${CMD[*]}"
(cd "$REPO_ROOT" && "${CMD[@]}")
cmd_rc=$?
echo
check "the command passed (exit $cmd_rc)" "$([ "$cmd_rc" -eq 0 ]; echo $?)"

# ---------------------------------------------------------------------------
# afterwards
# ---------------------------------------------------------------------------
PID_AFTER=$(postmaster_pid "$SENTINEL_DATA")
check "after: same postmaster pid on port $PORT" \
    "$([ -n "$PID_BEFORE" ] && [ "$PID_BEFORE" = "$PID_AFTER" ]; echo $?)" \
    "before $PID_BEFORE, after ${PID_AFTER:-none}"
check "after: that very postmaster process still runs (same start time)" \
    "$([ -n "$START_BEFORE" ] && [ "$START_BEFORE" = "$(proc_start "$PID_BEFORE")" ]; echo $?)"
answers; check "after: the cluster on port $PORT answers" $?
STATE_AFTER=$(machine_state)
check "after: clusters, their start.conf/postgresql.conf/pg_hba.conf, units and the installed pg_background are unchanged" \
    "$([ "$STATE_BEFORE" = "$STATE_AFTER" ]; echo $?)" "$(first_diff "$STATE_BEFORE" "$STATE_AFTER")"
if [ -z "${MISSING_BEFORE// /}" ] && [ -n "$DPKG_BEFORE" ]; then
    check "after: no package was installed or removed (nothing was missing)" \
        "$([ "$DPKG_BEFORE" = "$(stat -c %Y /var/lib/dpkg/status)" ]; echo $?)"
fi

echo
echo "$PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
