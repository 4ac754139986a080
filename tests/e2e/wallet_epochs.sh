#!/bin/sh
# The wallet beside a verifier that holds actions for its epochs (docs/PROTOCOL.md §3.1): a
# vote answered "pending", then `receipts` at once. The receipt is completed while the run
# waits (the epoch ends), with a checkpoint newer than the one the run took first: that is
# no rollback, and the receipt is in the log; before the fix the wallet called the action
# "NO LONGER IN THE LOG (log_inconsistent)". Then `receipts` again, later: still in the log.
VERIFIER_EPOCH_S=2
. tests/e2e/lib/wallet_env.sh
ov() { $OV --wallet "$T/w.wallet" "$@"; }
$IT context "$U" "$ADMIN" "$(ctx a assembly 1)" >/dev/null || fail "context"
$IT invites "$U" "$ADMIN" 1 "$T/codes.csv"
check "init" ov init $INIT
check "enroll" ov enroll --code "$(sed -n 2p "$T/codes.csv" | cut -d, -f1)"
check "fetch --now" ov fetch --now
ov vote --now a yes > "$T/vote.out" 2>&1
check "the vote is counted, its receipt pending (the epoch holds it)" grep -q 'receipt: pending' "$T/vote.out"
ov receipts > "$T/r1.out" 2>&1; st=$?
check_eq "receipts at once: completed while it waited, in the log ($(cat "$T/r1.out"))" "$st" 0
check "... and said so" grep -q 'voted yes  *in the log (index' "$T/r1.out"
check "... never a false alarm" sh -c "! grep -q 'NO LONGER' '$T/r1.out'"
sleep 2
check "receipts later: still in the log" ov receipts
summary
