#!/bin/sh
# onevoice-log end to end: the fixture log rebuilt through the API and served byte for
# byte, round trips checked with the core proof code, kill -9 under concurrent appends,
# and hostile requests.
. tests/e2e/lib/common.sh
LT=$BUILD/tools/logtool

# --- 1. the 70,000-entry fixture log, appended through the API ---------------------
python3 - "$VECTORS/signed-note.json" "$E2E_TMP/fixture.key" <<'PY'
import base64, json, os, sys
k = json.load(open(sys.argv[1]))["fixture_log_key"]
seed = bytes.fromhex(k["ed25519_seed_hex"])
line = "PRIVATE+KEY+%s+%s+%s" % (k["name"], k["key_id_hex"],
                                 base64.b64encode(b"\x01" + seed).decode())
fd = os.open(sys.argv[2], os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
os.write(fd, (line + "\n").encode())
PY
$LT keygen "$E2E_TMP/p.key" > "$E2E_TMP/p.pub"
echo "fixture $(cat "$E2E_TMP/p.pub")" > "$E2E_TMP/producers"
start_server fx FXPORT $BUILD/onevoice-log --data "$E2E_TMP/fx" --key "$E2E_TMP/fixture.key" \
    --producers "$E2E_TMP/producers" --opaque-entries --checkpoint-ms 20
FX=http://127.0.0.1:$FXPORT
check "fixture appended through the API" $LT fixture $FX "$E2E_TMP/p.key" fixture 70000 1000
i=0
while [ "$(curl -s $FX/checkpoint | sed -n 2p)" != 70000 ] && [ $i -lt 200 ]; do
    sleep 0.05; i=$((i + 1))
done
curl -s $FX/checkpoint > "$E2E_TMP/cp"
check "checkpoint byte-identical to the fixture" cmp "$E2E_TMP/cp" "$VECTORS/fixture-log/checkpoint"
bad=0; n=0
for f in $(cd "$VECTORS/fixture-log" && find tile -type f | sort); do
    n=$((n + 1))
    curl -s "$FX/$f" > "$E2E_TMP/tile" || bad=$((bad + 1))
    cmp -s "$E2E_TMP/tile" "$VECTORS/fixture-log/$f" || { bad=$((bad + 1)); echo "differs: $f" >&2; }
done
check_eq "every fixture tile and bundle served byte for byte ($n files)" "$bad" 0
check_eq "fixture has its 551 tiles and bundles" "$n" 551
for p in tile/0/274 tile/0/273.p/113 tile/1/001.p/18 tile/2/000.p/2 tile/3/000.p/1 \
         tile/entries/274 tile/entries/273.p/113 tile/0/273 tile/0/0 tile/0/x000/273; do
    check_eq "no tile beyond the published tree: $p" "$(http_status GET "$FX/$p")" 404
done
check_eq "tiles are immutable" "$(curl -s -D - -o /dev/null $FX/tile/0/000 | tr -d '\r' | \
    sed -n 's/^Cache-Control: //ip')" "public, max-age=31536000, immutable"
check_eq "tile content type" "$(curl -s -o /dev/null -w '%{content_type}' $FX/tile/1/000)" \
    "application/octet-stream"
check_eq "checkpoint content type" "$(curl -s -o /dev/null -w '%{content_type}' $FX/checkpoint)" \
    "text/plain; charset=utf-8"
FXV=$(sed -n 's/.*"vkey": "\([^"]*\)".*/\1/p' "$VECTORS/signed-note.json" | grep fixture.example | head -1)
check "fixture log verifies from its tiles" $LT verify $FX "$FXV"
check_eq "the log reader follows the fixture, tiles included" \
    "$($LT read $FX "$FXV" --tiles --state "$E2E_TMP/rstate")" "read 0 70000"
check_eq "appending the same entry again keeps its index" \
    "$($LT append $FX "$E2E_TMP/p.key" fixture --opaque 'fixture entry 12345' | cut -d' ' -f1)" 12345
kill "$fx_PID"

# --- 2. a onevoice log: round trips with receipts ---------------------------------
$LT keygen "$E2E_TMP/q.key" > "$E2E_TMP/q.pub"
echo "issuer $(cat "$E2E_TMP/q.pub")" > "$E2E_TMP/producers2"
LOGARGS="--data $E2E_TMP/log --origin e2e.example/log --producers $E2E_TMP/producers2 --checkpoint-ms 50"
start_server log PORT $BUILD/onevoice-log $LOGARGS
U=http://127.0.0.1:$PORT
VK=$($BUILD/onevoice-log --data "$E2E_TMP/log" --print-vkey)
check_eq "log.db is private (mode 0600)" "$(stat -c %a "$E2E_TMP/log/log.db")" 600
check "append with receipts that verify" $LT append $U "$E2E_TMP/q.key" issuer --checkpoint \
    --vkey "$VK" alpha beta gamma
check "appends from 4 producers at once" $LT load $U "$E2E_TMP/q.key" issuer --count 3000 \
    --batch 50 --conns 4 --acks "$E2E_TMP/acks0"
check "tree, tiles and acks verify" $LT verify $U "$VK" --acks "$E2E_TMP/acks0" --save "$E2E_TMP/cp1"
check "receipt after growth" $LT append $U "$E2E_TMP/q.key" issuer --checkpoint --vkey "$VK" delta
check "consistent with the earlier checkpoint" $LT verify $U "$VK" --previous "$E2E_TMP/cp1"
$LT read $U "$VK" --tiles --state "$E2E_TMP/state2" > /dev/null
$LT append $U "$E2E_TMP/q.key" issuer --checkpoint epsilon zeta > /dev/null
check_eq "the log reader resumes and reads only what is new" \
    "$($LT read $U "$VK" --tiles --state "$E2E_TMP/state2" | awk '{ print $3 - $2 }')" 2
R=$(curl -s "$U/proof/inclusion?index=1&size=3")
check_eq "inclusion proof by index" "$(echo "$R" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["proof"]))')" 2
# the leaf hash of entry 1, from the first entry bundle (each entry: 2-byte length, bytes)
H1=$(curl -s "$U/tile/entries/000" | python3 -c '
import base64, hashlib, sys
b = sys.stdin.buffer.read(); es = []
while b: n = int.from_bytes(b[:2], "big"); es.append(b[2:2 + n]); b = b[2 + n:]
print(base64.urlsafe_b64encode(hashlib.sha256(b"\0" + es[1]).digest()).decode().rstrip("="))')
check_eq "inclusion proof by leaf hash: the same as by index" \
    "$(curl -s "$U/proof/inclusion?hash=$H1&size=3")" "$R"
check_eq "an unknown leaf hash" \
    "$(http_status GET "$U/proof/inclusion?hash=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA&size=3")" 404

# --- 3. hostile requests ------------------------------------------------------------
$LT request "$E2E_TMP/r1" "$E2E_TMP/q.key" issuer hostile-one
SIG=$(cat "$E2E_TMP/r1.sig")
post() { curl -s -o "$E2E_TMP/resp" -w '%{http_code}' -X POST "$U/add" \
    -H 'Content-Type: application/cbor' -H 'Onevoice-Producer: issuer' "$@"; }
check_eq "unsigned append" "$(post --data-binary @"$E2E_TMP/r1.body")" 403
check_eq "reason is machine-readable" "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["error"])' "$E2E_TMP/resp")" bad_signature
check_eq "signed append" "$(post -H "Onevoice-Signature: $SIG" --data-binary @"$E2E_TMP/r1.body")" 200
check_eq "replayed append" "$(post -H "Onevoice-Signature: $SIG" --data-binary @"$E2E_TMP/r1.body")" 409
$LT keygen "$E2E_TMP/stranger.key" >/dev/null
$LT request "$E2E_TMP/r2" "$E2E_TMP/stranger.key" stranger x
check_eq "unknown producer" "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$U/add" \
    -H 'Onevoice-Producer: stranger' -H "Onevoice-Signature: $(cat "$E2E_TMP/r2.sig")" \
    --data-binary @"$E2E_TMP/r2.body")" 403
check_eq "producer header differs from the body" "$(post -H "Onevoice-Signature: $(cat "$E2E_TMP/r2.sig")" --data-binary @"$E2E_TMP/r2.body")" 400
check_eq "no producer header: refused before the body is read" "$(curl -s -o /dev/null \
    -w '%{http_code}' -X POST "$U/add" -H "Onevoice-Signature: $SIG" --data-binary @"$E2E_TMP/r1.body")" 403
$LT request "$E2E_TMP/r3" "$E2E_TMP/stranger.key" issuer x
check_eq "producer's name with another key" "$(post -H "Onevoice-Signature: $(cat "$E2E_TMP/r3.sig")" --data-binary @"$E2E_TMP/r3.body")" 403
$LT request "$E2E_TMP/r4" "$E2E_TMP/q.key" issuer --age-ms 120000 old
check_eq "stale request" "$(post -H "Onevoice-Signature: $(cat "$E2E_TMP/r4.sig")" --data-binary @"$E2E_TMP/r4.body")" 403
$LT request "$E2E_TMP/r5" "$E2E_TMP/q.key" issuer --opaque not-cbor
check_eq "entry that is not onevoice CBOR" "$(post -H "Onevoice-Signature: $(cat "$E2E_TMP/r5.sig")" --data-binary @"$E2E_TMP/r5.body")" 400
printf '\xa1\x61\x61\x18\x01' > "$E2E_TMP/noncanon"
check_eq "non-canonical CBOR body" "$(post -H "Onevoice-Signature: $SIG" --data-binary @"$E2E_TMP/noncanon")" 400
check_eq "garbage body" "$(post -H "Onevoice-Signature: $SIG" --data 'hello')" 400
head -c 4200000 /dev/zero > "$E2E_TMP/big"
check_eq "oversized body" "$(post --data-binary @"$E2E_TMP/big")" 413
python3 -c 'import sys; b=open(sys.argv[1],"rb").read(); open(sys.argv[2],"wb").write(b.replace(b"hostile-one", b"hostile-two"))' \
    "$E2E_TMP/r1.body" "$E2E_TMP/r1.altered"
check_eq "altered body" "$(post -H "Onevoice-Signature: $SIG" --data-binary @"$E2E_TMP/r1.altered")" 403
check_eq "wrong method" "$(http_status GET "$U/add")" 405
check_eq "bad tile path" "$(http_status GET "$U/tile/0/abc")" 404
check_eq "bad proof query" "$(http_status GET "$U/proof/inclusion?index=-1&size=3")" 400
check_eq "proof beyond the tree" "$(http_status GET "$U/proof/inclusion?index=5&size=99999999")" 400
check_eq "consistency from 0" "$(http_status GET "$U/proof/consistency?old=0&size=3")" 400
check "an entry of 65,535 bytes, the bundle limit" $LT append $U "$E2E_TMP/q.key" issuer --checkpoint \
    --vkey "$VK" "$(head -c 65400 /dev/zero | tr '\0' x)"
check "a batch of 300 KB" $LT load $U "$E2E_TMP/q.key" issuer --count 10 --batch 10 --size 30000 --conns 1
check_eq "a second log on the same data directory refuses to start" \
    "$($BUILD/onevoice-log $LOGARGS --port-file /dev/null 2>&1 | grep -c 'in use')" 1
check_eq "health" "$(curl -s $U/healthz)" ok
check "metrics in Prometheus format" sh -c "curl -s $U/metrics | grep -q '^tlog_entries_appended_total [0-9]'"
check "metrics: the sequencer's group commits" sh -c "curl -s $U/metrics |
    grep -q '^groupcommit_jobs_total{writer=\"log-seq\"} [1-9]'"
check "metrics include the process's resident memory and SQLite's" sh -c \
    "curl -s $U/metrics | grep -q '^process_resident_memory_bytes [1-9]' &&
     curl -s $U/metrics | grep -q '^sqlite_memory_bytes [1-9]'"
check "still consistent after hostile requests" $LT verify $U "$VK" --acks "$E2E_TMP/acks0"

# --- 4. kill -9 during concurrent appends ---------------------------------------------
$LT load $U "$E2E_TMP/q.key" issuer --count 100000000 --batch 20 --conns 8 --seconds 4 \
    --acks "$E2E_TMP/acks1" > "$E2E_TMP/load1.out" 2>&1 &
LOADPID=$!
sleep 1.5
$LT verify $U "$VK" --save "$E2E_TMP/cp2" >/dev/null 2>&1
kill -9 "$log_PID"
wait "$LOADPID"
check "acknowledged appends before the crash" test -s "$E2E_TMP/acks1"
start_server log PORT $BUILD/onevoice-log $LOGARGS
U=http://127.0.0.1:$PORT
check "appends after the restart" $LT load $U "$E2E_TMP/q.key" issuer --count 500 --batch 50 \
    --conns 2 --acks "$E2E_TMP/acks2"
sleep 0.2
check "every acknowledged entry present exactly once after kill -9" $LT verify $U "$VK" \
    --acks "$E2E_TMP/acks1" --previous "$E2E_TMP/cp2"
check "and the later ones" $LT verify $U "$VK" --acks "$E2E_TMP/acks2" --acks "$E2E_TMP/acks0"
# appends are idempotent by leaf hash across restarts: the in-memory index is rebuilt from
# the full level-0 tiles (alpha, the first entry) and from the leaves after them (the last)
LAST=$($LT append $U "$E2E_TMP/q.key" issuer last-before-restart | awk '{ print $1 }')
kill -9 "$log_PID"
wait "$log_PID" 2>/dev/null # gone, and its lock with it, before the next one starts
start_server log PORT $BUILD/onevoice-log $LOGARGS
U=http://127.0.0.1:$PORT
check_eq "after a restart, an entry of a full tile keeps its index" \
    "$($LT append $U "$E2E_TMP/q.key" issuer alpha | awk '{ print $1 }')" 0
check_eq "and so does the last entry, past the full tiles" \
    "$($LT append $U "$E2E_TMP/q.key" issuer last-before-restart | awk '{ print $1 }')" "$LAST"
check "a new entry comes after it" test "$($LT append $U "$E2E_TMP/q.key" issuer after-restart |
    awk '{ print $1 }')" -gt "$LAST"
