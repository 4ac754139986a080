// entry.js: the log's onevoice entries (docs/PROTOCOL.md §3): decoding with light checks,
// statement ids (§11.3), grouping by context, and the live counts the page compares with a
// tally. The full rules (tokens, signatures) are the auditor's (onevoice-audit); the page
// counts what the log shows and says so.

import { ParseError, concat, hex, sha256, utf8 } from './bytes.js';
import { decodeCbor } from './cbor.js';

const KINDS = new Set(['context', 'enrollment', 'issuance', 'action', 'statement', 'tally',
  'invitations', 'sortition-commit', 'pool', 'sortition-reveal', 'draw']);
const CONTEXT_ID = /^[a-z0-9][a-z0-9-]{0,63}$/;

const isText = (v) => typeof v === 'string';
const isUint = (v) => Number.isSafeInteger(v) && v >= 0;
const isMap = (v) => v !== null && typeof v === 'object' && !Array.isArray(v) &&
  !(v instanceof Uint8Array);
const isBytes = (v, n) => v instanceof Uint8Array && (n === undefined || v.length === n);

function need(ok, what) {
  if (!ok) throw new ParseError('malformed_entry', what);
}

// Decodes an entry's bytes into its map (null prototype), checking the fields the page uses.
// Throws ParseError "malformed_entry".
export function decodeEntry(bytes) {
  const e = decodeCbor(bytes);
  need(isMap(e), 'not a map');
  need(isText(e.kind), 'no kind');
  need(e.v === 1, 'v is not 1');
  need(KINDS.has(e.kind), `unknown kind ${e.kind}`);
  switch (e.kind) {
    case 'context':
      need(isText(e.id) && CONTEXT_ID.test(e.id), 'context id');
      need(isText(e.title), 'title');
      need(isUint(e.opens) && isUint(e.closes) && e.opens < e.closes, 'window');
      if (e.type === 'assembly') {
        need(Array.isArray(e.choices) && e.choices.every(isText), 'choices');
      } else if (e.type === 'rating') {
        need(Array.isArray(e.scale) && e.scale.length === 2 &&
          e.scale.every(Number.isSafeInteger) && e.scale[0] < e.scale[1], 'scale');
      } else {
        need(false, 'context type');
      }
      break;
    case 'action':
      need(isText(e.context) && isBytes(e.pseudonym, 32) && isUint(e.time), 'action fields');
      need(isText(e.choice) || (isText(e.target) && Number.isSafeInteger(e.rating)),
        'choice or rating');
      need(e.token === undefined || isBytes(e.token), 'token');
      break;
    case 'statement':
      need(isText(e.context) && isBytes(e.pseudonym, 32) && isText(e.text) && isUint(e.time),
        'statement fields');
      break;
    case 'tally':
      need(isText(e.context) && isUint(e.size) && isText(e.algorithm), 'tally fields');
      need(isMap(e.result), 'tally result');
      break;
    case 'issuance':
      need(isText(e.context) && isBytes(e.tag, 32) && isUint(e.n), 'issuance fields');
      break;
    case 'enrollment':
      need(isText(e.route) && isUint(e.n), 'enrollment fields');
      break;
    case 'invitations':
      need(isUint(e.count) && isUint(e.total), 'invitations fields');
      break;
    default:
      break;
  }
  return e;
}

// §11.3: lowercase hex of
// SHA-256("onevoice/v1/statement" ‖ 0x00 ‖ context ‖ 0x00 ‖ text)[:16].
export async function statementId(contextId, text) {
  const h = await sha256(concat(utf8('onevoice/v1/statement'), new Uint8Array([0]), utf8(contextId),
    new Uint8Array([0]), utf8(text)));
  return hex(h.subarray(0, 16));
}

