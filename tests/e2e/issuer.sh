#!/bin/sh
# onevoice-issuer end to end, with a real onevoice-log on loopback: contexts logged before
# they open, every enrollment route and recovery, tokens that OpenSSL alone verifies, the
# quota under a hundred concurrent requests, the lost-response retry, every refusal reason,
# privacy (no identity reference, code or enrollee key in clear in the database or the log),
# and kill -9 during a stream of issuances, and the WAL's size under a steady stream.
. tests/e2e/lib/common.sh
IT=$BUILD/tools/issuertool
T=$E2E_TMP

# --- 0. a log, an issuer that appends to it, an identity provider ------------------------
$BUILD/onevoice-issuer --data "$T/iss" --print-producer-key > "$T/producers"
check_eq "producer key line" "$(cut -d' ' -f1 "$T/producers")" issuer
start_server log LPORT $BUILD/onevoice-log --data "$T/log" --origin e2e.example/log \
    --producers "$T/producers" --checkpoint-ms 50
L=http://127.0.0.1:$LPORT
VK=$($BUILD/onevoice-log --data "$T/log" --print-vkey)
IDPPUB=$($IT keygen "$T/idp.key")
echo "idp-one $(echo "$IDPPUB" | tr -- '-_' '+/')=" > "$T/idps"
ISSARGS="--data $T/iss --log $L --log-vkey $VK --name issuer.example --idps $T/idps --epoch-seconds 0"
start_server iss IPORT $BUILD/onevoice-issuer $ISSARGS
U=http://127.0.0.1:$IPORT
ADMIN=$($BUILD/onevoice-issuer --data "$T/iss" --print-credentials | awk '/^admin /{print $2}')
REG=$($BUILD/onevoice-issuer --data "$T/iss" --print-credentials | awk '/^registrar /{print $2}')
for f in producer.key admin.secret registrar.secret pepper.secret tag.secret issuer.db; do
    check_eq "$f is mode 0600" "$(stat -c %a "$T/iss/$f")" 600
done

err() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["error"])' "$T/resp" 2>/dev/null; }
# refusal DESCRIPTION STATUS REASON COMMAND...: the command's HTTP status and error reason
post_json() { curl -s -o "$T/resp" -w '%{http_code}' -X POST -H 'Content-Type: application/json' "$@"; }
refusal() { d=$1; s=$2; r=$3; shift 3; got=$("$@"); check_eq "$d" "$got $(err)" "$s $r"; }
# tool_refusal DESCRIPTION STATUS REASON issuertool-args...
tool_refusal() { d=$1; s=$2; r=$3; shift 3; check_eq "$d" "$($IT "$@" 2>&1 | tail -1)" "refused $s $r"; }

# --- 1. contexts ---------------------------------------------------------------------------
NOW=$(date +%s)
ctx() { # id type quota opens closes
    if [ "$2" = assembly ]; then kind='"type":"assembly","choices":["yes","no","abstain"]';
    else kind='"type":"rating","scale":[1,5]'; fi
    echo "{\"id\":\"$1\",\"title\":\"Context $1\",$kind,\"opens\":$4,\"closes\":$5,\"quota\":$3}"
}
refusal "context without the admin secret" 401 unauthorized \
    post_json "$U/admin/contexts" -d "$(ctx x1 assembly 1 $NOW $((NOW + 60)))"
refusal "context with another secret" 401 unauthorized post_json "$U/admin/contexts" \
    -H "Authorization: Bearer $REG" -d "$(ctx x1 assembly 1 $NOW $((NOW + 60)))"
refusal "malformed context" 400 malformed_request post_json "$U/admin/contexts" \
    -H "Authorization: Bearer $ADMIN" -d '{"id":"Bad Id","title":"t"}'
refusal "context closing in the past" 400 invalid_context post_json "$U/admin/contexts" \
    -H "Authorization: Bearer $ADMIN" -d "$(ctx x2 assembly 1 $((NOW - 100)) $((NOW - 50)))"
