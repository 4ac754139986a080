#!/bin/sh
# onevoice-audit benchmarks. Each line: bench NAME VALUE UNIT limit LIMIT ratio R.
#   audit_actions    actions audited per second (AUDIT_BENCH_N = 20,000 real RFC 9578 tokens,
#                    each enrollment and issuance logged just before its ballot (as a day of
#                    voting logs them; the bulk log had no enrollments before the auditor
#                    checked tags against them), 2 verification threads on
#                    2 cores; the issuances' checks are counted against the auditor, not
#                    credited), beside the signature-verification limit measured in the same
#                    run: RSA-2048 PSS token verification plus Ed25519 action verification,
#                    per action, on 2 threads (govsim speed: the very calls the auditor makes).
#                    Best of 3, limit and audit interleaved (other processes share the cores).
#   audit_entries    the same run counted in log entries (enrollments, issuances, context and tally
#                    included), beside the same limit expressed per entry of this log.
#   audit_peak_rss   the auditor's peak resident memory (getrusage, = VmHWM) auditing
#                    AUDIT_BENCH_RSS_N = 150,000 actions, beside the size of its state database
#                    then (what keeping the rule state in memory would take at the least).
#                    These tokens are right in every field but the RSA signature (minting a
#                    real one costs ~1 ms), so every action is also a recorded violation.
#                    Memory stops growing once SQLite's page cache (capped at 32 MiB) is full:
#                    rule state, violations and recounts live in SQLite and the report is
#                    streamed. audit_peak_rss_n20000: the same for the 20,000 real actions.
BUILD=${BUILD:-build}
N=${AUDIT_BENCH_N:-20000}
N2=${AUDIT_BENCH_RSS_N:-150000}
GS=$BUILD/tools/govsim
AU=$BUILD/onevoice-audit
T=$(mktemp -d)
PID=""
trap 'kill -9 $PID 2>/dev/null; rm -rf "$T"' EXIT INT TERM
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", (b > 0 ? a / b : 0) }'; }
jget() { python3 -c 'import json, sys; d = json.load(open(sys.argv[1]))
for k in sys.argv[2].split("."): d = d[k]
print(d)' "$1" "$2"; }

$BUILD/tools/logtool keygen "$T/p.key" > "$T/p.pub"
echo "bench $(cat "$T/p.pub")" > "$T/producers"
start_log() {
    rm -f "$T/port"
    $BUILD/onevoice-log --data "$T/$1" --origin bench.example/log --producers "$T/producers" \
        --checkpoint-ms 100 --port-file "$T/port" 2>>"$T/log.err" &
    PID=$!
    while [ ! -s "$T/port" ]; do sleep 0.05; done
    U=http://127.0.0.1:$(cat "$T/port")
    VK=$($BUILD/onevoice-log --data "$T/$1" --print-vkey)
}

# 1. the rate, against the signature-verification limit
start_log a
$GS bulk "$U" "$T/p.key" bench --actions "$N" --threads 2 --keys "$T/keys" > "$T/a.size" 2>"$T/a.err" ||
    { cat "$T/a.err" >&2; exit 1; }
BEST=0 LIMIT=0 ENTRIES=0
for i in 1 2 3; do
    L=$($GS speed --threads 2 --ms 1500 --keys "$T/keys" | awk '{ print $2 }')
    LIMIT=$(awk -v a="$L" -v b="$LIMIT" 'BEGIN { print (a > b ? a : b) }')
    $AU --log "$U" --log-vkey "$VK" --threads 2 --quiet --json "$T/a$i.json"
    [ $? -eq 0 ] || { echo "bench_audit: the audit of a clean log failed" >&2; exit 1; }
    S=$(jget "$T/a$i.json" read.seconds)
    ENTRIES=$(jget "$T/a$i.json" read.entries)
    R=$(awk -v n="$N" -v s="$S" 'BEGIN { printf "%.0f", n / s }')
    BEST=$(awk -v a="$R" -v b="$BEST" 'BEGIN { print (a > b ? a : b) }')
done
echo "bench audit_actions $BEST actions/s limit $LIMIT ratio $(ratio "$BEST" "$LIMIT")"
EV=$(awk -v a="$BEST" -v e="$ENTRIES" -v n="$N" 'BEGIN { printf "%.0f", a * e / n }')
EL=$(awk -v a="$LIMIT" -v e="$ENTRIES" -v n="$N" 'BEGIN { printf "%.0f", a * e / n }')
echo "bench audit_entries $EV entries/s limit $EL ratio $(ratio "$EV" "$EL")"

# 2. memory: N real actions, then N2 actions (forged tokens), each with its state kept
measure_rss() { # N NAME
    $AU --log "$U" --log-vkey "$VK" --threads 2 --quiet --state "$T/s$1" --json "$T/m$1.json"
    RSS=$(jget "$T/m$1.json" peak_rss_bytes)
    DB=$(cat "$T/s$1"/audit.db* | wc -c)
    echo "bench $2 $RSS bytes limit $DB ratio $(ratio "$RSS" "$DB")"
}
measure_rss "$N" "audit_peak_rss_n$N"
kill "$PID"; wait "$PID" 2>/dev/null
start_log b
$GS bulk "$U" "$T/p.key" bench --actions "$N2" --threads 2 --keys "$T/keys" --fake-tokens \
    > /dev/null 2>"$T/b.err" || { cat "$T/b.err" >&2; exit 1; }
measure_rss "$N2" audit_peak_rss
