# shellcheck shell=bash
# pg-source.sh -- build a PostgreSQL server from source for the tests.
# Sourced, never run, by scripts/build-server.sh (the version matrix) and
# scripts/build-asan-server.sh (`make sanitize`).  The caller sets:
#   PG_MAJOR      major version to build (13, 15, 18, ...)
#   PREFIX        where to install it
#   WORK          scratch dir for the download and the build (removed after)
#   STAMP         text that identifies this build; a prefix holding the same
#                 text in $PREFIX/.pgbg-stamp is reused as it is
#   PGBG_PG_SUITE Debian suite whose deb-src to use (bullseye, bookworm,
#                 sid, ...); empty: the suites of the system's deb entries
#   PGBG_PG_SOURCE optional: a tarball or an unpacked tree to use instead
# and calls pgbg_src_build CONFIGURE-ARGS... (after pgbg_src_reuse).

pgbg_src_log() { printf '%s\n' "==> $*" >&2; }
pgbg_src_die() { printf '%s\n' "ERROR: $*" >&2; exit 1; }

# pgbg_src_reuse: print the pg_config path and succeed when $PREFIX already
# holds a finished build with the same stamp.
pgbg_src_reuse() {
    if [ -x "$PREFIX/bin/pg_config" ] && [ -f "$PREFIX/.pgbg-stamp" ] &&
       [ "$(cat "$PREFIX/.pgbg-stamp")" = "$STAMP" ]; then
        pgbg_src_log "reusing the server in $PREFIX ($("$PREFIX/bin/pg_config" --version))"
        echo "$PREFIX/bin/pg_config"
        return 0
    fi
    return 1
}

