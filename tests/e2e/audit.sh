#!/bin/sh
# onevoice-audit end to end, against real onevoice-log servers (and a witness) on
# 127.0.0.1:0. tests/tools/govsim builds each log through the log's append API, breaking
# exactly one rule per scenario and printing "expect RULE INDEX" for what the auditor must
# find; every scenario must exit 1 and report exactly that rule at exactly those entries, the
# clean log must exit 0 with the right recounts. Then: resumable state (a later run reads only
# what is new, checked two ways), forks and rewritten entries against saved state (both
# checkpoints reported and kept), a tampered bundle, a wrong log key, the witness quorum,
# --follow, and usage errors.
. tests/e2e/lib/simlog.sh # new_log NAME [args...]; every log signs with one key, VK
GS=$BUILD/tools/govsim
AU=$BUILD/onevoice-audit
KEYS=$T/keys # the context keys (RSA-2048): made once, reused by every log

stop_log() { eval "kill \$${1}_PID"; eval "wait \$${1}_PID" 2>/dev/null; }

cat > "$T/chk.py" <<'PY'
import json, sys
class Fail(Exception): pass
def fail(msg): raise Fail(msg)
def run(argv):           # one command: returns what it prints, raises Fail when it fails
    cmd, report = argv[0], json.load(open(argv[1]))
    if cmd == "expect":      # every expected (rule, index) reported, and no other rule
        want = [l.split() for l in open(argv[2]) if l.startswith("expect ")]
        got = {(v["rule"], v["index"]) for v in report["violations"]}
        rules = {w[1] for w in want}
        for _, rule, idx in want:
            if (rule, int(idx)) not in got: fail("missing %s at %s; got %s" % (rule, idx, sorted(got)))
        extra = {r for r, _ in got} - rules
        if extra: fail("other rules reported too: %s" % sorted(extra))
        if not want or report["ok"]: fail("nothing expected, or ok")
    elif cmd in ("counts", "recount"):
        # recount: the recounts equal govsim's counts of the valid actions; counts: also every
        # tally was found right and nothing is wrong
        ctx = {c["id"]: c for c in report["contexts"]}
        for l in open(argv[2]):
            if not l.startswith("count "): continue
            _, c, name, n, s = l.split()
            res = ctx[c]["recount"]["result"]
            got = res.get(name, 0 if ctx[c]["type"] == "assembly" else [0, 0])
            want = int(n) if ctx[c]["type"] == "assembly" else [int(n), int(s)]
            if got != want: fail("%s %s: recount %s, want %s" % (c, name, got, want))
            if cmd == "counts" and (not ctx[c]["tallies"] or not all(t["ok"] for t in ctx[c]["tallies"])):
                fail("%s: tallies %s" % (c, ctx[c]["tallies"]))
        if cmd == "counts" and (not report["ok"] or report["violations"]):
            fail("violations: %s" % report["violations"])
    elif cmd == "rules":     # the set of rules reported
        return " ".join(sorted({v["rule"] for v in report["violations"]}))
    elif cmd == "get":       # a value by a dotted path
        v = report
        for k in argv[2].split("."):
            v = v[int(k)] if isinstance(v, list) else v[k]
        return str(v) if not isinstance(v, bool) else str(v).lower()
    else:
        raise Exception("unknown command %s" % cmd)
    return None
if sys.argv[1] == "batch":
    # batch CMD ARGS... [:: CMD ARGS...]...: several commands in one interpreter, a line for
    # each, in order: "ok" and what it prints, or "fail" and why
    groups = [[]]
    for a in sys.argv[2:]:
        if a == "::": groups.append([])
        else: groups[-1].append(a)
    for g in groups:
        try:
            t = run(g)
            print("ok" if t is None else "ok " + t.replace("\n", " "))
        except Exception as e:
            print("fail", str(e).replace("\n", " "))
else:
    try:
        t = run(sys.argv[1:])
    except Fail as e:
        print(e); sys.exit(1)
    if t is not None: print(t)
PY
J() { python3 "$T/chk.py" "$@"; }
# audit ARGS...: runs the auditor quietly, prints its exit status
audit() { $AU --quiet "$@" >"$T/audit.out" 2>"$T/audit.err"; echo $?; }

