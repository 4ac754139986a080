#!/bin/sh
# onevoice-verifier end to end: a real witness, log and verifier on loopback; contexts and
# RFC 9578 tokens from the stand-in issuer of tests/tools/vtool (the real issuer's steps of
# core/primitives/pp); receipts checked offline; one token 100 times at once; every refusal of
# docs/PROTOCOL.md §8; live tallies and the tally entries written when contexts close,
# recounted from the log; kill -9 under load, restart, and an audit of the whole log.
. tests/e2e/lib/common.sh
# check, showing the command's output when it fails
check() {
    d=$1; shift
    if "$@" >"$E2E_TMP/check.out" 2>&1; then ok; else fail "$d"; sed 's/^/    /' "$E2E_TMP/check.out" >&2; fi
}
VT=$BUILD/tools/vtool
LT=$BUILD/tools/logtool
T=$E2E_TMP

# --- the parts: a witness, the log (cosigned by it), the verifier -----------------------
ORIGIN=e2e.example/votes
. tests/e2e/lib/verifier_env.sh
check "the producer key file is private" test "$(stat -c %a "$T/v/producer.key")" = 600
check_eq "verifier.db is private (mode 0600)" "$(stat -c %a "$T/v/verifier.db")" 600
CHK="--witnesses $T/witnesses --quorum 1"

# --- contexts, from the stand-in issuer through the log ---------------------------------
# before the first: an empty list, and the verifier still serving (its sort of an empty list
# was undefined behaviour, which the sanitizer pass caught as a crash)
check_eq "before any context: GET /contexts and GET /tallies answer empty lists" \
    "$(curl -s "$V/contexts") $(curl -s "$V/tallies") $(curl -s -o /dev/null -w '%{http_code}' "$V/healthz")" "[] [] 200"
ctx() { $VT context "$L" "$T/issuer.key" "$T" "$@" >/dev/null || fail "context $1"; }
ctx town --choices yes,no,abstain
ctx other --choices yes,no
ctx past --opens -100 --closes -50
ctx future --opens +3600 --closes +7200
ctx notes --type rating --scale -1,1
ctx load --choices a,b,c
for c in town:130 other:2 past:1 future:1 notes:4; do
    $VT mint "$T" "${c%%:*}" "${c##*:}" "$T/${c%%:*}.tok" || fail "mint ${c%%:*}"
done
$VT mint "$T" load 1500 "$T/load.tok" || fail "mint load"
i=0
n_contexts() { curl -s "$V/contexts" | grep -o '"id"' | wc -l; }
until [ "$(n_contexts)" -ge 6 ] || [ $i -gt 100 ]; do sleep 0.05; i=$((i + 1)); done
check_eq "the verifier learned the 6 contexts from the log" "$(n_contexts)" 6

act() { $VT act "$V" "$T" "$@" 2>/dev/null; }
field() { echo "$1" | cut -d' ' -f"$2"; }

# --- counted once, receipts -----------------------------------------------------------------
R=$(act town "$T/town.tok" 0 --choice yes --receipt "$T/r0.json")
check_eq "a ballot is counted and logged" "$(field "$R" 1) $(field "$R" 2)" "200 logged"
R2=$(act town "$T/town.tok" 0 --choice yes)
# (the receipt may have been proven meanwhile: the same index, maybe a further status)
check_eq "the same ballot again: the same receipt" "$(field "$R2" 1) $(field "$R2" 3)" \
    "$(field "$R" 1) $(field "$R" 3)"
check_eq "another ballot with the spent token" "$(act town "$T/town.tok" 0 --choice no)" \
    "409 token_spent"
R=$(act town "$T/town.tok" 1 --choice no --wait --receipt "$T/r1.json")
check_eq "?wait=proof answers with the proof" "$(field "$R" 1) $(field "$R" 2)" "200 proven"
check "the receipt checks offline (log key, witness quorum)" $VT check "$VK" "$T/r1.json" $CHK \
    --expect-kind action
check "without witnesses too" $VT check "$VK" "$T/r1.json"
WQ2=$T/w2; printf '%s\n%s\n' "$(cat "$T/witnesses")" \
    "$($BUILD/onevoice-witness --data "$T/wx" --name e2e.example/w2 --print-vkey)" > "$WQ2"
check_eq "a quorum the checkpoint lacks fails the check" \
    "$($VT check "$VK" "$T/r1.json" --witnesses "$WQ2" --quorum 2 >/dev/null 2>&1; echo $?)" 1