check "assembly context created" sh -c "$IT context $U $ADMIN '$(ctx a1 assembly 1 $((NOW - 5)) $((NOW + 3600)))' > $T/a1.out"
check "rating context created" $IT context $U "$ADMIN" "$(ctx r1 rating 3 $((NOW - 5)) $((NOW + 3600)))"
check "future context created" $IT context $U "$ADMIN" "$(ctx f1 assembly 1 $((NOW + 3000)) $((NOW + 3600)))"
S_END=$(($(date +%s) + 4)) # from now, not from the script's start: a loaded machine is slow
check "short context created" $IT context $U "$ADMIN" "$(ctx s1 assembly 1 $((NOW - 5)) $S_END)"
check "large-quota context created" $IT context $U "$ADMIN" "$(ctx big assembly 100000 $((NOW - 5)) $((NOW + 3600)))"
refusal "same id again" 409 context_exists post_json "$U/admin/contexts" \
    -H "Authorization: Bearer $ADMIN" -d "$(ctx a1 assembly 1 $NOW $((NOW + 60)))"
# thirty more at once, four in parallel: truncated key ids (one byte) collide often by now
i=0
while [ $i -lt 30 ]; do
    pids=""
    for k in 1 2 3 4; do
        $IT context $U "$ADMIN" "$(ctx m$i-$k rating 1 $((NOW - 5)) $((NOW + 3600)))" >/dev/null 2>&1 &
        pids="$pids $!"
    done
    for p in $pids; do wait "$p"; done
    i=$((i + 4))
done
curl -s "$U/contexts" > "$T/contexts.json"
check_eq "every context listed" "$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$T/contexts.json")" 37
check_eq "truncated key ids of contexts not closed never collide" "$(python3 -c '
import json,sys,time
c=[x for x in json.load(open(sys.argv[1])) if x["closes"] > time.time()]
t=[x["truncated_key_id"] for x in c]
print(len(t) == len(set(t)))' "$T/contexts.json")" True
check_eq "listing: open flags" "$(python3 -c '
import json,sys
c={x["id"]: x for x in json.load(open(sys.argv[1]))}
print(c["a1"]["open"], c["f1"]["open"], c["a1"]["issuer"], c["r1"]["scale"], c["a1"]["quota"])' "$T/contexts.json")" "True False issuer.example [1, 5] 1"
check_eq "a1's log index as created" "$(python3 -c '
import json,sys
c={x["id"]: x for x in json.load(open(sys.argv[1]))}
print(c["a1"]["log_index"], c["a1"]["truncated_key_id"])' "$T/contexts.json")" "$(cat "$T/a1.out")"
curl -s -D "$T/dir.h" "$U/.well-known/private-token-issuer-directory" > "$T/dir.json"
check_eq "directory media type" "$(tr -d '\r' < "$T/dir.h" | sed -n 's/^Content-Type: //ip')" \
    "application/private-token-issuer-directory"
check_eq "directory: the keys of the open contexts, type 2, padded base64url" "$(python3 -c '
import base64,json,sys,hashlib
d=json.load(open(sys.argv[1])); c=json.load(open(sys.argv[2]))
keys={base64.urlsafe_b64decode(k["token-key"]) for k in d["token-keys"] if k["token-type"] == 2}
opn={base64.urlsafe_b64decode(x["token_key"] + "=" * (-len(x["token_key"]) % 4)) for x in c if x["open"]}
ids={base64.urlsafe_b64decode(x["token_key_id"] + "=") == hashlib.sha256(base64.urlsafe_b64decode(x["token_key"] + "=" * (-len(x["token_key"]) % 4))).digest() for x in c}
print(keys == opn, ids == {True}, d["issuer-request-uri"], len(keys[0] if False else keys) > 30)' "$T/dir.json" "$T/contexts.json")" \
    "True True /token-request True"

# --- 2. enrollment ---------------------------------------------------------------------------
refusal "invites without the admin secret" 401 unauthorized post_json "$U/admin/invites" -d '{"count":3}'
refusal "invites: count out of range" 400 malformed_request post_json "$U/admin/invites" \
    -H "Authorization: Bearer $ADMIN" -d '{"count":0}'
refusal "invites: a draw id that is not one" 400 malformed_request post_json "$U/admin/invites" \
    -H "Authorization: Bearer $ADMIN" -d '{"count":2,"draw":"Not An Id"}'
refusal "invites: an unknown key" 400 malformed_request post_json "$U/admin/invites" \
    -H "Authorization: Bearer $ADMIN" -d '{"count":2,"panel":3}'
