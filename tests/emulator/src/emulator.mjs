// SPDX-License-Identifier: MIT
// Composition: registry + wire log + faults, two hubs, DPS over MQTT and HTTPS, and the operator API.
// startEmulator() is also usable in-process by Node tests.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ensureCerts, serverNamesError } from './certs.mjs';
import { Registry, applyDesired, DEFAULT_X509_GROUP } from './registry.mjs';
import { WireLog } from './wire.mjs';
import { Faults } from './faults.mjs';
import { Hub } from './hub.mjs';
import { Dps, DpsMqtt, DpsHttps } from './dps.mjs';
import { Api } from './api.mjs';
import { buildBag, parseBag, encode } from './topics.mjs';
import { anchorOf, toCert } from './x509.mjs';

export const FIXED_PORTS = { api: 8480, dpsMqtt: 8882, dpsHttps: 8443, hubs: [8883, 8884] };
const C2D_QUEUE_LIMIT = 50;

export const DEFAULTS = {
  retryAfter: 1,
  retention: { messages: 1000, messageBytes: 8 * 1024 * 1024, commands: 100, wirePerDevice: 2000, wireAnonymous: 5000, wirePayloadBytes: 512 },
};

export class Emulator {
  constructor(opts = {}) {
    this.opts = opts;
    this.retryAfter = opts.retryAfter ?? DEFAULTS.retryAfter;
    const retention = { ...DEFAULTS.retention, ...(opts.retention || {}) };
    this.retention = retention;
    this.msgSeq = 0;
    this.methodSeq = 0;
    this.pendingMethods = new Map();
    this.wire = new WireLog({ perDevice: retention.wirePerDevice, anonymous: retention.wireAnonymous, payloadBytes: retention.wirePayloadBytes });
    this.faults = new Faults();
    this.closeTimers = new Map();
    this.faults.onAdd = (f) => this.faultAdded(f);
    this.faults.onRemove = (f) => {
      const t = this.closeTimers.get(f.id);
      if (t) clearInterval(t);
      this.closeTimers.delete(f.id);
    };
  }

