#!/bin/sh
# The results docs/PROTOCOL.md §11 specifies bit for bit (core/protocol/bridging, §11.1;
# core/protocol/groups, §11.2) come out the same whatever builds them: each module's unit
# test and the module compiled on their own at -O0, -O2, -O3 with -march=native (FMA on the
# machines that have it: -ffp-contract=off must keep it out), and with clang when present.
# Each build writes the result bytes of the test's recorded inputs and must pass the whole
# test, whose recorded digests it also checks. The control: on a machine with FMA, a build
# allowing contraction changes the bytes and the test says so (the comparisons are not
# vacuous). About 15 s.
. tests/e2e/lib/common.sh
# Once per make check: the ASan pass runs the unit tests under ASan+UBSan with the same
# recorded digests, so this script's own builds add nothing there.
case "$BUILD" in *asan*) echo "the plain pass compares the builds"; summary; exit ;; esac
T=$E2E_TMP
FLAGS="-std=c17 -D_GNU_SOURCE -iquote core -ffp-contract=off -Wall -Wextra -Werror"
LIBS="$(pkg-config --libs libsodium 2>/dev/null || echo -lsodium) -lm"

# emit MODULE BIN FILE: the result bytes BIN (test_MODULE) gives for its recorded inputs:
# bridging prints the digests of its fixed inputs, groups writes the bytes of its own
emit() {
    if [ "$1" = bridging ]; then "$2" --print > "$3" 2>&1; else "$2" --dump "$3" > /dev/null 2>&1; fi
}

# build MODULE NAME CC FLAGS...: builds $T/MODULE-NAME, runs its test, its bytes into .out
build() {
    m=$1; bin=$T/$1-$2; cc=$3; shift 3
    # shellcheck disable=SC2086
    if $cc $FLAGS "$@" -o "$bin" tests/unit/test_$m.c core/protocol/$m.c $LIBS 2>"$bin.err"; then
        ok
    else
        fail "$m $cc $*: build"; cat "$bin.err" >&2; return
    fi
    check "$m, $cc $*: the test passes" "$bin"
    emit "$m" "$bin" "$bin.out" || fail "$m, $cc $*: the result bytes"
}

for m in bridging groups; do
    build $m gcc-O0 gcc -O0
    build $m gcc-O2 gcc -O2
    build $m gcc-O3-native gcc -O3 -march=native
    if command -v clang >/dev/null 2>&1; then
        build $m clang-O2 clang -O2
        build $m clang-O3-native clang -O3 -march=native
    fi
    want=$T/$m-gcc-O2.out
    if [ $m = bridging ]; then
        check_eq "bridging: two digests printed" "$(grep -c '^[a-z]* [0-9a-f]\{64\}$' "$want")" 2
    else
        check "groups: the bytes are written" test -s "$want"
    fi
    for f in "$T/$m"-*.out; do
        check "$(basename "$f" .out) gives the bytes -O2 gives" cmp -s "$f" "$want"
    done
    if grep -qw fma /proc/cpuinfo 2>/dev/null &&
        # shellcheck disable=SC2086
        gcc $FLAGS -O2 -march=native -ffp-contract=fast -o "$T/$m-fma" \
            tests/unit/test_$m.c core/protocol/$m.c $LIBS 2>/dev/null; then
        emit "$m" "$T/$m-fma" "$T/$m-fma.bytes"
        check_eq "$m: FMA contraction changes the bytes" "$(cmp -s "$T/$m-fma.bytes" "$want"; echo $?)" 1
        check_eq "$m: and the test says so" "$("$T/$m-fma" >/dev/null 2>&1; echo $?)" 1
    fi
done
summary
