# gdoi-srtp top-level Makefile.
#   make            release build into build/
#   make check      installs missing packages, builds with ASan+UBSan into build/asan/,
#                   runs every test, ends with "N passed, M failed"
#   make fuzz       builds the libFuzzer targets (clang) and runs each for FUZZ_SECONDS
#   make deps       installs missing Debian packages (root) or prints the apt-get line
#   make install    PREFIX=/usr/local DESTDIR=

PREFIX  ?= /usr/local
DESTDIR ?=
BUILD   ?= build
SAN     ?= 0
CC      ?= cc
FUZZ_SECONDS ?= 60
CHECK_FUZZ_SECONDS ?= 5

PKGS      := libcrypto libsrtp2 libuv inih jansson sqlite3 libpcap
TEST_PKGS := cmocka

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
TEST_CFLAGS := $(shell pkg-config --cflags $(TEST_PKGS) 2>/dev/null)
TEST_LIBS   := $(shell pkg-config --libs $(TEST_PKGS) 2>/dev/null)

WARN   := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wformat=2 -Wvla
CFLAGS ?= -O2 -g
CSTD   := -std=c11 -D_DEFAULT_SOURCE -D_GNU_SOURCE
ifeq ($(SAN),1)
  CFLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
  LDSAN  := -fsanitize=address,undefined
endif
ALL_CFLAGS := $(CSTD) $(WARN) $(CFLAGS) -I. $(PKG_CFLAGS) -MMD -MP
LDFLAGS_ALL := $(LDSAN) $(LDFLAGS)

# --- libgdoi: the protocol core (no I/O) -----------------------------------
GDOI_SRC := $(sort $(wildcard gdoi/*.c))
GDOI_OBJ := $(GDOI_SRC:%.c=$(BUILD)/obj/%.o)
LIBGDOI  := $(BUILD)/lib/libgdoi.a

# --- programs: one directory each under tools/ (more layers arrive later) --
PROG_DIRS := $(sort $(dir $(wildcard tools/*/main.c)))
PROGS     := $(foreach d,$(PROG_DIRS),$(BUILD)/bin/$(notdir $(patsubst %/,%,$(d))))

# --- tests -------------------------------------------------------------------
TESTLIB_SRC := $(sort $(wildcard tests/lib/*.c))
TESTLIB_OBJ := $(TESTLIB_SRC:%.c=$(BUILD)/obj/%.o)
UNIT_SRC    := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINS   := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

FUZZ_SRC  := $(sort $(wildcard tests/fuzz/fuzz_*.c))

.PHONY: all check deps fuzz clean install test-bins
all: $(LIBGDOI) $(PROGS)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(ALL_CFLAGS) -c $< -o $@

$(BUILD)/obj/tests/%.o: tests/%.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(ALL_CFLAGS) $(TEST_CFLAGS) -c $< -o $@

$(LIBGDOI): $(GDOI_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@
	$(AR) rcs $@ $^

# Each program links its own directory's objects against libgdoi.
define prog_rule
$(BUILD)/bin/$(1): $$(patsubst %.c,$(BUILD)/obj/%.o,$$(wildcard tools/$(1)/*.c)) $(LIBGDOI)
	@mkdir -p $$(dir $$@)
	$$(CC) $$(LDFLAGS_ALL) -o $$@ $$^ $$(PKG_LIBS)
endef
$(foreach p,$(PROGS),$(eval $(call prog_rule,$(notdir $(p)))))

$(BUILD)/tests/test_%: $(BUILD)/obj/tests/unit/test_%.o $(TESTLIB_OBJ) $(LIBGDOI)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(PKG_LIBS) $(TEST_LIBS)

test-bins: all $(UNIT_BINS)

check: deps
	$(MAKE) BUILD=build/asan SAN=1 test-bins
	$(MAKE) BUILD=build/fuzz fuzz-bins
	FUZZ_SECONDS=$(CHECK_FUZZ_SECONDS) tests/run-all.sh build/asan build/fuzz

deps:
	@sh tests/deps.sh

# --- fuzzing (clang + libFuzzer, ASan+UBSan) --------------------------------
FUZZ_BUILD := build/fuzz
FUZZ_CFLAGS := $(CSTD) $(WARN) -O1 -g -fsanitize=fuzzer-no-link,address,undefined -I. $(PKG_CFLAGS)
FUZZ_BINS := $(FUZZ_SRC:tests/fuzz/%.c=$(FUZZ_BUILD)/%)
FUZZ_LIB_OBJ := $(GDOI_SRC:%.c=$(FUZZ_BUILD)/obj/%.o)

$(FUZZ_BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CLANG   $<"
	@clang $(FUZZ_CFLAGS) -MMD -MP -c $< -o $@

$(FUZZ_BUILD)/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_LIB_OBJ)
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer $^ -o $@ $(PKG_LIBS)

.PHONY: fuzz-bins
fuzz-bins: $(FUZZ_BINS)

fuzz: deps fuzz-bins
	@for f in $(FUZZ_BINS); do \
	  n=$$(basename $$f); mkdir -p build/fuzz/corpus/$$n; \
	  tests/fuzz/seed.sh $$n build/fuzz/corpus/$$n; \
	  echo "== $$n ($(FUZZ_SECONDS) s)"; \
	  $$f -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 build/fuzz/corpus/$$n || exit 1; \
	done

clean:
	rm -rf build

install: all
	install -d $(DESTDIR)$(PREFIX)/bin
	for p in $(PROGS); do install -m 0755 $$p $(DESTDIR)$(PREFIX)/bin/; done

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