check_eq "invites for a draw: two codes" "$(curl -s -X POST "$U/admin/invites" \
    -H "Authorization: Bearer $ADMIN" -H 'Content-Type: application/json' \
    -d '{"count":2,"draw":"panel-2027"}' | tail -n +2 | grep -c '^[A-Za-z0-9_-]\{22\}$')" 2
check "invitation codes" $IT invites $U "$ADMIN" 8 "$T/codes.csv"
check_eq "CSV: a header and eight 22-character codes" "$(head -1 "$T/codes.csv") $(tail -n +2 "$T/codes.csv" | grep -c '^[A-Za-z0-9_-]\{22\}$')" "code 8"
code() { sed -n "$(($1 + 1))p" "$T/codes.csv"; }
for n in 1 2 3 4 5 6 7 8 9; do $IT keygen "$T/c$n.key" > "$T/c$n.pub"; done
check_eq "enroll by invitation" "$($IT enroll $U "$T/c1.key" invite "$(code 1)")" "enrolled recovered=0"
tool_refusal "the same code again" 409 code_used enroll $U "$T/c9.key" invite "$(code 1)"
tool_refusal "an unknown code" 403 unknown_code enroll $U "$T/c9.key" invite AAAAAAAAAAAAAAAAAAAAAA
tool_refusal "a key already enrolled" 409 key_in_use enroll $U "$T/c1.key" invite "$(code 2)"
check_eq "the refused code is still good" "$($IT enroll $U "$T/c5.key" invite "$(code 2)")" "enrolled recovered=0"
IDREF="NID-7702-1948-3355"
refusal "registrar token without the registrar secret" 401 unauthorized \
    post_json "$U/registrar/tokens" -H "Authorization: Bearer $ADMIN" -d "{\"identity\":\"$IDREF\"}"
TOK=$($IT regtoken $U "$REG" "$IDREF")
check_eq "registrar token" "$(echo "$TOK" | grep -c '^[A-Za-z0-9_-]\{43\}$')" 1
check_eq "enroll by registrar" "$($IT enroll $U "$T/c2.key" registrar "$TOK")" "enrolled recovered=0"
tool_refusal "the same token again" 409 token_used enroll $U "$T/c9.key" registrar "$TOK"
tool_refusal "an unknown token" 403 unknown_token enroll $U "$T/c9.key" registrar \
    AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA
tool_refusal "the same identity again" 409 already_enrolled regtoken $U "$REG" "$IDREF"
tool_refusal "recovery of an unknown identity" 409 not_enrolled regtoken $U "$REG" "NID-0000" --recovery
SUBJ="idp-subject-5f3a9c"
FAR=$((NOW + 600))
$IT attest "$T/idp.key" idp-one "$SUBJ" "$T/c3.key" $FAR "$T/att3"
check_eq "enroll by attestation" "$($IT enroll $U "$T/c3.key" attestation "$T/att3")" "enrolled recovered=0"
$IT attest "$T/idp.key" idp-one "$SUBJ" "$T/c9.key" $FAR "$T/att9"
tool_refusal "the same subject again" 409 already_enrolled enroll $U "$T/c9.key" attestation "$T/att9"
tool_refusal "an attestation for another key" 403 bad_attestation enroll $U "$T/c8.key" attestation "$T/att9"
$IT attest "$T/idp.key" idp-two other "$T/c9.key" $FAR "$T/att9b"
tool_refusal "an unknown identity provider" 403 unknown_idp enroll $U "$T/c9.key" attestation "$T/att9b"
$IT attest "$T/c8.key" idp-one other "$T/c9.key" $FAR "$T/att9c"
tool_refusal "an attestation not signed by the IdP" 403 bad_attestation enroll $U "$T/c9.key" attestation "$T/att9c"
$IT attest "$T/idp.key" idp-one other "$T/c9.key" $((NOW - 1)) "$T/att9d"
tool_refusal "an expired attestation" 403 attestation_expired enroll $U "$T/c9.key" attestation "$T/att9d"
refusal "malformed enrollment" 400 malformed_request post_json "$U/enroll" -d '{"route":"invite"}'
B="{\"route\":\"invite\",\"code\":\"$(code 3)\",\"key\":\"$(cat "$T/c4.pub")\",\"time\":$((NOW * 1000))}"
refusal "unsigned enrollment" 401 bad_signature post_json "$U/enroll" -d "$B"
refusal "enrollment signed by someone else" 401 bad_signature post_json "$U/enroll" \
    -H "Onevoice-Signature: $(printf '%086d' 0 | tr 0 A)" -d "$B"