H1=$(python3 -c 'import json,sys,base64; print(base64.b64decode(json.load(open(sys.argv[1]))["hash"]).hex())' "$T/r1.json")
R=$($VT receipt "$V" "$H1" --out "$T/r1b.json")
check_eq "GET /receipts/<hash> gives the proof" "$(field "$R" 1) $(field "$R" 2)" "200 proven"
check "and that receipt checks too" $VT check "$VK" "$T/r1b.json" $CHK
H0=$(python3 -c 'import json,sys,base64; print(base64.b64decode(json.load(open(sys.argv[1]))["hash"]).hex())' "$T/r0.json")
R=$($VT receipt "$V" "$H0" --wait --out "$T/r0b.json")
check_eq "a logged receipt, polled with ?wait=proof, is proven" "$(field "$R" 2)" "proven"
check "the first receipt checks offline" $VT check "$VK" "$T/r0b.json" $CHK
sed 's/"index":[0-9]*/"index":0/' "$T/r0b.json" > "$T/r0x.json"
check_eq "a receipt with another index fails" \
    "$($VT check "$VK" "$T/r0x.json" >/dev/null 2>&1; echo $?)" 1
R=$(act town "$T/town.tok" 2 --choice abstain --header --wait --receipt "$T/r2.json")
check_eq "the token in Authorization: PrivateToken (RFC 9577)" "$(field "$R" 1) $(field "$R" 2)" \
    "200 proven"
check "its receipt checks" $VT check "$VK" "$T/r2.json" $CHK

# --- one token, 100 submissions at once ------------------------------------------------------
check_eq "the same ballot 100 times at once: one action, one receipt" \
    "$($VT race "$V" "$T" town "$T/town.tok" 3 100)" "race 200:100 202:0 409:0 other:0 receipts:1"
R=$($VT race "$V" "$T" town "$T/town.tok" 4 100 --distinct)
ok200=$(echo "$R" | sed 's/.*200:\([0-9]*\).*/\1/'); ok409=$(echo "$R" | sed 's/.*409:\([0-9]*\).*/\1/')
check_eq "100 different ballots with one token at once: one counted, the rest 409" \
    "$(echo "$R" | sed 's/.*receipts://') $((ok200 + ok409)) $(echo "$R" | sed 's/.*other:\([0-9]*\).*/\1/')" \
    "1 100 0"

# --- refusals, each its own reason -----------------------------------------------------------
check_eq "forged token (RSA signature)" "$(act town "$T/town.tok" 5 --corrupt token)" "400 bad_token"
check_eq "token key id altered" "$(act town "$T/town.tok" 5 --corrupt keyid)" "400 bad_token"
check_eq "a token of another context" "$(act town "$T/other.tok" 0)" "400 bad_token"
check_eq "an assembly ballot without its token" "$(act town "$T/town.tok" 5 --no-token)" \
    "400 bad_token"
check_eq "the action altered after signing" "$(act town "$T/town.tok" 5 --corrupt choice)" \
    "400 bad_signature"
check_eq "a wrong signature" "$(act town "$T/town.tok" 5 --corrupt sig)" "400 bad_signature"
check_eq "signed by a key that is not the token's" "$(act town "$T/town.tok" 5 --corrupt signer)" \
    "400 bad_signature"
check_eq "a context that closed" "$(act past "$T/past.tok" 0)" "403 context_closed"
check_eq "a context not open yet" "$(act future "$T/future.tok" 0)" "403 context_closed"
check_eq "a choice not offered" "$(act town "$T/town.tok" 5 --choice maybe)" "400 invalid_action"
check_eq "a rating outside the scale" "$(act notes "$T/notes.tok" 0 --target n1 --rating 2)" \
    "400 invalid_action"
check_eq "a ballot in a rating round" "$(act notes "$T/notes.tok" 0 --choice yes)" \
    "400 invalid_action"
check_eq "a rating in an assembly" "$(act town "$T/town.tok" 5 --target n1 --rating 1)" \
    "400 invalid_action"
check_eq "an unknown context" "$(act nowhere "$T/town.tok" 5)" "404 unknown_context"
check_eq "token 5 was never spent by the refusals" "$(act town "$T/town.tok" 5 --choice no | cut -d' ' -f1)" 200
RT0=$(act town "$T/town.tok" 0 --choice yes)

# --- a rating round ----------------------------------------------------------------------------
R=$(act notes "$T/notes.tok" 0 --target n1 --rating 1 --receipt "$T/rn.json")
check_eq "a first rating admits the pseudonym" "$(field "$R" 1)" 200
R2=$(act notes "$T/notes.tok" 0 --target n1 --rating 1)
check_eq "the same rating again: the same receipt" "$(field "$R2" 1) $(field "$R2" 3)" \
    "$(field "$R" 1) $(field "$R" 3)"
check_eq "a second rating of the same target" \
    "$(act notes "$T/notes.tok" 0 --target n1 --rating -1)" "409 already_rated"
check_eq "a later rating without the token" \
    "$(act notes "$T/notes.tok" 0 --target n2 --rating 0 --no-token | cut -d' ' -f1)" 200
check_eq "with the token again (not logged twice)" \
    "$(act notes "$T/notes.tok" 0 --target n3 --rating -1 | cut -d' ' -f1)" 200
check_eq "a pseudonym never admitted" \
    "$(act notes "$T/notes.tok" 1 --target n1 --rating 1 --no-token)" "403 unknown_pseudonym"
