#!/bin/sh
# Builds every fuzz target with clang's libFuzzer (ASan+UBSan) and runs each for
# FUZZ_RUNS executions (default 200000), seeded from tests/fuzz/corpus/<name>.
# A crash is saved in tests/fuzz/regress/<name>/, which make check replays from then on.
# Argument: run only targets whose name contains it.
set -eu
BUILD=${BUILD:-build/fuzz}
RUNS=${FUZZ_RUNS:-200000}
filter=${1:-}
SAN="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
status=0
for src in tests/fuzz/fuzz_*.c; do
    name=$(basename "$src" .c); name=${name#fuzz_}
    case "$name" in *"$filter"*) ;; *) continue ;; esac
    make -s BUILD="$BUILD" CC=clang CFLAGS="-O1 -g" SAN="$SAN" "$BUILD/fuzz/fuzz_$name"
    work=$(mktemp -d)
    [ -d "tests/fuzz/corpus/$name" ] && cp -r "tests/fuzz/corpus/$name/." "$work/"
    mkdir -p "tests/fuzz/regress/$name"
    if "$BUILD/fuzz/fuzz_$name" -runs="$RUNS" -max_len=70000 -print_final_stats=1 \
        -artifact_prefix="tests/fuzz/regress/$name/" "$work" >"$work.log" 2>&1; then
        execs=$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+)/\1/p' "$work.log")
        echo "fuzz $name: $execs executions, no crash"
    else
        echo "fuzz $name: CRASH (kept in tests/fuzz/regress/$name/)"; tail -n 30 "$work.log"
        status=1
    fi
    rmdir "tests/fuzz/regress/$name" 2>/dev/null || true
    rm -rf "$work" "$work.log"
done
exit $status
