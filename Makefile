# mtascope build.  `make` builds the programs into build/, `make test` runs
# the unit and integration tests twice (optimized, then under ASan+UBSan)
# and a short fuzzing pass, `make demo` tells the story end to end.

CC	?= cc
PREFIX	?= /usr/local
BUILD	?= build
OPT	?= -O2 -g
SAN	?=

PKGS	 = libbsd libprotobuf-c
WARN	 = -Wall -Wextra -Werror -Wshadow -Wpointer-arith -Wstrict-prototypes
CFLAGS	+= -std=c11 -D_GNU_SOURCE $(OPT) $(SAN) $(WARN) -MMD -MP \
	   -Icommon -Iplugin -Icollector -I$(BUILD)/gen \
	   $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS	+= $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lm
LDFLAGS	+= $(SAN)

GEN_C	 = $(BUILD)/gen/mtascope.pb-c.c
GEN_H	 = $(BUILD)/gen/mtascope.pb-c.h

COMMON_SRC	= common/log.c common/utf8.c common/outbuf.c common/config.c \
		  common/crc32c.c common/ptime.c common/punycode.c
PIPE_LIB_SRC	= plugin/csv.c plugin/record.c \
		  plugin/session.c plugin/batch.c plugin/dump.c \
		  plugin/pipeline.c plugin/spool.c plugin/spool_write.c \
		  plugin/spool_gaps.c \
		  plugin/sender.c
COLLECTOR_LIB_SRC = collector/isp.c collector/rollup.c collector/store.c \
		  collector/validate.c
ANALYSIS_SRC	= collector/daily.c collector/stats.c collector/alerts.c \
		  collector/alert_state.c
