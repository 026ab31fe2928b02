# Makefile - PGXS build of the promscale_ha extension, its programs and its test suites.
#
#   make / make install     the extension library, its SQL scripts, and the programs
#                           promscale-ha-gen (payload generator) and
#                           promscale-ha-http (the HTTP front end)
#   make installcheck       pg_regress + isolation suites on a throw-away cluster
#   make fixtures           regenerate test/data/*.bin with promscale-ha-gen
#   make fuzz | bench | soak  the long checks (as root): FUZZ_SECONDS, SOAK_SECONDS
#
# The remote-write messages in proto/ are compiled by protoc-c into src/gen/ (git-ignored).

EXTENSION   = promscale_ha
MODULE_big  = promscale_ha

PROTOS      = types remote
GEN_C       = $(PROTOS:%=src/gen/%.pb-c.c)
GEN_H       = $(PROTOS:%=src/gen/%.pb-c.h)
# The extension's sources, by layer (src/README.md): drivers and ground floor in src/,
# then ha/ and store/, then wire/ and codec/ (plain C, no server headers).
EXT_DIRS    = src src/worker src/ha src/store src/wire src/codec
SRCS        = $(sort $(foreach d,$(EXT_DIRS),$(wildcard $(d)/*.c)))
OBJS        = $(SRCS:.c=.o) $(GEN_C:.c=.o)
DATA        = $(wildcard sql/promscale_ha--*.sql)
SHLIB_LINK  = -lprotobuf-c -lsnappy -lzstd

PG_CPPFLAGS = -Isrc -Isrc/gen
WARN_FLAGS  = -Wall -Wextra -Werror -Wno-unused-parameter -Wno-sign-compare \
              -Wno-missing-field-initializers -Wno-cast-function-type
PG_CFLAGS   = -MMD -MP $(WARN_FLAGS)

TEST_CONF_DIR = test
REGRESS       = $(sort $(basename $(notdir $(wildcard test/sql/*.sql))))
REGRESS_OPTS  = --inputdir=test --outputdir=. --temp-instance=./tmp_check \
                --temp-config=test/regress.conf --load-extension=promscale_ha
ISOLATION      = $(sort $(basename $(notdir $(wildcard test/specs/*.spec))))
ISOLATION_OPTS = --inputdir=test --outputdir=. --temp-instance=./tmp_check_iso \
                 --temp-config=test/isolation.conf --load-extension=promscale_ha

HTTP_SRCS   = $(sort $(wildcard src/http/*.c))
TOOLS       = promscale-ha-gen $(if $(HTTP_SRCS),promscale-ha-http)
EXTRA_CLEAN = src/gen/*.pb-c.c src/gen/*.pb-c.h $(SRCS:.c=.d) src/tools/*.d $(TOOLS) \
              results output_iso tmp_check tmp_check_iso regression.diffs regression.out

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# protoc-c output: every object waits for the generated headers.
src/gen/%.pb-c.c src/gen/%.pb-c.h: proto/%.proto
	@mkdir -p src/gen
	protoc-c --proto_path=proto --c_out=src/gen $<

$(OBJS): $(GEN_H)

# wire/ and codec/ are plain C (fuzzed, also linked into programs): they are compiled
# without the server's include directories, so including a server header fails the build.
PLAIN_OBJS = $(filter src/wire/%.o src/codec/%.o,$(OBJS))
$(PLAIN_OBJS): override CPPFLAGS := -Isrc -Isrc/gen

# Programs that run outside PostgreSQL (no server headers, plain libc).
TOOL_CFLAGS = -O2 -g $(WARN_FLAGS) -Wno-declaration-after-statement -Isrc -Isrc/gen
promscale-ha-gen: $(sort $(wildcard src/tools/gen*.c src/tools/gen*.h)) $(GEN_C) $(GEN_H)
	$(CC) $(TOOL_CFLAGS) -o $@ $(filter src/tools/%.c,$^) $(GEN_C) -lprotobuf-c -lsnappy -lm

# The HTTP front end: libmicrohttpd + libpq, no server headers.
promscale-ha-http: $(HTTP_SRCS) $(wildcard src/http/*.h)
	$(CC) $(TOOL_CFLAGS) -I$(shell $(PG_CONFIG) --includedir) -o $@ $(HTTP_SRCS) \
		-L$(shell $(PG_CONFIG) --libdir) -lmicrohttpd -lpq -lpthread

all: $(TOOLS)

install: install-tools
install-tools: $(TOOLS)
	$(MKDIR_P) '$(DESTDIR)$(bindir)'
	$(if $(TOOLS),$(INSTALL_PROGRAM) $(TOOLS) '$(DESTDIR)$(bindir)/')

.PHONY: fixtures install-tools fuzz bench soak
# The long checks (root; not part of the test command, which runs a 60 s fuzz):
FUZZ_SECONDS ?= 600
SOAK_SECONDS ?= 600
fuzz:
	bash test/fuzz/run.sh $(FUZZ_SECONDS)
bench:
	bash test/bench/run.sh
soak:
	bash test/soak/run.sh $(SOAK_SECONDS)

fixtures: promscale-ha-gen
	bash test/make_fixtures.sh ./promscale-ha-gen test/data

-include $(SRCS:.c=.d)
