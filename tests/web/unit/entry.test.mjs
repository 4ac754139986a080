import test from 'node:test';
import assert from 'node:assert/strict';
import { decodeEntry, statementId, summarize, liveCounts } from '../../../web/js/entry.js';
import { cbor } from './helpers.mjs';

const T0 = 1767225600;
const pk = (n) => new Uint8Array(32).fill(n);
const tok = (n) => new Uint8Array(354).fill(n);
const common = {
  opens: T0, closes: T0 + 3600, quota: 1, issuer: 'issuer.example',
  token_key: new Uint8Array(342), token_key_id: new Uint8Array(32), time: T0 - 10,
};
const sample = {
  context: { kind: 'context', v: 1, id: 'budget', title: 'Budget', type: 'assembly',
    choices: ['yes', 'no', 'abstain'], ...common },
  rating: { kind: 'context', v: 1, id: 'parks', title: 'Parks', type: 'rating', scale: [1, 5],
    ...common },
};
const vote = (p, choice, time = T0 + 5, token = tok(p)) => ({
  kind: 'action', v: 1, context: 'budget', pseudonym: pk(p), token, choice, platform: 'web',
  sig: new Uint8Array(64), time,
});
const rate = (p, target, rating, token) => ({
  kind: 'action', v: 1, context: 'parks', pseudonym: pk(p), ...(token ? { token } : {}), target,
  rating, platform: 'web', sig: new Uint8Array(64), time: T0 + 5,
});

test('decodeEntry: a context, and what is not an entry', () => {
  const e = decodeEntry(cbor(sample.context));
  assert.equal(e.kind, 'context');
  assert.deepEqual(e.choices, ['yes', 'no', 'abstain']);
  for (const [bad, what] of [
    [{ kind: 'context', v: 2 }, 'v 2'], [{ v: 1 }, 'no kind'],
    [{ kind: 'frob', v: 1 }, 'unknown kind'],
    [[1, 2], 'an array'], [{ ...sample.context, id: 'Bad Id' }, 'id'],
    [{ ...sample.context, opens: T0 + 4000 }, 'window'],
    [{ kind: 'action', v: 1, context: 'x' }, 'action without fields']]) {
    assert.throws(() => decodeEntry(cbor(bad)), (e) => e.reason === 'malformed_entry', what);
  }
  assert.throws(() => decodeEntry(new TextEncoder().encode('fixture entry 1')),
    (e) => e.reason === 'malformed_entry');
});

test('statementId: the C unit test\'s vector', async () => {
  assert.equal(await statementId('town-budget', '公園要有更多樹蔭'),
    'd13c8c7e536c90ae0272a50de67baf3b');
});

test('summarize and liveCounts: an assembly with its tally', () => {
  const tally = { kind: 'tally', v: 1, context: 'budget', size: 8,
    algorithm: 'onevoice/plurality/v1', result: { abstain: 0, no: 1, yes: 2 }, time: T0 + 3600 };
  const entries = [
    cbor(sample.context),
    cbor({ kind: 'enrollment', v: 1, route: 'invite', n: 1, time: T0 }),
    cbor({ kind: 'issuance', v: 1, context: 'budget', tag: pk(9), n: 1, time: T0 }),
    cbor(vote(1, 'yes')),
    cbor(vote(2, 'no')),
    cbor(vote(3, 'yes')),
    cbor(vote(4, 'maybe')), // not a choice
    cbor(vote(5, 'yes', T0 + 5, tok(1))), // a token spent again
    cbor(tally),
    cbor(vote(6, 'no')), // past the tally's size
    cbor({ ...vote(7, 'x'), context: 'nowhere' }), // a context never announced
    new Uint8Array([0xff]),
  ];
  const s = summarize(entries, 100);
  const c = s.contexts.get('budget');
  assert.equal(c.index, 100);
  assert.equal(c.actions.length, 6);
  assert.equal(c.tally.index, 108);
  assert.equal(s.enrollments.length, 1);
  assert.equal(s.issuances.length, 1);
  assert.equal(s.orphans.length, 1);
  assert.deepEqual(s.malformed, [{ index: 111, reason: 'malformed_entry' }]);
  // the tally counts entries [0, 8): indices are the log's, so shift to match
  const counts = liveCounts(c, 108);
  assert.deepEqual({ ...counts }, { ...c.tally.entry.result });
  assert.deepEqual({ ...liveCounts(c, Infinity) }, { yes: 2, no: 2, abstain: 0 });
});

test('liveCounts: a rating round (admission, the first rating holds, the scale)', () => {
  const entries = [sample.rating, rate(1, 'oak', 5, tok(1)), rate(1, 'oak', 1), rate(1, 'elm', 3),
    rate(2, 'oak', 4, tok(2)), rate(3, 'oak', 2) /* never admitted */,
    rate(2, 'elm', 9) /* off the scale */, rate(4, 'elm', 2), rate(4, 'ash', 1, tok(4))]
    .map((e) => decodeEntry(cbor(e)));
  const c = summarize(entries).contexts.get('parks');
  assert.deepEqual({ ...liveCounts(c) }, { oak: [2, 9], elm: [2, 5], ash: [1, 1] });
});
