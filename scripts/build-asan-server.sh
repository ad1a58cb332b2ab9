#!/usr/bin/env bash
# build-asan-server.sh -- build a PostgreSQL server instrumented with
# AddressSanitizer and UndefinedBehaviorSanitizer, for `make sanitize`.
#
#   bash scripts/build-asan-server.sh            # prints the pg_config path last
#
# Why: AddressSanitizer's runtime must be the first library a process loads.
# A loadable module cannot bring it along, and preloading libasan into
# Debian's server binary deadlocks at start-up; so the server itself is built
# with the sanitizers, and the module built the same way runs inside it.
#
# Where the source comes from (first that applies):
#   PGBG_PG_SOURCE=/path/postgresql-X.Y.tar.bz2 (or .tar.gz, or an unpacked tree)
#   otherwise Debian's source package postgresql-$PG_MAJOR, fetched with
#   `apt-get source` through a private apt configuration whose deb-src entries
#   are derived from the system's deb entries, or name PGBG_PG_SUITE (the
#   system's apt setup is not changed).  If the newest version's source is
#   not in the archive, older ones are tried.  The fetching and building is
#   shared with scripts/build-server.sh (scripts/pg-source.sh).
#
# Where it goes: PGBG_ASAN_PREFIX (default /var/tmp/pg_background-asan/pg$PG_MAJOR).
# A prefix that already holds a build made with the same flags is reused; one
# that holds anything else than a build of this script is refused, never
# replaced.  Nothing outside the prefix and its .build directory is written
# (apt-get installs missing build tools, as root, and nothing when none is
# missing; the source comes through a private apt configuration).
# Needs: gcc, make, perl with IPC::Run (TAP), about 1 GB of disk and ~10 min
# on two cores.
set -euo pipefail
# the instrumented pg_config must not run LeakSanitizer (its exit drops stdout)
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0}

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PG_MAJOR=${PG_MAJOR:-15}
PREFIX=${PGBG_ASAN_PREFIX:-/var/tmp/pg_background-asan/pg$PG_MAJOR}
WORK=$PREFIX.build
SAN_CFLAGS="-O1 -g -fsanitize=address,undefined -fno-sanitize=alignment -fno-omit-frame-pointer"
SAN_LDFLAGS="-fsanitize=address,undefined"
CONFIGURE_OPTS=(--enable-debug --enable-cassert --enable-tap-tests
                --without-readline --without-zlib --without-icu --without-llvm)
STAMP="contrib=amcheck cflags=$SAN_CFLAGS ldflags=$SAN_LDFLAGS opts=${CONFIGURE_OPTS[*]} source=${PGBG_PG_SOURCE:-debian:postgresql-$PG_MAJOR}"

# shellcheck source=scripts/pg-source.sh
. "$SCRIPT_DIR/pg-source.sh"

pgbg_src_reuse && exit 0
pgbg_src_build "${CONFIGURE_OPTS[@]}" CFLAGS="$SAN_CFLAGS" LDFLAGS="$SAN_LDFLAGS"
