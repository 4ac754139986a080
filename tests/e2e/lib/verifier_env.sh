# Shared by the verifier's end-to-end scripts (verifier.sh, adopt.sh, statements.sh): a
# stand-in issuer's producer key ($T/issuer.key, for tests/tools/vtool), a witness, a log
# cosigned by it (quorum 1) and a verifier following both, on loopback. Set ORIGIN (the log's)
# first; LOG_EXTRA and VER_EXTRA add options to the log's and the verifier's command lines
# (VER_EXTRA stays in VARGS, LOG_EXTRA not in LARGS). Sets VK, L, V, LARGS and VARGS (what a
# restart needs) and the servers' PIDs (wit_PID, log_PID, ver_PID). Source common.sh before.
LT=$BUILD/tools/logtool
T=$E2E_TMP

$LT keygen "$T/issuer.key" > "$T/issuer.pub"
$BUILD/onevoice-verifier --data "$T/v" --print-producer-key > "$T/vprod"
{ echo "issuer $(cat "$T/issuer.pub")"; cat "$T/vprod"; } > "$T/producers"
VK=$($BUILD/onevoice-log --data "$T/log" --origin "$ORIGIN" --print-vkey)
WVK=$($BUILD/onevoice-witness --data "$T/w" --name e2e.example/w1 --print-vkey)
echo "$ORIGIN $VK" > "$T/logs"
start_server wit WPORT $BUILD/onevoice-witness --data "$T/w" --logs "$T/logs"
echo "http://127.0.0.1:$WPORT $WVK" > "$T/witnesses"
LARGS="--data $T/log --producers $T/producers --witnesses $T/witnesses --quorum 1 --checkpoint-ms 100"
# shellcheck disable=SC2086
start_server log LPORT $BUILD/onevoice-log $LARGS ${LOG_EXTRA:-}
L=http://127.0.0.1:$LPORT
VARGS="--data $T/v --log $L --log-vkey $VK --witnesses $T/witnesses --quorum 1 --log-poll-ms 100
    --epoch-seconds ${VER_EPOCH:-0}
    ${VER_EXTRA:-}"
# shellcheck disable=SC2086
start_server ver VPORT $BUILD/onevoice-verifier $VARGS
V=http://127.0.0.1:$VPORT
