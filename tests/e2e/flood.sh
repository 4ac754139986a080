#!/bin/sh
# Connection floods end to end (issue 23): each of the four servers (witness, log, issuer,
# verifier) under idle, slowloris and slowbody floods of 2,000 connections from 40 loopback
# addresses (tests/tools/flood), the four flooded at once. A normal client asking
# GET /healthz meanwhile is always answered 200; flood connections that never finish
# their request are cut at the request deadline (--request-deadline 2 here, the default is
# 10 s), also while they trickle bytes, as the tool sees and http_connections_cut_total
# counts; one address past --max-conns-per-address is refused at accept
# (http_connections_refused_total), unless --exempt-addresses names it. Timings are not asserted here (tests/bench/
# bench_flood.sh measures them), only behaviour.
. tests/e2e/lib/common.sh
FL=$BUILD/tools/flood
IT=$BUILD/tools/issuertool
T=$E2E_TMP
DL=2
LIM="--request-deadline $DL --max-conns-per-address 100"

# --- the four servers ---------------------------------------------------------------------
$BUILD/onevoice-verifier --data "$T/v" --print-producer-key > "$T/vprod"
$BUILD/onevoice-issuer --data "$T/iss" --print-producer-key > "$T/iprod"
cat "$T/vprod" "$T/iprod" > "$T/producers"
VK=$($BUILD/onevoice-log --data "$T/log" --origin e2e.example/votes --print-vkey)
$BUILD/onevoice-witness --data "$T/w" --name e2e.example/w1 --print-vkey > /dev/null
echo "e2e.example/votes $VK" > "$T/logs"
IDPPUB=$($IT keygen "$T/idp.key")
echo "idp-one $(echo "$IDPPUB" | tr -- '-_' '+/')=" > "$T/idps"
start_server wit WPORT $BUILD/onevoice-witness --data "$T/w" --logs "$T/logs" $LIM
# the log keeps its default per-address limit (256)
start_server log LPORT $BUILD/onevoice-log --data "$T/log" --producers "$T/producers" \
    --request-deadline $DL
L=http://127.0.0.1:$LPORT
start_server iss IPORT $BUILD/onevoice-issuer --data "$T/iss" --log "$L" --log-vkey "$VK" \
    --name issuer.example --idps "$T/idps" --epoch-seconds 0 $LIM
# 127.0.0.200-207: a platform relaying many citizens
start_server ver VPORT $BUILD/onevoice-verifier --data "$T/v" --log "$L" --log-vkey "$VK" $LIM \
    --exempt-addresses 127.0.0.200/29,::1 --epoch-seconds 0
SERVERS="wit:$WPORT:/add-checkpoint log:$LPORT:/add iss:$IPORT:/enroll ver:$VPORT:/actions"

field() { awk -v k="$2" '{ for (i = 1; i < NF; i++) if ($i == k) print $(i + 1) }' "$1"; }
metric() { curl -s "http://127.0.0.1:$1/metrics" | awk -v m="$2" '$1 == m { print $2 }'; }
# ge A B: A >= B, as numbers
ge() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 >= b + 0) }'; }
# drained PORT: waits (up to 4 s) until the server saw a flood's sockets go, the one asking
# and the log's producers left
drained() {
    i=0
    while ! ge 5 "$(metric "$1" http_connections_open)" && [ $i -lt 80 ]; do
        sleep 0.05; i=$((i + 1))
    done
}

