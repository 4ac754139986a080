#!/bin/sh
# onevoice-issuer benchmark. Each line: bench NAME VALUE UNIT limit LIMIT ratio R.
#   issuer_issuance   tokens issued per second over HTTP, durable (each 200 is committed
#                     with synchronous=FULL, its log entry in the outbox), from 64 concurrent
#                     connections of 64 enrolled citizens in a context of quota 1,000,000,
#                     requests signed beforehand; beside twice (2 cores) the
#                     single-core `openssl speed -seconds 3 rsa2048` signs per second
#                     measured in the same run: the RSA private operation each issuance
#                     needs is the physical limit.
#   issuer_cpu_per_issuance   the issuer process's CPU time (user + system) per issuance
#                     in that run, beside the CPU time of the two operations each issuance
#                     cannot do without, measured in the same run before the issuer starts:
#                     one RSA-2048 signature (1 / the signs per second above, OpenSSL's
#                     user CPU time) plus one Ed25519 verification of the request's signature
#                     (1 / libsodium's crypto_sign_verify_detached per CPU second, the call
#                     the issuer makes, best of 3: the limit of bench_sign's
#                     sign_verify_framed line). ratio = limit / CPU per issuance; the goal is
#                     CPU per issuance <= 1.2 x limit, i.e. ratio >= 0.833. Unlike the rate it
#                     does not depend on what else the machine runs (the client, the log,
#                     other work). (`openssl speed ed25519` is not the issuer's Ed25519: on
#                     the 2-core machine of issue 16 it verified 8,800/s, libsodium 20,000/s.)
# Needs $BUILD/bench/bench_sign besides the programs and issuertool: `make bench` builds it,
# or `make all build/tools/issuertool build/bench/bench_sign`.
BUILD=${BUILD:-build}
IT=$BUILD/tools/issuertool
T=$(mktemp -d)
PIDS=""
trap 'for p in $PIDS; do kill -9 $p 2>/dev/null; done; rm -rf "$T"' EXIT INT TERM
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", (b > 0 ? a / b : 0) }'; }
field() { echo "$1" | awk -v k="$2" '{ for (i = 1; i < NF; i++) if ($i == k) print $(i + 1) }'; }
wait_port() { while [ ! -s "$1" ]; do sleep 0.05; done; }

SIGNS=$(openssl speed -seconds 3 rsa2048 2>/dev/null | awk '$1 == "rsa" && $2 == "2048" { print $6 }')
LIMIT=$(awk -v s="$SIGNS" 'BEGIN { printf "%.0f", 2 * s }')
if [ ! -x "$BUILD/bench/bench_sign" ]; then
    echo "bench_issuer.sh: $BUILD/bench/bench_sign is missing (make bench builds it)" >&2
    exit 1
fi
VERIFIES=$("$BUILD/bench/bench_sign" | awk '$2 == "sign_verify_framed" { print $6 }')
if [ -z "$SIGNS" ] || [ -z "$VERIFIES" ]; then
    echo "bench_issuer.sh: could not measure RSA signs ($SIGNS) or Ed25519 verifies ($VERIFIES)" >&2
    exit 1
fi

$BUILD/onevoice-issuer --data "$T/iss" --print-producer-key > "$T/producers"
$BUILD/onevoice-log --data "$T/log" --origin bench.example/log --producers "$T/producers" \
    --port-file "$T/lport" 2>>"$T/err" &
PIDS="$PIDS $!"
wait_port "$T/lport"
L=http://127.0.0.1:$(cat "$T/lport")
VK=$($BUILD/onevoice-log --data "$T/log" --print-vkey)
$BUILD/onevoice-issuer --data "$T/iss" --log "$L" --log-vkey "$VK" --name bench.example \
    --port-file "$T/iport" --epoch-seconds 0 ${ISSUER_OPTS:-} 2>>"$T/err" &
IPID=$!
PIDS="$PIDS $IPID"
wait_port "$T/iport"
U=http://127.0.0.1:$(cat "$T/iport")
ADMIN=$($BUILD/onevoice-issuer --data "$T/iss" --print-credentials | awk '/^admin /{print $2}')
NOW=$(date +%s)
$IT context "$U" "$ADMIN" "{\"id\":\"bench\",\"title\":\"Bench\",\"type\":\"assembly\",\"choices\":[\"a\",\"b\"],\"opens\":$((NOW - 5)),\"closes\":$((NOW + 3600)),\"quota\":1000000}" >/dev/null
cpu() { awk '{ print $14 + $15 }' "/proc/$IPID/stat"; }
TICKS=$(getconf CLK_TCK)
C0=$(cpu)
OUT=$($IT bench "$U" "$ADMIN" bench --conns 64 --seconds 8 --requests 70000)
C1=$(cpu)
RATE=$(field "$OUT" rate)
ISSUED=$(field "$OUT" issued)
echo "bench issuer_issuance $RATE issuances/s limit $LIMIT ratio $(ratio "$RATE" "$LIMIT")"
PER=$(awk -v c=$((C1 - C0)) -v t="$TICKS" -v n="$ISSUED" 'BEGIN { printf "%.4f", (n > 0 ? c / t / n * 1000 : 0) }')
CRYPTO=$(awk -v s="$SIGNS" -v v="$VERIFIES" 'BEGIN { printf "%.4f", 1000 / s + 1000 / v }')
echo "bench issuer_cpu_per_issuance $PER ms limit $CRYPTO ratio $(ratio "$CRYPTO" "$PER")"
