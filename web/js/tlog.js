// tlog.js: reads a C2SP tiled log (docs/PROTOCOL.md §4.2, c2sp.org/tlog-tiles) the way any
// client does, from the public checkpoint, hash tiles and entry bundles only, and checks all
// it uses against a verified checkpoint root, so the page trusts no server's word:
//   - a partial tile (one per level at a tree size) is checked by recomputing the root;
//   - a full tile is checked against its hash in the tile above it (itself checked);
//   - a bundle's entries must hash to its level-0 tile.
// Proofs are computed here from those hashes (no /proof endpoint: the page fetches only what
// every client fetches) and verified before they are returned.
// Tiles are 256 hashes (height 8); paths: tile/<L>/<N>[.p/<W>], tile/entries/<N>[.p/<W>],
// N in groups of three digits, each but the last prefixed "x" (1234067 → x001/x234/067).
// A tile or bundle that does not match is a ParseError "bad_tile"; an HTTP failure is
// "fetch_failed" (with .status), a size no verified checkpoint vouches for "unverified".

import { ParseError, b64encode, equal, hex, sha256, u16, utf8decode } from './bytes.js';
import { leafHash, nodeHash, verifyInclusion, checkConsistency } from './merkle.js';
import { verifyCheckpoint } from './note.js';

export const TILE_WIDTH = 256;
const HASH = 32;
const PARALLEL = 4; // bundles in flight at once

// The C2SP path of a tile (level ≥ 0) or an entry bundle (level -1 or "entries").
export function tilePath(level, index, width = TILE_WIDTH) {
  let n = String(index % 1000).padStart(3, '0');
  for (let rest = Math.floor(index / 1000); rest > 0; rest = Math.floor(rest / 1000)) {
    n = `x${String(rest % 1000).padStart(3, '0')}/${n}`;
  }
  const l = level === -1 || level === 'entries' ? 'entries' : String(level);
  return `tile/${l}/${n}${width < TILE_WIDTH ? `.p/${width}` : ''}`;
}

// At tree size `size`, level L has `full` full tiles and a partial one of `width` hashes
// (0: none).
export function tileShape(size, level) {
  const below = Math.floor(size / TILE_WIDTH ** level);
  return { full: Math.floor(below / TILE_WIDTH), width: below % TILE_WIDTH };
}

// Root of a perfect subtree over hashes[from, from + count), count a power of two: level by
// level, each level's hashes at once (WebCrypto digests run in parallel).
async function perfectRoot(hashes, from, count) {
  let level = hashes.slice(from, from + count);
  while (level.length > 1) {
    const pairs = [];
    for (let i = 0; i < level.length; i += 2) pairs.push(nodeHash(level[i], level[i + 1]));
    level = await Promise.all(pairs);
  }
  return level[0];
}

function splitTile(bytes) {
  const out = [];
  for (let i = 0; i < bytes.length; i += HASH) out.push(bytes.subarray(i, i + HASH));
  return out;
}

// Entries of a bundle: repeated u16be length ‖ bytes, nothing else.
export function parseBundle(bytes) {
  const out = [];
  let off = 0;
  while (off < bytes.length) {
    if (off + 2 > bytes.length) throw new ParseError('bad_tile', 'truncated bundle');
    const n = u16(bytes, off);
    if (off + 2 + n > bytes.length) throw new ParseError('bad_tile', 'truncated bundle entry');
    out.push(bytes.slice(off + 2, off + 2 + n));
    off += 2 + n;
  }
  return out;
}

function checkIndex(index, size) {
  if (!(Number.isSafeInteger(index) && index >= 0 && index < size)) {
    throw new RangeError(`index ${index} outside size ${size}`);
  }
}

const largestPow2Below = (n) => {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
};

export class Tlog {
  constructor(baseUrl, fetchFn = (...a) => fetch(...a)) {
    this.base = String(baseUrl).replace(/\/+$/, '');
    this.fetchFn = fetchFn;
    this.raw = new Map(); // path → Promise<Uint8Array>: hash tiles (immutable, 8 KiB each)
    this.roots = new Map(); // size → verified root
    this.checked = new Map(); // "<root hex>:<level>/<n>" → Promise<hashes[]>
  }

