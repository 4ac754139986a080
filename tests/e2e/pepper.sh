#!/bin/sh
# The issuer's pepper (docs/PROTOCOL.md §7, issuer/README.md "The pepper"), with a real log
# and issuer: --pepper-file outside the data directory (created 0600, a path inside refused,
# a pepper open to others refused), a missing pepper beside an existing state refused, a
# backup holds no pepper, the database's identity hashes resist the old dictionary attack
# and cost Argon2id per guess with the pepper, every route still enrolls, the same identity
# is recognised across restarts, a pepper still in DIR warned about and moved out the
# documented way, and a state hashed by the first format refused.
. tests/e2e/lib/common.sh
IT=$BUILD/tools/issuertool
T=$E2E_TMP
ISSUER=$BUILD/onevoice-issuer

# refused PATTERN COMMAND...: the command fails, saying PATTERN on stderr
refused() {
    p=$1; shift
    if timeout 30 "$@" >"$T/out" 2>"$T/err"; then fail "should have failed: $*"
    elif grep -q -- "$p" "$T/err"; then ok; else fail "'$p' not in: $(cat "$T/err")"; fi
}
sql() { python3 -c 'import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); r=c.execute(sys.argv[2]).fetchall(); print(" ".join(str(x[0]) for x in r))' "$@"; }
tool_said() { d=$1; want=$2; shift 2; check_eq "$d" "$($IT "$@" 2>&1 | tail -1)" "$want"; }

mkdir -m 700 "$T/vault"
PF=$T/vault/issuer.pepper

# --- 1. where the pepper may live, decided before any key is made --------------------------
refused "is inside the data directory" $ISSUER --data "$T/iss" --pepper-file "$T/iss/pepper" \
    --print-producer-key
check_eq "a pepper path inside --data: exit status 2" "$($ISSUER --data "$T/iss" \
    --pepper-file "$T/iss/sub/../pepper" --print-producer-key 2>/dev/null; echo $?)" 2
mkdir -p -m 700 "$T/iss" && touch "$T/iss/x" && chmod 600 "$T/iss/x"
ln -s "$T/iss/x" "$T/vault/link"
refused "is inside the data directory" $ISSUER --data "$T/iss" --pepper-file "$T/vault/link" \
    --print-producer-key
ln -s "$T/iss/y" "$T/vault/dangling"
refused "a symlink to nothing" $ISSUER --data "$T/iss" --pepper-file "$T/vault/dangling" \
    --print-producer-key
refused "its folder does not exist" $ISSUER --data "$T/iss" --pepper-file "$T/nowhere/p" \
    --print-producer-key
check_eq "those refusals made no key" "$(ls "$T/iss" 2>/dev/null | grep -v '^lock$')" "x"
rm "$T/vault/link" "$T/vault/dangling" "$T/iss/x"

# --- 2. a first start: the pepper is made outside, 0600 --------------------------------------
$ISSUER --data "$T/iss" --pepper-file "$PF" --print-producer-key > "$T/producers"
check_eq "the pepper file is made, mode 0600" "$(stat -c %a "$PF")" 600
check "and no pepper.secret in the data directory" test ! -e "$T/iss/pepper.secret"
check_eq "its line" "$(cut -d' ' -f1-2 "$PF")" "onevoice-secret/v1 pepper"
start_server log LPORT $BUILD/onevoice-log --data "$T/log" --origin pepper.example/log \
    --producers "$T/producers" --checkpoint-ms 50
L=http://127.0.0.1:$LPORT
VK=$($BUILD/onevoice-log --data "$T/log" --print-vkey)
IDPPUB=$($IT keygen "$T/idp.key")
echo "idp-one $(echo "$IDPPUB" | tr -- '-_' '+/')=" > "$T/idps"
ISS="$ISSUER --data $T/iss --log $L --log-vkey $VK --name issuer.example --idps $T/idps --epoch-seconds 0"
start_server iss IPORT $ISS --pepper-file "$PF"
U=http://127.0.0.1:$IPORT
check "no warning about the pepper with --pepper-file" sh -c "! grep -q 'warning: the pepper' '$T/iss.log'"
# (--print-credentials needs no pepper once the keys exist)
ADMIN=$($ISSUER --data "$T/iss" --print-credentials | awk '/^admin /{print $2}')
REG=$($ISSUER --data "$T/iss" --print-credentials | awk '/^registrar /{print $2}')

