# onevoice: non-recursive build. Everything lands in $(BUILD) (build/ by default).
#   make           libraries and programs          make check   tests plain, then under ASan+UBSan
#   make test      tests once (T=name for one)     make bench   benchmarks
#   make fuzz      every fuzz target, bounded      make demo    a whole assembly, end to end
#   make install   programs, libonevoice, onevoice.h, onevoice.pc, man pages, units (DESTDIR, PREFIX)
BUILD    ?= build
CC       ?= gcc
PKGS     := libsodium sqlite3 libmicrohttpd libcbor libcrypto libcurl jansson gnutls
SAN      ?=
WARN     := -Wall -Wextra -Werror -Wpedantic -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
            -Wold-style-definition -Wpointer-arith -Wcast-qual -Wwrite-strings -Wformat=2 -Wvla \
            -Wnull-dereference -Wimplicit-fallthrough -Wundef -Wswitch-enum
GCCWARN  := $(if $(findstring clang,$(CC)),,-Wduplicated-cond -Wduplicated-branches -Wlogical-op)
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CFLAGS   ?= -O2 -g
override CFLAGS += -std=c17 -D_GNU_SOURCE -DOPENSSL_API_COMPAT=30000 -DOPENSSL_NO_DEPRECATED \
            $(if $(SAN),,-D_FORTIFY_SOURCE=2) -fstack-protector-strong -fPIE $(SAN) \
            $(WARN) $(GCCWARN) -iquote core $(PKG_CFLAGS)
CORE_CFLAGS := -Wconversion -Wsign-conversion
DEPFLAGS  = -MMD -MP   # each object also gets a .d file listing every header it includes
LDFLAGS  += -pie -Wl,-z,relro,-z,now $(SAN)
LDLIBS   += $(PKG_LIBS) -lpthread -lm

CORE_SRC := $(wildcard core/*/*.c)
CORE_OBJ := $(CORE_SRC:%.c=$(BUILD)/obj/%.o)
LIBCORE  := $(BUILD)/libovcore.a

# program name -> source folder; a program is built once its folder has a main.c
PROGRAMS := onevoice-log:log onevoice-witness:clients/witness onevoice-issuer:issuer \
            onevoice-verifier:verifier onevoice:clients/wallet onevoice-audit:clients/audit \
            onevoice-sortition:clients/sortition onevoice-admin:clients/admin \
            onevoice-relay:relay
prog_dir  = $(word 2,$(subst :, ,$(1)))
prog_name = $(word 1,$(subst :, ,$(1)))
BUILT_PROGS := $(foreach p,$(PROGRAMS),$(if $(wildcard $(call prog_dir,$(p))/main.c),$(BUILD)/$(call prog_name,$(p))))

# The platform library: lib/*.c with everything it needs from core, one static archive.
LIB_SRC   := $(wildcard lib/*.c)
LIB_OBJ   := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
LIBONEVOICE := $(if $(LIB_SRC),$(BUILD)/libonevoice.a)
EXAMPLE_SRC := $(wildcard examples/*.c)
EXAMPLE_BINS := $(EXAMPLE_SRC:examples/%.c=$(BUILD)/examples/%)
VERSION  := 0.1.0
PREFIX   ?= /usr/local
BINDIR   ?= $(PREFIX)/bin
LIBDIR   ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
MANDIR   ?= $(PREFIX)/share/man
DATADIR  ?= $(PREFIX)/share
WEBDIR   ?= $(DATADIR)/onevoice/web
MAN_PAGES := $(wildcard man/*.1)
UNITDIR  ?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
DOCDIR   ?= $(PREFIX)/share/doc/onevoice
UNITS    := $(wildcard units/*.service)
EXAMPLE_CONFS := $(wildcard examples/config/*.conf)

UNIT_SRC  := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
BENCH_SRC := $(wildcard tests/bench/bench_*.c)
BENCH_BINS:= $(BENCH_SRC:tests/bench/%.c=$(BUILD)/bench/%)
TOOL_SRC  := $(wildcard tests/tools/*.c)
TOOL_BINS := $(TOOL_SRC:tests/tools/%.c=$(BUILD)/tools/%)
FUZZ_SRC  := $(wildcard tests/fuzz/fuzz_*.c)
REGRESS_BINS := $(FUZZ_SRC:tests/fuzz/fuzz_%.c=$(BUILD)/tests/regress_%)

.DEFAULT_GOAL := all
.PRECIOUS: $(BUILD)/obj/%.o
.DELETE_ON_ERROR:
-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)

.PHONY: all deps test check asan bench fuzz demo clean analyze install uninstall layers \
        package-check
all: $(LIBCORE) $(BUILT_PROGS) $(LIBONEVOICE) $(EXAMPLE_BINS)

deps:
	@tools/deps.sh

$(BUILD)/obj/core/%.o: core/%.c | deps
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(CFLAGS) $(CORE_CFLAGS) $(DEPFLAGS) -c $< -o $@

# Results specified bit for bit (docs/PROTOCOL.md §11): no fused multiply-add contraction.
$(BUILD)/obj/core/protocol/bridging.o: CORE_CFLAGS += -ffp-contract=off
$(BUILD)/obj/core/protocol/groups.o: CORE_CFLAGS += -ffp-contract=off

# --version (infra/cli.c prints it): rebuilt when the Makefile, and so VERSION, changes.
$(BUILD)/obj/core/infra/cli.o: CORE_CFLAGS += -DOV_VERSION='"$(VERSION)"'
$(BUILD)/obj/core/infra/cli.o: Makefile

$(BUILD)/obj/%.o: %.c | deps
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(CFLAGS) $(DEPFLAGS) -c $< -o $@

$(LIBCORE): $(CORE_OBJ)
	@mkdir -p $(dir $@)
	@rm -f $@ && $(AR) rcs $@ $^

$(BUILD)/obj/lib/%.o: lib/%.c lib/onevoice.h $(wildcard lib/*.h) $(wildcard core/*/*.h) | deps
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(CFLAGS) $(CORE_CFLAGS) -c $< -o $@

