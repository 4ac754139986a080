#!/bin/sh
# End-to-end test of onevoice-witness (C2SP tlog-witness): starts the real server on
# 127.0.0.1:0 with a temp data dir, replays tests/vectors/tlog-witness-and-proofs.json
# (step 1, step 2 with its cosignature verified by openssl against the witness vkey, the
# 409 replay), sends hostile requests, races concurrent submissions, and kill -9s the
# witness right after a 200 to check the state survived. python3 (stdlib) prepares the
# request bodies from the vectors and signs extra checkpoints with the fixture log key
# (whose seed is in signed-note.json) through the openssl CLI.
set -u
BUILD=${BUILD:-build}
BIN=$BUILD/onevoice-witness
VEC=${OV_VECTORS:-tests/vectors}
tmp=$(mktemp -d)
pid=""
passed=0
failed=0

cleanup() {
    if [ -n "$pid" ]; then kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; fi
    if [ -n "${sg_pid:-}" ]; then kill "$sg_pid" 2>/dev/null; wait "$sg_pid" 2>/dev/null; fi
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

check() { # description, then a command that must succeed
    d=$1; shift
    if "$@" >"$tmp/check.out" 2>&1; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1)); echo "FAIL: $d" >&2; sed 's/^/    /' "$tmp/check.out" >&2
    fi
}

cat >"$tmp/h.py" <<'PY'
import base64, hashlib, json, os, subprocess, sys, time

VEC, OUT = os.environ["VEC"], os.environ["OUT"]
EM = "\u2014 "
tw = json.load(open(os.path.join(VEC, "tlog-witness-and-proofs.json")))
sn = json.load(open(os.path.join(VEC, "signed-note.json")))
LOG, WIT = sn["fixture_log_key"], sn["fixture_cosignature_v1"]
ORIGIN = LOG["name"]

def w(name, data, mode=0o644):
    p = os.path.join(OUT, name)
    with open(p, "wb") as f:
        f.write(data.encode() if isinstance(data, str) else data)
    os.chmod(p, mode)

def pem(kind, der):
    b = base64.b64encode(der).decode()
    return "-----BEGIN %s-----\n%s\n-----END %s-----\n" % (kind, b, kind)

def sign(origin, size, root_b64, key_name=LOG["name"]):
    """A checkpoint note signed by the fixture log key (Ed25519 through openssl)."""
    text = "%s\n%d\n%s\n" % (origin, size, root_b64)
    w("msg", text)
    sig = subprocess.run(["openssl", "pkeyutl", "-sign", "-inkey", os.path.join(OUT, "log.pem"),
                          "-rawin", "-in", os.path.join(OUT, "msg")],
                         check=True, capture_output=True).stdout
    kid = bytes.fromhex(LOG["key_id_hex"])
    return text + "\n" + EM + key_name + " " + base64.b64encode(kid + sig).decode() + "\n"

def body(old, proof, note):
    return "old %d\n" % old + "".join(p + "\n" for p in proof) + "\n" + note

def flip(b64):
    h = bytearray(base64.b64decode(b64)); h[0] ^= 1
    return base64.b64encode(bytes(h)).decode()

