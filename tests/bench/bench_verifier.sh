#!/bin/sh
# onevoice-verifier benchmarks. Each line: bench NAME VALUE UNIT limit LIMIT ratio R.
#   verifier_actions       actions counted per second over HTTP, each durable in the
#                          verifier's database and acknowledged by the log (the answer a
#                          plain POST /actions waits for), from 256 keep-alive connections,
#                          beside the crypto limit measured now: one RSA-2048 PSS token
#                          verification plus one Ed25519 action verification per action,
#                          on 2 threads (vtool cryptolimit: 1 / (1/rsa_rate + 1/ed25519_rate))
#   verifier_actions_batch the same through POST /actions/batch, 16 actions a request from
#                          128 connections (2,048 actions in flight, as 256 connections
#                          keep 256): what a platform that gathers its citizens' actions gets
#   verifier_cpu_per_action  the verifier process's CPU time (user + system) per counted
#                          action in that run, beside the crypto's CPU time per action
#                          (2 threads / the limit above): ratio = the share of the
#                          verifier's CPU that the two verifications take
#   verifier_receipt_p50,  ms from when an action is due (open loop) to its receipt with
#   verifier_receipt_p99
#                          the signed checkpoint and inclusion proof (POST ?wait=proof), at
#                          verifier_receipt_rate actions/s: 5,000 when the machine sustains
#                          it, else 60% of the rate measured above (the line says which);
#                          the log signs a checkpoint every 250 ms (its default), the
#                          verifier reads it every 100 ms (its default)
#                          The open-loop generator offers 3,000 connections: at 5,000/s
#                          and ~0.3 s per receipt some 1,500 are in flight at once, and
#                          fewer connections would queue requests in the generator itself
#                          (with 1,024 the measured p50 grew to 0.7 s, all of it waiting
#                          for a free connection; the verifier takes 12,288 by default,
#                          and this one all of them from 127.0.0.1: --exempt-addresses).
# Everything (log, verifier, load generator) shares the machine. Tokens are real RFC 9578
# tokens from the stand-in issuer (tests/tools/vtool); minting them is slow, so they are
# cached in $BUILD/bench-cache/verifier (the first run mints 68,000, ~45 s on 2 cores).
BUILD=${BUILD:-build}
VT=$BUILD/tools/vtool
LT=$BUILD/tools/logtool
CACHE=$BUILD/bench-cache/verifier
T=$(mktemp -d)
LPID=""
VPID=""
trap 'kill -9 $LPID $VPID 2>/dev/null; rm -rf "$T"' EXIT INT TERM
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", (b > 0 ? a / b : 0) }'; }
field() { echo "$1" | awk -v k="$2" '{ for (i = 1; i < NF; i++) if ($i == k) print $(i + 1) }'; }
N_RATE=24000
N_LAT=20000

mkdir -p "$CACHE"
[ -f "$CACHE/issuer.key" ] || $LT keygen "$CACHE/issuer.key" > "$CACHE/issuer.pub"
$BUILD/onevoice-verifier --data "$T/v" --print-producer-key > "$T/vprod"
{ echo "issuer $(cat "$CACHE/issuer.pub")"; cat "$T/vprod"; } > "$T/producers"
VK=$($BUILD/onevoice-log --data "$T/log" --origin bench.example/votes --print-vkey)
$BUILD/onevoice-log --data "$T/log" --producers "$T/producers" --port-file "$T/lport" \
    2>>"$T/log.err" &
LPID=$!
while [ ! -s "$T/lport" ]; do sleep 0.05; done
L=http://127.0.0.1:$(cat "$T/lport")
# the load generator stands for a platform: its 3,000 connections from one address
$BUILD/onevoice-verifier --data "$T/v" --log "$L" --log-vkey "$VK" --port-file "$T/vport" \
    --exempt-addresses 127.0.0.1 --epoch-seconds 0 2>>"$T/v.err" &
VPID=$!
while [ ! -s "$T/vport" ]; do sleep 0.05; done
V=http://127.0.0.1:$(cat "$T/vport")

# the same context (id, issuer, token key) on every run, so the cached tokens stay valid
$VT context "$L" "$CACHE/issuer.key" "$CACHE" bench --choices a,b,c --reuse-key > /dev/null
NEED=$((2 * N_RATE + N_LAT))
if [ "$(wc -c < "$CACHE/tokens" 2>/dev/null || echo 0)" -lt $((NEED * 386)) ]; then
    $VT mint "$CACHE" bench $NEED "$CACHE/tokens.tmp" --threads 2 &&
        mv "$CACHE/tokens.tmp" "$CACHE/tokens"
fi
i=0
until curl -s "$V/contexts" | grep -q '"bench"' || [ $i -gt 100 ]; do sleep 0.05; i=$((i + 1)); done

# 1. throughput, beside the crypto limit measured in the same run
LIM=$(field "$($VT cryptolimit --threads 2 --seconds 1)" limit)
cpu() { awk '{ print $14 + $15 }' "/proc/$VPID/stat"; }
C0=$(cpu)
OUT=$($VT load "$V" "$CACHE" bench "$CACHE/tokens" --count $N_RATE --conns 256)
C1=$(cpu)
RATE=$(field "$OUT" rate)
OK=$(field "$OUT" ok)
echo "bench verifier_actions $RATE actions/s limit $LIM ratio $(ratio "$RATE" "$LIM")"
PER=$(awk -v c=$((C1 - C0)) -v t="$(getconf CLK_TCK)" -v n="$OK" \
    'BEGIN { printf "%.1f", (n > 0 ? c / t / n * 1e6 : 0) }')
CRYPTO=$(awk -v l="$LIM" 'BEGIN { printf "%.1f", 2e6 / l }')
echo "bench verifier_cpu_per_action $PER us limit $CRYPTO ratio $(ratio "$CRYPTO" "$PER")"

# 1b. the same, in batches
OUT=$($VT load "$V" "$CACHE" bench "$CACHE/tokens" --from $N_RATE --count $N_RATE --conns 128 \
    --batch 16)
BRATE=$(field "$OUT" rate)
echo "bench verifier_actions_batch $BRATE actions/s limit $LIM ratio $(ratio "$BRATE" "$LIM")"

# 2. time to a receipt with its proof, open loop
R=$(awk -v r="$RATE" 'BEGIN { x = int(r * 0.6); print (x >= 5000 ? 5000 : x) }')
N=$((R * 4))
[ $N -gt $N_LAT ] && N=$N_LAT
OUT=$($VT load "$V" "$CACHE" bench "$CACHE/tokens" --from $((2 * N_RATE)) --count $N --rate "$R" \
    --conns 3000 --wait-proof)
P99=$(field "$OUT" p99_ms)
P50=$(field "$OUT" p50_ms)
PROVEN=$(field "$OUT" proven)
echo "bench verifier_receipt_rate $R actions/s limit 5000 ratio $(ratio "$R" 5000)"
echo "bench verifier_receipt_p50 $P50 ms limit 1000 ratio $(ratio "$P50" 1000)"
echo "bench verifier_receipt_p99 $P99 ms limit 1000 ratio $(ratio "$P99" 1000)"
echo "bench verifier_receipt_proven $PROVEN receipts limit $N ratio $(ratio "$PROVEN" "$N")"
