#!/usr/bin/env node
// SPDX-License-Identifier: MIT
// A hostile Device Provisioning Service for tests: DPS over HTTPS and over MQTT 3.1.1/TLS that
// answers exactly what a test scripts, however wrong (retry-after 0 or 10 digits, 429/503 for
// ever, "assigning" for ever, malformed assignedHub or deviceId, garbage bodies, CONNACK codes).
//
//   node dps_server.mjs --certs DIR --script JSON [--log FILE] [--parent-pid PID]
//
// It listens on two ephemeral loopback ports and prints one ready line on stdout:
//   {"ready":true,"https":PORT,"mqtt":PORT,"ca":"DIR/ca.pem"}
// and appends one JSON line per event to FILE: {"kind":"connect"|"register"|"poll","transport":...}.
// It stops on SIGTERM, or by itself when the parent process is gone.
//
// The script (JSON object):
//   register: [answer, ...]   answers to successive register requests; the last one repeats
//   poll:     [answer, ...]   the same for operation-status queries
//   connack:  N               MQTT CONNACK return code (default 0: accepted)
// An answer: {"status":429, "retryAfter":"0", "body":<any JSON>} or {"status":200, "raw":"text"}.
// retryAfter is sent as written (a string, so "9999999999" keeps its ten digits); absent: none.
// {"action":"close"} closes the connection instead of answering; {"action":"silent"} never answers.
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import tls from 'node:tls';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

import { ensureCerts } from '../emulator/src/certs.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '../emulator/package.json'));
const mqttPacket = require('mqtt-packet');

const MAX_BODY = 65536;

function fail(msg) {
  process.stderr.write(`dps_server: ${msg}\n`);
  process.exit(2);
}

const args = {};
for (let i = 2; i < process.argv.length; i += 2) {
  const k = process.argv[i];
  const v = process.argv[i + 1];
  if (!['--certs', '--script', '--log', '--parent-pid'].includes(k) || v === undefined) fail(`bad argument ${k}`);
  args[k.slice(2)] = v;
}
if (!args.certs || !args.script) fail('--certs and --script are required');
let script;
try {
  script = JSON.parse(args.script);
} catch (e) {
  fail(`--script is not JSON: ${e.message}`);
}
const certs = ensureCerts(args.certs);
const counters = { register: 0, poll: 0 };

function record(kind, transport, extra = {}) {
  if (!args.log) return;
  fs.appendFileSync(args.log, JSON.stringify({ kind, transport, ...extra }) + '\n');
}

/** The scripted answer for the n-th request of a kind (the last one repeats). */
function answer(kind) {
  const list = script[kind] || [];
  const n = counters[kind]++;
  if (list.length === 0) return { status: 404, body: { errorCode: 404000, message: `no ${kind} answer scripted` } };
  return list[Math.min(n, list.length - 1)];
}

function payloadOf(a) {
  return Buffer.from(a.raw !== undefined ? a.raw : JSON.stringify(a.body === undefined ? {} : a.body));
}

// ---- HTTPS ---------------------------------------------------------------------------------------

const sockets = new Set();
const httpsServer = https.createServer({ cert: certs.cert, key: certs.key }, (req, res) => {
  let size = 0;
  req.on('data', (c) => { size += c.length; });
  req.on('end', () => {
    const kind = /\/operations\//.test(req.url) ? 'poll' : 'register';
    record(kind, 'https', { url: req.url, size });
    const a = answer(kind);
    if (a.action === 'close') return req.socket.destroy();
    if (a.action === 'silent') return undefined;
    const headers = { 'content-type': 'application/json; charset=utf-8' };
    if (a.retryAfter !== undefined) headers['retry-after'] = String(a.retryAfter);
    const body = payloadOf(a);
    headers['content-length'] = body.length;
    res.writeHead(a.status, headers);
    res.end(body);
  });
});
httpsServer.on('connection', (s) => {
  sockets.add(s);
  s.on('close', () => sockets.delete(s));
});
httpsServer.on('tlsClientError', () => {});

// ---- MQTT over TLS ---------------------------------------------------------------------------------

function send(sock, packet) {
  if (!sock.destroyed) sock.write(mqttPacket.generate(packet));
}

function query(topic) {
  const q = {};
  const i = topic.indexOf('?');
  if (i < 0) return q;
  for (const kv of topic.slice(i + 1).split('&')) {
    const eq = kv.indexOf('=');
    q[eq < 0 ? kv : kv.slice(0, eq)] = eq < 0 ? '' : kv.slice(eq + 1);
  }
  return q;
}

const mqttServer = tls.createServer({ cert: certs.cert, key: certs.key }, (sock) => {
  sockets.add(sock);
  sock.on('close', () => sockets.delete(sock));
  sock.on('error', () => {});
  const parser = mqttPacket.parser({ protocolVersion: 4 });
  parser.on('error', () => sock.destroy());
  parser.on('packet', (p) => {
    switch (p.cmd) {
      case 'connect': {
        const code = script.connack || 0;
        record('connect', 'mqtt', { clientId: p.clientId, username: p.username, connack: code });
        send(sock, { cmd: 'connack', returnCode: code, sessionPresent: false });
        if (code !== 0) sock.end();
        break;
      }
      case 'subscribe':
        send(sock, { cmd: 'suback', messageId: p.messageId, granted: p.subscriptions.map(() => 1) });
        break;
      case 'publish': {
        if (p.qos === 1) send(sock, { cmd: 'puback', messageId: p.messageId });
        const kind = p.topic.startsWith('$dps/registrations/GET/iotdps-get-operationstatus/') ? 'poll'
          : p.topic.startsWith('$dps/registrations/PUT/iotdps-register/') ? 'register' : null;
        if (kind === null) break;
        record(kind, 'mqtt', { topic: p.topic, size: p.payload.length });
        const a = answer(kind);
        if (a.action === 'close') return sock.destroy();
        if (a.action === 'silent') break;
        let topic = `$dps/registrations/res/${a.status}/?$rid=${query(p.topic).$rid}`;
        if (a.retryAfter !== undefined) topic += `&retry-after=${a.retryAfter}`;
        send(sock, { cmd: 'publish', topic, payload: payloadOf(a), qos: 0, retain: false, dup: false });
        break;
      }
      case 'pingreq':
        send(sock, { cmd: 'pingresp' });
        break;
      case 'disconnect':
        sock.end();
        break;
      default:
        break;
    }
  });
  sock.on('data', (d) => {
    if (d.length > MAX_BODY * 2) sock.destroy();
    else parser.parse(d);
  });
});
mqttServer.on('tlsClientError', () => {});

// ---- life cycle ------------------------------------------------------------------------------------

function listen(server) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server.address().port));
  });
}

function stop() {
  for (const s of sockets) s.destroy();
  httpsServer.close();
  mqttServer.close();
  process.exit(0);
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
if (args['parent-pid']) {
  const ppid = Number(args['parent-pid']);
  setInterval(() => {
    try {
      process.kill(ppid, 0);
    } catch {
      stop();
    }
  }, 1000).unref();
}

const [httpsPort, mqttPort] = await Promise.all([listen(httpsServer), listen(mqttServer)]);
process.stdout.write(JSON.stringify({ ready: true, https: httpsPort, mqtt: mqttPort, ca: path.join(args.certs, 'ca.pem') }) + '\n');