def gen():
    empty = base64.b64encode(hashlib.sha256(b"").digest()).decode()
    cp = tw["consistency_proof"]
    root1, root2, proof = cp["root1"], cp["root2"], cp["proof"]
    w("log.pem", pem("PRIVATE KEY", bytes.fromhex("302e020100300506032b657004220420") +
                     bytes.fromhex(LOG["ed25519_seed_hex"])), 0o600)
    wseed = bytes.fromhex(WIT["ed25519_seed_hex"])
    w("witness.skey", "PRIVATE+KEY+%s+%s+%s\n" % (WIT["witness_name"], WIT["key_id_hex"],
      base64.b64encode(b"\x04" + wseed).decode()), 0o600)
    w("log.skey", "PRIVATE+KEY+%s+%s+%s\n" % (LOG["name"], LOG["key_id_hex"],
      base64.b64encode(b"\x01" + bytes.fromhex(LOG["ed25519_seed_hex"])).decode()), 0o600)
    w("witness_vkey", tw["witness_vkey"] + "\n")
    w("logs_cosig_key", "%s %s\n" % (ORIGIN, tw["witness_vkey"]))
    w("logs_no_space", "%s\n" % tw["log_vkey"])
    w("logs_dup", "%s %s\n%s %s\n" % (ORIGIN, tw["log_vkey"], ORIGIN, tw["log_vkey"]))
    w("logs_empty", "# nothing\n\n")
    w("logs_ctrl", "a\tb %s\n" % tw["log_vkey"])
    w("logs", "# origin vkey\n%s %s\n\nfixture.example/second %s\n"
              "fixture.example/second PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW\n"
              "fixture.example/race %s\n" % (ORIGIN, tw["log_vkey"], tw["log_vkey"], tw["log_vkey"]))
    w("origin_hash", hashlib.sha256(ORIGIN.encode()).hexdigest() + "\n")
    w("race_hash", hashlib.sha256(b"fixture.example/race").hexdigest() + "\n")
    w("none_hash", hashlib.sha256(b"nobody.example/log").hexdigest() + "\n")
    w("s1", tw["step1_request_body"])
    w("s2", tw["step2_request_body"])
    w("old_text", tw["old_checkpoint"].split("\n\n")[0] + "\n")
    w("new_text", tw["new_checkpoint"].split("\n\n")[0] + "\n")
    w("new_checkpoint", tw["new_checkpoint"])
    w("replay_body", tw["replay_step1_after_step2"]["expected_body"])
    old_cp, new_cp = tw["old_checkpoint"], tw["new_checkpoint"]
    # consistency failures (422)
    w("s1_again", body(1000, [], old_cp))
    w("s2_badproof", body(1000, [flip(proof[0])] + proof[1:], new_cp))
    w("s2_shortproof", body(1000, proof[:-1], new_cp))
    w("old0_proof", body(0, proof[:1], old_cp))
    # 404, 403
    w("unknown_origin", body(0, [], sign("unknown.example/log", 1000, root1)))
    w("other_key", body(0, [], old_cp.replace(EM + ORIGIN + " ", EM + "someone.else/key ")))
    text, sigs = old_cp.split("\n\n")
    blob = bytearray(base64.b64decode(sigs.split(" ")[-1])); blob[10] ^= 0x80
    w("bad_sig", body(0, [], text + "\n\n" + EM + ORIGIN + " " + base64.b64encode(bytes(blob)).decode() + "\n"))
    w("tampered_text", body(0, [], old_cp.replace("\n1000\n", "\n1001\n", 1)))
    # 400
    w("garbage", "hello, witness\n")
    w("empty", "")
    w("crlf", tw["step1_request_body"].replace("\n", "\r\n"))
    w("old_leading_zero", "old 01\n\n" + old_cp)
    w("no_note", "old 0\n\n")
    w("old_gt_size", body(5000, [], old_cp))
    w("huge", "old 0\n\n" + "x" * (200 * 1024))
    # fixture.example/second: size 0, then a fork at size 5
    w("second_size0_badroot", body(0, [], sign("fixture.example/second", 0, root1)))
    w("second_size0", body(0, [], sign("fixture.example/second", 0, empty)))
    second_5 = sign("fixture.example/second", 5, root1)
    w("second_5_note", second_5)
    w("second_hash", hashlib.sha256(b"fixture.example/second").hexdigest() + "\n")
    w("second_5", body(0, [], second_5))
    w("second_5_again", body(5, [], sign("fixture.example/second", 5, root1)))
    w("second_5_fork", body(5, [], sign("fixture.example/second", 5, root2)))
    w("second_5_proof", body(5, proof[:1], sign("fixture.example/second", 5, root1)))
    # fixture.example/race: 1000, then concurrent 1000 -> 70000
    w("race_1000", body(0, [], sign("fixture.example/race", 1000, root1)))
    w("race_70000", body(1000, proof, sign("fixture.example/race", 70000, root2)))

def verify(vkey_file, text_file, lines_file):
    """Every line of lines_file is a cosignature/v1 by the vkey over text, timestamped now."""
    name, kid, key = open(vkey_file).read().strip().split("+", 2)
    raw = base64.b64decode(key)
    assert raw[0] == 4 and len(raw) == 33
    w("pub.pem", pem("PUBLIC KEY", bytes.fromhex("302a300506032b6570032100") + raw[1:]))
    text = open(text_file, "rb").read()
    lines = open(lines_file, "rb").read().decode()
    assert lines.endswith("\n") and lines.count("\n") == 1, "want exactly one line"
    line = lines[:-1]
    assert line.startswith(EM + name + " "), "wrong key name"
    blob = base64.b64decode(line[len(EM + name + " "):], validate=True)
    assert len(blob) == 76 and blob[:4].hex() == kid, "wrong blob or key ID"
    t = int.from_bytes(blob[4:12], "big")
    assert 0 < t and abs(t - time.time()) < 600, "timestamp not current"
    w("cosig_msg", b"cosignature/v1\ntime %d\n" % t + text)
    w("cosig_sig", blob[12:])
    subprocess.run(["openssl", "pkeyutl", "-verify", "-pubin", "-inkey",
                    os.path.join(OUT, "pub.pem"), "-rawin", "-in", os.path.join(OUT, "cosig_msg"),
                    "-sigfile", os.path.join(OUT, "cosig_sig")], check=True, capture_output=True)

