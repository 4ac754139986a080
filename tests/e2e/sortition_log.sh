#!/bin/sh
# The draw pinned in the log (docs/PROTOCOL.md §10), with a real log and witness on loopback:
# parties commit (as producers of the log), the operator publishes the pool, the parties
# reveal, the operator draws with the seed of the logged reveals and logs the draw, anyone
# verifies it from the log. The drawn panel equals the offline draw under a seed computed here
# from the secrets alone. Refused: a pool before every party committed, a commitment after the
# pool, a reveal before the pool, a draw with a reveal missing (waiting, then void after
# reveal_by), a draw whose only reveal for a party does not open its commitment, a draw whose
# pool entry names a party that committed after it (entries written by hand,
# lib/sortition_entry.py, appended with logtool), a second commitment with another secret, a
# logged draw with a hand-picked member. The pool file publish uploads, served by the log at
# /files/<its SHA-256> byte for byte; uploads refused unsigned, wrongly signed, signed for
# an append, stale, by an unknown producer, over --max-file-bytes; names refused or unknown.
. tests/e2e/lib/common.sh
S=$BUILD/onevoice-sortition
T=$E2E_TMP
ENT="python3 tests/e2e/lib/sortition_entry.py"

# --- a log with one witness; the operator and three parties as its producers ---------------
$BUILD/onevoice-log --data "$T/log" --origin sortition.example/log --print-vkey > "$T/vkey"
VK=$(cat "$T/vkey")
$BUILD/onevoice-witness --data "$T/w1" --name w1.example/witness --print-vkey > "$T/w1.vkey"
echo "sortition.example/log $VK" > "$T/wlogs"
start_server w1 W1PORT $BUILD/onevoice-witness --data "$T/w1" --logs "$T/wlogs"
echo "http://127.0.0.1:$W1PORT $(cat "$T/w1.vkey")" > "$T/witnesses"
: > "$T/producers"
for who in operator party-a party-b party-c; do
    $S key --key "$T/$who.key" --name "$who" >> "$T/producers"
done
check_eq "key prints the producers line" "$(cut -d' ' -f1 "$T/producers" | tr '\n' ' ')" \
    "operator party-a party-b party-c "
check_eq "the key file is mode 0600" "$(stat -c %a "$T/party-a.key")" 600
check_eq "key again: the same key, not a new one" \
    "$($S key --key "$T/party-a.key" --name party-a)" "$(sed -n 2p "$T/producers")"
start_server log PORT $BUILD/onevoice-log --data "$T/log" --producers "$T/producers" \
    --witnesses "$T/witnesses" --quorum 1 --checkpoint-ms 20
U=http://127.0.0.1:$PORT
L="--log $U --log-vkey $VK --witnesses $T/witnesses"
OP="--key $T/operator.key --producer operator"
# shellcheck disable=SC2086
party() { # party WHO CMD ID [args]: a party's command with its key and secret for draw ID
    who=$1; cmd=$2; id=$3; shift 3
    $S "$cmd" $L --id "$id" --key "$T/$who.key" --producer "$who" --secret "$T/$who.$id.secret" "$@"
}
# shellcheck disable=SC2086
op() { cmd=$1; shift; $S "$cmd" $L $OP "$@"; }
b64() { sed -n "$1p" "$T/producers" | cut -d' ' -f2; }
KA=$(b64 2); KB=$(b64 3)

python3 tools/respondents.py "$T" 400 12
$S import --respondents "$T/respondents.csv" --quotas "$T/quotas.csv" --panel 12 --reserves 3 \
    --out "$T/pool.csv" --private "$T/private.csv" > /dev/null
POOLHEX=$(sha256sum "$T/pool.csv" | cut -d' ' -f1)

# --- 1. the whole order -------------------------------------------------------------------
check "a commits" party party-a commit d1 --party "Witness A operator"
check_eq "its secret file is mode 0600" "$(stat -c %a "$T/party-a.d1.secret")" 600
check_eq "commit again: already committed, nothing appended" \
    "$(party party-a commit d1 --party "Witness A operator" | grep -c 'already committed')" 1
