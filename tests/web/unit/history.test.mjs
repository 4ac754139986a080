import test from 'node:test';
import assert from 'node:assert/strict';
import { CheckpointHistory, MemoryStorage } from '../../../web/js/history.js';
import { Tlog } from '../../../web/js/tlog.js';
import { buildLog, mapFetch } from './helpers.mjs';

const entries = Array.from({ length: 900 }, (_, i) => new TextEncoder().encode(`entry ${i}`));

async function trees(...sizes) {
  const files = new Map();
  const roots = {};
  for (const s of sizes) roots[s] = (await buildLog(entries, s, files)).root;
  return { tlog: new Tlog('http://log.test', mapFetch(files)), roots, files };
}

test('history: growing checkpoints are proven consistent and remembered', async () => {
  const { tlog, roots } = await trees(100, 300, 900);
  const storage = new MemoryStorage();
  const h = new CheckpointHistory(storage, 'o');
  const first = await h.record({ origin: 'o', size: 300, root: roots[300] }, tlog, { now: 1 });
  assert.equal(first.ok, true);
  const cp = { origin: 'o', size: 900, root: roots[900] };
  const r = await h.record(cp, tlog, { latest: true, now: 2 });
  assert.equal(r.ok, true);
  assert.equal(r.against.size, 300);
  // an older one seen afterwards (a receipt's) must be a prefix of the larger one
  assert.equal((await h.record({ size: 100, root: roots[100] }, tlog, { now: 3 })).ok, true);
  // the same again changes nothing
  assert.equal((await h.record({ size: 900, root: roots[900] }, tlog)).ok, true);
  assert.deepEqual(h.list().map((c) => [c.size, c.seen]), [[100, 3], [300, 1], [900, 2]]);
  // kept in the storage, per origin
  assert.deepEqual(new CheckpointHistory(storage, 'o').list().map((c) => c.size), [100, 300, 900]);
  assert.deepEqual(new CheckpointHistory(storage, 'other').list(), []);
});

test('history: another root at a size seen, a fork, a rollback', async () => {
  const { tlog, roots } = await trees(300, 900);
  const h = new CheckpointHistory(new MemoryStorage(), 'o');
  await h.record({ size: 300, root: roots[300] }, tlog);
  const wrong = roots[300].slice();
  wrong[0] ^= 1;
  const same = await h.record({ size: 300, root: wrong }, tlog);
  assert.equal(same.reason, 'inconsistent_checkpoint');
  assert.equal(same.earlier.size, 300);
  // a tree of 900 whose first 300 are not the ones seen
  const other = entries.slice();
  other[5] = new Uint8Array([1]);
  const fork = await buildLog(other, 900);
  const forkLog = new Tlog('http://log.test', mapFetch(fork.files));
  const f = await h.record({ size: 900, root: fork.root }, forkLog, { latest: true });
  assert.equal(f.reason, 'inconsistent_checkpoint');
  // the log's latest smaller than what was seen
  await h.record({ size: 900, root: roots[900] }, tlog, { latest: true });
  const root600 = (await buildLog(entries, 600)).root;
  const back = await h.record({ size: 600, root: root600 }, tlog, { latest: true });
  assert.equal(back.reason, 'inconsistent_checkpoint');
  assert.equal(back.earlier.size, 900);
  assert.deepEqual(h.list().map((c) => c.size), [300, 900]);
});

test('history: damaged storage starts again; forget', () => {
  const s = new MemoryStorage();
  s.setItem('onevoice.checkpoints.o', '{not json');
  assert.deepEqual(new CheckpointHistory(s, 'o').list(), []);
  s.setItem('onevoice.checkpoints.o', JSON.stringify([{ size: 1, root: 'AAAA', seen: 0 }]));
  const h = new CheckpointHistory(s, 'o');
  assert.equal(h.list().length, 1);
  h.forget();
  assert.deepEqual(h.list(), []);
});
