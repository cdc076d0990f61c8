#!/usr/bin/env node
// SPDX-License-Identifier: MIT
// A hostile IoT Hub for tests: a small TLS MQTT 3.1.1 server that behaves like IoT Hub until a
// test tells it to misbehave (wrong SUBACK counts, no PUBACK, trickled bytes, garbage, packets
// before CONNACK, oversized or absurd messages, unanswered twin requests).
//
//   node hub_server.mjs [--parent-pid PID]
//
// Listens on 127.0.0.1 with an ephemeral port and certificates of its own (CN localhost), prints
// one ready line {"ready":true,"port":P,"caFile":"..."} on stdout, then reads one JSON command per
// line on stdin and answers each with one JSON line on stdout (see COMMANDS below). It exits when
// stdin closes, on SIGTERM, or when the parent process is gone; its certificates go with it.
import { createRequire } from 'node:module';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import tls from 'node:tls';
import { ensureCerts } from '../emulator/src/certs.mjs';

const require = createRequire(new URL('../emulator/package.json', import.meta.url));
const mqtt = require('mqtt-packet');

const MAX_RECORDED = 5000; // recorded publishes kept per kind (oldest dropped first)
const MAX_WAIT_MS = 120000;

// How the hub behaves; "set" changes any of these.
const behaviour = {
  connack: 0,            // CONNACK return code
  connackDelayMs: 0,     // wait this long before the CONNACK
  beforeConnack: [],     // publishes sent after CONNECT, before the CONNACK: [{topic, payload, qos}]
  subackCodes: 0,        // > 0: answer every SUBSCRIBE with this many codes; -1: one more than asked
  subackConnections: 0,  // ... on this many connections from now on (then granted QoS, one each)
  subackRefuse: false,   // answer SUBSCRIBEs with 0x80 (refused), with the right count
  dropOnSubscribe: 0,    // close this many connections on their first SUBSCRIBE, unanswered
  puback: true,          // acknowledge QoS 1 telemetry
  pubackDelayMs: 0,      // ... this much later
  twinGet: true,         // answer twin GETs
  twinGetStatus: 200,
  twin: { desired: { $version: 1 }, reported: { $version: 1 } },
  beforeTwin: [],        // publishes sent when a twin GET arrives, before its answer
  reported: true,        // answer reported PATCHes
  reportedStatus: 204,
  pingresp: true,
  trickleMs: 0,          // > 0: stop answering; send one byte of an endless packet every trickleMs
};

const stats = {
  connections: 0,        // CONNECTs seen
  connected: 0,          // live connections
  subscribes: 0,
  badSubacks: 0,         // SUBACKs whose code count differed from the SUBSCRIBE's topics
  acceptedBadSuback: 0,  // twin GETs on a connection that was sent such a SUBACK
  telemetry: 0,          // telemetry PUBLISHes received (duplicates included)
  twinGets: 0,
  reportedPatches: 0,
  methodResponses: 0,
  pings: 0,
};
const recorded = { telemetryLog: [], reportedLog: [], responseLog: [] };
const sockets = new Set();
let certDir = null;

function record(kind, item) {
  const list = recorded[kind];
  list.push(item);
  if (list.length > MAX_RECORDED) list.shift();
}

function send(sock, packet) {
  if (!sock.destroyed) sock.write(mqtt.generate(packet));
}

function publish(sock, topic, payload, qos = 0) {
  send(sock, {
    cmd: 'publish', topic, payload: Buffer.from(payload ?? ''), qos, retain: false, dup: false,
    messageId: qos ? 1 + Math.floor(Math.random() * 65000) : undefined,
  });
}

function ridOf(topic) {
  const m = /[?&]\$rid=([^&]*)/.exec(topic);
  return m ? m[1] : '';
}

function startTrickle(sock, ms) {
  if (sock.trickle) return;
  // A PUBLISH announcing 200 MB that never ends: every byte looks like life to the client.
  const head = Buffer.from([0x30, 0xff, 0xff, 0xff, 0x5f]);
  let i = 0;
  sock.trickle = setInterval(() => {
    if (sock.destroyed) return clearInterval(sock.trickle);
    sock.write(i < head.length ? head.subarray(i, i + 1) : Buffer.from('x'));
    i++;
  }, ms);
}

