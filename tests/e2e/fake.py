#!/usr/bin/env python3
"""A hostile or broken server for the wallet's end-to-end test (stdlib only).

usage: fake.py UPSTREAM MODEFILE PORTFILE LOGFILE

Serves 127.0.0.1:0 (the port goes to PORTFILE) and forwards every request to UPSTREAM,
except as the first line of MODEFILE (read at each request) says:

  pass             forward everything
  swap A B         GET /contexts: context A is shown with context B's token key (a key the
                   log does not hold for A)
  drop N [PATH]    the first N POST PATH (default /token-request) are forwarded, then the
                   connection is closed without an answer (a lost response); later ones pass
  garbage          every answer is 200 with a body that is not what was asked for
  truncated        every answer is cut in the middle
  garbage-token    POST /token-request is forwarded, and its answer replaced by garbage
  truncated-token  POST /token-request is forwarded, and its answer cut in the middle
  flip PATH        GET PATH (a tile) is forwarded, and its answer's middle byte flipped
  missing PATH     GET PATH answers 404 without asking UPSTREAM
  cut PATH         GET PATH is forwarded, and its answer cut in the middle
  other URL PATH   GET PATH is answered by the server at URL (a forked log's tile)

LOGFILE gets one line per request: "METHOD PATH RESULT".
"""
import http.client
import http.server
import json
import socket
import sys
import threading
import urllib.parse

UPSTREAM, MODEFILE, PORTFILE, LOGFILE = sys.argv[1:5]
up = urllib.parse.urlparse(UPSTREAM)
lock = threading.Lock()
dropped = {}  # path -> answers dropped so far


def mode():
    try:
        with open(MODEFILE) as f:
            return f.readline().split()
    except OSError:
        return ["pass"]


def log(line):
    with lock, open(LOGFILE, "a") as f:
        f.write(line + "\n")


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def forward(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else None
        c = http.client.HTTPConnection(up.hostname, up.port, timeout=20)
        headers = {k: v for k, v in self.headers.items()
                   if k.lower() not in ("host", "connection", "content-length")}
        c.request(self.command, self.path, body=body, headers=headers)
        r = c.getresponse()
        data = r.read()
        hdrs = [(k, v) for k, v in r.getheaders()
                if k.lower() not in ("connection", "content-length", "transfer-encoding")]
        c.close()
        return r.status, hdrs, data

    def answer(self, status, hdrs, data):
        self.send_response(status)
        for k, v in hdrs:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def handle_any(self):
        m = mode()
        path = self.path.split("?")[0]
        if m[0] == "garbage":
            n = int(self.headers.get("Content-Length") or 0)
            self.rfile.read(n)
            ctype = "application/private-token-response" if path == "/token-request" else "application/json"
            body = b"\x01\x02garbage" if path == "/token-request" else b'{"status": [1, 2'
            log("%s %s garbage" % (self.command, path))
            return self.answer(200, [("Content-Type", ctype)], body)
        if m[0] == "missing" and path == m[1]:
            log("%s %s missing" % (self.command, path))
            return self.answer(404, [("Content-Type", "application/json")], b'{"error":"not_found"}')
        if m[0] == "other" and path == m[2]:
            other = urllib.parse.urlparse(m[1])
            c = http.client.HTTPConnection(other.hostname, other.port, timeout=20)
            c.request("GET", self.path)
            r = c.getresponse()
            data = r.read()
            c.close()
            log("%s %s other" % (self.command, path))
            return self.answer(r.status, [("Content-Type", "application/octet-stream")], data)
        status, hdrs, data = self.forward()
        if m[0] == "cut" and path == m[1]:
            log("%s %s cut" % (self.command, path))
            return self.answer(status, hdrs, data[: len(data) // 2])
        if m[0] == "flip" and path == m[1] and data:
            data = bytearray(data)
            data[len(data) // 2] ^= 1
            log("%s %s flipped" % (self.command, path))
            return self.answer(status, hdrs, bytes(data))
        if m[0] in ("garbage-token", "truncated-token") and path == "/token-request":
            log("%s %s %s" % (self.command, path, m[0]))
            data = b"\x01\x02garbage" if m[0] == "garbage-token" else data[: len(data) // 2]
            return self.answer(status, hdrs, data)
        if m[0] == "truncated":
            log("%s %s truncated" % (self.command, path))
            return self.answer(status, hdrs, data[: len(data) // 2])
        drop_path = m[2] if m[0] == "drop" and len(m) > 2 else "/token-request"
        if m[0] == "drop" and path == drop_path and self.command == "POST":
            with lock:
                drop = dropped.get(path, 0) < int(m[1])
                dropped[path] = dropped.get(path, 0) + (1 if drop else 0)
            if drop:
                log("%s %s dropped" % (self.command, path))
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return None
        if m[0] == "swap" and path == "/contexts" and status == 200:
            ctx = json.loads(data)
            by = {c["id"]: c for c in ctx}
            a, b = by[m[1]], by[m[2]]
            for k in ("token_key", "token_key_id", "truncated_key_id"):
                a[k] = b[k]
            data = json.dumps(ctx).encode()
            log("%s %s swapped" % (self.command, path))
            return self.answer(status, hdrs, data)
        log("%s %s %d" % (self.command, path, status))
        return self.answer(status, hdrs, data)

    do_GET = do_POST = handle_any


srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
with open(PORTFILE + ".tmp", "w") as f:
    f.write("%d\n" % srv.server_address[1])
import os  # noqa: E402
os.rename(PORTFILE + ".tmp", PORTFILE)
srv.serve_forever()
