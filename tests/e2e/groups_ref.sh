#!/bin/sh
# The opinion-groups algorithm is specified precisely enough to be recomputed by anyone:
# tests/e2e/lib/groups_ref.py, written from docs/PROTOCOL.md §11.2 alone (core/protocol/groups
# not opened), gives the same result bytes as core/protocol/groups on rounds drawn by
# tests/tools/groupsdump (1 to 240 participants, 1 to 60 statements, 2 to 4 planted camps,
# passes, noise, densities from a quarter to nearly full, the votes in reverse order).
. tests/e2e/lib/common.sh
T=$E2E_TMP
for n in 1 2 3 4 5 6 7 8; do
    if ! $BUILD/tools/groupsdump $n > "$T/in-$n" 2> "$T/c-$n"; then
        fail "round $n: groupsdump"; continue
    fi
    check_eq "round $n ($(head -1 "$T/in-$n" | cut -d' ' -f1,2) participants, statements): Python from §11.2 = C" \
        "$(python3 tests/e2e/lib/groups_ref.py < "$T/in-$n" 2>/dev/null)" "$(cat "$T/c-$n")"
done
summary
