// SPDX-License-Identifier: MIT
// The wire log of the device: what crossed the connection, newest first (passwords are redacted by
// the emulator before they are logged).
import { h, time } from './dom.mjs';

const ROWS = 200;

export class Wire {
  constructor(body) {
    this.rows = h('tbody');
    body.append(h('div', { class: 'scroll' }, h('table', { class: 'wire' },
      h('caption', { class: 'sr-only' }, `The last ${ROWS} wire log entries, newest first`),
      h('thead', {}, h('tr', {}, ['Time', 'Service', 'Dir', 'Type', 'Detail', 'Payload'].map((t) => h('th', { scope: 'col' }, t)))),
      this.rows)));
  }

  reset(entries) {
    this.rows.replaceChildren();
    for (const e of entries) this.add(e);
  }

  add(e) {
    const detail = [e.topic, e.username !== undefined ? `user ${e.username}` : undefined, e.password !== undefined ? `password ${e.password}` : undefined, e.method, e.url, e.status, e.returnCode !== undefined ? `rc ${e.returnCode}` : undefined, e.reason, e.size !== undefined ? `${e.size} bytes` : undefined]
      .filter((v) => v !== undefined && v !== '').join(' · ');
    const payload = e.payload !== undefined ? e.payload : e.payloadBase64 !== undefined ? `(base64) ${e.payloadBase64}` : '';
    this.rows.prepend(h('tr', { dataset: { type: e.type } },
      h('td', {}, time(e.time)), h('td', {}, e.svc || ''), h('td', {}, e.dir || ''), h('td', {}, e.type || ''),
      h('td', { class: 'mono' }, detail), h('td', { class: 'mono' }, payload.length > 200 ? `${payload.slice(0, 200)}…` : payload, e.truncated ? ' (truncated)' : '')));
    while (this.rows.children.length > ROWS) this.rows.lastChild.remove();
  }
}
