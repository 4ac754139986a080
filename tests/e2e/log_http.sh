#!/bin/sh
# onevoice-log over HTTP as browsers and caches use it (docs/PROTOCOL.md §4.2): HEAD on the
# GET routes, ETag and If-None-Match on the checkpoint, tiles and bundles, the transparency
# page from --web DIR with its headers and path rules, and GET /witnesses.
. tests/e2e/lib/common.sh
LT=$BUILD/tools/logtool

# hdr URL NAME [curl args...]: the value of one answer header (GET)
hdr() { u=$1; n=$2; shift 2; curl -s -D - -o /dev/null "$@" "$u" | tr -d '\r' | sed -n "s/^$n: //ip" | head -1; }
# raw_head URL: "STATUS CONTENT-LENGTH BYTES-AFTER-THE-HEADERS" of a HEAD sent on a socket
# (Connection: close, so whatever the server sends is read to its end)
raw_head() {
    python3 - "$1" <<'PY'
import socket, sys, urllib.parse
u = urllib.parse.urlsplit(sys.argv[1])
s = socket.create_connection((u.hostname, u.port), timeout=10)
s.sendall(("HEAD %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" % u.path).encode())
data = b""
while True:
    b = s.recv(65536)
    if not b:
        break
    data += b
head, _, rest = data.partition(b"\r\n\r\n")
lines = head.decode().split("\r\n")
cl = [l.split(":", 1)[1].strip() for l in lines[1:] if l.lower().startswith("content-length:")]
print(lines[0].split()[1], cl[0] if cl else "-", len(rest))
PY
}
# head_check NAME URL: HEAD answers 200 with GET's Content-Length and no body
head_check() {
    n=$1; u=$2
    glen=$(curl -s "$u" | wc -c | tr -d ' ')
    check_eq "HEAD $n: 200, GET's Content-Length ($glen), no body" "$(raw_head "$u")" "200 $glen 0"
    check_eq "HEAD $n then GET on one connection" \
        "$(curl -s -o /dev/null -w '%{http_code} ' -I "$u" --next -s -o /dev/null -w '%{http_code}' "$u")" \
        "200 200"
}

# --- a log with a page --------------------------------------------------------------
WEB=$E2E_TMP/web
mkdir -p "$WEB/js/lib" "$WEB/css"
printf '<!doctype html><title>onevoice</title>\n' > "$WEB/index.html"
printf 'export const x = 1;\n' > "$WEB/app.js"
printf 'export const y = 2;\n' > "$WEB/js/lib/m.mjs"
printf 'body{color:#000}\n' > "$WEB/css/s.css"
printf '{"ok":true}\n' > "$WEB/data.json"
printf '<svg xmlns="http://www.w3.org/2000/svg"/>\n' > "$WEB/i.svg"
printf '\211PNG\r\n' > "$WEB/i.png"
printf 'hello\n' > "$WEB/r.txt"
printf 'ico' > "$WEB/favicon.ico"
printf 'wOF2' > "$WEB/f.woff2"
printf 'bin' > "$WEB/blob.dat"
printf 'secret\n' > "$WEB/.hidden"
printf 'outside\n' > "$E2E_TMP/outside.txt"
ln -s "$E2E_TMP/outside.txt" "$WEB/link.txt"
ln -s r.txt "$WEB/inner-link.txt"
ln -s "$E2E_TMP" "$WEB/up"
mkfifo "$WEB/fifo.txt"
mkdir "$WEB/dir.txt"

$LT keygen "$E2E_TMP/p.key" > "$E2E_TMP/p.pub"
echo "pr $(cat "$E2E_TMP/p.pub")" > "$E2E_TMP/producers"
start_server log PORT $BUILD/onevoice-log --data "$E2E_TMP/log" --origin http.example/log \
    --producers "$E2E_TMP/producers" --opaque-entries --checkpoint-ms 20 --web "$WEB"
L=http://127.0.0.1:$PORT

# wait_size N: until the published checkpoint has N entries
wait_size() {
    i=0
    while [ "$(curl -s $L/checkpoint | sed -n 2p)" != "$1" ] && [ $i -lt 200 ]; do
        sleep 0.05; i=$((i + 1))
    done
}
check "300 entries appended" $LT fixture $L "$E2E_TMP/p.key" pr 300 100
wait_size 300

# --- HEAD ------------------------------------------------------------------------------
head_check /checkpoint $L/checkpoint
head_check "full tile" $L/tile/0/000
head_check "partial tile" $L/tile/0/001.p/44
head_check "entry bundle" $L/tile/entries/000
head_check /vkey $L/vkey
head_check /healthz $L/healthz
head_check /witnesses $L/witnesses
head_check /web/ $L/web/
check_eq "HEAD of a missing tile: 404" "$(curl -s -I -o /dev/null -w '%{http_code}' $L/tile/0/005)" 404
check_eq "405 lists HEAD beside GET" "$(hdr $L/checkpoint Allow -X POST)" "GET, HEAD"
check_eq "405 of a POST-only path: no HEAD" "$(hdr $L/add Allow -X PUT)" "POST"
check_eq "HEAD on a POST-only path: 405" "$(curl -s -I -o /dev/null -w '%{http_code}' $L/add)" 405

