import test from 'node:test';
import assert from 'node:assert/strict';
import {
  ParseError, b64decode, b64encode, hex, fromHex, concat, equal, utf8, utf8decode, u16, u32, u64,
} from '../../../web/js/bytes.js';

test('base64: padded standard, url, unpadded, all to the same bytes', () => {
  const bytes = new Uint8Array([0xfb, 0xff, 0xbf, 0x00, 0x10]);
  assert.equal(b64encode(bytes), '+/+/ABA=');
  for (const s of ['+/+/ABA=', '-_-_ABA=', '+/+/ABA', '-_-_ABA']) {
    assert.deepEqual(b64decode(s), bytes, s);
  }
  assert.equal(b64encode(new Uint8Array(0)), '');
  assert.deepEqual(b64decode(''), new Uint8Array(0));
  for (let n = 0; n < 10; n++) {
    const b = new Uint8Array(n).map((_, i) => i * 37 + n);
    assert.equal(b64encode(b), Buffer.from(b).toString('base64'));
    assert.deepEqual(b64decode(b64encode(b)), b);
  }
});

test('base64: refuses what is not canonical base64', () => {
  for (const s of ['A', 'AB=', 'ABC==', 'A===', 'QQ=x', 'Q Q=', '+_AA', 'QR==', 'QUJ=', 'QQ==QQ==',
    'é===']) {
    const refused = (e) => e instanceof ParseError && e.reason === 'malformed_base64';
    assert.throws(() => b64decode(s), refused, s);
  }
});

test('hex, concat, equal', () => {
  assert.equal(hex(new Uint8Array([0, 1, 254, 255])), '0001feff');
  assert.deepEqual(fromHex('0001FEff'), new Uint8Array([0, 1, 254, 255]));
  assert.throws(() => fromHex('abc'), ParseError);
  assert.throws(() => fromHex('zz'), ParseError);
  const joined = concat(new Uint8Array([1]), new Uint8Array(0), new Uint8Array([2, 3]));
  assert.deepEqual(joined, new Uint8Array([1, 2, 3]));
  assert.ok(equal(new Uint8Array([1, 2]), new Uint8Array([1, 2])));
  assert.ok(!equal(new Uint8Array([1, 2]), new Uint8Array([1, 3])));
  assert.ok(!equal(new Uint8Array([1]), new Uint8Array([1, 0])));
});

test('UTF-8: strict decoding', () => {
  assert.equal(utf8decode(utf8('公園 ok')), '公園 ok');
  const bads = [[0xc0, 0x80], [0xed, 0xa0, 0x80], [0xe5, 0x85], [0xff], [0xf4, 0x90, 0x80, 0x80]];
  for (const bad of bads) {
    assert.throws(() => utf8decode(new Uint8Array(bad)), (e) => e.reason === 'malformed_utf8');
  }
});

test('big-endian readers', () => {
  const b = new Uint8Array([0xff, 0xfe, 0xfd, 0xfc, 0xfb, 0xfa, 0xf9, 0xf8, 0x01]);
  assert.equal(u16(b), 0xfffe);
  assert.equal(u32(b), 0xfffefdfc);
  assert.equal(u32(b, 1), 0xfefdfcfb);
  assert.equal(u64(b), 0xfffefdfcfbfaf9f8n);
});
