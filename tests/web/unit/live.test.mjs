// Against a real deployment (tests/e2e/web_unit.sh starts it and names it in OV_LIVE_*): the
// citizens' real receipts, checked over real HTTP from the log's public tiles alone, with
// their failing variants; and the log read from its bundles, counted as the verifier counts.
// Skipped without a deployment (a developer's `node --test tests/web/unit/`).
import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { verifyReceipt } from '../../../web/js/receipt.js';
import { verifyCheckpoint, parseNote } from '../../../web/js/note.js';
import { Tlog } from '../../../web/js/tlog.js';
import { summarize, liveCounts } from '../../../web/js/entry.js';
import { CheckpointHistory, MemoryStorage } from '../../../web/js/history.js';
import { b64encode } from '../../../web/js/bytes.js';
import { seededKey, checkpointNote } from './helpers.mjs';

const env = process.env;
const skip = env.OV_LIVE_LOG ? false : 'no deployment (OV_LIVE_LOG): web_unit.sh makes one';
const keys = () => ({
  logVkey: env.OV_LIVE_LOG_VKEY, witnesses: [env.OV_LIVE_WITNESS_VKEY], quorum: 1,
});
const origin = () => env.OV_LIVE_LOG_VKEY.split('+')[0];
const receipts = () => env.OV_LIVE_RECEIPTS.split(' ').map((f) => readFileSync(f, 'utf8'));
const plain = (o) => JSON.parse(JSON.stringify(o)); // a null-prototype map as a plain object

test('live: the log\'s checkpoint verifies with its witness', { skip }, async () => {
  const tlog = new Tlog(env.OV_LIVE_LOG);
  const cp = await tlog.latest(keys());
  assert.equal(cp.ok, true, cp.reason);
  assert.ok(cp.size >= 8, `size ${cp.size}`);
  assert.equal(cp.cosignatures[0].ok, true);
  const age = Math.abs(cp.cosignatures[0].time - Date.now() / 1000);
  assert.ok(age < 600, `the cosignature is ${age} s old`);
  assert.equal(await tlog.vkey(), env.OV_LIVE_LOG_VKEY);
  assert.equal(cp.origin, origin());
  // GET /witnesses, where the log serves it (issue 21), names the same witness and quorum
  let w = null;
  try {
    w = await tlog.witnesses();
  } catch (e) {
    assert.equal(e.status, 404, e.message); // a log from before it: nothing else is accepted
  }
  if (w) {
    assert.deepEqual([w.origin, w.quorum, w.witnesses], [origin(), 1, [env.OV_LIVE_WITNESS_VKEY]]);
  }
});

test('live: the citizens\' receipts verify from the tiles; history holds', { skip }, async () => {
  const seen = new CheckpointHistory(new MemoryStorage(), origin());
  for (const text of receipts()) {
    const res = await verifyReceipt(text, { tlog: new Tlog(env.OV_LIVE_LOG), ...keys(), seen });
    assert.equal(res.ok, true, `${res.reason} at ${res.stage}`);
    assert.equal(res.entry.kind, 'action');
    assert.equal(res.status, 'proven');
  }
  assert.ok(seen.list().length >= 1);
});

test('live: a changed byte, another key, another log, a broken proof fail as such', { skip },
  async () => {
    const r = JSON.parse(receipts()[0]);
    const run = async (x) => {
      const tlog = new Tlog(env.OV_LIVE_LOG);
      return (await verifyReceipt(JSON.stringify(x), { tlog, ...keys() })).reason;
    };
    const e = Buffer.from(r.entry, 'base64');
    e[Math.floor(e.length / 2)] ^= 1;
    assert.equal(await run({ ...r, entry: e.toString('base64') }), 'entry_mismatch');
    // the receipt's checkpoint signed again by another key of the log's name, the witness's
    // cosignature kept
    const note = parseNote(r.checkpoint);
    const other = await seededKey(origin(), 1, 'not the log');
    const cosig = note.signatures.filter((s) => s.name !== origin())
      .map((s) => `\u2014 ${s.name} ${b64encode(s.blob)}\n`).join('');
    const forged = `${note.body}\n${other.line(note.body)}${cosig}`;
    assert.equal(await run({ ...r, checkpoint: forged }), 'bad_log_signature');
    // a checkpoint of another log
    const elsewhere = await seededKey('elsewhere.example/log', 1, 'another log');
    const cp = await verifyCheckpoint(r.checkpoint, keys());
    const theirs = checkpointNote('elsewhere.example/log', cp.size, cp.root, elsewhere);
    assert.equal(await run({ ...r, checkpoint: theirs }), 'wrong_origin');
    if (r.proof.length) {
      const proof = [b64encode(new Uint8Array(32)), ...r.proof.slice(1)];
      assert.equal(await run({ ...r, proof }), 'not_included');
    }
    assert.equal(await run({ ...r, index: r.index + 1 }), 'not_included');
    // the wallet's receipt as it is still verifies
    assert.equal(await run(r), null);
  });

test('live: the whole log read from its bundles; the counts are the verifier\'s', { skip },
  async () => {
    const tlog = new Tlog(env.OV_LIVE_LOG);
    const cp = await tlog.latest(keys());
    assert.equal(cp.ok, true);
    const entries = await tlog.entries(0, cp.size, cp.size);
    assert.equal(entries.length, cp.size);
    const s = summarize(entries);
    assert.deepEqual(s.malformed, []);
    assert.equal(s.enrollments.length, 3);
    for (const id of ['a1', 'r1']) {
      const c = s.contexts.get(id);
      assert.ok(c, id);
      const live = await (await fetch(`${env.OV_LIVE_VERIFIER}/tallies/${id}`)).json();
      // the verifier's count covers entries [0, live.size): compare over the same entries
      assert.ok(live.size <= cp.size);
      assert.deepEqual(plain(liveCounts(c, live.size)), live.result, id);
    }
    assert.deepEqual(plain(liveCounts(s.contexts.get('a1'))), { yes: 2, no: 1, abstain: 0 });
    assert.deepEqual(plain(liveCounts(s.contexts.get('r1'))), { elm: [1, 5], oak: [2, 6] });
  });