for n in 4 6 7; do $IT enroll $U "$T/c$n.key" invite "$(code $n)" >/dev/null; done

# --- 3. issuance -----------------------------------------------------------------------------
check_eq "a token, and the same answer for the same blinded message" \
    "$($IT token $U "$T/c1.key" a1 "$T/tok1" --retry | tr '\n' ' ')" "retry same token ok "
check_eq "a Privacy Pass token is 354 bytes" "$(stat -c %s "$T/tok1")" 354
openssl dgst -sha384 -binary "$T/tok1.input" > "$T/tok1.h"
check "the token verifies as RSASSA-PSS (SHA-384, salt 48) under the published SPKI, by OpenSSL alone" \
    openssl pkeyutl -verify -pubin -keyform DER -inkey "$T/tok1.spki" -in "$T/tok1.h" \
    -sigfile "$T/tok1.auth" -pkeyopt rsa_padding_mode:pss -pkeyopt rsa_pss_saltlen:48 \
    -pkeyopt digest:sha384
printf 'x' | openssl dgst -sha384 -binary > "$T/x.h"
check_eq "and another message does not" "$(openssl pkeyutl -verify -pubin -keyform DER \
    -inkey "$T/tok1.spki" -in "$T/x.h" -sigfile "$T/tok1.auth" -pkeyopt rsa_padding_mode:pss \
    -pkeyopt rsa_pss_saltlen:48 -pkeyopt digest:sha384 >/dev/null 2>&1; echo $?)" 1
check_eq "the token names the context's key" "$(python3 -c '
import hashlib,sys
t=open(sys.argv[1],"rb").read(); k=open(sys.argv[2],"rb").read()
print(t[:2].hex(), t[66:98] == hashlib.sha256(k).digest())' "$T/tok1" "$T/tok1.spki")" "0002 True"
tool_refusal "a second token in a quota-1 context" 429 quota_spent token $U "$T/c1.key" a1 "$T/x"
for n in 1 2 3; do $IT token $U "$T/c2.key" r1 "$T/r$n" >/dev/null; done
tool_refusal "a fourth token in a quota-3 context" 429 quota_spent token $U "$T/c2.key" r1 "$T/x"
check_eq "100 concurrent requests of one person, quota 1: exactly one token" \
    "$($IT storm $U "$T/c3.key" a1 100)" "issued 1 refused 99 quota_spent=99"
check_eq "and 100 more: none" "$($IT storm $U "$T/c3.key" a1 100)" "issued 0 refused 100 quota_spent=100"

# hostile token requests, sent by curl
post_tok() { # name [curl args]: the status
    n=$1; shift
    curl -s -o "$T/resp" -w '%{http_code}' -X POST -H 'Content-Type: application/private-token-request' \
        "$@" --data-binary @"$T/$n.body" "$U/token-request"
}
signed() { n=$1; shift; post_tok "$n" -H "$(sed -n 1p "$T/$n.hdr")" -H "$(sed -n 2p "$T/$n.hdr")" \
    -H "$(sed -n 3p "$T/$n.hdr")" "$@"; }
