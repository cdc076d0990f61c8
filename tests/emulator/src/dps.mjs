// SPDX-License-Identifier: MIT
// The Device Provisioning Service: one registration logic, reached over MQTT (an aedes broker on TLS)
// and over HTTPS (Node's https server).
import aedesFactory from 'aedes';
import https from 'node:https';
import crypto from 'node:crypto';
import { decode, isSubscribed, parseBag, validDeviceId } from './topics.mjs';
import { parseSas, verifySas, deriveKey, redactSas } from './sas.mjs';
import { peerChain, anchorOf, commonName } from './x509.mjs';
import { DEFAULT_GROUP } from './registry.mjs';
import { listenBroker, closeBroker, peerName } from './hub.mjs';
import { serve, unserve } from './listen.mjs';
import { upgrade } from './websocket.mjs';

const MAX_OPERATIONS = 20000;
const BODY_LIMIT = 64 * 1024;

function dpsError(status, code, message) {
  return {
    status,
    body: { errorCode: code, trackingId: crypto.randomUUID(), message, timestampUtc: new Date().toISOString() },
  };
}

export class Dps {
  constructor(emu) {
    this.emu = emu;
    this.operations = new Map();
  }

  /**
   * Authenticates a registration: a SAS token (individual enrollment key, else a symmetric group's derived
   * key) or a client certificate chain (CN = registration id, anchored at an X.509 group's CA or equal to
   * an individual enrollment's certificate). Returns {ok, auth} or {ok:false, reason}.
   */
  authenticate(regId, token, chain) {
    const reg = this.emu.registry;
    if (!validDeviceId(regId)) return { ok: false, reason: 'invalid registration id' };
    const device = reg.get(regId);
    if (token) {
      const sas = parseSas(token);
      if (!sas) return { ok: false, reason: 'not a SharedAccessSignature' };
      const resources = [`${reg.idScope}/registrations/${regId}`];
      if (device && device.attestation && device.attestation.type === 'symmetricKey') {
        const sk = device.attestation.symmetricKey;
        const v = verifySas(sas, resources, [sk.primaryKey, sk.secondaryKey]);
        return v.ok ? { ok: true, auth: { kind: 'sas', keys: [sk.primaryKey, sk.secondaryKey], group: null } } : { ok: false, reason: v.reason };
      }
      if (device && device.attestation && device.attestation.type === 'x509') return { ok: false, reason: 'device enrolled with X.509' };
      let reason = 'no enrollment matches';
      const groups = [...reg.groups.values()].filter((g) => g.attestation.type === 'symmetricKey');
      // A device created earlier keeps its group; try that one first.
      groups.sort((a, b) => (b.id === (device && device.group || DEFAULT_GROUP)) - (a.id === (device && device.group || DEFAULT_GROUP)));
      for (const g of groups) {
        const keys = [deriveKey(g.attestation.symmetricKey.primaryKey, regId), deriveKey(g.attestation.symmetricKey.secondaryKey, regId)];
        const v = verifySas(sas, resources, keys);
        if (v.ok) return { ok: true, auth: { kind: 'sas', keys, group: g.id } };
        reason = v.reason;
      }
      return { ok: false, reason };
    }
    if (!chain || chain.length === 0) return { ok: false, reason: 'no SAS token and no client certificate' };
    if (commonName(chain[0]) !== regId) return { ok: false, reason: 'certificate CN does not equal the registration id' };
    if (device && device.attestation && device.attestation.type === 'x509') {
      if (this.emu.x509Accepts(device, chain)) return { ok: true, auth: { kind: 'x509', group: null } };
      return { ok: false, reason: 'certificate does not match the individual enrollment' };
    }
    if (device && device.attestation) return { ok: false, reason: 'device enrolled with a symmetric key' };
    for (const { group, cert } of reg.x509Anchors()) {
      if (anchorOf(chain, [cert])) return { ok: true, auth: { kind: 'x509', group: group.id } };
    }
    return { ok: false, reason: 'certificate not signed by a CA of an X.509 enrollment group' };
  }