// Groups entries by context. entries: decoded maps or entry bytes (decoded here), the first at
// log index `start`. Entries naming a context not announced before them are in `orphans`
// (the auditor's rule: a context precedes what names it); undecodable ones in `malformed`.
// Returns {contexts: Map id → {entry, index, actions, statements, tally}, enrollments,
// issuances, invitations, others, orphans, malformed}; each listed item is {entry, index}.
export function summarize(entries, start = 0) {
  const out = {
    contexts: new Map(), enrollments: [], issuances: [], invitations: [], others: [], orphans: [],
    malformed: [],
  };
  entries.forEach((raw, i) => {
    const index = start + i;
    let entry = raw;
    if (raw instanceof Uint8Array) {
      try {
        entry = decodeEntry(raw);
      } catch (e) {
        out.malformed.push({ index, reason: e.reason || 'malformed_entry' });
        return;
      }
    }
    const item = { entry, index };
    const ctx = entry.context !== undefined ? out.contexts.get(entry.context) : undefined;
    switch (entry.kind) {
      case 'context':
        // The first entry with an id wins (as the verifier takes it).
        if (!out.contexts.has(entry.id)) {
          out.contexts.set(entry.id,
            { entry, index, actions: [], statements: [], tally: null, issuances: 0 });
        } else out.others.push(item);
        break;
      case 'action':
      case 'statement':
        if (!ctx) out.orphans.push(item);
        else (entry.kind === 'action' ? ctx.actions : ctx.statements).push(item);
        break;
      case 'tally':
        if (!ctx) out.orphans.push(item);
        else if (!ctx.tally) ctx.tally = item;
        else out.others.push(item);
        break;
      case 'issuance':
        out.issuances.push(item);
        if (ctx) ctx.issuances++;
        break;
      case 'enrollment':
        out.enrollments.push(item);
        break;
      case 'invitations':
        out.invitations.push(item);
        break;
      default:
        out.others.push(item);
    }
  });
  return out;
}

const key = (b) => hex(b);

// The counts of a context as the log shows them, in the shape of a tally entry's `result`:
// an assembly: choice → count (every choice listed); a rating round: target → [count, sum].
// Counted: entries below `size` (default: the tally's size, else everything), inside the
// window [opens, closes), a choice offered or a rating on the scale; a token counts once;
// a rating needs its pseudonym admitted by a token-carrying action or statement of the
// context in that range, and only a pseudonym's first rating of a target counts (§3).
// Tokens are not verified here (RSA blind signatures: the auditor's job).
export function liveCounts(context, size) {
  const c = context.entry;
  const limit = size ?? (context.tally ? context.tally.entry.size : Infinity);
  const inRange = (it) => it.index < limit && it.entry.time >= c.opens && it.entry.time < c.closes;
  const actions = context.actions.filter(inRange);
  const result = Object.create(null);
  if (c.type === 'assembly') {
    for (const ch of c.choices) result[ch] = 0;
    const spent = new Set();
    for (const { entry: a } of actions) {
      if (!a.token || !(a.choice in result)) continue;
      const t = key(a.token);
      if (spent.has(t)) continue;
      spent.add(t);
      result[a.choice]++;
    }
    return result;
  }
  const admitted = new Set();
  const spent = new Set();
  for (const { entry: a } of [...actions, ...context.statements.filter(inRange)]) {
    if (!a.token) continue;
    const t = key(a.token);
    if (spent.has(t)) continue;
    spent.add(t);
    admitted.add(key(a.pseudonym));
  }
  const rated = new Set();
  const [min, max] = c.scale;
  for (const { entry: a } of actions) {
    if (a.target === undefined || !Number.isSafeInteger(a.rating)) continue;
    if (a.rating < min || a.rating > max) continue;
    const p = key(a.pseudonym);
    if (!admitted.has(p)) continue;
    const once = `${p}/${a.target}`;
    if (rated.has(once)) continue;
    rated.add(once);
    const r = result[a.target] ?? (result[a.target] = [0, 0]);
    r[0]++;
    r[1] += a.rating;
  }
  return result;
}