$IT request $U "$T/c4.key" r1 "$T/q1"
check_eq "a signed request by curl" "$(signed q1)" 200
check_eq "the same signed request again" "$(signed q1) $(err)" "409 replayed_request"
$IT request $U "$T/c4.key" r1 "$T/q2" --type 1
# RFC 9578 §6.2: a wrong token type, an unknown truncated key id or a TokenRequest of the
# wrong size is 422 (Unprocessable Content), checked in that order
check_eq "wrong token type" "$(signed q2) $(err)" "422 wrong_token_type"
$IT request $U "$T/c4.key" r1 "$T/q3"
check_eq "unsigned request" "$(post_tok q3) $(err)" "401 bad_signature"
head -c 100 "$T/q3.body" > "$T/q4.body"; cp "$T/q3.hdr" "$T/q4.hdr"
check_eq "truncated TokenRequest" "$(signed q4) $(err)" "422 malformed_request"
head -c 258 "$T/q3.body" > "$T/q4s.body"; cp "$T/q3.hdr" "$T/q4s.hdr"
check_eq "TokenRequest one byte short" "$(signed q4s) $(err)" "422 malformed_request"
{ cat "$T/q3.body"; printf 'x'; } > "$T/q4l.body"; cp "$T/q3.hdr" "$T/q4l.hdr"
check_eq "TokenRequest one byte long" "$(signed q4l) $(err)" "422 malformed_request"
python3 -c 'import os,sys; b=open(sys.argv[1],"rb").read(); open(sys.argv[2],"wb").write(b"\x00\x01" + b[2:3] + os.urandom(49))' "$T/q3.body" "$T/q4t.body"
cp "$T/q3.hdr" "$T/q4t.hdr"
check_eq "a type-1 TokenRequest (52 bytes): its type is the reason" "$(signed q4t) $(err)" "422 wrong_token_type"
python3 -c 'import sys; b=bytearray(open(sys.argv[1],"rb").read()); b[100]^=1; open(sys.argv[2],"wb").write(b)' "$T/q3.body" "$T/q5.body"
cp "$T/q3.hdr" "$T/q5.hdr"
check_eq "altered blinded message" "$(signed q5) $(err)" "401 bad_signature"
FREE=$(python3 -c 'import json,sys; t={x["truncated_key_id"] for x in json.load(open(sys.argv[1]))}; print(min(set(range(256)) - t))' "$T/contexts.json")
python3 -c 'import sys; b=bytearray(open(sys.argv[1],"rb").read()); b[2]=int(sys.argv[3]); open(sys.argv[2],"wb").write(b)' "$T/q3.body" "$T/q6.body" "$FREE"
cp "$T/q3.hdr" "$T/q6.hdr"
check_eq "unknown key id" "$(signed q6) $(err)" "422 unknown_key_id"
head -c 200 "$T/q6.body" > "$T/q6s.body"; cp "$T/q3.hdr" "$T/q6s.hdr"
check_eq "unknown key id and the wrong size: the key id is the reason" "$(signed q6s) $(err)" "422 unknown_key_id"
$IT request $U "$T/c4.key" r1 "$T/q7" --age-ms 120000
check_eq "expired request" "$(signed q7) $(err)" "401 stale_request"
$IT request $U "$T/c9.key" r1 "$T/q8"
check_eq "unknown enrollee" "$(signed q8) $(err)" "403 unknown_enrollee"
$IT request $U "$T/c4.key" f1 "$T/q9"
check_eq "context not open yet" "$(signed q9) $(err)" "403 context_closed"
check_eq "GET on the issuance endpoint" "$(http_status GET "$U/token-request")" 405
head -c 1025 /dev/zero > "$T/q10.body"; cp "$T/q3.hdr" "$T/q10.hdr"
check_eq "a body over 1 KiB: refused before it is read" "$(signed q10) $(err)" "413 body_too_large"
check "the refused requests stored nothing: c4 still gets its other two" sh -c \
    "$IT token $U $T/c4.key r1 $T/x1 >/dev/null && $IT token $U $T/c4.key r1 $T/x2 >/dev/null"
tool_refusal "and then its quota is spent" 429 quota_spent token $U "$T/c4.key" r1 "$T/x"

# --- 4. recovery -----------------------------------------------------------------------------
TOK2=$($IT regtoken $U "$REG" "$IDREF" --recovery)
check_eq "the registrar re-enrolls the identity with a new key" \
    "$($IT enroll $U "$T/c8.key" registrar "$TOK2")" "enrolled recovered=1"
tool_refusal "the old key is refused" 403 revoked_key token $U "$T/c2.key" a1 "$T/x"
tool_refusal "the new key has the same quotas already spent" 429 quota_spent token $U "$T/c8.key" r1 "$T/x"
check_eq "and the ones not spent" "$($IT token $U "$T/c8.key" a1 "$T/tok8")" "token ok"

# --- 5. the short context closes ---------------------------------------------------------------
$IT request $U "$T/c5.key" s1 "$T/q11"
while [ "$(date +%s)" -le $S_END ]; do sleep 0.2; done
check_eq "closed context" "$(signed q11) $(err)" "403 context_closed"

