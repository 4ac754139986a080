#!/bin/sh
# onevoice (the citizen's wallet) and libonevoice (the platform library) end to end, against
# a real log, witness (quorum 1), issuer and verifier on loopback: enroll by every route,
# contexts checked against the log, cover issuance, votes and ratings with receipts, a
# second vote refused locally and by the verifier, votes through a platform built on the
# library, receipts re-checked (and a rolled-back log caught), a context key the log does
# not show refused, a lost issuance answer retried without spending quota twice, garbage
# and truncated server answers, export and import, and the library installed with
# `make install` and used through its header and pkg-config file alone.
. tests/e2e/lib/wallet_env.sh
for c in a1:assembly a2:assembly a3:assembly r1:rating lost:assembly lost2:assembly \
    bad:assembly; do
    $IT context "$U" "$ADMIN" "$(ctx "${c%%:*}" "${c#*:}" 1)" >/dev/null || fail "context $c"
done
$IT context "$U" "$ADMIN" "{\"id\":\"later\",\"title\":\"Not yet\",\"type\":\"assembly\",\"choices\":[\"a\",\"b\"],\"opens\":$((NOW + 3000)),\"closes\":$((NOW + 3600)),\"quota\":1}" >/dev/null
$IT invites "$U" "$ADMIN" 8 "$T/codes.csv"
code() { sed -n "$(($1 + 1))p" "$T/codes.csv"; }
W=$T/alice.wallet
ov() { $OV --wallet "$W" "$@"; }
# issuances CONTEXT: how many issuance entries the log holds for it (after the outbox drains)
issuances() {
    i=0
    while [ "$(curl -s "$U/metrics" | awk '/^issuer_outbox_backlog /{print $2}')" != 0 ] && [ $i -lt 100 ]; do
        sleep 0.05; i=$((i + 1))
    done
    sleep 0.2
    $IT logscan "$L" "$LV" | awk -v c="$1" '$1 == "context" && $2 == c {print $4}'
}

# --- 1. help and usage ----------------------------------------------------------------------
check "onevoice --help" $OV --help
for c in init enroll contexts fetch vote rate receipts receipt export import; do
    check "onevoice $c --help" sh -c "$OV $c --help | grep -q '^usage: onevoice .*$c'"
done
check_eq "an unknown command is a usage error" "$(status $OV frobnicate)" 2
check_eq "vote without its arguments" "$(status ov vote --now a1)" 2
check_eq "an unknown option" "$(status ov contexts --frob)" 2
check_eq "no wallet named" "$(status env -u ONEVOICE_WALLET $OV contexts)" 2
said "no wallet at" ov contexts

# --- 2. init ---------------------------------------------------------------------------------
check "init" ov init $INIT
check_eq "the wallet file is mode 0600" "$(stat -c %a "$W")" 600
said "never overwritten" ov init $INIT
check_eq "a log key that is not one" "$(status $OV --wallet "$T/x.wallet" init --issuer "$U" --verifier "$V" --log "$L" --log-vkey nonsense)" 2
check_eq "a quorum above the witnesses" "$(status $OV --wallet "$T/x.wallet" init $INIT --quorum 2)" 2
# --witnesses FILE: the file the log, the verifier and the auditor take ("URL VKEY" lines)
$OV --wallet "$T/wf.wallet" init --issuer "$U" --verifier "$V" --log "$L" --log-vkey "$LV" \
    --witnesses "$T/witnesses" --quorum 1 >/dev/null 2>&1
check_eq "init --witnesses FILE trusts the keys of the log's own witnesses file" \
    "$(sql "$T/wf.wallet" "select value from config where key = 'witnesses'")" "$WV"
check "... and checks the log's checkpoints with them" $OV --wallet "$T/wf.wallet" contexts
printf '# a comment\nhttp://127.0.0.1:9 not-a-key\n' > "$T/badwit"
said "badwit line 2: want" $OV --wallet "$T/wb.wallet" init --issuer "$U" --verifier "$V" \
    --log "$L" --log-vkey "$LV" --witnesses "$T/badwit"
check "... and no wallet made" test ! -e "$T/wb.wallet"
check "ONEVOICE_WALLET names the wallet" env ONEVOICE_WALLET="$W" $OV contexts
chmod 644 "$W"
said "readable or writable by others" ov contexts
chmod 600 "$W"

# --- 3. enroll by each route ----------------------------------------------------------------
said "not enrolled" ov fetch --now
check_eq "enroll by invitation" "$(ov enroll --code "$(code 1)" | cut -d' ' -f1-3)" "enrolled by invite;"
said "enrolled already" ov enroll --code "$(code 2)"
B=$T/bob.wallet
$OV --wallet "$B" init $INIT >/dev/null
TOK=$($IT regtoken "$U" "$REG" "NID-1234-5678")
check "enroll by a registrar's token" $OV --wallet "$B" enroll --token "$TOK"
C=$T/carol.wallet
$OV --wallet "$C" init $INIT >/dev/null
CPUB=$($OV --wallet "$C" enroll --print-key)
check_eq "the key to attest is the wallet's, printed again the same" "$($OV --wallet "$C" enroll --print-key)" "$CPUB"
$IT attest "$T/idp.key" idp-one subject-77 "pub:$CPUB" $((NOW + 600)) "$T/att"
check "enroll by an IdP attestation" $OV --wallet "$C" enroll --attestation "$T/att"
D=$T/dave.wallet
$OV --wallet "$D" init $INIT >/dev/null
said "for another key" $OV --wallet "$D" enroll --attestation "$T/att"
said "refused the enrollment" $OV --wallet "$D" enroll --code AAAAAAAAAAAAAAAAAAAAAA
check "a refusal keeps the key for the next attempt" $OV --wallet "$D" enroll --code "$(code 3)"
check_eq "a code is 22 characters" "$(status $OV --wallet "$T/x2.wallet" enroll --code short)" 1

# --- 4. contexts, each checked against the log -------------------------------------------------
check "contexts" sh -c "$OV --wallet '$W' contexts --json > '$T/ctx.json'"
check_eq "the open contexts, each verified in the log" \
    "$(jget "$T/ctx.json" '" ".join(sorted(c["id"] for c in d["contexts"] if c["verified"])), d["refused"]')" \
    "('a1 a2 a3 bad lost lost2 r1', 0)"
check_eq "a context that is not open yet is not listed" "$(jget "$T/ctx.json" '[c["id"] for c in d["contexts"] if c["id"] == "later"]')" "[]"
check "for people too" sh -c "$OV --wallet '$W' contexts | grep -q 'key verified in the witnessed log'"
check_eq "the wallet pinned each context's logged entry" "$(sql "$W" 'select count(*) from contexts')" 7
check_eq "and remembers the witnessed checkpoint" "$(sql "$W" 'select size > 0 from head')" 1

# --- 5. fetch: a token for every open context at once -------------------------------------------
check "fetch" sh -c "$OV --wallet '$W' fetch --now --json > '$T/fetch.json'"
check_eq "a token per open context" "$(jget "$T/fetch.json" 'sorted(set(t["result"] for t in d["tokens"])), len(d["tokens"])')" "(['issued'], 7)"
check_eq "each bound to a one-time key: SHA-256(pseudonym) is the token's nonce" "$(python3 -c '
import sqlite3,sys,hashlib
rows=sqlite3.connect(sys.argv[1]).execute("select pseudonym, token from tokens").fetchall()
print(all(hashlib.sha256(p).digest() == t[2:34] for p, t in rows), len(set(p for p, _ in rows)))' "$W")" "True 7"
check_eq "the blinding secrets are wiped once the tokens are in" "$(sql "$W" 'select count(*) from tokens where inv is not null or token_input is not null')" 0
check "fetch again: tokens held, nothing asked" sh -c "$OV --wallet '$W' fetch --now | grep -q 'token held already'"
check_eq "one issuance per context for this person" "$(issuances a1) $(issuances r1)" "1 1"
for x in "$B" "$C" "$D"; do $OV --wallet "$x" fetch --now >/dev/null || fail "fetch $x"; done

# --- 6. votes ---------------------------------------------------------------------------------
cp "$W" "$T/alice-before-vote.wallet"   # the same token in a second file, for later
said "not a choice" ov vote --now a1 maybe
check "vote" sh -c "$OV --wallet '$W' vote --now a1 yes --json > '$T/vote.json'"
check_eq "counted, with a proven receipt" "$(jget "$T/vote.json" 'd["counted"], d["status"], d["verified"], d["choice"]')" "(True, 'proven', True, 'yes')"
said "already voted" ov vote --now a1 no
said "already voted" ov vote --now a1 yes
check_eq "the one-time key of the ballot is wiped once it is counted" "$(sql "$W" "select seed is null from tokens where context = 'a1'")" 1
said "token_spent" $OV --wallet "$T/alice-before-vote.wallet" vote --now a1 no
check_eq "a vote in a rating round" "$(status ov vote --now r1 yes)" 1
check "others vote" $OV --wallet "$B" vote --now a1 no
check "and others" $OV --wallet "$C" vote --now a1 no
# leaks COMMAND...: its exit status, and how often LeakSanitizer spoke. sodium_malloc maps
# pages of its own, which LeakSanitizer neither scans nor counts, so the preloaded shim moves
# guarded memory (the one-time keys) to the heap; the runtime is the ASan build's own, else
# the standalone LeakSanitizer, else none (then the status alone is checked).
cat > "$T/heapkeys.c" <<'EOF'
#include <stdlib.h>
void *sodium_malloc(size_t n) { return malloc(n ? n : 1); }
void sodium_free(void *p) { free(p); }
int sodium_mprotect_noaccess(void *p) { (void)p; return 0; }
int sodium_mprotect_readonly(void *p) { (void)p; return 0; }
int sodium_mprotect_readwrite(void *p) { (void)p; return 0; }
EOF
cc -shared -fPIC -o "$T/heapkeys.so" "$T/heapkeys.c" || fail "the heapkeys shim"
LSAN_RT=$(ldd "$OV" | awk '/libasan/ {print $3}')
[ -n "$LSAN_RT" ] || LSAN_RT=$(cc -print-file-name=liblsan.so)
[ -f "$LSAN_RT" ] && PRELOAD="$LSAN_RT $T/heapkeys.so" || PRELOAD=""
leaks() { LD_PRELOAD=$PRELOAD "$@" >"$T/out" 2>"$T/err"; echo "$? $(grep -c LeakSanitizer "$T/err")"; }
printf '#include <sodium.h>\nint main(void) { return sodium_init() < 0 || !sodium_malloc(64); }\n' > "$T/forget.c"
cc -o "$T/forget" "$T/forget.c" $(pkg-config --cflags --libs libsodium) || fail "forget.c"
[ -z "$PRELOAD" ] || check "so LeakSanitizer sees a key never freed" test "$(leaks "$T/forget" | cut -d' ' -f2)" -gt 0
# a token row whose seed is not its pseudonym's: refused, and the key built from it freed
cp "$T/alice-before-vote.wallet" "$T/kim.wallet"
sql "$T/kim.wallet" "update tokens set pseudonym = randomblob(32) where context = 'a3'" >/dev/null
check_eq "a token row that does not hold together: refused, its key freed" \
    "$(leaks $OV --wallet "$T/kim.wallet" vote --now a3 yes)" "1 0"
check "it says so" grep -q "cannot read the token for a3" "$T/err"
# the receipt cannot be stored (a trigger refuses it): refused, its JSON freed; the same
# command again resends the ballot and stores the receipt
sql "$B" "create trigger no_receipt before update of state on actions when new.state = 'counted' begin select raise(abort, 'no receipt'); end" >/dev/null
check_eq "a receipt the wallet cannot store: refused, nothing leaked" "$(leaks $OV --wallet "$B" vote --now a3 yes)" "1 0"
check "it says so" grep -q "the vote was counted, but its receipt could not be stored" "$T/err"
sql "$B" "drop trigger no_receipt" >/dev/null
check "the same command again stores the receipt" sh -c "$OV --wallet '$B' vote --now a3 yes | grep -q 'vote counted'"
check_eq "one action, counted" "$(sql "$B" "select state from actions where context = 'a3'")" counted

# --- 7. ratings ---------------------------------------------------------------------------------
check "the first rating sends the token" sh -c "$OV --wallet '$W' rate --now r1 note-1 4 --json > '$T/r1.json'"
check_eq "first rating" "$(jget "$T/r1.json" 'd["with_token"], d["status"]')" "(True, 'proven')"
check "a later rating sends the pseudonym only" sh -c "$OV --wallet '$W' rate --now r1 note-2 5 --json > '$T/r2.json'"
check_eq "later rating" "$(jget "$T/r2.json" 'd["with_token"], d["status"]')" "(False, 'proven')"
said "already rated" ov rate --now r1 note-1 2
said "from 1 to 5" ov rate --now r1 note-3 9
check_eq "a rating must be a number" "$(status ov rate --now r1 note-3 high)" 2
check_eq "the pseudonym is kept for the round" "$(sql "$W" "select seed is not null from tokens where context = 'r1'")" 1
said "refused" $OV --wallet "$T/alice-before-vote.wallet" rate --now r1 note-1 3
check "someone else rates" $OV --wallet "$B" rate --now r1 note-1 1

# --- 8. through a platform built on libonevoice ------------------------------------------------
PLATARGS="--issuer $U --verifier $V --log $L --log-vkey $LV --witness $WV --quorum 1 --context a2 --context r1 --name forum.example"
start_server plat PPORT $BUILD/examples/platform $PLATARGS
P=http://127.0.0.1:$PPORT
check_eq "the platform proved its contexts' keys in the log" "$(grep -c 'key proven in the log' "$T/plat.log")" 2
curl -s -D "$T/ch.h" -o /dev/null "$P/challenge/a2"
check "a 401 challenge: RFC 9577 WWW-Authenticate PrivateToken" sh -c \
    "grep -q '^HTTP/1.1 401' '$T/ch.h' && grep -qi '^WWW-Authenticate: PrivateToken challenge=\"[A-Za-z0-9_-]*=*\", token-key=\"' '$T/ch.h'"
said "wrong_platform" ov vote --now a2 no --via "$P"
check "the refused vote left the token usable" test "$(sql "$W" "select state from tokens where context = 'a2'")" = ready
check "a vote through the platform (token in an Authorization header)" sh -c \
    "$OV --wallet '$W' vote --now a2 no --via '$P' --platform forum.example | grep -q 'vote counted'"
check "the platform forwarded it and checked the receipt offline" grep -q 'counted in a2 (receipt proven)' "$T/plat.log"
said "already voted" ov vote --now a2 no --via "$P" --platform forum.example
check "a rating through the platform" $OV --wallet "$C" rate --now r1 note-9 3 --via "$P" --platform forum.example
check_eq "the platform asks a vote without token for one" "$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' "$P/actions" -d '{"context":"a2","pseudonym":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA","choice":"no","platform":"forum.example","sig":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}')" 401

