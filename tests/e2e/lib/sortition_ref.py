#!/usr/bin/env python3
"""An independent implementation of docs/PROTOCOL.md §10 (sortition, algorithm
onevoice/sortition/legacy/v1), written from that text alone, with the standard library only.
tests/e2e/sortition.sh runs it beside the C implementation: both must draw the same panel,
bit for bit, from the same pool file and seed.

usage:
  sortition_ref.py draw POOLFILE SEEDHEX   parse POOLFILE (onevoice-pool/v1), run the checks
                                           before drawing, then draw with the 32-byte seed
                                           (64 hex digits). Prints three lines:
                                             attempt A        (0-based, the attempt that succeeded)
                                             panel ID ID ...  (in selection order)
                                             reserves ID ...  (possibly nothing after the word)
                                           or "failed" (exit 1) when every attempt fails.
  sortition_ref.py check POOLFILE          parse POOLFILE and run the checks before drawing only.
  sortition_ref.py sha256 POOLFILE         the SHA-256 of the file's bytes, lowercase hex.
  sortition_ref.py selftest                ChaCha20 against RFC 8439 §2.3.2 and appendix A.1.

Where §10 is silent this implementation reads it so (see also the comments in the code):
attempts are a = 0 .. A-1; below(n) takes at least one value, even for n = 1; need is not
clamped at 0; the selected member leaves the pool; reserves are drawn as §10 says (not selected, not in the
household of a selected member or an earlier reserve, no value whose maximum is 0; none
eligible fails the draw); numbers are decimal without sign or leading zero, below 2^64; the
file is strict UTF-8 (shortest forms, no surrogates); a field holds no '"' and no control
character: below U+0020, U+007F, nor the C1 controls U+0080..U+009F.

exit status: 0 success, 1 every attempt failed (or a self-test failed), 2 usage error or a
pool file that deviates from §10 (one message on stderr), 3 a check before drawing failed
(every failing check on stderr, one a line).
"""

import hashlib
import re
import struct
import sys

ALGORITHM = "onevoice/sortition/legacy/v1"
POOL_MAGIC = "onevoice-pool/v1"
KEY_LABEL = b"onevoice/v1/sortition"
MAX_CATEGORIES = 16
MAX_VALUES = 64
MAX_LABEL = 128
MAX_ATTEMPTS = 10000
U64 = 1 << 64
MASK32 = 0xFFFFFFFF


class PoolError(Exception):
    """The pool file deviates from §10."""


# ---------------------------------------------------------------------------------------
# ChaCha20 (RFC 8439 §2.1-§2.3)


# The column rounds, then the diagonal rounds (RFC 8439 §2.3): the four state words each
# quarter round mixes.
DOUBLE_ROUND = ((0, 4, 8, 12), (1, 5, 9, 13), (2, 6, 10, 14), (3, 7, 11, 15),
                (0, 5, 10, 15), (1, 6, 11, 12), (2, 7, 8, 13), (3, 4, 9, 14))


def chacha20_block(key, counter, nonce):
    """The 64-byte serialized output of the ChaCha20 block function (RFC 8439 §2.3)."""
    if len(key) != 32 or len(nonce) != 12 or not 0 <= counter <= MASK32:
        raise ValueError("chacha20_block: bad key, nonce or counter")
    state = [0x61707865, 0x3320646E, 0x79622D32, 0x6B206574]
    state += struct.unpack("<8I", key)
    state.append(counter)
    state += struct.unpack("<3I", nonce)
    s = list(state)
    for _ in range(10):
        for a, b, c, d in DOUBLE_ROUND:  # the quarter round of RFC 8439 §2.1
            s[a] = (s[a] + s[b]) & MASK32
            x = s[d] ^ s[a]
            s[d] = ((x << 16) | (x >> 16)) & MASK32
            s[c] = (s[c] + s[d]) & MASK32
            x = s[b] ^ s[c]
            s[b] = ((x << 12) | (x >> 20)) & MASK32
            s[a] = (s[a] + s[b]) & MASK32
            x = s[d] ^ s[a]
            s[d] = ((x << 8) | (x >> 24)) & MASK32
            s[c] = (s[c] + s[d]) & MASK32
            x = s[b] ^ s[c]
            s[b] = ((x << 7) | (x >> 25)) & MASK32
    return struct.pack("<16I", *((w + i) & MASK32 for w, i in zip(s, state)))


