# Shared by the end-to-end scripts: counters, server start/stop, clean-up.
# Source it with BUILD set (tests/run.sh exports it). Every server runs on 127.0.0.1:0 in
# a fresh temporary directory; the trap kills them all by PID whatever happens.
BUILD=${BUILD:-build}
VECTORS=${OV_VECTORS:-tests/vectors}
E2E_TMP=$(mktemp -d)
E2E_PIDS=""
PASSED=0
FAILED=0

e2e_cleanup() {
    for p in $E2E_PIDS; do kill -9 "$p" 2>/dev/null; done
    wait 2>/dev/null
    rm -rf "$E2E_TMP"
}
trap e2e_cleanup EXIT INT TERM

ok() { PASSED=$((PASSED + 1)); }
fail() { FAILED=$((FAILED + 1)); echo "FAIL: $*" >&2; }
# check DESCRIPTION COMMAND...: passes when the command succeeds
check() { d=$1; shift; if "$@" >/dev/null 2>&1; then ok; else fail "$d"; fi; }
# check_eq DESCRIPTION GOT WANT
check_eq() { if [ "$2" = "$3" ]; then ok; else fail "$1: got '$2', want '$3'"; fi; }

# start_server NAME PORTVAR COMMAND...: starts it in the background, waits for its port file
start_server() {
    name=$1; var=$2; shift 2
    pf="$E2E_TMP/$name.port"
    rm -f "$pf"
    "$@" --port-file "$pf" >>"$E2E_TMP/$name.log" 2>&1 &
    pid=$!
    E2E_PIDS="$E2E_PIDS $pid"
    eval "${name}_PID=$pid"
    i=0
    while [ ! -s "$pf" ]; do
        i=$((i + 1))
        if [ $i -gt 300 ] || ! kill -0 "$pid" 2>/dev/null; then
            echo "server $name did not start:" >&2; cat "$E2E_TMP/$name.log" >&2
            return 1
        fi
        sleep 0.05
    done
    eval "$var=$(cat "$pf")"
}

# sql_exec DB: runs the SQL script on stdin against DB (a test setting a database's state)
sql_exec() {
    python3 -c 'import sqlite3, sys
c = sqlite3.connect(sys.argv[1]); c.executescript(sys.stdin.read()); c.commit(); c.close()' "$1"
}

# table_shape DB TABLE: prints "USER_VERSION ROWS INDEXES" (a migration's outcome)
table_shape() {
    python3 -c 'import sqlite3, sys
c = sqlite3.connect(sys.argv[1]); t = sys.argv[2]
print(c.execute("PRAGMA user_version").fetchone()[0],
      c.execute("SELECT COUNT(*) FROM " + t).fetchone()[0],
      c.execute("SELECT COUNT(*) FROM sqlite_master WHERE type = ? AND tbl_name = ?",
                ("index", t)).fetchone()[0])' "$1" "$2"
}

# http_status METHOD URL [curl args...]: prints the status code only
http_status() { m=$1; u=$2; shift 2; curl -s -o /dev/null -w '%{http_code}' -X "$m" "$u" "$@"; }

summary() {
    echo "$PASSED passed, $FAILED failed"
    [ "$FAILED" -eq 0 ]
}
# start_fake NAME PORTVAR UPSTREAM: a fake.py (tests/e2e/fake.py) in front of UPSTREAM, its mode
# in $E2E_TMP/NAME.mode ("pass" to begin with), each request it saw a line of $E2E_TMP/NAME.requests
start_fake() {
    echo pass > "$E2E_TMP/$1.mode"
    python3 tests/e2e/fake.py "$3" "$E2E_TMP/$1.mode" "$E2E_TMP/$1.port" "$E2E_TMP/$1.requests" 2>>"$E2E_TMP/$1.log" &
    E2E_PIDS="$E2E_PIDS $!"
    i=0
    while [ ! -s "$E2E_TMP/$1.port" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
    eval "$2=$(cat "$E2E_TMP/$1.port")"
}
