// Small DOM helpers shared by the views: elements are built with DOM APIs only (the page's
// Content-Security-Policy allows no inline script or style).
import { t } from '../i18n.js';

// h('p', {class: 'x', text: 'hello'}, child, ...): an element; attributes starting with
// "on" are listeners, "text" sets textContent, null/undefined/false attributes are left out
export function h(tag, attrs, ...kids) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'text') el.textContent = v;
    else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const kid of kids.flat(Infinity)) {
    if (kid === null || kid === undefined || kid === false) continue;
    el.append(kid instanceof Node ? kid : String(kid));
  }
  return el;
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

// a definition list from [[label, value], ...]
export function dl(rows, cls) {
  return h('dl', { class: cls || 'facts' },
    rows.filter((r) => r).map(([k, v]) => [h('dt', { text: k }), h('dd', {}, v)]));
}

// a table: head is an array of header labels, rows arrays of cells (strings or nodes); on a
// phone each row becomes a card whose cells carry their column's label (data-label, css)
export function table(caption, head, rows, attrs) {
  const labelled = (tr) => {
    [...tr.children].forEach((cell, i) => { if (head[i] !== undefined) cell.dataset.label = head[i]; });
    return tr;
  };
  return h('div', { class: 'tablewrap' },
    h('table', { class: 'stack', ...(attrs || {}) },
      caption ? h('caption', { text: caption }) : null,
      h('thead', {}, h('tr', {}, head.map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', {}, rows.map((r) => labelled(r instanceof Node ? r
        : h('tr', {}, r.map((c, i) => i === 0 ? h('th', { scope: 'row' }, c) : h('td', {}, c))))))));
}

// a badge saying whether something was checked in this browser
export function badge(ok, textOk, textBad) {
  return h('span', { class: ok ? 'badge ok' : 'badge bad' },
    h('span', { 'aria-hidden': 'true', text: ok ? '✓ ' : '✗ ' }), ok ? textOk : textBad);
}

export function checkedHere(text) {
  return h('p', { class: 'checked' }, h('span', { 'aria-hidden': 'true', text: '✓ ' }),
    h('strong', { text: t('checked.here') + ' ' }), text);
}

export function code(s, cls) {
  return h('code', { class: cls || 'mono' , text: s });
}

export function shorten(s, n) {
  return s.length > n ? s.slice(0, n - 1) + '…' : s;
}
