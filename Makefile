# pg_background -- run SQL asynchronously in dynamic background workers
#
# Build and install:      make && sudo make install
# Whole test suite:       bash scripts/run-tests.sh   (what CI runs; a few minutes)
# Long runs:              make soak, make cookies     (see below)
# Against your server:    make installcheck           (PGHOST, PGPORT, PGUSER)

MODULE_big = pg_background
OBJS = pg_background.o launcher.o results.o worker.o transport.o transport_send.o \
	api19.o api110.o pool.o
PGFILEDESC = "pg_background - run SQL in background workers"

EXTENSION = pg_background
DATA = $(sort $(wildcard pg_background--*.sql))

REGRESS = v1 v2 errors privileges types v18 guc_prefix v19 v110 bad_input upgrade outcomes encoding reentrancy revoke hostile tuples pool
REGRESS_OPTS = --load-extension=pg_background
ISOLATION = handles detach_result cancel_commit
ISOLATION_OPTS = --load-extension=pg_background
TAP_TESTS = 1

PG_CPPFLAGS = -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers -Werror
EXTRA_CLEAN = results output_iso tmp_check log

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# numeric infinity and multiranges are PostgreSQL 14+
ifeq ($(filter 12 13,$(MAJORVERSION)),)
REGRESS += types_pg14
endif

# The isolation specs use the regress tests' database, which pg_regress drops
# and creates again at the start of each suite: after `make installcheck` no
# second database holds the extension, so a re-run against the same server
# sees the same cluster-wide state (the executor role in particular).
ISOLATION_TESTDB = $(CONTRIB_TESTDB)

# The long runs, through the same script as the whole suite: the soak
# (t/007_soak.pl) with 10,000 launch/result and 10,000 launch/detach cycles,
# and the cookie test (t/009_cookies.pl) with 100,000 launches.  The suite
# runs them with 2,000 cycles and 2,000 launches; PGBG_SOAK_CYCLES and
# PGBG_COOKIE_LAUNCHES set other counts for these targets too.
# Each may take up to three hours before the script's timeout stops it.
LONG_TIMEOUTS = PGBG_TIMEOUT_TAP=$${PGBG_TIMEOUT_TAP:-10800} \
	PGBG_TIMEOUT_TAP_FILE=$${PGBG_TIMEOUT_TAP_FILE:-10800}

soak:
	PGBG_SOAK_CYCLES=$${PGBG_SOAK_CYCLES:-10000} $(LONG_TIMEOUTS) \
	bash scripts/run-tests.sh --only t/007_soak.pl

cookies:
	PGBG_COOKIE_LAUNCHES=$${PGBG_COOKIE_LAUNCHES:-100000} $(LONG_TIMEOUTS) \
	bash scripts/run-tests.sh --only t/009_cookies.pl

.PHONY: soak cookies

# libFuzzer run over the message parsers (see fuzz/Makefile); not part of
# the regular test suite.
fuzz:
	$(MAKE) -C fuzz run PG_CONFIG=$(PG_CONFIG)

.PHONY: fuzz

# The whole suite under AddressSanitizer + UBSan: a PostgreSQL server built
# with both (scripts/build-asan-server.sh, from Debian's source package;
# reused once built) and the module built the same way; any sanitizer report
# in any log fails the run.  It installs the module into that server only.
# An instrumented launch costs ~85 ms here, so the soak and the cookie test
# run 2,000 cycles and launches unless PGBG_SOAK_CYCLES and
# PGBG_COOKIE_LAUNCHES say otherwise (the full counts would take two hours).
sanitize:
	pgcfg=$$(bash scripts/build-asan-server.sh) && \
	PGBG_SANITIZE=asan PGBG_PG_CONFIG="$$pgcfg" $(LONG_TIMEOUTS) \
	PGBG_SOAK_CYCLES=$${PGBG_SOAK_CYCLES:-2000} \
	PGBG_COOKIE_LAUNCHES=$${PGBG_COOKIE_LAUNCHES:-2000} \
	bash scripts/run-tests.sh

# The whole suite with the module built with UBSan only (runtime linked into
# the module), against a private copy of the distribution's server: quicker,
# no server build.  Like the normal suite it installs nothing system-wide.
sanitize-ubsan:
	PGBG_SANITIZE=ubsan bash scripts/run-tests.sh

.PHONY: sanitize sanitize-ubsan

# The benchmark suite (bench/run.sh): its own throwaway server with the module
# installed into a private copy of PostgreSQL; prints a Markdown table.  Not a
# test.  BENCH_ARGS=--quick for a smoke run.
bench:
	bash bench/run.sh $(BENCH_ARGS)

.PHONY: bench