# a database of the first schema (leaves.hash UNIQUE, user_version 1) is migrated on start
kill "$log_PID"; wait "$log_PID" 2>/dev/null
ROWS=$(table_shape "$E2E_TMP/log/log.db" leaves | cut -d' ' -f2)
sql_exec "$E2E_TMP/log/log.db" <<'SQL' || fail "downgrade"
CREATE TABLE leaves_v1 (idx INTEGER PRIMARY KEY, hash BLOB NOT NULL UNIQUE, data BLOB NOT NULL) STRICT;
INSERT INTO leaves_v1 SELECT idx, hash, data FROM leaves;
DROP TABLE leaves;
ALTER TABLE leaves_v1 RENAME TO leaves;
PRAGMA user_version = 1;
SQL
start_server log PORT $BUILD/onevoice-log $LOGARGS
U=http://127.0.0.1:$PORT
check_eq "the first schema is migrated, every leaf kept, no index left on leaves" \
    "$(table_shape "$E2E_TMP/log/log.db" leaves)" "3 $ROWS 0"
check_eq "after the migration, appends stay idempotent" \
    "$($LT append $U "$E2E_TMP/q.key" issuer last-before-restart | awk '{ print $1 }')" "$LAST"
check "and the tree still verifies" $LT verify $U "$VK" --acks "$E2E_TMP/acks2"
# a database from a newer program (a downgrade): refused, unchanged, and said
kill "$log_PID"; wait "$log_PID" 2>/dev/null
cp "$E2E_TMP/log/log.db" "$E2E_TMP/log.db.before"
echo "PRAGMA user_version = 99;" | sql_exec "$E2E_TMP/log/log.db" || fail "user_version 99"
cp "$E2E_TMP/log/log.db" "$E2E_TMP/log.db.newer"
$BUILD/onevoice-log $LOGARGS --port-file "$E2E_TMP/newer.port" > "$E2E_TMP/newer.out" 2>&1
check_eq "a newer database: the log refuses to start" "$?" 1
check "... saying which file, its version, and what to do" grep -q \
    "log.db: the database's schema version is 99, newer than the [0-9]* this program knows: a newer onevoice wrote it" \
    "$E2E_TMP/newer.out"