check "metrics: refusals by reason" sh -c "curl -s $U/metrics | grep -q '^issuer_refusals_total{reason=\"quota_spent\"} [1-9]'"
check "metrics: issuances" sh -c "curl -s $U/metrics | grep -q '^issuer_issuances_total [1-9]'"
check "metrics: enrollments" sh -c "curl -s $U/metrics | grep -q '^issuer_enrollments_total 8'"

# --- 6. kill -9 during a stream of issuances -----------------------------------------------------
case $BUILD in *asan*) STREAM=600 ;; *) STREAM=1500 ;; esac # RSA is slow under ASan
$IT stream $U "$T/c6.key" big $STREAM "$T/stream" > "$T/stream.out" 2>&1 &
SPID=$!
sleep 1.5
kill -9 "$iss_PID"
wait "$iss_PID" 2>/dev/null
sleep 0.3
start_server iss IPORT2 $BUILD/onevoice-issuer $ISSARGS --listen "127.0.0.1:$IPORT"
wait "$SPID"
check_eq "the stream finished through the crash" "$(cut -d' ' -f1-3 "$T/stream.out")" "stream tokens $STREAM"
check_eq "$STREAM distinct tokens" "$(sort -u "$T/stream" | wc -l)" $STREAM
check "the crash cut the stream (requests retried)" test "$(cut -d" " -f5 "$T/stream.out")" -gt 0

# --- 7. the log down: issuance goes on, the outbox keeps the entries until it is back ---------
kill "$log_PID"
wait "$log_PID" 2>/dev/null
check "tokens while the log is down" sh -c "$IT token $U $T/c7.key r1 $T/y1 >/dev/null && $IT token $U $T/c7.key r1 $T/y2 >/dev/null"
sleep 0.3
check "the outbox holds them" test "$(curl -s $U/metrics | awk '/^issuer_outbox_backlog /{print $2}')" -ge 2
start_server log LPORT2 $BUILD/onevoice-log --data "$T/log" --origin e2e.example/log \
    --producers "$T/producers" --checkpoint-ms 50 --listen "127.0.0.1:$LPORT"

# --- 8. the log -----------------------------------------------------------------------------------
i=0
while [ "$(curl -s $U/metrics | awk '/^issuer_outbox_backlog /{print $2}')" != 0 ] && [ $i -lt 300 ]; do
    sleep 0.05; i=$((i + 1))
done
check_eq "the outbox is empty" "$(curl -s $U/metrics | awk '/^issuer_outbox_backlog /{print $2}')" 0
sleep 0.3 # a checkpoint covers it all
$IT logscan "$L" "$VK" --dump "$T/entries" > "$T/scan" 2>&1
check "no tag twice, none past its quota" $IT logscan "$L" "$VK"
check_eq "every listed context is, byte for byte, the log's entry at its log_index" \
    "$($IT logscan "$L" "$VK" --issuer "$U" | sed -n 2p)" "listed 37 logged-as-listed 37"
check_eq "the log holds every context, enrollment and issuance" "$(head -1 "$T/scan" | cut -d' ' -f3-)" \
    "contexts 37 enrollments 8 issuances $((STREAM + 11))"
check_eq "every token of the stream has its log entry, and no more" "$(grep '^context big ' "$T/scan")" "context big issued $STREAM tags 1"
check_eq "a1: one token each for c1, c3 and the recovered c2" "$(grep '^context a1 ' "$T/scan")" "context a1 issued 3 tags 3"
check_eq "r1: quota 3 of c2, c4's three, c7's two while the log was down" "$(grep '^context r1 ' "$T/scan")" "context r1 issued 8 tags 3"
check_eq "health" "$(curl -s $U/healthz)" ok

# --- 8b. a database of the first schema (UNIQUE (context, blinded)) is migrated ----------------
SHAPE=$(table_shape "$T/iss/issuer.db" issuances)
kill "$iss_PID"; wait "$iss_PID" 2>/dev/null
sql_exec "$T/iss/issuer.db" <<'SQL' || fail "downgrade"
CREATE TABLE issuances_v1 (context TEXT NOT NULL REFERENCES contexts (id),
  pseudonym BLOB NOT NULL REFERENCES enrollees (pseudonym), n INTEGER NOT NULL CHECK (n >= 1),
  blinded BLOB NOT NULL CHECK (length(blinded) = 256),
  response BLOB NOT NULL CHECK (length(response) = 256), time INTEGER NOT NULL,
  outbox_id INTEGER NOT NULL UNIQUE REFERENCES outbox (id),
  PRIMARY KEY (context, pseudonym, n), UNIQUE (context, blinded)) STRICT, WITHOUT ROWID;
