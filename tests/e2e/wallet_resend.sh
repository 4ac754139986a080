#!/bin/sh
# Nothing lost: a vote the verifier accepted (202 "pending", held for its epoch,
# docs/PROTOCOL.md §3.1) and then lost, its database restored from a backup taken before
# the vote, is counted all the same. The restored verifier answers 404 not_found for the
# receipt; the wallet's check (`run`, at the receipt's moment) sends the same signed vote
# again, by the same route, and says so; the verifier counts it now, once; the receipt is
# then proven (`receipts` exit 0), and a later check sends nothing again. Before the fix the
# wallet called the vote "counted, not yet proven" for ever and the tally never had it.
# A second citizen's wallet sends through an Oblivious HTTP relay: its resend goes the same
# way, never directly to the verifier; its vote in a context that closed before the check
# is refused when sent again (context_closed), and the wallet says it was lost (exit 1).
# A third citizen asks for one receipt (`onevoice receipt`, to paste into the page): the
# same resend happens there, and the receipt printed is the new, proven one.
#
# The first verifier's epochs are a day long, so the vote cannot reach the log (and be
# adopted back from it) before the restore; the restored one's two seconds long.
VERIFIER_EPOCH_S=86400
. tests/e2e/lib/wallet_env.sh
W=$T/w.wallet
ov() { $OV --wallet "$W" "$@"; }
$IT context "$U" "$ADMIN" "$(ctx a assembly 1)" >/dev/null || fail "context"
$IT invites "$U" "$ADMIN" 3 "$T/codes.csv"
code() { sed -n "$(($1 + 1))p" "$T/codes.csv" | cut -d, -f1; }
i=0
until curl -s "$V/contexts" | grep -q '"a"' || [ $i -gt 200 ]; do sleep 0.05; i=$((i + 1)); done
# a proxy in front of the verifier counts what the wallet sends it
start_fake vproxy VPXPORT "$V"
check "init" ov init --issuer "$U" --verifier "http://127.0.0.1:$VPXPORT" --log "$L" \
    --log-vkey "$LV" --witness "$WV" --quorum 1
check "enroll" ov enroll --code "$(code 1)"
check "fetch --now" ov fetch --now
# a second citizen, whose wallet sends through an Oblivious HTTP relay (relay.c): a proxy in
# front of the verifier sees whatever would reach it directly
W2=$T/w2.wallet
ov2() { $OV --wallet "$W2" "$@"; }
start_fake vproxy2 VPX2PORT "$V"
start_server relay RPORT $BUILD/onevoice-relay --data "$T/relay" --gateway "verifier=$V/gateway,log=$L/gateway"
check "init --relay" ov2 init --issuer "$U" --verifier "http://127.0.0.1:$VPX2PORT" --log "$L" \
    --log-vkey "$LV" --witness "$WV" --quorum 1 --relay "http://127.0.0.1:$RPORT"
check "enroll" ov2 enroll --code "$(code 2)"
check "fetch --now" ov2 fetch --now
: > "$T/vproxy2.requests" # init's key fetch was direct, by design
posts() { grep -c '^POST /actions' "$T/vproxy.requests"; }
count() { curl -s "$V/tallies/a" | python3 -c 'import json,sys; print(json.load(sys.stdin)["result"][sys.argv[1]])' "$1"; }
yes_count() { count yes; }
gateway() { curl -s "$V/metrics" | awk '$1 == "ohttp_gateway_requests_total" { print $2 }'; }

# a third citizen, direct
W3=$T/w3.wallet
ov3() { $OV --wallet "$W3" "$@"; }
check "init (a third citizen)" ov3 init --issuer "$U" --verifier "$V" --log "$L" --log-vkey "$LV" \
    --witness "$WV" --quorum 1
check "enroll" ov3 enroll --code "$(code 3)"
check "fetch --now" ov3 fetch --now

# b closes in a few seconds: a vote lost there cannot be counted again after its close
B_CLOSES=$(($(date +%s) + 8))
$IT context "$U" "$ADMIN" "{\"id\":\"b\",\"title\":\"Context b\",\"type\":\"assembly\",\"choices\":[\"yes\",\"no\"],\"opens\":$((NOW - 5)),\"closes\":$B_CLOSES,\"quota\":1}" >/dev/null || fail "context b"
i=0
until curl -s "$V/contexts" | grep -q '"b"' || [ $i -gt 200 ]; do sleep 0.05; i=$((i + 1)); done
check "the second citizen's token for b" ov2 fetch --now --context b

