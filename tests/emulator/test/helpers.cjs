// SPDX-License-Identifier: MIT
// Shared by the conformance tests: starts the emulator as a child process (as C tests do), talks to its
// operator API, and builds official-SDK clients that trust the emulator's CA.
'use strict';
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const https = require('node:https');
const path = require('node:path');
const crypto = require('node:crypto');
const readline = require('node:readline');

const { ProvisioningDeviceClient } = require('azure-iot-provisioning-device');
const { Mqtt: ProvMqtt } = require('azure-iot-provisioning-device-mqtt');
const { Http: ProvHttp } = require('azure-iot-provisioning-device-http');
const { SymmetricKeySecurityClient } = require('azure-iot-security-symmetric-key');
const { MqttBase } = require('azure-iot-mqtt-base');
const { Http: HttpBase } = require('azure-iot-http-base');
const { Client, Message } = require('azure-iot-device');
const { Mqtt } = require('azure-iot-device-mqtt');

const BIN = path.join(__dirname, '..', 'bin', 'iotc-emulator.mjs');

/** Starts the emulator; resolves to its ready line plus stop(), api(), and the CA text. */
function startEmulator(args = ['--retry-after', '0']) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, '--parent-pid', String(process.pid), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => { stderr += d; });
    const rl = readline.createInterface({ input: child.stdout });
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error('emulator did not start: ' + stderr)); }, 15000);
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`emulator exited ${code}: ${stderr}`)); });
    rl.once('line', (line) => {
      clearTimeout(timer);
      const info = JSON.parse(line);
      info.child = child;
      info.ca = fs.readFileSync(info.caFile, 'utf8');
      info.stderr = () => stderr;
      info.stop = () => new Promise((res) => {
        if (child.exitCode !== null) return res(child.exitCode);
        child.removeAllListeners('exit');
        child.once('exit', (code) => res(code));
        child.kill('SIGTERM');
      });
      info.apiBase = info.api;
      info.api = (method, url, body) => api(info.apiBase, method, url, body);
      resolve(info);
    });
  });
}

async function api(base, method, url, body) {
  const res = await fetch(base + url, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : (typeof body === 'string' ? body : JSON.stringify(body)),
  });
  const text = await res.text();
  let json;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = text;
  }
  return { status: res.status, body: json };
}

function derive(groupKey, id) {
  return crypto.createHmac('sha256', Buffer.from(groupKey, 'base64')).update(id).digest('base64');
}

/** A provisioning transport that trusts the emulator's CA (MQTT via an injected MqttBase, HTTPS via an agent). */
function provTransport(emu, kind, ca = emu.ca) {
  if (kind === 'mqtt') {
    const base = new MqttBase();
    if (ca) base.setOptions({ ca });
    return { host: emu.dps.mqtt, transport: new ProvMqtt(base) };
  }
  const [host, port] = emu.dps.https.split(':');
  const agent = new https.Agent({ ca, keepAlive: false });
  agent.defaultPort = port ? Number(port) : 443; // the Agent constructor forces 443; set it afterwards
  const base = new HttpBase();
  base.setOptions({ ca, http: { agent } });
  return { host, transport: new ProvHttp(base) };
}

/** Registers through DPS with the official SDK; resolves to the registration result. */
async function provision(emu, id, key, { kind = 'mqtt', payload, ca, security } = {}) {
  const { host, transport } = provTransport(emu, kind, ca);
  const sec = security || new SymmetricKeySecurityClient(id, key);
  const client = ProvisioningDeviceClient.create(host, emu.idScope, transport, sec);
  if (payload) client.setProvisioningPayload(payload);
  return await client.register();
}

/** Opens an official-SDK hub client on the assigned hub. */
async function hubClient(emu, assignedHub, id, key, { ca = emu.ca, x509 } = {}) {
  const cs = x509 ? `HostName=${assignedHub};DeviceId=${id};x509=true` : `HostName=${assignedHub};DeviceId=${id};SharedAccessKey=${key}`;
  const client = Client.fromConnectionString(cs, Mqtt);
  const opts = {};
  if (ca) opts.ca = ca;
  if (x509) Object.assign(opts, x509);
  await client.setOptions(opts);
  await client.open();
  return client;
}

