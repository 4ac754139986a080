// Every context the log announced: its logged entry, the counts logged so far while it is
// open, the logged tally after close (recounted here from the log's action entries), and a
// statement round's bridging results and opinion groups, read from the log's result files
// and checked against the hashes its tally holds.
import { h, clear, dl, table, badge, checkedHere, code, shorten } from './dom.js';
import { t, fmtTime, fmtNum } from '../i18n.js';
import { bars, stacked, scatter } from '../charts.js';
import { liveCounts } from '../entry.js';
import { parseBridging, parseGroups, checkFile } from '../results.js';
import { hex } from '../bytes.js';

const files = new Map();   // "ctx:hash" → {state: 'loading'|'ok'|'bad'|'none', parsed, reason}

function val(e) { return e && e.entry ? e.entry : e; }
function num(x) { return typeof x === 'bigint' ? Number(x) : x; }
function hx(b) { return b instanceof Uint8Array ? hex(b) : String(b || ''); }

// the counts as a Map key → [count, sum] (an assembly's sum is its count)
function counts(result) {
  const m = new Map();
  if (!result) return m;
  const ent = result instanceof Map ? [...result.entries()] : Object.entries(result);
  for (const [k, v] of ent) {
    if (Array.isArray(v)) m.set(k, [num(v[0]), num(v[1])]);
    else m.set(k, [num(v), num(v)]);
  }
  return m;
}

function sameCounts(a, b) {
  const keys = new Set([...a.keys(), ...b.keys()]);
  for (const k of keys) {
    const x = a.get(k) || [0, 0], y = b.get(k) || [0, 0];
    if (x[0] !== y[0] || x[1] !== y[1]) return false;
  }
  return true;
}

export function render(el, st, ui) {
  clear(el);
  el.append(h('h2', { id: 'h-contexts', text: t('ctx.title') }));
  if (!st.summary) {
    const bad = st.check && !st.check.ok;
    el.append(h('p', bad ? { class: 'alert', role: 'alert', text: t('ctx.unverified', { reason: t('reason.' + st.check.reason) }) }
      : { text: st.error ? t('status.error', { error: st.error }) : t('status.loading') }));
    return;
  }
  const list = [...st.summary.contexts.values()].sort((a, b) => num(a.index) - num(b.index));
  el.append(h('p', { class: 'note', text: t('ctx.intro', { n: list.length, size: st.check.size }) }));
  if (!list.length) el.append(h('p', { text: t('ctx.none') }));
  const nav = h('ul', { class: 'toc' }, list.map((c) =>
    h('li', {}, h('a', { href: '#contexts', 'data-target': 'ctx-' + val(c.entry).id,
      onclick: (ev) => { ev.preventDefault(); const x = document.getElementById('ctx-' + val(c.entry).id); if (x) { x.focus(); x.scrollIntoView(); } },
      text: val(c.entry).title }))));
  if (list.length > 1) el.append(nav);
  for (const c of list) el.append(contextCard(c, st, ui));
}

