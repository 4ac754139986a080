#!/usr/bin/env python3
"""Writes the seed corpora of the Merkle and tile fuzz targets from tests/vectors.
Run from the worktree root: python3 tests/fuzz/seed_merkle.py. The honest seeds use the
tree of fuzz_tree.h (leaf i = leaf hash of i as 4 bytes big-endian)."""
import base64, hashlib, json, os, struct, sys

VEC = os.environ.get("OV_VECTORS", "tests/vectors")
OUT = "tests/fuzz/corpus"

def sha(b): return hashlib.sha256(b).digest()
def leaf(e): return sha(b"\x00" + e)
def node(l, r): return sha(b"\x01" + l + r)
def split(n):
    k = 1
    while k * 2 < n: k *= 2
    return k
def mth(d):
    if len(d) == 0: return sha(b"")
    if len(d) == 1: return d[0]
    k = split(len(d)); return node(mth(d[:k]), mth(d[k:]))
def path(m, d):
    if len(d) <= 1: return []
    k = split(len(d))
    return path(m, d[:k]) + [mth(d[k:])] if m < k else path(m - k, d[k:]) + [mth(d[:k])]
def subproof(m, d, b):
    if m == len(d): return [] if b else [mth(d)]
    k = split(len(d))
    if m <= k: return subproof(m, d[:k], b) + [mth(d[k:])]
    return subproof(m - k, d[k:], False) + [mth(d[:k])]

def b64(s): return base64.b64decode(s) if s else b""
def put(name, i, data):
    d = os.path.join(OUT, name); os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "seed%03d" % i), "wb") as f: f.write(data)

def u64(v): return struct.pack(">Q", v)

tree = [leaf(struct.pack(">I", i)) for i in range(1024)]

# inclusion: vector cases with 32-byte hashes, then honest proofs of the fuzz tree
j = json.load(open(os.path.join(VEC, "merkle-inclusion.json")))
k = 0
for c in j["cases"]:
    hs = [b64(c["leafHash"]), b64(c["root"])] + [b64(p) for p in (c["proof"] or [])]
    if all(len(h) == 32 for h in hs) and k < 24:
        put("inclusion_proof", k, u64(c["leafIdx"]) + u64(c["treeSize"]) + b"".join(hs)); k += 1
for n, i in [(1, 0), (2, 1), (7, 6), (8, 5), (300, 257), (1000, 999), (1024, 512)]:
    d = tree[:n]
    put("inclusion_proof", k, u64(i) + u64(n - 1) + d[i] + mth(d) + b"".join(path(i, d))); k += 1

# consistency
j = json.load(open(os.path.join(VEC, "merkle-consistency.json")))
k = 0
for c in j["cases"]:
    hs = [b64(c["root1"]), b64(c["root2"])] + [b64(p) for p in (c["proof"] or [])]
    if all(len(h) == 32 for h in hs) and k < 24:
        put("consistency_proof", k, u64(c["size1"]) + u64(c["size2"]) + b"".join(hs)); k += 1
for m, n in [(1, 2), (3, 7), (4, 8), (8, 8), (255, 300), (256, 1000), (1000, 1024)]:
    d = tree[:n]
    put("consistency_proof", k, u64(m - 1) + u64(n - 1) + mth(d[:m]) + mth(d) +
        b"".join(subproof(m, d, True))); k += 1

# tile paths: every vector path, the old layout, and a few non-canonical spellings
j = json.load(open(os.path.join(VEC, "tile-paths.json")))
k = 0
for c in j["paths"]:
    put("tile_path", k, c["c2sp_path"].encode()); k += 1
    put("tile_path", k, c["x_mod_path"].encode()); k += 1
for p in ["tile/0/x000/005", "tile/00/000", "tile/0/000.p/256", "tile/entries/273.p/112",
          "tile/7/000.p/255", "tile/0/x072/x057/x594/x037/x927/935.p/255"]:
    put("tile_path", k, p.encode()); k += 1

# entry bundles: a partial fixture bundle, a full one, and small hand-made ones
k = 0
for p in ["tile/entries/273.p/112", "tile/entries/000"]:
    put("entry_bundle", k, open(os.path.join(VEC, "fixture-log", p), "rb").read()); k += 1
for b in [b"\x00\x00", b"\x00\x03abc\x00\x01x", b"\x00\x05abc", b"\x00", b"\xff\xff" + b"z" * 16,
          b"\x00\x00" * 256, b"\x00\x00" * 257]:
    put("entry_bundle", k, b); k += 1
