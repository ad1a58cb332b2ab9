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
#   are derived from the system's deb entries (the system's apt setup is not
#   changed).  If the newest version's source is not in the archive, older
#   ones are tried.
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

log() { printf '%s\n' "==> $*" >&2; }
die() { printf '%s\n' "ERROR: $*" >&2; exit 1; }

if [ -x "$PREFIX/bin/pg_config" ] && [ -f "$PREFIX/.pgbg-stamp" ] &&
   [ "$(cat "$PREFIX/.pgbg-stamp")" = "$STAMP" ]; then
    log "reusing the instrumented server in $PREFIX ($("$PREFIX/bin/pg_config" --version))"
    echo "$PREFIX/bin/pg_config"
    exit 0
fi

# Build tools and the TAP test dependency.
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    need=()
    for p in gcc make perl libipc-run-perl xz-utils bzip2; do
        [ "$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)" = installed ] || need+=("$p")
    done
    if [ ${#need[@]} -gt 0 ]; then
        log "installing ${need[*]}"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >&2
    fi
fi

# Never remove or overwrite a directory this script did not make: the prefix
# must be absent, empty, or hold an earlier build of ours (its stamp file).
if [ -d "$PREFIX" ] && [ ! -f "$PREFIX/.pgbg-stamp" ] &&
   [ -n "$(ls -A "$PREFIX" 2>/dev/null)" ]; then
    die "$PREFIX exists and holds no build of this script: choose another PGBG_ASAN_PREFIX"
fi
rm -rf "$WORK"
mkdir -p "$WORK"

# ---------------------------------------------------------------------------
# the source tree
# ---------------------------------------------------------------------------
fetch_debian_source() {
    local apt=$WORK/apt f versions v
    mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial" "$apt/sources.list.d"
    : >"$apt/sources.list"
    # deb lines -> deb-src lines, deb822 "Types:" -> deb-src
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [ -f "$f" ] || continue
        sed -n 's/^[[:space:]]*deb[[:space:]]/deb-src /p' "$f" >>"$apt/sources.list"
    done
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] || continue
        sed 's/^Types:.*/Types: deb-src/' "$f" >"$apt/sources.list.d/$(basename "$f")"
    done
    APT=(apt-get -q -o "Dir::Etc::SourceList=$apt/sources.list"
         -o "Dir::Etc::SourceParts=$apt/sources.list.d"
         -o "Dir::State::Lists=$apt/lists" -o "Dir::Cache=$apt/cache"
         -o "APT::Sandbox::User=root")
    log "fetching the source index (private apt configuration in $apt)"
    "${APT[@]}" update >"$WORK/apt-update.log" 2>&1 ||
        { tail -n 20 "$WORK/apt-update.log" >&2; die "apt-get update (deb-src) failed"; }
    # newest first; the security archive may list a version whose source it lacks
    versions=$(apt-cache -o "Dir::Etc::SourceList=$apt/sources.list" \
                   -o "Dir::Etc::SourceParts=$apt/sources.list.d" \
                   -o "Dir::State::Lists=$apt/lists" -o "Dir::Cache=$apt/cache" \
                   showsrc "postgresql-$PG_MAJOR" 2>/dev/null |
               sed -n 's/^Version: //p' | sort -rV | uniq)
    [ -n "$versions" ] || die "no source package postgresql-$PG_MAJOR in the archive; set PGBG_PG_SOURCE"
    mkdir -p "$WORK/dl"
    for v in $versions; do
        log "downloading postgresql-$PG_MAJOR=$v (source)"
        if (cd "$WORK/dl" && "${APT[@]}" source --download-only "postgresql-$PG_MAJOR=$v") \
                >"$WORK/apt-source.log" 2>&1; then
            ls "$WORK"/dl/*.orig.tar.* 2>/dev/null | head -n 1
            return 0
        fi
        rm -f "$WORK"/dl/*
    done
    tail -n 20 "$WORK/apt-source.log" >&2
    die "could not download the source of postgresql-$PG_MAJOR; set PGBG_PG_SOURCE"
}

SRCTREE=""
if [ -n "${PGBG_PG_SOURCE:-}" ] && [ -d "$PGBG_PG_SOURCE" ]; then
    SRCTREE=$PGBG_PG_SOURCE
else
    if [ -n "${PGBG_PG_SOURCE:-}" ]; then
        TARBALL=$PGBG_PG_SOURCE
    else
        command -v apt-get >/dev/null 2>&1 || die "no apt-get: set PGBG_PG_SOURCE to a PostgreSQL source tarball"
        TARBALL=$(fetch_debian_source)
    fi
    [ -f "$TARBALL" ] || die "no such file: $TARBALL"
    log "unpacking $(basename "$TARBALL")"
    mkdir -p "$WORK/src"
    tar -C "$WORK/src" -xf "$TARBALL"
    SRCTREE=$(find "$WORK/src" -mindepth 1 -maxdepth 1 -type d | head -n 1)
fi
[ -x "$SRCTREE/configure" ] || die "$SRCTREE is not a PostgreSQL source tree"

# ---------------------------------------------------------------------------
# configure, build, install
# ---------------------------------------------------------------------------
BUILD=$WORK/build
mkdir -p "$BUILD"
jobs=$(nproc 2>/dev/null || echo 2)
log "configuring $(basename "$SRCTREE") with AddressSanitizer + UBSan (prefix $PREFIX)"
(cd "$BUILD" && "$SRCTREE/configure" --prefix="$PREFIX" "${CONFIGURE_OPTS[@]}" \
    CFLAGS="$SAN_CFLAGS" LDFLAGS="$SAN_LDFLAGS") >"$WORK/configure.log" 2>&1 ||
    { tail -n 30 "$WORK/configure.log" >&2; die "configure failed (log: $WORK/configure.log)"; }
log "building (make -j$jobs; several minutes)"
make -C "$BUILD" -j"$jobs" -s >"$WORK/make.log" 2>&1 ||
    { tail -n 40 "$WORK/make.log" >&2; die "build failed (log: $WORK/make.log)"; }
# contrib modules the tests use
CONTRIB=(amcheck)
for m in "${CONTRIB[@]}"; do
    make -C "$BUILD/contrib/$m" -s >>"$WORK/make.log" 2>&1 ||
        { tail -n 40 "$WORK/make.log" >&2; die "building contrib/$m failed"; }
done
rm -rf "$PREFIX"
make -C "$BUILD" -s install >"$WORK/install.log" 2>&1 ||
    { tail -n 40 "$WORK/install.log" >&2; die "make install failed"; }
for m in "${CONTRIB[@]}"; do
    make -C "$BUILD/contrib/$m" -s install >>"$WORK/install.log" 2>&1 ||
        { tail -n 40 "$WORK/install.log" >&2; die "installing contrib/$m failed"; }
done
printf '%s' "$STAMP" >"$PREFIX/.pgbg-stamp"
# the test runner installs the module into this prefix and runs the servers
# as another user: keep it readable
chmod -R a+rX "$PREFIX"
rm -rf "$WORK"
log "instrumented server ready: $("$PREFIX/bin/pg_config" --version)"
echo "$PREFIX/bin/pg_config"