check_eq "another pseudonym rates the same target" \
    "$(act notes "$T/notes.tok" 1 --target n1 --rating 1 --header | cut -d' ' -f1)" 200

# --- malformed and hostile requests ---------------------------------------------------------------
post() { q=$1; shift; curl -s -o "$T/resp" -w '%{http_code}' -X POST "$V/actions$q" \
    -H 'Content-Type: application/json' "$@"; }
reason_of() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["error"])' "$1"; }
reason() { reason_of "$T/resp"; }
$VT act "$V" "$T" town "$T/town.tok" 6 --choice yes --body "$T/b6" --header
check_eq "garbage" "$(post '' --data 'hello') $(reason)" "400 malformed_request"
check_eq "JSON of the wrong shape" "$(post '' --data '{"context":"town"}') $(reason)" \
    "400 malformed_request"
check_eq "an unknown key" "$(post '' --data "$(sed 's/}$/,"x":1}/' "$T/b6")") $(reason)" \
    "400 malformed_request"
check_eq "a key twice" "$(post '' --data "$(sed 's/^{/{"choice":"no",/' "$T/b6")") $(reason)" \
    "400 malformed_request"
check_eq "a bad PrivateToken header" \
    "$(post '' -H 'Authorization: PrivateToken token=abc' --data-binary @"$T/b6") $(reason)" \
    "400 malformed_request"
$VT act "$V" "$T" town "$T/town.tok" 7 --choice yes --body "$T/b7"
check_eq "a header token that is not the body's" \
    "$(post '' -H "Authorization: $(cat "$T/b6.auth")" --data-binary @"$T/b7") $(reason)" \
    "400 malformed_request"
check_eq "?wait= something else" \
    "$(post '?wait=index' -H "Authorization: $(cat "$T/b6.auth")" --data-binary @"$T/b6") $(reason)" \
    "400 malformed_request"
head -c 5000 /dev/zero | tr '\0' ' ' > "$T/big"
# (Expect: 100-continue, as a client sending a large body should: the 413 comes before the
# body is read, and a body already sent would meet a closed connection, its reset able to
# take the answer with it)
check_eq "an oversized body" "$(post '' -H 'Expect: 100-continue' --data-binary @"$T/big")" 413
check_eq "the header path with curl" \
    "$(post '' -H "Authorization: $(cat "$T/b6.auth")" --data-binary @"$T/b6")" 200
check_eq "another scheme is ignored (the token in the body counts)" \
    "$(post '' -H 'Authorization: Bearer x' --data-binary @"$T/b7")" 200
check_eq "wrong method" "$(http_status GET "$V/actions")" 405
check_eq "a receipt path that is not a hash" "$(http_status GET "$V/receipts/xyz")" 400
check_eq "a receipt never given" "$(http_status GET "$V/receipts/$(printf '%064d' 0)")" 404
check_eq "the tally of an unknown context" "$(http_status GET "$V/tallies/nowhere")" 404
check_eq "health" "$(curl -s "$V/healthz")" ok
check "metrics" sh -c "curl -s $V/metrics | grep -q '^verifier_actions_counted_total [1-9]'"

# --- live tallies, and the tally entries when contexts close -----------------------------------------
ctx short --choices red,blue --closes +6
ctx shortr --type rating --scale 1,5 --closes +6
ctx wide --type rating --scale 1,5 --closes +12 # 401 ratings one by one: room under ASan
$VT mint "$T" short 4 "$T/short.tok" && $VT mint "$T" shortr 3 "$T/shortr.tok" &&
    $VT mint "$T" wide 1 "$T/wide.tok" || fail "mint"
i=0
until [ "$(n_contexts)" -ge 9 ] || [ $i -gt 100 ]; do sleep 0.05; i=$((i + 1)); done
# the short contexts' actions first: they must land inside the 6 s window also under ASan
# with another script running beside this one
act short "$T/short.tok" 0 --choice red >/dev/null
act short "$T/short.tok" 1 --choice red >/dev/null
act short "$T/short.tok" 2 --choice blue >/dev/null
act shortr "$T/shortr.tok" 0 --target t1 --rating 5 >/dev/null
act shortr "$T/shortr.tok" 1 --target t1 --rating 2 >/dev/null
act shortr "$T/shortr.tok" 1 --target t2 --rating 3 --no-token >/dev/null
check_eq "a round counts targets only as long as its tally fits one entry" \
    "$($VT rate-many "$V" "$T" wide "$T/wide.tok" 0 401)" "rated ok:400 refused:1 first:400:invalid_action"
tally() { curl -s "$V/tallies/$1" | python3 -c 'import json,sys; t=json.load(sys.stdin); print(json.dumps(t["result"], sort_keys=True, separators=(",",":")), t["final"], t["size"] > 0)'; }
i=0
total() { curl -s "$V/tallies/$1" | python3 -c 'import json,sys; t=json.load(sys.stdin); print(sum(v if isinstance(v, int) else v[0] for v in t["result"].values()), t["final"], t["size"] > 0)'; }
# town: tokens 0-7 each counted once (0 yes, 1 no, 2 abstain, 3 yes, 4 one of the three,
# 5 no, 6 and 7 yes); whatever was refused left no trace
until [ "$(total town)" = "8 False True" ] || [ $i -gt 100 ]; do
    sleep 0.05; i=$((i + 1))