# --- the verifier's backup, then the vote it accepts and holds for its epoch --------------
$BUILD/onevoice-verifier --data "$T/ver" --backup "$T/ver-before.db" >/dev/null 2>"$T/err" ||
    fail "backup: $(cat "$T/err")"
ov vote --now a yes > "$T/vote.out" 2>&1
check "the vote is accepted, its receipt pending (the epoch holds it)" grep -q 'receipt: pending' "$T/vote.out"
HASH=$(sql "$W" "select hex(hash) from actions where context = 'a'" | tr 'A-F' 'a-f')
check_eq "the verifier knows it" "$(http_status GET "$V/receipts/$HASH")" 202
check "the second citizen votes through the relay, accepted too" ov2 vote --now a no
check "... and in b, which closes soon" ov2 vote --now b yes
check "the third citizen votes, accepted too" ov3 vote --now a no
HASH3=$(sql "$W3" "select hex(hash) from actions where context = 'a'" | tr 'A-F' 'a-f')

# --- the verifier's database lost: restored from the backup, older than the vote ---------
VER="$BUILD/onevoice-verifier --data $T/ver --log $L --log-vkey $LV --witnesses $T/witnesses --quorum 1 --log-poll-ms 50 --epoch-seconds 1"
kill "$ver_PID"; wait "$ver_PID" 2>/dev/null
$VER --restore "$T/ver-before.db" >/dev/null 2>"$T/err" || fail "restore: $(cat "$T/err")"
start_server ver VPORT2 $VER --listen "127.0.0.1:$VPORT" || fail "the verifier starts on its restored state"
i=0
until [ "$(http_status GET "$V/receipts/$HASH")" = 404 ] || [ $i -gt 200 ]; do sleep 0.05; i=$((i + 1)); done
check_eq "the restored verifier does not know the vote (it never reached the log)" \
    "$(http_status GET "$V/receipts/$HASH")" 404
check_eq "... nor counts it" "$(yes_count)" 0
check_eq "... nor the second citizen's" "$(count no)" 0

# --- the receipt's check, at its moment: the same signed vote sent again, and counted -----
before=$(posts)
sql "$W" "update actions set check_at = strftime('%s','now') - 1 where context = 'a'" >/dev/null
ov run > "$T/run1.out" 2> "$T/run1.err"; st=$?
check_eq "run, at the check's moment ($(cat "$T/run1.out" "$T/run1.err"))" "$st" 0
check "it tells the citizen what happened" grep -q 'the verifier had lost this vote (a voted yes): sent again' "$T/run1.err"
check "... and run reports it" grep -q 'check a: resent: a voted yes: the verifier had lost it; sent again' "$T/run1.out"
check_eq "one POST /actions: the resend" "$(posts)" $((before + 1))
check_eq "what went again is the stored signed vote: its one-time key was wiped at the first count" \
    "$(sql "$W" "select a.state || ' ' || (t.seed is null) from actions a join tokens t on t.pseudonym = a.pseudonym where a.context = 'a'")" "counted 1"
check "its next check is scheduled (a random moment, not now)" \
    test "$(sql "$W" "select check_at > strftime('%s','now') from actions where context = 'a'")" = 1
check "receipts: proven, in the log" sh -c "$OV --wallet '$W' receipts > '$T/r.out' 2>&1"
check "... said so" grep -q 'voted yes  *in the log (index' "$T/r.out"
i=0
until [ "$(yes_count)" = 1 ] || [ $i -gt 100 ]; do sleep 0.1; i=$((i + 1)); done
check_eq "the verifier counts the vote once" "$(yes_count)" 1

# --- through the relay: the resend takes the first send's route, never a direct one -------
# a's check now, b's later (run checks one receipt at a time)
sql "$W2" "update actions set check_at = strftime('%s','now') + (case context when 'a' then -1 else 3600 end)" >/dev/null
ov2 run > "$T/run3.out" 2> "$T/run3.err"; st=$?
check_eq "the relayed wallet's run ($(cat "$T/run3.out" "$T/run3.err"))" "$st" 0
check "... resends the vote the verifier had lost" grep -q 'the verifier had lost this vote (a voted no): sent again' "$T/run3.err"
check "... through the relay: the restored verifier's gateway took it" test "$(gateway)" -ge 2
check_eq "... and nothing reached the verifier directly" "$(grep -c . "$T/vproxy2.requests")" 0
i=0
until [ "$(count no)" = 1 ] || [ $i -gt 100 ]; do sleep 0.1; i=$((i + 1)); done
check_eq "the verifier counts it once" "$(count no)" 1

