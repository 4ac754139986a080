#!/bin/sh
# The Debian packages (debian/), installed on this machine and used as an operator would:
# `make package-check` builds them into build/deb/ (DEB_DIR) and runs this, as root.
# dpkg installs onevoice-server, onevoice-client and libonevoice-dev; their files are where
# README.Debian says, the servers' users made by systemd-sysusers, their state directories
# 0700. Then a small deployment from the installed units: each server's command line, user
# and state directory read from /lib/systemd/system/onevoice-<server>.service and run as
# the unit runs it (as its user, UMask 0077; systemd is not PID 1 in CI containers), its
# /etc/onevoice/<server>.conf made from the packaged example (loopback ports, TLS from a
# test CA, one witness); two citizens enroll and vote with the installed wallet, one vote
# twice refused, the installed auditor recounts. Then dpkg --purge, and the machine left as
# it was: no package, no user, no /etc/onevoice, no /var/lib/onevoice.
# It refuses to run where any of that exists already (a real deployment is never touched).
. tests/e2e/lib/common.sh
T=$E2E_TMP
DEB_DIR=${DEB_DIR:-build/deb}
SERVERS="log witness issuer verifier"
PKGS="onevoice-server onevoice-client libonevoice-dev"
ETC=/etc/onevoice
CA=$ETC/test-ca.pem

if [ "$(id -u)" != 0 ]; then
    fail "deb.sh installs packages and runs servers as their users: run it as root"
    summary; exit 1
fi
for d in $PKGS; do
    set -- "$DEB_DIR/${d}_"*.deb
    [ -f "$1" ] || { fail "no $d package in $DEB_DIR (make package-check builds them)"; summary; exit 1; }
done
# --- a machine with nothing of onevoice on it --------------------------------------------------
clean_before=""
for d in $PKGS; do
    dpkg-query -W -f='${Status}' "$d" 2>/dev/null | grep -q 'install ok' && clean_before="$clean_before package:$d"
done
for s in $SERVERS; do
    getent passwd "onevoice-$s" > /dev/null && clean_before="$clean_before user:onevoice-$s"
done
for p in $ETC /var/lib/onevoice; do [ -e "$p" ] && clean_before="$clean_before $p"; done
if [ -n "$clean_before" ]; then
    fail "onevoice is already on this machine ($clean_before ): not touched"
    summary; exit 1
fi

# run_as USER COMMAND...: as the unit runs it: its user and group, no other group, no new
# privileges, UMask=0077; the CA the servers' and clients' HTTPS connections trust
run_as() {
    u=$1; shift
    (umask 077 && ONEVOICE_CA_FILE=$CA exec setpriv --reuid="$u" --regid="$u" --clear-groups \
        --no-new-privs -- "$@")
}
PIDS=""
# teardown: the servers stopped, the packages purged, what the deployment made removed
pkg_cleanup() {
    for p in $PIDS; do kill -9 "$p" 2>/dev/null; done
    wait 2>/dev/null
    dpkg --purge $PKGS > "$T/purge.log" 2>&1
    rm -rf $ETC /var/lib/onevoice
    for s in $SERVERS; do
        getent passwd "onevoice-$s" > /dev/null && userdel "onevoice-$s"
        getent group "onevoice-$s" > /dev/null && groupdel "onevoice-$s"
    done
    e2e_cleanup
}
trap pkg_cleanup EXIT
trap "exit 1" INT TERM # then the EXIT trap cleans up

# --- install ----------------------------------------------------------------------------------
if ! dpkg -i "$DEB_DIR"/onevoice-server_*.deb "$DEB_DIR"/onevoice-client_*.deb \
        "$DEB_DIR"/libonevoice-dev_*.deb > "$T/install.log" 2>&1; then
    fail "dpkg -i: $(tail -n 20 "$T/install.log")"
    summary; exit 1
fi
ok
for d in $PKGS; do
    check_eq "$d is installed" "$(dpkg-query -W -f='${Status}' "$d" 2>/dev/null)" "install ok installed"