  /** PUT register. Returns {status, body, retryAfter}. */
  register(regId, request, auth, transport) {
    const emu = this.emu;
    const ctx = { deviceId: regId, operation: 'register', transport };
    const thr = emu.faults.take('dpsThrottle', ctx);
    if (thr) return { ...dpsError(thr.status, thr.status * 1000 + 1, 'throttled by fault injection'), retryAfter: thr.retryAfter };
    const bad = emu.faults.take('malformedDps', ctx);
    if (bad) return { status: bad.status, raw: bad.body };
    if (!request || typeof request !== 'object' || Array.isArray(request)) return dpsError(400, 400004, 'request body must be a JSON object');
    if (request.registrationId !== undefined && request.registrationId !== regId) {
      return dpsError(400, 400004, 'registrationId in the body does not match the request');
    }
    if (request.payload !== undefined && (typeof request.payload !== 'object' || Array.isArray(request.payload))) {
      return dpsError(400, 400004, 'payload must be a JSON object');
    }
    const polls = emu.faults.take('assignAfterPolls', { deviceId: regId, transport });
    const fail = emu.faults.take('dpsFail', { deviceId: regId, transport });
    const opId = `4.${crypto.randomBytes(8).toString('hex')}.${crypto.randomUUID()}`;
    const op = {
      id: opId, regId, auth, payload: request.payload, pollsLeft: polls ? polls.polls : 0, fail,
      created: new Date().toISOString(), status: 'assigning', result: null,
      retryAfter: polls && polls.retryAfter !== undefined ? polls.retryAfter : emu.retryAfter,
    };
    if (this.operations.size >= MAX_OPERATIONS) this.operations.delete(this.operations.keys().next().value);
    this.operations.set(opId, op);
    return { status: 202, body: { operationId: opId, status: 'assigning' }, retryAfter: op.retryAfter };
  }

  /** GET operation status. */
  poll(regId, opId, transport) {
    const emu = this.emu;
    const ctx = { deviceId: regId, operation: 'poll', transport };
    const thr = emu.faults.take('dpsThrottle', ctx);
    if (thr) return { ...dpsError(thr.status, thr.status * 1000 + 1, 'throttled by fault injection'), retryAfter: thr.retryAfter };
    const bad = emu.faults.take('malformedDps', ctx);
    if (bad) return { status: bad.status, raw: bad.body };
    const op = this.operations.get(opId);
    if (!op || op.regId !== regId) return dpsError(404, 404201, 'operation not found');
    if (op.result) return { status: 200, body: op.result };
    if (op.pollsLeft > 0) {
      op.pollsLeft--;
      return { status: 202, body: { operationId: op.id, status: 'assigning', registrationState: { registrationId: regId, status: 'assigning' } }, retryAfter: op.retryAfter };
    }
    op.result = this.finish(op);
    return { status: 200, body: op.result };
  }

