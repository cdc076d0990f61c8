// SPDX-License-Identifier: MIT
// One IoT hub: an aedes broker on a TLS server whose hooks implement IoT Hub's MQTT surface. Nothing a
// device publishes is routed to another connection; every reply is sent by the emulator to the one
// connection that asked, and only if that connection subscribed to the reply's topic.
import aedesFactory from 'aedes';
import { serve, unserve } from './listen.mjs';
import { brokerServer, closeWebSocket } from './websocket.mjs';
import { decode, isSubscribed, parseBag } from './topics.mjs';
import { parseSas, verifySas, redactSas } from './sas.mjs';
import { peerChain, anchorOf, commonName } from './x509.mjs';
import { parseTwinPatch, applyReported, twinDocument, TwinError } from './registry.mjs';
import { serveHubHttp } from './file_upload.mjs';

const D2C_LIMIT = 256 * 1024;
const MAX_TIMER_MS = 2 ** 31 - 1;

function refuse(code, message) {
  const err = new Error(message);
  err.returnCode = code;
  return err;
}

/**
 * IoT Hub and DPS grant QoS 1 for a QoS 2 subscription. aedes puts the requested QoS in SUBACK whatever
 * the authorizer decides, so lower it before aedes sees the packet (keeping the request for the log).
 */
export function capSubscribeQos(client) {
  client._parser.prependListener('packet', (packet) => {
    if (packet.cmd === 'subscribe' && Array.isArray(packet.subscriptions)) {
      for (const s of packet.subscriptions) {
        s.requested = s.qos;
        if (s.qos > 1) s.qos = 1;
      }
    }
  });
}

/**
 * Serve a service's aedes broker over TLS on the given loopback hosts (the hubs and DPS-MQTT alike):
 * client certificates are requested but judged by the service (X.509 enrollment). The service object
 * provides emu, broker and log, and gets what serve() sets. A service with routeHttp(socket, first)
 * also answers plain HTTPS requests on the port (a hub's file-upload endpoints).
 */
export function listenBroker(service, port, hosts) {
  service.kind = service.svc.startsWith('hub') ? 'hub' : 'dps';
  service.handleStream = (stream) => capSubscribeQos(service.broker.handle(stream));
  service.tlsError = (err, socket) => {
    service.log(undefined, { type: 'TLS_ERROR', message: err.message });
    service.emu.note(`${service.svc}: TLS handshake from ${peerName(socket)} failed: ${err.message}`);
  };
  // Outside standard mode the one TLS port also takes MQTT over WebSockets (websocket.mjs).
  return serve(service, () => brokerServer(service, { mqttOnly: service.emu.standard }), hosts, port);
}

/** Closes a broker service that listenBroker started. */
export function closeBroker(service) {
  service.broker.close(() => {});
  return Promise.all([unserve(service), closeWebSocket(service)]);
}

/** address:port of a socket's peer, for log lines. */
export function peerName(socket) {
  if (!socket || !socket.remoteAddress) return 'an unknown peer';
  return socket.remoteFamily === 'IPv6' ? `[${socket.remoteAddress}]:${socket.remotePort}` : `${socket.remoteAddress}:${socket.remotePort}`;
}

export class Hub {
  constructor(emu, index) {
    this.emu = emu;
    this.index = index;
    this.svc = 'hub' + index;
    this.port = 0;
    this.sockets = new Set();
    this.broker = aedesFactory({
      concurrency: 1000,
      preConnect: (client, packet, cb) => this.preConnect(client, packet, cb),
      authenticate: (client, username, password, cb) => this.authenticate(client, username, password, cb),
      authorizeSubscribe: (client, sub, cb) => this.authorizeSubscribe(client, sub, cb),
      authorizePublish: (client, packet, cb) => this.authorizePublish(client, packet, cb),
      // Packets the emulator sends with client.publish carry no clientId; device packets always do.
      authorizeForward: (client, packet) => (packet.clientId ? null : packet),
    });
    this.broker.on('clientReady', (client) => this.onReady(client));
    this.broker.on('clientDisconnect', (client) => this.onGone(client, 'disconnected'));
    this.broker.on('subscribe', (subs, client) => client && client.device && this.emu.deviceChanged(client.device));
    this.broker.on('clientError', (client, err) => this.log(client.id, { type: 'ERROR', message: err.message }));
    this.broker.on('connectionError', () => {});
  }

