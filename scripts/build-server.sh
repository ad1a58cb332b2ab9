#!/usr/bin/env bash
# build-server.sh -- build a PostgreSQL major from Debian's source package,
# for running the test suite against it (the version matrix).
#
#   bash scripts/build-server.sh 13      # prints the pg_config path last
#   bash scripts/run-tests.sh --pg 13    # builds it when needed, then tests
#
# Where the source comes from: Debian's source package postgresql-NN, fetched
# with `apt-get source` through a private apt configuration (its own
# sources.list, lists and cache under $PGBG_PG_ROOT/apt/SUITE; the system's
# apt setup is not changed):
#   12, 13 -> bullseye      14, 15 -> bookworm      16, 17 -> trixie
#   18 and later -> sid
# (override with PGBG_PG_SUITE=SUITE, or PGBG_PG_SOURCE=tarball-or-tree).
#
# How: --enable-cassert --enable-debug --enable-tap-tests, without readline,
# zlib, ICU and LLVM (the tests need none of them), plus contrib/amcheck
# (t/006) and pg_isolation_regress + isolationtester where PGXS runs them.
# Where: $PGBG_PG_ROOT/pgNN (default /var/tmp/pg_background-pg/pgNN); a
# finished build there (same stamp) is reused.  About 0.5 GB of disk and
# 5-10 minutes on two cores per major.
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=scripts/pg-source.sh
. "$SCRIPT_DIR/pg-source.sh"

[ $# -eq 1 ] && [[ "$1" =~ ^[0-9]+$ ]] || { sed -n '2,/^set -eu/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//' >&2; exit 2; }
PG_MAJOR=$1
ROOT=${PGBG_PG_ROOT:-/var/tmp/pg_background-pg}
PREFIX=$ROOT/pg$PG_MAJOR
WORK=$PREFIX.build
if [ -z "${PGBG_PG_SUITE:-}" ]; then
    case $PG_MAJOR in
        12|13) PGBG_PG_SUITE=bullseye ;;
        14|15) PGBG_PG_SUITE=bookworm ;;
        16|17) PGBG_PG_SUITE=trixie ;;
        *)     PGBG_PG_SUITE=sid ;;
    esac
fi
PGBG_APT_DIR=$ROOT/apt/$PGBG_PG_SUITE
CONFIGURE_OPTS=(--enable-debug --enable-cassert --enable-tap-tests
                --without-readline --without-zlib --without-icu --without-llvm
                CFLAGS="-O2 -g")
STAMP="matrix contrib=amcheck isolation opts=${CONFIGURE_OPTS[*]} source=${PGBG_PG_SOURCE:-debian:$PGBG_PG_SUITE:postgresql-$PG_MAJOR}"

pgbg_src_reuse && exit 0
mkdir -p "$ROOT"
pgbg_src_build "${CONFIGURE_OPTS[@]}"
