// Charts as SVG built with DOM APIs (no inline style: the page's CSP), each with a table that
// says the same for screen readers and for anyone who wants the numbers: the SVG is
// aria-hidden, the table is the chart's text.
import { h } from './views/dom.js';

const NS = 'http://www.w3.org/2000/svg';

function s(tag, attrs, ...kids) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v !== null && v !== undefined) el.setAttribute(k, String(v));
  }
  for (const kid of kids.flat(Infinity)) {
    if (kid === null || kid === undefined) continue;
    el.append(kid instanceof Node ? kid : document.createTextNode(String(kid)));
  }
  return el;
}

function svg(w, hgt, ...kids) {
  return s('svg', { viewBox: `0 0 ${w} ${hgt}`, class: 'chart', 'aria-hidden': 'true',
    focusable: 'false', preserveAspectRatio: 'xMinYMin meet' }, ...kids);
}

function srTable(caption, head, rows, visible) {
  // hidden from sight, a table goes into a div: a table ignores width and overflow
  const tbl = h('table', { class: visible ? 'data stack' : 'data' },
    h('caption', { text: caption }),
    h('thead', {}, h('tr', {}, head.map((c) => h('th', { scope: 'col', text: c })))),
    h('tbody', {}, rows.map((r) => h('tr', { dataset: r.data || {} },
      r.cells.map((c, i) => h(i === 0 ? 'th' : 'td', { scope: i === 0 ? 'row' : null,
        dataset: { label: head[i] } }, c))))));
  return visible ? tbl : h('div', { class: 'sr-only' }, tbl);
}

function clip(text, n) {
  return text.length > n ? text.slice(0, n - 1) + '…' : text;
}

// bars(caption, [{label, value, data}], {head:[label, value], unit(v) → text, highlight})
// horizontal bars, the largest full width; the labels above each bar so long ones fit a phone
export function bars(caption, items, opts = {}) {
  const max = Math.max(1, ...items.map((i) => i.value));
  const total = items.reduce((a, i) => a + i.value, 0);
  const W = 600, row = 46;
  const g = items.map((it, k) => {
    const y = k * row;
    const w = Math.max(it.value > 0 ? 2 : 0, (it.value / max) * (W - 90));
    const pct = total ? ` (${((100 * it.value) / total).toFixed(1)} %)` : '';
    return s('g', {},
      s('text', { x: 0, y: y + 14, class: 'label' }, clip(it.label, 70)),
      s('rect', { x: 0, y: y + 20, width: w, height: 18, rx: 3,
        class: it.value === max && it.value > 0 ? 'bar top' : 'bar' }),
      s('text', { x: w + 6, y: y + 34, class: 'value' }, `${it.value}${pct}`));
  });
  const head = opts.head || ['', ''];
  return h('figure', { class: 'figure' },
    h('figcaption', { text: caption }),
    svg(W, Math.max(row, items.length * row), g),
    srTable(caption, head, items.map((it) => ({ data: it.data,
      cells: [it.label, opts.unit ? opts.unit(it.value) : String(it.value)] }))));
}

// stacked(caption, [{label, count, cls}], head): one bar split by value: a rating
// distribution (e.g. agree / pass / disagree)
export function stacked(caption, parts, head) {
  const total = parts.reduce((a, p) => a + p.count, 0);
  const W = 600;
  let x = 0;
  const rects = parts.map((p) => {
    const w = total ? (p.count / total) * W : 0;
    const r = s('rect', { x, y: 0, width: w, height: 16, class: 'seg ' + (p.cls || '') });
    x += w;
    return r;
  });
  const legend = h('ul', { class: 'legend', 'aria-hidden': 'true' },
    parts.map((p) => h('li', {}, h('span', { class: 'swatch ' + (p.cls || '') }),
      `${p.label} ${p.count}`)));
  return h('figure', { class: 'figure stacked' },
    h('figcaption', { class: 'sr-only', text: caption }),
    svg(W, 16, s('rect', { x: 0, y: 0, width: W, height: 16, class: 'track' }), rects),
    legend,
    srTable(caption, head, parts.map((p) => ({ data: p.data, cells: [p.label, String(p.count)] }))));
}

// scatter(caption, points [{x, y, cls, label, r}], {xLabel, yLabel, table: {head, rows}})
// a 2-D map; the table given is its text (positions, or a summary when points are many)
export function scatter(caption, points, opts = {}) {
  const W = 600, H = 360, P = 40;
  const xs = points.map((p) => p.x), ys = points.map((p) => p.y);
  const span = (v) => {
    let lo = Math.min(0, ...v), hi = Math.max(0, ...v);
    if (hi - lo < 1e-9) { lo -= 1; hi += 1; }
    const m = (hi - lo) * 0.08;
    return [lo - m, hi + m];
  };
  const [x0, x1] = span(xs), [y0, y1] = span(ys);
  const X = (v) => P + ((v - x0) / (x1 - x0)) * (W - 2 * P);
  const Y = (v) => H - P - ((v - y0) / (y1 - y0)) * (H - 2 * P);
  const axes = s('g', { class: 'axes' },
    s('line', { x1: X(x0), y1: Y(0), x2: X(x1), y2: Y(0) }),
    s('line', { x1: X(0), y1: Y(y0), x2: X(0), y2: Y(y1) }),
    s('text', { x: W - 4, y: H - 8, 'text-anchor': 'end', class: 'axis' }, `→ ${opts.xLabel || ''}`),
    s('text', { x: 4, y: 14, class: 'axis' }, `↑ ${opts.yLabel || ''}`));
  const dots = points.map((p) => s('circle', { cx: X(p.x), cy: Y(p.y), r: p.r || 5,
    class: 'dot ' + (p.cls || '') }, p.label ? s('title', {}, p.label) : null));
  // tags beside their dots, moved down past the tags already placed (dots often crowd)
  const placed = [];
  const labels = points.filter((p) => p.tag).map((p) => {
    const x = X(p.x) + 8;
    let y = Y(p.y) + 4;
    const w = 8 * p.tag.length;
    while (placed.some((b) => Math.abs(b.x - x) < Math.max(b.w, w) && Math.abs(b.y - y) < 13)) y += 13;
    placed.push({ x, y, w });
    return s('text', { x, y, class: 'tag' }, p.tag);
  });
  const t = opts.table;
  return h('figure', { class: 'figure' },
    h('figcaption', { text: caption }),
    svg(W, H, axes, dots, labels),
    opts.legend ? h('ul', { class: 'legend', 'aria-hidden': 'true' }, opts.legend.map((l) =>
      h('li', {}, h('span', { class: 'swatch ' + l.cls }), l.label))) : null,
    t ? srTable(t.caption || caption, t.head, t.rows, t.visible) : null);
}