$(LIBONEVOICE): $(LIB_OBJ) $(CORE_OBJ)
	@mkdir -p $(dir $@)
	@rm -f $@ && $(AR) rcs $@ $^

# Examples use the library as an outside program would: its public header only.
$(BUILD)/obj/examples/%.o: examples/%.c lib/onevoice.h | deps
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(CFLAGS) -Ilib -c $< -o $@

$(BUILD)/examples/%: $(BUILD)/obj/examples/%.o $(LIBONEVOICE)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

define program_rule
$(BUILD)/$(call prog_name,$(1)): $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard $(call prog_dir,$(1))/*.c)) $(LIBCORE)
	$$(CC) $$(LDFLAGS) -o $$@ $$^ $$(LDLIBS)
endef
$(foreach p,$(PROGRAMS),$(eval $(call program_rule,$(p))))

$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(LIBCORE)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# A unit test of a server's own modules (test_verifier_*.c) links them all but its main.
VERIFIER_OBJ = $(filter-out %/main.o,$(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard verifier/*.c)))
$(BUILD)/tests/test_verifier_%: $(BUILD)/obj/tests/unit/test_verifier_%.o $(VERIFIER_OBJ) $(LIBCORE)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# The same for the issuer's (test_issuer_*.c): the modules they test, without main.
$(BUILD)/tests/test_issuer_hashes: $(BUILD)/obj/tests/unit/test_issuer_hashes.o \
		$(BUILD)/obj/issuer/hashes.o $(LIBCORE)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# The platform library's own test: linked with libonevoice, as a platform is.
$(BUILD)/tests/test_libonevoice: $(BUILD)/obj/tests/unit/test_libonevoice.o $(LIBONEVOICE)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/bench/%: $(BUILD)/obj/tests/bench/%.o $(LIBCORE)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# Test and benchmark tools (load generators, checkers): one .c each.
$(BUILD)/tools/%: $(BUILD)/obj/tests/tools/%.o $(LIBCORE)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# Each fuzz target also builds as a plain program that replays its corpus and regressions.
$(BUILD)/tests/regress_%: $(BUILD)/obj/tests/fuzz/fuzz_%.o $(BUILD)/obj/tests/fuzz/replay.o $(LIBCORE)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# libFuzzer build of a fuzz target (used by tests/fuzz/run.sh with CC=clang).
$(BUILD)/fuzz/fuzz_%: $(BUILD)/obj/tests/fuzz/fuzz_%.o $(LIBCORE)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -fsanitize=fuzzer -o $@ $^ $(LDLIBS)

# core/README.md's include rule: no module includes a layer above its own.
layers:
	@tools/layers.sh

test: all $(UNIT_BINS) $(REGRESS_BINS) $(TOOL_BINS)
	@tools/deps.sh test
	@BUILD=$(BUILD) ONCE=$(ONCE) tests/run.sh $(T)

# the builds use every core (tests/run.sh spreads the tests itself). check runs each
# end-to-end script once (ONCE=1, tests/run.sh): most under the sanitizers, the page's,
# the demo and the waiting ones in the plain build; test and asan run all of theirs.
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
ONCE ?= 0
check:
	$(MAKE) -j$(JOBS) test ONCE=1
	$(MAKE) -j$(JOBS) test ONCE=1 BUILD=build/asan CFLAGS="-O1 -g" \
	  SAN="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"

asan:
	$(MAKE) -j$(JOBS) test BUILD=build/asan CFLAGS="-O1 -g" \
	  SAN="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"

bench: all $(BENCH_BINS) $(TOOL_BINS)
	@BUILD=$(BUILD) tests/bench/run.sh

FUZZ_RUNS ?= 200000
fuzz: deps
	@BUILD=build/fuzz FUZZ_RUNS=$(FUZZ_RUNS) tests/fuzz/run.sh

demo: all $(TOOL_BINS)
	@BUILD=$(BUILD) tools/demo.sh

analyze:
	rm -rf build/analyze/obj
	$(MAKE) all BUILD=build/analyze CFLAGS="-O2 -fanalyzer"
	cppcheck --quiet --error-exitcode=1 --enable=warning,portability -Icore core log issuer verifier clients

# Installs the programs, the platform library, its header, its pkg-config file, the man
# pages (man/*.1, installed as they are: troff sources, nothing to build), the servers'
# systemd units with their users (units/README.md; @BINDIR@ becomes BINDIR) and the example
# configuration files (as documentation: /etc/onevoice is the operator's, or a package's),
# and the transparency page, web/ as it is (no build step; dotfiles and its README left
# out), into WEBDIR, which the log serves with --web (examples/config/log.conf).
install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCLUDEDIR) $(DESTDIR)$(PKGCONFIGDIR)
	$(if $(BUILT_PROGS),install -m 755 $(BUILT_PROGS) $(DESTDIR)$(BINDIR)/)
	install -m 644 $(LIBONEVOICE) $(DESTDIR)$(LIBDIR)/libonevoice.a
	install -m 644 lib/onevoice.h $(DESTDIR)$(INCLUDEDIR)/onevoice.h
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@LIBDIR@|$(LIBDIR)|g' -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|g' \
	    -e 's|@VERSION@|$(VERSION)|g' lib/onevoice.pc.in > $(DESTDIR)$(PKGCONFIGDIR)/onevoice.pc
	chmod 644 $(DESTDIR)$(PKGCONFIGDIR)/onevoice.pc
	install -d $(DESTDIR)$(MANDIR)/man1
	$(if $(MAN_PAGES),install -m 644 $(MAN_PAGES) $(DESTDIR)$(MANDIR)/man1/)
	install -d $(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSUSERSDIR) $(DESTDIR)$(DOCDIR)/examples
	$(foreach u,$(UNITS),sed -e 's|@BINDIR@|$(BINDIR)|g' $(u) > $(DESTDIR)$(UNITDIR)/$(notdir $(u)) && \
	    chmod 644 $(DESTDIR)$(UNITDIR)/$(notdir $(u)) &&) true
	install -m 644 units/onevoice.sysusers $(DESTDIR)$(SYSUSERSDIR)/onevoice.conf
	$(if $(EXAMPLE_CONFS),install -m 644 $(EXAMPLE_CONFS) $(DESTDIR)$(DOCDIR)/examples/)
	install -d $(DESTDIR)$(WEBDIR)
	find web -type f ! -path '*/.*' ! -name README.md 2>/dev/null | while read -r f; do \
	    install -D -m 644 "$$f" "$(DESTDIR)$(WEBDIR)/$${f#web/}" || exit 1; done

