// history.js: the checkpoints this browser has seen, per log origin, so that a log showing
// one reader a history and later another (a fork, a rollback) is caught: each new verified
// checkpoint must be consistent with the largest one seen before, proven from the tiles.
// Stored in a localStorage-like object (getItem/setItem) under "onevoice.checkpoints.<origin>"
// as JSON [{size, root (base64), seen (POSIX seconds, first seen)}], sizes ascending.

import { b64decode, b64encode, equal } from './bytes.js';
import { checkConsistency } from './merkle.js';

const MAX_KEPT = 200; // the oldest are dropped past this: the largest is what proofs need

// For tests and browsers without storage.
export class MemoryStorage {
  constructor() {
    this.m = new Map();
  }

  getItem(k) {
    return this.m.has(k) ? this.m.get(k) : null;
  }

  setItem(k, v) {
    this.m.set(k, String(v));
  }

  removeItem(k) {
    this.m.delete(k);
  }
}

// localStorage, where the browser gives it (a sandboxed page's access throws).
function defaultStorage() {
  try {
    if (globalThis.localStorage) return globalThis.localStorage;
  } catch {
    // fall through
  }
  return new MemoryStorage();
}

export class CheckpointHistory {
  constructor(storage = defaultStorage(), origin = '') {
    this.storage = storage;
    this.origin = origin;
    this.key = `onevoice.checkpoints.${origin}`;
  }

  // [{size, root (Uint8Array), rootB64, seen}], sizes ascending.
  list() {
    let rows = [];
    try {
      rows = JSON.parse(this.storage.getItem(this.key) ?? '[]');
    } catch {
      rows = []; // damaged storage: start again rather than fail the page
    }
    if (!Array.isArray(rows)) rows = [];
    return rows
      .filter((r) => r && Number.isSafeInteger(r.size) && typeof r.root === 'string')
      .map((r) => ({ size: r.size, rootB64: r.root, root: b64decode(r.root), seen: r.seen }))
      .sort((a, b) => a.size - b.size);
  }

  // Forgets this origin's history (the page offers it for a log begun again on purpose).
  forget() {
    try {
      this.storage.removeItem?.(this.key);
      if (this.storage.getItem(this.key) !== null) this.storage.setItem(this.key, '[]');
    } catch {
      // nothing to forget
    }
  }

  _save(rows) {
    const kept = rows.slice(-MAX_KEPT)
      .map((r) => ({ size: r.size, root: r.rootB64, seen: r.seen }));
    try {
      this.storage.setItem(this.key, JSON.stringify(kept));
    } catch {
      // quota or privacy mode: the check still ran, only the memory is lost
    }
  }

  // Records a verified checkpoint cp ({origin, size, root}) after proving it consistent with
  // the largest one seen before (or, if cp is older than that one, that one with cp), using
  // tlog's tiles. opts.latest: cp is the log's latest checkpoint, which may never be smaller
  // than one seen (a rollback). Returns {ok: true, reason: null, against: the row compared or
  // null} or {ok: false, reason: "inconsistent_checkpoint", earlier, current} (nothing
  // recorded then); throws what tlog throws (fetch_failed, bad_tile against cp's own root).
  async record(cp, tlog, { latest = false, now = Math.floor(Date.now() / 1000) } = {}) {
    if (cp.origin && this.origin && cp.origin !== this.origin) {
      throw new Error(`a checkpoint of ${cp.origin} in the history of ${this.origin}`);
    }
    const rows = this.list();
    const current = { size: cp.size, root: cp.root, rootB64: b64encode(cp.root), seen: now };
    const fail = (earlier) => ({ ok: false, reason: 'inconsistent_checkpoint', earlier, current });
    const same = rows.find((r) => r.size === cp.size);
    if (same) {
      return equal(same.root, cp.root) ? { ok: true, reason: null, against: same } : fail(same);
    }
    const smaller = rows.filter((r) => r.size < cp.size);
    const larger = rows.filter((r) => r.size > cp.size);
    const below = smaller.length ? smaller[smaller.length - 1] : null;
    const above = larger.length ? larger[larger.length - 1] : null;
    if (above && latest) return fail(above); // the log shows less than it showed before
    if (below && below.size > 0) {
      const proof = await tlog.consistencyProof(below.size, cp.size, cp.root);
      const r = await checkConsistency(below.size, cp.size, below.root, cp.root, proof);
      if (r !== 'ok') return fail(below);
    }
    if (above && cp.size > 0) {
      // The tree seen at above.size must still be served and extend cp: tiles that no longer
      // give its root mean the log no longer stands by it.
      let proof;
      try {
        proof = await tlog.consistencyProof(cp.size, above.size, above.root);
      } catch (e) {
        if (e.reason === 'bad_tile' || e.reason === 'inconsistent_checkpoint') return fail(above);
        throw e;
      }
      const r = await checkConsistency(cp.size, above.size, cp.root, above.root, proof);
      if (r !== 'ok') return fail(above);
    }
    this._save([...rows, current].sort((a, b) => a.size - b.size));
    return { ok: true, reason: null, against: below ?? above };
  }
}