function contextCard(c, st, ui) {
  const e = val(c.entry);
  const now = Date.now() / 1000;
  const opens = num(e.opens), closes = num(e.closes);
  const state = c.tally ? 'tallied' : now < opens ? 'upcoming' : now < closes ? 'open' : 'closed';
  const art = h('article', { class: 'context', id: 'ctx-' + e.id, tabindex: '-1',
    'aria-labelledby': 'ctxh-' + e.id, dataset: { ctx: e.id, state } });
  art.append(h('h3', { id: 'ctxh-' + e.id }, e.title,
    h('span', { class: 'pill ' + state, text: t('ctx.state.' + state) })));
  const isRound = e.type === 'rating';
  const kind = e.rating_kind ? t('ctx.kind.' + e.rating_kind) : '';
  art.append(dl([
    [t('ctx.id'), code(e.id)],
    [t('ctx.type'), t('ctx.type.' + e.type) + (kind ? ` — ${kind}` : '') +
      (e.statements ? ` (${t('ctx.statementround')})` : '')],
    isRound ? [t('ctx.scale'), scaleText(e)] : [t('ctx.choices'), (e.choices || []).join(', ')],
    [t('ctx.window'), `${fmtTime(opens)} – ${fmtTime(closes)}`],
    [t('ctx.quota'), String(num(e.quota)) + (e.statements ? ' · ' + t('ctx.perperson', { n: num(e.statements) }) : '')],
    [t('ctx.keyid'), code(shorten(hx(e.token_key_id), 20), 'mono')],
    [t('ctx.index'), String(num(c.index))],
  ]));

  const live = counts(liveCounts(c));
  const nActions = (c.actions || []).length;
  if (!c.tally) {
    art.append(h('h4', { text: t('ctx.sofar') }));
    art.append(h('p', { class: 'note', text: t('ctx.sofar.note', { n: nActions, size: st.check.size }) }));
    art.append(countsView(e, live, c, 'live', st));
    return art;
  }
  const ty = val(c.tally.entry);
  const logged = counts(ty.result);
  art.append(h('h4', { text: t('ctx.tally') }));
  art.append(h('p', { class: 'note', text: t('ctx.tally.note', { index: num(c.tally.index),
    size: num(ty.size), time: fmtTime(num(ty.time)), algorithm: ty.algorithm }) }));
  art.append(countsView(e, logged, c, 'tally', st));
  // the browser's own recount, from the action entries below the tally's size
  const recount = counts(liveCounts(c, num(ty.size)));
  const same = sameCounts(recount, logged);
  art.append(same ? checkedHere(t('ctx.recount.same', { n: nActions }))
    : h('p', { class: 'alert', role: 'alert', text: t('ctx.recount.differs') }));
  if (ty.bridging || ty.groups) art.append(resultsView(e, c, ty, st, ui));
  return art;
}

function scaleText(e) {
  const sc = (e.scale || []).map(num);
  if (e.rating_kind === 'agreement') return t('ctx.scale.agreement');
  if (e.rating_kind === 'helpfulness') return t('ctx.scale.helpfulness');
  return `${sc[0]} … ${sc[1]}`;
}

function ratingLabel(e, v) {
  if (e.rating_kind === 'agreement') return t('rate.agreement.' + v);
  if (e.rating_kind === 'helpfulness') return t('rate.helpfulness.' + v);
  return String(v);
}

function countsView(e, m, c, role, st) {
  const wrap = h('div', { class: 'counts', dataset: { role } });
  if (e.type === 'assembly') {
    const items = (e.choices || []).map((ch) => ({ label: ch, value: (m.get(ch) || [0])[0],
      data: { key: ch, count: String((m.get(ch) || [0])[0]) } }));
    wrap.append(bars(t(role === 'live' ? 'ctx.bars.live' : 'ctx.bars.tally', { title: e.title }),
      items, { head: [t('ctx.choice'), t('ctx.votes')] }));
    return wrap;
  }
  // a rating round: per target its count and sum, and its distribution of values
  const texts = st.texts.get(e.id) || new Map();
  const dist = new Map();
  const limit = role === 'tally' ? num(val(c.tally.entry).size) : Infinity;
  // as the count takes them: in the window, on the scale, a pseudonym's first rating of a target
  const seen = new Set();
  const sc0 = (e.scale || [0, 0]).map(num);
  for (const a of c.actions || []) {
    const x = val(a);
    if (x.target === undefined || (a.index !== undefined && num(a.index) >= limit)) continue;
    const r = num(x.rating), time = num(x.time);
    if (time < num(e.opens) || time >= num(e.closes) || r < sc0[0] || r > sc0[1]) continue;
    const once = hx(x.pseudonym) + '\0' + x.target;
    if (seen.has(once)) continue;
    seen.add(once);
    if (!dist.has(x.target)) dist.set(x.target, new Map());
    const d = dist.get(x.target);
    d.set(num(x.rating), (d.get(num(x.rating)) || 0) + 1);
  }
  const sc = (e.scale || [0, 0]).map(num);
  const values = [];
  for (let v = sc[1]; v >= sc[0]; v--) values.push(v);
  const rows = [...m.entries()].sort((a, b) => b[1][1] / b[1][0] - a[1][1] / a[1][0]);
  const list = h('ol', { class: 'ratings' });
  for (const [target, [n, sum]] of rows) {
    const d = dist.get(target) || new Map();
    const label = texts.get(target) || target;
    list.append(h('li', { dataset: { key: target, count: String(n), sum: String(sum) } },
      h('p', { class: 'stmt' }, h('span', { text: label }),
        texts.has(target) ? h('code', { class: 'mono id', text: target.slice(0, 8) }) : null),
      h('p', { class: 'small', text: t('ctx.rating.summary', { n, sum, mean: n ? (sum / n).toFixed(2) : '—' }) }),
      stacked(t('ctx.rating.dist', { label: shorten(label, 60) }),
        values.map((v) => ({ label: ratingLabel(e, v), count: d.get(v) || 0, cls: 'v' + (v - sc[0]) + ' of' + (sc[1] - sc[0]) })),
        [t('ctx.rating.value'), t('ctx.rating.count')])));
  }
  wrap.append(list);
  // the numbers as one table, as the tally holds them
  wrap.append(h('details', {}, h('summary', { text: t('ctx.rating.table') }),
    table(t('ctx.rating.table'), [t('ctx.target'), t('ctx.rating.count'), t('ctx.rating.sum')],
      rows.map(([k, [n, s]]) => h('tr', { dataset: { key: k, count: String(n), sum: String(s) } },
        h('th', { scope: 'row' }, texts.get(k) || k), h('td', { text: String(n) }), h('td', { text: String(s) }))),
      { dataset: { role } })));
  return wrap;
}

