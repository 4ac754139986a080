"""onevoice/bridging-mf/v1 written again from the text of docs/PROTOCOL.md §11.1, without
the C in view (by the C's author: not an independent party, but a check that the text says
everything): it must agree bit for bit (Python floats are binary64, and CPython never fuses
a multiply and an add).

Reads on stdin: line 1 "RATERS NOTES MIN_RATINGS_PER_RATER MIN_RATERS_PER_NOTE SEED_HEX",
then one "RATER NOTE H" line per rating (H: helpfulness in halves, 0, 1 or 2). Prints the
SHA-256 of the result's canonical bytes and the number of sweeps (tests/e2e/bridging_ref.sh)."""
import hashlib
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sortition_ref import chacha20_block  # noqa: E402  (RFC 8439 block, written from the RFC)

LI, LF, EPS = 0.15, 0.03, 1e-12

def run(U, M, min_r, min_n, seed, ratings):
    seen = set()
    for u, n, h in ratings:
        assert 0 <= u < U and 0 <= n < M and h in (0, 1, 2) and (u, n) not in seen
        seen.add((u, n))
    rs = sorted(ratings, key=lambda x: (x[1], x[0]))
    n_in = [0] * M; u_in = [0] * U
    for u, n, h in rs:
        n_in[n] += 1; u_in[u] += 1
    keep1 = [n_in[n] >= min_n for n in range(M)]
    cu = [0] * U
    for u, n, h in rs:
        if keep1[n]: cu[u] += 1
    keepu = [cu[u] >= min_r for u in range(U)]
    cn = [0] * M
    for u, n, h in rs:
        if keep1[n] and keepu[u]: cn[n] += 1
    keepn = [keep1[n] and cn[n] >= min_n for n in range(M)]
    used = [(u, n, h) for u, n, h in rs if keepn[n] and keepu[u]]
    n_used = [0] * M; u_used = [0] * U
    for u, n, h in used:
        n_used[n] += 1; u_used[u] += 1
    uids = [u for u in range(U) if u_used[u] > 0]; mids = [n for n in range(M) if n_used[n] > 0]
    umap = {u: k for k, u in enumerate(uids)}; nmap = {n: k for k, n in enumerate(mids)}
    N, Up, Mp = len(used), len(uids), len(mids)
    R = [(umap[u], nmap[n], h * 0.5) for u, n, h in used]
    mu, loss, it = 0.0, 0.0, 0
    iu = [0.0] * Up; fu = [0.0] * Up; inn = [0.0] * Mp; fn = [0.0] * Mp
    if N > 0:
        key = hashlib.sha256(b"onevoice/v1/bridging-mf\x00" + seed).digest()
        cache = {}
        def word(k):
            b = k // 8
            if b not in cache: cache[b] = struct.unpack("<8Q", chacha20_block(key, b, bytes(12)))
            return cache[b][k % 8]
        g = lambda w: float((w >> 11) - 2**52) * 2.0**-52
        fu = [g(word(u)) for u in uids]; fn = [g(word(U + n)) for n in mids]
        Nd, Ud, Md = float(N), float(Up), float(Mp)
        aiu, afu, ain, afn = (LI * Nd) / Ud, (LF * Nd) / Ud, (LI * Nd) / Md, (LF * Nd) / Md
        def solve(k, s1, s2, t0, t1, ai, af):
            p = k + ai; c = s2 + af; det = (p * c) - (s1 * s1)
            return ((c * t0) - (s1 * t1)) / det, ((p * t1) - (s1 * t0)) / det
        def sq(xs):
            s = 0.0
            for x in xs: s = s + x * x
            return s
        prev = 0.0
        while True:
            sd = 0.0; se = 0.0
            for u, n, r in R:
                d = ((r - iu[u]) - inn[n]) - (fu[u] * fn[n]); e = d - mu
                sd = sd + d; se = se + e * e
            L = (((((se / Nd) + LI * (sq(iu) / Ud)) + LF * (sq(fu) / Ud)) + LI * (sq(inn) / Md))
                 + LF * (sq(fn) / Md)) + LI * (mu * mu)
            mustar = (sd / Nd) / (1.0 + LI)
            if (it > 0 and prev - L <= EPS) or it == 1000:
                loss = L; break
            prev = L; mu = mustar
            acc = [[0.0, 0.0, 0.0, 0.0] for _ in range(Up)]; k = [0] * Up
            for u, n, r in R:
                e = (r - mu) - inn[n]; a = acc[u]; k[u] += 1
                a[0] = a[0] + fn[n]; a[1] = a[1] + fn[n] * fn[n]; a[2] = a[2] + e; a[3] = a[3] + e * fn[n]
            for u in range(Up):
                iu[u], fu[u] = solve(float(k[u]), *acc[u], aiu, afu)
            acc = [[0.0, 0.0, 0.0, 0.0] for _ in range(Mp)]; k = [0] * Mp
            for u, n, r in R:
                e = (r - mu) - iu[u]; a = acc[n]; k[n] += 1
                a[0] = a[0] + fu[u]; a[1] = a[1] + fu[u] * fu[u]; a[2] = a[2] + e; a[3] = a[3] + e * fu[u]
            for n in range(Mp):
                inn[n], fn[n] = solve(float(k[n]), *acc[n], ain, afn)
            it += 1
        neg = sum(1 for f in fu if f < 0); pos = sum(1 for f in fu if f > 0)
        if neg < pos:
            fu = [-f for f in fu]; fn = [-f for f in fn]
    f64 = lambda x: struct.pack(">d", 0.0 if x == 0 else x)
    out = b"onevoice/bridging-mf/v1\x00" + struct.pack(">8I", U, M, min_r, min_n, N, Up, Mp, it)
    out += f64(mu) + f64(loss)
    for n in range(M):
        i, f, st = 0.0, 0.0, 0
        if n in nmap:
            i, f = inn[nmap[n]], fn[nmap[n]]; a = abs(f)
            st = 1 if (i >= 0.40 and a < 0.5) else (2 if i <= -0.05 - (0.8 * a) else 0)
        out += f64(i) + f64(f) + struct.pack(">IIB", n_in[n], n_used[n], st)
    for u in range(U):
        i, f = (iu[umap[u]], fu[umap[u]]) if u in umap else (0.0, 0.0)
        out += f64(i) + f64(f) + struct.pack(">II", u_in[u], u_used[u])
    sys.stderr.write("N=%d of %d U=%d of %d M=%d of %d\n" % (N, len(ratings), Up, U, Mp, M))
    return hashlib.sha256(out).hexdigest(), it

lines = sys.stdin.read().split("\n")
U, M, min_r, min_n, seedhex = lines[0].split()
ratings = [tuple(int(x) for x in l.split()) for l in lines[1:] if l.strip()]
d, it = run(int(U), int(M), int(min_r), int(min_n), bytes.fromhex(seedhex), ratings)
print(d, it)
