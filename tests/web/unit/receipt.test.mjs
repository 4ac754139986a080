// Receipts against a log built here as onevoice's is (CBOR entries, C2SP tiles, a checkpoint
// signed by the log key and cosigned by a witness), served to Tlog through a fetch over the
// files; each failing variant must fail with its own reason.
import test from 'node:test';
import assert from 'node:assert/strict';
import { verifyReceipt, parseReceipt } from '../../../web/js/receipt.js';
import { CheckpointHistory, MemoryStorage } from '../../../web/js/history.js';
import { Tlog } from '../../../web/js/tlog.js';
import { leafHash } from '../../../web/js/merkle.js';
import { b64encode, hex } from '../../../web/js/bytes.js';
import { cbor, buildLog, mapFetch, seededKey, checkpointNote } from './helpers.mjs';

const T0 = 1767225600;
const ORIGIN = 'votes.example/log';
const URL = 'http://log.test';

const enrollment = (n) => cbor({ kind: 'enrollment', v: 1, route: 'invite', n, time: T0 });

// Built once (hashing 1,300 leaves with WebCrypto takes a while); each test gets its own
// copy of the files, which some change.
let built = null;
async function world() {
  built ??= buildWorld();
  const w = await built;
  return { ...w, files: new Map(w.files) };
}

async function buildWorld() {
  const logKey = await seededKey(ORIGIN, 1, 'log key');
  const wit = await seededKey('wit.example/w1', 4, 'witness key');
  const entries = [cbor({
    kind: 'context', v: 1, id: 'budget', title: 'Budget', type: 'assembly', choices: ['yes', 'no'],
    opens: T0, closes: T0 + 3600, quota: 1, issuer: 'i', token_key: new Uint8Array(342),
    token_key_id: new Uint8Array(32), time: T0,
  })];
  for (let i = 1; i < 700; i++) {
    entries.push(cbor({
      kind: 'action', v: 1, context: 'budget', pseudonym: new Uint8Array(32).fill(i % 256),
      token: new Uint8Array(354).fill(i % 251), choice: i % 3 ? 'yes' : 'no', platform: 'web',
      sig: new Uint8Array(64), time: T0 + i,
    }));
  }
  // The receipt's checkpoint at 600, the log's latest at 700: both sizes' files served.
  const at600 = await buildLog(entries, 600);
  const at700 = await buildLog(entries, 700, at600.files);
  const cp600 = checkpointNote(ORIGIN, 600, at600.root, logKey, [wit]);
  const cp700 = checkpointNote(ORIGIN, 700, at700.root, logKey, [wit]);
  const files = at700.files;
  files.set('checkpoint', cp700);
  const keys = { logVkey: logKey.vkey, witnesses: [wit.vkey], quorum: 1 };
  return { logKey, wit, entries, files, cp600, cp700, keys, at600, at700 };
}

async function receiptFor(w, index, opts = {}) {
  const { status = 'proven', cp = w.cp600, size = 600, entry = w.entries[index] } = opts;
  const hash = await leafHash(entry);
  const r = { status, hash: b64encode(hash), entry: b64encode(entry) };
  r.receipt = `/receipts/${hex(hash)}`;
  if (status !== 'pending') r.index = index;
  if (status === 'proven') {
    const t = new Tlog(URL, mapFetch(w.files));
    r.checkpoint = cp;
    const root = size === 600 ? w.at600.root : w.at700.root;
    r.proof = (await t.inclusionProof(index, size, root)).map(b64encode);
  }
  return r;
}

// verifyReceipt on r (an object or a text), the log served from files (default w's).
const check = (w, r, extra = {}, files = w.files) => verifyReceipt(
  typeof r === 'string' ? r : JSON.stringify(r),
  { tlog: new Tlog(URL, mapFetch(files)), ...w.keys, ...extra });

test('receipt: a proven receipt verifies, with its entry decoded', async () => {
  const w = await world();
  const res = await check(w, await receiptFor(w, 300));
  assert.equal(res.ok, true, `${res.reason} at ${res.stage}`);
  assert.equal(res.index, 300);
  assert.equal(res.entry.kind, 'action');
  assert.equal(res.checkpoint.size, 600);
  assert.equal(res.latest.size, 700);
  assert.equal(res.checkpoint.cosignatures[0].ok, true);
  // a receipt of the latest size too
  const r2 = await check(w, await receiptFor(w, 650, { cp: w.cp700, size: 700 }));
  assert.equal(r2.ok, true, r2.reason);
});

test('receipt: one changed byte in the entry', async () => {
  const w = await world();
  const r = await receiptFor(w, 300);
  const e = Buffer.from(r.entry, 'base64');
  e[e.length - 1] ^= 1;
  const res = await check(w, { ...r, entry: e.toString('base64') });
  assert.equal(res.reason, 'entry_mismatch');
  // the same change with the hash made to match: not the entry the proof is for
  const h = await leafHash(new Uint8Array(e));
  const same = { entry: e.toString('base64'), hash: b64encode(h), receipt: `/receipts/${hex(h)}` };
  assert.equal((await check(w, { ...r, ...same })).reason, 'not_included');
});

test('receipt: a checkpoint signed by another key', async () => {
  const w = await world();
  const other = await seededKey(ORIGIN, 1, 'an impostor key');
  const cp = checkpointNote(ORIGIN, 600, w.at600.root, other, [w.wit]);
  const res = await check(w, await receiptFor(w, 300, { cp }));
  assert.equal(res.reason, 'bad_log_signature');
  assert.equal(res.checkpoint.logSignature, false);
});