function onPublish(sock, p) {
  const topic = p.topic;
  const payload = p.payload ? p.payload.toString('utf8') : '';
  if (topic.startsWith('$iothub/twin/GET/')) {
    stats.twinGets++;
    if (sock.badSuback) stats.acceptedBadSuback++;
    if (behaviour.twinGet) {
      for (const b of behaviour.beforeTwin) publish(sock, b.topic, b.payload, b.qos || 0);
      publish(sock, `$iothub/twin/res/${behaviour.twinGetStatus}/?$rid=${ridOf(topic)}`,
        JSON.stringify(behaviour.twin));
    }
  } else if (topic.startsWith('$iothub/twin/PATCH/properties/reported/')) {
    stats.reportedPatches++;
    record('reportedLog', { rid: ridOf(topic), payload });
    if (behaviour.reported) {
      const v = 2 + stats.reportedPatches;
      publish(sock, `$iothub/twin/res/${behaviour.reportedStatus}/?$rid=${ridOf(topic)}&$version=${v}`, '');
    }
  } else if (topic.startsWith('$iothub/methods/res/')) {
    stats.methodResponses++;
    const m = /^\$iothub\/methods\/res\/([0-9]+)\//.exec(topic);
    record('responseLog', { status: m ? Number(m[1]) : -1, rid: ridOf(topic), payload });
  } else {
    stats.telemetry++;
    record('telemetryLog', { topic, payload: payload.length > 256 ? payload.slice(0, 256) : payload });
  }
  if (p.qos === 1 && (behaviour.puback || !topic.startsWith('devices/'))) {
    const ack = () => send(sock, { cmd: 'puback', messageId: p.messageId });
    if (behaviour.pubackDelayMs > 0) setTimeout(ack, behaviour.pubackDelayMs);
    else ack();
  }
}

function onPacket(sock, p) {
  if (sock.trickle) return; // a trickling server answers nothing
  switch (p.cmd) {
    case 'connect': {
      stats.connections++;
      sock.clientId = p.clientId;
      if (behaviour.subackConnections > 0) {
        behaviour.subackConnections--;
        sock.subackCodes = behaviour.subackCodes;
      }
      for (const b of behaviour.beforeConnack) publish(sock, b.topic, b.payload, b.qos || 0);
      const ack = () => {
        send(sock, { cmd: 'connack', returnCode: behaviour.connack, sessionPresent: false });
        if (behaviour.connack !== 0) sock.end();
        else if (behaviour.trickleMs > 0) startTrickle(sock, behaviour.trickleMs);
      };
      if (behaviour.connackDelayMs > 0) setTimeout(ack, behaviour.connackDelayMs);
      else ack();
      break;
    }
    case 'subscribe': {
      stats.subscribes++;
      if (behaviour.dropOnSubscribe > 0) {
        behaviour.dropOnSubscribe--;
        sock.destroy();
        break;
      }
      let codes = p.subscriptions.map((s) => (behaviour.subackRefuse ? 0x80 : s.qos));
      if (sock.subackCodes) {
        const n = sock.subackCodes > 0 ? sock.subackCodes : codes.length + 1;
        codes = Array.from({ length: n }, (_, i) => codes[Math.min(i, codes.length - 1)]);
      }
      if (codes.length !== p.subscriptions.length) {
        stats.badSubacks++;
        sock.badSuback = true;
      }
      send(sock, { cmd: 'suback', messageId: p.messageId, granted: codes });
      break;
    }
    case 'publish':
      onPublish(sock, p);
      break;
    case 'pingreq':
      stats.pings++;
      if (behaviour.pingresp) send(sock, { cmd: 'pingresp' });
      break;
    case 'disconnect':
      sock.end();
      break;
    default:
      break;
  }
}

function onSocket(sock) {
  sockets.add(sock);
  stats.connected++;
  const parser = mqtt.parser({ protocolVersion: 4 });
  parser.on('packet', (p) => onPacket(sock, p));
  parser.on('error', () => sock.destroy());
  sock.on('data', (d) => parser.parse(d));
  sock.on('error', () => {});
  sock.on('close', () => {
    if (sock.trickle) clearInterval(sock.trickle);
    if (sockets.delete(sock)) stats.connected--;
  });
}

