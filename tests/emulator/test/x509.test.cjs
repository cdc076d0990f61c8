// SPDX-License-Identifier: MIT
// X.509: DPS over MQTT and HTTPS with a device certificate signed by an enrollment group's CA, then
// the hub with mutual TLS and no password; untrusted certificates are refused.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { X509Security } = require('azure-iot-security-x509');
const { startEmulator, provision, hubClient, uniqueId, Message } = require('./helpers.cjs');

let emu;
let tmp;
test.before(async () => {
  emu = await startEmulator(['--retry-after', '0']);
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'iotc-x509-test-'));
});
test.after(async () => {
  await emu.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

async function issue(id) {
  const r = await emu.api('POST', `/emulator/devices/${id}/x509`, {});
  assert.equal(r.status, 201);
  return { cert: r.body.cert, key: r.body.key };
}

for (const kind of ['mqtt', 'https']) {
  test(`X.509 group enrollment over DPS ${kind}, then telemetry with mutual TLS`, async () => {
    const id = uniqueId(`x509-${kind}`);
    const creds = await issue(id);
    const reg = await provision(emu, id, null, { kind, security: new X509Security(id, creds) });
    assert.equal(reg.status, 'assigned');
    assert.equal(reg.deviceId, id);
    const client = await hubClient(emu, reg.assignedHub, id, null, { x509: creds });
    try {
      await client.sendEvent(new Message(JSON.stringify({ t: 1 })));
      const view = await emu.api('GET', `/emulator/devices/${id}`);
      assert.equal(view.body.connection.auth, 'x509');
      const msgs = await emu.api('GET', `/emulator/devices/${id}/messages?timeoutMs=2000`);
      assert.deepEqual(msgs.body.value[0].json, { t: 1 });
      const connect = (await emu.api('GET', `/emulator/wire?deviceId=${id}`)).body.value.filter((e) => e.type === 'CONNECT');
      assert.ok(connect.every((e) => e.password === undefined && e.clientCertificate === true));
    } finally {
      await client.close();
    }
  });
}

test('a group created through the API trusts its own CA; a certificate from another CA is refused', async () => {
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'ca-key.pem',
    '-out', 'ca.pem', '-days', '2', '-subj', '/CN=test group CA', '-addext', 'basicConstraints=critical,CA:TRUE',
    '-addext', 'keyUsage=critical,keyCertSign'], { cwd: tmp, stdio: 'ignore' });
  const id = uniqueId('x509-own-ca');
  execFileSync('openssl', ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'dev-key.pem',
    '-out', 'dev.csr', '-subj', `/CN=${id}`], { cwd: tmp, stdio: 'ignore' });
  execFileSync('openssl', ['x509', '-req', '-in', 'dev.csr', '-CA', 'ca.pem', '-CAkey', 'ca-key.pem', '-CAcreateserial', '-out', 'dev.pem', '-days', '1'],
    { cwd: tmp, stdio: 'ignore' });
  const creds = { cert: fs.readFileSync(path.join(tmp, 'dev.pem'), 'utf8'), key: fs.readFileSync(path.join(tmp, 'dev-key.pem'), 'utf8') };
  await assert.rejects(provision(emu, id, null, { kind: 'https', security: new X509Security(id, creds) }));
  const ca = fs.readFileSync(path.join(tmp, 'ca.pem'), 'utf8');
  const g = await emu.api('PUT', '/api/enrollmentGroups/my-x509', { displayName: 'mine', attestation: { type: 'x509', x509: { signingCertificates: { primary: { certificate: ca } } } } });
  assert.equal(g.status, 200);
  const reg = await provision(emu, id, null, { kind: 'mqtt', security: new X509Security(id, creds) });
  assert.equal(reg.status, 'assigned');
  const client = await hubClient(emu, reg.assignedHub, id, null, { x509: creds });
  await client.close();
});

test('a certificate whose CN is another device is refused', async () => {
  const other = uniqueId('x509-other');
  const creds = await issue(other);
  const id = uniqueId('x509-me');
  await assert.rejects(provision(emu, id, null, { kind: 'https', security: new X509Security(id, creds) }), (err) => {
    assert.equal(err.response && err.response.statusCode, 401);
    return true;
  });
});
