#!/bin/sh
# Epochs (docs/PROTOCOL.md §3.1), end to end with real servers on loopback: a verifier and an
# issuer run with --epoch-seconds hold their entries until the epoch ends, append each
# epoch's in a random order (not the arrival order: a check that fails by chance with
# probability 1/12! < 1e-6), write the epoch's start as every held entry's time, answer an
# action "pending" at once and complete its receipt after the epoch; a kill -9 while entries
# are held, and one while a flush is at the log, lose and duplicate nothing; the auditor
# finds nothing wrong in either log.
. tests/e2e/lib/common.sh
VT=$BUILD/tools/vtool
IT=$BUILD/tools/issuertool
T=$E2E_TMP
N=8 # the epoch: long enough for 12 actions or enrollments on a slow, shared machine

# epoch_start: waits for the next epoch to begin (prints its number)
epoch_start() {
    e0=$(($(date +%s) / N))
    while [ $(($(date +%s) / N)) -eq "$e0" ]; do sleep 0.1; done
    echo $((e0 + 1))
}
epoch_now() { echo $(($(date +%s) / N)); }
# epoch_room S: an epoch with more than S seconds of it left (prints its number): the current
# one if it has them, else the next (waits for it to begin)
epoch_room() {
    now=$(date +%s)
    if [ $(((now / N + 1) * N - now)) -gt "$1" ]; then echo $((now / N)); else epoch_start; fi
}
# entries PRODUCER_URL NAME: how many entries the log holds from producer NAME
entries() { curl -s "$1/producers/$2" | python3 -c 'import json,sys; print(json.load(sys.stdin)["entries"])'; }
# the analysis of a dump (vtool dump / issuertool logscan --dump): each entry's time is its
# deterministic CBOR's "time" key (0x64 "time"), then an unsigned integer head
cat > "$T/ep.py" <<'PY'
import json, sys
def ctime(b):
    i = b.index(b"\x64time") + 5
    h = b[i]
    if h < 24: return h
    n = {0x18: 1, 0x19: 2, 0x1a: 4, 0x1b: 8}[h]
    return int.from_bytes(b[i + 1:i + 1 + n], "big")
cmd = sys.argv[1]
if cmd == "actions":      # DUMP CONTEXT: "choice time" per action entry, in log order
    for l in open(sys.argv[2]):
        e = json.loads(l)
        if e.get("kind") == "action" and e.get("context") == sys.argv[3]:
            print(e["choice"], ctime(bytes.fromhex(e["entry"])))
elif cmd == "dups":       # DUMP: entries logged twice
    seen = [json.loads(l)["entry"] for l in open(sys.argv[2])]
    print(len(seen) - len(set(seen)))
PY

