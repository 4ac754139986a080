#!/bin/sh
# onevoice-admin, the operator's command, against a real log and issuer: contexts created
# with dates as people write them (a zone, local time under TZ, "+2h" from the opening) land
# at exactly those POSIX seconds; each kind (assembly, rating round, statement round);
# invitation codes into a new 0600 file, never over an existing one, for a draw too; the
# listing with its dates; and each refusal said: a wrong credential, a credential file open
# to others, a date that is no date, a context that closes before it opens, an id taken, an
# issuer that does not answer.
. tests/e2e/lib/common.sh
AD=$BUILD/onevoice-admin
T=$E2E_TMP

$BUILD/onevoice-issuer --data "$T/iss" --print-producer-key > "$T/producers"
LV=$($BUILD/onevoice-log --data "$T/log" --origin admin.example/log --print-vkey)
start_server log LPORT $BUILD/onevoice-log --data "$T/log" --producers "$T/producers" \
    --checkpoint-ms 50
start_server iss IPORT $BUILD/onevoice-issuer --data "$T/iss" --log "http://127.0.0.1:$LPORT" \
    --log-vkey "$LV" --name issuer.example --epoch-seconds 0
U=http://127.0.0.1:$IPORT
(umask 077 && $BUILD/onevoice-issuer --data "$T/iss" --print-credentials > "$T/cred")
A="$AD --issuer $U --credential $T/cred"
# said PATTERN STATUS COMMAND...: the command exits STATUS and says PATTERN on stderr
said() {
    p=$1; st=$2; shift 2
    "$@" > "$T/out" 2> "$T/err"
    got=$?
    if [ "$got" != "$st" ]; then fail "exit $got, want $st: $* ($(cat "$T/err"))"
    elif grep -q 'Sanitizer' "$T/err"; then fail "a sanitizer spoke: $*"
    elif grep -q -- "$p" "$T/err"; then ok
    else fail "'$p' not in: $(cat "$T/err")"; fi
}
# field ID KEY: the issuer's listing of context ID, one field
field() {
    curl -sf "$U/contexts" | python3 -c 'import json,sys
for c in json.load(sys.stdin):
    if c["id"] == sys.argv[1]: print(json.dumps(c.get(sys.argv[2])))' "$1" "$2"
}

# --- contexts, dates as people write them ---------------------------------------------
check "an assembly with a zoned opening and a closing two hours later" $A context budget-2030 \
    --title "Adopt the 2030 budget?" --choice yes --choice no --choice abstain \
    --opens "2030-01-01 09:00 +08:00" --closes +2h
# 2030-01-01 01:00:00 UTC
check_eq "... opens at that instant" "$(field budget-2030 opens)" 1893459600
check_eq "... closes two hours later" "$(field budget-2030 closes)" $((1893459600 + 7200))
check_eq "... with its choices" "$(field budget-2030 choices)" '["yes", "no", "abstain"]'
check_eq "... and its title" "$(field budget-2030 title)" '"Adopt the 2030 budget?"'
TZ=CST-8 $A context local-2030 --title "Local time" --choice a --choice b \
    --opens "2030-01-02 09:00" --closes "2030-01-02 18:00" > "$T/local.out" 2>&1
check_eq "without a zone: the local time of TZ" "$(field local-2030 opens) $(field local-2030 closes)" \
    "$((1893459600 + 86400)) $((1893459600 + 86400 + 9 * 3600))"
check "... said back in local time and UTC" grep -q \
    "opens   2030-01-02 09:00:00 +0800 (2030-01-02 01:00:00 UTC, @1893546000)" "$T/local.out"
check "... and the log index" grep -q "^context local-2030 created; the log holds it at index [0-9]" \
    "$T/local.out"
check "a statement round (agreement), open now for an hour" $A context town --title "Town?" \
    --agreement --statements 2 --closes +1h
check_eq "... its kind, scale and statements" \
    "$(field town rating_kind) $(field town scale) $(field town statements) $(field town open)" \
    '"agreement" [-1, 1] 2 true'
$A --json context stars --title "Stars" --scale 1,5 --opens now \
    --closes "@$(($(date +%s) + 600))" --quota 3 > "$T/stars.json" 2>"$T/err"
check_eq "a rating round on a scale; --json answers the context as listed" \
    "$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["id"], d["scale"], d["quota"], d["log_index"] > 0)' "$T/stars.json")" \
    "stars [1, 5] 3 True"

# --- invitation codes ----------------------------------------------------------------
check "three invitation codes into a new file" $A invites 3 --out "$T/codes.csv"
check_eq "... mode 0600" "$(stat -c %a "$T/codes.csv")" 600
check_eq "... a header and three codes of 22 characters" \
    "$(sed -n 1p "$T/codes.csv") $(tail -n +2 "$T/codes.csv" | grep -c '^[A-Za-z0-9_-]\{22\}$')" "code 3"
cp "$T/codes.csv" "$T/codes.before"
said "never overwritten" 2 $A invites 2 --out "$T/codes.csv"
check "... the codes in it kept" cmp "$T/codes.csv" "$T/codes.before"
check "codes for a sortition draw" $A invites 2 --draw panel-2030 --out "$T/panel.csv"
check_eq "... two of them" "$(tail -n +2 "$T/panel.csv" | wc -l | tr -d ' ')" 2
check_eq "codes on standard output with --out -" "$($A invites 1 --out - | tail -n +2 | wc -c)" 23

# --- the listing -----------------------------------------------------------------------
$A contexts > "$T/list" 2>&1
check "contexts lists each with its kind and state" grep -q \
    "^town: statement round (agreement), open, quota 1, log index [0-9]" "$T/list"
check "... and its dates in UTC" grep -q "opens   .*(2030-01-01 01:00:00 UTC, @1893459600)" "$T/list"
check_eq "... all four" "$(grep -c '^[a-z0-9-]*: ' "$T/list")" 4

# --- refusals, each said ----------------------------------------------------------------
printf 'admin AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n' > "$T/wrong"
chmod 600 "$T/wrong"
said "refused by the issuer: unauthorized (HTTP 401)" 1 \
    $AD --issuer "$U" --credential "$T/wrong" invites 1 --out "$T/x.csv"
check "... and no file left" test ! -e "$T/x.csv"
cp "$T/cred" "$T/open"; chmod 644 "$T/open"
said "chmod 600" 2 $AD --issuer "$U" --credential "$T/open" invites 1 --out "$T/y.csv"
said "not a date: 2030-02-30" 2 $A context feb --title F --choice a --choice b \
    --opens "2030-02-30 09:00 Z" --closes +1h
said "not a date: tomorrow" 2 $A context tmw --title F --choice a --choice b --closes tomorrow
said "must close after it opens" 2 $A context back --title F --choice a --choice b \
    --opens "2030-01-01 Z" --closes "2029-12-31 Z"
said "context_exists (HTTP 409)" 1 $A context budget-2030 --title Again --choice a --choice b \
    --opens "2030-01-01 Z" --closes +1h
said "one of --choice" 2 $A context both --title F --choice a --choice b --scale 1,5 --closes +1h
said "2 to 64 choices" 2 $A context one --title F --choice a --closes +1h
said "--credential FILE is needed" 2 $AD --issuer "$U" invites 1 --out "$T/z.csv"
said "the issuer did not answer" 1 $AD --issuer http://127.0.0.1:9 contexts
said "use https://" 1 $AD --issuer http://192.0.2.1:9 contexts
check_eq "--version" "$($AD --version)" "onevoice-admin $(sed -n 's/^VERSION *:= *//p' Makefile)"

echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
