# Shared by the auditor's end-to-end scripts (tests/e2e/audit*.sh): a producer key "sim"
# ($T/p.key) that every log accepts, one checkpoint key every log signs with (VK: copies of
# one log, as a fork would be), and `new_log NAME [ARGS...]`, a fresh onevoice-log on
# loopback (sets U and NAME_PID). It sources common.sh.
. tests/e2e/lib/common.sh
LT=$BUILD/tools/logtool
T=$E2E_TMP

$LT keygen "$T/p.key" > "$T/p.pub"
echo "sim $(cat "$T/p.pub")" > "$T/producers"
$BUILD/onevoice-log --data "$T/keylog" --origin sim.example/log --print-vkey > "$T/vkey"
VK=$(cat "$T/vkey")

new_log() {
    n=$1; shift
    start_server "$n" PORT $BUILD/onevoice-log --data "$T/$n" --key "$T/keylog/log.key" \
        --producers "$T/producers" --checkpoint-ms 20 "$@"
    U=http://127.0.0.1:$PORT
}