# Build tools (PostgreSQL 17+ tarballs no longer ship the generated parsers:
# bison and flex) and the TAP test dependency; root only, and only what is
# missing.
pgbg_src_deps() {
    local p need=()
    [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1 || return 0
    for p in gcc make perl libipc-run-perl xz-utils bzip2 bison flex; do
        [ "$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)" = installed ] || need+=("$p")
    done
    if [ ${#need[@]} -gt 0 ]; then
        pgbg_src_log "installing ${need[*]}"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >&2 ||
            pgbg_src_die "apt-get install ${need[*]} failed"
    fi
}

# pgbg_src_fetch_debian: download Debian's source package postgresql-$PG_MAJOR
# through a private apt configuration (its own sources.list, lists and cache
# under $PGBG_APT_DIR; the system's apt setup is not changed); prints the
# path of the upstream tarball.
pgbg_src_fetch_debian() {
    local apt=${PGBG_APT_DIR:-$WORK/apt} f versions v uri
    mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial" "$apt/sources.list.d"
    : >"$apt/sources.list"
    rm -f "$apt"/sources.list.d/*
    if [ -n "${PGBG_PG_SUITE:-}" ]; then
        # the system's Debian mirror, another suite
        uri=$(sed -n 's/^URIs:[[:space:]]*\([^[:space:]]*\/debian\)[[:space:]]*$/\1/p' \
                  /etc/apt/sources.list.d/*.sources 2>/dev/null | head -n 1)
        [ -n "$uri" ] || uri=$(sed -n 's/^[[:space:]]*deb[[:space:]]\+\(\[[^]]*\][[:space:]]\+\)\{0,1\}\([^[:space:]]*\/debian\)[[:space:]].*/\2/p' \
                  /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | head -n 1)
        uri=${uri:-http://deb.debian.org/debian}
        echo "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $uri $PGBG_PG_SUITE main" \
            >"$apt/sources.list"
    else
        # deb lines -> deb-src lines, deb822 "Types:" -> deb-src
        for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
            [ -f "$f" ] || continue
            sed -n 's/^[[:space:]]*deb[[:space:]]/deb-src /p' "$f" >>"$apt/sources.list"
        done
        for f in /etc/apt/sources.list.d/*.sources; do
            [ -f "$f" ] || continue
            sed 's/^Types:.*/Types: deb-src/' "$f" >"$apt/sources.list.d/$(basename "$f")"
        done
    fi
    local opts=(-o "Dir::Etc::SourceList=$apt/sources.list"
                -o "Dir::Etc::SourceParts=$apt/sources.list.d"
                -o "Dir::State::Lists=$apt/lists" -o "Dir::Cache=$apt/cache")
    local APT=(apt-get -q "${opts[@]}" -o "APT::Sandbox::User=root")
    pgbg_src_log "fetching the source index of ${PGBG_PG_SUITE:-the system suites} (private apt configuration in $apt)"
    "${APT[@]}" update >"$WORK/apt-update.log" 2>&1 ||
        { tail -n 20 "$WORK/apt-update.log" >&2; pgbg_src_die "apt-get update (deb-src) failed"; }
    # newest first; the security archive may list a version whose source it lacks
    versions=$(apt-cache "${opts[@]}" showsrc "postgresql-$PG_MAJOR" 2>/dev/null |
               sed -n 's/^Version: //p' | sort -rV | uniq)
    [ -n "$versions" ] || pgbg_src_die "no source package postgresql-$PG_MAJOR in ${PGBG_PG_SUITE:-the archive}; set PGBG_PG_SOURCE"
    mkdir -p "$WORK/dl"
    for v in $versions; do
        pgbg_src_log "downloading postgresql-$PG_MAJOR=$v (source)"
        if (cd "$WORK/dl" && "${APT[@]}" source --download-only "postgresql-$PG_MAJOR=$v") \
                >"$WORK/apt-source.log" 2>&1; then
            ls "$WORK"/dl/*.orig.tar.* 2>/dev/null | head -n 1
            return 0
        fi
        rm -f "$WORK"/dl/*
    done
    tail -n 20 "$WORK/apt-source.log" >&2
    pgbg_src_die "could not download the source of postgresql-$PG_MAJOR; set PGBG_PG_SOURCE"
}

# pgbg_src_build CONFIGURE-ARGS...: fetch, configure, build and install the
# server with contrib/amcheck (t/006) and the isolation tester where PGXS
# expects it, write the stamp, print the pg_config path.
pgbg_src_build() {
    local srctree tarball jobs build m iso
    # Never remove or overwrite a directory this script did not make: the
    # prefix must be absent, empty, or hold an earlier build of ours.
    if [ -d "$PREFIX" ] && [ ! -f "$PREFIX/.pgbg-stamp" ] &&
       [ -n "$(ls -A "$PREFIX" 2>/dev/null)" ]; then
        pgbg_src_die "$PREFIX exists and holds no build of these scripts: choose another prefix"
    fi
    rm -rf "$WORK"
    mkdir -p "$WORK"
    pgbg_src_deps
    if [ -n "${PGBG_PG_SOURCE:-}" ] && [ -d "$PGBG_PG_SOURCE" ]; then
        srctree=$PGBG_PG_SOURCE
    else
        if [ -n "${PGBG_PG_SOURCE:-}" ]; then
            tarball=$PGBG_PG_SOURCE
        else
            command -v apt-get >/dev/null 2>&1 || pgbg_src_die "no apt-get: set PGBG_PG_SOURCE to a PostgreSQL source tarball"
            tarball=$(pgbg_src_fetch_debian) || exit 1
        fi
        [ -f "$tarball" ] || pgbg_src_die "no such file: $tarball"
        pgbg_src_log "unpacking $(basename "$tarball")"
        mkdir -p "$WORK/src"
        tar -C "$WORK/src" -xf "$tarball"
        srctree=$(find "$WORK/src" -mindepth 1 -maxdepth 1 -type d | head -n 1)
    fi
    [ -x "$srctree/configure" ] || pgbg_src_die "$srctree is not a PostgreSQL source tree"

    build=$WORK/build
    mkdir -p "$build"
    jobs=$(nproc 2>/dev/null || echo 2)
    pgbg_src_log "configuring $(basename "$srctree") (prefix $PREFIX): $*"
    (cd "$build" && "$srctree/configure" --prefix="$PREFIX" "$@") >"$WORK/configure.log" 2>&1 ||
        { tail -n 30 "$WORK/configure.log" >&2; pgbg_src_die "configure failed (log: $WORK/configure.log)"; }
    pgbg_src_log "building (make -j$jobs; several minutes)"
    make -C "$build" -j"$jobs" -s >"$WORK/make.log" 2>&1 ||
        { tail -n 40 "$WORK/make.log" >&2; pgbg_src_die "build failed (log: $WORK/make.log)"; }
    # contrib modules the tests use, and the isolation tester
    for m in contrib/amcheck src/test/isolation; do
        make -C "$build/$m" -j"$jobs" -s >>"$WORK/make.log" 2>&1 ||
            { tail -n 40 "$WORK/make.log" >&2; pgbg_src_die "building $m failed"; }
    done
    rm -rf "$PREFIX"
    for m in . contrib/amcheck; do
        make -C "$build/$m" -s install >>"$WORK/install.log" 2>&1 ||
            { tail -n 40 "$WORK/install.log" >&2; pgbg_src_die "installing $m failed"; }
    done
    # PGXS runs $(pgxsdir)/src/test/isolation/pg_isolation_regress, which finds
    # isolationtester beside itself.  14+ install both there (make install in
    # src/test/isolation); 13's Makefile installs nothing: copy them.
    iso=$(dirname "$("$PREFIX/bin/pg_config" --pgxs)")/../../src/test/isolation
    mkdir -p "$iso"
    make -C "$build/src/test/isolation" -s install >>"$WORK/install.log" 2>&1 || true
    for m in pg_isolation_regress isolationtester; do
        [ -x "$iso/$m" ] || install -m 755 "$build/src/test/isolation/$m" "$iso/$m" ||
            pgbg_src_die "could not install $m into $iso"
    done
    printf '%s' "$STAMP" >"$PREFIX/.pgbg-stamp"
    # the test runner copies this prefix and runs the servers as another
    # user: keep it readable
    chmod -R a+rX "$PREFIX"
    rm -rf "$WORK"
    pgbg_src_log "server ready: $("$PREFIX/bin/pg_config" --version) in $PREFIX"
    echo "$PREFIX/bin/pg_config"
}
