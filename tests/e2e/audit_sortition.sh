#!/bin/sh
# onevoice-audit on draws pinned in the log (docs/PROTOCOL.md §10), against real onevoice-log
# servers on 127.0.0.1:0. The pool and draw files come from onevoice-sortition (import, draw);
# the entries from tests/tools/drawtool (core/protocol/sortentry), appended with logtool.
# A clean log with two honest draws: verified with their pool files (exit 0), not verifiable
# without them (exit 3, never passed), a tampered pool file caught (pool_file_mismatch), the
# pool files fetched from a URL or from the log itself (uploaded with onevoice-sortition
# upload; a copy tampered on the log's disk caught too), and a resumed state that checks a
# draw once its file comes.
# A broken log: one draw id per tampering, each caught by its own rule at that draw alone.
. tests/e2e/lib/simlog.sh
DT=$BUILD/tools/drawtool
AU=$BUILD/onevoice-audit
S=$BUILD/onevoice-sortition
T=$E2E_TMP
T0=1767000000
FAR=$((T0 + 1000000)) # a reveal_by no entry reaches

# append FILE...: the entries, in order, in one request; waits for their checkpoint
append() {
    a=""
    for f in "$@"; do a="$a @$T/e/$f"; done
    # shellcheck disable=SC2086
    $LT append "$U" "$T/p.key" sim --checkpoint --opaque $a > /dev/null || fail "append $*"
}
# audit ARGS...: the auditor, quietly; prints its exit status
audit() { rm -f "$T"/*.json.txt; $AU --quiet --log "$U" --log-vkey "$VK" "$@" >"$T/audit.out" 2>>"$T/audit.err"; echo $?; }

# A report read once (python starts slowly): its facts as "KEY VALUE" lines in REPORT.txt
cat > "$T/j.py" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
out = ["ok %s" % str(r["ok"]).lower(), "unverified %d" % r["unverified"],
       "read.entries %d" % r["read"]["entries"]]
out += ["entries.%s %d" % kv for kv in r["entries"].items()]
for d in r["draws"]:
    for k in ("verdict", "seed", "pool", "pool_index"):
        out.append("%s.%s %s" % (k, d["id"], d[k]))
ids = {v["context"] for v in r["violations"]} | {d["id"] for d in r["draws"]} | {"*"}
for i in ids:
    out.append("rules.%s %s" % (i, " ".join(sorted({v["rule"] for v in r["violations"]
                                                     if i == "*" or v["context"] == i}))))
for v in r["violations"]:
    out.append("index.%s.%s %s" % (v["rule"], v["context"], v["index"]))
open(sys.argv[1] + ".txt", "w").write("\n".join(out) + "\n")
PY
# J REPORT KEY: a fact of the report (read once)
J() {
    [ -f "$1.txt" ] || python3 "$T/j.py" "$1"
    sed -n "s/^$(printf %s "$2" | sed 's/[.*]/\\&/g') //p" "$1.txt"
}

# --- the pool file and the entries ---------------------------------------------------------
python3 tools/respondents.py "$T" 400 24
$S import --respondents "$T/respondents.csv" --quotas "$T/quotas.csv" --panel 24 --reserves 4 \
    --out "$T/pool.csv" --private "$T/private.csv" > /dev/null || fail "import"
mkdir -p "$T/e" "$T/pools" "$T/tampered" "$T/none"
# commit|reveal DRAW PARTY TIME [SUFFIX [FLAG]]: the entry in $T/e/c-DRAW-PARTY[SUFFIX]
# (r-... for a reveal); FLAG for drawtool (--bad-sig, --wrong)
commit() { $DT commit "$T/e/c-$1-$2$4" "$1" "$2" "$3" $5 || fail "commit $*"; }
reveal() { $DT reveal "$T/e/r-$1-$2$4" "$1" "$2" "$3" $5 || fail "reveal $*"; }
# pool DRAW TIME REVEAL_BY PARTY...: $T/e/p-DRAW, and the pool file as pools/DRAW.csv
pool() {
    d=$1; t=$2; by=$3; shift 3
    cp "$T/pool.csv" "$T/pools/$d.csv"
    $DT pool "$T/e/p-$d" "$d" "$T/pool.csv" "$t" "$by" "$@" || fail "pool $d"
}
# draw DRAW TIME [--seed HEX] [drawtool args]: the draw of the parties' seed (or HEX), $T/e/d-DRAW
draw() {
    d=$1; t=$2; shift 2
    seed=$($DT seed "$d" "$T/pool.csv" p1 p2)
    if [ "$1" = "--seed" ]; then seed=$2; shift 2; fi
    rm -f "$T/draw-$d.csv"
    $S draw --pool "$T/pool.csv" --seed "$seed" --out "$T/draw-$d.csv" > /dev/null || fail "draw $d"
    $DT draw "$T/e/d-$d" "$d" "$T/draw-$d.csv" "$t" "$@" || fail "draw entry $d"
}
# honest DRAW: two parties commit, the pool, both reveal, the draw
honest() {
    commit "$1" p1 $T0; commit "$1" p2 $((T0 + 1))
    pool "$1" $((T0 + 10)) $FAR p1 p2
    reveal "$1" p1 $((T0 + 20)); reveal "$1" p2 $((T0 + 21))
    draw "$1" $((T0 + 30))
}

# --- a clean log: two honest draws ---------------------------------------------------------
honest assembly-2027
honest second
new_log clean
append c-assembly-2027-p1 c-assembly-2027-p2 p-assembly-2027 c-second-p1 c-second-p2 \
    r-assembly-2027-p1 r-assembly-2027-p2 d-assembly-2027 p-second r-second-p1 r-second-p2 \
    d-second
check_eq "honest draws with their pool files: exit 0" \
    "$(audit --pool-dir "$T/pools" --json "$T/clean.json")" 0
check_eq "both verified" "$(J "$T/clean.json" verdict.assembly-2027) $(J "$T/clean.json" verdict.second)" \
    "verified verified"
check_eq "the report is ok, nothing unverified" \
    "$(J "$T/clean.json" ok) $(J "$T/clean.json" unverified)" "true 0"
check_eq "the seed reported is the parties' seed" "$(J "$T/clean.json" seed.assembly-2027)" \
    "$($DT seed assembly-2027 "$T/pool.csv" p1 p2)"
check_eq "the pool named by its SHA-256" "$(J "$T/clean.json" pool.assembly-2027)" \
    "$(sha256sum "$T/pool.csv" | cut -d' ' -f1)"
check_eq "the entries counted by kind" "$(J "$T/clean.json" entries.sortition-commit) \
$(J "$T/clean.json" entries.pool) $(J "$T/clean.json" entries.sortition-reveal) \
$(J "$T/clean.json" entries.draw) $(J "$T/clean.json" entries.malformed)" "4 2 4 2 0"
check "the summary says verified" sh -c "$AU --log $U --log-vkey '$VK' --pool-dir $T/pools | grep -q 'draw second (pool entry 8): verified'"

check_eq "no pool file: exit 3, not passed" "$(audit --json "$T/nofile.json")" 3
check_eq "no pool file: not verifiable, not a violation" \
    "$(J "$T/nofile.json" verdict.assembly-2027) $(J "$T/nofile.json" ok) $(J "$T/nofile.json" unverified) $(J "$T/nofile.json" 'rules.*')" \
    "unverifiable false 2 "
check "no pool file: the summary says NOT VERIFIABLE" sh -c \
    "$AU --log $U --log-vkey '$VK' | grep -q 'result: NOT VERIFIED'"
cp "$T/pool.csv" "$T/none/second.csv"
check_eq "one pool file of two: exit 3" "$(audit --pool-dir "$T/none" --json "$T/one.json")" 3
check_eq "one verified, one not verifiable" \
    "$(J "$T/one.json" verdict.assembly-2027) $(J "$T/one.json" verdict.second)" "unverifiable verified"

# a tampered pool file: one member's category changed after the draw
cp "$T/pool.csv" "$T/tampered/second.csv"
awk -F, 'BEGIN { OFS = "," } /^17,/ && !done { $3 = ($3 == "male" ? "female" : "male"); done = 1 } { print }' \
    "$T/pool.csv" > "$T/tampered/assembly-2027.csv"
check_eq "a tampered pool file: exit 1" "$(audit --pool-dir "$T/tampered" --json "$T/tamp.json")" 1
check_eq "caught by pool_file_mismatch, at the pool entry" \
    "$(J "$T/tamp.json" 'rules.*') $(J "$T/tamp.json" index.pool_file_mismatch.assembly-2027)" "pool_file_mismatch 2"
check_eq "the tampered draw is not verified, the other is" \
    "$(J "$T/tamp.json" verdict.assembly-2027) $(J "$T/tamp.json" verdict.second)" "unverifiable verified"

# pool files fetched from where they are published
cat > "$T/serve.py" <<'PY'
import functools, http.server, sys
class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *a): pass
s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=sys.argv[1]))
open(sys.argv[2], "w").write(str(s.server_address[1]))
s.serve_forever()
PY
python3 "$T/serve.py" "$T/pools" "$T/web.port.tmp" & E2E_PIDS="$E2E_PIDS $!"
i=0; while [ ! -s "$T/web.port.tmp" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
WEB=http://127.0.0.1:$(cat "$T/web.port.tmp")
check_eq "pool files from --pool-url: exit 0" "$(audit --pool-url "$WEB" --json "$T/url.json")" 0
check_eq "verified from the fetched file" "$(J "$T/url.json" verdict.second)" verified
check_eq "a URL that does not serve them: exit 3" "$(audit --pool-url "$WEB/nothing" --json "$T/url2.json")" 3

# the pool file served by the log itself (/files/<its SHA-256>): a watchdog with only --log
UC=$U
new_log served
append c-assembly-2027-p1 c-assembly-2027-p2 p-assembly-2027 c-second-p1 c-second-p2 \
    r-assembly-2027-p1 r-assembly-2027-p2 d-assembly-2027 p-second r-second-p1 r-second-p2 \
    d-second
$S upload --log "$U" --key "$T/p.key" --producer sim --file "$T/pool.csv" > /dev/null || fail "upload"
check_eq "the pool file from the log alone: exit 0" "$(audit --json "$T/served.json")" 0
check_eq "both verified from the log's file" \
    "$(J "$T/served.json" verdict.assembly-2027) $(J "$T/served.json" verdict.second)" "verified verified"
check_eq "--pool-dir still comes first" "$(audit --pool-dir "$T/tampered" --json "$T/served2.json")" 1
# the log's stored copy tampered on its disk: served as stored, caught by its hash
POOLHEX=$(sha256sum "$T/pool.csv" | cut -d' ' -f1)
cp "$T/tampered/assembly-2027.csv" "$T/served/files/$POOLHEX"
check_eq "a file the log serves that is not its name's: exit 1" "$(audit --json "$T/served3.json")" 1
check_eq "caught by pool_file_mismatch at the pool entries, both unverifiable" \
    "$(J "$T/served3.json" 'rules.*') $(J "$T/served3.json" index.pool_file_mismatch.assembly-2027) $(J "$T/served3.json" verdict.assembly-2027) $(J "$T/served3.json" verdict.second)" \
    "pool_file_mismatch 2 unverifiable unverifiable"
kill "$served_PID"
U=$UC

# a resumed state: not verifiable first, verified once the file is given (nothing re-read)
check_eq "state, no pool file: exit 3" "$(audit --state "$T/st" --json "$T/st1.json")" 3
check_eq "state, the files given later: exit 0" \
    "$(audit --state "$T/st" --pool-dir "$T/pools" --json "$T/st2.json")" 0
check_eq "and nothing read again" "$(J "$T/st2.json" read.entries) $(J "$T/st2.json" verdict.assembly-2027)" \
    "0 verified"

# --- a broken log: one draw id per tampering ---------------------------------------------
# swapped: the operator drew with a seed of its own
commit swapped p1 $T0; commit swapped p2 $T0
pool swapped $((T0 + 10)) $FAR p1 p2
reveal swapped p1 $((T0 + 20)); reveal swapped p2 $((T0 + 20))
draw swapped $((T0 + 30)) --seed "$(printf 'operator' | sha256sum | cut -d' ' -f1)"
# picked, quota: the first member of the panel replaced by one the draw did not select, who
# keeps every quota (picked) or breaks one (quota)
cat > "$T/outsider.py" <<'PY'
import sys
lines = open(sys.argv[1]).read().split("\n")
quota = [l.split(",")[1:] for l in lines if l.startswith("quota,")]
cats = lines[[i for i, l in enumerate(lines) if l.startswith("members,")][0]].split(",")[2:-2]
members = {int(l.split(",")[0]): l.split(",")[1:1 + len(cats)]
           for l in lines if l[:1].isdigit()}
draw = {l.split(",")[0]: [int(x) for x in l.strip().split(",")[1:] if x]
        for l in open(sys.argv[2]) if l.startswith(("panel,", "reserves,"))}
panel, taken = draw["panel"], set(draw["panel"]) | set(draw["reserves"])
def keeps(p):
    for c, v, lo, hi in quota:
        n = sum(members[m][cats.index(c)] == v for m in p)
        if not int(lo) <= n <= int(hi): return False
    return True
out = {}
for m in sorted(members):
    if m not in taken: out.setdefault(keeps([m] + panel[1:]), m)
print(out.get(sys.argv[3] == "keep", 0))
PY
honest picked
draw picked $((T0 + 30)) --replace-first "$(python3 "$T/outsider.py" "$T/pool.csv" "$T/draw-picked.csv" keep)"
honest quota
draw quota $((T0 + 30)) --replace-first "$(python3 "$T/outsider.py" "$T/pool.csv" "$T/draw-quota.csv" break)"
# misnumbered: a pool entry that says other numbers than its own pool file
honest misnumbered
$DT pool "$T/e/p-misnumbered" misnumbered "$T/pool.csv" $((T0 + 10)) $FAR p1 p2 --max-attempts 7
# withheld: party 2 never reveals; an entry past reveal_by comes (the clock)
commit withheld p1 $T0; commit withheld p2 $T0
pool withheld $((T0 + 10)) $((T0 + 50)) p1 p2
reveal withheld p1 $((T0 + 20))
commit unused p1 $((T0 + 60))
# late-commit: party 2 commits after the pool
commit late-commit p1 $T0
pool late-commit $((T0 + 10)) $FAR p1 p2
commit late-commit p2 $((T0 + 11))
# bad-sig: party 2's commitment not signed by its key
commit bad-sig p1 $T0; commit bad-sig p2 $T0 "" --bad-sig
pool bad-sig $((T0 + 10)) $FAR p1 p2
# repeated: party 2 commits twice
honest repeated
commit repeated p2 $((T0 + 2)) -again
# wrong-reveal: a reveal for party 2 that opens nothing (it does not stop party 2's own);
# unopened: party 2 only reveals another secret than it committed to
honest wrong-reveal
reveal wrong-reveal p2 $((T0 + 20)) -wrong --wrong
commit unopened p1 $T0; commit unopened p2 $T0
pool unopened $((T0 + 10)) $FAR p1 p2
reveal unopened p1 $((T0 + 20)); reveal unopened p2 $((T0 + 20)) "" --wrong
# early-reveal: party 1 reveals before the pool (and again after)
honest early-reveal
reveal early-reveal p1 $((T0 + 5)) -early
# late-reveal: party 2 reveals after reveal_by
commit late-reveal p1 $T0; commit late-reveal p2 $T0
pool late-reveal $((T0 + 10)) $((T0 + 100)) p1 p2
reveal late-reveal p1 $((T0 + 20)); reveal late-reveal p2 $((T0 + 150))
# early-draw: the draw logged before party 2's reveal
honest early-draw
# twice-pool: a second pool entry for one draw id
honest twice-pool
$DT pool "$T/e/p-twice-pool-2" twice-pool "$T/pool.csv" $((T0 + 12)) $FAR p1 p2
# lone-draw: a draw with no pool
honest lone-draw
# tampered: an honest draw whose published pool file was changed
honest tampered
cp "$T/tampered/assembly-2027.csv" "$T/pools/tampered.csv"
# nofile: an honest draw whose pool file is not published
honest nofile
rm "$T/pools/nofile.csv"

new_log broken
H="c-%s-p1 c-%s-p2 p-%s r-%s-p1 r-%s-p2 d-%s"
hon() { printf "$H" "$1" "$1" "$1" "$1" "$1" "$1"; }
# shellcheck disable=SC2046
append $(hon swapped) $(hon picked) $(hon quota) $(hon misnumbered) \
    c-withheld-p1 c-withheld-p2 p-withheld r-withheld-p1 c-unused-p1 \
    c-late-commit-p1 p-late-commit c-late-commit-p2 \
    c-bad-sig-p1 c-bad-sig-p2 p-bad-sig \
    c-repeated-p1 c-repeated-p2 c-repeated-p2-again p-repeated r-repeated-p1 r-repeated-p2 d-repeated \
    c-wrong-reveal-p1 c-wrong-reveal-p2 p-wrong-reveal r-wrong-reveal-p1 r-wrong-reveal-p2-wrong \
    r-wrong-reveal-p2 d-wrong-reveal \
    c-unopened-p1 c-unopened-p2 p-unopened r-unopened-p1 r-unopened-p2 \
    c-early-reveal-p1 c-early-reveal-p2 r-early-reveal-p1-early p-early-reveal \
    r-early-reveal-p1 r-early-reveal-p2 d-early-reveal \
    c-late-reveal-p1 c-late-reveal-p2 p-late-reveal r-late-reveal-p1 r-late-reveal-p2 \
    c-early-draw-p1 c-early-draw-p2 p-early-draw r-early-draw-p1 d-early-draw r-early-draw-p2 \
    $(hon twice-pool) p-twice-pool-2 d-lone-draw $(hon tampered) $(hon nofile)
check_eq "the broken log: exit 1" "$(audit --pool-dir "$T/pools" --json "$T/broken.json")" 1
# expect DRAW "RULES" VERDICT: exactly those rules reported for the draw, and its verdict
expect() {
    check_eq "$1: rules" "$(J "$T/broken.json" "rules.$1")" "$2"
    check_eq "$1: verdict" "$(J "$T/broken.json" "verdict.$1")" "$3"
}
expect swapped "draw_mismatch draw_seed" failed
expect picked "draw_mismatch" failed
expect quota "draw_mismatch draw_quota" failed
expect misnumbered "pool_invalid" failed
expect withheld "seed_withheld" void
expect late-commit "commitment_late commitment_missing" failed
expect bad-sig "commitment_missing commitment_signature" failed
expect repeated "commitment_repeated" failed
expect wrong-reveal "reveal_mismatch" verified
expect unopened "reveal_mismatch" pending
expect early-reveal "reveal_early" failed
expect late-reveal "reveal_late seed_withheld" void
expect early-draw "draw_invalid" failed
expect twice-pool "pool_duplicate" failed
check_eq "lone-draw: rules" "$(J "$T/broken.json" rules.lone-draw)" draw_invalid
expect tampered "pool_file_mismatch" unverifiable
expect nofile "" unverifiable
check_eq "nothing else reported" "$(J "$T/broken.json" rules.unused)" ""
check_eq "the withheld seed at the pool entry" "$(J "$T/broken.json" index.seed_withheld.withheld)" \
    "$(J "$T/broken.json" pool_index.withheld)"
# the state keeps the entries' violations; the standing ones are recomputed
check_eq "broken, with state: exit 1" "$(audit --pool-dir "$T/pools" --state "$T/sb" --json "$T/b1.json")" 1
check_eq "broken, again: the same rules" \
    "$(audit --pool-dir "$T/pools" --state "$T/sb" --json "$T/b2.json"; J "$T/b2.json" 'rules.*')" \
    "1
$(J "$T/broken.json" 'rules.*')"
check "no sanitizer report from any audit (under ASan)" sh -c \
    "! grep -qE 'Sanitizer|runtime error' '$T/audit.err'"
# --- invitation codes for a draw (docs/PROTOCOL.md §3): the issuer's invitations entries -----
# within the draw's panel and reserves (24 + 4), after its draw entry, their totals adding up
ENT="python3 tests/e2e/lib/sortition_entry.py"
$ENT invitations assembly-2027 24 24 "$T/e/i-ok" $((T0 + 40))
$ENT invitations assembly-2027 5 29 "$T/e/i-over" $((T0 + 41))
$ENT invitations ghost 3 3 "$T/e/i-nodraw" $((T0 + 42))
$ENT invitations - 2 5 "$T/e/i-gap" $((T0 + 43))
new_log invites
append c-assembly-2027-p1 c-assembly-2027-p2 p-assembly-2027 r-assembly-2027-p1 \
    r-assembly-2027-p2 d-assembly-2027 i-ok
check_eq "the drawn panel's invitations: exit 0" \
    "$(audit --pool-dir "$T/pools" --json "$T/inv-ok.json")" 0
check_eq "counted: one batch of 24 codes" \
    "$(J "$T/inv-ok.json" entries.invitations) $(J "$T/inv-ok.json" entries.invitations.codes)" "1 24"
append i-over i-nodraw i-gap
check_eq "more codes than the draw drew, a draw never logged, a total that skips: exit 1" \
    "$(audit --pool-dir "$T/pools" --json "$T/inv-bad.json")" 1
check_eq "29 codes for a draw of 28: invitations_exceed_draw, at its entry (7)" \
    "$(J "$T/inv-bad.json" index.invitations_exceed_draw.assembly-2027)" 7
check_eq "codes for a draw not in the log: invitations_without_draw (8)" \
    "$(J "$T/inv-bad.json" index.invitations_without_draw.ghost)" 8
check_eq "a total of 5 after a batch of 2 and none before: invitations_total (9)" \
    "$(J "$T/inv-bad.json" index.invitations_total.None)" 9
check_eq "the draw itself still verified" "$(J "$T/inv-bad.json" verdict.assembly-2027)" verified

summary
