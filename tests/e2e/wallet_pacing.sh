#!/bin/sh
# The wallet's default pacing (issue 18; core/protocol/pacing.h), against a real log, witness,
# issuer and verifier on loopback: `fetch` plans each context's token at its own moment and
# `run` fetches it then, not before; `vote` holds the signed ballot to a random moment, says
# when in words, and `run` sends it then, not before; a held vote survives a `run --wait`
# killed with -9 and is refused as a second vote; `--now` sends at once; each receipt is
# checked by `run` at its own moment, one at a time; `receipts` says that it links them.
. tests/e2e/lib/wallet_env.sh
# five contexts open for an hour (fetch moments up to 15 minutes on), and one that closes in
# two minutes (a loaded machine is slow: the moments the test waits for are moved in the file)
for c in h1 h2 h3 h4 s1; do
    $IT context "$U" "$ADMIN" "$(ctx $c assembly 1)" >/dev/null || fail "context $c"
done
CLOSE=$(($(date +%s) + 120))
$IT context "$U" "$ADMIN" "{\"id\":\"q1\",\"title\":\"Quick\",\"type\":\"assembly\",\"choices\":[\"yes\",\"no\"],\"opens\":$((NOW - 5)),\"closes\":$CLOSE,\"quota\":1}" >/dev/null || fail "context q1"
$IT invites "$U" "$ADMIN" 4 "$T/codes.csv"
code() { sed -n "$(($1 + 1))p" "$T/codes.csv"; }
W=$T/ana.wallet
ov() { $OV --wallet "$W" "$@"; }
counted() { curl -s "$V/metrics" | awk '/^verifier_actions_counted_total /{print $2}'; }

# --- help ----------------------------------------------------------------------------------
check "run --help" sh -c "$OV run --help | grep -q '^usage: onevoice .*run'"
check "run --help names cron and a systemd user timer" sh -c "$OV run --help | grep -q 'systemd user timer'"
check "fetch --help names --now" sh -c "$OV fetch --help | grep -q -- '--now'"
check "vote --help says the default holds the vote" sh -c "$OV vote --help | grep -q 'held until a random moment'"
check_eq "run takes no argument" "$(status ov run extra)" 2

# --- fetch: each context at its own moment ------------------------------------------------
ov init $INIT >/dev/null
ov enroll --code "$(code 1)" >/dev/null
check "fetch plans" sh -c "$OV --wallet '$W' fetch --json > '$T/fetch.json' 2> '$T/fetch.err'"
T_FETCH=$(date +%s)
check "fetch says why, and how to run what it planned" grep -q 'onevoice run --wait' "$T/fetch.err"
check_eq "every hour-long context planned, none fetched at once" \
    "$(jget "$T/fetch.json" 'sorted(t["context"] for t in d["tokens"] if t["result"] == "scheduled" and t["context"][0] == "h")')" \
    "['h1', 'h2', 'h3', 'h4']"