if sys.argv[1] == "gen":
    gen()
else:
    try:
        verify(*sys.argv[2:])
    except Exception as e:
        print("verify:", e, file=sys.stderr)
        sys.exit(1)
PY

h() { VEC=$VEC OUT=$tmp python3 "$tmp/h.py" "$@"; }
if ! h gen; then
    echo "cannot prepare the requests"; echo "0 passed, 1 failed"; exit 1
fi

start() { # data dir
    rm -f "$tmp/port"
    "$BIN" --data "$1" --key "$tmp/witness.skey" --logs "$tmp/logs" --port-file "$tmp/port" \
        2>>"$tmp/server.log" &
    pid=$!
    i=0
    while [ ! -s "$tmp/port" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
    url="http://127.0.0.1:$(cat "$tmp/port" 2>/dev/null)"
}

# post FILE: sets $status and $ctype, the body lands in $tmp/resp
post() { # file [curl options]
    f=$1; shift
    out=$(curl -s -o "$tmp/resp" -w '%{http_code} %{content_type}' --data-binary "@$tmp/$f" \
        -H 'Content-Type: text/plain' "$@" "$url/add-checkpoint")
    status=${out%% *}; ctype=${out#* }
}
get() { # path
    out=$(curl -s -o "$tmp/resp" -w '%{http_code} %{content_type}' "$url$1")
    status=${out%% *}; ctype=${out#* }
}
expect() { # file status [curl options]
    f=$1; want=$2; shift 2
    post "$f" "$@"
    check "$f -> $want (got $status)" test "$status" = "$want"
}
same() { cmp -s "$1" "$2"; }
error_code() { grep -q "\"error\":\"$1\"" "$tmp/resp"; }

# ---- options and the key file -----------------------------------------------------------
check "--help exits 0" "$BIN" --help
check "--help lists every option" sh -c "'$BIN' --help | grep -q -- --listen && '$BIN' --help |
    grep -q -- --port-file && '$BIN' --help | grep -q -- --name && '$BIN' --help | grep -q -- --key &&
    '$BIN' --help | grep -q -- --print-vkey && '$BIN' --help | grep -q -- --logs &&
    '$BIN' --help | grep -q -- --data"
"$BIN" --logs "$tmp/logs" >/dev/null 2>&1
check "no --data: exit 2" test $? -eq 2
"$BIN" --data "$tmp/d0" --print-vkey >/dev/null 2>&1
check "a new witness without --name fails" test $? -ne 0
"$BIN" --data "$tmp/d0" --name e2e.example/w0 --print-vkey >"$tmp/vk0" 2>/dev/null
check "first start creates the key" grep -q '^e2e.example/w0+[0-9a-f]\{8\}+B' "$tmp/vk0"
check "witness.key is mode 0600" sh -c "ls -l '$tmp/d0/witness.key' | grep -q '^-rw-------'"
"$BIN" --data "$tmp/d0" --print-vkey >"$tmp/vk0b" 2>/dev/null
check "the key is kept across starts" same "$tmp/vk0" "$tmp/vk0b"
"$BIN" --data "$tmp/d0" --name e2e.example/other --print-vkey >/dev/null 2>&1
check "--name must match the key" test $? -ne 0
"$BIN" --data "$tmp/d0" --key "$tmp/log.skey" --print-vkey >/dev/null 2>&1
check "a type 0x01 key is refused" test $? -ne 0
"$BIN" --data "$tmp/d0" --key "$tmp/witness.skey" --print-vkey >"$tmp/vk1" 2>/dev/null
check "--key imports the fixture witness key (vkey as in the vectors)" same "$tmp/vk1" "$tmp/witness_vkey"
"$BIN" --data "$tmp/d0" --name e2e.example/w0 >/dev/null 2>&1
check "serving needs --logs" test $? -eq 2
for f in logs_cosig_key logs_no_space logs_dup logs_empty logs_ctrl missing_file; do
    "$BIN" --data "$tmp/d0" --logs "$tmp/$f" >/dev/null 2>&1
    check "--logs $f is refused" test $? -eq 1
done

# ---- the vector exchange ----------------------------------------------------------------
start "$tmp/d1"
check "server started" test -s "$tmp/port"
check_eq "witness.db is private (mode 0600)" "$(stat -c %a "$tmp/d1/witness.db")" 600
timeout 5 "$BIN" --data "$tmp/d1" --key "$tmp/witness.skey" --logs "$tmp/logs" \
    >"$tmp/second.log" 2>&1
check "a second witness on the same data directory refuses to start" grep -q 'in use' "$tmp/second.log"
get "/$(cat "$tmp/origin_hash")/checkpoint"
check "monitoring: nothing cosigned yet -> 404" test "$status" = 404
expect s1 200
check "step 1 cosignature verifies" h verify "$tmp/witness_vkey" "$tmp/old_text" "$tmp/resp"
check "step 1 reply is text/plain" test "$ctype" = "text/plain; charset=utf-8"
expect s2_badproof 422
check "bad proof: reason" error_code bad_proof
expect s2_shortproof 422
expect s1_again 200
check "step 1 again (old 1000): re-cosigned" h verify "$tmp/witness_vkey" "$tmp/old_text" "$tmp/resp"
expect s2 200
cp "$tmp/resp" "$tmp/s2_resp"
check "step 2 cosignature verifies with the witness vkey" h verify "$tmp/witness_vkey" "$tmp/new_text" "$tmp/resp"
expect s1 409
check "replay: Content-Type text/x.tlog.size" test "$ctype" = "text/x.tlog.size"
check "replay: body 70000\\n" same "$tmp/resp" "$tmp/replay_body"
get "/$(cat "$tmp/origin_hash")/checkpoint"
check "monitoring: latest checkpoint -> 200" test "$status" = 200
cat "$tmp/new_checkpoint" "$tmp/s2_resp" >"$tmp/served_want"
check "monitoring: the step 2 note with the witness's line" same "$tmp/resp" "$tmp/served_want"
get "/$(cat "$tmp/none_hash")/checkpoint"
check "monitoring: unknown log -> 404" test "$status" = 404
get "/$(tr a-f A-F <"$tmp/origin_hash")/checkpoint"
check "monitoring: uppercase hex -> 404" test "$status" = 404
get "/abc/checkpoint"
check "monitoring: short hash -> 404" test "$status" = 404

# ---- hostile requests -------------------------------------------------------------------
expect unknown_origin 404
check "404 reason" error_code unknown_origin
expect other_key 403
expect bad_sig 403
expect tampered_text 403
check "403 reason" error_code bad_signature
for f in garbage empty crlf old_leading_zero no_note old_gt_size; do expect $f 400; done
check "old > size: reason" error_code old_size_too_big
expect old0_proof 422
check "old 0 with a proof: reason" error_code proof_not_empty
# Expect: 100-continue, as a client sending a large body should: the 413 comes before the
# body is sent. Without it the server's close of a connection with an unread body can
# reset it before curl reads the answer (curl asks only for bodies over 1 MiB).
expect huge 413 -H 'Expect: 100-continue'
get "/add-checkpoint"
check "GET /add-checkpoint -> 405" test "$status" = 405
out=$(curl -s -o /dev/null -w '%{http_code}' -X PUT --data-binary @"$tmp/s1" "$url/add-checkpoint")
check "PUT /add-checkpoint -> 405" test "$out" = 405
out=$(curl -s -o /dev/null -w '%{http_code}' -H 'Transfer-Encoding: chunked' \
    --data-binary @"$tmp/s1" "$url/add-checkpoint")
check "chunked body -> 411" test "$out" = 411
expect second_size0_badroot 422
check "size 0 with a wrong root: reason" error_code bad_empty_tree
expect s1 409
check "state unchanged by the hostile requests" same "$tmp/resp" "$tmp/replay_body"

# ---- concurrent submissions: exactly one wins -------------------------------------------
expect race_1000 200
i=0
curls=""
while [ $i -lt 16 ]; do
    curl -s -o /dev/null -w '%{http_code}\n' --data-binary "@$tmp/race_70000" \
        "$url/add-checkpoint" >"$tmp/race.$i" &
    curls="$curls $!"
    i=$((i + 1))
done
for j in $curls; do wait "$j"; done
n200=$(cat "$tmp"/race.* | grep -c '^200$')
n409=$(cat "$tmp"/race.* | grep -c '^409$')
check "race: one 200 (got $n200)" test "$n200" -eq 1
check "race: fifteen 409 (got $n409)" test "$n409" -eq 15
get "/$(cat "$tmp/race_hash")/checkpoint"
check "race: the monitoring note is at 70000" sh -c "sed -n 2p '$tmp/resp' | grep -qx 70000"

# ---- kill -9 right after a 200, then restart -------------------------------------------
expect second_size0 200
expect second_5 200
cp "$tmp/resp" "$tmp/second_5_cosig"
kill -9 "$pid"; wait "$pid" 2>/dev/null; pid=""
start "$tmp/d1"
check "restarted" test -s "$tmp/port"
expect second_5 409
check "after kill -9: the new size survived" sh -c "printf '5\n' | cmp -s - '$tmp/resp'"
expect s1 409
check "after kill -9: 70000 too" same "$tmp/resp" "$tmp/replay_body"
expect second_5_fork 422
check "same size, other root: reason" error_code root_mismatch
expect second_5_proof 422
check "old == size with a proof: reason" error_code proof_not_empty
{ printf 'old 5\n\n'; cat "$tmp/second_5_note" "$tmp/second_5_cosig"; } >"$tmp/second_5_with_ours"
expect second_5_with_ours 200
cp "$tmp/resp" "$tmp/second_5_cosig2"
check "old == size: re-cosigned" sh -c "sed -n 1p '$tmp/second_5_note' >'$tmp/t5' &&
    sed -n 2,3p '$tmp/second_5_note' >>'$tmp/t5' && VEC='$VEC' OUT='$tmp' python3 '$tmp/h.py' \
    verify '$tmp/witness_vkey' '$tmp/t5' '$tmp/resp'"
get "/$(cat "$tmp/second_hash")/checkpoint"
cat "$tmp/second_5_note" "$tmp/second_5_cosig2" >"$tmp/served_want"
check "monitoring: the witness's line sent by the log is replaced by the latest" same "$tmp/resp" "$tmp/served_want"
expect second_5_again 200
get "/metrics"
check "metrics: cosigned" grep -q '^witness_checkpoints_cosigned_total [1-9]' "$tmp/resp"
check "metrics: 409s counted" grep -q 'reason="old_size_mismatch"} [1-9]' "$tmp/resp"
check "metrics: 422 root mismatches counted" grep -q 'reason="root_mismatch"} [1-9]' "$tmp/resp"
check "metrics: 422 needless proofs counted" grep -q 'reason="proof_not_empty"} [1-9]' "$tmp/resp"
check "evidence: refused checkpoints kept" sh -c "sqlite3 '$tmp/d1/witness.db' \
    'SELECT count(*) FROM refused' | grep -qx '[1-9][0-9]*'"
check "evidence: every accepted checkpoint kept" sh -c "sqlite3 '$tmp/d1/witness.db' \
    'SELECT count(*) FROM checkpoints' | grep -qx 6"
# rows are input too: a corrupt row is the witness's fault (500), never a 4xx or a crash
sqlite3 "$tmp/d1/witness.db" "UPDATE checkpoints SET cosig = 'x' WHERE origin = 'fixture.example/race';
    PRAGMA ignore_check_constraints = 1;
    UPDATE checkpoints SET root = x'00' WHERE origin = 'fixture.example/second';"
get "/$(cat "$tmp/race_hash")/checkpoint"
check "corrupt cosignature row -> 500 (got $status)" test "$status" = 500
expect second_5_again 500
kill "$pid"; wait "$pid"
check "clean exit on SIGTERM" test $? -eq 0
pid=""

# ---- a lost state: with witness.key in place, a missing, empty or garbage witness.db is
# ---- refused (it would cosign an older checkpoint than one it cosigned); --init; binding ----
"$BIN" --data "$tmp/g" --name e2e.example/g --print-vkey >"$tmp/gvk" 2>/dev/null
"$BIN" --data "$tmp/g2" --name e2e.example/g2 --print-vkey >/dev/null 2>&1
check "a first start creates witness.db with the key" test -s "$tmp/g/witness.db"
SG_TMP=$tmp
. tests/e2e/lib/stateguard.sh
sg_cmd="$BIN --data $tmp/g --logs $tmp/logs"
check "a witness with its key in DIR starts" sg_start
url="http://127.0.0.1:$(cat "$tmp/sg.port")"
expect s1 200
expect s2 200
sg_stop
state_guard onevoice-witness "$tmp/g/witness.db" "$tmp/g2/witness.db" "$BIN" --data "$tmp/g" \
    --logs "$tmp/logs"
check "and it starts again on its state" sg_start
url="http://127.0.0.1:$(cat "$tmp/sg.port")"
expect s1 409
check "after all that, it does not cosign the older checkpoint" same "$tmp/resp" "$tmp/replay_body"
sg_stop

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
