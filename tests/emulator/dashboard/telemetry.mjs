// SPDX-License-Identifier: MIT
// Telemetry: a chart per numeric item (uPlot), the last value of every item, and the raw messages.
import uPlot from '../vendor/uplot/uPlot.esm.js';
import { h, fill, time, text } from './dom.mjs';
import { label } from './model.mjs';

const POINTS = 300;
const RAW_ROWS = 50;
const UNITS = { degreeCelsius: ' °C', degreeFahrenheit: ' °F', percent: ' %', kelvin: ' K' };

export class Telemetry {
  /** info(key) -> { label, unit } from the template (or null). */
  constructor(chartsBody, rawBody, info) {
    this.info = info;
    this.charts = new Map();
    this.latest = new Map();
    this.grid = h('div', { class: 'charts' });
    this.values = h('tbody');
    this.rawRows = h('tbody');
    this.empty = h('p', { class: 'muted' }, 'No telemetry yet.');
    fill(chartsBody, this.empty, this.grid, h('details', {}, h('summary', {}, 'Last value of every item'),
      h('div', { class: 'scroll' }, h('table', {}, h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Item'), h('th', { scope: 'col' }, 'Value'), h('th', { scope: 'col' }, 'Time'))), this.values))));
    fill(rawBody, h('div', { class: 'scroll' }, h('table', { class: 'raw' },
      h('caption', { class: 'sr-only' }, `The last ${RAW_ROWS} messages, newest first`),
      h('thead', {}, h('tr', {}, ['Time', 'Component', 'Content type', 'Properties', 'Body'].map((t) => h('th', { scope: 'col' }, t)))),
      this.rawRows)));
    this.resize = new ResizeObserver(() => {
      for (const c of this.charts.values()) c.plot.setSize(this.size(c.box));
    });
    this.resize.observe(this.grid);
  }

  close() {
    clearTimeout(this.timer);
    this.resize.disconnect();
    for (const c of this.charts.values()) c.plot.destroy();
  }

  reset(messages) {
    for (const c of this.charts.values()) c.plot.destroy();
    this.charts.clear();
    this.latest.clear();
    this.grid.replaceChildren();
    this.values.replaceChildren();
    this.rawRows.replaceChildren();
    for (const m of messages) this.add(m);
    this.draw();
  }

  /** Adds a message; charts are redrawn at most every 200 ms, however fast messages come. */
  add(m) {
    const props = m.properties || {};
    const component = props['$.sub'];
    const created = Date.parse(props['iothub-creation-time-utc']);
    const t = (Number.isNaN(created) ? Date.parse(m.time) : created) / 1000;
    this.raw(m, component, props);
    if (!m.json || typeof m.json !== 'object' || Array.isArray(m.json)) return;
    for (const [name, value] of Object.entries(m.json)) {
      const key = component ? `${component}/${name}` : name;
      this.latest.set(key, { value, time: new Date(t * 1000).toISOString() });
      if (typeof value !== 'number' || !Number.isFinite(value)) continue;
      const c = this.charts.get(key) || this.chart(key);
      c.xs.push(t);
      c.ys.push(value);
      if (c.xs.length > POINTS) {
        c.xs.shift();
        c.ys.shift();
      }
      c.dirty = true;
    }
    this.timer = this.timer || setTimeout(() => this.draw(), 200);
  }

  draw() {
    clearTimeout(this.timer);
    this.timer = null;
    for (const c of this.charts.values()) {
      if (c.dirty) this.redraw(c);
      c.dirty = false;
    }
    this.showLatest();
  }

  size(box) {
    return { width: Math.max(200, box.clientWidth - 4), height: 160 };
  }

  chart(key) {
    const info = this.info(key) || {};
    const title = info.label || key;
    const last = h('span', { class: 'last' });
    const box = h('div', { class: 'plot' });
    const card = h('figure', { class: 'chart', dataset: { telemetry: key, points: '0' } },
      h('figcaption', {}, h('span', {}, title, info.unit ? h('span', { class: 'muted' }, ` (${(UNITS[info.unit] || info.unit).trim()})`) : null), last), box);
    this.empty.remove();
    this.grid.append(card);
    const c = { key, card, box, last, xs: [], ys: [], unit: info.unit };
    c.plot = new uPlot({
      ...this.size(box),
      legend: { show: false },
      cursor: { drag: { x: false, y: false } },
      series: [{}, { label: title, stroke: '#0b5cad', width: 2, points: { show: false } }],
      axes: [{}, { size: 50 }],
    }, [[], []], box);
    this.charts.set(key, c);
    return c;
  }

  redraw(c) {
    c.plot.setData([c.xs.slice(), c.ys.slice()]);
    c.card.dataset.points = String(c.xs.length);
    const v = c.ys[c.ys.length - 1];
    c.last.textContent = v === undefined ? '' : `${Number.isInteger(v) ? v : v.toFixed(2)}${UNITS[c.unit] || ''}`;
  }

  showLatest() {
    fill(this.values, [...this.latest].map(([k, v]) => h('tr', { dataset: { item: k } },
      h('th', { scope: 'row' }, (this.info(k) || {}).label || k), h('td', {}, text(v.value)), h('td', {}, time(v.time)))));
  }

  raw(m, component, props) {
    const shown = Object.entries(props).filter(([k]) => k !== '$.sub' && k !== '$.ct' && k !== '$.ce');
    const body = m.body !== undefined ? m.body : `(binary, base64) ${m.bodyBase64}`;
    this.rawRows.prepend(h('tr', {},
      h('td', {}, time(m.time)),
      h('td', {}, component || '—'),
      h('td', {}, [props['$.ct'], props['$.ce']].filter(Boolean).join('; ') || '—'),
      h('td', { class: 'mono' }, shown.length ? shown.map(([k, v]) => `${k}=${v}`).join(' ') : '—'),
      h('td', { class: 'mono' }, body.length > 400 ? `${body.slice(0, 400)}…` : body)));
    while (this.rawRows.children.length > RAW_ROWS) this.rawRows.lastChild.remove();
  }
}

/** Looks up a telemetry item's name and unit in the template's parts. */
export function telemetryInfo(parts) {
  const map = new Map();
  for (const p of parts) {
    for (const t of p.telemetry) map.set(p.component ? `${p.component}/${t.name}` : t.name, { label: label(t), unit: typeof t.unit === 'string' ? t.unit : '' });
  }
  return (key) => map.get(key) || null;
}