# --- a second check sends nothing again ----------------------------------------------------
before=$(posts)
sql "$W" "update actions set check_at = strftime('%s','now') - 1 where context = 'a'" >/dev/null
ov run > "$T/run2.out" 2> "$T/run2.err"; st=$?
check_eq "a second run: in the log ($(cat "$T/run2.out" "$T/run2.err"))" "$st" 0
check "... checked ok" grep -q 'check a: ok' "$T/run2.out"
check_eq "... and nothing sent again" "$(posts)" "$before"
check "... nor said to be" sh -c "! grep -q 'sent again' '$T/run2.err' '$T/run2.out'"
check_eq "still counted once" "$(yes_count)" 1

# --- a vote lost in a context that closed meanwhile: refused when sent again, and said ---
while [ "$(date +%s)" -lt "$B_CLOSES" ]; do sleep 0.2; done
sql "$W2" "update actions set check_at = strftime('%s','now') - 1 where context = 'b'" >/dev/null
ov2 run > "$T/run4.out" 2> "$T/run4.err"; st=$?
check_eq "run, b's check after its close: exit 1 ($(cat "$T/run4.out" "$T/run4.err"))" "$st" 1
check "... the citizen is told it was lost and refused" \
    grep -q 'the verifier had lost this vote (b voted yes) and refused it when it was sent again (HTTP 403 context_closed): it is not counted' "$T/run4.err"
check "... run reports it lost" grep -q 'check b: lost: b voted yes: the verifier had lost it, and refused it when sent again (context_closed)' "$T/run4.out"
check_eq "... the action is refused, its check no longer scheduled" \
    "$(sql "$W2" "select state || ' ' || reason || ' ' || ifnull(check_at, 'none') from actions where context = 'b'")" "refused context_closed none"

# --- one receipt asked for (onevoice receipt): the lost vote is sent again there too -------
check_eq "the restored verifier does not know the third citizen's vote" \
    "$(http_status GET "$V/receipts/$HASH3")" 404
ov3 receipt a --out "$T/r3.json" > "$T/r3.out" 2> "$T/r3.err"; st=$?
check_eq "receipt a: exit 0 ($(cat "$T/r3.out" "$T/r3.err"))" "$st" 0
check "... it tells the citizen the vote was lost and sent again" \
    grep -q 'the verifier had lost this vote: sent again, the same signed vote, and counted' "$T/r3.err"
b64() { python3 -c 'import base64, sys; print(base64.b64encode(bytes.fromhex(sys.argv[1])).decode())' "$1"; }
NEW3=$(sql "$W3" "select hex(hash) from actions where context = 'a'")
check "... the wallet keeps the new count's hash" test -n "$NEW3" -a "$(b64 "$NEW3")" != "$(b64 "$HASH3")"
check_eq "... the receipt written is the new count's, proven" \
    "$(jget "$T/r3.json" "(d['status'], d['hash'])")" "('proven', '$(b64 "$NEW3")')"
i=0
until [ "$(count no)" = 2 ] || [ $i -gt 100 ]; do sleep 0.1; i=$((i + 1)); done
check_eq "the verifier counts it once" "$(count no)" 2
check "a second receipt a sends nothing again" sh -c "$OV --wallet '$W3' receipt a > /dev/null 2> '$T/r3b.err' && ! grep -q 'sent again' '$T/r3b.err'"

# --- the public log: each vote once -------------------------------------------------------
$BUILD/onevoice-audit --log "$L" --log-vkey "$LV" --witnesses "$T/witnesses" --quorum 1 --quiet \
    --json "$T/audit.json" > "$T/audit.out" 2>&1; st=$?
check_eq "the audit of the log: no violation ($(cat "$T/audit.out"))" "$st" 0
check_eq "... three actions in the log, and its recount has each vote once" \
    "$(jget "$T/audit.json" "[(c['actions'], c['recount']['result']['yes'], c['recount']['result']['no']) for c in d['contexts'] if c['id'] == 'a']")" "[(3, 1, 2)]"
summary
