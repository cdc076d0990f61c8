// SPDX-License-Identifier: MIT
// IoT Hub with the official device SDK: telemetry, twin, methods, C2D and commands, isolation between
// devices, and the operator API's view of each.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { startEmulator, derive, provision, hubClient, waitSubscribed, uniqueId, once, Message } = require('./helpers.cjs');

let emu;
const clients = [];
test.before(async () => { emu = await startEmulator(['--retry-after', '0']); });
test.after(async () => {
  for (const c of clients) await c.close().catch(() => {});
  await emu.stop();
});

async function device(prefix, payload) {
  const id = uniqueId(prefix);
  const key = derive(emu.groupKey, id);
  const reg = await provision(emu, id, key, { kind: 'mqtt', payload });
  const client = await hubClient(emu, reg.assignedHub, id, key);
  clients.push(client);
  return { id, key, reg, client };
}

test('telemetry with system and application properties reaches the operator API', async () => {
  const { id, client } = await device('telemetry');
  const msg = new Message(JSON.stringify({ temperature: 21.5, humidity: 40 }));
  msg.messageId = 'msg-1';
  msg.contentType = 'application/json';
  msg.contentEncoding = 'utf-8';
  msg.properties.add('alert', 'high temp');
  msg.properties.add('$custom', 'x/y?z');
  await client.sendEvent(msg);
  await client.sendEvent(new Message('plain text body'));
  const r = await emu.api('GET', `/emulator/devices/${id}/messages?timeoutMs=2000`);
  assert.equal(r.status, 200);
  const [first, second] = r.body.value;
  assert.deepEqual(first.json, { temperature: 21.5, humidity: 40 });
  assert.equal(first.properties['$.mid'], 'msg-1');
  assert.equal(first.messageId, 'msg-1');
  assert.equal(second.messageId, undefined);
  assert.equal(first.properties['$.ct'], 'application/json');
  assert.equal(first.properties['$.ce'], 'utf-8');
  assert.equal(first.properties.alert, 'high temp');
  assert.equal(first.properties.$custom, 'x/y?z');
  assert.equal(second.body, 'plain text body');
  assert.ok(second.seq > first.seq);
  const t = await emu.api('GET', `/api/devices/${id}/telemetry/temperature`);
  assert.equal(t.status, 200);
  assert.equal(t.body.value, 21.5);
  assert.ok(Date.parse(t.body.timestamp) > 0);
  const none = await emu.api('GET', `/api/devices/${id}/telemetry/pressure`);
  assert.equal(none.status, 404);
  assert.equal(none.body.error.code, 'NotFound');
  const since = await emu.api('GET', `/emulator/devices/${id}/messages?since=${first.seq}`);
  assert.deepEqual(since.body.value.map((m) => m.seq), [second.seq]);
});

test('twin GET, reported PATCH and desired PATCH follow IoT Hub versioning', async () => {
  const { id, client } = await device('twin');
  const twin = await client.getTwin();
  assert.equal(twin.properties.desired.$version, 1);
  assert.equal(twin.properties.reported.$version, 1);
  await new Promise((res, rej) => twin.properties.reported.update({ firmware: '1.0.0', nested: { x: 1 } }, (e) => (e ? rej(e) : res())));
  await new Promise((res, rej) => twin.properties.reported.update({ nested: { x: null, y: 2 } }, (e) => (e ? rej(e) : res())));
  const raw = await emu.api('GET', `/emulator/devices/${id}/twin`);
  assert.deepEqual(raw.body.reported, { firmware: '1.0.0', nested: { y: 2 }, $version: 3 });
  const wire = await emu.api('GET', `/emulator/wire?deviceId=${id}`);
  assert.ok(wire.body.value.some((e) => e.dir === 'out' && /^\$iothub\/twin\/res\/204\/\?\$rid=[^&]+&\$version=3$/.test(e.topic)));

  const desired = [];
  twin.on('properties.desired', (d) => desired.push(d));
  await waitSubscribed(emu, id, '$iothub/twin/PATCH/properties/desired/#');
  const patch = await emu.api('PATCH', `/api/devices/${id}/properties`, { targetTemp: 23 });
  assert.equal(patch.status, 200);
  for (let i = 0; i < 50 && !desired.some((d) => d.targetTemp === 23); i++) await new Promise((r) => setTimeout(r, 20));
  const got = desired.find((d) => d.targetTemp === 23);
  assert.ok(got, JSON.stringify(desired));
  assert.equal(got.$version, 2);

  // The device acknowledges as IoT Central expects; the API shows value and metadata.
  await new Promise((res, rej) => twin.properties.reported.update({ targetTemp: { value: 23, ac: 200, av: 2, ad: 'done' } }, (e) => (e ? rej(e) : res())));
  const props = await emu.api('GET', `/api/devices/${id}/properties`);
  assert.equal(props.body.targetTemp, 23);
  assert.equal(props.body.firmware, '1.0.0');
  const meta = props.body.$metadata.targetTemp;
  assert.equal(meta.desiredValue, 23);
  assert.equal(meta.desiredVersion, 2);
  assert.equal(meta.ackCode, 200);
  assert.equal(meta.ackVersion, 2);
  assert.equal(meta.ackDescription, 'done');
  assert.ok(meta.lastUpdateTime);
});

