#!/bin/sh
# Runs every benchmark program and script. Each prints lines of the form
#   bench NAME VALUE UNIT limit LIMIT ratio R
# where LIMIT is the physical limit measured in the same run.
set -u
BUILD=${BUILD:-build}
export BUILD
filter=${1:-}
for b in "$BUILD"/bench/bench_* tests/bench/bench_*.sh; do
    [ -e "$b" ] || continue
    case "$b" in *"$filter"*) ;; *) continue ;; esac
    case "$b" in *.sh) sh "$b" ;; *) "$b" ;; esac
done | grep '^bench '