done
check_eq "live tally, labelled with a log size" "$(total town)" "8 False True"
check "and per choice" sh -c "curl -s $V/tallies/town | python3 -c 'import json,sys; r=json.load(sys.stdin)[\"result\"]; sys.exit(not (r[\"yes\"] >= 4 and r[\"no\"] >= 2 and r[\"abstain\"] >= 1))'"
check_eq "live rating tally" "$(tally notes | cut -d' ' -f1)" '{"n1":[2,2],"n2":[1,0],"n3":[1,-1]}'
i=0
until [ "$(tally short | cut -d' ' -f2)" = True ] && [ "$(tally shortr | cut -d' ' -f2)" = True ] || [ $i -gt 300 ]; do
    sleep 0.05; i=$((i + 1))
done
check_eq "the closed assembly's tally is final" "$(tally short)" '{"blue":1,"red":2} True True'
check_eq "the closed round's tally is final" "$(tally shortr)" '{"t1":[2,7],"t2":[1,3]} True True'
check_eq "after closing, nothing is counted" "$(act short "$T/short.tok" 3 --choice red)" \
    "403 context_closed"
TR=$(curl -s "$V/tallies/short" | python3 -c 'import json,sys; print(json.load(sys.stdin)["receipt"])')
R=$($VT receipt "$V" "${TR#/receipts/}" --wait --out "$T/rt.json")
check_eq "the tally entry has a receipt" "$(field "$R" 1) $(field "$R" 2)" "200 proven"
check "the tally receipt checks offline" $VT check "$VK" "$T/rt.json" $CHK --expect-kind tally
# (wide closes 12 s after it was made: the batches below run meanwhile, its tally after them)

# --- a batch (POST /actions/batch): each line checked, counted and answered as if alone ----------
line() { k=$1; shift; $VT act "$V" "$T" "$@" --body "$T/l$k" || fail "line $k"; }
line 1 town "$T/town.tok" 10 --choice yes
line 2 town "$T/town.tok" 10 --choice no
line 3 town "$T/town.tok" 11 --choice yes --corrupt sig
line 4 nowhere "$T/town.tok" 12 --choice yes
line 5 notes "$T/notes.tok" 2 --target n1 --rating 1
line 6 notes "$T/notes.tok" 2 --target n1 --rating -1
for k in 1 1 2 x e 3 4 5 6; do
    case $k in x) echo garbage ;; e) echo ;; *) cat "$T/l$k"; echo ;; esac
done > "$T/batch"
batch() { q=$1; shift; curl -s -o "$T/bresp" -w '%{http_code}' -X POST "$V/actions/batch$q" "$@"; }
# each answer line: a receipt's status (and whether its hash is the first line's), or a refusal
answers() { python3 - "$T/bresp" <<'PY'
import json, sys
lines = open(sys.argv[1]).read().split("\n")
assert lines[-1] == "", "the answer ends with a newline"
first = None
for i, l in enumerate(lines[:-1]):
    o = json.loads(l)
    if "error" in o:
        print(f'{o["http_status"]}:{o["error"]}', end=" ")
        continue
    first = first or o["hash"]
    print(o["status"] + ("=" if i > 0 and o["hash"] == first else ""), end=" ")
    if i == 0:
        open(sys.argv[1] + ".0", "w").write(l)
print()
PY
}
check_eq "a batch of 9: each line its own answer, in order" \
    "$(batch '?wait=proof' --data-binary @"$T/batch") $(answers)" \
    "200 proven proven= 409:token_spent 400:malformed_request 400:malformed_request 400:bad_signature 404:unknown_context proven 409:already_rated "
check "a receipt from the batch checks offline" $VT check "$VK" "$T/bresp.0" $CHK --expect-kind action
check_eq "the batch's refusals left no trace (token 11 counts alone)" \
    "$(act town "$T/town.tok" 11 --choice yes | cut -d' ' -f1)" 200
check_eq "the batch again: the same receipts, the same refusals" \
    "$(batch '' --data-binary @"$T/batch") $(answers | sed 's/proven/logged/g')" \
    "200 logged logged= 409:token_spent 400:malformed_request 400:malformed_request 400:bad_signature 404:unknown_context logged 409:already_rated "
check_eq "an empty batch" "$(batch '' --data-binary '') $(reason_of "$T/bresp")" "400 malformed_request"
for k in $(seq 257); do cat "$T/l1"; echo; done > "$T/batch257"
check_eq "a batch of 257 actions" "$(batch '' --data-binary @"$T/batch257") $(reason_of "$T/bresp")" \
    "413 too_many_actions"