# --- 9. receipts, re-checked against the log ----------------------------------------------------
check "receipts" sh -c "$OV --wallet '$W' receipts --json > '$T/rec.json'"
check_eq "every action in the log" "$(jget "$T/rec.json" 'd["in_log"], d["not_in_log"], sorted(r["result"] for r in d["receipts"])')" \
    "(4, 0, ['ok', 'ok', 'ok', 'ok', 'refused'])"
check "for people too" sh -c "$OV --wallet '$W' receipts | grep -q '4 receipts checked'"

# --- 9b. one receipt exported, for the transparency page ---------------------------------------
check "receipt a1 (the vote)" sh -c "$OV --wallet '$W' receipt a1 > '$T/receipt.json'"
check_eq "the verifier's proven receipt, every field" "$(jget "$T/receipt.json" 'sorted(d), d["status"]')" \
    "(['checkpoint', 'entry', 'hash', 'index', 'proof', 'receipt', 'status'], 'proven')"
check_eq "its hash is the stored vote's" "$(jget "$T/receipt.json" 'd["hash"]')" \
    "$(python3 -c 'import base64, sqlite3, sys; print(base64.b64encode(sqlite3.connect(sys.argv[1]).execute("select hash from actions where context = ? and state = ?", ("a1", "counted")).fetchone()[0]).decode())' "$W")"
