"""onevoice/groups/v1 written again from the text of docs/PROTOCOL.md §11.2 alone, without
the C in view (core/protocol/groups.c was not opened): it must agree bit for bit (Python
floats are IEEE binary64, CPython never fuses a multiply and an add, and math.sqrt is the
correctly rounded square root).

Reads on stdin what tests/tools/groupsdump prints: line 1 "PARTICIPANTS STATEMENTS
SEED_HEX", then one "PARTICIPANT STATEMENT VALUE" line per vote (VALUE 1 agree, -1
disagree, 0 pass), in any order. Prints the SHA-256 of the result's canonical bytes;
with --bytes FILE also writes those bytes into FILE (to compare with groupsdump's)."""
import hashlib
import math
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sortition_ref import chacha20_block  # noqa: E402  (RFC 8439 block, written from the RFC)

TAG = b"onevoice/groups/v1\x00"
KEY_TAG = b"onevoice/v1/groups\x00"
STOP, Z90 = 1e-10, 1.2816
sqrt = math.sqrt


def check_input(P, S, votes):
    if P == 0 or S == 0 or P > 10000000 or S > 1000000 or len(votes) > 1000000000:
        raise ValueError("refused: sizes")
    seen = set()
    for p, s, v in votes:
        if not (0 <= p < P and 0 <= s < S) or v not in (1, -1, 0) or (p, s) in seen:
            raise ValueError("refused: vote %d %d %d" % (p, s, v))
        seen.add((p, s))


def stream_words(seed, count):
    """x_0 .. x_{count-1}: the ChaCha20 key stream as little-endian u64 words."""
    key = hashlib.sha256(KEY_TAG + seed).digest()
    words = []
    block = 0
    while len(words) < count:
        words.extend(struct.unpack("<8Q", chacha20_block(key, block, bytes(12))))
        block += 1
    return words[:count]


def z_of(x):
    return float(x >> 11) * 2.0**-53 * 2.0 - 1.0


def power_iteration(S, rows, start, q):
    """rows: per participant, its (statement, centred value) in entry order, p ascending.
    Returns (component, rounds)."""
    v = list(start)
    rounds = 0
    while True:
        rounds += 1
        if q is not None:  # 1.
            d = 0.0
            for s in range(S):
                d = d + v[s] * q[s]
            v = [v[s] - d * q[s] for s in range(S)]
        w = [0.0] * S
        for row in rows:  # 2. and 3.
            u = 0.0
            for s, c in row:
                u = u + c * v[s]
            for s, c in row:
                w[s] = w[s] + c * u
        if q is not None:  # 4.
            d = 0.0
            for s in range(S):
                d = d + w[s] * q[s]
            w = [w[s] - d * q[s] for s in range(S)]
        n2 = 0.0  # 5.
        for s in range(S):
            n2 = n2 + w[s] * w[s]
        N = sqrt(n2)
        if not N > 0:
            return [0.0] * S, rounds, True
        vp = [w[s] / N for s in range(S)]  # 6.
        delta = 0.0
        for s in range(S):
            a = abs(vp[s] - v[s])
            if a > delta:
                delta = a
        v = vp
        if delta <= STOP or rounds == 100:  # 7.
            break
    # The sign rule: the first index with the largest |v_t|.
    t, big = 0, abs(v[0])
    for s in range(1, S):
        if abs(v[s]) > big:
            t, big = s, abs(v[s])
    if v[t] < 0:
        v = [-x for x in v]
    return v, rounds, False


def kmeans(xs, ys, ws, cx, cy):
    """k-means rounds: points (xs, ys) with weights ws, centres (cx, cy) changed in place.
    Returns the assignment."""
    n, k = len(xs), len(cx)
    assign = None
    for rnd in range(100):
        new = [0] * n
        for i in range(n):  # (a)
            xi, yi = xs[i], ys[i]
            best, bd = 0, None
            for c in range(k):
                dx = xi - cx[c]
                dy = yi - cy[c]
                dd = dx * dx + dy * dy
                if bd is None or dd < bd:
                    best, bd = c, dd
            new[i] = best
        if rnd > 0 and new == assign:  # (b)
            break
        assign = new
        sw = [0.0] * k; sx = [0.0] * k; sy = [0.0] * k; cnt = [0] * k
        for i in range(n):  # (c)
            c = assign[i]
            cnt[c] += 1
            sw[c] = sw[c] + ws[i]
            sx[c] = sx[c] + ws[i] * xs[i]
            sy[c] = sy[c] + ws[i] * ys[i]
        for c in range(k):
            if cnt[c] > 0:
                cx[c] = sx[c] / sw[c]
                cy[c] = sy[c] / sw[c]
    return assign


