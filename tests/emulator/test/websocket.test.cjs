// SPDX-License-Identifier: MIT
// MQTT over WebSockets over TLS (port 443, path /$iothub/websocket, subprotocol mqtt) for DPS and the
// hubs, driven by the official SDK's WebSocket transports (which always dial 443: standard mode), and
// the faults around it: 8883 refused or black-holed, an upgrade refused.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const net = require('node:net');
const tls = require('node:tls');
const { ProvisioningDeviceClient } = require('azure-iot-provisioning-device');
const { MqttWs: ProvMqttWs } = require('azure-iot-provisioning-device-mqtt');
const { SymmetricKeySecurityClient } = require('azure-iot-security-symmetric-key');
const { MqttBase } = require('azure-iot-mqtt-base');
const { Client, Message } = require('azure-iot-device');
const { MqttWs } = require('azure-iot-device-mqtt');
const { startEmulator, derive, waitSubscribed, uniqueId } = require('./helpers.cjs');

let emu;
const clients = [];
test.before(async () => { emu = await startEmulator(['--ports', 'standard', '--retry-after', '0']); });
test.after(async () => {
  for (const c of clients) await c.close().catch(() => {});
  await emu.stop();
});

async function provisionWs(id, key) {
  const base = new MqttBase();
  base.setOptions({ ca: emu.ca });
  const dps = ProvisioningDeviceClient.create(emu.dps.mqtt, emu.idScope, new ProvMqttWs(base), new SymmetricKeySecurityClient(id, key));
  dps.setProvisioningPayload({ modelId: 'dtmi:com:example:Thermostat;1' });
  return dps.register();
}

async function hubWs(hub, id, key) {
  const client = Client.fromConnectionString(`HostName=${hub};DeviceId=${id};SharedAccessKey=${key}`, MqttWs);
  await client.setOptions({ ca: emu.ca });
  await client.open();
  clients.push(client);
  return client;
}

/** Sends raw bytes over TLS to host:port and resolves to the first response text (or '' on close). */
function rawTls(host, port, text) {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host, port, ca: emu.ca, servername: undefined, checkServerIdentity: () => undefined }, () => s.write(text));
    let got = '';
    s.on('data', (d) => { got += d; if (got.includes('\r\n\r\n')) { s.destroy(); resolve(got); } });
    s.on('end', () => resolve(got));
    s.on('close', () => resolve(got));
    s.on('error', reject);
    s.setTimeout(5000, () => { s.destroy(); resolve(got); });
  });
}