check "... and leaves the file as it was" cmp "$E2E_TMP/log/log.db" "$E2E_TMP/log.db.newer"
cp "$E2E_TMP/log.db.before" "$E2E_TMP/log/log.db"
start_server log PORT $BUILD/onevoice-log $LOGARGS
U=http://127.0.0.1:$PORT

# --- 5. witnesses: a checkpoint is published only with a quorum of cosignatures -------
WV=$($BUILD/onevoice-log --data "$E2E_TMP/wlog" --origin witnessed.example/log --print-vkey)
echo "witnessed.example/log $WV" > "$E2E_TMP/logs"
: > "$E2E_TMP/witnesses"
for w in w1 w2; do
    start_server $w WPORT $BUILD/onevoice-witness --data "$E2E_TMP/$w" --name "$w.example/witness" \
        --logs "$E2E_TMP/logs"
    echo "http://127.0.0.1:$WPORT $($BUILD/onevoice-witness --data "$E2E_TMP/$w" --print-vkey)" \
        >> "$E2E_TMP/witnesses"
done
start_server wlog WLPORT $BUILD/onevoice-log --data "$E2E_TMP/wlog" --producers "$E2E_TMP/producers2" \
    --witnesses "$E2E_TMP/witnesses" --quorum 2 --checkpoint-ms 50
