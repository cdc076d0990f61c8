// SPDX-License-Identifier: MIT
// Composition: registry + wire log + faults, two hubs, DPS over MQTT and HTTPS, and the operator API.
// startEmulator() is also usable in-process by Node tests.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ensureCerts, serverNamesError, DEFAULT_SERVER_NAMES } from './certs.mjs';
import { LOCALHOST_ADDRESSES, unserve } from './listen.mjs';
import { Registry, applyDesired, DEFAULT_X509_GROUP } from './registry.mjs';
import { WireLog } from './wire.mjs';
import { Faults } from './faults.mjs';
import { Hub } from './hub.mjs';
import { Dps, DpsMqtt, DpsHttps } from './dps.mjs';
import { Api } from './api.mjs';
import { Dashboard } from './dashboard.mjs';
import { Events } from './events.mjs';
import { buildBag, parseBag, encode } from './topics.mjs';
import { anchorOf, toCert } from './x509.mjs';

export const FIXED_PORTS = { api: 8480, dpsMqtt: 8882, dpsHttps: 8443, hubs: [8883, 8884] };
// The cloud's ports: what an SDK dials when a host name comes without one.
export const STANDARD_PORTS = { dpsMqtt: 8883, dpsHttps: 443, hubs: [8883, 8883] };
export const PORT_MODES = ['ephemeral', 'fixed', 'standard'];
const ADDRESS_BLOCK = /^127\.(25[0-5]|2[0-4]\d|1?\d?\d)\.(25[0-5]|2[0-4]\d|1?\d?\d)$/;
const BLOCK_ATTEMPTS = 8;
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
    try {
      return await this.listen();
    } catch (err) {
      // Nothing half-started stays behind: listeners that did open are closed again.
      await this.stop().catch(() => {});
      throw err;
    }
  }

  async listen() {
    const o = this.opts;
    this.tmpDir = null;
    this.verbosity = o.verbosity ?? 1;
    this.events = new Events(this, o.events);
    this.dashboard = new Dashboard(o.dashboardMounts);
    this.wire.onEntry = (e) => {
      this.noteWire(e);
      this.events.wire(e);
    };
    const mode = o.ports || 'ephemeral';
    if (!PORT_MODES.includes(mode)) throw new Error(`ports must be one of ${PORT_MODES.join(', ')}`);
    if (o.addressBlock !== undefined && !ADDRESS_BLOCK.test(o.addressBlock)) throw new Error('addressBlock must look like 127.X.Y');
    this.standard = mode === 'standard';
    const badNames = o.serverNames === undefined ? null : serverNamesError(o.serverNames);
    if (badNames) throw new Error(badNames);
    let certDir = o.certDir;
    if (!certDir && o.stateDir) certDir = path.join(o.stateDir, 'certs');
    if (!certDir) certDir = this.tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'iotc-emulator-'));
    this.certDir = certDir;
    this.block = this.standard ? this.chooseBlock() : null;
    this.makeCerts(o.serverNames, this.standardHosts());
    this.registry = new Registry({ retention: this.retention, stateDir: o.stateDir, idScope: o.idScope, groupKey: o.groupKey, deviceCa: this.certs.deviceCa });
    this.registry.onChange = () => this.events.registryChanged();
    for (const spec of o.devices || []) this.configureDevice(spec);
    for (const g of o.enrollmentGroups || []) this.registry.groups.set(g.id, g);
    for (const t of o.deviceTemplates || []) this.registry.putTemplate(t.id, t);
    this.hubs = [new Hub(this, 0), new Hub(this, 1)];
    this.dps = new Dps(this);
    this.dpsMqtt = new DpsMqtt(this, this.dps);
    this.dpsHttps = new DpsHttps(this, this.dps);
    this.api = new Api(this);
    const ports = { ...FIXED_PORTS, ...(o.portNumbers || {}) };
    await this.api.listen(mode === 'fixed' ? ports.api : (o.portNumbers && o.portNumbers.api) || 0, LOCALHOST_ADDRESSES);
    if (this.standard) await this.listenStandard(o);
    else await this.listenLocalhost(mode === 'fixed' ? ports : null);
    return this.info();
  }

  /** The block 127.X.Y of standard mode: the configured one, else a random one. */
  chooseBlock() {
    return this.opts.addressBlock || `127.${1 + crypto.randomInt(254)}.${1 + crypto.randomInt(254)}`;
  }

  /** Standard mode's addresses: DPS, then each hub (none in the other modes). */
  standardHosts() {
    return this.block ? [`${this.block}.1`, `${this.block}.2`, `${this.block}.3`] : [];
  }

  /** The certificates, for serverNames (the defaults when absent) plus extra names. */
  makeCerts(serverNames, extra = []) {
    const names = [...(serverNames || DEFAULT_SERVER_NAMES)];
    for (const n of extra) if (!names.includes(n)) names.push(n);
    this.certs = ensureCerts(this.certDir, { serverNames: names });
  }

  /** Every service on 127.0.0.1 and ::1 (where there is IPv6 loopback), named localhost:PORT. */
  async listenLocalhost(ports) {
    await Promise.all([
      ...this.hubs.map((h, i) => h.listen(ports ? ports.hubs[i] : 0, LOCALHOST_ADDRESSES)),
      this.dpsMqtt.listen(ports ? ports.dpsMqtt : 0, LOCALHOST_ADDRESSES),
      this.dpsHttps.listen(ports ? ports.dpsHttps : 0, LOCALHOST_ADDRESSES),
    ]);
    for (const h of this.hubs) h.host = `localhost:${h.port}`;
    this.dpsHost = { mqtt: `localhost:${this.dpsMqtt.port}`, https: `localhost:${this.dpsHttps.port}` };
  }

  /**
   * Like the cloud: DPS and each hub at an address of its own in a block 127.X.Y (all of 127/8 is
   * loopback on Linux), DPS-MQTT and the hubs on 8883, DPS-HTTPS on 443 (or any free port where 443 is
   * not permitted, stated in the ready line), and host names with no port. The addresses are the
   * names: they resolve everywhere without /etc/hosts, and the server certificate names each.
   */
  async listenStandard(o) {
    for (let attempt = 1; ; attempt++) {
      const [dps, ...hubs] = this.standardHosts();
      const started = [];
      const start = (svc, port, host) => svc.listen(port, [host]).then(() => started.push(svc));
      // Settle every listen before judging, so none opens after a failure was cleaned up.
      const results = await Promise.allSettled([
        ...this.hubs.map((h, i) => start(h, STANDARD_PORTS.hubs[i], hubs[i])),
        start(this.dpsMqtt, STANDARD_PORTS.dpsMqtt, dps),
        start(this.dpsHttps, STANDARD_PORTS.dpsHttps, dps).catch((err) => {
          if (err.code !== 'EACCES') throw err;
          this.note(`dps-https: may not listen on ${dps}:443 (${err.code}); using another port, given in the ready line`);
          return start(this.dpsHttps, 0, dps);
        }),
      ]);
      const failed = results.find((r) => r.status === 'rejected');
      if (failed) {
        const err = failed.reason;
        // Only the listeners: the services (brokers) stay for the next attempt.
        await Promise.all(started.map((s) => unserve(s)));
        // Another emulator in standard mode holds this block: take another (a chosen block is final).
        if (err.code !== 'EADDRINUSE' || o.addressBlock || attempt >= BLOCK_ATTEMPTS) {
          throw new Error(`cannot listen in standard mode on ${this.block}.*: ${err.message}`);
        }
        this.block = this.chooseBlock();
        this.makeCerts(o.serverNames, this.standardHosts());
        continue;
      }
      hubs.forEach((a, i) => { this.hubs[i].host = a; });
      const httpsPort = this.dpsHttps.port === STANDARD_PORTS.dpsHttps ? '' : `:${this.dpsHttps.port}`;
      this.dpsHost = { mqtt: dps, https: dps + httpsPort };
      return;
    }
  }

  info() {
    return {
      ready: true,
      pid: process.pid,
      mode: this.opts.ports || 'ephemeral',
      idScope: this.registry.idScope,
      caFile: this.certs.caFile,
      api: `http://127.0.0.1:${this.api.port}`,
      dps: { ...this.dpsHost },
      hubs: this.hubs.map((h) => h.hostName),
      groupKey: this.registry.groupKey,
    };
  }

  /** One line on stderr (verbosity 1 and up), with control characters escaped: the text may carry device data. */
  note(line, level = 1) {
    if (this.verbosity < level) return;
    process.stderr.write(`iotc-emulator: ${printable(line)}\n`);
  }

  /** Connections, disconnects and refusals by default; every wire entry with verbosity 2. */
  noteWire(e) {
    if (this.verbosity < 1) return;
    const who = e.id === undefined ? 'a client' : e.id;
    if (e.type === 'CONNACK') {
      if (e.returnCode === 0) this.note(`${e.svc}: ${who} connected${e.auth ? ` (${e.auth})` : ''}`);
      else this.note(`${e.svc}: ${who} refused: CONNACK ${e.returnCode}, ${e.reason}`);
    } else if (e.type === 'CLOSED') {
      this.note(`${e.svc}: ${who} disconnected${e.reason && e.reason !== 'disconnected' ? ` (${e.reason})` : ''}`);
    } else if (e.type === 'DISCONNECT') {
      this.note(`${e.svc}: closing ${who}: ${e.reason}`);
    } else if (e.type === 'HTTP' && e.dir === 'out' && e.status >= 400) {
      this.note(`${e.svc}: ${who} refused: HTTP ${e.status}`);
    } else if (this.verbosity >= 2) {
      const what = [e.dir, e.type, e.method, e.url, e.topic, e.status, e.reason].filter((v) => v !== undefined).join(' ');
      this.note(`${e.svc}: ${who}: ${what}${e.size !== undefined ? ` (${e.size} bytes)` : ''}`, 2);
    }
  }

  async stop() {
    if (this.stopping) return this.stopping;
    this.stopping = (async () => {
      this.faults.clear();
      if (this.events) this.events.close();
      for (const p of this.pendingMethods.values()) clearTimeout(p.timer);
      for (const d of this.registry ? this.registry.devices.values() : []) {
        if (d.conn && d.conn.expiryTimer) clearTimeout(d.conn.expiryTimer);
        for (const w of d.waiters) w(true);
      }
      try {
        if (this.registry) this.registry.save();
      } catch (err) {
        process.stderr.write(`iotc-emulator: could not save state: ${err.message}\n`);
      }
      const services = [...(this.hubs || []), this.dpsMqtt, this.dpsHttps, this.api].filter(Boolean);
      await Promise.all(services.map((s) => s.close()));
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
    this.events.deviceChanged(device);
    if (device.waiters.size) for (const w of [...device.waiters]) w(false);
    if (device.conn) this.flushC2d(device);
  }

  recordMessage(device, topic, bag, payload, hub) {
    const msg = { seq: ++this.msgSeq, t: Date.now(), topic, bag, payload: Buffer.from(payload), hub };
    if (!device.messages.onEvict) device.messages.onEvict = (m) => this.parseTelemetry(device, m);
    device.messages.push(msg, payload.length + topic.length + 64);
    this.events.message(device, msg);
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
    // IoT Hub's message id ($.mid): what a consumer drops repeated deliveries by
    if (properties['$.mid'] !== undefined) out.messageId = properties['$.mid'];
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
    this.events.deviceChanged(device);
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
      this.events.deviceChanged(device);
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

/** Text with control characters (CR, LF, ESC, ...) shown as \\xNN, so one note stays one line. */
export function printable(text) {
  return String(text).replace(/[\x00-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

export async function startEmulator(opts) {
  const emu = new Emulator(opts);
  await emu.start();
  return emu;
}

export { encode };
