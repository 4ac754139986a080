#!/usr/bin/env python3
"""A log in front of a real one that serves an old checkpoint or altered tiles (stdlib only).

usage: tileproxy.py UPSTREAM MODEFILE LOGFILE --port-file PORTFILE (as lib/common.sh's
start_server runs a server)

Serves 127.0.0.1:0 (the port goes to PORTFILE) and forwards every GET to UPSTREAM, except
as MODEFILE's first line (read at each request) says:

  pass              forward everything
  stale FILE        GET /checkpoint answers FILE (a checkpoint the log has outgrown)
  flip PATH OFFSET  the byte at OFFSET of PATH's answer flipped
  lie               a tree of 65,600 entries whose tile/0/001 starts with another hash, the
                    tiles above it (tile/1/000, tile/2/000.p/1) made to agree with it, so
                    that only a reader that remembers the tree can tell

LOGFILE gets one line per request: "PATH STATUS" (the upstream's status).
"""
import hashlib
import http.server
import sys
import urllib.error
import urllib.request

UPSTREAM, MODEFILE, LOGFILE, PORTFILE = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[5]


def get(path):
    try:
        with urllib.request.urlopen(UPSTREAM + path) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def mth(tile):
    """The root of a full tile's 256 hashes (RFC 6962 interior nodes)."""
    h = [tile[i:i + 32] for i in range(0, len(tile), 32)]
    while len(h) > 1:
        h = [hashlib.sha256(b"\x01" + h[i] + h[i + 1]).digest() for i in range(0, len(h), 2)]
    return h[0]


def lie(path):
    t0 = bytearray(get("/tile/0/001")[1])
    t0[0] ^= 1
    t1 = bytearray(get("/tile/1/000")[1])
    t1[32:64] = mth(bytes(t0))
    return {"/tile/0/001": bytes(t0), "/tile/1/000": bytes(t1),
            "/tile/2/000.p/1": mth(bytes(t1))}.get(path)


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        with open(MODEFILE) as f:
            mode = f.readline().split()
        status, body = get(self.path)
        if mode[0] == "stale" and self.path == "/checkpoint":
            with open(mode[1], "rb") as f:
                body = f.read()
        elif mode[0] == "flip" and self.path == mode[1]:
            o = int(mode[2])
            body = body[:o] + bytes([body[o] ^ 1]) + body[o + 1:]
        elif mode[0] == "lie" and lie(self.path) is not None:
            body = lie(self.path)
        with open(LOGFILE, "a") as f:
            f.write("%s %d\n" % (self.path, status))
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
with open(PORTFILE, "w") as f:
    f.write(str(server.server_address[1]))
server.serve_forever()
