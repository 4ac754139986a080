// receipt.js: checks a verifier's receipt (docs/PROTOCOL.md §8) in the browser, against the
// log itself rather than the verifier's word:
//   1. the JSON has the receipt's shape                         malformed_receipt
//   2. the entry bytes hash to `hash`, and are a onevoice entry  entry_mismatch, malformed_entry
//   3. its checkpoint (proven receipts) is this log's, signed by the log key, with the
//      witnesses' quorum                                        wrong_origin, bad_log_signature,
//                                                               bad_cosignature, no_quorum
//   4. its proof puts the leaf at `index` under that root       not_included
//   5. the log's latest checkpoint verifies too, and is consistent with the receipt's and
//      with every checkpoint this browser saw before (`seen`)   inconsistent_checkpoint
//   6. the entry at `index` in the latest tree, read from its bundle, is the receipt's
//                                                               not_in_log
// A receipt without checkpoint and proof (pending, logged) is checked at step 6 directly; a
// pending one has no index yet, so the log's index for the hash is taken as a hint and checked
// the same way. Tiles that do not match a verified root: bad_tile.
// Returns {ok, reason, stage, status, index, entry, hash, checkpoint, latest[, notYet,
// history]}; never throws for a bad receipt or log (a network failure is "fetch_failed").
// stage: where it stopped ("receipt", "latest", "history", "log"); checkpoint and latest:
// verifyCheckpoint's answers for the receipt's and the log's checkpoints; notYet: a receipt
// without proof whose entry no published checkpoint covers yet.

import { ParseError, b64decode, equal, hex } from './bytes.js';
import { decodeEntry } from './entry.js';
import { leafHash, verifyInclusion, checkConsistency } from './merkle.js';
import { verifyCheckpoint } from './note.js';
import { TILE_WIDTH, tileShape } from './tlog.js';

const KEYS = new Set(['status', 'hash', 'entry', 'receipt', 'index', 'checkpoint', 'proof']);
const MAX_RECEIPT = 256 * 1024;

function bad(msg) {
  throw new ParseError('malformed_receipt', msg);
}

// Parses a receipt's JSON by the table of core/protocol/receipt.h.
export function parseReceipt(text) {
  if (typeof text !== 'string' || text.length > MAX_RECEIPT) bad('not text');
  let o;
  try {
    o = JSON.parse(text);
  } catch {
    bad('not JSON');
  }
  if (o === null || typeof o !== 'object' || Array.isArray(o)) bad('not an object');
  for (const k of Object.keys(o)) if (!KEYS.has(k)) bad(`unknown key ${k}`);
  if (!['pending', 'logged', 'proven'].includes(o.status)) bad('status');
  const b64 = (v, what) => {
    if (typeof v !== 'string') bad(what);
    try {
      return b64decode(v);
    } catch {
      return bad(what);
    }
  };
  const hash = b64(o.hash, 'hash');
  if (hash.length !== 32) bad('hash length');
  const entry = b64(o.entry, 'entry');
  if (entry.length === 0 || entry.length > 65535) bad('entry length');
  if (o.receipt !== `/receipts/${hex(hash)}`) bad('receipt path');
  const r = { status: o.status, hash, entry, index: null, checkpoint: null, proof: null };
  if (o.status === 'pending') {
    if (o.index !== undefined) bad('index in a pending receipt');
  } else {
    if (!Number.isSafeInteger(o.index) || o.index < 0) bad('index');
    r.index = o.index;
  }
  if (o.status === 'proven') {
    if (typeof o.checkpoint !== 'string' || !Array.isArray(o.proof) || o.proof.length > 64) {
      bad('checkpoint or proof');
    }
    r.checkpoint = o.checkpoint;
    r.proof = o.proof.map((p) => {
      const h = b64(p, 'proof');
      if (h.length !== 32) bad('proof hash length');
      return h;
    });
  } else if (o.checkpoint !== undefined || o.proof !== undefined) {
    bad('checkpoint or proof before proven');
  }
  return r;
}