# --- 3. every route enrolls ----------------------------------------------------------------
check "invitation codes" $IT invites $U "$ADMIN" 4 "$T/codes.csv"
code() { sed -n "$(($1 + 1))p" "$T/codes.csv"; }
for n in 1 2 3 4 5 6; do $IT keygen "$T/c$n.key" > "$T/c$n.pub"; done
check_eq "enroll by invitation" "$($IT enroll $U "$T/c1.key" invite "$(code 1)")" "enrolled recovered=0"
IDREF="NID 4242-17"
TOK=$($IT regtoken $U "$REG" "$IDREF")
check_eq "enroll by registrar" "$($IT enroll $U "$T/c2.key" registrar "$TOK")" "enrolled recovered=0"
tool_said "the same identity again" "refused 409 already_enrolled" regtoken $U "$REG" "$IDREF"
$IT attest "$T/idp.key" idp-one "subject-77" "$T/c3.key" $(($(date +%s) + 600)) "$T/att3"
check_eq "enroll by attestation" "$($IT enroll $U "$T/c3.key" attestation "$T/att3")" "enrolled recovered=0"
$IT attest "$T/idp.key" idp-one "subject-77" "$T/c4.key" $(($(date +%s) + 600)) "$T/att4"
tool_said "the same subject again" "refused 409 already_enrolled" enroll $U "$T/c4.key" attestation "$T/att4"

# --- 4. a backup holds no pepper; the database alone reverses no one -----------------------
i=0
until $ISSUER --data "$T/iss" --backup "$T/bk.db" >/dev/null 2>"$T/bk.err" || [ $i -gt 100 ]; do
    i=$((i + 1)); rm -f "$T/bk.db"; sleep 0.1  # (until the state was checked against the log)
done
check "a backup of the running issuer" test -s "$T/bk.db"
check_eq "the backup is one file, issuer.db's copy" "$(sql "$T/bk.db" 'SELECT count(*) FROM enrollees')" 3
PEPPER_B64=$(cut -d' ' -f3 "$PF")
check "the backup holds neither the pepper's bytes nor its line" python3 -c '
import base64, sys
b = open(sys.argv[1], "rb").read(); p = base64.b64decode(sys.argv[2])
sys.exit(p in b or sys.argv[2].encode() in b)' "$T/bk.db" "$PEPPER_B64"
# the attack of issue 18: a small dictionary of identity numbers, hashed the first way
# (BLAKE2b keyed by the pepper: the attacker is even given it), finds nobody now; hashed the
# documented way, it finds the one enrolled, at Argon2id's price per guess
cat > "$T/attack.py" <<'PY'
import base64, ctypes, hashlib, sqlite3, sys, time
db, pepper_b64, mode = sys.argv[1], sys.argv[2], sys.argv[3]
pep = base64.b64decode(pepper_b64)
rows = {r[0] for r in sqlite3.connect(db).execute(
    "SELECT identity FROM enrollees WHERE route = 'registrar'")}
words = ["NID 4242-%02d" % i for i in range(24)]
so = ctypes.CDLL("libsodium.so.23"); so.sodium_init()
def v1(w):
    return hashlib.blake2b(b"onevoice/v1/identity\0registrar\0" + w, key=pep, digest_size=32).digest()
def v2(w):
    salt = hashlib.blake2b(b"onevoice/v2/identity-salt\0registrar", key=pep, digest_size=16).digest()
    s = ctypes.create_string_buffer(32)
    assert so.crypto_pwhash(s, ctypes.c_ulonglong(32), w, ctypes.c_ulonglong(len(w)), salt,
                            ctypes.c_ulonglong(3), ctypes.c_size_t(12 << 20), ctypes.c_int(2)) == 0
    return hashlib.blake2b(b"onevoice/v2/identity\0registrar\0" + s.raw, key=pep, digest_size=32).digest()
f = v1 if mode == "v1" else v2
t = time.perf_counter()
found = [w for w in words if f(w.encode()) in rows]
ms = (time.perf_counter() - t) * 1000 / len(words)
print(" ".join(found) if found else "none")
print("%.3f" % ms, file=sys.stderr)
PY
check_eq "the first format's dictionary attack, even with the pepper: no match" \
    "$(python3 "$T/attack.py" "$T/bk.db" "$PEPPER_B64" v1 2>"$T/v1.ms")" none
cp "$T/bk.db" "$T/old.db"  # the control: a row hashed the first way is found by that attack
python3 -c '
import base64, hashlib, os, sqlite3, sys
pep = base64.b64decode(sys.argv[2])
h = hashlib.blake2b(b"onevoice/v1/identity\0registrar\0NID 4242-05", key=pep, digest_size=32).digest()
c = sqlite3.connect(sys.argv[1])
c.execute("INSERT INTO enrollees (pseudonym, identity, route, created) VALUES (?, ?, ?, 0)",
          (os.urandom(32), h, "registrar")); c.commit()' "$T/old.db" "$PEPPER_B64"
check_eq "(control: that attack finds a row of the first format)" \
    "$(python3 "$T/attack.py" "$T/old.db" "$PEPPER_B64" v1 2>/dev/null)" "NID 4242-05"
check_eq "the documented hash with the pepper finds the enrolled identity" \
    "$(python3 "$T/attack.py" "$T/bk.db" "$PEPPER_B64" v2 2>"$T/v2.ms")" "$IDREF"
