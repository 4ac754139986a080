// results.js: the result bytes of a statement round's two algorithms (docs/PROTOCOL.md §11.1
// bridging, §11.2 opinion groups), which the log serves as files named by the SHA-256 the
// tally entry holds (§11.3). Integers are u32 big-endian unless said u8, doubles binary64
// big-endian. A layout that does not fit is ParseError "malformed_result".

import { ParseError, equal, fromHex, sha256, utf8 } from './bytes.js';

const BRIDGING_TAG = 'onevoice/bridging-mf/v1';
const GROUPS_TAG = 'onevoice/groups/v1';
const STATUS = ['needs_more_ratings', 'helpful', 'not_helpful'];
const DIRECTION = { 1: 'agree', 2: 'disagree' };

class Reader {
  constructor(bytes) {
    this.b = bytes;
    this.v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.off = 0;
  }

  need(n) {
    if (this.off + n > this.b.length) throw new ParseError('malformed_result', 'truncated');
  }

  tag(s) {
    const t = utf8(`${s}\0`);
    this.need(t.length);
    if (!equal(this.b.subarray(0, t.length), t)) {
      throw new ParseError('malformed_result', `not ${s}`);
    }
    this.off += t.length;
  }

  u8() {
    this.need(1);
    return this.b[this.off++];
  }

  u32() {
    this.need(4);
    const x = this.v.getUint32(this.off, false);
    this.off += 4;
    return x;
  }

  f64() {
    this.need(8);
    const x = this.v.getFloat64(this.off, false);
    this.off += 8;
    return x;
  }

  end() {
    if (this.off !== this.b.length) throw new ParseError('malformed_result', 'trailing bytes');
  }
}

// §11.1: 72 + 25·M + 24·U bytes. Notes (statements) and raters in their canonical order.
export function parseBridging(bytes) {
  const r = new Reader(bytes);
  r.tag(BRIDGING_TAG);
  const raters = r.u32(), notes = r.u32();
  const out = {
    algorithm: BRIDGING_TAG, raters, notes,
    minRatingsPerRater: r.u32(), minRatersPerNote: r.u32(),
    ratingsInModel: r.u32(), ratersInModel: r.u32(), notesInModel: r.u32(), iterations: r.u32(),
    mu: r.f64(), loss: r.f64(), statements: [], raterScores: [],
  };
  // Bound the counts by the bytes before looping: a hostile file cannot make us spin.
  if (72 + 25 * notes + 24 * raters !== bytes.length) {
    throw new ParseError('malformed_result', 'length');
  }
  for (let n = 0; n < notes; n++) {
    const s = { intercept: r.f64(), factor: r.f64(), ratings: r.u32(), ratingsInModel: r.u32() };
    const st = r.u8();
    if (st > 2) throw new ParseError('malformed_result', `status ${st}`);
    s.status = STATUS[st];
    out.statements.push(s);
  }
  for (let u = 0; u < raters; u++) {
    out.raterScores.push({
      intercept: r.f64(), factor: r.f64(), ratings: r.u32(), ratingsInModel: r.u32(),
    });
  }
  r.end();
  return out;
}

// §11.2. Participants and statements by index in their canonical order.
export function parseGroups(bytes) {
  const r = new Reader(bytes);
  r.tag(GROUPS_TAG);
  const P = r.u32(), S = r.u32(), clustered = r.u32(), k = r.u32(), maxK = r.u32();
  if (k > 5 || maxK > 5 || maxK === 1 || 39 + 20 * P + 12 * S > bytes.length) {
    throw new ParseError('malformed_result', 'counts');
  }
  const out = { algorithm: GROUPS_TAG, participants: P, statements: S, clustered, k, maxK,
    candidates: [], sizes: [], members: [], consensus: [], representative: [] };
  for (let kk = 2; kk <= maxK; kk++) {
    out.candidates.push({ k: kk, eligible: r.u8() === 1, silhouette: r.f64() });
  }
  for (let g = 0; g < k; g++) out.sizes.push(r.u32());
  for (let p = 0; p < P; p++) {
    const g = r.u32();
    out.members.push({ group: g === 0xffffffff ? -1 : g, x: r.f64(), y: r.f64() });
  }
  for (let s = 0; s < S; s++) out.consensus.push({ index: r.u32(), consensus: r.f64() });
  for (let g = 0; g < k; g++) {
    const n = r.u32();
    if (n > S) throw new ParseError('malformed_result', 'representatives');
    const reps = [];
    for (let i = 0; i < n; i++) {
      const index = r.u32();
      const d = r.u8();
      if (!DIRECTION[d]) throw new ParseError('malformed_result', `direction ${d}`);
      reps.push({ index, direction: DIRECTION[d], successes: r.u32(), votes: r.u32(),
        p: r.f64(), pTest: r.f64(), r: r.f64(), rTest: r.f64(), metric: r.f64() });
    }
    out.representative.push(reps);
  }
  r.end();
  return out;
}

// True when bytes hash to expected (32 bytes, or its hex as a tally shows it).
export async function checkFile(bytes, expectedSha256) {
  const want = typeof expectedSha256 === 'string' ? fromHex(expectedSha256) : expectedSha256;
  return equal(await sha256(bytes), want);
}
