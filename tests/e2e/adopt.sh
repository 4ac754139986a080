#!/bin/sh
# onevoice-verifier's adoption (verifier/adopt.h) on a large log: thousands of actions are
# logged, then the verifier's database is begun again with --init, and the verifier adopts
# them from the log chunk by chunk (at most one bundle fetched a chunk; its rows committed with
# the reader's saved position): every action adopted, once, also across a kill -9 in the
# middle of adoption;
# a spent token stays spent even for an action sent while adoption runs; and the verifier's
# peak memory adopting N2 actions is not N2/N1 times that of adopting N1.
. tests/e2e/lib/common.sh
check() {
    d=$1; shift
    if "$@" >"$E2E_TMP/check.out" 2>&1; then ok; else fail "$d"; sed 's/^/    /' "$E2E_TMP/check.out" >&2; fi
}
VT=$BUILD/tools/vtool
T=$E2E_TMP
# NA ballots and R1 ratings (10 targets a token: fewer tokens to mint), then R2 ratings in all
# (R1 >= R2 / 10: the first R2 / 10 ratings admit every pseudonym)
case "$BUILD" in
*asan*) NA=300 R1=1700 R2=3700 ;; # 5 chunks; no memory check (ASan keeps what is freed)
*) NA=1000 R1=2000 R2=11000 ;;
esac
N1=$((NA + R1)) N2=$((NA + R2))

# --- a witness, the log, the verifier (tests/e2e/lib/verifier_env.sh) --------------------
ORIGIN=e2e.example/adopt
. tests/e2e/lib/verifier_env.sh

metric() { curl -s "$1/metrics" | awk -v k="$2" '$1 == k { print $2 }'; }
log_size() { curl -s "$L/checkpoint" | sed -n 2p; }
act() { $VT act "$V" "$T" "$@" --platform load.example 2>/dev/null; }
field() { echo "$1" | cut -d' ' -f"$2"; }
# adopted: waits until the verifier decides actions again (h_actions.c waits, and after 10 s
# answers 503 catching_up, until adoption is over), with a ballot whose token is spent
adopted() {
    i=0
    while R=$(act big "$T/big.tok" 1 --choice yes) && [ "$R" = "503 catching_up" ] &&
        [ $i -lt 10 ]; do i=$((i + 1)); done
    echo "$R"
}
# rows: verifier.db's actions, their distinct leaf hashes, the tokens they spent
rows() {
    python3 -c 'import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
print(*c.execute("SELECT COUNT(*), COUNT(DISTINCT hash), COUNT(nonce) FROM entries"
                 " WHERE ballot IS NOT NULL").fetchone())' "$T/v/verifier.db"
}
want() { echo "$1 $1 $((NA + R2 / 10))"; } # rows after N actions (every pseudonym admitted)
hwm_kb() { awk '/VmHWM/ { print $2 }' "/proc/$ver_PID/status"; }
# restart_init: stops the verifier, begins its database again (--init), starts it
restart_init() {
    kill "$ver_PID"; wait "$ver_PID" 2>/dev/null
    rm -f "$T/v/verifier.db" "$T/v/verifier.db-wal" "$T/v/verifier.db-shm"
    start_server ver VPORT $BUILD/onevoice-verifier $VARGS --init
    V=http://127.0.0.1:$VPORT
}
load() { # load CONTEXT FROM COUNT [--targets 10]: those actions, all logged
    c=$1 f=$2 n=$3; shift 3
    [ "$n" -gt 0 ] || return 0 # (vtool load --count 0 sends every token's)
    R=$($VT load "$V" "$T" "$c" "$T/$c.tok" --from "$f" --count "$n" --conns 4 --batch 32 "$@")
    check_eq "$n actions counted ($c from $f)" "$(field "$R" 3) $(field "$R" 5)" "$n 0"
}

$VT context "$L" "$T/issuer.key" "$T" big --choices yes,no >/dev/null || fail "context big"
$VT context "$L" "$T/issuer.key" "$T" notes --type rating --scale -1,1 >/dev/null ||
    fail "context notes"
$VT mint "$T" big "$NA" "$T/big.tok" --threads 2 || fail "mint big"
$VT mint "$T" notes "$((R2 / 10))" "$T/notes.tok" --threads 2 || fail "mint notes"
i=0
until [ "$(curl -s "$V/contexts" | grep -o '"id"' | wc -l)" -ge 2 ] || [ $i -gt 100 ]; do
    sleep 0.05; i=$((i + 1))
done

# --- N1 actions, then verifier.db begun again: every one adopted -----------------------------
load big 0 "$NA"
# every pseudonym admitted (each token's rating of t0, all logged) before its further
# ratings: adoption takes a rating logged before its admission only within one chunk
# (docs/PROTOCOL.md §8; the sender no longer logs one so, tests/e2e/admission.sh), and these
# tokens' ratings span many chunks
load notes 0 "$((R2 / 10))" --targets 10
load notes "$((R2 / 10))" "$((R1 - R2 / 10))" --targets 10
# token 7 voted choices[7 % 2] = "no"; token 3 rated t1 1
RB=$(act big "$T/big.tok" 7 --choice no)
RR=$(act notes "$T/notes.tok" 3 --target t1 --rating 1)
check_eq "a loaded ballot and rating sent again have their receipts" \
    "$(field "$RB" 1) $(field "$RR" 1)" "200 200"
