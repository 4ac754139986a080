#!/bin/sh
# The wallet through an Oblivious HTTP relay (clients/wallet/relay.c, PROTOCOL §13): a wallet
# whose configuration names a relay sends everything meant for the verifier and the log
# through it. init --relay fetches both gateways' keys at once and keeps them; a vote and
# the receipts check then reach the verifier and the log only through the relay (their
# gateways count each request, the relay forwards them, and the servers never see a direct
# request from the wallet: a proxy in front of each counts what arrives directly); a relay
# that is down stops the wallet with its reason instead of falling back to a direct request;
# a rotated gateway key is fetched again. The issuer is reached directly (it knows who
# enrolls anyway).
. tests/e2e/lib/wallet_env.sh
ov() { $OV --wallet "$T/w.wallet" "$@"; }
for c in a:assembly; do
    $IT context "$U" "$ADMIN" "$(ctx "${c%%:*}" "${c#*:}" 1)" >/dev/null || fail "context $c"
done
$IT invites "$U" "$ADMIN" 2 "$T/codes.csv"
code() { sed -n "$(($1 + 1))p" "$T/codes.csv" | cut -d, -f1; }

# proxies in front of the verifier and the log that log every request reaching them directly
start_fake vproxy VPXPORT "$V"
start_fake lproxy LPXPORT "$L"
VPX=http://127.0.0.1:$VPXPORT
LPX=http://127.0.0.1:$LPXPORT
# the relay reaches the real servers' gateways, not the proxies
start_server relay RPORT $BUILD/onevoice-relay --data "$T/relay" \
    --gateway "verifier=$V/gateway,log=$L/gateway"
R=http://127.0.0.1:$RPORT
metric() { curl -s "$1/metrics" | awk -v m="$2" '$1 == m { print $2 }'; }

# --- set up: the gateways' keys fetched at init, directly, and kept ----------------------
check "init --relay" ov init --issuer "$U" --verifier "$VPX" --log "$LPX" --log-vkey "$LV" \
    --witness "$WV" --quorum 1 --relay "$R"
check_eq "both gateways' keys are kept in the wallet" \
    "$(sql "$T/w.wallet" "SELECT COUNT(*) FROM config WHERE key IN ('ohttp_verifier', 'ohttp_log') AND length(value) > 40")" 2
: > "$T/vproxy.requests"; : > "$T/lproxy.requests" # init's key fetches were direct, by design
check "enroll (the issuer, directly)" ov enroll --code "$(code 1)"
check "contexts, checked against the log through the relay" ov contexts
check "fetch --now" ov fetch --now
check "vote --now" ov vote --now a yes
check_eq "the verifier counted the vote" \
    "$(curl -s "$V/tallies/a" | python3 -c 'import json,sys; print(json.load(sys.stdin)["result"]["yes"])')" 1
check "the verifier's gateway took requests" test "$(metric "$V" ohttp_gateway_requests_total)" -ge 1
check "the log's gateway too" test "$(metric "$L" ohttp_gateway_requests_total)" -ge 1
check "the relay forwarded them" test "$(metric "$R" 'relay_forwarded_total{gateway="verifier"}')" -ge 1
check "receipts, through the relay" ov receipts
check_eq "no request of the wallet reached the verifier directly after init" \
    "$(grep -c . "$T/vproxy.requests")" 0
check_eq "nor the log" "$(grep -c . "$T/lproxy.requests")" 0

# --- a relay that is down: refused with its reason, never sent directly ------------------
kill "$relay_PID"; wait "$relay_PID" 2>/dev/null
said "relay" ov results a
check_eq "... and nothing went to the verifier directly" "$(grep -c . "$T/vproxy.requests")" 0
start_server relay RPORT2 $BUILD/onevoice-relay --listen "127.0.0.1:$RPORT" --data "$T/relay" \
    --gateway "verifier=$V/gateway,log=$L/gateway"

# --- a rotated gateway key: fetched again, then used ----------------------------------------
before=$(sql "$T/w.wallet" "SELECT value FROM config WHERE key = 'ohttp_verifier'")
kill "$ver_PID"; wait "$ver_PID" 2>/dev/null
rm -f "$T/ver/ohttp-key"
start_server ver VPORT2 $BUILD/onevoice-verifier --listen "127.0.0.1:$VPORT" --data "$T/ver" \
    --log "$L" --log-vkey "$LV" --witnesses "$T/witnesses" --quorum 1 --log-poll-ms 50 \
    ${VERIFIER_ARGS:-}
ov results a > "$T/rot.out" 2>&1; st=$?
check_eq "after the verifier's key changed, the wallet fetches it again and goes on ($(cat "$T/rot.out"))" "$st" 0
check "... the new one kept" test "$(sql "$T/w.wallet" "SELECT value FROM config WHERE key = 'ohttp_verifier'")" != "$before"

summary
