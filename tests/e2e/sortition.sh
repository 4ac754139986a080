#!/bin/sh
# onevoice-sortition end to end: respondents with realistic category shares imported into the
# public pool file (contacts only in the private file), quotas checked (each infeasible one
# named), a draw re-run by `verify` and by an independent implementation written from
# docs/PROTOCOL.md §10 alone (lib/sortition_ref.py), a tampered pool, a swapped seed and an
# edited panel each caught, jointly infeasible quotas refused, invitations one per person.
# Refusals: respondent rows of the wrong width, a minimum past 2^32, labels that are not UTF-8
# or hold a control character (C1 too, in both implementations), a draw naming a member
# twice; nothing partial left by a failed write; invitations only for the pool's own
# verified draw, its own private file, contacts that open the pool's commitments, one each.
. tests/e2e/lib/common.sh
S=$BUILD/onevoice-sortition
T=$E2E_TMP
REF=tests/e2e/lib/sortition_ref.py

# respondents.csv (N people) and quotas.csv (panel P, shares +-20 %)
make_pool_inputs() { python3 tools/respondents.py "$@"; } # DIR N P

# --- import: the public pool file and the private contacts ------------------------------
mkdir -p "$T/a"
make_pool_inputs "$T/a" 3000 80
check "import" $S import --respondents "$T/a/respondents.csv" --quotas "$T/a/quotas.csv" \
    --panel 80 --reserves 6 --out "$T/a/pool.csv" --private "$T/a/private.csv"
check_eq "the private file is mode 0600" "$(stat -c %a "$T/a/private.csv")" 600
check_eq "the pool file holds no contact and no name" \
    "$(grep -c -e '+8869' -e 'Person' -e 'street' "$T/a/pool.csv")" 0
check_eq "the private file holds every contact" "$(grep -c '+8869' "$T/a/private.csv")" 3000
check_eq "pool order is not the respondents' order" \
    "$(sed -n 2p "$T/a/private.csv" | cut -d, -f2 | grep -c '^+886900000000$')" 0
check "households are keyed hashes, shared within a household" sh -c \
    "cut -d, -f7 '$T/a/pool.csv' | grep -E '^[0-9a-f]{32}$' | sort | uniq -c | awk '\$1 > 1' | grep -q ."
check_eq "import never overwrites" "$($S import --respondents "$T/a/respondents.csv" \
    --quotas "$T/a/quotas.csv" --panel 80 --out "$T/a/pool.csv" --private "$T/a/p2.csv" \
    >/dev/null 2>&1; echo $?)" 1
check "check: these quotas can be met" $S check --pool "$T/a/pool.csv"
check_eq "the private file starts by naming its pool" "$(sed -n 1p "$T/a/private.csv")" \
    "onevoice-private/v1,$(sha256sum "$T/a/pool.csv" | cut -d' ' -f1)"
check_eq "then its header" "$(sed -n 2p "$T/a/private.csv")" "pool_id,contact,salt"

# --- import refuses what it cannot read exactly, and leaves no file behind ------------------
mkdir -p "$T/i"
printf 'category,value,min,max\ngender,f,0,2\ngender,m,0,2\nage,old,0,2\nage,young,0,2\n' > "$T/i/q.csv"
printf 'contact,gender,age\naaaaaaaaaa@x,f,old\nb@x,m\n' > "$T/i/short.csv"
$S import --respondents "$T/i/short.csv" --quotas "$T/i/q.csv" --panel 1 \
    --out "$T/i/pool.csv" --private "$T/i/priv.csv" 2> "$T/i.err" >/dev/null
check_eq "a short row: import refuses it" "$?" 1
check "naming its line" grep -q "short.csv line 3: 2 fields, the header has 3" "$T/i.err"
check "and writes neither file" sh -c "test ! -e '$T/i/pool.csv' && test ! -e '$T/i/priv.csv'"
printf 'contact,gender,age\na@x,f,old\nb@x,m,young,extra\n' > "$T/i/long.csv"
$S import --respondents "$T/i/long.csv" --quotas "$T/i/q.csv" --panel 1 \
    --out "$T/i/pool2.csv" --private "$T/i/priv2.csv" 2> "$T/i.err" >/dev/null