done
PROGS="onevoice-log onevoice-witness onevoice-issuer onevoice-verifier onevoice-sortition onevoice \
onevoice-audit"
[ -f clients/admin/main.c ] && PROGS="$PROGS onevoice-admin" # the operator's command, when built
for p in $PROGS; do
    check "/usr/bin/$p" test -x "/usr/bin/$p"
    check "its man page" test -f "/usr/share/man/man1/$p.1.gz"
    check_eq "$p --version" "$("/usr/bin/$p" --version 2>&1)" \
        "$p $(dpkg-query -W -f='${Version}' onevoice-client)"
done
for s in $SERVERS; do
    check "the example $s.conf" test -f "/usr/share/doc/onevoice-server/examples/$s.conf"
    u=$(getent passwd "onevoice-$s")
    check "systemd-sysusers made the user onevoice-$s" test -n "$u"
    check_eq "onevoice-$s: a system user, its home its state, no shell" \
        "$(echo "$u" | awk -F: '{ print ($3 < 1000), $6, $7 }')" "1 /var/lib/onevoice/$s /usr/sbin/nologin"
    check_eq "/var/lib/onevoice/$s: its user's, 0700" \
        "$(stat -c '%U %a' "/var/lib/onevoice/$s" 2>/dev/null)" "onevoice-$s 700"
done
check "/etc/onevoice is there for the operator's files" test -d $ETC
check "no unit is enabled by the install (each needs its configuration first)" \
    sh -c '! ls /etc/systemd/system/multi-user.target.wants/onevoice-* 2>/dev/null'
check_eq "pkg-config finds the installed library" "$(pkg-config --modversion onevoice 2>&1)" \
    "$(dpkg-query -W -f='${Version}' libonevoice-dev)"
check "the example platform builds from the installed header and pkg-config alone" sh -c \
    "cc -std=c17 -Wall -Werror -o '$T/platform' examples/platform.c \
     \$(pkg-config --cflags --libs onevoice libmicrohttpd)"
# the transparency page, when make install installs it (WEBDIR), which the log serves
WEB=""
grep -q '^WEBDIR ' Makefile && WEB=/usr/share/onevoice/web
[ -z "$WEB" ] || check "the transparency page is installed" test -f $WEB/index.html

# --- the installed units ----------------------------------------------------------------------
UNITS=/lib/systemd/system
unit_get() { sed -n "s/^$2=//p" "$UNITS/onevoice-$1.service"; } # unit_get SERVER KEY
for s in $SERVERS; do
    check "$UNITS/onevoice-$s.service" test -f "$UNITS/onevoice-$s.service"
    check_eq "onevoice-$s.service runs the installed program with its /etc/onevoice file" \
        "$(unit_get "$s" ExecStart)" "/usr/bin/onevoice-$s --config $ETC/$s.conf"
    check_eq "onevoice-$s.service: user and state directory" \
        "$(unit_get "$s" User) $(unit_get "$s" StateDirectory)" "onevoice-$s onevoice/$s"
done

# --- the operator's files: a test CA, TLS keys chowned, configs from the examples -------------
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -subj "/CN=deb.sh test CA" -keyout "$T/ca.key" -out $CA 2> /dev/null
chmod 644 $CA
printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' > "$T/server.ext"
n=1
for s in $SERVERS; do
    (umask 077 && openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
        -subj "/CN=$s" -keyout "$ETC/$s.key" -out "$T/$s.csr" 2> /dev/null)
    openssl x509 -req -in "$T/$s.csr" -CA $CA -CAkey "$T/ca.key" -set_serial $n -days 2 \
        -extfile "$T/server.ext" -out "$ETC/$s.crt" 2> /dev/null
    chown "onevoice-$s:" "$ETC/$s.key" && chmod 0600 "$ETC/$s.key"
    n=$((n + 1))
    # the example, on loopback: a free port, written to the state directory; one witness
    sed -e 's/^listen = .*/listen = 127.0.0.1:0/' -e 's/^quorum = .*/quorum = 1/' -e '/^idps = /d' \
        -e "s|^# port-file = FILE|port-file = /var/lib/onevoice/$s/port|" \
        "/usr/share/doc/onevoice-server/examples/$s.conf" > "$ETC/$s.conf"
    check_eq "$s.conf's data is its unit's state directory" \
        "$(sed -n 's/^data = //p' "$ETC/$s.conf")" "/var/lib/$(unit_get "$s" StateDirectory)"