// a statement round's results: the files named by the tally's hashes, checked and parsed here
function resultsView(e, c, ty, st, ui) {
  const box = h('div', { class: 'results' });
  const texts = st.texts.get(e.id) || new Map();
  const sorted = [...texts.keys()].sort();
  const byIndex = (i) => sorted[i];
  const label = (i) => texts.get(byIndex(i)) || byIndex(i) || '#' + i;
  box.append(h('h4', { text: t('res.bridging') }));
  const b = fileState(e.id, ty.bridging && ty.bridging.result, parseBridging, st, ui);
  box.append(fileNote(b, 'bridging'));
  if (b.state === 'ok') box.append(bridgingView(e, b.parsed, ty.bridging, label, byIndex));
  box.append(h('h4', { text: t('res.groups') }));
  const g = fileState(e.id, ty.groups && ty.groups.result, parseGroups, st, ui);
  box.append(fileNote(g, 'groups'));
  if (g.state === 'ok') box.append(groupsView(e, g.parsed, label));
  return box;
}

function fileNote(f, which) {
  if (f.state === 'loading') return h('p', { class: 'note', text: t('res.loading') });
  if (f.state === 'none') return h('p', { class: 'note', text: t('res.none') });
  if (f.state === 'bad') return h('p', { class: 'alert', role: 'alert', text: t('res.bad', { reason: f.reason }) });
  return checkedHere(t('res.checked.' + which, { hash: f.hash.slice(0, 16) }));
}

function fileState(ctx, hash, parse, st, ui) {
  if (!hash) return { state: 'none' };
  const hh = hx(hash);
  const k = ctx + ':' + hh;
  if (files.has(k)) return files.get(k);
  const f = { state: 'loading', hash: hh };
  files.set(k, f);
  (async () => {
    const r = await fetch(`${st.base}/files/${hh}`);
    if (!r.ok) throw new Error(`GET /files/${hh}: HTTP ${r.status}`);
    const bytes = new Uint8Array(await r.arrayBuffer());
    const ok = await checkFile(bytes, hash instanceof Uint8Array ? hash : hh);
    if (!(ok === true || (ok && ok.ok))) throw new Error(t('res.hashmismatch'));
    f.parsed = parse(bytes);
    f.state = 'ok';
  })().catch((err) => { f.state = 'bad'; f.reason = err.message || String(err); })
    .finally(() => ui.rerender());
  return f;
}

