#!/usr/bin/env python3
"""A log in front of a real one that answers inclusion proofs badly (stdlib only).

usage: proofproxy.py UPSTREAM MODEFILE LOGFILE --port-file PORTFILE (as lib/common.sh's
start_server runs a server)

Serves 127.0.0.1:0 (the port goes to PORTFILE) and forwards every request to UPSTREAM.
The answer of GET /proof/inclusion (docs/PROTOCOL.md §4.2: exactly "index", "size",
"proof") is rewritten as the first word of MODEFILE (read at each request) says, each time
around the true proof, so that only a strict reader tells it from a good one:

  pass      as the log answered
  extra     one key more ("note")
  dup       "proof" twice: first an empty array, then the true one
  missing   only "proof" (no "index", no "size")
  other     "index" one more than asked
  big       the true answer padded with spaces past 8 KiB (OV_MAX_LOGPROOF_LEN)
  short     the first hash cut to 31 bytes

LOGFILE gets one line per request: "METHOD PATH RESULT".
"""
import base64
import http.client
import http.server
import json
import os
import sys
import threading
import urllib.parse

UPSTREAM, MODEFILE, LOGFILE, _, PORTFILE = sys.argv[1:6]
up = urllib.parse.urlparse(UPSTREAM)
lock = threading.Lock()


def mode():
    try:
        with open(MODEFILE) as f:
            return (f.readline().split() or ["pass"])[0]
    except OSError:
        return "pass"


def log(line):
    with lock, open(LOGFILE, "a") as f:
        f.write(line + "\n")


def mangle(m, data):
    a = json.loads(data)
    i, s, p = a["index"], a["size"], a["proof"]
    if m == "extra":
        return json.dumps({"index": i, "size": s, "proof": p, "note": "x"})
    if m == "dup":
        return '{"proof":[],"index":%d,"size":%d,"proof":%s}' % (i, s, json.dumps(p))
    if m == "missing":
        return json.dumps({"proof": p})
    if m == "other":
        return json.dumps({"index": i + 1, "size": s, "proof": p})
    if m == "big":
        return "{" + " " * 9000 + data.decode()[1:]
    if m == "short" and p:
        p[0] = base64.b64encode(base64.b64decode(p[0])[:31]).decode()
        return json.dumps({"index": i, "size": s, "proof": p})
    return None


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def handle_any(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else None
        c = http.client.HTTPConnection(up.hostname, up.port, timeout=30)
        headers = {k: v for k, v in self.headers.items()
                   if k.lower() not in ("host", "connection", "content-length")}
        c.request(self.command, self.path, body=body, headers=headers)
        r = c.getresponse()
        data = r.read()
        hdrs = [(k, v) for k, v in r.getheaders()
                if k.lower() not in ("connection", "content-length", "transfer-encoding")]
        c.close()
        path = self.path.split("?")[0]
        result = str(r.status)
        m = mode()
        if path == "/proof/inclusion" and r.status == 200 and m != "pass":
            bad = mangle(m, data)
            if bad is not None:
                data, result = bad.encode(), m
        log("%s %s %s" % (self.command, path, result))
        self.send_response(r.status)
        for k, v in hdrs:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = handle_any


srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
with open(PORTFILE + ".tmp", "w") as f:
    f.write("%d\n" % srv.server_address[1])
os.rename(PORTFILE + ".tmp", PORTFILE)
srv.serve_forever()