  finish(op) {
    const emu = this.emu;
    const reg = emu.registry;
    const now = new Date().toISOString();
    const state = { registrationId: op.regId, createdDateTimeUtc: op.created };
    const group = op.auth.group ? reg.groups.get(op.auth.group) : null;
    let device = reg.get(op.regId);
    if (op.fail) {
      Object.assign(state, { status: op.fail.status, errorCode: op.fail.errorCode, errorMessage: op.fail.errorMessage, lastUpdatedDateTimeUtc: now });
      return { operationId: op.id, status: op.fail.status, registrationState: state };
    }
    if ((group && group.enabled === false) || (device && !device.enabled)) {
      Object.assign(state, { status: 'disabled', errorCode: 400301, errorMessage: 'Device is disabled.', lastUpdatedDateTimeUtc: now });
      return { operationId: op.id, status: 'disabled', registrationState: state };
    }
    // IoT Central creates a device that proves a group's key on first registration.
    if (!device) device = reg.create(op.regId);
    const modelId = op.payload && (op.payload.modelId || op.payload.iotcModelId);
    // IoT Central associates a device with the template of its model id (a template's id is its model's
    // DTMI there), unless the operator gave it a template of the app already.
    if (typeof modelId === 'string' && modelId && !emu.registry.templateOf(device)) device.template = modelId;
    if (op.auth.group) device.group = op.auth.group;
    let substatus = 'initialAssignment';
    if (device.hub === null) device.hub = reg.nextHub(emu.hubs.length);
    else if (device.provisioned && device.registration && device.registration.assignedHub !== emu.hubs[device.hub].hostName) substatus = 'deviceDataMigrated';
    device.provisioned = true;
    device.hubAuth = op.auth.kind === 'sas' ? { kind: 'sas', keys: op.auth.keys } : { kind: 'x509', group: op.auth.group };
    Object.assign(state, {
      assignedHub: emu.hubs[device.hub].hostName, deviceId: device.id, status: 'assigned', substatus,
      lastUpdatedDateTimeUtc: now, etag: JSON.stringify(crypto.randomBytes(6).toString('base64')),
    });
    if (op.payload !== undefined) state.payload = op.payload;
    if (op.auth.kind === 'x509') state.x509 = {};
    device.registration = state;
    reg.changed();
    emu.deviceChanged(device);
    return { operationId: op.id, status: 'assigned', registrationState: state };
  }

  /** The registration state of a provisioned device (device registration status lookup). */
  lookup(regId) {
    const device = this.emu.registry.get(regId);
    if (!device || !device.registration) return dpsError(404, 404202, 'registration not found');
    return { status: 200, body: device.registration };
  }
}

// ---- DPS over MQTT ------------------------------------------------------------------------------

export class DpsMqtt {
  constructor(emu, dps) {
    this.emu = emu;
    this.dps = dps;
    this.svc = 'dps-mqtt';
    this.sockets = new Set();
    this.broker = aedesFactory({
      preConnect: (client, packet, cb) => {
        const pw = packet.password ? packet.password.toString('utf8') : undefined;
        this.log(packet.clientId, {
          dir: 'in', type: 'CONNECT', username: packet.username, password: pw === undefined ? undefined : redactSas(pw),
          clean: packet.clean, keepalive: packet.keepalive, protocolVersion: packet.protocolVersion,
          clientCertificate: peerChain(client.conn).length > 0 || undefined,
      websocket: client.conn.websocket || undefined,
        });
        cb(null, true);
      },
      authenticate: (client, username, password, cb) => {
        const r = this.check(client, username, password);
        this.log(client.id, { dir: 'out', type: 'CONNACK', returnCode: r.error ? r.error.returnCode : 0, reason: r.error ? r.error.message : undefined });
        if (r.error) return cb(r.error);
        client.dpsAuth = r.auth;
        cb(null, true);
      },
      authorizeSubscribe: (client, sub, cb) => {
        const ok = sub.topic === '$dps/registrations/res/#';
        this.log(client.id, { dir: 'in', type: 'SUBSCRIBE', topic: sub.topic, qos: sub.requested ?? sub.qos, granted: ok ? sub.qos : 128 });
        cb(null, ok ? sub : null);
      },
      authorizePublish: (client, packet, cb) => this.publish(client, packet, cb),
      authorizeForward: (client, packet) => (packet.clientId ? null : packet),
    });
    this.broker.on('clientDisconnect', (client) => this.log(client.id, { type: 'CLOSED' }));
    this.broker.on('clientError', (client, err) => this.log(client.id, { type: 'ERROR', message: err.message }));
    this.broker.on('connectionError', () => {});
  }

  log(id, entry, payload) {
    entry.svc = this.svc;
    return this.emu.wire.add(id, entry, payload);
  }