check_eq "a token in the Authorization header of a batch" \
    "$(batch '' --data-binary @"$T/batch" -H "Authorization: $(cat "$T/l1.auth")") $(reason_of "$T/bresp")" \
    "400 malformed_request"
check_eq "a batch with ?wait= something else" \
    "$(batch '?wait=log' --data-binary @"$T/batch") $(reason_of "$T/bresp")" "400 malformed_request"
check_eq "the C client's batch (core/protocol/verifierclient): receipts checked, refusals in place" \
    "$($VT batch "$V" "$T" town "$T/town.tok" 12:no 13 12:yes --wait | cut -d' ' -f1,2 | tr '\n' ' ')" \
    "200 proven 200 proven 409 token_spent "
# the platform library's batch call (libonevoice, as examples/relay uses it): lines of
# actions in, a line of answer each; two per request here, so the lines span three batches
line 7 town "$T/town.tok" 14 --choice yes
line 8 town "$T/town.tok" 15 --choice no
for k in 7 x 8 7 2; do if [ $k = x ]; then echo garbage; else cat "$T/l$k"; echo; fi; done |
    $BUILD/examples/relay --verifier "$V" --batch 2 --wait-proof > "$T/relay.out"
check_eq "examples/relay: each action's answer, in order" \
    "$(cut -d' ' -f1 "$T/relay.out" | tr '\n' ' ')$(sed -n 5p "$T/relay.out")" \
    "200 400 200 200 409 409 token_spent"
sed -n 1p "$T/relay.out" | cut -d' ' -f2- > "$T/relay1.json"
check "its first receipt is proven and checks offline" $VT check "$VK" "$T/relay1.json" $CHK
check_eq "the same ballot in a later batch: the same receipt" \
    "$(sed -n 4p "$T/relay.out" | grep -o '"hash":"[^"]*"')" "$(grep -o '"hash":"[^"]*"' "$T/relay1.json")"
head -c 540000 /dev/zero | tr '\0' 'x' > "$T/bigbatch"
check_eq "a batch over 512 KiB" "$(batch '' -H 'Expect: 100-continue' --data-binary @"$T/bigbatch")" 413

# --- the widest round's tally (its close came while the batches ran) -----------------------------
i=0
until [ "$(tally wide | cut -d' ' -f2)" = True ] || [ $i -gt 300 ]; do sleep 0.05; i=$((i + 1)); done
TW=$(curl -s "$V/tallies/wide" | python3 -c 'import json,sys; print(json.load(sys.stdin)["receipt"])')
R=$($VT receipt "$V" "${TW#/receipts/}" --wait --out "$T/rw.json")
check_eq "the widest round's tally entry (400 targets) is logged and proven" \
    "$(field "$R" 1) $(field "$R" 2) $(wc -c < "$T/rw.json" | awk '{ print ($1 > 70000) }')" "200 proven 1"
check "the log's tallies recount, each action once" $VT audit "$L" "$VK" --tallies

# --- kill -9 under load, restart ------------------------------------------------------------------
$VT load "$V" "$T" load "$T/load.tok" --count 1500 --conns 24 --receipts "$T/rec1" \
    > "$T/load1.out" 2>&1 &
LOADPID=$!
# the crash once receipts are being given (a fixed delay raced the load's own set-up under
# ASan on a loaded machine), while most of the load is still to come
i=0
until [ -s "$T/rec1" ] || [ $i -gt 200 ]; do sleep 0.05; i=$((i + 1)); done
sleep 0.1
kill -9 "$ver_PID"
wait "$ver_PID" 2>/dev/null # gone, and its lock with it, before the next one starts
wait "$LOADPID"
check "receipts were given before the crash" test -s "$T/rec1"
start_server ver VPORT $BUILD/onevoice-verifier $VARGS
V=http://127.0.0.1:$VPORT
i=0
until $VT audit "$L" "$VK" --receipts "$T/rec1" >/dev/null 2>&1 || [ $i -gt 100 ]; do
    sleep 0.1; i=$((i + 1))
done
check "every action that got a receipt is in the log, none twice" \
    $VT audit "$L" "$VK" --receipts "$T/rec1"
# the spent tokens and the ratings are known again after the restart (keys.c reloads them)
check_eq "after the restart, another ballot with a spent token" \
    "$(act town "$T/town.tok" 0 --choice no)" "409 token_spent"
check_eq "after the restart, the same ballot: counted once, the same receipt" \
    "$(act town "$T/town.tok" 0 --choice yes | cut -d' ' -f1,3)" "$(field "$RT0" 1) $(field "$RT0" 3)"
check_eq "after the restart, a second rating of the same target" \
    "$(act notes "$T/notes.tok" 0 --target n1 --rating -1)" "409 already_rated"
check_eq "after the restart, an admitted pseudonym rates without its token" \
    "$(act notes "$T/notes.tok" 0 --target n9 --rating 1 --no-token | cut -d' ' -f1)" 200
