# pg_background -- run SQL asynchronously in dynamic background workers
#
# Build and install:      make && sudo make install
# Whole test suite:       bash scripts/run-tests.sh   (what CI runs)

MODULE_big = pg_background
OBJS = pg_background.o launcher.o results.o worker.o transport.o
PGFILEDESC = "pg_background - run SQL in background workers"

EXTENSION = pg_background
DATA = $(sort $(wildcard pg_background--*.sql))

REGRESS = v1 v2 errors privileges types v18 bad_input upgrade
REGRESS_OPTS = --load-extension=pg_background
ISOLATION = handles detach_result cancel_commit
ISOLATION_OPTS = --load-extension=pg_background
TAP_TESTS = 1

PG_CPPFLAGS = -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers -Werror
EXTRA_CLEAN = results output_iso tmp_check log

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

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
	PGBG_SANITIZE=asan PGBG_PG_CONFIG="$$pgcfg" \
	PGBG_SOAK_CYCLES=$${PGBG_SOAK_CYCLES:-2000} \
	PGBG_COOKIE_LAUNCHES=$${PGBG_COOKIE_LAUNCHES:-2000} \
	bash scripts/run-tests.sh

# The whole suite with the module built with UBSan only (runtime linked into
# the module), against the distribution's server: quicker, no server build.
# It installs the instrumented module system-wide; run the normal suite (or
# make install) afterwards to put the plain build back.
sanitize-ubsan:
	PGBG_SANITIZE=ubsan bash scripts/run-tests.sh

.PHONY: sanitize sanitize-ubsan

# The benchmark suite (bench/run.sh): its own throwaway server with the module
# installed into a private copy of PostgreSQL; prints a Markdown table.  Not a
# test.  BENCH_ARGS=--quick for a smoke run.
bench:
	bash bench/run.sh $(BENCH_ARGS)

.PHONY: bench