def silhouette(bx, by, assign, k):
    B = len(bx)
    members = [[j for j in range(B) if assign[j] == c] for c in range(k)]
    total = 0.0
    for b in range(B):
        C = assign[b]
        if len(members[C]) == 1:
            sb = 0.0
        else:
            a, e = None, None
            for D in range(k):
                acc = 0.0
                for j in members[D]:
                    if j == b:
                        continue
                    dx = bx[b] - bx[j]
                    dy = by[b] - by[j]
                    acc = acc + sqrt(dx * dx + dy * dy)
                m = acc / float(len(members[D]) - 1 if D == C else len(members[D]))
                if D == C:
                    a = m
                elif e is None or m < e:
                    e = m
            mx = a if a >= e else e
            sb = 0.0 if mx == 0 else (e - a) / mx
        total = total + sb
    return total / float(B)


def prop(x, n):
    return (2.0 * sqrt(float(n + 1))) * (float(x + 1) / float(n + 1) - 0.5)


def two(x, xp, n, np_):
    a, ap, c, cp = float(x + 1), float(xp + 1), float(n + 1), float(np_ + 1)
    p1, p2 = a / c, ap / cp
    ph = (a + ap) / (c + cp)
    if ph == 1:
        return 0.0
    return (p1 - p2) / sqrt(ph * (1.0 - ph) * (1.0 / c + 1.0 / cp))