check_eq "its hash is its entry's leaf hash, its path the hash's" "$(jget "$T/receipt.json" '__import__("hashlib").sha256(b"\0" + __import__("base64").b64decode(d["entry"])).digest() == __import__("base64").b64decode(d["hash"]) and d["receipt"] == "/receipts/" + __import__("base64").b64decode(d["hash"]).hex()')" True
check_eq "its checkpoint is the log's, its proof one hash a level" "$(jget "$T/receipt.json" 'd["checkpoint"].split(chr(10))[0], len(d["proof"]) == (int(d["checkpoint"].split(chr(10))[1]) - 1).bit_length() or int(d["checkpoint"].split(chr(10))[1]) & (int(d["checkpoint"].split(chr(10))[1]) - 1) != 0')" \
    "('$(curl -s "$L/checkpoint" | head -1)', True)"
check "--out FILE writes the same" sh -c "$OV --wallet '$W' receipt a1 --out '$T/receipt2.json' && cmp '$T/receipt.json' '$T/receipt2.json'"
check_eq "--out FILE is mode 0600" "$(stat -c %a "$T/receipt2.json")" 600
check "a rating's receipt" sh -c "$OV --wallet '$W' receipt r1 note-2 > '$T/receipt3.json'"
check_eq "it holds that rating's entry" "$(jget "$T/receipt3.json" 'b"note-2" in __import__("base64").b64decode(d["entry"]), d["hash"] != '"$(jget "$T/receipt.json" 'repr(d["hash"])')")" "(True, True)"
check_eq "a2: the counted vote, not the refused one" "$(status ov receipt a2)" 0
check "--json prints the receipt itself" sh -c "$OV --wallet '$W' receipt a1 --json | python3 -c 'import json, sys; d = json.load(sys.stdin); assert d[\"status\"] == \"proven\"'"
check_eq "no vote in that context: exit 1" "$(status ov receipt a3)" 1
said "holds no vote in a3" ov receipt a3
said "holds no rating in r1 for note-77" ov receipt r1 note-77
said "holds no statement in r1 for note-1" ov receipt r1 note-1 --statement
check_eq "not a context id: usage" "$(status ov receipt 'Not An Id')" 2
check_eq "--statement without its id: usage" "$(status ov receipt r1 --statement)" 2
check_eq "three arguments: usage" "$(status ov receipt r1 a b)" 2
check "receipt --help" sh -c "$OV receipt --help | grep -q '^usage: onevoice .*receipt CONTEXT \[TARGET\]'"
# a receipt stored before its proof came: completed from the verifier, and stored so
python3 - "$W" <<'PY'
import json, sqlite3, sys
c = sqlite3.connect(sys.argv[1])
n, r = c.execute("select n, receipt from actions where context = 'r1' and target = 'note-1' and state = 'counted'").fetchone()
d = json.loads(r)
for k in ("checkpoint", "proof"):
    del d[k]
