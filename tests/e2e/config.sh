#!/bin/sh
# Configuration files end to end (--config FILE, --print-config; core/infra/cli.h): a log
# started from a file alone serves; a flag overrides the file; a bad file is refused with
# its line number before anything is made; every server's --help names both options; the
# examples in examples/config/ are accepted, print what they set, and print the same again
# when fed their own output; --print-config prints no secret.
. tests/e2e/lib/common.sh
LT=$BUILD/tools/logtool
T=$E2E_TMP

# --- every server: --help, and its example accepted ----------------------------------
for n in log witness issuer verifier; do
    P=$BUILD/onevoice-$n
    EX=examples/config/$n.conf
    $P --help > "$T/help" 2>&1
    check "onevoice-$n --help lists --config FILE" grep -q -- '--config FILE' "$T/help"
    check "onevoice-$n --help lists --print-config" grep -q -- '--print-config' "$T/help"
    check "examples/config/$n.conf is accepted" sh -c "$P --config $EX --print-config > $T/$n.p1"
    # what the example sets is what --print-config prints, line for line
    grep -v '^#' "$EX" | grep . > "$T/$n.set"
    check_eq "examples/config/$n.conf: its settings printed as written" \
        "$(grep -c -v -x -F -f "$T/$n.p1" "$T/$n.set")" 0
    check "examples/config/$n.conf sets something" test -s "$T/$n.set"
    $P --config "$T/$n.p1" --print-config > "$T/$n.p2" 2>&1
    check "onevoice-$n: --print-config's output, read back, prints the same" cmp "$T/$n.p1" "$T/$n.p2"
done

# --- a log from a configuration file alone -------------------------------------------
$LT keygen "$T/p.key" > "$T/p.pub"
echo "issuer $(cat "$T/p.pub")" > "$T/producers"
cat > "$T/log.conf" <<EOF
# a log for this test
listen = 127.0.0.1:0
data = $T/log
port-file = $T/log.port

origin = config.example/log
	producers   =   $T/producers
checkpoint-ms = 50
EOF
$BUILD/onevoice-log --config "$T/log.conf" >> "$T/log.log" 2>&1 &
LOG_PID=$!
E2E_PIDS="$E2E_PIDS $LOG_PID"
i=0
while [ ! -s "$T/log.port" ] && [ $i -lt 200 ] && kill -0 "$LOG_PID" 2>/dev/null; do
    sleep 0.05; i=$((i + 1))
done
check "started from the file alone: the port file it names is written" test -s "$T/log.port"
check_eq "it serves /healthz" "$(curl -s "http://127.0.0.1:$(cat "$T/log.port")/healthz")" ok
check "its data directory is the file's" test -s "$T/log/log.db"
check_eq "its origin is the file's" "$($BUILD/onevoice-log --config "$T/log.conf" --print-vkey | cut -d+ -f1)" \
    config.example/log
kill "$LOG_PID"; wait "$LOG_PID" 2>/dev/null

# --- flags win ------------------------------------------------------------------------
rm -f "$T/log.port"
start_server log2 PORT2 $BUILD/onevoice-log --config "$T/log.conf" --data "$T/log2"
check_eq "--data overrides the file: the second log serves" \
    "$(curl -s "http://127.0.0.1:$PORT2/healthz")" ok
check "--data overrides the file: its state is in the flag's directory" test -s "$T/log2/log.db"
check "--port-file overrides the file: the file's port file is not written" test ! -e "$T/log.port"
kill "$log2_PID"
$BUILD/onevoice-log --config "$T/log.conf" --checkpoint-ms 20 --opaque-entries --print-config \
    > "$T/eff" 2>&1
check "--print-config: the flag's value" grep -q -x 'checkpoint-ms = 20' "$T/eff"
check "--print-config: the flag's flag" grep -q -x 'opaque-entries = true' "$T/eff"
check "--print-config: the file's value" grep -q -x "data = $T/log" "$T/eff"
check "--print-config: an unset option commented out" grep -q -x '# quorum = N' "$T/eff"
check "--print-config: the file's blanks dropped" grep -q -x "producers = $T/producers" "$T/eff"

# --- refused, with the line, before anything is made ---------------------------------
# refused DESCRIPTION LINE-AND-REASON FILE-TEXT
refused() {
    printf '%s\n' "$3" > "$T/bad.conf"
    $BUILD/onevoice-log --config "$T/bad.conf" > "$T/bad.out" 2>&1
    rc=$?
    check_eq "$1: exit status 2" "$rc" 2
    check "$1: says \"$2\"" grep -q -F "bad.conf line $2" "$T/bad.out"
}
BASE="data = $T/bad
origin = bad.example/log"
refused "a bad value" '3: bad value for "checkpoint-ms"' "$BASE
checkpoint-ms = soon"
refused "an unknown option" '4: unknown option "checkpoint"' "$BASE
# a comment
checkpoint = 5"
refused "a repeated option" '3: "data" is set again (first on line 1)' "$BASE
data = $T/other"
refused "a line without =" '3: want NAME = VALUE' "$BASE
opaque-entries"
refused "a flag not true or false" '3: "opaque-entries" is a flag' "$BASE
opaque-entries = yes"
refused "a trailing comment" '3: the value of "producers" holds' "$BASE
producers = $T/producers # who may append"
refused "--init in a file" '3: "init" is a command' "$BASE
init = true"
refused "--print-vkey in a file" '3: "print-vkey" is a command' "$BASE
print-vkey = true"
refused "--backup in a file" '1: "backup" is a command' "backup = $T/b.db"
check "a refused file makes nothing" test ! -e "$T/bad"
$BUILD/onevoice-log --config "$T/none.conf" > "$T/bad.out" 2>&1
check_eq "a missing file: exit status 2" "$?" 2
check "a missing file: says so" grep -q "none.conf: no such file" "$T/bad.out"
$BUILD/onevoice-log --config "$T/log.conf" --print-config --init > "$T/bad.out" 2>&1
check_eq "--print-config with --init: refused" "$?" 2

# --- no secret printed ----------------------------------------------------------------
I=$BUILD/onevoice-issuer
$I --data "$T/iss" --print-credentials > "$T/creds" 2>/dev/null
ADMIN=$(sed -n 's/^admin //p' "$T/creds")
check "the issuer made its credentials" test -n "$ADMIN"
$I --config examples/config/issuer.conf --data "$T/iss" --print-config > "$T/iss.conf" 2>&1
check "the issuer's --print-config prints no credential" sh -c "! grep -q -F '$ADMIN' $T/iss.conf"
check "the issuer's --print-config names its pepper file by path" \
    grep -q -x 'pepper-file = /etc/onevoice/issuer.pepper' "$T/iss.conf"

summary