# --- 4. the issuer: enrollments and issuances held, shuffled, times rounded ----------------
# Its own log and issuer, independent of the verifier's: it runs beside sections 1 to 3 (most
# of whose time is waiting for epochs to end), in the background, in a subshell that counts
# its own checks; the script waits for it after section 3 and adds them. It starts once
# section 1's twelve ballots are in, so that the two sets of twelve never share an epoch's
# time. Its servers' PIDs go to $T/s4.pids (the trap below kills them whatever happens).
issuer_part() {
    PASSED=0; FAILED=0; E2E_PIDS=""
    i=0; until [ -e "$T/ballots.done" ] || [ $i -gt 600 ]; do sleep 0.1; i=$((i + 1)); done
    $BUILD/onevoice-issuer --data "$T/iss" --print-producer-key > "$T/iprod"
    start_server ilog ILPORT $BUILD/onevoice-log --data "$T/ilog" --origin e2e.example/ilog \
        --producers "$T/iprod" --checkpoint-ms 50
    echo "$E2E_PIDS" > "$T/s4.pids"
    IL=http://127.0.0.1:$ILPORT
    IVK=$($BUILD/onevoice-log --data "$T/ilog" --print-vkey)
    start_server iss IPORT $BUILD/onevoice-issuer --data "$T/iss" --log "$IL" --log-vkey "$IVK" \
        --name issuer.example --epoch-seconds "$N"
    echo "$E2E_PIDS" > "$T/s4.pids"
    U=http://127.0.0.1:$IPORT
    ADMIN=$($BUILD/onevoice-issuer --data "$T/iss" --print-credentials | awk '/^admin /{print $2}')
    NOW=$(date +%s)
    $IT context "$U" "$ADMIN" "{\"id\":\"ic\",\"title\":\"Epochs\",\"type\":\"assembly\",\"choices\":[\"yes\",\"no\"],\"opens\":$NOW,\"closes\":$((NOW + 3600)),\"quota\":1}" \
        > /dev/null || fail "an issuer context"
    $IT invites "$U" "$ADMIN" 12 "$T/codes.csv" || fail "invitation codes"
    i=0; until [ "$(entries "$IL" issuer)" -ge 2 ] || [ $i -gt 100 ]; do sleep 0.05; i=$((i + 1)); done
    check_eq "the context and the invitations go to the log at once" "$(entries "$IL" issuer)" 2
    for n in $(seq 1 12); do $IT keygen "$T/p$n.key" > /dev/null; done
    E=$(epoch_start)
    for n in $(seq 1 12); do
        $IT enroll "$U" "$T/p$n.key" invite "$(sed -n "$((n + 1))p" "$T/codes.csv")" >> "$T/enr" 2>&1
        $IT token "$U" "$T/p$n.key" ic "$T/tok$n" >> "$T/toks" 2>&1 || echo "token $n failed" >> "$T/toks"
    done
    check_eq "12 enrolled, each with a token" "$(grep -c '^enrolled' "$T/enr") $(grep -c failed "$T/toks")" "12 0"
    if [ "$(epoch_now)" -eq "$E" ]; then
        check_eq "within the epoch, the log holds none of them" "$(entries "$IL" issuer)" 2
    else
        fail "the 12 enrollments took more than an epoch ($N s): the machine is too slow"
    fi
    while [ "$(epoch_now)" -eq "$E" ]; do sleep 0.2; done
    i=0; until [ "$(entries "$IL" issuer)" -ge 26 ] || [ $i -gt 100 ]; do sleep 0.1; i=$((i + 1)); done
    check_eq "after the epoch, the 12 enrollments and 12 issuances are logged" "$(entries "$IL" issuer)" 26
    $VT dump "$IL" "$IVK" > "$T/idump"
    python3 - "$T/idump" "$((E * N))" > "$T/iss.check" <<'PY'
import json, sys
def uint(b, key):
    i = b.index(bytes([0x60 + len(key)]) + key) + 1 + len(key)
    h = b[i]
    if h < 24: return h
    n = {0x18: 1, 0x19: 2, 0x1a: 4, 0x1b: 8}[h]
    return int.from_bytes(b[i + 1:i + 1 + n], "big")
kinds, serials, times = [], [], set()
for l in open(sys.argv[1]):
    e = json.loads(l); b = bytes.fromhex(e["entry"])
    if b"\x6aenrollment" in b or b"\x68issuance" in b:
        kinds.append("e" if b"\x6aenrollment" in b else "i")
        times.add(uint(b, b"time"))
        if kinds[-1] == "e": serials.append(uint(b, b"n"))
print("kinds", "".join(kinds))
print("times", sorted(times) == [int(sys.argv[2])])
print("sorted", serials == sorted(serials), len(serials))
PY
    check_eq "the epoch's enrollments go before its issuances" "$(sed -n 's/^kinds //p' "$T/iss.check")" \
        "eeeeeeeeeeeeiiiiiiiiiiii"
    check_eq "every held entry's time is the epoch's start" "$(sed -n 's/^times //p' "$T/iss.check")" True
    # serials 1..12 in arrival order; in that order again by chance: 1/12! (2e-9)
    check_eq "the enrollments appended in another order than their serials" \
        "$(sed -n 's/^sorted //p' "$T/iss.check")" "False 12"
    check_eq "issuer.db keeps only the epoch's start as an issuance's time" \
        "$(python3 -c 'import sqlite3,sys; print(sorted({r[0] for r in sqlite3.connect(sys.argv[1]).execute("SELECT time FROM issuances")}))' "$T/iss/issuer.db")" \
        "[$((E * N))]"
    check_eq "and as an enrollee's" \
        "$(python3 -c 'import sqlite3,sys; print(sorted({r[0] for r in sqlite3.connect(sys.argv[1]).execute("SELECT created FROM enrollees")}))' "$T/iss/issuer.db")" \
        "[$((E * N))]"
    # a kill -9 while held: two enrollments of an epoch (more than 5 s of it left), not lost
    E=$(epoch_room 5)
    for n in 1 2; do $IT keygen "$T/q$n.key" > /dev/null; done
    $IT invites "$U" "$ADMIN" 2 "$T/codes2.csv" || fail "codes"
    for n in 1 2; do $IT enroll "$U" "$T/q$n.key" invite "$(sed -n "$((n + 1))p" "$T/codes2.csv")" > /dev/null; done
    kill -9 "$iss_PID"; wait "$iss_PID" 2>/dev/null
    start_server iss IPORT2 $BUILD/onevoice-issuer --data "$T/iss" --log "$IL" --log-vkey "$IVK" \
        --name issuer.example --epoch-seconds "$N" --listen "127.0.0.1:$IPORT" || fail "issuer restart"
    echo "$E2E_PIDS" > "$T/s4.pids"
    while [ "$(epoch_now)" -le "$E" ]; do sleep 0.2; done
    i=0; until [ "$(entries "$IL" issuer)" -ge 29 ] || [ $i -gt 100 ]; do sleep 0.1; i=$((i + 1)); done
    check_eq "after kill -9 and the epoch: the invitations and both enrollments, once" "$(entries "$IL" issuer)" 29
    check "onevoice-audit finds nothing wrong in the issuer's log" $BUILD/onevoice-audit --quiet \
        --log "$IL" --log-vkey "$IVK" --state "$T/audit-i"
    echo "$PASSED $FAILED" > "$T/s4.count"
}
( issuer_part ) &
S4_PID=$!
trap 'kill -9 $S4_PID $(cat "$T/s4.pids" 2>/dev/null) 2>/dev/null; e2e_cleanup' EXIT INT TERM