uninstall:
	rm -f $(foreach p,$(BUILT_PROGS),$(DESTDIR)$(BINDIR)/$(notdir $(p)))
	rm -f $(DESTDIR)$(LIBDIR)/libonevoice.a $(DESTDIR)$(INCLUDEDIR)/onevoice.h \
	    $(DESTDIR)$(PKGCONFIGDIR)/onevoice.pc
	rm -f $(foreach m,$(MAN_PAGES),$(DESTDIR)$(MANDIR)/man1/$(notdir $(m)))
	rm -f $(foreach u,$(UNITS),$(DESTDIR)$(UNITDIR)/$(notdir $(u))) \
	    $(DESTDIR)$(SYSUSERSDIR)/onevoice.conf \
	    $(foreach c,$(EXAMPLE_CONFS),$(DESTDIR)$(DOCDIR)/examples/$(notdir $(c)))
	-rmdir $(DESTDIR)$(DOCDIR)/examples $(DESTDIR)$(DOCDIR) 2>/dev/null
	rm -rf $(DESTDIR)$(WEBDIR)
	-rmdir $(DESTDIR)$(DATADIR)/onevoice 2>/dev/null

clean:
	rm -rf build

# The Debian packages (debian/): built from a copy of the tree in build/deb/src, since
# dpkg-buildpackage writes them into the parent directory (build/deb/), checked by lintian
# (errors fail, warnings shown), then installed on this machine, run as their units run them
# and purged (tests/package/deb.sh). As root; not part of make check (CI runs it after).
package-check: deps
	@tools/deps.sh package
	rm -rf build/deb && mkdir -p build/deb/src
	tar --exclude=./build --exclude=./.git --exclude=node_modules -cf - . | tar -xf - -C build/deb/src
	cd build/deb/src && DEB_BUILD_OPTIONS="nocheck parallel=$(JOBS)" dpkg-buildpackage -us -uc -b \
	    > ../build.log 2>&1 || { tail -n 40 ../build.log; exit 1; }
	lintian --fail-on error --tag-display-limit 0 build/deb/onevoice_$(VERSION)_*.changes
	@DEB_DIR=build/deb sh tests/package/deb.sh