  async start() {
    const o = this.opts;
    this.tmpDir = null;
    const badNames = o.serverNames === undefined ? null : serverNamesError(o.serverNames);
    if (badNames) throw new Error(badNames);
    let certDir = o.certDir;
    if (!certDir && o.stateDir) certDir = path.join(o.stateDir, 'certs');
    if (!certDir) certDir = this.tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'iotc-emulator-'));
    this.certs = ensureCerts(certDir, { serverNames: o.serverNames });
    this.registry = new Registry({ retention: this.retention, stateDir: o.stateDir, idScope: o.idScope, groupKey: o.groupKey, deviceCa: this.certs.deviceCa });
    for (const spec of o.devices || []) this.configureDevice(spec);
    for (const g of o.enrollmentGroups || []) this.registry.groups.set(g.id, g);
    const fixed = o.ports === 'fixed';
    const ports = { ...FIXED_PORTS, ...(o.portNumbers || {}) };
    this.hubs = [new Hub(this, 0), new Hub(this, 1)];
    this.dps = new Dps(this);
    this.dpsMqtt = new DpsMqtt(this, this.dps);
    this.dpsHttps = new DpsHttps(this, this.dps);
    this.api = new Api(this);
    await Promise.all([
      ...this.hubs.map((h, i) => h.listen(fixed ? ports.hubs[i] : 0)),
      this.dpsMqtt.listen(fixed ? ports.dpsMqtt : 0),
      this.dpsHttps.listen(fixed ? ports.dpsHttps : 0),
      this.api.listen(fixed ? ports.api : 0),
    ]);
    return this.info();
  }

  info() {
    return {
      ready: true,
      pid: process.pid,
      idScope: this.registry.idScope,
      caFile: this.certs.caFile,
      api: `http://127.0.0.1:${this.api.port}`,
      dps: { mqtt: `localhost:${this.dpsMqtt.port}`, https: `localhost:${this.dpsHttps.port}` },
      hubs: this.hubs.map((h) => h.hostName),
      groupKey: this.registry.groupKey,
    };
  }

  async stop() {
    if (this.stopping) return this.stopping;
    this.stopping = (async () => {
      this.faults.clear();
      for (const p of this.pendingMethods.values()) clearTimeout(p.timer);
      for (const d of this.registry.devices.values()) {
        if (d.conn && d.conn.expiryTimer) clearTimeout(d.conn.expiryTimer);
        for (const w of d.waiters) w(true);
      }
      try {
        this.registry.save();
      } catch (err) {
        process.stderr.write(`iotc-emulator: could not save state: ${err.message}\n`);
      }
      await Promise.all([...this.hubs.map((h) => h.close()), this.dpsMqtt.close(), this.dpsHttps.close(), this.api.close()]);
      if (this.tmpDir) fs.rmSync(this.tmpDir, { recursive: true, force: true });
    })();
    return this.stopping;
  }

  extraHubNames(index) {
    const names = this.opts.hubNames;
    return names && names[index] ? [names[index]] : [];
  }

  configureDevice(spec) {
    const d = this.registry.create(spec.id);
    if (spec.displayName !== undefined) d.displayName = spec.displayName;
    if (spec.template !== undefined) d.template = spec.template;
    if (spec.enabled !== undefined) d.enabled = spec.enabled;
    if (spec.attestation !== undefined) d.attestation = spec.attestation;
    return d;
  }

  /** Whether a client certificate chain is accepted for the device on the hub. */
  x509Accepts(device, chain) {
    const att = device.attestation;
    if (att && att.type === 'x509') {
      const certs = att.x509 && att.x509.clientCertificates ? att.x509.clientCertificates : {};
      for (const which of ['primary', 'secondary']) {
        const c = certs[which];
        if (!c) continue;
        const cert = c.certificate ? toCert(c.certificate) : null;
        const fp = chain[0].fingerprint256.replace(/:/g, '').toLowerCase();
        const fp1 = chain[0].fingerprint.replace(/:/g, '').toLowerCase();
        if (cert && cert.fingerprint256 === chain[0].fingerprint256) return true;
        const tp = c.info && (c.info.sha1Thumbprint || c.info.sha256Thumbprint) || c.thumbprint;
        if (typeof tp === 'string' && [fp, fp1].includes(tp.replace(/:/g, '').toLowerCase())) return true;
      }
      return false;
    }
    const anchors = this.registry.x509Anchors().filter((a) => !device.group || a.group.id === device.group || device.group === DEFAULT_X509_GROUP);
    return anchorOf(chain, anchors.map((a) => a.cert)) !== null;
  }

  // ---- events -----------------------------------------------------------------------------------

  /** Wakes long-polls on the device (connection, subscription, twin or message changes). */
  deviceChanged(device) {
    if (device.waiters.size) for (const w of [...device.waiters]) w(false);
    if (device.conn) this.flushC2d(device);
  }

  recordMessage(device, topic, bag, payload, hub) {
    const msg = { seq: ++this.msgSeq, t: Date.now(), topic, bag, payload: Buffer.from(payload), hub };
    if (!device.messages.onEvict) device.messages.onEvict = (m) => this.parseTelemetry(device, m);
    device.messages.push(msg, payload.length + topic.length + 64);
    if (device.waiters.size) for (const w of [...device.waiters]) w(false);
  }

  /** Telemetry values are parsed lazily: when read, or when a message leaves the ring. */
  parseTelemetry(device, m) {
    if (m.seq <= device.parsedSeq) return;
    device.parsedSeq = m.seq;
    const props = parseBag(m.bag);
    let body;
    try {
      body = JSON.parse(m.payload.toString('utf8'));
    } catch {
      return;
    }
    if (!body || typeof body !== 'object' || Array.isArray(body)) return;
    const created = props['iothub-creation-time-utc'];
    const timestamp = created && !Number.isNaN(Date.parse(created)) ? new Date(Date.parse(created)).toISOString() : new Date(m.t).toISOString();
    const component = props['$.sub'];
    for (const [k, v] of Object.entries(body)) {
      device.telemetry.set((component ? component + '/' : '') + k, { timestamp, value: v });
    }
  }

  latestTelemetry(device, component, name) {
    const ring = device.messages;
    for (let i = 0; i < ring.length; i++) this.parseTelemetry(device, ring.at(i));
    return device.telemetry.get((component ? component + '/' : '') + name);
  }

  renderMessage(m) {
    const properties = parseBag(m.bag);
    const body = m.payload.toString('utf8');
    const out = { seq: m.seq, time: new Date(m.t).toISOString(), hub: m.hub, topic: m.topic, properties, body };
    if (Buffer.byteLength(body) !== m.payload.length) {
      delete out.body;
      out.bodyBase64 = m.payload.toString('base64');
    } else {
      try {
        out.json = JSON.parse(body);
      } catch {
        // not JSON: body alone
      }
    }
    return out;
  }

  connectedClient(device) {
    return device.conn && !device.conn.client.closed ? device.conn.client : null;
  }

  hubOf(device) {
    return device.conn ? this.hubs[device.conn.hub] : null;
  }

  // ---- twin, methods, C2D ----------------------------------------------------------------------

  /** Sets desired properties and pushes the patch to a connected, subscribed device. */
  setDesired(device, patch, component) {
    const version = applyDesired(device, patch, component);
    this.registry.changed();
    const client = this.connectedClient(device);
    if (client) {
      const topic = `$iothub/twin/PATCH/properties/desired/?$version=${version}`;
      const bad = this.faults.take('malformedTwin', { deviceId: device.id, operation: 'desired' });
      this.hubOf(device).send(client, topic, bad ? bad.body : JSON.stringify({ ...patch, $version: version }));
    }
    this.deviceChanged(device);
    return version;
  }

  /** Waits until predicate(device) holds or the timeout passes; resolves to the predicate's last value. */
  waitFor(device, predicate, timeoutMs) {
    const first = predicate(device);
    if (first || timeoutMs <= 0) return Promise.resolve(first);
    return new Promise((resolve) => {
      const done = (value) => {
        clearTimeout(timer);
        device.waiters.delete(check);
        resolve(value);
      };
      const check = (stopping) => {
        const v = predicate(device);
        if (v || stopping) done(v);
      };
      const timer = setTimeout(() => done(predicate(device)), timeoutMs);
      device.waiters.add(check);
    });
  }

  subscribedTo(device, topic) {
    const client = this.connectedClient(device);
    if (!client) return false;
    if (client.subscriptions[topic]) return true;
    for (const f of Object.keys(client.subscriptions)) {
      if (f === topic) return true;
    }
    return false;
  }

  /**
   * Invokes a direct method. Resolves {status, payload} or {error:{status, errorCode, code, message}}:
   * 404103 when the device is not online (within connectTimeout), 504101 when it does not answer in time.
   */
  async invokeMethod(device, methodName, payload, responseTimeoutS = 30, connectTimeoutS = 0) {
    const methodsTopic = '$iothub/methods/POST/#';
    const online = await this.waitFor(device, (d) => this.methodsReady(d), connectTimeoutS * 1000);
    if (!online) return { error: { status: 404, errorCode: 404103, code: 'DeviceNotOnline', message: `device ${device.id} is not online (or not subscribed to ${methodsTopic})` } };
    const rid = String(++this.methodSeq);
    // IoT Hub always sends JSON; a command without a request carries null.
    const body = payload === undefined ? 'null' : JSON.stringify(payload);
    const delay = this.faults.take('delayMethod', { deviceId: device.id });
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pendingMethods.delete(rid);
        resolve({ error: { status: 504, errorCode: 504101, code: 'GatewayTimeout', message: `device ${device.id} did not answer method ${methodName} within ${responseTimeoutS} s` } });
      }, responseTimeoutS * 1000);
      this.pendingMethods.set(rid, { deviceId: device.id, resolve, timer });
      const deliver = () => {
        const client = this.connectedClient(device);
        if (!client || !this.pendingMethods.has(rid)) return;
        this.hubOf(device).send(client, `$iothub/methods/POST/${methodName}/?$rid=${rid}`, body);
      };
      if (delay) setTimeout(deliver, delay.delayMs);
      else deliver();
    });
  }

  methodsReady(device) {
    const client = this.connectedClient(device);
    return !!client && client.connected && '$iothub/methods/POST/#' in client.subscriptions;
  }

  methodResponse(device, rid, status, payload) {
    const p = rid !== undefined ? this.pendingMethods.get(rid) : undefined;
    if (!p || p.deviceId !== device.id) return;
    this.pendingMethods.delete(rid);
    clearTimeout(p.timer);
    const text = payload.toString('utf8');
    let value = null;
    if (text.length) {
      try {
        value = JSON.parse(text);
      } catch {
        value = text;
      }
    }
    p.resolve({ status, payload: value });
  }

  /** Queues a cloud-to-device message; delivered (QoS 1) as soon as the device listens for it. */
  sendC2d(device, body, properties = {}) {
    if (device.c2d.length >= C2D_QUEUE_LIMIT) return { error: `queue of ${C2D_QUEUE_LIMIT} messages for ${device.id} is full` };
    const messageId = crypto.randomUUID();
    const sys = { '$.mid': messageId, '$.to': `/devices/${device.id}/messages/deviceBound` };
    const bag = buildBag({ ...sys, ...properties });
    device.c2d.push({ messageId, bag, body: Buffer.isBuffer(body) ? body : Buffer.from(String(body)) });
    this.flushC2d(device);
    return { messageId };
  }

  flushC2d(device) {
    const client = this.connectedClient(device);
    if (!client || !client.connected || device.c2d.length === 0) return;
    while (device.c2d.length) {
      const m = device.c2d[0];
      const topic = `devices/${device.id}/messages/devicebound/${m.bag}`;
      if (!Object.keys(client.subscriptions).some((f) => f.endsWith('/messages/devicebound/#'))) return;
      device.c2d.shift();
      this.hubOf(device).send(client, topic, m.body, 1);
    }
  }

  // ---- operator actions -------------------------------------------------------------------------

  disconnect(device, reason = 'forced by operator') {
    const client = this.connectedClient(device);
    if (!client) return false;
    this.hubOf(device).log(device.id, { dir: 'out', type: 'DISCONNECT', reason });
    client.close();
    return true;
  }

  /** Moves the device to the other hub; the old hub refuses it from now on, as after IoT Central's manual failover. */
  failover(device) {
    if (device.hub === null) return null;
    const from = device.hub;
    const to = (from + 1) % this.hubs.length;
    if (!device.refusedHubs.includes(from)) device.refusedHubs.push(from);
    device.refusedHubs = device.refusedHubs.filter((h) => h !== to);
    device.hub = to;
    this.registry.changed();
    this.disconnect(device, 'failover to the other hub');
    return { from: this.hubs[from].hostName, to: this.hubs[to].hostName };
  }

  faultAdded(f) {
    if (f.kind !== 'closeEvery') return;
    const timer = setInterval(() => {
      for (const d of this.registry.devices.values()) {
        if (f.deviceId !== undefined && f.deviceId !== d.id) continue;
        if (f.service !== 'dps' && this.connectedClient(d)) this.disconnect(d, 'closeEvery fault');
      }
      if (f.service !== 'hub') {
        for (const c of Object.values(this.dpsMqtt.broker.clients)) {
          if (f.deviceId === undefined || f.deviceId === c.id) c.close();
        }
      }
    }, f.seconds * 1000);
    this.closeTimers.set(f.id, timer);
  }
}

export async function startEmulator(opts) {
  const emu = new Emulator(opts);
  await emu.start();
  return emu;
}

export { encode };