d["status"] = "logged"
c.execute("update actions set receipt = ? where n = ?", (json.dumps(d), n))
c.commit()
PY
check "a receipt without its proof yet is completed" sh -c "$OV --wallet '$W' receipt r1 note-1 > '$T/receipt4.json'"
check_eq "proven" "$(jget "$T/receipt4.json" 'd["status"], "proof" in d')" "('proven', True)"
check_eq "and stored proven" "$(sql "$W" "select json_extract(receipt, '$.status') from actions where context = 'r1' and target = 'note-1' and state = 'counted'")" proven
# one whose hash the verifier never counted (it lost the vote, as after a restore): the
# stored signed vote is sent again; the verifier knows that ballot, and answers its receipt
cp "$W" "$T/noproof.wallet"
python3 - "$T/noproof.wallet" <<'PY'
import base64, json, sqlite3, sys
c = sqlite3.connect(sys.argv[1])
n, r = c.execute("select n, receipt from actions where context = 'a1' and state = 'counted'").fetchone()
d = json.loads(r)
h = bytes(32)
d = {"status": "pending", "hash": base64.b64encode(h).decode(), "entry": d["entry"], "receipt": "/receipts/" + h.hex()}
c.execute("update actions set receipt = ?, hash = ? where n = ?", (json.dumps(d), h, n))
c.commit()
PY
cp "$T/noproof.wallet" "$T/noverifier.wallet"
$OV --wallet "$T/noproof.wallet" receipt a1 > "$T/resent.json" 2> "$T/resent.err"; st=$?
check_eq "a receipt whose hash the verifier does not know: sent again, exit 0 ($(cat "$T/resent.err"))" "$st" 0
check "... said so" grep -q 'the verifier had lost this vote: sent again' "$T/resent.err"
check_eq "... the ballot's own receipt, proven" "$(jget "$T/resent.json" 'd["status"], d["hash"]')" \
    "$(jget "$T/receipt.json" 'd["status"], d["hash"]')"
