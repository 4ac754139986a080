import test from 'node:test';
import assert from 'node:assert/strict';
import { decodeCbor } from '../../../web/js/cbor.js';
import { fromHexStr, cbor } from './helpers.mjs';

const ok = (h) => decodeCbor(fromHexStr(h));
const refused = (h, what) => {
  assert.throws(() => ok(h), (e) => e.reason === 'malformed_entry', `${what}: ${h}`);
};

test('CBOR: accepts the deterministic profile', () => {
  assert.equal(ok('00'), 0);
  assert.equal(ok('17'), 23);
  assert.equal(ok('1818'), 24);
  assert.equal(ok('18ff'), 255);
  assert.equal(ok('190100'), 256);
  assert.equal(ok('1a00010000'), 65536);
  assert.equal(ok('1b0000000100000000'), 2 ** 32);
  assert.equal(ok('1b001fffffffffffff'), Number.MAX_SAFE_INTEGER);
  assert.equal(ok('20'), -1);
  assert.equal(ok('3903e7'), -1000);
  assert.deepEqual(ok('43010203'), new Uint8Array([1, 2, 3]));
  assert.equal(ok('6449455446'), 'IETF');
  assert.equal(ok('62c3bc'), 'ü');
  assert.deepEqual(ok('83010203'), [1, 2, 3]);
  assert.equal(ok('f4'), false);
  assert.equal(ok('f5'), true);
  assert.equal(ok('f6'), null);
  const m = ok('a2616101616202');
  assert.equal(Object.getPrototypeOf(m), null);
  assert.deepEqual({ ...m }, { a: 1, b: 2 });
  // §4.2.1 orders by encoded key: "b" before "aa" (shorter first)
  assert.deepEqual({ ...ok('a261620162616102') }, { b: 1, aa: 2 });
  // our test encoder and the decoder agree on a whole entry
  const e = { kind: 'context', v: 1, id: 'x', choices: ['yes', 'no'], scale: [-2, 2],
    key: new Uint8Array([9]), t: 1767225600 };
  assert.deepEqual({ ...ok(Buffer.from(cbor(e)).toString('hex')) }, e);
  // 16 nested containers are accepted, 17 are not
  ok('81'.repeat(15) + '80');
  refused('81'.repeat(16) + '80', 'too deep');
});

test('CBOR: refuses what the profile refuses', () => {
  refused('1817', 'non-shortest uint (1 byte)');
  refused('1900ff', 'non-shortest uint (2 bytes)');
  refused('1a0000ffff', 'non-shortest uint (4 bytes)');
  refused('1b00000000ffffffff', 'non-shortest uint (8 bytes)');
  refused('3817', 'non-shortest negint');
  refused('5801ff', 'non-shortest byte string length');
  refused('a2616101616102', 'duplicate key');
  refused('a2616201616102', 'keys out of order');
  refused('a262616101616202', 'longer key before shorter');
  refused('a10101', 'integer key');
  refused('0000', 'trailing bytes');
  refused('a1616101ff', 'trailing bytes after a map');
  refused('9f01ff', 'indefinite array');
  refused('5f4101ff', 'indefinite byte string');
  refused('bf616101ff', 'indefinite map');
  refused('c249010000000000000000', 'tag');
  refused('f93c00', 'half float');
  refused('fb3ff0000000000000', 'double');
  refused('f7', 'undefined');
  refused('e0', 'simple value');
  refused('1b0020000000000000', 'integer beyond 2^53');
  refused('3b0020000000000000', 'negative integer beyond -2^53');
  refused('62c0af', 'overlong UTF-8');
  refused('63eda080', 'surrogate in UTF-8');
  refused('45010203', 'byte string past the end');
  refused('9a7fffffff', 'huge array');
  refused('', 'empty');
  refused('1c', 'reserved');
});
