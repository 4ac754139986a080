#!/bin/sh
# Oblivious HTTP end to end (docs/PROTOCOL.md §13): a witness, a log and a verifier on
# loopback, each with its gateway, behind one onevoice-relay. An action sent through the relay
# is counted and its receipt returned; its receipt, the log's checkpoint and a tile fetched
# through it are the same bytes as directly; the relay forwards no header of the sender's; the
# refusals (tampered, unknown key id, wrong type, oversized, dead gateway); the gateway key is
# private and survives kill -9; a rotation serves two configurations and honours the old one;
# the relay reaches an HTTPS gateway only with a certificate it verifies.
. tests/e2e/lib/common.sh
VT=$BUILD/tools/vtool
OT=$BUILD/tools/ohttptool
T=$E2E_TMP
ORIGIN=e2e.example/ohttp
. tests/e2e/lib/verifier_env.sh

# a dead gateway: a port that was just free (a server started and killed on it)
start_server dead DPORT $BUILD/onevoice-relay --data "$T/dead" --gateway "x=http://127.0.0.1:1/"
kill -9 "$dead_PID"; wait "$dead_PID" 2>/dev/null
start_server relay RPORT $BUILD/onevoice-relay --data "$T/r" \
    --gateway "verifier=$V/gateway,log=$L/gateway,dead=http://127.0.0.1:$DPORT/gateway"
R=http://127.0.0.1:$RPORT

check_eq "the verifier's gateway key is private (0600)" "$(stat -c %a "$T/v/ohttp-key")" 600
check_eq "the log's too" "$(stat -c %a "$T/log/ohttp-key")" 600
keys_hex() { curl -s "$1/ohttp-keys" | od -An -tx1 | tr -d ' \n'; }
VKEYS=$(keys_hex "$V")
check_eq "GET /ohttp-keys: one X25519 config, HKDF-SHA256 and ChaCha20Poly1305" \
    "$(echo "$VKEYS" | cut -c1-4) $(echo "$VKEYS" | cut -c7-10) $(echo "$VKEYS" | cut -c75-)" \
    "0029 0020 000400010003"
check_eq "its type" "$(curl -s -o /dev/null -w '%{content_type}' "$V/ohttp-keys")" \
    "application/ohttp-keys"

# --- an action through the relay: counted, its receipt returned ------------------------------
$VT context "$L" "$T/issuer.key" "$T" town --choices yes,no >/dev/null || fail "context"
$VT mint "$T" town 4 "$T/town.tok" || fail "mint"
i=0
until curl -s "$V/contexts" | grep -q '"town"' || [ $i -gt 100 ]; do sleep 0.05; i=$((i + 1)); done
$VT act "$V" "$T" town "$T/town.tok" 0 --choice yes --body "$T/a0.json" >/dev/null
$OT send "$R/relay/verifier" "$V" POST "/actions?wait=proof" application/json "$T/a0.json" \
    > "$T/a0.out"
check_eq "an action through the relay is counted: 200" "$(sed -n 1p "$T/a0.out")" "status 200"
check_eq "its answer is the receipt (JSON)" "$(sed -n 2p "$T/a0.out")" "type application/json"
sed -n '3,$p' "$T/a0.out" > "$T/r0.json"
check "the receipt carries its proof and checks offline (log key, witness)" \
    $VT check "$VK" "$T/r0.json" --witnesses "$T/witnesses" --quorum 1 --expect-kind action
$OT send "$R/relay/verifier" "$V" POST "/actions" application/json "$T/a0.json" > "$T/a0b.out"
check_eq "the same action again: the same receipt index" \
    "$(sed -n '3,$p' "$T/a0b.out" | grep -o '"index":[0-9]*')" "$(grep -o '"index":[0-9]*' "$T/r0.json")"
$VT act "$V" "$T" town "$T/town.tok" 0 --choice no --body "$T/a1.json" >/dev/null
$OT send "$R/relay/verifier" "$V" POST "/actions" application/json "$T/a1.json" > "$T/a1.out"
check_eq "the spent token on another ballot: the verifier's own 409, encapsulated" \
    "$(sed -n 1p "$T/a1.out") $(sed -n 3p "$T/a1.out" | grep -o '"error":"[a-z_]*"')" \
    'status 409 "error":"token_spent"'