# and one that cannot be completed now (the verifier unreachable): no proof, exit 1
sql "$T/noverifier.wallet" "update config set value = 'http://127.0.0.1:9' where key = 'verifier'" >/dev/null
check_eq "a receipt the verifier cannot prove now: exit 1" "$(status $OV --wallet "$T/noverifier.wallet" receipt a1)" 1
said "no inclusion proof yet" $OV --wallet "$T/noverifier.wallet" receipt a1

# --- 10. a context key the log does not show --------------------------------------------------
start_fake fiss FIPORT "$U"
echo "swap bad a3" > "$T/fiss.mode"
E=$T/eve.wallet
$OV --wallet "$E" init --issuer "http://127.0.0.1:$FIPORT" --verifier "$V" --log "$L" --log-vkey "$LV" --witness "$WV" --quorum 1 >/dev/null
$OV --wallet "$E" enroll --code "$(code 4)" >/dev/null
check_eq "contexts: a key the log does not show is refused" "$(status $OV --wallet "$E" contexts)" 1
said "REFUSED context bad: the issuer shows token key" $OV --wallet "$E" contexts
$OV --wallet "$E" contexts --json > "$T/ectx.json" 2>/dev/null
check_eq "the other contexts are fine" "$(jget "$T/ectx.json" '[(c["id"], c["verified"]) for c in d["contexts"] if c["id"] in ("bad", "a3")], d["refused"]')" \
    "([('a3', True), ('bad', False)], 1)"
