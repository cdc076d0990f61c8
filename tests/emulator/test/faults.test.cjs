// SPDX-License-Identifier: MIT
// Fault injection, each fault driven through the official SDK or a plain client and checked on the wire.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { NoRetry } = require('azure-iot-common');
const { startEmulator, derive, provision, hubClient, uniqueId, rawHub, direct, nextMessage, subscribe, closed, Client, Mqtt } = require('./helpers.cjs');

let emu;
test.before(async () => { emu = await startEmulator(['--retry-after', '0']); });
test.after(async () => { await emu.stop(); });

async function fault(body) {
  const r = await emu.api('POST', '/emulator/faults', body);
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return r.body;
}

async function wire(id) {
  return (await emu.api('GET', `/emulator/wire?deviceId=${id}`)).body.value;
}

test('refuseConnect refuses the next CONNECT with the given code, then lets the device in', async () => {
  const d = await direct(emu, 'refused', 0);
  await fault({ kind: 'refuseConnect', deviceId: d.id, returnCode: 3 });
  await assert.rejects(rawHub(emu, d), (e) => e.code === 3);
  const c = await rawHub(emu, d);
  c.end(true);
  // Through the SDK, on DPS.
  const id = uniqueId('dps-refused');
  await fault({ kind: 'refuseConnect', service: 'dps', deviceId: id, returnCode: 5 });
  await assert.rejects(provision(emu, id, derive(emu.groupKey, id)));
  assert.equal((await provision(emu, id, derive(emu.groupKey, id))).status, 'assigned');
});

test('DPS throttling (429 with retry-after) and late assignment are retried by the SDK', async () => {
  const id = uniqueId('dps-slow');
  await fault({ kind: 'dpsThrottle', deviceId: id, status: 429, retryAfter: 0, operation: 'register' });
  await fault({ kind: 'assignAfterPolls', deviceId: id, polls: 2 });
  const r = await provision(emu, id, derive(emu.groupKey, id));
  assert.equal(r.status, 'assigned');
  const out = (await wire(id)).filter((e) => e.dir === 'out' && e.type === 'PUBLISH').map((e) => e.topic.replace(/\$rid=[^&]*/, '$rid=*'));
  assert.deepEqual(out, [
    '$dps/registrations/res/429/?$rid=*&retry-after=0',
    '$dps/registrations/res/202/?$rid=*&retry-after=0',
    '$dps/registrations/res/202/?$rid=*&retry-after=0',
    '$dps/registrations/res/202/?$rid=*&retry-after=0',
    '$dps/registrations/res/200/?$rid=*',
  ]);
});

test('dpsFail ends the registration as failed with the error code', async () => {
  const id = uniqueId('dps-fail');
  await fault({ kind: 'dpsFail', deviceId: id, errorCode: 400209, errorMessage: 'nope' });
  const err = await provision(emu, id, derive(emu.groupKey, id), { kind: 'https' }).then(() => null, (e) => e);
  assert.ok(err, 'registration should fail');
  const res = (await wire(id)).filter((e) => e.type === 'HTTP' && e.dir === 'out').pop();
  const body = JSON.parse(res.payload);
  assert.equal(body.status, 'failed');
  assert.equal(body.registrationState.errorCode, 400209);
  assert.equal(body.registrationState.errorMessage, 'nope');
});

test('malformedDps sends the given body as is', async () => {
  const id = uniqueId('dps-bad');
  await fault({ kind: 'malformedDps', deviceId: id, operation: 'register', status: 202, body: '{"operationId":' });
  await assert.rejects(provision(emu, id, derive(emu.groupKey, id), { kind: 'https' }));
  const res = (await wire(id)).filter((e) => e.type === 'HTTP' && e.dir === 'out').pop();
  assert.equal(res.status, 202);
  assert.equal(res.payload, '{"operationId":');
  assert.equal((await emu.api('GET', `/emulator/devices/${id}`)).status, 404);
});