test('receipt: a receipt from another log', async () => {
  const w = await world();
  const elsewhere = await seededKey('other.example/log', 1, 'other log key');
  const cp = checkpointNote('other.example/log', 600, w.at600.root, elsewhere, [w.wit]);
  assert.equal((await check(w, await receiptFor(w, 300, { cp }))).reason, 'wrong_origin');
});

test('receipt: a broken proof, an index past the checkpoint, no quorum', async () => {
  const w = await world();
  const r = await receiptFor(w, 300);
  const p = Buffer.from(r.proof[2], 'base64');
  p[0] ^= 0x80;
  const broken = [...r.proof.slice(0, 2), p.toString('base64'), ...r.proof.slice(3)];
  assert.equal((await check(w, { ...r, proof: broken })).reason, 'not_included');
  assert.equal((await check(w, { ...r, proof: r.proof.slice(1) })).reason, 'not_included');
  assert.equal((await check(w, { ...r, index: 301 })).reason, 'not_included');
  assert.equal((await check(w, { ...r, index: 600 })).reason, 'not_included');
  const bare = checkpointNote(ORIGIN, 600, w.at600.root, w.logKey, []);
  assert.equal((await check(w, { ...r, checkpoint: bare })).reason, 'no_quorum');
  assert.equal((await check(w, r, { quorum: 0, witnesses: [] })).ok, true);
});

test('receipt: malformed receipts', async () => {
  const w = await world();
  const r = await receiptFor(w, 300);
  const variants = [{ extra: 1 }, { status: 'done' }, { receipt: '/receipts/00' }, { hash: 'AAAA' },
    { status: 'logged' }, { index: -1 }, { index: '300' }, { entry: '' }, { proof: 'x' }];
  const texts = ['', 'not json', '[]', ...variants.map((v) => JSON.stringify({ ...r, ...v }))];
  for (const bad of texts) {
    assert.equal((await check(w, bad)).reason, 'malformed_receipt', bad.slice(0, 60));
  }
  assert.throws(() => parseReceipt(JSON.stringify({ ...r, entry: '' })),
    (e) => e.reason === 'malformed_receipt');
});

test('receipt: the log forked after the receipt, an entry not at its index, a log that shrank',
  async () => {
    const w = await world();
    const r = await receiptFor(w, 300);
    // the log now serves another history of 700 entries, under its own key
    const forkEntries = w.entries.slice();
    forkEntries[10] = enrollment(99);
    const fork = await buildLog(forkEntries, 700);
    fork.files.set('checkpoint', checkpointNote(ORIGIN, 700, fork.root, w.logKey, [w.wit]));
    assert.equal((await check(w, r, {}, fork.files)).reason, 'inconsistent_checkpoint');
    // a logged receipt (no proof) naming an index where another entry is
    const logged = await receiptFor(w, 300, { status: 'logged' });
    assert.equal((await check(w, logged)).ok, true);
    assert.equal((await check(w, { ...logged, index: 301 })).reason, 'not_in_log');
    const ahead = await check(w, { ...logged, index: 5000 });
    assert.equal(ahead.reason, 'not_in_log');
    assert.equal(ahead.notYet, true, 'past the published checkpoint: maybe not yet');
    // the log's latest checkpoint smaller than the receipt's
    const small = new Map(w.files);
    const root500 = (await buildLog(w.entries, 500)).root;
    small.set('checkpoint', checkpointNote(ORIGIN, 500, root500, w.logKey, [w.wit]));
    assert.equal((await check(w, r, {}, small)).reason, 'inconsistent_checkpoint');
  });

test('receipt: pending, found by the log\'s index hint and checked on the tiles', async () => {
  const w = await world();
  const r = await receiptFor(w, 42, { status: 'pending' });
  const h = Buffer.from(r.hash, 'base64').toString('base64url'); // unpadded, as §4.2 takes it
  const path = `proof/inclusion?hash=${h}&size=700`;
  w.files.set(path, JSON.stringify({ index: 42, size: 700, proof: [] }));
  const res = await check(w, r);
  assert.equal(res.ok, true, res.reason);
  assert.equal(res.index, 42);
  // a hint that lies is caught
  w.files.set(path, JSON.stringify({ index: 43, size: 700, proof: [] }));
  assert.equal((await check(w, r)).reason, 'not_in_log');
  // a hash the log does not know
  const unknown = await receiptFor(w, 42, { status: 'pending', entry: enrollment(1) });
  assert.equal((await check(w, unknown)).reason, 'not_in_log');
});

test('receipt and history: a checkpoint inconsistent with one seen earlier', async () => {
  const w = await world();
  const seen = new CheckpointHistory(new MemoryStorage(), ORIGIN);
  const r = await receiptFor(w, 300);
  const ok = await check(w, r, { seen });
  assert.equal(ok.ok, true, ok.reason);
  assert.deepEqual(seen.list().map((c) => c.size), [600, 700]);
  // later the log shows another tree of 800 entries: not an extension of the 700 seen
  const forkEntries = w.entries.slice();
  forkEntries[650] = enrollment(7);
  for (let i = 700; i < 800; i++) forkEntries.push(enrollment(i));
  const fork = await buildLog(forkEntries, 800);
  fork.files.set('checkpoint', checkpointNote(ORIGIN, 800, fork.root, w.logKey, [w.wit]));
  const res = await check(w, r, { seen }, fork.files);
  assert.equal(res.reason, 'inconsistent_checkpoint');
  assert.equal(res.stage, 'history');
  assert.equal(res.history.earlier.size, 700);
  assert.equal(res.history.current.size, 800);
  assert.deepEqual(seen.list().map((c) => c.size), [600, 700], 'nothing recorded');
});