class Stream:
    """A ChaCha20 keystream, block counter from 0, read as consecutive little-endian u64s."""

    def __init__(self, key, nonce):
        self.key = key
        self.nonce = nonce
        self.counter = 0
        self.buffered = []

    def next_u64(self):
        if not self.buffered:
            if self.counter > MASK32:
                raise RuntimeError("ChaCha20 block counter exhausted")
            block = chacha20_block(self.key, self.counter, self.nonce)
            self.counter += 1
            self.buffered = list(reversed(struct.unpack("<8Q", block)))
        return self.buffered.pop()

    def below(self, n):
        """Uniform in [0, n): values until one is below 2^64 - (2^64 mod n), then mod n.
        At least one value is taken even when n == 1."""
        if n < 1:
            raise ValueError("below(0)")
        limit = U64 - (U64 % n)
        while True:
            v = self.next_u64()
            if v < limit:
                return v % n


def attempt_stream(seed, attempt):
    """The stream of attempt a: key SHA-256("onevoice/v1/sortition" || 0x00 || seed),
    nonce 0x00000000 || u64le(a)."""
    key = hashlib.sha256(KEY_LABEL + b"\x00" + seed).digest()
    return Stream(key, b"\x00\x00\x00\x00" + struct.pack("<Q", attempt))


def selftest():
    """RFC 8439 §2.3.2 and the five block vectors of appendix A.1; then the stream's
    u64 reading over two consecutive blocks (A.1 #1 and #2: zero key and nonce)."""
    vectors = [
        ("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
         "000000090000004a00000000", 1,
         "10f1e7e4d13b5915500fdd1fa32071c4c7d1f4c733c068030422aa9ac3d46c4e"
         "d2826446079faa0914c2d705d98b02a2b5129cd1de164eb9cbd083e8a2503c4e"),
        ("00" * 32, "00" * 12, 0,
         "76b8e0ada0f13d90405d6ae55386bd28bdd219b8a08ded1aa836efcc8b770dc7"
         "da41597c5157488d7724e03fb8d84a376a43b8f41518a11cc387b669b2ee6586"),
        ("00" * 32, "00" * 12, 1,
         "9f07e7be5551387a98ba977c732d080dcb0f29a048e3656912c6533e32ee7aed"
         "29b721769ce64e43d57133b074d839d531ed1f28510afb45ace10a1f4b794d6f"),
        ("00" * 31 + "01", "00" * 12, 1,
         "3aeb5224ecf849929b9d828db1ced4dd832025e8018b8160b82284f3c949aa5a"
         "8eca00bbb4a73bdad192b5c42f73f2fd4e273644c8b36125a64addeb006c13a0"),
        ("00ff" + "00" * 30, "00" * 12, 2,
         "72d54dfbf12ec44b362692df94137f328fea8da73990265ec1bbbea1ae9af0ca"
         "13b25aa26cb4a648cb9b9d1be65b2c0924a66c54d545ec1b7374f4872e99f096"),
        ("00" * 32, "00" * 11 + "02", 0,
         "c2c64d378cd536374ae204b9ef933fcd1a8b2288b3dfa49672ab765b54ee27c7"
         "8a970e0e955c14f3a88e741b97c286f75f8fc299e8148362fa198a39531bed6d"),
    ]
    ok = True
    for key, nonce, counter, want in vectors:
        got = chacha20_block(bytes.fromhex(key), counter, bytes.fromhex(nonce)).hex()
        if got != want:
            ok = False
            print(f"FAIL key={key} nonce={nonce} counter={counter}\n got  {got}\n want {want}")
    stream = Stream(bytes(32), bytes(12))
    got = b"".join(struct.pack("<Q", stream.next_u64()) for _ in range(16)).hex()
    if got != vectors[1][3] + vectors[2][3]:
        ok = False
        print("FAIL stream reading across blocks")
    print("selftest ok" if ok else "selftest FAILED")
    return ok


# ---------------------------------------------------------------------------------------
# The pool file (onevoice-pool/v1)

