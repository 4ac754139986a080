#!/bin/sh
# The join bundle (docs/PROTOCOL.md §12): a log started with --join FILE serves GET /join, a
# note its checkpoint key signs with the assembly's servers, its witnesses and quorum; a
# wallet set up with `init --join URL --log-vkey VKEY` alone then lists and verifies the
# issuer's contexts against the witnessed log, as one set up by hand. Refused: a bundle of
# another log's key, one changed on the way (an altered URL), one missing a pinned witness,
# the servers given beside --join; on the log, a fields file with a bad line (its number
# said), the reserved origin, and GET /join when none is published (404). The file is read
# at each request: an edit is served without a restart, a broken one is a 503 (the operator
# told why), a missing one a 404 (a log may start before the others' URLs are known).
. tests/e2e/lib/common.sh
OV=$BUILD/onevoice
AD=$BUILD/onevoice-admin
T=$E2E_TMP

$BUILD/onevoice-issuer --data "$T/iss" --print-producer-key > "$T/producers"
$BUILD/onevoice-verifier --data "$T/ver" --print-producer-key >> "$T/producers"
LV=$($BUILD/onevoice-log --data "$T/log" --origin join.example/log --print-vkey)
echo "join.example/log $LV" > "$T/logs"
start_server wit WPORT $BUILD/onevoice-witness --data "$T/wit" --name wit.example/w1 --logs "$T/logs"
WV=$($BUILD/onevoice-witness --data "$T/wit" --print-vkey)
echo "http://127.0.0.1:$WPORT $WV" > "$T/witnesses"
# the bundle names the issuer's and verifier's URLs: their ports are chosen first
set -- $(python3 -c 'import socket
ss = [socket.socket() for _ in range(3)]
for s in ss: s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in ss))')
LPORT=$1 IPORT=$2 VPORT=$3
L=http://127.0.0.1:$LPORT
cat > "$T/join.conf" <<EOF
# what the log cannot know
name Citizens' Assembly on Water
log = $L
issuer http://127.0.0.1:$IPORT
verifier http://127.0.0.1:$VPORT
web $L/web/
EOF
start_server log P1 $BUILD/onevoice-log --listen "127.0.0.1:$LPORT" --data "$T/log" \
    --producers "$T/producers" --witnesses "$T/witnesses" --quorum 1 --checkpoint-ms 50 \
    --join "$T/join.conf"
start_server iss P2 $BUILD/onevoice-issuer --listen "127.0.0.1:$IPORT" --data "$T/iss" \
    --log "$L" --log-vkey "$LV" --name issuer.example --epoch-seconds 0
start_server ver P3 $BUILD/onevoice-verifier --listen "127.0.0.1:$VPORT" --data "$T/ver" \
    --log "$L" --log-vkey "$LV" --witnesses "$T/witnesses" --quorum 1 --log-poll-ms 50 \
    --epoch-seconds 0

curl -sf "$L/join" > "$T/join.note"
check_eq "GET /join: the note's text, then the log's signature" "$(sed -n '1p;3p;4p;5p;6p' "$T/join.note")" \
"onevoice/v1/join
log $L
log-vkey $LV
witness $WV
quorum 1"
check "... signed by the log's key" grep -q "^— join.example/log " "$T/join.note"
check "... as text/plain with an ETag" sh -c "curl -sfI '$L/join' | grep -qi '^etag: \"join-'"

# --- a context to see through the wallet ---------------------------------------------------
(umask 077 && $BUILD/onevoice-issuer --data "$T/iss" --print-credentials > "$T/cred")
check "an assembly, open for an hour" $AD --issuer "http://127.0.0.1:$IPORT" --credential "$T/cred" \
    context water --title "Water?" --choice yes --choice no --closes +1h

# --- one step: init --join URL --log-vkey VKEY ----------------------------------------------
$OV --wallet "$T/a.wallet" init --join "$L/join" --log-vkey "$LV" > "$T/init.out" 2>&1
check_eq "a wallet set up from the bundle's URL" "$?" 0
check "... says whose assembly it joined" grep -q "joined \"Citizens' Assembly on Water\"" "$T/init.out"
check "... with the log's witness and quorum" grep -q "1 witness, quorum 1" "$T/init.out"
check "... lists the context, checked against the witnessed log" \
    sh -c "$OV --wallet '$T/a.wallet' contexts | grep -q water"
$OV --wallet "$T/b.wallet" init --join "$T/join.note" --log-vkey "$LV" --witness "$WV" >/dev/null 2>&1
check_eq "from a file, the witness pinned too" "$?" 0
check "... the same servers as by hand" sh -c \
    "$OV --wallet '$T/b.wallet' --json contexts | grep -q water"

