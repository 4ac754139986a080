# Shared by the wallet's end-to-end scripts (tests/e2e/wallet*.sh): a witness, a log that
# needs its cosignature (quorum 1), an issuer and a verifier on loopback; the issuer's admin
# and registrar credentials; `ctx ID TYPE QUOTA` (a context's JSON, open for an hour); INIT
# (the wallet's init arguments); and the helpers the scripts check with. It sources
# common.sh; VERIFIER_ARGS, when set, adds options to the verifier's command line, and
# VERIFIER_EPOCH_S sets its epochs (default 0: every action logged at once).
. tests/e2e/lib/common.sh
IT=$BUILD/tools/issuertool
OV=$BUILD/onevoice
T=$E2E_TMP

# --- 0. a witness, a log that needs its cosignature, an issuer, a verifier -----------------
$BUILD/onevoice-issuer --data "$T/iss" --print-producer-key > "$T/producers"
$BUILD/onevoice-verifier --data "$T/ver" --print-producer-key >> "$T/producers"
LV=$($BUILD/onevoice-log --data "$T/log" --origin wallet.example/log --print-vkey)
echo "wallet.example/log $LV" > "$T/logs"
start_server wit WPORT $BUILD/onevoice-witness --data "$T/wit" --name wit.example/w1 --logs "$T/logs"
WV=$($BUILD/onevoice-witness --data "$T/wit" --print-vkey)
echo "http://127.0.0.1:$WPORT $WV" > "$T/witnesses"
LOGARGS="--data $T/log --producers $T/producers --witnesses $T/witnesses --quorum 1 --checkpoint-ms 50"
start_server log LPORT $BUILD/onevoice-log $LOGARGS
L=http://127.0.0.1:$LPORT
IDPPUB=$($IT keygen "$T/idp.key")
echo "idp-one $(echo "$IDPPUB" | tr -- '-_' '+/')=" > "$T/idps"
start_server iss IPORT $BUILD/onevoice-issuer --data "$T/iss" --log "$L" --log-vkey "$LV" \
    --name issuer.example --idps "$T/idps" --epoch-seconds 0
U=http://127.0.0.1:$IPORT
start_server ver VPORT $BUILD/onevoice-verifier --data "$T/ver" --log "$L" --log-vkey "$LV" \
    --witnesses "$T/witnesses" --quorum 1 --log-poll-ms 50 --epoch-seconds "${VERIFIER_EPOCH_S:-0}" ${VERIFIER_ARGS:-}
V=http://127.0.0.1:$VPORT
ADMIN=$($BUILD/onevoice-issuer --data "$T/iss" --print-credentials | awk '/^admin /{print $2}')
REG=$($BUILD/onevoice-issuer --data "$T/iss" --print-credentials | awk '/^registrar /{print $2}')
NOW=$(date +%s)
ctx() { # id type quota
    if [ "$2" = assembly ]; then kind='"type":"assembly","choices":["yes","no","abstain"]';
    else kind='"type":"rating","scale":[1,5]'; fi
    echo "{\"id\":\"$1\",\"title\":\"Context $1\",$kind,\"opens\":$((NOW - 5)),\"closes\":$((NOW + 3600)),\"quota\":$3}"
}
INIT="--issuer $U --verifier $V --log $L --log-vkey $LV --witness $WV --quorum 1"
# status COMMAND...: the exit status only
status() { "$@" >/dev/null 2>&1; echo $?; }
# said PATTERN COMMAND...: the command's stderr matches PATTERN (and it failed); under the
# sanitizers, a refusal must not leak or misbehave either
said() { p=$1; shift; if "$@" >"$T/out" 2>"$T/err"; then fail "should have failed: $*"; elif grep -q 'Sanitizer' "$T/err"; then fail "a sanitizer spoke: $*: $(head -20 "$T/err")"; elif grep -q -- "$p" "$T/err"; then ok; else fail "'$p' not in: $(cat "$T/err")"; fi; }
jget() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2], {}, {"d": d}))' "$@"; }
dump() { python3 -c 'import sqlite3,sys; print("\n".join(sqlite3.connect(sys.argv[1]).iterdump()))' "$1"; }
sql() { python3 -c 'import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); r=c.execute(sys.argv[2]).fetchall(); c.commit(); print(" ".join(str(x[0]) for x in r))' "$@"; }