# --- 1. a clean log, and one log per broken rule ----------------------------------------
new_log clean
$GS clean "$U" "$T/p.key" sim --keys "$KEYS" --save "$T/clean.entries" > "$T/clean.gs"
check_eq "clean log: exit 0" "$(audit --log "$U" --log-vkey "$VK" --json "$T/clean.json")" 0
check "clean log: recounts equal the tallies and govsim's counts" J counts "$T/clean.json" "$T/clean.gs"
check_eq "clean log: every entry read" "$(J get "$T/clean.json" read.entries)" \
    "$(sed -n 's/^size //p' "$T/clean.gs")"
check_eq "clean log: no state kept without --state" "$(J get "$T/clean.json" state)" None
check "the summary says so" sh -c "$AU --log $U --log-vkey '$VK' | grep -q '^result: no violation'"
# the statement round (contexts.3): its tally's results recomputed from the log, and equal
check_eq "clean log: the statement round's results recomputed, seeded with the tree's root" \
    "$(J get "$T/clean.json" contexts.3.tallies.0.results.ok) $(J get "$T/clean.json" contexts.3.tallies.0.results.seed_verified)" "true true"
check_eq "clean log: 8 statements, 232 ratings counted" \
    "$(J get "$T/clean.json" contexts.3.tallies.0.results.statements) $(J get "$T/clean.json" contexts.3.tallies.0.results.ratings)" "8 232"
check_eq "clean log: the 4 common-ground statements helpful, the two camps found" \
    "$(python3 -c "import json,sys; r=json.load(open(sys.argv[1]))['contexts'][3]['tallies'][0]['results']; print(len(r['helpful']), sorted(r['sizes']))" "$T/clean.json")" "4 [15, 15]"
check_eq "clean log, signatures checked inline (--threads 0)" \
    "$(audit --log "$U" --log-vkey "$VK" --threads 0)" 0
# key ids in base64url without padding, as every other tool prints them: each context's
# token_key_id is the 32 bytes its logged entry holds (vtool dump: the entries' CBOR)
$BUILD/tools/vtool dump "$U" "$VK" > "$T/clean.dump" 2>/dev/null
check_eq "clean log: token_key_id in base64url, unpadded, the logged one" "$(python3 -c '
import base64, json, sys
r = json.load(open(sys.argv[1]))
e = {l["index"]: bytes.fromhex(l["entry"]) for l in map(json.loads, open(sys.argv[2]))}
k = b"\x6ctoken_key_id\x58\x20"
for c in r["contexts"]:
    b = e[c["index"]]; i = b.index(k) + len(k)
    want = base64.urlsafe_b64encode(b[i:i + 32]).decode().rstrip("=")
    print("ok" if c["token_key_id"] == want else "%s %s, want %s" % (c["id"], c["token_key_id"], want))
' "$T/clean.json" "$T/clean.dump" | sort | uniq -c | sed 's/^ *//')" "$(J get "$T/clean.json" entries.context) ok"
stop_log clean

# admission in any order (docs/PROTOCOL.md §3): ratings and a statement logged before the
# action whose token admits their pseudonym count, in one run or across two (the state keeps
# what waits for its admission; until then it stands as unknown_pseudonym)
new_log late
$GS late-admission "$U" "$T/p.key" sim --keys "$KEYS" --save "$T/late.entries" > "$T/late.gs"
check_eq "late admission: exit 0" "$(audit --log "$U" --log-vkey "$VK" --json "$T/late.json")" 0
check "late admission: recounts equal the tallies and govsim's counts" J counts "$T/late.json" "$T/late.gs"
stop_log late
new_log late2
SPLIT=$(sed -n 's/^split //p' "$T/late.gs")
$GS replay "$U" "$T/p.key" sim "$T/late.entries" --upto "$SPLIT" > /dev/null
check_eq "late admission, a run that ends before it: standing unknown_pseudonym at the rating" \
    "$(audit --log "$U" --log-vkey "$VK" --state "$T/st-late" --json "$T/late1.json"; J rules "$T/late1.json"; J get "$T/late1.json" violations.0.index)" \
    "1
