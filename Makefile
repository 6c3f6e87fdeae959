# gdoi-srtp top-level Makefile.
#   make            release build into build/
#   make check      installs missing packages, builds with ASan+UBSan into build/asan/,
#                   runs every test, ends with "N passed, M failed"
#   make fuzz       builds the libFuzzer targets (clang) and runs each for FUZZ_SECONDS
#   make analyze    scan-build + cppcheck, fails on a finding not triaged (docs/static-analysis.md)
#   make deps       installs missing Debian packages (root) or prints the apt-get line
#   make install    PREFIX=/usr/local DESTDIR= (units into SYSTEMD_UNITDIR, completion, licence)
#   make uninstall  removes exactly what make install (same PREFIX, DESTDIR) puts there
#   make deb        the Debian packages (dpkg-buildpackage -us -uc -b) into build/deb/
#   make deb-check  make deb, then installs them, runs both units, gdoictl get, removes them

PREFIX  ?= /usr/local
DESTDIR ?=
BUILD   ?= build
SAN     ?= 0
CC      ?= cc
FUZZ_SECONDS ?= 60
CHECK_FUZZ_SECONDS ?= 5
# systemd looks in $(PREFIX)/lib/systemd/system for /usr/local and /usr; Debian's
# packages say /lib/systemd/system (debian/rules)
SYSTEMD_UNITDIR ?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR     ?= $(PREFIX)/lib/sysusers.d
BASHCOMPDIR     ?= $(PREFIX)/share/bash-completion/completions
UNITS := gdoi-ks gdoi-sidecar

PKGS      := libcrypto libsrtp2 libuv inih jansson sqlite3 libpq libpcap
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
# SAN=thread: ThreadSanitizer (gdoi-ks with workers; docs/keyserver.md "Workers").
ifeq ($(SAN),thread)
  CFLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=thread
  LDSAN  := -fsanitize=thread
endif
ALL_CFLAGS := $(CSTD) $(WARN) $(CFLAGS) -I. $(PKG_CFLAGS) -MMD -MP
LDFLAGS_ALL := $(LDSAN) $(LDFLAGS)

