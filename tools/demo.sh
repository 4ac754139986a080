#!/bin/sh
# make demo: a whole alignment assembly on loopback, end to end, in under a minute.
#
# A log, two witnesses, an issuer and a verifier start on 127.0.0.1 with SQLite files in a
# fresh directory. The operator opens an assembly (four proposals) and a statement round
# (participants write statements and agree, disagree or pass on each other's); a sortition draws 447 of 20,000 synthetic respondents to
# mirror them by five categories, in public through the log (onevoice-sortition: the
# witnesses' two operators and an observer commit to secrets, the pool is logged, they
# reveal, the draw is logged with the seed of their secrets, anyone re-runs it) and sends
# each selected person one invitation code by text message. Then the contexts open, and
# every citizen enrolls, fetches a token for every open context (cover issuance) and votes
# the default way, each token and each action at its own random moment of the window
# (core/protocol/pacing.h; the three wallet users leave `onevoice run --wait` running);
# eight write a statement, and everyone weighs every statement; three of them use the
# citizen's wallet `onevoice` itself, the others a simulator built on the same client modules
# (tests/tools/citizens.c). One citizen tries to vote twice and is refused. Every receipt is
# checked. The contexts close, the verifier logs the tallies (the statement round's with its
# opinion groups and bridging statements, docs/PROTOCOL.md §11), and the watchdog's auditor
# recounts everything from the public log alone and recomputes the groups and the bridging
# scores bit for bit. The results printed are those: nothing comes from the simulator.
#
# The log serves the transparency page (web/) at /web/: what it holds, checked in the browser.
# DEMO_KEEP=1 leaves the servers running and prints their URLs, the page's, the log's and the
# witnesses' keys, how to print the issuer's admin credential and a wallet's init line (the
# process ids are in DIR/pids). DEMO_CITIZENS=N changes the number of citizens (default 447);
# DEMO_VOTE_SECONDS the time the contexts stay open; DEMO_EPOCH_SECONDS the issuer's and the
# verifier's epoch (default 2, docs/PROTOCOL.md §3.1; 0: none).
# DEMO_TRUTH=1 has the simulated citizens write who is who to DIR/truth.txt, for the linkage
# measurement alone (tests/privacy/linkage.py, run at the end); no server reads it.
set -eu
BUILD=${BUILD:-build}
N=${DEMO_CITIZENS:-447}
OPEN_S=${DEMO_VOTE_SECONDS:-30}
EPOCH_S=${DEMO_EPOCH_SECONDS:-2} # 0: no epochs (each entry logged at once)
D=$(mktemp -d "${TMPDIR:-/tmp}/onevoice-demo.XXXXXX")
PIDS=""
cleanup() {
    if [ "${DEMO_KEEP:-0}" != 1 ]; then
        for p in $PIDS; do kill "$p" 2>/dev/null || true; done
        wait 2>/dev/null || true
        rm -rf "$D"
    fi
}
trap cleanup EXIT INT TERM
T0=$(date +%s)
say() { printf '%s\n' "$*"; }
step() { printf '\n== %s  (t=%ss)\n' "$*" "$(($(date +%s) - T0))"; }

# start NAME COMMAND...: runs a server in the background and sets NAME_URL
start() {
    name=$1; shift
    "$@" --port-file "$D/$name.port" >>"$D/$name.log" 2>&1 &
    PIDS="$PIDS $!"
    echo $! >> "$D/pids" # for whoever stops a kept demo, or one that failed with DEMO_KEEP=1
    i=0
    while [ ! -s "$D/$name.port" ]; do
        i=$((i + 1)); sleep 0.05
        if [ $i -gt 400 ]; then say "$name did not start:"; cat "$D/$name.log"; exit 1; fi
    done
    eval "${name}_URL=http://127.0.0.1:$(cat "$D/$name.port")"
}

step "Starting a log, two witnesses, an issuer and a verifier in $D"
ORIGIN=demo.onevoice.example/log
LOG_VKEY=$($BUILD/onevoice-log --data "$D/log" --origin $ORIGIN --print-vkey)
echo "$ORIGIN $LOG_VKEY" > "$D/logs"
: > "$D/witnesses"
for w in w1 w2; do
    start $w $BUILD/onevoice-witness --data "$D/$w" --name "$w.demo.onevoice.example" --logs "$D/logs"
    eval "url=\$${w}_URL"
    echo "$url $($BUILD/onevoice-witness --data "$D/$w" --print-vkey)" >> "$D/witnesses"
