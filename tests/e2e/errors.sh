#!/bin/sh
# Errors that name their real cause (issue 23), each against real servers: a full disk
# under the log and under the verifier (disk_full, the data directory named, nothing
# acknowledged lost, writes resume once space is freed, a token still spends once), a read-only data directory or database ("read-only", not "in use"), the issuer
# given garbage for the log's key (refused at start), witnesses short of the quorum (each
# named with what it answered), a clock 10 minutes off at a producer, at the log and at the
# wallet (stale_request with the skew and "fix this machine's clock (NTP)"), and a witness
# database damaged past what the start-up probe reads (refused at start).
#
# The clock skew uses the test hook of core/base/clock.h (OV_CLOCK_OFFSET_MS). A full disk
# needs a small file system: a tmpfs, else a loop-mounted ext4 image; a read-only directory
# needs a read-only bind mount or chattr +i as root, or file modes as another user. When
# none can be had here, that part is skipped with its reason printed (never passed).
. tests/e2e/lib/common.sh
LT=$BUILD/tools/logtool
IT=$BUILD/tools/issuertool
VT=$BUILD/tools/vtool
T=$E2E_TMP
MOUNTS=""
cleanup_errors() {
    for m in $MOUNTS; do umount -l "$m" 2>/dev/null; done
    [ -n "${IMMUTABLE:-}" ] && chattr -i "$IMMUTABLE" 2>/dev/null
    e2e_cleanup
}
trap cleanup_errors EXIT INT TERM
skip() { echo "SKIP: $*" >&2; }
# said DESCRIPTION PATTERN FILE: the file (a server's stderr) has a line matching PATTERN
said() {
    if grep -q -- "$2" "$3"; then ok; else fail "$1: '$2' not in $3:"; sed 's/^/    /' "$3" | tail -n 8 >&2; fi
}
# wait_said PATTERN FILE: up to 10 s for a line to appear
wait_said() { i=0; while ! grep -q -- "$1" "$2" && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done; }
reason() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["error"])' "$1" 2>/dev/null; }
# add U REQ: POSTs the request logtool wrote as REQ.body/REQ.sig; the status, the answer in $T/resp
add() {
    curl -s -o "$T/resp" -w '%{http_code}' -X POST "$1/add" -H 'Content-Type: application/cbor' \
        -H 'Onevoice-Producer: issuer' -H "Onevoice-Signature: $(cat "$2.sig")" \
        --data-binary @"$2.body"
}

$LT keygen "$T/q.key" > "$T/q.pub"
echo "issuer $(cat "$T/q.pub")" > "$T/producers"

# --- 1. a full disk -------------------------------------------------------------------------
FS=$T/fs
mkdir -p "$FS"
how=""
if mount -t tmpfs -o size=16m tmpfs "$FS" 2>/dev/null; then
    how=tmpfs
elif command -v mkfs.ext4 >/dev/null && truncate -s 24M "$T/fs.img" &&
     mkfs.ext4 -q -F "$T/fs.img" >/dev/null 2>&1 && mount -o loop "$T/fs.img" "$FS" 2>/dev/null; then
    how="loop-mounted ext4 image"
fi
if [ -z "$how" ]; then
    skip "disk full: neither a tmpfs nor a loop-mounted image can be mounted here (needs root" \
         "and a container that allows mount)"
else
    MOUNTS="$FS $MOUNTS"
    echo "disk full: on a $how" >&2
    LOGARGS="--data $FS/log --origin full.example/log --producers $T/producers --checkpoint-ms 50"
    start_server full FPORT $BUILD/onevoice-log $LOGARGS
    FU=http://127.0.0.1:$FPORT
    VK=$($BUILD/onevoice-log --data "$FS/log" --print-vkey)
    check "appends before the disk fills" $LT load "$FU" "$T/q.key" issuer --count 200 --batch 20 \
        --size 500 --conns 2 --acks "$T/acks-full1"
    # the WAL emptied (so that the next commit needs new space, not the WAL's old pages),
    # then the disk filled while the log runs (dd stops at ENOSPC; its error is the point)
    python3 -c 'import sqlite3, sys
