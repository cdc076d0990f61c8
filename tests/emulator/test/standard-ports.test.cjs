// SPDX-License-Identifier: MIT
// Standard-ports mode, as devices meet the cloud: DPS assigns a bare host name and the official SDK
// dials it on 8883 with nothing but the ID scope, the DPS host, the device key and the CA.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const net = require('node:net');
const { ProvisioningDeviceClient } = require('azure-iot-provisioning-device');
const { Mqtt: ProvMqtt } = require('azure-iot-provisioning-device-mqtt');
const { SymmetricKeySecurityClient } = require('azure-iot-security-symmetric-key');
const { MqttBase } = require('azure-iot-mqtt-base');
const { startEmulator, derive, provision, hubClient, waitSubscribed, uniqueId, Message } = require('./helpers.cjs');

let emu;
const clients = [];
test.before(async () => { emu = await startEmulator(['--ports', 'standard', '--retry-after', '0']); });
test.after(async () => {
  for (const c of clients) await c.close().catch(() => {});
  await emu.stop();
});

const BLOCK = /^127\.\d{1,3}\.\d{1,3}\./;

test('the ready line names DPS and each hub by a bare address of its own', () => {
  assert.equal(emu.mode, 'standard');
  assert.match(emu.dps.mqtt, BLOCK);
  assert.ok(net.isIPv4(emu.dps.mqtt), emu.dps.mqtt);
  assert.equal(emu.hubs.length, 2);
  for (const h of emu.hubs) assert.ok(net.isIPv4(h), `${h} has no port`);
  assert.equal(new Set([emu.dps.mqtt, ...emu.hubs]).size, 3);
  // DPS-HTTPS is on 443 where the process may bind it, else on a port stated here.
  const [host, port] = emu.dps.https.split(':');
  assert.equal(host, emu.dps.mqtt);
  if (process.getuid && process.getuid() === 0) assert.equal(port, undefined);
});

test('the official SDK provisions over MQTT on 8883 and gets a bare host name, no port', async () => {
  const id = uniqueId('std');
  const key = derive(emu.groupKey, id);
  // What a device knows: the DPS host (no port), the scope, its key and the CA.
  const base = new MqttBase();
  base.setOptions({ ca: emu.ca });
  const dps = ProvisioningDeviceClient.create(emu.dps.mqtt, emu.idScope, new ProvMqtt(base), new SymmetricKeySecurityClient(id, key));
  dps.setProvisioningPayload({ modelId: 'dtmi:com:example:Thermostat;1' });
  const reg = await dps.register();
  assert.ok(emu.hubs.includes(reg.assignedHub), reg.assignedHub);
  assert.ok(!reg.assignedHub.includes(':'));

  // The whole sensor flow on the hub it was given, dialled on the default port 8883.
  const client = await hubClient(emu, reg.assignedHub, id, key);
  clients.push(client);
  await client.sendEvent(new Message(JSON.stringify({ temp: 21.5, humid: 40 })));
  const msgs = await emu.api('GET', `/emulator/devices/${id}/messages?timeoutMs=2000`);
  assert.deepEqual(msgs.body.value[0].json, { temp: 21.5, humid: 40 });
  assert.equal(msgs.body.value[0].hub, emu.hubs.indexOf(reg.assignedHub));

  const twin = await client.getTwin();
  await new Promise((res, rej) => twin.properties.reported.update({ state: true }, (e) => (e ? rej(e) : res())));
  const desired = [];
  twin.on('properties.desired', (d) => desired.push(d));
  await waitSubscribed(emu, id, '$iothub/twin/PATCH/properties/desired/#');
  assert.equal((await emu.api('PATCH', `/api/devices/${id}/properties`, { brightness: 3 })).status, 200);
  for (let i = 0; i < 100 && !desired.some((d) => d.brightness === 3); i++) await new Promise((r) => setTimeout(r, 20));
  assert.ok(desired.some((d) => d.brightness === 3), JSON.stringify(desired));

  client.onDeviceMethod('blink', (req, res) => res.send(200, { description: `blinking every ${req.payload} s` }, () => {}));
  await waitSubscribed(emu, id, '$iothub/methods/POST/#');
  const cmd = await emu.api('POST', `/api/devices/${id}/commands/blink`, { request: 2 });
  assert.equal(cmd.body.responseCode, 200);
  assert.deepEqual(cmd.body.response, { description: 'blinking every 2 s' });
  const props = await emu.api('GET', `/api/devices/${id}/properties`);
  assert.equal(props.body.state, true);
});

test('the official SDK provisions over HTTPS with the bare DPS host', { skip: process.getuid && process.getuid() !== 0 ? 'port 443 needs root' : false }, async () => {
  const id = uniqueId('stdh');
  const key = derive(emu.groupKey, id);
  const reg = await provision(emu, id, key, { kind: 'https' });
  assert.ok(emu.hubs.includes(reg.assignedHub), reg.assignedHub);
  const client = await hubClient(emu, reg.assignedHub, id, key);
  clients.push(client);
  await client.sendEvent(new Message('{"temp":1}'));
});

test('a hub refuses a user name or token naming another host', async () => {
  const id = uniqueId('stdother');
  const key = derive(emu.groupKey, id);
  const reg = await provision(emu, id, key, { kind: 'mqtt' });
  const other = emu.hubs.find((h) => h !== reg.assignedHub);
  // The right address, but the token and user name say localhost: refused as IoT Hub refuses a wrong host.
  const { rawHub } = require('./helpers.cjs');
  await assert.rejects(rawHub(emu, { hub: reg.assignedHub, id, key, username: `localhost/${id}/?api-version=2021-04-12` }));
  await assert.rejects(rawHub(emu, { hub: other, id, key }));
  const ok = await rawHub(emu, { hub: reg.assignedHub, id, key });
  ok.end(true);
});

test('emulators in standard mode run side by side; a block in use is refused and nothing stays open', async () => {
  const other = await startEmulator(['--ports', 'standard']);
  try {
    assert.notEqual(other.hubs[0], emu.hubs[0]);
  } finally {
    await other.stop();
  }
  const block = emu.hubs[0].split('.').slice(0, 3).join('.');
  await assert.rejects(startEmulator(['--ports', 'standard', '--address-block', block]), /cannot listen in standard mode.*EADDRINUSE/);
});
