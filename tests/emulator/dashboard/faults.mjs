// SPDX-License-Identifier: MIT
// Faults and tests: the emulator's fault routes as buttons (drop the connection, fail over to the
// other hub, throttle twin updates, refuse connections) and the faults active for the device.
import { h, fill } from './dom.mjs';
import { call, enc, errorText } from './api.mjs';

export class Faults {
  constructor(body, deviceId) {
    this.deviceId = deviceId;
    this.status = h('p', { class: 'status', role: 'status', 'aria-live': 'polite' });
    this.active = h('ul', { class: 'faults' });
    const dev = `/emulator/devices/${enc(deviceId)}`;
    const fault = (spec) => ['POST', '/emulator/faults', { ...spec, deviceId }];
    this.disconnectButton = this.button('Disconnect', 'disconnect', ['POST', `${dev}/disconnect`], 'the hub closed the connection; the device should reconnect');
    fill(body,
      h('div', { class: 'buttons' },
        this.disconnectButton,
        this.button('Fail over to the other hub', 'failover', ['POST', `${dev}/failover`], (d) => `moved from ${d.from} to ${d.to}; the old hub refuses the device now`),
        this.button('Throttle twin updates (next 3: 429)', 'throttle', fault({ kind: 'twinThrottle', operation: 'reported', status: 429, count: 3 }), 'the next 3 reported-property updates are answered 429'),
        this.button('Refuse the next connection', 'refuse', fault({ kind: 'refuseConnect', service: 'hub', count: 1 }), 'the next connection to the hub is refused (CONNACK 3)'),
        this.button('Drop the connection every 10 s', 'close-every', fault({ kind: 'closeEvery', service: 'hub', seconds: 10 }), 'the hub drops the connection every 10 s until the fault is cleared'),
        h('button', { type: 'button', dataset: { fault: 'clear' }, onclick: () => this.clear() }, 'Clear this device\'s faults')),
      this.status, h('h3', {}, 'Active faults'), this.active);
    this.refresh();
  }

  button(title, name, [method, path, body], done) {
    return h('button', { type: 'button', dataset: { fault: name }, onclick: async () => {
      const r = await call(method, path, body);
      this.say(r.ok ? `${title}: ${typeof done === 'function' ? done(r.data) : done}` : `${title}: ${errorText(r)}`, !r.ok);
      this.refresh();
    } }, title);
  }

  say(msg, bad) {
    this.status.textContent = msg;
    this.status.classList.toggle('error', !!bad);
  }

  async list() {
    const r = await call('GET', '/emulator/faults');
    return r.ok ? r.data.value.filter((f) => f.deviceId === this.deviceId) : [];
  }

  async refresh() {
    const mine = await this.list();
    fill(this.active, mine.length ? mine.map((f) => h('li', {}, `${f.kind}${f.count === null ? ' (until cleared)' : `, ${f.count} left`}`)) : h('li', { class: 'muted' }, 'none'));
  }

  async clear() {
    const mine = await this.list();
    for (const f of mine) await call('DELETE', `/emulator/faults/${enc(f.id)}`);
    this.say(`cleared ${mine.length} fault${mine.length === 1 ? '' : 's'}`);
    this.refresh();
  }

  /** Disconnecting needs a connection. */
  update(device) {
    this.disconnectButton.disabled = !device.connected;
  }
}