done
# the sortition's operator and its three parties (the witnesses' operators and an observer)
# append their own entries: each is a producer of the log
mkdir -m 700 "$D/sortition" "$D/vault"  # the vault: the issuer's pepper, apart from its data
{ $BUILD/onevoice-issuer --data "$D/issuer" --pepper-file "$D/vault/issuer.pepper" --print-producer-key
  $BUILD/onevoice-verifier --data "$D/verifier" --print-producer-key
  for who in operator w1-operator w2-operator observer; do
      $BUILD/onevoice-sortition key --key "$D/sortition/$who.key" --name "$who"
  done; } > "$D/producers"
start log $BUILD/onevoice-log --data "$D/log" --producers "$D/producers" \
    --witnesses "$D/witnesses" --quorum 2 --checkpoint-ms 100 --web "$(pwd)/web" \
    --join "$D/join.conf"
# epochs (docs/PROTOCOL.md §3.1) scaled to the demo's short contexts: the issuer and the
# verifier hold their entries for EPOCH_S seconds and append each epoch's shuffled
start issuer $BUILD/onevoice-issuer --data "$D/issuer" --log "$log_URL" --log-vkey "$LOG_VKEY" \
    --name issuer.demo.onevoice.example --pepper-file "$D/vault/issuer.pepper" \
    --epoch-seconds "$EPOCH_S"
start verifier $BUILD/onevoice-verifier --data "$D/verifier" --log "$log_URL" \
    --log-vkey "$LOG_VKEY" --witnesses "$D/witnesses" --quorum 2 --epoch-seconds "$EPOCH_S"
# an Oblivious HTTP relay (another organisation's, in a real assembly) in front of the
# verifier's and the log's gateways; the join bundle names it with the servers
start relay $BUILD/onevoice-relay --data "$D/relay" \
    --gateway "verifier=$verifier_URL/gateway,log=$log_URL/gateway"
cat > "$D/join.conf" <<EOF
name The town's transport assembly (demo)
log $log_URL
issuer $issuer_URL
verifier $verifier_URL
relay $relay_URL
web $log_URL/web/
EOF
say "log       $log_URL   ($LOG_VKEY)"
say "witnesses $w1_URL $w2_URL (quorum 2)"
say "issuer    $issuer_URL"
say "verifier  $verifier_URL"
say "relay     $relay_URL   (join bundle: $log_URL/join)"
ADMIN=$($BUILD/onevoice-issuer --data "$D/issuer" --print-credentials | awk '/^admin /{print $2}')
admin() { curl -sf -X POST -H "Authorization: Bearer $ADMIN" -H 'Content-Type: application/json' "$@"; }

step "The sortition: $N of 20000 respondents drawn to mirror them, in public through the log"
python3 tools/respondents.py "$D" 20000 "$N"
DRAW=transport-2026-panel
mkdir "$D/pools" # the public pool files, served beside the log: DRAW.csv
$BUILD/onevoice-sortition import --respondents "$D/respondents.csv" --quotas "$D/quotas.csv" \
    --panel "$N" --out "$D/pools/$DRAW.csv" --private "$D/contacts.csv" | sed 's/^/  /'
LOGARGS="--log $log_URL --log-vkey $LOG_VKEY --witnesses $D/witnesses --id $DRAW"
# sortition WHO COMMAND [args]: one party's or the operator's command, as its own producer
sortition() {
    who=$1; cmd=$2; shift 2
    # shellcheck disable=SC2086
    out=$($BUILD/onevoice-sortition "$cmd" $LOGARGS --key "$D/sortition/$who.key" \
        --producer "$who" "$@")
    say "  $out"
}
sortition w1-operator commit --party "operator of witness w1" --secret "$D/sortition/w1-operator.secret"
sortition w2-operator commit --party "operator of witness w2" --secret "$D/sortition/w2-operator.secret"
sortition observer commit --party "citizens' observer" --secret "$D/sortition/observer.secret"
sortition operator publish --pool "$D/pools/$DRAW.csv" --parties 3 --reveal-within 600 \
    --title "The transport assembly's panel of $N"