done
(umask 077 && echo "onevoice-secret/v1 pepper $(head -c 32 /dev/urandom | base64)" > $ETC/issuer.pepper)
chown onevoice-issuer: $ETC/issuer.pepper && chmod 0400 $ETC/issuer.pepper

# start SERVER: the unit's ExecStart, as its user; waits for its port file
start() {
    s=$1
    pf=/var/lib/onevoice/$s/port
    u=$(unit_get "$s" User)
    # shellcheck disable=SC2046 # the unit's command line, split on blanks as systemd does
    (umask 077 && ONEVOICE_CA_FILE=$CA exec setpriv --reuid="$u" --regid="$u" --clear-groups \
        --no-new-privs -- $(unit_get "$s" ExecStart)) >> "$T/$s.log" 2>&1 &
    PIDS="$PIDS $!"
    eval "PID_$s=$!"
    i=0
    until [ -s "$pf" ]; do
        i=$((i + 1)); sleep 0.05
        [ $i -gt 300 ] && { fail "onevoice-$s did not start: $(tail -n 5 "$T/$s.log")"; return 1; }
    done
    eval "$(echo "$s" | tr '[:lower:]' '[:upper:]')_URL=https://127.0.0.1:$(cat "$pf")"
    check "onevoice-$s serves /healthz over HTTPS" curl -sf --cacert $CA "https://127.0.0.1:$(cat "$pf")/healthz"
}
# the keys, in the guide's order (docs/OPERATIONS.md, "Wiring a deployment")
LOG_VKEY=$(run_as onevoice-log /usr/bin/onevoice-log --config $ETC/log.conf --print-vkey 2>> "$T/log.log")
check "the log made its key and printed its verifier key" test -n "$LOG_VKEY"
sed -n 's/^origin = //p' $ETC/log.conf | tr -d '\n' > $ETC/witness.logs
echo " $LOG_VKEY" >> $ETC/witness.logs
W_VKEY=$(run_as onevoice-witness /usr/bin/onevoice-witness --config $ETC/witness.conf --print-vkey 2>> "$T/witness.log")
start witness
echo "$WITNESS_URL $W_VKEY" > $ETC/log.witnesses
cp $ETC/log.witnesses $ETC/verifier.witnesses
{ run_as onevoice-issuer /usr/bin/onevoice-issuer --data /var/lib/onevoice/issuer \
      --pepper-file $ETC/issuer.pepper --print-producer-key
  run_as onevoice-verifier /usr/bin/onevoice-verifier --data /var/lib/onevoice/verifier \
      --print-producer-key; } > $ETC/log.producers 2>> "$T/producers.log"
check_eq "the issuer's and the verifier's producer keys" "$(cut -d' ' -f1 $ETC/log.producers | tr '\n' ' ')" \
    "issuer verifier "
start log
for s in issuer verifier; do
    sed -i -e "s|^log = .*|log = $LOG_URL|" -e "s|^log-vkey = .*|log-vkey = $LOG_VKEY|" "$ETC/$s.conf"
    # epochs of 2 s instead of the default 300 (PROTOCOL §3.1), as the guide's walkthrough
    # does, so that the votes below are in the log within the test
    echo "epoch-seconds = 2" >> "$ETC/$s.conf"
done
start issuer
start verifier
if [ -n "$WEB" ] && grep -q "^web = $WEB\$" $ETC/log.conf; then
    check_eq "the log serves the installed transparency page" \
        "$(curl -s --cacert $CA -o /dev/null -w '%{http_code}' "$LOG_URL/web/index.html")" 200
fi
for s in $SERVERS; do
    pid=$(eval echo "\$PID_$s")
    check_eq "onevoice-$s: the installed program, run as its user" \
        "$(readlink "/proc/$pid/exe") $(stat -c %U "/proc/$pid" 2>/dev/null)" "/usr/bin/onevoice-$s onevoice-$s"
done

# --- a small assembly: one context, two citizens with the installed wallet -------------------
ADMIN=$(run_as onevoice-issuer /usr/bin/onevoice-issuer --config $ETC/issuer.conf --print-credentials 2>> "$T/issuer.log" |
    awk '/^admin /{ print $2 }')