WU=http://127.0.0.1:$WLPORT
check "receipts under a cosigned checkpoint" $LT append $WU "$E2E_TMP/q.key" issuer --checkpoint \
    --vkey "$WV" one two three
check_eq "the checkpoint carries the log's and both witnesses' signatures" \
    "$(curl -s $WU/checkpoint | grep -c '^— ')" 3
W1V=$(sed -n 1p "$E2E_TMP/witnesses" | cut -d' ' -f2)
W2V=$(sed -n 2p "$E2E_TMP/witnesses" | cut -d' ' -f2)
check_eq "the cosignatures verify for a reader that requires both" \
    "$($LT read $WU "$WV" --witness "$W1V" --witness "$W2V" --quorum 2 | cut -d' ' -f1)" read
$BUILD/onevoice-witness --data "$E2E_TMP/w3" --name w3.example/witness --print-vkey > "$E2E_TMP/w3v"
check "a reader requiring a witness that did not cosign refuses" sh -c \
    "! $LT read $WU '$WV' --witness '$W1V' --witness '$(cat "$E2E_TMP/w3v")' --quorum 2"
said_before=$(wc -l < "$E2E_TMP/wlog.log")
kill -9 "$w2_PID"
check "appends stay durable while a witness is down" $LT append $WU "$E2E_TMP/q.key" issuer four
sleep 0.5
check_eq "no checkpoint is published without the quorum" "$(curl -s $WU/checkpoint | sed -n 2p)" 3
# what an operator's alert reads (docs/OPERATIONS.md, Monitoring): the tree ahead of the
# served checkpoint, and which witness did not cosign
wmetric() { curl -s "$WU/metrics" | awk -v m="$1" '$1 == m { print $2 }'; }
check_eq "metrics: the tree (4) ahead of the served checkpoint (3), the quorum 2" \
    "$(wmetric tlog_tree_size) $(wmetric tlog_checkpoint_size) $(wmetric tlog_witness_quorum)" "4 3 2"