c = sqlite3.connect(sys.argv[1]); c.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall(); c.close()' \
        "$FS/log/log.db"
    check_eq "the WAL is empty" "$(stat -c %s "$FS/log/log.db-wal")" 0
    dd if=/dev/zero of="$FS/filler" bs=4k 2>/dev/null
    check_eq "the file system is full" "$(df -P "$FS" | awk 'NR == 2 { print $4 }')" 0
    $LT request "$T/r-full" "$T/q.key" issuer "$(head -c 3000 /dev/zero | tr '\0' f)"
    check_eq "an append on a full disk: 503" "$(add "$FU" "$T/r-full")" 503
    check_eq "its reason is disk_full, not io_error" "$(reason "$T/resp")" disk_full
    said "the log's stderr says disk full and names the data directory" \
        "disk full: cannot write $FS/log/log.db .*data directory $FS/log" "$E2E_TMP/full.log"
    check_eq "the log is still up while the disk is full" "$(curl -s "$FU/healthz")" ok
    # a new server on the full disk: its first key cannot be written
    $BUILD/onevoice-log --data "$FS/new" --origin new.example/log --producers "$T/producers" \
        --port-file /dev/null 2>"$T/new.err"
    said "a key file that cannot be written for lack of space: disk_full" "key: disk_full" "$T/new.err"
    rm -rf "$FS/new"
    rm -f "$FS/filler"
    check_eq "space freed: the same request is taken" "$(add "$FU" "$T/r-full")" 200
    check "and more appends" $LT load "$FU" "$T/q.key" issuer --count 200 --batch 20 --size 500 \
        --conns 2 --acks "$T/acks-full2"
    sleep 0.3
    check "nothing acknowledged was lost, the tree verifies" $LT verify "$FU" "$VK" \
        --acks "$T/acks-full1" --acks "$T/acks-full2"
    kill "$full_PID"; wait "$full_PID" 2>/dev/null
    umount "$FS" && MOUNTS=""
fi

# --- 1b. a full disk under the verifier ---------------------------------------------------------
# Its database cannot grow: an action is refused 503 disk_full (not counted, nothing to
# lose), and taken once space is freed; its token still spends once.
if [ -n "$how" ] && { [ "$how" != tmpfs ] || mount -t tmpfs -o size=16m tmpfs "$FS" 2>/dev/null; } &&
   { [ "$how" = tmpfs ] || mount -o loop "$T/fs.img" "$FS" 2>/dev/null; }; then
    MOUNTS="$FS $MOUNTS"
    rm -rf "$FS/v" "$FS/filler"
    $BUILD/onevoice-verifier --data "$FS/v" --print-producer-key > "$T/vfull.producer"
    cat "$T/producers" "$T/vfull.producer" > "$T/producers-v"
    VLK=$($BUILD/onevoice-log --data "$T/vlog" --origin vfull.example/log --print-vkey)
    start_server vlog VLPORT $BUILD/onevoice-log --data "$T/vlog" --origin vfull.example/log \
        --producers "$T/producers-v" --checkpoint-ms 50
    VL=http://127.0.0.1:$VLPORT
    $VT context "$VL" "$T/q.key" "$T" full --choices yes,no >/dev/null || fail "context full"
    $VT mint "$T" full 3 "$T/full.tok" || fail "mint full"
    start_server vfull VFPORT $BUILD/onevoice-verifier --data "$FS/v" --log "$VL" --log-vkey "$VLK" \
        --epoch-seconds 0
    VF=http://127.0.0.1:$VFPORT
    i=0
    until curl -s "$VF/contexts" | grep -q '"full"' || [ $i -gt 100 ]; do sleep 0.05; i=$((i + 1)); done
    vact() { $VT act "$VF" "$T" full "$T/full.tok" "$@" 2>/dev/null | cut -d' ' -f1,2; }
    check_eq "a ballot before the disk fills" "$(vact 0 --choice yes)" "200 logged"
    python3 -c 'import sqlite3, sys
c = sqlite3.connect(sys.argv[1]); c.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall(); c.close()' \
        "$FS/v/verifier.db"
    dd if=/dev/zero of="$FS/filler" bs=4k 2>/dev/null
    check_eq "the file system is full" "$(df -P "$FS" | awk 'NR == 2 { print $4 }')" 0
    check_eq "a ballot on a full disk: 503 disk_full" "$(vact 1 --choice no)" "503 disk_full"
    said "the verifier's stderr says disk full and names its data directory" \
        "disk full: cannot write $FS/v/verifier.db" "$E2E_TMP/vfull.log"
    check_eq "the verifier still answers while the disk is full" "$(curl -s "$VF/healthz")" ok
    rm -f "$FS/filler"
    check_eq "space freed: the same ballot is counted" "$(vact 1 --choice no)" "200 logged"
    check_eq "its token spent once: another ballot with it is refused" \
        "$(vact 1 --choice yes)" "409 token_spent"
    check_eq "the ballot from before the disk filled is still there (its receipt again)" \
        "$(vact 0 --choice yes | cut -d' ' -f1)" 200
    kill "$vfull_PID" "$vlog_PID"; wait "$vfull_PID" "$vlog_PID" 2>/dev/null
    umount "$FS" && MOUNTS=""
