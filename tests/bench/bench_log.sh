#!/bin/sh
# onevoice-log benchmarks. Each line: bench NAME VALUE UNIT limit LIMIT ratio R.
#   log_append_durable   entries/s acknowledged (durable) from 8 concurrent producers in
#                        batches of 256, beside the storage ceiling measured now: bare SQLite
#                        inserts of the same rows (index, unique hash, data) in WAL with
#                        synchronous=FULL, in transactions of the same size (tests/tools/sqlbench)
#   log_receipt_p50/p99  ms from append to an inclusion proof under a signed checkpoint, at
#                        a steady 2,000 entries/s, beside the checkpoint interval (100 ms), the
#                        floor set by design
#   log_tile_reads       full-tile GETs/s from wrk (2 threads, 32 connections) while
#                        producers append, beside wrk's rate on /healthz of the same server
#   log_rss_1M           resident memory (VmHWM) of the log after 1,000,000 entries, beside
#                        the 32 MB the leaf hashes alone would take in memory
BUILD=${BUILD:-build}
LT=$BUILD/tools/logtool
T=$(mktemp -d)
PID=""
trap 'kill -9 $PID 2>/dev/null; rm -rf "$T"' EXIT INT TERM
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", (b > 0 ? a / b : 0) }'; }
field() { echo "$1" | awk -v k="$2" '{ for (i = 1; i < NF; i++) if ($i == k) print $(i + 1) }'; }

$LT keygen "$T/p.key" > "$T/p.pub"
echo "bench $(cat "$T/p.pub")" > "$T/producers"
start_log() {
    rm -f "$T/port"
    $BUILD/onevoice-log --data "$T/$1" --origin bench.example/log --producers "$T/producers" \
        --checkpoint-ms 100 --port-file "$T/port" 2>>"$T/log.err" &
    PID=$!
    while [ ! -s "$T/port" ]; do sleep 0.05; done
    U=http://127.0.0.1:$(cat "$T/port")
}

# 1. durable appends
LIM=$($BUILD/tools/sqlbench "$T/ceiling.db" 300000 2048 100)
LIMRATE=$(field "$LIM" rate)
start_log a
OUT=$($LT load "$U" "$T/p.key" bench --count 300000 --batch 256 --conns 8 --size 60)
RATE=$(field "$OUT" rate)
echo "bench log_append_durable $RATE entries/s limit $LIMRATE ratio $(ratio "$RATE" "$LIMRATE")"

# 2. append -> receipt latency at a steady rate
OUT=$($LT load "$U" "$T/p.key" bench --count 5000 --batch 1 --conns 250 --rate 1000 --checkpoint)
P50=$(field "$OUT" p50_ms); P99=$(field "$OUT" p99_ms)
echo "bench log_receipt_p50 $P50 ms limit 100 ratio $(ratio "$P50" 100)"
echo "bench log_receipt_p99 $P99 ms limit 100 ratio $(ratio "$P99" 100)"

# 3. tile reads under load
if command -v wrk >/dev/null 2>&1; then
    $LT load "$U" "$T/p.key" bench --count 100000000 --batch 64 --conns 2 --rate 5000 \
        --seconds 12 >/dev/null &
    LOADPID=$!
    HZ=$(wrk -t2 -c32 -d4s "$U/healthz" | awk '/Requests\/sec/ { print $2 }')
    TILE=$(wrk -t2 -c32 -d4s "$U/tile/0/x001/000" | awk '/Requests\/sec/ { print $2 }')
    wait $LOADPID
    echo "bench log_tile_reads $TILE req/s limit $HZ ratio $(ratio "$TILE" "$HZ")"
fi
kill "$PID"; wait "$PID" 2>/dev/null

# 4. memory at one million entries
start_log m
$LT load "$U" "$T/p.key" bench --count 1000000 --batch 512 --conns 4 --size 60 >/dev/null
RSS=$(awk '/VmHWM/ { print $2 * 1024 }' /proc/$PID/status)
echo "bench log_rss_1M $RSS bytes limit 32000000 ratio $(ratio "$RSS" 32000000)"