unknown_pseudonym
$((SPLIT - 1))"
$GS replay "$U" "$T/p.key" sim "$T/late.entries" > /dev/null
check_eq "late admission, the next run reads it: exit 0" \
    "$(audit --log "$U" --log-vkey "$VK" --state "$T/st-late" --json "$T/late2.json")" 0
check "late admission across runs: recounts equal the tallies" J counts "$T/late2.json" "$T/late.gs"
stop_log late2

# epochs (docs/PROTOCOL.md §3.1): a ballot logged before the issuance of its token, which the
# issuer held for its epoch. Tokens are judged against issuances from the tally on, so a run
# that ends between the two reports nothing (before epochs: a standing tokens_exceed_issuances)
new_log held
$GS held-issuance "$U" "$T/p.key" sim --keys "$KEYS" --save "$T/held.entries" > "$T/held.gs"
check_eq "held issuance: exit 0" "$(audit --log "$U" --log-vkey "$VK" --json "$T/held.json")" 0
check "held issuance: recounts equal the tallies and govsim's counts" J counts "$T/held.json" "$T/held.gs"
stop_log held
new_log held2
SPLIT=$(sed -n 's/^split //p' "$T/held.gs")
$GS replay "$U" "$T/p.key" sim "$T/held.entries" --upto "$SPLIT" > /dev/null
check_eq "held issuance, a run that ends before it: no finding" \
    "$(audit --log "$U" --log-vkey "$VK" --state "$T/st-held" --json "$T/held1.json")" 0
check_eq "held issuance, that run: one token more than the issuances it read" \
    "$(J get "$T/held1.json" contexts.0.tokens)" "$(($(J get "$T/held1.json" contexts.0.issuances) + 1))"
$GS replay "$U" "$T/p.key" sim "$T/held.entries" > /dev/null
check_eq "held issuance, the next run reads it and the tallies: exit 0" \
    "$(audit --log "$U" --log-vkey "$VK" --state "$T/st-held" --json "$T/held2.json")" 0
stop_log held2

for sc in forged-token double-count altered-action over-quota key-swapped key-missing \
          outside-window wrong-tally context-after-action double-rating tokens-exceed-issuances \
          nonce-binding unknown-pseudonym invalid-choice wrong-challenge missing-token \
          context-duplicate malformed repeated-serial invented-enrollee action-after-tally \
          tally-short missing-tally forged-admission uninvited-enrollment \
          statement-over-quota duplicate-statement own-statement-rating \
          unknown-statement-rating tampered-bridging tampered-helpful wrong-seed \
          tally-without-results missing-results-file late-admission-invalid; do
    new_log "s_$(echo "$sc" | tr - _)"
    if ! $GS "$sc" "$U" "$T/p.key" sim --keys "$KEYS" > "$T/$sc.gs" 2>"$T/$sc.err"; then
        fail "$sc: govsim: $(cat "$T/$sc.err")"; continue
    fi
    st=$(audit --log "$U" --log-vkey "$VK" --json "$T/$sc.json" --state "$T/st-$sc")
    check_eq "$sc: exit 1" "$st" 1
    case $sc in
    action-after-tally|tally-short)
        check_eq "$sc: the assembly's tally is not marked as agreeing" \
            "$(J get "$T/$sc.json" contexts.0.tallies.0.ok)" false ;;
    forged-token)
        check_eq "forged-token: a token that fails admits no one" "$(J get "$T/$sc.json" contexts.0.tokens)" 5 ;;
    forged-admission)
        check_eq "forged-admission: a token that fails admits no one" "$(J get "$T/$sc.json" contexts.1.tokens)" 5 ;;
    missing-tally)
        check_eq "missing-tally: within a longer grace period, nothing is missing" \
            "$(audit --log "$U" --log-vkey "$VK" --tally-grace 100000)" 0 ;;
    esac
    # the state keeps them: a later run that reads nothing new reports them again
    st2=$(audit --log "$U" --log-vkey "$VK" --json "$T/$sc.again.json" --state "$T/st-$sc")
    # the checks of both reports in one python3 (a line each: "ok [VALUE]" or "fail WHY")
    J batch expect "$T/$sc.json" "$T/$sc.gs" \
        :: recount "$T/$sc.json" "$T/$sc.gs" \
        :: get "$T/$sc.again.json" read.entries \
        :: expect "$T/$sc.again.json" "$T/$sc.gs" > "$T/$sc.chk"
    chk() { sed -n "$1p" "$T/$sc.chk"; }
    if [ "$(chk 1)" = ok ]; then ok; else fail "$sc: $(chk 1)"; fi
    # the recount counts the valid actions only, whatever the published tallies say
    if [ "$(chk 2)" = ok ]; then ok; else fail "$sc: $(chk 2)"; fi
    check_eq "$sc: still exit 1 when nothing is new" "$st2/$(chk 3)" "1/ok 0"
    if [ "$(chk 4)" = ok ]; then ok; else fail "$sc (again): $(chk 4)"; fi
    stop_log "s_$(echo "$sc" | tr - _)"