check_eq "kept as evidence" "$(sql "$E" "select kind from evidence where context = 'bad' limit 1")" key_not_in_log
BEFORE=$(issuances bad)
check_eq "fetch refuses it too (exit 1)" "$(status $OV --wallet "$E" fetch --now --context bad)" 1
check_eq "no token request for it was sent" "$(grep -c 'POST /token-request' "$T/fiss.requests")" 0
check_eq "and none issued" "$(issuances bad)" "$BEFORE"
check_eq "no token for it in the wallet" "$(sql "$E" "select count(*) from tokens where context = 'bad'")" 0
check "fetch by that issuer: every other context served" sh -c "$OV --wallet '$E' fetch --now | grep -q 'a3 .*token issued'"
# a wallet that verified the context before, then shown another key for it
sql "$W" "update config set value = 'http://127.0.0.1:$FIPORT' where key = 'issuer'" >/dev/null
said "now shows it with another entry or key" ov contexts
check_eq "kept as evidence" "$(sql "$W" "select count(*) from evidence where kind = 'context_changed'")" 1
sql "$W" "update config set value = '$U' where key = 'issuer'" >/dev/null

# --- 11. a lost issuance answer ----------------------------------------------------------------
start_fake liss LIPORT "$U"
F=$T/frank.wallet
$OV --wallet "$F" init --issuer "http://127.0.0.1:$LIPORT" --verifier "$V" --log "$L" --log-vkey "$LV" --witness "$WV" --quorum 1 >/dev/null
echo "drop 1 /enroll" > "$T/liss.mode"
said "did not answer" $OV --wallet "$F" enroll --code "$(code 5)"
check "the same command again: the code was used by this very attempt" sh -c \
    "$OV --wallet '$F' enroll --code '$(code 5)' 2>&1 | grep -q \"by this wallet's earlier attempt\""
check_eq "a lost enrollment answer: the same key was sent again, and is enrolled" \
    "$(sql "$F" "select state from identity")" assumed
: > "$T/liss.requests"
LOST=$(issuances lost)
echo "drop 1" > "$T/liss.mode"
check "the first answer is lost; the retry gets the token" sh -c "$OV --wallet '$F' fetch --now --context lost | grep -q 'lost .*token issued'"
check_eq "two requests reached the issuer, the first answer dropped" \
    "$(grep -c 'token-request' "$T/liss.requests") $(grep -c 'dropped' "$T/liss.requests")" "2 1"
check_eq "one token in the wallet" "$(sql "$F" "select count(*) from tokens where context = 'lost' and state = 'ready'")" 1
check_eq "quota spent once: one more issuance in the log" "$(issuances lost)" $((LOST + 1))
check "and the token works" $OV --wallet "$F" vote --now lost yes
# lost again and again: the request waits in the wallet for the next fetch
: > "$T/liss.requests"
LOST2=$(issuances lost2)
echo "drop 100" > "$T/liss.mode"
said "sent again by the next fetch" $OV --wallet "$F" fetch --now --context lost2
check_eq "the request is kept, pending" "$(sql "$F" "select state from tokens where context = 'lost2'")" pending
echo pass > "$T/liss.mode"
check "the next fetch resends the same request" sh -c "$OV --wallet '$F' fetch --now --context lost2 | grep -q 'token issued'"
check_eq "one token, one issuance, though the issuer answered it $(grep -c dropped "$T/liss.requests") times before" \
    "$(sql "$F" "select count(*) from tokens where context = 'lost2'") $(issuances lost2)" "1 $((LOST2 + 1))"
# two fetches at once on one wallet: one request
G=$T/gina.wallet
$OV --wallet "$G" init $INIT >/dev/null
$OV --wallet "$G" enroll --code "$(code 6)" >/dev/null
A3=$(issuances a3)
$OV --wallet "$G" fetch --now --context a3 >/dev/null 2>&1 &
P1=$!
$OV --wallet "$G" fetch --now --context a3 >/dev/null 2>&1 &
P2=$!
wait $P1; S1=$?
wait $P2; S2=$?
check_eq "two fetches at once on one wallet: both succeed" "$S1 $S2" "0 0"
check_eq "with one token, and one issuance" \
    "$(sql "$G" "select count(*) from tokens where context = 'a3'") $(issuances a3)" "1 $((A3 + 1))"