  log(id, entry, payload) {
    entry.svc = this.svc;
    return this.emu.wire.add(id, entry, payload);
  }

  /** Host names a token's resource or a username may use for this hub. */
  names() {
    const p = this.port;
    const own = this.emu.standard ? [this.host, `${this.host}:${p}`]
      : ['localhost', `localhost:${p}`, '127.0.0.1', `127.0.0.1:${p}`, `[::1]:${p}`];
    return [...own, ...this.emu.extraHubNames(this.index)];
  }

  /** The name DPS assigns and devices dial: localhost:PORT, or in standard mode its address alone. */
  get hostName() {
    return this.host;
  }

  listen(port, hosts) {
    this.routeHttp = (socket, first) => serveHubHttp(this, socket, first);
    return listenBroker(this, port, hosts);
  }

  // ---- connect ----------------------------------------------------------------------------------

  preConnect(client, packet, cb) {
    const pw = packet.password ? packet.password.toString('utf8') : undefined;
    this.log(packet.clientId, {
      dir: 'in', type: 'CONNECT', username: packet.username, password: pw === undefined ? undefined : redactSas(pw),
      clean: packet.clean, keepalive: packet.keepalive, protocolVersion: packet.protocolVersion,
      will: packet.will ? { topic: packet.will.topic, qos: packet.will.qos } : undefined,
      clientCertificate: peerChain(client.conn).length > 0 || undefined,
      websocket: client.conn.websocket || undefined,
    });
    if (packet.protocolVersion !== 4) {
      // IoT Hub speaks MQTT 3.1.1 only; aedes answers 3.1 by itself, so refuse here.
      this.log(packet.clientId, { dir: 'out', type: 'CONNACK', returnCode: 1, reason: 'MQTT 3.1.1 only' });
      return cb(refuse(1, 'unacceptable protocol version'));
    }
    cb(null, true);
  }

  authenticate(client, username, password, cb) {
    const result = this.check(client, username, password);
    if (result.error) {
      this.log(client.id, { dir: 'out', type: 'CONNACK', returnCode: result.error.returnCode, reason: result.error.message });
      return cb(result.error);
    }
    const device = result.device;
    const conn = { hub: this.index, client, username, since: Date.now(), expiry: result.expiry, auth: result.kind };
    if (result.expiry) {
      const ms = result.expiry * 1000 - Date.now();
      if (ms < MAX_TIMER_MS) {
        conn.expiryTimer = setTimeout(() => {
          this.log(client.id, { dir: 'out', type: 'DISCONNECT', reason: 'SAS token expired' });
          client.close();
        }, Math.max(0, ms));
      }
    }
    const old = device.conn;
    device.conn = conn;
    client.device = device;
    client.connInfo = conn;
    // One connection per device across both hubs (aedes itself replaces duplicates within one broker).
    if (old && old.client !== client && old.hub !== this.index) {
      this.emu.hubs[old.hub].log(device.id, { dir: 'out', type: 'DISCONNECT', reason: 'replaced by a new connection' });
      old.client.close();
    }
    this.log(client.id, { dir: 'out', type: 'CONNACK', returnCode: 0, auth: result.kind });
    cb(null, true);
  }