# --- ETag and If-None-Match --------------------------------------------------------------
# etag_check NAME URL CACHE-CONTROL: an ETag; If-None-Match with it (alone, in a list, weak,
# "*") is 304 with no body and the same ETag and Cache-Control; another tag is 200
etag_check() {
    n=$1; u=$2; cc=$3
    e=$(hdr "$u" ETag)
    check "$n: has an ETag ($e)" test -n "$e"
    check_eq "$n: If-None-Match with it: 304 and no body" \
        "$(curl -s -w '%{http_code} %{size_download}' -H "If-None-Match: $e" "$u")" "304 0"
    check_eq "$n: 304 keeps the ETag" "$(hdr "$u" ETag -H "If-None-Match: $e")" "$e"
    check_eq "$n: 304 keeps Cache-Control" "$(hdr "$u" Cache-Control -H "If-None-Match: $e")" "$cc"
    check_eq "$n: in a list: 304" "$(http_status GET "$u" -H "If-None-Match: \"nope\", W/$e")" 304
    check_eq "$n: *: 304" "$(http_status GET "$u" -H "If-None-Match: *")" 304
    check_eq "$n: HEAD with it: 304" \
        "$(curl -s -I -o /dev/null -w '%{http_code}' -H "If-None-Match: $e" "$u")" 304
    check_eq "$n: another tag: 200" "$(http_status GET "$u" -H 'If-None-Match: "nope"')" 200
    check_eq "$n: a malformed field: 200" "$(http_status GET "$u" -H "If-None-Match: $e junk")" 200
    check_eq "$n: Cache-Control kept" "$(hdr "$u" Cache-Control)" "$cc"
}
etag_check /checkpoint $L/checkpoint "no-cache, max-age=0"
etag_check "full tile" $L/tile/0/000 "public, max-age=31536000, immutable"
etag_check "partial tile" $L/tile/0/001.p/44 "public, max-age=31536000, immutable"
etag_check "full bundle" $L/tile/entries/000 "public, max-age=31536000, immutable"
etag_check "partial bundle" $L/tile/entries/001.p/44 "public, max-age=31536000, immutable"
etag_check "level-1 partial tile" $L/tile/1/000.p/1 "public, max-age=31536000, immutable"
cp_sha=$(curl -s $L/checkpoint | sha256sum | cut -c1-32)
check_eq "the checkpoint's ETag is the first 16 bytes of SHA-256(note)" \
    "$(hdr $L/checkpoint ETag)" "\"$cp_sha\""
check "tiles' ETags differ" test "$(hdr $L/tile/0/000 ETag)" != "$(hdr $L/tile/entries/000 ETag)"
old_cp=$(hdr $L/checkpoint ETag)
old_pt=$(hdr $L/tile/0/001.p/44 ETag)
check "one more entry" $LT append $L "$E2E_TMP/p.key" pr --opaque 'one more'
wait_size 301
check "a new checkpoint has a new ETag" test "$(hdr $L/checkpoint ETag)" != "$old_cp"
check_eq "the old checkpoint ETag now gets 200" \
    "$(http_status GET $L/checkpoint -H "If-None-Match: $old_cp")" 200
check_eq "the old partial tile is still served, 304 for its ETag" \
    "$(http_status GET $L/tile/0/001.p/44 -H "If-None-Match: $old_pt")" 304
check "the next partial tile has another ETag" \
    test "$(hdr $L/tile/0/001.p/45 ETag)" != "$old_pt"

# --- the page -----------------------------------------------------------------------------
check_eq "GET / redirects" "$(http_status GET $L/)" 302
check_eq "GET / goes to /web/" "$(hdr $L/ Location)" "/web/"
check_eq "GET /web goes to /web/" "$(hdr $L/web Location)" "/web/"
check_eq "/web/ is index.html" "$(curl -s $L/web/)" "$(cat "$WEB/index.html")"
check_eq "a file in a folder, byte for byte" "$(curl -s $L/web/js/lib/m.mjs)" "$(cat "$WEB/js/lib/m.mjs")"
for f in "index.html text/html; charset=utf-8" "app.js text/javascript; charset=utf-8" \
         "js/lib/m.mjs text/javascript; charset=utf-8" "css/s.css text/css; charset=utf-8" \
         "data.json application/json" "i.svg image/svg+xml" "i.png image/png" \
         "r.txt text/plain; charset=utf-8" "favicon.ico image/x-icon" "f.woff2 font/woff2" \
         "blob.dat application/octet-stream"; do
    p=${f%% *}
    check_eq "content type of $p" "$(curl -s -o /dev/null -w '%{content_type}' $L/web/$p)" "${f#* }"
