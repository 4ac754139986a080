# The transparency page (web/) in a real browser, against the deployment tests/e2e/demo.sh
# kept running: sourced by it (its ok/fail count these checks), so that one demo run serves
# both. Needs DEMO_DIR (the kept demo's folder) and OUT (what the demo printed).
# tests/web/pages.mjs drives Debian's headless Chromium with playwright-core (tests/web/
# package.json; tools/deps.sh installs both); each of its "PASS"/"FAIL" lines is one check.
# Screenshots of every view, desktop and phone, go to $BUILD/web-screens/ for a person.
web_url=$(sed -n 's/^  transparency page: //p' "$OUT")
case $web_url in
http://127.0.0.1:*/web/) ok ;;
*) fail "the demo prints the transparency page's URL: got '$web_url'" ;;
esac
check_eq "the log serves the page there" "$(http_status GET "$web_url")" 200
# a valid receipt, as a wallet user of the deployment prints it
if ! "$BUILD/onevoice" --wallet "$DEMO_DIR/wallet-ana.db" receipt transport-2026 \
        --out "$E2E_TMP/receipt.json" > "$E2E_TMP/receipt.out" 2>&1; then
    fail "the wallet prints Ana's receipt"; cat "$E2E_TMP/receipt.out" >&2
fi
# and a rating's: Ben agreed with the round's first statement (tools/demo.sh)
sid=$(printf '%s' 'Buses every ten minutes on every main line, all day' | python3 -c '
import hashlib, sys
print(hashlib.sha256(b"onevoice/v1/statement\0transport-statements\0" + sys.stdin.buffer.read()).hexdigest()[:32])')
"$BUILD/onevoice" --wallet "$DEMO_DIR/wallet-ben.db" receipt transport-statements "$sid" \
    --out "$E2E_TMP/rating.json" > "$E2E_TMP/rating.out" 2>&1 ||
    { fail "the wallet prints Ben's rating's receipt"; cat "$E2E_TMP/rating.out" >&2; }
# a vote that is open while the page looks (demo.sh's $issuer and $admin): counted "so far"
now=$(date +%s)
open_ctx="{\"id\":\"web-open\",\"title\":\"Open while the page looks\",\"type\":\"assembly\","
open_ctx="$open_ctx\"choices\":[\"yes\",\"no\"],\"opens\":$((now - 1)),\"closes\":$((now + 3600)),\"quota\":1}"
check_eq "an open vote is announced for the page" "$(http_status POST "$issuer/admin/contexts" \
    -H "Authorization: Bearer ${admin:-none}" -H 'Content-Type: application/json' -d "$open_ctx")" 201
SCREENS=$BUILD/web-screens
rm -rf "$SCREENS"
mkdir -p "$SCREENS"
if [ ! -s "$DEMO_DIR/audit.json" ] || [ ! -s "$E2E_TMP/receipt.json" ]; then
    fail "the page's tests need the demo's audit report and a receipt (the demo failed?)"
else
    # a receipt of another log: the fuzz corpus's, of corpus.example/log
    if node tests/web/pages.mjs --url "$web_url" --audit "$DEMO_DIR/audit.json" \
            --receipt "$E2E_TMP/receipt.json" --rating-receipt "$E2E_TMP/rating.json" \
            --other-log-receipt tests/fuzz/corpus/receipt/proven.json \
            --screens "$SCREENS" > "$E2E_TMP/web.out" 2>&1; then
        web_rc=0
    else
        web_rc=$?
    fi
    while IFS= read -r line; do
        case $line in
        PASS\ *) ok ;;
        FAIL\ *) fail "page: ${line#FAIL }" ;;
        esac
    done < "$E2E_TMP/web.out"
    if ! grep -q '^PASS ' "$E2E_TMP/web.out" ||
            { [ "$web_rc" != 0 ] && ! grep -q '^FAIL ' "$E2E_TMP/web.out"; }; then
        fail "the browser test ran (exit $web_rc)"; tail -20 "$E2E_TMP/web.out" >&2
    fi
fi