for who in w1-operator w2-operator observer; do
    sortition "$who" reveal --secret "$D/sortition/$who.secret"
done
sortition operator draw --pool "$D/pools/$DRAW.csv" --out "$D/draw.csv"
# shellcheck disable=SC2086
say "  anyone, from the log and the pool file: $($BUILD/onevoice-sortition verify $LOGARGS \
    --pool "$D/pools/$DRAW.csv")"
# one code per selected person, for this draw: the issuer logs how many a draw got
admin "$issuer_URL/admin/invites" -d "{\"count\":$N,\"draw\":\"$DRAW\"}" > "$D/issued-codes.csv"
$BUILD/onevoice-sortition invitations --pool "$D/pools/$DRAW.csv" --draw "$D/draw.csv" \
    --private "$D/contacts.csv" \
    --codes "$D/issued-codes.csv" --out "$D/sms.csv" | sed 's/^/  /'
cut -d, -f2 "$D/sms.csv" > "$D/codes.csv" # what the SMS gateway sends, one code per person
say "  $(($(wc -l < "$D/codes.csv") - 1)) one-time codes sent by text message to the selected alone (the issuer keeps only keyed hashes of them)"

# The statements citizens write (tests/tools/citizens.c has the same table and the camps'
# stances): Ana writes the first with her wallet, simulated citizens the other seven.
cat > "$D/statements.txt" <<'TXT'
Buses every ten minutes on every main line, all day
Charge cars a fee to enter the centre at peak hours
Build a ring road around the town
Cycle lanes separated from traffic on the school routes
More parking spaces in the town centre
Close the old town to cars on weekends
Cut the transport budget and change nothing
公車免費給青少年與長者 (free buses for the young and the old)
TXT
# statement_id N: the id of statement N (1-based) of the round, as anyone derives it from its
# text (docs/PROTOCOL.md §11.3); `onevoice statements` lists the same ids. Derived once, a line
# each (the ratings below must fit in the round's window)
python3 -c '
import hashlib, sys
for t in open(sys.argv[1], "rb").read().splitlines():
    print(hashlib.sha256(b"onevoice/v1/statement\0transport-statements\0" + t).hexdigest()[:32])' \
    "$D/statements.txt" > "$D/statement-ids.txt"
statement_id() { sed -n "${1}p" "$D/statement-ids.txt"; }

# the contexts open once the panel is drawn and invited: the citizens act, each at moments
# of their own, in the window that follows (core/protocol/pacing.h scales them to it)
step "The operator opens an assembly and a statement round (open for ${OPEN_S}s)"
NOW=$(date +%s)
CLOSES=$((NOW + OPEN_S))
admin "$issuer_URL/admin/contexts" -d "{\"id\":\"transport-2026\",\"title\":\"Which transport plan should the assembly recommend?\",\"type\":\"assembly\",\"choices\":[\"p1-bus-network\",\"p2-mixed-plan\",\"p3-road-upgrade\",\"p4-status-quo\"],\"opens\":$((NOW - 1)),\"closes\":$CLOSES,\"quota\":1}" >/dev/null
admin "$issuer_URL/admin/contexts" -d "{\"id\":\"transport-statements\",\"title\":\"What should the town do about transport? Write a statement; agree, disagree or pass on the others\",\"type\":\"rating\",\"rating_kind\":\"agreement\",\"statements\":1,\"opens\":$((NOW - 1)),\"closes\":$CLOSES,\"quota\":1}" >/dev/null
curl -sf "$issuer_URL/contexts" | python3 -c '
import json, sys
for c in json.load(sys.stdin):
    print("  %-22s %-9s log index %-4d key id %s  %s" % (c["id"], c["type"], c["log_index"], c["token_key_id"][:12] + "...", c["title"]))'