op publish --id d1 --pool "$T/pool.csv" --title "Assembly panel" --parties 2 2> "$T/e" >/dev/null
check_eq "publish before the second party committed: refused" "$?" 1
check "saying so" grep -q '1 party has committed to d1, --parties 2: wait for the others' "$T/e"
party party-a reveal d1 2> "$T/e" >/dev/null
check_eq "a reveal before the pool: refused" "$?" 1
check "saying why" grep -q 'the pool is not logged yet' "$T/e"
check "b commits" party party-b commit d1 --party "Observer B"
check "the operator publishes the pool" op publish --id d1 --pool "$T/pool.csv" \
    --title "Assembly panel" --parties 2 --reveal-within 60

# --- the pool file, served by the log beside its tiles (docs/PROTOCOL.md §4.3) ---------------
F=$U/files
curl -s -D "$T/fh" -o "$T/served.csv" "$F/$POOLHEX"
check "publish uploaded the pool file: served byte for byte" cmp "$T/served.csv" "$T/pool.csv"
check_eq "served immutable, as octets, with its hash as ETag" \
    "$(tr -d '\r' < "$T/fh" | sed -n 's/^cache-control: //ip;s/^content-type: //ip;s/^etag: //ip' | tr '\n' ' ')" \
    "application/octet-stream public, max-age=31536000, immutable \"$POOLHEX\" "
check_eq "stored as DIR/files/<hex>, mode 0600" "$(stat -c %a "$T/log/files/$POOLHEX")" 600
check_eq "If-None-Match: 304" "$(http_status GET "$F/$POOLHEX" -H "If-None-Match: \"$POOLHEX\"")" 304
check_eq "the same file again: 200, already there" \
    "$($S upload --log "$U" $OP --file "$T/pool.csv" | grep -c "/files/$POOLHEX ([0-9]* bytes, already there)")" 1
check_eq "an unknown file: 404" "$(http_status GET "$F/$(printf '%064d' 0)")" 404
for n in abc "$(echo "$POOLHEX" | tr a-f A-F)" "${POOLHEX}0" "$(printf '%063d' 0)g"; do
    check_eq "a name not 64 lowercase hex: 400 ($n)" "$(http_status GET "$F/$n")" 400
done
# post TIME SIG PRODUCER FILE: a hand-made upload; prints "status reason"
post() {
    curl -s -o "$T/pr" -w '%{http_code}' -X POST "$F" -H "Onevoice-Time: $1" \
        ${2:+-H "Onevoice-Signature: $2"} -H "Onevoice-Producer: $3" \
        -H 'Content-Type: application/octet-stream' --data-binary "@$4"
    printf ' %s' "$(sed -n 's/.*"error":"\([a-z_]*\)".*/\1/p' "$T/pr")"
}
NOW=$(($(date +%s) * 1000))
check_eq "an unsigned upload: 403" "$(post $NOW "" operator "$T/pool.csv")" "403 bad_signature"
check_eq "a wrongly signed upload: 403" \
    "$(post $NOW "$(head -c 64 /dev/zero | base64 -w0)" operator "$T/pool.csv")" "403 bad_signature"
check_eq "an unknown producer: 403" "$(post $NOW AAAA nobody "$T/pool.csv")" "403 unknown_producer"
# an append request's signature (onevoice/v1/log-append) replayed as an upload of its body
$BUILD/tools/logtool request "$T/areq" "$T/operator.key" operator hello
check_eq "an append's signature as an upload: 403" \
    "$(post $NOW "$(cat "$T/areq.sig")" operator "$T/areq.body")" "403 bad_signature"
check_eq "an upload 10 minutes old: 403" "$(post $((NOW - 600000)) AAAA operator "$T/pool.csv")" "403 stale_request"
check_eq "no time: 400" "$(post x AAAA operator "$T/pool.csv")" "400 malformed_request"
start_server small SPORT $BUILD/onevoice-log --data "$T/small" --origin small.example/log \
    --producers "$T/producers" --max-file-bytes 1000
$S upload --log "http://127.0.0.1:$SPORT" $OP --file "$T/pool.csv" 2> "$T/e" >/dev/null
check_eq "past --max-file-bytes: refused" "$?" 1
check "413 body_too_large" grep -q 'the log refused the file: body_too_large (HTTP 413)' "$T/e"
head -c 1000 "$T/pool.csv" > "$T/k1"
check_eq "at --max-file-bytes: 201, uploaded" \
    "$($S upload --log "http://127.0.0.1:$SPORT" $OP --file "$T/k1" | grep -c "$(sha256sum "$T/k1" | cut -c1-64) (1000 bytes, uploaded)")" 1