fi

# --- 2. a read-only data directory ------------------------------------------------------------
RO=$T/ro
$BUILD/onevoice-log --data "$T/rolog" --origin ro.example/log --print-vkey >/dev/null
ROARGS="--origin ro.example/log --producers $T/producers --port-file /dev/null"
if [ "$(id -u)" = 0 ]; then
    mkdir -p "$RO"
    if mount --bind "$T/rolog" "$RO" 2>/dev/null && MOUNTS="$RO $MOUNTS" &&
       mount -o remount,bind,ro "$RO" 2>/dev/null; then
        $BUILD/onevoice-log --data "$RO" $ROARGS 2>"$T/ro.err"
        check_eq "a read-only mount: exit 1" "$?" 1
        said "it says read-only, naming the lock file" \
            "cannot take the data directory's lock $RO/lock: Read-only file system" "$T/ro.err"
        check "and not 'in use by another'" sh -c "! grep -q 'in use' '$T/ro.err'"
        umount "$RO"; MOUNTS=""
    else
        skip "read-only mount: a bind mount is refused here"
    fi
    if chattr +i "$T/rolog/log.db" 2>/dev/null; then
        IMMUTABLE=$T/rolog/log.db
        $BUILD/onevoice-log --data "$T/rolog" $ROARGS 2>"$T/ro2.err"
        check_eq "log.db immutable (chattr +i): exit 1 at start, not database_error later" "$?" 1
        said "it says read-only, naming the file and the data directory" \
            "read-only: cannot write $T/rolog/log.db .*data directory $T/rolog" "$T/ro2.err"
        chattr -i "$T/rolog/log.db"; IMMUTABLE=""
    else
        skip "immutable file: chattr +i is refused on this file system"
    fi
else
    chmod 0500 "$T/rolog"; chmod 0400 "$T/rolog/log.db"; rm -f "$T/rolog/lock"
    $BUILD/onevoice-log --data "$T/rolog" $ROARGS 2>"$T/ro.err"
    check_eq "a data directory without write permission: exit 1" "$?" 1
    said "it says read-only for this user" "read-only for this user" "$T/ro.err"
    check "and not 'in use by another'" sh -c "! grep -q 'in use' '$T/ro.err'"
    chmod 0700 "$T/rolog"; chmod 0600 "$T/rolog/log.db"
fi
start_server rolog ROPORT $BUILD/onevoice-log --data "$T/rolog" --origin ro.example/log \
    --producers "$T/producers"
check_eq "writable again: it starts" "$(curl -s "http://127.0.0.1:$ROPORT/healthz")" ok
$BUILD/onevoice-log --data "$T/rolog" $ROARGS 2>"$T/inuse.err"
said "a second log on a writable directory still says 'in use'" "is in use by another onevoice-log" \
    "$T/inuse.err"
kill "$rolog_PID"; wait "$rolog_PID" 2>/dev/null

# --- 3. the issuer given garbage for the log's key ---------------------------------------------
$BUILD/onevoice-issuer --data "$T/iss" --print-producer-key > "$T/iss.producer"
cat "$T/producers" > "$T/producers2"; sed 's/^issuer /iss /' "$T/iss.producer" >> "$T/producers2"
start_server log LPORT $BUILD/onevoice-log --data "$T/log" --origin e2e.example/log \
    --producers "$T/producers2" --checkpoint-ms 50
L=http://127.0.0.1:$LPORT
LV=$($BUILD/onevoice-log --data "$T/log" --print-vkey)
ISSARGS="--data $T/iss --log $L --name issuer.example --producer iss --port-file /dev/null"
for bad in "garbage" "$(echo "$LV" | sed 's/+[0-9a-f]\{8\}+/+00000000+/')" \
           "$(echo "$LV" | cut -d+ -f1,2)+AAAA" \
           "$($BUILD/onevoice-witness --data "$T/wx" --name wx.example/w --print-vkey)"; do
    $BUILD/onevoice-issuer $ISSARGS --log-vkey "$bad" 2>"$T/iss.err"
    check_eq "--log-vkey '$(echo "$bad" | cut -c1-30)...': refused at start (exit 2)" "$?" 2
    said "it names --log-vkey and says what is wrong" \
        "refusing to start: --log-vkey .* is not the log's verifier key: it" "$T/iss.err"