def run(P, S, seed, votes):
    check_input(P, S, votes)
    # 1. The matrix.
    tot = [0] * S; cnt = [0] * S
    for p, s, v in votes:
        tot[s] += v; cnt[s] += 1
    mu = [float(tot[s]) / float(cnt[s]) if cnt[s] else 0.0 for s in range(S)]
    byp = [[] for _ in range(P)]
    for p, s, v in sorted(votes):
        byp[p].append((s, v))
    rows = [[(s, float(v) - mu[s]) for s, v in byp[p]] for p in range(P)]
    n_p = [len(byp[p]) for p in range(P)]
    # 2. Two principal components.
    z = [z_of(x) for x in stream_words(seed, 2 * S)]
    pc1, r1, zero = power_iteration(S, rows, z[:S], None)
    if zero:
        pc2, r2 = [0.0] * S, 0
    else:
        pc2, r2, _ = power_iteration(S, rows, z[S:], pc1)
    # 3. Positions.
    xs = [0.0] * P; ys = [0.0] * P
    for p in range(P):
        if n_p[p] > 0:
            X = 0.0; Y = 0.0
            for s, c in rows[p]:
                X = X + c * pc1[s]
                Y = Y + c * pc2[s]
            f = sqrt(float(S) / float(n_p[p]))
            xs[p] = f * X; ys[p] = f * Y
    # 4. Who is clustered.
    m = min(7, S)
    clustered = [p for p in range(P) if n_p[p] >= m]
    if len(clustered) < 15:
        extra = sorted((p for p in range(P) if 1 <= n_p[p] < m), key=lambda p: (-n_p[p], p))
        clustered = sorted(clustered + extra[:15 - len(clustered)])
    # 5. Base clusters.
    px = [xs[p] for p in clustered]; py = [ys[p] for p in clustered]
    cx, cy = [], []
    for i in range(len(clustered)):
        if len(cx) == 100:
            break
        if all(not (px[i] == cx[c] and py[i] == cy[c]) for c in range(len(cx))):
            cx.append(px[i]); cy.append(py[i])
    base_of = kmeans(px, py, [1.0] * len(px), cx, cy) if clustered else []
    used = sorted(set(base_of))
    renum = {c: b for b, c in enumerate(used)}
    base_of = [renum[c] for c in base_of]
    B = len(used)
    bx = [cx[c] for c in used]; by = [cy[c] for c in used]
    bw = [0] * B
    for b in base_of:
        bw[b] += 1
    # 6. Groups.
    elig = []  # (k, eligible, silhouette, assignment)
    if B == 0:
        k, max_k, group_of_base = 0, 0, []
    elif B == 1:
        k, max_k, group_of_base = 1, 0, [0]
    else:
        max_k = min(5, 2 + B // 12, B)
        wts = [float(w) for w in bw]
        best = None
        for kk in range(2, max_k + 1):
            first = 0
            for b in range(1, B):
                if bw[b] > bw[first]:
                    first = b
            chosen = [first]
            ok = True
            for _ in range(kk - 1):
                bi, bv = None, None
                for b in range(B):
                    dn = None
                    for c in chosen:
                        dx = bx[b] - bx[c]
                        dy = by[b] - by[c]
                        dd = dx * dx + dy * dy
                        if dn is None or dd < dn:
                            dn = dd
                    val = wts[b] * dn
                    if bv is None or val > bv:
                        bi, bv = b, val
                if not bv > 0:
                    ok = False
                    break
                chosen.append(bi)
            sil, asg = 0.0, None
            if ok:
                ccx = [bx[c] for c in chosen]; ccy = [by[c] for c in chosen]
                asg = kmeans(bx, by, wts, ccx, ccy)
                if len(set(asg)) < kk:
                    ok = False
                else:
                    sil = silhouette(bx, by, asg, kk)
            elig.append((kk, ok, sil if ok else 0.0))
            if ok and (best is None or sil > best[0]):
                best = (sil, kk, asg)
        if best is None:
            k, group_of_base = 1, [0] * B
        else:
            k, group_of_base = best[1], best[2]
    # A participant's group; groups renumbered by their lowest-numbered participant.
    group = [None] * P
    order = {}
    for i, p in enumerate(clustered):
        g = group_of_base[base_of[i]]
        if g not in order:
            order[g] = len(order)
        group[p] = order[g]
    sizes = [0] * k
    for p in clustered:
        sizes[group[p]] += 1
    # 7. Consensus.
    A = [[0] * S for _ in range(k)]; D = [[0] * S for _ in range(k)]; Nn = [[0] * S for _ in range(k)]
    for p in clustered:
        g = group[p]
        for s, v in byp[p]:
            Nn[g][s] += 1
            if v == 1:
                A[g][s] += 1
            elif v == -1:
                D[g][s] += 1
    cons = [1.0] * S
    for s in range(S):
        c = 1.0
        for g in range(k):
            c = c * (float(A[g][s] + 1) / float(Nn[g][s] + 2))
        cons[s] = c
    ranking = sorted(range(S), key=lambda s: (-cons[s], s))
    # 8. Representative statements.
    reps = []
    TA = [sum(A[g][s] for g in range(k)) for s in range(S)]
    TD = [sum(D[g][s] for g in range(k)) for s in range(S)]
    TN = [sum(Nn[g][s] for g in range(k)) for s in range(S)]
    for g in range(k):
        cand = []
        for s in range(S):
            a, d, n = A[g][s], D[g][s], Nn[g][s]
            ao, do, no = TA[s] - a, TD[s] - d, TN[s] - n
            ta, td = two(a, ao, n, no), two(d, do, n, no)
            if ta > td:
                direction, x, xo, rt = 1, a, ao, ta
            else:
                direction, x, xo, rt = 2, d, do, td
            pp = float(x + 1) / float(n + 2)
            pt = prop(x, n)
            r = pp / (float(xo + 1) / float(no + 2))
            metric = r * rt * pp * pt
            cand.append((s, direction, x, n, pp, pt, r, rt, metric, rt > Z90 and pt > Z90, a + d > 0))
        sig = sorted((c for c in cand if c[9]), key=lambda c: (-c[8], c[0]))[:5]
        if not sig:
            bestc = None
            for c in cand:
                if c[10] and (bestc is None or c[7] > bestc[7]):
                    bestc = c
            sig = [bestc] if bestc is not None else []
        reps.append(sig)
    # Result bytes.
    f64 = lambda x: struct.pack(">d", 0.0 if x == 0 else x)
    out = bytearray(TAG + struct.pack(">5I", P, S, len(clustered), k, max_k))
    for kk, ok, sil in elig:
        out += struct.pack(">B", 1 if ok else 0) + f64(sil)
    for g in range(k):
        out += struct.pack(">I", sizes[g])
    for p in range(P):
        out += struct.pack(">I", 0xFFFFFFFF if group[p] is None else group[p]) + f64(xs[p]) + f64(ys[p])
    for s in ranking:
        out += struct.pack(">I", s) + f64(cons[s])
    for g in range(k):
        out += struct.pack(">I", len(reps[g]))
        for c in reps[g]:
            out += struct.pack(">IBII", c[0], c[1], c[2], c[3])
            for val in c[4:9]:
                out += f64(val)
    sys.stderr.write("P=%d S=%d votes=%d rounds=%d,%d clustered=%d B=%d max_k=%d k=%d\n"
                     % (P, S, len(votes), r1, r2, len(clustered), B, max_k, k))
    return bytes(out)


def main(argv):
    path = None
    if len(argv) == 3 and argv[1] == "--bytes":
        path = argv[2]
    elif len(argv) != 1:
        sys.stderr.write("usage: groups_ref.py [--bytes FILE] < ROUND\n")
        return 2
    lines = sys.stdin.read().split("\n")
    P, S, seedhex = lines[0].split()
    votes = [tuple(int(x) for x in l.split()) for l in lines[1:] if l.strip()]
    out = run(int(P), int(S), bytes.fromhex(seedhex), votes)
    if path is not None:
        with open(path, "wb") as f:
            f.write(out)
    print(hashlib.sha256(out).hexdigest())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