const UPGRADE = (path, protocol) => `GET ${path} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
  `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n${protocol ? `Sec-WebSocket-Protocol: ${protocol}\r\n` : ''}\r\n`;

test('the ready line lists the WebSocket endpoints: DPS beside its REST, each hub on 443', () => {
  assert.equal(emu.ws.dps, emu.dps.https);
  assert.deepEqual(emu.ws.hubs, emu.hubs);
});

test('the official SDK provisions over MQTT-WS and runs the sensor flow over MqttWs', async () => {
  const id = uniqueId('ws');
  const key = derive(emu.groupKey, id);
  const reg = await provisionWs(id, key);
  assert.ok(emu.hubs.includes(reg.assignedHub), reg.assignedHub);
  const wire = await emu.api('GET', `/emulator/wire?limit=1000`);
  assert.ok(wire.body.value.some((e) => e.svc.startsWith('dps') && e.type === 'WS_UPGRADE' && e.status === 101), 'DPS upgrade logged');

  const client = await hubWs(reg.assignedHub, id, key);
  await client.sendEvent(new Message(JSON.stringify({ temp: 22.5 })));
  const msgs = await emu.api('GET', `/emulator/devices/${id}/messages?timeoutMs=2000`);
  assert.deepEqual(msgs.body.value[0].json, { temp: 22.5 });

  const twin = await client.getTwin();
  await new Promise((res, rej) => twin.properties.reported.update({ state: true }, (e) => (e ? rej(e) : res())));
  const desired = [];
  twin.on('properties.desired', (d) => desired.push(d));
  await waitSubscribed(emu, id, '$iothub/twin/PATCH/properties/desired/#');
  assert.equal((await emu.api('PATCH', `/api/devices/${id}/properties`, { brightness: 4 })).status, 200);
  for (let i = 0; i < 100 && !desired.some((d) => d.brightness === 4); i++) await new Promise((r) => setTimeout(r, 20));
  assert.ok(desired.some((d) => d.brightness === 4), JSON.stringify(desired));

  client.onDeviceMethod('blink', (req, res) => res.send(200, { ok: req.payload }, () => {}));
  await waitSubscribed(emu, id, '$iothub/methods/POST/#');
  const cmd = await emu.api('POST', `/api/devices/${id}/commands/blink`, { request: 3 });
  assert.equal(cmd.body.responseCode, 200);
  assert.deepEqual(cmd.body.response, { ok: 3 });
  assert.equal((await emu.api('GET', `/api/devices/${id}/properties`)).body.state, true);
});

test('an upgrade without the mqtt subprotocol is refused with 400, another path with 404', async () => {
  const hub = emu.hubs[0];
  assert.match(await rawTls(hub, 443, UPGRADE('/$iothub/websocket', null)), /^HTTP\/1\.1 400 /);
  assert.match(await rawTls(hub, 443, UPGRADE('/mqtt', 'mqtt')), /^HTTP\/1\.1 404 /);
  assert.match(await rawTls(hub, 443, UPGRADE('/$iothub/websocket?iothub-no-client-cert=true', 'mqtt')), /^HTTP\/1\.1 101 /);
});

test('fault wsUpgradeRefused answers the upgrade with its status', async () => {
  const f = await emu.api('POST', '/emulator/faults', { kind: 'wsUpgradeRefused', service: 'hub', status: 403 });
  assert.equal(f.status, 201, JSON.stringify(f.body));
  assert.match(await rawTls(emu.hubs[1], 443, UPGRADE('/$iothub/websocket', 'mqtt')), /^HTTP\/1\.1 403 /);
});

function tcpOutcome(host, port) {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    s.once('error', (e) => resolve(e.code));
    s.once('connect', () => {
      s.write('\x16\x03\x01\x00\x05hello'); // the start of a TLS record: a real server answers or closes
      s.setTimeout(700, () => { s.destroy(); resolve('silent'); });
      s.once('data', () => { s.destroy(); resolve('answered'); });
      s.once('close', () => resolve('closed'));
    });
  });
}

test('fault blockMqtt refuses or black-holes 8883 while 443 keeps working', async () => {
  const hub = emu.hubs[0];
  assert.equal(await tcpOutcome(hub, 8883), 'answered'); // a TLS server answers (an alert)
  const r = await emu.api('POST', '/emulator/faults', { kind: 'blockMqtt', service: 'hub', mode: 'refuse' });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  assert.equal(await tcpOutcome(hub, 8883), 'ECONNRESET');
  await emu.api('DELETE', `/emulator/faults/${r.body.id}`);
  const b = await emu.api('POST', '/emulator/faults', { kind: 'blockMqtt', service: 'hub', mode: 'blackhole' });
  assert.equal(await tcpOutcome(hub, 8883), 'silent');
  // MQTT over WebSockets still connects meanwhile.
  const id = uniqueId('wsb');
  const key = derive(emu.groupKey, id);
  const reg = await provisionWs(id, key);
  const client = await hubWs(reg.assignedHub, id, key);
  await client.sendEvent(new Message('{"n":1}'));
  await emu.api('DELETE', `/emulator/faults/${b.body.id}`);
  const bad = await emu.api('POST', '/emulator/faults', { kind: 'blockMqtt', mode: 'sometimes' });
  assert.equal(bad.status, 400);
});
