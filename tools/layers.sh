#!/bin/sh
# Checks the include rule of core/ (core/README.md): a module includes only its own layer
# and the layers below it, always as "layer/module.h"; core never includes a program's
# header; a program (log, issuer, verifier, clients/*, lib) includes core and its own folder
# only. Prints each violation and ends with "N passed, N failed" (one check per file).
set -u
cd "$(dirname "$0")/.."
LAYERS="base primitives infra protocol" # lowest first

rank() { # layer name -> its position, or nothing if it is not a layer
    i=0
    for l in $LAYERS; do
        [ "$l" = "$1" ] && { echo $i; return; }
        i=$((i + 1))
    done
}

passed=0 failed=0
bad() { echo "layers: $1"; ok=0; }

check_file() { # file, its layer ("" for a program file)
    file=$1 own=$2 ok=1
    own_rank=$(rank "$own")
    for inc in $(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$file"); do
        case "$inc" in
        */*/* | ../* | ./*) bad "$file includes \"$inc\": not a core header nor its own" ;;
        */*)
            l=${inc%%/*} r=$(rank "${inc%%/*}")
            if [ -z "$r" ] || [ ! -f "core/$inc" ]; then
                bad "$file includes \"$inc\", which is no core header"
            elif [ -n "$own" ] && [ "$r" -gt "$own_rank" ]; then
                bad "$file ($own) includes \"$inc\": $l is above $own"
            fi ;;
        *)
            if [ -n "$own" ]; then
                bad "$file includes \"$inc\" without its layer"
            elif [ ! -f "$(dirname "$file")/$inc" ]; then
                bad "$file includes \"$inc\", which is not in its folder"
            fi ;;
        esac
    done
    if [ $ok -eq 1 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
}

for layer in $LAYERS; do
    for f in core/$layer/*.c core/$layer/*.h; do
        [ -f "$f" ] && check_file "$f" "$layer"
    done
done
for f in core/*.c core/*.h; do
    [ -f "$f" ] && { echo "layers: $f is in no layer (core/LAYER/)"; failed=$((failed + 1)); }
done
for f in $(find log issuer verifier relay clients lib -name '*.[ch]'); do
    check_file "$f" ""
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