function bridgingView(e, r, tb, label, byIndex) {
  const helpful = new Set((tb.helpful || []).map(String));
  const stmts = r.statements.map((s, i) => ({ ...s, i, id: byIndex(i) }));
  const pts = stmts.map((s, k) => ({ x: s.factor, y: s.intercept, tag: 'S' + (k + 1),
    cls: s.status === 'helpful' || helpful.has(s.id) ? 'helpful' : s.status === 'not_helpful' ? 'nothelpful' : '',
    label: label(s.i), r: 7 }));
  const rows = stmts.map((s, k) => ({ data: { id: s.id || '', status: String(s.status) },
    cells: ['S' + (k + 1) + ' ' + label(s.i), fmtNum(s.intercept, 3), fmtNum(s.factor, 3),
      t('res.status.' + s.status), String(s.ratings ?? '')] }));
  return h('div', {},
    h('p', { class: 'note', text: t('res.bridging.note', { min1: tb.min_ratings_per_rater, min2: tb.min_raters_per_note }) }),
    scatter(t('res.bridging.caption'), pts, { xLabel: t('res.factor'), yLabel: t('res.intercept'),
      legend: [{ cls: 'helpful', label: t('res.status.helpful') }, { cls: 'nothelpful', label: t('res.status.not_helpful') },
        { cls: 'other', label: t('res.status.needs_more_ratings') }],
      table: { caption: t('res.bridging.table'), head: [t('res.statement'), t('res.intercept'), t('res.factor'),
        t('res.status'), t('res.ratings')], rows, visible: true } }));
}

function groupsView(e, r, label) {
  const k = num(r.k);
  const parts = r.members || [];
  const pts = parts.map((p) => ({ x: p.x, y: p.y, r: 4,
    cls: p.group < 0 ? 'g-none' : 'g' + (p.group % 6) }));
  const sizes = (r.sizes || []).map(num);
  const summary = sizes.map((n, g) => ({ data: { group: String(g), size: String(n) },
    cells: [t('res.group', { g: String.fromCharCode(65 + g) }), String(n)] }));
  const out = h('div', { class: 'groups' });
  out.append(h('p', { class: 'note', text: t('res.groups.note', { k, p: parts.length, clustered: num(r.clustered) }) }));
  out.append(scatter(t('res.groups.caption'), pts, { xLabel: t('res.pc1'), yLabel: t('res.pc2'),
    legend: sizes.map((n, g) => ({ cls: 'g' + (g % 6), label: t('res.group', { g: String.fromCharCode(65 + g) }) }))
      .concat(pts.some((p) => p.cls === 'g-none') ? [{ cls: 'g-none', label: t('res.unclustered') }] : []),
    table: { caption: t('res.groups.sizes'), head: [t('res.grouphead'), t('res.size')], rows: summary, visible: true } }));
  const reps = r.representative || [];
  const gl = h('div', { class: 'replist' });
  reps.forEach((list, g) => {
    gl.append(h('section', { class: 'rep g' + (g % 6), 'aria-label': t('res.group', { g: String.fromCharCode(65 + g) }) },
      h('h5', {}, h('span', { class: 'swatch g' + (g % 6), 'aria-hidden': 'true' }),
        t('res.rep', { g: String.fromCharCode(65 + g), n: sizes[g] ?? '' })),
      list.length ? h('ul', {}, list.map((s) => h('li', { dataset: { id: '' } },
        h('span', { class: 'dir ' + (s.direction === 'agree' ? 'agree' : 'disagree'),
          text: t(s.direction === 'agree' ? 'res.agree' : 'res.disagree') }),
        ' ', label(num(s.index)),
        h('span', { class: 'small', text: ' ' + t('res.rep.stat', { a: num(s.successes), n: num(s.votes), p: fmtNum(s.p, 2) }) }))))
        : h('p', { class: 'small', text: t('res.rep.none') })));
  });
  out.append(gl);
  const cons = (r.consensus || []).slice(0, 10);
  out.append(h('h5', { text: t('res.consensus') }));
  out.append(h('ol', { class: 'consensus' }, cons.map((s) =>
    h('li', {}, label(num(s.index)), h('span', { class: 'small', text: ` (${fmtNum(s.consensus, 3)})` })))));
  return out;
}
