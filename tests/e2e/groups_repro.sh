#!/bin/sh
# Opinion groups (core/protocol/groups, docs/PROTOCOL.md §11.2) give the same bytes whatever
# builds them: test_groups and groups.c compiled on their own at -O0, -O2, -O3 with
# -march=native (FMA on the machines that have it: -ffp-contract=off must keep it out),
# and with clang when present (the ASan pass runs the unit test itself). Each build writes the result bytes of the
# test's recorded input and must pass the whole test, whose recorded hash it also checks.
# About 10 s.
. tests/e2e/lib/common.sh
# Once per make check: the ASan pass runs the unit test under ASan+UBSan with the same
# recorded digests, so this script's own builds add nothing there.
case "$BUILD" in *asan*) echo "the plain pass compares the builds"; summary; exit ;; esac
T=$E2E_TMP
SRC="tests/unit/test_groups.c core/protocol/groups.c"
FLAGS="-std=c17 -D_GNU_SOURCE -iquote core -ffp-contract=off -Wall -Wextra -Werror"
LIBS="$(pkg-config --libs libsodium 2>/dev/null || echo -lsodium) -lm"

# build NAME CC FLAGS...: builds $T/NAME, runs the test, its result bytes into $T/NAME.bin
build() {
    name=$1; cc=$2; shift 2
    # shellcheck disable=SC2086
    if $cc $FLAGS "$@" -o "$T/$name" $SRC $LIBS 2>"$T/$name.err"; then
        ok
    else
        fail "$name: build"; cat "$T/$name.err" >&2; return
    fi
    check "$name: the test passes, the recorded hash with it" "$T/$name" --dump "$T/$name.bin"
}

build gcc-O0 gcc -O0
build gcc-O2 gcc -O2
build gcc-O3-native gcc -O3 -march=native
if command -v clang >/dev/null 2>&1; then
    build clang-O2 clang -O2
    build clang-O3-native clang -O3 -march=native
fi
check "the bytes are written" test -s "$T/gcc-O2.bin"
for f in "$T"/*.bin; do
    check "$(basename "$f" .bin) gives the bytes -O2 gives" cmp -s "$f" "$T/gcc-O2.bin"
done
# The control: on a machine with FMA, contraction allowed changes the bytes, and the
# recorded hash catches it (so the comparisons above are not vacuous).
if grep -qw fma /proc/cpuinfo 2>/dev/null; then
    # shellcheck disable=SC2086
    if gcc $FLAGS -O2 -march=native -ffp-contract=fast -o "$T/fma" $SRC $LIBS 2>/dev/null; then
        "$T/fma" --dump "$T/fma.out" >/dev/null 2>&1
        check_eq "FMA contraction changes the bytes" "$(cmp -s "$T/fma.out" "$T/gcc-O2.bin"; echo $?)" 1
        check_eq "and the test says so" "$("$T/fma" >/dev/null 2>&1; echo $?)" 1
    fi
fi
summary
