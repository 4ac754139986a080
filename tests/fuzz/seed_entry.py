#!/usr/bin/env python3
"""Writes the seed corpus of the entry fuzz target (tests/fuzz/fuzz_entry.c): one valid entry
of every kind and variant (docs/PROTOCOL.md §3) in deterministic CBOR, with the token key and
token of RFC 9578's first type-2 vector, plus a few invalid ones. Run from the worktree root:
python3 tests/fuzz/seed_entry.py."""
import hashlib, json, os, struct

VEC = os.environ.get("OV_VECTORS", "tests/vectors")
OUT = "tests/fuzz/corpus/entry"

def head(major, n):
    if n < 24: return bytes([major << 5 | n])
    for ai, fmt in ((24, ">B"), (25, ">H"), (26, ">I"), (27, ">Q")):
        if n < 1 << (8 * struct.calcsize(fmt)): return bytes([major << 5 | ai]) + struct.pack(fmt, n)

def enc(v):
    if isinstance(v, bool): return b"\xf5" if v else b"\xf4"
    if isinstance(v, int): return head(0, v) if v >= 0 else head(1, -1 - v)
    if isinstance(v, bytes): return head(2, len(v)) + v
    if isinstance(v, str): b = v.encode(); return head(3, len(b)) + b
    if isinstance(v, list): return head(4, len(v)) + b"".join(enc(x) for x in v)
    if isinstance(v, dict):
        items = sorted((enc(k), enc(x)) for k, x in v.items())
        return head(5, len(items)) + b"".join(k + x for k, x in items)
    raise TypeError(v)

vec = json.load(open(os.path.join(VEC, "rfc9578_type2.json")))
vec = vec[0] if isinstance(vec, list) else vec
if isinstance(vec, dict) and "vectors" in vec: vec = vec["vectors"][0]
spki = bytes.fromhex(vec.get("pkS") or vec.get("public_key"))
token = bytes.fromhex(vec["token"])
pseud = bytes(range(32))
ctx = {"kind": "context", "v": 1, "id": "budget-2025", "title": "Which park?",
       "type": "assembly", "choices": ["north", "south", "none"], "opens": 1700000000,
       "closes": 1700086400, "quota": 1, "issuer": "issuer.example", "token_key": spki,
       "token_key_id": hashlib.sha256(spki).digest(), "time": 1699999999}
rat = dict(ctx, id="notes-1", type="rating", scale=[-2, 2]); del rat["choices"]
seeds = {
    "context_assembly": ctx,
    "context_rating": rat,
    "enrollment": {"kind": "enrollment", "v": 1, "route": "invite", "time": 1700000001},
    "issuance": {"kind": "issuance", "v": 1, "context": "budget-2025", "tag": b"\x07" * 32,
                 "time": 1700000002},
    "action_vote": {"kind": "action", "v": 1, "context": "budget-2025", "pseudonym": pseud,
                    "token": token, "choice": "north", "platform": "app", "sig": b"\x05" * 64,
                    "time": 1700000100},
    "action_rating": {"kind": "action", "v": 1, "context": "notes-1", "pseudonym": pseud,
                      "target": "note-7", "rating": -2, "platform": "app",
                      "sig": b"\x05" * 64, "time": 1700000100},
    "tally_plurality": {"kind": "tally", "v": 1, "context": "budget-2025", "size": 1234,
                        "algorithm": "onevoice/plurality/v1",
                        "result": {"north": 10, "south": 3, "none": 0}, "time": 1700090000},
    "tally_ratings": {"kind": "tally", "v": 1, "context": "notes-1", "size": 1234,
                      "algorithm": "onevoice/ratings/v1",
                      "result": {"note-7": [3, -4], "note-8": [1, 2]}, "time": 1700090000},
    "tally_empty": {"kind": "tally", "v": 1, "context": "budget-2025", "size": 0,
                    "algorithm": "onevoice/plurality/v1", "result": {}, "time": 1700090000},
    "context_statements": dict(rat, id="round-1", scale=[0, 2], rating_kind="helpfulness",
                               statements=2),
    "statement": {"kind": "statement", "v": 1, "context": "round-1", "pseudonym": pseud,
                  "token": token, "text": "Parks before parking, ça va.", "platform": "app",
                  "sig": b"\x05" * 64, "time": 1700000100},
    "tally_statements": {"kind": "tally", "v": 1, "context": "round-1", "size": 1234,
                         "algorithm": "onevoice/ratings/v1",
                         "result": {"0" * 31 + "a": [3, 4], "b" * 32: [1, 0]},
                         "seed": b"\x09" * 32,
                         "bridging": {"algorithm": "onevoice/bridging-mf/v1",
                                      "min_ratings_per_rater": 5, "min_raters_per_note": 10,
                                      "result": b"\x0a" * 32, "helpful": ["0" * 31 + "a"],
                                      "not_helpful": ["b" * 32]},
                         "groups": {"algorithm": "onevoice/groups/v1", "result": b"\x0b" * 32,
                                    "sizes": [20, 20], "consensus": ["b" * 32, "0" * 31 + "a"]},
                         "time": 1700090000},
    "bad_unknown_key": {"kind": "enrollment", "v": 1, "route": "invite", "time": 1, "x": 0},
    "bad_version": {"kind": "enrollment", "v": 2, "route": "invite", "time": 1},
    "bad_kind": {"kind": "test", "v": 1, "text": "hello"},
}
os.makedirs(OUT, exist_ok=True)
for name, v in seeds.items():
    open(os.path.join(OUT, name), "wb").write(enc(v))
open(os.path.join(OUT, "bad_noncanonical"), "wb").write(b"\xa1\x61\x76\x18\x01")
open(os.path.join(OUT, "bad_truncated"), "wb").write(enc(seeds["issuance"])[:-3])