done

# --- 2. resumable state: a later run reads only what is new -----------------------------
new_log a
$GS clean "$U" "$T/p.key" sim --keys "$KEYS" --save "$T/a.entries" > "$T/a1.gs"
N1=$(sed -n 's/^size //p' "$T/a1.gs")
check_eq "state: first run" "$(audit --log "$U" --log-vkey "$VK" --state "$T/s1" --json "$T/s1a.json")" 0
check_eq "state: first run read everything" "$(J get "$T/s1a.json" read.entries)" "$N1"
cp -r "$T/s1" "$T/s2"; cp -r "$T/s1" "$T/s3"; cp -r "$T/s1" "$T/s5" # the state after N1 entries, for the forks below
# with a second statement round: tile 1 fills, so the partial tile the first run ended in is
# gone (the reader uses the full one), and the round's seed comes from the tree kept
$GS clean "$U" "$T/p.key" sim --keys "$KEYS" --prefix b > "$T/a2.gs"
N2=$(sed -n 's/^size //p' "$T/a2.gs")
check_eq "state: second run" "$(audit --log "$U" --log-vkey "$VK" --state "$T/s1" --json "$T/s1b.json")" 0
check_eq "state: the second run starts where the first stopped" "$(J get "$T/s1b.json" read.from)" "$N1"
check_eq "state: and reads only the new entries" "$(J get "$T/s1b.json" read.entries)" $((N2 - N1))
check_eq "state: contexts of both runs recounted" "$(J get "$T/s1b.json" contexts.6.id)" b-other
check_eq "state: the first run's statement round, its seed checked" \
    "$(J get "$T/s1b.json" contexts.3.tallies.0.results.seed_verified)" true
check_eq "state: the second run's, its seed from the tree kept in the state" \
    "$(J get "$T/s1b.json" contexts.7.id) $(J get "$T/s1b.json" contexts.7.tallies.0.results.seed_verified)" \
    "b-statements true"
check "state: every checkpoint kept as evidence" test -s "$T/s1/checkpoints/$N1-$(J get "$T/s1a.json" checkpoint.root | base64 -d | od -An -tx1 | tr -d ' \n').txt"
check_eq "state: nothing new, nothing read" "$(audit --log "$U" --log-vkey "$VK" --state "$T/s1" --json "$T/s1c.json"; J get "$T/s1c.json" read.entries)" "0
0"
# Second proof that old entries are not fetched again: corrupt entry 3 in the log's own
# database. The resumed run does not notice (it reads only entries >= N2); a fresh run does.
stop_log a
python3 - "$T/a/log.db" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
row = db.execute("SELECT data FROM bundles WHERE n = 0").fetchone()
if row is not None:                # a full bundle: its own row
    b, off = bytearray(row[0]), 0
    for i in range(3):
        off += 2 + int.from_bytes(b[off:off + 2], "big")
    ln = int.from_bytes(b[off:off + 2], "big")
    b[off + 2 + ln - 1] ^= 1       # the last byte of entry 3
    db.execute("UPDATE bundles SET data = ? WHERE n = 0", (bytes(b),))
else:                              # a partial bundle is served from the leaves
    d = bytearray(db.execute("SELECT data FROM leaves WHERE idx = 3").fetchone()[0])
    d[-1] ^= 1
    db.execute("UPDATE leaves SET data = ? WHERE idx = 3", (bytes(d),))