check_eq "a long row: import refuses it" "$?" 1
check "naming its line" grep -q "long.csv line 3: 4 fields, the header has 3" "$T/i.err"
printf 'category,value,min,max\ngender,f,4294967301,10\ngender,m,0,2\n' > "$T/i/qmin.csv"
printf 'contact,gender\na@x,f\nb@x,m\n' > "$T/i/r.csv"
$S import --respondents "$T/i/r.csv" --quotas "$T/i/qmin.csv" --panel 1 \
    --out "$T/i/pool3.csv" --private "$T/i/priv3.csv" 2> "$T/i.err" >/dev/null
check_eq "a minimum of 2^32 + 5: import refuses it (not 5)" "$?" 1
printf 'category,value,min,max\ngender,f\377,0,2\ngender,m,0,2\n' > "$T/i/qutf.csv"
printf 'contact,gender\na@x,f\377\nb@x,m\n' > "$T/i/rutf.csv"
$S import --respondents "$T/i/rutf.csv" --quotas "$T/i/qutf.csv" --panel 1 \
    --out "$T/i/pool4.csv" --private "$T/i/priv4.csv" 2> "$T/i.err" >/dev/null
check_eq "a label that is not UTF-8: import refuses it" "$?" 1
printf 'x\n' > "$T/i/taken.csv"
printf 'category,value,min,max\ngender,f,0,2\ngender,m,0,2\n' > "$T/i/q1.csv"
$S import --respondents "$T/i/r.csv" --quotas "$T/i/q1.csv" --panel 1 \
    --out "$T/i/taken.csv" --private "$T/i/priv.csv" 2> "$T/i.err" >/dev/null
check_eq "--out exists: import refuses" "$?" 1
check "and leaves no private file" test ! -e "$T/i/priv.csv"
(trap '' XFSZ; ulimit -f 0; $S import --respondents "$T/i/r.csv" --quotas "$T/i/q1.csv" \
    --panel 1 --out "$T/i/pool.csv" --private "$T/i/priv.csv") 2> "$T/i.err" >/dev/null
check_eq "a write that fails: import fails" "$?" 1
check "and leaves neither file" sh -c "test ! -e '$T/i/pool.csv' && test ! -e '$T/i/priv.csv'"
check "import with both paths free" $S import --respondents "$T/i/r.csv" --quotas "$T/i/q1.csv" \
    --panel 1 --out "$T/i/pool.csv" --private "$T/i/priv.csv"

# --- labels: UTF-8 without control characters (C0, DEL, C1), in both implementations ------
for bad in 'not-UTF-8:\377' 'C1-U+0085:\302\205' 'overlong:\300\257' 'surrogate:\355\240\200'; do
    B=$(printf "reg${bad#*:}ion")
    bad=${bad%%:*}
    LC_ALL=C sed "s/^quota,region,/quota,$B,/; s/,region,/,$B,/" "$T/a/pool.csv" > "$T/a/bad-label.csv"
    $S check --pool "$T/a/bad-label.csv" > /dev/null 2>&1
    check_eq "a category label with a $bad byte sequence: check refuses the pool" "$?" 1
    python3 "$REF" check "$T/a/bad-label.csv" > /dev/null 2>&1
    check_eq "and so does the independent implementation ($bad)" "$?" 2
done
B=$(printf 'r\303\251gion') # é: UTF-8 is fine
LC_ALL=C sed "s/^quota,region,/quota,$B,/; s/,region,/,$B,/" "$T/a/pool.csv" > "$T/a/utf-label.csv"
check "a label of UTF-8 beyond ASCII is a label" $S check --pool "$T/a/utf-label.csv"
check "for the independent implementation too" python3 "$REF" check "$T/a/utf-label.csv"

# --- infeasible quotas, each named ---------------------------------------------------------
sed 's/^quota,gender,other,0,1$/quota,gender,other,60,61/; s/^quota,region,capital,\([0-9]*\),[0-9]*$/quota,region,capital,\1,2/' \
    "$T/a/pool.csv" > "$T/a/bad.csv"
$S check --pool "$T/a/bad.csv" > /dev/null 2> "$T/bad.err"
check_eq "check refuses infeasible quotas" "$?" 1
check "a minimum above the members having the value is named" grep -q \
    "category 1 value 2: min 60, but only" "$T/bad.err"