step "Three citizens use the wallet: set up from the join bundle, enroll, check the contexts against the log, fetch, vote (each held to a random moment, sent through the relay)"
WIT_ARGS=""
for v in $(cut -d' ' -f2 "$D/witnesses"); do WIT_ARGS="$WIT_ARGS --witness $v"; done
i=1
for who in ana ben chloe; do
    W="$D/wallet-$who.db"
    code=$(sed -n "$((i + 1))p" "$D/codes.csv")
    # set up from the join bundle and the log's key (README.md): servers, witnesses, quorum
    # and the relay everything to the verifier and the log then goes through
    $BUILD/onevoice --wallet "$W" init --join "$log_URL/join" --log-vkey "$LOG_VKEY" >/dev/null
    $BUILD/onevoice --wallet "$W" enroll --code "$code" >/dev/null
    # the default way (README.md): each token at its own moment, the vote held to a random
    # moment before the close, and `onevoice run --wait` left running to do both
    $BUILD/onevoice --wallet "$W" fetch > "$D/fetch-$who.out" 2>&1
    case $who in
    ana) choice=p1-bus-network ;;
    ben) choice=p3-road-upgrade ;;
    *) choice=p2-mixed-plan ;;
    esac
    $BUILD/onevoice --wallet "$W" vote transport-2026 "$choice" --platform demo-platform \
        > "$D/vote-$who.out" 2>/dev/null
    $BUILD/onevoice --wallet "$W" run --wait > "$D/run-$who.out" 2>&1 &
    echo $! >> "$D/wallet-runs"
    say "  $who voted $choice: $(sed -n 's/^your vote in [^ ]* will be \(sent at [^,]*\),.*/\1/p' "$D/vote-$who.out")"
    i=$((i + 1))
done
sed 's/^/  ana> /' "$D/vote-ana.out"
$BUILD/onevoice --wallet "$D/wallet-ana.db" contexts | sed 's/^/  ana> /'
$BUILD/onevoice --wallet "$D/wallet-ana.db" statement transport-statements \
    "$(sed -n 1p "$D/statements.txt")" --platform demo-platform | sed 's/^/  ana> /'

step "Ana tries to vote a second time"
if $BUILD/onevoice --wallet "$D/wallet-ana.db" vote transport-2026 p4-status-quo \
        --platform demo-platform > "$D/twice.out" 2>&1; then
    say "  DEMO FAILED: a second vote was accepted"; exit 1
fi
sed 's/^/  refused: /' "$D/twice.out" | head -2

step "$((N - 3)) more citizens vote; seven write statements; all weigh every statement (simulated wallets, same client code, real HTTP)"
tail -n +5 "$D/codes.csv" | sed '1i code' > "$D/codes-rest.csv"
TRUTH_ARG=""
if [ "${DEMO_TRUTH:-0}" = 1 ]; then TRUTH_ARG="--truth $D/truth.txt"; fi
# shellcheck disable=SC2086
$BUILD/tools/citizens --issuer "$issuer_URL" --verifier "$verifier_URL" --log "$log_URL" \
    --log-vkey "$LOG_VKEY" $WIT_ARGS --quorum 2 --codes "$D/codes-rest.csv" \
    --assembly transport-2026 --round transport-statements --threads 8 --first-statement 1 \
    ${TRUTH_ARG} > "$D/citizens.out" 2>&1 &
CITIZENS=$!

step "The three wallet users read the round's statements, once all eight are written, and weigh each one"
# the statements come at their writers' moments, within the first half of what is left
i=0
until [ "$(curl -sf "$verifier_URL/contexts/transport-statements/statements" | python3 -c '
import json, sys
print(len(json.load(sys.stdin)))' 2>/dev/null)" = 8 ]; do
    i=$((i + 1)); sleep 0.2
    if [ $i -gt 300 ]; then say "  DEMO FAILED: the eight statements are not in after 60 s"; exit 1; fi
done
$BUILD/onevoice --wallet "$D/wallet-ben.db" statements transport-statements | sed 's/^/  ben> /'
# each weighs them in a terminal of their own (at once: the round's window is short)
for who in ana ben chloe; do
    # where each stands, statement by statement (Ana wrote the first: she does not weigh it)
    case $who in
    ana) r="- agree disagree agree disagree agree disagree agree" ;;
    ben) r="agree disagree agree agree agree disagree disagree agree" ;;
    *) r="agree pass pass agree disagree agree disagree agree" ;;
    esac
    (
        n=1
        for w in $r; do
            if [ "$w" != - ]; then
                $BUILD/onevoice --wallet "$D/wallet-$who.db" rate transport-statements \
                    "$(statement_id $n)" "$w" --platform demo-platform >/dev/null || exit 1
            fi
            n=$((n + 1))
        done
        echo "  $who weighed the statements: $r" > "$D/weighed-$who.out"
    ) &
    echo $! >> "$D/raters"
