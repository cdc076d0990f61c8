// SPDX-License-Identifier: MIT
// Server-sent events for the dashboard: a stream of the device list, or one device's state, messages
// and wire log. Streams are bounded (a maximum number of clients; a client that stops reading is
// dropped and reconnects to a fresh snapshot) and cost nothing while no one listens.
import { centralProperties } from './registry.mjs';
import { renderEntry } from './wire.mjs';

export const EVENT_DEFAULTS = {
  maxClients: 32,
  maxBufferedBytes: 1024 * 1024,
  heartbeatMs: 15000,
  listDelayMs: 250,
  stateDelayMs: 50,
  listLimit: 1000,
  snapshotMessages: 200,
  snapshotBytes: 512 * 1024,
  snapshotWire: 200,
};

export class Events {
  constructor(emu, opts = {}) {
    this.emu = emu;
    this.opts = { ...EVENT_DEFAULTS, ...opts };
    this.clients = new Set();
    this.closed = false;
  }

  get full() {
    return this.closed || this.clients.size >= this.opts.maxClients;
  }

  /** Starts a stream on res: of one device when `device` is given, else of the device list. */
  open(res, device) {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
    });
    const c = { res, deviceId: device ? device.id : null, timer: null, connected: null };
    this.clients.add(c);
    c.heartbeat = setInterval(() => this.write(c, ': keep-alive\n\n'), this.opts.heartbeatMs);
    // The response closes when the client goes (the request's own close only says its body was read).
    res.on('close', () => this.drop(c));
    // A reconnecting EventSource waits this long (ms) before trying again.
    this.write(c, 'retry: 1000\n\n');
    if (device) {
      c.connected = !!this.emu.connectedClient(device);
      this.send(c, 'snapshot', {
        ...this.state(device),
        messages: this.recent(device).map((m) => this.emu.renderMessage(m)),
        wire: this.emu.wire.since(0, { deviceId: device.id, limit: Number.MAX_SAFE_INTEGER }).slice(-this.opts.snapshotWire),
      });
    } else this.send(c, 'devices', this.list());
  }

  /** The newest messages, as many as fit in the snapshot's count and bytes, oldest first. */
  recent(device) {
    const ring = device.messages;
    const out = [];
    let bytes = 0;
    for (let i = ring.length - 1; i >= 0 && out.length < this.opts.snapshotMessages; i--) {
      const m = ring.at(i);
      bytes += m.payload.length;
      if (bytes > this.opts.snapshotBytes) break;
      out.push(m);
    }
    return out.reverse();
  }

  drop(c) {
    if (!this.clients.delete(c)) return;
    clearInterval(c.heartbeat);
    clearTimeout(c.timer);
    if (!c.res.destroyed) c.res.destroy();
  }

  close() {
    this.closed = true;
    for (const c of [...this.clients]) this.drop(c);
  }

  write(c, text) {
    if (c.res.destroyed || c.res.writableEnded) return this.drop(c);
    // A client that does not read is dropped rather than buffered without end.
    if (c.res.writableLength > this.opts.maxBufferedBytes) return this.drop(c);
    c.res.write(text);
  }

  send(c, event, data) {
    this.write(c, `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  }

  /** What the dashboard shows of a device: the operator API's view plus connection details. */
  view(d) {
    const emu = this.emu;
    const client = emu.connectedClient(d);
    const last = d.messages.last();
    return {
      ...emu.api.deviceView(d),
      since: client && d.conn ? new Date(d.conn.since).toISOString() : null,
      lastMessage: last ? new Date(last.t).toISOString() : null,
      messagesRetained: d.messages.length,
      c2dQueued: d.c2d.length,
      registration: d.registration ? d.registration.status : null,
      hubIndex: d.hub,
    };
  }

  state(d) {
    return { device: this.view(d), properties: centralProperties(d), deleted: this.emu.registry.get(d.id) !== d };
  }

  list() {
    const all = this.emu.registry.devices;
    const value = [];
    for (const d of all.values()) {
      if (value.length >= this.opts.listLimit) break;
      value.push(this.view(d));
    }
    return { value, total: all.size };
  }

  /** Schedules a coalesced update; a change of connection state is sent at once, so none is missed. */
  schedule(c, device) {
    if (device) {
      const connected = !!this.emu.connectedClient(device);
      if (connected !== c.connected) {
        c.connected = connected;
        clearTimeout(c.timer);
        c.timer = null;
        return this.send(c, 'state', this.state(device));
      }
    }
    if (c.timer) return;
    c.timer = setTimeout(() => {
      c.timer = null;
      if (!this.clients.has(c)) return;
      if (device) this.send(c, 'state', this.state(device));
      else this.send(c, 'devices', this.list());
    }, device ? this.opts.stateDelayMs : this.opts.listDelayMs);
  }

  // ---- hooks called by the emulator ------------------------------------------------------------

  deviceChanged(d) {
    if (this.clients.size === 0) return;
    for (const c of this.clients) {
      if (c.deviceId === null) this.schedule(c, null);
      else if (c.deviceId === d.id) this.schedule(c, d);
    }
  }

  /** The registry changed (a device added, deleted or reconfigured). */
  registryChanged() {
    if (this.clients.size === 0) return;
    for (const c of this.clients) {
      if (c.deviceId === null) this.schedule(c, null);
      else {
        const d = this.emu.registry.get(c.deviceId);
        if (d) this.schedule(c, d);
        else this.send(c, 'state', { device: null, properties: {}, deleted: true });
      }
    }
  }

  message(d, m) {
    if (this.clients.size === 0) return;
    let rendered;
    for (const c of this.clients) {
      if (c.deviceId === null) this.schedule(c, null);
      else if (c.deviceId === d.id) this.send(c, 'message', rendered ??= this.emu.renderMessage(m));
    }
  }

  wire(e) {
    if (this.clients.size === 0 || typeof e.id !== 'string') return;
    let rendered;
    for (const c of this.clients) {
      if (c.deviceId === e.id) this.send(c, 'wire', rendered ??= renderEntry(e));
    }
  }
}