check_eq "a second verifier on the same data directory is refused" \
    "$(timeout 5 $BUILD/onevoice-verifier $VARGS --listen 127.0.0.1:0 2>&1 >/dev/null | grep -c "in use")" 1
R=$($VT receipt "$V" "$H1" --wait --out "$T/r1c.json")
check_eq "an old receipt after the restart (proof from the log, checked against the root)" \
    "$(field "$R" 1) $(field "$R" 2)" "200 proven"
check "and it checks offline" $VT check "$VK" "$T/r1c.json" $CHK
$VT load "$V" "$T" load "$T/load.tok" --count 1500 --conns 16 --batch 25 --receipts "$T/rec2" \
    > "$T/load2.out"
check_eq "after the restart, every ballot again gets a receipt (in batches of 25)" \
    "$(cut -d' ' -f3,5,7 "$T/load2.out")" "1500 0 0"
head -n 50 "$T/rec1" | grep -v ' -$' | sort > "$T/rec1h"
grep -F -f "$T/rec1h" "$T/rec2" | sort > "$T/rec2h"
check_eq "the same ballots, the same receipts" "$(wc -l < "$T/rec2h")" "$(wc -l < "$T/rec1h")"
# the last receipts' entries are durable in the log; its next checkpoint shows them
i=0
until $VT audit "$L" "$VK" --receipts "$T/rec2" >/dev/null 2>&1 || [ $i -gt 100 ]; do
    sleep 0.1; i=$((i + 1))
done
check "the whole log: each token once, receipts in place, tallies recount" \
    $VT audit "$L" "$VK" --receipts "$T/rec1" --receipts "$T/rec2" --tallies
i=0
until [ "$(total load)" = "1500 False True" ] || [ $i -gt 100 ]; do sleep 0.05; i=$((i + 1)); done
check_eq "the live tally counts the 1500 ballots" "$(total load)" "1500 False True"

# --- a database of the first schema (UNIQUE indexes, before keys.c) is migrated -------------
kill "$ver_PID"; wait "$ver_PID" 2>/dev/null
ROWS=$(table_shape "$T/v/verifier.db" entries | cut -d' ' -f2)
sql_exec "$T/v/verifier.db" <<'SQL' || fail "downgrade"
CREATE TABLE entries_v1 (id INTEGER PRIMARY KEY, hash BLOB NOT NULL UNIQUE, entry BLOB NOT NULL,
  context TEXT NOT NULL, ballot BLOB, label TEXT, rating INTEGER, nonce BLOB, pseudonym BLOB) STRICT;
INSERT INTO entries_v1 SELECT id, hash, entry, context, ballot, label, rating, nonce, pseudonym
  FROM entries;
DROP TABLE entries;
ALTER TABLE entries_v1 RENAME TO entries;
CREATE UNIQUE INDEX entries_spent ON entries (context, nonce) WHERE nonce IS NOT NULL;
CREATE UNIQUE INDEX entries_rated ON entries (context, pseudonym, label) WHERE pseudonym IS NOT NULL;
PRAGMA user_version = 1;
SQL
start_server ver VPORT $BUILD/onevoice-verifier $VARGS
V=http://127.0.0.1:$VPORT
check_eq "the first schema is migrated (to the fourth: epochs' places), every row kept, no UNIQUE index left" \
    "$(table_shape "$T/v/verifier.db" entries)" "4 $ROWS 0"
# places written with 32 random bits below the epoch (schema 3) keep their epoch in the
# 28-bit layout of schema 4 (verifier/epoch.c)
kill "$ver_PID"; wait "$ver_PID" 2>/dev/null
printf '%s\n' "UPDATE entries SET place = (12345 << 32) | 4294967295; PRAGMA user_version = 3;" |
    sql_exec "$T/v/verifier.db" || fail "places of schema 3"
start_server ver VPORT $BUILD/onevoice-verifier $VARGS
V=http://127.0.0.1:$VPORT
check_eq "schema 3's places moved: each row's epoch kept, 28 of its random bits" \
    "$(python3 -c 'import sqlite3, sys
print(*[r[0] for r in sqlite3.connect(sys.argv[1]).execute("SELECT DISTINCT (place >> 28) || \x27/\x27 || (place & 268435455) FROM entries")])' "$T/v/verifier.db") $(table_shape "$T/v/verifier.db" entries | cut -d' ' -f1)" \
    "12345/268435455 4"
check_eq "after the migration, a spent token is still spent" \
    "$(act town "$T/town.tok" 0 --choice no)" "409 token_spent"
check_eq "after the migration, the same ballot gets the same receipt" \
    "$(act town "$T/town.tok" 0 --choice yes | cut -d' ' -f1,3)" "$(field "$RT0" 1) $(field "$RT0" 3)"