# --- 1. the verifier: a witness, a log, a verifier with epochs of N s -----------------------
ORIGIN=e2e.example/epochs
VER_EPOCH=$N
. tests/e2e/lib/verifier_env.sh
CHOICES=$(seq -s, 0 11 | sed 's/\([0-9]*\)/c\1/g')
$VT context "$L" "$T/issuer.key" "$T" ep --choices "$CHOICES" >/dev/null || fail "context ep"
$VT context "$L" "$T/issuer.key" "$T" kh --choices yes,no >/dev/null || fail "context kh"
$VT context "$L" "$T/issuer.key" "$T" ks --choices yes,no >/dev/null || fail "context ks"
$VT mint "$T" ep 12 "$T/ep.tok" || fail "mint ep"
$VT mint "$T" kh 5 "$T/kh.tok" || fail "mint kh"
$VT mint "$T" ks 600 "$T/ks.tok" || fail "mint ks"
i=0
until [ "$(curl -s "$V/contexts" | grep -o '"id"' | wc -l)" -ge 3 ] || [ $i -gt 200 ]; do
    sleep 0.05; i=$((i + 1)); done
check_eq "the contexts go to the log at once" "$(curl -s "$V/contexts" | grep -o '"id"' | wc -l)" 3

# 12 ballots, one after another, in one epoch: each answered pending at once
E=$(epoch_start)
B0=$(entries "$L" verifier)
t0=$(date +%s%N)
for k in $(seq 0 11); do
    R=$($VT act "$V" "$T" ep "$T/ep.tok" "$k" --choice "c$k" --receipt "$T/ep$k.json" 2>&1)
    echo "$R" >> "$T/ep.answers"
