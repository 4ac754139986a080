import test from 'node:test';
import assert from 'node:assert/strict';
import {
  parseNote, parseVkey, checkVkey, parseCheckpoint, verifyCheckpoint, keyIdOf, verifyLine,
  cosignatureMessage,
} from '../../../web/js/note.js';
import { hex } from '../../../web/js/bytes.js';
import { vector, seededKey, checkpointNote, fromHexStr } from './helpers.mjs';

const sn = vector('signed-note.json');
const tw = vector('tlog-witness-and-proofs.json');
const malformed = (what) => (e) => e.reason === what;

test('signed note: the x/mod and C2SP examples parse, with their key ids', async () => {
  const pn = sn.x_mod_peterneumann;
  const n = parseNote(pn.signed);
  assert.equal(n.body, pn.text);
  assert.equal(n.signatures.length, 1);
  assert.equal(n.signatures[0].name, 'PeterNeumann');
  const v = await checkVkey(pn.vkey);
  assert.equal(v.keyId, n.signatures[0].keyId);
  assert.equal(v.type, 1);
  assert.ok((await verifyLine(n.body, n.signatures[0], v)).ok);
  const ex = sn.c2sp_signed_note_example;
  assert.equal(parseNote(ex.signed).body, ex.text);
  await checkVkey(ex.vkey);
  await checkVkey(pn.second_key_vkey);
});

test('signed note: the key id intermediates of the fixture log key', async () => {
  const k = sn.fixture_log_key;
  const v = parseVkey(k.vkey);
  assert.equal(v.name, k.name);
  assert.equal(hex(v.key), k.ed25519_pub_hex);
  assert.equal((await keyIdOf(v.name, 1, v.key)).toString(16).padStart(8, '0'), k.key_id_hex);
  const wrongId = k.vkey.replace('+0756a8b1+', '+0756a8b2+');
  await assert.rejects(checkVkey(wrongId), malformed('bad_vkey'));
  const key = k.vkey.split('+')[2];
  for (const bad of ['nope', 'a+0756a8b1', `a+0756A8B1+${key}`, `a b+0756a8b1+${key}`,
    `+0756a8b1+${key}`, `a+0756a8b1+Ap${key.slice(2)}` /* type 0x02 */,
    'a+0756a8b1+AZ4ryAj0pg3fcHNf', `a+0756a8b1+${key.slice(0, -1)}` /* unpadded */,
    `a+0756a8b1+${key.replace('+', '-')}` /* url alphabet */]) {
    assert.throws(() => parseVkey(bad), malformed('bad_vkey'), bad);
  }
});

test('signed note: every malformed note of the vectors is refused', async () => {
  const v = parseVkey(sn.x_mod_peterneumann.vkey);
  for (const m of sn.malformed_notes_vs_PeterNeumann) {
    let refused = false;
    try {
      const n = parseNote(m.note);
      // parses, but must not verify (the corrupted signature from the known key)
      refused = !(await verifyLine(n.body, n.signatures[0], v)).ok;
    } catch (e) {
      refused = e.reason === 'malformed_note';
    }
    assert.ok(refused, m.desc);
  }
  const bad = (text, what) => {
    assert.throws(() => parseNote(text), malformed('malformed_note'), what);
  };
  bad('x\n\n\u2014 a AAAAAAA=\n\u2014 a AAAAAAA=\n', 'same key twice');
  bad('x\r\n\n\u2014 a AAAAAAA=\n', 'CR');
  bad('x\n\n\u2014 a AAAAAAA\n', 'unpadded');
  bad('x\n\n\u2014 a AAAA\n', 'too short');
  bad('x\n\n\u2014 a+b AAAAAAA=\n', 'a + in the name');
  bad('x\n\n\u2014 a\u00a0b AAAAAAA=\n', 'a Unicode space in the name');
  bad('x\n\n- a AAAAAAA=\n', 'not an em dash');
});

