// Result bytes made by the reference implementations of §11.1 and §11.2 in Python
// (tests/e2e/lib/{bridging,groups}_ref.py, which the suite holds equal to the C bit for bit),
// and by the C (tests/tools/groupsdump) when a build is named by OV_BUILD.
import test from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseBridging, parseGroups, checkFile } from '../../../web/js/results.js';
import { hex, sha256 } from '../../../web/js/bytes.js';
import { ROOT } from './helpers.mjs';

const LIB = join(ROOT, 'tests', 'e2e', 'lib');
const SEED = 'a1'.repeat(32);

// Bridging: the script prints only the digest, so catch the bytes it hashes.
function bridgingBytes(input) {
  const dir = mkdtempSync(join(tmpdir(), 'webcore-'));
  const out = join(dir, 'bridging.bin');
  const py = `
import hashlib, runpy, sys
orig = hashlib.sha256
seen = []
def sha(data=b''):
    seen.append(bytes(data))
    return orig(data)
hashlib.sha256 = sha
runpy.run_path(sys.argv[1], run_name='__main__')
got = [b for b in seen if b.startswith(b'onevoice/bridging-mf/v1\\x00')]
open(sys.argv[2], 'wb').write(got[-1])
`;
  const args = ['-c', py, join(LIB, 'bridging_ref.py'), out];
  const stdout = execFileSync('python3', args, { input, encoding: 'utf8' });
  const bytes = new Uint8Array(readFileSync(out));
  rmSync(dir, { recursive: true });
  const [digest, sweeps] = stdout.trim().split(/\s+/);
  return { bytes, digest, sweeps: Number(sweeps) };
}