done
CSP="default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
for u in $L/web/ $L/web/app.js $L/web/nothing.js $L/web/.hidden; do
    check_eq "CSP on $u" "$(hdr $u Content-Security-Policy)" "$CSP"
    check_eq "nosniff on $u" "$(hdr $u X-Content-Type-Options)" nosniff
    check_eq "no referrer on $u" "$(hdr $u Referrer-Policy)" no-referrer
done
check_eq "page files: no-cache" "$(hdr $L/web/app.js Cache-Control)" no-cache
etag_check "page file" $L/web/app.js no-cache
e=$(hdr $L/web/app.js ETag)
sleep 0.01
printf 'export const x = 2;\n' > "$WEB/app.js.new" && mv "$WEB/app.js.new" "$WEB/app.js"
check_eq "a replaced file is served at once" "$(curl -s $L/web/app.js)" "export const x = 2;"
check_eq "a replaced file's old ETag gets 200" "$(http_status GET $L/web/app.js -H "If-None-Match: $e")" 200
check_eq "no audit.json: 404" "$(http_status GET $L/web/audit.json)" 404
printf '{"ok":true}\n' > "$WEB/audit.json"
check_eq "audit.json once published: 200" "$(http_status GET $L/web/audit.json)" 200
for p in /web/%2e%2e/log/log.db /web/%2E%2E/ /web/a%2fb /web/a%00b \
         '/web/a\b' /web/a:b; do
    check_eq "refused as malformed: $p" "$(curl -s --path-as-is -o /dev/null -w '%{http_code}' "$L$p")" 400
done
check_eq "refused body names malformed_name" \
    "$(curl -s --path-as-is $L/web/%2e%2e/log.db | sed -n 's/.*"error":"\([a-z_]*\)".*/\1/p')" malformed_name
for p in /web/../log/log.db /web/../../etc/passwd /web/.hidden /web/css/.x /web/a//b /web/css/ /web/.. /web/./index.html /web/nothing.js \
         /web/link.txt /web/up/outside.txt /web/inner-link.txt /web/fifo.txt /web/dir.txt \
         /web/a/b/c/d/e/f/g/h/i.txt /web/$(printf 'a%.0s' $(seq 1 257)); do
    check_eq "not found: $p" "$(curl -s --path-as-is -o /dev/null -w '%{http_code}' "$L$p")" 404
done
check_eq "POST to the page: 405" "$(http_status POST $L/web/app.js)" 405
head -c $((8 * 1024 * 1024 + 1)) /dev/zero > "$WEB/big.png"
check_eq "a file over 8 MiB: 404" "$(http_status GET $L/web/big.png)" 404
head -c $((8 * 1024 * 1024)) /dev/zero > "$WEB/big.png"
check_eq "a file of 8 MiB: served" "$(curl -s $L/web/big.png | wc -c | tr -d ' ')" 8388608

# --- /witnesses ----------------------------------------------------------------------------
check_eq "/witnesses of a log without witnesses" "$(curl -s $L/witnesses)" \
    '{"origin":"http.example/log","quorum":0,"witnesses":[]}'
check_eq "/witnesses: no-cache" "$(hdr $L/witnesses Cache-Control)" no-cache
check_eq "/witnesses: JSON" "$(curl -s -o /dev/null -w '%{content_type}' $L/witnesses)" application/json
kill "$log_PID"

# --- a log without --web, with witnesses ---------------------------------------------------
W1=$($BUILD/onevoice-witness --data "$E2E_TMP/w1" --name e2e.example/w1 --print-vkey)
W2=$($BUILD/onevoice-witness --data "$E2E_TMP/w2" --name e2e.example/w2 --print-vkey)
printf 'http://127.0.0.1:9/a %s\n# a comment\nhttp://127.0.0.1:9/b %s\n' "$W1" "$W2" > "$E2E_TMP/witnesses"
start_server log2 PORT2 $BUILD/onevoice-log --data "$E2E_TMP/log2" --origin plain.example/log \
    --producers "$E2E_TMP/producers" --witnesses "$E2E_TMP/witnesses" --quorum 1
L2=http://127.0.0.1:$PORT2
check_eq "/witnesses lists the witnesses and the quorum" "$(curl -s $L2/witnesses)" \
    "{\"origin\":\"plain.example/log\",\"quorum\":1,\"witnesses\":[\"$W1\",\"$W2\"]}"
for p in / /web /web/ /web/index.html /web/audit.json; do
    check_eq "no --web: $p is 404" "$(http_status GET $L2$p)" 404
done
check_eq "no --web: not_found" "$(curl -s $L2/web/ | sed -n 's/.*"error":"\([a-z_]*\)".*/\1/p')" not_found
check "--web of a missing folder is refused" sh -c \
    "! $BUILD/onevoice-log --data $E2E_TMP/log3 --origin x.example/log --producers $E2E_TMP/producers --web $E2E_TMP/none"
printf 'web = %s\n' "$WEB" > "$E2E_TMP/log.conf"
check "--web in a configuration file" sh -c \
    "$BUILD/onevoice-log --config $E2E_TMP/log.conf --print-config | grep -qx 'web = $WEB'"
summary
