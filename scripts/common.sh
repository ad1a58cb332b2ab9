# shellcheck shell=bash disable=SC2034
# Helpers shared by scripts/run-tests.sh and scripts/quickstart.sh.
# Sourced, never run. Targets Debian 12 with PostgreSQL 15 from the Debian archive.

PG_MAJOR=${PG_MAJOR:-15}   # CI sets it to test other majors (PGDG packages)
if [ "${PGBG_SANITIZE:-0}" = asan ]; then
    # For every instrumented program (server, psql, pg_config, ...): reports
    # go to stderr, i.e. into the server and test logs; no leak checking (a
    # backend leaves its memory to exit on purpose, and LeakSanitizer's exit
    # would also drop a client's buffered output).
    export ASAN_OPTIONS="detect_leaks=0:detect_stack_use_after_return=0:print_stacktrace=1:halt_on_error=1:abort_on_error=0"
    export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=0"
fi
if [ -n "${PGBG_PG_CONFIG:-}" ]; then
    # Another PostgreSQL installation (e.g. the instrumented server `make
    # sanitize` builds): its pg_config says where everything is.
    [ -x "$PGBG_PG_CONFIG" ] || { echo "ERROR: PGBG_PG_CONFIG=$PGBG_PG_CONFIG is not executable" >&2; exit 1; }
    PG_CONFIG=$PGBG_PG_CONFIG
    PGBIN=$("$PG_CONFIG" --bindir)
    PGXS_DIR=$(cd "$(dirname "$("$PG_CONFIG" --pgxs)")/../.." && pwd)
else
    PGBIN=/usr/lib/postgresql/${PG_MAJOR}/bin
    PG_CONFIG=${PGBIN}/pg_config
    PGXS_DIR=/usr/lib/postgresql/${PG_MAJOR}/lib/pgxs
fi

# Debian packages the build and the three test suites need.
PGBG_PACKAGES=("postgresql-${PG_MAJOR}" "postgresql-server-dev-${PG_MAJOR}" libkrb5-dev
               libipc-run-perl perl make gcc)

pgbg_log()  { printf '%s\n' "==> $*"; }
pgbg_warn() { printf '%s\n' "WARNING: $*" >&2; }
pgbg_die()  { printf '%s\n' "ERROR: $*" >&2; exit 1; }

pgbg_is_root() { [ "$(id -u)" -eq 0 ]; }