  async _get(path, opts) {
    let resp;
    try {
      resp = await this.fetchFn(`${this.base}/${path}`, opts);
    } catch (e) {
      throw new ParseError('fetch_failed', `${path}: ${e.message}`);
    }
    if (!resp.ok) {
      const err = new ParseError('fetch_failed', `${path}: HTTP ${resp.status}`);
      err.status = resp.status;
      throw err;
    }
    return new Uint8Array(await resp.arrayBuffer());
  }

  // A tile or bundle. A partial one the log no longer serves (it MAY drop partials once the
  // full tile exists) is taken from the full one, truncated.
  _fetchTile(level, index, width) {
    return this._get(tilePath(level, index, width)).catch(async (e) => {
      if (width >= TILE_WIDTH || e.status !== 404) throw e;
      const full = await this._get(tilePath(level, index, TILE_WIDTH));
      return level === -1 ? full : full.subarray(0, width * HASH);
    });
  }

  // Hash tiles are fetched once (proofs come back to the same ones); bundles are not kept, as
  // a whole log's would be its whole size in memory.
  _immutable(level, index, width) {
    if (level === -1) return this._fetchTile(level, index, width);
    const path = tilePath(level, index, width);
    if (!this.raw.has(path)) {
      const p = this._fetchTile(level, index, width);
      this.raw.set(path, p);
      p.catch(() => this.raw.delete(path)); // a failed fetch may be retried
    }
    return this.raw.get(path);
  }

  async checkpointText() {
    return utf8decode(await this._get('checkpoint', { cache: 'no-store' }), 'malformed_checkpoint');
  }

  // GET /witnesses: {origin, quorum, witnesses: [vkey...]}.
  async witnesses() {
    let w;
    try {
      w = JSON.parse(utf8decode(await this._get('witnesses', { cache: 'no-store' })));
    } catch (e) {
      if (e instanceof ParseError && e.reason === 'fetch_failed') throw e;
      throw new ParseError('malformed_witnesses', e.message);
    }
    if (!w || typeof w.origin !== 'string' || !Number.isSafeInteger(w.quorum) || w.quorum < 0 ||
        !Array.isArray(w.witnesses) || !w.witnesses.every((v) => typeof v === 'string')) {
      throw new ParseError('malformed_witnesses', 'not {origin, quorum, witnesses}');
    }
    return w;
  }

  async vkey() {
    return utf8decode(await this._get('vkey')).trim();
  }

  // A hash tile as bytes (width × 32). Unchecked: see the verified methods below.
  async tile(level, index, width = TILE_WIDTH) {
    const b = await this._immutable(level, index, width);
    if (b.length !== width * HASH) {
      throw new ParseError('bad_tile', `${tilePath(level, index, width)}: ${b.length} bytes`);
    }
    return b;
  }

  // An entry bundle's entries (unchecked).
  async bundle(index, width = TILE_WIDTH) {
    const entries = parseBundle(await this._immutable(-1, index, width));
    if (entries.length < width || (width === TILE_WIDTH && entries.length !== width)) {
      throw new ParseError('bad_tile', `${tilePath(-1, index, width)}: ${entries.length} entries`);
    }
    return entries.slice(0, width);
  }

  // Vouches for a tree size with a root the caller verified (a checkpoint's).
  trust(size, root) {
    const known = this.roots.get(size);
    if (known && !equal(known, root)) {
      throw new ParseError('inconsistent_checkpoint', `two roots for size ${size}`);
    }
    this.roots.set(size, root);
  }

  // Fetches the latest checkpoint, verifies it (note.js) and, when it holds, trusts its root.
  // Returns verifyCheckpoint's answer; "inconsistent_checkpoint" when this Tlog trusts another
  // root for its size already (the log signed two trees of one size: a fork).
  async latest(keys) {
    const cp = await verifyCheckpoint(await this.checkpointText(), keys);
    if (!cp.ok) return cp;
    try {
      this.trust(cp.size, cp.root);
    } catch (e) {
      return Object.assign(cp, { ok: false, reason: e.reason });
    }
    return cp;
  }

  _rootFor(size, root) {
    if (root) {
      this.trust(size, root);
      return root;
    }
    const r = this.roots.get(size);
    if (!r) throw new ParseError('unverified', `no verified checkpoint of size ${size}`);
    return r;
  }

