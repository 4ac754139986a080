#!/bin/sh
# Receipt and checkpoint checks from tiles alone (issue 18; docs/PROTOCOL.md §8.3), against
# real onevoice-logs on 127.0.0.1:0, through core/protocol/logproof as the wallet, the
# verifier and lib/ call it (tests/tools/lpcheck runs what a wallet's `receipts` run asks:
# the checkpoint proven to extend the stored head, then each receipt's inclusion). Every
# request goes through tests/e2e/fake.py, which records it and alters answers on demand.
# 1. Nothing is sent that names the stored size or an index: no /proof/* request, every
#    partial tile at the width of the checkpoint's size. 2. An older level-0 tile comes
#    with 8 decoys (a fresh set each run); a recent one with the whole window of 8 tiles.
# 3. A tile changed by one byte, a forked log's tile, a missing tile, a cut tile, a forked
#    checkpoint: refused with bad_proof, http, malformed. 4. Sizes 256, 257, 512 and 600,
#    receipts on both sides of a tile edge, stored sizes at and inside a tile.
. tests/e2e/lib/simlog.sh
LP=$BUILD/tools/lpcheck

size_of() { curl -s "$1/checkpoint" | sed -n 2p; }
wait_size() { # URL N: until the log publishes a checkpoint of N entries
    i=0
    while [ "$(size_of "$1")" != "$2" ] && [ $i -lt 400 ]; do sleep 0.05; i=$((i + 1)); done
}
grow_to() ( # URL N [TEXT]: appends "TEXT i" (default "fixture entry i") up to N entries
    u=$1 want=$2 text=${3:-fixture entry}
    have=$(size_of "$u")
    while [ "$have" -lt "$want" ]; do
        end=$((have + 100))
        [ $end -gt "$want" ] && end=$want
        set --
        i=$have
        while [ $i -lt $end ]; do set -- "$@" "$text $i"; i=$((i + 1)); done
        $LT append "$u" "$T/p.key" sim --opaque "$@" > /dev/null || exit 1
        have=$end
    done
    wait_size "$u" "$want"
)
lp() { $LP "$@" --quorum 0 2>>"$T/lp.err"; }
tiles_asked() { sed -n 's|^GET /\(tile/[^ ]*\) .*|\1|p' "$1"; }

# --- 1. what the log is asked -------------------------------------------------------------
new_log a --opaque-entries
UA=$U
grow_to "$UA" 300
start_fake fa FAPORT "$UA"; FA=http://127.0.0.1:$FAPORT
out=$(lp "$FA" "$VK" --head "$T/h" 5 299 | tr '\n' ' ')
case "$out" in
"checkpoint 300 inclusion 5 ok inclusion 299 ok tiles "*) ok ;;
*) fail "first run, a head at 300: $out" ;;
esac
cp "$T/h" "$T/h300"
grow_to "$UA" 600
lp "$FA" "$VK" --head "$T/h" 5 > /dev/null
cp "$T/h" "$T/h600"
grow_to "$UA" 1000
: > "$T/fa.requests"
out=$(lp "$FA" "$VK" --head "$T/h" 5 299 600 | tr '\n' ' ')
case "$out" in
"checkpoint 1000 inclusion 5 ok inclusion 299 ok inclusion 600 ok tiles "*) ok ;;
*) fail "from 600 to 1000: $out" ;;
esac
check_eq "no /proof request" "$(grep -c ' /proof/' "$T/fa.requests")" 0
# size 1000: level 0 has 3 full tiles and one of 232, level 1 one of 3; 600 (the stored
# size) would show as a width of 88 at level 0, 2 at level 1
check_eq "partial tiles at the checkpoint's widths only" \
    "$(tiles_asked "$T/fa.requests" | grep '\.p/' | sort | tr '\n' ' ')" \
    "tile/0/003.p/232 tile/1/000.p/3 "
check_eq "full tiles: level 0 (every one, the window)" \
    "$(tiles_asked "$T/fa.requests" | grep -v '\.p/' | sort | tr '\n' ' ')" \
    "tile/0/000 tile/0/001 tile/0/002 "
check_eq "the head moved to 1000" "$(cut -d' ' -f1 "$T/h")" 1000

# --- 2. decoys ----------------------------------------------------------------------------
# 20,000 entries: 78 full level-0 tiles; the window is the last 8 (070..077), the decoys
# are drawn from the 69 older ones but the receipt's
new_log b --opaque-entries
UB=$U
$LT fixture "$UB" "$T/p.key" sim 20000 1000 > /dev/null
wait_size "$UB" 20000
start_fake fb FBPORT "$UB"; FB=http://127.0.0.1:$FBPORT
level0() { tiles_asked "$T/fb.requests" | grep '^tile/0/[0-9x/]*$' | sort; }
for run in 1 2; do
    : > "$T/fb.requests"
    check_eq "an old receipt ($run)" "$(lp "$FB" "$VK" 100 | sed -n 2p)" "inclusion 100 ok"
    level0 > "$T/decoys$run"
    check_eq "its tile and 8 decoys ($run)" "$(wc -l < "$T/decoys$run" | tr -d ' ')" 9
    check "its own tile among them ($run)" grep -qx 'tile/0/000' "$T/decoys$run"
    check_eq "none from the window ($run)" "$(grep -c '/07[0-7]$' "$T/decoys$run")" 0
