#!/bin/sh
# Runs every unit test, every fuzz-regression replay and every end-to-end script, then
# prints the total as one line "N passed, N failed". Argument: run only names containing it.
set -u
BUILD=${BUILD:-build}
export BUILD
filter=${1:-}
passed=0 failed=0
log=$(mktemp)
# run_one NAME COMMAND...: runs it and counts its "N passed, N failed" line
run_one() {
    name=$1; shift
    case "$name" in *"$filter"*) ;; *) return ;; esac
    if "$@" >"$log" 2>&1; then status=0; else status=$?; fi
    tally_one "$name" "$status"
}
# tally_one NAME STATUS: counts the line in $log and says ok or FAIL
tally_one() {
    name=$1; status=$2
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
# Unit tests and fuzz replays need no time and no port of their own: JOBS at a time, each
# into its own file, counted in order afterwards. The end-to-end scripts run one at a time.
JOBS=${JOBS:-$(nproc 2>/dev/null || echo 2)}
par=$(mktemp -d)
for t in "$BUILD"/tests/test_* "$BUILD"/tests/regress_*; do
    [ -x "$t" ] || continue
    n=$(basename "$t")
    case "$n" in *"$filter"*) ;; *) continue ;; esac
    echo "$n"
done > "$par/list"
# shellcheck disable=SC2016
xargs -P "$JOBS" -I{} sh -c 'n={}; r=${n#regress_}
    if [ "$n" = "$r" ]; then "$0/tests/$n"; else "$0/tests/$n" "tests/fuzz/corpus/$r" "tests/fuzz/regress/$r"; fi \
        > "$1/$n.out" 2>&1; echo $? > "$1/$n.rc"' "$BUILD" "$par" < "$par/list"
while read -r n; do
    cp "$par/$n.out" "$log"
    tally_one "$n" "$(cat "$par/$n.rc" 2>/dev/null || echo 1)"
done < "$par/list"
rm -rf "$par"
for t in tests/e2e/*.sh; do
    [ -f "$t" ] && run_one "$(basename "$t")" sh "$t"
done
rm -f "$log"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