  listen(port, hosts) {
    return listenBroker(this, port, hosts);
  }

  check(client, username, password) {
    const refuse = (code, message) => ({ error: Object.assign(new Error(message), { returnCode: code }) });
    const fault = this.emu.faults.take('refuseConnect', { deviceId: client.id, service: 'dps' });
    if (fault) return refuse(fault.returnCode, 'refused by fault injection');
    const m = typeof username === 'string' ? /^([^/]+)\/registrations\/([^/]+)\/(.*)$/.exec(username) : null;
    if (!m || !/(^|&)api-version=/.test(m[3])) return refuse(4, 'username must be {idScope}/registrations/{registrationId}/api-version=...');
    const regId = decode(m[2]);
    if (regId !== client.id) return refuse(2, 'client id must equal the registration id');
    if (decode(m[1]) !== this.emu.registry.idScope) return refuse(5, 'unknown ID scope');
    const pw = password ? password.toString('utf8') : '';
    const r = this.dps.authenticate(regId, pw || null, pw ? null : peerChain(client.conn));
    if (!r.ok) return refuse(5, r.reason);
    return { auth: r.auth };
  }

  publish(client, packet, cb) {
    const topic = packet.topic;
    const entry = this.log(client.id, { dir: 'in', type: 'PUBLISH', topic, qos: packet.qos }, packet.payload);
    if (packet.qos === 2) return cb(new Error('QoS 2 not supported'));
    try {
      let m = /^\$dps\/registrations\/PUT\/iotdps-register\/\?(.*)$/.exec(topic);
      if (m) {
        const q = parseBag(m[1]);
        let body;
        try {
          body = packet.payload.length > BODY_LIMIT ? undefined : JSON.parse(packet.payload.toString('utf8'));
        } catch {
          body = undefined;
        }
        const r = body === undefined ? dpsError(400, 400004, 'request body is not valid JSON') : this.dps.register(client.id, body, client.dpsAuth, 'mqtt');
        setImmediate(() => this.reply(client, q.$rid, r));
        return cb(null);
      }
      m = /^\$dps\/registrations\/GET\/iotdps-get-operationstatus\/\?(.*)$/.exec(topic);
      if (m) {
        const q = parseBag(m[1]);
        const r = this.dps.poll(client.id, q.operationId, 'mqtt');
        setImmediate(() => this.reply(client, q.$rid, r));
        return cb(null);
      }
    } catch (err) {
      entry.reason = 'internal error: ' + err.message;
      return cb(err);
    }
    entry.reason = 'topic not allowed: connection closed';
    cb(new Error('topic not allowed'));
  }

  reply(client, rid, r) {
    if (client.closed) return;
    let topic = `$dps/registrations/res/${r.status}/?$rid=${rid === undefined ? '' : rid}`;
    if (r.retryAfter !== undefined) topic += `&retry-after=${r.retryAfter}`;
    const payload = Buffer.from(r.raw !== undefined ? r.raw : JSON.stringify(r.body));
    if (!isSubscribed(client, topic)) {
      this.log(client.id, { dir: 'out', type: 'DROPPED', topic, reason: 'not subscribed' }, payload);
      return;
    }
    this.log(client.id, { dir: 'out', type: 'PUBLISH', topic, qos: 0 }, payload);
    client.publish({ topic, payload, qos: 0, retain: false }, () => {});
  }

  close() {
    return closeBroker(this);
  }
}

// ---- DPS over HTTPS -----------------------------------------------------------------------------

export class DpsHttps {
  constructor(emu, dps) {
    this.emu = emu;
    this.dps = dps;
    this.svc = 'dps-https';
    this.sockets = new Set();
  }