done
ms=$((($(date +%s%N) - t0) / 1000000))
check_eq "every ballot answered 202 pending (no wait for the log)" \
    "$(cut -d' ' -f1,2 "$T/ep.answers" | sort | uniq -c | sed 's/^ *//')" "12 202 pending"
check "12 answers in well under 12 waits for the log ($ms ms)" test "$ms" -lt 5000
if [ "$(epoch_now)" -eq "$E" ]; then
    check_eq "within the epoch, the log holds none of them" "$(entries "$L" verifier)" "$B0"
    i=0; held() { curl -s "$V/metrics" | awk '$1 == "verifier_outbox_held" {print $2}'; }
    until [ "$(held)" = 12 ] || [ "$(epoch_now)" -ne "$E" ] || [ $i -gt 40 ]; do sleep 0.1; i=$((i + 1)); done
    [ "$(epoch_now)" -ne "$E" ] || check_eq "the held entries' gauge" "$(held)" 12
else
    fail "the 12 ballots took more than an epoch ($N s): the machine is too slow for this test"
fi
hex() { python3 -c 'import json,sys,base64; print(base64.b64decode(json.load(open(sys.argv[1]))["hash"]).hex())' "$1"; }
H=$(hex "$T/ep0.json")
R=$($VT receipt "$V" "$H" 2>&1)
[ "$(epoch_now)" -ne "$E" ] || check_eq "GET /receipts during the epoch: still pending" "$(echo "$R" | cut -d' ' -f1,2)" "202 pending"
touch "$T/ballots.done" # the issuer's part (section 4) may begin
# after the epoch (and the sender's next look), every receipt completes
while [ "$(epoch_now)" -eq "$E" ]; do sleep 0.2; done
ok_receipts=0
for k in $(seq 0 11); do
    R=$($VT receipt "$V" "$(hex "$T/ep$k.json")" --wait --out "$T/ep$k.done.json" 2>&1)
    case "$R" in "200 proven"*|"200 logged"*) ok_receipts=$((ok_receipts + 1)) ;; esac
done
check_eq "after the epoch, every pending receipt completes" "$ok_receipts" 12
check "a completed receipt checks offline" $VT check "$VK" "$T/ep3.done.json" --expect-kind action
check_eq "the log holds the 12 now" "$(entries "$L" verifier)" "$((B0 + 12))"
$VT dump "$L" "$VK" > "$T/dump1"
python3 "$T/ep.py" actions "$T/dump1" ep > "$T/ep.order"
check_eq "12 action entries of the epoch" "$(wc -l < "$T/ep.order")" 12
check_eq "every time is the epoch's start" "$(cut -d' ' -f2 "$T/ep.order" | sort -u)" "$((E * N))"
# arrival order c0..c11; a uniform shuffle gives it back with probability 1/12! (2e-9)
check "appended in another order than they came ($(cut -d' ' -f1 "$T/ep.order" | tr '\n' ' '))" \
    test "$(cut -d' ' -f1 "$T/ep.order" | tr '\n' ' ')" != "$(seq -s' ' 0 11 | sed 's/\([0-9]*\)/c\1/g') "
check_eq "the same ballot again: the same (now logged) receipt" \
    "$($VT act "$V" "$T" ep "$T/ep.tok" 5 --choice c5 | cut -d' ' -f1,3)" \
    "200 $(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["index"])' "$T/ep5.done.json")"

# --- 2. kill -9 while entries are held: nothing lost, the receipts complete -----------------
# five ballots and the kill in an epoch with more than 5 s of it left (this one or the next)
E=$(epoch_room 5)
for k in 0 1 2 3 4; do
    $VT act "$V" "$T" kh "$T/kh.tok" "$k" --choice yes --receipt "$T/kh$k.json" >> "$T/kh.answers" 2>&1
