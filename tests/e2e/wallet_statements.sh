#!/bin/sh
# The wallet and libonevoice in statement rounds (docs/PROTOCOL.md §11.3) end to end, against
# a real log, witness (quorum 1), issuer and verifier on loopback: the rounds' kind and quota
# in `contexts`; statements written (the id is SHA-256's, the first action sends the token,
# a receipt kept), listed with what the wallet wrote and rated, rated by number and by word
# of the round's kind; every refusal, the wallet's own and the verifier's (statement_quota,
# duplicate_statement, unknown_statement, own_statement), in words; a verifier that shows
# another text behind an id refused; `results` provisional and final, against the
# verifier's own tallies; a statement through the example platform, and the library
# building, checking and sending a statement and reading a round's results.
VERIFIER_ARGS="--min-ratings-per-rater 1 --min-raters-per-note 1"
. tests/e2e/lib/wallet_env.sh
# s3 closes while the test runs: its results become final. It is used (section 1) until some
# 5 s after NOW in the plain build (13 s under the sanitizers, where the rest of the script
# takes its 30 s anyway); 24 s leaves the plain build a margin for a loaded machine
case $BUILD in *asan*) S3_OPEN=30 ;; *) S3_OPEN=24 ;; esac
CLOSES=$((NOW + S3_OPEN))
round() { # id kind statements closes
    echo "{\"id\":\"$1\",\"title\":\"Round $1\",\"type\":\"rating\",\"rating_kind\":\"$2\",\"statements\":$3,\"opens\":$((NOW - 5)),\"closes\":$4,\"quota\":1}"
}
$IT context "$U" "$ADMIN" "$(round s1 helpfulness 2 $((NOW + 3600)))" >/dev/null || fail "context s1"
$IT context "$U" "$ADMIN" "$(round s2 agreement 1 $((NOW + 3600)))" >/dev/null || fail "context s2"
$IT context "$U" "$ADMIN" "$(round s3 agreement 1 $CLOSES)" >/dev/null || fail "context s3"
$IT context "$U" "$ADMIN" "{\"id\":\"s0\",\"title\":\"Rate only\",\"type\":\"rating\",\"rating_kind\":\"helpfulness\",\"opens\":$((NOW - 5)),\"closes\":$((NOW + 3600)),\"quota\":1}" >/dev/null || fail "context s0"
for c in r1:rating a1:assembly; do
    $IT context "$U" "$ADMIN" "$(ctx "${c%%:*}" "${c#*:}" 1)" >/dev/null || fail "context $c"
done
$IT invites "$U" "$ADMIN" 5 "$T/codes.csv"
i=0
for who in alice bob carol dave erin; do
    i=$((i + 1))
    $OV --wallet "$T/$who.wallet" init $INIT >/dev/null || fail "init $who"
    $OV --wallet "$T/$who.wallet" enroll --code "$(sed -n "$((i + 1))p" "$T/codes.csv")" >/dev/null || fail "enroll $who"
    $OV --wallet "$T/$who.wallet" fetch --now >/dev/null || fail "fetch $who"
done
A=$T/alice.wallet B=$T/bob.wallet C=$T/carol.wallet D=$T/dave.wallet
ov() { w=$1; shift; $OV --wallet "$w" "$@"; }
sid() { python3 -c 'import hashlib,sys; print(hashlib.sha256(b"onevoice/v1/statement\0" + sys.argv[1].encode() + b"\0" + sys.argv[2].encode()).digest()[:16].hex())' "$1" "$2"; }
cp "$A" "$T/alice-copy.wallet" # the same token, none of the actions: what the verifier refuses

# --- 1. s3, which closes soon: a statement and ratings while it is open -------------------------
S3A=$(sid s3 "Meet on weekends.") S3B=$(sid s3 "Meet on weekdays.")
check "s3: a statement" ov "$A" statement --now s3 "Meet on weekends."
check "s3: another's" ov "$B" statement --now s3 "Meet on weekdays."
check "s3: rated agree" ov "$B" rate --now s3 "$S3A" agree
check "s3: rated disagree" ov "$A" rate --now s3 "$S3B" disagree
for x in "$C" "$D" "$T/erin.wallet"; do
    check "s3: agree" ov "$x" rate --now s3 "$S3A" agree
    check "s3: disagree, by number" ov "$x" rate --now s3 "$S3B" -1
done

# --- 2. help ---------------------------------------------------------------------------------
for c in statement statements results; do
    check "onevoice $c --help" sh -c "$OV $c --help | grep -q '^usage: onevoice .*$c CONTEXT'"
    check "onevoice --help lists $c" sh -c "$OV --help | grep -q '^  $c '"
done
check "rate --help names the words" sh -c "$OV rate --help | grep -q 'helpful (2), somewhat (1), not-helpful (0)'"
check_eq "statement without its text" "$(status ov "$A" statement --now s1)" 2
check_eq "statements of no context id" "$(status ov "$A" statements 'Not An Id')" 2
check_eq "results of no context id" "$(status ov "$A" results '-x')" 2

# --- 3. contexts: the kind and the quota -------------------------------------------------------
ov "$A" contexts --json > "$T/ctx.json"
check_eq "a statement round's kind and quota" \
    "$(jget "$T/ctx.json" 'sorted((c["id"], c.get("rating_kind"), c.get("statements")) for c in d["contexts"] if c["id"] in ("s0", "s1", "s2", "r1"))')" \
    "[('r1', None, None), ('s0', 'helpfulness', 0), ('s1', 'helpfulness', 2), ('s2', 'agreement', 1)]"
ov "$A" contexts > "$T/ctx.txt"
check "for people: the kind, the quota, the words" grep -q "statement round (helpfulness): up to 2 statements each; rate helpful, somewhat or not-helpful" "$T/ctx.txt"
check "for people: a round without statements" grep -q "statement round (helpfulness), no statements to write" "$T/ctx.txt"

# --- 4. statements written ---------------------------------------------------------------------
T1="Parks should stay open at night."
T2="More benches on the main square."
ID1=$(sid s1 "$T1") ID2=$(sid s1 "$T2")
check "a statement" sh -c "$OV --wallet '$A' statement --now s1 '$T1' --json > '$T/st1.json'"
check_eq "counted: its id is SHA-256's, the token sent, the receipt proven" \
    "$(jget "$T/st1.json" 'd["id"], d["with_token"], d["status"], d["verified"], d["text"]')" \
    "('$ID1', True, 'proven', True, '$T1')"
check_eq "the id for people" "$(ov "$A" statement --now s1 "$T2" | head -1)" "statement counted: s1, id $ID2"
check_eq "the second statement sent only the pseudonym" "$(sql "$A" "select with_token from actions where text = '$T2'")" 0
said "already written this statement in s1 (id $ID1)" ov "$A" statement --now s1 "$T1"
said "you have written 2 statements in s1: the round takes 2 per participant" ov "$A" statement --now s1 "A third one."
said "the verifier refused the statement: you have written as many statements as the round takes (409 statement_quota)" \
    ov "$T/alice-copy.wallet" statement --now s1 "A third one."
check_eq "the refused statement is kept as refused" "$(sql "$T/alice-copy.wallet" "select state, reason from actions")" refused
said "another participant wrote this very text already: rate theirs instead (409 duplicate_statement)" ov "$B" statement --now s1 "$T1"
check "bob writes his own" ov "$B" statement --now s1 "Lower the bus fares."
ID3=$(sid s1 "Lower the bus fares.")
said "r1 takes no statements: it is not a statement round" ov "$A" statement --now r1 "Hello."
said "s0 takes no statements" ov "$A" statement --now s0 "Hello."
said "a1 is an assembly" ov "$A" statement --now a1 "Hello."
said "1 to 1000 bytes of text" ov "$A" statement --now s2 "$(python3 -c 'print("x" * 1001)')"
said "1 to 1000 bytes of text" ov "$A" statement --now s2 "$(printf 'tab\there')"
check_eq "nothing stored for what the wallet refused" "$(sql "$A" "select count(*) from actions where context in ('r1', 's0', 'a1', 's2')")" 0
PLATARGS="--issuer $U --verifier $V --log $L --log-vkey $LV --witness $WV --quorum 1 --context s2 --name forum.example"
start_server plat PPORT $BUILD/examples/platform $PLATARGS
P=http://127.0.0.1:$PPORT
check "a statement through the platform (token in an Authorization header)" sh -c \
    "$OV --wallet '$C' statement --now s2 'Trams before buses.' --via '$P' --platform forum.example | grep -q 'statement counted: s2'"
check "the platform checked and forwarded it" grep -q 'a first action counted in s2 (receipt proven)' "$T/plat.log"
check "receipts: the statements are in the log" sh -c "$OV --wallet '$A' receipts --json > '$T/rec.json'"
check_eq "each statement's receipt checked" "$(jget "$T/rec.json" 'sorted(r["action"] for r in d["receipts"] if r["result"] == "ok" and r["context"] == "s1")')" \
    "$(python3 -c 'import sys; print(sorted(["wrote statement " + sys.argv[1], "wrote statement " + sys.argv[2]]))' "$ID1" "$ID2")"

# a wallet file from before statement rounds (schema 1) gains the column when opened (and
# pacing's, migration 3)
E=$T/erin.wallet
for x in text send_at check_at; do sql "$E" "alter table actions drop column $x" >/dev/null; done
sql "$E" "drop table fetch_plan" >/dev/null
sql "$E" "pragma user_version = 1" >/dev/null
check "an older wallet file opens" ov "$E" contexts
check_eq "migrated: the text column and pacing's, schema 3" \
    "$(sql "$E" "select count(*) from pragma_table_info('actions') where name in ('text', 'send_at', 'check_at')") $(sql "$E" "select count(*) from sqlite_master where name = 'fetch_plan'") $(sql "$E" "pragma user_version")" "3 1 3"
check "and writes statements" ov "$E" statement --now s2 "Cycle lanes on every bridge."

# --- 5. statements listed, rated by word ------------------------------------------------------
check "statements" sh -c "$OV --wallet '$B' statements s1 --json > '$T/l1.json'"
check_eq "the round's statements, sorted by id, bob's marked" \
    "$(jget "$T/l1.json" '[(s["id"], s["text"], s.get("yours", False)) for s in d["statements"]]')" \
    "$(python3 -c 'import sys; print(sorted([(sys.argv[1], sys.argv[2], False), (sys.argv[3], sys.argv[4], False), (sys.argv[5], "Lower the bus fares.", True)]))' "$ID1" "$T1" "$ID2" "$T2" "$ID3")"
check "a rating by word" sh -c "$OV --wallet '$B' rate --now s1 $ID1 helpful --json > '$T/rw.json'"
check_eq "helpful is 2; bob's pseudonym was admitted by his statement" "$(jget "$T/rw.json" 'd["rating"], d["with_token"], d["status"]')" "(2, False, 'proven')"
said "'agree' is a word of agreement rounds, and s1 is a round of helpfulness: rate helpful, somewhat or not-helpful (2, 1, 0)" \
    ov "$B" rate --now s1 "$ID2" agree
check "not-helpful is 0" ov "$B" rate --now s1 "$ID2" not-helpful
check_eq "stored as numbers" "$(sql "$B" "select group_concat(rating) from (select rating from actions where context = 's1' and rating is not null order by n)")" "2,0"
check "a word, carol's first action in s1: it sends the token" sh -c "$OV --wallet '$C' rate --now s1 $ID3 somewhat --json | grep -q '\"with_token\": true'"
check "carol rates by number" ov "$C" rate --now s1 "$ID1" 1
ov "$B" statements s1 > "$T/l1.txt"
check "for people: what bob rated, in words" grep -q "^$ID1  .*  you rated: helpful (2)$" "$T/l1.txt"
check "for people: his own" grep -q "^$ID3  .*  yours$" "$T/l1.txt"
check "for people: the text under the id" grep -q "^    $T2$" "$T/l1.txt"
check "for people: a count" grep -q "^3 statements; 1 yours, 2 rated by you$" "$T/l1.txt"
check_eq "a word in a round without kind" "$(status ov "$A" rate --now r1 note-1 helpful)" 1
said "a rating in words is for a statement round" ov "$A" rate --now r1 note-1 helpful
check_eq "not a number nor a word: usage" "$(status ov "$A" rate --now s1 "$ID3" very)" 2
check "numbers keep working in a free round" ov "$A" rate --now r1 note-1 4
said "a target is a statement's id (32 hex digits)" ov "$A" rate --now s1 note-1 helpful
said "is your own statement" ov "$A" rate --now s1 "$ID1" helpful
said "the verifier refused the rating: it is your own statement: participants rate each other's (403 own_statement)" \
    ov "$T/alice-copy.wallet" rate --now s1 "$ID1" helpful
said "the verifier refused the rating: no statement of this round has that id" \
    ov "$A" rate --now s1 0123456789abcdef0123456789abcdef helpful
check "alice rates bob's" ov "$A" rate --now s1 "$ID3" helpful
ID4=$(sid s2 "Trams before buses.")
check "agreement words: disagree" sh -c "$OV --wallet '$A' rate --now s2 $ID4 disagree --json | grep -q '\"rating\": -1'"
check "agreement words: pass" sh -c "$OV --wallet '$B' rate --now s2 $ID4 pass --json | grep -q '\"rating\": 0'"
said "'helpful' is a word of helpfulness rounds, and s2 is a round of agreement: rate agree, disagree or pass (1, -1, 0)" ov "$D" rate --now s2 "$ID4" helpful
ov "$A" statements s2 > "$T/l2.txt"
check "for people: an agreement rating in words" grep -q "you rated: disagree (-1)" "$T/l2.txt"

# --- 6. what the verifier shows is checked -------------------------------------------------------
# a verifier that lists another text under alice's statement's id: it answers GET PATH
# with the file $T/liar/PATH (its slashes as _), 404 unknown_context when there is none
mkdir "$T/liar"
cat > "$T/liar.py" <<'EOF'
import http.server, os, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        f = os.path.join(sys.argv[1], self.path.replace("/", "_"))
        if not os.path.exists(f):
            body = b'{"error":"unknown_context","message":"no such context"}'
            self.send_response(404); self.send_header("Content-Length", str(len(body)))
            self.end_headers(); self.wfile.write(body); return
        body = open(f, "rb").read()
        self.send_response(200); self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body))); self.end_headers(); self.wfile.write(body)
    def log_message(self, *a): pass