done
said "a witness's key is told apart" "a witness's key" "$T/iss.err"
# a well-formed key of another log: the issuer starts, and says whose key the log serves
OTHER=$($BUILD/onevoice-log --data "$T/otherlog" --origin other.example/log --print-vkey)
start_server isso IOPORT $BUILD/onevoice-issuer --data "$T/iss" --log "$L" --log-vkey "$OTHER" \
    --name issuer.example --producer iss --epoch-seconds 0
wait_said "has another key" "$E2E_TMP/isso.log"
said "another log's key: the issuer names the key the log serves" \
    "has another key than --log-vkey: it serves \"$LV\", not \"$OTHER\"" "$E2E_TMP/isso.log"
kill "$isso_PID"; wait "$isso_PID" 2>/dev/null

# --- 4. clock skew ------------------------------------------------------------------------------
# the issuer 10 minutes behind: its context entry gets the log's 403 stale_request
start_server iss IPORT env OV_CLOCK_OFFSET_MS=-600000 $BUILD/onevoice-issuer --data "$T/iss" \
    --log "$L" --log-vkey "$LV" --name issuer.example --producer iss --epoch-seconds 0
U=http://127.0.0.1:$IPORT
ADMIN=$($BUILD/onevoice-issuer --data "$T/iss" --print-credentials | awk '/^admin /{print $2}')
NOW=$(date +%s)
# (in the background: the issuer answers once the log has the entry, here never)
$IT context "$U" "$ADMIN" "{\"id\":\"skew\",\"title\":\"Skew\",\"type\":\"assembly\",\"choices\":[\"a\",\"b\"],\"opens\":$((NOW - 3600)),\"closes\":$((NOW + 3600)),\"quota\":1}" \
    >"$T/ctx.out" 2>&1 &
CTX_PID=$!
wait_said "stale_request" "$E2E_TMP/iss.log"
said "the issuer reports stale_request, not http_error, with the skew and the cure" \
    "log append failed: stale_request (HTTP 403): this machine's clock is [56][0-9][0-9]\.[0-9] s behind the log's.*fix this machine's clock (NTP)" \
    "$E2E_TMP/iss.log"
check "no bare http_error" sh -c "! grep -q 'log append failed.*http_error' '$E2E_TMP/iss.log'"
kill "$iss_PID"; wait "$iss_PID" 2>/dev/null
kill "$CTX_PID" 2>/dev/null; wait "$CTX_PID" 2>/dev/null
start_server iss IPORT $BUILD/onevoice-issuer --data "$T/iss" --log "$L" --log-vkey "$LV" \
    --name issuer.example --producer iss --epoch-seconds 0
U=http://127.0.0.1:$IPORT
i=0
until curl -s "$U/contexts" | grep -q '"skew"' || [ $i -gt 200 ]; do sleep 0.05; i=$((i + 1)); done
check "clock right again: the context is logged and listed" sh -c "curl -s '$U/contexts' | grep -q '\"skew\"'"

# the log 10 minutes ahead: a producer whose clock is right is refused, and told by how much
kill "$log_PID"; wait "$log_PID" 2>/dev/null
start_server log LPORT env OV_CLOCK_OFFSET_MS=600000 $BUILD/onevoice-log --data "$T/log" \
    --producers "$T/producers2" --checkpoint-ms 50
L=http://127.0.0.1:$LPORT
$LT request "$T/r-skew" "$T/q.key" issuer skewed
check_eq "a log 10 minutes ahead: 403" "$(add "$L" "$T/r-skew")" 403
check_eq "stale_request" "$(reason "$T/resp")" stale_request
check "the answer carries the log's time, 10 minutes ahead" python3 -c '
import json, sys, time
r = json.load(open(sys.argv[1]))
assert abs(r["time"] - (time.time() * 1000 + 600000)) < 5000, r
assert "s behind the log" in r["message"] and "NTP" in r["message"], r' "$T/resp"
kill "$log_PID"; wait "$log_PID" 2>/dev/null
start_server log LPORT $BUILD/onevoice-log --data "$T/log" --producers "$T/producers2" \
    --checkpoint-ms 50
L=http://127.0.0.1:$LPORT