check_eq "the live tally counts it, once" \
    "$(curl -s "$V/tallies/town" | python3 -c 'import json,sys; r=json.load(sys.stdin)["result"]; print(r["yes"], r["no"])')" \
    "1 0"
H=$(python3 -c 'import json,sys,base64; print(base64.b64decode(json.load(open(sys.argv[1]))["hash"]).hex())' "$T/r0.json")
$OT send "$R/relay/verifier" "$V" GET "/receipts/$H" > "$T/rc.out"
check_eq "the receipt checked through the relay" "$(sed -n 1p "$T/rc.out")" "status 200"
check_eq "the same receipt as directly" "$(sed -n '3,$p' "$T/rc.out")" "$(curl -s "$V/receipts/$H")"

# --- the log through the relay: checkpoint, tile ----------------------------------------------
$OT send "$R/relay/log" "$L" GET /checkpoint > "$T/cp.out"
check_eq "the checkpoint through the relay" "$(sed -n 1p "$T/cp.out") $(sed -n 3p "$T/cp.out")" \
    "status 200 $ORIGIN"
SIZE=$(sed -n 4p "$T/cp.out")
TILE="/tile/0/000.p/$SIZE"
check_eq "a tile through the relay" \
    "$(OHTTP_OUT="$T/tile.relay" $OT send "$R/relay/log" "$L" GET "$TILE" | sed -n 1p)" "status 200"
curl -s -o "$T/tile.direct" "$L$TILE"
check "the same bytes as directly ($SIZE hashes)" cmp "$T/tile.relay" "$T/tile.direct"
check_eq "its size" "$(wc -c < "$T/tile.relay")" "$((SIZE * 32))"
check_eq "an unknown path through the gateway: the inner 404" \
    "$($OT send "$R/relay/log" "$L" GET /nope | sed -n 1p)" "status 404"

# --- what the servers see: the relay's connection only, no header of the sender's ------------
check_eq "the verifier counted its gateway requests" \
    "$(curl -s "$V/metrics" | grep -c '^ohttp_gateway_requests_total [1-9]')" 1
VLINES=$(wc -l < "$T/ver.log"); RLINES=$(wc -l < "$T/relay.log")
for k in 1 2 3; do $OT send "$R/relay/verifier" "$V" GET /contexts >/dev/null; done
check_eq "the verifier writes nothing per request (no address, nothing to link)" \
    "$(wc -l < "$T/ver.log")" "$VLINES"
check_eq "nor does the relay" "$(wc -l < "$T/relay.log")" "$RLINES"
check_eq "the verifier's metrics name no address either" "$(curl -s "$V/metrics" | grep -c '127\.0\.0\.1')" 0
# a gateway that records what it receives: a sender's headers must not reach it
python3 - "$T/echo.port" "$T/echo.headers" <<'EOF' &
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0")); self.rfile.read(n)
        with open(sys.argv[2], "w") as f:
            f.write("\n".join(k.lower() for k in self.headers.keys()) + "\n")
        self.send_response(200); self.send_header("Content-Type", "message/ohttp-res")
        self.send_header("Content-Length", "0"); self.end_headers()
    def log_message(self, *a): pass