test('checkpoint: the fixture checkpoint verifies, with and without the witness', async () => {
  const k = sn.fixture_log_key;
  const r = await verifyCheckpoint(k.checkpoint_signed, { logVkey: k.vkey });
  assert.equal(r.ok, true, r.reason);
  assert.equal(r.size, 70000);
  assert.equal(hex(r.root), k.checkpoint_root_hex);
  assert.equal(r.origin, k.name);
  assert.equal(r.logSignature, true);
  const c = sn.fixture_cosignature_v1;
  const keys = { logVkey: k.vkey, witnesses: [c.vkey], quorum: 1 };
  const w = await verifyCheckpoint(c.checkpoint_with_cosig, keys);
  assert.equal(w.ok, true, w.reason);
  assert.deepEqual(w.quorum, { needed: 1, have: 1 });
  assert.equal(w.cosignatures[0].time, Number(c.timestamp));
  assert.equal(w.cosignatures[0].ok, true);
  assert.equal(w.cosignatures[0].name, c.witness_name);
  // the signed message of the vector is the one built here
  assert.equal(hex(cosignatureMessage(k.checkpoint_text, c.timestamp)), c.signed_message_hex);
  // the tampered timestamp: a bad cosignature from a trusted witness
  const nl = (s) => (s.endsWith('\n') ? s : `${s}\n`);
  const line = nl(c.tampered_timestamp_sig);
  const t = await verifyCheckpoint(k.checkpoint_signed + line, keys);
  assert.equal(t.ok, false);
  assert.equal(t.reason, 'bad_cosignature');
  // no witness line but a quorum wanted
  const q = await verifyCheckpoint(k.checkpoint_signed, keys);
  assert.equal(q.reason, 'no_quorum');
  assert.deepEqual(q.quorum, { needed: 1, have: 0 });
  // the tlog-witness vector: the witness's answer line cosigns the new checkpoint
  const answered = tw.new_checkpoint + nl(tw.step2_expected_response);
  const a = await verifyCheckpoint(answered, { ...keys, witnesses: [tw.witness_vkey] });
  assert.equal(a.ok, true, a.reason);
  assert.equal(a.cosignatures[0].time, tw.witness_timestamp);
});

test('checkpoint: another key, another origin, a malformed one', async () => {
  const k = sn.fixture_log_key;
  const keys = { logVkey: k.vkey };
  const other = await seededKey(k.name, 1, 'another key, same name');
  const forged = checkpointNote(k.name, 70000, fromHexStr(k.checkpoint_root_hex), other);
  const f = await verifyCheckpoint(forged, keys);
  assert.equal(f.reason, 'bad_log_signature');
  assert.equal(f.logSignature, false);
  const elsewhere = await seededKey('other.example/log', 1, 'another log');
  const theirs = checkpointNote('other.example/log', 5, new Uint8Array(32), elsewhere);
  assert.equal((await verifyCheckpoint(theirs, keys)).reason, 'wrong_origin');
  // the log's own key signing another origin is still another log's checkpoint
  const body = k.checkpoint_text.replace(k.name, 'evil.example/log');
  const m = await verifyCheckpoint(k.checkpoint_signed.replace(k.checkpoint_text, body), keys);
  assert.equal(m.reason, 'wrong_origin');
  // one changed byte of the root: the log signature fails
  const flipped = k.checkpoint_signed.replace('kG2TZ', 'kG2TY');
  assert.equal((await verifyCheckpoint(flipped, keys)).reason, 'bad_log_signature');
  for (const bad of ['', 'x\n', `${k.name}\n01\nAAAA\n\n\u2014 a AAAAAAA=\n`]) {
    const r = await verifyCheckpoint(bad, keys);
    assert.equal(r.reason, 'malformed_checkpoint', JSON.stringify(bad));
  }
  const g = await verifyCheckpoint(k.checkpoint_signed, { logVkey: 'garbage' });
  assert.equal(g.reason, 'bad_vkey');
});

test('checkpoint: parsing rules', () => {
  const root = 'kG2TZtLFQMkQ4FHxvb3TH+PRqaFIlqFJaINutFl2M+A=';
  const c = parseCheckpoint(`o\n12\n${root}\next one\n`);
  assert.deepEqual([c.origin, c.size, c.rootB64, c.extensions], ['o', 12, root, ['ext one']]);
  for (const bad of [`o\n012\n${root}\n`, `o\n-1\n${root}\n`, `o\n1\n${root}`, `\n1\n${root}\n`,
    'o\n1\nAAAA\n', `o\n1\n${root}\n\n`, `o\n0\n${root}\n`, `o\n99999999999999999\n${root}\n`,
    `o\n1\n${root.replace('+', '-')}\n`]) {
    const what = JSON.stringify(bad);
    assert.throws(() => parseCheckpoint(bad), malformed('malformed_checkpoint'), what);
  }
  assert.equal(parseCheckpoint('o\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n').size, 0);
});
