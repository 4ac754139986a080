#!/bin/sh
# Runs every unit test, every fuzz-regression replay and every end-to-end script, then
# prints the total as one line "N passed, N failed". Argument: run only names containing it.
set -u
BUILD=${BUILD:-build}
export BUILD
filter=${1:-}
passed=0 failed=0
log=$(mktemp)
run_one() { # name, command...
    name=$1; shift
    case "$name" in *"$filter"*) ;; *) return ;; esac
    if "$@" >"$log" 2>&1; then status=0; else status=$?; fi
    line=$(grep -E '[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
    p=$(echo "$line" | awk '{for (i = 2; i <= NF; i++) if ($i == "passed,") print $(i-1)}')
    f=$(echo "$line" | awk '{for (i = 2; i <= NF; i++) if ($i ~ /^failed/) print $(i-1)}')
    p=${p:-0}; f=${f:-0}
    if [ "$status" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
    passed=$((passed + p)); failed=$((failed + f))
    if [ "$f" -ne 0 ]; then
        echo "FAIL $name (exit $status)"; tail -n 40 "$log" | sed 's/^/    /'
    else
        echo "ok   $name: $p passed"
    fi
}
run_one layers sh tools/layers.sh
for t in "$BUILD"/tests/test_*; do
    [ -x "$t" ] && run_one "$(basename "$t")" "$t"
done
for t in "$BUILD"/tests/regress_*; do
    [ -x "$t" ] || continue
    n=$(basename "$t"); n=${n#regress_}
    run_one "regress_$n" "$t" "tests/fuzz/corpus/$n" "tests/fuzz/regress/$n"
done
for t in tests/e2e/*.sh; do
    [ -f "$t" ] && run_one "$(basename "$t")" sh "$t"
done
rm -f "$log"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
