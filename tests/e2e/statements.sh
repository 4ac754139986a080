#!/bin/sh
# A statement round end to end (docs/PROTOCOL.md §11.3): a real witness, log and verifier on
# loopback, tests/tools/vtool as the stand-in issuer and as 40 participants in two camps who
# write 8 statements and rate each other's. Every refusal of a statement round; a kill -9
# after the statements and a start from an empty database (--init) that adopts them from
# the log; GET /contexts/<id>/statements; provisional results in GET /tallies/<id>; after
# the close, the tally entry in the log, whose bridging and groups hashes are recomputed
# independently: the input built here from the log's entries (ids with hashlib, the §11.3
# mapping, the seed as the log's root at the tally's size computed here from the entries)
# and run through the Python references of §11.1 and §11.2 (tests/e2e/lib/*_ref.py). The
# result bytes on the log (GET /files/<the tally's hash>), read with the §11.1 and §11.2
# layouts: the log starts with --max-file-bytes 1, so at the close the uploads are refused
# and the tally waits; a kill -9 of the verifier there, the log restarted to take files, and
# the restarted verifier uploads both and writes one tally.
. tests/e2e/lib/common.sh
VT=$BUILD/tools/vtool

# --- the parts: the log starts refusing files (its results wait at the close, below) -------
ORIGIN=e2e.example/statements
LOG_EXTRA="--max-file-bytes 1"
VER_EXTRA="--min-ratings-per-rater 4 --min-raters-per-note 8"
. tests/e2e/lib/verifier_env.sh

# the round closes CLOSE_S from now: room for what comes before it, under ASan too
CLOSE_S=${CLOSE_S:-20}
ctx() { $VT context "$L" "$T/issuer.key" "$T" "$@" >/dev/null || fail "context $1"; }
ctx round --type rating --rating-kind helpfulness --statements 1 --closes +"$CLOSE_S"
CLOSES=$(($(date +%s) + CLOSE_S))
ctx plain --type rating --scale 1,5
ctx town --choices yes,no
$VT mint "$T" round 42 "$T/round.tok" && $VT mint "$T" plain 1 "$T/plain.tok" &&
    $VT mint "$T" town 1 "$T/town.tok" || fail "mint"
n_contexts() { curl -s "$V/contexts" | grep -o '"id"' | wc -l; }
i=0
until [ "$(n_contexts)" -ge 3 ] || [ $i -gt 100 ]; do sleep 0.05; i=$((i + 1)); done
check_eq "GET /contexts names the round's kind and statements" \
    "$(curl -s "$V/contexts" | python3 -c 'import json,sys
c = {x["id"]: x for x in json.load(sys.stdin)}
print(c["round"]["rating_kind"], c["round"]["statements"], c["round"]["scale"], "rating_kind" in c["plain"])')" \
    "helpfulness 1 [0, 2] False"