  check(client, username, password) {
    const emu = this.emu;
    const fault = emu.faults.take('refuseConnect', { deviceId: client.id, service: 'hub' });
    if (fault) return { error: refuse(fault.returnCode, 'refused by fault injection') };
    const m = typeof username === 'string' ? /^([^/]+)\/([^/]+)\/\?(.*)$/.exec(username) : null;
    if (!m) return { error: refuse(4, 'username must be {host}/{deviceId}/?api-version=...') };
    const deviceId = decode(m[2]);
    if (deviceId !== client.id) return { error: refuse(2, 'client id must equal the device id in the username') };
    const names = this.names().map((n) => n.toLowerCase());
    if (!names.includes(decode(m[1]).toLowerCase())) return { error: refuse(5, `username host is not this hub (${this.hostName})`) };
    const device = emu.registry.get(deviceId);
    if (!device) return { error: refuse(5, 'device not registered on this hub') };
    if (!device.provisioned || device.hub !== this.index) {
      return { error: refuse(5, device.refusedHubs.includes(this.index) ? 'device was moved to another hub' : 'device not registered on this hub') };
    }
    if (!device.enabled) return { error: refuse(5, 'device is disabled') };
    const pw = password ? password.toString('utf8') : '';
    if (pw !== '') {
      const sas = parseSas(pw);
      if (!sas) return { error: refuse(5, 'password is not a SharedAccessSignature') };
      if (!device.hubAuth || device.hubAuth.kind !== 'sas') return { error: refuse(5, 'device authenticates with X.509') };
      const v = verifySas(sas, this.names().map((h) => `${h}/devices/${deviceId}`), device.hubAuth.keys);
      if (!v.ok) return { error: refuse(5, v.reason) };
      return { device, kind: 'sas', expiry: sas.se };
    }
    const chain = peerChain(client.conn);
    if (chain.length === 0) return { error: refuse(5, 'no password and no client certificate') };
    if (!device.hubAuth || device.hubAuth.kind !== 'x509') return { error: refuse(5, 'device authenticates with a symmetric key') };
    if (commonName(chain[0]) !== deviceId) return { error: refuse(5, 'certificate CN does not equal the device id') };
    const ok = emu.x509Accepts(device, chain);
    if (!ok) return { error: refuse(5, 'certificate not trusted for this device') };
    return { device, kind: 'x509', expiry: null };
  }

  onReady(client) {
    const device = client.device;
    if (device) this.emu.deviceChanged(device);
  }

  onGone(client, reason) {
    const device = client.device;
    const conn = client.connInfo;
    if (conn && conn.expiryTimer) clearTimeout(conn.expiryTimer);
    this.log(client.id, { type: 'CLOSED', reason });
    if (device && device.conn === conn) {
      device.conn = null;
      this.emu.deviceChanged(device);
    }
  }

  // ---- subscribe --------------------------------------------------------------------------------

  authorizeSubscribe(client, sub, cb) {
    const id = client.id;
    const t = sub.topic;
    const ok = t === `devices/${id}/messages/devicebound/#` || t === 'devices/+/messages/devicebound/#' ||
      t === '$iothub/twin/res/#' || t === '$iothub/twin/PATCH/properties/desired/#' || t === '$iothub/methods/POST/#';
    this.log(id, { dir: 'in', type: 'SUBSCRIBE', topic: t, qos: sub.requested ?? sub.qos, granted: ok ? sub.qos : 128 });
    cb(null, ok ? sub : null);
  }

  // ---- publish ----------------------------------------------------------------------------------