  // The hashes of tile (level, n) of the tree of `size`, checked against its root.
  _verifiedTile(level, n, size) {
    const root = this._rootFor(size);
    const key = `${hex(root)}:${level}/${n}`;
    if (!this.checked.has(key)) {
      const p = this._checkTile(level, n, size, root);
      this.checked.set(key, p);
      p.catch(() => this.checked.delete(key));
    }
    return this.checked.get(key);
  }

  async _checkTile(level, n, size, root) {
    const shape = tileShape(size, level);
    if (n < shape.full) {
      const hashes = splitTile(await this.tile(level, n, TILE_WIDTH));
      const parent = await this._verifiedTile(level + 1, Math.floor(n / TILE_WIDTH), size);
      if (!equal(await perfectRoot(hashes, 0, TILE_WIDTH), parent[n % TILE_WIDTH])) {
        throw new ParseError('bad_tile', `${tilePath(level, n)} does not hash to its parent`);
      }
      return hashes;
    }
    if (n !== shape.full || shape.width === 0) {
      throw new RangeError(`no tile ${level}/${n} at size ${size}`);
    }
    // A partial tile: the partial tiles of every level give the root.
    const got = await this._rootFromPartials(size);
    if (!equal(got.root, root)) {
      throw new ParseError('bad_tile', `the partial tiles of size ${size} do not give its root`);
    }
    return got.tiles[level];
  }

  // The root of `size` from its partial tiles alone (each level's stored hashes of the right
  // edge): MTH folds the perfect subtrees of the size's binary decomposition right to left.
  async _rootFromPartials(size) {
    if (size === 0) return { root: await sha256(new Uint8Array(0)), tiles: [] };
    const tiles = [];
    const parts = []; // perfect subtree roots, left to right
    let levels = 0;
    while (Math.floor(size / TILE_WIDTH ** levels) > 0) levels++;
    for (let l = levels - 1; l >= 0; l--) {
      const { full, width } = tileShape(size, l);
      if (width === 0) continue;
      const hashes = splitTile(await this.tile(l, full, width));
      tiles[l] = hashes;
      let off = 0;
      for (let bit = 128; bit >= 1; bit >>= 1) {
        if (width & bit) {
          parts.push(await perfectRoot(hashes, off, bit));
          off += bit;
        }
      }
    }
    let root = parts[parts.length - 1];
    for (let i = parts.length - 2; i >= 0; i--) root = await nodeHash(parts[i], root);
    return { root, tiles };
  }

  // The stored hash at binary height h, index i (covering leaves [i·2^h, (i+1)·2^h)).
  async _stored(h, i, size) {
    const level = Math.floor(h / 8), k = 2 ** (h % 8);
    const first = i * k;
    const hashes = await this._verifiedTile(level, Math.floor(first / TILE_WIDTH), size);
    return perfectRoot(hashes, first % TILE_WIDTH, k);
  }

  // MTH of leaves [a, b) of the tree of `size` (a aligned as in RFC 9162's recursion).
  async _mth(a, b, size) {
    const n = b - a;
    if (n === 0) return sha256(new Uint8Array(0));
    if ((n & (n - 1)) === 0 && a % n === 0) return this._stored(Math.log2(n), a / n, size);
    const k = largestPow2Below(n);
    return nodeHash(await this._mth(a, a + k, size), await this._mth(a + k, b, size));
  }

  async _path(m, a, b, size) {
    if (b - a <= 1) return [];
    const k = largestPow2Below(b - a);
    if (m < a + k) {
      return [...(await this._path(m, a, a + k, size)), await this._mth(a + k, b, size)];
    }
    return [...(await this._path(m, a + k, b, size)), await this._mth(a, a + k, size)];
  }

  async _subproof(m, a, b, whole, size) {
    if (m === b) return whole ? [] : [await this._mth(a, b, size)];
    const k = largestPow2Below(b - a);
    if (m <= a + k) {
      const left = await this._subproof(m, a, a + k, whole, size);
      return [...left, await this._mth(a + k, b, size)];
    }
    const right = await this._subproof(m, a + k, b, false, size);
    return [...right, await this._mth(a, a + k, size)];
  }

  // The leaf hash at index in the tree of treeSize, checked.
  async leafHashAt(index, treeSize, root) {
    this._rootFor(treeSize, root);
    checkIndex(index, treeSize);
    return this._stored(0, index, treeSize);
  }