INSERT INTO issuances_v1 SELECT context, pseudonym, n, blinded, response, time, outbox_id FROM issuances;
DROP TABLE issuances;
ALTER TABLE issuances_v1 RENAME TO issuances;
CREATE TRIGGER issuances_quota BEFORE INSERT ON issuances
  WHEN NEW.n > (SELECT quota FROM contexts WHERE id = NEW.context)
  BEGIN SELECT RAISE(ABORT, 'quota exceeded'); END;
DROP INDEX outbox_due;
ALTER TABLE outbox DROP COLUMN release;
ALTER TABLE outbox DROP COLUMN place;
CREATE INDEX outbox_pending ON outbox (id) WHERE log_index IS NULL;
PRAGMA user_version = 1;
SQL
check_eq "downgraded: the first schema's extra index is there" \
    "$(table_shape "$T/iss/issuer.db" issuances | cut -d' ' -f1)" 1
start_server iss IPORT3 $BUILD/onevoice-issuer $ISSARGS --listen "127.0.0.1:$IPORT"
check_eq "the first schema is migrated, every issuance kept, the (context, blinded) index gone" \
    "$(table_shape "$T/iss/issuer.db" issuances)" "$SHAPE"
check_eq "after the migration, the same blinded message gets the same answer" \
    "$($IT token $U "$T/c7.key" r1 "$T/y3" --retry | tr '\n' ' ')" "retry same token ok "
tool_refusal "after the migration, a spent quota stays spent" 429 quota_spent token $U "$T/c1.key" a1 "$T/x"
check "after the migration, the stream's tokens are still one per issuance" $IT logscan "$L" "$VK"

# --- 9. privacy ---------------------------------------------------------------------------------
secrets_in() { # file: prints how many of the secrets appear in it in clear
    python3 - "$1" "$T" "$IDREF" "$SUBJ" "$TOK" "$TOK2" <<'PY'
import base64, sys, glob, os
data = b"".join(open(f, "rb").read() for f in glob.glob(sys.argv[1]))
t = sys.argv[2]
needles = [s.encode() for s in sys.argv[3:]]
needles += [l.strip().encode() for l in open(t + "/codes.csv").read().split()[1:]]
print(sum(1 for n in needles if n in data))
PY
}
keys_in() { # file: how many enrollee public keys appear in it (raw or base64url)
    python3 - "$1" "$T" <<'PY'
import base64, sys, glob
data = b"".join(open(f, "rb").read() for f in glob.glob(sys.argv[1]))
n = 0
for i in range(1, 10):
    s = open("%s/c%d.pub" % (sys.argv[2], i)).read().strip()
    raw = base64.urlsafe_b64decode(s + "=")
    n += (raw in data) + (s.encode() in data)
print(n)
PY
}
check_eq "no identity reference, subject, code or token in the issuer's database" \
    "$(secrets_in "$T/iss/issuer.db*")" 0
