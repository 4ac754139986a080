// The transparency page: loads what the log serves (its keys, checkpoint, entries, result
// files), checks it in the browser with the webcore modules, and renders four views. The
// views are in views/*.js; every visible string is in i18n.js.
import { Tlog } from './tlog.js';
import { decodeEntry, summarize, statementId } from './entry.js';
import { CheckpointHistory } from './history.js';
import { initLang, setLang, getLang, t, applyStatic } from './i18n.js';
import * as logView from './views/log.js';
import * as contextsView from './views/contexts.js';
import * as receiptView from './views/receipt.js';
import * as auditView from './views/audit.js';

const VIEWS = { log: logView, contexts: contextsView, receipt: receiptView, audit: auditView };
const REFRESH_MS = 10000;

// the log serving this page: the page is at <log>/web/, its endpoints at <log>/
const base = new URL('..', location.href).href.replace(/\/$/, '');
const st = {
  base,
  tlog: new Tlog(base, (u, o) => fetch(u, o)),
  loaded: false,
  error: null,
  keys: null,        // {vkey, origin, quorum, witnesses, pin}
  check: null,       // verifyCheckpoint's answer
  history: null,     // CheckpointHistory
  entries: [],       // decoded entries [0, size)
  summary: null,
  fetchedAt: 0,
};

// the view named by the URL's fragment (#log, #contexts, #receipt[=...], #audit); another
// fragment (the skip link's #main) keeps the view shown
let current = 'log';
function viewFromHash() {
  const m = /^#([a-z]+)/.exec(location.hash);
  if (m && VIEWS[m[1]]) current = m[1];
  else if (!location.hash) current = 'log';
  return current;
}

function show(name, focus) {
  for (const sec of document.querySelectorAll('main > section[data-view]')) {
    sec.hidden = sec.dataset.view !== name;
  }
  for (const a of document.querySelectorAll('nav a[data-view]')) {
    if (a.dataset.view === name) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  renderView(name);
  if (focus) {
    const hd = document.querySelector(`#view-${name} h2`);
    if (hd) { hd.setAttribute('tabindex', '-1'); hd.focus(); }
  }
}

function renderView(name) {
  const el = document.getElementById('view-' + name);
  try {
    VIEWS[name].render(el, st, { rerender: () => renderView(name) });
  } catch (e) {
    console.error(e);
    el.textContent = t('error.render') + ' ' + (e && e.message ? e.message : e);
  }
}

// refresh: views that keep what the user typed (receipt, audit) are not rebuilt
function renderAll(fromRefresh) {
  const name = viewFromHash();
  if (fromRefresh && VIEWS[name].keep) return;
  renderView(name);
}

// each statement round's statements: context id → Map statement id → text (ids derived
// here from the texts, docs/PROTOCOL.md §11.3)
const idCache = new Map();
async function statementTexts(summary) {
  const out = new Map();
  for (const [id, c] of summary.contexts) {
    const m = new Map();
    for (const { entry } of c.statements) {
      const k = id + '\0' + entry.text;
      if (!idCache.has(k)) idCache.set(k, await statementId(id, entry.text));
      if (!m.has(idCache.get(k))) m.set(idCache.get(k), entry.text);
    }
    out.set(id, m);
  }
  return out;
}

// the keys, pinned in this browser at the first visit: a later change is shown as a warning
function pinKeys(keys) {
  const k = 'onevoice.pins:' + base;
  const now = { vkey: keys.vkey, witnesses: [...keys.witnesses].sort(), quorum: keys.quorum };
  let pinned = null;
  try { pinned = JSON.parse(localStorage.getItem(k) || 'null'); } catch (e) { pinned = null; }
  if (!pinned) {
    const p = { ...now, since: Date.now() };
    try { localStorage.setItem(k, JSON.stringify(p)); } catch (e) { /* private mode */ }
    return { first: true, since: p.since, changed: [] };
  }
  const changed = [];
  if (pinned.vkey !== now.vkey) changed.push({ what: 'log', was: pinned.vkey, now: now.vkey });
  const was = JSON.stringify(pinned.witnesses), is = JSON.stringify(now.witnesses);
  if (was !== is) changed.push({ what: 'witnesses', was: pinned.witnesses.join(' '), now: now.witnesses.join(' ') });
  if (pinned.quorum !== now.quorum) changed.push({ what: 'quorum', was: String(pinned.quorum), now: String(now.quorum) });
  return { first: false, since: pinned.since, changed, pinned };
}

// forgets the pinned keys (the user accepts the new ones)
export function repin() {
  try { localStorage.removeItem('onevoice.pins:' + base); } catch (e) { /* ignore */ }
  st.keys.pin = pinKeys(st.keys);
  renderAll();
}
st.repin = repin;

async function loadKeys() {
  const [vkey, w] = await Promise.all([st.tlog.vkey(), st.tlog.witnesses()]);
  const keys = { vkey: vkey.trim(), origin: w.origin, quorum: w.quorum, witnesses: w.witnesses };
  keys.pin = pinKeys(keys);
  return keys;
}

// the line under the menu (a polite live region): kept as a key, so a change of language
// says it again in the new one; a parameter named reason.* is a key too
function setStatus(s) {
  st.status = s;
  const [key, params] = s;
  const p = { ...(params || {}) };
  if (typeof p.reason === 'string' && p.reason.startsWith('reason.')) p.reason = t(p.reason);
  document.getElementById('status').textContent = t(key, p);
}

async function refresh() {
  try {
    if (!st.keys) st.keys = await loadKeys();
    const check = await st.tlog.latest({
      logVkey: st.keys.vkey, witnesses: st.keys.witnesses, quorum: st.keys.quorum });
    if (st.check && check.note === st.check.note && st.loaded) return;
    st.check = check;
    if (!st.history) st.history = new CheckpointHistory(globalThis.localStorage, st.keys.origin);
    if (check.ok) {
      st.historyResult = await st.history.record(check, st.tlog, { latest: true });
      const size = check.size;
      if (size > st.entries.length) {
        const raw = await st.tlog.entries(st.entries.length, size, size);
        for (const b of raw) {
          // a malformed entry stays bytes: summarize lists it as such
          try { st.entries.push(decodeEntry(b)); } catch (e) { st.entries.push(b); }
        }
      }
      st.summary = summarize(st.entries);
      st.texts = await statementTexts(st.summary);
      st.fetchedAt = Date.now();
    }
    st.loaded = true;
    st.error = null;
    setStatus(check.ok ? ['status.checked', { size: check.size }] : ['status.bad', { reason: 'reason.' + check.reason }]);
  } catch (e) {
    console.error(e);
    st.error = e && e.message ? e.message : String(e);
    st.loaded = true;
    setStatus(['status.error', { error: st.error }]);
  }
  renderAll(st.renderedLoaded);
  st.renderedLoaded = true;
}

function boot() {
  initLang();
  applyStatic(document);
  const sel = document.getElementById('lang');
  sel.value = getLang();
  sel.addEventListener('change', () => {
    setLang(sel.value);
    applyStatic(document);
    setStatus(st.status);
    renderAll();
  });
  window.addEventListener('hashchange', () => {
    const before = current;
    const name = viewFromHash();
    if (name !== before || location.hash.startsWith('#' + name)) show(name, name !== before);
  });
  show(viewFromHash(), false);
  setStatus(['status.loading']);
  refresh().then(() => setInterval(refresh, REFRESH_MS));
}

boot();