# --- refusals ----------------------------------------------------------------------------
said() { p=$1; st=$2; shift 2; "$@" >"$T/out" 2>"$T/err"; got=$?
    if [ "$got" != "$st" ]; then fail "exit $got, want $st: $* ($(cat "$T/err"))"
    elif grep -q 'Sanitizer' "$T/err"; then fail "a sanitizer spoke: $*"
    elif grep -q -- "$p" "$T/err"; then ok; else fail "'$p' not in: $(cat "$T/err")"; fi; }
OTHER=$($BUILD/onevoice-log --data "$T/other" --origin join.example/log --print-vkey)
said "not signed by the log's key" 1 $OV --wallet "$T/c.wallet" init --join "$L/join" --log-vkey "$OTHER"
check "... and no wallet file made" test ! -e "$T/c.wallet"
sed "s#^verifier http://127.0.0.1:$VPORT#verifier http://127.0.0.1:9#" "$T/join.note" > "$T/altered.note"
check "(the altered bundle differs)" sh -c "! cmp -s '$T/join.note' '$T/altered.note'"
said "the log's signature does not verify" 1 $OV --wallet "$T/c.wallet" init --join "$T/altered.note" --log-vkey "$LV"
W2=$($BUILD/onevoice-witness --data "$T/wit2" --name wit.example/w2 --print-vkey)
said "does not list the witness $W2" 1 $OV --wallet "$T/c.wallet" init --join "$L/join" --log-vkey "$LV" --witness "$W2"
said "from the bundle" 2 $OV --wallet "$T/c.wallet" init --join "$L/join" --log-vkey "$LV" --issuer "$L"
said "needs --log-vkey\|takes --log-vkey" 2 $OV --wallet "$T/c.wallet" init --join "$L/join"
said "answered HTTP 404" 1 $OV --wallet "$T/c.wallet" init --join "$L/nothing" --log-vkey "$LV"
printf 'log %s\nissuer %s\nquorum 2\n' "$L" "$L" > "$T/bad.conf"
said "bad.conf line 3: quorum: not a key of this file" 1 $BUILD/onevoice-log --listen 127.0.0.1:0 \
    --data "$T/log2" --origin j2.example/log --producers "$T/producers" --join "$T/bad.conf"
printf 'log %s\nissuer %s\n' "$L" "$L" > "$T/short.conf"
said "verifier is required" 1 $BUILD/onevoice-log --listen 127.0.0.1:0 --data "$T/log3" \
    --origin j3.example/log --producers "$T/producers" --join "$T/short.conf"
said "origin onevoice/v1/join is reserved" 1 $BUILD/onevoice-log --data "$T/log4" \
    --origin onevoice/v1/join --print-vkey
# the file is read at each request: an edit is served at once, a broken one is a 503
cp "$T/join.conf" "$T/join.conf.good"
sed -i "s#^name .*#name Water, second session#" "$T/join.conf"
check "an edited file is served without a restart" sh -c "curl -sf '$L/join' | grep -q '^name Water, second session\$'"
echo "quorum 1" >> "$T/join.conf"
check_eq "a file broken since: 503 join_unavailable" \
    "$(curl -s -o "$T/503" -w '%{http_code}' "$L/join") $(grep -o join_unavailable "$T/503")" \
    "503 join_unavailable"
check "... and the log's operator is told why" grep -q "join.conf line 7: quorum: not a key" "$T/log.log"
mv "$T/join.conf" "$T/join.conf.broken"
check_eq "no file (yet): 404" "$(curl -s -o /dev/null -w '%{http_code}' "$L/join")" 404
cp "$T/join.conf.good" "$T/join.conf"
check "... and served again once it is back" sh -c "curl -sf '$L/join' | cmp -s - '$T/join.note'"
start_server later LPORT6 $BUILD/onevoice-log --data "$T/log6" --origin j6.example/log \
    --producers "$T/producers" --join "$T/none.conf"
check "a log may start before its bundle's file exists" grep -q "no such file yet" "$T/later.log"
start_server plain PPORT $BUILD/onevoice-log --data "$T/log5" --origin j5.example/log \
    --producers "$T/producers"
check_eq "GET /join without --join: 404 not_found" \
    "$(curl -s -o "$T/404" -w '%{http_code}' "http://127.0.0.1:$PPORT/join") $(grep -o not_found "$T/404")" \
    "404 not_found"

echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
