// cbor.js: a decoder for the deterministic CBOR profile of the log's entries
// (docs/PROTOCOL.md §1, §3; RFC 8949 §4.2.1; core/primitives/cbor.c is the C side).
//
// Accepted (initial byte → meaning), everything else refused:
//   0x00..0x1b  unsigned int, shortest head only        → Number (throws past 2^53 − 1)
//   0x20..0x3b  negative int −1 − arg, shortest head     → Number (same bound)
//   0x40..0x5b  byte string                              → Uint8Array (a copy)
//   0x60..0x7b  text string, strict UTF-8                → string
//   0x80..0x9b  array                                    → Array
//   0xa0..0xbb  map with text keys in strictly increasing
//               bytewise order of their encoding         → object with a null prototype
//   0xf4 0xf5 0xf6  false, true, null
// Refused: indefinite lengths, tags, floats, simple values, non-shortest heads, keys out of
// order or twice, more than 16 nested containers, bytes after the item.
// Every refusal is a ParseError with reason "malformed_entry" (what a bad entry is shown as).

import { ParseError, utf8decode } from './bytes.js';

const REASON = 'malformed_entry';
const MAX_DEPTH = 16; // OV_MAX_CBOR_DEPTH

function fail(msg) {
  throw new ParseError(REASON, msg);
}

// Returns [major type, argument (BigInt for 8-byte heads, else Number), next offset].
function head(b, off) {
  if (off >= b.length) fail('truncated');
  const ib = b[off];
  const mt = ib >> 5, ai = ib & 31;
  if (mt === 7) {
    if (ai >= 20 && ai <= 22) return [7, ai, off + 1];
    fail(`simple value or float 0x${ib.toString(16)}`);
  }
  if (mt === 6) fail('tag');
  if (ai < 24) return [mt, ai, off + 1];
  if (ai > 27) fail(ai === 31 ? 'indefinite length' : 'reserved head');
  const n = 1 << (ai - 24);
  if (off + 1 + n > b.length) fail('truncated head');
  let v;
  if (n === 8) {
    v = 0n;
    for (let i = 0; i < 8; i++) v = (v << 8n) | BigInt(b[off + 1 + i]);
    if (v <= 0xffffffffn) fail('non-shortest head');
  } else {
    v = 0;
    for (let i = 0; i < n; i++) v = v * 256 + b[off + 1 + i];
    const min = n === 1 ? 24 : n === 2 ? 0x100 : 0x10000;
    if (v < min) fail('non-shortest head');
  }
  return [mt, v, off + 1 + n];
}

function smallLen(v, off, b) {
  // A length must fit what is left: a hostile head cannot make us allocate.
  if (typeof v === 'bigint' || v > b.length - off) fail('length past the end');
  return v;
}

function compareBytes(a, b) {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

function item(b, off, depth) {
  const [mt, arg, p] = head(b, off);
  switch (mt) {
    case 0:
    case 1: {
      const big = typeof arg === 'bigint' ? arg : BigInt(arg);
      const v = mt === 0 ? big : -1n - big;
      if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) {
        fail('integer beyond 2^53');
      }
      return [Number(v), p];
    }
    case 2: {
      const n = smallLen(arg, p, b);
      return [b.slice(p, p + n), p + n];
    }
    case 3: {
      const n = smallLen(arg, p, b);
      return [utf8decode(b.subarray(p, p + n), REASON), p + n];
    }
    case 4: {
      if (depth >= MAX_DEPTH) fail('nested too deep');
      const n = smallLen(arg, p, b); // each item takes at least one byte
      const out = [];
      let q = p;
      for (let i = 0; i < n; i++) {
        const [v, r] = item(b, q, depth + 1);
        out.push(v);
        q = r;
      }
      return [out, q];
    }
    case 5: {
      if (depth >= MAX_DEPTH) fail('nested too deep');
      const n = smallLen(arg, p, b);
      const out = Object.create(null);
      let q = p, prev = null;
      for (let i = 0; i < n; i++) {
        if (q >= b.length || b[q] >> 5 !== 3) fail('map key is not text');
        const kstart = q;
        const [k, r] = item(b, q, depth + 1);
        const kenc = b.subarray(kstart, r);
        // Strictly increasing encodings: sorted, and so no key twice.
        if (prev !== null) {
          const c = compareBytes(prev, kenc);
          if (c === 0) fail(`duplicate key ${JSON.stringify(k)}`);
          if (c > 0) fail(`key ${JSON.stringify(k)} out of order`);
        }
        prev = kenc;
        const [v, s] = item(b, r, depth + 1);
        out[k] = v;
        q = s;
      }
      return [out, q];
    }
    case 7:
      return [arg === 20 ? false : arg === 21 ? true : null, p];
    default:
      return fail('unknown major type');
  }
}

// Decodes exactly one item filling all of bytes.
export function decodeCbor(bytes) {
  if (!(bytes instanceof Uint8Array)) fail('not bytes');
  const [v, end] = item(bytes, 0, 0);
  if (end !== bytes.length) fail('trailing bytes');
  return v;
}