echo "pepper.sh: per guess: first format $(cat "$T/v1.ms") ms, Argon2id $(cat "$T/v2.ms") ms"
check "a guess with the pepper costs Argon2id (>= 2 ms, and 100 times the first format's)" \
    python3 -c 'import sys; a, b = float(sys.argv[1]), float(sys.argv[2]); sys.exit(not (b >= 2 and b >= 100 * a))' \
    "$(cat "$T/v1.ms")" "$(cat "$T/v2.ms")"
check_eq "an invitation code's hash is the fast keyed one (a 128-bit code needs no more)" \
    "$(python3 -c '
import base64, hashlib, sqlite3, sys
pep = base64.b64decode(sys.argv[2])
h = hashlib.blake2b(b"onevoice/v1/identity\0invite\0" + sys.argv[3].encode(), key=pep, digest_size=32).digest()
print(sqlite3.connect(sys.argv[1]).execute("SELECT count(*) FROM invites WHERE hash = ?", (h,)).fetchone()[0])' \
    "$T/bk.db" "$PEPPER_B64" "$(code 1)")" 1

# --- 5. restarts: the same identity is recognised; a missing pepper is refused -------------
kill "$iss_PID"; wait "$iss_PID" 2>/dev/null
start_server iss IPORT2 $ISS --pepper-file "$PF" --listen "127.0.0.1:$IPORT"
tool_said "after a restart, the same identity is still enrolled" "refused 409 already_enrolled" \
    regtoken $U "$REG" "$IDREF"
RTOK=$($IT regtoken $U "$REG" "$IDREF" --recovery)
check_eq "and recovers" "$($IT enroll $U "$T/c5.key" registrar "$RTOK")" "enrolled recovered=1"
kill "$iss_PID"; wait "$iss_PID" 2>/dev/null
mv "$PF" "$T/vault/away"
refused "the pepper $PF is missing, but" $ISS --pepper-file "$PF"
check_eq "a missing pepper beside the state: exit status 1, no new pepper made" \
    "$(timeout 30 $ISS --pepper-file "$PF" 2>/dev/null; echo $?)$(test -e "$PF" && echo ' made')" 1
refused "pepper.* is missing" $ISS --pepper-file "$PF" --init
check "the message says what to do" grep -q "Put back the pepper this state was made with" "$T/err"
mv "$T/vault/away" "$PF"
chmod 644 "$PF"
refused "mode 0600 or 0400" $ISS --pepper-file "$PF"
chmod 400 "$PF"
start_server iss IPORT3 $ISS --pepper-file "$PF" --listen "127.0.0.1:$IPORT"
tool_said "a read-only (0400) pepper serves" "refused 409 already_enrolled" regtoken $U "$REG" "$IDREF"
kill "$iss_PID"; wait "$iss_PID" 2>/dev/null

# --- 6. a pepper still in the data directory: a warning, and the documented move ------------
mv "$PF" "$T/iss/pepper.secret"
start_server iss IPORT4 $ISS --listen "127.0.0.1:$IPORT"
check "without --pepper-file, DIR/pepper.secret serves, with a warning" \
    grep -q "warning: the pepper is $T/iss/pepper.secret, inside the data directory" "$T/iss.log"
tool_said "and recognises the same identity" "refused 409 already_enrolled" regtoken $U "$REG" "$IDREF"
kill "$iss_PID"; wait "$iss_PID" 2>/dev/null
cp -p "$T/iss/pepper.secret" "$PF"
refused "exists beside --pepper-file" $ISS --pepper-file "$PF"
rm "$PF"
mv "$T/iss/pepper.secret" "$PF"  # the documented move, issuer stopped
start_server iss IPORT5 $ISS --pepper-file "$PF" --listen "127.0.0.1:$IPORT"
tool_said "moved out, it recognises the same identity" "refused 409 already_enrolled" \
    regtoken $U "$REG" "$IDREF"
check_eq "an invitation still enrolls" "$($IT enroll $U "$T/c6.key" invite "$(code 2)")" "enrolled recovered=0"
kill "$iss_PID"; wait "$iss_PID" 2>/dev/null

# --- 7. a state whose identities were hashed by the first format is refused ----------------
cp "$T/iss/issuer.db" "$T/keep.db"
sql_exec "$T/iss/issuer.db" <<'SQL' || fail "age the state"
DELETE FROM counters WHERE name = 'identity_v1';
DROP INDEX outbox_due;
ALTER TABLE outbox DROP COLUMN release;
ALTER TABLE outbox DROP COLUMN place;
CREATE INDEX outbox_pending ON outbox (id) WHERE log_index IS NULL;
PRAGMA user_version = 2;
SQL
refused "holds 4 identity hashes of the first format" $ISS --pepper-file "$PF"
check "the message says what to do" grep -q "move issuer.db aside and start once with --init" "$T/err"

echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