admin() {
    curl -sf --cacert $CA -X POST -H "Authorization: Bearer $ADMIN" \
        -H 'Content-Type: application/json' "$ISSUER_URL$1" -d "$2"
}
check "a context created" admin /admin/contexts '{"id": "budget-2027", "title": "Adopt the budget?",
    "type": "assembly", "choices": ["yes", "no"], "opens": '"$(date +%s)"',
    "closes": '"$(($(date +%s) + 7200))"', "quota": 1}'
admin /admin/invites '{"count": 2}' > "$T/codes.csv"
export ONEVOICE_CA_FILE=$CA
citizen() { # citizen WALLET CODE-LINE CHOICE
    w=$T/$1.db
    check "$1: init" onevoice --wallet "$w" init --issuer "$ISSUER_URL" --verifier "$VERIFIER_URL" \
        --log "$LOG_URL" --log-vkey "$LOG_VKEY" --witness "$W_VKEY" --quorum 1
    check "$1: enroll" onevoice --wallet "$w" enroll --code "$(sed -n "${2}p" "$T/codes.csv")"
    # --now: at once, not at the paced moments a citizen's wallet picks by default
    check "$1: fetch" onevoice --wallet "$w" fetch --now
    check "$1: vote $3" onevoice --wallet "$w" vote --now budget-2027 "$3"
    check "$1: receipts check against the witnessed log" onevoice --wallet "$w" receipts
}
citizen me 2 yes
citizen you 3 no
check "a second vote is refused" sh -c "! onevoice --wallet '$T/me.db' vote --now budget-2027 no"
check_eq "the verifier counted each vote once" "$(curl -sf --cacert $CA "$VERIFIER_URL/tallies/budget-2027" |
    python3 -c 'import json, sys; print(json.dumps(json.load(sys.stdin)["result"], sort_keys=True))' 2>/dev/null)" \
    '{"no": 1, "yes": 1}'
check "the installed auditor recounts" onevoice-audit --log "$LOG_URL" --log-vkey "$LOG_VKEY" \
    --witnesses $ETC/verifier.witnesses --quorum 1 --state "$T/audit" --json "$T/report.json" --quiet
check_eq "the audit is clean and recounts both votes" "$(python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
c = {x["id"]: x for x in r["contexts"]}
print(r["ok"], len(r["violations"]), json.dumps(c["budget-2027"]["recount"]["result"], sort_keys=True))' \
    "$T/report.json" 2>/dev/null)" 'True 0 {"no": 1, "yes": 1}'
for s in $SERVERS; do
    check_eq "onevoice-$s: every file it made is its user's, 0600" \
        "$(find "/var/lib/onevoice/$s" -type f \( ! -user "onevoice-$s" -o ! -perm 0600 \) | wc -l | tr -d ' ')" 0
done

# --- stop, purge, and the machine as it was ---------------------------------------------------
for p in $PIDS; do kill -TERM "$p" 2>/dev/null; done
for p in $PIDS; do wait "$p"; check_eq "a server stopped cleanly at SIGTERM" "$?" 0; done
PIDS=""
[ "$FAILED" -eq 0 ] || for s in $SERVERS; do echo "--- $s" >&2; tail -n 20 "$T/$s.log" >&2; done
check "dpkg --purge" dpkg --purge $PKGS
check_eq "the packages are gone" "$(dpkg-query -W -f='${Status}\n' $PKGS 2>/dev/null | grep -c 'ok installed')" 0
check "their programs too" test ! -e /usr/bin/onevoice-log -a ! -e /usr/bin/onevoice
check "the purge kept the servers' state (README.Debian)" test -s /var/lib/onevoice/log/log.key -o \
    -n "$(ls -A /var/lib/onevoice/log)"
rm -rf $ETC /var/lib/onevoice
for s in $SERVERS; do
    userdel "onevoice-$s"
    getent group "onevoice-$s" > /dev/null && groupdel "onevoice-$s"
    check "onevoice-$s removed" sh -c "! getent passwd onevoice-$s && ! getent group onevoice-$s"
done
check "nothing of onevoice left in /lib/systemd /usr/lib/sysusers.d /usr/share/doc" sh -c \
    '! ls -d /lib/systemd/system/onevoice-* /usr/lib/sysusers.d/onevoice.conf /usr/share/doc/onevoice-* 2>/dev/null'
summary