act() { $VT act "$V" "$T" "$@" 2>/dev/null; }
field() { echo "$1" | cut -d' ' -f"$2"; }
sid() { python3 -c 'import hashlib,sys
print(hashlib.sha256(b"onevoice/v1/statement\0" + sys.argv[1].encode() + b"\0" + sys.argv[2].encode()).digest()[:16].hex())' round "$1"; }

# --- 8 statements: two camps' own (A 0-19, B 20-39) and four that bridge them ---------------------
# author:text (the text says whose camp it speaks for)
STATEMENTS="0:A-parks-first 1:A-close-the-road 20:B-parking-first 21:B-keep-the-road
2:bridge-trees-on-both-sides 22:bridge-open-budget-meetings 3:bridge-safe-crossings
23:bridge-repair-before-building"
for s in $STATEMENTS; do
    R=$(act round "$T/round.tok" "${s%%:*}" --text "${s#*:}")
    check_eq "statement ${s#*:} is counted" "$(field "$R" 1)" 200
    [ "${s%%:*}" = 0 ] && R0=$R
done
check_eq "the same statement again by its author: the same receipt" \
    "$(act round "$T/round.tok" 0 --text A-parks-first | cut -d' ' -f1,3)" \
    "$(field "$R0" 1) $(field "$R0" 3)"
check_eq "a second statement over the context's 1" \
    "$(act round "$T/round.tok" 0 --text A-another)" "409 statement_quota"
check_eq "another pseudonym's statement with the same text" \
    "$(act round "$T/round.tok" 5 --text B-keep-the-road)" "409 duplicate_statement"
check_eq "a statement in a rating round without rating_kind" \
    "$(act plain "$T/plain.tok" 0 --text hello)" "400 invalid_action"
check_eq "a statement in an assembly" "$(act town "$T/town.tok" 0 --text hello)" \
    "400 invalid_action"
check_eq "a statement by a pseudonym never admitted, without its token" \
    "$(act round "$T/round.tok" 6 --text hello --no-token)" "403 unknown_pseudonym"
check_eq "a statement in a batch: its line's answer" \
    "$($VT batch "$V" "$T" round "$T/round.tok" 0:s=A-parks-first 5:s=A-parks-first 2>/dev/null | sed -E 's/^200 (logged|proven).*/200/' | tr '\n' ' ')" \
    "200 409 duplicate_statement "

# --- kill -9, then an empty database (--init): the statements adopted from the log ----------------
kill -9 "$ver_PID"; wait "$ver_PID" 2>/dev/null
rm -f "$T/v/verifier.db" "$T/v/verifier.db-wal" "$T/v/verifier.db-shm"
start_server ver VPORT $BUILD/onevoice-verifier $VARGS --init
V=http://127.0.0.1:$VPORT
check_eq "after kill -9 and --init: the same statement, the same receipt (adopted)" \
    "$(act round "$T/round.tok" 0 --text A-parks-first | cut -d' ' -f1,3)" \
    "$(field "$R0" 1) $(field "$R0" 3)"
check_eq "after --init: the quota still counts the adopted statement" \
    "$(act round "$T/round.tok" 0 --text A-another)" "409 statement_quota"
check_eq "after --init: the text is still taken" \
    "$(act round "$T/round.tok" 5 --text B-keep-the-road)" "409 duplicate_statement"
check "the verifier said it adopted them" grep -q 'adopted, so no token' "$T/ver.log"

# --- ratings -------------------------------------------------------------------------------------
A1=$(sid A-parks-first)
check_eq "a rating of the rater's own statement" \
    "$(act round "$T/round.tok" 0 --target "$A1" --rating 2)" "403 own_statement"
check_eq "a rating of no statement of the round" \
    "$(act round "$T/round.tok" 7 --target "$(printf '%032d' 0)" --rating 2)" "404 unknown_statement"
check_eq "a rating off the kind's scale" \
    "$(act round "$T/round.tok" 7 --target "$A1" --rating 3)" "400 invalid_action"
# every participant rates every statement but their own: their camp's 2, the other camp's 0,
# a bridging one 2; one rating in seven is 1 (somewhat), so the scores are not all alike
python3 - "$STATEMENTS" > "$T/ratings" <<'EOF'
import hashlib, sys
def sid(t): return hashlib.sha256(b"onevoice/v1/statement\0round\0" + t.encode()).digest()[:16].hex()
st = [(int(s.split(":")[0]), s.split(":")[1]) for s in sys.argv[1].split()]
lines = []
for p in range(40):
    camp = "A" if p < 20 else "B"
    for s, (author, text) in enumerate(st):
        if author == p:
            continue
        if (p * 13 + s * 5) % 7 == 0:
            v = 1
        elif text.startswith("bridge"):
            v = 2
        else:
            v = 2 if text.startswith(camp) else 0
        lines.append("%d:r=%s=%d" % (p, sid(text), v))
print(len(lines))
for i in range(0, len(lines), 200):
    print(" ".join(lines[i:i + 200]))
EOF
NR=$(head -1 "$T/ratings")
OK=0
for b in $(seq 2 "$(wc -l < "$T/ratings")"); do
    # shellcheck disable=SC2046
    n=$($VT batch "$V" "$T" round "$T/round.tok" $(sed -n "${b}p" "$T/ratings") 2>/dev/null | grep -c '^200 ')
    OK=$((OK + n))
done
check_eq "the $NR ratings are counted (two batches)" "$OK" "$NR"
check_eq "a second rating of the same statement" \
    "$(act round "$T/round.tok" 7 --target "$A1" --rating 0)" "409 already_rated"

# --- GET /contexts/<id>/statements, provisional results --------------------------------------------
counted() { curl -s "$V/tallies" | python3 -c 'import json,sys
t = [x for x in json.load(sys.stdin) if x["context"] == "round"][0]
print(sum(v[0] for v in t["result"].values()), "bridging" in t)'; }
i=0
until [ "$(counted)" = "$NR False" ] || [ $i -gt 100 ]; do sleep 0.05; i=$((i + 1)); done
check_eq "GET /tallies counts every rating (without the results)" "$(counted)" "$NR False"
check_eq "GET /contexts/round/statements: the 8, sorted by id, with their texts" \
    "$(curl -s "$V/contexts/round/statements" | python3 -c 'import json,sys,hashlib
s = json.load(sys.stdin)
ids = [x["id"] for x in s]
ok = all(x["id"] == hashlib.sha256(b"onevoice/v1/statement\0round\0" + x["text"].encode()).digest()[:16].hex() and x["time"] > 0 for x in s)
print(len(s), ids == sorted(ids), ok)')" "8 True True"
check_eq "GET /contexts/<id>/statements: [] for a context without statements" \
    "$(curl -s "$V/contexts/plain/statements")" "[]"
check_eq "GET /contexts/<id>/statements: an unknown context" \
    "$(http_status GET "$V/contexts/nowhere/statements")" 404
BRIDGES=$(for t in bridge-trees-on-both-sides bridge-open-budget-meetings bridge-safe-crossings \
    bridge-repair-before-building; do sid $t; done | sort | tr '\n' ' ')
curl -s "$V/tallies/round" > "$T/prov.json"
check_eq "provisional results: 8 statements, the 4 bridging ones helpful, two groups of 20" \
    "$(python3 -c 'import json,sys
t = json.load(open(sys.argv[1]))
b, g = t["bridging"], t["groups"]
print(t["final"], len(b["statements"]), " ".join(sorted(x["id"] for x in b["statements"] if x["status"] == "helpful")),
      b["min_ratings_per_rater"], b["min_raters_per_note"], g["k"], sorted(g["sizes"]), len(t["seed"]))' "$T/prov.json")" \
    "False 8 ${BRIDGES% } 4 8 2 [20, 20] 64"
curl -s "$V/tallies/round" > "$T/prov1.json" & curl -s "$V/tallies/round" > "$T/prov2.json"
wait $!
check "two concurrent GET /tallies/round: the same bytes, as the first (nothing counted since)" \
    sh -c "cmp '$T/prov1.json' '$T/prov2.json' && cmp '$T/prov.json' '$T/prov1.json'"
check "metrics: statements counted" sh -c "curl -s $V/metrics | grep -q '^verifier_statements_counted_total '"

# --- the close: the uploads refused, no tally; kill -9 there, the restart writes it ----------------
while [ "$(date +%s)" -lt "$CLOSES" ]; do sleep 0.2; done
final() { curl -s "$V/tallies/round" | python3 -c 'import json,sys; print(json.load(sys.stdin)["final"])'; }
i=0
until grep -q 'bridging result to the log: body_too_large.*tally waits' "$T/ver.log" ||
    [ $i -gt 150 ]; do sleep 0.1; i=$((i + 1)); done
check "the log refuses the result bytes (--max-file-bytes 1): the verifier says why" \
    grep -q 'body_too_large (HTTP 413): the file is 1232 bytes.*raise it' "$T/ver.log"
sleep 0.5 # a few retries
check_eq "while the uploads are refused, no tally is written" "$(final)" False
ntallies() { $VT dump "$L" "$VK" 2>/dev/null | python3 -c 'import json,sys
print(sum(1 for l in sys.stdin if json.loads(l).get("kind") == "tally" and json.loads(l)["context"] == "round"))'; }
check_eq "nor is it in the log" "$(ntallies)" 0
kill -9 "$ver_PID"; wait "$ver_PID" 2>/dev/null
kill "$log_PID"; wait "$log_PID" 2>/dev/null
start_server log LPORT $BUILD/onevoice-log $LARGS --listen "127.0.0.1:$LPORT"
start_server ver VPORT $BUILD/onevoice-verifier $VARGS
V=http://127.0.0.1:$VPORT
i=0
until [ "$(final)" = True ] || [ $i -gt 150 ]; do sleep 0.1; i=$((i + 1)); done
check_eq "the round's tally is written" "$(final)" True
curl -s "$V/tallies/round" > "$T/final.json"
i=0
until $VT dump "$L" "$VK" > "$T/dump" 2>/dev/null &&
    grep -q '"kind":"tally"' "$T/dump" || [ $i -gt 100 ]; do sleep 0.1; i=$((i + 1)); done
check "the tally entry is in the log" grep -q '"kind":"tally"' "$T/dump"
# recompute.py DUMP CONTEXT OUT: the input of both references from the log's entries alone
cat > "$T/recompute.py" <<'EOF'
import hashlib, json, sys
dump, ctx, out = sys.argv[1], sys.argv[2], sys.argv[3]
entries = [json.loads(l) for l in open(dump)]
tally = [e for e in entries if e.get("kind") == "tally" and e["context"] == ctx][0]
size = tally["size"]
def mth(leaves):  # RFC 9162 §2.1.1
    if len(leaves) == 1: return leaves[0]
    k = 1
    while k * 2 < len(leaves): k *= 2
    return hashlib.sha256(b"\x01" + mth(leaves[:k]) + mth(leaves[k:])).digest()
leaves = [hashlib.sha256(b"\x00" + bytes.fromhex(e["entry"])).digest() for e in entries[:size]]
seed = mth(leaves)
quota = [e for e in entries if e.get("kind") == "context" and e["id"] == ctx][0]["statements"]
mine = [e for e in entries[:size] if e.get("context") == ctx and e.get("kind") in ("statement", "action")]
admitted = {e["pseudonym"] for e in mine if e["token"]}
author, per = {}, {}
for e in mine:  # statements, in log order (§11.3 "What the tally counts")
    if e["kind"] != "statement" or e["pseudonym"] not in admitted: continue
    i = hashlib.sha256(b"onevoice/v1/statement\0" + ctx.encode() + b"\0" + e["text"].encode()).digest()[:16].hex()
    if i in author or per.get(e["pseudonym"], 0) >= quota or len(author) >= 512: continue
    author[i] = e["pseudonym"]; per[e["pseudonym"]] = per.get(e["pseudonym"], 0) + 1
ratings, result = {}, {}
for e in mine:
    if e["kind"] != "action" or e["pseudonym"] not in admitted: continue
    k = (e["pseudonym"], e["target"])
    if k in ratings or author.get(e["target"]) in (None, e["pseudonym"]): continue
    ratings[k] = e["rating"]
    c = result.setdefault(e["target"], [0, 0]); c[0] += 1; c[1] += e["rating"]
notes = sorted(author)
raters = sorted({p for p, _ in ratings}, key=bytes.fromhex)
ni = {n: i for i, n in enumerate(notes)}; ri = {p: i for i, p in enumerate(raters)}
b = tally["bridging"]
with open(out + ".bridging", "w") as f:
    f.write("%d %d %d %d %s\n" % (len(raters), len(notes), b["min_ratings_per_rater"], b["min_raters_per_note"], seed.hex()))
    for (p, n), v in ratings.items(): f.write("%d %d %d\n" % (ri[p], ni[n], v))
with open(out + ".groups", "w") as f:
    f.write("%d %d %s\n" % (len(raters), len(notes), seed.hex()))
    for (p, n), v in ratings.items(): f.write("%d %d %d\n" % (ri[p], ni[n], v - 1))
print(seed.hex() == tally["seed"], result == tally["result"], len(notes), len(ratings))
print(tally["bridging"]["result"], tally["groups"]["result"])
EOF
R=$(python3 "$T/recompute.py" "$T/dump" round "$T/in")
check_eq "from the log alone: the tally's seed is the root at its size, its counts recount" \
    "$(echo "$R" | head -1)" "True True 8 $NR"
WANT_B=$(echo "$R" | sed -n 2p | cut -d' ' -f1)
WANT_G=$(echo "$R" | sed -n 2p | cut -d' ' -f2)
check_eq "bridging: the tally's hash = the Python reference (§11.1) on the log's input" \
    "$(python3 tests/e2e/lib/bridging_ref.py < "$T/in.bridging" 2>/dev/null | cut -d' ' -f1)" "$WANT_B"
check_eq "groups: the tally's hash = the Python reference (§11.2) on the log's input" \
    "$(python3 tests/e2e/lib/groups_ref.py < "$T/in.groups" 2>/dev/null)" "$WANT_G"
check_eq "GET /tallies/round after the close: final, the tally's size, seed and hashes" \
    "$(python3 -c 'import json,sys
t = json.load(open(sys.argv[1])); d = [json.loads(l) for l in open(sys.argv[2])]
e = [x for x in d if x.get("kind") == "tally" and x["context"] == "round"][0]
print(t["final"], t["size"] == e["size"], t["seed"] == e["seed"], t["bridging"]["result"] == e["bridging"]["result"],
      t["groups"]["result"] == e["groups"]["result"], sorted(e["bridging"]["helpful"]) == sorted(x["id"] for x in t["bridging"]["statements"] if x["status"] == "helpful"))' "$T/final.json" "$T/dump")" \
    "True True True True True True"
check_eq "a statement after the close" "$(act round "$T/round.tok" 9 --text late)" \
    "403 context_closed"

# --- the result bytes from the log itself: GET /files/<the tally's hashes> ------------------------
curl -s -o "$T/bridging.bin" "$L/files/$WANT_B"
curl -s -o "$T/groups.bin" "$L/files/$WANT_G"
check_eq "GET /files/<bridging hash>, /files/<groups hash>: bytes that hash to them" \
    "$(sha256sum "$T/bridging.bin" "$T/groups.bin" | cut -d' ' -f1 | tr '\n' ' ')" "$WANT_B $WANT_G "
# §11.1's layout: 72 bytes of header, 25 per statement, 24 per rater
check_eq "the bridging bytes (§11.1): every statement's status, intercept and factor, every rater's factor, as GET /tallies" \
    "$(python3 -c 'import json,struct,sys
b = open(sys.argv[1], "rb").read(); t = json.load(open(sys.argv[2]))["bridging"]
assert b[:24] == b"onevoice/bridging-mf/v1\0"
U, M, minr, minn, N, U1, M1, it = struct.unpack(">8I", b[24:56]); mu, loss = struct.unpack(">2d", b[56:72])
assert len(b) == 72 + 25 * M + 24 * U
names = ["needs_more_ratings", "helpful", "not_helpful"]
st = [struct.unpack(">2d2IB", b[72 + 25 * n:97 + 25 * n]) for n in range(M)]
ra = [struct.unpack(">2d2I", b[72 + 25 * M + 24 * u:96 + 25 * M + 24 * u]) for u in range(U)]
print(M == len(t["statements"]), U == len(t["raters"]), (minr, minn, it) == (t["min_ratings_per_rater"], t["min_raters_per_note"], t["iterations"]),
      [names[s[4]] for s in st] == [x["status"] for x in t["statements"]],
      [(s[0], s[1], s[2]) for s in st] == [(x["intercept"], x["factor"], x["ratings"]) for x in t["statements"]],
      [(r[0], r[1], r[2]) for r in ra] == [(x["intercept"], x["factor"], x["ratings"]) for x in t["raters"]],
      sum(names[s[4]] == "helpful" for s in st))' "$T/bridging.bin" "$T/final.json")" \
    "True True True True True True 4"
# §11.2's layout: its length from its own counts, the group sizes as GET /tallies
check_eq "the groups bytes (§11.2): P, S, k, the sizes, and the length they give" \
    "$(python3 -c 'import json,struct,sys
b = open(sys.argv[1], "rb").read(); g = json.load(open(sys.argv[2]))["groups"]
assert b[:19] == b"onevoice/groups/v1\0"
P, S, clustered, k, maxk = struct.unpack(">5I", b[19:39])
o = 39 + 9 * max(maxk - 1, 0)
sizes = list(struct.unpack(">%dI" % k, b[o:o + 4 * k])); o += 4 * k + 20 * P + 12 * S
for _ in range(k):
    (n,) = struct.unpack(">I", b[o:o + 4]); o += 4 + 53 * n
print(P, S, k == g["k"], sizes == g["sizes"], sizes, o == len(b))' "$T/groups.bin" "$T/final.json")" \
    "40 8 True True [20, 20] True"
check "the same bytes uploaded again: the log holds them already (200)" sh -c \
    "$BUILD/onevoice-sortition upload --log $L --key $T/v/producer.key --producer verifier --file $T/bridging.bin 2>&1 | grep -q 'already there'"
check_eq "after the kill -9 between the refused uploads and the tally: one tally in the log" "$(ntallies)" 1

# --- kill -9 after the close: the final results again, from the tally entry's seed -------------------
kill -9 "$ver_PID"; wait "$ver_PID" 2>/dev/null
start_server ver VPORT $BUILD/onevoice-verifier $VARGS
V=http://127.0.0.1:$VPORT
again() { curl -s "$V/tallies/round" | python3 -c 'import json,sys
t = json.load(sys.stdin); print(t["final"], t.get("bridging", {}).get("result"), t.get("groups", {}).get("result"))'; }
i=0
until [ "$(again)" = "True $WANT_B $WANT_G" ] || [ $i -gt 100 ]; do sleep 0.1; i=$((i + 1)); done
check_eq "after kill -9 and a restart: the same final results" "$(again)" "True $WANT_B $WANT_G"
sleep 0.5 # a few follower rounds
check_eq "and still one tally in the log" "$(ntallies)" 1
summary