test('component properties are wrapped with the __t marker', async () => {
  const { id, client } = await device('component');
  const twin = await client.getTwin();
  const seen = [];
  twin.on('properties.desired', (d) => seen.push(d));
  await waitSubscribed(emu, id, '$iothub/twin/PATCH/properties/desired/#');
  await emu.api('PATCH', `/api/devices/${id}/components/thermostat1/properties`, { targetTemperature: 30 });
  for (let i = 0; i < 50 && !seen.some((d) => d.thermostat1); i++) await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(seen.find((d) => d.thermostat1).thermostat1, { __t: 'c', targetTemperature: 30 });
  await new Promise((res, rej) => twin.properties.reported.update({ thermostat1: { __t: 'c', maxTemp: 38.7, targetTemperature: { value: 30, ac: 200, av: 2 } } }, (e) => (e ? rej(e) : res())));
  const props = await emu.api('GET', `/api/devices/${id}/components/thermostat1/properties`);
  assert.equal(props.body.maxTemp, 38.7);
  assert.equal(props.body.targetTemperature, 30);
  assert.equal(props.body.$metadata.targetTemperature.ackCode, 200);
});

test('direct methods: answered, offline (404103) and timed out (504101)', async () => {
  const { id, client } = await device('methods');
  client.onDeviceMethod('reboot', (req, res) => res.send(200, { done: true, echo: req.payload }, () => {}));
  client.onDeviceMethod('thermostat1*getReport', (req, res) => res.send(201, { max: 1 }, () => {}));
  client.onDeviceMethod('silent', () => {});
  await waitSubscribed(emu, id, '$iothub/methods/POST/#');
  const r = await emu.api('POST', `/api/devices/${id}/commands/reboot`, { request: { delay: 5 } });
  assert.equal(r.status, 201);
  assert.equal(r.body.responseCode, 200);
  assert.deepEqual(r.body.response, { done: true, echo: { delay: 5 } });
  assert.deepEqual(r.body.request, { delay: 5 });
  const c = await emu.api('POST', `/api/devices/${id}/components/thermostat1/commands/getReport`, {});
  assert.equal(c.body.responseCode, 201);
  assert.deepEqual(c.body.response, { max: 1 });
  const slow = await emu.api('POST', `/api/devices/${id}/commands/silent`, { responseTimeout: 0.3 });
  assert.equal(slow.status, 504);
  assert.equal(slow.body.error.errorCode, 504101);
  const hist = await emu.api('GET', `/api/devices/${id}/commands/reboot`);
  assert.equal(hist.body.value.length, 1);
  assert.equal(hist.body.value[0].id, r.body.id);
  const offline = await emu.api('POST', `/api/devices/${uniqueId('nobody')}/commands/reboot`, {});
  assert.equal(offline.status, 404);
  const made = uniqueId('offline');
  await emu.api('PUT', `/api/devices/${made}`, {});
  const off = await emu.api('POST', `/api/devices/${made}/commands/reboot`, {});
  assert.equal(off.status, 404);
  assert.equal(off.body.error.errorCode, 404103);
});