restart_init
# an action sent as adoption begins waits for it: its spent token is refused, not counted
R=$(adopted)
H1=$(hwm_kb)
check_eq "a ballot whose token was spent before --init, sent during adoption: still spent" \
    "$R" "409 token_spent"
check_eq "after --init the verifier adopted every action of the log" "$(rows)" "$(want $N1)"
check_eq "adopted_total counts them" "$(metric "$V" verifier_entries_adopted_total)" "$N1"
check "the verifier said so" grep -q "entries of ours this database did not" "$T/ver.log"
check_eq "a spent token is refused" "$(act big "$T/big.tok" 7 --choice yes)" "409 token_spent"
check_eq "the same ballot gets its receipt, at its index" \
    "$(act big "$T/big.tok" 7 --choice no | cut -d' ' -f1,3)" "$(echo "$RB" | cut -d' ' -f1,3)"
check_eq "a target rated is refused another rating" \
    "$(act notes "$T/notes.tok" 3 --target t1 --rating -1)" "409 already_rated"
check_eq "the same rating gets its receipt, at its index" \
    "$(act notes "$T/notes.tok" 3 --target t1 --rating 1 | cut -d' ' -f1,3)" \
    "$(echo "$RR" | cut -d' ' -f1,3)"
A=$($VT audit "$L" "$VK")
check_eq "the log holds each action once" "$A" "audit entries $((N1 + 2)) actions $N1 tallies 0 problems 0"

# --- kill -9 in the middle of adoption: restarted, every action adopted exactly once ---------
# watch.py DB PIDFILE: once PIDFILE names the verifier, kill -9s it the moment DB holds some
# adopted actions (a chunk committed)
cat > "$T/watch.py" <<'PY'
import os, signal, sqlite3, sys, time
db, pidfile = sys.argv[1], sys.argv[2]
deadline = time.time() + 30
pid = None
while time.time() < deadline:
    if pid is None:
        try:
            pid = int(open(pidfile).read())
        except (OSError, ValueError):
            time.sleep(0.001)
            continue
    try:
        c = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=0.01)
        k = c.execute("SELECT COUNT(*) FROM entries WHERE ballot IS NOT NULL").fetchone()[0]
        c.close()
    except sqlite3.Error:
        k = 0
    if k > 0:
        break
    time.sleep(0.001)
if pid is not None:
    os.kill(pid, signal.SIGKILL) # also at the deadline: the script waits for it
PY
# kill_in_adoption: verifier.db begun again (--init), the verifier started and killed by
# watch.py; KILLED: the actions verifier.db then holds
kill_in_adoption() {
    kill "$ver_PID" 2>/dev/null; wait "$ver_PID" 2>/dev/null
    rm -f "$T/v/verifier.db" "$T/v/verifier.db-wal" "$T/v/verifier.db-shm" "$T/ver.pid"
    python3 "$T/watch.py" "$T/v/verifier.db" "$T/ver.pid" &
    W=$!
    sleep 0.2 # the watcher is up before the verifier
    $BUILD/onevoice-verifier $VARGS --init >>"$T/ver.log" 2>&1 &
    ver_PID=$!
    E2E_PIDS="$E2E_PIDS $ver_PID"
    echo "$ver_PID" > "$T/ver.pid.new" && mv "$T/ver.pid.new" "$T/ver.pid"
    wait "$W"
    wait "$ver_PID" 2>/dev/null
    KILLED=$(rows | cut -d' ' -f1)
}
SIZE=$(log_size)
try=0
until [ $try -ge 3 ]; do # a kill that came after the last chunk is tried again
    kill_in_adoption
    [ "$KILLED" -lt "$N1" ] && break
    try=$((try + 1))
done
check "kill -9 came in the middle of adoption (0 < $KILLED < $N1 actions adopted)" \
    test "$KILLED" -gt 0 -a "$KILLED" -lt "$N1"
start_server ver VPORT $BUILD/onevoice-verifier $VARGS
V=http://127.0.0.1:$VPORT
check_eq "restarted, a spent token is still refused" "$(adopted)" "409 token_spent"
check_eq "it adopted the rest: every action once" "$(rows)" "$(want $N1)"
check_eq "and only the rest" "$(metric "$V" verifier_entries_adopted_total)" "$((N1 - KILLED))"
sleep 0.3 # the sender sends the adopted rows again: the log, idempotent, appends none
check_eq "the log did not grow" "$(log_size)" "$SIZE"
check_eq "the log still holds each action once" "$($VT audit "$L" "$VK")" "$A"

# --- memory: adopting N2 actions needs about what adopting N1 did ---------------------------
load notes "$R1" "$((R2 - R1))" --targets 10
restart_init
R=$(adopted)
H2=$(hwm_kb)
check_eq "after --init it adopted all $N2" "$R $(rows)" "409 token_spent $(want $N2)"
check_eq "the log holds each of them once" "$($VT audit "$L" "$VK")" \
    "audit entries $((N2 + 2)) actions $N2 tallies 0 problems 0"
echo "peak RSS (VmHWM) adopting $N1 actions: $H1 kB; $N2 actions: $H2 kB"
# what grows with the actions: their keys (keys.c: up to 43 bytes an action) and the proof
# window (about 64 bytes a log entry), ~1 MB for 9,000; holding the actions adopted would
# add ~1 KB each
case "$BUILD" in
*asan*) ;;
*) check "peak memory grows by less than 3 MB for $((N2 - N1)) more actions ($H1 -> $H2 kB)" \
    test "$H2" -lt "$((H1 + 3072))" ;;
esac
summary
