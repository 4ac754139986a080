#!/bin/sh
# TLS end to end, with a throwaway CA made here by openssl: a witness and a log serving
# HTTPS (--tls-cert, --tls-key), the log cosigned by the witness over HTTPS; TLS 1.2 and 1.3
# only, AEAD ciphers only; our clients (logtool, the auditor, the log's witness client)
# verify against --ca FILE or ONEVOICE_CA_FILE and refuse an unknown CA with libcurl's reason; a key file
# open to others, a key not the certificate's, and half the flags refused at start;
# SIGHUP reloads the certificate without a restart, and a bad new file keeps the old one;
# plain http:// to a host that is not this machine refused before any connection.
. tests/e2e/lib/common.sh
LT=$BUILD/tools/logtool
T=$E2E_TMP
C=$T/pki
mkdir -p "$C"

# --- a test CA, its server certificates, and another CA nobody trusts ----------------
# mkcert NAME SERIAL KEYTYPE CA: NAME.key (0600) and NAME.pem for 127.0.0.1 and localhost
mkcert() {
    case $3 in
    ec) openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$C/$1.key" ;;
    rsa) openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$C/$1.key" ;;
    esac
    chmod 600 "$C/$1.key"
    openssl req -new -key "$C/$1.key" -subj "/CN=localhost" -out "$C/$1.csr"
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' \
        > "$C/$1.ext"
    openssl x509 -req -in "$C/$1.csr" -CA "$C/$4.pem" -CAkey "$C/$4.key" -set_serial "$2" \
        -days 2 -extfile "$C/$1.ext" -out "$C/$1.pem"
}
for ca in ca otherca; do
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$C/$ca.key" \
        -out "$C/$ca.pem" -days 2 -subj "/CN=onevoice $ca" 2>/dev/null
done
{
    mkcert a 0x1001 ec ca && mkcert b 0x2002 rsa ca && mkcert w 0x3003 ec ca &&
        mkcert x 0x4004 ec otherca
} >/dev/null 2>&1 || { echo "openssl could not make the test certificates" >&2; exit 1; }
cp "$C/a.pem" "$C/cert.pem"
cp -p "$C/a.key" "$C/key.pem" # the files the log serves from, replaced below

# serial PORT: the serial of the certificate served on PORT now
serial() {
    openssl s_client -connect "127.0.0.1:$1" -servername localhost </dev/null 2>/dev/null |
        openssl x509 -noout -serial 2>/dev/null
}
# tls_curl URL [curl args...]: the body, with the test CA trusted
tls_curl() { u=$1; shift; curl -sS --max-time 5 --cacert "$C/ca.pem" "$@" "$u"; }

# --- 1. a witness and a log on HTTPS; the log's witness client over HTTPS -----------------
$LT keygen "$T/p.key" > "$T/p.pub"
echo "issuer $(cat "$T/p.pub")" > "$T/producers"
LV=$($BUILD/onevoice-log --data "$T/log" --origin tls.example/log --print-vkey)
echo "tls.example/log $LV" > "$T/logs"
start_server w WPORT $BUILD/onevoice-witness --data "$T/w" --name w.example/witness \
    --logs "$T/logs" --tls-cert "$C/w.pem" --tls-key "$C/w.key"
echo "https://localhost:$WPORT $($BUILD/onevoice-witness --data "$T/w" --print-vkey)" > "$T/witnesses"
start_server log PORT $BUILD/onevoice-log --data "$T/log" --ca "$C/ca.pem" \
    --producers "$T/producers" --witnesses "$T/witnesses" --quorum 1 --checkpoint-ms 50 \
    --tls-cert "$C/cert.pem" --tls-key "$C/key.pem"
U=https://127.0.0.1:$PORT
check "the log says it serves HTTPS" grep -q "serving HTTPS on port $PORT" "$T/log.log"
check_eq "/healthz over HTTPS, verified against the test CA" "$(tls_curl $U/healthz)" ok
check_eq "the witness's /healthz over HTTPS (localhost)" \
    "$(tls_curl https://localhost:$WPORT/healthz)" ok
check "TLS 1.3 served" tls_curl $U/healthz --tlsv1.3
check "TLS 1.2 served" tls_curl $U/healthz --tlsv1.2 --tls-max 1.2
check "TLS 1.1 refused (the client allowing it)" sh -c \
    "! curl -s --max-time 5 --cacert '$C/ca.pem' --tlsv1.1 --tls-max 1.1 \
       --ciphers 'DEFAULT@SECLEVEL=0' $U/healthz"
check "a CBC cipher refused under TLS 1.2" sh -c \
    "! curl -s --max-time 5 --cacert '$C/ca.pem' --tls-max 1.2 \
       --ciphers ECDHE-ECDSA-AES128-SHA $U/healthz"
