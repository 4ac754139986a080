#!/bin/sh
# The transparency page's data and verification modules (web/js/), run by Node's own test
# runner (tests/web/unit/*.test.mjs, no npm package): the official vectors (signed notes,
# cosignatures, RFC 9162 hashes and proofs, tile paths, the 70,000-entry fixture log read
# through Tlog), CBOR, result bytes, receipts and their failing variants; then, against a
# real deployment here (witness, log, issuer, verifier on loopback), a citizen's real
# receipts checked over HTTP from the log's public tiles alone, and the log's entries
# counted as the verifier counts them. Node's TAP summary becomes this script's counts.
# Node is required: without it this fails rather than skips.
. tests/e2e/lib/common.sh
if ! command -v node >/dev/null 2>&1; then
    fail "node is missing: the web page's modules cannot be tested (tools/deps.sh installs it)"
    summary; exit 1
fi
major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$major" -lt 20 ]; then
    fail "node $major: version 20 or later is needed (WebCrypto Ed25519)"
    summary; exit 1
fi

# --- a real deployment, a vote and two ratings with their receipts -------------------------
LIVE=0
if [ -x "$BUILD/onevoice-log" ] && [ -x "$BUILD/tools/issuertool" ]; then
    . tests/e2e/lib/wallet_env.sh
    for c in a1:assembly r1:rating; do
        $IT context "$U" "$ADMIN" "$(ctx "${c%%:*}" "${c#*:}" 1)" >/dev/null || fail "context $c"
    done
    $IT invites "$U" "$ADMIN" 3 "$T/codes.csv" || fail "invites"
    for n in 1 2 3; do
        w=$T/w$n.wallet
        # shellcheck disable=SC2086 # INIT is a list of options
        $OV --wallet "$w" init $INIT >/dev/null || fail "init $n"
        code=$(sed -n "$((n + 1))p" "$T/codes.csv")
        $OV --wallet "$w" enroll --code "$code" >/dev/null || fail "enroll $n"
        $OV --wallet "$w" fetch --now >/dev/null || fail "fetch $n"
    done
    $OV --wallet "$T/w1.wallet" vote --now a1 yes >/dev/null || fail "vote 1"
    $OV --wallet "$T/w2.wallet" vote --now a1 no >/dev/null || fail "vote 2"
    $OV --wallet "$T/w3.wallet" vote --now a1 yes >/dev/null || fail "vote 3"
    $OV --wallet "$T/w1.wallet" rate --now r1 oak 4 >/dev/null || fail "rate 1"
    $OV --wallet "$T/w2.wallet" rate --now r1 oak 2 >/dev/null || fail "rate 2"
    $OV --wallet "$T/w1.wallet" rate --now r1 elm 5 >/dev/null || fail "rate 3"
    # The receipts as the citizen exports them: `onevoice receipt CONTEXT [TARGET]` (from the
    # wallet's database where the wallet predates that command).
    receipt() { # WALLET OUT CONTEXT [TARGET]
        w=$1; o=$2; shift 2
        if $OV receipt --help >/dev/null 2>&1; then
            $OV --wallet "$w" receipt "$@" > "$o" && [ -s "$o" ]
            return
        fi
        python3 -c 'import sqlite3, sys
r = sqlite3.connect(sys.argv[1]).execute("select receipt from actions"
    " where context = ? and state = ? order by n", (sys.argv[2], "counted")).fetchone()
sys.stdout.write(r[0])' "$w" "$1" > "$o"
    }
    receipt "$T/w1.wallet" "$T/receipt-vote.json" a1 || fail "the vote's receipt"
    receipt "$T/w2.wallet" "$T/receipt-rating.json" r1 oak || fail "the rating's receipt"
    check "the vote's receipt is proven" grep -Eq '"status": ?"proven"' "$T/receipt-vote.json"
    LIVE=1
    export OV_LIVE_LOG="$L" OV_LIVE_VERIFIER="$V" OV_LIVE_LOG_VKEY="$LV" \
        OV_LIVE_WITNESS_VKEY="$WV" OV_LIVE_RECEIPTS="$T/receipt-vote.json $T/receipt-rating.json"
else
    fail "not built: $BUILD/onevoice-log and $BUILD/tools/issuertool (make test BUILD=$BUILD)"
fi

# --- the Node tests ---------------------------------------------------------------------------
out=$E2E_TMP/node.tap
OV_BUILD=$BUILD node --test --test-reporter=tap tests/web/unit/*.test.mjs > "$out" 2>&1
rc=$?
p=$(awk '/^# pass /{print $3}' "$out" | tail -n 1)
f=$(awk '/^# fail /{print $3}' "$out" | tail -n 1)
c=$(awk '/^# cancelled /{print $3}' "$out" | tail -n 1)
s=$(awk '/^# skipped /{print $3}' "$out" | tail -n 1)
PASSED=$((PASSED + ${p:-0}))
FAILED=$((FAILED + ${f:-0} + ${c:-0}))
if [ "$rc" -ne 0 ] && [ "${f:-0}" -eq 0 ] && [ "${c:-0}" -eq 0 ]; then
    fail "node --test exited with $rc"
fi
if [ -z "$p" ]; then fail "no TAP summary from node --test"; fi
# The live tests skip themselves without a deployment; here they must have run.
if [ "$LIVE" = 1 ] && grep -q '^ok .* # SKIP.*OV_LIVE' "$out"; then
    fail "the live tests were skipped"
fi
if [ "${f:-0}" -ne 0 ] || [ "${c:-0}" -ne 0 ] || [ "$rc" -ne 0 ]; then
    grep -E '^not ok|^ *(error|expected|actual|location):' "$out" | head -60 >&2
fi
echo "node --test: ${p:-0} passed, ${f:-0} failed, ${s:-0} skipped"
summary
