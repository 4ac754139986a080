// note.js: C2SP signed notes, verifier keys, checkpoints and cosignature/v1, checked with
// WebCrypto Ed25519 (docs/PROTOCOL.md §1; core/primitives/note.c is the C side, and this
// follows its rules, including its strictness: the same (name, key id) twice makes a note
// malformed, and every line from a trusted key must verify).
//
// Signed note:  text (lines ending in "\n"), "\n", then lines
//               "— <name> <base64(keyid[4] ‖ sig)>\n".
// vkey:         <name>+<8 lowercase hex key id>+base64(type ‖ 32-byte key), type 0x01 (a log)
//               or 0x04 (a witness, cosignature/v1);
//               key id = SHA-256(name ‖ "\n" ‖ type ‖ key)[:4].
// Checkpoint:   "<origin>\n<size>\n<base64 root>\n" then optional extension lines.
// Cosignature:  blob = keyid[4] ‖ u64be time ‖ sig[64], signed message
//               "cosignature/v1\ntime <time>\n" ‖ checkpoint text.

import { ParseError, b64decode, concat, sha256, u32, u64, utf8 } from './bytes.js';

export const TYPE_ED25519 = 0x01;
export const TYPE_COSIG_V1 = 0x04;
const MAX_NOTE = 65536; // bytes of a whole note (OV_NOTE_MAX_LEN)
const MAX_SIGS = 64;
const MAX_NAME = 255;
const MAX_SIG = 5120; // decoded bytes of one signature line
const MAX_VKEY = 512;
const EMPTY_ROOT_B64 = '47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='; // SHA-256("")
const COSIG_MAX_TIME = (1n << 63n) - 1n;

// Unicode White_Space as Go's unicode.IsSpace has it (x/mod rejects these in names).
const SPACE = /[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]/u;

function checkName(name, reason) {
  if (name.length === 0 || utf8(name).length > MAX_NAME) {
    throw new ParseError(reason, 'bad key name length');
  }
  // eslint-disable-next-line no-control-regex
  if (name.includes('+') || SPACE.test(name) || /[\u0000-\u001f]/.test(name)) {
    throw new ParseError(reason, `bad key name ${JSON.stringify(name)}`);
  }
}

// Lone surrogates cannot come from UTF-8; a string holding one is not a note's text.
function wellFormed(s) {
  return !/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(s);
}

// Parses a signed note. text: the note as a string. Returns {text, body, signatures} with body
// the signed text (ending in "\n") and each signature {name, keyId (u32), blob, sig} (sig: the
// bytes after the key id). Throws ParseError reason "malformed_note".
export function parseNote(text, reason = 'malformed_note') {
  if (typeof text !== 'string' || !wellFormed(text)) throw new ParseError(reason, 'not text');
  if (utf8(text).length > MAX_NOTE) throw new ParseError(reason, 'too long');
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0009\u000b-\u001f]/.test(text)) throw new ParseError(reason, 'control character');
  const split = text.lastIndexOf('\n\n');
  if (split < 0) throw new ParseError(reason, 'no blank line');
  const body = text.slice(0, split + 1);
  const block = text.slice(split + 2);
  if (block.length === 0 || !block.endsWith('\n')) {
    throw new ParseError(reason, 'no signature lines');
  }
  const signatures = [];
  for (const line of block.slice(0, -1).split('\n')) {
    if (signatures.length === MAX_SIGS) throw new ParseError(reason, 'too many signatures');
    if (!line.startsWith('\u2014 ')) throw new ParseError(reason, 'not a signature line');
    const rest = line.slice(2);
    const sp = rest.indexOf(' ');
    if (sp < 0) throw new ParseError(reason, 'no space in signature line');
    const name = rest.slice(0, sp);
    const b64 = rest.slice(sp + 1);
    checkName(name, reason);
    if (b64.length > 4 * Math.ceil(MAX_SIG / 3) || b64.length % 4 !== 0) {
      throw new ParseError(reason, 'bad signature');
    }
    if (/[-_]/.test(b64)) throw new ParseError(reason, 'signature not in the standard alphabet');
    const blob = b64decode(b64, reason);
    if (blob.length < 5) throw new ParseError(reason, 'signature too short');
    const keyId = u32(blob, 0);
    if (signatures.some((s) => s.name === name && s.keyId === keyId)) {
      throw new ParseError(reason, `two signatures by ${name}`);
    }
    signatures.push({ name, keyId, blob, sig: blob.subarray(4) });
  }
  return { text, body, signatures };
}

