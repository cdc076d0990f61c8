// SPDX-License-Identifier: MIT
// File upload: the official device SDK's uploadToBlob works against the emulator's hub and its
// Azurite storage (so the emulator is faithful), the operator API lists and serves the file, and the
// hub's refusals and the storage faults answer as documented.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const https = require('node:https');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { startEmulator, derive, uniqueId } = require('./helpers.cjs');

let emu;
test.before(async () => { emu = await startEmulator(['--retry-after', '0']); });
test.after(async () => { await emu.stop(); });

async function device(prefix) {
  const id = uniqueId(prefix);
  const r = await emu.api('POST', `/emulator/devices/${id}/provision`, {});
  assert.equal(r.status, 200);
  return { id, key: derive(emu.groupKey, id), hub: r.body.assignedHub };
}

function sas(hub, id, key, ttl = 3600) {
  const se = Math.floor(Date.now() / 1000) + ttl;
  const sr = encodeURIComponent(`${hub}/devices/${id}`);
  const sig = crypto.createHmac('sha256', Buffer.from(key, 'base64')).update(`${sr}\n${se}`).digest('base64');
  return `SharedAccessSignature sr=${sr}&sig=${encodeURIComponent(sig)}&se=${se}`;
}

function request(method, host, urlPath, headers, body) {
  const [hostname, port] = host.split(':');
  return new Promise((resolve, reject) => {
    const req = https.request({ hostname, port, method, path: urlPath, headers, ca: emu.ca }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, text: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const filesRequest = (d, body, auth = sas(d.hub, d.id, d.key)) =>
  request('POST', d.hub, `/devices/${d.id}/files?api-version=2021-04-12`, { authorization: auth, 'content-type': 'application/json' }, JSON.stringify(body));

// The official SDK in a child process: @azure/storage-blob trusts the emulator's CA only through
// NODE_EXTRA_CA_CERTS, read at process start.
const SDK_UPLOAD = `
const https = require('https');
const { Client } = require('azure-iot-device');
const { Mqtt } = require('azure-iot-device-mqtt');
const { Readable } = require('stream');
const [hub, id, key, name, size] = process.argv.slice(1);
const [host, port] = hub.split(':');
(async () => {
  // HostName without the port (the SDK's HTTP base cannot take host:port); the agent dials the port.
  const client = Client.fromConnectionString('HostName=' + host + ';DeviceId=' + id + ';SharedAccessKey=' + key, Mqtt);
  const agent = new https.Agent({ keepAlive: false });
  agent.defaultPort = Number(port); // the Agent constructor forces 443: set it afterwards
  await client.setOptions({ http: { agent } });
  const data = Buffer.alloc(Number(size));
  for (let i = 0; i < data.length; i++) data[i] = (i * 131) & 0xff;
  await client.uploadToBlob(name, Readable.from([data]), data.length);
  process.stdout.write('uploaded', () => process.exit(0)); // the SDK keeps handles open
})().catch((e) => { console.error(e && (e.stack || e.message)); process.exit(1); });
`;

function sdkUpload(d, name, size) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', SDK_UPLOAD, d.hub, d.id, d.key, name, String(size)], {
      cwd: path.join(__dirname, '..'),
      env: { ...process.env, NODE_EXTRA_CA_CERTS: emu.caFile },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (c) => { out += c; });
    child.stderr.on('data', (c) => { err += c; });
    const timer = setTimeout(() => child.kill('SIGKILL'), 60000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (code === 0 && out === 'uploaded') resolve();
      else reject(new Error(`SDK upload failed (${code}): ${err}`));
    });
  });
}

test('the official SDK uploads a file; the operator lists it and serves its content', async () => {
  const d = await device('sdk-upload');
  const size = 5 * 1024 * 1024 + 3; // more than the SDK's 4 MiB block: Put Block + Put Block List
  await sdkUpload(d, 'logs/sdk.bin', size);
  const list = await emu.api('GET', `/api/devices/${d.id}/files`);
  assert.equal(list.status, 200);
  const f = list.body.value.find((x) => x.name === 'logs/sdk.bin');
  assert.ok(f, JSON.stringify(list.body));
  assert.equal(f.blobName, `${d.id}/logs/sdk.bin`);
  assert.equal(f.size, size);
  assert.equal(f.notification.isSuccess, true);
  const res = await fetch(`${emu.apiBase}/api/devices/${d.id}/files/${encodeURIComponent('logs/sdk.bin')}`);
  assert.equal(res.status, 200);
  const body = Buffer.from(await res.arrayBuffer());
  assert.equal(body.length, size);
  for (const i of [0, 1, 4 * 1024 * 1024, size - 1]) assert.equal(body[i], (i * 131) & 0xff);
  const missing = await emu.api('GET', `/api/devices/${d.id}/files/none.bin`);
  assert.equal(missing.status, 404);
});