s = http.server.HTTPServer(("127.0.0.1", 0), H)
open(sys.argv[2], "w").write(str(s.server_port))
s.serve_forever()
EOF
echo "[{\"id\":\"$ID1\",\"text\":\"Parks should close at night.\",\"time\":1}]" > "$T/liar/_contexts_s1_statements"
python3 "$T/liar.py" "$T/liar" "$T/liar.port" & E2E_PIDS="$E2E_PIDS $!"
i=0; while [ ! -s "$T/liar.port" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
cp "$A" "$T/alice-liar.wallet"
sql "$T/alice-liar.wallet" "update config set value = 'http://127.0.0.1:$(cat "$T/liar.port")' where key = 'verifier'" >/dev/null
said "lists a statement of s1 under an id that is not its text's: refused" ov "$T/alice-liar.wallet" statements s1
# a verifier that leaves out what it counted of this wallet's
echo "[]" > "$T/liar/_contexts_s1_statements"
said "2 statements this wallet wrote and had counted are not listed by the verifier" ov "$T/alice-liar.wallet" statements s1
# results as a verifier with two camps would show them (the real round here is too small
# for bridging to call a statement helpful): each list with its texts, in its order
printf '[{"id":"%s","text":"%s","time":1},{"id":"%s","text":"%s","time":2},{"id":"%s","text":"Lower the bus fares.","time":3}]' \
    "$ID1" "$T1" "$ID2" "$T2" "$ID3" > "$T/liar/_contexts_s1_statements"
printf '{"context":"s1","size":99,"algorithm":"onevoice/ratings/v1","result":{},"final":true,"receipt":"/receipts/ab","seed":"00","bridging":{"statements":[{"id":"%s","status":"helpful"},{"id":"%s","status":"not_helpful"},{"id":"%s","status":"needs_more_ratings"}]},"groups":{"k":2,"sizes":[30,29],"consensus":[{"id":"%s","consensus":0.9},{"id":"%s","consensus":0.2}]}}' \
    "$ID1" "$ID2" "$ID3" "$ID3" "$ID1" > "$T/liar/_tallies_s1"
ov "$T/alice-liar.wallet" results s1 > "$T/liar-res.txt"
check_eq "results for people: final, helpful, not helpful, groups, consensus ranked" "$(cat "$T/liar-res.txt")" "s1: final, log size 99; tally entry /receipts/ab
helpful (1):
  $ID1  $T1
not helpful (1):
  $ID2  $T2
needing more ratings: 1 of 3 statements
groups: 2 (sizes 30, 29)
consensus (2):
   1. $ID3  Lower the bus fares.
   2. $ID1  $T1"
ov "$T/alice-liar.wallet" results s1 --json > "$T/liar-res.json"
check_eq "and as JSON" "$(jget "$T/liar-res.json" '[s["id"] for s in d["helpful"]], [s["text"] for s in d["not_helpful"]], d["groups"], [s["consensus"] for s in d["consensus"]], d["final"]')" \
    "(['$ID1'], ['$T2'], [30, 29], [0.9, 0.2], True)"
sed -i "s/$ID2/NOT-AN-ID/" "$T/liar/_tallies_s1"
said "results for s1 are not as" ov "$T/alice-liar.wallet" results s1
# what results prints as it came must not reach the terminal as escape sequences
printf '{"context":"r9","size":9,"algorithm":"onevoice/ratings/v1","result":{"note-1\\u001b[2J":[1,4]},"final":false}' > "$T/liar/_tallies_r9"
said "the verifier's tally of r9 is not one" ov "$T/alice-liar.wallet" results r9
printf '{"context":"r9","size":9,"algorithm":"onevoice/ratings/v1","result":{"note-1":[1,4]},"final":true,"receipt":"/receipts/ab\\u001b]0;x\\u0007"}' > "$T/liar/_tallies_r9"
said "the verifier's tally of r9 is not one" ov "$T/alice-liar.wallet" results r9
sed -i 's|/receipts/ab[^"]*"|/receipts/ab"|' "$T/liar/_tallies_r9"
check "and the same tally, printable, is shown" sh -c "$OV --wallet '$T/alice-liar.wallet' results r9 | grep -q '^  note-1  *1 rating, mean 4.00$'"
said "unknown_context" ov "$A" statements nowhere
said "unknown_context" ov "$A" results nowhere

# --- 7. results: provisional, then final ------------------------------------------------------
check "results of a statement round" sh -c "$OV --wallet '$A' results s1 --json > '$T/res1.json'"
curl -s "$V/tallies/s1" > "$T/tally1.json"
check_eq "as the verifier counts it: provisional, its lists, groups and consensus" \
    "$(jget "$T/res1.json" '(d["final"], [s["id"] for s in d["helpful"]], [s["id"] for s in d["not_helpful"]], d["groups"], [s["id"] for s in d["consensus"]], d["statements"])')" \
    "$(jget "$T/tally1.json" '(d["final"], [s["id"] for s in d["bridging"]["statements"] if s["status"] == "helpful"], [s["id"] for s in d["bridging"]["statements"] if s["status"] == "not_helpful"], d["groups"]["sizes"], [s["id"] for s in d["groups"]["consensus"]], 3)')"
check_eq "the texts beside the ids" "$(jget "$T/res1.json" 'all(s["text"] for s in d["helpful"] + d["not_helpful"] + d["consensus"])')" True
ov "$A" results s1 > "$T/res1.txt"
check "for people: provisional" grep -q "^s1: provisional (counted so far), log size [0-9]*$" "$T/res1.txt"
check "for people: the lists and the groups" sh -c "grep -q '^helpful (' '$T/res1.txt' && grep -q '^not helpful (' '$T/res1.txt' && grep -q '^groups: ' '$T/res1.txt' && grep -q '^consensus (' '$T/res1.txt'"
check "an assembly's counts" ov "$A" vote --now a1 yes
check_eq "results of an assembly: the counts as before" "$(ov "$A" results a1 | grep -c '^  yes  *1$')" 1
check "a free rating round's counts" sh -c "$OV --wallet '$A' results r1 | grep -q '^  note-1  *1 rating, mean 4.00$'"
# --- 8. libonevoice: a statement built, checked and sent by a platform; a round's results -----
# (the program is built here, while s3 is still open: its run follows s3's close, below)
cat > "$T/libstmt.c" <<'EOF'
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "onevoice.h"
static void hex(const char *s, uint8_t *out, size_t n) {
    for (size_t i = 0; i < n; i++) sscanf(s + 2 * i, "%2hhx", &out[i]);
}
int main(int argc, char **argv) { /* log vkey witness issuer verifier context seed token text results-context */
    struct onevoice_log *log; struct onevoice_context *c; struct onevoice_verifier *v;
    struct onevoice_action *a; struct onevoice_results *r; struct onevoice_answer ans;
    uint8_t seed[ONEVOICE_SEED_LEN], token[ONEVOICE_TOKEN_LEN];
    char id[ONEVOICE_STATEMENT_ID_LEN + 1], *receipt; size_t len;
    const char *w[1] = { argv[3] };
    if (argc != 11) return 2;
    hex(argv[7], seed, sizeof seed); hex(argv[8], token, sizeof token);
    if (onevoice_log_new(argv[1], argv[2], w, 1, 1, &log) || onevoice_context_fetch(log, argv[4], argv[6], &c)) return 3;
    printf("kind %d quota %llu\n", (int)onevoice_context_rating_kind(c), (unsigned long long)onevoice_context_statement_quota(c));
    if (onevoice_statement_new(argv[6], argv[9], "lib.example", seed, token, &a)) return 4;
    printf("fits %d verify %d\n", onevoice_action_fits(c, a), onevoice_action_verify(c, a));
    if (onevoice_statement_id(argv[6], argv[9], id)) return 5;
    printf("id %s\n", id);
    if (onevoice_verifier_new(argv[5], &v)) return 6;
    int rc = onevoice_submit(v, a, 1, &receipt, &len, &ans);
    printf("submit %d %u %s\n", rc, ans.status, ans.reason);
    if (rc == 0) { printf("receipt %s\n", onevoice_strerror(onevoice_receipt_check(log, receipt, len, NULL))); free(receipt); }
    rc = onevoice_submit(v, a, 1, &receipt, &len, &ans); /* the same again: the same receipt */
    printf("again %d\n", rc); if (rc == 0) free(receipt);
    rc = onevoice_results_fetch(v, argv[10], &r, &ans);
    printf("results %d final %d helpful %zu not %zu consensus %zu groups %zu\n", rc,
           rc ? -1 : onevoice_results_final(r), rc ? 0 : onevoice_results_count(r, ONEVOICE_RESULTS_HELPFUL),
           rc ? 0 : onevoice_results_count(r, ONEVOICE_RESULTS_NOT_HELPFUL),
           rc ? 0 : onevoice_results_count(r, ONEVOICE_RESULTS_CONSENSUS), rc ? 0 : onevoice_results_groups(r));
    if (rc == 0) onevoice_results_free(r);
    printf("assembly %s\n", onevoice_strerror(onevoice_results_fetch(v, "a1", &r, &ans)));
    rc = onevoice_results_fetch(v, "nowhere", &r, &ans);
    printf("unknown %s %u %s\n", onevoice_strerror(rc), ans.status, ans.reason);
    onevoice_action_free(a); onevoice_verifier_free(v); onevoice_context_free(c); onevoice_log_free(log);
    return 0;
}
EOF
SANFLAGS=""
if nm "$BUILD/libonevoice.a" 2>/dev/null | grep -q __asan_report; then SANFLAGS="-fsanitize=address,undefined"; fi
check "a program on the library builds" sh -c "cc -std=c17 -Wall -Werror $SANFLAGS -Ilib -o '$T/libstmt' '$T/libstmt.c' '$BUILD/libonevoice.a' \$(pkg-config --libs libsodium libcbor libcrypto libcurl jansson) -lpthread -lm"

# s3 closes: its tally is written and its results become final
i=0
while [ "$(date +%s)" -le "$CLOSES" ] || ! ov "$A" results s3 --json 2>/dev/null | grep -q '"final": true'; do
    [ $i -lt 600 ] || break
    sleep 0.2; i=$((i + 1))
done
check "results of a closed round" sh -c "$OV --wallet '$A' results s3 --json > '$T/res3.json'"
check_eq "final, with the tally entry's receipt" "$(jget "$T/res3.json" 'd["final"], d["receipt"].startswith("/receipts/"), d["statements"]')" "(True, True, 2)"
curl -s "$V/tallies/s3" > "$T/tally3.json"
check_eq "as the verifier's tally says" \
    "$(jget "$T/res3.json" '[s["id"] for s in d["helpful"]], [s["id"] for s in d["not_helpful"]], d["groups"], [s["id"] for s in d["consensus"]]')" \
    "$(jget "$T/tally3.json" '[s["id"] for s in d["bridging"]["statements"] if s["status"] == "helpful"], [s["id"] for s in d["bridging"]["statements"] if s["status"] == "not_helpful"], d["groups"]["sizes"], [s["id"] for s in d["groups"]["consensus"]]')"
check_eq "the consensus statements, with their texts" "$(jget "$T/res3.json" 'sorted((s["id"], s["text"]) for s in d["consensus"])')" \
    "$(python3 -c 'import sys; print(sorted([(sys.argv[1], "Meet on weekends."), (sys.argv[2], "Meet on weekdays.")]))' "$S3A" "$S3B")"
check "for people: final" sh -c "$OV --wallet '$A' results s3 | grep -q '^s3: final, log size [0-9]*; tally entry /receipts/'"
said "s3 is not open" ov "$C" statement --now s3 "Too late."

# --- 8. libonevoice: its run (built before s3 closed, above)
SEED=$(sql "$D" "select hex(seed) from tokens where context = 's1'")
TOKEN=$(sql "$D" "select hex(token) from tokens where context = 's1'")
"$T/libstmt" "$L" "$LV" "$WV" "$U" "$V" s1 "$SEED" "$TOKEN" "Libraries stay open on Sundays." s3 > "$T/lib.out" 2>&1
check_eq "the library: the round, the statement built, checked, sent, its receipt, the results" "$(cat "$T/lib.out")" "kind 1 quota 2
fits 0 verify 0
id $(sid s1 "Libraries stay open on Sundays.")
submit 0 200 
receipt ok
again 0
results 0 final 1 helpful $(jget "$T/res3.json" 'len(d["helpful"])') not $(jget "$T/res3.json" 'len(d["not_helpful"])') consensus $(jget "$T/res3.json" 'len(d["consensus"])') groups $(jget "$T/res3.json" 'len(d["groups"])')
assembly not_found
unknown http_error 404 unknown_context"
check_eq "and the verifier lists it" "$(ov "$D" statements s1 --json | python3 -c 'import json,sys; print(sum(s["text"] == "Libraries stay open on Sundays." for s in json.load(sys.stdin)["statements"]))')" 1

summary
