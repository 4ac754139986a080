#!/bin/sh
# Resuming across tile boundaries, against a real onevoice-log on 127.0.0.1:0. C2SP
# tlog-tiles lets a log delete a partial tile once its full tile exists, and onevoice-log
# answers 404 for it then; a reader resumed from saved state (or reading a checkpoint the log
# has since outgrown) must ask for the full tile and use its first W hashes or entries,
# checked against the tree it read. 1. core/protocol/logreader alone (logtool read --tiles
# --state) resumed at 44, 256, 300 and 65,600 entries: level-0 and level-1 partial tiles
# filled between runs. 2. A checkpoint the log outgrew (lib/tileproxy.py serves it): partial
# bundles and tiles 404, the full ones are used; a full tile whose first hashes are not the
# tree's is refused. 3. onevoice-audit --state resumed after the log filled tiles: exit 0 and
# the report of a fresh full run.
. tests/e2e/lib/simlog.sh
GS=$BUILD/tools/govsim
AU=$BUILD/onevoice-audit
KEYS=$T/keys

# grow N: appends test entries until the published checkpoint has N
grow() {
    have=$(curl -s "$U/checkpoint" | sed -n 2p)
    $LT load "$U" "$T/p.key" sim --count $(($1 - have)) --batch 1000 --conns 2 --size 16 > /dev/null
    i=0
    while [ "$(curl -s "$U/checkpoint" | sed -n 2p)" != "$1" ] && [ $i -lt 200 ]; do
        sleep 0.05; i=$((i + 1))
    done
}
rd() { $LT read "$@" --tiles 2>"$T/read.err"; }

# --- 1. the reader resumed where the log has filled the partial tiles it read -------------
new_log r
grow 44
check_eq "44 entries read" "$(rd "$U" "$VK" --state "$T/s")" "read 0 44"
grow 256
check_eq "the log deletes the partial tile once full" \
    "$(http_status GET "$U/tile/0/000.p/44") $(http_status GET "$U/tile/entries/000.p/44")" "404 404"
check_eq "resumed at 44 after tile 0 filled: its first 44 hashes used" \
    "$(rd "$U" "$VK" --state "$T/s")" "read 44 256"
grow 300
check_eq "resumed at a tile boundary" "$(rd "$U" "$VK" --state "$T/s")" "read 256 300"
cp "$T/s" "$T/s300"
curl -s "$U/checkpoint" > "$T/cp300"
grow 65600
check_eq "level 1 filled too" \
    "$(http_status GET "$U/tile/0/001.p/44") $(http_status GET "$U/tile/1/000.p/1")" "404 404"
check_eq "resumed at 300 after tiles of levels 0 and 1 filled" \
    "$(rd "$U" "$VK" --state "$T/s")" "read 300 65600"
check_eq "a fresh read agrees" "$(rd "$U" "$VK" --state "$T/fresh")" "read 0 65600"
check "and ends in the same state" cmp "$T/s" "$T/fresh"

# --- 2. a checkpoint the log has outgrown ----------------------------------------------------
echo "stale $T/cp300" > "$T/mode"
start_server px PX python3 tests/e2e/lib/tileproxy.py "$U" "$T/mode" "$T/req"
P=http://127.0.0.1:$PX
check_eq "the outgrown checkpoint read from scratch" "$(rd "$P" "$VK" --state "$T/s2")" "read 0 300"
check "its partial bundle 404s, the full one is used" sh -c \
    "grep -qx '/tile/entries/001.p/44 404' $T/req && grep -qx '/tile/entries/001 200' $T/req"
check "so do its partial tiles of levels 0 and 1" sh -c \
    "grep -qx '/tile/0/001 200' $T/req && grep -qx '/tile/1/000.p/1 404' $T/req && grep -qx '/tile/1/000 200' $T/req"
