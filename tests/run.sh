#!/bin/sh
# Runs every unit test, every fuzz-regression replay and every end-to-end script, then
# prints the total as one line "N passed, N failed". Argument: run only names containing it.
set -u
BUILD=${BUILD:-build}
export BUILD
# python3 may be a version manager's shim (pyenv's: ~0.7 s a call on the 2-core machine,
# against ~0.09 s for the interpreter it runs), and the scripts call it hundreds of times
# (backup.sh's 90 sql queries took 30 of its 160 s). So the tests run that same interpreter
# through a link ahead on PATH, which children and `env python3` scripts find too.
if py=$(python3 -c 'import sys; print(sys.executable)' 2>/dev/null) && [ -x "$py" ] &&
    mkdir -p "$BUILD/pybin" && ln -sf "$py" "$BUILD/pybin/python3"; then
    PATH="$(cd "$BUILD/pybin" && pwd):$PATH"
    export PATH
fi
filter=${1:-}
passed=0 failed=0
log=$(mktemp)
# run_one NAME COMMAND...: runs it and counts its "N passed, N failed" line
run_one() {
    name=$1; shift
    case "$name" in *"$filter"*) ;; *) return ;; esac
    t0=$(date +%s)
    if "$@" >"$log" 2>&1; then status=0; else status=$?; fi
    tally_one "$name" "$status" "$(($(date +%s) - t0))"
}
# tally_one NAME STATUS SECONDS: counts the line in $log and says ok or FAIL (and how long
# it took: what to look at when make check nears its 10 minutes)
tally_one() {
    name=$1; status=$2; secs=${3:-?}
    line=$(grep -E '[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
    p=$(echo "$line" | awk '{for (i = 2; i <= NF; i++) if ($i == "passed,") print $(i-1)}')
    f=$(echo "$line" | awk '{for (i = 2; i <= NF; i++) if ($i ~ /^failed/) print $(i-1)}')
    p=${p:-0}; f=${f:-0}
    if [ "$status" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
    passed=$((passed + p)); failed=$((failed + f))
    if [ "$f" -ne 0 ]; then
        echo "FAIL $name (exit $status, ${secs} s)"; tail -n 40 "$log" | sed 's/^/    /'
    else
        echo "ok   $name: $p passed (${secs} s)"
    fi
}
run_one layers sh tools/layers.sh
# run_par LIST JOBS: runs each command line of LIST (NAME<TAB>COMMAND), JOBS at a time, each
# into its own file, then counts them in LIST's order
run_par() {
    par=$(mktemp -d)
    # shellcheck disable=SC2016
    awk -F '\t' '{ print NR "\t" $2 }' "$1" | xargs -r -P "$2" -L 1 sh -c \
        'i=$1; shift; t0=$(date +%s); sh -c "$*" > "$0/$i.out" 2>&1; echo $? > "$0/$i.rc"
         echo $(($(date +%s) - t0)) > "$0/$i.t"' "$par"
    i=0
    while IFS="$(printf '\t')" read -r n _; do
        i=$((i + 1))
        cp "$par/$i.out" "$log"
        tally_one "$n" "$(cat "$par/$i.rc" 2>/dev/null || echo 1)" "$(cat "$par/$i.t" 2>/dev/null)"
    done < "$1"
    rm -rf "$par"
}
# Unit tests and fuzz replays need no time and no port of their own: JOBS at a time. The
# end-to-end scripts run three at a time (each on ports of its own: most of their time is
# spent waiting for servers, so two cores keep three busy), except those whose load or
# timing wants the machine to itself (E2E_SOLO), which run alone afterwards.
JOBS=${JOBS:-$(nproc 2>/dev/null || echo 2)}
E2E_JOBS=${E2E_JOBS:-3}
E2E_SOLO=${E2E_SOLO:-"backup.sh demo.sh flood.sh"}
# Tests of the page's JavaScript (web/), which the sanitizers do not look into, run in the
# plain build only (make check's first pass), not under ASan. So do, to keep make check
# within its time, long tests whose code the sanitizers see through others: audit.sh (the
# auditor: also audit_resume.sh and audit_sortition.sh), epochs.sh and wallet_pacing.sh
# (mostly waiting for epochs and paced moments; the same code runs in wallet_epochs.sh and
# wallet_resend.sh under ASan), and demo.sh: `make demo` itself, on the programs a user runs.
# fp_repro.sh: it compares builds of its own, plain by nature (it says so and stops under ASan).
PLAIN_ONLY="web_unit.sh audit.sh epochs.sh wallet_pacing.sh demo.sh fp_repro.sh"
case $BUILD in *asan*) sanitized=1 ;; *) sanitized=0 ;; esac
# make check (ONCE=1) runs each end-to-end script once: the ones above in the plain build,
# every other one under ASan+UBSan (its second pass), which checks all that the plain run
# would and more. `make test` and `make asan` alone run every script of their build.
ONCE=${ONCE:-0}
# e2e_wanted NAME: does this pass run the script NAME
e2e_wanted() {
    case " $PLAIN_ONLY " in *" $1 "*) plain_only=1 ;; *) plain_only=0 ;; esac
    if [ $sanitized = 1 ]; then [ $plain_only = 0 ]; else [ $ONCE = 0 ] || [ $plain_only = 1 ]; fi
}
list=$(mktemp)
for t in "$BUILD"/tests/test_* "$BUILD"/tests/regress_*; do
    [ -x "$t" ] || continue
    n=$(basename "$t")
    case "$n" in *"$filter"*) ;; *) continue ;; esac
    r=${n#regress_}
    if [ "$n" = "$r" ]; then c="$t"; else c="$t tests/fuzz/corpus/$r tests/fuzz/regress/$r"; fi
    printf '%s\t%s\n' "$n" "$c"
done > "$list"
run_par "$list" "$JOBS"
: > "$list"
# The longest first (their times in a run's "(N s)"), so that three at a time do not end with
# one long script running alone: the rest follow by name.
E2E_FIRST=${E2E_FIRST:-"issuer.sh audit.sh verifier.sh wallet_statements.sh statements.sh
fp_repro.sh log.sh wallet.sh"}
for t in $(for n in $E2E_FIRST; do [ -f "tests/e2e/$n" ] && echo "tests/e2e/$n"; done) tests/e2e/*.sh; do
    n=$(basename "$t")
    case "$n" in *"$filter"*) ;; *) continue ;; esac
    case " $E2E_SOLO " in *" $n "*) continue ;; esac
    e2e_wanted "$n" || continue
    grep -q "	sh $t\$" "$list" 2>/dev/null && continue # listed first already
    printf '%s\tsh %s\n' "$n" "$t"
done >> "$list"
run_par "$list" "$E2E_JOBS"
for n in $E2E_SOLO; do
    [ -f "tests/e2e/$n" ] && e2e_wanted "$n" && run_one "$n" sh "tests/e2e/$n"
done
rm -f "$log" "$list"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