  listen(port, hosts) {
    const { cert, key } = this.emu.certs;
    const make = () => {
      const server = https.createServer({ cert, key, requestCert: true, rejectUnauthorized: false, noDelay: true }, (req, res) => {
        this.handle(req, res).catch((err) => {
          if (!res.headersSent) this.send(req, res, dpsError(500, 500000, 'internal error: ' + err.message));
        });
      });
      server.on('tlsClientError', (err, socket) => this.emu.note(`${this.svc}: TLS handshake from ${peerName(socket)} failed: ${err.message}`));
      // DPS serves MQTT over WebSockets on the same port as REST (443), as the cloud does.
      server.on('upgrade', (req, socket, head) => upgrade(this.emu.dpsMqtt, req, socket, head));
      return server;
    };
    return serve(this, make, hosts, port);
  }

  async handle(req, res) {
    const url = new URL(req.url, 'https://localhost');
    const body = await readBody(req, BODY_LIMIT);
    const parts = url.pathname.split('/').map(decode);
    const regId = parts[3];
    req.regId = regId;
    const headers = { ...req.headers };
    if (headers.authorization) headers.authorization = redactSas(headers.authorization);
    req.wire = this.emu.wire.add(validDeviceId(regId) ? regId : undefined, { svc: this.svc, dir: 'in', type: 'HTTP', method: req.method, url: req.url, headers }, body === null ? 'request body too large' : body);
    if (body === null) return this.send(req, res, dpsError(413, 413001, 'request body too large'));
    // /{idScope}/registrations/{regId}/register | /operations/{opId} | (status lookup)
    if (parts.length < 4 || parts[2] !== 'registrations' || !regId) return this.send(req, res, dpsError(404, 404001, 'not found'));
    if (parts[1] !== this.emu.registry.idScope) return this.send(req, res, dpsError(401, 401002, 'unknown ID scope'));
    const auth = this.dps.authenticate(regId, req.headers.authorization || null, req.headers.authorization ? null : peerChain(req.socket));
    if (!auth.ok) return this.send(req, res, dpsError(401, 401002, auth.reason));
    let json;
    if (req.method === 'PUT' || req.method === 'POST') {
      try {
        json = body.length ? JSON.parse(body.toString('utf8')) : {};
      } catch {
        return this.send(req, res, dpsError(400, 400004, 'request body is not valid JSON'));
      }
    }
    if (req.method === 'PUT' && parts.length === 5 && parts[4] === 'register') return this.send(req, res, this.dps.register(regId, json, auth.auth, 'https'));
    if (req.method === 'GET' && parts.length === 6 && parts[4] === 'operations') return this.send(req, res, this.dps.poll(regId, parts[5], 'https'));
    if (req.method === 'POST' && parts.length === 4) return this.send(req, res, this.dps.lookup(regId));
    return this.send(req, res, dpsError(405, 405001, 'method or path not supported'));
  }

  send(req, res, r) {
    const payload = r.raw !== undefined ? r.raw : JSON.stringify(r.body);
    const headers = { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(payload) };
    if (r.retryAfter !== undefined) headers['retry-after'] = String(r.retryAfter);
    const skew = this.emu.faults.take('dpsDateSkew', { deviceId: req.regId });
    if (skew) headers.date = new Date(Date.now() + skew.skewSeconds * 1000).toUTCString();
    if (r.status >= 400 && r.body && r.body.errorCode) headers['x-ms-error-code'] = String(r.body.errorCode);
    if (req.wire) req.wire.status = r.status;
    this.emu.wire.add(req.wire ? req.wire.id : undefined, { svc: this.svc, dir: 'out', type: 'HTTP', status: r.status, headers }, payload);
    res.writeHead(r.status, headers);
    res.end(payload);
  }

  close() {
    return unserve(this);
  }
}

/** Reads a request body up to limit bytes; null when larger. */
export function readBody(req, limit) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    let over = false;
    req.on('data', (c) => {
      size += c.length;
      if (size > limit) over = true;
      else chunks.push(c);
    });
    req.on('end', () => resolve(over ? null : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}
