#!/bin/sh
# The systemd units (units/): `make install` puts them, their users and the example
# configuration files in place, with ExecStart pointing at the installed programs; each
# unit passes `systemd-analyze verify` (and `security --offline`, where this systemd has
# it); each carries the hardening of units/README.md; and each unit's own ExecStart command
# line, run as the unit would run it (its config file swapped for a test one, its state
# directory made 0700 as StateDirectoryMode does, UMask 0077), tells $NOTIFY_SOCKET READY=1
# once its /healthz answers, RELOADING=1 then READY=1 around a SIGHUP, STOPPING=1 at
# SIGTERM. systemd is not PID 1 in the test containers: the units themselves are not
# started here (units/README.md says how to on a real machine).
. tests/e2e/lib/common.sh
T=$E2E_TMP
P=$T/prefix
SERVERS="log witness issuer verifier relay"

# --- install: units with the installed programs' paths, users, examples ---------------------
# (-o all: building is make test's job, done before this runs)
if ! make -s -o all install PREFIX="$P" BUILD="$BUILD" > "$T/install.log" 2>&1; then
    fail "make install PREFIX=$P:"; cat "$T/install.log" >&2
fi
U=$P/lib/systemd/system
for n in $SERVERS; do
    f=$U/onevoice-$n.service
    check "installed onevoice-$n.service" test -f "$f"
    check_eq "onevoice-$n.service: ExecStart is the installed program with its config file" \
        "$(sed -n 's/^ExecStart=//p' "$f")" "$P/bin/onevoice-$n --config /etc/onevoice/$n.conf"
    check "onevoice-$n.service: no @...@ left" sh -c "! grep -q '@[A-Z]*@' '$f'"
    check "installed the example $n.conf" cmp -s "$P/share/doc/onevoice/examples/$n.conf" \
        "examples/config/$n.conf"
    check "the sysusers file makes onevoice-$n" grep -q "^u onevoice-$n " "$P/lib/sysusers.d/onevoice.conf"
done

