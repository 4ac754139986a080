// The auditor's report (`onevoice-audit --json`): fetched from /web/audit.json when the
// deployment publishes one, or pasted / dropped / chosen as a file. Shown as it is: the page
// does not check it (the auditor did; run it yourself to check it), except that its log and
// checkpoint are compared with the ones this page checked.
import { h, clear, dl, table, badge, code, shorten } from './dom.js';
import { t } from '../i18n.js';

export const keep = true;   // not rebuilt at each refresh of the log
const ui = { report: null, source: null, error: null, tried: false, text: '' };

async function fetchPublished(st, el) {
  ui.tried = true;
  try {
    const r = await fetch(`${st.base}/web/audit.json`, { cache: 'no-cache' });
    if (r.ok) { ui.report = JSON.parse(await r.text()); ui.source = 'published'; }
  } catch (e) {
    ui.error = e.message || String(e);
  }
  render(el, st);
}

function load(text, src, el, st) {
  try {
    ui.report = JSON.parse(text);
    if (typeof ui.report !== 'object' || !ui.report || !('ok' in ui.report)) throw new Error(t('au.notreport'));
    ui.source = src;
    ui.error = null;
  } catch (e) {
    ui.report = null;
    ui.error = e.message || String(e);
  }
  render(el, st);
  const r = document.getElementById('audit-result');
  if (r) r.focus();
}

export function render(el, st) {
  if (!ui.tried) fetchPublished(st, el);
  clear(el);
  el.append(h('h2', { id: 'h-audit', text: t('au.title') }));
  el.append(h('p', { text: t('au.intro') }));
  const ta = h('textarea', { id: 'audit-text', rows: 5, spellcheck: 'false',
    oninput: () => { ui.text = ta.value; } });
  ta.value = ui.text;
  const file = h('input', { type: 'file', id: 'audit-file', accept: '.json,application/json',
    onchange: async () => { if (file.files[0]) load(await file.files[0].text(), 'file', el, st); } });
  const drop = h('div', { class: 'drop' }, h('label', { for: 'audit-text', text: t('au.paste') }), ta);
  drop.addEventListener('dragover', (ev) => { ev.preventDefault(); drop.classList.add('over'); });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', async (ev) => {
    ev.preventDefault();
    const f = ev.dataTransfer.files && ev.dataTransfer.files[0];
    load(f ? await f.text() : ev.dataTransfer.getData('text'), 'file', el, st);
  });
  const form = h('form', { class: 'receipt', onsubmit: (ev) => { ev.preventDefault(); load(ta.value, 'pasted', el, st); } },
    drop,
    h('p', { class: 'row' }, h('label', { for: 'audit-file', class: 'filelabel', text: t('au.file') }), file),
    h('p', { class: 'row' }, h('button', { type: 'submit', text: t('au.show') })));
  const out = h('div', { id: 'audit-result', class: 'result', tabindex: '-1', role: 'region',
    'aria-live': 'polite', 'aria-label': t('au.title') });
  if (ui.error) out.append(h('p', { class: 'alert', role: 'alert', text: t('au.error', { error: ui.error }) }));
  if (ui.report) out.append(reportView(ui.report, st));
  else if (ui.tried) out.append(h('p', { class: 'note', text: t('au.nopublished') }));
  el.append(out, h('details', { open: !ui.report }, h('summary', { text: t(ui.report ? 'au.other' : 'au.give') }), form));
}

// a statement round's target is a statement id: its text when the log read here has it
function textOf(st, ctx, k) {
  const m = st.texts && st.texts.get(ctx);
  return m && m.has(k) ? m.get(k) : k;
}

function reportView(a, st) {
  const box = h('div', { class: 'report', dataset: { ok: String(!!a.ok) } });
  box.append(h('p', { class: 'note', text: t('au.source.' + ui.source) }));
  box.append(h('div', { class: a.ok ? 'verdict ok' : 'verdict bad' },
    h('p', { class: 'big' }, h('span', { 'aria-hidden': 'true', text: a.ok ? '✓ ' : '✗ ' }),
      a.ok ? t('au.ok') : t('au.bad', { n: (a.violations || []).length }))));
  const log = a.log || {}, cp = a.checkpoint || {};
  const sameLog = st.keys && log.vkey ? log.vkey === st.keys.vkey : null;
  box.append(dl([
    [t('au.log'), code(log.origin || '')],
    [t('au.vkey'), sameLog === null ? code(log.vkey || '')
      : badge(sameLog, t('au.samekey'), t('au.otherkey'))],
    [t('au.checkpoint'), t('au.cp', { size: cp.size, n: cp.cosignatures, quorum: log.quorum })],
    [t('au.read'), a.read ? t('au.readv', { n: a.read.entries, from: a.read.from, to: a.read.to }) : '—'],
    [t('au.entries'), a.entries ? Object.entries(a.entries).filter(([k, v]) => v && !k.includes('.'))
      .map(([k, v]) => `${k} ${v}`).join(' · ') : '—'],
  ]));
  box.append(h('h3', { text: t('au.contexts') }));
  for (const c of a.contexts || []) {
    const res = (c.recount && c.recount.result) || {};
    const agree = (c.tallies || []).length && (c.tallies || []).every((x) => x.ok);
    box.append(h('section', { class: 'auctx', 'aria-label': c.title, dataset: { ctx: c.id } },
      h('h4', { text: c.title }),
      h('p', { class: 'small' }, code(c.id), ' · ', t('ctx.type.' + c.type), ' · ',
        t('au.counts', { i: c.issuances, tok: c.tokens, a: c.actions })),
      badge(agree, t('au.tally.ok'), (c.tallies || []).length ? t('au.tally.bad') : t('au.tally.none')),
      table(t('au.recount', { size: c.recount && c.recount.size }), c.type === 'rating'
        ? [t('ctx.target'), t('ctx.rating.count'), t('ctx.rating.sum')] : [t('ctx.choice'), t('ctx.votes')],
      Object.entries(res).map(([k, v]) => h('tr', { dataset: { key: k } }, h('th', { scope: 'row', text: shorten(textOf(st, c.id, k), 80) }),
        Array.isArray(v) ? [h('td', { text: String(v[0]) }), h('td', { text: String(v[1]) })] : h('td', { text: String(v) }))))));
  }
  if ((a.draws || []).length) {
    box.append(h('h3', { text: t('au.draws') }));
    box.append(table(t('au.draws'), [t('au.draw'), t('au.panel'), t('au.verdict')],
      a.draws.map((d) => [d.title || d.id, `${d.panel} / ${d.members}`, h('span', { text: d.verdict, title: d.detail || '' })])));
  }
  box.append(h('h3', { text: t('au.violations') }));
  const v = a.violations || [];
  box.append(v.length ? table(t('au.violations'), [t('au.rule'), t('au.index'), t('au.context'), t('au.detail')],
    v.slice(0, 200).map((x) => [code(x.rule), x.index === null ? '—' : String(x.index), x.context || '—', x.detail || '']))
    : h('p', { text: t('au.noviolations') }));
  return box;
}