check "curl without the test CA refuses the certificate" sh -c "! curl -s --max-time 5 $U/healthz"
check "plain HTTP to the HTTPS port gets no answer" sh -c \
    "! curl -s --max-time 5 http://127.0.0.1:$PORT/healthz"
check "logtool appends over HTTPS with ONEVOICE_CA_FILE" env ONEVOICE_CA_FILE="$C/ca.pem" \
    $LT append $U "$T/p.key" issuer --checkpoint --vkey "$LV" one two three
check_eq "the checkpoint over HTTPS, cosigned by the witness over HTTPS" \
    "$(tls_curl $U/checkpoint | sed -n 1p; tls_curl $U/checkpoint | grep -c '^— ')" \
    "tls.example/log
2"
check "the certificate's expiry in /metrics" sh -c \
    "curl -s --cacert '$C/ca.pem' $U/metrics | grep -q '^tls_certificate_expiry_timestamp_seconds [1-9]'"

# --- 2. the auditor: the CA file, an unknown CA, a wrong CA file --------------------------
# (logtool's entries are not onevoice entries: the auditor reports them, exit 1)
ONEVOICE_CA_FILE=$C/ca.pem $BUILD/onevoice-audit --log $U --log-vkey "$LV" > "$T/au0" 2>&1
check "the auditor reads and checks the HTTPS log with ONEVOICE_CA_FILE" grep -q \
    "every bundle and tile matches the signed tree" "$T/au0"
$BUILD/onevoice-audit --log $U --log-vkey "$LV" > "$T/au1" 2>&1
st=$?
check_eq "without the CA the auditor fails" "$st" 2
check "... saying the certificate is not trusted, and where it looked" grep -q \
    "$U/checkpoint: TLS failed: SSL certificate problem: unable to get local issuer certificate (certificates checked against the system's CA store" \
    "$T/au1"
ONEVOICE_CA_FILE=$C/otherca.pem $BUILD/onevoice-audit --log $U --log-vkey "$LV" > "$T/au2" 2>&1
st=$?
check_eq "with another CA's file the auditor fails" "$st" 2
check "... naming that file" grep -q "TLS failed: SSL certificate problem.*against the CA file $C/otherca.pem only" \
    "$T/au2"
ONEVOICE_CA_FILE=$C/missing.pem $BUILD/onevoice-audit --log $U --log-vkey "$LV" > "$T/au3" 2>&1
check "an unreadable CA file is said" grep -q "TLS failed: error setting certificate file: $C/missing.pem" \
    "$T/au3"
# --ca FILE does what ONEVOICE_CA_FILE does, and wins over it
ONEVOICE_CA_FILE=$C/otherca.pem $BUILD/onevoice-audit --ca "$C/ca.pem" --log $U --log-vkey "$LV" \
    > "$T/au5" 2>&1
check "the auditor with --ca (over another ONEVOICE_CA_FILE) reads the HTTPS log" grep -q \
    "every bundle and tile matches the signed tree" "$T/au5"
$BUILD/onevoice-audit --ca "$C/otherca.pem" --log $U --log-vkey "$LV" > "$T/au6" 2>&1
st=$?
check_eq "the auditor with --ca of another CA fails" "$st" 2
check "... naming that file" grep -q "TLS failed: SSL certificate problem.*against the CA file $C/otherca.pem only" \
    "$T/au6"

# --- 3. plain http:// to a host that is not this machine ------------------------------
t0=$(date +%s)
$BUILD/onevoice-audit --log http://192.0.2.1:9/ --log-vkey "$LV" > "$T/au4" 2>&1
st=$?
t1=$(date +%s)
check_eq "plain http:// to 192.0.2.1 refused" "$st" 2
check "... naming the URL and the way out" grep -q \
    "http://192.0.2.1:9/checkpoint: refusing plain http:// to 192.0.2.1, which is not this machine: use https:// (or set ONEVOICE_ALLOW_PLAIN_HTTP=1" \
    "$T/au4"
check "... before any connection (no 10 s connect timeout)" test $((t1 - t0)) -le 2
ONEVOICE_ALLOW_PLAIN_HTTP=1 $BUILD/onevoice-audit --log http://0.0.0.0:1/ --log-vkey "$LV" \
    > "$T/au5" 2>&1
check "ONEVOICE_ALLOW_PLAIN_HTTP=1 lets it try" sh -c "! grep -q refusing '$T/au5'"
for h in 127.0.0.1 127.1.2.3 localhost '[::1]'; do
    $LT append "http://$h:1" "$T/p.key" issuer x > "$T/lt" 2>&1
    check "plain http:// to $h (this machine) is not refused" sh -c "! grep -q refusing '$T/lt'"
done

# --- 4. refused at start --------------------------------------------------------------
cp "$C/a.key" "$T/open.key"
chmod 644 "$T/open.key"
$BUILD/onevoice-log --data "$T/log2" --producers "$T/producers" --tls-cert "$C/a.pem" \
    --tls-key "$T/open.key" > "$T/start1" 2>&1
