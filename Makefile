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

# The whole suite with the module built with UndefinedBehaviorSanitizer; any
# report in a server log fails it (see scripts/run-tests.sh and common.sh).
sanitize:
	PGBG_SANITIZE=1 bash scripts/run-tests.sh

.PHONY: sanitize