db.commit()
PY
new_log a
check_eq "tampered old entry: the resumed run reads nothing old" \
    "$(audit --log "$U" --log-vkey "$VK" --state "$T/s1" --json "$T/s1d.json"; J get "$T/s1d.json" read.entries)" "0
0"
check_eq "tampered old entry: a fresh run finds it" \
    "$(audit --log "$U" --log-vkey "$VK" --json "$T/tamper.json"; J rules "$T/tamper.json")" "1
tree_mismatch"
check_eq "a bundle that no longer matches the tree: nothing kept" "$(J get "$T/tamper.json" read.entries)" 0
check_eq "a bundle that no longer matches the tree: the report says it was not verified" \
    "$(J get "$T/tamper.json" read.verified)" false
check "and so does the summary" sh -c "$AU --log $U --log-vkey '$VK' | grep -q 'could NOT be verified'"
stop_log a

# --- 3. forks: same key, another history --------------------------------------------------
# B: the entries of A's first N1, the last one (the statement round's tally) rewritten (its
# time moved: still valid by every rule, so only the saved state can tell; an entry below
# that tally would change the root its seed pins)
new_log b
check_eq "rewritten log of the same size" "$($GS replay "$U" "$T/p.key" sim "$T/a.entries" --alter $((N1 - 1)))" "size $N1"
check_eq "rewritten log alone looks clean" "$(audit --log "$U" --log-vkey "$VK")" 0
check_eq "rewritten entry against saved state: exit 1" \
    "$(audit --log "$U" --log-vkey "$VK" --state "$T/s2" --json "$T/fork1.json")" 1
check_eq "rewritten entry: reported as a fork" "$(J rules "$T/fork1.json")" fork
check_eq "fork: the saved checkpoint" "$(J get "$T/fork1.json" forks.0.saved.size)" "$N1"
check_eq "fork: the new checkpoint" "$(J get "$T/fork1.json" forks.0.new_checkpoint.size)" "$N1"
check "fork: both checkpoints kept as evidence files" sh -c \
    "test -s \"\$(python3 $T/chk.py get $T/fork1.json forks.0.saved.file)\" && test -s \"\$(python3 $T/chk.py get $T/fork1.json forks.0.new_checkpoint.file)\""
check "fork: two different checkpoints of that size in the evidence folder" sh -c \
    "ls $T/s2/checkpoints | grep -c '^$N1-' | grep -qx 2"
check_eq "fork: a later run still reports it" "$(audit --log "$U" --log-vkey "$VK" --state "$T/s2")" 1
# a checkpoint short of its witness quorum is signed by the log all the same: evidence
$BUILD/onevoice-witness --data "$T/wq" --name wq.example/witness --print-vkey > "$T/wq.vkey"
check_eq "fork served without its witness quorum: exit 1" \
    "$(audit --log "$U" --log-vkey "$VK" --witnesses "$T/wq.vkey" --quorum 1 --state "$T/s5" --json "$T/fork3.json")" 1
check_eq "fork without quorum: reported as a fork, and the quorum missing" "$(J rules "$T/fork3.json")" "fork witness_quorum"
check "fork without quorum: both checkpoints kept as evidence files" sh -c \
    "test -s \"\$(python3 $T/chk.py get $T/fork3.json forks.0.saved.file)\" && test -s \"\$(python3 $T/chk.py get $T/fork3.json forks.0.new_checkpoint.file)\""
# checkpoints others saw (A's, as its auditor kept them): a fresh auditor of B finds the fork
check_eq "checkpoints given by another auditor, of another history: exit 1" \
    "$(audit --log "$U" --log-vkey "$VK" --checkpoints "$T/s1/checkpoints" --json "$T/gossip1.json")" 1
check_eq "given checkpoints: a fork" "$(J rules "$T/gossip1.json")" fork
check_eq "given checkpoints: every file checked" "$(J get "$T/gossip1.json" given.read)" \
    "$(ls "$T/s1/checkpoints" | wc -l)"