test('C2D messages and queued commands arrive with their properties', async () => {
  const { id, client } = await device('c2d');
  const got = [];
  client.on('message', (m) => { got.push(m); client.complete(m, () => {}); });
  await waitSubscribed(emu, id, `devices/${id}/messages/devicebound/#`);
  const r = await emu.api('POST', `/emulator/devices/${id}/c2d`, { body: 'hello', properties: { foo: 'bar baz' } });
  assert.equal(r.status, 201);
  const q = await emu.api('POST', `/api/devices/${id}/commands/setLight`, { request: { on: true }, queued: true });
  assert.equal(q.status, 201);
  for (let i = 0; i < 100 && got.length < 2; i++) await new Promise((res) => setTimeout(res, 20));
  assert.equal(got.length, 2);
  assert.equal(got[0].data.toString(), 'hello');
  assert.equal(got[0].messageId, r.body.messageId);
  assert.equal(got[0].properties.getValue('foo'), 'bar baz');
  assert.equal(got[1].properties.getValue('method-name'), 'setLight');
  assert.deepEqual(JSON.parse(got[1].data.toString()), { on: true });
});

test('two devices are isolated from each other', async () => {
  const a = await device('iso-a');
  const b = await device('iso-b');
  const twinA = await a.client.getTwin();
  const twinB = await b.client.getTwin();
  const seenB = [];
  twinB.on('properties.desired', (d) => seenB.push(d));
  twinA.on('properties.desired', () => {});
  let bCalled = false;
  b.client.onDeviceMethod('ping', (req, res) => { bCalled = true; res.send(200, 'b', () => {}); });
  a.client.onDeviceMethod('ping', (req, res) => res.send(200, 'a', () => {}));
  await waitSubscribed(emu, a.id, '$iothub/methods/POST/#');
  await waitSubscribed(emu, b.id, '$iothub/methods/POST/#');
  await waitSubscribed(emu, a.id, '$iothub/twin/PATCH/properties/desired/#');
  await emu.api('PATCH', `/api/devices/${a.id}/properties`, { onlyA: 1 });
  const m = await emu.api('POST', `/api/devices/${a.id}/commands/ping`, {});
  assert.equal(m.body.response, 'a');
  assert.equal(bCalled, false);
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(seenB.filter((d) => 'onlyA' in d).length, 0);
  const [ta, tb] = await Promise.all([a.client.getTwin(), b.client.getTwin()]);
  assert.equal(ta.properties.desired.onlyA, 1);
  assert.equal(tb.properties.desired.onlyA, undefined);
  const wireB = await emu.api('GET', `/emulator/wire?deviceId=${b.id}`);
  assert.ok(!JSON.stringify(wireB.body).includes('onlyA'));
});

test('the operator API shows the connection and its subscriptions', async () => {
  const { id, client, reg } = await device('conn');
  client.onDeviceMethod('x', () => {});
  await waitSubscribed(emu, id, '$iothub/methods/POST/#');
  const r = await emu.api('GET', `/emulator/devices/${id}`);
  assert.equal(r.body.connected, true);
  assert.equal(r.body.connection.hub, reg.assignedHub);
  assert.equal(r.body.connection.clean, false);
  assert.ok(r.body.connection.username.startsWith(`${reg.assignedHub}/${id}/?api-version=`));
  assert.deepEqual(r.body.connection.subscriptions.map((s) => s.topic), ['$iothub/methods/POST/#']);
  const dev = await emu.api('GET', `/api/devices/${id}`);
  assert.equal(dev.body.connected, true);
  await client.close();
  const w = await emu.api('GET', `/emulator/devices/${id}/wait?connected=false&timeoutMs=3000`);
  assert.equal(w.status, 200);
  assert.equal(w.body.connected, false);
});