done
check "each run its own decoys" sh -c "! cmp -s '$T/decoys1' '$T/decoys2'"
: > "$T/fb.requests"
check_eq "a recent receipt" "$(lp "$FB" "$VK" 19000 | sed -n 2p)" "inclusion 19000 ok"
check_eq "the whole window, nothing else" "$(level0 | tr '\n' ' ')" \
    "tile/0/070 tile/0/071 tile/0/072 tile/0/073 tile/0/074 tile/0/075 tile/0/076 tile/0/077 "
: > "$T/fb.requests"
check_eq "three receipts, one run" "$(lp "$FB" "$VK" 19000 19001 300 | sed -n 2,4p | tr '\n' ' ')" \
    "inclusion 19000 ok inclusion 19001 ok inclusion 300 ok "
check_eq "each tile fetched once" "$(tiles_asked "$T/fb.requests" | sort | uniq -d | wc -l | tr -d ' ')" 0
check_eq "no /proof request (decoys)" "$(grep -c ' /proof/' "$T/fb.requests")" 0

# --- 3. a log that lies -------------------------------------------------------------------
# c: a fork of a (same key) from entry 300 on
new_log c --opaque-entries
UC=$U
grow_to "$UC" 300
grow_to "$UC" 1000 "fork entry"
refused() { # DESCRIPTION MODE WANT ARGS...: lpcheck through fa in MODE prints WANT
    d=$1 m=$2 w=$3
    shift 3
    echo "$m" > "$T/fa.mode"
    check_eq "$d" "$(lp "$FA" "$VK" "$@" | grep -v '^tiles' | tr '\n' ' ')" "$w"
    echo pass > "$T/fa.mode"
}
refused "a tile changed by one byte" "flip /tile/0/001" "checkpoint 1000 inclusion 300 bad_proof " 300
# fake.py flips the middle byte: in hash 128 of tile/0/001, entry 384's own, which its audit
# path does not use (only the tile's check up to the root sees it)
refused "the receipt's own hash changed in its tile" "flip /tile/0/001" \
    "checkpoint 1000 inclusion 384 bad_proof " 384
refused "a level-1 tile changed" "flip /tile/1/000.p/3" "checkpoint 1000 inclusion 300 bad_proof " 300
refused "a forked log's tile" "other $UC /tile/0/001" "checkpoint 1000 inclusion 300 bad_proof " 300
refused "a missing tile" "missing /tile/0/001" "checkpoint 1000 inclusion 300 http_error " 300
refused "a cut tile" "cut /tile/0/001" "checkpoint 1000 inclusion 300 malformed " 300
refused "the partial tile changed" "flip /tile/0/003.p/232" "checkpoint 1000 inclusion 999 bad_proof " 999
refused "untouched: the control" "pass" "checkpoint 1000 inclusion 300 ok " 300
start_fake fc FCPORT "$UC"; FC=http://127.0.0.1:$FCPORT
check_eq "a fork after the stored size is consistent" "$(lp "$FC" "$VK" --head "$T/h300" | head -1)" \
    "checkpoint 1000"
cp "$T/h600" "$T/h600c"
check_eq "a fork before the stored size (inside a tile) is refused" \
    "$(lp "$FC" "$VK" --head "$T/h600c" | head -1)" "checkpoint bad_proof"
check_eq "the refused head is kept" "$(cat "$T/h600c")" "$(cat "$T/h600")"
check_eq "a stored head of another tree at the same size" \
    "$(lp "$FC" "$VK" --head "$T/h" | head -1)" "checkpoint bad_proof"

# --- 4. sizes at tile edges -----------------------------------------------------------------
new_log d --opaque-entries
UD=$U
step() { # SIZE ENTRY...: grows d to SIZE, then checks the head and each entry in it
    s=$1
    shift
    grow_to "$UD" "$s"
    from=$(cut -d' ' -f1 "$T/hd" 2>/dev/null)
    out=$(lp "$UD" "$VK" --head "$T/hd" "$@")
    check_eq "size $s from ${from:-nothing}: $*" \
        "$(echo "$out" | grep -v '^tiles' | grep -vc ' ok$\|^checkpoint [0-9]*$')" 0
    check_eq "head at $s" "$(cut -d' ' -f1 "$T/hd")" "$s"
}
step 100 0 99       # inside the first tile
step 256 0 100 255  # a full tile, from a size inside it
step 257 255 256    # a level-0 tile edge, from a size at it
step 512 256 511 3  # two full tiles, from a size one past the edge
step 600 255 256 599 # from a size at the edge
step 601 511 512 600
grow_to "$UD" 700
cp "$T/hd" "$T/hd601"
check_eq "an index past the checkpoint" "$(lp "$UD" "$VK" --head "$T/hd" 700 | sed -n 2p)" \
    "inclusion 700 out_of_range"
check_eq "a leaf that is not there" \
    "$(lp "$UD" "$VK" 5:0000000000000000000000000000000000000000000000000000000000000000 | sed -n 2p)" \
    "inclusion 5 bad_proof"

summary tileproof.sh