# the verifier 10 minutes ahead: its action entries get the log's 403 stale_request
$BUILD/onevoice-verifier --data "$T/v" --print-producer-key >> "$T/producers2"
kill "$log_PID"; wait "$log_PID" 2>/dev/null
start_server log LPORT $BUILD/onevoice-log --data "$T/log" --producers "$T/producers2" \
    --checkpoint-ms 50
L=http://127.0.0.1:$LPORT
$VT context "$L" "$T/q.key" "$T" town --choices yes,no --opens -100 --closes +7200 >/dev/null ||
    fail "vtool context"
$VT mint "$T" town 2 "$T/town.tok" || fail "vtool mint"
start_server ver VPORT env OV_CLOCK_OFFSET_MS=600000 $BUILD/onevoice-verifier --data "$T/v" \
    --log "$L" --log-vkey "$LV" --log-poll-ms 50 --epoch-seconds 0
V=http://127.0.0.1:$VPORT
i=0
until curl -s "$V/contexts" | grep -q '"town"' || [ $i -gt 200 ]; do sleep 0.05; i=$((i + 1)); done
R=$($VT act "$V" "$T" town "$T/town.tok" 0 --choice yes 2>/dev/null)
check "the verifier takes the ballot (its own clock decides; logging waits)" \
    sh -c "echo '$R' | grep -Eq '^20[02] '"
wait_said "stale_request" "$E2E_TMP/ver.log"
said "the verifier reports stale_request with the skew and the cure, not http_error" \
    "appending to the log: stale_request (HTTP 403): this machine's clock is [56][0-9][0-9]\.[0-9] s ahead of the log's.*fix this machine's clock (NTP)" \
    "$E2E_TMP/ver.log"
check "no bare http_error" sh -c "! grep -q 'appending to the log: http_error' '$E2E_TMP/ver.log'"
kill "$ver_PID"; wait "$ver_PID" 2>/dev/null
start_server ver VPORT $BUILD/onevoice-verifier --data "$T/v" --log "$L" --log-vkey "$LV" \
    --log-poll-ms 50 --epoch-seconds 0
V=http://127.0.0.1:$VPORT
i=0 # the same ballot again gives its receipt: proven once the log has it
until R2=$($VT act "$V" "$T" town "$T/town.tok" 0 --choice yes --wait 2>/dev/null) &&
      [ "$(echo "$R2" | cut -d' ' -f1,2)" = "200 proven" ] || [ $i -gt 20 ]; do
    sleep 0.5; i=$((i + 1))
done
check_eq "clock right again: the ballot is logged and proven" "$(echo "$R2" | cut -d' ' -f1,2)" \
    "200 proven"

# the wallet 10 minutes ahead: the issuer's 401 stale_request, and the hint with the skew
$IT invites "$U" "$ADMIN" 1 "$T/codes.csv"
W=$T/w.wallet
$BUILD/onevoice --wallet "$W" init --issuer "$U" --verifier "$V" --log "$L" --log-vkey "$LV" \
    >/dev/null 2>&1 || fail "wallet init"
OV_CLOCK_OFFSET_MS=600000 $BUILD/onevoice --wallet "$W" enroll --code "$(sed -n 2p "$T/codes.csv")" \
    >/dev/null 2>"$T/wallet.err"
check_eq "a wallet 10 minutes ahead: refused" "$?" 1
said "the wallet names stale_request" "stale_request" "$T/wallet.err"
said "and says by how much its clock is off, and to fix it (NTP)" \
    "this computer's clock is about 60[0-9] s ahead of the issuer's.*fix this computer's clock (set the time automatically, NTP)" \
    "$T/wallet.err"
check "clock right: the same code enrolls" $BUILD/onevoice --wallet "$W" enroll \
    --code "$(sed -n 2p "$T/codes.csv")"

# --- 5. witnesses short of the quorum: each named with its answer -------------------------------
WLV=$($BUILD/onevoice-log --data "$T/wlog" --origin witnessed.example/log --print-vkey)
echo "witnessed.example/log $WLV" > "$T/logs"
echo "witnessed.example/log $OTHER" > "$T/wrong-logs" # a witness told another key for it
start_server w1 W1PORT $BUILD/onevoice-witness --data "$T/w1" --name w1.example/w --logs "$T/logs"
start_server w2 W2PORT $BUILD/onevoice-witness --data "$T/w2" --name w2.example/w --logs "$T/wrong-logs"
{
    echo "http://127.0.0.1:$W1PORT $($BUILD/onevoice-witness --data "$T/w1" --print-vkey)"
    echo "http://127.0.0.1:$W2PORT $($BUILD/onevoice-witness --data "$T/w2" --print-vkey)"
    echo "http://127.0.0.1:1 $($BUILD/onevoice-witness --data "$T/w3" --name w3.example/w --print-vkey)"
} > "$T/witnesses"
start_server wlog WLPORT $BUILD/onevoice-log --data "$T/wlog" --producers "$T/producers" \
    --witnesses "$T/witnesses" --quorum 2 --checkpoint-ms 50