check "a minimum sum above the panel is named" grep -q "category 1: its minimums add up to" "$T/bad.err"
check "a category that cannot fill the panel is named" grep -q \
    "category 2: at most .* can be selected" "$T/bad.err"
check "the legend names them" grep -q "category 1 = gender: .*value 2 = other" "$T/bad.err"

# --- draw, verify, and an independent implementation -----------------------------------------
SEED=$(python3 -c 'import hashlib; print(hashlib.sha256(b"a public seed").hexdigest())')
check "draw" $S draw --pool "$T/a/pool.csv" --seed "$SEED" --out "$T/a/draw.csv"
check "verify re-runs it" $S verify --pool "$T/a/pool.csv" --draw "$T/a/draw.csv"
check_eq "the draw names the pool by its SHA-256" "$(sed -n 2p "$T/a/draw.csv")" \
    "pool,$(sha256sum "$T/a/pool.csv" | cut -d' ' -f1)"
check_eq "80 distinct members, 6 reserves, none twice" \
    "$(sed -n '5,6p' "$T/a/draw.csv" | cut -d, -f2- | tr ',' '\n' | sort -u | wc -l)" 86
if [ -f "$REF" ]; then
    for s in "$SEED" $(python3 -c 'import hashlib
for i in range(4): print(hashlib.sha256(b"seed %d" % i).hexdigest())'); do
        rm -f "$T/a/d.csv"
        $S draw --pool "$T/a/pool.csv" --seed "$s" --out "$T/a/d.csv" >/dev/null 2>&1
        check_eq "the independent implementation draws the same (seed ${s%????????????????????????????????????????????????????????})" \
            "$(python3 "$REF" draw "$T/a/pool.csv" "$s" | tr '\n' ' ')" \
            "$(sed -n '4,6p' "$T/a/d.csv" | tr ',' ' ' | tr '\n' ' ')"
    done
    # a value nobody may have (max 0) and households: neither on the panel nor a reserve
    sed 's/^quota,gender,other,0,1$/quota,gender,other,0,0/' "$T/a/pool.csv" > "$T/a/pool0.csv"
    $S draw --pool "$T/a/pool0.csv" --seed "$SEED" --out "$T/a/d0.csv" >/dev/null 2>&1
    check_eq "with a value at max 0, the independent implementation draws the same" \
        "$(python3 "$REF" draw "$T/a/pool0.csv" "$SEED" | tr '\n' ' ')" \
        "$(sed -n '4,6p' "$T/a/d0.csv" | tr ',' ' ' | tr '\n' ' ')"
    check_eq "and nobody with that value is drawn" "$(sed -n '5,6p' "$T/a/d0.csv" | cut -d, -f2- |
        tr ',' '\n' | awk -F, 'NR == FNR { id[$1] = 1; next } $1 in id && $3 == "other"' - "$T/a/pool0.csv" | wc -l)" 0
else
    fail "the independent implementation $REF is missing"
fi

# --- each tampering caught -------------------------------------------------------------------
awk -F, 'BEGIN { OFS = "," } /^17,/ && !done { $3 = ($3 == "male" ? "female" : "male"); done = 1 } { print }' \
    "$T/a/pool.csv" > "$T/a/pool2.csv"
$S verify --pool "$T/a/pool2.csv" --draw "$T/a/draw.csv" 2> "$T/v.err" >/dev/null
check_eq "a pool file changed after the draw: verify fails" "$?" 1
check "saying it names another pool" grep -q "another pool" "$T/v.err"
check "freeing only what it allocated (no sanitizer report under ASan)" sh -c "! grep -q Sanitizer '$T/v.err'"
sed "s/^seed,.*/seed,$(python3 -c 'import hashlib; print(hashlib.sha256(b"other").hexdigest())')/" \
    "$T/a/draw.csv" > "$T/a/draw2.csv"