done
for p in $(cat "$D/raters"); do
    wait "$p" || { say "  DEMO FAILED: a wallet user's rating was refused"; exit 1; }
done
cat "$D/weighed-ana.out" "$D/weighed-ben.out" "$D/weighed-chloe.out"
# the ratings are held: each user's `run --wait` sends them (the first may have ended once
# the vote was sent and checked: one more each; two at once on a wallet send the same bytes)
for who in ana ben chloe; do
    $BUILD/onevoice --wallet "$D/wallet-$who.db" run --wait > "$D/run2-$who.out" 2>&1 &
    echo $! >> "$D/wallet-runs"
done
wait "$CITIZENS" || true
sed 's/^/  /' "$D/citizens.out"

step "The wallets send what they hold, each at its moment, and check each receipt at a moment of its own (onevoice run --wait)"
for p in $(cat "$D/wallet-runs"); do wait "$p" 2>/dev/null || true; done
for who in ana ben chloe; do
    say "  $who: $(python3 -c '
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
held = c.execute("select count(*) from actions where send_at is not null and state = ?", ("counted",)).fetchone()[0]
ok = c.execute("select count(*) from actions where check_result = ?", ("ok",)).fetchone()[0]
print("%d held and sent at their moments, %d receipts checked one at a time" % (held, ok))' "$D/wallet-$who.db")"
done

step "Every citizen re-checks their receipts against the latest witnessed checkpoint"
for who in ana ben chloe; do
    $BUILD/onevoice --wallet "$D/wallet-$who.db" receipts | tail -1 | sed "s/^/  $who: /"
done