# --- libgdoi: the protocol core (no I/O) -----------------------------------
GDOI_SRC := $(sort $(wildcard gdoi/*.c))
GDOI_OBJ := $(GDOI_SRC:%.c=$(BUILD)/obj/%.o)
LIBGDOI  := $(BUILD)/lib/libgdoi.a

# --- the SRTP profile table: in libgdoi, and compiled into both IPC halves
# (media processes get this one file of gdoi/, not the core).
PROFILES_SRC := $(wildcard gdoi/srtp_profiles.c)

# --- libgdoiipc: the sidecar <-> media process protocol (docs/ipc.md), with the
# sidecar side of the bridge (srtp-bridge/describe.c: TEK -> SRTP policy description)
BRIDGE_SIDE_SRC := $(wildcard srtp-bridge/describe.c)
IPC_SRC := $(sort $(wildcard ipc/*.c))
IPC_OBJ := $(IPC_SRC:%.c=$(BUILD)/obj/%.o) $(BRIDGE_SIDE_SRC:%.c=$(BUILD)/obj/%.o) \
	   $(PROFILES_SRC:%.c=$(BUILD)/obj/%.o)
LIBIPC  := $(BUILD)/lib/libgdoiipc.a

# --- libgdoisrtp: what media processes link (bridge + IPC client), static and shared
BRIDGE_SRC := $(filter-out $(BRIDGE_SIDE_SRC),$(sort $(wildcard srtp-bridge/*.c)))
BRIDGE_OBJ := $(BRIDGE_SRC:%.c=$(BUILD)/obj/%.o)
# media processes get the IPC client half only: ipc/server.c needs libuv
IPC_CLIENT_SRC := $(filter-out ipc/server.c,$(IPC_SRC)) $(PROFILES_SRC)
BRIDGE_PIC := $(BRIDGE_SRC:%.c=$(BUILD)/pic/%.o) $(IPC_CLIENT_SRC:%.c=$(BUILD)/pic/%.o)
LIBSRTPB   := $(if $(BRIDGE_SRC),$(BUILD)/lib/libgdoisrtp.a)
# the shared library is libgdoisrtp.so.$(GDOISRTP_VERSION) (the header's GDOISRTP_VERSION),
# soname libgdoisrtp.so.0, with the .so.0 and .so links pointing at it; it exports
# exactly what gdoisrtp.h declares (-fvisibility=hidden, tests/integration/bridge_exports.sh)
GDOISRTP_VERSION := $(shell sed -n 's/^\#define GDOISRTP_VERSION "\(.*\)"/\1/p' srtp-bridge/gdoisrtp.h 2>/dev/null)
GDOISRTP_SONAME  := libgdoisrtp.so.$(firstword $(subst ., ,$(GDOISRTP_VERSION)))
LIBSRTPB_SO := $(if $(BRIDGE_SRC),$(BUILD)/lib/libgdoisrtp.so.$(GDOISRTP_VERSION))
BRIDGE_LIBS := $(shell pkg-config --libs libsrtp2 jansson 2>/dev/null)

# --- the GStreamer plugin (gst/: gdoisrtpdec, gdoisrtpenc) with libgdoisrtp linked in.
# Always built without sanitizers: gst-launch-1.0 and the other hosts that load
# it are not ASan programs.
GST_PKGS   := gstreamer-1.0 gstreamer-base-1.0
GST_SRC    := $(sort $(wildcard gst/*.c))
GST_FOUND  := $(shell pkg-config --exists $(GST_PKGS) 2>/dev/null && echo yes)
GST_PLUGIN := $(if $(and $(GST_SRC),$(GST_FOUND)),$(BUILD)/lib/gstreamer-1.0/libgstgdoisrtp.so)
GST_PLUGINDIR := $(shell pkg-config --variable=pluginsdir gstreamer-1.0 2>/dev/null)
GST_PIC    := $(GST_SRC:%.c=$(BUILD)/gstpic/%.o) $(BRIDGE_SRC:%.c=$(BUILD)/gstpic/%.o) \
	      $(IPC_CLIENT_SRC:%.c=$(BUILD)/gstpic/%.o)
GST_CFLAGS := $(CSTD) $(WARN) -O2 -g -fPIC -I. $(PKG_CFLAGS) $(shell pkg-config --cflags $(GST_PKGS) 2>/dev/null) -MMD -MP

# --- libgdoidaemon: the toolkit gdoi-ks and gdoi-sidecar share (logging, files,
# directories, credentials, readiness, core dumps); gdoictl takes its directory check.
DAEMON_SRC := $(sort $(wildcard daemon/*.c))
DAEMON_OBJ := $(DAEMON_SRC:%.c=$(BUILD)/obj/%.o)
LIBDAEMON  := $(BUILD)/lib/libgdoidaemon.a

# --- programs: a directory with main.c under tools/ or demo-app/ is a program
# of that name; keyserver/ is gdoi-ks and sidecar/ is gdoi-sidecar.
PROG_DIRS := $(sort $(dir $(wildcard tools/*/main.c demo-app/*/main.c)))
prog_name = $(notdir $(patsubst %/,%,$(1)))
PROG_MAP  := $(foreach d,$(PROG_DIRS),$(call prog_name,$(d)):$(d)) \
	     $(if $(wildcard keyserver/main.c),gdoi-ks:keyserver/) \
	     $(if $(wildcard sidecar/main.c),gdoi-sidecar:sidecar/)
PROGS     := $(foreach m,$(PROG_MAP),$(BUILD)/bin/$(word 1,$(subst :, ,$(m))))
LIBS_ALL  := $(LIBSRTPB) $(LIBIPC) $(LIBGDOI)

# What each program links: the project's archives (in link order) and the pkg-config
# packages it calls into, nothing more, so that its NEEDED list and its resident pages
# are only its own (tests/integration/linkage.sh checks the NEEDED lists). A program
# not listed here links everything.
PROG_LIBS_gdoi-ks      := $(LIBDAEMON) $(LIBIPC) $(LIBGDOI)
PROG_PKGS_gdoi-ks      := libcrypto libuv inih jansson sqlite3 libpq
PROG_LIBS_gdoi-sidecar := $(LIBDAEMON) $(LIBIPC) $(LIBGDOI)
PROG_PKGS_gdoi-sidecar := libcrypto libuv inih jansson
PROG_LIBS_gdoictl      := $(LIBDAEMON) $(LIBIPC)
PROG_PKGS_gdoictl      := jansson
PROG_LIBS_gdoi-dump    := $(LIBGDOI)
PROG_PKGS_gdoi-dump    := libcrypto jansson libpcap
PROG_LIBS_demo-sender  := $(LIBSRTPB)
PROG_PKGS_demo-sender  := libsrtp2 jansson
PROG_LIBS_demo-receiver := $(LIBSRTPB)
PROG_PKGS_demo-receiver := libsrtp2 jansson
prog_libs = $(if $(filter undefined,$(origin PROG_LIBS_$(1))),$(LIBDAEMON) $(LIBS_ALL),$(PROG_LIBS_$(1)))
prog_pkg_libs = $(if $(filter undefined,$(origin PROG_PKGS_$(1))),$(PKG_LIBS),$(shell pkg-config --libs $(PROG_PKGS_$(1)) 2>/dev/null))

# --- tests -------------------------------------------------------------------
TESTLIB_SRC := $(sort $(wildcard tests/lib/*.c))
TESTLIB_OBJ := $(TESTLIB_SRC:%.c=$(BUILD)/obj/%.o)
UNIT_SRC    := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINS   := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
# test drivers for the integration scripts: tests/tools/NAME.c -> $(BUILD)/tests/NAME
TOOL_SRC    := $(sort $(wildcard tests/tools/*.c))
TOOL_BINS   := $(TOOL_SRC:tests/tools/%.c=$(BUILD)/tests/%)

FUZZ_SRC  := $(sort $(wildcard tests/fuzz/fuzz_*.c))

# --- benchmarks: bench/NAME.c -> $(BUILD)/bench/NAME (release flags) ----------
BENCH_SRC  := $(sort $(wildcard bench/*.c))
BENCH_BINS := $(BENCH_SRC:bench/%.c=$(BUILD)/bench/%)

.PHONY: all check deps fuzz clean install test-bins analyze
# Objects of tests and tools are not intermediate files to delete after linking.
.SECONDARY:
all: $(LIBGDOI) $(LIBIPC) $(LIBSRTPB) $(LIBSRTPB_SO) $(PROGS) \
	$(GST_PLUGIN)
ifeq ($(GST_FOUND),)
  $(info note: GStreamer development packages missing (make deps): the gdoisrtp plugin is not built)
endif

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(ALL_CFLAGS) -c $< -o $@

$(BUILD)/obj/tests/%.o: tests/%.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(ALL_CFLAGS) $(TEST_CFLAGS) -c $< -o $@

$(BUILD)/pic/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC -fPIC $<"
	@$(CC) $(ALL_CFLAGS) -fPIC -fvisibility=hidden -c $< -o $@

$(LIBGDOI): $(GDOI_OBJ)
	@mkdir -p $(dir $@)
	@rm -f $@
	$(AR) rcs $@ $^

$(LIBDAEMON): $(DAEMON_OBJ)
	@mkdir -p $(dir $@)
	@rm -f $@
	$(AR) rcs $@ $^

$(LIBIPC): $(IPC_OBJ)
	@mkdir -p $(dir $@)
	@rm -f $@
	$(AR) rcs $@ $^

$(BUILD)/lib/libgdoisrtp.a: $(BRIDGE_OBJ) $(IPC_CLIENT_SRC:%.c=$(BUILD)/obj/%.o)
	@mkdir -p $(dir $@)
	@rm -f $@
	$(AR) rcs $@ $^

$(BUILD)/lib/libgdoisrtp.so.$(GDOISRTP_VERSION): $(BRIDGE_PIC)
	@mkdir -p $(dir $@)
	$(CC) -shared -Wl,-soname,$(GDOISRTP_SONAME) -Wl,-z,defs $(LDFLAGS_ALL) -o $@ $^ $(BRIDGE_LIBS)
	ln -sf $(notdir $@) $(BUILD)/lib/$(GDOISRTP_SONAME)
	ln -sf $(GDOISRTP_SONAME) $(BUILD)/lib/libgdoisrtp.so

$(BUILD)/gstpic/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC -fPIC $< (gst)"
	@$(CC) $(GST_CFLAGS) -c $< -o $@

$(BUILD)/lib/gstreamer-1.0/libgstgdoisrtp.so: $(GST_PIC)
	@mkdir -p $(dir $@)
	$(CC) -shared $(LDFLAGS) -o $@ $^ $(BRIDGE_LIBS) $(shell pkg-config --libs $(GST_PKGS) 2>/dev/null)

# Each program links its own directory's objects against its libraries (PROG_LIBS_*,
# PROG_PKGS_* above). demo-app programs also share demo-app/common/.
define prog_rule
$(BUILD)/bin/$(1): $$(patsubst %.c,$(BUILD)/obj/%.o,$$(wildcard $(2)*.c) $$(if $$(filter demo-app/%,$(2)),$$(wildcard demo-app/common/*.c))) $(call prog_libs,$(1))
	@mkdir -p $$(dir $$@)
	$$(CC) $$(LDFLAGS_ALL) -o $$@ $$^ $(call prog_pkg_libs,$(1))
endef
$(foreach m,$(PROG_MAP),$(eval $(call prog_rule,$(word 1,$(subst :, ,$(m))),$(word 2,$(subst :, ,$(m))))))

$(BUILD)/tests/test_%: $(BUILD)/obj/tests/unit/test_%.o $(TESTLIB_OBJ) $(LIBDAEMON) $(LIBS_ALL)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(PKG_LIBS) $(TEST_LIBS)

$(TOOL_BINS): $(BUILD)/tests/%: $(BUILD)/obj/tests/tools/%.o $(LIBDAEMON) $(LIBS_ALL)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(PKG_LIBS)

# reg-load --reuse-dh wraps the key pair calls of the Phase 1 and IKEv2 initiators (bench/reg-load.c).
$(BUILD)/bench/reg-load: LDFLAGS_ALL += -Wl,--wrap=gdoi_dh_new -Wl,--wrap=gdoi_dh_free
# reg-load's parts apart from its main file (bench/reg-load/*.c)
$(BUILD)/bench/reg-load: $(patsubst %.c,$(BUILD)/obj/%.o,$(sort $(wildcard bench/reg-load/*.c)))
$(BENCH_BINS): $(BUILD)/bench/%: $(BUILD)/obj/bench/%.o $(LIBS_ALL)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) -o $@ $(filter %.o,$^) $(filter %.a,$^) $(PKG_LIBS)

.PHONY: demo
demo: deps
	$(MAKE) all
	demo-app/run-demo.sh $(if $(IPV6),--ipv6) $(if $(PROTOCOL),--protocol=$(PROTOCOL))

.PHONY: bench bench-bins
bench-bins: all $(BENCH_BINS)

bench: deps
	$(MAKE) bench-bins
	bench/run.sh build

# reg-load too: tests/integration/push_loss.sh plays its 100 members.
test-bins: all $(UNIT_BINS) $(TOOL_BINS) $(BUILD)/bench/reg-load

# Unit tests that also run under valgrind (a plain build: valgrind cannot run ASan binaries).
# The plain daemons there are what daemon_hardening.sh takes core dumps of (GDOI_PLAIN_BUILD).
VALGRIND_TESTS := test_wire_vectors test_wire_malformed test_wire_roundtrip test_crypto \
	test_ike_keys test_phase1 test_phase1_sig test_pull test_pull_vectors test_push test_policy \
	test_ipc_snapshot test_ipc_proto test_bridge_policy test_ks_state test_ks_config test_sc_config \
	test_compat_gdoid test_member_teks test_member_route test_member_engine test_daemon_opts \
	test_daemon_metrics test_daemon_log test_push_ack test_gcks_push \
	test_ike2_wire test_ike2_keys test_ike2_sk test_gike2_payload test_gike2_keywrap test_gike2_rekey \
	test_ike2_exchange test_ike2_sig test_ike2_certreq test_gike2_msg test_gike2_auth test_gike2_engines test_gike2_inband test_gcks \
	test_dh test_ossl_pool test_sign_spki

check: deps
	$(MAKE) BUILD=build/asan SAN=1 test-bins
	$(MAKE) BUILD=build/vg CFLAGS="-O1 -g" $(VALGRIND_TESTS:%=build/vg/tests/%) \
		build/vg/bin/gdoi-ks build/vg/bin/gdoi-sidecar
	$(MAKE) BUILD=build/fuzz fuzz-bins
	FUZZ_SECONDS=$(CHECK_FUZZ_SECONDS) VALGRIND_BUILD=build/vg VALGRIND_TESTS="$(VALGRIND_TESTS)" \
		GDOI_PLAIN_BUILD=build/vg \
		tests/run-all.sh build/asan build/fuzz

deps:
	@sh tests/deps.sh

# scan-build + cppcheck over everything (docs/static-analysis.md); fails on a
# finding not triaged in tests/analyze/. Builds into build/sb. Not part of check.
analyze:
	tests/analyze/run.sh

# --- fuzzing (clang + libFuzzer, ASan+UBSan) --------------------------------
FUZZ_BUILD := build/fuzz
FUZZ_CFLAGS := $(CSTD) $(WARN) -O1 -g -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined -I. $(PKG_CFLAGS)
FUZZ_BINS := $(FUZZ_SRC:tests/fuzz/%.c=$(FUZZ_BUILD)/%)
FUZZ_LIB_OBJ := $(GDOI_SRC:%.c=$(FUZZ_BUILD)/obj/%.o)

$(FUZZ_BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CLANG   $<"
	@clang $(FUZZ_CFLAGS) -MMD -MP -c $< -o $@

# targets beyond the core link what they test: the IPC parsers, the daemons' address parser
$(FUZZ_BUILD)/fuzz_ipc: $(patsubst %.c,$(FUZZ_BUILD)/obj/%.o,$(filter-out ipc/server.c ipc/client.c,$(IPC_SRC)))
$(FUZZ_BUILD)/fuzz_daemon_addr: $(FUZZ_BUILD)/obj/daemon/addr.o
$(FUZZ_BUILD)/fuzz_dump_ike2: $(patsubst %,$(FUZZ_BUILD)/obj/tools/gdoi-dump/%.o,ike2 ike2_keys ike2_names ike2_payload print_json)

$(FUZZ_BUILD)/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_LIB_OBJ)
	@mkdir -p $(dir $@)
	@echo "  FUZZ    $@"
	@clang $(FUZZ_CFLAGS) -MMD -MP -MF $@.d -fsanitize=fuzzer $(filter %.c %.o,$^) -o $@ $(PKG_LIBS)

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
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/include \
		$(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/man/man8 \
		$(DESTDIR)$(PREFIX)/share/doc/gdoi-srtp/examples
	for p in $(PROGS); do install -m 0755 $$p $(DESTDIR)$(PREFIX)/bin/; done
	[ -z "$(LIBSRTPB)" ] || install -m 0644 $(LIBSRTPB) $(DESTDIR)$(PREFIX)/lib/
	[ -z "$(LIBSRTPB_SO)" ] || { install -m 0755 $(LIBSRTPB_SO) $(DESTDIR)$(PREFIX)/lib/ && \
		ln -sf $(notdir $(LIBSRTPB_SO)) $(DESTDIR)$(PREFIX)/lib/$(GDOISRTP_SONAME) && \
		ln -sf $(GDOISRTP_SONAME) $(DESTDIR)$(PREFIX)/lib/libgdoisrtp.so; }
	[ -z "$(LIBSRTPB)" ] || install -m 0644 srtp-bridge/gdoisrtp.h $(DESTDIR)$(PREFIX)/include/
	# the .pc names the prefix of this install (PREFIX here, not at build time)
	[ -z "$(LIBSRTPB)" ] || { sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@VERSION@|$(GDOISRTP_VERSION)|g' \
		srtp-bridge/gdoisrtp.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/gdoisrtp.pc && \
		chmod 0644 $(DESTDIR)$(PREFIX)/lib/pkgconfig/gdoisrtp.pc; }
	for m in $(wildcard docs/man/*.1); do install -m 0644 $$m $(DESTDIR)$(PREFIX)/share/man/man1/; done
	for m in $(wildcard docs/man/*.8); do install -m 0644 $$m $(DESTDIR)$(PREFIX)/share/man/man8/; done
	for e in $(wildcard examples/*.conf); do install -m 0644 $$e $(DESTDIR)$(PREFIX)/share/doc/gdoi-srtp/examples/; done
	[ -z "$(GST_PLUGIN)" ] || { install -d $(DESTDIR)$(GST_PLUGINDIR) && \
		install -m 0644 $(GST_PLUGIN) $(DESTDIR)$(GST_PLUGINDIR)/; }
	install -d $(DESTDIR)$(SYSTEMD_UNITDIR) $(DESTDIR)$(SYSUSERSDIR) $(DESTDIR)$(BASHCOMPDIR)
	for u in $(UNITS); do \
	  sed 's|@BINDIR@|$(PREFIX)/bin|g' systemd/$$u.service.in > $(DESTDIR)$(SYSTEMD_UNITDIR)/$$u.service && \
	  chmod 0644 $(DESTDIR)$(SYSTEMD_UNITDIR)/$$u.service && \
	  install -m 0644 systemd/$$u.sysusers $(DESTDIR)$(SYSUSERSDIR)/$$u.conf || exit 1; done
	install -m 0644 tools/gdoictl/gdoictl.bash-completion $(DESTDIR)$(BASHCOMPDIR)/gdoictl
	install -m 0644 LICENSE $(DESTDIR)$(PREFIX)/share/doc/gdoi-srtp/

# Exactly what install puts: the same install into a scratch DESTDIR says which
# files those are (whatever the install rule becomes); each is removed from
# $(DESTDIR)$(PREFIX), then the directories only this project fills, if empty.
.PHONY: uninstall
uninstall:
	@stage=$$(mktemp -d) && trap 'rm -rf "$$stage"' EXIT && \
	$(MAKE) --no-print-directory -s install DESTDIR=$$stage PREFIX='$(PREFIX)' \
		SYSTEMD_UNITDIR='$(SYSTEMD_UNITDIR)' SYSUSERSDIR='$(SYSUSERSDIR)' BASHCOMPDIR='$(BASHCOMPDIR)' \
		GST_PLUGINDIR='$(GST_PLUGINDIR)' >/dev/null && \
	( cd "$$stage" && find . ! -type d ) | while read -r f; do \
	  f=$${f#.}; echo "  RM      $(DESTDIR)$$f"; rm -f "$(DESTDIR)$$f" || exit 1; done && \
	for d in $(PREFIX)/share/doc/gdoi-srtp/examples $(PREFIX)/share/doc/gdoi-srtp; do \
	  [ ! -d "$(DESTDIR)$$d" ] || rmdir --ignore-fail-on-non-empty "$(DESTDIR)$$d"; done

# --- Debian packages (debian/, docs/packaging.md) ----------------------------
# dpkg-buildpackage writes its .debs into the parent directory: the build runs on
# a copy of the tracked tree in build/deb/src so that they land in build/deb/.
DEB_DIR := build/deb
.PHONY: deb deb-check
deb:
	@command -v dh >/dev/null && command -v lintian >/dev/null || \
	  { echo "make deb needs: apt-get install debhelper lintian" >&2; exit 1; }
	rm -rf $(DEB_DIR) && mkdir -p $(DEB_DIR)/src
	if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then \
	  git ls-files -z | xargs -0 cp -P --parents -t $(DEB_DIR)/src; \
	else tar --exclude=./build --exclude=./.git -cf - . | tar -xf - -C $(DEB_DIR)/src; fi
	cd $(DEB_DIR)/src && dpkg-buildpackage -us -uc -b
	lintian --fail-on error $(DEB_DIR)/*.changes
	@ls $(DEB_DIR)/*.deb

deb-check: deb
	tests/deb/install.sh $(DEB_DIR)

# (build/deb holds a whole source tree and debian/tmp: not this build's dependencies)
-include $(shell find $(BUILD) -path build/deb -prune -o -name '*.d' -type f -print 2>/dev/null)