stop_log b
# C: the same rewrite, then grown: a consistency proof from N1 cannot exist
new_log c
$GS replay "$U" "$T/p.key" sim "$T/a.entries" --alter $((N1 - 1)) > /dev/null
# grown with entries that break rules: the run reads them, then finds the fork and rolls
# back what it read, so they are neither stored nor counted as found by this run
$GS forged-token "$U" "$T/p.key" sim --keys "$KEYS" --prefix c > "$T/c.gs"
$AU --log "$U" --log-vkey "$VK" --state "$T/s3" --json "$T/fork2.json" > "$T/fork2.out" 2>&1
check_eq "forked and grown log against saved state: exit 1" "$?" 1
check_eq "forked and grown: a fork" "$(J rules "$T/fork2.json")" fork
check "forked and grown: the summary counts only the fork as found by this run" \
    grep -qx 'violations: 1 (1 new in this run)' "$T/fork2.out"
check_eq "forked and grown: sizes" "$(J get "$T/fork2.json" forks.0.saved.size) $(J get "$T/fork2.json" forks.0.new_checkpoint.size)" \
    "$N1 $(sed -n 's/^size //p' "$T/c.gs")"
check "forked and grown: the consistency proof was checked" sh -c "grep -q 'consistency proof' $T/fork2.json"
check_eq "a state follows one log only" "$(audit --log "$U" --log-vkey "other.example/log+01020304+AXQr6y9P3cEOS3SpM4lNqIyFzNzbSlmjTzCw7s9nL3k=" --state "$T/s3")" 2
stop_log c

# --- 4. keys and witnesses ---------------------------------------------------------------
$BUILD/onevoice-log --data "$T/otherkey" --origin sim.example/log --print-vkey > "$T/vkey2"
$BUILD/onevoice-witness --data "$T/w1" --name w1.example/witness --print-vkey > "$T/w1.vkey"
$BUILD/onevoice-witness --data "$T/w2" --name w2.example/witness --print-vkey > "$T/w2.vkey"
echo "sim.example/log $VK" > "$T/wlogs"
start_server w1 W1PORT $BUILD/onevoice-witness --data "$T/w1" --logs "$T/wlogs"
echo "http://127.0.0.1:$W1PORT $(cat "$T/w1.vkey")" > "$T/logwitnesses"
new_log d --witnesses "$T/logwitnesses" --quorum 1
$GS clean "$U" "$T/p.key" sim --keys "$KEYS" > /dev/null
check_eq "wrong log key: exit 1" "$(audit --log "$U" --log-vkey "$(cat "$T/vkey2")" --json "$T/wk.json")" 1
check_eq "wrong log key: checkpoint_signature" "$(J rules "$T/wk.json")" checkpoint_signature
cp "$T/w1.vkey" "$T/trust1"
check_eq "witness quorum met" "$(audit --log "$U" --log-vkey "$VK" --witnesses "$T/trust1" --quorum 1 --json "$T/wq.json")" 0
check_eq "witness cosignature counted" "$(J get "$T/wq.json" checkpoint.cosignatures)" 1
check_eq "the log's witness file works as well" "$(audit --log "$U" --log-vkey "$VK" --witnesses "$T/logwitnesses")" 0
cp "$T/w2.vkey" "$T/trust2"
check_eq "a witness that never cosigned: exit 1" "$(audit --log "$U" --log-vkey "$VK" --witnesses "$T/trust2" --quorum 1 --json "$T/wq2.json")" 1
check_eq "missing quorum: witness_quorum" "$(J rules "$T/wq2.json")" witness_quorum
cat "$T/w1.vkey" "$T/w2.vkey" > "$T/trust12"
check_eq "quorum 2 of 2 with one cosignature: exit 1" "$(audit --log "$U" --log-vkey "$VK" --witnesses "$T/trust12" --json "$T/wq3.json")" 1
check_eq "quorum 1 of 2: exit 0" "$(audit --log "$U" --log-vkey "$VK" --witnesses "$T/trust12" --quorum 1)" 0
check "missing quorum: the summary does not claim a verified tree" sh -c \
    "$AU --log $U --log-vkey '$VK' --witnesses $T/trust2 --quorum 1 | grep -q 'could NOT be verified'"