NUMBER = re.compile(r"0|[1-9][0-9]*")  # decimal, no sign, no leading zero
HOUSEHOLD = re.compile(r"[0-9a-f]{32}")
CONTACT = re.compile(r"[0-9a-f]{64}")


class Pool:
    def __init__(self):
        self.panel = 0           # P
        self.reserves = 0        # R
        self.max_attempts = 0    # A
        self.categories = []     # [(name, [value index, ...])], in file order
        self.values = []         # [(category index, label, min, max)], all values in order
        self.members = []        # [[value index per category]], in pool order
        self.households = []     # [household hex or None], in pool order


def _number(text, what, lineno):
    if not NUMBER.fullmatch(text):
        raise PoolError(f"line {lineno}: {what} {text!r} is not a decimal number")
    value = int(text)
    if value >= U64:
        raise PoolError(f"line {lineno}: {what} {text} is too large")
    return value


def _check_field(field, lineno):
    if '"' in field:
        raise PoolError(f"line {lineno}: a field holds a quote")
    if any(ord(ch) < 0x20 or 0x7F <= ord(ch) <= 0x9F for ch in field):  # C0, DEL, C1
        raise PoolError(f"line {lineno}: a field holds a control character")


def _label(text, what, lineno):
    if not 1 <= len(text.encode("utf-8")) <= MAX_LABEL:
        raise PoolError(f"line {lineno}: {what} label must be 1-{MAX_LABEL} bytes")
    return text