// Two camps of raters; note kinds: 0 bridging, 1 and 2 partisan, 3 poor (as bridgedump).
function bridgingRound(U, M) {
  const lines = [`${U} ${M} 5 10 ${SEED}`];
  for (let u = 0; u < U; u++) {
    for (let m = 0; m < M; m++) {
      if ((u * 7 + m * 3) % 5 === 0) continue; // some left unrated
      const kind = m % 4, camp = u % 2;
      let h = kind === 0 ? 2 : kind === 3 ? 0 : (kind === 1) === (camp === 0) ? 2 : 0;
      if ((u + m) % 11 === 0) h = 1;
      lines.push(`${u} ${m} ${h}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

test('bridging result bytes (§11.1) from the reference implementation', async () => {
  const U = 40, M = 12;
  const r = bridgingBytes(bridgingRound(U, M));
  assert.equal(r.bytes.length, 72 + 25 * M + 24 * U);
  assert.equal(hex(await sha256(r.bytes)), r.digest);
  assert.ok(await checkFile(r.bytes, r.digest));
  assert.ok(!(await checkFile(r.bytes.slice(1), r.digest)));
  const b = parseBridging(r.bytes);
  assert.equal(b.raters, U);
  assert.equal(b.notes, M);
  assert.equal(b.minRatingsPerRater, 5);
  assert.equal(b.minRatersPerNote, 10);
  assert.equal(b.iterations, r.sweeps);
  assert.equal(b.statements.length, M);
  assert.equal(b.raterScores.length, U);
  assert.ok(Number.isFinite(b.mu) && b.loss > 0);
  // the bridging notes come out helpful, the poor ones not, the partisan ones in between
  for (let m = 0; m < M; m++) {
    const s = b.statements[m];
    if (m % 4 === 0) assert.equal(s.status, 'helpful', `note ${m}: ${JSON.stringify(s)}`);
    else assert.notEqual(s.status, 'helpful', `note ${m}`);
  }
  assert.equal(b.statements.reduce((a, s) => a + s.ratingsInModel, 0), b.ratingsInModel);
  // what does not fit is refused
  for (const bad of [r.bytes.slice(0, -1), new Uint8Array([...r.bytes, 0]), new Uint8Array(10)]) {
    assert.throws(() => parseBridging(bad), (e) => e.reason === 'malformed_result');
  }
  const badStatus = r.bytes.slice();
  badStatus[72 + 24] = 7;
  assert.throws(() => parseBridging(badStatus), (e) => e.reason === 'malformed_result');
});

function groupsRound(P, S) {
  const lines = [`${P} ${S} ${SEED}`];
  for (let p = 0; p < P; p++) {
    for (let s = 0; s < S; s++) {
      if ((p * 5 + s * 7) % 6 === 0) continue;
      const camp = p % 3;
      let v = s < 4 ? 1 : (s % 3 === camp ? 1 : -1);
      if ((p + 2 * s) % 13 === 0) v = 0;
      lines.push(`${p} ${s} ${v}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

function groupsBytes(input, build) {
  const dir = mkdtempSync(join(tmpdir(), 'webcore-'));
  const out = join(dir, 'groups.bin');
  const digest = execFileSync('python3', [join(LIB, 'groups_ref.py'), '--bytes', out],
    { input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'ignore'] }).trim();
  const bytes = new Uint8Array(readFileSync(out));
  rmSync(dir, { recursive: true });
  return { bytes, digest };
}

function checkGroups(g, bytes, P, S) {
  assert.equal(g.participants, P);
  assert.equal(g.statements, S);
  assert.equal(g.sizes.length, g.k);
  assert.equal(g.sizes.reduce((a, b) => a + b, 0), g.clustered);
  assert.equal(g.members.filter((m) => m.group >= 0).length, g.clustered);
  assert.ok(g.members.every((m) => m.group < g.k));
  const ranked = g.consensus.map((c) => c.index).sort((a, b) => a - b);
  assert.deepEqual(ranked, Array.from({ length: S }, (_, i) => i));
  const reps = g.representative.reduce((a, r) => a + r.length, 0);
  const candidates = g.maxK ? 9 * (g.maxK - 1) : 0;
  assert.equal(bytes.length, 39 + candidates + 8 * g.k + 20 * P + 12 * S + 53 * reps);
}

test('opinion groups result bytes (§11.2) from the reference implementation', async () => {
  const P = 60, S = 16;
  const r = groupsBytes(groupsRound(P, S));
  assert.equal(hex(await sha256(r.bytes)), r.digest);
  const g = parseGroups(r.bytes);
  checkGroups(g, r.bytes, P, S);
  assert.equal(g.k, 3, 'three planted camps');
  assert.ok(g.candidates.find((c) => c.k === 3).eligible);
  const directions = g.representative.flat().map((x) => x.direction);
  assert.ok(directions.every((d) => d === 'agree' || d === 'disagree'));
  // the statements all agree on rank first in consensus
  assert.ok(g.consensus.slice(0, 4).every((c) => c.index < 4),
    JSON.stringify(g.consensus.slice(0, 5)));
  for (const bad of [r.bytes.slice(0, -1), new Uint8Array([...r.bytes, 0])]) {
    assert.throws(() => parseGroups(bad), (e) => e.reason === 'malformed_result');
  }
});

const GROUPSDUMP = process.env.OV_BUILD && join(ROOT, process.env.OV_BUILD, 'tools', 'groupsdump');
const noTool = !(GROUPSDUMP && existsSync(GROUPSDUMP)) && 'no groupsdump built (OV_BUILD)';

test('opinion groups result bytes from the C (groupsdump)', { skip: noTool }, async () => {
  const tool = GROUPSDUMP;
  for (const n of [1, 2, 3]) {
    const dir = mkdtempSync(join(tmpdir(), 'webcore-'));
    const out = join(dir, 'g.bin');
    const input = execFileSync(tool, [String(n), '--bytes', out],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const bytes = new Uint8Array(readFileSync(out));
    rmSync(dir, { recursive: true });
    const [P, S] = input.split('\n')[0].split(' ').map(Number);
    checkGroups(parseGroups(bytes), bytes, P, S);
  }
});
