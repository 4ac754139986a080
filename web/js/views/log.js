// The log: its origin, the checkpoint checked here (the log's signature and each witness's
// cosignature, with its age), whether the quorum holds, the checkpoints seen, the keys.
import { h, clear, dl, table, badge, checkedHere, code } from './dom.js';
import { t, fmtTime, fmtAge } from '../i18n.js';
import { b64encode } from '../bytes.js';

export function keyId(vkey) {
  const p = String(vkey || '').split('+');   // name+id+key: a name has no '+', a key may
  return p.length >= 3 ? p[1] : '?';
}
function keyName(vkey) {
  return String(vkey || '').split('+')[0];
}
export function rootText(root) {
  if (root instanceof Uint8Array) return b64encode(root);
  return String(root || '');
}

export function render(el, st) {
  clear(el);
  el.append(h('h2', { id: 'h-log', text: t('log.title') }));
  if (!st.loaded) { el.append(h('p', { text: t('status.loading') })); return; }
  if (st.error && !st.check) {
    el.append(h('p', { class: 'alert', role: 'alert', text: t('status.error', { error: st.error }) }));
    return;
  }
  const k = st.keys, c = st.check;
  if (k && k.pin && k.pin.changed.length) {
    el.append(h('div', { class: 'alert', role: 'alert' },
      h('p', {}, h('strong', { text: t('pin.changed') })),
      h('ul', {}, k.pin.changed.map((ch) => h('li', {},
        t('pin.what.' + ch.what) + ': ', code(ch.was), ' → ', code(ch.now)))),
      h('p', { text: t('pin.explain') }),
      h('button', { type: 'button', onclick: () => st.repin(), text: t('pin.accept') })));
  }
  el.append(h('p', { class: 'note', text: t('log.keysource') }));
  const lastCosig = Math.max(0, ...(c.cosignatures || []).filter((x) => x.ok).map((x) => x.time));
  el.append(h('h3', { text: t('log.checkpoint') }));
  el.append(dl([
    [t('log.origin'), code(c.origin || k.origin || '')],
    [t('log.size'), h('span', { id: 'log-size', text: String(c.size ?? '') })],
    [t('log.root'), code(rootText(c.root), 'mono wrap')],
    [t('log.time'), lastCosig ? `${fmtTime(lastCosig)} (${fmtAge(Date.now() / 1000 - lastCosig)})` : '—'],
    [t('log.signature'), badge(!!c.logSignature, t('log.sig.ok'), t('reason.bad_log_signature'))],
    [t('log.quorum'), h('span', { id: 'log-quorum' }, badge(c.quorum && c.quorum.have >= c.quorum.needed,
      t('log.quorum.ok', c.quorum), t('log.quorum.bad', c.quorum)))],
  ]));
  if (c.ok) el.append(checkedHere(t('log.checked')));
  else el.append(h('p', { class: 'alert', role: 'alert', text: t('status.bad', { reason: t('reason.' + c.reason) }) }));

  el.append(h('h3', { text: t('log.witnesses') }));
  const now = Date.now() / 1000;
  // every configured witness, with its line in the note or none
  const rows = (c.cosignatures || []).map((w) => [
    w.name, code(keyId(w.vkey)), w.time ? fmtTime(w.time) : '—', w.time ? fmtAge(now - w.time) : '—',
    badge(w.ok, t('log.cosig.ok'), t(w.present === false ? 'log.cosig.none' : 'log.cosig.bad'))]);
  el.append(table(t('log.witnesses.caption'), [t('log.w.name'), t('log.w.key'), t('log.w.time'),
    t('log.w.age'), t('log.w.check')], rows));

  el.append(h('h3', { text: t('log.history') }));
  const hist = st.history ? st.history.list() : [];
  if (st.historyResult && st.historyResult.ok === false) {
    el.append(h('p', { class: 'alert', role: 'alert',
      text: t('log.history.bad', { reason: t('reason.' + st.historyResult.reason) }) }));
  }
  el.append(h('p', { class: 'note', text: t('log.history.note') }));
  el.append(table(t('log.history.caption'), [t('log.size'), t('log.root'), t('log.h.seen')],
    hist.slice().reverse().slice(0, 12).map((e) => [String(e.size), code(e.rootB64.slice(0, 16) + '…'),
      fmtTime(e.seen)])));
  if (hist.length > 12) el.append(h('p', { class: 'small', text: t('log.history.more', { n: hist.length - 12 }) }));

  el.append(h('h3', { text: t('log.keys') }));
  el.append(table(t('log.keys.caption'), [t('log.k.role'), t('log.k.name'), t('log.k.id'), t('log.k.vkey')],
    [[t('log.k.log'), keyName(k.vkey), code(keyId(k.vkey)), code(k.vkey, 'mono wrap')]].concat(
      k.witnesses.map((v) => [t('log.k.witness'), keyName(v), code(keyId(v)), code(v, 'mono wrap')]))));
  el.append(h('p', { class: 'note', text: k.pin && k.pin.first ? t('pin.first')
    : t('pin.since', { when: fmtTime((k.pin && k.pin.since || 0) / 1000) }) }));
}