SIM_SRC		= $(wildcard scripts/sim/*.c)
UNIT_TESTS	= $(patsubst tests/%.c,%,$(wildcard tests/*_test.c))

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))
COMMON_OBJ	= $(call obj,$(COMMON_SRC))
PIPE_LIB_OBJ	= $(call obj,$(PIPE_LIB_SRC)) $(BUILD)/obj/gen/mtascope.pb-c.o
COLLECTOR_LIB_OBJ = $(call obj,$(COLLECTOR_LIB_SRC)) \
		  $(BUILD)/obj/gen/mtascope.pb-c.o
NET_LIBS	= -lnng -lsqlite3 -lpthread

MAN1	= $(wildcard collector/*.1)
MAN5	= $(wildcard plugin/*.5 collector/*.5)
MAN8	= $(wildcard plugin/*.8 collector/*.8)

PROGRAMS = $(BUILD)/mtascope-pipe $(BUILD)/mtascoped $(BUILD)/mtascope \
	   $(BUILD)/mtascope-sim

.PHONY: all deps test unit-tests script-tests asan tsan fuzz demo install \
	clean bench
.SECONDARY:

all: $(PROGRAMS)

deps:
	@scripts/install-deps --check >/dev/null 2>&1 || scripts/install-deps

$(GEN_C) $(GEN_H): proto/mtascope.proto
	@mkdir -p $(BUILD)/gen
	protoc-c --proto_path=proto --c_out=$(BUILD)/gen proto/mtascope.proto

$(BUILD)/obj/gen/mtascope.pb-c.o: $(GEN_C)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Wno-shadow -c -o $@ $<

$(BUILD)/obj/%.o: %.c | $(GEN_H)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/mtascope-pipe: $(call obj,plugin/main.c) $(PIPE_LIB_OBJ) \
    $(COMMON_OBJ)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) $(NET_LIBS)

$(BUILD)/mtascoped: $(call obj,collector/mtascoped.c collector/ingest.c \
    collector/maint.c $(ANALYSIS_SRC)) $(COLLECTOR_LIB_OBJ) $(COMMON_OBJ)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) $(NET_LIBS)

CLI_SRC		= collector/mtascope.c collector/export.c $(ANALYSIS_SRC) \
		  $(wildcard collector/cmd_*.c)
$(BUILD)/mtascope: $(call obj,$(CLI_SRC)) $(COLLECTOR_LIB_OBJ) $(COMMON_OBJ)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) $(NET_LIBS)

# The shipped ISP table, compiled in as a C string.
$(BUILD)/gen/isp_default.h: collector/isp.conf
	@mkdir -p $(dir $@)
	awk 'BEGIN { print "static const char isp_default_conf[] =" } \
	    { gsub(/\\/, "\\\\"); gsub(/"/, "\\\""); \
	      print "\"" $$0 "\\n\"" } END { print ";" }' $< > $@

$(BUILD)/obj/collector/isp.o: $(BUILD)/gen/isp_default.h

# The simulator is written against libbsd's overlay headers.
$(BUILD)/obj/scripts/sim/%.o: CFLAGS += \
    $(shell pkg-config --cflags libbsd-overlay 2>/dev/null)

$(BUILD)/mtascope-sim: $(call obj,$(SIM_SRC))
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/%_test: $(call obj,tests/%_test.c) $(PIPE_LIB_OBJ) \
    $(call obj,$(COLLECTOR_LIB_SRC) $(ANALYSIS_SRC)) $(COMMON_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) $(NET_LIBS) -lcmocka

unit-tests: $(addprefix $(BUILD)/tests/,$(UNIT_TESTS))
	@set -e; for t in $(UNIT_TESTS); do \
		echo "== $$t ($(BUILD))"; $(BUILD)/tests/$$t; done

script-tests: all
	@set -e; for t in tests/*.sh; do \
		echo "== $$t ($(BUILD))"; BUILD=$(BUILD) sh $$t; done

asan:
	$(MAKE) BUILD=build/asan OPT="-O1 -g -fno-omit-frame-pointer" \
	    SAN="-fsanitize=address,undefined -fno-sanitize-recover=all" \
	    all unit-tests script-tests

# libFuzzer targets: built with clang, run briefly by `make test`; new
# inputs go to build/, the committed seeds stay as they are.  A fixed
# seed and number of runs make the pass `make test` does the same on
# every machine; `make fuzz FUZZ_RUNS=-1 FUZZ_SECONDS=600` explores.
FUZZ_SECONDS	?= 60
FUZZ_SEED	?= 1
FUZZ_RUNS	?= 60000
FUZZ_CFLAGS	 = -std=c11 -D_GNU_SOURCE -g -O1 -Wall -Wextra -Werror \
		   -fsanitize=fuzzer,address,undefined \
		   -fno-sanitize-recover=all -Icommon -Iplugin -Icollector \
		   -I$(BUILD)/gen
FUZZERS		 = fuzz_csv fuzz_batch

$(BUILD)/fuzz/fuzz_csv: tests/fuzz/fuzz_csv.c $(PIPE_LIB_SRC) $(COMMON_SRC) \
    collector/validate.c $(GEN_C)
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -o $@ $(filter %.c,$^) $(LDLIBS) $(NET_LIBS)

$(BUILD)/fuzz/fuzz_batch: tests/fuzz/fuzz_batch.c $(COLLECTOR_LIB_SRC) \
    $(COMMON_SRC) $(GEN_C) $(BUILD)/gen/isp_default.h
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -o $@ $(filter %.c,$^) $(LDLIBS) $(NET_LIBS)

# The threads under ThreadSanitizer, end to end (tests/tsan/smoke.sh).
tsan:
	$(MAKE) BUILD=build/tsan OPT="-O1 -g" SAN="-fsanitize=thread" all
	BUILD=build/tsan sh tests/tsan/smoke.sh

fuzz: $(addprefix $(BUILD)/fuzz/,$(FUZZERS))
	@set -e; for f in $(FUZZERS); do \
		c=$${f#fuzz_}; mkdir -p $(BUILD)/fuzz/corpus-$$c; \
		runs=$(FUZZ_RUNS); \
		[ "$$f" = fuzz_batch ] && [ "$$runs" -gt 0 ] && \
		    runs=$$((runs * 10)); \
		echo "== $$f ($$runs runs, seed $(FUZZ_SEED))"; \
		$(BUILD)/fuzz/$$f -max_total_time=$(FUZZ_SECONDS) \
		    -seed=$(FUZZ_SEED) -runs=$$runs \
		    -max_len=8192 -print_final_stats=1 \
		    -artifact_prefix=$(BUILD)/fuzz/ \
		    $(BUILD)/fuzz/corpus-$$c tests/fuzz/corpus/$$c \
		    2>$(BUILD)/fuzz/$$f.log || \
		    { tail -n 60 $(BUILD)/fuzz/$$f.log; exit 1; }; \
		grep -E 'stat::number_of_executed_units' \
		    $(BUILD)/fuzz/$$f.log; done

test: deps
	$(MAKE) all unit-tests script-tests
	$(MAKE) CC=clang BUILD=build/clang all
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	    $(MAKE) asan
	$(MAKE) tsan
	$(MAKE) fuzz
	@echo "make test: all suites passed"

bench: deps
	$(MAKE) all
	scripts/bench-pipe

demo: deps
	$(MAKE) all
	scripts/demo

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
	    $(DESTDIR)$(PREFIX)/share/man/man8
	install -m 755 $(BUILD)/mtascope-pipe $(BUILD)/mtascoped \
	    $(BUILD)/mtascope $(DESTDIR)$(PREFIX)/bin/
	install -m 644 $(MAN8) $(DESTDIR)$(PREFIX)/share/man/man8/
	$(if $(MAN1),install -m 644 $(MAN1) $(DESTDIR)$(PREFIX)/share/man/man1/)
	$(if $(MAN5),install -d $(DESTDIR)$(PREFIX)/share/man/man5)
	$(if $(MAN5),install -m 644 $(MAN5) $(DESTDIR)$(PREFIX)/share/man/man5/)

clean:
	rm -rf build

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