test('twin faults: throttled, dropped and malformed responses', async () => {
  const d = await direct(emu, 'twinfault', 1);
  const c = await rawHub(emu, d);
  await subscribe(c, '$iothub/twin/res/#');
  await fault({ kind: 'twinThrottle', deviceId: d.id, operation: 'reported' });
  let got = nextMessage(c, /^\$iothub\/twin\/res\//);
  c.publish('$iothub/twin/PATCH/properties/reported/?$rid=1', '{"a":1}');
  assert.match((await got).topic, /^\$iothub\/twin\/res\/429\/\?\$rid=1$/);
  await fault({ kind: 'dropTwinResponse', deviceId: d.id, operation: 'get' });
  got = nextMessage(c, /^\$iothub\/twin\/res\//, 300);
  c.publish('$iothub/twin/GET/?$rid=2', '');
  assert.equal(await got, null);
  await fault({ kind: 'malformedTwin', deviceId: d.id, operation: 'get', body: '{"desired":' });
  got = nextMessage(c, /^\$iothub\/twin\/res\//);
  c.publish('$iothub/twin/GET/?$rid=3', '');
  assert.deepEqual(await got, { topic: '$iothub/twin/res/200/?$rid=3', payload: '{"desired":' });
  got = nextMessage(c, /^\$iothub\/twin\/res\//);
  c.publish('$iothub/twin/GET/?$rid=4', '');
  assert.deepEqual(JSON.parse((await got).payload), { desired: { $version: 1 }, reported: { $version: 1 } });
  c.end(true);
});

test('delayMethod delays the request; a response timeout shorter than the delay gives 504101', async () => {
  const id = uniqueId('slowmethod');
  const key = derive(emu.groupKey, id);
  const reg = await provision(emu, id, key);
  const client = await hubClient(emu, reg.assignedHub, id, key);
  client.onDeviceMethod('ping', (req, res) => res.send(200, 'pong', () => {}));
  await emu.api('GET', `/emulator/devices/${id}/wait?subscribed=${encodeURIComponent('$iothub/methods/POST/#')}`);
  await fault({ kind: 'delayMethod', deviceId: id, delayMs: 300 });
  const t0 = Date.now();
  const r = await emu.api('POST', `/api/devices/${id}/commands/ping`, {});
  assert.equal(r.body.response, 'pong');
  assert.ok(Date.now() - t0 >= 300);
  await fault({ kind: 'delayMethod', deviceId: id, delayMs: 500 });
  const late = await emu.api('POST', `/api/devices/${id}/commands/ping`, { responseTimeout: 0.2 });
  assert.equal(late.status, 504);
  assert.equal(late.body.error.errorCode, 504101);
  await client.close();
});

test('closeEvery closes connections until the fault is deleted', async () => {
  const d = await direct(emu, 'flaky', 0);
  const f = await fault({ kind: 'closeEvery', deviceId: d.id, seconds: 0.2 });
  const c = await rawHub(emu, d);
  assert.equal(await closed(c, 2000), true);
  assert.equal((await emu.api('DELETE', `/emulator/faults/${f.id}`)).status, 204);
  const again = await rawHub(emu, d);
  assert.equal(await closed(again, 500), false);
  again.end(true);
  assert.deepEqual((await emu.api('GET', '/emulator/faults')).body.value.filter((x) => x.deviceId === d.id), []);
});

test('a refused hub CONNECT surfaces in the SDK as an error', async () => {
  const id = uniqueId('sdk-refused');
  const key = derive(emu.groupKey, id);
  const reg = await provision(emu, id, key);
  await fault({ kind: 'refuseConnect', deviceId: id, returnCode: 5 });
  const client = Client.fromConnectionString(`HostName=${reg.assignedHub};DeviceId=${id};SharedAccessKey=${key}`, Mqtt);
  client.setRetryPolicy(new NoRetry());
  await client.setOptions({ ca: emu.ca });
  await assert.rejects(client.open(), (e) => e.name === 'UnauthorizedError');
});
