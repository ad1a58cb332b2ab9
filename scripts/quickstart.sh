#!/usr/bin/env bash
# quickstart.sh -- try pg_background in two minutes on a fresh Debian 12 machine.
#
#   bash scripts/quickstart.sh
#
# As root it installs what is missing (PostgreSQL 15 + build tools from the Debian
# archive; no apt-get when nothing is missing), copies the PostgreSQL installation to
# /tmp/pg_background_demo/pg, builds the extension and installs it into that copy only
# (the system's PostgreSQL, and any pg_background installed in it, stay as they are),
# then starts a throwaway cluster from the copy as the `postgres` OS user in
# /tmp/pg_background_demo (port 5499, Unix socket in that dir, no TCP), runs
# `CREATE EXTENSION pg_background` and a short psql demo:
#   1. launch_v2 + result_v2 of a query
#   2. list_v2 while a pg_sleep worker runs (then wait_v2 + result_v2)
#   3. an autonomous commit that survives the caller's ROLLBACK
#   4. cancel_v2_grace of a long pg_sleep, the list_v2 state after it, and the 57014
#      error its result read raises
# The cluster is left running; the script ends by printing how to connect and how to
# stop it. Re-running it stops and replaces the previous demo cluster (its own, marked
# by a file in /tmp/pg_background_demo; a directory there without that mark is left
# alone and the script stops). It touches no other cluster.
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$SCRIPT_DIR/.." && pwd)
# shellcheck source=scripts/common.sh
. "$SCRIPT_DIR/common.sh"

DEMO_DIR=/tmp/pg_background_demo
DEMO_PORT=5499
DATA=$DEMO_DIR/data
LOG=$DEMO_DIR/server.log

case ${1:-} in
    -h|--help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0 ;;
    "") ;;
    *) echo "usage: bash scripts/quickstart.sh" >&2; exit 2 ;;
esac

pgbg_clean_env
pgbg_ensure_deps
pgbg_is_root && { id postgres >/dev/null 2>&1 || pgbg_die "OS user postgres does not exist"; }

# --- replace any previous demo cluster (only one this script made) ---------------
MARK=$DEMO_DIR/.pg_background_demo
if [ -e "$DEMO_DIR" ] && [ ! -f "$MARK" ]; then
    pgbg_die "$DEMO_DIR exists but was not made by this script: move it away first"
fi
if [ -f "$DATA/postmaster.pid" ]; then
    pgbg_log "stopping the previous demo cluster in $DATA"
    old_pg_ctl=$(find "$DEMO_DIR/pg" -path '*/bin/pg_ctl' -type f 2>/dev/null | head -n 1)
    old_pg_ctl=${old_pg_ctl:-$PGBIN/pg_ctl}
    pgbg_as_pg "$old_pg_ctl" -D "$DATA" stop -m fast -w -t 60 >/dev/null 2>&1 ||
        pgbg_as_pg "$old_pg_ctl" -D "$DATA" stop -m immediate -w -t 60 >/dev/null 2>&1 || true
fi
rm -rf "$DEMO_DIR"
mkdir -p "$DEMO_DIR"
: >"$MARK"
chmod 755 "$DEMO_DIR"          # the socket lives here: any local user may connect

# --- a private copy of the server, and the extension built into it --------------------
BUILD_DIR=$(mktemp -d /tmp/pg_background_build.XXXXXX)
trap 'rm -rf "$BUILD_DIR"' EXIT
pgbg_private_server "$DEMO_DIR/pg" || pgbg_die "could not copy the PostgreSQL installation"
pgbg_copy_tree "$REPO_ROOT" "$BUILD_DIR/src"
pgbg_build_install "$BUILD_DIR/src" "$BUILD_DIR/build.log" || pgbg_die "build/install failed"
chown -R "$(pgbg_pg_owner)" "$DEMO_DIR"

pgbg_log "initdb + start a demo cluster as $(pgbg_pg_owner) in $DATA (port $DEMO_PORT)"
pgbg_as_pg "$PGBIN/initdb" -D "$DATA" -A trust -E UTF8 --locale=C.UTF-8 >"$DEMO_DIR/initdb.log" 2>&1 ||
    { cat "$DEMO_DIR/initdb.log"; pgbg_die "initdb failed"; }
cat >>"$DATA/postgresql.conf" <<EOF