check_eq "metrics: w1 cosigned the latest round, w2 did not, neither raised the alarm" \
    "$(wmetric 'tlog_witness_cosigned{witness="w1.example/witness"}') $(wmetric 'tlog_witness_cosigned{witness="w2.example/witness"}') $(wmetric 'tlog_witness_alarm{witness="w2.example/witness"}')" "1 0 0"
# stderr names the witness that is down and why, once: not at each of the ~60 retries of
# 3 s (--checkpoint-ms 50), nor at a new head; again only after a minute, or with news
check "appends stay durable while a witness is down (2)" $LT append $WU "$E2E_TMP/q.key" issuer five
sleep 2.5
W2URL=$(sed -n 2p "$E2E_TMP/witnesses" | cut -d' ' -f1)
tail -n +$((said_before + 1)) "$E2E_TMP/wlog.log" > "$E2E_TMP/wlog.down"
check_eq "the log says once which witness is down, and why" "$(grep -c . "$E2E_TMP/wlog.down")" 1
check "  naming it and its answer" grep -q "NOT published (no quorum; retried): 1 of 2 witnesses cosigned, --quorum 2; witness $W2URL (w2.example/witness): no answer (http_error: .*onnect" "$E2E_TMP/wlog.down"
start_server w2 WPORT2 $BUILD/onevoice-witness --data "$E2E_TMP/w2" --logs "$E2E_TMP/logs" \
    --listen 127.0.0.1:$(sed -n 2p "$E2E_TMP/witnesses" | sed 's/.*://; s/ .*//')
