#!/bin/sh
# The bridging model is specified precisely enough to be recomputed by anyone (issue 19):
# tests/e2e/lib/bridging_ref.py, written from docs/PROTOCOL.md §11.1 alone, gives the same
# result bytes as core/protocol/bridging on rounds drawn by tests/tools/bridgedump (up to
# 300 raters and 40 notes, planted camps, noise, minimums that drop raters and notes, the
# ratings in reverse order).
. tests/e2e/lib/common.sh
T=$E2E_TMP
for n in 1 2 3 4 5 6 7 8; do
    if ! $BUILD/tools/bridgedump $n > "$T/in-$n" 2> "$T/c-$n"; then
        fail "round $n: bridgedump"; continue
    fi
    check_eq "round $n ($(head -1 "$T/in-$n" | cut -d' ' -f1,2) raters, notes): Python from §11.1 = C" \
        "$(python3 tests/e2e/lib/bridging_ref.py < "$T/in-$n" 2>/dev/null)" "$(cat "$T/c-$n")"
done
summary