# --- following the log: bundles of our own rows are not fetched again, and an index the log
# --- acknowledged wrongly is caught (the follower then reads every bundle) -----------------
metric() { curl -s "$1/metrics" | awk -v k="$2" '$1 == k { print $2 }'; }
tile_gets() { metric "$L" 'http_request_duration_seconds_count{method="GET",route="/tile/*"}'; }
log_size() { curl -s "$L/checkpoint" | sed -n 2p; }
caught_up() { i=0; until [ "$(metric "$V" verifier_log_size)" = "$(log_size)" ] || [ $i -gt 200 ]; do sleep 0.05; i=$((i + 1)); done; }
refollow() { # stops the verifier, runs the SQL given, starts it again to read the log anew
    kill "$ver_PID"; wait "$ver_PID" 2>/dev/null
    printf '%s\n' "DELETE FROM follow; $1" | sql_exec "$T/v/verifier.db" || fail "refollow"
    start_server ver VPORT $BUILD/onevoice-verifier $VARGS
    V=http://127.0.0.1:$VPORT
    caught_up
}
G0=$(tile_gets)
refollow ""
G1=$(tile_gets)
SIZE=$(log_size)
check_eq "the verifier read the whole log again" "$(metric "$V" verifier_log_size)" "$SIZE"
check_eq "it fetched only the bundle with the contexts of $(( (SIZE + 255) / 256 ))" "$((G1 - G0))" 1
# two of our rows, in different bundles, swap their acknowledged indices
refollow "UPDATE logged SET log_index = CASE log_index WHEN 300 THEN 600 ELSE 300 END
  WHERE log_index IN (300, 600);"
G2=$(tile_gets)
check_eq "with indices the log's tree does not have, it still reads the whole log" \
    "$(metric "$V" verifier_log_size)" "$SIZE"
check_eq "it said so" "$(grep -c "does not hold our rows" "$T/ver.log")" 1
# (follower.c reads the log in chunks, each checked alone: only the chunk that held them is
# read again, every bundle of it)
check "and fetched the bundles of that chunk again, not the whole log's" \
    test "$((G2 - G1))" -ge 3 -a "$((G2 - G1))" -lt "$(( (SIZE + 255) / 256 ))"

# --- an outbox row of the longest entry the log takes (65535 bytes) is sent alone: no row can
# --- hold up the outbox (the verifier writes none that long itself; this one is put in the
# --- database: {"x": 65519 bytes, "kind": "note"}, and a ballot after it) ---------------------
kill "$ver_PID"; wait "$ver_PID" 2>/dev/null
HB=$(python3 - "$T/v/verifier.db" <<'PY'
import hashlib, sqlite3, sys
e = b"\xa2\x61x\x59\xff\xef" + b"\x00" * 0xffef + b"\x64kind\x64note"
assert len(e) == 65535
h = hashlib.sha256(b"\x00" + e).digest()
c = sqlite3.connect(sys.argv[1])
c.execute("INSERT INTO entries (hash, entry, context) VALUES (?, ?, 'past')", (h, e))
c.commit()
print(h.hex())
PY
) || fail "the long row"
start_server ver VPORT $BUILD/onevoice-verifier $VARGS
V=http://127.0.0.1:$VPORT
R=$(act town "$T/town.tok" 16 --choice yes --wait)
check_eq "a ballot after the longest row is logged and proven" "$(field "$R" 1) $(field "$R" 2)" "200 proven"
check_eq "and so is that row" "$($VT receipt "$V" "$HB" --wait | cut -d' ' -f1,2)" "200 proven"

# --- below the proof window (after a restart) a receipt's proof comes from the log, whose
# --- answer is read strictly (core/protocol/logproof): one shaped otherwise proves nothing --
kill "$ver_PID"; wait "$ver_PID" 2>/dev/null
echo pass > "$T/lp.mode"
start_server lp LPPORT python3 tests/e2e/lib/proofproxy.py "$L" "$T/lp.mode" "$T/lp.requests"
start_server ver VPORT $BUILD/onevoice-verifier --data "$T/v" --log "http://127.0.0.1:$LPPORT" \
    --log-vkey "$VK" --witnesses "$T/witnesses" --quorum 1 --log-poll-ms 100
V=http://127.0.0.1:$VPORT
for m in extra dup missing other big short; do
    echo "$m" > "$T/lp.mode"
    check_eq "an old receipt whose proof the log answers '$m' (lib/proofproxy.py) is not proven" \
        "$($VT receipt "$V" "$H1" | cut -d' ' -f1,2) $(grep -c "^GET /proof/inclusion $m\$" "$T/lp.requests")" \
        "200 logged 1"
done
echo pass > "$T/lp.mode"
R=$($VT receipt "$V" "$H1" --out "$T/r1d.json")
check_eq "the same proof answered as the log does: proven" "$(field "$R" 1) $(field "$R" 2)" "200 proven"
check "and that receipt checks offline" $VT check "$VK" "$T/r1d.json" $CHK