step "The contexts close; the verifier logs the tallies"
while [ "$(date +%s)" -lt "$CLOSES" ]; do sleep 0.2; done
# wait until both tallies are final and a witnessed checkpoint covers their log entries
i=0
until [ "$(curl -sf "$verifier_URL/tallies" | python3 -c '
import json, sys
print(sum(1 for t in json.load(sys.stdin) if t.get("final")))' 2>/dev/null)" = 2 ]; do
    i=$((i + 1)); sleep 0.2
    if [ $i -gt 150 ]; then say "  DEMO FAILED: no final tallies 30 s after closing"; exit 1; fi
done
for r in $(curl -sf "$verifier_URL/tallies" | python3 -c '
import json, sys
print(" ".join(t["receipt"] for t in json.load(sys.stdin)))'); do
    curl -sf "$verifier_URL$r?wait=proof" > /dev/null
done
curl -sf "$verifier_URL/tallies" | python3 -c '
import json, sys
for t in json.load(sys.stdin):
    print("  %-22s tally entry logged: %s, counting log entries [0, %d)" % (t["context"], t["algorithm"], t["size"]))'

step "The watchdog audits the whole log from public data alone"
set +e
# the pool file, from which it recomputes the draw, comes from the log too: publish uploaded it,
# and the log serves it by the SHA-256 its pool entry holds (--pool-dir DIR still works)
$BUILD/onevoice-audit --log "$log_URL" --log-vkey "$LOG_VKEY" --witnesses "$D/witnesses" \
    --quorum 2 --json "$D/audit.json" --quiet
AUDIT=$?
set -e

step "Results"
curl -sf "$verifier_URL/tallies/transport-statements" > "$D/round-tally.json"
curl -sf "$verifier_URL/contexts/transport-statements/statements" > "$D/round-statements.json"
python3 - "$D/audit.json" "$D/round-tally.json" "$D/round-statements.json" <<'PY'
import json, sys
audit = json.load(open(sys.argv[1]))
tally = json.load(open(sys.argv[2]))
text = {s["id"]: s["text"] for s in json.load(open(sys.argv[3]))}
for d in audit.get("draws", []):
    print("  the draw %s (%d of %d members): recomputed by the auditor from the pool file and "
          "the %d logged reveals: %s" % (d["id"], d["panel"], d["members"], d["revealed"],
                                         d["verdict"]))
for c in audit["contexts"]:
    res = c["recount"]["result"]
    agree = all(t.get("ok") for t in c.get("tallies", [])) and c.get("tallies")
    print("  %s — %s" % (c["id"], c["title"]))
    print("    recounted by the auditor from the log; the verifier's logged tally %s" %
          ("agrees" if agree else "DOES NOT AGREE"))
    if c["type"] == "assembly":
        total = sum(res.values())
        for name, v in sorted(res.items(), key=lambda kv: -kv[1]):
            print("    %-22s %4d votes  %5.1f%%" % (name, v, 100.0 * v / total if total else 0))

def short(i, n=58):
    t = text.get(i, i)
    return t if len(t) <= n else t[:n - 1] + "…"

b, g = tally.get("bridging", {}), tally.get("groups", {})
stmts = b.get("statements", [])
print("  The statement round, as the verifier logged it at close (%s):" %
      ("final" if tally.get("final") else "PROVISIONAL"))
print("    %d statements, %d ratings by %d participants" %
      (len(stmts), sum(s["ratings"] for s in stmts), len(b.get("raters", []))))
print("    Opinion groups found in the votes (%s): %d, of %s participants" %
      (g.get("algorithm"), g.get("k", 0), " and ".join(str(x) for x in g.get("sizes", []))))
for n, reps in enumerate(g.get("representative", [])):
    print("      group %d stands out by: %s" % (n + 1, "; ".join(
        "%s %s" % (r["direction"], short(r["id"], 44)) for r in reps[:3])))
print("    Bridging statements (%s: agreed on across the divide):" % b.get("algorithm"))
for s in sorted(stmts, key=lambda s: -s["intercept"]):
    mark = {"helpful": "BRIDGES", "not_helpful": "rejected"}.get(s["status"], "divides")
    print("      %-8s intercept %+.2f factor %+.2f  %s" % (mark, s["intercept"], s["factor"], short(s["id"])))
cons = g.get("consensus", [])[:3]
print("    Group-aware consensus, top %d: %s" % (len(cons), "; ".join(short(x["id"], 40) for x in cons)))
bad = [v for v in audit.get("violations", []) if v.get("rule") == "statement_results"]
print("    The auditor recomputed the groups and the bridging scores from the log: %s" %
      ("the same bits" if not bad else "THEY DIFFER: " + bad[0].get("detail", "")))
PY
if [ "${DEMO_TRUTH:-0}" = 1 ]; then
    step "What the operators could link, pooling their databases (docs/THREAT-MODEL.md, Linkage, measured)"
    python3 tests/privacy/linkage.py "$D" | sed 's/^/  /'
fi
if [ "$AUDIT" = 0 ]; then
    say "  Audit: the log verifies and every rule holds: the count can be trusted."
else
    say "  Audit: VIOLATIONS FOUND (exit $AUDIT); see $D/audit.json"
fi
say "  Finished in $(($(date +%s) - T0)) s."
if [ "${DEMO_KEEP:-0}" = 1 ]; then
    say ""
    say "DEMO_KEEP=1: the servers keep running (state in $D):"
    say "  transparency page: $log_URL/web/"
    say "  log $log_URL  witnesses $w1_URL $w2_URL  issuer $issuer_URL  verifier $verifier_URL"
    say "  log vkey: $LOG_VKEY"
    say "  witnesses (URL and vkey; the file $D/witnesses), quorum 2:"
    sed 's/^/    /' "$D/witnesses"
    say "  issuer admin bearer credential (its \"admin\" line): $BUILD/onevoice-issuer --data $D/issuer --print-credentials"
    say "  a wallet: $BUILD/onevoice --wallet W init --join $log_URL/join --log-vkey $LOG_VKEY"
    say "    (or by hand: init --issuer $issuer_URL --verifier $verifier_URL --log $log_URL --log-vkey $LOG_VKEY$WIT_ARGS --quorum 2 --relay $relay_URL)"
    say "  stop them with: kill$PIDS"
fi
[ "$AUDIT" = 0 ]
