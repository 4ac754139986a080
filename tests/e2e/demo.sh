#!/bin/sh
# The demo's flow, smaller: 30 citizens instead of 447, contexts open for 12 seconds (25 in
# the sanitizer build, whose citizens are slower). Asserts
# what the demo promises: every citizen enrolled, fetched, voted and rated with verified
# receipts; the double vote refused; both tallies logged and equal to the auditor's recount;
# the audit clean.
. tests/e2e/lib/common.sh
OUT=$E2E_TMP/demo.out
case $BUILD in *asan*) OPEN_S=25 ;; *) OPEN_S=12 ;; esac
if DEMO_CITIZENS=30 DEMO_VOTE_SECONDS=$OPEN_S BUILD=$BUILD TMPDIR=$E2E_TMP sh tools/demo.sh > "$OUT" 2>&1; then
    ok
else
    fail "the demo exits 0"; tail -30 "$OUT" >&2
fi
check_eq "27 simulated citizens, each with two tokens, a vote, six ratings, every receipt verified" \
    "$(grep -o 'citizens [0-9].*' "$OUT")" \
    "citizens 27 enrolled 27 tokens 54 votes 27 ratings 162 receipts_verified 189 failures 0"
check_eq "three wallet users voted" "$(grep -c 'voted p.* and rated six statements' "$OUT")" 3
check "the second vote is refused" grep -q 'refused: .*already voted' "$OUT"
check_eq "the wallets' receipts all check" "$(grep -c ': 7 receipts checked' "$OUT")" 3
check_eq "both tally entries logged" "$(grep -c 'tally entry logged' "$OUT")" 2
check_eq "both logged tallies equal the auditor's recount" "$(grep -c "logged tally agrees" "$OUT")" 2
check_eq "every citizen voted" "$(grep -E '^    p[0-9]-' "$OUT" | awk '{ s += $2 } END { print s }')" 30
check_eq "every citizen rated every statement" "$(grep -c ' 30 ratings, mean' "$OUT")" 6
check "the statements both groups agree on are found" grep -q 's1-public-transport .*common ground' "$OUT"
check "the divisive ones are not" sh -c "! grep -q 's2-road-pricing .*common ground' '$OUT'"
check "the audit is clean" grep -q 'the count can be trusted' "$OUT"
check "no server is left running" sh -c "! ls $E2E_TMP/onevoice-demo.* >/dev/null 2>&1"
summary