done
kill -9 "$ver_PID"; wait "$ver_PID" 2>/dev/null
check_eq "5 ballots held, then kill -9: all were pending" "$(cut -d' ' -f2 "$T/kh.answers" | sort -u)" pending
start_server ver VPORT2 $BUILD/onevoice-verifier $VARGS --listen "127.0.0.1:$VPORT" || fail "restart"
while [ "$(epoch_now)" -le "$E" ]; do sleep 0.2; done
n=0
for k in 0 1 2 3 4; do
    R=$($VT receipt "$V" "$(hex "$T/kh$k.json")" --wait 2>&1)
    case "$R" in "200 "*) n=$((n + 1)) ;; esac
done
check_eq "after the restart and the epoch, the 5 are logged" "$n" 5

# --- 3. kill -9 while an epoch's flush is at the log: no loss, no duplicate -----------------
E=$(epoch_start)
$VT load "$V" "$T" ks "$T/ks.tok" --count 600 --conns 8 > "$T/ks.load" 2>&1
check_eq "600 ballots counted in the epoch" "$(cut -d' ' -f2,3 "$T/ks.load")" "ok 600"
BK=$(entries "$L" verifier)
flushes() { curl -s "$V/metrics" | awk '$1 == "verifier_epoch_flushes_total" {print $2}'; }
F0=$(flushes)
# the log frozen before the epoch ends: the flush's request waits there. Then kill -9 the
# verifier, let the log go on (it may commit what it received, or not), restart: the
# epoch's entries are sent again, in their stored order, and the log keeps each once
while [ $(($(date +%s) + 1)) -lt $(((E + 1) * N)) ]; do sleep 0.1; done
[ "$(epoch_now)" -eq "$E" ] || fail "the load took more than an epoch ($N s): too slow"
kill -STOP "$log_PID"
i=0; until [ "$(flushes)" != "$F0" ] || [ $i -gt 100 ]; do sleep 0.1; i=$((i + 1)); done
check "the flush began (epoch flushes counted)" test "$(flushes)" != "$F0"
sleep 0.3
kill -9 "$ver_PID"; wait "$ver_PID" 2>/dev/null
kill -CONT "$log_PID"
start_server ver VPORT3 $BUILD/onevoice-verifier $VARGS --listen "127.0.0.1:$VPORT" || fail "restart"
i=0
until [ "$(entries "$L" verifier)" -ge $((BK + 600)) ] || [ $i -gt 300 ]; do sleep 0.1; i=$((i + 1)); done
sleep 1
check_eq "after kill -9 during the flush, the log holds the 600, once each" "$(entries "$L" verifier)" "$((BK + 600))"
$VT dump "$L" "$VK" > "$T/dump2"
check_eq "no entry twice in the log" "$(python3 "$T/ep.py" dups "$T/dump2")" 0
check_eq "600 ks ballots in the log" "$(python3 "$T/ep.py" actions "$T/dump2" ks | wc -l)" 600
check "each action once, every one counted (vtool audit)" $VT audit "$L" "$VK"
check "onevoice-audit finds nothing wrong" $BUILD/onevoice-audit --quiet --log "$L" \
    --log-vkey "$VK" --state "$T/audit-v"

# --- 4. (ran beside 1 to 3): its checks counted here -----------------------------------------
touch "$T/ballots.done" # (in case section 1 stopped early)
wait "$S4_PID"
if [ -s "$T/s4.count" ]; then
    read -r p4 f4 < "$T/s4.count"
    PASSED=$((PASSED + p4)); FAILED=$((FAILED + f4))
else
    fail "the issuer's part (section 4) did not finish"
fi
S4_PID=""
E2E_PIDS="$E2E_PIDS $(cat "$T/s4.pids" 2>/dev/null)" && rm -f "$T/s4.pids"

summary
