// Receipt lookup: a receipt as the wallet prints it (`onevoice receipt CONTEXT`), pasted,
// dropped, chosen as a file or given in the URL (#receipt=<base64url of the JSON>), checked
// here against the log: the checkpoint's signature and cosignatures, the inclusion proof,
// the entry's hash, and consistency with the checkpoints seen before.
import { h, clear, dl, code } from './dom.js';
import { t, fmtTime } from '../i18n.js';
import { verifyReceipt } from '../receipt.js';
import { decodeEntry } from '../entry.js';
import { b64decode, utf8decode } from '../bytes.js';

export const keep = true;   // not rebuilt at each refresh of the log
const ui = { text: '', result: null, busy: false, fromUrl: false, built: null };

function hashReceipt() {
  const m = /^#receipt=([A-Za-z0-9_-]+={0,2})$/.exec(location.hash);
  if (!m) return null;
  try {
    const b64 = m[1].replace(/-/g, '+').replace(/_/g, '/');
    return utf8decode(b64decode(b64 + '='.repeat((4 - (b64.length % 4)) % 4)));
  } catch (e) {
    return '';
  }
}

function num(x) { return typeof x === 'bigint' ? Number(x) : x; }

export function render(el, st) {
  const fromHash = hashReceipt();
  if (fromHash !== null && fromHash !== ui.urlText) {
    ui.urlText = fromHash;
    ui.text = fromHash;
    ui.result = null;
    ui.urlPending = true;
  }
  if (ui.urlPending && st.keys && st.loaded) {
    ui.urlPending = false;
    queueMicrotask(() => check(st));
  }
  clear(el);
  el.append(h('h2', { id: 'h-receipt', text: t('rc.title') }));
  el.append(h('p', { text: t('rc.intro') }));
  el.append(h('p', { class: 'note' }, t('rc.how') + ' ', code('onevoice --wallet me.db receipt CONTEXT --out receipt.json')));
  const ta = h('textarea', { id: 'receipt-text', rows: 8, spellcheck: 'false', autocomplete: 'off',
    'aria-describedby': 'receipt-help', oninput: () => { ui.text = ta.value; } });
  ta.value = ui.text;
  const file = h('input', { type: 'file', id: 'receipt-file', accept: '.json,application/json,text/plain',
    onchange: async () => {
      if (file.files && file.files[0]) { ui.text = await file.files[0].text(); ta.value = ui.text; check(st); }
    } });
  const drop = h('div', { class: 'drop', id: 'receipt-drop' },
    h('label', { for: 'receipt-text', text: t('rc.paste') }),
    h('p', { id: 'receipt-help', class: 'small', text: t('rc.drop') }),
    ta);
  drop.addEventListener('dragover', (ev) => { ev.preventDefault(); drop.classList.add('over'); });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', async (ev) => {
    ev.preventDefault();
    drop.classList.remove('over');
    const f = ev.dataTransfer && ev.dataTransfer.files && ev.dataTransfer.files[0];
    ui.text = f ? await f.text() : (ev.dataTransfer.getData('text') || '');
    ta.value = ui.text;
    check(st);
  });
  el.append(h('form', { class: 'receipt', onsubmit: (ev) => { ev.preventDefault(); check(st); } },
    drop,
    h('p', { class: 'row' },
      h('label', { for: 'receipt-file', class: 'filelabel', text: t('rc.file') }), file),
    h('p', { class: 'row' },
      h('button', { type: 'submit', id: 'receipt-check', disabled: ui.busy ? true : null, text: t('rc.check') }),
      h('button', { type: 'button', class: 'secondary', onclick: () => { ui.text = ''; ui.result = null; ta.value = ''; if (location.hash.startsWith('#receipt=')) history.replaceState(null, '', '#receipt'); render(el, st); }, text: t('rc.clear') }))));
  const out = h('div', { id: 'receipt-result', class: 'result', role: 'status', 'aria-live': 'polite', 'aria-atomic': 'true' });
  el.append(out);
  if (ui.busy) out.append(h('p', { text: t('rc.checking') }));
  else if (ui.result) out.append(resultView(ui.result, st));
  ui.el = el;
}

async function check(st) {
  if (ui.busy) return;
  ui.busy = true;
  rerender(st);
  let r;
  try {
    r = await verifyReceipt(ui.text, { tlog: st.tlog, logVkey: st.keys.vkey,
      witnesses: st.keys.witnesses, quorum: st.keys.quorum, seen: st.history });
  } catch (e) {
    r = { ok: false, reason: 'error', detail: e && e.message ? e.message : String(e) };
  }
  ui.result = r;
  ui.busy = false;
  rerender(st);
}

function rerender(st) {
  if (ui.el && !ui.el.hidden) {
    const focused = document.activeElement && document.activeElement.id;
    render(ui.el, st);
    if (focused) { const f = document.getElementById(focused); if (f) f.focus(); }
  }
}

function targetText(st, e) {
  const m = st.texts && st.texts.get(e.context);
  return m && m.has(e.target) ? `“${m.get(e.target)}”` : e.target;
}

function ratingText(st, e) {
  const c = st.summary && st.summary.contexts.get(e.context);
  const kind = c && c.entry.rating_kind;
  return kind ? t(`rate.${kind}.${num(e.rating)}`) : String(num(e.rating));
}

function resultView(r, st) {
  if (!r.ok) {
    return h('div', { class: 'verdict bad', dataset: { ok: 'false', reason: r.reason } },
      h('p', { class: 'big' }, h('span', { 'aria-hidden': 'true', text: '✗ ' }), t('rc.fail')),
      h('p', { class: 'reason', text: t('reason.' + r.reason) }),
      r.detail ? h('p', { class: 'small', text: r.detail }) : null);
  }
  let e = r.entry;
  if (e instanceof Uint8Array) { try { e = decodeEntry(e); } catch (x) { e = {}; } }
  e = e || {};
  const what = e.kind === 'statement' ? t('rc.what.statement', { text: e.text })
    : e.choice !== undefined ? t('rc.what.choice', { choice: e.choice })
      : e.target !== undefined ? t('rc.what.rating', { target: targetText(st, e), rating: ratingText(st, e) })
        : e.kind || '';
  return h('div', { class: 'verdict ok', dataset: { ok: 'true', index: String(num(r.index)) } },
    h('p', { class: 'big' }, h('span', { 'aria-hidden': 'true', text: '✓ ' }), t('rc.ok')),
    dl([
      [t('rc.context'), code(e.context || '')],
      [t('rc.recorded'), what],
      [t('rc.index'), String(num(r.index))],
      [t('rc.time'), e.time !== undefined ? fmtTime(num(e.time)) : '—'],
      [t('rc.platform'), e.platform || '—'],
      [t('rc.checkpoint'), r.checkpoint ? t('rc.cp', { size: num(r.checkpoint.size) }) : '—'],
    ]),
    h('p', { class: 'checked' }, h('span', { 'aria-hidden': 'true', text: '✓ ' }),
      h('strong', { text: t('checked.here') + ' ' }), t('rc.checks')));
}
