// SPDX-License-Identifier: MIT
// Bad input from one device or API caller: clear refusals, the connection (only that one) closed where
// IoT Hub closes it, and the emulator and every other device unaffected.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const net = require('node:net');
const tls = require('node:tls');
const { startEmulator, rawHub, direct, nextMessage, subscribe, closed } = require('./helpers.cjs');

let emu;
let bystander;
test.before(async () => {
  emu = await startEmulator(['--retry-after', '0']);
  const d = await direct(emu, 'bystander', 0);
  bystander = await rawHub(emu, d);
  await subscribe(bystander, '$iothub/twin/res/#');
});
test.after(async () => {
  bystander.end(true);
  await emu.stop();
});

async function bystanderAlive() {
  assert.equal(bystander.connected, true);
  const got = nextMessage(bystander, /^\$iothub\/twin\/res\/200\//);
  bystander.publish('$iothub/twin/GET/?$rid=alive', '');
  assert.ok(await got, 'bystander got no twin response');
  assert.equal((await emu.api('GET', '/emulator/health')).status, 200);
}

test('CONNECT refusals: wrong client id (2), malformed username (4), bad signature and unknown device (5)', async () => {
  const d = await direct(emu, 'refuse', 0);
  await assert.rejects(rawHub(emu, { ...d, clientId: 'someone-else' }), (e) => e.code === 2);
  await assert.rejects(rawHub(emu, { ...d, username: 'no-slashes' }), (e) => e.code === 4);
  await assert.rejects(rawHub(emu, { ...d, key: Buffer.alloc(32, 3).toString('base64') }), (e) => e.code === 5);
  await assert.rejects(rawHub(emu, { ...d, password: 'not a token' }), (e) => e.code === 5);
  await assert.rejects(rawHub(emu, { ...d, id: 'never-registered', key: d.key }), (e) => e.code === 5);
  await assert.rejects(rawHub(emu, { ...d, hub: emu.hubs[1] }), (e) => e.code === 5);
  // Lower-case escapes in sr, as C clients send them, are accepted.
  const c = await rawHub(emu, d);
  c.end(true);
  await bystanderAlive();
});

test('only the documented subscriptions are granted', async () => {
  const d = await direct(emu, 'subs', 0);
  const c = await rawHub(emu, d);
  assert.equal(await subscribe(c, '#'), 128);
  assert.equal(await subscribe(c, '$iothub/foo/#'), 128);
  assert.equal(await subscribe(c, 'devices/other/messages/devicebound/#'), 128);
  assert.equal(await subscribe(c, '$iothub/methods/POST/#', 2), 1);
  assert.equal(await subscribe(c, `devices/${d.id}/messages/devicebound/#`, 1), 1);
  c.end(true);
});

test('a reply to a connection that did not subscribe is dropped and logged', async () => {
  const d = await direct(emu, 'nosub', 0);
  const c = await rawHub(emu, d);
  const got = nextMessage(c, /.*/, 300);
  c.publish('$iothub/twin/GET/?$rid=1', '');
  assert.equal(await got, null);
  const wire = await emu.api('GET', `/emulator/wire?deviceId=${d.id}`);
  assert.ok(wire.body.value.some((e) => e.type === 'DROPPED' && e.reason === 'not subscribed'));
  c.end(true);
});

for (const [name, act] of [
  ['a QoS 2 publish', (c, d) => c.publish(`devices/${d.id}/messages/events/`, 'x', { qos: 2 })],
  ['a foreign topic', (c) => c.publish('devices/someone-else/messages/events/', 'x')],
  ['telemetry over 256 KB', (c, d) => c.publish(`devices/${d.id}/messages/events/`, Buffer.alloc(256 * 1024 + 1, 65), { qos: 1 })],
]) {
  test(`${name} closes that connection only`, async () => {
    const d = await direct(emu, 'closer', 0);
    const c = await rawHub(emu, d);
    const gone = closed(c);
    act(c, d);
    assert.equal(await gone, true);
    c.end(true);
    await bystanderAlive();
  });
}

test('a malformed reported patch gets 400, an oversized one 413, and the twin is unchanged', async () => {
  const d = await direct(emu, 'badtwin', 0);
  const c = await rawHub(emu, d);
  await subscribe(c, '$iothub/twin/res/#');
  for (const [body, status] of [['{not json', 400], ['[1,2]', 400], ['{"$bad":1}', 400], [JSON.stringify({ big: 'x'.repeat(33 * 1024) }), 413]]) {
    const got = nextMessage(c, /^\$iothub\/twin\/res\//);
    c.publish('$iothub/twin/PATCH/properties/reported/?$rid=7', body);
    const r = await got;
    assert.ok(r, `no answer to ${body.slice(0, 20)}`);
    assert.match(r.topic, new RegExp(`^\\$iothub/twin/res/${status}/\\?\\$rid=7$`));
  }
  const twin = await emu.api('GET', `/emulator/devices/${d.id}/twin`);
  assert.deepEqual(twin.body.reported, { $version: 1 });
  c.end(true);
});

test('garbage on the TLS and TCP ports does not disturb anyone', async () => {
  const [host, port] = emu.hubs[0].split(':');
  await new Promise((resolve) => {
    const s = tls.connect({ host, port: Number(port), ca: emu.ca, servername: 'localhost' }, () => {
      s.write(Buffer.from([0x10, 0xff, 0xff, 0xff, 0xff, 0x7f, 1, 2, 3]));
      s.write(Buffer.alloc(4096, 0xee));
    });
    s.on('error', () => {});
    s.on('close', resolve);
    setTimeout(() => { s.destroy(); resolve(); }, 1500);
  });
  await new Promise((resolve) => {
    const s = net.connect(Number(port), host, () => s.end('GET / HTTP/1.1\r\n\r\n'));
    s.on('error', () => {});
    s.on('close', resolve);
  });
  await bystanderAlive();
});

test('the operator API refuses bad requests with IoT Central-shaped errors', async () => {
  const cases = [
    ['PUT', '/api/devices/ok-id', '{not json', 400],
    ['PUT', '/api/devices/ok-id', '[1]', 400],
    ['PUT', '/api/devices/ok-id', { enabled: 'yes' }, 400],
    ['PUT', `/api/devices/${'x'.repeat(200)}`, {}, 400],
    ['PUT', '/api/devices/bad%2Fid', {}, 400],
    ['GET', '/api/devices/nobody-here', undefined, 404],
    ['GET', '/api/nothing', undefined, 404],
    ['DELETE', '/api/enrollmentGroups', undefined, 405],
    ['PATCH', '/api/devices/bystander-x/properties', {}, 404],
    ['POST', '/emulator/faults', { kind: 'nope' }, 400],
    ['POST', '/emulator/faults', { kind: 'twinThrottle', count: -1 }, 400],
    ['GET', '/emulator/wire?since=abc', undefined, 400],
    ['PUT', '/api/enrollmentGroups/g1', { attestation: { type: 'x509', x509: { signingCertificates: { primary: { certificate: 'garbage' } } } } }, 400],
    ['PUT', '/api/devices/ok-id/attestation', { type: 'symmetricKey', symmetricKey: { primaryKey: 'not base64!' } }, 400],
    ['POST', '/emulator/devices/ok-id/c2d', { properties: { a: 1 } }, 404],
  ];
  for (const [method, url, body, status] of cases) {
    const r = await emu.api(method, url, body);
    assert.equal(r.status, status, `${method} ${url} -> ${r.status} ${JSON.stringify(r.body)}`);
    assert.equal(typeof r.body.error.code, 'string');
    assert.equal(typeof r.body.error.message, 'string');
  }
  const made = await emu.api('PUT', '/api/devices/ok-id', {});
  assert.equal(made.status, 201);
  for (const [method, url, body] of [
    ['PATCH', '/api/devices/ok-id/properties', { $version: 3 }],
    ['PATCH', '/api/devices/ok-id/properties', 'null'],
    ['POST', '/api/devices/ok-id/commands/a%2Fb', {}],
    ['POST', '/api/devices/ok-id/commands/run', { responseTimeout: 'soon' }],
    ['POST', '/emulator/devices/ok-id/c2d', { properties: { a: 1 } }],
  ]) {
    const r = await emu.api(method, url, body);
    assert.equal(r.status, 400, `${method} ${url} -> ${r.status}`);
  }
  const huge = await fetch(`${emu.apiBase}/api/devices/ok-id`, { method: 'PUT', body: 'x'.repeat(1024 * 1024 + 10) });
  assert.equal(huge.status, 413);
  await bystanderAlive();
});