$S verify --pool "$T/a/pool.csv" --draw "$T/a/draw2.csv" 2> "$T/v.err" >/dev/null
check_eq "a swapped seed: verify fails" "$?" 1
# (another seed may also need another number of attempts: that is said first)
check "saying the panel (or the attempt) differs" grep -qE "(panel|attempt) differs" "$T/v.err"
# a member the draw did not select, in place of the first selected
OUTSIDER=$(sed -n '5,6p' "$T/a/draw.csv" | cut -d, -f2- | tr ',' '\n' | sort -n |
    awk 'BEGIN { want = 1 } $1 == want { want++ } END { print want }')
awk -F, -v m="$OUTSIDER" 'BEGIN { OFS = "," } /^panel,/ { $2 = m } { print }' "$T/a/draw.csv" > "$T/a/draw3.csv"
$S verify --pool "$T/a/pool.csv" --draw "$T/a/draw3.csv" 2> "$T/v.err" >/dev/null
check_eq "a hand-picked member in the panel: verify fails" "$?" 1
check "saying the panel differs" grep -q "panel differs" "$T/v.err"
awk -F, 'BEGIN { OFS = "," } /^panel,/ { first = $2 } /^reserves,/ { $2 = first } { print }' \
    "$T/a/draw.csv" > "$T/a/draw4.csv"
$S verify --pool "$T/a/pool.csv" --draw "$T/a/draw4.csv" 2> "$T/v.err" >/dev/null
check_eq "a member both on the panel and a reserve: verify fails" "$?" 1
check "saying the draw file names it twice" grep -q "twice" "$T/v.err"
sed 's/^reserves.*/reserves,1,x/' "$T/a/draw.csv" > "$T/a/draw5.csv"
$S verify --pool "$T/a/pool.csv" --draw "$T/a/draw5.csv" 2> "$T/v.err" >/dev/null
check_eq "a draw file that does not parse: verify fails" "$?" 1
check "and frees what it read (no leak reported under ASan)" sh -c "! grep -q Sanitizer '$T/v.err'"
(trap '' XFSZ; ulimit -f 0; $S draw --pool "$T/a/pool.csv" --seed "$SEED" --out "$T/a/d-full.csv") \
    >/dev/null 2>&1
check_eq "a draw that cannot be written: draw fails" "$?" 1
check "and leaves no partial draw file" test ! -e "$T/a/d-full.csv"

# --- quotas possible alone, not together ------------------------------------------------------
mkdir -p "$T/j"
printf 'category,value,min,max\na,x,3,3\na,y,0,3\nb,x,0,0\nb,y,0,3\n' > "$T/j/quotas.csv"
printf 'contact,a,b\n1,x,x\n2,x,x\n3,x,x\n4,y,y\n5,y,y\n6,y,y\n' > "$T/j/respondents.csv"
check "import a pool whose quotas conflict" $S import --respondents "$T/j/respondents.csv" \
    --quotas "$T/j/quotas.csv" --panel 3 --max-attempts 20 --out "$T/j/pool.csv" --private "$T/j/p.csv"
$S draw --pool "$T/j/pool.csv" --seed "$SEED" --out "$T/j/draw.csv" 2> "$T/j.err" >/dev/null
check_eq "the draw refuses them" "$?" 1
check "saying they cannot be met jointly" grep -q "cannot be met jointly" "$T/j.err"
check "and writes no draw" test ! -e "$T/j/draw.csv"

# --- fairness, stated ------------------------------------------------------------------------------
$S stats --pool "$T/a/pool.csv" --runs 200 > "$T/stats.out"
check "stats reports the minimum selection probability" grep -qE \
    "^selection probability: mean 0\.02667, min 0\.[0-9]+ \(member [0-9]+\), max" "$T/stats.out"

# --- invitations: one code per selected person, to its contact alone --------------------------------
{ echo code; i=0; while [ $i -lt 90 ]; do printf 'code%018d\n' $i; i=$((i + 1)); done; } > "$T/a/codes.csv"
check "invitations for the panel and two reserves" $S invitations --pool "$T/a/pool.csv" \
    --draw "$T/a/draw.csv" --private "$T/a/private.csv" --codes "$T/a/codes.csv" --reserves 2 \
    --out "$T/a/inv.csv"
