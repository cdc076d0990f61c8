// SPDX-License-Identifier: MIT
// Properties: reported values, and for writable ones the desired value, its version and the device's
// acknowledgement; a form to write them (per the template's schemas, or a JSON patch without one).
import { h, fill, text, dateTime } from './dom.mjs';
import { call, enc, errorText } from './api.mjs';
import { label, control, jsonControl } from './model.mjs';

/** pending | accepted | refused | none, with a line that says why. */
export function ackState(meta) {
  if (!meta || meta.desiredVersion === undefined) return { state: 'none', text: '—' };
  if (meta.ackVersion === undefined || meta.ackVersion < meta.desiredVersion) {
    return { state: 'pending', text: `pending (desired version ${meta.desiredVersion})` };
  }
  if (meta.ackCode >= 200 && meta.ackCode < 300) {
    return { state: 'accepted', text: `accepted: ac=${meta.ackCode}, version ${meta.ackVersion}${meta.ackDescription ? `, ${meta.ackDescription}` : ''}` };
  }
  return { state: 'refused', text: `refused: ac=${meta.ackCode}, version ${meta.ackVersion}${meta.ackDescription ? `: ${meta.ackDescription}` : ''}` };
}

export class Properties {
  constructor(body, deviceId, parts) {
    this.deviceId = deviceId;
    this.parts = parts;
    this.rows = h('tbody');
    this.status = h('p', { class: 'status', role: 'status', 'aria-live': 'polite' });
    this.components = new Set((parts || []).filter((p) => p.component).map((p) => p.component));
    this.labels = new Map();
    for (const p of parts || []) for (const q of p.properties) this.labels.set(p.component ? `${p.component}/${q.name}` : q.name, { label: label(q), writable: q.writable === true });
    fill(body, h('div', { class: 'scroll' }, h('table', { class: 'props' },
      h('caption', { class: 'sr-only' }, 'Reported and desired properties'),
      h('thead', {}, h('tr', {}, ['Property', 'Reported', 'Desired', 'Desired version', 'State'].map((t) => h('th', { scope: 'col' }, t)))),
      this.rows)), h('h3', {}, 'Write properties'), this.form(), this.status);
  }

  form() {
    const say = (msg, bad) => {
      this.status.textContent = msg;
      this.status.classList.toggle('error', !!bad);
    };
    const send = async (component, patch) => {
      const path = component ? `/api/devices/${enc(this.deviceId)}/components/${enc(component)}/properties` : `/api/devices/${enc(this.deviceId)}/properties`;
      const r = await call('PATCH', path, patch);
      if (!r.ok) return say(`refused: ${errorText(r)}`, true);
      const meta = (component ? (r.data[component] || {}).$metadata : r.data.$metadata) || {};
      const versions = Object.keys(patch).map((k) => `${k} → desired version ${meta[k] ? meta[k].desiredVersion : '?'}`);
      say(`sent: ${versions.join(', ')}`);
    };
    const writable = (this.parts || []).flatMap((p) => p.properties.filter((q) => q.writable === true).map((q) => ({ part: p, q })));
    if (this.parts && writable.length === 0) return h('p', { class: 'muted' }, 'The template has no writable properties.');
    if (!this.parts) {
      const c = jsonControl('patch', h, '{"name": "value"}');
      return h('form', { class: 'grid-form', onsubmit: (e) => {
        e.preventDefault();
        let v;
        try {
          v = c.read();
          if (!v || typeof v !== 'object' || Array.isArray(v)) throw new Error('a patch is a JSON object of property values');
        } catch (err) {
          return say(err.message, true);
        }
        send(null, v);
      } }, h('label', { for: 'patch' }, 'Desired properties (JSON, no template)'), c.element, h('button', { type: 'submit', class: 'span' }, 'Send'));
    }
    return h('div', { class: 'writes' }, writable.map(({ part, q }) => {
      const key = part.component ? `${part.component}/${q.name}` : q.name;
      const id = `write-${key.replace(/[^A-Za-z0-9_-]/g, '_')}`;
      const c = control(q.schema, id, h);
      return h('form', { class: 'inline-form', novalidate: true, dataset: { write: key }, onsubmit: (e) => {
        e.preventDefault();
        let v;
        try {
          v = c.read();
        } catch (err) {
          return say(`${key}: ${err.message}`, true);
        }
        send(part.component, { [q.name]: v });
      } }, h('label', { for: id }, label(q), part.component ? h('span', { class: 'muted' }, ` (${part.component})`) : null), c.element, h('button', { type: 'submit' }, 'Set'));
    }));
  }

  update(props) {
    const rows = [];
    const add = (key, value, meta) => {
      const info = this.labels.get(key);
      const a = ackState(meta);
      rows.push(h('tr', { dataset: { property: key } },
        h('th', { scope: 'row' }, info ? info.label : key, info && info.label !== key ? h('div', { class: 'muted' }, key) : null),
        h('td', { class: 'mono', dataset: { reported: '' } }, text(value)),
        h('td', { class: 'mono' }, meta && 'desiredValue' in meta ? text(meta.desiredValue) : '—'),
        h('td', { dataset: { version: meta && meta.desiredVersion !== undefined ? String(meta.desiredVersion) : '' } }, meta && meta.desiredVersion !== undefined ? String(meta.desiredVersion) : '—'),
        h('td', { class: `state ${a.state}`, dataset: { state: a.state }, title: meta && meta.lastUpdateTime ? `desired at ${dateTime(meta.lastUpdateTime)}` : '' }, a.text)));
    };
    const walk = (obj, prefix) => {
      const meta = obj.$metadata || {};
      const names = new Set([...Object.keys(obj).filter((k) => k !== '$metadata'), ...Object.keys(meta)]);
      for (const k of names) {
        if (!prefix && this.components.has(k) && obj[k] && typeof obj[k] === 'object') walk(obj[k], `${k}/`);
        else add(prefix + k, obj[k], meta[k]);
      }
    };
    walk(props || {}, '');
    fill(this.rows, rows.length ? rows : h('tr', {}, h('td', { colspan: 5, class: 'muted' }, 'No properties yet.')));
  }
}