/** Waits (server side) until the device holds the subscription. */
async function waitSubscribed(emu, id, filter, timeoutMs = 5000) {
  const r = await emu.api('GET', `/emulator/devices/${encodeURIComponent(id)}/wait?subscribed=${encodeURIComponent(filter)}&timeoutMs=${timeoutMs}`);
  if (r.status !== 200) throw new Error(`device ${id} did not subscribe to ${filter}: ${JSON.stringify(r.body)}`);
  return r.body;
}

function uniqueId(prefix) {
  return `${prefix}-${crypto.randomBytes(4).toString('hex')}`;
}

function once(emitter, event, timeoutMs = 5000) {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`timed out waiting for ${event}`)), timeoutMs);
    emitter.once(event, (...a) => { clearTimeout(t); resolve(a); });
  });
}

module.exports = { startEmulator, api, derive, provision, provTransport, hubClient, waitSubscribed, uniqueId, once, Message, Client, Mqtt };

/** A plain MQTT client (mqtt.js) on a hub, for what the SDK never sends. Resolves once connected. */
function rawHub(emu, { hub, id, key, clientId = id, username, password, ttl = 3600 }) {
  const mqtt = require('mqtt');
  const se = Math.floor(Date.now() / 1000) + ttl;
  const sr = encodeURIComponent(`${hub}/devices/${id}`);
  const sig = key ? crypto.createHmac('sha256', Buffer.from(key, 'base64')).update(`${sr}\n${se}`).digest('base64') : '';
  const client = mqtt.connect(`mqtts://${hub}`, {
    clientId, protocolVersion: 4, clean: true, reconnectPeriod: 0, ca: emu.ca, connectTimeout: 5000,
    username: username !== undefined ? username : `${hub}/${id}/?api-version=2021-04-12`,
    password: password !== undefined ? password : `SharedAccessSignature sr=${sr}&sig=${encodeURIComponent(sig)}&se=${se}`,
  });
  client.on('error', () => {});
  return new Promise((resolve, reject) => {
    client.once('connect', () => resolve(client));
    client.once('error', (err) => { client.end(true); reject(err); });
    client.once('close', () => reject(new Error('closed before CONNACK')));
  });
}

/** Provisions a device directly on a hub (no DPS) and returns {id, hub, key}. */
async function direct(emu, prefix, hub) {
  const id = uniqueId(prefix);
  const r = await emu.api('POST', `/emulator/devices/${id}/provision`, hub === undefined ? {} : { hub });
  if (r.status !== 200) throw new Error(JSON.stringify(r.body));
  return { id, hub: r.body.assignedHub, key: r.body.primaryKey };
}

/** Next message on a topic matching the regex, or null after timeoutMs. */
function nextMessage(client, re, timeoutMs = 2000) {
  return new Promise((resolve) => {
    const onMsg = (topic, payload) => {
      if (!re.test(topic)) return;
      clearTimeout(t);
      client.removeListener('message', onMsg);
      resolve({ topic, payload: payload.toString() });
    };
    const t = setTimeout(() => { client.removeListener('message', onMsg); resolve(null); }, timeoutMs);
    client.on('message', onMsg);
  });
}

function subscribe(client, filter, qos = 0) {
  return new Promise((resolve, reject) => client.subscribe(filter, { qos }, (err, granted) => (err ? reject(err) : resolve(granted[0].qos))));
}

function closed(client, timeoutMs = 3000) {
  return new Promise((resolve) => {
    if (!client.connected) return resolve(true);
    const t = setTimeout(() => resolve(false), timeoutMs);
    client.once('close', () => { clearTimeout(t); resolve(true); });
  });
}

Object.assign(module.exports, { rawHub, direct, nextMessage, subscribe, closed });