st=$?
check_eq "a key file with mode 0644 refused at start" "$st" 1
check "... saying so" grep -q "refusing to start: TLS: the key file $T/open.key is open to other users (mode 0644): chmod 600" \
    "$T/start1"
check "... before the server made its keys" test ! -e "$T/log2/log.key"
$BUILD/onevoice-log --data "$T/log2" --producers "$T/producers" --tls-cert "$C/a.pem" \
    --tls-key "$C/b.key" > "$T/start2" 2>&1
check_eq "a key that is not the certificate's refused at start" "$?" 1
check "... saying so" grep -q "the key in $C/b.key is not the key of the first certificate" "$T/start2"
$BUILD/onevoice-log --data "$T/log2" --producers "$T/producers" --tls-cert "$C/a.pem" \
    > "$T/start3" 2>&1
check_eq "--tls-cert without --tls-key is a usage error" "$?" 2

# --- 5. the log's witness client refuses a witness it cannot verify ------------------------
start_server log3 PORT3 $BUILD/onevoice-log --data "$T/log3" --origin tls.example/log3 \
    --producers "$T/producers" --witnesses "$T/witnesses" --quorum 1 --checkpoint-ms 50
$LT append http://127.0.0.1:$PORT3 "$T/p.key" issuer four >/dev/null 2>&1 &
i=0
while ! grep -q "TLS failed" "$T/log3.log" && [ $i -lt 60 ]; do sleep 0.05; i=$((i + 1)); done
check "the log says why it cannot reach an HTTPS witness without the CA" grep -q \
    "https://localhost:$WPORT/add-checkpoint: TLS failed: SSL certificate problem" "$T/log3.log"
kill "$log3_PID"

# --- 6. SIGHUP: a new certificate without a restart; a bad one keeps the old --------------
check_eq "serving the first certificate" "$(serial $PORT)" "serial=1001"
# await_serial WANT: waits up to 3 s for the served serial
await_serial() {
    i=0
    while [ "$(serial $PORT)" != "serial=$1" ] && [ $i -lt 30 ]; do sleep 0.1; i=$((i + 1)); done
    serial $PORT
}
# await_log TEXT N: waits until TEXT is in the log's output N times
await_log() {
    i=0
    while [ "$(grep -c "$1" "$T/log.log")" -lt "$2" ] && [ $i -lt 30 ]; do sleep 0.1; i=$((i + 1)); done
}
cp "$C/b.key" "$C/key.pem"
cp "$C/b.pem" "$C/cert.pem"
kill -HUP "$log_PID"
check_eq "SIGHUP: a new certificate (and an RSA key) served" "$(await_serial 2002)" "serial=2002"
check "... by the same process" kill -0 "$log_PID"
check "... which said so" grep -q "SIGHUP: TLS: reloaded, serving the certificate CN=localhost, serial 2002" \
    "$T/log.log"
check_eq "... and verifies" "$(tls_curl $U/healthz)" ok
check "ECDHE-RSA under TLS 1.2" tls_curl $U/healthz --tls-max 1.2 --ciphers ECDHE-RSA-AES128-GCM-SHA256
check "RSA key transport (no forward secrecy) refused under TLS 1.2" sh -c \
    "! curl -s --max-time 5 --cacert '$C/ca.pem' --tls-max 1.2 --ciphers AES128-GCM-SHA256 \
       $U/healthz"
echo "not a certificate" > "$C/cert.pem"
kill -HUP "$log_PID"
await_log "TLS reload refused" 1
check "a broken certificate file: the reload refused, saying why" grep -q \
    "TLS reload refused, still serving the certificate CN=localhost, serial 2002.*$C/cert.pem holds no usable PEM certificate" \
    "$T/log.log"
check_eq "... and the old certificate still served" "$(serial $PORT)" "serial=2002"
cp "$C/a.pem" "$C/cert.pem" # the first certificate with the second key: not a pair
kill -HUP "$log_PID"
await_log "TLS reload refused" 2
check "a certificate without its key: the reload refused" grep -q \
    "the key in $C/key.pem is not the key of the first certificate" "$T/log.log"
chmod 644 "$C/key.pem"
cp "$C/b.pem" "$C/cert.pem"
kill -HUP "$log_PID"
await_log "TLS reload refused" 3
check "a key file made readable by others: the reload refused" grep -q \
    "is open to other users (mode 0644)" "$T/log.log"
check_eq "... and the old certificate still served" "$(serial $PORT)" "serial=2002"
check "the log still appends over HTTPS" env ONEVOICE_CA_FILE="$C/ca.pem" \
    $LT append $U "$T/p.key" issuer five
check_eq "the log served HTTPS all along (one start)" \
    "$(grep -c 'serving HTTPS on port' "$T/log.log")" 1

summary