# flood_all MODE: floods the four servers at once, waits for the four reports
flood_all() {
    pids=""
    for s in $SERVERS; do
        name=${s%%:*}; rest=${s#*:}; port=${rest%%:*}; path=${rest#*:}
        $FL "127.0.0.1:$port" --mode "$1" --conns 2000 --addrs 40 --seconds 3.5 \
            --trickle-ms 500 --reconnect-ms 500 --healthz-ms 20 --path "$path" \
            > "$T/$name.$1" 2>&1 &
        pids="$pids $!"
    done
    wait $pids  # not the servers
}

# --- idle, slowloris, slowbody --------------------------------------------------------------
# /healthz is asked every 20 ms for 3.5 s (175 times if each answer were instant): at least 5
# answered, so never starved for the whole flood. Most servers answer ~150-174 here; the log
# under a flood of slow bodies refused on their headers and reopened (2,000 connections)
# answered 16 to 45 on this 2-core machine on 2026-12-07 (7 to 17 under the sanitizers),
# 105 at that day's starting commit: to be looked into (the closing note of stop 29).
MIN_PROBES=5
for mode in idle slowloris slowbody; do
    flood_all $mode
    for s in $SERVERS; do
        name=${s%%:*}; f="$T/$name.$mode"
        grep -q '^healthz' "$f" || { fail "$name $mode: no report"; cat "$f" >&2; continue; }
        check_eq "$name, $mode flood: every /healthz answered 200" "$(field "$f" failed)" 0
        check "$name, $mode flood: /healthz asked throughout ($(field "$f" n))" \
            ge "$(field "$f" n)" "$MIN_PROBES"
        # (a slowbody request refused on its headers is answered at once, and reopened)
        check "$name, $mode flood: the flood held its connections ($(field "$f" held_max))" \
            ge "$(($(field "$f" held_max) + $(field "$f" answered)))" 1000
        # never finished, so cut at the deadline (~2 s), not at the 30 s idle timeout; a
        # slowbody request may also be refused on its headers (answered)
        check "$name, $mode flood: connections cut at the deadline ($(field "$f" cut) cut)" \
            ge "$(($(field "$f" cut) + $(field "$f" answered)))" 1000
        check "$name, $mode flood: none outlived the deadline ($(field "$f" cut_age_max_s) s)" \
            ge $((DL + 3)) "$(field "$f" cut_age_max_s)"
        [ "$mode" = slowbody ] || check_eq "$name, $mode flood: none refused" \
            "$(field "$f" refused)" 0
    done
done
for s in $SERVERS; do
    name=${s%%:*}; rest=${s#*:}; port=${rest%%:*}
    check "$name counts the connections it cut" \
        ge "$(metric "$port" 'http_connections_cut_total{reason="deadline"}')" 3000
done

# --- one address past its limit -------------------------------------------------------------
for s in $SERVERS; do
    rest=${s#*:}; drained "${rest%%:*}"
done
pids=""
for s in $SERVERS; do
    name=${s%%:*}; rest=${s#*:}; port=${rest%%:*}
    lim=100; [ "$name" = log ] && lim=256
    $FL "127.0.0.1:$port" --mode idle --conns $((lim + 50)) --addrs 1 --seconds 1 \
        --reconnect-ms 0 --healthz-ms 20 > "$T/$name.one" 2>&1 &
    pids="$pids $!"
done
wait $pids
for s in $SERVERS; do
    name=${s%%:*}; rest=${s#*:}; port=${rest%%:*}; f="$T/$name.one"
    lim=100; [ "$name" = log ] && lim=256
    check_eq "$name: one address holds at most its $lim connections" \
        "$(field "$f" held_max)" $lim
    check_eq "$name: the rest refused at once" "$(field "$f" refused)" 50
    check_eq "$name: /healthz answered meanwhile" "$(field "$f" failed)" 0
    check "$name counts the refused connections" \
        ge "$(metric "$port" 'http_connections_refused_total{reason="limit"}')" 50
done

# --- an exempt address is not held to the limit ---------------------------------------------
drained "$VPORT"
$FL "127.0.0.1:$VPORT" --mode idle --conns 150 --addrs 1 --first 203 --seconds 1 \
    --reconnect-ms 0 --healthz-ms 20 > "$T/ver.exempt" 2>&1
check_eq "an exempt address (127.0.0.203 in 127.0.0.200/29) holds 150 connections" \
    "$(field "$T/ver.exempt" held_max)" 150
check_eq "none of them refused" "$(field "$T/ver.exempt" refused)" 0
drained "$VPORT"
$FL "127.0.0.1:$VPORT" --mode idle --conns 150 --addrs 1 --first 208 --seconds 1 \
    --reconnect-ms 0 --healthz-ms 20 > "$T/ver.beside" 2>&1
check_eq "the address just past the prefix (127.0.0.208) is held to 100" \
    "$(field "$T/ver.beside" held_max)" 100
for bad in 127.0.0.1/33 localhost 10.0.0.0/8,; do
    check_eq "--exempt-addresses $bad: refused at start (exit 2)" \
        "$($BUILD/onevoice-verifier --data "$T/v" --exempt-addresses "$bad" >/dev/null 2>&1; echo $?)" 2
done

# --- a request that finishes in time is served; the servers still serve --------------------
check_eq "a request inside the deadline is answered" \
    "$(http_status GET "http://127.0.0.1:$VPORT/healthz")" 200
for s in $SERVERS; do
    name=${s%%:*}; rest=${s#*:}; port=${rest%%:*}
    drained "$port"
    check "$name has no connection left from the floods ($(metric "$port" http_connections_open))" \
        ge 5 "$(metric "$port" http_connections_open)"
done
summary