// Parses a vkey string. Syntax only (the key id check needs SHA-256, which is async in
// WebCrypto: see checkVkey). Throws ParseError reason "bad_vkey".
export function parseVkey(str) {
  const reason = 'bad_vkey';
  if (typeof str !== 'string' || str.length > MAX_VKEY) throw new ParseError(reason, 'not a vkey');
  str = str.trim();
  const p1 = str.indexOf('+');
  if (p1 < 0 || str[p1 + 9] !== '+' || !/^[0-9a-f]{8}$/.test(str.slice(p1 + 1, p1 + 9))) {
    throw new ParseError(reason, 'not name+keyid+key');
  }
  const name = str.slice(0, p1);
  checkName(name, reason);
  const keyId = parseInt(str.slice(p1 + 1, p1 + 9), 16);
  const b64 = str.slice(p1 + 10);
  if (b64.length !== 44 || /[-_]/.test(b64)) throw new ParseError(reason, 'key not in padded base64');
  const raw = b64decode(b64, reason);
  if (raw.length !== 33 || (raw[0] !== TYPE_ED25519 && raw[0] !== TYPE_COSIG_V1)) {
    throw new ParseError(reason, 'not an Ed25519 key of type 0x01 or 0x04');
  }
  return { name, keyId, type: raw[0], key: raw.slice(1), vkey: str };
}

// The key id a (name, type, key) must carry.
export async function keyIdOf(name, type, key) {
  const h = await sha256(concat(utf8(name), new Uint8Array([0x0a, type]), key));
  return u32(h, 0);
}

// parseVkey, then the key id checked; accepts a parsed vkey too. Throws "bad_vkey".
export async function checkVkey(v) {
  const p = typeof v === 'string' ? parseVkey(v) : v;
  if ((await keyIdOf(p.name, p.type, p.key)) !== p.keyId) {
    throw new ParseError('bad_vkey', `key id of ${p.name}`);
  }
  return p;
}

// Parses a checkpoint's text (the note body). size is a Number (a log holds < 2^53 entries).
export function parseCheckpoint(body, reason = 'malformed_checkpoint') {
  if (typeof body !== 'string' || !body.endsWith('\n')) {
    throw new ParseError(reason, 'no final newline');
  }
  const lines = body.slice(0, -1).split('\n');
  if (lines.length < 3) throw new ParseError(reason, 'fewer than three lines');
  const [origin, sizeStr, rootB64, ...extensions] = lines;
  if (origin.length === 0) throw new ParseError(reason, 'empty origin');
  if (!/^(0|[1-9][0-9]*)$/.test(sizeStr)) throw new ParseError(reason, 'bad size');
  const size = Number(sizeStr);
  if (!Number.isSafeInteger(size)) throw new ParseError(reason, 'size too large');
  if (rootB64.length !== 44 || /[-_]/.test(rootB64)) throw new ParseError(reason, 'bad root');
  const root = b64decode(rootB64, reason);
  if (root.length !== 32) throw new ParseError(reason, 'bad root');
  if (size === 0 && rootB64 !== EMPTY_ROOT_B64) {
    throw new ParseError(reason, 'empty tree with another root');
  }
  if (extensions.some((l) => l.length === 0)) throw new ParseError(reason, 'empty extension line');
  return { origin, size, root, rootB64, extensions };
}

async function ed25519Verify(key, sig, msg) {
  try {
    const k = await crypto.subtle.importKey('raw', key, { name: 'Ed25519' }, false, ['verify']);
    return await crypto.subtle.verify({ name: 'Ed25519' }, k, sig, msg);
  } catch {
    return false; // a key WebCrypto refuses verifies nothing
  }
}

