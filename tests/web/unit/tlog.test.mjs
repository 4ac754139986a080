import test from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Tlog, tilePath, tileShape, parseBundle } from '../../../web/js/tlog.js';
import { verifyCheckpoint } from '../../../web/js/note.js';
import { verifyInclusion, verifyConsistency } from '../../../web/js/merkle.js';
import { b64encode, utf8decode, equal } from '../../../web/js/bytes.js';
import { vector, folderFetch, VECTORS, b64, buildLog, mapFetch } from './helpers.mjs';

const paths = vector('tile-paths.json');
const sn = vector('signed-note.json');
const tw = vector('tlog-witness-and-proofs.json');
const FIXTURE = join(VECTORS, 'fixture-log');
const BASE = 'http://fixture.test/';
const KEYS = { logVkey: sn.fixture_log_key.vkey };

test('tile paths: every vector', () => {
  for (const p of paths.paths) {
    assert.equal(tilePath(p.level, p.n, p.width), p.c2sp_path, JSON.stringify(p));
  }
  assert.equal(tilePath('entries', 5, 3), 'tile/entries/005.p/3');
});

test('tile shapes: which tiles each tree size has', () => {
  for (const t of paths.tree_sizes) {
    let tiles = 0;
    for (let l = 0; Math.floor(t.tree_size / 256 ** l) > 0; l++) {
      const { full, width } = tileShape(t.tree_size, l);
      tiles += full + (width > 0 ? 1 : 0);
      if (width > 0) {
        const line = t.tiles_summary.find((s) => s.startsWith(`level ${l}:`));
        assert.ok(line.includes(tilePath(l, full, width)), `${t.tree_size}: ${line}`);
      }
    }
    assert.equal(tiles, t.num_tiles, `tiles of ${t.tree_size}`);
    const b = tileShape(t.tree_size, 0);
    assert.equal(b.full + (b.width > 0 ? 1 : 0), t.num_bundles, `bundles of ${t.tree_size}`);
  }
});

async function fixture(fetchLog = [], tamper = null) {
  const inner = folderFetch(FIXTURE, fetchLog);
  const f = tamper ? async (url) => {
    const r = await inner(url);
    const path = new URL(url).pathname.slice(1);
    if (path !== tamper.path || !r.ok) return r;
    const b = new Uint8Array(await r.arrayBuffer());
    b[tamper.at ?? 0] ^= 1;
    return new Response(b);
  } : inner;
  const tlog = new Tlog(BASE, f);
  const cp = await tlog.latest(KEYS);
  assert.equal(cp.ok, true, cp.reason);
  return { tlog, cp };
}

test('fixture log: the checkpoint served verifies, and the tiles give its root', async () => {
  const { tlog, cp } = await fixture();
  assert.equal(cp.size, 70000);
  assert.equal(b64encode(cp.root), tw.fixture_inclusion_proofs[0].root);
  assert.equal(b64encode(await tlog.rootAt(70000)), b64encode(cp.root));
  // a smaller tree's root from the same (checked) tiles: the old checkpoint's
  const old = await verifyCheckpoint(tw.old_checkpoint, KEYS);
  assert.equal(old.ok, true);
  assert.ok(equal(await tlog.rootAt(1000), old.root));
  // and from its own partial tiles alone (no verified size at or above it)
  const fresh = new Tlog(BASE, folderFetch(FIXTURE));
  assert.ok(equal(await fresh.rootAt(70000), cp.root));
});

test('fixture log: inclusion proofs from the tiles equal the vectors', async () => {
  const { tlog, cp } = await fixture();
  for (const c of tw.fixture_inclusion_proofs) {
    const proof = await tlog.inclusionProof(c.leafIdx, c.treeSize);
    assert.deepEqual(proof.map(b64encode), c.proof, `leaf ${c.leafIdx}`);
    assert.ok(await verifyInclusion(c.leafIdx, c.treeSize, b64(c.leafHash), proof, cp.root));
    assert.equal(b64encode(await tlog.leafHashAt(c.leafIdx, 70000)), c.leafHash);
  }
});

test('fixture log: consistency proofs from the tiles equal the vectors', async () => {
  const { tlog, cp } = await fixture();
  for (const c of [...tw.fixture_consistency_proofs, tw.consistency_proof]) {
    const proof = await tlog.consistencyProof(c.size1, c.size2);
    assert.deepEqual(proof.map(b64encode), c.proof, `${c.size1}→${c.size2}`);
    assert.ok(await verifyConsistency(c.size1, c.size2, b64(c.root1), cp.root, proof));
  }
});