check_eq "metrics count the files and bytes stored" \
    "$(curl -s "http://127.0.0.1:$SPORT/metrics" | grep -E '^tlog_file(s|_bytes)_stored_total' | tr '\n' ' ')" \
    "tlog_files_stored_total 1 tlog_file_bytes_stored_total 1000 "
kill "$small_PID"
party party-c commit d1 --party "Late C" 2> "$T/e" >/dev/null
check_eq "a commitment after the pool: refused" "$?" 1
check "saying why" grep -q 'the pool of d1 is logged' "$T/e"
op draw --id d1 --pool "$T/pool.csv" --out "$T/d1.csv" 2> "$T/e" >/dev/null
check_eq "draw before any reveal: refused" "$?" 1
check "naming both parties still to reveal" sh -c "grep -c 'no matching reveal yet' '$T/e' | grep -qx 2"
check "and no draw file" test ! -e "$T/d1.csv"
check "a reveals" party party-a reveal d1
op draw --id d1 --pool "$T/pool.csv" --out "$T/d1.csv" 2> "$T/e" >/dev/null
check_eq "draw with b's reveal missing: refused" "$?" 1
check "naming b" grep -q 'party Observer B: no matching reveal yet' "$T/e"
check "b reveals" party party-b reveal d1
check_eq "reveal again: already revealed" "$(party party-b reveal d1 | grep -c 'already revealed')" 1
check "the operator draws from the log" op draw --id d1 --pool "$T/pool.csv" --out "$T/d1.csv"
check "anyone verifies the logged draw" $S verify $L --id d1 --pool "$T/pool.csv"
check "the draw file verifies offline too" $S verify --pool "$T/pool.csv" --draw "$T/d1.csv"
# the seed computed here from the pool and the two secrets alone, in the pool's party order
SEED=$(python3 -c 'import hashlib, sys
print(hashlib.sha256(b"onevoice/v1/sortition-seed\0" + bytes.fromhex(sys.argv[1]) +
      bytes.fromhex(sys.argv[2]) + bytes.fromhex(sys.argv[3])).hexdigest())' "$POOLHEX" \
    "$($ENT secret "$T/party-a.d1.secret")" "$($ENT secret "$T/party-b.d1.secret")")
check_eq "the logged seed is SHA-256(tag, pool, secret a, secret b)" \
    "$(sed -n 's/^seed,//p' "$T/d1.csv")" "$SEED"
check "the offline draw with that seed" $S draw --pool "$T/pool.csv" --seed "$SEED" --out "$T/d1-offline.csv"
check "is the logged panel, reserves and attempt" cmp "$T/d1.csv" "$T/d1-offline.csv"
check "draw again: already logged, the same file" sh -c \
    "$S draw $L $OP --id d1 --pool '$T/pool.csv' --out '$T/d1-again.csv' | grep -q 'already logged' && cmp '$T/d1.csv' '$T/d1-again.csv'"
$S status $L --id d1 > "$T/status"
check "status: both reveals, the seed, the draw" sh -c \
    "grep -c 'revealed at' '$T/status' | grep -qx 2 && grep -q 'seed $SEED' '$T/status' && grep -q '^  draw at' '$T/status'"
party party-a reveal d1 >/dev/null 2>&1
check_eq "a's reveal is already logged: nothing more" "$?" 0
mkdir -p "$T/p2"
python3 tools/respondents.py "$T/p2" 300 10
$S import --respondents "$T/p2/respondents.csv" --quotas "$T/p2/quotas.csv" --panel 10 \
    --out "$T/p2/pool.csv" --private "$T/p2/private.csv" > /dev/null
$S verify $L --id d1 --pool "$T/p2/pool.csv" 2> "$T/e" >/dev/null
check_eq "verify with another pool file: exit 1" "$?" 1
check "saying so" grep -q 'the logged pool is another file' "$T/e"

# --- 2. a reveal withheld: waiting, then void after reveal_by ------------------------------
party party-a commit d2 --party A >/dev/null
party party-b commit d2 --party B >/dev/null
check "d2: pool with 3 s to reveal" op publish --id d2 --pool "$T/pool.csv" --title "Panel 2" \
    --parties 2 --reveal-within 3
RB=$($S status $L --id d2 | sed -n 's/.*reveal_by \([0-9]*\)$/\1/p')
party party-a reveal d2 >/dev/null
op draw --id d2 --pool "$T/pool.csv" --out "$T/d2.csv" 2> "$T/e" >/dev/null
check_eq "d2: b withholds, draw refused" "$?" 1
check "while waiting" grep -q 'waiting for the reveals' "$T/e"
while [ "$(date +%s)" -lt "$RB" ]; do sleep 0.1; done
op draw --id d2 --pool "$T/pool.csv" --out "$T/d2.csv" 2> "$T/e" >/dev/null
check_eq "d2: after reveal_by, draw refused" "$?" 1
check "the draw is void, a new one needs a new id" grep -q 'the draw is void.*new id and new commitments' "$T/e"
party party-b reveal d2 2> "$T/e" >/dev/null
check_eq "d2: a late reveal is refused" "$?" 1
check "saying it would not count" grep -q 'reveal_by has passed' "$T/e"

# --- 3. a reveal that does not open its commitment ------------------------------------------
party party-a commit d3 --party A >/dev/null
party party-b commit d3 --party B >/dev/null
op publish --id d3 --pool "$T/pool.csv" --title "Panel 3" --parties 2 >/dev/null
party party-a reveal d3 >/dev/null
$ENT reveal d3 "$KB" "$(printf '%064d' 7)" "$T/bad-reveal"
check "a reveal for b with another secret is appended" \
    $BUILD/tools/logtool append "$U" "$T/operator.key" operator --checkpoint --opaque "@$T/bad-reveal"
op draw --id d3 --pool "$T/pool.csv" --out "$T/d3.csv" 2> "$T/e" >/dev/null
check_eq "d3: draw refused" "$?" 1
check "the reveal does not match its commitment" grep -q 'party B: its reveal at index [0-9]* does not match its commitment' "$T/e"
check "b's own reveal still counts" party party-b reveal d3
check "d3: then the draw goes ahead" op draw --id d3 --pool "$T/pool.csv" --out "$T/d3.csv"

# --- 4. a pool entry before a party's commitment --------------------------------------------
party party-a commit d4 --party A >/dev/null
$ENT pool d4 "Panel 4" "$POOLHEX" 400 12 3 100 $(($(date +%s) + 60)) "$KA,$KB" "$T/early-pool"
check "a pool naming b, who has not committed, is appended by hand" \
    $BUILD/tools/logtool append "$U" "$T/operator.key" operator --checkpoint --opaque "@$T/early-pool"
party party-b commit d4 --party B 2> "$T/e" >/dev/null
check_eq "d4: b's commitment now is refused" "$?" 1
check "a reveals" party party-a reveal d4
op draw --id d4 --pool "$T/pool.csv" --out "$T/d4.csv" 2> "$T/e" >/dev/null
check_eq "d4: draw refused" "$?" 1
check "the pool names a party whose commitment is not before it" grep -q "names party $KB, whose commitment is not logged before it" "$T/e"

# --- 5. a secret revealed before the pool; a second commitment -----------------------------
party party-a commit d5 --party A >/dev/null
party party-b commit d5 --party B >/dev/null
$ENT reveal d5 "$KA" "$($ENT secret "$T/party-a.d5.secret")" "$T/early-reveal"
$BUILD/tools/logtool append "$U" "$T/operator.key" operator --checkpoint --opaque "@$T/early-reveal" >/dev/null
op publish --id d5 --pool "$T/pool.csv" --title "Panel 5" --parties 2 2> "$T/e" >/dev/null
check_eq "d5: publish after a's secret came out: refused" "$?" 1
check "saying a revealed before the pool" grep -q 'party A revealed its secret (log index [0-9]*) before the pool' "$T/e"
$S commit $L --id d5 --key "$T/party-a.key" --producer party-a --party A \
    --secret "$T/party-a.d5-other.secret" 2> "$T/e" >/dev/null
check_eq "d5: a commitment by a key that committed: refused" "$?" 1
check "and no new secret made" test ! -e "$T/party-a.d5-other.secret"
cp "$T/party-a.d5.secret" "$T/party-a.d5-copy.secret"
$S commit $L --id d5 --key "$T/party-a.key" --producer party-a --party A \
    --secret "$T/party-a.d5-copy.secret" >/dev/null 2>&1
check_eq "d5: its own secret again: already committed" "$?" 0
$S commit $L --id d5 --key "$T/party-b.key" --producer party-b --party B \
    --secret "$T/party-a.d5-copy.secret" 2> "$T/e" >/dev/null
check_eq "d5: b committing with a's secret: refused" "$?" 1
check "saying the first one counts" grep -q 'first commitment is the one that counts' "$T/e"
$S reveal $L --id d1 --key "$T/party-a.key" --producer party-a --secret "$T/party-a.d5.secret" 2> "$T/e" >/dev/null
check_eq "a secret file of another draw: refused" "$?" 1
check "saying so" grep -q "not this draw's secret file" "$T/e"

# a reveal for d2 backdated before its reveal_by, logged after entries past it: still late
$ENT reveal d2 "$KB" "$($ENT secret "$T/party-b.d2.secret")" "$T/backdated" $((RB - 1))
$BUILD/tools/logtool append "$U" "$T/operator.key" operator --checkpoint --opaque "@$T/backdated" >/dev/null
op draw --id d2 --pool "$T/pool.csv" --out "$T/d2.csv" 2> "$T/e" >/dev/null
check_eq "d2: a backdated reveal after reveal_by: draw still refused" "$?" 1
check "saying it came after reveal_by" grep -q 'party B: its reveal at index [0-9]* came after reveal_by' "$T/e"

# --- 6. a draw entry that is not the pool's draw under the logged seed ----------------------
party party-a commit d6 --party A >/dev/null
party party-b commit d6 --party B >/dev/null
op publish --id d6 --pool "$T/pool.csv" --title "Panel 6" --parties 2 >/dev/null
party party-a reveal d6 >/dev/null
party party-b reveal d6 >/dev/null
SEED6=$($S status $L --id d6 | sed -n 's/^  seed //p')
$S draw --pool "$T/pool.csv" --seed "$SEED6" --out "$T/d6-offline.csv" >/dev/null
PANEL=$(sed -n 's/^panel,//p' "$T/d6-offline.csv")
OTHER=$(seq 1 400 | grep -vx -e "$(echo "$PANEL" | sed 's/,/\|/g')" | head -1) # not drawn
$ENT draw d6 "$SEED6" "$(sed -n 's/^attempt,//p' "$T/d6-offline.csv")" \
    "$OTHER,${PANEL#*,}" "$(sed -n 's/^reserves,//p' "$T/d6-offline.csv")" "$T/forged-draw"
$BUILD/tools/logtool append "$U" "$T/operator.key" operator --checkpoint --opaque "@$T/forged-draw" >/dev/null
$S verify $L --id d6 --pool "$T/pool.csv" 2> "$T/e" >/dev/null
check_eq "d6: a hand-picked member in the logged draw: verify exit 1" "$?" 1
check "the panel differs" grep -q 'the logged draw (index [0-9]*) is wrong: the panel differs' "$T/e"
op draw --id d6 --pool "$T/pool.csv" --out "$T/d6.csv" 2> "$T/e" >/dev/null
check_eq "d6: the operator's draw refuses to go on from it" "$?" 1

# --- bad input: clear refusals ----------------------------------------------------------------
$S draw --pool "$T/pool.csv" --out "$T/x.csv" 2>/dev/null
check_eq "draw with neither --seed nor --log: usage error" "$?" 2
$S status --log "$U" --log-vkey "$VK" --id 'Bad_Id' 2>/dev/null
check_eq "a bad id: usage error" "$?" 2
$S status --log "$U" --log-vkey "$(cat "$T/w1.vkey")" --id d1 2>/dev/null
check_eq "a witness key as the log's: usage error" "$?" 2
$BUILD/onevoice-log --data "$T/other" --origin other.example/log --print-vkey > "$T/vkey2"
$S status --log "$U" --log-vkey "$(cat "$T/vkey2")" --id d1 2> "$T/e" >/dev/null
check_eq "another log's key: no verified checkpoint" "$?" 1
check "saying so" grep -q 'no verified checkpoint' "$T/e"
$S key --key "$T/x.key" --name operator --producer x 2>/dev/null
check_eq "an unknown option: usage error" "$?" 2
$S commit $L --id d6 --key "$T/x2.key" --producer party-a --party X --secret "$T/x2.secret" 2> "$T/e" >/dev/null
check_eq "commit without a key file: refused" "$?" 1
check "naming the command that makes one" grep -q 'onevoice-sortition key --key FILE makes one' "$T/e"
check "and no secret file left" test ! -e "$T/x2.secret"
$S upload --log "$U" $OP 2>/dev/null
check_eq "upload without --file: usage error" "$?" 2
for c in key commit publish upload reveal draw verify status; do
    check "$c --help" sh -c "$S $c --help | grep -q -- '--'"
done
summary