// The message a cosignature/v1 signs.
export function cosignatureMessage(body, time) {
  return utf8(`cosignature/v1\ntime ${time}\n${body}`);
}

// Verifies one signature line with its trusted key. Returns {ok, time} (time: seconds, for a
// cosignature; a Number, as timestamps below 2^53 are the ones a clock gives).
export async function verifyLine(body, line, v) {
  if (v.type === TYPE_ED25519) {
    const ok = line.blob.length === 68 && (await ed25519Verify(v.key, line.sig, utf8(body)));
    return { ok, time: null };
  }
  if (line.blob.length !== 76) return { ok: false, time: null };
  const t = u64(line.blob, 4);
  if (t > COSIG_MAX_TIME) return { ok: false, time: null };
  const msg = cosignatureMessage(body, t.toString());
  const ok = await ed25519Verify(v.key, line.blob.subarray(12), msg);
  return { ok, time: Number(t) };
}

// Verifies a checkpoint note for the page: the log's signature, the origin (the log key's
// name), the witnesses' cosignatures and the quorum. Never throws for a bad note: returns
// {ok, reason, origin, size, root, rootB64, body, note, logSignature, cosignatures, quorum}
// with reason one of null, "malformed_checkpoint", "bad_vkey", "wrong_origin",
// "bad_log_signature", "bad_cosignature" (a trusted witness's line that does not verify),
// "no_quorum". logVkey and witnesses are vkey strings or parsed vkeys.
export async function verifyCheckpoint(noteText, { logVkey, witnesses = [], quorum = 0 } = {}) {
  const out = {
    ok: false, reason: null, origin: null, size: null, root: null, rootB64: null, body: null,
    note: noteText, logSignature: false, cosignatures: [], quorum: { needed: quorum, have: 0 },
  };
  const bad = (reason) => Object.assign(out, { ok: false, reason });
  let log, wits;
  try {
    log = await checkVkey(logVkey);
    if (log.type !== TYPE_ED25519) {
      throw new ParseError('bad_vkey', 'the log key is not of type 0x01');
    }
    wits = [];
    for (const w of witnesses) {
      const p = await checkVkey(w);
      if (p.type !== TYPE_COSIG_V1) {
        throw new ParseError('bad_vkey', `witness ${p.name} is not of type 0x04`);
      }
      wits.push(p);
    }
  } catch (e) {
    return bad(e.reason || 'bad_vkey');
  }
  out.cosignatures = wits.map((w) => ({
    name: w.name, vkey: w.vkey, time: null, ok: false, present: false,
  }));
  let note, cp;
  try {
    note = parseNote(noteText, 'malformed_checkpoint');
    cp = parseCheckpoint(note.body);
  } catch (e) {
    return bad(e.reason || 'malformed_checkpoint');
  }
  Object.assign(out, {
    origin: cp.origin, size: cp.size, root: cp.root, rootB64: cp.rootB64, body: note.body,
    extensions: cp.extensions,
  });
  // Another log's checkpoint: said first, as that is what it is (its key is another too).
  if (cp.origin !== log.name) return bad('wrong_origin');
  const find = (v) => note.signatures.find((s) => s.name === v.name && s.keyId === v.keyId);
  const logLine = find(log);
  out.logSignature = logLine ? (await verifyLine(note.body, logLine, log)).ok : false;
  if (!out.logSignature) return bad('bad_log_signature');
  let badCosig = false;
  for (let i = 0; i < wits.length; i++) {
    const line = find(wits[i]);
    if (!line) continue;
    const r = await verifyLine(note.body, line, wits[i]);
    Object.assign(out.cosignatures[i], { present: true, ok: r.ok, time: r.time });
    if (r.ok) out.quorum.have++;
    else badCosig = true;
  }
  if (badCosig) return bad('bad_cosignature');
  if (out.quorum.have < quorum) return bad('no_quorum');
  out.ok = true;
  return out;
}
