#!/usr/bin/env python3
"""linkage: how well the operators, pooling what they hold, link counted actions to people.

The measurement of issue 18 (docs/THREAT-MODEL.md, "Linkage, measured"). Input: a demo's
data directory (DEMO_KEEP=1 DEMO_TRUTH=1 make demo): the log's entries (DIR/log/log.db, or
the public HTTP API with --log-url), the issuer's database and tag secret
(DIR/issuer/issuer.db, DIR/issuer/tag.secret), and the ground truth, which only this
measurement reads: DIR/truth.txt (tests/tools/citizens.c --truth) and the demo's wallets
(DIR/wallet-*.db). Or a model file (--model FILE, JSON, below) for synthetic cases.

A person is an enrollee of the issuer (its stable pseudonym inside the issuer): the issuer
with its pepper knows which code or identity that is. Every attack guesses, for each item,
one candidate; its success is the share of scored items guessed right, its chance the mean of
1/N over the same items (N the candidates a blind guess picks among), its excess the
difference. Goal (issue 18): excess <= 0.01 for every attack in the default way citizens act.

Model (JSON, --model): {"entries": [{"kind": "issuance", "context": C, "tag": T, "time": S},
{"kind": "action" | "statement", "context": C, "pseudonym": P, "token": true|false,
"time": S, "type": "assembly" | "rating"}, ...] (in log order), "tag_owner": {C: {T: person}}
(what the issuer's database says: whose tag), "truth": {P: person} (who holds each action
pseudonym), "types": {C: "assembly" | "rating"}}.

Output: one line per attack, `linkage NAME success S chance C excess E items K`, then a
summary line; --json prints the same as one JSON object.
"""
import argparse
import base64
import glob
import hashlib
import json
import os
import random
import shutil
import sqlite3
import struct
import sys
import tempfile
import urllib.request

GOAL_MARGIN = 0.01
# The test (--test): with K items an attack's success moves in steps of 1/K, so at the few
# dozen people of make check's demo one lucky guess is more than the goal's margin. The
# test therefore asks whether an attack is significantly above chance + GOAL_MARGIN: it
# fails when, for an attacker no better than that, as many right guesses or more would come
# with probability below TEST_ALPHA (binomial upper tail). At 30 people that catches any
# attack right about a quarter of the time or more (the README's schedule before issue 18:
# 37-47 %); the goal itself is judged on the full demo's 447.
TEST_ALPHA = 0.001
TIME_RUNS = 32  # random tie-breaks averaged by the times-only attack


# --- CBOR (RFC 8949), just what the log's entries use -------------------------------------

def cbor_decode(b):
    v, i = _cbor(b, 0)
    if i != len(b):
        raise ValueError("trailing bytes")
    return v


def _cbor(b, i):
    ib = b[i]
    i += 1
    major, ai = ib >> 5, ib & 31
    if major == 7:
        if ai == 20:
            return False, i
        if ai == 21:
            return True, i
        if ai in (22, 23):
            return None, i
        if ai == 25:
            h = struct.unpack(">H", b[i:i + 2])[0]
            s, e, f = h >> 15, (h >> 10) & 31, h & 1023
            v = (f / 1024.0) * 2 ** -14 if e == 0 else (float("inf") if e == 31 else (1 + f / 1024.0) * 2 ** (e - 15))
            return (-v if s else v), i + 2
        if ai == 26:
            return struct.unpack(">f", b[i:i + 4])[0], i + 4
        if ai == 27:
            return struct.unpack(">d", b[i:i + 8])[0], i + 8
        raise ValueError("simple value %d" % ai)
    if ai < 24:
        n = ai
    elif ai in (24, 25, 26, 27):
        k = 1 << (ai - 24)
        n = int.from_bytes(b[i:i + k], "big")
        i += k
    else:
        raise ValueError("indefinite length")
    if major == 0:
        return n, i
    if major == 1:
        return -1 - n, i
    if major == 2:
        return bytes(b[i:i + n]), i + n
    if major == 3:
        return b[i:i + n].decode("utf-8"), i + n
    if major == 4:
        out = []
        for _ in range(n):
            v, i = _cbor(b, i)
            out.append(v)
        return out, i
    if major == 5:
        out = {}
        for _ in range(n):
            k, i = _cbor(b, i)
            v, i = _cbor(b, i)
            out[k] = v
        return out, i
    if major == 6:
        return _cbor(b, i)
    raise ValueError("major type %d" % major)