WU=http://127.0.0.1:$WLPORT
check "appends are durable without the quorum" $LT append "$WU" "$T/q.key" issuer one two
# (a producer waiting for a checkpoint gets, after the log's 30 s wait, 503 checkpoint_pending
# naming the witnesses the same way: too long a wait for make check, not tested here)
wait_said "NOT published" "$E2E_TMP/wlog.log"
said "the log says the checkpoint is not published, and the count" \
    "checkpoint [0-9]* NOT published (no quorum; retried): 1 of 3 witnesses cosigned, --quorum 2" \
    "$E2E_TMP/wlog.log"
said "the refusing witness is named with its status and reason" \
    "witness http://127.0.0.1:$W2PORT (w2.example/w): HTTP 40[34] [a-z_]*" "$E2E_TMP/wlog.log"
said "the unreachable witness is named with why" \
    "witness http://127.0.0.1:1 (w3.example/w): no answer (http_error: .*onnect" "$E2E_TMP/wlog.log"
check "the witness that cosigned is not blamed" sh -c \
    "! grep -q 'witness http://127.0.0.1:$W1PORT ' '$E2E_TMP/wlog.log'"
sleep 0.5
check_eq "said once, not at every retry" "$(grep -c 'NOT published' "$E2E_TMP/wlog.log")" 1

# --- 6. a witness database damaged past the start-up probe --------------------------------------
kill "$w1_PID"; wait "$w1_PID" 2>/dev/null
WDB=$T/w1/witness.db
python3 - "$WDB" <<'PY' || fail "filling the witness database"
import os, sqlite3, sys
c = sqlite3.connect(sys.argv[1])
c.executemany("INSERT INTO checkpoints (origin, size, root, note, cosigned_at, cosig)"
              " VALUES (?, ?, ?, ?, ?, ?)",
              [("zz.example/fill", i, os.urandom(32), "x" * 400, 1, "y") for i in range(1, 5001)])
c.commit(); c.execute("PRAGMA wal_checkpoint(TRUNCATE)"); c.close()
PY
cp "$WDB" "$T/witness.db.good"
start_server w1 W1PORT $BUILD/onevoice-witness --data "$T/w1" --logs "$T/logs"
check_eq "a large witness database starts" "$(curl -s "http://127.0.0.1:$W1PORT/healthz")" ok
kill "$w1_PID"; wait "$w1_PID" 2>/dev/null
# garbage over its last pages: the probe (one page of each table) reads none of them
python3 -c 'import os, sys
p = sys.argv[1]; n = os.path.getsize(p); f = open(p, "r+b"); f.seek(n - 4 * 4096)
f.write(os.urandom(4 * 4096)); f.close()' "$WDB"
$BUILD/onevoice-witness --data "$T/w1" --logs "$T/logs" --port-file /dev/null 2>"$T/wdb.err"
check_eq "garbage in its last pages: refused at start (exit 1), not 500 for every request" "$?" 1
said "it says database corrupt, naming the file" "database corrupt: $WDB" "$T/wdb.err"
said "and what to do" "refusing to start: $WDB: db_corrupt: .*restore it from your backup" "$T/wdb.err"
# garbage after the first page: the probe's refusal (the issue's case)
cp "$T/witness.db.good" "$WDB"
python3 -c 'import os, sys
p = sys.argv[1]; n = os.path.getsize(p); f = open(p, "r+b"); f.seek(4096)
f.write(os.urandom(n - 4096)); f.close()' "$WDB"
$BUILD/onevoice-witness --data "$T/w1" --logs "$T/logs" --port-file /dev/null 2>"$T/wdb2.err"
check_eq "garbage after its first page: refused at start (exit 1)" "$?" 1
said "it says the file is not a readable database" "$WDB is not a readable database" "$T/wdb2.err"
cp "$T/witness.db.good" "$WDB"
start_server w1 W1PORT $BUILD/onevoice-witness --data "$T/w1" --logs "$T/logs"
check_eq "restored from the copy: it starts" "$(curl -s "http://127.0.0.1:$W1PORT/healthz")" ok
summary
