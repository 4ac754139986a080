// Test helpers for the web modules: the vectors, a fetch that serves a folder or a map of
// paths as a log would, a deterministic-CBOR encoder, a tiny tiled log built in memory, and
// Ed25519 note keys (node:crypto) to sign checkpoints and cosignatures.
import { readFileSync, existsSync } from 'node:fs';
import { createPrivateKey, createPublicKey, sign as edSign } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { b64encode, concat, hex, sha256, utf8 } from '../../../web/js/bytes.js';
import { leafHash, nodeHash } from '../../../web/js/merkle.js';
import { tilePath } from '../../../web/js/tlog.js';
import { keyIdOf, cosignatureMessage } from '../../../web/js/note.js';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const VECTORS = join(ROOT, process.env.OV_VECTORS || join('tests', 'vectors'));

export function vector(name) {
  return JSON.parse(readFileSync(join(VECTORS, name), 'utf8'));
}

export const b64 = (s) => new Uint8Array(Buffer.from(s, 'base64'));
export const fromHexStr = (s) => new Uint8Array(Buffer.from(s, 'hex'));

function response(body, status = 200) {
  return new Response(status === 200 ? body : `not found\n`, { status });
}

// A fetch over a folder laid out as the log serves it (the fixture log). `log` records paths.
export function folderFetch(dir, log = []) {
  return async (url) => {
    const path = new URL(url).pathname.replace(/^\/+/, '');
    log.push(path);
    const file = join(dir, path);
    if (!file.startsWith(dir) || !existsSync(file)) return response(null, 404);
    return response(readFileSync(file));
  };
}

// A fetch over a Map path → Uint8Array | string (query strings ignored unless mapped).
export function mapFetch(files, log = []) {
  return async (url) => {
    const u = new URL(url);
    const path = u.pathname.replace(/^\/+/, '') + u.search;
    log.push(path);
    const body = files.get(path) ?? files.get(u.pathname.replace(/^\/+/, ''));
    return body === undefined ? response(null, 404) : response(body);
  };
}

// --- deterministic CBOR (RFC 8949 §4.2.1), enough to make entries -------------------------
function head(mt, n) {
  const b = BigInt(n);
  if (b < 24n) return new Uint8Array([(mt << 5) | Number(b)]);
  let ai = 27, len = 8;
  if (b < 0x100n) [ai, len] = [24, 1];
  else if (b < 0x10000n) [ai, len] = [25, 2];
  else if (b < 0x100000000n) [ai, len] = [26, 4];
  const out = new Uint8Array(1 + len);
  out[0] = (mt << 5) | ai;
  for (let i = 0; i < len; i++) out[len - i] = Number((b >> BigInt(8 * i)) & 0xffn);
  return out;
}

export function cbor(v) {
  if (v === false) return new Uint8Array([0xf4]);
  if (v === true) return new Uint8Array([0xf5]);
  if (v === null) return new Uint8Array([0xf6]);
  if (typeof v === 'number' || typeof v === 'bigint') {
    return v >= 0 ? head(0, v) : head(1, -1n - BigInt(v));
  }
  if (v instanceof Uint8Array) return concat(head(2, v.length), v);
  if (typeof v === 'string') {
    const t = utf8(v);
    return concat(head(3, t.length), t);
  }
  if (Array.isArray(v)) return concat(head(4, v.length), ...v.map(cbor));
  const pairs = Object.entries(v).map(([k, x]) => [cbor(k), cbor(x)]);
  pairs.sort((a, b) => Buffer.compare(Buffer.from(a[0]), Buffer.from(b[0])));
  return concat(head(5, pairs.length), ...pairs.flat());
}

// --- note keys -------------------------------------------------------------------------------
const PKCS8_ED25519 = fromHexStr('302e020100300506032b657004220420');

export async function noteKey(name, type, seed) {
  const der = Buffer.from(concat(PKCS8_ED25519, seed));
  const priv = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
  const spki = createPublicKey(priv).export({ format: 'der', type: 'spki' });
  const pub = new Uint8Array(spki.subarray(spki.length - 32));
  const keyId = await keyIdOf(name, type, pub);
  const idBytes = new Uint8Array(4);
  new DataView(idBytes.buffer).setUint32(0, keyId);
  const typed = b64encode(concat(new Uint8Array([type]), pub));
  return {
    name, type, pub, keyId,
    vkey: `${name}+${keyId.toString(16).padStart(8, '0')}+${typed}`,
    // A signature line for a note body.
    line(body, time = 1767225600) {
      if (type === 1) {
        const s = edSign(null, Buffer.from(utf8(body)), priv);
        return `\u2014 ${name} ${b64encode(concat(idBytes, s))}\n`;
      }
      const t = new Uint8Array(8);
      new DataView(t.buffer).setBigUint64(0, BigInt(time));
      const s = edSign(null, Buffer.from(cosignatureMessage(body, String(time))), priv);
      return `\u2014 ${name} ${b64encode(concat(idBytes, t, s))}\n`;
    },
  };
}

export async function seededKey(name, type, label) {
  return noteKey(name, type, await sha256(utf8(label)));
}

// --- a tiled log in memory -------------------------------------------------------------------
// Builds every tile and bundle a log of these entries serves at `size` (default all), as
// C2SP tlog-tiles lays them out, into a Map path → bytes. Returns {files, root, leaves}.
export async function buildLog(entries, size = entries.length, files = new Map()) {
  const leaves = [];
  for (const e of entries.slice(0, size)) leaves.push(await leafHash(e));
  let level = leaves, l = 0;
  // bundles
  for (let n = 0; n * 256 < size; n++) {
    const part = entries.slice(n * 256, Math.min(size, n * 256 + 256));
    const framed = part.map((e) => concat(new Uint8Array([e.length >> 8, e.length & 255]), e));
    const body = concat(...framed);
    files.set(tilePath(-1, n, part.length), body);
  }
  while (level.length > 0) {
    const next = [];
    for (let n = 0; n * 256 < level.length; n++) {
      const part = level.slice(n * 256, n * 256 + 256);
      files.set(tilePath(l, n, part.length), concat(...part));
      if (part.length === 256) {
        let hs = part;
        while (hs.length > 1) {
          const up = [];
          for (let i = 0; i < hs.length; i += 2) up.push(await nodeHash(hs[i], hs[i + 1]));
          hs = up;
        }
        next.push(hs[0]);
      }
    }
    level = next;
    l++;
  }
  return { files, root: await mth(leaves), leaves };
}

export async function mth(hs) {
  if (hs.length === 0) return sha256(new Uint8Array(0));
  if (hs.length === 1) return hs[0];
  let k = 1;
  while (k * 2 < hs.length) k *= 2;
  return nodeHash(await mth(hs.slice(0, k)), await mth(hs.slice(k)));
}

// A checkpoint note signed by the log key and cosigned by each witness key.
export function checkpointNote(origin, size, root, logKey, witnessKeys = [], time = 1767225600) {
  const body = `${origin}\n${size}\n${b64encode(root)}\n`;
  return `${body}\n${logKey.line(body)}${witnessKeys.map((w) => w.line(body, time)).join('')}`;
}

export { hex, b64encode };