# --- 12. malformed answers: clear errors, nothing lost -------------------------------------------
start_fake giss GIPORT "$U"
start_fake gver GVPORT "$V"
H=$T/hal.wallet
$OV --wallet "$H" init --issuer "http://127.0.0.1:$GIPORT" --verifier "$V" --log "$L" --log-vkey "$LV" --witness "$WV" --quorum 1 >/dev/null
$OV --wallet "$H" enroll --code "$(code 7)" >/dev/null
$OV --wallet "$H" fetch --now --context a1 >/dev/null
dump "$H" > "$T/h.before"
for m in garbage truncated; do
    echo $m > "$T/giss.mode"
    said "list of contexts is not valid" $OV --wallet "$H" contexts
    dump "$H" > "$T/h.after"
    check "$m contexts: the wallet is unchanged" cmp -s "$T/h.before" "$T/h.after"
done
echo pass > "$T/giss.mode"
$OV --wallet "$H" contexts >/dev/null
# a token answer that is garbage: the request is kept; the next fetch completes it
BEFORE=$(issuances a2)
for m in garbage-token truncated-token; do
    echo $m > "$T/giss.mode"
    said "not a valid token under the logged key" $OV --wallet "$H" fetch --now --context a2
    check_eq "$m: the request is kept" "$(sql "$H" "select state from tokens where context = 'a2'")" pending
done
echo pass > "$T/giss.mode"
check "the next fetch completes it" sh -c "$OV --wallet '$H' fetch --now --context a2 | grep -q 'token issued'"
check_eq "one issuance for three answers" "$(issuances a2)" $((BEFORE + 1))
dump "$H" > "$T/h.before"
echo garbage > "$T/gver.mode"
said "not a valid receipt" $OV --wallet "$H" vote --now a1 yes --via "http://127.0.0.1:$GVPORT"
check_eq "the signed ballot is kept, unconfirmed" "$(sql "$H" "select state from actions where context = 'a1'")" sending
said "not confirmed yet" $OV --wallet "$H" vote --now a1 no
echo truncated > "$T/gver.mode"
said "not a valid receipt" $OV --wallet "$H" vote --now a1 yes --via "http://127.0.0.1:$GVPORT"
check "the same ballot resent directly: counted once" sh -c "$OV --wallet '$H' vote --now a1 yes | grep -q 'vote counted'"
check_eq "one action in the wallet" "$(sql "$H" "select count(*), state from actions where context = 'a1'")" 1
# the verifier counts a ballot and its answer is lost: the same command resends the same
# signed bytes and gets the same receipt; the ballot is counted once
tally() { curl -s "$V/tallies/a2" | python3 -c 'import json,sys; print(json.load(sys.stdin)["result"].get("abstain", 0))'; }
BEFORE=$(tally)
: > "$T/gver.requests"
echo "drop 1 /actions" > "$T/gver.mode"
said "no answer from the platform" $OV --wallet "$H" vote --now a2 abstain --via "http://127.0.0.1:$GVPORT"
check "the same command again: counted" sh -c "$OV --wallet '$H' vote --now a2 abstain --via 'http://127.0.0.1:$GVPORT' | grep -q 'vote counted'"
check_eq "the verifier saw it twice, and counted it once" \
    "$(grep -c 'POST /actions' "$T/gver.requests") $(tally)" "2 $((BEFORE + 1))"
check "receipts" $OV --wallet "$H" receipts