check "the state is the one read directly at 300" cmp "$T/s2" "$T/s300"
check_eq "and resumes to the log's size" "$(rd "$U" "$VK" --state "$T/s2")" "read 300 65600"
echo "flip /tile/0/001 0" > "$T/mode"
check_eq "a full tile whose first 44 hashes are not the tree's: refused" \
    "$(rd "$P" "$VK" --state "$T/s300"; echo $?)" 1
check "as bad_proof" grep -qx "logtool: read: bad_proof" "$T/read.err"
echo "flip /tile/0/001 $((50 * 32))" > "$T/mode"
check_eq "one with a bad hash after them: refused" "$(rd "$P" "$VK" --state "$T/s300"; echo $?)" 1
check "as bad_proof" grep -qx "logtool: read: bad_proof" "$T/read.err"
echo "lie" > "$T/mode"
check_eq "tiles that agree with each other, but start with hashes not the tree's: refused" \
    "$(rd "$P" "$VK" --state "$T/s300"; echo $?)" 1
check "as bad_proof" grep -qx "logtool: read: bad_proof" "$T/read.err"
echo "pass" > "$T/mode"
check_eq "the same through an honest proxy" "$(rd "$P" "$VK" --state "$T/s300")" "read 300 65600"

# --- 3. onevoice-audit --state after the log filled tiles ------------------------------------
new_log g
# same REPORT FRESH: the reports agree but for what was read this run
same() {
    python3 - "$1" "$2" <<'PY'
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:3])
for d in (a, b):
    for k in ("read", "state", "peak_rss_bytes"):
        d.pop(k)
for k in sorted(set(a) | set(b)):
    if a.get(k) != b.get(k):
        sys.exit("%s differs:\n  %s\n  %s" % (k, a.get(k), b.get(k)))
PY
}
audit() { $AU --quiet "$@" >"$T/audit.out" 2>"$T/audit.err"; echo $?; }
J() { python3 -c 'import json, sys
v = json.load(open(sys.argv[1]))
for k in sys.argv[2].split("."): v = v[int(k)] if isinstance(v, list) else v[k]
print(str(v).lower() if isinstance(v, bool) else v)' "$@"; }
# seed REPORT PREFIX: whether the seed of that govsim log's statement round was verified
seed() { python3 -c 'import json, sys
c = {c["id"]: c for c in json.load(open(sys.argv[1]))["contexts"]}[sys.argv[2] + "-statements"]
print(str(c["tallies"][0]["results"]["seed_verified"]).lower())' "$@"; }
$GS clean "$U" "$T/p.key" sim --keys "$KEYS" --prefix a --no-round > "$T/a.gs"
N1=$(sed -n 's/^size //p' "$T/a.gs")
check_eq "audit: first run" "$(audit --log "$U" --log-vkey "$VK" --state "$T/as" --json "$T/a1.json")" 0
for p in b c; do
    $GS clean "$U" "$T/p.key" sim --keys "$KEYS" --prefix $p > "$T/$p.gs"
    N2=$(sed -n 's/^size //p' "$T/$p.gs")
    check_eq "audit: the partial tile the state at $N1 ends in is gone" \
        "$(http_status GET "$U/tile/0/$(printf %03d $((N1 / 256))).p/$((N1 % 256))")" 404
    check_eq "audit: resumed at $N1 after the log grew to $N2: exit 0" \
        "$(audit --log "$U" --log-vkey "$VK" --state "$T/as" --json "$T/$p.json")" 0
    check_eq "audit: read only [$N1, $N2)" "$(J "$T/$p.json" read.from) $(J "$T/$p.json" read.entries)" \
        "$N1 $((N2 - N1))"
    check_eq "audit: the statement round's seed checked against the tree kept" \
        "$(seed "$T/$p.json" $p)" true
    check_eq "audit: a fresh full run" "$(audit --log "$U" --log-vkey "$VK" --json "$T/$p.fresh.json")" 0
    check "audit: the resumed run's report is the fresh run's" same "$T/$p.json" "$T/$p.fresh.json"
    N1=$N2
done
summary