# --- loading: the log, the issuer, the truth ----------------------------------------------

def _copy_db(path, tmp):
    """A private copy of a SQLite database with its WAL: nothing touches the servers' files."""
    dst = os.path.join(tmp, os.path.basename(os.path.dirname(path)) + "-" + os.path.basename(path))
    shutil.copyfile(path, dst)
    if os.path.exists(path + "-wal"):
        shutil.copyfile(path + "-wal", dst + "-wal")
    return sqlite3.connect(dst)


def log_entries_db(log_db, tmp):
    con = _copy_db(log_db, tmp)
    rows = con.execute("SELECT idx, data FROM leaves ORDER BY idx").fetchall()
    con.close()
    return [(idx, cbor_decode(data)) for idx, data in rows]


def _tile_path(n):
    parts = []
    while True:
        parts.append(n % 1000)
        n //= 1000
        if n == 0:
            break
    parts.reverse()
    return "/".join(("x%03d" % p) for p in parts[:-1]) + ("/" if len(parts) > 1 else "") + "%03d" % parts[-1]


def log_entries_http(url):
    """Every entry of the log's latest published checkpoint, from its public entry bundles."""
    url = url.rstrip("/")
    size = int(urllib.request.urlopen(url + "/checkpoint", timeout=30).read().decode().split("\n")[1])
    out = []
    for n in range((size + 255) // 256):
        w = min(256, size - 256 * n)
        path = "/tile/entries/" + _tile_path(n) + ("" if w == 256 else ".p/%d" % w)
        data = urllib.request.urlopen(url + path, timeout=30).read()
        i = 0
        while i < len(data):
            ln = struct.unpack(">H", data[i:i + 2])[0]
            out.append((len(out), cbor_decode(data[i + 2:i + 2 + ln])))
            i += 2 + ln
    return out


def _secret_file(path):
    """An `onevoice-secret/v1 LABEL BASE64` file's bytes."""
    with open(path) as f:
        parts = f.read().split()
    return base64.b64decode(parts[-1])


def issuance_tag(tag_key, pseudonym, context):
    """docs/PROTOCOL.md §7: H_tag^32("onevoice/v1/tag" || 0x00 || pseudonym || context id)."""
    return hashlib.blake2b(b"onevoice/v1/tag\0" + pseudonym + context.encode(), key=tag_key,
                           digest_size=32).hexdigest()


def load_demo(d, log_url=None, truth_path=None):
    """The model of a demo's data directory: what the operators hold, and the truth."""
    tmp = tempfile.mkdtemp(prefix="linkage.")
    try:
        raw = log_entries_http(log_url) if log_url else log_entries_db(os.path.join(d, "log", "log.db"), tmp)
        types, entries = {}, []
        for idx, e in raw:
            k = e.get("kind")
            if k == "context":
                types[e["id"]] = e["type"]
            elif k == "issuance":
                entries.append({"index": idx, "kind": k, "context": e["context"], "tag": e["tag"].hex(),
                                "n": e["n"], "time": e["time"]})
            elif k in ("action", "statement"):
                entries.append({"index": idx, "kind": k, "context": e["context"],
                                "pseudonym": e["pseudonym"].hex(), "token": "token" in e, "time": e["time"]})
            elif k == "enrollment":
                entries.append({"index": idx, "kind": k, "n": e["n"], "time": e["time"]})
        # the issuer's database: whose each tag is. Two ways, checked against each other: the
        # tag secret of its data directory over every enrollee, and its issuance rows' outbox
        con = _copy_db(os.path.join(d, "issuer", "issuer.db"), tmp)
        by_index = {x["index"]: x for x in entries}
        tag_owner, check = {}, {"outbox_rows": 0, "tag_secret_agrees": None}
        for ctx, pseud, li in con.execute(
                "SELECT i.context, i.pseudonym, o.log_index FROM issuances i JOIN outbox o ON o.id = i.outbox_id"):
            x = by_index.get(li)
            if x is not None and x["kind"] == "issuance":
                tag_owner.setdefault(ctx, {})[x["tag"]] = pseud.hex()
                check["outbox_rows"] += 1
        tag_file = os.path.join(d, "issuer", "tag.secret")
        if os.path.exists(tag_file):
            key = _secret_file(tag_file)
            # the issuer's computation, over every enrollee and context: every logged tag is
            # an enrollee's tag under the secret, and the same enrollee as its row says
            computed = {(ctx, issuance_tag(key, p, ctx)): p.hex()
                        for (p,) in con.execute("SELECT pseudonym FROM enrollees") for ctx in types}
            agree = all(computed.get((ctx, t)) == p for ctx, mm in tag_owner.items() for t, p in mm.items())
            for x in entries:
                if x["kind"] == "issuance" and (x["context"], x["tag"]) in computed:
                    tag_owner.setdefault(x["context"], {})[x["tag"]] = computed[(x["context"], x["tag"])]
            check["tag_secret_agrees"] = agree
        key_owner = {pk.hex(): p.hex() for pk, p in con.execute("SELECT pk, pseudonym FROM keys")}
        blinded_owner = {(c, bl): p.hex() for c, bl, p in
                         con.execute("SELECT context, blinded, pseudonym FROM issuances")}
        con.close()
        # the truth: the simulated citizens' file, and the demo's wallets
        truth, sources = {}, {"citizens": 0, "wallets": 0}
        tp = truth_path or os.path.join(d, "truth.txt")
        if os.path.exists(tp):
            with open(tp) as f:
                for line in f:
                    p = line.split()
                    if len(p) != 5 or p[0] == "citizen" or p[2] not in key_owner:
                        continue
                    sources["citizens"] += 1
                    for ps in p[3:]:
                        if ps != "-":
                            truth[ps] = key_owner[p[2]]
        for w in sorted(glob.glob(os.path.join(d, "wallet-*.db"))):
            wc = _copy_db(w, tmp)
            found = False
            for ctx, ps, req in wc.execute("SELECT context, pseudonym, request FROM tokens"):
                owner = blinded_owner.get((ctx, bytes(req[3:259])))
                if owner is not None:
                    truth[ps.hex()] = owner
                    found = True
            wc.close()
            sources["wallets"] += found
        return {"entries": entries, "tag_owner": tag_owner, "truth": truth, "types": types,
                "sources": sources, "checks": check}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def load_model(path):
    with open(path) as f:
        m = json.load(f)
    for i, x in enumerate(m["entries"]):
        x.setdefault("index", i)
    m.setdefault("types", {})
    for x in m["entries"]:
        if "context" in x and x["context"] not in m["types"]:
            m["types"][x["context"]] = x.get("type", "assembly")
    return m


# --- what each attack works on ------------------------------------------------------------

def issuances(m, ctx):
    return [x for x in m["entries"] if x["kind"] == "issuance" and x["context"] == ctx]


def first_actions(m, ctx):
    """Each pseudonym's admitting action in ctx (the one that carries the token), in log order."""
    seen, out = set(), []
    for x in m["entries"]:
        if x["kind"] in ("action", "statement") and x["context"] == ctx and x["pseudonym"] not in seen:
            seen.add(x["pseudonym"])
            out.append(x)
    return out


def contexts_of(m, typ=None):
    order = []
    for x in m["entries"]:
        c = x.get("context")
        if c is not None and c not in order and (typ is None or m["types"].get(c) == typ):
            order.append(c)
    return order


def owner_of_tag(m, ctx, tag):
    return m["tag_owner"].get(ctx, {}).get(tag)


def match_fifo(iss, acts, key="index"):
    """The k-th action with the k-th issuance: each action takes the oldest issuance not yet
    taken that comes before it (by key); the pair of the log's order."""
    guess, j, taken = {}, 0, set()
    pending = []
    for a in acts:
        while j < len(iss) and iss[j][key] <= a[key]:
            pending.append(iss[j])
            j += 1
        if not pending and j < len(iss):  # none before it: the next one
            pending.append(iss[j])
            j += 1
        if pending:
            guess[a["pseudonym"]] = pending.pop(0)["tag"]
    return guess


def match_nearest(iss, acts):
    """Each action with the latest issuance not yet taken before it in the log (nearest)."""
    guess, j, stack = {}, 0, []
    for a in acts:
        while j < len(iss) and iss[j]["index"] < a["index"]:
            stack.append(iss[j])
            j += 1
        if stack:
            guess[a["pseudonym"]] = stack.pop()["tag"]
    return guess


def score(items):
    """items: (success 0..1, chance) per scored item."""
    k = len(items)
    s = sum(i[0] for i in items) / k if k else 0.0
    c = sum(i[1] for i in items) / k if k else 0.0
    return {"success": s, "chance": c, "excess": round(s - c, 12) + 0.0, "items": k}  # never -0.0


def _action_items(m, ctx, guess, name_person):
    """Score guessed tags of ctx's pseudonyms: right when the tag's owner holds the pseudonym."""
    n = len({x["tag"] for x in issuances(m, ctx)})
    items = []
    for a in first_actions(m, ctx):
        who = m["truth"].get(a["pseudonym"])
        if who is None or n == 0:
            continue
        g = guess.get(a["pseudonym"])
        items.append((1.0 if g is not None and owner_of_tag(m, ctx, g) == who else 0.0, 1.0 / n))
    return items


# --- the attacks --------------------------------------------------------------------------

def attack_log_order_votes(m):
    """(1) Log order: in each assembly, the k-th ballot (the first action of a pseudonym) is
    paired with the k-th issuance entry before it (FIFO). The log alone; scored by whether the
    issuance's tag is the voter's. Chance: 1/N, N the tags issued in the context."""
    items = []
    for ctx in contexts_of(m, "assembly"):
        items += _action_items(m, ctx, match_fifo(issuances(m, ctx), first_actions(m, ctx)), False)
    return score(items)


def attack_log_nearest_votes(m):
    """(1') Log order, nearest: each ballot is paired with the latest issuance entry of its
    context, not yet taken, that precedes it in the log."""
    items = []
    for ctx in contexts_of(m, "assembly"):
        items += _action_items(m, ctx, match_nearest(issuances(m, ctx), first_actions(m, ctx)), False)
    return score(items)


def attack_log_times_votes(m, runs=TIME_RUNS, seed=1):
    """(1'') Times alone (entry `time`, whole seconds), not the order: issuances and ballots
    are sorted by time, ties in a random order, and paired k-th with k-th (an issuance not
    after its ballot). Averaged over random tie-breaks: what entry times leak once the order
    is shuffled but the times are not rounded."""
    rng = random.Random(seed)
    items = []
    for ctx in contexts_of(m, "assembly"):
        iss, acts = issuances(m, ctx), first_actions(m, ctx)
        acc = None
        for _ in range(runs):
            si = sorted(iss, key=lambda x: (x["time"], rng.random()))
            sa = sorted(acts, key=lambda x: (x["time"], rng.random()))
            it = _action_items(m, ctx, match_fifo(si, sa, key="time"), False)
            acc = it if acc is None else [(a[0] + b[0], a[1]) for a, b in zip(acc, it)]
        items += [(s / runs, c) for s, c in (acc or [])]
    return score(items)


def _tag_pairs(m, a_ctx, b_ctx):
    """Pair the issuances of two contexts by their order in the log: the k-th of a_ctx with
    the k-th of b_ctx (the wallet fetches every open context back to back, and the issuer
    appends them in commit order)."""
    ia, ib = issuances(m, a_ctx), issuances(m, b_ctx)
    return {x["tag"]: y["tag"] for x, y in zip(ia, ib)}, len({y["tag"] for y in ib})


def attack_tags_across_contexts(m):
    """(2) Issuance tags across contexts: one person's issuances in two contexts paired by
    their order in the log (_tag_pairs: the k-th with the k-th). Log alone;
    scored by the issuer's database (same enrollee). Chance: 1/N, N the tags of the second
    context. Every pair of contexts, the first-issued first."""
    items = []
    ctxs = contexts_of(m)
    ctxs = [c for c in ctxs if issuances(m, c)]
    for i in range(len(ctxs)):
        for j in range(i + 1, len(ctxs)):
            guess, n = _tag_pairs(m, ctxs[i], ctxs[j])
            owners_b = set(m["tag_owner"].get(ctxs[j], {}).values())
            for x in issuances(m, ctxs[i]):
                who = owner_of_tag(m, ctxs[i], x["tag"])
                if who is None or who not in owners_b:
                    continue
                g = guess.get(x["tag"])
                items.append((1.0 if g is not None and owner_of_tag(m, ctxs[j], g) == who else 0.0, 1.0 / n))
    return score(items)


def _ready(m, ctx):
    """With the issuer's database: each enrollee's issuance in ctx, placed where the last of
    that enrollee's issuances (every context) is in the log: the wallet fetches every open
    context before it acts, so an action follows all of its owner's issuances."""
    last = {}
    for x in m["entries"]:
        if x["kind"] == "issuance":
            who = owner_of_tag(m, x["context"], x["tag"])
            if who is not None:
                last[who] = x["index"]
    out = []
    for x in issuances(m, ctx):
        who = owner_of_tag(m, ctx, x["tag"])
        out.append(dict(x, index=last.get(who, x["index"])))
    return sorted(out, key=lambda y: y["index"])


def _named(m, typ, matcher):
    """Pairs each first action of the contexts of type typ with a ready enrollee (matcher),
    scored by whether it names the person (attacks (3) and (4))."""
    items = []
    for ctx in contexts_of(m, typ):
        guess = matcher(_ready(m, ctx), first_actions(m, ctx))
        n = len(set(m["tag_owner"].get(ctx, {}).values()))
        for a in first_actions(m, ctx):
            who = m["truth"].get(a["pseudonym"])
            if who is None or n == 0:
                continue
            g = guess.get(a["pseudonym"])
            named = owner_of_tag(m, ctx, g) if g is not None else None
            items.append((1.0 if named == who else 0.0, 1.0 / n))
    return score(items)


def attack_issuer_db_votes(m):
    """(3) With the issuer's database pooled: its tag secret (or its issuance rows) maps every
    issuance tag to an enrollee, which also tells which tags of two contexts are one person's
    (what (2) guesses). Each enrollee is ready to vote once the last of their issuances is
    logged (_ready); ballots are paired with ready enrollees by log order (FIFO, as (1)),
    naming the person behind each ballot. Scored against the truth (the citizens' own keys).
    Chance: 1/N, N the enrollees holding a token of the context."""
    return _named(m, "assembly", match_fifo)


def attack_rating_pseudonyms(m):
    """(4) Rating pseudonyms: in each rating round, a pseudonym's admitting action (its
    statement or its first rating, which carries the token) is paired by log order (FIFO,
    as (1)) with an enrollee ready to act (as (3), with the issuer's database); all of that pseudonym's
    ratings follow. Scored per pseudonym; chance 1/N, N the enrollees holding a token of the
    round."""
    return _named(m, "rating", match_fifo)


def attack_rating_pseudonyms_nearest(m):
    """(4') As (4), pairing each admitting action with the latest issuance of the round not
    yet taken before it (as (1'))."""
    return _named(m, "rating", match_nearest)


def attack_actions_across_contexts(m):
    """(2') Two of one person's contexts, from the log alone: a ballot's issuance (1), that
    issuance's neighbour in the round (2), the round's pseudonym admitted by it (4): the
    ballot and the round's ratings are guessed to be one person's. Scored by the truth;
    chance 1/N, N the round's pseudonyms."""
    items = []
    for a_ctx in contexts_of(m, "assembly"):
        ga = match_fifo(issuances(m, a_ctx), first_actions(m, a_ctx))
        for b_ctx in contexts_of(m, "rating"):
            gb = match_fifo(issuances(m, b_ctx), first_actions(m, b_ctx))
            tag_to_pseud_b = {t: p for p, t in gb.items()}
            pairs, _ = _tag_pairs(m, a_ctx, b_ctx)
            nb = len(first_actions(m, b_ctx))
            people_b = {m["truth"].get(x["pseudonym"]) for x in first_actions(m, b_ctx)}
            for x in first_actions(m, a_ctx):
                who = m["truth"].get(x["pseudonym"])
                if who is None or who not in people_b or nb == 0:
                    continue
                t = ga.get(x["pseudonym"])
                pb = tag_to_pseud_b.get(pairs.get(t)) if t is not None else None
                items.append((1.0 if pb is not None and m["truth"].get(pb) == who else 0.0, 1.0 / nb))
    return score(items)


ATTACKS = [
    ("log-order-votes", attack_log_order_votes),
    ("log-nearest-votes", attack_log_nearest_votes),
    ("log-times-votes", attack_log_times_votes),
    ("tags-across-contexts", attack_tags_across_contexts),
    ("actions-across-contexts", attack_actions_across_contexts),
    ("issuer-db-votes", attack_issuer_db_votes),
    ("rating-pseudonyms", attack_rating_pseudonyms),
    ("rating-pseudonyms-nearest", attack_rating_pseudonyms_nearest),
]


def measure(m):
    return {name: fn(m) for name, fn in ATTACKS}


def upper_tail(k, n, p):
    """P(X >= k) for X ~ Binomial(n, p)."""
    from math import comb
    p = min(max(p, 0.0), 1.0)
    return sum(comb(n, i) * p ** i * (1 - p) ** (n - i) for i in range(max(k, 0), n + 1))


def significance(r):
    """How likely an attacker at chance + GOAL_MARGIN guesses as many right (or more)."""
    n = r["items"]
    hits = int(round(r["success"] * n))
    return hits, upper_tail(hits, n, r["chance"] + GOAL_MARGIN) if n > 0 else 1.0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("dir", nargs="?", help="a demo's data directory (DEMO_KEEP=1 DEMO_TRUTH=1 make demo)")
    ap.add_argument("--model", help="a model file (JSON) instead of a demo's directory")
    ap.add_argument("--log-url", help="read the log's public entries over HTTP instead of DIR/log/log.db")
    ap.add_argument("--truth", help="the citizens' truth file (default DIR/truth.txt)")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    ap.add_argument("--dump-model", help="write the model built from DIR to this file (JSON)")
    ap.add_argument("--test", action="store_true",
                    help="exit 1 when an attack is significantly above chance + %.2f (p < %g)" %
                    (GOAL_MARGIN, TEST_ALPHA))
    a = ap.parse_args()
    if bool(a.dir) == bool(a.model):
        ap.error("give a demo's directory or --model FILE")
    m = load_model(a.model) if a.model else load_demo(a.dir, a.log_url, a.truth)
    if a.dump_model:
        with open(a.dump_model, "w") as f:
            json.dump({k: m[k] for k in ("entries", "tag_owner", "truth", "types")}, f)
    res = measure(m)
    worst = max(res, key=lambda k: res[k]["excess"])
    met = all(r["excess"] <= GOAL_MARGIN for r in res.values())
    summary = {
        "entries": len(m["entries"]),
        "people": len({p for t in m["tag_owner"].values() for p in t.values()}),
        "pseudonyms_with_truth": len(m["truth"]),
        "worst": worst, "worst_excess": res[worst]["excess"], "goal_margin": GOAL_MARGIN, "goal_met": met,
    }
    for k in ("sources", "checks"):
        if k in m:
            summary[k] = m[k]
    if a.json:
        print(json.dumps({"attacks": res, "summary": summary}, indent=1, sort_keys=True))
        return 0
    for name, _ in ATTACKS:
        r = res[name]
        print("linkage %s success %.4f chance %.4f excess %.4f items %d" %
              (name, r["success"], r["chance"], r["excess"], r["items"]))
    print("linkage summary attacks %d people %d worst %s excess %.4f goal excess<=%.2f %s" %
          (len(res), summary["people"], worst, res[worst]["excess"], GOAL_MARGIN, "met" if met else "NOT met"))
    sig = {name: significance(res[name]) for name, _ in ATTACKS}
    least = min(sig, key=lambda k: sig[k][1])
    hits, pv = sig[least]
    passed = pv >= TEST_ALPHA
    print("linkage test least-likely %s hits %d of %d p %.2g alpha %g %s" %
          (least, hits, res[least]["items"], pv, TEST_ALPHA, "passed" if passed else "FAILED"))
    return 1 if a.test and not passed else 0


if __name__ == "__main__":
    sys.exit(main())