# Run a command as the OS user that owns the throwaway clusters: `postgres`
# when we are root (the server refuses to run as root), else ourselves.
pgbg_as_pg() {
    if pgbg_is_root; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

# The same as a command prefix, for places that need a real process (not a
# shell function) to signal: "${PGBG_AS_PG[@]}" cmd...
if [ "$(id -u)" -eq 0 ]; then PGBG_AS_PG=(runuser -u postgres --); else PGBG_AS_PG=(); fi

# Owner of files the clusters and test runs write.
pgbg_pg_owner() {
    if pgbg_is_root; then echo postgres; else id -un; fi
}

# Clear libpq/PostgreSQL variables from the caller's environment so that a
# developer's PGHOST/PGPORT/... cannot redirect the tests to another server.
pgbg_clean_env() {
    unset PGHOST PGHOSTADDR PGPORT PGDATABASE PGUSER PGPASSWORD PGPASSFILE \
          PGSERVICE PGSERVICEFILE PGOPTIONS PGAPPNAME PGDATA PGSSLMODE \
          PGREQUIRESSL PGCONNECT_TIMEOUT PGTARGETSESSIONATTRS PGCLIENTENCODING \
          PGTZ PGDATESTYLE PGSYSCONFDIR PGLOCALEDIR PGCHANNELBINDING \
          PG_COLOR PSQLRC PGBINDIR
    # Deterministic messages and collation for expected outputs.
    export LANG=C.UTF-8
    export LC_ALL=C.UTF-8
    export PSQLRC=/dev/null
}

pgbg_missing_packages() {
    local p status
    for p in "${PGBG_PACKAGES[@]}"; do
        status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
        [ "$status" = installed ] || printf '%s\n' "$p"
    done
}

# Install whatever is missing (root only); nothing when nothing is missing.
# Clusters that exist on the machine (Debian's 15/main, say) are never
# stopped, started or reconfigured: the tests run their own servers on
# private sockets, next to whatever runs here.
pgbg_ensure_deps() {
    local missing
    if ! command -v dpkg-query >/dev/null 2>&1; then
        [ -x "$PG_CONFIG" ] || pgbg_die "no dpkg and no $PG_CONFIG: this script targets Debian 12"
        return 0
    fi
    missing=$(pgbg_missing_packages | tr '\n' ' ')
    missing=${missing% }
    [ -z "$missing" ] && return 0

    if ! pgbg_is_root; then
        pgbg_die "missing packages: $missing (run as root, or: sudo apt-get install $missing)"
    fi
    pgbg_log "installing missing packages: $missing"
    local aptlog
    aptlog=$(mktemp /tmp/pg_background_apt.XXXXXX.log)
    # shellcheck disable=SC2086
    if ! { DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
           DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
               -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
               --no-install-recommends $missing; } >"$aptlog" 2>&1; then
        tail -n 40 "$aptlog" >&2
        rm -f "$aptlog"
        pgbg_die "apt-get install failed"
    fi
    rm -f "$aptlog"
    missing=$(pgbg_missing_packages | tr '\n' ' ')
    [ -z "${missing// /}" ] || pgbg_die "still missing after apt-get: $missing"
}

# pgbg_private_server DEST: make a private, relocated copy of the PostgreSQL
# installation that $PG_CONFIG describes under DEST, and point PG_CONFIG,
# PGBIN and PGXS_DIR at it.  PostgreSQL finds its share and lib directories
# relative to its own binaries, so the copy works where it lies; the module
# is then installed into the copy only, never into the system's PostgreSQL
# (an installed pg_background of another version stays as it is).
# Header directories are linked, not copied.
pgbg_private_server() {
    local dest=$1 bindir sharedir pkglibdir prefix d
    bindir=$("$PG_CONFIG" --bindir)
    sharedir=$("$PG_CONFIG" --sharedir)
    pkglibdir=$("$PG_CONFIG" --pkglibdir)
    case $bindir in
        /usr/lib/postgresql/*/bin)
            # Debian's layout: /usr/lib/postgresql/NN/{bin,lib}, /usr/share/postgresql/NN
            prefix=/usr
            mkdir -p "$dest/usr/lib/postgresql" "$dest/usr/share/postgresql"
            cp -a "$(dirname "$bindir")" "$dest/usr/lib/postgresql/" || return 1
            cp -a "$sharedir" "$dest/usr/share/postgresql/" || return 1
            ln -s /usr/include "$dest/usr/include"
            d=$("$PG_CONFIG" --libdir)
            mkdir -p "$(dirname "$dest$d")"
            [ -e "$dest$d" ] || ln -s "$d" "$dest$d"
            ;;
        *)
            # a source build: one prefix holds everything
            prefix=$(dirname "$bindir")
            mkdir -p "$dest$(dirname "$prefix")"
            cp -a "$prefix" "$dest$prefix" || return 1
            ;;
    esac
    PG_CONFIG=$dest$bindir/pg_config
    PGBIN=$dest$bindir
    PGXS_DIR=$(cd "$(dirname "$("$PG_CONFIG" --pgxs)")/../.." && pwd)
    [ "$("$PG_CONFIG" --pkglibdir)" = "$dest$pkglibdir" ] ||
        { pgbg_warn "the copy of $prefix in $dest does not relocate"; return 1; }
}

# Copy the source tree SRC into DEST, without VCS data or build/test outputs,
# so the build always starts clean (a stale .o would hide -Werror warnings)
# and the tests never write into the caller's checkout.
pgbg_copy_tree() {
    local src=$1 dest=$2
    mkdir -p "$dest"
    tar -C "$src" \
        --exclude=./.git --exclude='*.o' --exclude='*.so' --exclude='*.bc' \
        --exclude=./results --exclude=./output_iso --exclude=./tmp_check \
        --exclude=./tmp_check_iso --exclude=./log --exclude=./regression.diffs \
        --exclude=./regression.out --exclude=./tmp_install --exclude=./.build \
        --exclude=./fuzz/corpus-run --exclude=./fuzz/pgbg_fuzz \
        -cf - . | tar -C "$dest" -xf -
}

# Extra make arguments for sanitizer builds (no LLVM bitcode: clang would
# build that with other flags).
#
# PGBG_SANITIZE=1 (`make sanitize-ubsan`): the module with
# UndefinedBehaviorSanitizer, its runtime linked statically into the module,
# so the distribution's server needs no preload.  Reports are "runtime
# error:" lines in the server logs.
#
# PGBG_SANITIZE=asan (`make sanitize`): the module with AddressSanitizer and
# UBSan, for a server that was itself built with both
# (scripts/build-asan-server.sh, selected with PGBG_PG_CONFIG): the runtime
# is in the server binary, which is what loads the module.  Preloading
# libasan into Debian's server binary instead deadlocks at start-up (glibc's
# bindtextdomain lock), hence the instrumented build.
PGBG_MAKE_FLAGS=()
case "${PGBG_SANITIZE:-0}" in
    0|"") ;;
    1|ubsan)
        PGBG_MAKE_FLAGS=(with_llvm=no
            "COPT=-fsanitize=undefined -fno-omit-frame-pointer"
            "LDFLAGS_SL=-fsanitize=undefined -static-libubsan") ;;
    asan)
        PGBG_MAKE_FLAGS=(with_llvm=no
            "COPT=-fsanitize=address,undefined -fno-sanitize=alignment -fno-omit-frame-pointer"
            "LDFLAGS_SL=-fsanitize=address,undefined") ;;
    *) echo "ERROR: PGBG_SANITIZE must be 1, ubsan or asan" >&2; exit 1 ;;
esac

# Build (warnings are errors via the Makefile) and install from DIR.
# Output goes to LOG; the tail is shown on failure. Returns non-zero on failure.
pgbg_build_install() {
    local dir=$1 log=$2 jobs
    jobs=$(nproc 2>/dev/null || echo 2)
    pgbg_log "building in $dir (make -j$jobs PG_CONFIG=$PG_CONFIG)"
    if ! make -C "$dir" -j"$jobs" PG_CONFIG="$PG_CONFIG" "${PGBG_MAKE_FLAGS[@]}" >"$log" 2>&1; then
        echo "---- build failed; last lines of the build log ----"
        tail -n 80 "$log"
        return 1
    fi
    if grep -q 'warning:' "$log"; then
        grep -n 'warning:' "$log" | head -n 20
    fi
    pgbg_log "installing (make install)"
    local sudo=()
    if ! pgbg_is_root && [ ! -w "$($PG_CONFIG --pkglibdir)" ]; then
        if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
            sudo=(sudo -n)
        else
            echo "---- cannot install: $($PG_CONFIG --pkglibdir) is not writable; run as root ----"
            return 1
        fi
    fi
    if ! "${sudo[@]}" make -C "$dir" PG_CONFIG="$PG_CONFIG" "${PGBG_MAKE_FLAGS[@]}" install >>"$log" 2>&1; then
        echo "---- make install failed; last lines ----"
        tail -n 40 "$log"
        return 1
    fi
    return 0
}