test('fixture log: entries read from the bundles are the fixture entries, checked', async () => {
  const log = [];
  const { tlog } = await fixture(log);
  const got = await tlog.entries(250, 262, 70000);
  const want = Array.from({ length: 12 }, (_, i) => `fixture entry ${250 + i}`);
  assert.deepEqual(got.map((e) => utf8decode(e)), want);
  const tail = await tlog.entries(69990, 70000, 70000);
  assert.equal(utf8decode(tail[9]), 'fixture entry 69999');
  assert.ok(log.includes('tile/entries/273.p/112'), 'the partial bundle');
  assert.ok(log.includes('tile/entries/000') && log.includes('tile/entries/001'));
  const b = await tlog.bundle(273, 112);
  assert.equal(b.length, 112);
  assert.throws(() => parseBundle(new Uint8Array([0, 5, 1])), (e) => e.reason === 'bad_tile');
});

test('fixture log: a tile or bundle that does not match is bad_tile', async () => {
  // a full level-0 tile: found against its parent
  let { tlog } = await fixture([], { path: 'tile/0/005', at: 40 });
  await assert.rejects(tlog.entries(1290, 1291, 70000), (e) => e.reason === 'bad_tile');
  // a bundle entry changed
  ({ tlog } = await fixture([], { path: 'tile/entries/005', at: 3 }));
  await assert.rejects(tlog.entries(1280, 1282, 70000), (e) => e.reason === 'bad_tile');
  // a partial tile: the root does not come out
  ({ tlog } = await fixture([], { path: 'tile/1/001.p/17', at: 100 }));
  await assert.rejects(tlog.inclusionProof(69999, 70000), (e) => e.reason === 'bad_tile');
  // a full level-1 tile: the proofs through it
  ({ tlog } = await fixture([], { path: 'tile/1/000', at: 0 }));
  await assert.rejects(tlog.inclusionProof(0, 70000), (e) => e.reason === 'bad_tile');
  await assert.rejects(tlog.consistencyProof(1000, 70000), (e) => e.reason === 'bad_tile');
  // a size nobody verified
  await assert.rejects(tlog.entries(0, 1, 1000), (e) => e.reason === 'unverified');
});

test('a partial tile the log no longer serves is read from the full one', async () => {
  const entries = Array.from({ length: 600 }, (_, i) => new TextEncoder().encode(`e${i}`));
  const small = await buildLog(entries, 300); // size 300: 0/001.p/44, 1/000.p/1
  const { files } = await buildLog(entries, 600, small.files); // size 600: 0/001 is full
  files.delete('tile/0/001.p/44'); // a log MAY drop a partial once the full tile exists
  const tlog = new Tlog('http://x.test', mapFetch(files));
  tlog.trust(300, small.root);
  assert.ok(!files.has('tile/0/001.p/44'));
  const got = await tlog.entries(256, 300, 300);
  assert.equal(utf8decode(got[43]), 'e299');
  assert.ok(equal(await tlog.rootAt(300), small.root));
});

test('GET /witnesses and /vkey', async () => {
  const w = { origin: 'o', quorum: 1, witnesses: ['w+00000000+AA'] };
  const files = new Map([['witnesses', JSON.stringify(w)], ['vkey', 'o+01020304+AAAA\n']]);
  const tlog = new Tlog('http://x.test/', mapFetch(files));
  assert.deepEqual(await tlog.witnesses(), w);
  assert.equal(await tlog.vkey(), 'o+01020304+AAAA');
  files.set('witnesses', '{"origin":"o"}');
  await assert.rejects(tlog.witnesses(), (e) => e.reason === 'malformed_witnesses');
  await assert.rejects(new Tlog('http://x.test', mapFetch(new Map())).checkpointText(),
    (e) => e.reason === 'fetch_failed' && e.status === 404);
});

test('latest: a second root for a size trusted already is inconsistent_checkpoint', async () => {
  const { tlog, cp } = await fixture();
  const other = cp.root.slice();
  other[0] ^= 1;
  assert.throws(() => tlog.trust(70000, other), (e) => e.reason === 'inconsistent_checkpoint');
  const fresh = new Tlog(BASE, folderFetch(FIXTURE));
  fresh.trust(70000, other);
  const again = await fresh.latest(KEYS);
  assert.equal(again.ok, false);
  assert.equal(again.reason, 'inconsistent_checkpoint');
});