test('the hub answers a SAS URI for the device, and refuses what IoT Hub refuses', async () => {
  const d = await device('files');
  const ok = await filesRequest(d, { blobName: 'a/b.txt' });
  assert.equal(ok.status, 200, ok.text);
  const info = JSON.parse(ok.text);
  assert.equal(info.blobName, `${d.id}/a/b.txt`);
  assert.match(info.sasToken, /^\?sv=.*&sig=/);
  assert.ok(info.correlationId && info.hostName && info.containerName);
  const bad = await filesRequest(d, { blobName: '../x' });
  assert.equal(bad.status, 400);
  assert.match(JSON.parse(bad.text).Message, /^ErrorCode:ArgumentInvalid;/);
  const wrongKey = await filesRequest(d, { blobName: 'x' }, sas(d.hub, d.id, crypto.randomBytes(32).toString('base64')));
  assert.equal(wrongKey.status, 401);
  const noAuth = await filesRequest(d, { blobName: 'x' }, '');
  assert.equal(noAuth.status, 401);
  await emu.api('POST', '/emulator/faults', { kind: 'uploadNotConfigured', deviceId: d.id });
  const off = await filesRequest(d, { blobName: 'x' });
  assert.equal(off.status, 400);
  assert.match(JSON.parse(off.text).Message, /^ErrorCode:InvalidStorageEndpointOrBlob;/);
  const unknown = await request('POST', d.hub, `/devices/${d.id}/files/notifications?api-version=2021-04-12`,
    { authorization: sas(d.hub, d.id, d.key), 'content-type': 'application/json' }, JSON.stringify({ correlationId: 'nope', isSuccess: true, statusCode: 201 }));
  assert.equal(unknown.status, 404);
});

test('storage checks the SAS expiry, and faults make it fail or the notification fail', async () => {
  const d = await device('storage-faults');
  await emu.api('POST', '/emulator/faults', { kind: 'sasExpiry', deviceId: d.id, seconds: 1 });
  const info = JSON.parse((await filesRequest(d, { blobName: 'late.bin' })).text);
  await new Promise((r) => setTimeout(r, 2100));
  const put = (i, extra = {}) => request('PUT', i.hostName, `/${i.containerName}/${i.blobName}${i.sasToken}`,
    { 'x-ms-blob-type': 'BlockBlob', 'x-ms-version': '2021-08-06', 'content-length': 3, ...extra }, 'abc');
  const late = await put(info);
  assert.equal(late.status, 403, late.text); // Azurite: the SAS expired
  const fresh = JSON.parse((await filesRequest(d, { blobName: 'late.bin' })).text);
  await emu.api('POST', '/emulator/faults', { kind: 'storageFail', deviceId: d.id, operation: 'put', status: 503 });
  assert.equal((await put(fresh)).status, 503);
  assert.equal((await put(fresh)).status, 201);
  await emu.api('POST', '/emulator/faults', { kind: 'notifyFail', deviceId: d.id, status: 500 });
  const notify = () => request('POST', d.hub, `/devices/${d.id}/files/notifications?api-version=2021-04-12`,
    { authorization: sas(d.hub, d.id, d.key), 'content-type': 'application/json' },
    JSON.stringify({ correlationId: fresh.correlationId, isSuccess: true, statusCode: 201, statusDescription: 'ok' }));
  assert.equal((await notify()).status, 500);
  assert.equal((await notify()).status, 204);
  const list = await emu.api('GET', `/api/devices/${d.id}/files`);
  const f = list.body.value.find((x) => x.correlationId === fresh.correlationId);
  assert.equal(f.size, 3);
  assert.equal(f.notification.isSuccess, true);
});