# --- pg_background quickstart demo ---
port = $DEMO_PORT
listen_addresses = ''
unix_socket_directories = '$DEMO_DIR'
max_worker_processes = 16
log_line_prefix = '%m [%p] %b %q%a '
EOF
pgbg_as_pg "$PGBIN/pg_ctl" -D "$DATA" -l "$LOG" -w -t 60 start >/dev/null ||
    { tail -n 30 "$LOG" 2>/dev/null; pgbg_die "the demo cluster did not start"; }

PSQL=("$PGBIN/psql" -X -h "$DEMO_DIR" -p "$DEMO_PORT" -U postgres -d postgres)

# --- demo ----------------------------------------------------------------------------
echo
pgbg_log "running the demo (psql echoes each query before its result)"
demo_rc=0
"${PSQL[@]}" -v ON_ERROR_STOP=1 --echo-queries -P pager=off <<'SQL' || demo_rc=$?
\set VERBOSITY default
\echo
\echo '-- 0. Install the extension in database postgres.'
CREATE EXTENSION pg_background;

\echo
\echo '-- 1. launch_v2 runs a query in a background worker and returns a handle (pid, cookie); result_v2 reads its rows once.'
SELECT pid, cookie FROM pg_background_launch_v2(
    'SELECT g AS n, g * g AS square FROM generate_series(1, 3) AS g') \gset q_
SELECT * FROM pg_background_result_v2(:q_pid, :q_cookie) AS (n int, square int);

\echo
\echo '-- 2. list_v2 shows the workers this session tracks: here a worker still inside pg_sleep(2): launch returns once the worker runs.'
SELECT pid, cookie FROM pg_background_launch_v2(
    'SELECT ''slept 2 s''::text AS status FROM pg_sleep(2)') \gset s_
SELECT pid, state, sql_preview, consumed
  FROM pg_background_list_v2() AS (pid int4, cookie int8, launched_at timestamptz,
       user_id oid, queue_size int4, state text, sql_preview text, last_error text,
       consumed bool);
\echo '   wait_v2 blocks until that worker ends, then result_v2 reads its row.'
SELECT pg_background_wait_v2(:s_pid, :s_cookie);
SELECT * FROM pg_background_result_v2(:s_pid, :s_cookie) AS (status text);

\echo
\echo '-- 3. Autonomous transaction: the worker commits on its own, so its work survives the caller''s ROLLBACK.'
BEGIN;
SELECT pid, cookie FROM pg_background_launch_v2(
    'CREATE TABLE demo_audit (id int, note text);
     INSERT INTO demo_audit VALUES (1, ''written by a background worker'')') \gset a_
SELECT pg_background_wait_v2(:a_pid, :a_cookie);
SELECT * FROM pg_background_result_v2(:a_pid, :a_cookie) AS (command_tag text);
ROLLBACK;
\echo '   After the ROLLBACK the table and its row are still there:'
SELECT * FROM demo_audit;

\echo
\echo '-- 4. cancel_v2_grace asks a worker running pg_sleep(600) to stop and waits up to 5 s for it to end.'
SELECT pid, cookie FROM pg_background_launch_v2('SELECT pg_sleep(600)') \gset c_
SELECT pg_background_cancel_v2_grace(:c_pid, :c_cookie, 5000);
SELECT pid, state, sql_preview, last_error, consumed
  FROM pg_background_list_v2() AS (pid int4, cookie int8, launched_at timestamptz,
       user_id oid, queue_size int4, state text, sql_preview text, last_error text,
       consumed bool)
 WHERE pid = :c_pid;
\echo '   Reading the canceled worker''s result raises 57014 (query_canceled); that error is expected:'
\set ON_ERROR_STOP 0
SELECT * FROM pg_background_result_v2(:c_pid, :c_cookie) AS (result text);
\echo '   SQLSTATE of that error:' :LAST_ERROR_SQLSTATE
\set ON_ERROR_STOP 1
SQL

echo
if [ "$demo_rc" -ne 0 ]; then
    pgbg_warn "the demo stopped at an error (psql exit $demo_rc); server log: $LOG"
fi
if pgbg_is_root; then
    STOP_CMD="runuser -u postgres -- $PGBIN/pg_ctl -D $DATA stop"
else
    STOP_CMD="$PGBIN/pg_ctl -D $DATA stop"
fi
cat <<EOF
The demo cluster is still running (data: $DATA, log: $LOG).
Connect:
    $PGBIN/psql -h $DEMO_DIR -p $DEMO_PORT -U postgres -d postgres
Stop it:
    $STOP_CMD
EOF
exit "$demo_rc"