check_eq "none in the log's database" "$(secrets_in "$T/log/log.db*")" 0
check_eq "none in the log's entries" "$(secrets_in "$T/entries")" 0
check_eq "no enrollee key in the log's entries" "$(keys_in "$T/entries")" 0
check_eq "no enrollee key in the log's database" "$(keys_in "$T/log/log.db*")" 0
check_eq "no secret in the servers' output" "$(secrets_in "$T/*.log")" 0
check "the search finds what is there: the codes in their CSV" test "$(secrets_in "$T/codes.csv")" -gt 0
check "and the keys in the issuer's key table" test "$(keys_in "$T/iss/issuer.db*")" -gt 0

# --- 10. disk: the WAL is rewound under a steady stream ----------------------------------------
# A checkpoint that races the commits never lets SQLite rewind the WAL: it grew by some
# 70 MB a second of issuance. The writer checkpoints at 16 MiB of WAL between its batches.
$IT bench $U "$ADMIN" big --conns 16 --seconds 4 --requests 20000 > "$T/bench.out" 2>&1
check_eq "four seconds of issuance from 16 connections, no error" \
    "$(awk '{ print ($3 > 0 ? "issued" : "none"), "errors", $9 }' "$T/bench.out")" "issued errors 0"
check "the WAL stays under 24 MiB" test "$(stat -c %s "$T/iss/issuer.db-wal")" -lt $((24 << 20))

# --- 10b. restored from an older copy of issuer.db: the log's count of this producer's
# --- entries (GET /producers/issuer) shows it is behind; enrollments and tokens are refused
# --- (503 behind_log) until the newest state is back ---------------------------------------
backlog() { curl -s $U/metrics | awk '/^issuer_outbox_backlog /{print $2}'; }
drained() { i=0; while [ "$(backlog)" != 0 ] && [ $i -lt 300 ]; do sleep 0.05; i=$((i + 1)); done; }
drained
python3 -c 'import sqlite3, sys
src = sqlite3.connect(sys.argv[1]); dst = sqlite3.connect(sys.argv[2]); src.backup(dst)' \
    "$T/iss/issuer.db" "$T/iold.db" || fail "copy issuer.db"
producer_entries() { curl -s "$L/producers/issuer" | python3 -c 'import json,sys; print(json.load(sys.stdin)["entries"])'; }
N0=$(producer_entries)
check "the log counts the issuer's entries" test "$N0" -gt "$STREAM"
refusal "a context after the copy" 201 "" post_json "$U/admin/contexts" \
    -H "Authorization: Bearer $ADMIN" -d "$(ctx late0 assembly 1 $NOW $((NOW + 600)))"
drained
check_eq "the log counted its entry" "$(producer_entries)" "$((N0 + 1))"
check_eq "an unknown producer's count" "$(http_status GET "$L/producers/nobody")" 404
kill -9 "$iss_PID"; wait "$iss_PID" 2>/dev/null
mv "$T/iss/issuer.db" "$T/inew.db"; mv "$T/iss/issuer.db-wal" "$T/inew.db-wal"
rm -f "$T/iss/issuer.db-shm"
cp "$T/iold.db" "$T/iss/issuer.db"
start_server iss IPORT $BUILD/onevoice-issuer $ISSARGS --listen "127.0.0.1:$IPORT"
tool_refusal "restored from the older copy, the issuer refuses tokens" 503 behind_log \
    token $U "$T/c7.key" r1 "$T/y5"
refusal "and contexts (late0 is in the log, not in the copy)" 503 behind_log post_json \
    "$U/admin/contexts" -H "Authorization: Bearer $ADMIN" -d "$(ctx late0 assembly 1 $NOW $((NOW + 600)))"
check "it says why, with the count" grep -q "has only $N0 of them acknowledged" "$T/iss.log"
kill "$iss_PID"; wait "$iss_PID" 2>/dev/null
rm -f "$T/iss/issuer.db-wal" "$T/iss/issuer.db-shm"; mv "$T/inew.db" "$T/iss/issuer.db"
mv "$T/inew.db-wal" "$T/iss/issuer.db-wal"
start_server iss IPORT $BUILD/onevoice-issuer $ISSARGS --listen "127.0.0.1:$IPORT"
refusal "with the newest state back, the context made after the copy is not made twice" 409 \
    context_exists post_json "$U/admin/contexts" -H "Authorization: Bearer $ADMIN" \
    -d "$(ctx late0 assembly 1 $NOW $((NOW + 600)))"

# --- 11. a lost state: with the keys in place, a missing, empty or garbage issuer.db is
# --- refused (it would re-create contexts and quotas); --init; another deployment's database --
kill "$iss_PID"; wait "$iss_PID" 2>/dev/null
$BUILD/onevoice-issuer --data "$T/iss2" --print-producer-key >/dev/null
check "a first start creates issuer.db with the keys" test -s "$T/iss2/issuer.db"
SG_TMP=$T
. tests/e2e/lib/stateguard.sh
state_guard onevoice-issuer "$T/iss/issuer.db" "$T/iss2/issuer.db" $BUILD/onevoice-issuer $ISSARGS
start_server iss IPORT $BUILD/onevoice-issuer $ISSARGS
U=http://127.0.0.1:$IPORT
NOW=$(date +%s)
refusal "after all that, a context is not created twice" 409 context_exists post_json \
    "$U/admin/contexts" -H "Authorization: Bearer $ADMIN" -d "$(ctx a1 assembly 1 $NOW $((NOW + 60)))"
summary