# the witnesses' time is the auditor's clock for missing tallies
check "the witnesses' cosignature time is the clock" python3 -c "
import json, time; c = json.load(open('$T/wq.json'))['clock']
assert abs(c['witnesses'] - time.time()) < 600, c"
# publishing and gossip: what one auditor verified, another checks
check_eq "publish the latest checkpoint" \
    "$(audit --log "$U" --log-vkey "$VK" --state "$T/s6" --publish "$T/pub.txt" --json "$T/pub.json")" 0
check_eq "the published checkpoint is the one verified" "$(sed -n 2p "$T/pub.txt")" "$(J get "$T/pub.json" checkpoint.size)"
printf 'not a checkpoint\n' > "$T/s6/checkpoints/junk.txt"
check_eq "checkpoints of the same history, given: exit 0" \
    "$(audit --log "$U" --log-vkey "$VK" --checkpoints "$T/s6/checkpoints" --json "$T/g2.json")" 0
check_eq "given: the junk file ignored, the others checked" \
    "$(J get "$T/g2.json" given.ignored) $(J get "$T/g2.json" given.read)" "1 $(($(ls "$T/s6/checkpoints" | wc -l) - 1))"
check_eq "a published checkpoint, given: exit 0" \
    "$(audit --log "$U" --log-vkey "$VK" --checkpoints "$T/pub.txt")" 0
OH=$(printf %s sim.example/log | sha256sum | cut -d' ' -f1)
check_eq "the witness's latest cosigned checkpoint, given by URL: checked" \
    "$(audit --log "$U" --log-vkey "$VK" --witnesses "$T/trust1" --checkpoints "http://127.0.0.1:$W1PORT/$OH/checkpoint" --json "$T/g4.json"; J get "$T/g4.json" given.read)" "0
1"
check_eq "another history's checkpoints, given: a fork" \
    "$(audit --log "$U" --log-vkey "$VK" --checkpoints "$T/s1/checkpoints" --json "$T/g3.json"; J rules "$T/g3.json")" "1
fork"

# --- 5. --follow ----------------------------------------------------------------------------
$AU --log "$U" --log-vkey "$VK" --witnesses "$T/trust1" --state "$T/s4" --follow \
    --interval-ms 50 --json "$T/follow.json" > "$T/follow.out" 2>"$T/follow.err" &
FPID=$!
E2E_PIDS="$E2E_PIDS $FPID"
i=0; while [ "$(grep -c '^checkpoint' "$T/follow.out")" -lt 1 ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
$GS clean "$U" "$T/p.key" sim --keys "$KEYS" --prefix f > "$T/f.gs"
NF=$(sed -n 's/^size //p' "$T/f.gs")
i=0; while ! grep -q "^checkpoint $NF " "$T/follow.out" && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
kill -TERM $FPID; wait $FPID; FST=$?
check "follow: one line per new checkpoint, the first and the grown log's" sh -c \
    "test \$(grep -c '^checkpoint' $T/follow.out) -ge 2 && grep -q '^checkpoint $NF ' $T/follow.out"
check_eq "follow: stops cleanly on SIGTERM, exit 0" "$FST" 0
check_eq "follow: the report covers the whole log" "$(J get "$T/follow.json" read.to)" "$NF"
check "follow: the summary at exit" grep -q '^result: no violation' "$T/follow.out"
stop_log d

# --- 6. usage and I/O errors ---------------------------------------------------------------
check_eq "no arguments: exit 2" "$(audit)" 2
check "--help lists every option" sh -c "$AU --help | grep -q -- --follow && $AU --help | grep -q -- --interval-ms && $AU --help | grep -q -- --threads"
check_eq "--help: exit 0" "$($AU --help >/dev/null; echo $?)" 0
check_eq "bad vkey: exit 2" "$(audit --log "$U" --log-vkey nonsense)" 2
check_eq "unknown option: exit 2" "$(audit --log "$U" --log-vkey "$VK" --frobnicate)" 2
check_eq "quorum above the witnesses: exit 2" "$(audit --log "$U" --log-vkey "$VK" --quorum 3)" 2
echo "not a key" > "$T/badw"
check_eq "bad witness file: exit 2" "$(audit --log "$U" --log-vkey "$VK" --witnesses "$T/badw")" 2
check_eq "unreachable log: exit 2" "$(audit --log http://127.0.0.1:1 --log-vkey "$VK")" 2
summary