def parse_pool(data):
    """Parse the bytes of a pool file strictly; raises PoolError on any deviation."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise PoolError(f"not UTF-8 ({e})") from None
    if not text.endswith("\n"):
        raise PoolError("the file does not end with a newline")
    lines = text[:-1].split("\n")
    rows = []
    for lineno, line in enumerate(lines, 1):
        fields = line.split(",")
        for field in fields:
            _check_field(field, lineno)
        rows.append(fields)

    pool = Pool()
    # 1. the magic line
    if lines[0] != POOL_MAGIC:
        raise PoolError(f"line 1: expected {POOL_MAGIC!r}")
    # 2. panel, reserves, max_attempts, algorithm
    if len(rows) < 2:
        raise PoolError("line 2: missing")
    row = rows[1]
    if len(row) != 8 or row[0] != "panel" or row[2] != "reserves" \
            or row[4] != "max_attempts" or row[6] != "algorithm":
        raise PoolError("line 2: expected panel,P,reserves,R,max_attempts,A,algorithm,NAME")
    pool.panel = _number(row[1], "P", 2)
    pool.reserves = _number(row[3], "R", 2)
    pool.max_attempts = _number(row[5], "max_attempts", 2)
    if row[7] != ALGORITHM:
        raise PoolError(f"line 2: unknown algorithm {row[7]!r}")
    if pool.panel < 1:
        raise PoolError("line 2: P must be at least 1")
    if not 1 <= pool.max_attempts <= MAX_ATTEMPTS:
        raise PoolError(f"line 2: max_attempts must be in 1..{MAX_ATTEMPTS}")

    # 3. quota lines, grouped by category
    i = 2
    category_of = {}  # category label -> index
    value_of = []     # per category: value label -> global value index
    while i < len(rows) and rows[i][0] == "quota":
        lineno, row = i + 1, rows[i]
        if len(row) != 5:
            raise PoolError(f"line {lineno}: expected quota,CATEGORY,VALUE,MIN,MAX")
        cat = _label(row[1], "category", lineno)
        val = _label(row[2], "value", lineno)
        lo = _number(row[3], "MIN", lineno)
        hi = _number(row[4], "MAX", lineno)
        if cat in category_of:
            c = category_of[cat]
            if c != len(pool.categories) - 1:
                raise PoolError(f"line {lineno}: category {cat!r} is not grouped")
        else:
            if len(pool.categories) == MAX_CATEGORIES:
                raise PoolError(f"line {lineno}: more than {MAX_CATEGORIES} categories")
            c = len(pool.categories)
            category_of[cat] = c
            pool.categories.append((cat, []))
            value_of.append({})
        if val in value_of[c]:
            raise PoolError(f"line {lineno}: value {val!r} twice in category {cat!r}")
        if len(pool.categories[c][1]) == MAX_VALUES:
            raise PoolError(f"line {lineno}: more than {MAX_VALUES} values in {cat!r}")
        value_of[c][val] = len(pool.values)
        pool.categories[c][1].append(len(pool.values))
        pool.values.append((c, val, lo, hi))
        i += 1
    if not pool.categories:
        raise PoolError(f"line {i + 1}: expected quota lines")

    # 4. the members header
    names = [name for name, _ in pool.categories]
    if i >= len(rows) or rows[i] != ["members", "pool_id"] + names + ["household", "contact"]:
        raise PoolError(f"line {i + 1}: expected members,pool_id,"
                        + ",".join(names) + ",household,contact")
    i += 1

    # 5. one line per member, IDs 1, 2, 3, ...
    ncat = len(pool.categories)
    for idx, row in enumerate(rows[i:]):
        lineno = i + idx + 1
        if len(row) != ncat + 3:
            raise PoolError(f"line {lineno}: expected ID,{ncat} values,HOUSEHOLD,CONTACT")
        if row[0] != str(idx + 1):
            raise PoolError(f"line {lineno}: expected member ID {idx + 1}, not {row[0]!r}")
        member = []
        for c in range(ncat):
            v = value_of[c].get(row[1 + c])
            if v is None:
                raise PoolError(f"line {lineno}: unknown value {row[1 + c]!r} "
                                f"of category {names[c]!r}")
            member.append(v)
        household, contact = row[ncat + 1], row[ncat + 2]
        if household and not HOUSEHOLD.fullmatch(household):
            raise PoolError(f"line {lineno}: household must be empty or 32 lowercase hex digits")
        if not CONTACT.fullmatch(contact):
            raise PoolError(f"line {lineno}: contact must be 64 lowercase hex digits")
        pool.members.append(member)
        pool.households.append(household or None)
    return pool


# ---------------------------------------------------------------------------------------
# Checks before drawing


def checks(pool):
    """Every failing check, as messages (empty when the draw may run)."""
    problems = []
    having = [0] * len(pool.values)
    for member in pool.members:
        for v in member:
            having[v] += 1
    for v, (c, label, lo, hi) in enumerate(pool.values):
        where = f"{pool.categories[c][0]}={label}"
        if lo > hi:
            problems.append(f"{where}: minimum {lo} above maximum {hi}")
        if lo > having[v]:
            problems.append(f"{where}: minimum {lo} above the {having[v]} members having it")
    for name, vals in pool.categories:
        mins = sum(pool.values[v][2] for v in vals)
        room = sum(min(pool.values[v][3], having[v]) for v in vals)
        if mins > pool.panel:
            problems.append(f"{name}: minimums add up to {mins}, above the panel {pool.panel}")
        if room < pool.panel:
            problems.append(f"{name}: only {room} seats can be filled, below the panel "
                            f"{pool.panel}")
    if pool.panel > len(pool.members):
        problems.append(f"panel {pool.panel} above the pool of {len(pool.members)}")
    return problems


# ---------------------------------------------------------------------------------------
# The draw


class Draw:
    """Per-pool tables shared by every attempt."""

    def __init__(self, pool):
        self.pool = pool
        self.by_value = [[] for _ in pool.values]  # members having each value, pool order
        for m, member in enumerate(pool.members):
            for v in member:
                self.by_value[v].append(m)
        groups = {}
        for m, h in enumerate(pool.households):
            if h is not None:
                groups.setdefault(h, []).append(m)
        self.household = [groups[h] if h is not None else [m]
                          for m, h in enumerate(pool.households)]

    def has_no_max0_value(self, m):
        """Whether none of member m's values has a maximum of 0 (else it is never a reserve)."""
        return all(self.pool.values[v][3] > 0 for v in self.pool.members[m])

    def attempt(self, stream):
        """The panel (member indices in selection order), or None if the attempt fails."""
        pool = self.pool
        values = pool.values
        in_pool = [True] * len(pool.members)
        rem = [len(ms) for ms in self.by_value]
        selected = [0] * len(values)
        count = len(pool.members)

        def leave(m):
            nonlocal count
            if in_pool[m]:
                in_pool[m] = False
                count -= 1
                for v in pool.members[m]:
                    rem[v] -= 1

        for v, (_, _, _, hi) in enumerate(values):
            if hi == 0:
                for m in self.by_value[v]:
                    leave(m)

        panel = []
        for _ in range(pool.panel):
            if count == 0:
                return None
            # The value with the largest need / rem, compared exactly; the first wins ties.
            # need is not clamped: once a value has more than its minimum it is negative.
            best, best_need = None, 0
            for v, (_, _, lo, hi) in enumerate(values):
                need = lo - selected[v]
                if need > rem[v]:
                    return None
                if rem[v] > 0 and hi > 0:
                    if best is None or need * rem[best] > best_need * rem[v]:
                        best, best_need = v, need
            k = stream.below(rem[best])
            m = [x for x in self.by_value[best] if in_pool[x]][k]
            panel.append(m)
            leave(m)
            for other in self.household[m]:
                leave(other)
            for v in pool.members[m]:
                selected[v] += 1
                if selected[v] == values[v][3]:
                    for x in self.by_value[v]:
                        leave(x)

        for v, (_, _, lo, hi) in enumerate(values):
            if not lo <= selected[v] <= hi:
                return None
        return panel

    def reserves(self, stream, panel):
        """R reserves from the same stream: members, in pool order, eligible: not selected,
        not in the household of a selected member or of an earlier reserve (a member without
        household is only in its own), no value whose maximum is 0. None eligible: None."""
        excluded = set()
        for m in panel:
            excluded.update(self.household[m])
        eligible = [m for m in range(len(self.pool.members))
                    if m not in excluded and self.has_no_max0_value(m)]
        chosen = []
        for _ in range(self.pool.reserves):
            if not eligible:
                return None
            m = eligible[stream.below(len(eligible))]
            chosen.append(m)
            gone = set(self.household[m])
            eligible = [x for x in eligible if x not in gone]
        return chosen

    def run(self, seed):
        """(attempt, panel, reserves) as member indices, or None if every attempt fails."""
        for a in range(self.pool.max_attempts):
            stream = attempt_stream(seed, a)
            panel = self.attempt(stream)
            if panel is not None:
                reserves = self.reserves(stream, panel)
                return None if reserves is None else (a, panel, reserves)
        return None


