#!/bin/sh
# The operator's guide, run as written (docs/OPERATIONS.md, "Wiring a deployment"): its code
# blocks marked ```sh ops-walkthrough are extracted in order and run, in one shell that stops
# at the first failure, in a fresh directory ($OPS) with the programs of $BUILD on PATH. Then
# the outcome is checked: the keys exchanged in the documented order; the log, two
# witnesses, an issuer and a verifier up, over HTTPS only (the walkthrough's own CA); the
# contexts created; two citizens enrolled, fetched and voted with the wallet; the published
# checkpoint cosigned by both witnesses (the quorum); every server backed up, and the
# verifier restored from a backup older than a vote, which it adopted from the log and
# counts once; the watchdog's audit clean, twice (the second from its state). So the guide
# cannot drift from the software. OPS_KEEP_OUT=FILE keeps what the walkthrough printed.
. tests/e2e/lib/common.sh
GUIDE=docs/OPERATIONS.md
OPS=$E2E_TMP/ops
mkdir -p "$OPS"
BIN=$(cd "$BUILD" && pwd)

# the servers the walkthrough started (each keeps its pid in $OPS/NAME/pid), then the rest
ops_cleanup() {
    for f in "$OPS"/*/pid; do
        [ -s "$f" ] && kill -9 "$(cat "$f")" 2>/dev/null
    done
    e2e_cleanup
}
trap ops_cleanup EXIT INT TERM

# --- the walkthrough, extracted exactly as the guide shows it ------------------------------
awk '/^```sh ops-walkthrough$/ { on = 1; n++; print "# --- block " n; next }
     /^```/ { on = 0; next }
     on' "$GUIDE" > "$E2E_TMP/walkthrough.sh"
BLOCKS=$(grep -c '^```sh ops-walkthrough$' "$GUIDE")
check "the guide has its walkthrough (10 blocks or more)" test "$BLOCKS" -ge 10
check_eq "every block was extracted" "$(grep -c '^# --- block ' "$E2E_TMP/walkthrough.sh")" "$BLOCKS"

# the documented order of key exchange: the line of the first occurrence of each step
first() { grep -n -F -- "$1" "$E2E_TMP/walkthrough.sh" | head -n 1 | cut -d: -f1; }
# shellcheck disable=SC2016 # the commands as written, not expanded
ORDER="$(first 'LOG_VKEY=$(onevoice-log') $(first '$LOG_VKEY" > "$OPS/$w/logs"') \
$(first 'onevoice-witness --config "$OPS/$w/witness.conf" --print-vkey') \
$(first '>> "$OPS/log/witnesses"') $(first '> "$OPS/log/producers"') $(first 'start log ') \
$(first 'start issuer ') $(first 'start verifier ')"
check_eq "the steps come in the documented order (log vkey, witnesses' log list, witness vkeys, \
the log's witness list, producers, the log, issuer, verifier)" \
    "$(echo "$ORDER" | tr ' ' '\n' | grep -c .) $(echo "$ORDER" | tr ' ' '\n' | sort -n -c && echo sorted)" \
    "8 sorted"

# the walkthrough as an operator runs it: a POSIX shell that stops at the first failure
if (cd "$OPS" && PATH="$BIN:$PATH" OPS="$OPS" sh -eu "$E2E_TMP/walkthrough.sh") \
        > "$E2E_TMP/walkthrough.out" 2>&1; then
    ok
else
    fail "the walkthrough stopped: $(tail -n 30 "$E2E_TMP/walkthrough.out")"
    for n in log w1 w2 issuer verifier; do
        [ -s "$OPS/$n/stderr" ] && { echo "--- $n stderr:" >&2; tail -n 20 "$OPS/$n/stderr" >&2; }
    done
fi

# --- the outcome ----------------------------------------------------------------------------
# every server serves HTTPS with a certificate of the walkthrough's CA, which clients trust
export ONEVOICE_CA_FILE="$OPS/ca/ca.pem"
url() { echo "https://127.0.0.1:$(cat "$OPS/$1/port" 2>/dev/null)"; }
for n in log w1 w2 issuer verifier; do
    check "$n is up (GET /healthz)" curl -sf --cacert "$OPS/ca/ca.pem" "$(url $n)/healthz"
done
LOG_VKEY=$("$BIN/onevoice-log" --config "$OPS/log/log.conf" --print-vkey 2>/dev/null)
check_eq "each witness lists the log by its origin and verifier key" \
    "$(cat "$OPS/w1/logs" "$OPS/w2/logs" 2>/dev/null | sort -u)" "votes.example.org/log $LOG_VKEY"
check_eq "the log's witness list holds both witnesses' URLs and keys" \
    "$(cat "$OPS/log/witnesses" 2>/dev/null)" \
    "$(url w1) $(cat "$OPS/w1/vkey" 2>/dev/null)
$(url w2) $(cat "$OPS/w2/vkey" 2>/dev/null)"
check_eq "the log's producers: the issuer, the verifier and the sortition operator" \
    "$(cut -d' ' -f1 "$OPS/log/producers" 2>/dev/null | tr '\n' ' ')" "issuer verifier operator "
check_eq "--print-config: a flag wins over the file" \
    "$(grep -c '^checkpoint-ms = 500$' "$E2E_TMP/walkthrough.out")" 1
check "the issuer's pepper is outside its data directory" test -s "$OPS/issuer/vault/issuer.pepper"
check "and not inside it" test ! -e "$OPS/issuer/data/pepper.secret"

curl -sf --cacert "$OPS/ca/ca.pem" "$(url issuer)/contexts" > "$E2E_TMP/contexts.json"
check_eq "both contexts are logged and open" "$(python3 -c '
import json, sys
print(" ".join(sorted(c["id"] for c in json.load(open(sys.argv[1])) if c["open"])))' \
    "$E2E_TMP/contexts.json" 2>/dev/null)" "budget-2027 town-2027"
check_eq "three invitation codes were issued" "$(sed 1d "$OPS/issuer/codes.csv" 2>/dev/null | wc -l)" 3
check_eq "the verifier counted both votes once, the second adopted from the log after the restore" "$(curl -sf --cacert "$OPS/ca/ca.pem" "$(url verifier)/tallies/budget-2027" |
    python3 -c 'import json, sys; print(json.dumps(json.load(sys.stdin)["result"], sort_keys=True))' 2>/dev/null)" \
    '{"no": 1, "yes": 1}'
check "the first citizen's receipts check against the witnessed log" \
    "$BIN/onevoice" --wallet "$OPS/citizen/me.db" receipts
check "and the second's" "$BIN/onevoice" --wallet "$OPS/citizen/you.db" receipts
trusts() { python3 -c 'import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
print(" ".join(c.execute("SELECT value FROM config WHERE key = ?", (k,)).fetchone()[0]
               for k in ("issuer", "verifier", "log", "log_vkey", "witnesses", "quorum")))' \
    "$OPS/citizen/$1.db" 2>/dev/null; }
check "the first wallet was set up from the join bundle" grep -q 'joined "Budget assembly 2027"' \
    "$E2E_TMP/walkthrough.out"
check_eq "... and trusts what the second was told by hand" "$(trusts me)" "$(trusts you)"
check "... (both read)" test -n "$(trusts me)"
check "and a second vote is refused" sh -c "! '$BIN/onevoice' --wallet '$OPS/citizen/me.db' vote budget-2027 no"
check_eq "the restored verifier adopted the vote its backup lacked" \
    "$(curl -sf --cacert "$OPS/ca/ca.pem" "$(url verifier)/metrics" | awk '/^verifier_entries_adopted_total /{ print $2 }')" 1
check "plain HTTP is not served (HTTPS only)" sh -c "! curl -sf 'http://127.0.0.1:$(cat "$OPS/log/port")/healthz'"

curl -sf --cacert "$OPS/ca/ca.pem" "$(url log)/checkpoint" > "$E2E_TMP/checkpoint"
check_eq "the published checkpoint is cosigned by both witnesses (the quorum)" \
    "$(grep -c -e '^— w1.witness.example ' -e '^— w2.witness.example ' "$E2E_TMP/checkpoint")" 2
check "the verifier verified a checkpoint" test "$(curl -sf --cacert "$OPS/ca/ca.pem" "$(url verifier)/metrics" |
    awk '/^verifier_log_size /{ print $2 }')" -gt 0

# every metric the guide's Monitoring table names is served by one of the servers running
for f in "$OPS"/*/port; do
    curl -sf --cacert "$OPS/ca/ca.pem" "https://127.0.0.1:$(cat "$f")/metrics"
done > "$E2E_TMP/all.metrics"
sed -n '/^| server | metrics to watch |/,/^$/p' docs/OPERATIONS.md | grep -o '`[a-z_]*[{`]' |
    tr -d '`{' | grep -E '^(http|process|sqlite|tls|groupcommit|tlog|witness|issuer|verifier|relay|ohttp)_' |
    sort -u > "$E2E_TMP/doc.metrics" # (not the reasons, as `old_size_mismatch`)
missing=$(while read -r m; do
    grep -q -e "^$m[ {]" -e "^# TYPE $m " "$E2E_TMP/all.metrics" || printf '%s ' "$m"
done < "$E2E_TMP/doc.metrics")
check_eq "the $(wc -l < "$E2E_TMP/doc.metrics") metrics docs/OPERATIONS.md names are all served" \
    "$missing" ""
check "the audit wrote its report" test -s "$OPS/watchdog/report.json"
check_eq "the audit is clean: ok, no violation, both votes recounted" "$(python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
c = {x["id"]: x for x in r["contexts"]}
print(r["ok"], len(r["violations"]), json.dumps(c["budget-2027"]["recount"]["result"], sort_keys=True))' \
    "$OPS/watchdog/report.json" 2>/dev/null)" 'True 0 {"no": 1, "yes": 1}'
check "the watchdog's state kept the checkpoint it verified" \
    sh -c "ls '$OPS/watchdog/state/checkpoints/' | grep -q ."
check "a second audit from the state is clean too" "$BIN/onevoice-audit" --log "$(url log)" \
    --log-vkey "$LOG_VKEY" --witnesses "$OPS/watchdog/witnesses.txt" --quorum 2 \
    --state "$OPS/watchdog/state" --quiet

[ -n "${OPS_KEEP_OUT:-}" ] && cp "$E2E_TMP/walkthrough.out" "$OPS_KEEP_OUT"
summary
