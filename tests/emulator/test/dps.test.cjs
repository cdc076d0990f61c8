// SPDX-License-Identifier: MIT
// DPS over MQTT and HTTPS with the official provisioning SDK: group and individual keys, the payload,
// refusals, and what the operator API shows afterwards.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { startEmulator, derive, provision, uniqueId } = require('./helpers.cjs');

let emu;
test.before(async () => { emu = await startEmulator(['--retry-after', '0']); });
test.after(async () => { await emu.stop(); });

test('the ready line has the documented shape', () => {
  assert.equal(emu.ready, true);
  assert.equal(typeof emu.pid, 'number');
  assert.match(emu.idScope, /^0ne[0-9A-F]{8}$/);
  assert.match(emu.apiBase, /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.match(emu.dps.mqtt, /^localhost:\d+$/);
  assert.match(emu.dps.https, /^localhost:\d+$/);
  assert.equal(emu.hubs.length, 2);
  for (const h of emu.hubs) assert.match(h, /^localhost:\d+$/);
  assert.equal(Buffer.from(emu.groupKey, 'base64').length, 64);
});

test('DPS over MQTT with a group-derived key creates the device and records its model', async () => {
  const id = uniqueId('dps-mqtt-group');
  const r = await provision(emu, id, derive(emu.groupKey, id), { kind: 'mqtt', payload: { modelId: 'dtmi:com:example:Thermostat;1' } });
  assert.equal(r.status, 'assigned');
  assert.equal(r.deviceId, id);
  assert.ok(emu.hubs.includes(r.assignedHub), r.assignedHub);
  assert.deepEqual(r.payload, { modelId: 'dtmi:com:example:Thermostat;1' });
  const dev = await emu.api('GET', `/api/devices/${id}`);
  assert.equal(dev.status, 200);
  assert.equal(dev.body.provisioned, true);
  assert.equal(dev.body.template, 'dtmi:com:example:Thermostat;1');
  assert.equal(dev.body.hub, r.assignedHub);
  const att = await emu.api('GET', `/api/devices/${id}/attestation`);
  assert.deepEqual(att.body.type, 'symmetricKey');
  assert.equal(att.body.symmetricKey.primaryKey, derive(emu.groupKey, id));
});

test('DPS over HTTPS with an individual enrollment key', async () => {
  const id = uniqueId('dps-https-indiv');
  const key = Buffer.alloc(32, 7).toString('base64');
  const put = await emu.api('PUT', `/api/devices/${id}`, { displayName: 'HTTPS device', enabled: true });
  assert.equal(put.status, 201);
  const att = await emu.api('PUT', `/api/devices/${id}/attestation`, { type: 'symmetricKey', symmetricKey: { primaryKey: key } });
  assert.equal(att.status, 200);
  const r = await provision(emu, id, key, { kind: 'https' });
  assert.equal(r.status, 'assigned');
  assert.equal(r.deviceId, id);
  // The group-derived key no longer works for a device with its own enrollment.
  await assert.rejects(provision(emu, id, derive(emu.groupKey, id), { kind: 'https' }));
});

test('a device created through the API provisions with the keys the API reports', async () => {
  const id = uniqueId('api-made');
  const tmpl = await emu.api('PUT', '/api/deviceTemplates/dtmi:x:y;1', { '@id': 'dtmi:x:y;1', '@type': 'Interface', contents: [] });
  assert.equal(tmpl.status, 201);
  const made = await emu.api('PUT', `/api/devices/${id}`, { displayName: 'made by API', template: 'dtmi:x:y;1' });
  assert.equal(made.status, 201);
  const att = await emu.api('GET', `/api/devices/${id}/attestation`);
  const r = await provision(emu, id, att.body.symmetricKey.secondaryKey, { kind: 'mqtt' });
  assert.equal(r.status, 'assigned');
  const dev = await emu.api('GET', `/api/devices/${id}`);
  assert.equal(dev.body.template, 'dtmi:x:y;1');
  assert.equal(dev.body.displayName, 'made by API');
});

test('devices are spread over both hubs', async () => {
  const hubs = new Set();
  for (let i = 0; i < 2; i++) {
    const id = uniqueId('spread');
    hubs.add((await provision(emu, id, derive(emu.groupKey, id), { kind: 'mqtt' })).assignedHub);
  }
  assert.equal(hubs.size, 2);
});

test('a bad SAS key is refused over MQTT and HTTPS', async () => {
  const id = uniqueId('bad-key');
  const wrong = Buffer.alloc(32, 1).toString('base64');
  await assert.rejects(provision(emu, id, wrong, { kind: 'mqtt' }), (err) => {
    assert.match(`${err.name} ${err.message}`, /Unauthori[sz]ed|not authori[sz]ed/i);
    return true;
  });
  await assert.rejects(provision(emu, id, wrong, { kind: 'https' }), (err) => {
    assert.equal(err.response && err.response.statusCode, 401);
    return true;
  });
  const dev = await emu.api('GET', `/api/devices/${id}`);
  assert.equal(dev.status, 404);
  const wire = await emu.api('GET', `/emulator/wire?deviceId=${id}`);
  const connack = wire.body.value.find((e) => e.type === 'CONNACK');
  assert.equal(connack.returnCode, 5);
});

test('a client that does not trust the emulator CA cannot connect', async () => {
  const id = uniqueId('no-ca');
  await assert.rejects(provision(emu, id, derive(emu.groupKey, id), { kind: 'mqtt', ca: null }), /certificate|self.signed|verify/i);
});

test('a disabled device gets status disabled', async () => {
  const id = uniqueId('disabled');
  await emu.api('PUT', `/api/devices/${id}`, { enabled: false });
  const r = await provision(emu, id, derive(emu.groupKey, id), { kind: 'https' }).catch((e) => e.result || e);
  assert.equal(r.status || (r.registrationState && r.registrationState.status), 'disabled');
});

test('the wire log shows the SDK exchange with the password redacted', async () => {
  const id = uniqueId('wire');
  await provision(emu, id, derive(emu.groupKey, id), { kind: 'mqtt', payload: { modelId: 'dtmi:a:b;1' } });
  const wire = await emu.api('GET', `/emulator/wire?deviceId=${id}`);
  const entries = wire.body.value;
  const connect = entries.find((e) => e.type === 'CONNECT');
  assert.equal(connect.username.startsWith(`${emu.idScope}/registrations/${id}/api-version=`), true);
  assert.match(connect.password, /sig=<redacted>/);
  assert.doesNotMatch(JSON.stringify(entries), /sig=[A-Za-z0-9%]{10}/);
  assert.ok(entries.some((e) => e.type === 'SUBSCRIBE' && e.topic === '$dps/registrations/res/#'));
  const reg = entries.find((e) => e.type === 'PUBLISH' && e.dir === 'in' && e.topic.startsWith('$dps/registrations/PUT/iotdps-register/?$rid='));
  assert.deepEqual(JSON.parse(reg.payload), { registrationId: id, payload: { modelId: 'dtmi:a:b;1' } });
  assert.ok(entries.some((e) => e.dir === 'out' && /^\$dps\/registrations\/res\/200\/\?\$rid=/.test(e.topic)));
});
