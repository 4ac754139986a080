# onevoice: non-recursive build. Everything lands in $(BUILD) (build/ by default).
#   make           libraries and programs          make check   tests, then again under ASan+UBSan
#   make test      tests once (T=name for one)     make bench   benchmarks
#   make fuzz      every fuzz target, bounded      make demo    a whole assembly, end to end
BUILD    ?= build
CC       ?= gcc
PKGS     := libsodium sqlite3 libmicrohttpd libcbor libcrypto libcurl jansson
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
LDFLAGS  += -pie -Wl,-z,relro,-z,now $(SAN)
LDLIBS   += $(PKG_LIBS) -lpthread -lm

CORE_SRC := $(wildcard core/*.c)
CORE_OBJ := $(CORE_SRC:%.c=$(BUILD)/obj/%.o)
LIBCORE  := $(BUILD)/libovcore.a

# program name -> source folder; a program is built once its folder has a main.c
PROGRAMS := onevoice-log:log onevoice-witness:clients/witness onevoice-issuer:issuer \
            onevoice-verifier:verifier onevoice:clients/wallet onevoice-audit:clients/audit
prog_dir  = $(word 2,$(subst :, ,$(1)))
prog_name = $(word 1,$(subst :, ,$(1)))
BUILT_PROGS := $(foreach p,$(PROGRAMS),$(if $(wildcard $(call prog_dir,$(p))/main.c),$(BUILD)/$(call prog_name,$(p))))

UNIT_SRC  := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
BENCH_SRC := $(wildcard tests/bench/bench_*.c)
BENCH_BINS:= $(BENCH_SRC:tests/bench/%.c=$(BUILD)/bench/%)
TOOL_SRC  := $(wildcard tests/tools/*.c)
TOOL_BINS := $(TOOL_SRC:tests/tools/%.c=$(BUILD)/tools/%)
FUZZ_SRC  := $(wildcard tests/fuzz/fuzz_*.c)
REGRESS_BINS := $(FUZZ_SRC:tests/fuzz/fuzz_%.c=$(BUILD)/tests/regress_%)

.SECONDARY:
.DELETE_ON_ERROR:
.PHONY: all deps test check asan bench fuzz demo clean analyze
all: $(LIBCORE) $(BUILT_PROGS)

deps:
	@tools/deps.sh

$(BUILD)/obj/core/%.o: core/%.c $(wildcard core/*.h) | deps
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(CFLAGS) $(CORE_CFLAGS) -c $< -o $@

$(BUILD)/obj/%.o: %.c $(wildcard core/*.h) | deps
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(CFLAGS) -c $< -o $@

$(LIBCORE): $(CORE_OBJ)
	@mkdir -p $(dir $@)
	@rm -f $@ && $(AR) rcs $@ $^

define program_rule
$(BUILD)/$(call prog_name,$(1)): $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard $(call prog_dir,$(1))/*.c)) $(LIBCORE)
	$$(CC) $$(LDFLAGS) -o $$@ $$^ $$(LDLIBS)
endef
$(foreach p,$(PROGRAMS),$(eval $(call program_rule,$(p))))
# a program's objects also depend on the program's own headers (app.h...)
$(foreach p,$(PROGRAMS),$(eval $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard $(call prog_dir,$(p))/*.c)): $(wildcard $(call prog_dir,$(p))/*.h)))

$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(LIBCORE)
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

test: all $(UNIT_BINS) $(REGRESS_BINS) $(TOOL_BINS)
	@BUILD=$(BUILD) tests/run.sh $(T)

check:
	$(MAKE) test
	$(MAKE) test BUILD=build/asan CFLAGS="-O1 -g" \
	  SAN="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"

asan:
	$(MAKE) test BUILD=build/asan CFLAGS="-O1 -g" \
	  SAN="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"

bench: all $(BENCH_BINS) $(TOOL_BINS)
	@BUILD=$(BUILD) tests/bench/run.sh

FUZZ_RUNS ?= 200000
fuzz: deps
	@BUILD=build/fuzz FUZZ_RUNS=$(FUZZ_RUNS) tests/fuzz/run.sh

demo: all
	@BUILD=$(BUILD) tools/demo.sh

analyze:
	$(MAKE) clean-obj BUILD=build/analyze
	$(MAKE) all BUILD=build/analyze CFLAGS="-O2 -fanalyzer"
	cppcheck --quiet --error-exitcode=1 --enable=warning,portability -Icore core log issuer verifier clients

clean:
	rm -rf build