# --- 13. export and import ---------------------------------------------------------------------
echo "correct horse battery staple" > "$T/pass"
check "export" $OV --wallet "$W" export "$T/alice.export" --passphrase-file "$T/pass" --kdf interactive
check_eq "the export is mode 0600" "$(stat -c %a "$T/alice.export")" 600
check "the export holds no key in clear" sh -c "! python3 -c '
import sqlite3,sys
c=sqlite3.connect(sys.argv[1]); d=open(sys.argv[2],\"rb\").read()
sys.exit(0 if any(s and s in d for (s,) in c.execute(\"select seed from identity union select seed from tokens\")) else 1)' '$W' '$T/alice.export'"
said "wrong passphrase" env ONEVOICE_PASSPHRASE=wrong $OV --wallet "$T/restored.wallet" import "$T/alice.export"
check "nothing imported" test ! -e "$T/restored.wallet"
check_eq "no passphrase and no terminal is a usage error" "$(status setsid env -u ONEVOICE_PASSPHRASE $OV --wallet "$T/restored.wallet" import "$T/alice.export" </dev/null)" 2
check "import" env ONEVOICE_PASSPHRASE="correct horse battery staple" $OV --wallet "$T/restored.wallet" import "$T/alice.export"
check_eq "the restored wallet is mode 0600" "$(stat -c %a "$T/restored.wallet")" 600
dump "$W" > "$T/w.dump"
dump "$T/restored.wallet" > "$T/r.dump"
check "round trip: every row the same" cmp -s "$T/w.dump" "$T/r.dump"
check "the restored wallet re-checks its receipts" $OV --wallet "$T/restored.wallet" receipts
said "already voted" $OV --wallet "$T/restored.wallet" vote --now a1 no
said "never overwrites" env ONEVOICE_PASSPHRASE=x $OV --wallet "$W" import "$T/alice.export"
head -c 100 "$T/alice.export" > "$T/cut.export"
said "not a onevoice wallet export" env ONEVOICE_PASSPHRASE=x $OV --wallet "$T/r2.wallet" import "$T/cut.export"
python3 -c 'import sys; b=bytearray(open(sys.argv[1],"rb").read()); b[-5]^=1; open(sys.argv[2],"wb").write(b)' "$T/alice.export" "$T/flip.export"
said "wrong passphrase (or a damaged file)" env ONEVOICE_PASSPHRASE="correct horse battery staple" $OV --wallet "$T/r3.wallet" import "$T/flip.export"

# --- 14. the log rolled back: receipts catch it ------------------------------------------------
sql "$W" "update actions set receipt = replace(receipt, '\"index\":', '\"index\":1') where context = 'a1'" >/dev/null
said "NO LONGER in the log" ov receipts
sql "$T/restored.wallet" "update config set value = '0' where key = 'quorum'" >/dev/null
kill -9 "$log_PID"
sleep 0.2
# the same log key, an empty database: a log that forgot its history (no witness would cosign)
start_server log2 LPORT2 $BUILD/onevoice-log --data "$T/log2" --key "$T/log/log.key" \
    --producers "$T/producers" --checkpoint-ms 50 --listen "127.0.0.1:$LPORT"
check_eq "the wallet requiring the witness refuses the uncosigned checkpoint" "$(status $OV --wallet "$T/restored.wallet" receipts)" 1
said "does not extend the one this wallet saw before" $OV --wallet "$T/restored.wallet" receipts
check_eq "and keeps the evidence" "$(sql "$T/restored.wallet" "select count(*) > 0 from evidence where kind = 'log_inconsistent'")" 1
kill -9 "$log2_PID"
sleep 0.2
start_server log LPORT3 $BUILD/onevoice-log $LOGARGS --listen "127.0.0.1:$LPORT"

# --- 15. libonevoice installed: header, pkg-config, an outside build of the example -----------
INST=$T/inst
check "make install DESTDIR PREFIX" make -s -o all install BUILD="$BUILD" DESTDIR="$INST" PREFIX=/usr
check "the header, the library, the pkg-config file" test -f "$INST/usr/include/onevoice.h" -a \
    -f "$INST/usr/lib/libonevoice.a" -a -f "$INST/usr/lib/pkgconfig/onevoice.pc"
check_eq "pkg-config names the prefix" "$(PKG_CONFIG_PATH=$INST/usr/lib/pkgconfig pkg-config --variable=prefix onevoice)" /usr
check "pkg-config --validate onevoice.pc" pkg-config --validate "$INST/usr/lib/pkgconfig/onevoice.pc"
check "onevoice.pc has no placeholder (no URL: the project has no public page)" sh -c \
    "! grep -Eq '@|example' '$INST/usr/lib/pkgconfig/onevoice.pc'"
check "the wallet is installed too" test -x "$INST/usr/bin/onevoice"
SANFLAGS=""
if nm "$INST/usr/lib/libonevoice.a" 2>/dev/null | grep -q __asan_report; then
    SANFLAGS="-fsanitize=address,undefined"
fi
check "the example builds from the installed header and pkg-config alone" sh -c \
    "PKG_CONFIG_PATH='$INST/usr/lib/pkgconfig' PKG_CONFIG_SYSROOT_DIR='$INST' \
     cc -std=c17 -Wall -Werror $SANFLAGS -o '$T/platform2' examples/platform.c \
     \$(PKG_CONFIG_PATH='$INST/usr/lib/pkgconfig' PKG_CONFIG_SYSROOT_DIR='$INST' pkg-config --cflags --libs onevoice libmicrohttpd)"
start_server plat2 P2PORT "$T/platform2" $PLATARGS --context a3 --name installed.example
check "a vote through the installed build" $OV --wallet "$W" vote --now a3 abstain --via "http://127.0.0.1:$P2PORT" --platform installed.example
check "make uninstall" make -s uninstall BUILD="$BUILD" DESTDIR="$INST" PREFIX=/usr
check_eq "nothing left" "$(find "$INST" -type f | wc -l)" 0

summary
