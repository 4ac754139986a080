// bytes.js: the byte helpers every other module uses (base64, hex, UTF-8, big-endian
// integers) and ParseError, the one error type whose .reason the page shows.
// Everything here handles public data, so plain comparisons are fine.

// A failure with a machine-readable reason (e.g. "malformed_entry", "bad_tile"); the UI maps
// the reason to a message, the message here is for developers.
export class ParseError extends Error {
  constructor(reason, message) {
    super(message ? `${reason}: ${message}` : reason);
    this.name = 'ParseError';
    this.reason = reason;
  }
}

const STD = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const DECODE = new Int16Array(256).fill(-1);
for (let i = 0; i < 64; i++) DECODE[STD.charCodeAt(i)] = i;
DECODE['-'.charCodeAt(0)] = 62; // base64url (RFC 4648 §5)
DECODE['_'.charCodeAt(0)] = 63;

// Decodes RFC 4648 base64, standard or url alphabet, padded or not (the protocol uses all
// four, §1). Canonical only: padding, when present, must be complete, and the bits left over
// in the last character must be zero, so one byte string has one text form.
export function b64decode(s, reason = 'malformed_base64') {
  if (typeof s !== 'string') throw new ParseError(reason, 'not a string');
  let end = s.length;
  if (end % 4 === 0 && end > 0) {
    if (s[end - 1] === '=') end--;
    if (s[end - 1] === '=') end--;
  }
  const rem = end % 4;
  if (rem === 1) throw new ParseError(reason, 'bad length');
  if (end < s.length && end + ((4 - rem) % 4) !== s.length) {
    throw new ParseError(reason, 'bad padding');
  }
  let std = false, url = false;
  const out = new Uint8Array(Math.floor((end * 3) / 4));
  let acc = 0, bits = 0, o = 0;
  for (let i = 0; i < end; i++) {
    const c = s.charCodeAt(i);
    const v = c < 256 ? DECODE[c] : -1;
    if (v < 0) throw new ParseError(reason, `bad character at ${i}`);
    if (c === 43 || c === 47) std = true;
    if (c === 45 || c === 95) url = true;
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 0xff;
    }
  }
  if (std && url) throw new ParseError(reason, 'mixed alphabets');
  if (bits > 0 && (acc & ((1 << bits) - 1)) !== 0) throw new ParseError(reason, 'non-canonical');
  return out;
}

// Standard alphabet with padding (RFC 4648 §4): notes, receipts and the log's JSON use it.
export function b64encode(bytes) {
  let s = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const n = (bytes[i] << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    s += STD[(n >> 18) & 63] + STD[(n >> 12) & 63];
    s += i + 1 < bytes.length ? STD[(n >> 6) & 63] : '=';
    s += i + 2 < bytes.length ? STD[n & 63] : '=';
  }
  return s;
}

export function hex(bytes) {
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}

export function fromHex(s, reason = 'malformed_hex') {
  if (typeof s !== 'string' || s.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(s)) {
    throw new ParseError(reason, 'not hex');
  }
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.substr(2 * i, 2), 16);
  return out;
}

export function concat(...parts) {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export function equal(a, b) {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export function utf8(s) {
  return encoder.encode(s);
}

// Strict UTF-8 (the WHATWG decoder with fatal: no overlongs, surrogates or truncation).
export function utf8decode(bytes, reason = 'malformed_utf8') {
  try {
    return decoder.decode(bytes);
  } catch {
    throw new ParseError(reason, 'invalid UTF-8');
  }
}

export function u16(b, off = 0) {
  return (b[off] << 8) | b[off + 1];
}

export function u32(b, off = 0) {
  return ((b[off] << 24) >>> 0) + ((b[off + 1] << 16) | (b[off + 2] << 8) | b[off + 3]);
}

// A big-endian u64 as a BigInt: a cosignature timestamp or a CBOR argument may not fit a
// Number, and the caller decides whether it must.
export function u64(b, off = 0) {
  return (BigInt(u32(b, off)) << 32n) | BigInt(u32(b, off + 4));
}

export async function sha256(bytes) {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
}