check_eq "82 invitations, each code once" "$(tail -n +2 "$T/a/inv.csv" | cut -d, -f2 | sort -u | wc -l)" 82
check_eq "the invitation file is mode 0600" "$(stat -c %a "$T/a/inv.csv")" 600
FIRST=$(sed -n 5p "$T/a/draw.csv" | cut -d, -f2)
check_eq "the first invitation goes to the first selected member's contact" \
    "$(sed -n 2p "$T/a/inv.csv" | cut -d, -f1)" "$(awk -F, -v id="$FIRST" '$1 == id { print $2 }' "$T/a/private.csv")"
head -50 "$T/a/codes.csv" > "$T/a/few.csv"
$S invitations --pool "$T/a/pool.csv" --draw "$T/a/draw.csv" --private "$T/a/private.csv" \
    --codes "$T/a/few.csv" --out "$T/a/inv2.csv" 2> "$T/inv.err" >/dev/null
check_eq "too few codes: refused" "$?" 1
check "saying one per person" grep -q "one per person" "$T/inv.err"
# invite DRAW PRIVATE [POOL]: exit status, stderr in $T/inv.err, never an invitation file
invite() {
    rm -f "$T/a/inv3.csv"
    $S invitations --pool "${3:-$T/a/pool.csv}" --draw "$1" --private "$2" --codes "$T/a/codes.csv" \
        --out "$T/a/inv3.csv" 2> "$T/inv.err" >/dev/null
    st=$?
    [ -e "$T/a/inv3.csv" ] && st="$st, and wrote $T/a/inv3.csv"
    echo "$st"
}
check_eq "invitations without --pool: a usage error" "$($S invitations --draw "$T/a/draw.csv" \
    --private "$T/a/private.csv" --codes "$T/a/codes.csv" --out "$T/a/inv3.csv" >/dev/null 2>&1;
    echo $?)" 2
check_eq "the private file of another pool: refused" "$(invite "$T/a/draw.csv" "$T/j/p.csv")" 1
check "saying so" grep -q "belongs to another pool" "$T/inv.err"
check_eq "a draw of another pool: refused" \
    "$(invite "$T/a/draw.csv" "$T/a/private.csv" "$T/a/pool2.csv")" 1
check "saying so" grep -q "another pool" "$T/inv.err"
check_eq "a draw verify rejects (a hand-picked member): refused" \
    "$(invite "$T/a/draw3.csv" "$T/a/private.csv")" 1
check "saying the panel differs" grep -q "panel differs" "$T/inv.err"
awk -F, -v id="$FIRST" 'BEGIN { OFS = "," } $1 == id { $2 = "+886999999999" } { print }' \
    "$T/a/private.csv" > "$T/a/private2.csv"
check_eq "a selected member's contact swapped in the private file: refused" \
    "$(invite "$T/a/draw.csv" "$T/a/private2.csv")" 1
check "saying the commitment does not match" grep -q "do not give the pool's commitment" "$T/inv.err"
awk -F, -v id="$FIRST" '{ print } $1 == id { print }' "$T/a/private.csv" > "$T/a/private3.csv"
check_eq "a member twice in the private file: refused" "$(invite "$T/a/draw.csv" "$T/a/private3.csv")" 1
mkdir -p "$T/t"
printf 'category,value,min,max\ng,x,0,3\n' > "$T/t/quotas.csv"
printf 'contact,g\nsame@x,x\nsame@x,x\nother@x,x\n' > "$T/t/respondents.csv"
check "import a pool where one person answered twice" $S import --respondents \
    "$T/t/respondents.csv" --quotas "$T/t/quotas.csv" --panel 3 --out "$T/t/pool.csv" \
    --private "$T/t/p.csv"
check "and draw all three" $S draw --pool "$T/t/pool.csv" --seed "$SEED" --out "$T/t/draw.csv"
rm -f "$T/t/inv.csv"
$S invitations --pool "$T/t/pool.csv" --draw "$T/t/draw.csv" --private "$T/t/p.csv" \
    --codes "$T/a/codes.csv" --out "$T/t/inv.csv" 2> "$T/inv.err" >/dev/null
check_eq "two selected members with one contact: refused" "$?" 1
check "saying one person, one code" grep -q "one person, one code" "$T/inv.err"
check "and no invitation file" test ! -e "$T/t/inv.csv"
check "--help lists every command" sh -c "$S --help | grep -q invitations && $S draw --help | grep -q -- --seed"
summary
