# Shared by the servers' end-to-end scripts: a server whose keys exist refuses to start on a
# lost state, --init begins a new one deliberately, and a database is bound to its deployment
# (core/infra/server.h, "The state and its keys"). The sourcing script defines
# `check DESCRIPTION COMMAND...` and sets SG_TMP, a scratch directory.
#
# state_guard NAME DB OTHER COMMAND...: NAME's server is stopped; DB is its database, in the
# data directory beside its keys; OTHER is the database of another deployment of the same
# server; COMMAND starts it (the options it always takes, no --port-file; paths without
# spaces). Runs it on a deleted, an empty, a garbage and another deployment's database, with
# and without --init; leaves DB as it was (bound again after its binding was dropped, as a
# database from before the binding is) and the server stopped.

# sg_run ARGS...: runs the server until it exits (20 s at most): $sg_status, $SG_TMP/sg.out
sg_run() {
    rm -f "$SG_TMP/sg.port"
    timeout 20 $sg_cmd "$@" --port-file "$SG_TMP/sg.port" >"$SG_TMP/sg.out" 2>&1
    sg_status=$?
}
# sg_refused DESCRIPTION TEXT [ARGS...]: exits with status 1, saying "DB TEXT"
sg_refused() {
    sg_d=$1; sg_t=$2; shift 2 # (check sets d)
    sg_run "$@"
    check "$sg_name refuses $sg_d: exit status 1 (got $sg_status)" test "$sg_status" -eq 1
    check "$sg_name refuses $sg_d, saying '$sg_t'" grep -qF "$sg_db $sg_t" "$SG_TMP/sg.out"
}
# sg_start ARGS...: starts the server in the background and waits for its port ($sg_pid)
sg_start() {
    rm -f "$SG_TMP/sg.port"
    $sg_cmd "$@" --port-file "$SG_TMP/sg.port" >"$SG_TMP/sg.out" 2>&1 &
    sg_pid=$!
    E2E_PIDS="${E2E_PIDS:-} $sg_pid" # common.sh's clean-up kills it whatever happens
    i=0
    while [ ! -s "$SG_TMP/sg.port" ] && kill -0 "$sg_pid" 2>/dev/null && [ $i -lt 300 ]; do
        sleep 0.05; i=$((i + 1))
    done
    test -s "$SG_TMP/sg.port"
}
sg_stop() { kill "$sg_pid" 2>/dev/null; wait "$sg_pid" 2>/dev/null; sg_pid=""; }
# sg_move FROM TO: a database with its WAL and shared-memory files
sg_move() {
    for x in "" -wal -shm; do
        if [ -e "$1$x" ]; then mv "$1$x" "$2$x"; else rm -f "$2$x"; fi
    done
}
sg_sql() { # DB SQL: prints the first column of the first row
    python3 -c 'import sqlite3, sys
c = sqlite3.connect(sys.argv[1]); r = c.execute(sys.argv[2]).fetchone(); c.commit()
print(r[0] if r else "")' "$1" "$2"
}

state_guard() {
    sg_name=$1; sg_db=$2; sg_other=$3; shift 3
    sg_cmd="$*"
    sg_pid=""
    check "$sg_name --help lists --init" sh -c "$sg_cmd --help | grep -q -- '^ *--init'"
    sg_move "$sg_db" "$SG_TMP/saved.db"

    sg_refused "a deleted database" "is missing"
    check "$sg_name names the key files and says what to do" sh -c "grep -q 'keys already exist' \
        '$SG_TMP/sg.out' && grep -q 'restore .* from your backup' '$SG_TMP/sg.out' &&
        grep -q 'start once with --init' '$SG_TMP/sg.out'"
    check "$sg_name creates no database when it refuses" test ! -e "$sg_db"
    : >"$sg_db"
    sg_refused "a database of 0 bytes" "is empty (0 bytes)"
    check "$sg_name leaves the empty file as it was" test ! -s "$sg_db"
    sg_sql "$sg_db" "CREATE TABLE t (x)" >/dev/null
    sg_sql "$sg_db" "DROP TABLE t" >/dev/null
    sg_refused "an SQLite file without a schema" "is an empty database (no table, user_version 0)"
    head -c 20000 /dev/urandom >"$sg_db"
    sg_refused "a garbage database" "is not a readable database"
    { printf 'SQLite format 3\000'; head -c 8176 /dev/zero | tr '\0' 'x'; } >"$sg_db"
    sg_refused "a garbage database behind an SQLite header" "is not a readable database"
    { head -c 4096 "$SG_TMP/saved.db"; head -c 40000 /dev/urandom; } >"$sg_db"
    sg_refused "its own database, garbage after the first page" "is not a readable database"
    rm -f "$sg_db"
    cp "$sg_other" "$sg_db"
    sg_refused "another deployment's database" "belongs to another deployment"
    sg_refused "another deployment's database, also with --init" "belongs to another deployment" \
        --init
    check "$sg_name says --init does not override that" grep -q 'init does not override' \
        "$SG_TMP/sg.out"
    check "$sg_name leaves the other deployment's database as it was" cmp "$sg_other" "$sg_db"

    rm -f "$sg_db"
    check "$sg_name starts with --init on a deleted database" sg_start --init
    sg_stop
    check "$sg_name restarts without --init on the new state" sg_start
    sg_stop
    sg_refused "--init on a state it holds" "holds this deployment's state" --init
    head -c 20000 /dev/urandom >"$sg_db"
    rm -f "$sg_db-wal" "$sg_db-shm"
    check "$sg_name starts with --init on a garbage database" sg_start --init
    sg_stop
    check "--init moved the garbage aside" sh -c "ls '$sg_db'.before-init-* >/dev/null"
    rm -f "$sg_db"*.before-init-*

    # the original state, as a database from before the binding: bound at its next start
    sg_move "$SG_TMP/saved.db" "$sg_db"
    sg_sql "$sg_db" "DROP TABLE ov_deployment" >/dev/null
    check "$sg_name starts on its state from before the binding" sg_start
    # one process per data directory, the lock held while the first runs
    timeout 20 $sg_cmd --port-file "$SG_TMP/sg2.port" >"$SG_TMP/sg2.out" 2>&1
    check "a second $sg_name on the same data directory exits with status 1 (got $?)" test $? -eq 1
    check "and says the directory is in use" grep -q "is in use by another $sg_name" "$SG_TMP/sg2.out"
    check "while the first keeps serving" curl -sf "http://127.0.0.1:$(cat "$SG_TMP/sg.port")/healthz"
    sg_stop
    check "$sg_name bound it to its key" test \
        "$(sg_sql "$sg_db" "SELECT count(*) FROM ov_deployment")" = 1
}