# ---------------------------------------------------------------------------------------
# Command line


def _die(message, status=2):
    print(f"sortition_ref: {message}", file=sys.stderr)
    sys.exit(status)


def _load(path):
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        _die(f"{path}: {e.strerror}")
    try:
        return parse_pool(data)
    except PoolError as e:
        _die(f"{path}: {e}")


def _checked(path):
    pool = _load(path)
    problems = checks(pool)
    if problems:
        for p in problems:
            print(f"sortition_ref: {path}: {p}", file=sys.stderr)
        sys.exit(3)
    return pool


def main(argv):
    if len(argv) == 4 and argv[1] == "draw":
        if not re.fullmatch(r"[0-9a-fA-F]{64}", argv[3]):
            _die("SEEDHEX must be 64 hex digits")
        seed = bytes.fromhex(argv[3])
        pool = _checked(argv[2])
        result = Draw(pool).run(seed)
        if result is None:
            print("failed")
            return 1
        attempt, panel, reserves = result
        print(f"attempt {attempt}")
        print(" ".join(["panel"] + [str(m + 1) for m in panel]))
        print(" ".join(["reserves"] + [str(m + 1) for m in reserves]))
        return 0
    if len(argv) == 3 and argv[1] == "check":
        _checked(argv[2])
        return 0
    if len(argv) == 3 and argv[1] == "sha256":
        try:
            with open(argv[2], "rb") as f:
                print(hashlib.sha256(f.read()).hexdigest())
        except OSError as e:
            _die(f"{argv[2]}: {e.strerror}")
        return 0
    if len(argv) == 2 and argv[1] == "selftest":
        return 0 if selftest() else 1
    _die("usage: sortition_ref.py draw POOLFILE SEEDHEX | check POOLFILE | "
         "sha256 POOLFILE | selftest")


if __name__ == "__main__":
    sys.exit(main(sys.argv))
