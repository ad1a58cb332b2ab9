#!/usr/bin/env bash
# bench/run.sh -- reproducible pg_background benchmarks.
#
# Usage: bash bench/run.sh [seconds-per-run]      (default 10)
#
# Needs a running server with pg_background installed and the usual libpq
# environment (PGHOST, PGPORT, PGUSER, PGDATABASE).  Every figure is printed
# next to a reference measured in the same run on the same server, so the
# ratio is what to compare between machines and commits:
#   launch   : launch + result of "SELECT 1" in a background worker, against a
#              plain "SELECT 1" round trip (the floor of any query);
#   stream   : 200,000 rows (int, 32-char text) read back from a worker,
#              against the same query run directly in the session.
# Nothing here asserts anything: tests never depend on timing.
set -euo pipefail
cd "$(dirname "$0")"
SECS=${1:-10}

psql -XqAt -c "CREATE EXTENSION IF NOT EXISTS pg_background" >/dev/null

tps() {  # tps <script> <clients>
    pgbench -n -T "$SECS" -c "$2" -j "$2" -f "$1" 2>/dev/null |
        awk -F'= ' '/^tps/ {split($2, a, " "); print a[1]}'
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1f", a / b; else print "n/a" }'; }
ms() { awk -v t="$1" 'BEGIN { if (t > 0) printf "%.3f", 1000 / t; else print "n/a" }'; }

echo "pg_background benchmarks ($SECS s per run, $(psql -XqAt -c 'SHOW server_version'))"
echo

plain=$(tps plain.sql 1)
launch=$(tps launch_result.sql 1)
echo "launch+result, 1 client : $(ms "$launch") ms per call ($launch/s)"
echo "plain SELECT 1, 1 client : $(ms "$plain") ms per call ($plain/s)"
echo "  ratio (launch / plain)  : $(ratio "$plain" "$launch")x"
echo

launch2=$(tps launch_result.sql 2)
echo "launch+result, 2 clients: $launch2 calls/s"
echo

splain=$(tps stream_plain.sql 1)
sbg=$(tps stream_bg.sql 1)
echo "stream 200k rows via worker : $(ms "$sbg") ms per call"
echo "same query in the session   : $(ms "$splain") ms per call"
echo "  ratio (worker / direct)    : $(ratio "$splain" "$sbg")x"