  // RFC 9162 PATH(index, D[0:treeSize]) from the tiles, verified against the root.
  async inclusionProof(index, treeSize, root) {
    root = this._rootFor(treeSize, root);
    checkIndex(index, treeSize);
    const proof = await this._path(index, 0, treeSize, treeSize);
    const leaf = await this._stored(0, index, treeSize);
    if (!(await verifyInclusion(index, treeSize, leaf, proof, root))) {
      throw new ParseError('bad_tile', 'inclusion proof from tiles');
    }
    return proof;
  }

  // RFC 9162 PROOF(oldSize, D[0:newSize]) from the tiles of newSize, checked against its root
  // (the caller checks it against the old root it holds: that is the consistency question).
  async consistencyProof(oldSize, newSize, newRoot) {
    newRoot = this._rootFor(newSize, newRoot);
    if (!(Number.isSafeInteger(oldSize) && oldSize > 0 && oldSize <= newSize)) {
      throw new RangeError(`old size ${oldSize}, new size ${newSize}`);
    }
    const proof = await this._subproof(oldSize, 0, newSize, true, newSize);
    const oldRoot = await this._mth(0, oldSize, newSize);
    if ((await checkConsistency(oldSize, newSize, oldRoot, newRoot, proof)) !== 'ok') {
      throw new ParseError('bad_tile', 'consistency proof from tiles');
    }
    return proof;
  }

  // The root of the first treeSize leaves. With a verified size S ≥ treeSize, from S's checked
  // tiles (e.g. a tally's seed, the root at its size); otherwise from treeSize's own partial
  // tiles, unchecked (what a caller compares with a checkpoint).
  async rootAt(treeSize, withinSize) {
    let s = withinSize;
    if (s === undefined) {
      for (const k of this.roots.keys()) if (k >= treeSize && (s === undefined || k < s)) s = k;
    }
    if (s === undefined) return (await this._rootFromPartials(treeSize)).root;
    this._rootFor(s);
    return this._mth(0, treeSize, s);
  }

  // Entries [start, end) of the tree of treeSize, each checked against the level-0 tile and so
  // against the verified root (the given one, or the one trusted for treeSize). Returns an
  // array of Uint8Array. Bundles are fetched a few at a time, and their leaves hashed
  // together (WebCrypto works off the main thread).
  async entries(start, end, treeSize, root) {
    this._rootFor(treeSize, root);
    if (!(Number.isSafeInteger(start) && Number.isSafeInteger(end) && start >= 0 && start <= end &&
          end <= treeSize)) {
      throw new RangeError(`entries [${start}, ${end}) of ${treeSize}`);
    }
    const { full, width } = tileShape(treeSize, 0);
    const one = async (n) => {
      const w = n < full ? TILE_WIDTH : width;
      const [bundle, hashes] = await Promise.all([
        this.bundle(n, w), this._verifiedTile(0, n, treeSize)]);
      const lo = Math.max(start - n * TILE_WIDTH, 0), hi = Math.min(end - n * TILE_WIDTH, w);
      const part = bundle.slice(lo, hi);
      const leaves = await Promise.all(part.map(leafHash));
      leaves.forEach((h, j) => {
        if (!equal(h, hashes[lo + j])) {
          const i = n * TILE_WIDTH + lo + j;
          throw new ParseError('bad_tile', `entry ${i} does not hash to ${tilePath(0, n, w)}`);
        }
      });
      return part;
    };
    const first = Math.floor(start / TILE_WIDTH), last = Math.ceil(end / TILE_WIDTH);
    const out = [];
    for (let n = first; n < last; n += PARALLEL) {
      const batch = [];
      for (let m = n; m < Math.min(n + PARALLEL, last); m++) batch.push(one(m));
      for (const part of await Promise.all(batch)) out.push(...part);
    }
    return out;
  }

  // A hint only: the index the log gives for a leaf hash (GET /proof/inclusion?hash=), for a
  // receipt that has none yet. Whatever it says is then checked against the tiles. null when
  // the log does not know the hash.
  async indexHint(hash, size) {
    // §4.2: base64url, unpadded
    const h = b64encode(hash).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
    try {
      const path = `proof/inclusion?hash=${encodeURIComponent(h)}&size=${size}`;
      const j = JSON.parse(utf8decode(await this._get(path)));
      return Number.isSafeInteger(j.index) ? j.index : null;
    } catch (e) {
      if (e.status === 404 || e.status === 400) return null;
      throw e;
    }
  }
}