# --- restored from an older copy of verifier.db: the actions and tallies the log holds and
# --- the copy lacks are adopted before any action is decided (verifier/adopt.h): no token
# --- counts twice, no context gets a second tally, a retried ballot gets its receipt -------
ctx late --choices x,y --closes +8 # room for a restart under ASan beside another script
$VT mint "$T" late 2 "$T/late.tok" || fail "mint late"
until [ "$(n_contexts)" -ge 9 ] || [ $i -gt 400 ]; do sleep 0.05; i=$((i + 1)); done
kill "$ver_PID"; wait "$ver_PID" 2>/dev/null
python3 -c 'import sqlite3, sys
src = sqlite3.connect(sys.argv[1]); dst = sqlite3.connect(sys.argv[2]); src.backup(dst)' \
    "$T/v/verifier.db" "$T/vold.db" || fail "copy verifier.db"
start_server ver VPORT $BUILD/onevoice-verifier $VARGS
V=http://127.0.0.1:$VPORT
RA=$(act town "$T/town.tok" 20 --choice yes --wait)
RB=$(act notes "$T/notes.tok" 3 --target n9 --rating 1 --wait)
act late "$T/late.tok" 0 --choice x >/dev/null
i=0
until [ "$(tally late | cut -d' ' -f2)" = True ] || [ $i -gt 300 ]; do sleep 0.05; i=$((i + 1)); done
TL=$(curl -s "$V/tallies/late" | python3 -c 'import json,sys; print(json.load(sys.stdin)["receipt"])')
TOWN=$(total town)
caught_up
kill -9 "$ver_PID"; wait "$ver_PID" 2>/dev/null
rm -f "$T/v/verifier.db-wal" "$T/v/verifier.db-shm"
cp "$T/vold.db" "$T/v/verifier.db"
start_server ver VPORT $BUILD/onevoice-verifier $VARGS
V=http://127.0.0.1:$VPORT
check_eq "restored from the older copy, a token spent after it is still spent" \
    "$(act town "$T/town.tok" 20 --choice no)" "409 token_spent"
check_eq "and that ballot sent again gets its receipt, at its index" \
    "$(act town "$T/town.tok" 20 --choice yes | cut -d' ' -f1,3)" "$(field "$RA" 1) $(field "$RA" 3)"
check_eq "a rating made after the copy is still held" \
    "$(act notes "$T/notes.tok" 3 --target n9 --rating -1)" "409 already_rated"
check "the verifier said it adopted them" grep -q "adopted, so no token" "$T/ver.log"
check "and counts them" test "$(metric "$V" verifier_entries_adopted_total)" -ge 4
caught_up
i=0
until [ "$(total town)" = "$TOWN" ] || [ $i -gt 200 ]; do sleep 0.05; i=$((i + 1)); done
check_eq "the live tally counts the adopted ballots" "$(total town)" "$TOWN"
check_eq "the closed context keeps its one tally entry" \
    "$(curl -s "$V/tallies/late" | python3 -c 'import json,sys; t=json.load(sys.stdin); print(t["receipt"], t["final"])')" \
    "$TL True"
check "the log's tallies recount, each action once" $VT audit "$L" "$VK" --tallies

# --- an action no one of ours wrote, appended by another producer with a broken signature:
# --- seen, not adopted, not counted (verifier/adopt.c checks what it adopts) ---------------
python3 - "$T/v/verifier.db" "$T/forged.entry" <<'PY' || fail "forge an entry"
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
e = bytearray(c.execute("SELECT entry FROM entries WHERE context = 'town' AND nonce IS NOT NULL LIMIT 1").fetchone()[0])
i = e.index(b"\x63sig\x58\x40") + 6
e[i] ^= 1 # one bit of the signature
open(sys.argv[2], "wb").write(bytes(e))
PY
ADOPTED=$(metric "$V" verifier_entries_adopted_total)
$LT append "$L" "$T/issuer.key" issuer --opaque "@$T/forged.entry" >/dev/null || fail "append the forged entry"
i=0
until grep -q "does not verify" "$T/ver.log" || [ $i -gt 200 ]; do sleep 0.05; i=$((i + 1)); done
check "a forged action in the log is seen and not adopted" grep -q "does not verify" "$T/ver.log"
check_eq "nor counted as adopted" "$(metric "$V" verifier_entries_adopted_total)" "$ADOPTED"

# --- a lost state: with producer.key in place, a missing, empty or garbage verifier.db is
# --- refused (it would count spent tokens again); --init; another deployment's database -----
kill "$ver_PID"; wait "$ver_PID" 2>/dev/null
$BUILD/onevoice-verifier --data "$T/v2" --print-producer-key >/dev/null
check "a first start creates verifier.db with the key" test -s "$T/v2/verifier.db"
SG_TMP=$T
. tests/e2e/lib/stateguard.sh
state_guard onevoice-verifier "$T/v/verifier.db" "$T/v2/verifier.db" $BUILD/onevoice-verifier $VARGS
start_server ver VPORT $BUILD/onevoice-verifier $VARGS
V=http://127.0.0.1:$VPORT
check_eq "after all that, a spent token is still spent" \
    "$(act town "$T/town.tok" 0 --choice no)" "409 token_spent"
summary