# --- (a) systemd's own checks --------------------------------------------------------------
if command -v systemd-analyze > /dev/null 2>&1; then
    for n in $SERVERS; do
        # MANPATH: Documentation=man:onevoice-$n(1) is checked against the installed page
        check "systemd-analyze verify onevoice-$n.service" \
            env MANPATH="$P/share/man" systemd-analyze verify "$U/onevoice-$n.service"
        if systemd-analyze security --help 2>/dev/null | grep -q -- '--offline'; then
            # systemd's exposure score, 0 (locked down) to 10; 1.5 when written
            e=$(systemd-analyze security --offline=yes --man=no "$U/onevoice-$n.service" 2>/dev/null |
                sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
            check "onevoice-$n.service: systemd-analyze security exposure $e <= 2.0" \
                awk -v e="$e" 'BEGIN { exit !(e != "" && e + 0 <= 2.0) }'
        fi
    done
else
    echo "units.sh: systemd-analyze is not installed: the units are not verified by systemd"
fi

# --- (c) the hardening every unit carries ----------------------------------------------------
for n in $SERVERS; do
    f=$U/onevoice-$n.service
    for d in Type=notify "User=onevoice-$n" "Group=onevoice-$n" "StateDirectory=onevoice/$n" \
        StateDirectoryMode=0700 "ReadWritePaths=/var/lib/onevoice/$n" UMask=0077 \
        Restart=on-failure RestartSec=5s 'ExecReload=/bin/kill -HUP $MAINPID' \
        ProtectSystem=strict ProtectHome=yes PrivateTmp=yes PrivateDevices=yes \
        NoNewPrivileges=yes ProtectKernelTunables=yes ProtectKernelModules=yes \
        ProtectKernelLogs=yes ProtectControlGroups=yes \
        'RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX' RestrictNamespaces=yes \
        LockPersonality=yes MemoryDenyWriteExecute=yes SystemCallFilter=@system-service \
        CapabilityBoundingSet= AmbientCapabilities= WantedBy=multi-user.target; do
        check "onevoice-$n.service: $d" grep -q -x -F "$d" "$f"
    done
    check_eq "onevoice-$n.service: it may write its state directory alone" \
        "$(grep -c '^ReadWritePaths=' "$f")" 1
    check "onevoice-$n.service: no DynamicUser (its key files are chowned to its user)" \
        sh -c "! grep -q '^DynamicUser=' '$f'"
    check_eq "the example $n.conf's data is the unit's state directory" \
        "$(sed -n 's/^data = //p' "examples/config/$n.conf")" "/var/lib/onevoice/$n"
done
check "onevoice-issuer.service: the pepper read in place" \
    grep -q -x 'ReadOnlyPaths=/etc/onevoice/issuer.pepper' "$U/onevoice-issuer.service"
check_eq "the example issuer.conf's pepper is the unit's" \
    "$(sed -n 's/^pepper-file = //p' examples/config/issuer.conf)" /etc/onevoice/issuer.pepper

# --- (b) each unit's command line, with a service manager's socket -------------------------
# listen.py SOCKET PORTFILE OUT: receives the server's datagrams (SOCKET a path or @name);
# for each, writes a line: its VAR=VALUE lines, and with READY=1 what /healthz answered then
cat > "$T/listen.py" <<'EOF'
import socket, sys, urllib.request
name, portfile, out = sys.argv[1:4]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("\0" + name[1:] if name.startswith("@") else name)
s.settimeout(15)
open(out + ".bound", "w").close()
with open(out, "a", buffering=1) as f:
    while True:
        try:
            lines = s.recv(4096).decode().split("\n")
        except socket.timeout:
            break
        health = ""
        if "READY=1" in lines:
            try:
                port = open(portfile).read().strip()
                with urllib.request.urlopen("http://127.0.0.1:%s/healthz" % port, timeout=2) as r:
                    health = " healthz=" + r.read().decode().strip()
            except Exception as e:
                health = " healthz=" + type(e).__name__
        f.write(" ".join(l for l in lines if not l.startswith("MONOTONIC_USEC=")) + health + "\n")
        if "STOPPING=1" in lines:
            break
EOF
mkdir -p "$T/etc" "$T/state"
# run_unit NAME: runs the unit's ExecStart with its config file swapped for $T/etc's, as
# systemd would: the state directory made 0700 (StateDirectoryMode) if missing, UMask=0077,
# NOTIFY_SOCKET set; checks what it tells the socket at start, SIGHUP and SIGTERM
run_unit() {
    n=$1
    cmd=$(sed -n 's/^ExecStart=//p' "$U/onevoice-$n.service" | sed "s|/etc/onevoice/|$T/etc/|")
    out=$T/$n.notify
    sock=$T/$n.sock
    [ "$n" = witness ] && sock=@onevoice-units-$$-$n # the abstract namespace too
    python3 "$T/listen.py" "$sock" "$T/$n.port" "$out" &
    lpid=$!
    i=0
    while [ ! -e "$out.bound" ] && [ $i -lt 100 ]; do sleep 0.02; i=$((i + 1)); done
    (umask 077 && mkdir -p "$T/state/$n" && chmod 0700 "$T/state/$n")
    # shellcheck disable=SC2086 # the unit's command line, split on blanks as systemd does
    (umask 077 && NOTIFY_SOCKET=$sock exec $cmd) >> "$T/$n.log" 2>&1 &
    spid=$!
    E2E_PIDS="$E2E_PIDS $spid $lpid"
    i=0
    while ! grep -q READY=1 "$out" 2>/dev/null && [ $i -lt 200 ] && kill -0 "$spid" 2>/dev/null; do
        sleep 0.025; i=$((i + 1))
    done
    check_eq "onevoice-$n: READY=1 sent, /healthz answering by then" "$(sed -n 1p "$out" 2>/dev/null)" \
        "READY=1 STATUS=serving HTTP on port $(cat "$T/$n.port" 2>/dev/null) healthz=ok"
    kill -HUP "$spid" 2>/dev/null
    i=0
    while [ "$(grep -c . "$out" 2>/dev/null)" -lt 3 ] && [ $i -lt 80 ]; do sleep 0.025; i=$((i + 1)); done
    check_eq "onevoice-$n: SIGHUP: RELOADING=1, then READY=1" \
        "$(sed -n '2p;3p' "$out" | cut -d' ' -f1 | tr '\n' ' ')" "RELOADING=1 READY=1 "
    kill -TERM "$spid" 2>/dev/null
    wait "$spid"
    check_eq "onevoice-$n: SIGTERM: exit status 0" "$?" 0
    wait "$lpid"
    check_eq "onevoice-$n: SIGTERM: STOPPING=1 last" "$(tail -n 1 "$out")" "STOPPING=1"
    check_eq "onevoice-$n: its state directory still 0700" "$(stat -c %a "$T/state/$n")" 700
    check_eq "onevoice-$n: every file it made is 0600" \
        "$(find "$T/state/$n" -type f ! -perm 0600 | wc -l | tr -d ' ')" 0
    [ "$n" = relay ] || check "onevoice-$n: its state is there" sh -c "ls '$T/state/$n'/*.db"
}
common() { # NAME: the lines every server's test configuration has
    printf 'listen = 127.0.0.1:0\ndata = %s\nport-file = %s\n' "$T/state/$1" "$T/$1.port"
}
{ common log; printf 'origin = units.example/log\nproducers = %s\ncheckpoint-ms = 50\n' \
    "$T/etc/log.producers"; } > "$T/etc/log.conf"
LV=$("$P/bin/onevoice-log" --config "$T/etc/log.conf" --print-vkey 2> "$T/log.vkey.err")
echo "units.example/log $LV" > "$T/etc/witness.logs"
{ common witness; printf 'name = units.example/w1\nlogs = %s\n' "$T/etc/witness.logs"; } \
    > "$T/etc/witness.conf"
run_unit witness # a first start: its state directory empty, as systemd makes it
"$P/bin/onevoice-witness" --config "$T/etc/witness.conf" --print-vkey > "$T/etc/verifier.witnesses"
# the issuer's pepper, made by the operator as README.md says ("Running as services")
( umask 077; echo "onevoice-secret/v1 pepper $(head -c 32 /dev/urandom | base64)" > "$T/etc/issuer.pepper" )
chmod 0400 "$T/etc/issuer.pepper"
{ common issuer; printf 'log = http://127.0.0.1:1\nlog-vkey = %s\nname = issuer.units.example\npepper-file = %s\n' \
    "$LV" "$T/etc/issuer.pepper"; } > "$T/etc/issuer.conf"
{ common verifier; printf 'log = http://127.0.0.1:1\nlog-vkey = %s\nwitnesses = %s\nquorum = 1\n' \
    "$LV" "$T/etc/verifier.witnesses"; } > "$T/etc/verifier.conf"
{ "$P/bin/onevoice-issuer" --config "$T/etc/issuer.conf" --print-producer-key
  "$P/bin/onevoice-verifier" --config "$T/etc/verifier.conf" --print-producer-key; } \
    > "$T/etc/log.producers" 2> "$T/producers.err"
check_eq "the issuer and the verifier printed their producer keys" \
    "$(grep -c . "$T/etc/log.producers")" 2
check_eq "the issuer took the operator's pepper" "$(stat -c %a "$T/etc/issuer.pepper")" 400
for n in log issuer verifier; do
    run_unit "$n"
done
# the relay keeps no state: its directory holds its lock alone
{ common relay; printf 'gateway = verifier=http://127.0.0.1:1/gateway\n'; } > "$T/etc/relay.conf"
run_unit relay
check_eq "onevoice-relay: nothing in its state directory but the lock" "$(ls "$T/state/relay")" lock
[ "$FAILED" -eq 0 ] || for n in $SERVERS; do echo "--- $n"; cat "$T/$n.log" "$T/$n.notify"; done >&2
summary
