#!/bin/sh
# A pseudonym's admission in the log's order (docs/PROTOCOL.md §3, §8): the verifier's sender
# keeps several append requests in flight, yet logs the action whose token admits a pseudonym
# before that pseudonym's later ratings (verifier/sender.c); and a log where they come the
# other way round (as §3 allows: producers append in parallel) is adopted whole by a verifier
# begun again with --init (verifier/adopt.c, within a chunk).
. tests/e2e/lib/common.sh
VT=$BUILD/tools/vtool
LT=$BUILD/tools/logtool
T=$E2E_TMP
N=200 # tokens; each rates 10 targets

$LT keygen "$T/issuer.key" > "$T/issuer.pub"
$BUILD/onevoice-verifier --data "$T/v" --print-producer-key > "$T/vprod"
{ echo "issuer $(cat "$T/issuer.pub")"; cat "$T/vprod"; } > "$T/producers"
VK=$($BUILD/onevoice-log --data "$T/log" --origin e2e.example/admission --print-vkey)
start_server log LPORT $BUILD/onevoice-log --data "$T/log" --producers "$T/producers" \
    --checkpoint-ms 50
L=http://127.0.0.1:$LPORT
VARGS="--data $T/v --log-poll-ms 100 --epoch-seconds 0"
start_server ver VPORT $BUILD/onevoice-verifier $VARGS --log "$L" --log-vkey "$VK"
V=http://127.0.0.1:$VPORT
field() { echo "$1" | cut -d' ' -f"$2"; }

$VT context "$L" "$T/issuer.key" "$T" notes --type rating --scale -1,1 >/dev/null ||
    fail "context notes"
$VT mint "$T" notes "$N" "$T/notes.tok" --threads 2 || fail "mint notes"
i=0
until curl -s "$V/contexts" | grep -q '"notes"' || [ $i -gt 100 ]; do sleep 0.05; i=$((i + 1)); done

# --- the sender: each pseudonym's first entry in the log carries its token ----------------
# action I is token (I mod N)'s rating of target t(I div N), every one with its token (the
# verifier logs it on the first): batches of 16 on 8 connections, so a pseudonym's admitting
# rating and its next ones are decided close together and sent in requests in flight at once
# token 0's admission first, alone: its pseudonym is the first of the log (the load sends
# that rating again: the same ballot, the same receipt)
check_eq "token 0 rates t0" "$(field "$($VT act "$V" "$T" notes "$T/notes.tok" 0 --target t0 --rating 1 --platform load.example)" 1)" 200
R=$($VT load "$V" "$T" notes "$T/notes.tok" --count $((10 * N)) --conns 16 --batch 32 --targets 10)
check_eq "every rating counted" "$(field "$R" 3) $(field "$R" 5)" "$((10 * N)) 0"
i=0
until [ "$(curl -s "$L/checkpoint" | sed -n 2p)" -ge $((10 * N + 1)) ] || [ $i -gt 100 ]; do
    sleep 0.05; i=$((i + 1))
done
$VT dump "$L" "$VK" > "$T/dump1"
check "each pseudonym's first entry in the log carries its token" python3 -c '
import json, sys
seen = set()
for l in open(sys.argv[1]):
    e = json.loads(l)
    if e["kind"] != "action": continue
    if e["pseudonym"] not in seen and not e["token"]: sys.exit("entry %d: before its admission" % e["index"])
    seen.add(e["pseudonym"])
assert len(seen) == int(sys.argv[2]), len(seen)' "$T/dump1" "$N"

# --- adoption: a log whose ratings come before the action admitting their pseudonym -------
# a second log, holding the context and the actions of 20 pseudonyms of the first, each
# pseudonym's admitting rating moved after its other ratings; the verifier begun again on it
# (--init)
VK2=$($BUILD/onevoice-log --data "$T/log2" --origin e2e.example/admission2 --print-vkey)
start_server log2 L2PORT $BUILD/onevoice-log --data "$T/log2" --producers "$T/producers" \
    --checkpoint-ms 50
L2=http://127.0.0.1:$L2PORT
python3 - "$T/dump1" "$T/e" <<'PY'
import json, sys
ctx, acts = None, []
for l in open(sys.argv[1]):
    e = json.loads(l)
    if e["kind"] == "context": ctx = e["entry"]
    elif e["kind"] == "action": acts.append(e)
# the first 20 pseudonyms' ratings, each pseudonym's together, its admitting one last: 201
# entries, one chunk of adoption (a later chunk's admission is not adopted, §8)
who = []
for e in acts:
    if e["pseudonym"] not in who: who.append(e["pseudonym"])
out = []
for p in who[:20]:
    mine = [e for e in acts if e["pseudonym"] == p]
    out += [e for e in mine if not e["token"]] + [e for e in mine if e["token"]]
open(sys.argv[2] + ".ctx", "wb").write(bytes.fromhex(ctx))
for i, e in enumerate(out):
    open("%s.%04d" % (sys.argv[2], i), "wb").write(bytes.fromhex(e["entry"]))

PY
$LT append "$L2" "$T/issuer.key" issuer --opaque "@$T/e.ctx" >/dev/null || fail "append context"
for f in "$T"/e.0*; do echo "@$f"; done | xargs $LT append "$L2" "$T/v/producer.key" verifier \
    --checkpoint --opaque >/dev/null || fail "append actions"
$VT dump "$L2" "$VK2" > "$T/dump2"
check_eq "the second log: a rating before its admission" \
    "$(sed -n 2p "$T/dump2" | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')" False
kill "$ver_PID"; wait "$ver_PID" 2>/dev/null
rm -f "$T/v/verifier.db" "$T/v/verifier.db-wal" "$T/v/verifier.db-shm"
start_server ver VPORT $BUILD/onevoice-verifier $VARGS --log "$L2" --log-vkey "$VK2" --init
V=http://127.0.0.1:$VPORT
# vtool load rated each target 1 (the scale's max): another rating of t1 is refused if adopted
i=0
while R=$($VT act "$V" "$T" notes "$T/notes.tok" 0 --target t1 --rating -1) &&
    [ "$R" = "503 catching_up" ] && [ $i -lt 10 ]; do i=$((i + 1)); done
check_eq "after --init on that log: token 0's rating of t1 was adopted (another is refused)" \
    "$(field "$R" 1) $(field "$R" 2)" "409 already_rated"
check_eq "every action of the log adopted" \
    "$(curl -s "$V/metrics" | awk '$1 == "verifier_entries_adopted_total" { print $2 }')" 200
check "none refused" sh -c "! grep -q 'not adopted' $T/ver.log"
live() { curl -s "$V/tallies/notes" | python3 -c 'import json,sys; print(sum(c for c, s in json.load(sys.stdin)["result"].values()))'; }
i=0; until [ "$(live)" = 200 ] || [ $i -gt 100 ]; do sleep 0.05; i=$((i + 1)); done
check_eq "the live counts: every rating (sent again for their indices)" "$(live)" 200
summary