# a quarter of what is left of an hour: within 15 minutes
check_eq "each moment within the first quarter of what is left" \
    "$(jget "$T/fetch.json" "all($T_FETCH - 2 <= t['fetch_at'] <= $T_FETCH + 3600 // 4 + 2 for t in d['tokens'] if t['result'] == 'scheduled')")" True
check_eq "the contexts' moments differ (independent)" \
    "$(jget "$T/fetch.json" 'len(set(t["fetch_at"] for t in d["tokens"] if t["context"][0] == "h")) > 1')" True
check_eq "no token yet for a planned context" \
    "$(sql "$W" "select count(*) from tokens where context like 'h%'")" 0
check "fetch without --json names the moment in words" sh -c \
    "$OV --wallet '$W' fetch | grep -Eq '^h1 +token to be fetched at 20[0-9-]+ [0-9:]+ UTC$'"
check_eq "fetch again keeps the moments" \
    "$(sql "$W" "select group_concat(fetch_at) from (select fetch_at from fetch_plan where context like 'h%' order by context)")" \
    "$(jget "$T/fetch.json" '",".join(str(t["fetch_at"]) for t in sorted(d["tokens"], key=lambda t: t["context"]) if t["context"][0] == "h")')"
# run: nothing before its moment; a moment that has come (moved back in the file) is fetched
check "run" ov run
check_eq "run fetches only what is due" \
    "$(sql "$W" "select count(*) from fetch_plan p where context like 'h%' and (p.fetch_at <= strftime('%s','now')) <> exists(select 1 from tokens t where t.context = p.context)")" 0
sql "$W" "update fetch_plan set fetch_at = strftime('%s','now') - 1 where context = 'h2'" >/dev/null
check "run, once h2's moment has come" sh -c "$OV --wallet '$W' run > '$T/run1.out'"
check "it says what it did" grep -q 'fetch h2: issued' "$T/run1.out"
check_eq "h2's token fetched, its plan done" \
    "$(sql "$W" "select state from tokens where context = 'h2'") $(sql "$W" "select done_at is not null from fetch_plan where context = 'h2'")" "ready 1"
check "run says when the next step is due" grep -q '^next scheduled step at 20.* UTC' "$T/run1.out"

# --- vote: held to a random moment, said in words -----------------------------------------
before=$(counted)
check "vote q1 yes (held)" sh -c "$OV --wallet '$W' vote q1 yes > '$T/vote.out'"
T_VOTE=$(date +%s)
SEND_AT=$(sql "$W" "select send_at from actions where context = 'q1'")
WORDS=$(python3 -c 'import sys, time; print(time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(int(sys.argv[1]))))' "$SEND_AT")
check "the vote's moment, in words" grep -q "^your vote in q1 will be sent at $WORDS, a random moment before q1 closes" "$T/vote.out"
check "it says how to send it, and --now" grep -q 'onevoice run --wait.*--now sends it now and accepts that risk' "$T/vote.out"
# the token's age (at least 125 s / 8 = 15 s) before, the margin (12 s) after
check_eq "the moment is after the token's minimum age and before the close's margin" \
    "$(sql "$W" "select a.send_at >= t.created_at + 15 and a.send_at >= $T_VOTE - 1 and a.send_at <= $CLOSE - 12 from actions a join tokens t on t.pseudonym = a.pseudonym where a.context = 'q1'")" 1
check_eq "held in the wallet file, signed, before anything was printed" \
    "$(sql "$W" "select state || ' ' || length(sig) from actions where context = 'q1'")" "sending 64"
check_eq "nothing reached the verifier" "$(counted)" "$before"
said "already voted in q1: your vote is held, to be sent at $WORDS" ov vote q1 no
check "the same vote again: still held, the same moment" sh -c "$OV --wallet '$W' vote q1 yes | grep -q 'sent at $WORDS'"
if [ "$(date +%s)" -lt "$SEND_AT" ]; then
    ov run >/dev/null 2>&1
    check_eq "run before its moment sends nothing" \
        "$(sql "$W" "select state from actions where context = 'q1'") $(counted)" "sending $before"
else
    ok
fi
# run --wait, killed with -9 before the moment: the held vote stays, and a new run sends it.
# The moment is moved 5 s on in the file (this machine may be slow), still before the close
SEND_AT=$(($(date +%s) + 5))
sql "$W" "update actions set send_at = $SEND_AT where context = 'q1'" >/dev/null
$OV --wallet "$W" run --wait > "$T/killed.out" 2>&1 &
KP=$!
sleep 0.5
kill -9 $KP 2>/dev/null
wait $KP 2>/dev/null
check_eq "after kill -9: still held, at the same moment" \
    "$(sql "$W" "select state || ' ' || send_at from actions where context = 'q1'")" "sending $SEND_AT"
# sends q1 at its moment, checks its receipt later (one at a time: 15 to 46 s after); the
# hour-long contexts keep planned fetches, so --wait would wait for them: moved out of the way
sql "$W" "update fetch_plan set done_at = 1 where done_at is null" >/dev/null
timeout 150 $OV --wallet "$W" run --wait > "$T/wait.out" 2> "$T/wait.err" &
WP=$!
# once it sent q1 and planned its check (an eighth of q1's 125 s window after the send, within
# a further quarter: 15 to 46 s), that moment is checked, then moved to now in the file (run
# --wait reads the file again every second), instead of waiting for it
i=0
until [ "$(sql "$W" "select check_at is not null from actions where context = 'q1' and state = 'counted'")" = 1 ] ||
    ! kill -0 $WP 2>/dev/null || [ $i -gt 1500 ]; do sleep 0.1; i=$((i + 1)); done
SENT=$(sed -n 's/^\(20[0-9-]* [0-9:]*\) UTC  send q1: counted.*/\1/p' "$T/wait.out")
SENT_S=$(python3 -c 'import calendar, sys, time; print(calendar.timegm(time.strptime(sys.argv[1], "%Y-%m-%d %H:%M:%S")))' "$SENT" 2>/dev/null)
CHECK_AT=$(sql "$W" "select check_at from actions where context = 'q1'")
# (the printed time of the send may be a second past the one the moment was drawn from)
check "the receipt's check planned 15 to 46 s after the send (sent ${SENT_S:-?}, check ${CHECK_AT:-?})" \
    test "${SENT_S:-0}" -gt 0 -a "${CHECK_AT:-0}" -ge $((${SENT_S:-0} + 14)) -a "${CHECK_AT:-0}" -le $((${SENT_S:-0} + 47))
sql "$W" "update actions set check_at = strftime('%s','now') where context = 'q1' and check_at is not null" >/dev/null
wait $WP
check_eq "run --wait does the rest" "$?" 0
check "the vote was sent by run" grep -q ' send q1: counted' "$T/wait.out"
check_eq "not before its moment" \
    "$(python3 -c 'import calendar, sys, time; print(calendar.timegm(time.strptime(sys.argv[1], "%Y-%m-%d %H:%M:%S")) >= int(sys.argv[2]))' "$SENT" "$SEND_AT")" True
check_eq "counted once by the verifier" "$(counted)" "$((before + 1))"
check "its receipt checked on its own, later" grep -q ' check q1: ok: q1 voted yes: in the log' "$T/wait.out"
check_eq "the check recorded, none left scheduled" \
    "$(sql "$W" "select check_result || ' ' || ifnull(check_at, 'none') from actions where context = 'q1'")" "ok none"
check "run --wait ends when nothing is left" grep -q '^nothing left to do' "$T/wait.out"

# --- --now: today's immediate behaviour -------------------------------------------------------
B=$T/ben.wallet
$OV --wallet "$B" init $INIT >/dev/null
$OV --wallet "$B" enroll --code "$(code 2)" >/dev/null
check "fetch --now" sh -c "$OV --wallet '$B' fetch --now | grep -q '^s1 .*token issued'"
check_eq "fetch --now fetches every context" "$(sql "$B" "select count(*) from tokens where state = 'ready' and context <> 'q1'")" 5
before=$(counted)
check "vote --now is counted at once" sh -c "$OV --wallet '$B' vote s1 no --now | grep -q 'vote counted: s1, no'"
check_eq "the verifier counted it" "$(counted)" "$((before + 1))"
check_eq "its receipt check is scheduled for run" "$(sql "$B" "select check_at > 0 from actions where context = 's1'")" 1
# a held vote, then --now: sent at once
check "vote h1 (held)" sh -c "$OV --wallet '$B' vote h1 yes | grep -q 'will be sent at'"
check "the same vote with --now: sent now" sh -c "$OV --wallet '$B' vote h1 yes --now | grep -q 'vote counted: h1, yes'"
# receipts: all at once, and it says what that shows
check "receipts" sh -c "$OV --wallet '$B' receipts > '$T/rc.out' 2> '$T/rc.err'"
check "receipts says that checking all at once links them" grep -q 'one at a time, each at its own random moment' "$T/rc.err"

# --- a vote whose token was still planned: fetched now, the vote held ---------------------
C=$T/chloe.wallet
$OV --wallet "$C" init $INIT >/dev/null
$OV --wallet "$C" enroll --code "$(code 3)" >/dev/null
$OV --wallet "$C" fetch >/dev/null 2>&1
check "vote h3 before its token's moment" sh -c "$OV --wallet '$C' vote h3 abstain > '$T/c.out' 2> '$T/c.err'"
check "the token is fetched now" grep -q 'the token for h3 was to be fetched at a random moment: fetched now (issued)' "$T/c.err"
check "and the vote held" grep -q 'your vote in h3 will be sent at' "$T/c.out"
check_eq "the vote is held, its token spent" \
    "$(sql "$C" "select a.state || ' ' || t.state from actions a join tokens t on t.pseudonym = a.pseudonym where a.context = 'h3'")" "sending spent"
check "run --json" sh -c "$OV --wallet '$C' run --json > '$T/run.json'"
check_eq "run --json: what it did, and the next moment (the held vote's at the latest)" \
    "$(jget "$T/run.json" "isinstance(d['done'], list) and $(date +%s) - 5 < d['next'] <= $(sql "$C" "select send_at from actions where context = 'h3'")")" True
summary