i=0
while [ "$(curl -s $WU/checkpoint | sed -n 2p)" != 5 ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
check_eq "publication resumes when the witness is back" "$(curl -s $WU/checkpoint | sed -n 2p)" 5
check_eq "metrics: the checkpoint caught up with the tree, both witnesses cosigned, signed now" \
    "$(wmetric tlog_tree_size) $(wmetric tlog_checkpoint_size) $(wmetric 'tlog_witness_cosigned{witness="w2.example/witness"}') $(($(date +%s) - $(wmetric tlog_checkpoint_timestamp_seconds) < 30))" "5 5 1 1"
check_eq "the log says it is back, once" "$(tail -n +$((said_before + 1)) "$E2E_TMP/wlog.log" |
    grep -c "cosigned by all 2 witnesses again; witness $W2URL (w2.example/witness) cosigns again$")" 1

# --- 6. a lost history: with log.key in place, a missing, empty or garbage log.db is refused
# --- (a second history under the same key would fork the log); --init; binding -------------
kill "$log_PID"; wait "$log_PID" 2>/dev/null
$BUILD/onevoice-log --data "$E2E_TMP/other" --origin e2e.example/log --print-vkey >/dev/null
check "a first start creates log.db with the key, even for --print-vkey" test -s "$E2E_TMP/other/log.db"
SG_TMP=$E2E_TMP
. tests/e2e/lib/stateguard.sh
state_guard onevoice-log "$E2E_TMP/log/log.db" "$E2E_TMP/other/log.db" $BUILD/onevoice-log $LOGARGS
start_server log PORT $BUILD/onevoice-log $LOGARGS
U=http://127.0.0.1:$PORT
check "after all that, the log still holds its history" $LT verify $U "$VK" --acks "$E2E_TMP/acks2"
summary