s = http.server.HTTPServer(("127.0.0.1", 0), H)
open(sys.argv[1], "w").write(str(s.server_address[1])); s.handle_request()
EOF
ECHO_PID=$!
E2E_PIDS="$E2E_PIDS $ECHO_PID"
i=0; while [ ! -s "$T/echo.port" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
start_server relay2 R2PORT $BUILD/onevoice-relay --data "$T/r2" \
    --gateway "echo=http://127.0.0.1:$(cat "$T/echo.port")/gateway"
printf 'x' > "$T/one"
curl -s -o /dev/null -H 'Content-Type: message/ohttp-req' -H 'X-Forwarded-For: 192.0.2.7' \
    -H 'Forwarded: for=192.0.2.7' -H 'Cookie: id=7' -H 'User-Agent: citizen/1' \
    -H 'Authorization: Bearer s' --data-binary @"$T/one" "http://127.0.0.1:$R2PORT/relay/echo"
wait "$ECHO_PID" 2>/dev/null
check_eq "the relay forwards Host, Content-Type and Content-Length only" \
    "$(sort "$T/echo.headers" | tr '\n' ' ')" "content-length content-type host "

# --- refusals -------------------------------------------------------------------------------------
post() { # URL FILE [TYPE]: prints "STATUS TYPE" and, for a JSON answer, its "error"
    curl -s -o "$T/post.out" -w '%{http_code} %{content_type}' \
        -H "Content-Type: ${3:-message/ohttp-req}" --data-binary @"$2" "$1"
    grep -ao '"error":"[a-z_]*"' "$T/post.out" | sed 's/^/ /'
}
$OT encap "$V" GET /contexts "$T/enc" || fail "encap"
check_eq "a well-made request straight to the gateway: 200 message/ohttp-res" \
    "$(post "$V/gateway" "$T/enc")" "200 message/ohttp-res"
python3 -c 'import sys; b = bytearray(open(sys.argv[1], "rb").read()); b[50] ^= 1
open(sys.argv[2], "wb").write(b)' "$T/enc" "$T/enc.bad"
check_eq "a tampered encapsulated request: 400, not encapsulated" \
    "$(post "$R/relay/verifier" "$T/enc.bad")" '400 application/json "error":"ohttp_decapsulation"'
$OT encap "$V" GET /contexts "$T/enc.k" 200 || fail "encap"
check_eq "an unknown key id: 400 with the ohttp-key problem type (RFC 9458 §5.3)" \
    "$(post "$R/relay/verifier" "$T/enc.k" | cut -d' ' -f1,2) $(grep -o 'ohttp-key' "$T/post.out")" \
    "400 application/problem+json ohttp-key"
check_eq "another Content-Type: 415 at the relay" \
    "$(post "$R/relay/verifier" "$T/enc" application/json | cut -d' ' -f1)" 415
check_eq "and at the gateway" "$(post "$V/gateway" "$T/enc" application/json | cut -d' ' -f1)" 415
head -c 300000 /dev/zero > "$T/big"
# (Expect: 100-continue, so that the 413, sent before the body is read, is not lost to a
# connection closed under a client still sending)
big() { curl -s -o /dev/null -w '%{http_code}' -H 'Expect: 100-continue' \
    -H 'Content-Type: message/ohttp-req' --data-binary @"$T/big" "$1"; }
check_eq "an oversized body: 413 at the relay" "$(big "$R/relay/verifier")" 413
check_eq "and at the gateway" "$(big "$V/gateway")" 413
check_eq "a gateway the relay does not know: 404" \
    "$(post "$R/relay/nobody" "$T/enc")" '404 application/json "error":"unknown_gateway"'
check_eq "a dead gateway: 502 with a reason" \
    "$(post "$R/relay/dead" "$T/enc")" '502 application/json "error":"gateway_unreachable"'
check_eq "the client says so: the relay's status, not encapsulated" \
    "$($OT send "$R/relay/dead" "$V" GET /contexts)" "error http_error relay-status 502"
check_eq "the gateway counts what it refused" \
    "$(curl -s "$V/metrics" | grep -E '^ohttp_gateway_failures_total\{reason="(key|decapsulation|media_type)"\} [1-9]' | wc -l)" 3

# --- the key survives kill -9; a rotation serves two configurations ----------------------------
kill -9 "$ver_PID"; wait "$ver_PID" 2>/dev/null
# shellcheck disable=SC2086
start_server ver VPORT $BUILD/onevoice-verifier $VARGS
V=http://127.0.0.1:$VPORT
check_eq "after kill -9 and a restart: the same key configuration" "$(keys_hex "$V")" "$VKEYS"
check_eq "the key file is still 0600" "$(stat -c %a "$T/v/ohttp-key")" 600
$OT encap "$L" GET /checkpoint "$T/enc.old" || fail "encap for the old key"
LKEYS0=$(keys_hex "$L")
OLD=$(cat "$T/log/ohttp-key")
kill "$log_PID"; wait "$log_PID" 2>/dev/null
mv "$T/log/ohttp-key" "$T/log/ohttp-key.old"
# shellcheck disable=SC2086
start_server log LPORT $BUILD/onevoice-log $LARGS
L=http://127.0.0.1:$LPORT
LKEYS=$(keys_hex "$L")
check_eq "a rotation: two configurations served (2 x 43 bytes)" "${#LKEYS}" 172
check "a new key file was made, 0600" test "$(stat -c %a "$T/log/ohttp-key")" = 600
check "with another key" test "$(cat "$T/log/ohttp-key")" != "$OLD"
check_eq "the old configuration second, the new one first (clients take the first)" \
    "$(echo "$LKEYS" | cut -c87-)" "$LKEYS0"
check "the new one has another key id" test "$(echo "$LKEYS" | cut -c5-6)" != "$(echo "$LKEYS0" | cut -c5-6)"
check_eq "a request made for the new key is answered" \
    "$($OT send "$L/gateway" "$L" GET /checkpoint | sed -n 1p)" "status 200"
check_eq "and one made for the old key still is, during the rotation" \
    "$(post "$L/gateway" "$T/enc.old")" "200 message/ohttp-res"
rm "$T/log/ohttp-key.old"
kill "$log_PID"; wait "$log_PID" 2>/dev/null
# shellcheck disable=SC2086
start_server log LPORT $BUILD/onevoice-log $LARGS
L=http://127.0.0.1:$LPORT
check_eq "once the old key is removed: one configuration again" "$(keys_hex "$L" | wc -c)" 86
check_eq "and the old key's requests are refused as an unknown key" \
    "$(post "$L/gateway" "$T/enc.old" | cut -d' ' -f1,2)" "400 application/problem+json"

# --- the relay reaches a gateway over verified TLS only ------------------------------------------
C=$T/pki; mkdir -p "$C"
{
    for ca in ca otherca; do
        openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$C/$ca.key" \
            -out "$C/$ca.pem" -days 2 -subj "/CN=onevoice $ca"
    done
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$C/v.key" && chmod 600 "$C/v.key"
    openssl req -new -key "$C/v.key" -subj "/CN=localhost" -out "$C/v.csr"
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' > "$C/v.ext"
    openssl x509 -req -in "$C/v.csr" -CA "$C/ca.pem" -CAkey "$C/ca.key" -set_serial 7 -days 2 \
        -extfile "$C/v.ext" -out "$C/v.pem"
} >/dev/null 2>&1 || fail "openssl could not make the test certificates"
kill "$ver_PID"; wait "$ver_PID" 2>/dev/null
# shellcheck disable=SC2086
start_server ver VPORT $BUILD/onevoice-verifier $VARGS --tls-cert "$C/v.pem" --tls-key "$C/v.key"
VS=https://127.0.0.1:$VPORT
start_server relay3 R3PORT $BUILD/onevoice-relay --data "$T/r3" --ca "$C/ca.pem" \
    --gateway "verifier=$VS/gateway"
start_server relay4 R4PORT $BUILD/onevoice-relay --data "$T/r4" --ca "$C/otherca.pem" \
    --gateway "verifier=$VS/gateway"
check_eq "through a relay to an HTTPS gateway it verifies" \
    "$(ONEVOICE_CA_FILE="$C/ca.pem" $OT send "http://127.0.0.1:$R3PORT/relay/verifier" "$VS" GET /contexts | sed -n 1p)" \
    "status 200"
check_eq "a gateway whose certificate the relay does not trust: 502" \
    "$(ONEVOICE_CA_FILE="$C/ca.pem" $OT send "http://127.0.0.1:$R4PORT/relay/verifier" "$VS" GET /contexts)" \
    "error http_error relay-status 502"
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
