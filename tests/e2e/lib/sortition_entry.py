#!/usr/bin/env python3
"""Sortition log entries written by hand (docs/PROTOCOL.md §3, §10), for tests that put them
in an order or with contents onevoice-sortition refuses to produce. Deterministic CBOR
(RFC 8949 §4.2.1: map keys sorted by their encoded bytes), the unsigned kinds only:

  sortition_entry.py pool ID TITLE POOL_SHA256_HEX MEMBERS PANEL RESERVES ATTEMPTS REVEAL_BY
                          KEY_B64[,KEY_B64...] OUT
  sortition_entry.py reveal ID KEY_B64 SECRET_HEX OUT [TIME]
  sortition_entry.py draw ID SEED_HEX ATTEMPT PANEL_IDS RESERVE_IDS OUT   (IDs comma-separated)
  sortition_entry.py invitations DRAW COUNT TOTAL OUT [TIME]   (DRAW "-": for no draw)
  sortition_entry.py secret FILE      prints the hex of a secret file's 32 bytes
"""
import base64
import struct
import sys
import time


def head(major, n):
    if n < 24:
        return bytes([major << 5 | n])
    for extra, fmt in ((24, ">B"), (25, ">H"), (26, ">I"), (27, ">Q")):
        if n < 1 << (8 * struct.calcsize(fmt)):
            return bytes([major << 5 | extra]) + struct.pack(fmt, n)
    raise ValueError(n)


def enc(v):
    if isinstance(v, int):
        return head(0, v)
    if isinstance(v, bytes):
        return head(2, len(v)) + v
    if isinstance(v, str):
        b = v.encode()
        return head(3, len(b)) + b
    if isinstance(v, list):
        return head(4, len(v)) + b"".join(enc(x) for x in v)
    if isinstance(v, dict):
        items = sorted((enc(k), enc(x)) for k, x in v.items())
        return head(5, len(items)) + b"".join(k + x for k, x in items)
    raise TypeError(v)


def main():
    a = sys.argv[1:]
    now = int(time.time())
    if a[0] == "secret":
        line = open(a[1]).read().split()
        print(base64.b64decode(line[2]).hex())
        return
    if a[0] == "pool":
        e = {"kind": "pool", "v": 1, "id": a[1], "title": a[2], "pool": bytes.fromhex(a[3]),
             "members": int(a[4]), "panel": int(a[5]), "reserves": int(a[6]),
             "max_attempts": int(a[7]), "reveal_by": int(a[8]),
             "algorithm": "onevoice/sortition/legacy/v1",
             "parties": [base64.b64decode(k) for k in a[9].split(",")], "time": now}
        out = a[10]
    elif a[0] == "reveal":
        e = {"kind": "sortition-reveal", "v": 1, "draw": a[1], "party_key": base64.b64decode(a[2]),
             "reveal": bytes.fromhex(a[3]), "time": int(a[5]) if len(a) > 5 else now}
        out = a[4]
    elif a[0] == "draw":
        ids = lambda l: [int(x) for x in l.split(",") if x]
        e = {"kind": "draw", "v": 1, "id": a[1], "seed": bytes.fromhex(a[2]), "attempt": int(a[3]),
             "panel": ids(a[4]), "reserves": ids(a[5]), "time": now}
        out = a[6]
    elif a[0] == "invitations":
        e = {"kind": "invitations", "v": 1, "count": int(a[2]), "total": int(a[3]),
             "time": int(a[5]) if len(a) > 5 else now}
        if a[1] != "-":
            e["draw"] = a[1]
        out = a[4]
    else:
        sys.exit(__doc__)
    with open(out, "wb") as f:
        f.write(enc(e))


main()