  authorizePublish(client, packet, cb) {
    const topic = packet.topic;
    const id = client ? client.id : packet.clientId;
    const isWill = client && packet === client.will;
    const entry = this.log(id, { dir: 'in', type: 'PUBLISH', topic, qos: packet.qos, retain: packet.retain || undefined, will: isWill || undefined }, packet.payload);
    const device = client && client.device;
    if (!device) return cb(new Error('not connected'));
    if (packet.qos === 2) {
      entry.reason = 'QoS 2 is not supported: connection closed';
      return cb(new Error('QoS 2 not supported'));
    }
    try {
      const evPrefix = `devices/${id}/messages/events`;
      if (topic === evPrefix || topic.startsWith(evPrefix + '/')) {
        if (packet.payload.length > D2C_LIMIT) {
          entry.reason = 'message larger than 256 KB: connection closed';
          return cb(new Error('message too large'));
        }
        let bag = topic.slice(evPrefix.length + 1);
        if (packet.retain) {
          bag += (bag ? '&' : '') + 'mqtt-retain=true';
          packet.retain = false;
        }
        if (isWill) bag += (bag ? '&' : '') + 'iothub-MessageType=Will';
        this.emu.recordMessage(device, topic, bag, packet.payload, this.index);
        return cb(null);
      }
      if (client.closed || device.conn === null || device.conn.client !== client) return cb(new Error('connection replaced'));
      if (topic.startsWith('$iothub/twin/GET/')) {
        this.twinGet(client, device, parseBag(topic.slice('$iothub/twin/GET/?'.length)).$rid);
        return cb(null);
      }
      if (topic.startsWith('$iothub/twin/PATCH/properties/reported/')) {
        this.twinReported(client, device, parseBag(topic.slice('$iothub/twin/PATCH/properties/reported/?'.length)).$rid, packet.payload);
        return cb(null);
      }
      const mr = /^\$iothub\/methods\/res\/(-?\d{1,9})\/\?(.*)$/.exec(topic);
      if (mr) {
        this.emu.methodResponse(device, parseBag(mr[2]).$rid, Number(mr[1]), packet.payload);
        return cb(null);
      }
    } catch (err) {
      // A bug or bad input must cost only this connection, never the emulator.
      entry.reason = 'internal error: ' + err.message;
      return cb(err);
    }
    entry.reason = 'topic not allowed: connection closed';
    return cb(new Error('topic not allowed'));
  }

  /** Sends to one connection if it subscribed to a matching filter; logs and drops otherwise. */
  send(client, topic, payload, qos = 0) {
    const buf = Buffer.isBuffer(payload) ? payload : Buffer.from(payload === undefined ? '' : String(payload));
    if (!isSubscribed(client, topic)) {
      this.log(client.id, { dir: 'out', type: 'DROPPED', topic, reason: 'not subscribed' }, buf);
      return false;
    }
    this.log(client.id, { dir: 'out', type: 'PUBLISH', topic, qos }, buf);
    client.publish({ topic, payload: buf, qos, retain: false }, () => {});
    return true;
  }

  twinResponse(client, status, rid, body, extra = '') {
    return this.send(client, `$iothub/twin/res/${status}/?$rid=${rid === undefined || rid === null ? '' : rid}${extra}`, body);
  }

  twinFaults(client, device, rid, operation) {
    const faults = this.emu.faults;
    const ctx = { deviceId: device.id, operation };
    if (faults.take('dropTwinResponse', ctx)) {
      this.log(device.id, { dir: 'out', type: 'DROPPED', reason: 'dropTwinResponse fault', rid });
      return true;
    }
    const throttle = faults.take('twinThrottle', ctx);
    if (throttle) {
      this.twinResponse(client, throttle.status, rid, '{"message":"throttled"}');
      return true;
    }
    const bad = faults.take('malformedTwin', ctx);
    if (bad) {
      this.twinResponse(client, bad.status, rid, bad.body);
      return true;
    }
    return false;
  }

  twinGet(client, device, rid) {
    if (this.twinFaults(client, device, rid, 'get')) return;
    this.twinResponse(client, 200, rid, JSON.stringify(twinDocument(device)));
  }

  twinReported(client, device, rid, payload) {
    if (this.twinFaults(client, device, rid, 'reported')) return;
    try {
      const version = applyReported(device, parseTwinPatch(payload));
      this.emu.registry.changed();
      this.twinResponse(client, 204, rid, '', `&$version=${version}`);
      this.emu.deviceChanged(device);
    } catch (err) {
      if (!(err instanceof TwinError)) throw err;
      this.twinResponse(client, err.status, rid, JSON.stringify({ message: err.message }));
    }
  }

  close() {
    return closeBroker(this);
  }
}