// ---- commands ---------------------------------------------------------------------------------
// {"op":"set", <behaviour fields>}          change the behaviour (later connections and packets)
// {"op":"publish","topic","payload","qos"}  publish to every live connection ("payloadSize": N
//                                           instead of "payload": a JSON string of N bytes)
// {"op":"commands","name","count"}         a burst of commands, $rid 1..count
// {"op":"raw","hex"}                        write raw bytes to every live connection
// {"op":"trickle","ms"}                     trickle (one byte every ms) on every live connection
// {"op":"drop"}                             close every connection
// {"op":"stats"}                            counters and recorded publishes
// {"op":"wait","key","atLeast","timeoutMs"} answer once stats[key] >= atLeast, or at the timeout
function snapshot() {
  return { ...stats, ...recorded };
}

function answer(obj) {
  process.stdout.write(JSON.stringify(obj) + '\n');
}

function waitFor(key, atLeast, timeoutMs) {
  const until = Date.now() + Math.min(Math.max(timeoutMs || 0, 0), MAX_WAIT_MS);
  const check = () => {
    const value = stats[key];
    if (value >= atLeast) return answer({ ok: true, value, stats: snapshot() });
    if (Date.now() >= until) return answer({ ok: false, value, stats: snapshot() });
    setTimeout(check, 20);
  };
  check();
}

// A payload of `payloadSize` bytes (a JSON string) when asked for, else `payload`.
function payloadOf(c) {
  return c.payloadSize > 1 ? `"${'x'.repeat(c.payloadSize - 2)}"` : c.payload;
}

function command(line) {
  let c;
  try {
    c = JSON.parse(line);
  } catch {
    return answer({ ok: false, error: 'not JSON' });
  }
  switch (c.op) {
    case 'set':
      for (const [k, v] of Object.entries(c)) {
        if (k !== 'op') behaviour[k] = v;
      }
      return answer({ ok: true });
    case 'publish':
      for (const s of sockets) publish(s, c.topic, payloadOf(c), c.qos || 0);
      return answer({ ok: true, sent: sockets.size });
    case 'commands': // a burst of `count` commands named `name`, $rid = 1..count
      for (const s of sockets) {
        for (let i = 1; i <= c.count; i++) publish(s, `$iothub/methods/POST/${c.name}/?$rid=${i}`, payloadOf(c) ?? '{}');
      }
      return answer({ ok: true, sent: sockets.size });
    case 'raw':
      for (const s of sockets) s.write(Buffer.from(c.hex, 'hex'));
      return answer({ ok: true, sent: sockets.size });
    case 'trickle':
      for (const s of sockets) startTrickle(s, c.ms > 0 ? c.ms : 1000);
      return answer({ ok: true, sent: sockets.size });
    case 'drop':
      for (const s of sockets) s.destroy();
      return answer({ ok: true });
    case 'stats':
      return answer({ ok: true, stats: snapshot() });
    case 'wait':
      if (!(c.key in stats)) return answer({ ok: false, error: `unknown key ${c.key}` });
      return waitFor(c.key, c.atLeast, c.timeoutMs);
    default:
      return answer({ ok: false, error: `unknown op ${c.op}` });
  }
}

// ---- start and stop ---------------------------------------------------------------------------
function stop() {
  for (const s of sockets) s.destroy();
  if (certDir) fs.rmSync(certDir, { recursive: true, force: true });
  certDir = null;
  process.exit(0);
}

const args = process.argv.slice(2);
const parentAt = args.indexOf('--parent-pid');
const parentPid = parentAt >= 0 ? Number(args[parentAt + 1]) : 0;
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.on('SIGPIPE', () => {});
process.stdout.on('error', stop);
if (parentPid > 0) {
  setInterval(() => {
    try {
      process.kill(parentPid, 0);
    } catch {
      stop();
    }
  }, 500).unref();
}

certDir = fs.mkdtempSync(path.join(os.tmpdir(), 'iotc-hostile-hub-'));
const certs = ensureCerts(certDir, { serverNames: ['localhost', '127.0.0.1'] });
const server = tls.createServer({ cert: certs.cert, key: certs.key }, onSocket);
server.on('tlsClientError', () => {});
server.listen(0, '127.0.0.1', () => {
  answer({ ready: true, port: server.address().port, caFile: certs.caFile });
  const rl = readline.createInterface({ input: process.stdin });
  rl.on('line', command);
  rl.on('close', stop);
});