const summary = (cp) => cp && {
  ok: cp.ok, reason: cp.reason, origin: cp.origin, size: cp.size, root: cp.root,
  rootB64: cp.rootB64, logSignature: cp.logSignature, cosignatures: cp.cosignatures,
  quorum: cp.quorum, note: cp.note,
};

export async function verifyReceipt(receiptText, opts = {}) {
  const { tlog, logVkey, witnesses = [], quorum = 0, seen = null } = opts;
  const out = { ok: false, reason: null, stage: 'receipt', status: null, index: null, entry: null,
    hash: null, checkpoint: null, latest: null };
  const fail = (reason, stage = out.stage) => Object.assign(out, { ok: false, reason, stage });
  const keys = { logVkey, witnesses, quorum };
  try {
    // 1, 2: the receipt itself.
    let r;
    try {
      r = parseReceipt(receiptText);
    } catch (e) {
      return fail(e.reason || 'malformed_receipt');
    }
    Object.assign(out, { status: r.status, index: r.index, hash: r.hash });
    if (!equal(await leafHash(r.entry), r.hash)) return fail('entry_mismatch');
    out.entry = decodeEntry(r.entry);

    // 3, 4: its checkpoint and proof.
    let rc = null;
    if (r.status === 'proven') {
      rc = await verifyCheckpoint(r.checkpoint, keys);
      out.checkpoint = summary(rc);
      if (!rc.ok) return fail(rc.reason);
      if (!(r.index < rc.size) ||
          !(await verifyInclusion(r.index, rc.size, r.hash, r.proof, rc.root))) {
        return fail('not_included');
      }
    }

    // 5: the log's latest checkpoint, and the history.
    out.stage = 'latest';
    const lc = await verifyCheckpoint(await tlog.checkpointText(), keys);
    out.latest = summary(lc);
    if (!lc.ok) return fail(lc.reason);
    try {
      tlog.trust(lc.size, lc.root);
    } catch (e) {
      return fail(e.reason || 'inconsistent_checkpoint');
    }
    if (rc) {
      if (rc.size > lc.size) return fail('inconsistent_checkpoint'); // the log shrank
      if (rc.size === lc.size) {
        if (!equal(rc.root, lc.root)) return fail('inconsistent_checkpoint');
      } else {
        const proof = await tlog.consistencyProof(rc.size, lc.size, lc.root);
        if ((await checkConsistency(rc.size, lc.size, rc.root, lc.root, proof)) !== 'ok') {
          return fail('inconsistent_checkpoint');
        }
      }
    }
    if (seen) {
      out.stage = 'history';
      for (const [cp, latest] of [[lc, true], ...(rc ? [[rc, false]] : [])]) {
        const h = await seen.record(cp, tlog, { latest });
        if (!h.ok) {
          out.history = h;
          return fail(h.reason);
        }
      }
    }

    // 6: the entry at its index in the latest tree, from the bundle checked against the tiles.
    out.stage = 'log';
    // A receipt without proof may be ahead of the published checkpoint (the log has not had
    // its witnesses' quorum yet): notYet says so, as not_in_log alone would mislead.
    let index = r.index;
    if (index === null) {
      index = await tlog.indexHint(r.hash, lc.size);
      if (index === null) return Object.assign(fail('not_in_log'), { notYet: true });
      out.index = index;
    }
    if (!(index < lc.size)) return Object.assign(fail('not_in_log'), { notYet: !rc });
    const [got] = await tlog.entries(index, index + 1, lc.size, lc.root);
    if (!equal(got, r.entry)) return fail('not_in_log');
    const n = Math.floor(index / TILE_WIDTH), shape = tileShape(lc.size, 0);
    out.bundle = { index: n, width: n < shape.full ? TILE_WIDTH : shape.width };
    out.ok = true;
    out.reason = null;
    return out;
  } catch (e) {
    // fetch failures are ParseErrors (tlog.js); anything else is a bug, said as "error"
    if (e instanceof ParseError) return fail(e.reason);
    out.detail = e && e.message;
    return fail('error');
  }
}
